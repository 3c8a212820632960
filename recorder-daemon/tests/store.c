/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The SQLite store: upserts of weekly aggregates, persistence across
 * reopening, per-user reads and deletes, file removal.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-aggregator.h"
#include "mrd-store.h"

typedef struct {
	char *dir;
	char *path;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fixture->dir = g_dir_make_tmp("mrd-store-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->path = g_build_filename(fixture->dir, "metrics.db", NULL);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	mrd_store_delete_files(fixture->path, NULL);
	g_rmdir(fixture->dir);
	g_free(fixture->path);
	g_free(fixture->dir);
}

static void
delta_clear(gpointer data)
{
	MrdDelta *delta = data;
	g_clear_pointer(&delta->payload, g_bytes_unref);
}

static GArray *
make_deltas(guint n_keys, guint64 count, const char *payload)
{
	GArray *deltas = g_array_new(FALSE, TRUE, sizeof(MrdDelta));

	g_array_set_clear_func(deltas, delta_clear);
	for (guint i = 0; i < n_keys; i++) {
		g_autoptr(GVariant) maybe = g_variant_ref_sink(g_variant_new_maybe(
			G_VARIANT_TYPE_VARIANT,
			payload != NULL ? g_variant_new_variant(g_variant_new_string(payload)) :
					  NULL));
		MrdDelta delta = {
			.week = mrd_week_start(g_get_real_time()),
			.kind = METRICS_EVENT_KIND_COUNTER,
			.payload = g_variant_get_data_as_bytes(maybe),
			.count = count,
			.duration = 0,
		};
		memset(delta.id, (int)i + 1, sizeof(delta.id));
		g_array_append_val(deltas, delta);
	}
	return deltas;
}

/* @n_keys deltas, each with its own payload @prefix-<i> */
static GArray *
make_unique_deltas(guint n_keys, const char *prefix)
{
	GArray *deltas = g_array_new(FALSE, TRUE, sizeof(MrdDelta));

	g_array_set_clear_func(deltas, delta_clear);
	for (guint i = 0; i < n_keys; i++) {
		g_autofree char *value = g_strdup_printf("%s-%u", prefix, i);
		g_autoptr(GVariant) maybe = g_variant_ref_sink(
			g_variant_new_maybe(G_VARIANT_TYPE_VARIANT,
					    g_variant_new_variant(g_variant_new_string(value))));
		MrdDelta delta = {
			.week = mrd_week_start(g_get_real_time()),
			.kind = METRICS_EVENT_KIND_COUNTER,
			.payload = g_variant_get_data_as_bytes(maybe),
			.count = 1,
			.duration = 0,
		};
		memset(delta.id, (int)(i % 255) + 1, sizeof(delta.id));
		g_array_append_val(deltas, delta);
	}
	return deltas;
}

static void
test_add_and_dump(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	g_autoptr(GArray) deltas = make_deltas(3, 2, "org.gnome.Maps");
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(GVariant) payloads = NULL;
	guint64 n_keys = 0, n_events = 0;
	guint32 uid = 0;
	const char *id = NULL;
	guint64 count = 0;

	g_assert_no_error(error);
	for (guint i = 0; i < 5; i++) {
		g_assert_true(mrd_store_add(store, 1000, deltas, &error));
		g_assert_no_error(error);
	}
	g_assert_true(mrd_store_add(store, 1001, deltas, &error));

	/* storage grows with keys, not events */
	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, ==, 6);
	g_assert_cmpuint(n_events, ==, 36);

	rows = mrd_store_dump(store, FALSE, 1000, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_variant_n_children(rows), ==, 3);
	g_variant_get_child(rows, 0, "(u&ssu@avtt)", &uid, &id, NULL, NULL, &payloads, &count,
			    NULL);
	g_assert_cmpuint(uid, ==, 1000);
	g_assert_cmpstr(id, ==, "01010101-0101-0101-0101-010101010101");
	g_assert_cmpuint(count, ==, 10);
	g_assert_cmpuint(g_variant_n_children(payloads), ==, 1);

	g_clear_pointer(&rows, g_variant_unref);
	rows = mrd_store_dump(store, TRUE, 0, &error);
	g_assert_cmpuint(g_variant_n_children(rows), ==, 6);
	g_clear_pointer(&rows, g_variant_unref);
	rows = mrd_store_dump(store, FALSE, 4242, &error);
	g_assert_cmpuint(g_variant_n_children(rows), ==, 0);
	g_assert_cmpuint(mrd_store_get_size(store), >, 0);
}

