/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MRD_TYPE_AUTHORITY (mrd_authority_get_type())
G_DECLARE_FINAL_TYPE(MrdAuthority, mrd_authority, MRD, AUTHORITY, GObject)

#define MRD_ACTION_SET_CONSENT "org.fedoraproject.Metrics1.set-consent"
#define MRD_ACTION_READ_ALL "org.fedoraproject.Metrics1.read-all"
#define MRD_ACTION_CLEAR_ALL "org.fedoraproject.Metrics1.clear-all"
#define MRD_ACTION_UPLOAD_NOW "org.fedoraproject.Metrics1.upload-now"

typedef enum {
	MRD_AUTHORITY_FLAGS_NONE = 0,
	MRD_AUTHORITY_FLAGS_ALLOW_INTERACTION = 1 << 0,
} MrdAuthorityFlags;

MrdAuthority *
mrd_authority_new(void);
void
mrd_authority_check_async(MrdAuthority *self,
			  const char *sender,
			  const char *action_id,
			  MrdAuthorityFlags flags,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
gboolean
mrd_authority_check_finish(MrdAuthority *self, GAsyncResult *result, GError **error);

G_END_DECLS
