/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-clock.h"
#include "mrd-config.h"
#include "mrd-outbox.h"
#include "mrd-upload-policy.h"

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
mrd_uploader_reschedule(MrdUploader *self);
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

G_END_DECLS
