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
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-aggregator.h"
#include "mrd-store.h"

/*
 * The local store: one SQLite database in the state directory, created only
 * once the user consented. Rows are weekly aggregates, so the store grows
 * with the number of distinct (metric, week, user, kind, value) keys, not
 * with the number of events.
 */

#define SCHEMA_VERSION 4

struct _MrdStore {
	GObject parent_instance;
	gboolean corrupt;	   /* SQLite said the file is not a (sound) database */
	char *path;		   /* (owned) */
	sqlite3 *db;		   /* (owned) (nullable) after close */
	sqlite3_stmt *upsert;	   /* (owned) */
	sqlite3_stmt *upsert_many; /* (owned) (nullable) prepared on first use */
};

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

/* the integer in the first column of the first row of @sql on @db, such as
 * a pragma's value; 0 when there is none or the query fails */
gint64
mrd_store_query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	gint64 value = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

static gboolean
exec_sql(MrdStore *self, const char *sql, GError **error)
{
	if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot run a statement in the metrics store"));
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
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == SCHEMA_VERSION);

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
		g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", v + 1);

		if (!exec_sql(self, "BEGIN IMMEDIATE", error))
			return FALSE;
		if (!exec_sql(self, migrations[v], error) || !exec_sql(self, bump, error)) {
			sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
			return FALSE;
		}
		if (!exec_sql(self, "COMMIT", error))
			return FALSE;
		g_debug("migrated %s to schema version %d", self->path, v + 1);
	}
	return TRUE;
}

static gboolean
mrd_store_check_open(MrdStore *self, GError **error);

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

static MrdStore *
mrd_store_open_once(const char *path, gboolean *corrupt, GError **error)
{
	g_autoptr(MrdStore) self = g_object_new(MRD_TYPE_STORE, NULL);
	int rc;
	int fd;

	self->path = g_strdup(path);
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
	 * secure_delete: deleted data is overwritten, not left in free pages */
	if (!mrd_store_enable_wal(self, error) ||
	    !exec_sql(self, "PRAGMA synchronous = FULL", error) ||
	    !exec_sql(self, "PRAGMA secure_delete = ON", error) ||
	    !exec_sql(self, "PRAGMA foreign_keys = ON", error) ||
	    !mrd_store_check_integrity(self, error) || !mrd_store_migrate(self, error)) {
		*corrupt = self->corrupt;
		return NULL;
	}
	if (sqlite3_prepare_v3(self->db,
			       "INSERT INTO aggregate (metric, week, uid, kind, payload, count, "
			       "duration) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			       "ON CONFLICT (metric, week, uid, kind, payload) DO UPDATE SET "
			       "count = count + excluded.count, "
			       "duration = duration + excluded.duration",
			       -1, SQLITE_PREPARE_PERSISTENT, &self->upsert, NULL) != SQLITE_OK) {
		mrd_store_set_error(self, error, _("Cannot prepare a query on the metrics store"));
		*corrupt = self->corrupt;
		return NULL;
	}
	return g_steal_pointer(&self);
}

/* moves a damaged store aside, to be kept for inspection and never read
 * again; mrd_store_delete_files() removes it with the rest */
static gboolean
move_aside(const char *path, GError **error)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%S");
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};

	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *from = g_strconcat(path, suffixes[i], NULL);
		g_autofree char *to = g_strconcat(path, ".corrupt-", stamp, suffixes[i], NULL);

		if (g_rename(from, to) != 0 && errno != ENOENT) {
			int saved_errno = errno;
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
				    _("Cannot move the damaged store %s aside: %s"), from,
				    g_strerror(saved_errno));
			return FALSE;
		}
	}
	g_warning("the metrics store %s was damaged; kept it as %s.corrupt-%s and started a "
		  "new one",
		  path, path, stamp);
	return TRUE;
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
	if (!move_aside(path, error))
		return NULL;
	return mrd_store_open_once(path, &corrupt, error);
}

/* caps the size of the database and its WAL together at @max_bytes; beyond
 * it, adding fails with METRICS_ERROR_LIMIT_EXCEEDED.
 *
 * An eighth of the cap (4 to 256 pages) is the WAL's: it is checkpointed
 * into the database once it holds that many pages and cut back to that
 * length when it grew past it, and the database may use the rest. The one
 * transaction being written may take the WAL past its share by the pages
 * it changes; that, and the fixed 32 KiB index of the WAL (-shm), is the
 * margin on top of the cap (docs/metrics-recorder.8.md). */
