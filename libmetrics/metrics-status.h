/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define METRICS_TYPE_STATUS (metrics_status_get_type())
G_DECLARE_FINAL_TYPE(MetricsStatus, metrics_status, METRICS, STATUS, GObject)

GVariant *
metrics_status_get_variant(MetricsStatus *self);
GPtrArray *
metrics_status_get_drops(MetricsStatus *self);
GPtrArray *
metrics_status_get_drops_by_metric(MetricsStatus *self);

G_END_DECLS
