/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <metrics.h>

G_BEGIN_DECLS

/*
 * Every metric the instrumentation records, with its id, name, kind,
 * payload type and values exactly as in data/allowlist/system.json: the
 * build generates minst-metrics-table.h and .c from that file
 * (gen-metrics-table.py), so the ids (MINST_METRIC_<NAME>), the value lists
 * (minst_values_<name>[]) and the value sets (MINST_VALUE_SET_<NAME>) come
 * from the allowlist the daemon enforces.
 */

typedef enum {
	MINST_MODE_SYSTEM,
	MINST_MODE_USER,
} MinstMode;

typedef struct {
	const char *id;
	const char *name;
	MetricsEventKind kind;
	const char *payload_type;  /* (nullable) GVariant type string */
	const char *const *values; /* (nullable) allowed strings, NULL-terminated */
	const char *values_from;   /* (nullable) name of a value set */
	const char *category;	   /* as in the allowlist: hardware, settings, … */
} MinstMetric;

#include "minst-metrics-table.h"

const MinstMetric *
minst_metrics_get_all(guint *n_metrics);
const MinstMetric *
minst_metrics_lookup(const char *id);
gboolean
minst_metric_allows_value(const MinstMetric *metric, const char *value);

G_END_DECLS
