/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdStore"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mrd-store-outbox.h"
#include "mrd-store-private.h"
#include "mrd-week.h"

/*
 * The upload queue in the store's database (the schema's version 2 and
 * 4): `outbox`, one row per request still to send with its events frozen
 * as the serialized request elements; `sent`, the archive of what left;
 * and the `frozen-before` mark in `state`, the Monday of the first week
 * not yet frozen. MrdOutbox decides what goes in; this file only reads
 * and writes the rows. What it writes may take the database past its size
 * cap (mrd_store_raise_page_cap()): a closed week must reach the outbox,
 * and the record of what the server has must be kept.
 */

#define READ_FAILURE N_("Cannot read the upload queue in the metrics store")
#define PREPARE_FAILURE N_("Cannot prepare a query on the metrics store")
#define UPDATE_FAILURE N_("Cannot update the upload queue in the metrics store")

#define OUTBOX_COLUMNS                                                                   \
	"id, metric, week, events, n_events, due, next_try, last_try, attempts, state, " \
	"last_status, last_answer"

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

static GBytes *
column_bytes(sqlite3_stmt *stmt, int column)
{
	return g_bytes_new(sqlite3_column_blob(stmt, column),
			   (gsize)sqlite3_column_bytes(stmt, column));
}

static char *
column_strdup(sqlite3_stmt *stmt, int column)
{
	return g_strdup((const char *)sqlite3_column_text(stmt, column));
}

typedef struct {
	MrdStoreUploadAggregateFunc func;
	gpointer user_data;
} AggregateClosure;

static void
aggregate_row_cb(sqlite3_stmt *stmt, gpointer user_data)
{
	AggregateClosure *closure = user_data;
	g_autoptr(GVariant) value = NULL;
	MrdStoreUploadAggregate aggregate = {
		.metric = sqlite3_column_blob(stmt, 0),
		.week = (const char *)sqlite3_column_text(stmt, 1),
		.kind = (MetricsEventKind)sqlite3_column_int(stmt, 2),
		.count = (guint64)sqlite3_column_int64(stmt, 4),
		.duration = (guint64)sqlite3_column_int64(stmt, 5),
	};

	if (sqlite3_column_bytes(stmt, 0) != METRICS_UUID_SIZE || aggregate.week == NULL)
		return;
	value = mrd_store_payload_from_blob(sqlite3_column_blob(stmt, 3),
					    sqlite3_column_bytes(stmt, 3));
	aggregate.value = value;
	closure->func(&aggregate, closure->user_data);
}

/**
 * mrd_store_outbox_foreach_aggregate:
 * @self: the store
 * @week: the Monday (YYYY-MM-DD) of a week
 * @before: whether to read the weeks before @week, or those from @week on
 * @func: (scope call): called for each aggregate
 * @user_data: for @func
 * @error: where a failure to read goes
 *
 * Calls @func on the aggregates of those weeks, with the users merged (the
 * uid never leaves the machine), in the order of metric, week, kind and
 * value, so that the aggregates of one request come together.
 *
 * Returns: whether all could be read
 */
gboolean
mrd_store_outbox_foreach_aggregate(MrdStore *self,
				   const char *week,
				   gboolean before,
				   MrdStoreUploadAggregateFunc func,
				   gpointer user_data,
				   GError **error)
{
	AggregateClosure closure = {func, user_data};
	sqlite3_stmt *stmt;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(week != NULL && func != NULL, FALSE);

	stmt = mrd_store_prepare(self,
				 before ? "SELECT metric, week, kind, payload, sum(count), "
					  "sum(duration) FROM aggregate WHERE week < ?1 "
					  "GROUP BY metric, week, kind, payload "
					  "ORDER BY metric, week, kind, payload" :
					  "SELECT metric, week, kind, payload, sum(count), "
					  "sum(duration) FROM aggregate WHERE week >= ?1 "
					  "GROUP BY metric, week, kind, payload "
					  "ORDER BY metric, week, kind, payload",
				 _(READ_FAILURE), error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, week, -1, SQLITE_STATIC);
	return mrd_store_foreach_row(self, stmt, aggregate_row_cb, &closure, _(READ_FAILURE),
				     error);
}

