/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstRunner"

#include "config.h"

#include "minst-runner.h"

/*
 * Runs the probes of one mode and records their samples. Every metric is
 * weekly: a category of probes runs only if none of its metrics is stored
 * for the current week yet. That is asked from the daemon (GetLocalData,
 * the caller's own data), so the instrumentation keeps no state file and
 * a restart (each boot, each session) does not record twice.
 *
 * The desktop's privacy keys (MinstPrivacy) come before all of that: a
 * category they stop is not even probed, and a metric they stop is never
 * recorded, whichever probe made it.
 */

typedef struct {
	const char *category;
	MinstMode mode;
	void (*probe)(MinstContext *ctx, GPtrArray *samples);
} ProbeGroup;

static const ProbeGroup groups[] = {
	{"hardware", MINST_MODE_SYSTEM, minst_probe_hardware},
	{"performance", MINST_MODE_SYSTEM, minst_probe_performance},
	{"problems", MINST_MODE_SYSTEM, minst_probe_problems},
	{"settings", MINST_MODE_USER, minst_probe_settings},
	{"usage", MINST_MODE_USER, minst_probe_usage},
};

/* runs the probes of @mode except the categories in @skip_categories */
GPtrArray *
minst_runner_collect(MinstContext *ctx, MinstMode mode, GHashTable *skip_categories)
{
	g_autoptr(GPtrArray) samples = minst_samples_new();

	for (guint i = 0; i < G_N_ELEMENTS(groups); i++) {
		if (groups[i].mode != mode)
			continue;
		if (skip_categories != NULL &&
		    g_hash_table_contains(skip_categories, groups[i].category)) {
			g_debug("%s metrics are already recorded this week", groups[i].category);
			continue;
		}
		if (ctx->privacy != NULL &&
		    !minst_privacy_allows_category(ctx->privacy, groups[i].category)) {
			g_debug("%s metrics are off in the privacy settings", groups[i].category);
			continue;
		}
		g_debug("running the %s probes", groups[i].category);
		groups[i].probe(ctx, samples);
	}
	for (guint i = samples->len; ctx->privacy != NULL && i > 0; i--) {
		const MinstSample *sample = g_ptr_array_index(samples, i - 1);
		const MinstMetric *metric = minst_metrics_lookup(sample->metric_id);

		if (metric != NULL && !minst_privacy_allows_metric(ctx->privacy, metric)) {
			g_debug("%s is off in the privacy settings: not recording it",
				metric->name);
			g_ptr_array_remove_index(samples, i - 1);
		}
	}
	return g_steal_pointer(&samples);
}

/* the categories of which something is stored for the current week */
static GHashTable *
recorded_categories(MinstContext *ctx, MetricsClient *client, GError **error)
{
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GHashTable) categories = g_hash_table_new(g_str_hash, g_str_equal);
	/* the daemon files events under the week they are recorded in, which
	 * is now even when the probes look at another time (--now) */
	g_autofree char *week = minst_week_string(g_get_real_time() / G_USEC_PER_SEC);

	aggregates =
		metrics_client_get_local_data_sync(client, METRICS_CLIENT_FLAGS_NONE, NULL, error);
	if (aggregates == NULL)
		return NULL;
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		const MinstMetric *metric =
			minst_metrics_lookup(metrics_aggregate_get_event_id(aggregate));

		if (metric != NULL && g_strcmp0(metrics_aggregate_get_week(aggregate), week) == 0)
			g_hash_table_add(categories, (gpointer)metric->category);
	}
	return g_steal_pointer(&categories);
}

gboolean
minst_runner_run(MinstContext *ctx,
		 MinstMode mode,
		 MetricsRecorder *recorder,
		 MetricsClient *client,
		 guint *n_recorded,
		 GError **error)
{
	g_autoptr(GHashTable) skip = NULL;
	g_autoptr(GPtrArray) samples = NULL;
	guint n = 0;

	skip = recorded_categories(ctx, client, error);
	if (skip == NULL) {
		g_prefix_error(error, "cannot read what is recorded this week: ");
		return FALSE;
	}
	samples = minst_runner_collect(ctx, mode, skip);
	for (guint i = 0; i < samples->len; i++) {
		const MinstSample *sample = g_ptr_array_index(samples, i);
		g_autoptr(GError) error_local = NULL;
		g_autofree char *text = NULL;

		if (!minst_sample_validate(sample, ctx->known_apps, &error_local)) {
			/* a probe bug: never record what the allowlist does not list */
			g_warning("not recording a sample: %s", error_local->message);
			continue;
		}
		text = sample->payload != NULL ? g_variant_print(sample->payload, FALSE) :
						 g_strdup("-");
		g_debug("recording %s %s ×%" G_GINT64_FORMAT,
			minst_metrics_lookup(sample->metric_id)->name, text, sample->amount);
		if (sample->kind == METRICS_EVENT_KIND_COUNTER)
			metrics_recorder_add(recorder, sample->metric_id, sample->payload,
					     sample->amount);
		else
			metrics_recorder_record(recorder, sample->metric_id, sample->payload);
		n++;
	}
	if (!metrics_recorder_flush_sync(recorder, NULL, error))
		return FALSE;
	if (n_recorded != NULL)
		*n_recorded = n;
	return TRUE;
}
