/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdOutbox"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "metrics-error.h"
#include "mrd-aggregator.h"
#include "mrd-drops.h"
#include "mrd-outbox.h"
#include "mrd-upload-body.h"

/*
 * The requests waiting to be uploaded, in the store's database.
 *
 * When a week has closed, one transaction turns its aggregates into the
 * exact events of the requests that will carry them (all users merged: the
 * uid never leaves the machine) and deletes the aggregates, so nothing is
 * counted twice or lost. The aggregates are deleted first, and a full
 * store may go past its cap by what the requests need beyond the room that
 * leaves: a closed week must reach the outbox. The same transaction
 * remembers the first week not frozen: events are never again put in a
 * frozen week, even when the wall clock goes back
 * (mrd_outbox_get_first_open_week()). A row leaves the outbox only in the
 * transaction that archives it after the server answered 2xx; a crash in
 * between resends that one request.
 *
 * The allowlist is asked again when a week is frozen and before each send:
 * a metric withdrawn or expired since it was recorded does not leave.
 */

struct _MrdOutbox {
	GObject parent_instance;
	MrdStore *store;	 /* (owned) */
	char *os_version;	 /* (owned) */
	MrdAllowlist *allowlist; /* (owned) (nullable) none: every metric may leave */
	guint retention_weeks;	 /* 0: pending requests are kept until sent */
	gint64 first_open_week;	 /* usec; 0 until a week was frozen */
	gboolean first_open_week_loaded;
};

enum {
	SIGNAL_DROPPED,
	N_SIGNALS,
};

static guint signals[N_SIGNALS];

G_DEFINE_TYPE(MrdOutbox, mrd_outbox, G_TYPE_OBJECT)

void
mrd_outbox_request_free(MrdOutboxRequest *request)
{
	if (request == NULL)
		return;
	g_free(request->week);
	g_clear_pointer(&request->events, g_bytes_unref);
	g_free(request->last_answer);
	g_free(request->checksum);
	g_free(request);
}

static sqlite3 *
get_db(MrdOutbox *self, GError **error)
{
	sqlite3 *db = mrd_store_get_db(self->store);

	if (db == NULL)
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
				    _("The metrics store is closed"));
	return db;
}

static gboolean
set_error(MrdOutbox *self, GError **error, const char *failure)
{
	return mrd_store_set_error(self->store, error, failure);
}

static gboolean
exec_sql(MrdOutbox *self, sqlite3 *db, const char *sql, GError **error)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return set_error(self, error,
				 _("Cannot update the upload queue in the metrics store"));
	return TRUE;
}

static void
rollback(sqlite3 *db)
{
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* the number of events (the sum of the counts) in serialized elements */
static guint64
events_total(const void *data, gsize len)
{
	g_autoptr(GBytes) bytes = g_bytes_new(data, len);
	g_autoptr(GVariant) events = mrd_upload_events_parse(bytes, NULL);
	GVariantIter iter;
	guint32 count = 0;
	guint64 total = 0;

	if (events == NULL)
		return 0;
	g_variant_iter_init(&iter, events);
	while (g_variant_iter_loop(&iter, "(@ay&s&su@mv)", NULL, NULL, NULL, &count, NULL))
		total += count;
	return total;
}

static void
count_drop(GHashTable *dropped, const char *reason, guint64 n)
{
	guint64 *count = g_hash_table_lookup(dropped, reason);

	if (count == NULL) {
		count = g_new0(guint64, 1);
		g_hash_table_insert(dropped, g_strdup(reason), count);
	}
	*count += n;
}

static void
emit_dropped(MrdOutbox *self, GHashTable *dropped)
{
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, dropped);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_message("dropped %" G_GUINT64_FORMAT " events before upload: %s",
			  *(guint64 *)value, (const char *)key);
		g_signal_emit(self, signals[SIGNAL_DROPPED], 0, (const char *)key,
			      *(guint64 *)value);
	}
}

/* whether the aggregates of @metric may still leave the machine at @now:
 * MRD_DROP_NONE if so, else why not. Without any allowlist (every file
 * missing or rejected: a broken installation, not a withdrawal) it cannot
 * tell: then @deferred is set, and nothing is to be frozen, sent or
 * dropped */
static MrdDropReason
check_metric(MrdOutbox *self, const guint8 *metric_id, gint64 now, gboolean *deferred)
{
	const MrdMetric *metric;

	*deferred = FALSE;
	if (self->allowlist == NULL)
		return MRD_DROP_NONE;
	if (mrd_allowlist_get_size(self->allowlist) == 0) {
		*deferred = TRUE;
		return MRD_DROP_NONE;
	}
	metric = mrd_allowlist_lookup(self->allowlist, metric_id);
	if (metric == NULL)
		return MRD_DROP_NOT_ALLOWLISTED;
	if (now >= metric->expires_end)
		return MRD_DROP_EXPIRED;
	return MRD_DROP_NONE;
}

