/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdStore"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics-error.h"
#include "mrd-store-private.h"

/*
 * The local store: one SQLite database in the state directory, created only
 * once the user consented. Rows are weekly aggregates, so the store grows
 * with the number of distinct (metric, week, user, kind, value) keys, not
 * with the number of events.
 *
 * This file opens the database, keeps its schema and size cap and holds the
 * helpers of the other mrd-store*.c files: the aggregates
 * (mrd-store-aggregates.c), the drop counters (mrd-store-drops.c), the
 * upload queue and archive (mrd-store-outbox.c) and the removal of the
 * files (mrd-store-files.c).
 */

#define SCHEMA_VERSION 6

G_DEFINE_TYPE(MrdStore, mrd_store, G_TYPE_OBJECT)

/* @failure: what failed, as a translated sentence; the error adds where
 * and why. FALSE, for the callers to return */
gboolean
mrd_store_set_error(MrdStore *self, GError **error, const char *failure)
{
	int code = self->db != NULL ? sqlite3_errcode(self->db) & 0xff : SQLITE_ERROR;

	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		self->corrupt = TRUE;
	/* a full store (the size cap, or the disk) drops new events: the
	 * caller counts them */
	g_set_error(error, METRICS_ERROR,
		    code == SQLITE_FULL ? METRICS_ERROR_LIMIT_EXCEEDED : METRICS_ERROR_STORAGE,
		    /* TRANSLATORS: what failed (“Cannot read the metrics
		     * store”), the path of the store, then the reason */
		    _("%s (%s): %s"), failure, self->path,
		    /* TRANSLATORS: why the metrics store failed */
		    self->db != NULL ? sqlite3_errmsg(self->db) : _("it is closed"));
	return FALSE;
}

gboolean
mrd_store_check_open(MrdStore *self, GError **error)
{
	if (self->db != NULL)
		return TRUE;
	g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("The metrics store is closed"));
	return FALSE;
}

/* the integer in the first column of the first row of @sql, such as a
 * pragma's value; 0 when there is none or the query fails */
