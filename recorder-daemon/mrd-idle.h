/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MRD_TYPE_IDLE (mrd_idle_get_type())
G_DECLARE_FINAL_TYPE(MrdIdle, mrd_idle, MRD, IDLE, GObject)

/**
 * MrdIdleInhibitFunc:
 * @user_data: the data given to mrd_idle_new()
 *
 * Asked when the idle period has passed.
 *
 * Returns: %TRUE if the daemon must stay although nobody called it
 */
typedef gboolean (*MrdIdleInhibitFunc)(gpointer user_data);

MrdIdle *
mrd_idle_new(GDBusConnection *connection,
	     guint timeout_seconds,
	     MrdIdleInhibitFunc inhibit_func,
	     gpointer user_data);
guint
mrd_idle_get_n_pending(MrdIdle *self);

G_END_DECLS