/* a batch of more deltas than one statement writes, of two weeks mixed:
 * every row gets its own key, week and sum */
static void
test_add_many(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	g_autoptr(GArray) deltas = make_deltas(100, 2, "org.gnome.Maps");
	g_autoptr(GVariant) rows = NULL;
	gint64 this_week = mrd_week_start(g_get_real_time());
	g_autofree char *this_week_str = mrd_week_to_string(this_week);
	g_autofree char *last_week_str = mrd_week_to_string(this_week - 7 * G_TIME_SPAN_DAY);
	guint64 n_keys = 0, n_events = 0;

	g_assert_no_error(error);
	for (guint i = 0; i < deltas->len; i += 3)
		g_array_index(deltas, MrdDelta, i).week = this_week - 7 * G_TIME_SPAN_DAY;
	for (guint round = 0; round < 3; round++)
		g_assert_true(mrd_store_add(store, 7, deltas, &error));
	g_assert_no_error(error);

	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, ==, 100);
	g_assert_cmpuint(n_events, ==, 600);
	rows = mrd_store_dump(store, FALSE, 7, &error);
	g_assert_cmpuint(g_variant_n_children(rows), ==, 100);
	for (guint i = 0; i < 100; i++) {
		const char *id = NULL, *week = NULL;
		guint64 count = 0;
		guint8 uuid[16];

		g_variant_get_child(rows, i, "(u&s&su@avtt)", NULL, &id, &week, NULL, NULL, &count,
				    NULL);
		g_assert_true(metrics_uuid_parse(id, uuid));
		g_assert_cmpuint(count, ==, 6);
		/* ids are i + 1: every third delta, from 0, is of last week */
		g_assert_cmpstr(week, ==, (uuid[0] - 1) % 3 == 0 ? last_week_str : this_week_str);
	}

	/* equal keys in one statement (deltas moved into the same week) add up */
	g_clear_pointer(&deltas, g_array_unref);
	g_clear_pointer(&rows, g_variant_unref);
	deltas = make_deltas(40, 1, "org.gnome.Maps");
	for (guint i = 0; i < deltas->len; i++)
		memset(g_array_index(deltas, MrdDelta, i).id, 0xee, METRICS_UUID_SIZE);
	g_assert_true(mrd_store_add(store, 8, deltas, &error));
	rows = mrd_store_dump(store, FALSE, 8, &error);
	g_assert_cmpuint(g_variant_n_children(rows), ==, 1);
	{
		guint64 count = 0;

		g_variant_get_child(rows, 0, "(u&s&su@avtt)", NULL, NULL, NULL, NULL, NULL, &count,
				    NULL);
		g_assert_cmpuint(count, ==, 40);
	}
}

/* what was committed is there after the store is closed and reopened */
static void
test_persistence(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) deltas = make_deltas(1, 7, NULL);
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	guint64 n_keys = 0, n_events = 0;
	GStatBuf buf;

	g_assert_true(mrd_store_add(store, 1, deltas, &error));
	g_clear_object(&store);

	/* private to the service user (the daemon sets umask 077 too) */
	g_assert_cmpint(g_stat(fixture->path, &buf), ==, 0);
	g_assert_cmpint(buf.st_mode & 0777, ==, 0600);

	store = mrd_store_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, ==, 1);
	g_assert_cmpuint(n_events, ==, 7);
}

static void
test_clear(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) deltas = make_deltas(2, 1, NULL);
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	guint64 removed = 0, n_keys = 0, n_events = 0;

	g_assert_true(mrd_store_add(store, 1, deltas, &error));
	g_assert_true(mrd_store_add(store, 2, deltas, &error));
	g_assert_true(mrd_store_clear(store, FALSE, 1, &removed, &error));
	g_assert_cmpuint(removed, ==, 2);
	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, ==, 2);
	g_assert_true(mrd_store_clear(store, TRUE, 0, &removed, &error));
	g_assert_cmpuint(removed, ==, 2);
	g_assert_true(mrd_store_clear(store, TRUE, 0, &removed, &error));
	g_assert_cmpuint(removed, ==, 0);
}