static GVariant *
value_from_blob(const void *data, int len)
{
	g_autoptr(GBytes) bytes = g_bytes_new(data, len > 0 ? (gsize)len : 0);
	g_autoptr(GVariant) maybe =
		g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE("mv"), bytes, FALSE));
	g_autoptr(GVariant) boxed = g_variant_get_maybe(maybe);

	if (boxed == NULL)
		return NULL;
	return g_variant_get_variant(boxed);
}

static MrdOutboxRequest *
request_new(const guint8 *metric, const char *week, GPtrArray *elements)
{
	MrdOutboxRequest *request = g_new0(MrdOutboxRequest, 1);

	memcpy(request->metric, metric, METRICS_UUID_SIZE);
	request->week = g_strdup(week);
	request->events = mrd_upload_events_serialize(elements);
	request->n_events = elements->len;
	request->last_answer = g_strdup("");
	return request;
}

/* turns the aggregates of the weeks before @limit (or, with @open, from
 * @limit on) into requests, each under @max_request_size once gzipped;
 * those of metrics the allowlist refuses at @now are left out and counted
 * in @dropped (nullable); @deferred (nullable) tells whether the allowlist
 * could not decide for some (those are kept in a preview) */
static GPtrArray *
build_requests(MrdOutbox *self,
	       const char *limit,
	       gboolean open,
	       gsize max_request_size,
	       gint64 now,
	       GHashTable *dropped,
	       gboolean *deferred,
	       GError **error)
{
	sqlite3 *db = get_db(self, error);
	sqlite3_stmt *stmt = NULL;
	g_autoptr(GPtrArray) requests =
		g_ptr_array_new_with_free_func((GDestroyNotify)mrd_outbox_request_free);
	g_autoptr(GPtrArray) elements =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	guint8 metric[METRICS_UUID_SIZE] = {0};
	g_autofree char *week = NULL;
	gsize budget = mrd_upload_raw_budget(max_request_size);
	gsize used = 0;
	int rc;

	if (db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db,
			       open ? "SELECT metric, week, kind, payload, sum(count), "
				      "sum(duration) FROM aggregate WHERE week >= ?1 "
				      "GROUP BY metric, week, kind, payload "
				      "ORDER BY metric, week, kind, payload" :
				      "SELECT metric, week, kind, payload, sum(count), "
				      "sum(duration) FROM aggregate WHERE week < ?1 "
				      "GROUP BY metric, week, kind, payload "
				      "ORDER BY metric, week, kind, payload",
			       -1, &stmt, NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return NULL;
	}
	sqlite3_bind_text(stmt, 1, limit, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const guint8 *row_metric = sqlite3_column_blob(stmt, 0);
		const char *row_week = (const char *)sqlite3_column_text(stmt, 1);
		g_autoptr(GVariant) value = NULL;
		g_autoptr(GVariant) element = NULL;
		gboolean cannot_tell = FALSE;
		MrdDropReason reason;
		gsize cost;

		if (sqlite3_column_bytes(stmt, 0) != METRICS_UUID_SIZE || row_week == NULL)
			continue;
		reason = check_metric(self, row_metric, now, &cannot_tell);
		if (cannot_tell && deferred != NULL)
			*deferred = TRUE;
		if (reason != MRD_DROP_NONE) {
			if (dropped != NULL)
				count_drop(dropped, mrd_drop_reason_to_string(reason),
					   (guint64)sqlite3_column_int64(stmt, 4));
			continue;
		}
		value = value_from_blob(sqlite3_column_blob(stmt, 3),
					sqlite3_column_bytes(stmt, 3));
		element = mrd_upload_element_new(row_metric, self->os_version, row_week,
						 (MetricsEventKind)sqlite3_column_int(stmt, 2),
						 (guint64)sqlite3_column_int64(stmt, 4),
						 (guint64)sqlite3_column_int64(stmt, 5), value);
		cost = mrd_upload_element_cost(element);

		/* one request per (metric, week), split at the size cap */
		if (elements->len > 0 && (memcmp(metric, row_metric, METRICS_UUID_SIZE) != 0 ||
					  g_strcmp0(week, row_week) != 0 || used + cost > budget)) {
			g_ptr_array_add(requests, request_new(metric, week, elements));
			g_ptr_array_set_size(elements, 0);
			used = 0;
		}
		memcpy(metric, row_metric, METRICS_UUID_SIZE);
		g_free(week);
		week = g_strdup(row_week);
		g_ptr_array_add(elements, g_steal_pointer(&element));
		used += cost;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return NULL;
	}
	if (elements->len > 0)
		g_ptr_array_add(requests, request_new(metric, week, elements));
	return g_steal_pointer(&requests);
}