gint64
mrd_store_query_int(MrdStore *self, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	gint64 value = 0;

	if (self->db == NULL)
		return 0;
	if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

gboolean
mrd_store_exec(MrdStore *self, const char *sql, GError **error)
{
	if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot run a statement in the metrics store"));
	return TRUE;
}

/* the statement of @sql, or NULL with @failure in @error */
sqlite3_stmt *
mrd_store_prepare(MrdStore *self, const char *sql, const char *failure, GError **error)
{
	sqlite3_stmt *stmt = NULL;

	if (!mrd_store_check_open(self, error))
		return NULL;
	if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		mrd_store_set_error(self, error, failure);
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

/* runs @stmt, which returns no rows, to its end and finalizes it */
gboolean
mrd_store_run(MrdStore *self, sqlite3_stmt *stmt, const char *failure, GError **error)
{
	gboolean ok = sqlite3_step(stmt) == SQLITE_DONE;

	if (!ok)
		mrd_store_set_error(self, error, failure);
	sqlite3_finalize(stmt);
	return ok;
}

/* calls @func on each row of @stmt and finalizes it */
gboolean
mrd_store_foreach_row(MrdStore *self,
		      sqlite3_stmt *stmt,
		      MrdStoreRowFunc func,
		      gpointer user_data,
		      const char *failure,
		      GError **error)
{
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		func(stmt, user_data);
	if (rc != SQLITE_DONE)
		mrd_store_set_error(self, error, failure);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE;
}

/* the first @n_values integers of the one row of @stmt, which is finalized */
gboolean
mrd_store_get_row(MrdStore *self,
		  sqlite3_stmt *stmt,
		  gint64 *values,
		  guint n_values,
		  const char *failure,
		  GError **error)
{
	gboolean ok = sqlite3_step(stmt) == SQLITE_ROW;

	if (!ok)
		mrd_store_set_error(self, error, failure);
	for (guint i = 0; ok && i < n_values; i++)
		values[i] = sqlite3_column_int64(stmt, (int)i);
	sqlite3_finalize(stmt);
	return ok;
}

/**
 * mrd_store_transaction:
 * @self: the store
 * @func: (scope call): what to do in the transaction
 * @user_data: for @func
 * @error: where @func's error, or that of the transaction, goes
 *
 * Runs @func in one write transaction: it is committed when @func returns
 * %TRUE and rolled back when @func fails (or the commit does), so what
 * @func wrote is kept whole or not at all.
 *
 * Returns: whether @func and the commit succeeded
 */
gboolean
mrd_store_transaction(MrdStore *self,
		      MrdStoreTransactionFunc func,
		      gpointer user_data,
		      GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(func != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error) || !mrd_store_exec(self, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!func(self, user_data, error) || !mrd_store_exec(self, "COMMIT", error)) {
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	return TRUE;
}

static const char *const migrations[] = {
	/* version 1 */
	"CREATE TABLE aggregate ("
	"  metric BLOB NOT NULL,"
	"  week TEXT NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  payload BLOB NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  duration INTEGER NOT NULL,"
	"  PRIMARY KEY (metric, week, uid, kind, payload)"
	") WITHOUT ROWID;",
	/* version 2: uploads (mrd-outbox.c, docs/upload.md). outbox: one row
	 * per request still to send, its aggregates frozen as the serialized
	 * little-endian a(ayssumv) of the request body; sent: what was
	 * sent, for 90 days */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  metric BLOB NOT NULL,"
	"  week TEXT NOT NULL,"
	"  events BLOB NOT NULL,"
	"  n_events INTEGER NOT NULL,"
	"  due INTEGER NOT NULL,"
	"  next_try INTEGER NOT NULL,"
	"  last_try INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  last_status INTEGER NOT NULL DEFAULT 0,"
	"  last_answer TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE TABLE sent ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  metric BLOB NOT NULL,"
	"  week TEXT NOT NULL,"
	"  sent INTEGER NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  answer TEXT NOT NULL,"
	"  checksum TEXT NOT NULL,"
	"  body BLOB NOT NULL,"
	"  compressed_size INTEGER NOT NULL"
	");"
	"CREATE INDEX sent_by_time ON sent (sent);",
	/* version 3: how many events were dropped, per reason only (never per
	 * event, metric or user), kept across restarts; the rows of the
	 * reasons that come when the store is full exist from the start, so
	 * counting them updates a row in place instead of needing room */
	"CREATE TABLE drops ("
	"  reason TEXT PRIMARY KEY,"
	"  count INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO drops (reason, count) VALUES "
	"  ('store-full', 0), ('store-failed', 0), ('retention', 0);",
	/* version 4: what the daemon must remember about its own progress
	 * (mrd-outbox.c); "frozen-before" is the Monday (YYYY-MM-DD) of the
	 * first week not yet frozen into the outbox, '' before any. The row
	 * exists from the start, so a full store updates it in place */
	"CREATE TABLE state ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO state (key, value) VALUES ('frozen-before', '');",
	/* version 5: whose aggregates each frozen (metric, week) of the outbox
	 * merges, so that a user who opts out takes their share out of what
	 * is not sent yet (mrd_store_forget()); kept on this machine only.
	 * Requests frozen before this version get uid -1: anybody's. The
	 * shares go with the last request of their (metric, week) */
	"CREATE TABLE outbox_share ("
	"  metric BLOB NOT NULL,"
	"  week TEXT NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  PRIMARY KEY (metric, week, uid)"
	") WITHOUT ROWID;"
	"INSERT INTO outbox_share (metric, week, uid) "
	"  SELECT DISTINCT metric, week, -1 FROM outbox;"
	"CREATE TRIGGER outbox_share_gone AFTER DELETE ON outbox "
	"  WHEN NOT EXISTS (SELECT 1 FROM outbox o WHERE o.metric = old.metric "
	"                   AND o.week = old.week) "
	"BEGIN "
	"  DELETE FROM outbox_share WHERE metric = old.metric AND week = old.week; "
	"END;",
	/* version 6: the aggregates' key with the payload first. Every row of
	 * a metric shares its id, week, uid and kind, so with the id first
	 * each comparison of the upsert's search read four equal columns
	 * before the one that differs: that was the largest cost of storing
	 * an event. Nothing reads the table in the key's order (the queries
	 * that need an order sort) */
	"CREATE TABLE aggregate_v6 ("
	"  metric BLOB NOT NULL,"
	"  week TEXT NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  payload BLOB NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  duration INTEGER NOT NULL,"
	"  PRIMARY KEY (payload, metric, week, uid, kind)"
	") WITHOUT ROWID;"
	"INSERT INTO aggregate_v6 (metric, week, uid, kind, payload, count, duration)"
	"  SELECT metric, week, uid, kind, payload, count, duration FROM aggregate;"
	"DROP TABLE aggregate;"
	"ALTER TABLE aggregate_v6 RENAME TO aggregate;",
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == SCHEMA_VERSION);

static gboolean
migrate_once_cb(MrdStore *self, gpointer user_data, GError **error)
{
	int version = GPOINTER_TO_INT(user_data);
	g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", version + 1);

	return mrd_store_exec(self, migrations[version], error) &&
	       mrd_store_exec(self, bump, error);
}

static gboolean
mrd_store_migrate(MrdStore *self, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int version = 0;

	if (sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
		return mrd_store_set_error(
			self, error, _("Cannot read the schema version of the metrics store"));
	if (sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);

	if (version > SCHEMA_VERSION) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("The metrics store %s has schema version %d, newer than this "
			      "daemon's %d; update the daemon"),
			    self->path, version, SCHEMA_VERSION);
		return FALSE;
	}
	for (int v = version; v < SCHEMA_VERSION; v++) {
		if (!mrd_store_transaction(self, migrate_once_cb, GINT_TO_POINTER(v), error))
			return FALSE;
		g_debug("migrated %s to schema version %d", self->path, v + 1);
	}
	return TRUE;
}

/* the text of the first column of the first row of @sql, which may be NULL
 * (no row, or a NULL value) */
static gboolean
mrd_store_query_text(MrdStore *self,
		     const char *sql,
		     const char *what,
		     char **result,
		     GError **error)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return mrd_store_set_error(self, error, what);
	*result = NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != NULL)
		*result = g_strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return TRUE;
}

