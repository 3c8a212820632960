/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstContext"

#include "config.h"

#include <string.h>

#include "minst-probe.h"

MinstContext *
minst_context_new(const char *root)
{
	MinstContext *ctx = g_new0(MinstContext, 1);

	ctx->root = g_strdup(root != NULL ? root : "/");
	ctx->language_names = g_strdupv((char **)g_get_language_names());
	ctx->now = g_get_real_time() / G_USEC_PER_SEC;
	return ctx;
}

void
minst_context_free(MinstContext *ctx)
{
	if (ctx == NULL)
		return;
	g_free(ctx->root);
	g_free(ctx->user_data_dir);
	g_free(ctx->journal_export);
	g_clear_pointer(&ctx->known_apps, g_hash_table_unref);
	g_clear_object(&ctx->privacy);
	g_strfreev(ctx->language_names);
	g_free(ctx);
}

/* @path is absolute as on a real system, such as "/proc/cpuinfo" */
char *
minst_context_build_path(MinstContext *ctx, const char *path)
{
	return g_build_filename(ctx->root, path, NULL);
}

char *
minst_context_read_file(MinstContext *ctx, const char *path, GError **error)
{
	g_autofree char *full = minst_context_build_path(ctx, path);
	g_autofree char *contents = NULL;

	if (!g_file_get_contents(full, &contents, NULL, error))
		return NULL;
	return g_steal_pointer(&contents);
}

/* the setting @key of @schema_id if it has @type; %NULL when there is no
 * settings backend, no such setting, or one of another type */
GVariant *
minst_context_lookup_setting(MinstContext *ctx,
			     const char *schema_id,
			     const char *key,
			     const GVariantType *type)
{
	g_autoptr(GVariant) value = NULL;

	if (ctx->settings_lookup == NULL)
		return NULL;
	value = ctx->settings_lookup(schema_id, key, ctx->settings_data);
	if (value == NULL)
		return NULL;
	if (!g_variant_is_of_type(value, type)) {
		g_debug("%s %s has an unexpected type %s: skipping it", schema_id, key,
			g_variant_get_type_string(value));
		return NULL;
	}
	return g_steal_pointer(&value);
}

/* a value set file, read as the recorder daemon reads it: one value per
 * line, '#' starts a comment line, blank lines and surrounding white space
 * are ignored */
GHashTable *
minst_value_set_load(const char *path, GError **error)
{
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (!g_file_get_contents(path, &contents, NULL, error))
		return NULL;
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *value = g_strstrip(lines[i]);

		if (value[0] != '\0' && value[0] != '#')
			g_hash_table_add(set, g_strdup(value));
	}
	return g_steal_pointer(&set);
}

/**
 * minst_known_apps_load:
 * @allowlist_dirs: the allowlist directories in the daemon's order
 * @path_out: (out) (optional): the file the set came from
 *
 * The known-app set exactly as the recorder daemon resolves
 * "values_from": "desktop-apps": value-sets/desktop-apps.txt from the last
 * directory that has it, so that an administrator's set in
 * /etc/metrics/allowlist.d replaces the shipped one here too.
 */
GHashTable *
minst_known_apps_load(const char *const *allowlist_dirs, char **path_out, GError **error)
{
	g_autofree char *file = g_strconcat(MINST_VALUE_SET_DESKTOP_APPS, ".txt", NULL);
	guint n = allowlist_dirs != NULL ? g_strv_length((GStrv)allowlist_dirs) : 0;

	for (guint i = n; i > 0; i--) {
		g_autofree char *path =
			g_build_filename(allowlist_dirs[i - 1], "value-sets", file, NULL);
		g_autoptr(GError) error_local = NULL;
		GHashTable *set = minst_value_set_load(path, &error_local);

		if (set != NULL) {
			if (path_out != NULL)
				*path_out = g_steal_pointer(&path);
			return set;
		}
		if (!g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
	}
	{
		g_autofree char *dirs = n > 0 ? g_strjoinv(", ", (GStrv)allowlist_dirs) :
						g_strdup("(no directory)");
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no value-sets/%s in %s", file,
			    dirs);
	}
	return NULL;
}

static void
minst_sample_free(gpointer data)
{
	MinstSample *sample = data;
	g_clear_pointer(&sample->payload, g_variant_unref);
	g_free(sample);
}

GPtrArray *
minst_samples_new(void)
{
	return g_ptr_array_new_with_free_func(minst_sample_free);
}

static void
minst_samples_add(GPtrArray *samples,
		  const char *metric_id,
		  MetricsEventKind kind,
		  GVariant *payload,
		  gint64 amount)
{
	MinstSample *sample = g_new0(MinstSample, 1);

	sample->metric_id = metric_id;
	sample->kind = kind;
	sample->payload = payload != NULL ? g_variant_ref_sink(payload) : NULL;
	sample->amount = amount;
	g_ptr_array_add(samples, sample);
}

