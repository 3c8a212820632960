/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestMetrics"

#include "config.h"

#include <json-glib/json-glib.h>

#include "minst-test-common.h"

/*
 * The table of metrics the build generates from data/allowlist/system.json:
 * it says what the file says, entry for entry and in the same order (so the
 * generator neither drops nor changes anything), it holds what the probes
 * rely on (unique ids, a value list or value set for every string payload,
 * value sets that exist), and every value a probe's bucketing can return is
 * in its metric's list.
 */

static JsonArray *
load_allowlist(JsonParser *parser)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "..", "data", "allowlist",
						      "system.json", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(json_parser_load_from_file(parser, path, &error));
	g_assert_no_error(error);
	return json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
					    "metrics");
}

static void
test_generated_table(void)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonArray *metrics = load_allowlist(parser);
	const MinstMetric *table;
	guint n;

	table = minst_metrics_get_all(&n);
	g_assert_cmpuint(n, ==, json_array_get_length(metrics));
	for (guint i = 0; i < n; i++) {
		const MinstMetric *metric = &table[i];
		JsonObject *entry = json_array_get_object_element(metrics, i);
		JsonNode *payload;

		g_assert_cmpstr(json_object_get_string_member(entry, "id"), ==, metric->id);
		g_assert_true(metrics_event_id_is_valid(metric->id));
		/* the lookup finds this entry, so no other has its id */
		g_assert_true(minst_metrics_lookup(metric->id) == metric);
		g_assert_cmpstr(json_object_get_string_member(entry, "name"), ==, metric->name);
		g_assert_cmpstr(json_object_get_string_member(entry, "kind"), ==,
				metrics_event_kind_to_string(metric->kind));
		g_assert_cmpstr(json_object_get_string_member(entry, "category"), ==,
				metric->category);
		payload = json_object_get_member(entry, "payload");
		g_assert_nonnull(payload);
		if (metric->payload_type == NULL)
			g_assert_true(JSON_NODE_HOLDS_NULL(payload));
		else
			g_assert_cmpstr(json_node_get_string(payload), ==, metric->payload_type);

		if (metric->values != NULL) {
			JsonArray *values = json_object_get_array_member(entry, "values");
			g_assert_nonnull(values);
			g_assert_cmpuint(json_array_get_length(values), ==,
					 g_strv_length((char **)metric->values));
			for (guint j = 0; j < json_array_get_length(values); j++)
				g_assert_cmpstr(json_array_get_string_element(values, j), ==,
						metric->values[j]);
		} else {
			g_assert_false(json_object_has_member(entry, "values"));
		}
		g_assert_cmpstr(json_object_has_member(entry, "values_from") ?
					json_object_get_string_member(entry, "values_from") :
					NULL,
				==, metric->values_from);
		if (metric->values_from != NULL) {
			g_autofree char *file = g_strconcat(metric->values_from, ".txt", NULL);
			g_autofree char *path =
				g_test_build_filename(G_TEST_DIST, "..", "..", "data", "allowlist",
						      "value-sets", file, NULL);
			g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
		}
		/* only string payloads take value lists; every string payload
		 * has one, so no free-form string is recorded */
		if (g_strcmp0(metric->payload_type, "s") == 0)
			g_assert_true(metric->values != NULL || metric->values_from != NULL);
		else
			g_assert_true(metric->values == NULL && metric->values_from == NULL);
	}
	g_assert_null(minst_metrics_lookup("00000000-0000-4000-8000-000000000000"));
}

static void
assert_in(const char *metric_id, const char *value)
{
	const MinstMetric *metric = minst_metrics_lookup(metric_id);

	g_assert_nonnull(metric);
	if (value != NULL && !minst_metric_allows_value(metric, value))
		g_error("%s can emit “%s”, which is not in its values", metric->name, value);
}

