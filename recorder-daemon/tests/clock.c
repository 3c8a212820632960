/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The injected clock driving aggregation, the store and the outbox freeze
 * across the end of ISO week 53 of 2026 and the turn of the year, with the
 * wall clock jumping backwards and forwards.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mrd-aggregator.h"
#include "mrd-clock.h"
#include "mrd-outbox.h"
#include "mrd-store.h"
#include "mrd-upload-body.h"

#define COUNTER 1
#define TIMER 2
#define UID 1000

typedef struct {
	char *dir;
	char *path;
	MrdClock *clock;
	MrdStore *store;
	MrdOutbox *outbox;
} Fixture;

static gint64
utc(int year, int month, int day, int hour, int minute)
{
	g_autoptr(GDateTime) dt = g_date_time_new_utc(year, month, day, hour, minute, 0);
	return g_date_time_to_unix(dt) * G_USEC_PER_SEC;
}

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fixture->dir = g_dir_make_tmp("mrd-clock-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->path = g_build_filename(fixture->dir, "metrics.db", NULL);
	fixture->store = mrd_store_open(fixture->path, &error);
	g_assert_no_error(error);
	fixture->outbox = mrd_outbox_new(fixture->store, "43");
	fixture->clock = mrd_clock_new_fixed(utc(2026, 12, 27, 23, 59));
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->outbox);
	mrd_store_close(fixture->store);
	g_clear_object(&fixture->store);
	g_clear_object(&fixture->clock);
	mrd_store_delete_files(fixture->path, NULL);
	g_rmdir(fixture->dir);
	g_free(fixture->path);
	g_free(fixture->dir);
}

static void
event_clear(gpointer data)
{
	MrdEvent *event = data;
	g_clear_pointer(&event->payload, g_variant_unref);
}

/* records one event stamped @time (0: the clock's now) as the daemon does:
 * aggregated against the clock, kept out of the weeks already frozen, then
 * stored in one transaction */
static void
record(Fixture *fixture, guint8 id, MetricsEventKind kind, gint64 time, gint64 amount)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(MrdEvent));
	g_autoptr(GArray) deltas = NULL;
	gint64 now = mrd_clock_get_real_time(fixture->clock);
	MrdEvent event = {.kind = kind, .time = time != 0 ? time : now, .amount = amount};

	g_array_set_clear_func(events, event_clear);
	memset(event.id, id, sizeof(event.id));
	g_array_append_val(events, event);
	deltas = mrd_aggregate_events(events, now);
	mrd_deltas_clamp_week(deltas, mrd_outbox_get_first_open_week(fixture->outbox, &error));
	g_assert_no_error(error);
	g_assert_true(mrd_store_add(fixture->store, UID, deltas, &error));
	g_assert_no_error(error);
}

static guint
freeze(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	guint n = G_MAXUINT;

	g_assert_true(mrd_outbox_freeze(fixture->outbox, mrd_clock_get_real_time(fixture->clock), 0,
					65536, &n, &error));
	g_assert_no_error(error);
	return n;
}

typedef struct {
	guint8 metric[METRICS_UUID_SIZE];
	guint64 sum;
	guint n_calls;
} StoredCount;

static void
stored_cb(const guint8 *metric_id, guint64 count, gpointer user_data)
{
	StoredCount *stored = user_data;

	/* one call per metric */
	if (memcmp(metric_id, stored->metric, METRICS_UUID_SIZE) == 0) {
		stored->sum += count;
		stored->n_calls++;
	}
}

