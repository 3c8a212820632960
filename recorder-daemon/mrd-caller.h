/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MRD_TYPE_CALLER_REGISTRY (mrd_caller_registry_get_type())
G_DECLARE_FINAL_TYPE(MrdCallerRegistry, mrd_caller_registry, MRD, CALLER_REGISTRY, GObject)

/**
 * MrdCallerUidFunc:
 * @sender: the unique bus name of the caller
 * @uid: (out): its Unix uid
 * @user_data: what was given to mrd_caller_registry_set_uid_func()
 *
 * Tells the uid of a bus peer in place of asking the bus: the seam through
 * which unit tests play several users on one test bus.
 *
 * Returns: %FALSE if the caller cannot be identified
 */
typedef gboolean (*MrdCallerUidFunc)(const char *sender, guint32 *uid, gpointer user_data);

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
GPtrArray *
mrd_caller_registry_list_senders(MrdCallerRegistry *self, guint32 uid);
guint
mrd_caller_registry_take_events(MrdCallerRegistry *self, const char *sender, guint n, gint64 now);
void
mrd_caller_registry_set_rate_limit(MrdCallerRegistry *self, guint events_per_second);
void
mrd_caller_registry_set_call_limit(MrdCallerRegistry *self,
				   guint calls_per_second,
				   guint max_pending_checks);
gboolean
mrd_caller_registry_take_call(MrdCallerRegistry *self, const char *sender, gint64 now);
gboolean
mrd_caller_registry_begin_check(MrdCallerRegistry *self, const char *sender);
void
mrd_caller_registry_end_check(MrdCallerRegistry *self, const char *sender);
void
mrd_caller_registry_set_uid_func(MrdCallerRegistry *self,
				 MrdCallerUidFunc func,
				 gpointer user_data);

void
mrd_caller_registry_get_identity_async(MrdCallerRegistry *self,
				       const char *sender,
				       GCancellable *cancellable,
				       GAsyncReadyCallback callback,
				       gpointer user_data);
gboolean
mrd_caller_registry_get_identity_finish(MrdCallerRegistry *self,
					GAsyncResult *result,
					guint32 *uid,
					char **app_id,
					GError **error);

/* the largest /.flatpak-info read; flatpak writes a few KiB */
#define MRD_FLATPAK_INFO_MAX_SIZE (64 * 1024)

char *
mrd_caller_parse_flatpak_info(const char *contents, gsize length, GError **error);
char *
mrd_caller_read_app_id(int pidfd, guint32 pid, GError **error);

G_END_DECLS
