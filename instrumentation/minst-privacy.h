/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "minst-metrics.h"

G_BEGIN_DECLS

#define MINST_PRIVACY_SCHEMA "org.gnome.desktop.privacy"

#define MINST_TYPE_PRIVACY (minst_privacy_get_type())
G_DECLARE_FINAL_TYPE(MinstPrivacy, minst_privacy, MINST, PRIVACY, GObject)

MinstPrivacy *
minst_privacy_new(GSettingsBackend *backend);
gboolean
minst_privacy_has_schema(MinstPrivacy *self);
gboolean
minst_privacy_allows_category(MinstPrivacy *self, const char *category);
gboolean
minst_privacy_allows_metric(MinstPrivacy *self, const MinstMetric *metric);

G_END_DECLS
