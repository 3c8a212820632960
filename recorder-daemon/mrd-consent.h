/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-common.h"
#include "mrd-allowlist.h"

G_BEGIN_DECLS

#define MRD_TYPE_CONSENT (mrd_consent_get_type())
G_DECLARE_FINAL_TYPE(MrdConsent, mrd_consent, MRD, CONSENT, GObject)

MrdConsent *
mrd_consent_new(const char *path);
MetricsConsent
mrd_consent_get_state(MrdConsent *self);
gint64
mrd_consent_get_timestamp(MrdConsent *self);
gboolean
mrd_consent_set(MrdConsent *self, MetricsConsent state, gint64 now, GError **error);
guint
mrd_consent_get_agreed(MrdConsent *self);
guint
mrd_consent_get_refused(MrdConsent *self);
gboolean
mrd_consent_set_categories(MrdConsent *self, guint on, guint off, GError **error);

G_END_DECLS