/* the bucketing functions over their whole input ranges */
static void
test_buckets_in_values(void)
{
	const char *ram_sizes[] = {"MemTotal: 1 kB\n", "MemTotal: 2097152 kB\n",
				   "MemTotal: 2097153 kB\n", "MemTotal: 33554433 kB\n",
				   "MemTotal: 999999999999 kB\n"};
	const char *pressures[] = {"some avg300=0.00\n", "some avg300=0.5\n", "some avg300=5\n",
				   "some avg300=100\n"};
	char buf[16];

	for (guint n = 0; n <= 300; n++)
		assert_in(MINST_METRIC_HW_CPU_CORES, minst_bucket_cpu_cores(n));
	for (guint i = 0; i < G_N_ELEMENTS(ram_sizes); i++)
		assert_in(MINST_METRIC_HW_RAM_SIZE, minst_hw_ram_size(ram_sizes[i]));
	for (guint id = 0; id <= 0xffff; id++) {
		g_snprintf(buf, sizeof(buf), "0x%04x", id);
		assert_in(MINST_METRIC_HW_GPU_VENDOR, minst_hw_gpu_vendor_from_pci_id(buf));
	}
	for (guint type = 0; type <= 256; type++) {
		g_snprintf(buf, sizeof(buf), "%u", type);
		assert_in(MINST_METRIC_HW_CHASSIS, minst_hw_chassis(buf));
	}
	for (guint n = 0; n <= 64; n++)
		assert_in(MINST_METRIC_SETTINGS_INPUT_SOURCES, minst_bucket_input_sources(n));
	for (gint n = -2; n <= 64; n++) {
		assert_in(MINST_METRIC_USAGE_WORKSPACES, minst_bucket_workspaces(FALSE, n));
		assert_in(MINST_METRIC_USAGE_WORKSPACES, minst_bucket_workspaces(TRUE, n));
	}
	for (guint used = 0; used <= 100; used++)
		assert_in(MINST_METRIC_PERF_DISK_USAGE_ROOT,
			  minst_bucket_disk_usage(used, 100 - used));
	for (guint i = 0; i < G_N_ELEMENTS(pressures); i++)
		assert_in(MINST_METRIC_PERF_MEMORY_PRESSURE,
			  minst_perf_memory_pressure(pressures[i]));
	assert_in(MINST_METRIC_HW_CPU_VENDOR, minst_hw_cpu_vendor("vendor_id : GenuineIntel\n"));
	assert_in(MINST_METRIC_HW_CPU_VENDOR, minst_hw_cpu_vendor("vendor_id : Whatever\n"));
	assert_in(MINST_METRIC_HW_CPU_VENDOR, minst_hw_cpu_vendor("CPU implementer : 0x61\n"));
	/* every language code of the list maps to itself */
	for (guint i = 0; minst_values_settings_language[i] != NULL; i++) {
		const char *names[] = {minst_values_settings_language[i], NULL};
		if (g_strcmp0(minst_values_settings_language[i], "other") != 0)
			g_assert_cmpstr(minst_settings_language(names), ==,
					minst_values_settings_language[i]);
	}
	for (guint i = 0; minst_values_settings_a11y_feature[i] != NULL; i++)
		assert_in(MINST_METRIC_SETTINGS_A11Y_FEATURE,
			  minst_values_settings_a11y_feature[i]);
}

static void
test_validate(void)
{
	g_autoptr(GPtrArray) samples = minst_samples_new();
	g_autoptr(GHashTable) apps = g_hash_table_new(g_str_hash, g_str_equal);
	const struct {
		const char *id;
		gboolean counter;
		const char *payload;
		gboolean valid;
	} cases[] = {
		{MINST_METRIC_HW_CPU_VENDOR, FALSE, "'intel'", TRUE},
		{MINST_METRIC_HW_CPU_VENDOR, FALSE, "'GenuineIntel'", FALSE},
		{MINST_METRIC_HW_CPU_VENDOR, TRUE, "'intel'", FALSE},
		{MINST_METRIC_HW_CPU_VENDOR, FALSE, "true", FALSE},
		{MINST_METRIC_HW_CAMERA, FALSE, "true", TRUE},
		{MINST_METRIC_HW_CAMERA, FALSE, NULL, FALSE},
		{MINST_METRIC_PROBLEMS_CRASHES_TOTAL, TRUE, NULL, TRUE},
		{MINST_METRIC_PROBLEMS_CRASHES_TOTAL, TRUE, "'x'", FALSE},
		{MINST_METRIC_PROBLEMS_APP_CRASHES, TRUE, "'org.gnome.Nautilus.desktop'", TRUE},
		{MINST_METRIC_PROBLEMS_APP_CRASHES, TRUE, "'com.example.Private.desktop'", FALSE},
		{"00000000-0000-4000-8000-000000000000", FALSE, NULL, FALSE},
	};

	g_hash_table_add(apps, (gpointer) "org.gnome.Nautilus.desktop");
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		GVariant *payload =
			cases[i].payload != NULL ?
				g_variant_parse(NULL, cases[i].payload, NULL, NULL, NULL) :
				NULL;

		if (cases[i].counter)
			minst_samples_add_count(samples, cases[i].id, payload, 3);
		else
			minst_samples_add_value(samples, cases[i].id, payload);
		g_clear_pointer(&payload, g_variant_unref);
		g_assert_cmpint(minst_sample_validate(g_ptr_array_index(samples, i), apps, &error),
				==, cases[i].valid);
		if (!cases[i].valid)
			g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/metrics/instrumentation/metrics/generated-table", test_generated_table);
	g_test_add_func("/metrics/instrumentation/metrics/buckets-in-values",
			test_buckets_in_values);
	g_test_add_func("/metrics/instrumentation/metrics/validate", test_validate);
	return g_test_run();
}