/* deleting removes the database with its WAL and shared-memory files */
static void
test_delete_files(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) deltas = make_deltas(1, 1, "marker");
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	g_autoptr(GDir) dir = NULL;

	g_assert_true(mrd_store_add(store, 1, deltas, &error));
	mrd_store_close(store);
	g_assert_false(mrd_store_add(store, 1, deltas, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
	g_clear_error(&error);

	g_assert_true(mrd_store_delete_files(fixture->path, &error));
	g_assert_no_error(error);
	dir = g_dir_open(fixture->dir, 0, &error);
	g_assert_null(g_dir_read_name(dir));
	/* deleting what is not there is fine */
	g_assert_true(mrd_store_delete_files(fixture->path, &error));
}

/* a database from a newer daemon is refused, not damaged */
static void
test_newer_schema(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = NULL;
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open(fixture->path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==,
			SQLITE_OK);
	sqlite3_close(db);

	store = mrd_store_open(fixture->path, &error);
	g_assert_null(store);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
}

/* a file that is not a database is moved aside, kept for inspection, and a
 * fresh store is started; deleting the store removes the copy too */
static void
test_garbage_file(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = NULL;
	g_autoptr(GArray) deltas = make_deltas(1, 1, NULL);
	g_autoptr(GDir) dir = NULL;
	const char *name;
	guint n_corrupt = 0;

	g_assert_true(g_file_set_contents(fixture->path,
					  "this is not a database, not at all; "
					  "it is long enough to have a header...",
					  -1, NULL));
	g_test_expect_message("MrdStore", G_LOG_LEVEL_WARNING, "*was damaged*");
	store = mrd_store_open(fixture->path, &error);
	g_test_assert_expected_messages();
	g_assert_no_error(error);
	g_assert_nonnull(store);
	g_assert_true(mrd_store_add(store, 1, deltas, &error));

	dir = g_dir_open(fixture->dir, 0, &error);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, "metrics.db.corrupt-"))
			n_corrupt++;
	}
	g_assert_cmpuint(n_corrupt, ==, 1);

	mrd_store_close(store);
	g_assert_true(mrd_store_delete_files(fixture->path, &error));
	g_clear_pointer(&dir, g_dir_close);
	dir = g_dir_open(fixture->dir, 0, &error);
	g_assert_null(g_dir_read_name(dir));
}

static gboolean
file_contains(const char *path, const char *marker)
{
	g_autofree char *contents = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	return memmem(contents, len, marker, strlen(marker)) != NULL;
}

/* deleting overwrites before unlinking: a hard link to the database and to
 * a damaged copy moved aside, made beforehand, no longer reaches the data */
static void
test_delete_overwrites(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = NULL;
	g_autoptr(GArray) deltas = make_deltas(1, 1, "marker-in-the-store");
	g_autoptr(GDir) dir = NULL;
	g_autofree char *db_link = g_strconcat(fixture->path, ".link", NULL);
	g_autofree char *aside_link = g_strconcat(fixture->path, ".aside-link", NULL);
	const char *name;

	g_assert_true(g_file_set_contents(fixture->path,
					  "marker-in-the-damaged-copy: not a database, and long "
					  "enough to have a header of sorts.............",
					  -1, NULL));
	g_test_expect_message("MrdStore", G_LOG_LEVEL_WARNING, "*was damaged*");
	store = mrd_store_open(fixture->path, &error);
	g_test_assert_expected_messages();
	g_assert_no_error(error);
	g_assert_true(mrd_store_add(store, 1, deltas, &error));
	mrd_store_close(store);
	g_assert_true(file_contains(fixture->path, "marker-in-the-store"));
	g_assert_cmpint(link(fixture->path, db_link), ==, 0);
	dir = g_dir_open(fixture->dir, 0, &error);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, "metrics.db.corrupt-")) {
			g_autofree char *aside = g_build_filename(fixture->dir, name, NULL);
			g_assert_cmpint(link(aside, aside_link), ==, 0);
		}
	}
	g_assert_true(file_contains(aside_link, "marker-in-the-damaged-copy"));

	g_assert_true(mrd_store_delete_files(fixture->path, &error));
	g_assert_no_error(error);
	g_assert_false(file_contains(db_link, "marker-in-the-store"));
	g_assert_false(file_contains(aside_link, "marker-in-the-damaged-copy"));
	g_assert_cmpint(g_unlink(db_link), ==, 0);
	g_assert_cmpint(g_unlink(aside_link), ==, 0);
}

/* the size cap: past it, new keys are refused with LIMIT_EXCEEDED and what
 * is stored stays intact */