static gboolean
insert_requests(MrdStore *self, GPtrArray *requests, GError **error)
{
	sqlite3_stmt *insert = mrd_store_prepare(self,
						 "INSERT INTO outbox (metric, week, events, "
						 "n_events, due, next_try) VALUES (?1, ?2, ?3, "
						 "?4, ?5, ?5)",
						 _(PREPARE_FAILURE), error);

	if (insert == NULL)
		return FALSE;
	for (guint i = 0; i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);
		gsize len = 0;
		const void *data = g_bytes_get_data(request->events, &len);

		sqlite3_reset(insert);
		sqlite3_bind_blob(insert, 1, request->metric, METRICS_UUID_SIZE, SQLITE_STATIC);
		sqlite3_bind_text(insert, 2, request->week, -1, SQLITE_STATIC);
		sqlite3_bind_blob(insert, 3, data, (int)len, SQLITE_STATIC);
		sqlite3_bind_int(insert, 4, (int)request->n_events);
		sqlite3_bind_int64(insert, 5, request->due);
		if (sqlite3_step(insert) != SQLITE_DONE) {
			mrd_store_set_error(self, error,
					    _("Cannot queue an upload in the metrics store"));
			sqlite3_finalize(insert);
			return FALSE;
		}
	}
	sqlite3_finalize(insert);
	return TRUE;
}

/* the first week still open, for the events to come: only moves forwards */
static gboolean
mark_frozen_before(MrdStore *self, const char *week, GError **error)
{
	sqlite3_stmt *update = mrd_store_prepare(self,
						 "UPDATE state SET value = ?1 WHERE key = "
						 "'frozen-before' AND value < ?1",
						 _(PREPARE_FAILURE), error);

	if (update == NULL)
		return FALSE;
	sqlite3_bind_text(update, 1, week, -1, SQLITE_STATIC);
	return mrd_store_run(self, update, _(UPDATE_FAILURE), error);
}

/* remembers whose aggregates the weeks before @week held, before they go:
 * one row per (metric, week, uid), never uploaded */
static gboolean
record_shares(MrdStore *self, const char *week, GError **error)
{
	const char *failure = _("Cannot queue an upload in the metrics store");
	sqlite3_stmt *stmt = mrd_store_prepare(self,
					       "INSERT OR IGNORE INTO outbox_share (metric, week, "
					       "uid) SELECT DISTINCT metric, week, uid FROM "
					       "aggregate WHERE week < ?1",
					       failure, error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, week, -1, SQLITE_STATIC);
	return mrd_store_run(self, stmt, failure, error);
}

/**
 * mrd_store_outbox_queue:
 * @self: the store
 * @week: the Monday (YYYY-MM-DD) of the first week not frozen
 * @requests: (element-type MrdOutboxRequest): the requests the weeks before
 *   it make, each with its due time
 * @error: where a failure goes
 *
 * Deletes the aggregates of the weeks before @week, queues @requests (due
 * and first tried at their @due) and remembers @week as the first open
 * one. To be called in a transaction (mrd_store_transaction()) that read
 * the aggregates, which it leaves to be rolled back on error. The
 * aggregates go first, so that the requests reuse the room they leave; the
 * requests may take the store past its cap by what they need beyond that.
 *
 * Returns: whether all was written
 */
gboolean
mrd_store_outbox_queue(MrdStore *self, const char *week, GPtrArray *requests, GError **error)
{
	guint64 bytes = 0;
	gint64 cap;
	gboolean ok;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(week != NULL && requests != NULL, FALSE);

	for (guint i = 0; i < requests->len; i++)
		bytes += g_bytes_get_size(
			((MrdOutboxRequest *)g_ptr_array_index(requests, i))->events);
	cap = mrd_store_raise_page_cap(self, bytes, requests->len);
	ok = record_shares(self, week, error) &&
	     mrd_store_delete_weeks_before(
		     self, week,
		     _("Cannot remove the aggregates queued for upload from the metrics store"),
		     error) &&
	     insert_requests(self, requests, error) && mark_frozen_before(self, week, error);
	mrd_store_restore_page_cap(self, cap);
	return ok;
}

/* the Monday 00:00 UTC (usec) of the first week not yet frozen, or 0 when
 * no week was ever frozen */
