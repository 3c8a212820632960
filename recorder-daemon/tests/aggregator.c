/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * ISO weeks and the reduction of events to weekly aggregates.
 */

#include "config.h"

#include <string.h>

#include "mrd-aggregator.h"

static gint64
utc(int year, int month, int day, int hour, int minute)
{
	g_autoptr(GDateTime) dt = g_date_time_new_utc(year, month, day, hour, minute, 0);
	return g_date_time_to_unix(dt) * G_USEC_PER_SEC;
}

static void
assert_week(gint64 time, const char *expected)
{
	g_autofree char *week = mrd_week_to_string(mrd_week_start(time));
	g_assert_cmpstr(week, ==, expected);
}

static void
test_week_start(void)
{
	gint64 start = 0;

	/* a Monday at midnight starts its own week */
	assert_week(utc(2026, 11, 16, 0, 0), "2026-11-16");
	/* the last microsecond of Sunday is still the previous week */
	assert_week(utc(2026, 11, 16, 0, 0) - 1, "2026-11-09");
	assert_week(utc(2026, 11, 22, 23, 59), "2026-11-16");
	/* year boundaries: 2027-01-01 is a Friday, in ISO week 53 of 2026 */
	assert_week(utc(2027, 1, 1, 12, 0), "2026-12-28");
	assert_week(utc(2027, 1, 3, 23, 59), "2026-12-28");
	assert_week(utc(2027, 1, 4, 0, 0), "2027-01-04");
	/* 2020 had 53 weeks too: week 53 started 2020-12-28 */
	assert_week(utc(2020, 12, 31, 0, 0), "2020-12-28");
	/* 2024-12-30 belongs to ISO week 1 of 2025 */
	assert_week(utc(2025, 1, 1, 0, 0), "2024-12-30");
	/* before the epoch */
	assert_week(utc(1969, 12, 31, 12, 0), "1969-12-29");
	assert_week(0, "1969-12-29");

	g_assert_true(mrd_week_from_string("2026-11-16", &start));
	g_assert_cmpint(start, ==, utc(2026, 11, 16, 0, 0));
	g_assert_false(mrd_week_from_string("2026-11-17", &start)); /* a Tuesday */
	g_assert_false(mrd_week_from_string("2026-13-01", &start));
	g_assert_false(mrd_week_from_string("garbage", &start));
	g_assert_false(mrd_week_from_string(NULL, &start));
}

static void
event_clear(gpointer data)
{
	MrdEvent *event = data;
	g_clear_pointer(&event->payload, g_variant_unref);
}

static GArray *
events_new(void)
{
	GArray *events = g_array_new(FALSE, TRUE, sizeof(MrdEvent));
	g_array_set_clear_func(events, event_clear);
	return events;
}

static void
add_event(GArray *events,
	  guint8 id,
	  MetricsEventKind kind,
	  gint64 time,
	  gint64 amount,
	  const char *payload)
{
	MrdEvent event = {.kind = kind, .time = time, .amount = amount};

	memset(event.id, id, sizeof(event.id));
	if (payload != NULL)
		event.payload = g_variant_ref_sink(g_variant_new_string(payload));
	g_array_append_val(events, event);
}

static const MrdDelta *
find_delta(GArray *deltas, guint8 id, gint64 week)
{
	for (guint i = 0; i < deltas->len; i++) {
		const MrdDelta *delta = &g_array_index(deltas, MrdDelta, i);
		if (delta->id[0] == id && delta->week == week)
			return delta;
	}
	return NULL;
}

/* equal keys merge within a batch; values split keys */
static void
test_aggregate_merge(void)
{
	gint64 now = utc(2026, 11, 18, 12, 0);
	g_autoptr(GArray) events = events_new();
	g_autoptr(GArray) deltas = NULL;
	const MrdDelta *delta;

	for (int i = 0; i < 1000; i++)
		add_event(events, 1, METRICS_EVENT_KIND_VALUE, now - i * G_USEC_PER_SEC, 1, "a");
	add_event(events, 1, METRICS_EVENT_KIND_VALUE, now, 1, "b");
	add_event(events, 2, METRICS_EVENT_KIND_COUNTER, now, 7, NULL);
	add_event(events, 2, METRICS_EVENT_KIND_COUNTER, now, 3, NULL);
	deltas = mrd_aggregate_events(events, now);

	g_assert_cmpuint(deltas->len, ==, 3);
	delta = &g_array_index(deltas, MrdDelta, 0);
	g_assert_cmpuint(delta->count, ==, 1000);
	g_assert_cmpint(delta->week, ==, utc(2026, 11, 16, 0, 0));
	delta = &g_array_index(deltas, MrdDelta, 1);
	g_assert_cmpuint(delta->count, ==, 1);
	delta = find_delta(deltas, 2, utc(2026, 11, 16, 0, 0));
	g_assert_nonnull(delta);
	g_assert_cmpuint(delta->count, ==, 10);
	g_assert_cmpuint(delta->duration, ==, 0);
}