static void
test_size_cap(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	guint64 n_keys = 0, n_events = 0;
	gboolean full = FALSE;

	g_assert_true(mrd_store_set_max_size(store, 64 * 1024, &error));
	for (guint round = 0; round < 200 && !full; round++) {
		g_autofree char *value =
			g_strdup_printf("value-%u-%s", round, "padding-padding-padding");
		g_autoptr(GArray) deltas = make_deltas(50, 1, value);

		if (!mrd_store_add(store, round, deltas, &error)) {
			g_assert_error(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED);
			g_clear_error(&error);
			full = TRUE;
		}
	}
	g_assert_true(full);
	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, >, 0);
	g_assert_cmpuint(n_keys % 50, ==, 0); /* whole batches only */
}

/* weeks past the retention limit are deleted and their events counted */
static void
test_prune(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	g_autoptr(GArray) deltas = make_deltas(2, 3, NULL);
	guint64 n_events = 0, n_keys = 0, total = 0;

	g_assert_true(mrd_store_add(store, 1, deltas, &error));
	g_assert_true(mrd_store_prune(store, "2000-01-03", &n_events, &error));
	g_assert_cmpuint(n_events, ==, 0);
	g_assert_true(mrd_store_prune(store, "2999-01-04", &n_events, &error));
	g_assert_cmpuint(n_events, ==, 6);
	g_assert_true(mrd_store_get_totals(store, &n_keys, &total, &error));
	g_assert_cmpuint(n_keys, ==, 0);
}

/* a connection of the test's own to the store's database, as a tool would
 * open it: the store keeps its own to itself */
static sqlite3 *
open_db(const char *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	return db;
}

static int
journal_mode_is_wal(void *user_data, int n_columns, char **values, char **names)
{
	gboolean *wal = user_data;

	*wal = n_columns == 1 && g_strcmp0(values[0], "wal") == 0;
	return 0;
}

static void
assert_mode(const char *file, guint mode)
{
	GStatBuf buf;

	g_assert_cmpint(g_stat(file, &buf), ==, 0);
	g_test_message("%s: %o", file, buf.st_mode & 0777);
	g_assert_cmpuint(buf.st_mode & 0777, ==, mode);
}

/* the store is in WAL mode, and its files are 0600 whatever the umask, also
 * when the database file was there with a looser mode */
static void
test_wal_and_modes(Fixture *fixture, gconstpointer user_data)
{
	const char *suffixes[] = {"", "-wal", "-shm"};
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = NULL;
	g_autoptr(GArray) deltas = make_deltas(2, 1, NULL);
	mode_t old_umask = umask(022);
	gboolean wal = FALSE;
	sqlite3 *db = NULL;

	for (guint round = 0; round < 2; round++) {
		store = mrd_store_open(fixture->path, &error);
		g_assert_no_error(error);
		g_assert_true(mrd_store_add(store, 1, deltas, &error));
		db = open_db(fixture->path);
		g_assert_cmpint(
			sqlite3_exec(db, "PRAGMA journal_mode", journal_mode_is_wal, &wal, NULL),
			==, SQLITE_OK);
		sqlite3_close(db);
		g_assert_true(wal);
		for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
			g_autofree char *file = g_strconcat(fixture->path, suffixes[i], NULL);
			assert_mode(file, 0600);
		}
		g_clear_object(&store);
		/* the second round starts from a database someone made 0644 */
		g_assert_cmpint(g_chmod(fixture->path, 0644), ==, 0);
	}
	/* the directory it is in is the daemon's (0700 in the unit) */
	assert_mode(fixture->dir, 0700);
	umask(old_umask);
}

static guint64
file_size(const char *path)
{
	GStatBuf buf;

	g_assert_cmpint(g_stat(path, &buf), ==, 0);
	return (guint64)buf.st_size;
}

/* the write-ahead log is kept when the store closes (SQLite would delete
 * it, freeing its blocks with the frames in them), and a transaction that
 * took it past its share of the cap is cut back to that share, its tail
 * overwritten first; what it held is all in the database */
