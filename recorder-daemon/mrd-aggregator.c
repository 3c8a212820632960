/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdAggregator"

#include "config.h"

#include <string.h>

#include "mrd-aggregator.h"

/* how far an event's own time may be from the daemon's clock before the
 * daemon's clock is used instead: a client with a wrong clock must not put
 * events into weeks long closed or far ahead */
#define MAX_CLOCK_SKEW G_TIME_SPAN_DAY

static void
mrd_delta_clear(gpointer data)
{
	MrdDelta *delta = data;
	g_clear_pointer(&delta->payload, g_bytes_unref);
}

/* the serialized "mv" of @payload, as GVariant would write it (the value,
 * a zero byte, its type string, then the zero byte of "just"), into
 * @buffer; @payload is in normal form, so equal values give equal bytes */
static void
serialize_payload(GVariant *payload, GByteArray *buffer)
{
	const char *type;
	gsize size;

	g_byte_array_set_size(buffer, 0);
	if (payload == NULL)
		return;
	size = g_variant_get_size(payload);
	type = g_variant_get_type_string(payload);
	if (size > 0)
		g_byte_array_append(buffer, g_variant_get_data(payload), size);
	g_byte_array_append(buffer, (const guint8 *)"", 1);
	g_byte_array_append(buffer, (const guint8 *)type, strlen(type) + 1);
}

/* a key of the batch's index: the delta it stands for, found by what it
 * would add up with */
typedef struct {
	guint hash;
	guint position; /* in the deltas */
	const guint8 *id;
	gint64 week;
	MetricsEventKind kind;
	const guint8 *payload;
	gsize payload_len;
	guint8 id_storage[METRICS_UUID_SIZE]; /* where a stored key's id points */
} DeltaKey;

static guint
delta_key_hash(gconstpointer key)
{
	return ((const DeltaKey *)key)->hash;
}

static gboolean
delta_key_equal(gconstpointer a, gconstpointer b)
{
	const DeltaKey *x = a, *y = b;

	return x->hash == y->hash && x->week == y->week && x->kind == y->kind &&
	       x->payload_len == y->payload_len && memcmp(x->id, y->id, METRICS_UUID_SIZE) == 0 &&
	       (x->payload_len == 0 || memcmp(x->payload, y->payload, x->payload_len) == 0);
}

/* FNV-1a */
static guint
hash_bytes(guint hash, const guint8 *data, gsize len)
{
	for (gsize i = 0; i < len; i++)
		hash = (hash ^ data[i]) * 16777619u;
	return hash;
}

/* adds to the delta of (event's id, @week, kind, @payload): a hash lookup
 * with the key on the stack, so that only a new key allocates */
static void
add_delta(GArray *deltas,
	  GHashTable *index,
	  const MrdEvent *event,
	  GByteArray *payload,
	  gint64 week,
	  guint64 count,
	  guint64 duration)
{
	DeltaKey probe = {
		.id = event->id,
		.week = week,
		.kind = event->kind,
		.payload = payload->data,
		.payload_len = payload->len,
	};
	DeltaKey *found, *key;
	MrdDelta delta = {
		.week = week,
		.kind = event->kind,
		.count = count,
		.duration = duration,
	};
	guint hash = 2166136261u;

	hash = hash_bytes(hash, event->id, METRICS_UUID_SIZE);
	hash = hash_bytes(hash, (const guint8 *)&week, sizeof(week));
	hash = hash_bytes(hash, payload->data, payload->len);
	probe.hash = hash ^ (guint)event->kind;
	found = g_hash_table_lookup(index, &probe);
	if (found != NULL) {
		MrdDelta *existing = &g_array_index(deltas, MrdDelta, found->position);
		existing->count += count;
		existing->duration += duration;
		return;
	}
	memcpy(delta.id, event->id, METRICS_UUID_SIZE);
	delta.payload = g_bytes_new(payload->data, payload->len);
	g_array_append_val(deltas, delta);
	/* a stored key points at its own copy of the id (the deltas move as
	 * the array grows) and at the delta's payload bytes (which do not) */
	key = g_new(DeltaKey, 1);
	*key = probe;
	key->position = deltas->len - 1;
	memcpy(key->id_storage, event->id, METRICS_UUID_SIZE);
	key->id = key->id_storage;
	key->payload = g_bytes_get_data(delta.payload, NULL);
	g_hash_table_add(index, key);
}

/* reduces a batch of events to what it adds to each weekly aggregate;
 * durations that span the end of a week are split between the weeks */
GArray *
mrd_aggregate_events(GArray *events, gint64 now)
{
	g_autoptr(GHashTable) index =
		g_hash_table_new_full(delta_key_hash, delta_key_equal, g_free, NULL);
	g_autoptr(GByteArray) payload = g_byte_array_sized_new(64);
	GArray *deltas = g_array_new(FALSE, TRUE, sizeof(MrdDelta));
	GVariant *last_payload = NULL;

	g_array_set_clear_func(deltas, mrd_delta_clear);
	for (guint i = 0; i < events->len; i++) {
		const MrdEvent *event = &g_array_index(events, MrdEvent, i);
		gint64 start = event->time;
		gint64 end;

		if (i == 0 || event->payload != last_payload)
			serialize_payload(event->payload, payload);
		last_payload = event->payload;
		if (event->kind != METRICS_EVENT_KIND_DURATION) {
			if (ABS(start - now) > MAX_CLOCK_SKEW)
				start = now;
			add_delta(deltas, index, event, payload, mrd_week_start(start),
				  (guint64)event->amount, 0);
			continue;
		}

		end = start + event->amount;
		if (end > now + MAX_CLOCK_SKEW || end < now - MAX_CLOCK_SKEW) {
			/* the timer ended "now" as far as we can tell */
			end = now;
			start = end - event->amount;
		}
		/* the event counts once, in the week it ended; its time is
		 * shared out between the weeks it spans */
		for (gint64 t = start; t < end;) {
			gint64 week = mrd_week_start(t);
			gint64 chunk_end = MIN(end, week + MRD_WEEK_USEC);

			add_delta(deltas, index, event, payload, week, chunk_end == end ? 1 : 0,
				  (guint64)(chunk_end - t));
			t = chunk_end;
		}
	}
	return deltas;
}

/* moves the deltas of weeks before @first_open_week (the first week not
 * yet frozen into the outbox; 0: none) into that week: after the wall
 * clock went back, events must not go to a week already queued for
 * upload, which would then be sent twice. Deltas that come to share a
 * key add up in the store */
void
mrd_deltas_clamp_week(GArray *deltas, gint64 first_open_week)
{
	for (guint i = 0; i < deltas->len; i++) {
		MrdDelta *delta = &g_array_index(deltas, MrdDelta, i);

		if (delta->week < first_open_week)
			delta->week = first_open_week;
	}
}
