/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-authority.h"
#include "mrd-clock.h"
#include "mrd-config.h"
#include "mrd-dbus-generated.h"

G_BEGIN_DECLS

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
mrd_service_set_config(MrdService *self, MrdConfig *config);

G_END_DECLS
