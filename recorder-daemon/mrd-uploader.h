/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-clock.h"
#include "mrd-config.h"
#include "mrd-outbox.h"

G_BEGIN_DECLS

#define MRD_UPLOAD_USER_AGENT "metrics-recorder"

#define MRD_TYPE_UPLOADER (mrd_uploader_get_type())
G_DECLARE_FINAL_TYPE(MrdUploader, mrd_uploader, MRD, UPLOADER, GObject)

MrdUploader *
mrd_uploader_new(MrdOutbox *outbox,
		 MrdClock *clock,
		 const MrdConfig *config,
		 GNetworkMonitor *monitor);
void
mrd_uploader_set_loopback_needs_network(MrdUploader *self, gboolean needs_network);
void
mrd_uploader_start(MrdUploader *self);
void
mrd_uploader_stop(MrdUploader *self);
void
mrd_uploader_upload_now_async(MrdUploader *self,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
mrd_uploader_upload_now_finish(MrdUploader *self,
			       GAsyncResult *result,
			       guint *n_sent,
			       guint *n_failed,
			       GError **error);

/* the policy, as pure functions for the tests */
gint64
mrd_upload_backoff(guint attempts, guint min_seconds, guint max_seconds, double random01);
gboolean
mrd_upload_parse_retry_after(const char *value, gint64 now, gint64 *delay);
gint64
mrd_upload_clamp_retry_after(gint64 delay);
gboolean
mrd_upload_status_is_retryable(guint status);
char *
mrd_upload_describe_answer(guint status, const char *reason, const char *body, gsize len);
void
mrd_upload_forbid_tls_resumption(GTlsClientConnection *connection);
char *
mrd_upload_tls_priority(const char *current, const char *fallback);
void
mrd_upload_setup_tls_environment(void);

G_END_DECLS