static gboolean
mrd_store_check_integrity(MrdStore *self, GError **error)
{
	g_autofree char *result = NULL;

	if (!mrd_store_query_text(self, "PRAGMA quick_check", "check", &result, error))
		return FALSE;
	if (g_strcmp0(result, "ok") != 0) {
		self->corrupt = TRUE;
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("The metrics store %s is damaged: %s"), self->path,
			    result != NULL ? result : sqlite3_errmsg(self->db));
		return FALSE;
	}
	return TRUE;
}

/* SQLite answers with the journal mode it could set: anything but WAL (a
 * file system without shared memory, say) is refused, since crash safety
 * and the size cap are built on it */
static gboolean
mrd_store_enable_wal(MrdStore *self, GError **error)
{
	g_autofree char *mode = NULL;

	if (!mrd_store_query_text(self, "PRAGMA journal_mode = WAL", "set the journal mode", &mode,
				  error))
		return FALSE;
	if (mode == NULL)
		return mrd_store_set_error(self, error,
					   _("Cannot set the journal mode of the metrics store"));
	if (g_ascii_strcasecmp(mode, "wal") != 0) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("The metrics store %s cannot use write-ahead logging (journal "
			      "mode: %s)"),
			    self->path, mode);
		return FALSE;
	}
	return TRUE;
}

/* the write-ahead log lives as long as the store: SQLite would remove it
 * (or cut it to nothing) when the store closes, freeing disk blocks with
 * frames of events in them; kept, the same blocks are written over by the
 * next frames, and when consent is withdrawn mrd_store_delete_files()
 * overwrites them with zeros. No journal_size_limit: its cuts free blocks
 * too; the log is cut back by mrd_store_shrink_wal() instead */
