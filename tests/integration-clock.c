/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): the wall
 * clock of the running daemon jumps, forwards and back, with events recorded
 * around each jump.
 */

#include "config.h"

#include "metrics-private.h"
#include "mtest-stack.h"

static const char *const allow_uploads[] = {"org.fedoraproject.Metrics1.set-consent",
					    "org.fedoraproject.Metrics1.upload-now",
					    "org.fedoraproject.Metrics1.read-all", NULL};

/* the Monday (YYYY-MM-DD, UTC) of the ISO week holding @time_usec */
static char *
week_of(gint64 time_usec)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(time_usec / G_USEC_PER_SEC);
	g_autoptr(GDateTime) monday =
		g_date_time_add_days(dt, -(g_date_time_get_day_of_week(dt) - 1));

	return g_date_time_format(monday, "%Y-%m-%d");
}

typedef struct {
	MtestFixture *fixture;
	const char *logged; /* what the daemon says when it takes the offset */
} OffsetWait;

/* GetAllowlist reads the daemon's clock, which looks at the offset file
 * (at most once a second) */
static gboolean
offset_taken_cb(gpointer user_data)
{
	OffsetWait *wait = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
		mtest_harness_call(wait->fixture->harness, "GetAllowlist",
				   g_variant_new("(a{sv})", NULL), NULL, &error);

	g_assert_no_error(error);
	return mtest_harness_count_in_daemon_log(wait->fixture->harness, wait->logged) > 0;
}

/* moves the running daemon's clock to @days from the real time, and waits
 * until the daemon has taken the new offset */
static void
set_clock_offset(MtestFixture *fixture, const char *path, gint64 days)
{
	g_autoptr(GError) error = NULL;
	gint64 seconds = days * 24 * 3600;
	g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT "\n", seconds);
	g_autofree char *logged =
		g_strdup_printf("shifting the clock by %" G_GINT64_FORMAT " s", seconds);
	OffsetWait wait = {fixture, logged};

	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
	mtest_wait_until(offset_taken_cb, &wait, logged);
}

/* the daemon still answers GetStatus and GetLocalData */
static void
assert_serving(MtestFixture *fixture)
{
	g_autoptr(GPtrArray) aggregates = mtest_get_local_data(fixture);

	g_assert_nonnull(aggregates);
	g_assert_cmpuint(mtest_status_u64(fixture, "stored-keys"), ==, aggregates->len);
}

static char *
payload_text(GVariant *payload)
{
	g_autoptr(GVariant) boxed = NULL;
	g_autoptr(GVariant) value = NULL;

	if (g_variant_n_children(payload) != 1)
		return g_strdup("");
	boxed = g_variant_get_child_value(payload, 0);
	value = g_variant_get_variant(boxed);
	return g_variant_dup_string(value, NULL);
}

static void
add_count(GHashTable *counts, const char *key, guint64 n)
{
	g_hash_table_insert(
		counts, g_strdup(key),
		GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(counts, key)) + n));
}

/* what the daemon holds of ID_VALUE, as "place|week|payload" → count:
 * place "local" (GetLocalData), or the state of the outbox request
 * ("pending", or "next" for a week not yet closed); @n_pending: how many
 * pending requests each week has, as "week" → n */
static GHashTable *
held_counts(MtestFixture *fixture, GHashTable *n_pending)
{
	g_autoptr(GError) error = NULL;
	GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GVariant) local = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(GVariant) pending = NULL;
	g_autoptr(GVariant) requests = NULL;

	local = mtest_harness_call(
		fixture->harness, "GetLocalData",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(a(ussuavtt))", &error);
	g_assert_no_error(error);
	rows = g_variant_get_child_value(local, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) payload = NULL;
		g_autofree char *text = NULL;
		g_autofree char *key = NULL;
		const char *id = NULL, *week = NULL;
		guint64 count = 0;

		g_variant_get_child(rows, i, "(u&s&su@avtt)", NULL, &id, &week, NULL, &payload,
				    &count, NULL);
		if (g_strcmp0(id, ID_VALUE) != 0)
			continue;
		text = payload_text(payload);
		key = g_strdup_printf("local|%s|%s", week, text);
		add_count(counts, key, count);
	}

	pending = mtest_harness_call(
		fixture->harness, "GetPendingUploads",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(aa{sv})", &error);
	g_assert_no_error(error);
	requests = g_variant_get_child_value(pending, 0);
	for (gsize i = 0; i < g_variant_n_children(requests); i++) {
		g_autoptr(GVariant) request = g_variant_get_child_value(requests, i);
		g_autoptr(GVariant) events = g_variant_lookup_value(request, "events", NULL);
		const char *state = NULL, *week = NULL, *metric = NULL;

		g_assert_true(g_variant_lookup(request, "state", "&s", &state));
		g_assert_true(g_variant_lookup(request, "week", "&s", &week));
		g_assert_true(g_variant_lookup(request, "metric", "&s", &metric));
		if (g_strcmp0(metric, ID_VALUE) != 0)
			continue;
		if (g_strcmp0(state, "pending") == 0)
			add_count(n_pending, week, 1);
		for (gsize j = 0; j < g_variant_n_children(events); j++) {
			g_autoptr(GVariant) payload = NULL;
			g_autofree char *text = NULL;
			g_autofree char *key = NULL;
			const char *period = NULL;
			guint32 count = 0;

			g_variant_get_child(events, j, "(&s&s&su@av)", NULL, NULL, &period, &count,
					    &payload);
			g_assert_cmpstr(period, ==, week);
			text = payload_text(payload);
			key = g_strdup_printf("%s|%s|%s", state, week, text);
			add_count(counts, key, count);
		}
	}
	return counts;
}