/* what is still local (not frozen) for @id in @week */
static guint64
stored(Fixture *fixture, guint8 id, const char *week)
{
	g_autoptr(GError) error = NULL;
	StoredCount count = {0};

	memset(count.metric, id, sizeof(count.metric));
	g_assert_true(
		mrd_store_foreach_week_count(fixture->store, week, stored_cb, &count, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count.n_calls, <=, 1);
	return count.sum;
}

/* what the outbox holds for @id in @week, over all its requests: the count,
 * and for timers the seconds; @n_requests how many requests carry it */
static guint64
queued(Fixture *fixture, guint8 id, const char *week, guint64 *seconds, guint *n_requests)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) requests = mrd_outbox_list(fixture->outbox, &error);
	guint64 count = 0;

	g_assert_no_error(error);
	if (seconds != NULL)
		*seconds = 0;
	if (n_requests != NULL)
		*n_requests = 0;
	for (guint i = 0; i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);
		g_autoptr(GVariant) events = NULL;
		GVariantIter iter;
		const char *period = NULL;
		guint32 n = 0;
		GVariant *value = NULL;

		if (request->metric[0] != id || g_strcmp0(request->week, week) != 0)
			continue;
		if (n_requests != NULL)
			(*n_requests)++;
		events = mrd_upload_events_parse(request->events, &error);
		g_assert_no_error(error);
		g_variant_iter_init(&iter, events);
		while (g_variant_iter_loop(&iter, "(@ays&sumv)", NULL, NULL, &period, &n, &value)) {
			g_assert_cmpstr(period, ==, week);
			count += n;
			if (seconds != NULL && value != NULL &&
			    g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
				*seconds += g_variant_get_uint64(value);
		}
	}
	return count;
}

static guint
n_queued(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) requests = mrd_outbox_list(fixture->outbox, &error);

	g_assert_no_error(error);
	return requests->len;
}

