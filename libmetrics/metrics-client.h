/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-aggregate.h"
#include "metrics-allowlist-entry.h"
#include "metrics-common.h"
#include "metrics-drop-count.h"
#include "metrics-status.h"
#include "metrics-upload-event.h"
#include "metrics-upload.h"

G_BEGIN_DECLS

/**
 * MetricsClientFlags:
 * @METRICS_CLIENT_FLAGS_NONE: No flags.
 * @METRICS_CLIENT_FLAGS_INTERACTIVE: Allow polkit to ask the user to
 *   authenticate (for example from a terminal or a settings panel).
 * @METRICS_CLIENT_FLAGS_ALL_USERS: Act on every user's data rather than the
 *   caller's; needs authorisation.
 *
 * Flags for the calls of [class@Client].
 *
 * Since: 0.1
 */
typedef enum {
	METRICS_CLIENT_FLAGS_NONE = 0,
	METRICS_CLIENT_FLAGS_INTERACTIVE = 1 << 0,
	METRICS_CLIENT_FLAGS_ALL_USERS = 1 << 1,
} MetricsClientFlags;

#define METRICS_TYPE_CLIENT (metrics_client_get_type())
G_DECLARE_FINAL_TYPE(MetricsClient, metrics_client, METRICS, CLIENT, GObject)

MetricsClient *
metrics_client_new(GDBusConnection *connection);
GDBusConnection *
metrics_client_get_connection(MetricsClient *self);

