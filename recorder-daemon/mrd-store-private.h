/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <sqlite3.h>

#include "mrd-store.h"

G_BEGIN_DECLS

/*
 * Shared by the files of the store layer (mrd-store*.c) and by nothing
 * else: the only place that knows the store is SQLite.
 */

struct _MrdStore {
	GObject parent_instance;
	gboolean corrupt;	   /* SQLite said the file is not a (sound) database */
	char *path;		   /* (owned) */
	sqlite3 *db;		   /* (owned) (nullable) after close */
	sqlite3_stmt *upsert;	   /* (owned) */
	sqlite3_stmt *upsert_many; /* (owned) (nullable) prepared on first use */
	char *wal_path;		   /* (owned) */
	guint64 wal_pages;	   /* checkpoint once the WAL holds as many frames */
	guint64 wal_max_bytes;	   /* cut it back once it is longer; 0: never */
};

/* called for each row of a query, with the statement on that row */
typedef void (*MrdStoreRowFunc)(sqlite3_stmt *stmt, gpointer user_data);

gboolean
mrd_store_set_error(MrdStore *self, GError **error, const char *failure);
gboolean
mrd_store_check_open(MrdStore *self, GError **error);
gboolean
mrd_store_exec(MrdStore *self, const char *sql, GError **error);
gint64
mrd_store_query_int(MrdStore *self, const char *sql);
sqlite3_stmt *
mrd_store_prepare(MrdStore *self, const char *sql, const char *failure, GError **error);
gboolean
mrd_store_run(MrdStore *self, sqlite3_stmt *stmt, const char *failure, GError **error);
gboolean
mrd_store_get_row(MrdStore *self,
		  sqlite3_stmt *stmt,
		  gint64 *values,
		  guint n_values,
		  const char *failure,
		  GError **error);
gboolean
mrd_store_foreach_row(MrdStore *self,
		      sqlite3_stmt *stmt,
		      MrdStoreRowFunc func,
		      gpointer user_data,
		      const char *failure,
		      GError **error);
gint64
mrd_store_raise_page_cap(MrdStore *self, guint64 bytes, guint n_rows);
void
mrd_store_restore_page_cap(MrdStore *self, gint64 cap);

/* aggregates (mrd-store-aggregates.c) */
gboolean
mrd_store_prepare_upsert(MrdStore *self, GError **error);
gboolean
mrd_store_delete_weeks_before(MrdStore *self,
			      const char *week,
			      const char *failure,
			      GError **error);
GVariant *
mrd_store_payload_from_blob(const void *data, int len);
void
mrd_store_count_weeks(MrdStore *self, guint64 *n_weeks, gint64 *oldest_week);

/* files (mrd-store-files.c) */
/* the WAL header's length: with it zeroed, the log is empty to SQLite */
#define MRD_STORE_WAL_HEADER_SIZE 32
gboolean
mrd_store_move_aside(const char *path, GError **error);
gboolean
mrd_store_shrink_wal(const char *wal, guint64 keep, GError **error);

G_END_DECLS