/* a random moment in the window after the week closed, or after now if the
 * daemon noticed late: a backlog must not leave all at once either */
static gint64
random_due(const char *week, gint64 now, guint window_days)
{
	gint64 start = 0;
	gint64 base;

	if (!mrd_week_from_string(week, &start))
		start = mrd_week_start(now) - MRD_WEEK_USEC;
	base = MAX(now, start + MRD_WEEK_USEC);
	if (window_days == 0)
		return base;
	return base + (gint64)g_random_double_range(0, (double)window_days * G_TIME_SPAN_DAY);
}

/* lets a write of @n_rows rows of about @bytes take the database past its
 * page cap (mrd_store_set_max_size()) by as many pages as it could need:
 * what the outbox writes must fit even in a full store, or a closed week
 * would wait there until the retention limit drops it, and a request the
 * server has would be sent again. Freezing deletes the aggregates first,
 * but the pages they leave are whole free pages only where no aggregate
 * of an open week shared them. Returns the cap to put back, 0 if none */
static gint64
raise_page_cap(sqlite3 *db, guint64 bytes, guint n_rows)
{
	gint64 cap = mrd_store_query_int(db, "PRAGMA max_page_count");
	gint64 page_size = MAX(mrd_store_query_int(db, "PRAGMA page_size"), 512);
	gint64 pages;
	g_autofree char *sql = NULL;

	if (cap <= 0)
		return 0;
	/* overflow pages are not quite full, and the table grows interior
	 * pages as it splits */
	pages = (gint64)(bytes / (guint64)(page_size / 2)) + 2 * (gint64)n_rows + 8;
	sql = g_strdup_printf("PRAGMA max_page_count = %" G_GINT64_FORMAT,
			      MIN(cap + pages, (gint64)G_MAXUINT32));
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return 0;
	return cap;
}

/* puts the page cap back; SQLite keeps it no lower than the database's
 * size, so a freeze that went past it lets the store keep that room (see
 * docs/metrics-recorder.8.md) */
