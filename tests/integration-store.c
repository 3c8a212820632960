/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): the store.
 * What was acknowledged survives kills, a full store drops and counts, a
 * damaged one is set aside, the size cap holds, and the files are private.
 */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-stack.h"

/* the batches of one round of kill-during-load at most: the tests' value
 * set (tests/allowlist-values/value-sets/gen-test-values.py) spells out
 * that many values */
#define LOAD_BATCHES 3000

static const char *const store_full_args[] = {"--max-store-size=64", NULL};
/* as fast as the test can send: the per-client event rate is not what it is
 * about */
static const char *const unlimited_args[] = {"--max-client-rate=0", "--max-client-calls=0", NULL};
static const char *const store_cap_args[] = {"--max-store-size=256", NULL};

/* batches are sent one at a time while the daemon is killed at random
 * moments and restarted. Each batch has its own payload value, so its key
 * shows what became of it: every acknowledged batch is stored exactly once
 * (its full count), the one in flight at each kill either fully or not at
 * all, never in part or twice */
static void
test_kill_during_load(MtestFixture *fixture, gconstpointer user_data)
{
	const guint batch = 100;
	g_autoptr(GHashTable) acked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) in_flight =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) stored = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GRand) rand = g_rand_new();
	GHashTableIter iter;
	gpointer key, value;
	guint n_in_flight_stored = 0;

	for (guint round = 0; round < 5; round++) {
		gint64 kill_at = g_get_monotonic_time() + g_rand_int_range(rand, 20000, 200000);
		g_autofree char *flying = g_strdup_printf("load-%u-in-flight", round);

		/* at most LOAD_BATCHES, the values the tests' value set has */
		for (guint i = 0; g_get_monotonic_time() < kill_at && i < LOAD_BATCHES; i++) {
			g_autofree char *payload = g_strdup_printf("load-%u-%u", round, i);

			g_assert_cmpuint(mtest_record_value_batch(fixture, batch, payload), ==,
					 batch);
			g_hash_table_add(acked, g_steal_pointer(&payload));
		}
		/* a call in flight while the daemon dies */
		g_dbus_connection_call(fixture->harness->connection, METRICS_DBUS_NAME,
				       METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE, "RecordEvents",
				       mtest_make_batch(batch, 16, flying), G_VARIANT_TYPE("(uu)"),
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
		g_hash_table_add(in_flight, g_steal_pointer(&flying));
		/* not a wait for anything: the moment of the kill varies on
		 * purpose, within the few milliseconds the call takes */
		g_usleep(g_rand_int_range(rand, 0, 3000));
		mtest_harness_stop_daemon(fixture->harness, TRUE);
		mtest_harness_start_daemon(fixture->harness, user_data);
	}
	g_assert_cmpuint(g_hash_table_size(acked), >, 0);

	/* the count of each payload, summed over weeks (a run may span
	 * Sunday midnight) */
	aggregates = mtest_get_local_data(fixture);
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		GVariant *payload = metrics_aggregate_get_payload(aggregate);
		const char *text;

		g_assert_cmpstr(metrics_aggregate_get_event_id(aggregate), ==, ID_VALUE);
		g_assert_nonnull(payload);
		text = g_variant_get_string(payload, NULL);
		g_hash_table_insert(
			stored, (gpointer)text,
			GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(stored, text)) +
					 metrics_aggregate_get_count(aggregate)));
	}
	g_hash_table_iter_init(&iter, acked);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		g_test_message("acknowledged %s", (const char *)key);
		g_assert_cmpuint(GPOINTER_TO_SIZE(g_hash_table_lookup(stored, key)), ==, batch);
	}
	g_hash_table_iter_init(&iter, stored);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (g_hash_table_contains(acked, key))
			continue;
		/* not acknowledged: only a batch in flight, and all of it */
		g_test_message("stored without acknowledgement: %s", (const char *)key);
		g_assert_true(g_hash_table_contains(in_flight, key));
		g_assert_cmpuint(GPOINTER_TO_SIZE(value), ==, batch);
		n_in_flight_stored++;
	}
	g_assert_cmpuint(mtest_status_u64(fixture, "stored-events"), ==,
			 (g_hash_table_size(acked) + n_in_flight_stored) * batch);
}

/* fills a store with a small cap (one new key per call) until events are dropped as store-full;
 * returns how many events were accepted */