gboolean
mrd_store_set_max_size(MrdStore *self, guint64 max_bytes, GError **error)
{
	gint64 page_size;
	guint64 cap_pages, wal_pages, db_pages;
	g_autofree char *sql = NULL;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	page_size = mrd_store_query_int(self->db, "PRAGMA page_size");
	if (page_size <= 0)
		page_size = 4096;
	cap_pages = max_bytes / (guint64)page_size;
	wal_pages = CLAMP(cap_pages / 8, 4, 256);
	/* one page less for the WAL's frame headers (24 bytes a page) */
	db_pages = cap_pages > wal_pages + 1 + 8 ? cap_pages - wal_pages - 1 : 8;
	sql = g_strdup_printf("PRAGMA max_page_count = %" G_GUINT64_FORMAT ";"
			      "PRAGMA wal_autocheckpoint = %" G_GUINT64_FORMAT ";"
			      "PRAGMA journal_size_limit = %" G_GUINT64_FORMAT,
			      db_pages, wal_pages, wal_pages * (guint64)(page_size + 24) + 32);
	return exec_sql(self, sql, error);
}

/* deletes aggregates of weeks before @oldest_week ('YYYY-MM-DD'); returns
 * in @n_events how many events they held */
gboolean
mrd_store_prune(MrdStore *self, const char *oldest_week, guint64 *n_events, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	*n_events = 0;
	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (sqlite3_prepare_v2(self->db,
			       "SELECT coalesce(sum(count), 0) FROM aggregate WHERE week < ?1", -1,
			       &stmt, NULL) != SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot remove old data from the metrics store"));
	sqlite3_bind_text(stmt, 1, oldest_week, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*n_events = (guint64)sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (*n_events == 0)
		return TRUE;
	if (sqlite3_prepare_v2(self->db, "DELETE FROM aggregate WHERE week < ?1", -1, &stmt,
			       NULL) != SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot remove old data from the metrics store"));
	sqlite3_bind_text(stmt, 1, oldest_week, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return mrd_store_set_error(self, error,
					   _("Cannot remove old data from the metrics store"));
	return TRUE;
}

/* adds @counts (reason → guint64 *) to the stored drop counters, in one
 * transaction */
gboolean
mrd_store_add_drops(MrdStore *self, GHashTable *counts, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	GHashTableIter iter;
	gpointer key, value;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(counts != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (g_hash_table_size(counts) == 0)
		return TRUE;
	if (!exec_sql(self, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (sqlite3_prepare_v2(self->db,
			       "INSERT INTO drops (reason, count) VALUES (?1, ?2) "
			       "ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count",
			       -1, &stmt, NULL) != SQLITE_OK) {
		mrd_store_set_error(self, error,
				    _("Cannot count the dropped events in the metrics store"));
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	g_hash_table_iter_init(&iter, counts);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, (sqlite3_int64) * (guint64 *)value);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			mrd_store_set_error(
				self, error,
				_("Cannot count the dropped events in the metrics store"));
			sqlite3_finalize(stmt);
			sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
			return FALSE;
		}
	}
	sqlite3_finalize(stmt);
	if (!exec_sql(self, "COMMIT", error)) {
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	return TRUE;
}

/* the stored drop counters that are not 0, as a{st} */
GVariant *
mrd_store_get_drops(MrdStore *self, GError **error)
{
	GVariantBuilder builder;
	sqlite3_stmt *stmt = NULL;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!mrd_store_check_open(self, error))
		return NULL;
	if (sqlite3_prepare_v2(self->db,
			       "SELECT reason, count FROM drops WHERE count > 0 ORDER BY reason",
			       -1, &stmt, NULL) != SQLITE_OK) {
		mrd_store_set_error(
			self, error,
			_("Cannot read the counts of dropped events in the metrics store"));
		return NULL;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{st}"));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_variant_builder_add(&builder, "{st}", (const char *)sqlite3_column_text(stmt, 0),
				      (guint64)sqlite3_column_int64(stmt, 1));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		g_variant_builder_clear(&builder);
		mrd_store_set_error(
			self, error,
			_("Cannot read the counts of dropped events in the metrics store"));
		return NULL;
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* the database handle, for the outbox which shares the file (and so is
 * deleted with it when consent is withdrawn) */
sqlite3 *
mrd_store_get_db(MrdStore *self)
{
	g_return_val_if_fail(MRD_IS_STORE(self), NULL);
	return self->db;
}

static gboolean
mrd_store_check_open(MrdStore *self, GError **error)
{
	if (self->db != NULL)
		return TRUE;
	g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("The metrics store is closed"));
	return FALSE;
}

/* deltas written by one statement: fewer statements to run, as each costs
 * more than the row it writes */
#define ROWS_PER_STATEMENT 32

/* binds @delta to the parameters of row @row of @stmt */
static void
bind_delta(sqlite3_stmt *stmt, int row, const MrdDelta *delta, const char *week, guint32 uid)
{
	gsize payload_len = 0;
	const void *payload = g_bytes_get_data(delta->payload, &payload_len);
	int base = row * 7;

	sqlite3_bind_blob(stmt, base + 1, delta->id, METRICS_UUID_SIZE, SQLITE_STATIC);
	sqlite3_bind_text(stmt, base + 2, week, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, base + 3, uid);
	sqlite3_bind_int(stmt, base + 4, delta->kind);
	sqlite3_bind_blob(stmt, base + 5, payload != NULL ? payload : "", (int)payload_len,
			  SQLITE_STATIC);
	sqlite3_bind_int64(stmt, base + 6, (sqlite3_int64)delta->count);
	sqlite3_bind_int64(stmt, base + 7, (sqlite3_int64)delta->duration);
}

/* the upsert of @n_rows deltas in one statement */
static sqlite3_stmt *
prepare_upsert(MrdStore *self, guint n_rows)
{
	g_autoptr(GString) sql = g_string_new("INSERT INTO aggregate (metric, week, uid, kind, "
					      "payload, count, duration) VALUES ");
	sqlite3_stmt *stmt = NULL;

	for (guint i = 0; i < n_rows; i++)
		g_string_append(sql, i == 0 ? "(?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?)");
	g_string_append(sql, " ON CONFLICT (metric, week, uid, kind, payload) DO UPDATE SET "
			     "count = count + excluded.count, "
			     "duration = duration + excluded.duration");
	if (sqlite3_prepare_v3(self->db, sql->str, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
	    SQLITE_OK)
		return NULL;
	return stmt;
}

/* adds a batch's deltas for @uid in one transaction: all or nothing */
gboolean
mrd_store_add(MrdStore *self, guint32 uid, GArray *deltas, GError **error)
{
	/* a batch is nearly always of one week: each is formatted once */
	char weeks[ROWS_PER_STATEMENT][16];
	gint64 week_start = G_MININT64;
	gboolean ok = TRUE;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(deltas != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (self->upsert_many == NULL &&
	    (self->upsert_many = prepare_upsert(self, ROWS_PER_STATEMENT)) == NULL)
		return mrd_store_set_error(self, error,
					   _("Cannot prepare a query on the metrics store"));
	if (!exec_sql(self, "BEGIN IMMEDIATE", error))
		return FALSE;
	for (guint i = 0; ok && i < deltas->len;) {
		guint n = MIN(deltas->len - i, ROWS_PER_STATEMENT);
		sqlite3_stmt *stmt = n == ROWS_PER_STATEMENT ? self->upsert_many : self->upsert;

		if (stmt != self->upsert_many)
			n = 1;
		sqlite3_reset(stmt);
		for (guint r = 0; r < n; r++) {
			const MrdDelta *delta = &g_array_index(deltas, MrdDelta, i + r);

			if (r == 0 || delta->week != week_start) {
				g_autofree char *week = mrd_week_to_string(delta->week);

				g_strlcpy(weeks[r], week, sizeof(weeks[r]));
				week_start = delta->week;
			} else {
				memcpy(weeks[r], weeks[r - 1], sizeof(weeks[r]));
			}
			bind_delta(stmt, (int)r, delta, weeks[r], uid);
		}
		ok = sqlite3_step(stmt) == SQLITE_DONE;
		i += n;
	}
	if (!ok) {
		mrd_store_set_error(self, error, _("Cannot store the events in the metrics store"));
		sqlite3_reset(self->upsert_many);
		sqlite3_reset(self->upsert);
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	sqlite3_reset(self->upsert_many);
	sqlite3_clear_bindings(self->upsert_many);
	sqlite3_reset(self->upsert);
	sqlite3_clear_bindings(self->upsert);
	if (!exec_sql(self, "COMMIT", error)) {
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	return TRUE;
}

static GVariant *
payload_from_blob(const void *data, int len)
{
	g_autoptr(GBytes) bytes = g_bytes_new(data, len > 0 ? (gsize)len : 0);
	g_autoptr(GVariant) maybe =
		g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE("mv"), bytes, FALSE));
	g_autoptr(GVariant) boxed = g_variant_get_maybe(maybe);

	if (boxed == NULL)
		return NULL;
	return g_variant_get_variant(boxed);
}

/* returns a(ussuavtt): the rows of @uid, or of everybody */
GVariant *
mrd_store_dump(MrdStore *self, gboolean all_users, guint32 uid, GError **error)
{
	GVariantBuilder builder;
	sqlite3_stmt *stmt = NULL;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!mrd_store_check_open(self, error))
		return NULL;
	if (sqlite3_prepare_v2(self->db,
			       "SELECT uid, metric, week, kind, payload, count, duration "
			       "FROM aggregate WHERE ?1 OR uid = ?2 "
			       "ORDER BY metric, week, uid, kind, payload",
			       -1, &stmt, NULL) != SQLITE_OK) {
		mrd_store_set_error(self, error, _("Cannot read the metrics store"));
		return NULL;
	}
	sqlite3_bind_int(stmt, 1, all_users ? 1 : 0);
	sqlite3_bind_int64(stmt, 2, uid);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_AGGREGATE));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		char id[METRICS_UUID_STRING_LENGTH + 1];
		g_autoptr(GVariant) payload = NULL;
		GVariant *boxed = NULL;

		if (sqlite3_column_bytes(stmt, 1) != METRICS_UUID_SIZE)
			continue;
		metrics_uuid_unparse(sqlite3_column_blob(stmt, 1), id);
		payload = payload_from_blob(sqlite3_column_blob(stmt, 4),
					    sqlite3_column_bytes(stmt, 4));
		if (payload != NULL)
			boxed = g_variant_new_variant(payload);

		g_variant_builder_add(
			&builder, "(ussu@avtt)", (guint32)sqlite3_column_int64(stmt, 0), id,
			(const char *)sqlite3_column_text(stmt, 2),
			(guint32)sqlite3_column_int(stmt, 3),
			g_variant_new_array(G_VARIANT_TYPE_VARIANT, &boxed, boxed != NULL ? 1 : 0),
			(guint64)sqlite3_column_int64(stmt, 5),
			(guint64)sqlite3_column_int64(stmt, 6));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		g_variant_builder_clear(&builder);
		mrd_store_set_error(self, error, _("Cannot read the metrics store"));
		return NULL;
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

gboolean
mrd_store_clear(MrdStore *self, gboolean all_users, guint32 uid, guint64 *removed, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (sqlite3_prepare_v2(self->db, "DELETE FROM aggregate WHERE ?1 OR uid = ?2", -1, &stmt,
			       NULL) != SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot delete data from the metrics store"));
	sqlite3_bind_int(stmt, 1, all_users ? 1 : 0);
	sqlite3_bind_int64(stmt, 2, uid);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return mrd_store_set_error(self, error,
					   _("Cannot delete data from the metrics store"));
	if (removed != NULL)
		*removed = (guint64)sqlite3_changes(self->db);
	return TRUE;
}

gboolean
mrd_store_get_totals(MrdStore *self, guint64 *n_keys, guint64 *n_events, GError **error)
{
	sqlite3_stmt *stmt = NULL;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (sqlite3_prepare_v2(self->db, "SELECT count(*), coalesce(sum(count), 0) FROM aggregate",
			       -1, &stmt, NULL) != SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot count the events in the metrics store"));
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return mrd_store_set_error(self, error,
					   _("Cannot count the events in the metrics store"));
	}
	*n_keys = (guint64)sqlite3_column_int64(stmt, 0);
	*n_events = (guint64)sqlite3_column_int64(stmt, 1);
	sqlite3_finalize(stmt);
	return TRUE;
}

/* the events of one metric in one week (YYYY-MM-DD of its Monday), all
 * users together: where the allowlist's weekly cap starts after a restart */
gboolean
mrd_store_sum_count(MrdStore *self,
		    const guint8 *metric_id,
		    const char *week,
		    guint64 *sum,
		    GError **error)
{
	sqlite3_stmt *stmt = NULL;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(metric_id != NULL && week != NULL && sum != NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (sqlite3_prepare_v2(self->db,
			       "SELECT coalesce(sum(count), 0) FROM aggregate "
			       "WHERE metric = ?1 AND week = ?2",
			       -1, &stmt, NULL) != SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot count the events in the metrics store"));
	sqlite3_bind_blob(stmt, 1, metric_id, METRICS_UUID_SIZE, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, week, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return mrd_store_set_error(self, error,
					   _("Cannot count the events in the metrics store"));
	}
	*sum = (guint64)sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return TRUE;
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

/* how many weeks the aggregates span, and the Monday of the oldest (in
 * usec, 0 when nothing is stored); 0 for both when SQLite cannot tell */
static void
mrd_store_count_weeks(MrdStore *self, guint64 *n_weeks, gint64 *oldest_week)
{
	sqlite3_stmt *stmt = NULL;

	*n_weeks = 0;
	*oldest_week = 0;
	if (self->db == NULL)
		return;
	if (sqlite3_prepare_v2(self->db, "SELECT COUNT(DISTINCT week), MIN(week) FROM aggregate",
			       -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		const char *week = (const char *)sqlite3_column_text(stmt, 1);

		*n_weeks = (guint64)MAX(sqlite3_column_int64(stmt, 0), 0);
		if (week == NULL || !mrd_week_from_string(week, oldest_week))
			*oldest_week = 0;
	}
	sqlite3_finalize(stmt);
}

/**
 * mrd_store_get_usage:
 * @self: the store
 * @usage: (out caller-allocates): the figures
 * @error: where a failure to count the aggregates goes
 *
 * What the store holds and how much room it takes, for GetStatus. Only
 * counting the aggregates can fail; the weeks and pages are best effort
 * and stay 0 when SQLite cannot tell them.
 *
 * Returns: whether the aggregates could be counted
 */
gboolean
mrd_store_get_usage(MrdStore *self, MrdStoreUsage *usage, GError **error)
{
	gint64 max_pages, used_pages;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(usage != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	memset(usage, 0, sizeof(*usage));
	if (!mrd_store_get_totals(self, &usage->n_keys, &usage->n_events, error))
		return FALSE;
	usage->file_bytes = mrd_store_get_size(self);
	mrd_store_count_weeks(self, &usage->n_weeks, &usage->oldest_week);
	/* the cap counts the pages in use: the file may be larger (free
	 * pages, the write-ahead log) */
	max_pages = mrd_store_query_int(self->db, "PRAGMA max_page_count");
	used_pages = mrd_store_query_int(self->db, "PRAGMA page_count") -
		     mrd_store_query_int(self->db, "PRAGMA freelist_count");
	usage->used_bytes = (guint64)MAX(used_pages, 0) *
			    (guint64)MAX(mrd_store_query_int(self->db, "PRAGMA page_size"), 0);
	/* a page split needs more than one free page: within 3 % (at least
	 * two pages) of the cap, inserts fail */
	usage->full = max_pages > 0 && max_pages - used_pages <= MAX(2, max_pages / 32);
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

/* overwrites the whole length of @file with zeros and syncs it, so that
 * removing it afterwards does not leave its bytes in freed disk blocks (nor
 * in another hard link to it); on a copy-on-write file system or behind an
 * SSD's wear levelling this is the best a program can do. A file that is not
 * there, or is not a regular file, is left to the unlink that follows. */
static void
zero_fill(const char *file)
{
	static const guint8 zeros[64 * 1024] = {0};
	struct stat buf;
	off_t offset = 0;
	int fd;

	fd = g_open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0);
	if (fd < 0) {
		if (errno != ENOENT && errno != EISDIR && errno != ELOOP)
			g_warning("cannot overwrite %s before deleting it: %s", file,
				  g_strerror(errno));
		return;
	}
	if (fstat(fd, &buf) != 0 || !S_ISREG(buf.st_mode)) {
		close(fd);
		return;
	}
	while (offset < buf.st_size) {
		ssize_t n = pwrite(fd, zeros,
				   (size_t)MIN(buf.st_size - offset, (off_t)sizeof(zeros)), offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_warning("cannot overwrite %s before deleting it: %s", file,
				  n < 0 ? g_strerror(errno) : "short write");
			break;
		}
		offset += n;
	}
	if (fdatasync(fd) != 0)
		g_warning("cannot sync %s before deleting it: %s", file, g_strerror(errno));
	close(fd);
}

/* removes @file after overwriting it; a missing file is fine */
static gboolean
shred_file(const char *file, GError **error)
{
	zero_fill(file);
	if (g_unlink(file) != 0 && errno != ENOENT) {
		int saved_errno = errno;
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE, _("Cannot delete %s: %s"),
			    file, g_strerror(saved_errno));
		return FALSE;
	}
	return TRUE;
}

/* empties every table with secure_delete on (deleted content overwritten
 * with zeros in the database pages) and checkpoints the WAL into the
 * database; the WAL file is kept at its length (not truncated, which would
 * free its blocks unwritten) so that mrd_store_delete_files() overwrites
 * it; the store is to be closed and its files deleted next */
gboolean
mrd_store_wipe(MrdStore *self, GError **error)
{
	g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func(g_free);
	sqlite3_stmt *stmt = NULL;
	int persist = 1;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (!exec_sql(self, "PRAGMA secure_delete = ON", error) ||
	    !exec_sql(self, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (sqlite3_prepare_v2(self->db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1,
			       &stmt, NULL) != SQLITE_OK) {
		mrd_store_set_error(self, error, _("Cannot list the tables of the metrics store"));
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(tables, g_strdup((const char *)sqlite3_column_text(stmt, 0)));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		mrd_store_set_error(self, error, _("Cannot list the tables of the metrics store"));
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	for (guint i = 0; i < tables->len; i++) {
		char *sql = sqlite3_mprintf("DELETE FROM \"%w\"",
					    (const char *)g_ptr_array_index(tables, i));
		gboolean ok = exec_sql(self, sql, error);

		sqlite3_free(sql);
		if (!ok) {
			sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
			return FALSE;
		}
	}
	if (!exec_sql(self, "COMMIT", error)) {
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	if (sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL) !=
	    SQLITE_OK)
		return mrd_store_set_error(self, error,
					   _("Cannot flush the journal of the metrics store"));
	/* closing must neither delete nor truncate the WAL: it is overwritten
	 * before it is removed */
	if (!exec_sql(self, "PRAGMA journal_size_limit = -1", error))
		return FALSE;
	sqlite3_file_control(self->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	return TRUE;
}

static gboolean
delete_corrupt_copies(const char *path, GError **error)
{
	g_autofree char *dirname = g_path_get_dirname(path);
	g_autofree char *prefix = NULL;
	g_autoptr(GDir) dir = g_dir_open(dirname, 0, NULL);
	const char *name;

	if (dir == NULL)
		return TRUE;
	{
		g_autofree char *basename = g_path_get_basename(path);
		prefix = g_strconcat(basename, ".corrupt-", NULL);
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *file = NULL;

		if (!g_str_has_prefix(name, prefix))
			continue;
		file = g_build_filename(dirname, name, NULL);
		if (!shred_file(file, error))
			return FALSE;
	}
	return TRUE;
}

/* removes the database with its WAL and journal files, and damaged copies
 * kept aside: they hold event data too; each is overwritten with zeros
 * first; missing files are fine. The store must be closed. */
gboolean
mrd_store_delete_files(const char *path, GError **error)
{
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};

	g_return_val_if_fail(path != NULL, FALSE);

	if (!delete_corrupt_copies(path, error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *file = g_strconcat(path, suffixes[i], NULL);

		if (!shred_file(file, error))
			return FALSE;
	}
	return TRUE;
}

static void
mrd_store_finalize(GObject *object)
{
	MrdStore *self = MRD_STORE(object);

	mrd_store_close(self);
	g_free(self->path);

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
