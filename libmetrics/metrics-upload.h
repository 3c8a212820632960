/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define METRICS_TYPE_UPLOAD (metrics_upload_get_type())
G_DECLARE_FINAL_TYPE(MetricsUpload, metrics_upload, METRICS, UPLOAD, GObject)

GVariant *
metrics_upload_get_variant(MetricsUpload *self);
GPtrArray *
metrics_upload_get_events(MetricsUpload *self);

G_END_DECLS