static void
restore_page_cap(sqlite3 *db, gint64 cap)
{
	g_autofree char *sql = NULL;

	if (cap <= 0)
		return;
	sql = g_strdup_printf("PRAGMA max_page_count = %" G_GINT64_FORMAT, cap);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* freezes every closed week (per @now) into outbox requests, in one
 * transaction with the deletion of its aggregates */
static gboolean
freeze_requests(MrdOutbox *self,
		sqlite3 *db,
		const char *limit,
		GPtrArray *requests,
		gint64 now,
		guint window_days,
		GError **error);

gboolean
mrd_outbox_freeze(MrdOutbox *self,
		  gint64 now,
		  guint window_days,
		  gsize max_request_size,
		  guint *n_requests,
		  GError **error)
{
	sqlite3 *db = get_db(self, error);
	g_autofree char *limit = mrd_week_to_string(mrd_week_start(now));
	g_autoptr(GPtrArray) requests = NULL;
	g_autoptr(GHashTable) dropped =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gboolean deferred = FALSE;
	guint64 bytes = 0;
	gint64 cap;
	gboolean ok;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (n_requests != NULL)
		*n_requests = 0;
	if (db == NULL)
		return FALSE;
	if (!exec_sql(self, db, "BEGIN IMMEDIATE", error))
		return FALSE;
	requests = build_requests(self, limit, FALSE, max_request_size, now, dropped, &deferred,
				  error);
	if (requests == NULL) {
		rollback(db);
		return FALSE;
	}
	/* the allowlist cannot be asked: freeze nothing, lose nothing */
	if (deferred) {
		g_debug("no allowlist to check the closed weeks against: not freezing them yet");
		rollback(db);
		return TRUE;
	}
	if (requests->len == 0 && g_hash_table_size(dropped) == 0) {
		rollback(db);
		return TRUE;
	}
	for (guint i = 0; i < requests->len; i++)
		bytes += g_bytes_get_size(
			((MrdOutboxRequest *)g_ptr_array_index(requests, i))->events);
	cap = raise_page_cap(db, bytes, requests->len);
	ok = freeze_requests(self, db, limit, requests, now, window_days, error);
	restore_page_cap(db, cap);
	if (!ok)
		return FALSE;
	g_debug("froze the weeks before %s into %u requests", limit, requests->len);
	/* read again when next asked */
	self->first_open_week_loaded = FALSE;
	emit_dropped(self, dropped);
	if (n_requests != NULL)
		*n_requests = requests->len;
	return TRUE;
}

/* the rest of mrd_outbox_freeze(), in its transaction: deletes the
 * aggregates of the weeks before @limit, queues @requests and remembers
 * @limit; rolls back on error */
static gboolean
freeze_requests(MrdOutbox *self,
		sqlite3 *db,
		const char *limit,
		GPtrArray *requests,
		gint64 now,
		guint window_days,
		GError **error)
{
	sqlite3_stmt *insert = NULL;
	sqlite3_stmt *delete = NULL;
	sqlite3_stmt *update = NULL;

	/* the aggregates go first (build_requests() holds them), so that
	 * the requests reuse the room they leave */
	if (sqlite3_prepare_v2(db, "DELETE FROM aggregate WHERE week < ?1", -1, &delete, NULL) !=
	    SQLITE_OK) {
		set_error(self, error, _("Cannot prepare a query on the metrics store"));
		rollback(db);
		return FALSE;
	}
	sqlite3_bind_text(delete, 1, limit, -1, SQLITE_STATIC);
	if (sqlite3_step(delete) != SQLITE_DONE) {
		set_error(
			self, error,
			_("Cannot remove the aggregates queued for upload from the metrics store"));
		sqlite3_finalize(delete);
		rollback(db);
		return FALSE;
	}
	sqlite3_finalize(delete);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO outbox (metric, week, events, n_events, due, "
			       "next_try) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
			       -1, &insert, NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot prepare a query on the metrics store"));
		rollback(db);
		return FALSE;
	}
	for (guint i = 0; i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);
		gsize len = 0;
		const void *data = g_bytes_get_data(request->events, &len);

		sqlite3_reset(insert);
		sqlite3_bind_blob(insert, 1, request->metric, METRICS_UUID_SIZE, SQLITE_STATIC);
		sqlite3_bind_text(insert, 2, request->week, -1, SQLITE_STATIC);
		sqlite3_bind_blob(insert, 3, data, (int)len, SQLITE_STATIC);
		sqlite3_bind_int(insert, 4, (int)request->n_events);
		sqlite3_bind_int64(insert, 5, random_due(request->week, now, window_days));
		if (sqlite3_step(insert) != SQLITE_DONE) {
			set_error(self, error, _("Cannot queue an upload in the metrics store"));
			sqlite3_finalize(insert);
			rollback(db);
			return FALSE;
		}
	}
	sqlite3_finalize(insert);
	/* the first week still open, for the events to come: only moves
	 * forwards (mrd_outbox_get_first_open_week()) */
	if (sqlite3_prepare_v2(db,
			       "UPDATE state SET value = ?1 WHERE key = 'frozen-before' AND "
			       "value < ?1",
			       -1, &update, NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot prepare a query on the metrics store"));
		rollback(db);
		return FALSE;
	}
	sqlite3_bind_text(update, 1, limit, -1, SQLITE_STATIC);
	if (sqlite3_step(update) != SQLITE_DONE) {
		set_error(self, error, _("Cannot update the upload queue in the metrics store"));
		sqlite3_finalize(update);
		rollback(db);
		return FALSE;
	}
	sqlite3_finalize(update);
	if (!exec_sql(self, db, "COMMIT", error)) {
		rollback(db);
		return FALSE;
	}
	return TRUE;
}

/**
 * mrd_outbox_get_first_open_week:
 * @self: the outbox
 * @error: where a failure to read the store goes
 *
 * The Monday 00:00 UTC (usec) of the first week not yet frozen, as
 * remembered in the store, or 0 when no week was ever frozen (or on
 * error). New events go to this week when their own is earlier: after
 * the wall clock went back, the week it shows may already have left.
 *
 * Returns: the week's start, or 0
 */
gint64
mrd_outbox_get_first_open_week(MrdOutbox *self, GError **error)
{
	sqlite3 *db;
	sqlite3_stmt *stmt = NULL;
	gint64 week = 0;
	int rc;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), 0);

	if (self->first_open_week_loaded)
		return self->first_open_week;
	db = get_db(self, error);
	if (db == NULL)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM state WHERE key = 'frozen-before'", -1, &stmt,
			       NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return 0;
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *value = (const char *)sqlite3_column_text(stmt, 0);

		/* '' before any freeze; anything else unreadable counts as none */
		if (value == NULL || !mrd_week_from_string(value, &week))
			week = 0;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return 0;
	}
	self->first_open_week = week;
	self->first_open_week_loaded = TRUE;
	return week;
}

/* the requests the weeks not yet closed would produce now */
GPtrArray *
mrd_outbox_preview(MrdOutbox *self, gint64 now, gsize max_request_size, GError **error)
{
	g_autofree char *limit = mrd_week_to_string(mrd_week_start(now));
	GPtrArray *requests;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), NULL);

	requests = build_requests(self, limit, TRUE, max_request_size, now, NULL, NULL, error);
	for (guint i = 0; requests != NULL && i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);
		gint64 start = 0;

		request->state = MRD_OUTBOX_STATE_PREVIEW;
		if (mrd_week_from_string(request->week, &start))
			request->due = start + MRD_WEEK_USEC;
	}
	return requests;
}

