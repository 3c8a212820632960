/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstMetrics"

#include "config.h"

#include "minst-metrics.h"

/* the table itself is generated from data/allowlist/system.json into
 * minst-metrics-table.c */

const MinstMetric *
minst_metrics_get_all(guint *n_metrics)
{
	*n_metrics = minst_metrics_table_length;
	return minst_metrics_table;
}

const MinstMetric *
minst_metrics_lookup(const char *id)
{
	for (guint i = 0; i < minst_metrics_table_length; i++) {
		if (g_strcmp0(minst_metrics_table[i].id, id) == 0)
			return &minst_metrics_table[i];
	}
	return NULL;
}

/* for metrics with an inline value list only; value sets are checked by
 * the caller that loaded them */
gboolean
minst_metric_allows_value(const MinstMetric *metric, const char *value)
{
	if (metric->values == NULL)
		return FALSE;
	return g_strv_contains((const char *const *)metric->values, value);
}