static guint64
fill_store(MtestFixture *fixture)
{
	guint64 accepted_total = 0;

	for (guint i = 0; i < 2000 && mtest_drops_for(fixture, "store-full") == 0; i++) {
		g_autofree char *value = g_strdup_printf(
			"%s-%u-%s", MARKER, i,
			"a-long-value-to-fill-the-store-quickly-a-long-value-to-fill-the-store-"
			"quickly-a-long-value-to-fill-the-store-quickly-a-long-value-to-fill-"
			"the-store-quickly-a-long-value-to-fill-the-store-quickly");

		accepted_total += mtest_record_value_batch(fixture, 20, value);
	}
	g_assert_cmpuint(mtest_drops_for(fixture, "store-full"), >, 0);
	return accepted_total;
}

/* the store is full: new events are dropped and counted, what is stored
 * stays, the daemon keeps serving */
static void
test_store_full(MtestFixture *fixture, gconstpointer user_data)
{
	guint64 accepted_total = fill_store(fixture);
	guint64 before = mtest_stored_events(fixture);

	g_assert_cmpuint(before, ==, accepted_total);
	g_assert_cmpuint(before, >, 0);
}

/* a damaged store at start-up is moved aside and a fresh one started */
static void
test_corrupt_store(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *name;
	gboolean kept = FALSE;

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	/* the write-ahead log stays with the store: damage it too, or SQLite
	 * rightly reads the pages it holds */
	g_assert_true(g_file_set_contents(db,
					  MARKER " this is not an SQLite database at all, "
						 "it is garbage that must be kept aside",
					  -1, NULL));
	g_assert_true(g_file_set_contents(wal, MARKER " nor is this a write-ahead log", -1, NULL));
	mtest_harness_start_daemon(fixture->harness, NULL);

	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 1);
	aggregates = mtest_get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	dir = g_dir_open(fixture->harness->state_dir, 0, &error);
	while ((name = g_dir_read_name(dir)) != NULL)
		kept |= g_str_has_prefix(name, "metrics.db.corrupt-");
	g_assert_true(kept);

	/* a "no" removes the damaged copy too: it may hold event data */
	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
}

/* the store cannot be created (here: a directory is in its way): recording
 * fails with a clear error and the daemon keeps serving */
static void
test_store_unwritable(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	for (guint i = 0; i < 3; i++) {
		const char *suffixes[] = {"", "-wal", "-shm"};
		g_autofree char *file = g_strconcat(db, suffixes[i], NULL);
		g_unlink(file);
	}
	g_assert_cmpint(g_mkdir(db, 0700), ==, 0);
	mtest_harness_start_daemon(fixture->harness, NULL);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", mtest_make_batch(3, 16, "x"),
				   "(uu)", &error);
	g_assert_null(reply);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
	g_clear_error(&error);
	g_assert_cmpuint(mtest_drops_for(fixture, "store-failed"), ==, 3);

	/* once the obstacle is gone, the next call works */
	g_assert_cmpint(g_rmdir(db), ==, 0);
	reply = mtest_harness_call(fixture->harness, "RecordEvents", mtest_make_batch(3, 16, "x"),
				   "(uu)", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 3);
}

static guint64
file_size(const char *path)
{
	GStatBuf buf;

	if (g_stat(path, &buf) != 0)
		return 0;
	return (guint64)buf.st_size;
}

/* the cap holds for the database and its WAL together: filled to the cap,
 * the daemon drops new events as store-full, keeps serving, and its files
 * stay within the cap plus the pages of the batch last written (here 20
 * events of ~300 bytes: at most 4 pages of 4 KiB with their 24-byte WAL
 * frame headers; docs/metrics-recorder.8.md) */
static void
test_store_cap_total(MtestFixture *fixture, gconstpointer user_data)
{
	const guint64 cap = 256 * 1024;
	const guint64 margin = 4 * (4096 + 24);
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autoptr(GPtrArray) aggregates = NULL;
	guint64 accepted, n_full, peak = 0;

	accepted = fill_store(fixture);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, accepted);
	n_full = mtest_drops_for(fixture, "store-full");
	/* full: more batches are dropped and counted, the files do not grow */
	for (guint i = 0; i < 20; i++) {
		g_autofree char *value = g_strdup_printf(
			"%s-more-%u-%s", MARKER, i,
			"another-long-value-that-does-not-fit-another-long-value-that-does-not-"
			"fit-another-long-value-that-does-not-fit-another-long-value-that");

		accepted += mtest_record_value_batch(fixture, 20, value);
		peak = MAX(peak, file_size(db) + file_size(wal));
	}
	g_test_message("database %" G_GUINT64_FORMAT " + WAL %" G_GUINT64_FORMAT
		       " bytes, peak %" G_GUINT64_FORMAT ", cap %" G_GUINT64_FORMAT,
		       file_size(db), file_size(wal), peak, cap);
	g_assert_cmpuint(mtest_drops_for(fixture, "store-full"), >, n_full);
	g_assert_cmpuint(peak, <=, cap + margin);
	g_assert_cmpuint(file_size(db) + file_size(wal), <=, cap + margin);
	/* still serving, what was stored intact */
	aggregates = mtest_get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, >, 0);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, accepted);
}

