/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdEvent"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "metrics-error.h"
#include "mrd-event.h"

static void
mrd_event_clear(gpointer data)
{
	MrdEvent *event = data;
	g_clear_pointer(&event->payload, g_variant_unref);
}

static gboolean
mrd_event_parse(GVariant *tuple, guint index, MrdEvent *event, GError **error)
{
	/* the members one by one: a format string would be parsed again for
	 * every event, which is most of the cost of a batch */
	g_autoptr(GVariant) id = g_variant_get_child_value(tuple, 0);
	g_autoptr(GVariant) kind_v = g_variant_get_child_value(tuple, 1);
	g_autoptr(GVariant) time_v = g_variant_get_child_value(tuple, 2);
	g_autoptr(GVariant) amount_v = g_variant_get_child_value(tuple, 3);
	g_autoptr(GVariant) payload = g_variant_get_child_value(tuple, 4);
	const guint8 *id_bytes;
	gsize id_len = 0;
	guint32 kind = g_variant_get_uint32(kind_v);

	event->time = g_variant_get_int64(time_v);
	event->amount = g_variant_get_int64(amount_v);
	id_bytes = g_variant_get_fixed_array(id, &id_len, 1);
	if (id_len != METRICS_UUID_SIZE) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %u is the position of the event in the batch */
			    _("Event %u: the id must be a UUID of 16 bytes, not %" G_GSIZE_FORMAT),
			    index, id_len);
		return FALSE;
	}
	memcpy(event->id, id_bytes, METRICS_UUID_SIZE);
	if (kind > METRICS_EVENT_KIND_DURATION) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Event %u: unknown kind %u"), index, kind);
		return FALSE;
	}
	event->kind = (MetricsEventKind)kind;
	if (event->amount <= 0 || (kind == METRICS_EVENT_KIND_VALUE && event->amount != 1) ||
	    (kind == METRICS_EVENT_KIND_DURATION && event->amount > MRD_MAX_DURATION_USEC)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Event %u: amount %" G_GINT64_FORMAT " is out of range for a %s"),
			    index, event->amount, metrics_event_kind_to_string(event->kind));
		return FALSE;
	}
	if (event->time <= 0) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Event %u: the time must be positive"), index);
		return FALSE;
	}
	if (g_variant_n_children(payload) == 1) {
		g_autoptr(GVariant) boxed = g_variant_get_child_value(payload, 0);
		g_autoptr(GVariant) inner = g_variant_get_variant(boxed);

		if (g_variant_get_size(inner) > METRICS_MAX_PAYLOAD_SIZE) {
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
				    _("Event %u: the payload is larger than %u bytes"), index,
				    (guint)METRICS_MAX_PAYLOAD_SIZE);
			return FALSE;
		}
		/* in normal form, equal values have equal bytes: they
		 * aggregate together, and uploads need it */
		event->payload = g_variant_get_normal_form(inner);
	}
	return TRUE;
}

/* decodes a RecordEvents batch (the bytes of a little-endian, normal-form
 * a(ayuxxmv)) and checks the shape of every event; untrusted input */
GArray *
mrd_event_batch_parse(GVariant *wire, GError **error)
{
	g_autoptr(GArray) batch = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GVariant) events = NULL;
	gsize n;

	g_return_val_if_fail(wire != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!g_variant_is_of_type(wire, G_VARIANT_TYPE_BYTESTRING)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Events must be of type %s, not %s"), "ay",
			    g_variant_get_type_string(wire));
		return NULL;
	}
	if (g_variant_get_size(wire) > METRICS_MAX_BATCH_BYTES) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
			    _("The batch is larger than %u bytes; send fewer events per call"),
			    (guint)METRICS_MAX_BATCH_BYTES);
		return NULL;
	}
	bytes = g_variant_get_data_as_bytes(wire);
	events = g_variant_ref_sink(g_variant_new_from_bytes(
		G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE), bytes, FALSE));
	if (G_BYTE_ORDER == G_BIG_ENDIAN) {
		GVariant *swapped = g_variant_byteswap(events);
		g_variant_unref(events);
		events = swapped;
	}
	/* GVariant reads any bytes safely: a member it cannot read is its
	 * type's default, which the checks below reject (an empty id, a zero
	 * amount). Checking the whole batch for normal form would cost more
	 * than everything else; what must be canonical, the payload that is
	 * stored and uploaded, is normalised above */
	n = g_variant_n_children(events);
	if (n == 0) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("The batch is empty; send at least one event"));
		return NULL;
	}
	if (n > METRICS_MAX_BATCH) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
			    _("The batch has %" G_GSIZE_FORMAT " events; send at most %u per call"),
			    n, (guint)METRICS_MAX_BATCH);
		return NULL;
	}
	batch = g_array_sized_new(FALSE, TRUE, sizeof(MrdEvent), n);
	g_array_set_clear_func(batch, mrd_event_clear);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) tuple = g_variant_get_child_value(events, i);
		MrdEvent event = {0};

		if (!mrd_event_parse(tuple, i, &event, error)) {
			mrd_event_clear(&event);
			return NULL;
		}
		g_array_append_val(batch, event);
	}
	return g_steal_pointer(&batch);
}