#define OUTBOX_COLUMNS                                                                   \
	"id, metric, week, events, n_events, due, next_try, last_try, attempts, state, " \
	"last_status, last_answer"

static MrdOutboxRequest *
request_from_row(sqlite3_stmt *stmt)
{
	MrdOutboxRequest *request;

	if (sqlite3_column_bytes(stmt, 1) != METRICS_UUID_SIZE)
		return NULL;
	request = g_new0(MrdOutboxRequest, 1);
	request->id = sqlite3_column_int64(stmt, 0);
	memcpy(request->metric, sqlite3_column_blob(stmt, 1), METRICS_UUID_SIZE);
	request->week = g_strdup((const char *)sqlite3_column_text(stmt, 2));
	request->events =
		g_bytes_new(sqlite3_column_blob(stmt, 3), (gsize)sqlite3_column_bytes(stmt, 3));
	request->n_events = (guint)sqlite3_column_int(stmt, 4);
	request->due = sqlite3_column_int64(stmt, 5);
	request->next_try = sqlite3_column_int64(stmt, 6);
	request->last_try = sqlite3_column_int64(stmt, 7);
	request->attempts = (guint)sqlite3_column_int(stmt, 8);
	request->state = (MrdOutboxState)sqlite3_column_int(stmt, 9);
	request->last_status = (guint)sqlite3_column_int(stmt, 10);
	request->last_answer = g_strdup((const char *)sqlite3_column_text(stmt, 11));
	return request;
}

GPtrArray *
mrd_outbox_list(MrdOutbox *self, GError **error)
{
	sqlite3 *db = get_db(self, error);
	sqlite3_stmt *stmt = NULL;
	g_autoptr(GPtrArray) requests =
		g_ptr_array_new_with_free_func((GDestroyNotify)mrd_outbox_request_free);
	int rc;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), NULL);

	if (db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db, "SELECT " OUTBOX_COLUMNS " FROM outbox ORDER BY next_try, id",
			       -1, &stmt, NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return NULL;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		MrdOutboxRequest *request = request_from_row(stmt);
		if (request != NULL)
			g_ptr_array_add(requests, request);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return NULL;
	}
	return g_steal_pointer(&requests);
}

/* the pending request with the lowest id above @after_id whose next try is
 * before @due_before; NULL without error when there is none */
MrdOutboxRequest *
mrd_outbox_next(MrdOutbox *self, gint64 due_before, gint64 after_id, GError **error)
{
	sqlite3 *db = get_db(self, error);
	sqlite3_stmt *stmt = NULL;
	MrdOutboxRequest *request = NULL;
	int rc;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), NULL);

	if (db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state = 0 AND "
			       "next_try <= ?1 AND id > ?2 ORDER BY id LIMIT 1",
			       -1, &stmt, NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return NULL;
	}
	sqlite3_bind_int64(stmt, 1, due_before);
	sqlite3_bind_int64(stmt, 2, after_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		request = request_from_row(stmt);
	else if (rc != SQLITE_DONE)
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
	sqlite3_finalize(stmt);
	return request;
}

static gboolean
update_row(MrdOutbox *self,
	   const char *sql,
	   gint64 id,
	   gint64 a,
	   gint64 b,
	   const char *text,
	   GError **error)
{
	sqlite3 *db = get_db(self, error);
	sqlite3_stmt *stmt = NULL;
	gint64 cap;
	int rc;

	/* parameters a statement does not use are ignored (SQLITE_RANGE) */
	if (db == NULL)
		return FALSE;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return set_error(self, error, _("Cannot prepare a query on the metrics store"));
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, a);
	sqlite3_bind_int64(stmt, 3, b);
	sqlite3_bind_text(stmt, 4, text != NULL ? text : "", -1, SQLITE_STATIC);
	/* a row that grows may need a page of its own */
	cap = raise_page_cap(db, text != NULL ? strlen(text) : 0, 1);
	rc = sqlite3_step(stmt);
	restore_page_cap(db, cap);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return set_error(self, error,
				 _("Cannot update the upload queue in the metrics store"));
	return TRUE;
}

/* saved before the request leaves: if the daemon dies during it, the next
 * start waits for the back-off instead of hammering the server */
gboolean
mrd_outbox_begin_attempt(MrdOutbox *self, gint64 id, gint64 now, gint64 next_try, GError **error)
{
	return update_row(self,
			  "UPDATE outbox SET attempts = attempts + 1, last_try = ?2, "
			  "next_try = ?3 WHERE id = ?1",
			  id, now, next_try, NULL, error);
}

