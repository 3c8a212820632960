/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdStore"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "metrics-private.h"
#include "mrd-aggregator.h"
#include "mrd-store-private.h"

/*
 * The weekly aggregates of the store: (metric, week, uid, kind, payload)
 * → count and summed duration. A batch is added in one transaction, all or
 * nothing; the uid is local only (uploads merge all users).
 */

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
	    SQLITE_OK) {
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

/* the upsert of one delta, for the rest of a batch after the statements
 * of ROWS_PER_STATEMENT; prepared when the store opens */
gboolean
mrd_store_prepare_upsert(MrdStore *self, GError **error)
{
	self->upsert = prepare_upsert(self, 1);
	if (self->upsert == NULL)
		return mrd_store_set_error(self, error,
					   _("Cannot prepare a query on the metrics store"));
	return TRUE;
}

typedef struct {
	guint32 uid;
	GArray *deltas; /* (element-type MrdDelta) */
} AddData;

static gboolean
add_deltas_cb(MrdStore *self, gpointer user_data, GError **error)
{
	AddData *data = user_data;
	GArray *deltas = data->deltas;
	/* a batch is nearly always of one week: each is formatted once */
	char weeks[ROWS_PER_STATEMENT][16];
	gint64 week_start = G_MININT64;
	gboolean ok = TRUE;

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
			bind_delta(stmt, (int)r, delta, weeks[r], data->uid);
		}
		ok = sqlite3_step(stmt) == SQLITE_DONE;
		i += n;
	}
	if (!ok)
		mrd_store_set_error(self, error, _("Cannot store the events in the metrics store"));
	sqlite3_reset(self->upsert_many);
	sqlite3_reset(self->upsert);
	if (ok) {
		sqlite3_clear_bindings(self->upsert_many);
		sqlite3_clear_bindings(self->upsert);
	}
	return ok;
}

/* adds a batch's deltas for @uid in one transaction: all or nothing */
gboolean
mrd_store_add(MrdStore *self, guint32 uid, GArray *deltas, GError **error)
{
	AddData data = {uid, deltas};

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(deltas != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_store_check_open(self, error))
		return FALSE;
	if (self->upsert_many == NULL &&
	    (self->upsert_many = prepare_upsert(self, ROWS_PER_STATEMENT)) == NULL)
		return mrd_store_set_error(self, error,
					   _("Cannot prepare a query on the metrics store"));
	return mrd_store_transaction(self, add_deltas_cb, &data, error);
}

/* the value of a stored payload (a serialized `mv`), or NULL for none */
GVariant *
mrd_store_payload_from_blob(const void *data, int len)
{
	g_autoptr(GBytes) bytes = g_bytes_new(data, len > 0 ? (gsize)len : 0);
	g_autoptr(GVariant) maybe =
		g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE("mv"), bytes, FALSE));
	g_autoptr(GVariant) boxed = g_variant_get_maybe(maybe);

	if (boxed == NULL)
		return NULL;
	return g_variant_get_variant(boxed);
}

static void
dump_row_cb(sqlite3_stmt *stmt, gpointer user_data)
{
	GVariantBuilder *builder = user_data;
	char id[METRICS_UUID_STRING_LENGTH + 1];
	g_autoptr(GVariant) payload = NULL;
	GVariant *boxed = NULL;

	if (sqlite3_column_bytes(stmt, 1) != METRICS_UUID_SIZE)
		return;
	metrics_uuid_unparse(sqlite3_column_blob(stmt, 1), id);
	payload = mrd_store_payload_from_blob(sqlite3_column_blob(stmt, 4),
					      sqlite3_column_bytes(stmt, 4));
	if (payload != NULL)
		boxed = g_variant_new_variant(payload);

	g_variant_builder_add(
		builder, "(ussu@avtt)", (guint32)sqlite3_column_int64(stmt, 0), id,
		(const char *)sqlite3_column_text(stmt, 2), (guint32)sqlite3_column_int(stmt, 3),
		g_variant_new_array(G_VARIANT_TYPE_VARIANT, &boxed, boxed != NULL ? 1 : 0),
		(guint64)sqlite3_column_int64(stmt, 5), (guint64)sqlite3_column_int64(stmt, 6));
}