gboolean
mrd_store_outbox_get_first_open_week(MrdStore *self, gint64 *week, GError **error)
{
	sqlite3_stmt *stmt;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(week != NULL, FALSE);

	*week = 0;
	stmt = mrd_store_prepare(self, "SELECT value FROM state WHERE key = 'frozen-before'",
				 _(READ_FAILURE), error);
	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *value = (const char *)sqlite3_column_text(stmt, 0);

		/* '' before any freeze; anything else unreadable counts as none */
		if (value == NULL || !mrd_week_from_string(value, week))
			*week = 0;
	} else if (rc != SQLITE_DONE) {
		mrd_store_set_error(self, error, _(READ_FAILURE));
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static MrdOutboxRequest *
request_from_row(sqlite3_stmt *stmt)
{
	MrdOutboxRequest *request;

	if (sqlite3_column_bytes(stmt, 1) != METRICS_UUID_SIZE)
		return NULL;
	request = g_new0(MrdOutboxRequest, 1);
	request->id = sqlite3_column_int64(stmt, 0);
	memcpy(request->metric, sqlite3_column_blob(stmt, 1), METRICS_UUID_SIZE);
	request->week = column_strdup(stmt, 2);
	request->events = column_bytes(stmt, 3);
	request->n_events = (guint)sqlite3_column_int(stmt, 4);
	request->due = sqlite3_column_int64(stmt, 5);
	request->next_try = sqlite3_column_int64(stmt, 6);
	request->last_try = sqlite3_column_int64(stmt, 7);
	request->attempts = (guint)sqlite3_column_int(stmt, 8);
	request->state = (MrdOutboxState)sqlite3_column_int(stmt, 9);
	request->last_status = (guint)sqlite3_column_int(stmt, 10);
	request->last_answer = column_strdup(stmt, 11);
	return request;
}

static void
add_request_cb(sqlite3_stmt *stmt, gpointer user_data)
{
	MrdOutboxRequest *request = request_from_row(stmt);

	if (request != NULL)
		g_ptr_array_add(user_data, request);
}

static GPtrArray *
list_requests(MrdStore *self, const char *sql, MrdStoreRowFunc func, GError **error)
{
	g_autoptr(GPtrArray) requests =
		g_ptr_array_new_with_free_func((GDestroyNotify)mrd_outbox_request_free);
	sqlite3_stmt *stmt = mrd_store_prepare(self, sql, _(READ_FAILURE), error);

	if (stmt == NULL ||
	    !mrd_store_foreach_row(self, stmt, func, requests, _(READ_FAILURE), error))
		return NULL;
	return g_steal_pointer(&requests);
}

/* every request of the outbox, pending or set aside, the next due first */
GPtrArray *
mrd_store_outbox_list(MrdStore *self, GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), NULL);

	return list_requests(self, "SELECT " OUTBOX_COLUMNS " FROM outbox ORDER BY next_try, id",
			     add_request_cb, error);
}

/* the pending request with the lowest id above @after_id whose next try is
 * before @due_before; NULL without error when there is none */
MrdOutboxRequest *
mrd_store_outbox_next(MrdStore *self, gint64 due_before, gint64 after_id, GError **error)
{
	sqlite3_stmt *stmt;
	MrdOutboxRequest *request = NULL;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), NULL);

	stmt = mrd_store_prepare(self,
				 "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state = 0 AND "
				 "next_try <= ?1 AND id > ?2 ORDER BY id LIMIT 1",
				 _(READ_FAILURE), error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, due_before);
	sqlite3_bind_int64(stmt, 2, after_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		request = request_from_row(stmt);
	else if (rc != SQLITE_DONE)
		mrd_store_set_error(self, error, _(READ_FAILURE));
	sqlite3_finalize(stmt);
	return request;
}

static void
add_id_cb(sqlite3_stmt *stmt, gpointer user_data)
{
	gint64 id = sqlite3_column_int64(stmt, 0);

	g_array_append_val((GArray *)user_data, id);
}

/* the ids (gint64) of the pending requests due at @now, but @except_id */
GArray *
mrd_store_outbox_list_overdue(MrdStore *self, gint64 now, gint64 except_id, GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	sqlite3_stmt *stmt;

	g_return_val_if_fail(MRD_IS_STORE(self), NULL);

	stmt = mrd_store_prepare(self,
				 "SELECT id FROM outbox WHERE state = 0 AND next_try <= ?1 AND "
				 "id != ?2",
				 _(READ_FAILURE), error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_int64(stmt, 2, except_id);
	if (!mrd_store_foreach_row(self, stmt, add_id_cb, ids, _(READ_FAILURE), error))
		return NULL;
	return g_steal_pointer(&ids);
}

/* runs @sql on one row, with ?1 = @id, ?2 = @a, ?3 = @b and ?4 = @text
 * (parameters a statement does not use are ignored); a row that grows may
 * need a page of its own, even in a full store */
static gboolean
update_row(MrdStore *self,
	   const char *sql,
	   gint64 id,
	   gint64 a,
	   gint64 b,
	   const char *text,
	   GError **error)
{
	sqlite3_stmt *stmt = mrd_store_prepare(self, sql, _(PREPARE_FAILURE), error);
	gint64 cap;
	gboolean ok;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, a);
	sqlite3_bind_int64(stmt, 3, b);
	sqlite3_bind_text(stmt, 4, text != NULL ? text : "", -1, SQLITE_STATIC);
	cap = mrd_store_raise_page_cap(self, text != NULL ? strlen(text) : 0, 1);
	ok = sqlite3_step(stmt) == SQLITE_DONE;
	if (!ok)
		mrd_store_set_error(self, error, _(UPDATE_FAILURE));
	mrd_store_restore_page_cap(self, cap);
	sqlite3_finalize(stmt);
	return ok;
}