static gboolean
mrd_store_keep_wal(MrdStore *self, GError **error)
{
	int persist = 1;

	if (sqlite3_file_control(self->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist) != SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot keep the journal of the metrics store"));
	return mrd_store_exec(self, "PRAGMA journal_size_limit = -1", error);
}

static MrdStore *
mrd_store_open_once(const char *path, gboolean *corrupt, GError **error)
{
	g_autoptr(MrdStore) self = g_object_new(MRD_TYPE_STORE, NULL);
	int rc;
	int fd;

	self->path = g_strdup(path);
	self->wal_path = g_strconcat(path, "-wal", NULL);
	/* private to the service user whatever the umask: SQLite gives the
	 * WAL, its index and the journal the database file's mode */
	fd = g_open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd >= 0) {
		if (fchmod(fd, 0600) != 0)
			g_debug("cannot make %s private: %s", path, g_strerror(errno));
		close(fd);
	}
	rc = sqlite3_open_v2(path, &self->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		mrd_store_set_error(self, error, _("Cannot open the metrics store"));
		*corrupt = self->corrupt;
		return NULL;
	}
	sqlite3_extended_result_codes(self->db, 1);
	sqlite3_busy_timeout(self->db, 1000);
	/* WAL + FULL: an acknowledged batch survives a crash and a power cut;
	 * secure_delete: deleted data is overwritten, not left in free pages;
	 * temp_store: sorts and statement journals stay in memory, not in
	 * temporary files whose blocks would be freed unwritten */
	if (!mrd_store_enable_wal(self, error) || !mrd_store_keep_wal(self, error) ||
	    !mrd_store_exec(self, "PRAGMA synchronous = FULL", error) ||
	    !mrd_store_exec(self, "PRAGMA secure_delete = ON", error) ||
	    !mrd_store_exec(self, "PRAGMA temp_store = MEMORY", error) ||
	    !mrd_store_exec(self, "PRAGMA foreign_keys = ON", error) ||
	    !mrd_store_check_integrity(self, error) || !mrd_store_migrate(self, error) ||
	    !mrd_store_prepare_upsert(self, error)) {
		*corrupt = self->corrupt;
		return NULL;
	}
	return g_steal_pointer(&self);
}

/* opens (creating it if needed) the store at @path; a damaged file is moved
 * aside and a fresh store started, so the daemon keeps working */
MrdStore *
mrd_store_open(const char *path, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	gboolean corrupt = FALSE;
	MrdStore *self;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	self = mrd_store_open_once(path, &corrupt, &error_local);
	if (self != NULL)
		return self;
	if (!corrupt) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	g_debug("%s", error_local->message);
	if (!mrd_store_move_aside(path, error))
		return NULL;
	return mrd_store_open_once(path, &corrupt, error);
}

/* after each commit, as SQLite's own autocheckpoint: once the WAL holds
 * its share of frames they are checkpointed into the database, and the
 * next transaction writes the log from its start again. If one
 * transaction took the file past its share, it is then cut back, its tail
 * overwritten first (mrd_store_shrink_wal()) */
static int
wal_hook_cb(void *user_data, sqlite3 *db, const char *name, int n_frames)
{
	MrdStore *self = user_data;
	g_autoptr(GError) error = NULL;
	int n_log = -1, n_done = -1;
	GStatBuf buf;

	if (n_frames < 0 || (guint64)n_frames < self->wal_pages)
		return SQLITE_OK;
	/* PASSIVE is all there can be: this is the only connection */
	if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &n_log, &n_done) !=
		    SQLITE_OK ||
	    n_log != n_done)
		return SQLITE_OK;
	if (self->wal_max_bytes == 0 || g_stat(self->wal_path, &buf) != 0 ||
	    (guint64)buf.st_size <= self->wal_max_bytes)
		return SQLITE_OK;
	if (!mrd_store_shrink_wal(self->wal_path, self->wal_max_bytes, &error))
		g_warning("%s", error->message);
	return SQLITE_OK;
}

/* caps the size of the database and its WAL together at @max_bytes; beyond
 * it, adding fails with METRICS_ERROR_LIMIT_EXCEEDED.
 *
 * An eighth of the cap (4 to 256 pages) is the WAL's: it is checkpointed
 * into the database once it holds that many pages and cut back to that
 * length when it grew past it (wal_hook_cb()), and the database may use
 * the rest. The one transaction being written may take the WAL past its
 * share by the pages it changes; that, and the fixed 32 KiB index of the
 * WAL (-shm), is the margin on top of the cap (docs/metrics-recorder.8.md). */