/* returns a(ussuavtt): the rows of @uid, or of everybody */
GVariant *
mrd_store_dump(MrdStore *self, gboolean all_users, guint32 uid, GError **error)
{
	const char *failure = _("Cannot read the metrics store");
	GVariantBuilder builder;
	sqlite3_stmt *stmt;

	g_return_val_if_fail(MRD_IS_STORE(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	stmt = mrd_store_prepare(self,
				 "SELECT uid, metric, week, kind, payload, count, duration "
				 "FROM aggregate WHERE ?1 OR uid = ?2 "
				 "ORDER BY metric, week, uid, kind, payload",
				 failure, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int(stmt, 1, all_users ? 1 : 0);
	sqlite3_bind_int64(stmt, 2, uid);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_AGGREGATE));
	if (!mrd_store_foreach_row(self, stmt, dump_row_cb, &builder, failure, error)) {
		g_variant_builder_clear(&builder);
		return NULL;
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

gboolean
mrd_store_clear(MrdStore *self, gboolean all_users, guint32 uid, guint64 *removed, GError **error)
{
	const char *failure = _("Cannot delete data from the metrics store");
	sqlite3_stmt *stmt;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	stmt = mrd_store_prepare(self, "DELETE FROM aggregate WHERE ?1 OR uid = ?2", failure,
				 error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int(stmt, 1, all_users ? 1 : 0);
	sqlite3_bind_int64(stmt, 2, uid);
	if (!mrd_store_run(self, stmt, failure, error))
		return FALSE;
	if (removed != NULL)
		*removed = (guint64)sqlite3_changes(self->db);
	return TRUE;
}

typedef struct {
	gboolean one_user;
	guint32 uid;
	GPtrArray *metrics; /* (nullable) (element-type guint8[16]) */
	guint64 n_rows;
	guint64 n_requests;
} ForgetData;

/* deletes with @sql (bound: ?1 one user, ?2 its uid, ?3 a metric or NULL)
 * once, or once per metric; adds the rows deleted to @n */
static gboolean
forget_run(MrdStore *self, ForgetData *data, const char *sql, guint64 *n, GError **error)
{
	const char *failure = _("Cannot delete data from the metrics store");
	guint n_runs = data->metrics != NULL ? data->metrics->len : 1;
	sqlite3_stmt *stmt = mrd_store_prepare(self, sql, failure, error);

	if (stmt == NULL)
		return FALSE;
	for (guint i = 0; i < n_runs; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int(stmt, 1, data->one_user ? 1 : 0);
		sqlite3_bind_int64(stmt, 2, data->uid);
		if (data->metrics != NULL)
			sqlite3_bind_blob(stmt, 3, g_ptr_array_index(data->metrics, i),
					  METRICS_UUID_SIZE, SQLITE_STATIC);
		else
			sqlite3_bind_null(stmt, 3);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			mrd_store_set_error(self, error, failure);
			sqlite3_finalize(stmt);
			return FALSE;
		}
		*n += (guint64)sqlite3_changes(self->db);
	}
	sqlite3_finalize(stmt);
	return TRUE;
}

static gboolean
forget_cb(MrdStore *self, gpointer user_data, GError **error)
{
	ForgetData *data = user_data;

	/* a request not sent yet merges every user's share of its (metric,
	 * week): one user's part cannot be taken out of it, so the whole
	 * request goes (docs/metrics-recorder.8.md) */
	return forget_run(self, data,
			  "DELETE FROM aggregate WHERE (?1 = 0 OR uid = ?2) "
			  "AND (?3 IS NULL OR metric = ?3)",
			  &data->n_rows, error) &&
	       forget_run(self, data,
			  "DELETE FROM outbox WHERE (?3 IS NULL OR metric = ?3) AND "
			  "(?1 = 0 OR EXISTS (SELECT 1 FROM outbox_share s WHERE "
			  "s.metric = outbox.metric AND s.week = outbox.week AND "
			  "s.uid IN (?2, -1)))",
			  &data->n_requests, error);
}

/**
 * mrd_store_forget:
 * @self: the store
 * @one_user: whether to delete only what @uid recorded
 * @uid: the user, with @one_user
 * @metrics: (nullable) (element-type guint8): only these metrics (16-byte
 *   ids), or %NULL for all
 * @n_rows: (out) (optional): aggregate rows deleted
 * @n_requests: (out) (optional): requests deleted from the outbox
 * @error: where a failure goes
 *
 * Deletes aggregates and the requests not sent yet that hold any of
 * them, in one transaction, then overwrites the write-ahead log
 * (mrd_store_scrub_log()), so that none of it stays on disk. The archive
 * of what was sent is kept: it is already on the server.
 *
 * Returns: whether it was deleted; a failure to overwrite the log after
 *   is only logged
 */
gboolean
mrd_store_forget(MrdStore *self,
		 gboolean one_user,
		 guint32 uid,
		 GPtrArray *metrics,
		 guint64 *n_rows,
		 guint64 *n_requests,
		 GError **error)
{
	ForgetData data = {one_user, uid, metrics, 0, 0};
	g_autoptr(GError) error_scrub = NULL;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (metrics != NULL && metrics->len == 0)
		data.n_rows = 0;
	else if (!mrd_store_transaction(self, forget_cb, &data, error))
		return FALSE;
	if (!mrd_store_scrub_log(self, &error_scrub))
		g_warning("deleted, but the journal could not be overwritten: %s",
			  error_scrub->message);
	if (n_rows != NULL)
		*n_rows = data.n_rows;
	if (n_requests != NULL)
		*n_requests = data.n_requests;
	return TRUE;
}

gboolean
mrd_store_get_totals(MrdStore *self, guint64 *n_keys, guint64 *n_events, GError **error)
{
	const char *failure = _("Cannot count the events in the metrics store");
	sqlite3_stmt *stmt;
	gint64 values[2];

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	stmt = mrd_store_prepare(self, "SELECT count(*), coalesce(sum(count), 0) FROM aggregate",
				 failure, error);
	if (stmt == NULL ||
	    !mrd_store_get_row(self, stmt, values, G_N_ELEMENTS(values), failure, error))
		return FALSE;
	*n_keys = (guint64)values[0];
	*n_events = (guint64)values[1];
	return TRUE;
}

/**
 * mrd_store_get_user_totals:
 * @self: the store
 * @uid: a local user
 * @usage: (out caller-allocates): where n_keys, n_events, n_weeks and
 *   oldest_week of @uid's aggregates go; the other members are left as
 *   they are
 * @error: where a failure to count goes
 *
 * What one user's aggregates take, for GetStatus without `all`: nothing
 * of the other users shows in it.
 *
 * Returns: whether the aggregates could be counted
 */
gboolean
mrd_store_get_user_totals(MrdStore *self, guint32 uid, MrdStoreUsage *usage, GError **error)
{
	const char *failure = _("Cannot count the events in the metrics store");
	sqlite3_stmt *stmt;
	gboolean ok = FALSE;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(usage != NULL, FALSE);

	stmt = mrd_store_prepare(self,
				 "SELECT count(*), coalesce(sum(count), 0), count(DISTINCT week), "
				 "min(week) FROM aggregate WHERE uid = ?",
				 failure, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)uid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *week = (const char *)sqlite3_column_text(stmt, 3);

		usage->n_keys = (guint64)MAX(sqlite3_column_int64(stmt, 0), 0);
		usage->n_events = (guint64)MAX(sqlite3_column_int64(stmt, 1), 0);
		usage->n_weeks = (guint64)MAX(sqlite3_column_int64(stmt, 2), 0);
		if (week == NULL || !mrd_week_from_string(week, &usage->oldest_week))
			usage->oldest_week = 0;
		ok = TRUE;
	} else {
		mrd_store_set_error(self, error, failure);
	}
	sqlite3_finalize(stmt);
	return ok;
}

/**
 * mrd_store_foreach_week_count:
 * @week: YYYY-MM-DD of the week's Monday
 * @func: (scope call): called once for each metric with events in @week
 *
 * The events of each metric in @week, all users together, in one query:
 * where the weekly caps start when the daemon starts counting a week.
 *
 * Returns: whether the store could be read
 */
gboolean
mrd_store_foreach_week_count(MrdStore *self,
			     const char *week,
			     MrdStoreCountFunc func,
			     gpointer user_data,
			     GError **error)
{
	const char *failure = _("Cannot count the events in the metrics store");
	sqlite3_stmt *stmt;
	int rc;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);
	g_return_val_if_fail(week != NULL && func != NULL, FALSE);

	stmt = mrd_store_prepare(self,
				 "SELECT metric, sum(count) FROM aggregate WHERE week = ?1 "
				 "GROUP BY metric",
				 failure, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, week, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(stmt, 0) == METRICS_UUID_SIZE)
			func(sqlite3_column_blob(stmt, 0),
			     (guint64)MAX(sqlite3_column_int64(stmt, 1), 0), user_data);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return mrd_store_set_error(self, error, failure);
	return TRUE;
}

/* deletes the aggregates of the weeks before @week ('YYYY-MM-DD') */
gboolean
mrd_store_delete_weeks_before(MrdStore *self, const char *week, const char *failure, GError **error)
{
	sqlite3_stmt *stmt =
		mrd_store_prepare(self, "DELETE FROM aggregate WHERE week < ?1", failure, error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, week, -1, SQLITE_STATIC);
	return mrd_store_run(self, stmt, failure, error);
}

/* deletes aggregates of weeks before @oldest_week ('YYYY-MM-DD'); returns
 * in @n_events how many events they held */
gboolean
mrd_store_prune(MrdStore *self, const char *oldest_week, guint64 *n_events, GError **error)
{
	const char *failure = _("Cannot remove old data from the metrics store");
	sqlite3_stmt *stmt;

	g_return_val_if_fail(MRD_IS_STORE(self), FALSE);

	*n_events = 0;
	stmt = mrd_store_prepare(self,
				 "SELECT coalesce(sum(count), 0) FROM aggregate WHERE week < ?1",
				 failure, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, oldest_week, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*n_events = (guint64)sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (*n_events == 0)
		return TRUE;
	return mrd_store_delete_weeks_before(self, oldest_week, failure, error);
}

/* how many weeks the aggregates span, and the Monday of the oldest (in
 * usec, 0 when nothing is stored); 0 for both when SQLite cannot tell */
void
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
