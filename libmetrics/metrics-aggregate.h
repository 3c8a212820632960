/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib-object.h>

#include "metrics-common.h"

G_BEGIN_DECLS

#define METRICS_TYPE_AGGREGATE (metrics_aggregate_get_type())

/**
 * MetricsAggregate:
 *
 * One row of what the daemon stores locally: how often (or how long) one
 * metric was recorded with one value by one user in one week. Immutable.
 *
 * Since: 0.1
 */
typedef struct _MetricsAggregate MetricsAggregate;

GType
metrics_aggregate_get_type(void) G_GNUC_CONST;
MetricsAggregate *
metrics_aggregate_ref(MetricsAggregate *self);
void
metrics_aggregate_unref(MetricsAggregate *self);

guint32
metrics_aggregate_get_uid(MetricsAggregate *self);
const char *
metrics_aggregate_get_event_id(MetricsAggregate *self);
const char *
metrics_aggregate_get_week(MetricsAggregate *self);
MetricsEventKind
metrics_aggregate_get_kind(MetricsAggregate *self);
GVariant *
metrics_aggregate_get_payload(MetricsAggregate *self);
guint64
metrics_aggregate_get_count(MetricsAggregate *self);
guint64
metrics_aggregate_get_duration(MetricsAggregate *self);

MetricsAggregate *
metrics_aggregate_deserialize(GVariant *variant, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MetricsAggregate, metrics_aggregate_unref)

G_END_DECLS