gboolean
mrd_store_set_max_size(MrdStore *self, guint64 max_bytes, GError **error)
{
	gint64 page_size;
	guint64 cap_pages, wal_pages, db_pages;
	g_autofree char *sql = NULL;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	page_size = mrd_store_query_int(self, "PRAGMA page_size");
	if (page_size <= 0)
		page_size = 4096;
	cap_pages = max_bytes / (guint64)page_size;
	wal_pages = CLAMP(cap_pages / 8, 4, 256);
	/* one page less for the WAL's frame headers (24 bytes a page) */
	db_pages = cap_pages > wal_pages + 1 + 8 ? cap_pages - wal_pages - 1 : 8;
	sql = g_strdup_printf("PRAGMA max_page_count = %" G_GUINT64_FORMAT, db_pages);
	if (!mrd_store_exec(self, sql, error))
		return FALSE;
	/* instead of PRAGMA wal_autocheckpoint, which would replace the hook */
	self->wal_pages = wal_pages;
	self->wal_max_bytes = wal_pages * (guint64)(page_size + 24) + 32;
	sqlite3_wal_hook(self->db, wal_hook_cb, self);
	return TRUE;
}

/* lets a write of @n_rows rows of about @bytes take the database past its
 * page cap (mrd_store_set_max_size()) by as many pages as it could need:
 * what the outbox writes must fit even in a full store, or a closed week
 * would wait there until the retention limit drops it, and a request the
 * server has would be sent again. Freezing deletes the aggregates first,
 * but the pages they leave are whole free pages only where no aggregate
 * of an open week shared them. Returns the cap to put back, 0 if none */
gint64
mrd_store_raise_page_cap(MrdStore *self, guint64 bytes, guint n_rows)
{
	gint64 cap = mrd_store_query_int(self, "PRAGMA max_page_count");
	gint64 page_size = MAX(mrd_store_query_int(self, "PRAGMA page_size"), 512);
	gint64 pages;
	g_autofree char *sql = NULL;

	if (cap <= 0)
		return 0;
	/* overflow pages are not quite full, and the table grows interior
	 * pages as it splits */
	pages = (gint64)(bytes / (guint64)(page_size / 2)) + 2 * (gint64)n_rows + 8;
	sql = g_strdup_printf("PRAGMA max_page_count = %" G_GINT64_FORMAT,
			      MIN(cap + pages, (gint64)G_MAXUINT32));
	if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return 0;
	return cap;
}

/* puts the page cap back; SQLite keeps it no lower than the database's
 * size, so a freeze that went past it lets the store keep that room (see
 * docs/metrics-recorder.8.md) */
void
mrd_store_restore_page_cap(MrdStore *self, gint64 cap)
{
	g_autofree char *sql = NULL;

	if (cap <= 0 || self->db == NULL)
		return;
	sql = g_strdup_printf("PRAGMA max_page_count = %" G_GINT64_FORMAT, cap);
	sqlite3_exec(self->db, sql, NULL, NULL, NULL);
}

/* bytes on disk, WAL included */
guint64
mrd_store_get_size(MrdStore *self)
{
	const char *suffixes[] = {"", "-wal", "-shm"};
	guint64 total = 0;

	g_return_val_if_fail(MRD_IS_STORE(self), 0);

	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *file = g_strconcat(self->path, suffixes[i], NULL);
		GStatBuf buf;

		if (g_stat(file, &buf) == 0)
			total += (guint64)buf.st_size;
	}
	return total;
}

/**
 * mrd_store_get_usage:
 * @self: the store
 * @all_users: whether to count everybody's aggregates and the store's
 *   bytes, or only those of @uid
 * @uid: the user, without @all_users
 * @usage: (out caller-allocates): the figures
 * @error: where a failure to count the aggregates goes
 *
 * What the store holds and how much room it takes, for GetStatus. Only
 * counting the aggregates can fail; the weeks and pages are best effort
 * and stay 0 when SQLite cannot tell them. For one user, the bytes stay 0:
 * how the store grows shows what everybody records. Whether the store is
 * full is told either way: it is about the store, not about anybody.
 *
 * Returns: whether the aggregates could be counted
 */
