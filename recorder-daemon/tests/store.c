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

#include "metrics-error.h"
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

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/mrd/store/add-and-dump", Fixture, NULL, fixture_set_up, test_add_and_dump,
		   fixture_tear_down);
	g_test_add("/mrd/store/persistence", Fixture, NULL, fixture_set_up, test_persistence,
		   fixture_tear_down);
	g_test_add("/mrd/store/clear", Fixture, NULL, fixture_set_up, test_clear,
		   fixture_tear_down);
	g_test_add("/mrd/store/delete-files", Fixture, NULL, fixture_set_up, test_delete_files,
		   fixture_tear_down);
	g_test_add("/mrd/store/newer-schema", Fixture, NULL, fixture_set_up, test_newer_schema,
		   fixture_tear_down);
	g_test_add("/mrd/store/garbage-file", Fixture, NULL, fixture_set_up, test_garbage_file,
		   fixture_tear_down);
	g_test_add("/mrd/store/size-cap", Fixture, NULL, fixture_set_up, test_size_cap,
		   fixture_tear_down);
	g_test_add("/mrd/store/prune", Fixture, NULL, fixture_set_up, test_prune,
		   fixture_tear_down);

	return g_test_run();
}
