/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsDropCount"

#include "config.h"

#include "metrics-results-private.h"

/**
 * MetricsDropCount:
 *
 * How many events the daemon dropped for one reason (and, from
 * [method@Status.get_drops_by_metric], of one metric). Immutable.
 *
 * Since: 0.2
 */

struct _MetricsDropCount {
	GObject parent_instance;
	char *reason;	 /* (owned) */
	char *metric_id; /* (owned) (nullable) */
	guint64 count;
};

G_DEFINE_TYPE(MetricsDropCount, metrics_drop_count, G_TYPE_OBJECT)

enum { PROP_0, PROP_REASON, PROP_METRIC_ID, PROP_COUNT, N_PROPS };
static GParamSpec *props[N_PROPS] = {NULL};

MetricsDropCount *
metrics_drop_count_new(const char *reason, const char *metric_id, guint64 count)
{
	MetricsDropCount *self = g_object_new(METRICS_TYPE_DROP_COUNT, NULL);

	self->reason = g_strdup(reason);
	self->metric_id = g_strdup(metric_id);
	self->count = count;
	return self;
}

static void
metrics_drop_count_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	MetricsDropCount *self = METRICS_DROP_COUNT(object);

	switch (prop_id) {
	case PROP_REASON:
		g_value_set_string(value, self->reason);
		break;
	case PROP_METRIC_ID:
		g_value_set_string(value, self->metric_id);
		break;
	case PROP_COUNT:
		g_value_set_uint64(value, self->count);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
metrics_drop_count_finalize(GObject *object)
{
	MetricsDropCount *self = METRICS_DROP_COUNT(object);

	g_free(self->reason);
	g_free(self->metric_id);

	G_OBJECT_CLASS(metrics_drop_count_parent_class)->finalize(object);
}

static void
metrics_drop_count_class_init(MetricsDropCountClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = metrics_drop_count_get_property;
	object_class->finalize = metrics_drop_count_finalize;

	/**
	 * MetricsDropCount:reason:
	 *
	 * Why the events were dropped, as the daemon's `GetStatus` method
	 * names it: `no-consent`, `not-allowlisted`, `wrong-type`, …
	 *
	 * Since: 0.2
	 */
	props[PROP_REASON] = g_param_spec_string("reason", "Reason", NULL, NULL,
						 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * MetricsDropCount:metric-id:
	 *
	 * The metric whose events were dropped, as a textual UUID, also for an
	 * id that is not in the allowlist, or `others` for the metrics past the
	 * daemon's limit of entries; %NULL for a count of all metrics.
	 *
	 * Since: 0.2
	 */
	props[PROP_METRIC_ID] = g_param_spec_string("metric-id", "Metric id", NULL, NULL,
						    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * MetricsDropCount:count:
	 *
	 * How many events were dropped (for the reasons `malformed-calls` and
	 * `rate-limited-calls`: how many calls).
	 *
	 * Since: 0.2
	 */
	props[PROP_COUNT] = g_param_spec_uint64("count", "Count", NULL, 0, G_MAXUINT64, 0,
						G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
metrics_drop_count_init(MetricsDropCount *self)
{
}