/* a timer running over Sunday midnight is shared out between the weeks */
static void
test_aggregate_duration_split(void)
{
	gint64 monday = utc(2026, 11, 16, 0, 0);
	gint64 now = monday + 3 * G_TIME_SPAN_HOUR;
	g_autoptr(GArray) events = events_new();
	g_autoptr(GArray) deltas = NULL;
	const MrdDelta *before, *after;

	/* from Sunday 22:00 to Monday 02:00 */
	add_event(events, 3, METRICS_EVENT_KIND_DURATION, monday - 2 * G_TIME_SPAN_HOUR,
		  4 * G_TIME_SPAN_HOUR, NULL);
	deltas = mrd_aggregate_events(events, now);

	g_assert_cmpuint(deltas->len, ==, 2);
	before = find_delta(deltas, 3, monday - 7 * G_TIME_SPAN_DAY);
	after = find_delta(deltas, 3, monday);
	g_assert_nonnull(before);
	g_assert_nonnull(after);
	g_assert_cmpuint(before->duration, ==, 2 * G_TIME_SPAN_HOUR);
	g_assert_cmpuint(after->duration, ==, 2 * G_TIME_SPAN_HOUR);
	/* the event counts once, in the week it ended */
	g_assert_cmpuint(before->count + after->count, ==, 1);
	g_assert_cmpuint(after->count, ==, 1);
}

/* a client clock far off is replaced by the daemon's clock: events cannot
 * be put into long-closed or future weeks */
static void
test_aggregate_clock_skew(void)
{
	gint64 now = utc(2026, 11, 18, 12, 0);
	g_autoptr(GArray) events = events_new();
	g_autoptr(GArray) deltas = NULL;

	add_event(events, 4, METRICS_EVENT_KIND_VALUE, utc(2020, 1, 1, 0, 0), 1, NULL);
	add_event(events, 5, METRICS_EVENT_KIND_VALUE, utc(2030, 1, 1, 0, 0), 1, NULL);
	add_event(events, 6, METRICS_EVENT_KIND_DURATION, utc(2030, 1, 1, 0, 0), G_TIME_SPAN_HOUR,
		  NULL);
	/* a day earlier is believed: late delivery of a real event */
	add_event(events, 7, METRICS_EVENT_KIND_VALUE, now - 20 * G_TIME_SPAN_HOUR, 1, NULL);
	deltas = mrd_aggregate_events(events, now);

	g_assert_nonnull(find_delta(deltas, 4, utc(2026, 11, 16, 0, 0)));
	g_assert_nonnull(find_delta(deltas, 5, utc(2026, 11, 16, 0, 0)));
	g_assert_nonnull(find_delta(deltas, 6, utc(2026, 11, 16, 0, 0)));
	g_assert_cmpuint(find_delta(deltas, 6, utc(2026, 11, 16, 0, 0))->duration, ==,
			 G_TIME_SPAN_HOUR);
	g_assert_nonnull(find_delta(deltas, 7, utc(2026, 11, 16, 0, 0)));
}

/* the stored key of a value is the serialized "mv" GVariant writes for it:
 * what the store held before keeps adding up, and uploads read it back */
static void
test_aggregate_payload_bytes(void)
{
	gint64 now = utc(2026, 11, 18, 12, 0);
	GVariant *payloads[] = {
		NULL,
		g_variant_new_string(""),
		g_variant_new_string("org.example.App.desktop"),
		g_variant_new_uint32(7),
		g_variant_new_byte(1),
		g_variant_new("(sx)", "a", (gint64)-3),
		g_variant_new("()"),
		g_variant_new_strv(NULL, 0),
		g_variant_new("a{sv}", NULL),
		g_variant_new("ms", NULL),
		g_variant_new_variant(g_variant_new_int16(-2)),
	};
	g_autoptr(GArray) events = events_new();
	g_autoptr(GArray) deltas = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(payloads); i++) {
		MrdEvent event = {.kind = METRICS_EVENT_KIND_VALUE, .time = now, .amount = 1};

		memset(event.id, (int)i, sizeof(event.id));
		if (payloads[i] != NULL)
			event.payload = g_variant_get_normal_form(g_variant_ref_sink(payloads[i]));
		g_array_append_val(events, event);
		g_clear_pointer(&payloads[i], g_variant_unref);
	}
	deltas = mrd_aggregate_events(events, now);
	g_assert_cmpuint(deltas->len, ==, G_N_ELEMENTS(payloads));
	for (guint i = 0; i < deltas->len; i++) {
		const MrdEvent *event = &g_array_index(events, MrdEvent, i);
		const MrdDelta *delta = &g_array_index(deltas, MrdDelta, i);
		g_autoptr(GVariant) maybe = g_variant_ref_sink(g_variant_new_maybe(
			G_VARIANT_TYPE_VARIANT,
			event->payload != NULL ? g_variant_new_variant(event->payload) : NULL));
		g_autoptr(GBytes) expected = g_variant_get_data_as_bytes(maybe);

		g_assert_true(g_bytes_equal(delta->payload, expected));
	}
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/metrics/week/start", test_week_start);
	g_test_add_func("/metrics/aggregate/merge", test_aggregate_merge);
	g_test_add_func("/metrics/aggregate/duration-split", test_aggregate_duration_split);
	g_test_add_func("/metrics/aggregate/clock-skew", test_aggregate_clock_skew);
	g_test_add_func("/metrics/aggregate/payload-bytes", test_aggregate_payload_bytes);

	return g_test_run();
}
