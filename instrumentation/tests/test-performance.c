/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestPerformance"

#include "config.h"

#include "minst-test-common.h"

static void
test_disk_bucket(void)
{
	g_assert_cmpstr(minst_bucket_disk_usage(0, 100), ==, "0-49");
	g_assert_cmpstr(minst_bucket_disk_usage(49, 51), ==, "0-49");
	g_assert_cmpstr(minst_bucket_disk_usage(50, 50), ==, "50-74");
	g_assert_cmpstr(minst_bucket_disk_usage(80, 20), ==, "75-89");
	g_assert_cmpstr(minst_bucket_disk_usage(90, 10), ==, "90-100");
	g_assert_cmpstr(minst_bucket_disk_usage(100, 0), ==, "90-100");
	g_assert_null(minst_bucket_disk_usage(0, 0));
}

static void
test_pressure(void)
{
	g_assert_cmpstr(minst_perf_memory_pressure("some avg10=0.00 avg60=0.00 avg300=0.00 "
						   "total=1\nfull avg10=0.00 avg60=0.00 "
						   "avg300=0.00 total=1\n"),
			==, "none");
	g_assert_cmpstr(minst_perf_memory_pressure("some avg10=1 avg60=1 avg300=0.15 total=1\n"),
			==, "low");
	g_assert_cmpstr(minst_perf_memory_pressure("some avg300=2.50 total=1\n"), ==, "medium");
	g_assert_cmpstr(minst_perf_memory_pressure("some avg300=42.00\n"), ==, "high");
	/* only "some" counts */
	g_assert_null(minst_perf_memory_pressure("full avg10=0.00 avg60=0.00 avg300=0.00\n"));
	g_assert_null(minst_perf_memory_pressure(""));
	g_assert_null(minst_perf_memory_pressure("some avg300=\n"));
	g_assert_null(minst_perf_memory_pressure("some avg300=lots\n"));
	g_assert_null(minst_perf_memory_pressure("some avg300=200.0\n"));
}

static void
test_machine(gconstpointer data)
{
	const char *machine = data;
	g_autoptr(MinstContext) ctx = minst_test_context_new(machine);
	g_autoptr(GPtrArray) samples = minst_samples_new();
	g_autofree char *log = NULL;

	minst_test_capture_begin();
	minst_probe_performance(ctx, samples);
	log = minst_test_capture_end();
	minst_test_assert_samples_valid(samples, ctx->known_apps);
	/* the fixture trees are on the build machine's disk, so the disk
	 * usage band is whatever it is, but it is there */
	g_assert_nonnull(minst_samples_find(samples, MINST_METRIC_PERF_DISK_USAGE_ROOT, NULL));
	if (g_strcmp0(machine, "laptop-intel") == 0) {
		g_assert_nonnull(
			minst_samples_find(samples, MINST_METRIC_PERF_DISK_USAGE_HOME, NULL));
		minst_test_assert_value(samples, MINST_METRIC_PERF_MEMORY_PRESSURE, "none");
		g_assert_cmpuint(samples->len, ==, 3);
	} else if (g_strcmp0(machine, "desktop-amd-nvidia") == 0) {
		minst_test_assert_value(samples, MINST_METRIC_PERF_MEMORY_PRESSURE, "medium");
		g_assert_cmpuint(samples->len, ==, 3);
	} else if (g_strcmp0(machine, "vm-minimal") == 0) {
		/* no /home in this tree */
		minst_test_assert_logged(log, "skipping the disk usage of /home: ");
		g_assert_null(minst_samples_find(samples, MINST_METRIC_PERF_DISK_USAGE_HOME, NULL));
		g_assert_nonnull(
			minst_samples_find(samples, MINST_METRIC_PERF_MEMORY_PRESSURE, NULL));
		g_assert_cmpuint(samples->len, ==, 2);
	} else {
		/* empty pressure file: skipped, and said why */
		minst_test_assert_logged(
			log,
			"the pressure file has no “some avg300”: skipping the memory pressure");
		g_assert_null(minst_samples_find(samples, MINST_METRIC_PERF_MEMORY_PRESSURE, NULL));
		g_assert_cmpuint(samples->len, ==, 1);
	}
}

int
main(int argc, char **argv)
{
	const char *machines[] = {"laptop-intel", "desktop-amd-nvidia", "vm-minimal", "malformed"};

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/metrics/instrumentation/performance/disk-bucket", test_disk_bucket);
	g_test_add_func("/metrics/instrumentation/performance/pressure", test_pressure);
	for (guint i = 0; i < G_N_ELEMENTS(machines); i++) {
		g_autofree char *path =
			g_strdup_printf("/metrics/instrumentation/performance/%s", machines[i]);
		g_test_add_data_func(path, machines[i], test_machine);
	}
	return g_test_run();
}
