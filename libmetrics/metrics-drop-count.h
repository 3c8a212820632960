/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define METRICS_TYPE_DROP_COUNT (metrics_drop_count_get_type())
G_DECLARE_FINAL_TYPE(MetricsDropCount, metrics_drop_count, METRICS, DROP_COUNT, GObject)

G_END_DECLS