/* one more attempt at @id, made at @now; tried next at @next_try */
gboolean
mrd_store_outbox_begin_attempt(MrdStore *self,
			       gint64 id,
			       gint64 now,
			       gint64 next_try,
			       GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	return update_row(self,
			  "UPDATE outbox SET attempts = attempts + 1, last_try = ?2, "
			  "next_try = ?3 WHERE id = ?1",
			  id, now, next_try, NULL, error);
}

/* the answer to @id (@status 0: none came), to be tried at @next_try */
gboolean
mrd_store_outbox_retry_later(MrdStore *self,
			     gint64 id,
			     gint64 next_try,
			     guint status,
			     const char *answer,
			     GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	return update_row(self,
			  "UPDATE outbox SET next_try = ?2, last_status = ?3, last_answer = ?4 "
			  "WHERE id = ?1",
			  id, next_try, status, answer, error);
}

gboolean
mrd_store_outbox_set_next_try(MrdStore *self, gint64 id, gint64 next_try, GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	return update_row(self, "UPDATE outbox SET next_try = ?2 WHERE id = ?1", id, next_try, 0,
			  NULL, error);
}

/* @id is not to be sent again: kept with the answer, as set aside */
gboolean
mrd_store_outbox_set_aside(MrdStore *self,
			   gint64 id,
			   guint status,
			   const char *answer,
			   GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	return update_row(self,
			  "UPDATE outbox SET state = 1, last_status = ?3, last_answer = ?4 "
			  "WHERE id = ?1",
			  id, 0, status, answer, error);
}

gboolean
mrd_store_outbox_delete(MrdStore *self, gint64 id, GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	return update_row(self, "DELETE FROM outbox WHERE id = ?1", id, 0, 0, NULL, error);
}

static void
add_events_cb(sqlite3_stmt *stmt, gpointer user_data)
{
	g_ptr_array_add(user_data, column_bytes(stmt, 0));
}

typedef struct {
	const char *week;
	GPtrArray *deleted; /* (element-type GBytes) */
} DeletePendingData;

static gboolean
delete_pending_cb(MrdStore *self, gpointer user_data, GError **error)
{
	DeletePendingData *data = user_data;
	sqlite3_stmt *stmt;

	stmt = mrd_store_prepare(self, "SELECT events FROM outbox WHERE state = 0 AND week < ?1",
				 _(READ_FAILURE), error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, data->week, -1, SQLITE_STATIC);
	if (!mrd_store_foreach_row(self, stmt, add_events_cb, data->deleted, _(READ_FAILURE),
				   error))
		return FALSE;
	stmt = mrd_store_prepare(self, "DELETE FROM outbox WHERE state = 0 AND week < ?1",
				 _(PREPARE_FAILURE), error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, data->week, -1, SQLITE_STATIC);
	return mrd_store_run(self, stmt,
			     _("Cannot drop old upload requests from the metrics store"), error);
}

/**
 * mrd_store_outbox_delete_pending_before:
 * @self: the store
 * @week: the Monday (YYYY-MM-DD) of a week
 * @error: where a failure goes
 *
 * Deletes the pending requests of the weeks before @week, in one
 * transaction.
 *
 * Returns: (transfer container) (element-type GBytes): the events of the
 *   requests deleted, or %NULL on error
 */
GPtrArray *
mrd_store_outbox_delete_pending_before(MrdStore *self, const char *week, GError **error)
{
	g_autoptr(GPtrArray) deleted =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	DeletePendingData data = {week, deleted};

	g_return_val_if_fail(MRD_IS_STORE(self), NULL);
	g_return_val_if_fail(week != NULL, NULL);

	if (!mrd_store_transaction(self, delete_pending_cb, &data, error))
		return NULL;
	return g_steal_pointer(&deleted);
}

typedef struct {
	const MrdOutboxRequest *request;
	const MrdStoreSentRecord *record;
} ArchiveData;

