/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MRD_TYPE_CALLER_REGISTRY (mrd_caller_registry_get_type())
G_DECLARE_FINAL_TYPE(MrdCallerRegistry, mrd_caller_registry, MRD, CALLER_REGISTRY, GObject)

MrdCallerRegistry *
mrd_caller_registry_new(GDBusConnection *connection);
void
mrd_caller_registry_get_uid_async(MrdCallerRegistry *self,
				  const char *sender,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
gboolean
mrd_caller_registry_get_uid_finish(MrdCallerRegistry *self,
				   GAsyncResult *result,
				   guint32 *uid,
				   GError **error);
guint
mrd_caller_registry_get_n_cached(MrdCallerRegistry *self);
guint
mrd_caller_registry_take_events(MrdCallerRegistry *self, const char *sender, guint n, gint64 now);
void
mrd_caller_registry_set_rate_limit(MrdCallerRegistry *self, guint events_per_second);

G_END_DECLS