/* @payload is (transfer floating) */
void
minst_samples_add_value(GPtrArray *samples, const char *metric_id, GVariant *payload)
{
	minst_samples_add(samples, metric_id, METRICS_EVENT_KIND_VALUE, payload, 1);
}

void
minst_samples_add_count(GPtrArray *samples, const char *metric_id, GVariant *payload, gint64 amount)
{
	minst_samples_add(samples, metric_id, METRICS_EVENT_KIND_COUNTER, payload, amount);
}

/* for tests: the sample of @metric_id whose string payload is @value (or any
 * sample of it when @value is NULL) */
const MinstSample *
minst_samples_find(GPtrArray *samples, const char *metric_id, const char *value)
{
	for (guint i = 0; i < samples->len; i++) {
		const MinstSample *sample = g_ptr_array_index(samples, i);

		if (g_strcmp0(sample->metric_id, metric_id) != 0)
			continue;
		if (value == NULL)
			return sample;
		if (sample->payload != NULL &&
		    g_variant_is_of_type(sample->payload, G_VARIANT_TYPE_STRING) &&
		    g_strcmp0(g_variant_get_string(sample->payload, NULL), value) == 0)
			return sample;
	}
	return NULL;
}

/* the last line of defence against a probe recording something that is not
 * in the allowlist: the metric, its kind, payload type and value */
gboolean
minst_sample_validate(const MinstSample *sample, GHashTable *known_apps, GError **error)
{
	const MinstMetric *metric = minst_metrics_lookup(sample->metric_id);
	const char *value;

	if (metric == NULL) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA, "unknown metric %s",
			    sample->metric_id);
		return FALSE;
	}
	if (metric->kind != sample->kind || sample->amount <= 0 ||
	    (metric->kind == METRICS_EVENT_KIND_VALUE && sample->amount != 1)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    "wrong kind or amount for %s", metric->name);
		return FALSE;
	}
	if (metric->payload_type == NULL) {
		if (sample->payload == NULL)
			return TRUE;
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA, "%s takes no payload",
			    metric->name);
		return FALSE;
	}
	if (sample->payload == NULL ||
	    g_strcmp0(g_variant_get_type_string(sample->payload), metric->payload_type) != 0) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    "wrong payload type for %s", metric->name);
		return FALSE;
	}
	if (!g_variant_is_of_type(sample->payload, G_VARIANT_TYPE_STRING))
		return TRUE;
	value = g_variant_get_string(sample->payload, NULL);
	if (metric->values != NULL && minst_metric_allows_value(metric, value))
		return TRUE;
	if (metric->values_from != NULL && known_apps != NULL &&
	    g_hash_table_contains(known_apps, value))
		return TRUE;
	g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
		    "value not in the allowed set for %s", metric->name);
	return FALSE;
}

GVariant *
minst_gsettings_lookup(const char *schema_id, const char *key, gpointer user_data)
{
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = NULL;
	g_autoptr(GSettings) settings = NULL;

	if (source == NULL) {
		g_debug("no GSettings schemas installed: skipping %s %s", schema_id, key);
		return NULL;
	}
	schema = g_settings_schema_source_lookup(source, schema_id, TRUE);
	if (schema == NULL) {
		g_debug("no schema %s: skipping %s", schema_id, key);
		return NULL;
	}
	if (!g_settings_schema_has_key(schema, key)) {
		g_debug("schema %s has no key %s: skipping it", schema_id, key);
		return NULL;
	}
	settings = g_settings_new_full(schema, NULL, NULL);
	return g_settings_get_value(settings, key);
}

/* Monday 00:00 UTC of the ISO week that contains @now */
static gint64
week_start(gint64 now)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(now);
	g_autoptr(GDateTime) midnight = NULL;
	g_autoptr(GDateTime) monday = NULL;

	midnight = g_date_time_new_utc(g_date_time_get_year(dt), g_date_time_get_month(dt),
				       g_date_time_get_day_of_month(dt), 0, 0, 0);
	monday = g_date_time_add_days(midnight, 1 - g_date_time_get_day_of_week(midnight));
	return g_date_time_to_unix(monday);
}

void
minst_previous_week(gint64 now, gint64 *start, gint64 *end)
{
	*end = week_start(now);
	*start = *end - 7 * 24 * 3600;
}

/* the week as the daemon names it in stored aggregates: its Monday */
char *
minst_week_string(gint64 now)
{
	g_autoptr(GDateTime) monday = g_date_time_new_from_unix_utc(week_start(now));
	return g_date_time_format(monday, "%Y-%m-%d");
}
