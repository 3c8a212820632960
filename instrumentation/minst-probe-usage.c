/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstProbeUsage"

#include "config.h"

#include "minst-probe.h"

/*
 * Desktop usage: which apps of the allowlist's known-app set were used in
 * the last week (other apps are never recorded, not even as "other"), and
 * how many workspaces the user has.
 *
 * Apps come from GNOME Shell's usage file, which the shell keeps anyway
 * for its app grid ordering: $XDG_DATA_HOME/gnome-shell/application_state,
 * with <application id="…" score="…" last-seen="UNIX-SECONDS"/> elements.
 *
 * How often each Settings panel is opened is not observable: GNOME Settings
 * keeps no record of it, and watching the process would need its
 * cooperation. It is left out until Settings records it through libmetrics.
 */

typedef struct {
	gint64 since;
	GPtrArray *apps; /* (element-type utf8) */
} ParseData;

static void
start_element_cb(GMarkupParseContext *context,
		 const char *element_name,
		 const char **attribute_names,
		 const char **attribute_values,
		 gpointer user_data,
		 GError **error)
{
	ParseData *data = user_data;
	const char *id = NULL;
	const char *last_seen = NULL;
	guint64 seen;

	if (g_strcmp0(element_name, "application") != 0)
		return;
	for (guint i = 0; attribute_names[i] != NULL; i++) {
		if (g_strcmp0(attribute_names[i], "id") == 0)
			id = attribute_values[i];
		else if (g_strcmp0(attribute_names[i], "last-seen") == 0)
			last_seen = attribute_values[i];
	}
	if (id == NULL || last_seen == NULL ||
	    !g_ascii_string_to_unsigned(last_seen, 10, 0, G_MAXINT64, &seen, NULL)) {
		g_debug("an application entry lacks id or last-seen: skipping it");
		return;
	}
	if ((gint64)seen < data->since)
		return;
	if (!g_ptr_array_find_with_equal_func(data->apps, id, g_str_equal, NULL))
		g_ptr_array_add(data->apps, g_strdup(id));
}

/* returns the ids of the apps last seen at or after @since (seconds since
 * the Unix epoch) */
GPtrArray *
minst_usage_parse_app_state(const char *contents, gint64 since, GError **error)
{
	const GMarkupParser parser = {.start_element = start_element_cb};
	g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func(g_free);
	ParseData data = {.since = since, .apps = apps};
	g_autoptr(GMarkupParseContext) context = NULL;

	context = g_markup_parse_context_new(&parser, G_MARKUP_PREFIX_ERROR_POSITION, &data, NULL);
	if (!g_markup_parse_context_parse(context, contents, -1, error) ||
	    !g_markup_parse_context_end_parse(context, error))
		return NULL;
	return g_steal_pointer(&apps);
}

const char *
minst_bucket_workspaces(gboolean dynamic, gint n)
{
	if (dynamic)
		return "dynamic";
	if (n <= 1)
		return "1";
	if (n <= 4)
		return minst_values_usage_workspaces[n];
	if (n <= 8)
		return "5-8";
	return "9+";
}

static void
probe_apps(MinstContext *ctx, GPtrArray *samples)
{
	g_autofree char *path = NULL;
	g_autofree char *contents = NULL;
	g_autoptr(GPtrArray) apps = NULL;
	g_autoptr(GError) error = NULL;

	if (ctx->known_apps == NULL) {
		g_debug("no known-app set: skipping the apps used");
		return;
	}
	/* remember-app-usage off: the shell's usage file is not even read */
	if (ctx->privacy != NULL &&
	    !minst_privacy_allows_metric(ctx->privacy,
					 minst_metrics_lookup(MINST_METRIC_USAGE_APP_USED))) {
		g_debug("app usage is off in the privacy settings: skipping the apps used");
		return;
	}
	if (ctx->user_data_dir == NULL) {
		g_debug("no user data directory: skipping the apps used");
		return;
	}
	path = g_build_filename(ctx->user_data_dir, "gnome-shell", "application_state", NULL);
	if (!g_file_get_contents(path, &contents, NULL, &error)) {
		g_debug("skipping the apps used: %s", error->message);
		return;
	}
	apps = minst_usage_parse_app_state(contents, ctx->now - 7 * 24 * 3600, &error);
	if (apps == NULL) {
		g_debug("skipping the apps used, %s is malformed: %s", path, error->message);
		return;
	}
	for (guint i = 0; i < apps->len; i++) {
		const char *id = g_ptr_array_index(apps, i);
		if (!g_hash_table_contains(ctx->known_apps, id))
			continue;
		minst_samples_add_value(samples, MINST_METRIC_USAGE_APP_USED,
					g_variant_new_string(id));
	}
}

static void
probe_workspaces(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GVariant) dynamic = NULL;
	g_autoptr(GVariant) number = NULL;

	dynamic = minst_context_lookup_setting(ctx, "org.gnome.mutter", "dynamic-workspaces",
					       G_VARIANT_TYPE_BOOLEAN);
	if (dynamic != NULL && g_variant_get_boolean(dynamic)) {
		minst_samples_add_value(samples, MINST_METRIC_USAGE_WORKSPACES,
					g_variant_new_string(minst_bucket_workspaces(TRUE, 0)));
		return;
	}
	number = minst_context_lookup_setting(ctx, "org.gnome.desktop.wm.preferences",
					      "num-workspaces", G_VARIANT_TYPE_INT32);
	if (number == NULL) {
		g_debug("the number of workspaces is unknown: skipping it");
		return;
	}
	minst_samples_add_value(
		samples, MINST_METRIC_USAGE_WORKSPACES,
		g_variant_new_string(minst_bucket_workspaces(FALSE, g_variant_get_int32(number))));
}

void
minst_probe_usage(MinstContext *ctx, GPtrArray *samples)
{
	probe_apps(ctx, samples);
	probe_workspaces(ctx, samples);
}