static void
test_week_53_and_jumps(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDateTime) monday = g_date_time_new_utc(2026, 12, 28, 0, 0, 0);
	guint64 seconds = 0;
	guint n_requests = 0;

	/* 2026 has 53 ISO weeks: the 53rd starts on Monday 28 December */
	g_assert_cmpint(g_date_time_get_week_of_year(monday), ==, 53);
	g_assert_cmpint(g_date_time_get_week_numbering_year(monday), ==, 2026);

	/* Sunday 27 December 23:59, the last minute of week 52 */
	record(fixture, COUNTER, METRICS_EVENT_KIND_COUNTER, 0, 3);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-21"), ==, 3);
	/* the current week is never frozen */
	g_assert_cmpuint(freeze(fixture), ==, 0);
	g_assert_cmpuint(n_queued(fixture), ==, 0);

	/* Monday 00:30: week 53. A timer from Sunday 23:30 to now is shared
	 * out between the weeks and counted once, in the week it ended */
	mrd_clock_set_fixed(fixture->clock, utc(2026, 12, 28, 0, 30));
	record(fixture, COUNTER, METRICS_EVENT_KIND_COUNTER, 0, 5);
	record(fixture, TIMER, METRICS_EVENT_KIND_DURATION, utc(2026, 12, 27, 23, 30),
	       G_TIME_SPAN_HOUR);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-28"), ==, 5);
	g_assert_cmpuint(stored(fixture, TIMER, "2026-12-21"), ==, 0);
	g_assert_cmpuint(stored(fixture, TIMER, "2026-12-28"), ==, 1);

	/* week 52 has ended: it is frozen, one request per metric */
	g_assert_cmpuint(freeze(fixture), ==, 2);
	g_assert_cmpuint(queued(fixture, COUNTER, "2026-12-21", NULL, &n_requests), ==, 3);
	g_assert_cmpuint(n_requests, ==, 1);
	g_assert_cmpuint(queued(fixture, TIMER, "2026-12-21", &seconds, NULL), ==, 0);
	g_assert_cmpuint(seconds, ==, 30 * 60);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-21"), ==, 0);
	/* week 53 is the current week: it stays local */
	g_assert_cmpuint(queued(fixture, COUNTER, "2026-12-28", NULL, NULL), ==, 0);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-28"), ==, 5);
	g_assert_cmpuint(freeze(fixture), ==, 0);

	/* the wall clock jumps back 3 days, into week 52 again: nothing is
	 * frozen, what was frozen stays queued as it was, and week 53 (the
	 * future as far as the clock knows) is not frozen either */
	mrd_clock_set_fixed(fixture->clock, utc(2026, 12, 25, 0, 30));
	g_assert_cmpuint(freeze(fixture), ==, 0);
	g_assert_cmpuint(n_queued(fixture), ==, 2);
	g_assert_cmpuint(queued(fixture, COUNTER, "2026-12-21", NULL, NULL), ==, 3);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-28"), ==, 5);
	/* week 52 was frozen, so an event now goes to the first week still
	 * open, week 53, never to week 52 again: the server gets one request
	 * per metric and week. A timer that ran from Thursday into Friday
	 * goes there whole, counted once */
	g_assert_cmpint(mrd_outbox_get_first_open_week(fixture->outbox, NULL), ==,
			utc(2026, 12, 28, 0, 0));
	record(fixture, COUNTER, METRICS_EVENT_KIND_COUNTER, 0, 2);
	record(fixture, TIMER, METRICS_EVENT_KIND_DURATION, utc(2026, 12, 24, 23, 30),
	       G_TIME_SPAN_HOUR);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-21"), ==, 0);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-28"), ==, 5 + 2);
	g_assert_cmpuint(stored(fixture, TIMER, "2026-12-21"), ==, 0);
	g_assert_cmpuint(stored(fixture, TIMER, "2026-12-28"), ==, 1 + 1);
	g_assert_cmpuint(queued(fixture, COUNTER, "2026-12-21", NULL, &n_requests), ==, 3);
	g_assert_cmpuint(n_requests, ==, 1);
	g_assert_cmpuint(freeze(fixture), ==, 0);
	g_assert_cmpuint(n_queued(fixture), ==, 2);

	/* the store remembers which weeks were frozen */
	g_clear_object(&fixture->outbox);
	mrd_store_close(fixture->store);
	g_clear_object(&fixture->store);
	fixture->store = mrd_store_open(fixture->path, NULL);
	g_assert_nonnull(fixture->store);
	fixture->outbox = mrd_outbox_new(fixture->store, "43");
	g_assert_cmpint(mrd_outbox_get_first_open_week(fixture->outbox, NULL), ==,
			utc(2026, 12, 28, 0, 0));

	/* and forwards two weeks, over the turn of the year into week 1 of
	 * 2027: week 53 is frozen (with the late events), week 52 is not
	 * sent again, each event counted exactly once; the current week
	 * stays local */
	mrd_clock_set_fixed(fixture->clock, utc(2027, 1, 8, 0, 30));
	record(fixture, COUNTER, METRICS_EVENT_KIND_COUNTER, 0, 7);
	g_assert_cmpuint(stored(fixture, COUNTER, "2027-01-04"), ==, 7);
	g_assert_cmpuint(freeze(fixture), ==, 2);
	g_assert_cmpuint(queued(fixture, COUNTER, "2026-12-21", NULL, &n_requests), ==, 3);
	g_assert_cmpuint(n_requests, ==, 1);
	g_assert_cmpuint(queued(fixture, COUNTER, "2026-12-28", NULL, &n_requests), ==, 5 + 2);
	g_assert_cmpuint(n_requests, ==, 1);
	g_assert_cmpuint(queued(fixture, TIMER, "2026-12-28", &seconds, &n_requests), ==, 2);
	g_assert_cmpuint(n_requests, ==, 1);
	g_assert_cmpuint(seconds, ==, 30 * 60 + 60 * 60);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-21"), ==, 0);
	g_assert_cmpuint(stored(fixture, COUNTER, "2026-12-28"), ==, 0);
	g_assert_cmpuint(queued(fixture, COUNTER, "2027-01-04", NULL, NULL), ==, 0);
	g_assert_cmpuint(stored(fixture, COUNTER, "2027-01-04"), ==, 7);
	g_assert_cmpint(mrd_outbox_get_first_open_week(fixture->outbox, NULL), ==,
			utc(2027, 1, 4, 0, 0));
	/* freezing again adds nothing */
	g_assert_cmpuint(freeze(fixture), ==, 0);
	g_assert_cmpuint(n_queued(fixture), ==, 4);

	/* a freeze with nothing to freeze does not move the first open week:
	 * a jump far ahead and back leaves the events in their own weeks */
	mrd_clock_set_fixed(fixture->clock, utc(2027, 1, 12, 0, 30));
	g_assert_cmpuint(freeze(fixture), ==, 1);
	g_assert_cmpint(mrd_outbox_get_first_open_week(fixture->outbox, NULL), ==,
			utc(2027, 1, 11, 0, 0));
	mrd_clock_set_fixed(fixture->clock, utc(2027, 3, 1, 12, 0));
	g_assert_cmpuint(freeze(fixture), ==, 0);
	mrd_clock_set_fixed(fixture->clock, utc(2027, 1, 13, 12, 0));
	record(fixture, COUNTER, METRICS_EVENT_KIND_COUNTER, 0, 4);
	g_assert_cmpuint(stored(fixture, COUNTER, "2027-01-11"), ==, 4);
	g_assert_cmpuint(stored(fixture, COUNTER, "2027-03-01"), ==, 0);
}