static void
test_wal_kept_and_cut(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	g_autoptr(GArray) deltas =
		make_unique_deltas(2000, "wal-tail-marker-padding-padding-padding-padding");
	g_autoptr(GArray) more = make_unique_deltas(10, "after-the-cut");
	g_autofree char *wal = g_strconcat(fixture->path, "-wal", NULL);
	/* 1 MiB of 4 KiB pages: the WAL's share is 32 frames of 4096 + 24 bytes
	 * after its 32-byte header */
	const guint64 wal_share = 32 * (4096 + 24) + 32;
	guint64 n_keys = 0, n_events = 0;

	g_assert_no_error(error);
	g_assert_true(mrd_store_set_max_size(store, 1024 * 1024, &error));
	g_assert_true(mrd_store_add(store, 1, deltas, &error));
	g_assert_no_error(error);
	g_test_message("WAL after a large transaction: %" G_GUINT64_FORMAT " bytes",
		       file_size(wal));
	g_assert_cmpuint(file_size(wal), <=, wal_share);
	mrd_store_close(store);
	g_clear_object(&store);
	g_assert_true(g_file_test(wal, G_FILE_TEST_EXISTS));

	store = mrd_store_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_true(mrd_store_set_max_size(store, 1024 * 1024, &error));
	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, ==, 2000);
	g_assert_true(mrd_store_add(store, 1, more, &error));
	g_assert_no_error(error);
	mrd_store_close(store);
	g_clear_object(&store);

	store = mrd_store_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, ==, 2010);
}

/* a version 1 database with rows is upgraded in place to the current
 * schema: the rows are kept and the new tables work */
static void
test_migrate_v1(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(GVariant) drops = NULL;
	g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
	g_autofree char *week = mrd_week_to_string(mrd_week_start(g_get_real_time()));
	g_autofree char *sql = NULL;
	g_autofree char *drops_text = NULL;
	guint64 n_keys = 0, n_events = 0, one = 1;
	guint32 uid = 0;
	guint64 count = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	g_assert_cmpint(sqlite3_open(fixture->path, &db), ==, SQLITE_OK);
	sql = g_strdup_printf(
		"PRAGMA journal_mode = WAL;"
		"CREATE TABLE aggregate (metric BLOB NOT NULL, week TEXT NOT NULL,"
		"  uid INTEGER NOT NULL, kind INTEGER NOT NULL, payload BLOB NOT NULL,"
		"  count INTEGER NOT NULL, duration INTEGER NOT NULL,"
		"  PRIMARY KEY (metric, week, uid, kind, payload)) WITHOUT ROWID;"
		"INSERT INTO aggregate VALUES (zeroblob(16), '%s', 1000, %d, x'', 41, 0);"
		"INSERT INTO aggregate VALUES (x'01010101010101010101010101010101', '%s', 1001,"
		"  %d, x'', 1, 0);"
		"PRAGMA user_version = 1;",
		week, METRICS_EVENT_KIND_COUNTER, week, METRICS_EVENT_KIND_COUNTER);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);

	store = mrd_store_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(store);
	db = open_db(fixture->path);
	g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	g_assert_cmpint(sqlite3_column_int(stmt, 0), ==, 6);
	sqlite3_finalize(stmt);

	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, ==, 2);
	g_assert_cmpuint(n_events, ==, 42);
	rows = mrd_store_dump(store, FALSE, 1000, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_variant_n_children(rows), ==, 1);
	g_variant_get_child(rows, 0, "(u&s&su@avtt)", &uid, NULL, NULL, NULL, NULL, &count, NULL);
	g_assert_cmpuint(uid, ==, 1000);
	g_assert_cmpuint(count, ==, 41);
	/* the tables of versions 2, 3 and 5 are there */
	g_assert_cmpint(sqlite3_exec(db, "SELECT count(*) FROM outbox", NULL, NULL, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "SELECT count(*) FROM outbox_share", NULL, NULL, NULL), ==,
			SQLITE_OK);
	sqlite3_close(db);
	g_hash_table_insert(counts, (gpointer) "store-full", &one);
	g_assert_true(mrd_store_add_drops(store, counts, &error));
	g_assert_no_error(error);
	drops = mrd_store_get_drops(store, &error);
	g_assert_no_error(error);
	drops_text = g_variant_print(drops, FALSE);
	g_assert_cmpstr(drops_text, ==, "{'store-full': 1}");
	/* the migrated rows are the keys the upsert finds (the key's columns
	 * were reordered in version 6): a delta of one adds to it */
	{
		g_autoptr(GArray) deltas = make_deltas(1, 5, NULL);

		g_assert_true(mrd_store_add(store, 1001, deltas, &error));
		g_assert_no_error(error);
		g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
		g_assert_cmpuint(n_keys, ==, 2);
		g_assert_cmpuint(n_events, ==, 47);
	}

	/* and opening it again changes nothing */
	g_clear_object(&store);
	store = mrd_store_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_events, ==, 47);
}

