/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mpnl-dbus-generated.h"

G_BEGIN_DECLS

/**
 * MpnlState:
 * @MPNL_STATE_CONNECTING: not known yet: the recorder is being asked
 * @MPNL_STATE_ABSENT: the recorder service is not installed or not running
 *   and cannot be started
 * @MPNL_STATE_UNKNOWN: the user was never asked; nothing is collected
 * @MPNL_STATE_GRANTED: the user said yes
 * @MPNL_STATE_DENIED: the user said no; nothing is collected or kept
 *
 * What the panel knows about the recorder and the consent it holds.
 */
typedef enum {
	MPNL_STATE_CONNECTING,
	MPNL_STATE_ABSENT,
	MPNL_STATE_UNKNOWN,
	MPNL_STATE_GRANTED,
	MPNL_STATE_DENIED,
} MpnlState;

#define MPNL_TYPE_SERVICE (mpnl_service_get_type())
G_DECLARE_FINAL_TYPE(MpnlService, mpnl_service, MPNL, SERVICE, GObject)

MpnlService *
mpnl_service_new(GDBusConnection *connection);
MpnlState
mpnl_service_get_state(MpnlService *self);
gboolean
mpnl_service_get_locked(MpnlService *self);
gint64
mpnl_service_get_consent_timestamp(MpnlService *self);
MpnlDBusRecorder *
mpnl_service_get_proxy(MpnlService *self);
void
mpnl_service_set_consent_async(MpnlService *self,
			       gboolean granted,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
gboolean
mpnl_service_set_consent_finish(MpnlService *self, GAsyncResult *result, GError **error);
void
mpnl_service_call_async(MpnlService *self,
			const char *method,
			GVariant *parameters,
			gboolean interactive,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
GVariant *
mpnl_service_call_finish(MpnlService *self, GAsyncResult *result, GError **error);

gboolean
mpnl_error_is_permission_denied(const GError *error);
gboolean
mpnl_error_is_absent(const GError *error);
char *
mpnl_error_message(const GError *error);

G_END_DECLS
