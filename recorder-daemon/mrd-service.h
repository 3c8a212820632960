/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-admission.h"
#include "mrd-authority.h"
#include "mrd-caller.h"
#include "mrd-clock.h"
#include "mrd-config.h"
#include "mrd-dbus-generated.h"
#include "mrd-engine.h"

G_BEGIN_DECLS

/* per client: far above what any app records, low enough that one client
 * cannot keep the daemon busy for others */
#define MRD_DEFAULT_RATE_LIMIT 10000
/* calls of any method per second per client: an app flushes about ten
 * times a second at most, a settings panel far less */
#define MRD_DEFAULT_CALL_RATE_LIMIT 500

#define MRD_TYPE_SERVICE (mrd_service_get_type())
G_DECLARE_FINAL_TYPE(MrdService, mrd_service, MRD, SERVICE, MrdDBusRecorderSkeleton)

MrdService *
mrd_service_new(GDBusConnection *connection,
		const char *state_dir,
		MrdAuthority *authority,
		MrdClock *clock);
gboolean
mrd_service_start(MrdService *self, GError **error);
void
mrd_service_stop(MrdService *self);
void
mrd_service_set_rate_limit(MrdService *self, guint events_per_second);
void
mrd_service_set_call_rate_limit(MrdService *self, guint calls_per_second);
MrdCallerRegistry *
mrd_service_get_callers(MrdService *self);
void
mrd_service_set_allowlist_dirs(MrdService *self, const char *const *dirs);
void
mrd_service_reload_allowlist(MrdService *self);
void
mrd_service_set_store_limits(MrdService *self, guint64 max_bytes, guint retention_weeks);
gboolean
mrd_service_get_idle_inhibited(MrdService *self);
void
mrd_service_set_config(MrdService *self, MrdConfig *config);

G_END_DECLS
