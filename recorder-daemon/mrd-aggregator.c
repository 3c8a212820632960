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

#define WEEK_USEC (7 * G_TIME_SPAN_DAY)

/* Monday 00:00 UTC of the ISO week that contains @time_usec */
gint64
mrd_week_start(gint64 time_usec)
{
	gint64 day = time_usec / G_TIME_SPAN_DAY;
	gint64 weekday;

	if (time_usec < 0 && time_usec % G_TIME_SPAN_DAY != 0)
		day--;
	/* 1970-01-01 was a Thursday: weekday 3 when Monday is 0 */
	weekday = ((day + 3) % 7 + 7) % 7;
	return (day - weekday) * G_TIME_SPAN_DAY;
}

char *
mrd_week_to_string(gint64 week_start)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(week_start / G_USEC_PER_SEC);

	if (dt == NULL)
		return g_strdup("invalid");
	return g_date_time_format(dt, "%Y-%m-%d");
}

gboolean
mrd_week_from_string(const char *str, gint64 *week_start)
{
	g_autofree char *iso = NULL;
	g_autoptr(GDateTime) dt = NULL;

	if (str == NULL || strlen(str) != 10)
		return FALSE;
	iso = g_strdup_printf("%sT00:00:00Z", str);
	dt = g_date_time_new_from_iso8601(iso, NULL);
	if (dt == NULL || g_date_time_get_day_of_week(dt) != 1)
		return FALSE;
	*week_start = g_date_time_to_unix(dt) * G_USEC_PER_SEC;
	return TRUE;
}

static void
mrd_delta_clear(gpointer data)
{
	MrdDelta *delta = data;
	g_clear_pointer(&delta->payload, g_bytes_unref);
}

static GBytes *
serialize_payload(GVariant *payload)
{
	g_autoptr(GVariant) maybe = g_variant_ref_sink(g_variant_new_maybe(
		G_VARIANT_TYPE_VARIANT, payload != NULL ? g_variant_new_variant(payload) : NULL));
	return g_variant_get_data_as_bytes(maybe);
}

/* the hash key of an aggregate within one batch */
static GBytes *
delta_key(const MrdDelta *delta)
{
	gsize payload_len = 0;
	const guint8 *payload = g_bytes_get_data(delta->payload, &payload_len);
	gsize len = METRICS_UUID_SIZE + sizeof(gint64) + 1 + payload_len;
	guint8 *key = g_malloc(len);

	memcpy(key, delta->id, METRICS_UUID_SIZE);
	memcpy(key + METRICS_UUID_SIZE, &delta->week, sizeof(gint64));
	key[METRICS_UUID_SIZE + sizeof(gint64)] = (guint8)delta->kind;
	if (payload_len > 0)
		memcpy(key + METRICS_UUID_SIZE + sizeof(gint64) + 1, payload, payload_len);
	return g_bytes_new_take(key, len);
}

static void
add_delta(GArray *deltas,
	  GHashTable *index,
	  const MrdEvent *event,
	  GBytes *payload,
	  gint64 week,
	  guint64 count,
	  guint64 duration)
{
	MrdDelta delta = {
		.week = week,
		.kind = event->kind,
		.payload = g_bytes_ref(payload),
		.count = count,
		.duration = duration,
	};
	g_autoptr(GBytes) key = NULL;
	gpointer position;

	memcpy(delta.id, event->id, METRICS_UUID_SIZE);
	key = delta_key(&delta);
	if (g_hash_table_lookup_extended(index, key, NULL, &position)) {
		MrdDelta *existing = &g_array_index(deltas, MrdDelta, GPOINTER_TO_UINT(position));
		existing->count += count;
		existing->duration += duration;
		mrd_delta_clear(&delta);
		return;
	}
	g_hash_table_insert(index, g_steal_pointer(&key), GUINT_TO_POINTER(deltas->len));
	g_array_append_val(deltas, delta);
}

/* reduces a batch of events to what it adds to each weekly aggregate;
 * durations that span the end of a week are split between the weeks */
GArray *
mrd_aggregate_events(GArray *events, gint64 now)
{
	g_autoptr(GHashTable) index = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
							    (GDestroyNotify)g_bytes_unref, NULL);
	GArray *deltas = g_array_new(FALSE, TRUE, sizeof(MrdDelta));

	g_array_set_clear_func(deltas, mrd_delta_clear);
	for (guint i = 0; i < events->len; i++) {
		const MrdEvent *event = &g_array_index(events, MrdEvent, i);
		g_autoptr(GBytes) payload = serialize_payload(event->payload);
		gint64 start = event->time;
		gint64 end;

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
			gint64 chunk_end = MIN(end, week + WEEK_USEC);

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
