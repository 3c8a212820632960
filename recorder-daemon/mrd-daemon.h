/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-service.h"

G_BEGIN_DECLS

#define MRD_TYPE_DAEMON (mrd_daemon_get_type())
G_DECLARE_FINAL_TYPE(MrdDaemon, mrd_daemon, MRD, DAEMON, GObject)

MrdDaemon *
mrd_daemon_new(GDBusConnection *bus, MrdService *service);
int
mrd_daemon_run(MrdDaemon *self, gboolean replace, guint idle_timeout);
char *
mrd_daemon_default_state_dir(void);

G_END_DECLS