void
metrics_client_get_status_async(MetricsClient *self,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
GVariant *
metrics_client_get_status_finish(MetricsClient *self, GAsyncResult *result, GError **error);
GVariant *
metrics_client_get_status_sync(MetricsClient *self, GCancellable *cancellable, GError **error);
void
metrics_client_get_status_full_async(MetricsClient *self,
				     MetricsClientFlags flags,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
GVariant *
metrics_client_get_status_full_finish(MetricsClient *self, GAsyncResult *result, GError **error);
GVariant *
metrics_client_get_status_full_sync(MetricsClient *self,
				    MetricsClientFlags flags,
				    GCancellable *cancellable,
				    GError **error);

void
metrics_client_set_consent_async(MetricsClient *self,
				 MetricsConsent consent,
				 MetricsClientFlags flags,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean
metrics_client_set_consent_finish(MetricsClient *self, GAsyncResult *result, GError **error);
gboolean
metrics_client_set_consent_sync(MetricsClient *self,
				MetricsConsent consent,
				MetricsClientFlags flags,
				GCancellable *cancellable,
				GError **error);

void
metrics_client_set_user_choice_async(MetricsClient *self,
				     MetricsUserChoice choice,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
gboolean
metrics_client_set_user_choice_finish(MetricsClient *self, GAsyncResult *result, GError **error);
gboolean
metrics_client_set_user_choice_sync(MetricsClient *self,
				    MetricsUserChoice choice,
				    GCancellable *cancellable,
				    GError **error);
void
metrics_client_get_user_choice_async(MetricsClient *self,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
gboolean
metrics_client_get_user_choice_finish(MetricsClient *self,
				      GAsyncResult *result,
				      MetricsUserChoice *choice,
				      GError **error);
gboolean
metrics_client_get_user_choice_sync(MetricsClient *self,
				    MetricsUserChoice *choice,
				    GCancellable *cancellable,
				    GError **error);

void
metrics_client_set_category_async(MetricsClient *self,
				  const char *category,
				  gboolean enabled,
				  MetricsClientFlags flags,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
gboolean
metrics_client_set_category_finish(MetricsClient *self, GAsyncResult *result, GError **error);
gboolean
metrics_client_set_category_sync(MetricsClient *self,
				 const char *category,
				 gboolean enabled,
				 MetricsClientFlags flags,
				 GCancellable *cancellable,
				 GError **error);

void
metrics_client_get_local_data_async(MetricsClient *self,
				    MetricsClientFlags flags,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);
GPtrArray *
metrics_client_get_local_data_finish(MetricsClient *self, GAsyncResult *result, GError **error);
GPtrArray *
metrics_client_get_local_data_sync(MetricsClient *self,
				   MetricsClientFlags flags,
				   GCancellable *cancellable,
				   GError **error);

void
metrics_client_clear_async(MetricsClient *self,
			   MetricsClientFlags flags,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
gboolean
metrics_client_clear_finish(MetricsClient *self,
			    GAsyncResult *result,
			    guint64 *removed,
			    GError **error);
gboolean
metrics_client_clear_sync(MetricsClient *self,
			  MetricsClientFlags flags,
			  guint64 *removed,
			  GCancellable *cancellable,
			  GError **error);

void
metrics_client_get_allowlist_async(MetricsClient *self,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);
GVariant *
metrics_client_get_allowlist_finish(MetricsClient *self, GAsyncResult *result, GError **error);
GVariant *
metrics_client_get_allowlist_sync(MetricsClient *self, GCancellable *cancellable, GError **error);
/* upload */
void
metrics_client_upload_now_async(MetricsClient *self,
				MetricsClientFlags flags,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
gboolean
metrics_client_upload_now_finish(MetricsClient *self,
				 GAsyncResult *result,
				 guint *sent,
				 guint *failed,
				 GError **error);
gboolean
metrics_client_upload_now_sync(MetricsClient *self,
			       MetricsClientFlags flags,
			       guint *sent,
			       guint *failed,
			       GCancellable *cancellable,
			       GError **error);
void
metrics_client_get_pending_uploads_async(MetricsClient *self,
					 MetricsClientFlags flags,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data);
GVariant *
metrics_client_get_pending_uploads_finish(MetricsClient *self,
					  GAsyncResult *result,
					  GError **error);
GVariant *
metrics_client_get_pending_uploads_sync(MetricsClient *self,
					MetricsClientFlags flags,
					GCancellable *cancellable,
					GError **error);
void
metrics_client_get_sent_uploads_async(MetricsClient *self,
				      MetricsClientFlags flags,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data);
GVariant *
metrics_client_get_sent_uploads_finish(MetricsClient *self, GAsyncResult *result, GError **error);
GVariant *
metrics_client_get_sent_uploads_sync(MetricsClient *self,
				     MetricsClientFlags flags,
				     GCancellable *cancellable,
				     GError **error);

/* typed results */
void
metrics_client_query_status_async(MetricsClient *self,
				  MetricsClientFlags flags,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
MetricsStatus *
metrics_client_query_status_finish(MetricsClient *self, GAsyncResult *result, GError **error);
MetricsStatus *
metrics_client_query_status_sync(MetricsClient *self,
				 MetricsClientFlags flags,
				 GCancellable *cancellable,
				 GError **error);
void
metrics_client_list_metrics_async(MetricsClient *self,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
GPtrArray *
metrics_client_list_metrics_finish(MetricsClient *self, GAsyncResult *result, GError **error);
GPtrArray *
metrics_client_list_metrics_sync(MetricsClient *self, GCancellable *cancellable, GError **error);
void
metrics_client_list_pending_uploads_async(MetricsClient *self,
					  MetricsClientFlags flags,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data);
GPtrArray *
metrics_client_list_pending_uploads_finish(MetricsClient *self,
					   GAsyncResult *result,
					   GError **error);
GPtrArray *
metrics_client_list_pending_uploads_sync(MetricsClient *self,
					 MetricsClientFlags flags,
					 GCancellable *cancellable,
					 GError **error);
void
metrics_client_list_sent_uploads_async(MetricsClient *self,
				       MetricsClientFlags flags,
				       GCancellable *cancellable,
				       GAsyncReadyCallback callback,
				       gpointer user_data);
GPtrArray *
metrics_client_list_sent_uploads_finish(MetricsClient *self, GAsyncResult *result, GError **error);
GPtrArray *
metrics_client_list_sent_uploads_sync(MetricsClient *self,
				      MetricsClientFlags flags,
				      GCancellable *cancellable,
				      GError **error);

G_END_DECLS
