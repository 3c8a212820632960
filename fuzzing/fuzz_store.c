/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Loading the store: any bytes as the database file must open (a damaged
 * file is moved aside and a new store started) or fail with a clear
 * error, and everything read from it afterwards must not crash.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>

#include "metrics-error.h"
#include "mrd-outbox.h"
#include "mrd-store.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* a fixed time (2026-11-18 12:00 UTC): the same input gives the same run */
#define FUZZ_NOW (G_GINT64_CONSTANT(1795003200) * G_USEC_PER_SEC)

static void
read_everything(MrdStore *store)
{
	g_autoptr(MrdOutbox) outbox = mrd_outbox_new(store, "fuzz");
	g_autoptr(GVariant) dump = NULL;
	g_autoptr(GVariant) drops = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GPtrArray) sent = NULL;
	g_autoptr(GPtrArray) preview = NULL;
	g_autoptr(MrdOutboxRequest) next = NULL;
	g_autoptr(GError) error = NULL;
	guint64 n_keys = 0, n_events = 0, n_pending = 0, n_set_aside = 0;
	gint64 next_try = 0, last_sent = 0;

	dump = mrd_store_dump(store, TRUE, 0, &error);
	g_assert_true(dump != NULL || error != NULL);
	g_clear_error(&error);
	if (!mrd_store_get_totals(store, &n_keys, &n_events, &error))
		g_assert_nonnull(error);
	g_clear_error(&error);
	drops = mrd_store_get_drops(store, &error);
	g_assert_true(drops != NULL || error != NULL);
	g_clear_error(&error);
	list = mrd_outbox_list(outbox, &error);
	g_assert_true(list != NULL || error != NULL);
	g_clear_error(&error);
	sent = mrd_outbox_list_sent(outbox, &error);
	g_assert_true(sent != NULL || error != NULL);
	g_clear_error(&error);
	next = mrd_outbox_next(outbox, G_MAXINT64, 0, &error);
	g_clear_error(&error);
	if (!mrd_outbox_get_stats(outbox, &n_pending, &n_set_aside, &next_try, &last_sent, &error))
		g_assert_nonnull(error);
	g_clear_error(&error);
	/* builds request bodies from the stored aggregates */
	preview = mrd_outbox_preview(outbox, FUZZ_NOW, 64 * 1024, &error);
	g_assert_true(preview != NULL || error != NULL);
}

static char *dir = NULL;

static void
remove_dir(void)
{
	g_rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	g_autofree char *path = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdStore) store = NULL;

	if (dir == NULL) {
		dir = g_dir_make_tmp("fuzz-store-XXXXXX", &error);
		g_assert_no_error(error);
		atexit(remove_dir);
	}
	path = g_build_filename(dir, "metrics.db", NULL);
	g_assert_true(mrd_store_delete_files(path, NULL));
	g_assert_true(g_file_set_contents(path, (const char *)data, (gssize)size, NULL));

	store = mrd_store_open(path, &error);
	if (store == NULL) {
		g_assert_nonnull(error);
		g_assert_true(error->domain == METRICS_ERROR);
	} else {
		read_everything(store);
		mrd_store_close(store);
	}
	g_assert_true(mrd_store_delete_files(path, NULL));
	return 0;
}