typedef struct {
	MtestFixture *fixture;
	guint64 n;
} SavedDrops;

/* whether the store holds @n drops as store-full; read beside the daemon
 * (the drops table of recorder-daemon/mrd-store.c), as GetStatus does not
 * tell saved from counted */
static gboolean
drops_saved_cb(gpointer user_data)
{
	SavedDrops *wait = user_data;
	g_autofree char *path =
		g_build_filename(wait->fixture->harness->state_dir, "metrics.db", NULL);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	gint64 n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count FROM drops WHERE reason = 'store-full'", -1, &stmt,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n >= 0 && (guint64)n == wait->n;
}

/* the drop counters (per reason only) are kept in the store: GetStatus
 * reports them after a kill -9 (once saved, a second after the drop), a
 * clean restart and an idle exit; a "no" deletes them with the rest */
static void
test_drops_persist(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *ahead =
		g_strdup_printf("--clock-offset=%" G_GINT64_FORMAT, (gint64)10 * 7 * 24 * 3600);
	const char *const ahead_args[] = {"--max-store-size=64", ahead, NULL};
	const char *const idle_args[] = {"--max-store-size=64", "--idle-timeout=1", NULL};
	g_autoptr(GError) error = NULL;
	SavedDrops wait = {fixture, 0};
	guint64 n_full, n_stored;

	fill_store(fixture);
	n_full = mtest_drops_for(fixture, "store-full");
	n_stored = mtest_stored_events(fixture);
	g_assert_cmpuint(n_stored, >, 0);

	/* saved a second after the drop: once they are in the store, a kill
	 * -9 loses nothing */
	wait.n = n_full;
	mtest_wait_until(drops_saved_cb, &wait, "the drop counters to be saved");
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	mtest_harness_start_daemon(fixture->harness, store_full_args);
	g_assert_cmpuint(mtest_drops_for(fixture, "store-full"), ==, n_full);

	/* ten weeks later the stored weeks are past the retention limit */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, ahead_args);
	g_assert_cmpuint(mtest_drops_for(fixture, "retention"), ==, n_stored);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 0);

	/* the daemon exits when idle; started again, it still knows */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, idle_args);
	g_assert_true(g_subprocess_wait(fixture->harness->daemon, NULL, NULL));
	g_clear_object(&fixture->harness->daemon);
	mtest_harness_start_daemon(fixture->harness, store_full_args);
	g_assert_cmpuint(mtest_drops_for(fixture, "store-full"), ==, n_full);
	g_assert_cmpuint(mtest_drops_for(fixture, "retention"), ==, n_stored);

	/* a "no" deletes the counters with everything else */
	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, store_full_args);
	g_assert_cmpuint(mtest_drops_for(fixture, "store-full"), ==, 0);
	g_assert_cmpuint(mtest_drops_for(fixture, "retention"), ==, 0);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
}

/* a store damaged at start-up (its pages overwritten, the header intact)
 * is moved aside with the data it held, kept for inspection; the fresh
 * store works, and what was in the damaged one is never shown or queued
 * for upload, even once its week has ended */