/* the clock's own behaviour: fixed time, and an offset from the real time */
static void
test_clock(void)
{
	g_autoptr(MrdClock) clock = mrd_clock_new();
	gint64 before = g_get_real_time();
	gint64 now = mrd_clock_get_real_time(clock);

	g_assert_cmpint(now, >=, before);
	g_assert_cmpint(now, <=, g_get_real_time());
	mrd_clock_set_offset(clock, -3 * G_TIME_SPAN_DAY);
	now = mrd_clock_get_real_time(clock);
	g_assert_cmpint(now, <=, g_get_real_time() - 3 * G_TIME_SPAN_DAY);
	g_assert_cmpint(now, >=, before - 3 * G_TIME_SPAN_DAY);
	mrd_clock_set_fixed(clock, 42);
	g_assert_cmpint(mrd_clock_get_real_time(clock), ==, 42);
	mrd_clock_set_offset(clock, 0);
	g_assert_cmpint(mrd_clock_get_real_time(clock), >=, before);
}

/* the test-only offset file: read at once, again when it changes (at most
 * once a second), bad content keeps the shift in use */
static void
test_offset_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdClock) clock = mrd_clock_new();
	g_autofree char *dir = g_dir_make_tmp("mrd-clock-XXXXXX", &error);
	g_autofree char *path = g_build_filename(dir, "offset", NULL);
	gint64 before, now;

	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(path, "1209600\n", -1, &error));
	mrd_clock_set_offset_file(clock, path);
	before = g_get_real_time();
	now = mrd_clock_get_real_time(clock);
	g_assert_cmpint(now, >=, before + 14 * G_TIME_SPAN_DAY);
	g_assert_cmpint(now, <=, g_get_real_time() + 14 * G_TIME_SPAN_DAY);

	/* back 10 days: seen on the first look a second later */
	g_assert_true(g_file_set_contents(path, "345600", -1, &error));
	g_usleep(G_USEC_PER_SEC + G_USEC_PER_SEC / 10);
	before = g_get_real_time();
	now = mrd_clock_get_real_time(clock);
	g_assert_cmpint(now, >=, before + 4 * G_TIME_SPAN_DAY);
	g_assert_cmpint(now, <=, g_get_real_time() + 4 * G_TIME_SPAN_DAY);

	/* garbage, then a missing file: the shift stays */
	g_test_expect_message("MrdClock", G_LOG_LEVEL_WARNING, "*cannot use the clock offset*");
	g_assert_true(g_file_set_contents(path, "soon", -1, &error));
	g_usleep(G_USEC_PER_SEC + G_USEC_PER_SEC / 10);
	now = mrd_clock_get_real_time(clock);
	g_test_assert_expected_messages();
	g_assert_cmpint(now, >=, g_get_real_time() + 4 * G_TIME_SPAN_DAY - G_USEC_PER_SEC);
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_usleep(G_USEC_PER_SEC + G_USEC_PER_SEC / 10);
	g_test_expect_message("MrdClock", G_LOG_LEVEL_WARNING, "*cannot read the clock offset*");
	now = mrd_clock_get_real_time(clock);
	g_test_assert_expected_messages();
	g_assert_cmpint(now, >=, g_get_real_time() + 4 * G_TIME_SPAN_DAY - G_USEC_PER_SEC);

	/* a fixed time wins, and without the file the shift is the last set */
	mrd_clock_set_fixed(clock, 42);
	g_assert_cmpint(mrd_clock_get_real_time(clock), ==, 42);
	mrd_clock_set_offset_file(clock, NULL);
	mrd_clock_set_offset(clock, 0);
	g_assert_cmpint(mrd_clock_get_real_time(clock), <=, g_get_real_time());
	g_rmdir(dir);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/metrics/clock/fixed-and-offset", test_clock);
	g_test_add_func("/metrics/clock/offset-file", test_offset_file);
	g_test_add("/metrics/clock/week-53-and-jumps", Fixture, NULL, fixture_set_up,
		   test_week_53_and_jumps, fixture_tear_down);

	return g_test_run();
}
