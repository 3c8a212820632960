/* temporary: replaced by the store layer's own */
#include "config.h"

#include "mrd-aggregator.h"
#include "mrd-store.h"

gboolean
mrd_store_get_usage(MrdStore *store, MrdStoreUsage *usage, GError **error)
{
	sqlite3 *db = mrd_store_get_db(store);
	sqlite3_stmt *stmt = NULL;
	gint64 max_pages, used_pages;

	memset(usage, 0, sizeof(*usage));
	if (!mrd_store_get_totals(store, &usage->n_keys, &usage->n_events, error))
		return FALSE;
	usage->file_bytes = mrd_store_get_size(store);
	if (db == NULL)
		return TRUE;
	if (sqlite3_prepare_v2(db, "SELECT COUNT(DISTINCT week), MIN(week) FROM aggregate", -1,
			       &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		const char *week = (const char *)sqlite3_column_text(stmt, 1);

		usage->n_weeks = (guint64)MAX(sqlite3_column_int64(stmt, 0), 0);
		if (week == NULL || !mrd_week_from_string(week, &usage->oldest_week))
			usage->oldest_week = 0;
	}
	sqlite3_finalize(stmt);
	max_pages = mrd_store_query_int(db, "PRAGMA max_page_count");
	used_pages = mrd_store_query_int(db, "PRAGMA page_count") -
		     mrd_store_query_int(db, "PRAGMA freelist_count");
	usage->used_bytes = (guint64)MAX(used_pages, 0) *
			    (guint64)MAX(mrd_store_query_int(db, "PRAGMA page_size"), 0);
	usage->full = max_pages > 0 && max_pages - used_pages <= MAX(2, max_pages / 32);
	return TRUE;
}
