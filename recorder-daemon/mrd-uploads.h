/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-allowlist.h"
#include "mrd-clock.h"
#include "mrd-config.h"
#include "mrd-drops.h"
#include "mrd-outbox.h"
#include "mrd-store.h"

G_BEGIN_DECLS

/* what the engine reports of the uploads */
typedef struct {
	guint64 n_pending;
	guint64 n_set_aside;
	gint64 next_upload; /* usec, 0: none */
	gint64 last_upload; /* usec, 0: never */
} MrdUploadsStats;

/* the upload side of an open store: closed weeks frozen into requests
 * (MrdOutbox) at each week's end, and sent (MrdUploader) */
#define MRD_TYPE_UPLOADS (mrd_uploads_get_type())
G_DECLARE_FINAL_TYPE(MrdUploads, mrd_uploads, MRD, UPLOADS, GObject)

MrdUploads *
mrd_uploads_new(MrdStore *store, MrdClock *clock, const MrdConfig *config, MrdDrops *drops);
void
mrd_uploads_set_allowlist(MrdUploads *self, MrdAllowlist *allowlist);
void
mrd_uploads_start(MrdUploads *self);
void
mrd_uploads_stop(MrdUploads *self);
gboolean
mrd_uploads_prune(MrdUploads *self, const char *oldest_week, GError **error);
gint64
mrd_uploads_get_first_open_week(MrdUploads *self);
gboolean
mrd_uploads_get_stats(MrdUploads *self, MrdUploadsStats *stats, GError **error);
GPtrArray *
mrd_uploads_list_pending(MrdUploads *self, GError **error);
GPtrArray *
mrd_uploads_list_sent(MrdUploads *self, GError **error);
void
mrd_uploads_upload_now_async(MrdUploads *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
mrd_uploads_upload_now_finish(MrdUploads *self,
			      GAsyncResult *result,
			      guint *n_sent,
			      guint *n_failed,
			      GError **error);

G_END_DECLS