gboolean
mrd_store_get_usage(MrdStore *self,
		    gboolean all_users,
		    guint32 uid,
		    MrdStoreUsage *usage,
		    GError **error)
{
	gint64 max_pages, used_pages;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(usage != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	memset(usage, 0, sizeof(*usage));
	/* the cap counts the pages in use: the file may be larger (free
	 * pages, the write-ahead log) */
	max_pages = mrd_store_query_int(self, "PRAGMA max_page_count");
	used_pages = mrd_store_query_int(self, "PRAGMA page_count") -
		     mrd_store_query_int(self, "PRAGMA freelist_count");
	/* a page split needs more than one free page: within 3 % (at least
	 * two pages) of the cap, inserts fail */
	usage->full = max_pages > 0 && max_pages - used_pages <= MAX(2, max_pages / 32);
	if (!all_users)
		return mrd_store_get_user_totals(self, uid, usage, error);
	if (!mrd_store_get_totals(self, &usage->n_keys, &usage->n_events, error))
		return FALSE;
	usage->file_bytes = mrd_store_get_size(self);
	mrd_store_count_weeks(self, &usage->n_weeks, &usage->oldest_week);
	usage->used_bytes = (guint64)MAX(used_pages, 0) *
			    (guint64)MAX(mrd_store_query_int(self, "PRAGMA page_size"), 0);
	return TRUE;
}

void
mrd_store_close(MrdStore *self)
{
	g_return_if_fail(MRD_IS_STORE(self));

	g_clear_pointer(&self->upsert, sqlite3_finalize);
	g_clear_pointer(&self->upsert_many, sqlite3_finalize);
	if (self->db != NULL) {
		if (sqlite3_close(self->db) != SQLITE_OK)
			g_warning("closing %s: %s", self->path, sqlite3_errmsg(self->db));
		self->db = NULL;
	}
}

static void
add_table_cb(sqlite3_stmt *stmt, gpointer user_data)
{
	g_ptr_array_add(user_data, g_strdup((const char *)sqlite3_column_text(stmt, 0)));
}

static gboolean
empty_tables_cb(MrdStore *self, gpointer user_data, GError **error)
{
	g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func(g_free);
	const char *failure = _("Cannot list the tables of the metrics store");
	sqlite3_stmt *stmt = mrd_store_prepare(
		self, "SELECT name FROM sqlite_master WHERE type = 'table'", failure, error);

	if (stmt == NULL ||
	    !mrd_store_foreach_row(self, stmt, add_table_cb, tables, failure, error))
		return FALSE;
	for (guint i = 0; i < tables->len; i++) {
		char *sql = sqlite3_mprintf("DELETE FROM \"%w\"",
					    (const char *)g_ptr_array_index(tables, i));
		gboolean ok = mrd_store_exec(self, sql, error);

		sqlite3_free(sql);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

/* empties every table with secure_delete on (deleted content overwritten
 * with zeros in the database pages) and checkpoints the WAL into the
 * database; the WAL file is kept at its length (mrd_store_keep_wal(): not
 * truncated, which would free its blocks unwritten) so that
 * mrd_store_delete_files() overwrites it; the store is to be closed and
 * its files deleted next */
gboolean
mrd_store_wipe(MrdStore *self, GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (!mrd_store_exec(self, "PRAGMA secure_delete = ON", error) ||
	    !mrd_store_transaction(self, empty_tables_cb, NULL, error))
		return FALSE;
	if (sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL) !=
	    SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot flush the journal of the metrics store"));
	return TRUE;
}

/**
 * mrd_store_scrub_log:
 * @self: the store
 * @error: where a failure goes
 *
 * After a deletion that must not be readable on disk any more (of one
 * user, of one category): checkpoints the write-ahead log into the
 * database, where secure_delete overwrote the deleted rows, and then
 * overwrites the whole log but its header with zeros (mrd_store_shrink_wal()),
 * since its frames still hold the pages as they were before.
 *
 * Returns: whether the log could be checkpointed and overwritten
 */
gboolean
mrd_store_scrub_log(MrdStore *self, GError **error)
{
	int n_log = -1, n_done = -1;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_FULL, &n_log, &n_done) !=
		    SQLITE_OK ||
	    n_log != n_done)
		return mrd_store_set_error(self, error,
					   _("Cannot flush the journal of the metrics store"));
	return mrd_store_shrink_wal(self->wal_path, MRD_STORE_WAL_HEADER_SIZE, error);
}

static void
mrd_store_finalize(GObject *object)
{
	MrdStore *self = MRD_STORE(object);

	mrd_store_close(self);
	g_free(self->path);
	g_free(self->wal_path);

	G_OBJECT_CLASS(mrd_store_parent_class)->finalize(object);
}

static void
mrd_store_class_init(MrdStoreClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = mrd_store_finalize;
}

static void
mrd_store_init(MrdStore *self)
{
}