static void
checkpoint(const char *path)
{
	sqlite3 *db = open_db(path);

	/* a connection reads the database, and finds its WAL, on first use */
	g_assert_cmpint(sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
			==, SQLITE_OK);
	sqlite3_close(db);
}

static void
event_clear(gpointer data)
{
	MrdEvent *event = data;
	g_clear_pointer(&event->payload, g_variant_unref);
}

/* stores @n_batches batches of @per_batch counter events of one key,
 * through the aggregator, and returns the database's size once the WAL is
 * checkpointed into it */
static gint64
size_after(Fixture *fixture, guint n_batches, guint per_batch)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = mrd_store_open(fixture->path, &error);
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(MrdEvent));
	gint64 now = g_get_real_time();
	guint64 n_keys = 0, n_events = 0;
	GStatBuf buf;

	g_assert_no_error(error);
	g_array_set_clear_func(events, event_clear);
	for (guint i = 0; i < per_batch; i++) {
		MrdEvent event = {.kind = METRICS_EVENT_KIND_COUNTER, .time = now, .amount = 1};

		memset(event.id, 7, sizeof(event.id));
		g_array_append_val(events, event);
	}
	for (guint b = 0; b < n_batches; b++) {
		g_autoptr(GArray) deltas = mrd_aggregate_events(events, now);

		g_assert_true(mrd_store_add(store, 1000, deltas, &error));
		g_assert_no_error(error);
	}
	g_assert_true(mrd_store_get_totals(store, &n_keys, &n_events, &error));
	g_assert_cmpuint(n_keys, ==, 1);
	g_assert_cmpuint(n_events, ==, (guint64)n_batches * per_batch);
	checkpoint(fixture->path);
	g_assert_cmpint(g_stat(fixture->path, &buf), ==, 0);
	mrd_store_close(store);
	g_assert_true(mrd_store_delete_files(fixture->path, &error));
	return (gint64)buf.st_size;
}

/* storage grows with keys, not events: a million counter events of one key
 * (a thousand batches of a thousand) take the room of one */
static void
test_grows_with_keys(Fixture *fixture, gconstpointer user_data)
{
	gint64 one = size_after(fixture, 1, 1);
	gint64 million = size_after(fixture, 1000, 1000);

	g_test_message("1 event: %" G_GINT64_FORMAT " bytes; 1,000,000 events: %" G_GINT64_FORMAT
		       " bytes",
		       one, million);
	/* equal within a page or two */
	g_assert_cmpint(ABS(million - one), <=, 2 * 4096);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/store/add-and-dump", Fixture, NULL, fixture_set_up, test_add_and_dump,
		   fixture_tear_down);
	g_test_add("/metrics/store/add-many", Fixture, NULL, fixture_set_up, test_add_many,
		   fixture_tear_down);
	g_test_add("/metrics/store/persistence", Fixture, NULL, fixture_set_up, test_persistence,
		   fixture_tear_down);
	g_test_add("/metrics/store/clear", Fixture, NULL, fixture_set_up, test_clear,
		   fixture_tear_down);
	g_test_add("/metrics/store/delete-files", Fixture, NULL, fixture_set_up, test_delete_files,
		   fixture_tear_down);
	g_test_add("/metrics/store/newer-schema", Fixture, NULL, fixture_set_up, test_newer_schema,
		   fixture_tear_down);
	g_test_add("/metrics/store/garbage-file", Fixture, NULL, fixture_set_up, test_garbage_file,
		   fixture_tear_down);
	g_test_add("/metrics/store/size-cap", Fixture, NULL, fixture_set_up, test_size_cap,
		   fixture_tear_down);
	g_test_add("/metrics/store/prune", Fixture, NULL, fixture_set_up, test_prune,
		   fixture_tear_down);
	g_test_add("/metrics/store/delete-overwrites", Fixture, NULL, fixture_set_up,
		   test_delete_overwrites, fixture_tear_down);
	g_test_add("/metrics/store/wal-and-modes", Fixture, NULL, fixture_set_up,
		   test_wal_and_modes, fixture_tear_down);
	g_test_add("/metrics/store/wal-kept-and-cut", Fixture, NULL, fixture_set_up,
		   test_wal_kept_and_cut, fixture_tear_down);
	g_test_add("/metrics/store/migrate-v1", Fixture, NULL, fixture_set_up, test_migrate_v1,
		   fixture_tear_down);
	g_test_add("/metrics/store/grows-with-keys", Fixture, NULL, fixture_set_up,
		   test_grows_with_keys, fixture_tear_down);

	return g_test_run();
}