static void
test_corrupt_store_set_aside(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *shm = g_strconcat(db, "-shm", NULL);
	g_autofree char *later =
		g_strdup_printf("--clock-offset=%" G_GINT64_FORMAT, (gint64)3 * 7 * 24 * 3600);
	const char *const later_args[] = {later, NULL};
	g_autoptr(GHashTable) values = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autofree char *aside = NULL;
	const char *name;
	guint8 garbage[4096];
	g_autofree char *contents = NULL;
	const char *found;
	gsize len = 0, data_page;
	int fd;

	mtest_record_batches(fixture, MARKER, 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	/* damage every page but the first and the one with the data */
	g_assert_true(g_file_get_contents(db, &contents, &len, NULL));
	found = memmem(contents, len, MARKER, strlen(MARKER));
	g_assert_nonnull(found);
	data_page = (found - contents) / sizeof(garbage);
	memset(garbage, 0xa5, sizeof(garbage));
	fd = g_open(db, O_WRONLY | O_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	for (gsize page = 1; page < len / sizeof(garbage); page++) {
		if (page != data_page)
			g_assert_cmpint(pwrite(fd, garbage, sizeof(garbage),
					       (off_t)(page * sizeof(garbage))),
					==, sizeof(garbage));
	}
	close(fd);
	/* the write-ahead log, kept with the store, holds copies of the pages:
	 * remove it (and its index), so that the damage is what is read */
	g_assert_cmpint(g_unlink(wal), ==, 0);
	g_assert_cmpint(g_unlink(shm), ==, 0);

	/* three weeks later: had the old data been taken in, it would be
	 * queued for upload now */
	mtest_harness_start_daemon(fixture->harness, later_args);
	values = mtest_stored_values(fixture);
	g_assert_cmpuint(g_hash_table_size(values), ==, 0);
	mtest_record_batches(fixture, "fresh", 2);
	mtest_assert_batches_intact(fixture, "fresh", 2);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 2 * 20);
	g_assert_cmpuint(mtest_status_u64(fixture, "pending-uploads"), ==, 0);
	g_assert_false(mtest_file_contains(db, MARKER));

	dir = g_dir_open(fixture->harness->state_dir, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, "metrics.db.corrupt-") &&
		    !g_str_has_suffix(name, "-shm") && !g_str_has_suffix(name, "-wal"))
			aside = g_build_filename(fixture->harness->state_dir, name, NULL);
	}
	g_assert_nonnull(aside);
	/* kept as it was, for inspection */
	g_assert_true(mtest_file_contains(aside, MARKER));
}

/* a state directory the daemon creates itself is 0700, the files in it
 * 0600 */
static void
test_state_dir_modes(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *name;
	GStatBuf buf;
	guint n = 0;

	g_assert_cmpint(g_rmdir(fixture->harness->state_dir), ==, 0);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, NULL);
	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 1);

	g_assert_cmpint(g_stat(fixture->harness->state_dir, &buf), ==, 0);
	g_assert_true(S_ISDIR(buf.st_mode));
	g_assert_cmpuint(buf.st_mode & 0777, ==, 0700);
	dir = g_dir_open(fixture->harness->state_dir, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(fixture->harness->state_dir, name, NULL);

		g_assert_cmpint(g_stat(path, &buf), ==, 0);
		g_test_message("%s: %o", name, buf.st_mode & 0777);
		g_assert_cmpuint(buf.st_mode & 0777, ==, 0600);
		n++;
	}
	/* consent.conf, the sampling secret, metrics.db, -wal, -shm */
	g_assert_cmpuint(n, >=, 4);
}

/* the store and the consent record are private to the service user */
static void
test_file_modes(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *name;
	guint n = 0;

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 1);
	dir = g_dir_open(fixture->harness->state_dir, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(fixture->harness->state_dir, name, NULL);
		GStatBuf buf;

		g_assert_cmpint(g_stat(path, &buf), ==, 0);
		g_assert_cmpint(buf.st_mode & 0077, ==, 0);
		n++;
	}
	g_assert_cmpuint(n, >=, 2);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/store/kill-during-load", MtestFixture, unlimited_args,
		   mtest_fixture_set_up_granted, test_kill_during_load, mtest_fixture_tear_down);
	g_test_add("/metrics/store/store-full", MtestFixture, store_full_args,
		   mtest_fixture_set_up_granted, test_store_full, mtest_fixture_tear_down);
	g_test_add("/metrics/store/corrupt-store", MtestFixture, NULL, mtest_fixture_set_up_granted,
		   test_corrupt_store, mtest_fixture_tear_down);
	g_test_add("/metrics/store/store-unwritable", MtestFixture, NULL,
		   mtest_fixture_set_up_granted, test_store_unwritable, mtest_fixture_tear_down);
	g_test_add("/metrics/store/file-modes", MtestFixture, NULL, mtest_fixture_set_up,
		   test_file_modes, mtest_fixture_tear_down);
	g_test_add("/metrics/store/drops-persist", MtestFixture, store_full_args,
		   mtest_fixture_set_up_granted, test_drops_persist, mtest_fixture_tear_down);
	g_test_add("/metrics/store/store-cap-total", MtestFixture, store_cap_args,
		   mtest_fixture_set_up_granted, test_store_cap_total, mtest_fixture_tear_down);
	g_test_add("/metrics/store/state-dir-modes", MtestFixture, NULL,
		   mtest_fixture_set_up_no_daemon, test_state_dir_modes, mtest_fixture_tear_down);
	g_test_add("/metrics/store/corrupt-store-set-aside", MtestFixture, NULL,
		   mtest_fixture_set_up_granted, test_corrupt_store_set_aside,
		   mtest_fixture_tear_down);

	return g_test_run();
}