gboolean
mrd_outbox_retry_later(MrdOutbox *self,
		       gint64 id,
		       gint64 next_try,
		       guint status,
		       const char *answer,
		       GError **error)
{
	return update_row(self,
			  "UPDATE outbox SET next_try = ?2, last_status = ?3, last_answer = ?4 "
			  "WHERE id = ?1",
			  id, next_try, status, answer, error);
}

gboolean
mrd_outbox_set_aside(MrdOutbox *self, gint64 id, guint status, const char *answer, GError **error)
{
	return update_row(self,
			  "UPDATE outbox SET state = 1, last_status = ?3, last_answer = ?4 "
			  "WHERE id = ?1",
			  id, 0, status, answer, error);
}

/* deletes @request and archives what was sent, in one transaction */
static gboolean
archive_sent(MrdOutbox *self,
	     sqlite3 *db,
	     const MrdOutboxRequest *request,
	     gint64 now,
	     guint status,
	     const char *answer,
	     GBytes *body,
	     const char *checksum,
	     gsize compressed_size,
	     GError **error)
{
	sqlite3_stmt *stmt = NULL;
	gsize len = 0;
	const void *data = g_bytes_get_data(body, &len);
	int rc;

	if (!exec_sql(self, db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!update_row(self, "DELETE FROM outbox WHERE id = ?1", request->id, 0, 0, NULL, error)) {
		rollback(db);
		return FALSE;
	}
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO sent (metric, week, sent, status, answer, checksum, "
			       "body, compressed_size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			       -1, &stmt, NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot prepare a query on the metrics store"));
		rollback(db);
		return FALSE;
	}
	sqlite3_bind_blob(stmt, 1, request->metric, METRICS_UUID_SIZE, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, request->week, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_int(stmt, 4, (int)status);
	sqlite3_bind_text(stmt, 5, answer != NULL ? answer : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, checksum, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 7, data != NULL ? data : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 8, (sqlite3_int64)compressed_size);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_error(self, error,
			  _("Cannot keep the record of a sent upload in the metrics store"));
		rollback(db);
		return FALSE;
	}
	if (!exec_sql(self, db, "COMMIT", error)) {
		rollback(db);
		return FALSE;
	}
	return TRUE;
}

/* the server accepted @request: delete it and archive what was sent, in one
 * transaction */
gboolean
mrd_outbox_complete(MrdOutbox *self,
		    const MrdOutboxRequest *request,
		    gint64 now,
		    guint status,
		    const char *answer,
		    GBytes *body,
		    const char *checksum,
		    gsize compressed_size,
		    GError **error)
{
	sqlite3 *db = get_db(self, error);
	gsize len = g_bytes_get_size(body);
	gint64 cap;
	gboolean ok;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (db == NULL)
		return FALSE;
	/* the request's row goes first, but the archive keeps the whole body */
	cap = raise_page_cap(db, len + (answer != NULL ? strlen(answer) : 0), 1);
	ok = archive_sent(self, db, request, now, status, answer, body, checksum, compressed_size,
			  error);
	restore_page_cap(db, cap);
	return ok;
}

GPtrArray *
mrd_outbox_list_sent(MrdOutbox *self, GError **error)
{
	sqlite3 *db = get_db(self, error);
	sqlite3_stmt *stmt = NULL;
	g_autoptr(GPtrArray) requests =
		g_ptr_array_new_with_free_func((GDestroyNotify)mrd_outbox_request_free);
	int rc;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), NULL);

	if (db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, metric, week, sent, status, answer, checksum, body, "
			       "compressed_size FROM sent ORDER BY sent, id",
			       -1, &stmt, NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return NULL;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		MrdOutboxRequest *request;

		if (sqlite3_column_bytes(stmt, 1) != METRICS_UUID_SIZE)
			continue;
		request = g_new0(MrdOutboxRequest, 1);
		request->id = sqlite3_column_int64(stmt, 0);
		memcpy(request->metric, sqlite3_column_blob(stmt, 1), METRICS_UUID_SIZE);
		request->week = g_strdup((const char *)sqlite3_column_text(stmt, 2));
		request->sent = sqlite3_column_int64(stmt, 3);
		request->last_status = (guint)sqlite3_column_int(stmt, 4);
		request->last_answer = g_strdup((const char *)sqlite3_column_text(stmt, 5));
		request->checksum = g_strdup((const char *)sqlite3_column_text(stmt, 6));
		request->events = g_bytes_new(sqlite3_column_blob(stmt, 7),
					      (gsize)sqlite3_column_bytes(stmt, 7));
		request->compressed_size = (guint64)sqlite3_column_int64(stmt, 8);
		g_ptr_array_add(requests, request);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		return NULL;
	}
	return g_steal_pointer(&requests);
}