static gboolean
archive_cb(MrdStore *self, gpointer user_data, GError **error)
{
	const MrdOutboxRequest *request = ((ArchiveData *)user_data)->request;
	const MrdStoreSentRecord *record = ((ArchiveData *)user_data)->record;
	gsize len = 0;
	const void *body = g_bytes_get_data(record->body, &len);
	sqlite3_stmt *stmt;

	if (!mrd_store_outbox_delete(self, request->id, error))
		return FALSE;
	stmt = mrd_store_prepare(self,
				 "INSERT INTO sent (metric, week, sent, status, answer, checksum, "
				 "body, compressed_size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
				 _(PREPARE_FAILURE), error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_blob(stmt, 1, request->metric, METRICS_UUID_SIZE, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, request->week, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, record->sent);
	sqlite3_bind_int(stmt, 4, (int)record->status);
	sqlite3_bind_text(stmt, 5, record->answer != NULL ? record->answer : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, record->checksum, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 7, body != NULL ? body : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 8, (sqlite3_int64)record->compressed_size);
	return mrd_store_run(self, stmt,
			     _("Cannot keep the record of a sent upload in the metrics store"),
			     error);
}

/**
 * mrd_store_outbox_archive:
 * @self: the store
 * @request: a request the server accepted
 * @record: what was sent, and the answer
 * @error: where a failure goes
 *
 * Deletes @request from the outbox and archives what was sent, in one
 * transaction; the request's row goes first, but the archive keeps the
 * whole body, even in a full store.
 *
 * Returns: whether both were written
 */
gboolean
mrd_store_outbox_archive(MrdStore *self,
			 const MrdOutboxRequest *request,
			 const MrdStoreSentRecord *record,
			 GError **error)
{
	ArchiveData data = {request, record};
	gint64 cap;
	gboolean ok;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(request != NULL && record != NULL && record->body != NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	cap = mrd_store_raise_page_cap(
		self,
		g_bytes_get_size(record->body) +
			(record->answer != NULL ? strlen(record->answer) : 0),
		1);
	ok = mrd_store_transaction(self, archive_cb, &data, error);
	mrd_store_restore_page_cap(self, cap);
	return ok;
}

static void
add_sent_cb(sqlite3_stmt *stmt, gpointer user_data)
{
	MrdOutboxRequest *request;

	if (sqlite3_column_bytes(stmt, 1) != METRICS_UUID_SIZE)
		return;
	request = g_new0(MrdOutboxRequest, 1);
	request->id = sqlite3_column_int64(stmt, 0);
	memcpy(request->metric, sqlite3_column_blob(stmt, 1), METRICS_UUID_SIZE);
	request->week = column_strdup(stmt, 2);
	request->sent = sqlite3_column_int64(stmt, 3);
	request->last_status = (guint)sqlite3_column_int(stmt, 4);
	request->last_answer = column_strdup(stmt, 5);
	request->checksum = column_strdup(stmt, 6);
	request->events = column_bytes(stmt, 7);
	request->compressed_size = (guint64)sqlite3_column_int64(stmt, 8);
	g_ptr_array_add(user_data, request);
}

/* the archive of sent requests, oldest first */
GPtrArray *
mrd_store_outbox_list_sent(MrdStore *self, GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), NULL);

	return list_requests(self,
			     "SELECT id, metric, week, sent, status, answer, checksum, body, "
			     "compressed_size FROM sent ORDER BY sent, id",
			     add_sent_cb, error);
}

/* forgets the requests sent, and those set aside and last tried, before
 * @before */
gboolean
mrd_store_outbox_forget_before(MrdStore *self, gint64 before, GError **error)
{
	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	return update_row(self, "DELETE FROM sent WHERE sent < ?2", 0, before, 0, NULL, error) &&
	       update_row(self, "DELETE FROM outbox WHERE state = 1 AND last_try < ?2", 0, before,
			  0, NULL, error);
}

gboolean
mrd_store_outbox_get_stats(MrdStore *self, MrdStoreOutboxStats *stats, GError **error)
{
	sqlite3_stmt *stmt;
	gint64 values[4];

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(stats != NULL, FALSE);

	stmt = mrd_store_prepare(self,
				 "SELECT (SELECT count(*) FROM outbox WHERE state = 0), "
				 "(SELECT count(*) FROM outbox WHERE state = 1), "
				 "(SELECT coalesce(min(next_try), 0) FROM outbox WHERE state = 0), "
				 "(SELECT coalesce(max(sent), 0) FROM sent)",
				 _(READ_FAILURE), error);
	if (stmt == NULL ||
	    !mrd_store_get_row(self, stmt, values, G_N_ELEMENTS(values), _(READ_FAILURE), error))
		return FALSE;
	stats->n_pending = (guint64)values[0];
	stats->n_set_aside = (guint64)values[1];
	stats->next_try = values[2];
	stats->last_sent = values[3];
	return TRUE;
}
