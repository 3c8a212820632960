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

/**
 * mrd_event_batch_new:
 * @reserved: how many events to make room for
 *
 * Returns: (transfer full) (element-type MrdEvent): an empty batch, which
 *   frees the payloads of its events
 */
GArray *
mrd_event_batch_new(guint reserved)
{
	GArray *batch = g_array_sized_new(FALSE, TRUE, sizeof(MrdEvent), reserved);

	g_array_set_clear_func(batch, mrd_event_clear);
	return batch;
}

/* the size of the framing offsets of a container of @size bytes */
static gsize
offset_size(gsize size)
{
	if (size == 0)
		return 0;
	if (size <= G_MAXUINT8)
		return 1;
	if (size <= G_MAXUINT16)
		return 2;
	if (size <= G_MAXUINT32)
		return 4;
	return 8;
}

/* the little-endian framing offset of @size bytes at @data */
static gsize
read_offset(const guint8 *data, gsize size)
{
	gsize value = 0;

	for (gsize i = size; i > 0; i--)
		value = (value << 8) | data[i - 1];
	return value;
}

static gboolean
all_zero(const guint8 *data, gsize start, gsize end)
{
	for (gsize i = start; i < end; i++) {
		if (data[i] != 0)
			return FALSE;
	}
	return TRUE;
}

static gint64
read_int64(const guint8 *data)
{
	guint64 value;

	memcpy(&value, data, sizeof(value));
	return (gint64)GUINT64_FROM_LE(value);
}

static guint32
read_uint32(const guint8 *data)
{
	guint32 value;

	memcpy(&value, data, sizeof(value));
	return GUINT32_FROM_LE(value);
}

static gboolean
set_malformed(GError **error, guint index)
{
	g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
		    /* TRANSLATORS: %u is the position of the event in the batch; %s a
		     * GVariant type string; the function names stay as they are */
		    _("Event %u is not a normal-form little-endian %s; build the batch with "
		      "GVariant and send the bytes of g_variant_get_normal_form()"),
		    index, METRICS_WIRE_EVENT_TYPE);
	return FALSE;
}

/* whether the fixed-size members are what RecordEvents takes */
static gboolean
fields_valid(guint32 kind, gint64 time, gint64 amount)
{
	return kind <= METRICS_EVENT_KIND_DURATION && amount > 0 && time > 0 &&
	       (kind != METRICS_EVENT_KIND_VALUE || amount == 1) &&
	       (kind != METRICS_EVENT_KIND_DURATION || amount <= MRD_MAX_DURATION_USEC);
}

/* an event whose numbers are wrong as little-endian but right with their
 * bytes swapped was serialized big-endian (GVariant's framing offsets are
 * little-endian either way, so the rest of it reads fine) */
static gboolean
reads_as_big_endian(guint32 kind, gint64 time, gint64 amount)
{
	return !fields_valid(kind, time, amount) &&
	       fields_valid(GUINT32_SWAP_LE_BE(kind), (gint64)GUINT64_SWAP_LE_BE((guint64)time),
			    (gint64)GUINT64_SWAP_LE_BE((guint64)amount));
}

/* what an amount of @kind must be, as a sentence to follow the error */
static char *
amount_rule(MetricsEventKind kind)
{
	switch (kind) {
	case METRICS_EVENT_KIND_VALUE:
		/* TRANSLATORS: the rule an event's amount breaks */
		return g_strdup(_("the amount of a value is always 1"));
	case METRICS_EVENT_KIND_DURATION: {
		g_autofree char *max =
			g_strdup_printf("%" G_GINT64_FORMAT, (gint64)MRD_MAX_DURATION_USEC);

		/* TRANSLATORS: the rule an event's amount breaks; %s is a number
		 * of microseconds (366 days) */
		return g_strdup_printf(_("a duration is 1 to %s microseconds"), max);
	}
	case METRICS_EVENT_KIND_COUNTER:
	default:
		/* TRANSLATORS: the rule an event's amount breaks */
		return g_strdup(_("a counter's increment is at least 1"));
	}
}

