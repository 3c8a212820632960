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
	g_autoptr(GVariant) id = NULL;
	g_autoptr(GVariant) payloads = NULL;
	const guint8 *id_bytes;
	gsize id_len = 0;
	guint32 kind = 0;

	g_variant_get(tuple, "(@ayuxx@av)", &id, &kind, &event->time, &event->amount, &payloads);
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
	if (g_variant_n_children(payloads) > 1) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Event %u: give at most one payload"), index);
		return FALSE;
	}
	if (g_variant_n_children(payloads) == 1) {
		g_autoptr(GVariant) boxed = g_variant_get_child_value(payloads, 0);
		g_autoptr(GVariant) inner = g_variant_get_variant(boxed);

		if (g_variant_get_size(inner) > METRICS_MAX_PAYLOAD_SIZE) {
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
				    _("Event %u: the payload is larger than %u bytes"), index,
				    (guint)METRICS_MAX_PAYLOAD_SIZE);
			return FALSE;
		}
		/* normal form, so that equal values aggregate together */
		event->payload = g_variant_get_normal_form(inner);
	}
	return TRUE;
}

/* checks the shape of every event of a batch from the bus; the bus already
 * checked the type signature */
GArray *
mrd_event_batch_parse(GVariant *events, GError **error)
{
	g_autoptr(GArray) batch = NULL;
	gsize n;

	g_return_val_if_fail(events != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!g_variant_is_of_type(events, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE))) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Events must be of type %s, not %s"), "a" METRICS_WIRE_EVENT_TYPE,
			    g_variant_get_type_string(events));
		return NULL;
	}
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
