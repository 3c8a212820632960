/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-authority.h"
#include "mrd-caller.h"
#include "mrd-drops.h"

G_BEGIN_DECLS

/* polkit checks one client may have in flight */
#define MRD_MAX_PENDING_CHECKS 8

/* whether a D-Bus call may go on: the client's call rate, its polkit
 * checks in flight, polkit itself; and how refusals are answered and
 * logged */
#define MRD_TYPE_ADMISSION (mrd_admission_get_type())
G_DECLARE_FINAL_TYPE(MrdAdmission, mrd_admission, MRD, ADMISSION, GObject)

MrdAdmission *
mrd_admission_new(MrdCallerRegistry *callers, MrdAuthority *authority, MrdDrops *drops);
void
mrd_admission_set_call_rate_limit(MrdAdmission *self, guint calls_per_second);
gboolean
mrd_admission_admit(MrdAdmission *self, GDBusMethodInvocation *invocation);
void
mrd_admission_guard_calls(MrdAdmission *self, gpointer skeleton, GType iface_type);
void
mrd_admission_authorize_async(MrdAdmission *self,
			      GDBusMethodInvocation *invocation,
			      const char *action_id,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
mrd_admission_authorize_finish(MrdAdmission *self, GAsyncResult *result, GError **error);
void
mrd_admission_return_error(MrdAdmission *self,
			   GDBusMethodInvocation *invocation,
			   const GError *error);
gboolean
mrd_admission_check_options(GVariant *options, const char *const *allowed, GError **error);

G_END_DECLS
