/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdStore"

#include "config.h"

#include <glib/gi18n.h>

#include "mrd-store-private.h"

/*
 * How many events were dropped, per reason only (never per event, metric
 * or user), kept across restarts. The rows of the reasons that come when
 * the store is full exist from the start (the schema's version 3), so
 * counting them updates a row in place instead of needing room.
 */

static gboolean
add_drops_cb(MrdStore *self, gpointer user_data, GError **error)
{
	GHashTable *counts = user_data;
	const char *failure = _("Cannot count the dropped events in the metrics store");
	sqlite3_stmt *stmt;
	GHashTableIter iter;
	gpointer key, value;

	stmt = mrd_store_prepare(
		self,
		"INSERT INTO drops (reason, count) VALUES (?1, ?2) "
		"ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count",
		failure, error);
	if (stmt == NULL)
		return FALSE;
	g_hash_table_iter_init(&iter, counts);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, (sqlite3_int64) * (guint64 *)value);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			mrd_store_set_error(self, error, failure);
			sqlite3_finalize(stmt);
			return FALSE;
		}
	}
	sqlite3_finalize(stmt);
	return TRUE;
}

/* adds @counts (reason → guint64 *) to the stored drop counters, in one
 * transaction */
gboolean
mrd_store_add_drops(MrdStore *self, GHashTable *counts, GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(counts != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (g_hash_table_size(counts) == 0)
		return TRUE;
	return mrd_store_transaction(self, add_drops_cb, counts, error);
}

static void
add_drop_cb(sqlite3_stmt *stmt, gpointer user_data)
{
	g_variant_builder_add(user_data, "{st}", (const char *)sqlite3_column_text(stmt, 0),
			      (guint64)sqlite3_column_int64(stmt, 1));
}

/* the stored drop counters that are not 0, as a{st} */
GVariant *
mrd_store_get_drops(MrdStore *self, GError **error)
{
	const char *failure = _("Cannot read the counts of dropped events in the metrics store");
	GVariantBuilder builder;
	sqlite3_stmt *stmt;

	g_return_val_if_fail(MRD_IS_STORE(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	stmt = mrd_store_prepare(self,
				 "SELECT reason, count FROM drops WHERE count > 0 ORDER BY reason",
				 failure, error);
	if (stmt == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{st}"));
	if (!mrd_store_foreach_row(self, stmt, add_drop_cb, &builder, failure, error)) {
		g_variant_builder_clear(&builder);
		return NULL;
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}