/* the serialized "mv" at @data: nothing, or a variant (value, a zero byte,
 * its type string) followed by a zero byte */
static gboolean
mrd_event_parse_payload(const guint8 *data,
			gsize size,
			guint index,
			MrdEvent *event,
			GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GVariant) value = NULL;
	const char *type;
	gsize sep;

	if (size == 0)
		return TRUE;
	/* the zero byte of "just", and the one before the type string: the
	 * type string cannot contain one, so it is the last */
	if (data[size - 1] != 0 || size < 3)
		return set_malformed(error, index);
	sep = size - 2;
	while (sep > 0 && data[sep] != 0)
		sep--;
	if (data[sep] != 0 || sep == size - 2)
		return set_malformed(error, index);
	type = (const char *)data + sep + 1; /* ends at the zero byte of "just" */
	if (!g_variant_type_string_is_valid(type) ||
	    !g_variant_type_is_definite(G_VARIANT_TYPE(type)))
		return set_malformed(error, index);
	if (sep > METRICS_MAX_PAYLOAD_SIZE) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
			    _("Event %u: the payload is larger than %u bytes; send a shorter "
			      "value"),
			    index, (guint)METRICS_MAX_PAYLOAD_SIZE);
		return FALSE;
	}
	bytes = g_bytes_new(data, sep);
	value = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(type), bytes, FALSE));
	/* in normal form, equal values have equal bytes: they aggregate
	 * together, and uploads need it; GVariant reads other bytes as some
	 * default, so they are refused rather than guessed at */
	if (!g_variant_is_normal_form(value))
		return set_malformed(error, index);
	event->payload = g_steal_pointer(&value);
	return TRUE;
}

/* one serialized (ayuxxmv), little-endian and in normal form */
static gboolean
mrd_event_parse(const guint8 *data, gsize size, guint index, MrdEvent *event, GError **error)
{
	gsize frame = offset_size(size);
	gsize id_len, kind_at, time_at, payload_at, payload_end;
	guint32 kind;

	/* the one framing offset (the end of the id), then the fixed-size
	 * members at their alignment, zero padding between them */
	if (size < frame)
		return set_malformed(error, index);
	payload_end = size - frame;
	id_len = read_offset(data + payload_end, frame);
	kind_at = (id_len + 3) & ~(gsize)3;
	time_at = (kind_at + 4 + 7) & ~(gsize)7;
	payload_at = time_at + 16;
	if (id_len > payload_end || payload_at > payload_end || !all_zero(data, id_len, kind_at) ||
	    !all_zero(data, kind_at + 4, time_at))
		return set_malformed(error, index);
	kind = read_uint32(data + kind_at);
	event->time = read_int64(data + time_at);
	event->amount = read_int64(data + time_at + 8);

	if (reads_as_big_endian(kind, event->time, event->amount)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %u is the position of the event in the batch;
			     * the function name stays as it is */
			    _("Event %u: the batch is big-endian; RecordEvents takes "
			      "little-endian GVariant data (g_variant_byteswap() it on a "
			      "big-endian machine)"),
			    index);
		return FALSE;
	}
	if (id_len != METRICS_UUID_SIZE) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %u is the position of the event in the batch,
			     * then the length of its id */
			    _("Event %u: the id must be a UUID of 16 bytes, not %u; send the "
			      "metric's UUID as its 16 bytes, not as text"),
			    index, (guint)id_len /* within a batch of at most 2 MiB */);
		return FALSE;
	}
	memcpy(event->id, data, METRICS_UUID_SIZE);
	if (kind > METRICS_EVENT_KIND_DURATION) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %u is the position of the event in the batch,
			     * then its kind as a number */
			    _("Event %u: unknown kind %u; use 0 (value), 1 (counter) or 2 "
			      "(duration)"),
			    index, kind);
		return FALSE;
	}
	event->kind = (MetricsEventKind)kind;
	if (event->amount <= 0 || (kind == METRICS_EVENT_KIND_VALUE && event->amount != 1) ||
	    (kind == METRICS_EVENT_KIND_DURATION && event->amount > MRD_MAX_DURATION_USEC)) {
		g_autofree char *amount = g_strdup_printf("%" G_GINT64_FORMAT, event->amount);
		g_autofree char *rule = amount_rule(event->kind);

		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %u is the position of the event in the batch,
			     * then its amount, its kind (counter, duration, value) and
			     * the rule it breaks */
			    _("Event %u: amount %s is out of range for a %s: %s"), index, amount,
			    metrics_event_kind_to_string(event->kind), rule);
		return FALSE;
	}
	if (event->time <= 0) {
		g_autofree char *time = g_strdup_printf("%" G_GINT64_FORMAT, event->time);

		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %u is the position of the event in the batch,
			     * then its time; the function name stays as it is */
			    _("Event %u: the time %s is not positive; give microseconds since "
			      "the Unix epoch (g_get_real_time())"),
			    index, time);
		return FALSE;
	}
	return mrd_event_parse_payload(data + payload_at, payload_end - payload_at, index, event,
				       error);
}

