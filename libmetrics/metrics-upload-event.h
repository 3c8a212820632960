/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define METRICS_TYPE_UPLOAD_EVENT (metrics_upload_event_get_type())
G_DECLARE_FINAL_TYPE(MetricsUploadEvent, metrics_upload_event, METRICS, UPLOAD_EVENT, GObject)

G_END_DECLS
