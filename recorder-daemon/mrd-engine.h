/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-common.h"
#include "mrd-allowlist.h"
#include "mrd-caller.h"
#include "mrd-clock.h"
#include "mrd-config.h"
#include "mrd-drops.h"
#include "mrd-store.h"
#include "mrd-uploads.h"

G_BEGIN_DECLS

/* the store's size cap: enough for thousands of distinct weekly keys */
#define MRD_DEFAULT_MAX_STORE_SIZE (4 * 1024 * 1024)
/* weeks that could not be uploaded are kept this long */
#define MRD_DEFAULT_RETENTION_WEEKS 8

/* what GetStatus reports, apart from the drop counters; without
 * all_users, of one user (mrd_engine_get_status()) */
typedef struct {
	gboolean all_users; /* everybody's figures, else the caller's */
	MetricsConsent consent;
	gint64 consent_timestamp; /* usec, 0: never chosen */
	MrdStoreUsage usage;	  /* all zero without a store */
	guint64 max_store_bytes;
	guint64 n_accepted; /* events accepted since start (of the caller) */
	guint n_allowlisted;
	MrdUploadsStats uploads; /* all zero without a store or all_users */
	gint64 next_week_close;	 /* usec, 0: nothing stored */
	const char *server_url;	 /* owned by the engine */
	guint window_days;
	guint categories_agreed;  /* MRD_CATEGORY_BIT()s of the machine */
	guint categories_refused; /* the others were never asked about */
	guint user_off;		  /* without all_users: the caller's own */
} MrdEngineStatus;

#define MRD_TYPE_ENGINE (mrd_engine_get_type())
G_DECLARE_FINAL_TYPE(MrdEngine, mrd_engine, MRD, ENGINE, GObject)

MrdEngine *
mrd_engine_new(const char *state_dir, MrdClock *clock, MrdCallerRegistry *callers);
void
mrd_engine_set_config(MrdEngine *self, MrdConfig *config);
void
mrd_engine_set_store_limits(MrdEngine *self, guint64 max_bytes, guint retention_weeks);
void
mrd_engine_set_allowlist_dirs(MrdEngine *self, const char *const *dirs);
void
mrd_engine_start(MrdEngine *self);
void
mrd_engine_stop(MrdEngine *self);

MetricsConsent
mrd_engine_get_consent(MrdEngine *self);
gint64
mrd_engine_get_consent_timestamp(MrdEngine *self);
gboolean
mrd_engine_set_consent(MrdEngine *self, MetricsConsent consent, GError **error);

MetricsUserChoice
mrd_engine_get_user_choice(MrdEngine *self, guint32 uid);
gboolean
mrd_engine_set_user_choice(MrdEngine *self,
			   guint32 uid,
			   MetricsUserChoice choice,
			   gboolean *changed,
			   GError **error);

void
mrd_engine_get_categories(MrdEngine *self, guint *agreed, guint *refused);
gboolean
mrd_engine_set_categories(MrdEngine *self, guint on, guint off, gboolean *changed, GError **error);
guint
mrd_engine_get_user_off(MrdEngine *self, guint32 uid);
gboolean
mrd_engine_set_user_off(MrdEngine *self, guint32 uid, guint off, GError **error);

MrdDrops *
mrd_engine_get_drops(MrdEngine *self);
MrdAllowlist *
mrd_engine_get_allowlist(MrdEngine *self);
gboolean
mrd_engine_get_sampling(MrdEngine *self, const MrdMetric *metric, gboolean *sampled);
void
mrd_engine_reload_allowlist(MrdEngine *self);

void
mrd_engine_record_batch_async(MrdEngine *self,
			      const char *sender,
			      GArray *batch,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
mrd_engine_record_batch_finish(MrdEngine *self,
			       GAsyncResult *result,
			       guint *n_kept,
			       guint *n_dropped,
			       GError **error);

GVariant *
mrd_engine_dump(MrdEngine *self, gboolean all_users, guint32 uid, GError **error);
gboolean
mrd_engine_clear(MrdEngine *self,
		 gboolean all_users,
		 guint32 uid,
		 guint64 *n_removed,
		 GError **error);
gboolean
mrd_engine_get_status(MrdEngine *self,
		      gboolean all_users,
		      guint32 uid,
		      MrdEngineStatus *status,
		      GError **error);

void
mrd_engine_upload_now_async(MrdEngine *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean
mrd_engine_upload_now_finish(MrdEngine *self,
			     GAsyncResult *result,
			     guint *n_sent,
			     guint *n_failed,
			     GError **error);
GPtrArray *
mrd_engine_list_requests(MrdEngine *self, gboolean sent, GError **error);
gboolean
mrd_engine_get_idle_inhibited(MrdEngine *self);

G_END_DECLS