/* deletes the pending requests of weeks before @oldest_week, which could
 * not be sent within the retention limit, and counts their events in
 * @dropped; one transaction */
static gboolean
prune_unsent(MrdOutbox *self, const char *oldest_week, GHashTable *dropped, GError **error)
{
	sqlite3 *db = get_db(self, error);
	sqlite3_stmt *stmt = NULL;
	guint64 total = 0;
	int n_deleted;
	int rc;

	if (db == NULL)
		return FALSE;
	if (!exec_sql(self, db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (sqlite3_prepare_v2(db, "SELECT events FROM outbox WHERE state = 0 AND week < ?1", -1,
			       &stmt, NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		rollback(db);
		return FALSE;
	}
	sqlite3_bind_text(stmt, 1, oldest_week, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		total += events_total(sqlite3_column_blob(stmt, 0),
				      (gsize)sqlite3_column_bytes(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_error(self, error, _("Cannot read the upload queue in the metrics store"));
		rollback(db);
		return FALSE;
	}
	if (sqlite3_prepare_v2(db, "DELETE FROM outbox WHERE state = 0 AND week < ?1", -1, &stmt,
			       NULL) != SQLITE_OK) {
		set_error(self, error, _("Cannot prepare a query on the metrics store"));
		rollback(db);
		return FALSE;
	}
	sqlite3_bind_text(stmt, 1, oldest_week, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	n_deleted = sqlite3_changes(db);
	if (rc != SQLITE_DONE) {
		set_error(self, error, _("Cannot drop old upload requests from the metrics store"));
		rollback(db);
		return FALSE;
	}
	if (!exec_sql(self, db, "COMMIT", error)) {
		rollback(db);
		return FALSE;
	}
	if (n_deleted > 0)
		count_drop(dropped, mrd_drop_reason_to_string(MRD_DROP_RETENTION), total);
	return TRUE;
}

/* forgets what was sent, and what was set aside, more than 90 days ago;
 * with a retention limit, drops what could not be sent within it */
gboolean
mrd_outbox_prune(MrdOutbox *self, gint64 now, GError **error)
{
	g_autoptr(GHashTable) dropped =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (!update_row(self, "DELETE FROM sent WHERE sent < ?2", 0, now - MRD_OUTBOX_KEEP, 0, NULL,
			error) ||
	    !update_row(self, "DELETE FROM outbox WHERE state = 1 AND last_try < ?2", 0,
			now - MRD_OUTBOX_KEEP, 0, NULL, error))
		return FALSE;
	if (self->retention_weeks > 0) {
		g_autofree char *oldest = mrd_week_to_string(
			mrd_week_start(now) - (gint64)self->retention_weeks * MRD_WEEK_USEC);

		if (!prune_unsent(self, oldest, dropped, error))
			return FALSE;
		emit_dropped(self, dropped);
	}
	return TRUE;
}

/* if the allowlist refuses @request's metric at @now, deletes the request
 * and counts its events as dropped; returns whether it did. @deferred
 * (nullable) tells whether the allowlist could not decide: then the
 * request must not be sent now, and is kept */
gboolean
mrd_outbox_drop_if_filtered(MrdOutbox *self,
			    const MrdOutboxRequest *request,
			    gint64 now,
			    gboolean *deferred,
			    GError **error)
{
	g_autoptr(GHashTable) dropped =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gboolean cannot_tell = FALSE;
	MrdDropReason reason;
	gsize len = 0;
	const void *data;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	reason = check_metric(self, request->metric, now, &cannot_tell);
	if (deferred != NULL)
		*deferred = cannot_tell;
	if (reason == MRD_DROP_NONE)
		return FALSE;
	data = g_bytes_get_data(request->events, &len);
	count_drop(dropped, mrd_drop_reason_to_string(reason), events_total(data, len));
	if (!update_row(self, "DELETE FROM outbox WHERE id = ?1", request->id, 0, 0, NULL, error))
		return FALSE;
	emit_dropped(self, dropped);
	return TRUE;
}

/* gives every pending request already due at @now, except @except_id, a new
 * random next try within [@now, @now + @spread]: a backlog (after the
 * machine was off, offline or the server down) must not leave back to
 * back, which would tie its requests together by time */
gboolean
mrd_outbox_spread_overdue(MrdOutbox *self,
			  gint64 now,
			  gint64 except_id,
			  gint64 spread,
			  guint *n_spread,
			  GError **error)
{
	sqlite3 *db = get_db(self, error);
	sqlite3_stmt *stmt = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	int rc;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (n_spread != NULL)
		*n_spread = 0;
	if (db == NULL)
		return FALSE;
	if (sqlite3_prepare_v2(db,
			       "SELECT id FROM outbox WHERE state = 0 AND next_try <= ?1 AND "
			       "id != ?2",
			       -1, &stmt, NULL) != SQLITE_OK)
		return set_error(self, error,
				 _("Cannot read the upload queue in the metrics store"));
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_int64(stmt, 2, except_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(stmt, 0);
		g_array_append_val(ids, id);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return set_error(self, error,
				 _("Cannot read the upload queue in the metrics store"));
	for (guint i = 0; i < ids->len; i++) {
		gint64 next_try = now + (gint64)g_random_double_range(0, (double)spread + 1);

		if (!update_row(self, "UPDATE outbox SET next_try = ?2 WHERE id = ?1",
				g_array_index(ids, gint64, i), next_try, 0, NULL, error))
			return FALSE;
	}
	if (n_spread != NULL)
		*n_spread = ids->len;
	return TRUE;
}

/**
 * mrd_outbox_set_allowlist:
 * @self: the outbox
 * @allowlist: (nullable): the allowlist in force, or %NULL to let every
 *   metric leave
 *
 * The allowlist asked again when a week is frozen and before each send: a
 * metric no longer in it is dropped as `not-allowlisted`, one past its
 * expiry as `expired`; while it is empty (no file could be read) nothing
 * is frozen, sent or dropped. The outbox keeps a reference; the service
 * sets it again when it reloads the allowlist.
 */
void
mrd_outbox_set_allowlist(MrdOutbox *self, MrdAllowlist *allowlist)
{
	g_return_if_fail(MRD_IS_OUTBOX(self));
	g_return_if_fail(allowlist == NULL || MRD_IS_ALLOWLIST(allowlist));

	g_set_object(&self->allowlist, allowlist);
}

/* pending requests of weeks older than @weeks are dropped by the prune */
void
mrd_outbox_set_retention_weeks(MrdOutbox *self, guint weeks)
{
	g_return_if_fail(MRD_IS_OUTBOX(self));
	self->retention_weeks = weeks;
}

gboolean
mrd_outbox_get_stats(MrdOutbox *self,
		     guint64 *n_pending,
		     guint64 *n_set_aside,
		     gint64 *next_try,
		     gint64 *last_sent,
		     GError **error)
{
	sqlite3 *db = get_db(self, error);
	sqlite3_stmt *stmt = NULL;
	int rc;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (db == NULL)
		return FALSE;
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT count(*) FROM outbox WHERE state = 0), "
			       "(SELECT count(*) FROM outbox WHERE state = 1), "
			       "(SELECT coalesce(min(next_try), 0) FROM outbox WHERE state = 0), "
			       "(SELECT coalesce(max(sent), 0) FROM sent)",
			       -1, &stmt, NULL) != SQLITE_OK)
		return set_error(self, error,
				 _("Cannot read the upload queue in the metrics store"));
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*n_pending = (guint64)sqlite3_column_int64(stmt, 0);
		*n_set_aside = (guint64)sqlite3_column_int64(stmt, 1);
		*next_try = sqlite3_column_int64(stmt, 2);
		*last_sent = sqlite3_column_int64(stmt, 3);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return set_error(self, error,
				 _("Cannot read the upload queue in the metrics store"));
	return TRUE;
}

MrdOutbox *
mrd_outbox_new(MrdStore *store, const char *os_version)
{
	MrdOutbox *self;

	g_return_val_if_fail(MRD_IS_STORE(store), NULL);
	g_return_val_if_fail(os_version != NULL, NULL);

	self = g_object_new(MRD_TYPE_OUTBOX, NULL);
	self->store = g_object_ref(store);
	self->os_version = g_strdup(os_version);
	return self;
}

static void
mrd_outbox_dispose(GObject *object)
{
	MrdOutbox *self = MRD_OUTBOX(object);

	g_clear_object(&self->allowlist);

	G_OBJECT_CLASS(mrd_outbox_parent_class)->dispose(object);
}

static void
mrd_outbox_finalize(GObject *object)
{
	MrdOutbox *self = MRD_OUTBOX(object);

	g_clear_object(&self->store);
	g_free(self->os_version);

	G_OBJECT_CLASS(mrd_outbox_parent_class)->finalize(object);
}

static void
mrd_outbox_class_init(MrdOutboxClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_outbox_dispose;
	object_class->finalize = mrd_outbox_finalize;

	/**
	 * MrdOutbox::dropped:
	 * @reason: a drop reason of GetStatus `drops` (`retention`,
	 *   `not-allowlisted`, `expired`), as mrd_drop_reason_to_string()
	 *   names it
	 * @n_events: how many events (the sum of the counts)
	 *
	 * Aggregates were deleted without being sent.
	 */
	signals[SIGNAL_DROPPED] =
		g_signal_new("dropped", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			     NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT64);
}

static void
mrd_outbox_init(MrdOutbox *self)
{
}