static guint64
held(GHashTable *counts, const char *place, const char *week, const char *payload)
{
	g_autofree char *key = g_strdup_printf("%s|%s|%s", place, week, payload);

	return GPOINTER_TO_SIZE(g_hash_table_lookup(counts, key));
}

/* the sum over every place and week for @payload; "next" is left out,
 * being a preview of what is local */
static guint64
held_total(GHashTable *counts, const char *payload)
{
	g_autofree char *suffix = g_strdup_printf("|%s", payload);
	GHashTableIter iter;
	gpointer key, value;
	guint64 total = 0;

	g_hash_table_iter_init(&iter, counts);
	while (g_hash_table_iter_next(&iter, &key, &value))
		if (g_str_has_suffix(key, suffix) && !g_str_has_prefix(key, "next|"))
			total += GPOINTER_TO_SIZE(value);
	return total;
}

/* freezes what has closed (UploadNow; the server does not answer, so the
 * requests stay in the outbox) */
static void
freeze_closed_weeks(MtestFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = mtest_harness_call(
		fixture->harness, "UploadNow",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(uu)", &error);
	guint32 sent = G_MAXUINT32;

	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &sent, NULL);
	g_assert_cmpuint(sent, ==, 0);
}

/* the wall clock of the running daemon jumps forwards two weeks, then
 * back ten days, with events recorded before and after each jump: every
 * acknowledged event is counted exactly once, the week that closed is in
 * the outbox once, events after the jump back do not go into it (they go
 * to the first week still open, docs/metrics-recorder.8.md), and the
 * daemon serves throughout */
static void
test_clock_jumps(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *offset_path =
		g_build_filename(fixture->harness->tmpdir, "clock-offset", NULL);
	g_autofree char *offset_arg = g_strdup_printf("--clock-offset-file=%s", offset_path);
	g_autofree char *config_path =
		g_build_filename(fixture->harness->tmpdir, "upload.conf", NULL);
	g_autofree char *config_arg = g_strdup_printf("--config=%s", config_path);
	const char *const args[] = {config_arg, offset_arg, NULL};
	gint64 now = g_get_real_time();
	g_autofree char *week0 = week_of(now);
	g_autofree char *week1 = week_of(now + 7 * G_TIME_SPAN_DAY);
	g_autofree char *week2 = week_of(now + 14 * G_TIME_SPAN_DAY);
	g_autoptr(GHashTable) counts = NULL;
	g_autoptr(GHashTable) n_pending =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	const char *const phases[] = {"org.example.Before.desktop", "org.example.Ahead.desktop",
				      "org.example.Back.desktop"};
	guint32 accepted[3];

	/* nothing answers at port 9: what is frozen stays in the outbox */
	g_assert_true(g_file_set_contents(config_path, "[Upload]\nServerUrl=http://127.0.0.1:9\n",
					  -1, &error));
	g_assert_true(g_file_set_contents(offset_path, "0\n", -1, &error));
	g_assert_no_error(error);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_set_allowed(fixture->harness, allow_uploads);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, args);
	fixture->client = metrics_client_new(fixture->harness->connection);

	/* this week */
	accepted[0] = mtest_record_value_batch(fixture, 30, phases[0]);
	g_assert_cmpuint(accepted[0], ==, 30);
	assert_serving(fixture);

	/* two weeks ahead: this week and the next have ended, and are frozen
	 * (the next one is empty); the current one stays local */
	set_clock_offset(fixture, offset_path, 14);
	assert_serving(fixture);
	accepted[1] = mtest_record_value_batch(fixture, 20, phases[1]);
	g_assert_cmpuint(accepted[1], ==, 20);
	freeze_closed_weeks(fixture);
	assert_serving(fixture);

	/* ten days back, into week 0 or 1 again: both were frozen already */
	set_clock_offset(fixture, offset_path, 4);
	assert_serving(fixture);
	accepted[2] = mtest_record_value_batch(fixture, 10, phases[2]);
	g_assert_cmpuint(accepted[2], ==, 10);
	freeze_closed_weeks(fixture);
	assert_serving(fixture);

	counts = held_counts(fixture, n_pending);
	/* every acknowledged event exactly once */
	for (guint i = 0; i < G_N_ELEMENTS(phases); i++)
		g_assert_cmpuint(held_total(counts, phases[i]), ==, accepted[i]);
	/* week 0 is in the outbox, once; no other week of it is */
	g_assert_cmpuint(held(counts, "pending", week0, phases[0]), ==, accepted[0]);
	g_assert_cmpuint(g_hash_table_size(n_pending), ==, 1);
	g_assert_cmpuint(GPOINTER_TO_SIZE(g_hash_table_lookup(n_pending, week0)), ==, 1);
	/* the current week stays local; what came after the jump back went
	 * there too, not into a frozen week */
	g_assert_cmpuint(held(counts, "local", week2, phases[1]), ==, accepted[1]);
	g_assert_cmpuint(held(counts, "local", week2, phases[2]), ==, accepted[2]);
	g_assert_cmpuint(held(counts, "local", week0, phases[2]), ==, 0);
	g_assert_cmpuint(held(counts, "local", week1, phases[2]), ==, 0);
	g_assert_cmpuint(held(counts, "next", week2, phases[2]), ==, accepted[2]);
	g_assert_cmpuint(mtest_status_u64(fixture, "stored-events"), ==, accepted[1] + accepted[2]);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/clock/clock-jumps", MtestFixture, NULL, mtest_fixture_set_up_no_daemon,
		   test_clock_jumps, mtest_fixture_tear_down);

	return g_test_run();
}