/* decodes a RecordEvents batch (the bytes of a little-endian, normal-form
 * a(ayuxxmv)) and checks the shape of every event; untrusted input.
 *
 * The bytes are read directly, in one pass, following the GVariant
 * serialization format: an array of variable-size elements is the elements,
 * each at its alignment (8 here) with zero padding, then the end offset of
 * each one; the size of an offset follows from the size of the container.
 * Everything that is not in normal form is refused: taking the batch apart
 * with GVariant calls cost more than everything else the daemon does. */
GArray *
mrd_event_batch_parse(GVariant *wire, GError **error)
{
	g_autoptr(GArray) batch = NULL;
	const guint8 *data;
	gsize size, frame, frames_at, n, start = 0;

	g_return_val_if_fail(wire != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!g_variant_is_of_type(wire, G_VARIANT_TYPE_BYTESTRING)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: two GVariant type strings */
			    _("Events must be of type %s, not %s; send the batch's serialized "
			      "bytes"),
			    "ay", g_variant_get_type_string(wire));
		return NULL;
	}
	size = g_variant_get_size(wire);
	if (size > METRICS_MAX_BATCH_BYTES) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
			    _("The batch is larger than %u bytes; send fewer events per call"),
			    (guint)METRICS_MAX_BATCH_BYTES);
		return NULL;
	}
	if (size == 0) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("The batch is empty; send at least one event"));
		return NULL;
	}
	data = g_variant_get_data(wire);
	frame = offset_size(size);
	frames_at = size >= frame ? read_offset(data + size - frame, frame) : size;
	if (frames_at > size - frame || (size - frames_at) % frame != 0) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %s is a GVariant type string; the function
			     * name stays as it is */
			    _("The batch is not a normal-form little-endian %s; build it with "
			      "GVariant and send the bytes of g_variant_get_normal_form()"),
			    "a" METRICS_WIRE_EVENT_TYPE);
		return NULL;
	}
	n = (size - frames_at) / frame;
	if (n > METRICS_MAX_BATCH) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
			    _("The batch has %u events; send at most %u per call"),
			    (guint)n /* within a batch of at most 2 MiB */,
			    (guint)METRICS_MAX_BATCH);
		return NULL;
	}
	batch = mrd_event_batch_new(n);
	for (gsize i = 0; i < n; i++) {
		gsize end = read_offset(data + frames_at + i * frame, frame);
		MrdEvent event = {0};

		/* in order, within the elements, the last one ending where
		 * the offsets begin */
		if (end < start || end > frames_at || (i == n - 1 && end != frames_at)) {
			set_malformed(error, i);
			return NULL;
		}
		if (!mrd_event_parse(data + start, end - start, i, &event, error)) {
			mrd_event_clear(&event);
			return NULL;
		}
		g_array_append_val(batch, event);
		if (i < n - 1) {
			gsize next = (end + 7) & ~(gsize)7;

			if (next > frames_at || !all_zero(data, end, next)) {
				set_malformed(error, i);
				return NULL;
			}
			start = next;
		}
	}
	return g_steal_pointer(&batch);
}
