/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-admission.h"
#include "mrd-clock.h"
#include "mrd-engine.h"
#include "mrd-eos-generated.h"

G_BEGIN_DECLS

/* the Endless client interface (data/dbus/com.endlessm.Metrics.xml) */
#define MRD_EOS_DBUS_NAME "com.endlessm.Metrics"
#define MRD_EOS_DBUS_PATH "/com/endlessm/Metrics"

#define MRD_TYPE_EOS (mrd_eos_get_type())
G_DECLARE_FINAL_TYPE(MrdEos, mrd_eos, MRD, EOS, MrdEosDBusEventRecorderServerSkeleton)

MrdEos *
mrd_eos_new(MrdEngine *engine, MrdAdmission *admission, MrdClock *clock);
gboolean
mrd_eos_export(MrdEos *self, GDBusConnection *connection, GError **error);
void
mrd_eos_unexport(MrdEos *self);

G_END_DECLS
