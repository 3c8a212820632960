/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MRD_TYPE_STORE (mrd_store_get_type())
G_DECLARE_FINAL_TYPE(MrdStore, mrd_store, MRD, STORE, GObject)

/* what the store holds and the room it takes (GetStatus); the first four
 * of everybody or of one user, the bytes only of everybody */
typedef struct {
	guint64 n_keys;	    /* stored aggregate rows */
	guint64 n_events;   /* their summed counts */
	guint64 n_weeks;    /* distinct weeks */
	gint64 oldest_week; /* Monday (usec) of the oldest week, 0 when empty */
	guint64 file_bytes; /* what mrd_store_get_size() returns; 0 for one user */
	guint64 used_bytes; /* pages in use x page size (what the cap counts); 0
			     * for one user */
	gboolean full;	    /* within the margin of the cap: inserts fail */
} MrdStoreUsage;

/* work to do in one transaction (mrd_store_transaction()) */
typedef gboolean (*MrdStoreTransactionFunc)(MrdStore *store, gpointer user_data, GError **error);

MrdStore *
mrd_store_open(const char *path, GError **error);
gboolean
mrd_store_transaction(MrdStore *self,
		      MrdStoreTransactionFunc func,
		      gpointer user_data,
		      GError **error);
gboolean
mrd_store_add(MrdStore *self, guint32 uid, GArray *deltas, GError **error);
GVariant *
mrd_store_dump(MrdStore *self, gboolean all_users, guint32 uid, GError **error);
gboolean
mrd_store_clear(MrdStore *self, gboolean all_users, guint32 uid, guint64 *removed, GError **error);
gboolean
mrd_store_forget(MrdStore *self,
		 gboolean one_user,
		 guint32 uid,
		 GPtrArray *metrics,
		 guint64 *n_rows,
		 guint64 *n_requests,
		 GError **error);
gboolean
mrd_store_scrub_log(MrdStore *self, GError **error);
gboolean
mrd_store_get_totals(MrdStore *self, guint64 *n_keys, guint64 *n_events, GError **error);
guint64
mrd_store_get_size(MrdStore *self);
gboolean
mrd_store_get_usage(MrdStore *self,
		    gboolean all_users,
		    guint32 uid,
		    MrdStoreUsage *usage,
		    GError **error);
gboolean
mrd_store_get_user_totals(MrdStore *self, guint32 uid, MrdStoreUsage *usage, GError **error);
void
mrd_store_close(MrdStore *self);
gboolean
mrd_store_set_max_size(MrdStore *self, guint64 max_bytes, GError **error);
typedef void (*MrdStoreCountFunc)(const guint8 *metric_id, guint64 count, gpointer user_data);
gboolean
mrd_store_foreach_week_count(MrdStore *self,
			     const char *week,
			     MrdStoreCountFunc func,
			     gpointer user_data,
			     GError **error);
gboolean
mrd_store_prune(MrdStore *self, const char *oldest_week, guint64 *n_events, GError **error);

gboolean
mrd_store_add_drops(MrdStore *self, GHashTable *counts, GError **error);
GVariant *
mrd_store_get_drops(MrdStore *self, GError **error);
gboolean
mrd_store_wipe(MrdStore *self, GError **error);
gboolean
mrd_store_delete_files(const char *path, GError **error);

G_END_DECLS
