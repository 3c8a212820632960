/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstProbePerformance"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "minst-probe.h"

/*
 * Performance: how full / and /home are (in four coarse bands, as df
 * computes it: used / (used + available to users)), and the memory
 * pressure over the last five minutes (PSI "some" avg300).
 */

const char *
minst_bucket_disk_usage(guint64 used, guint64 available)
{
	guint64 percent;

	if (used + available == 0)
		return NULL;
	percent = used * 100 / (used + available);
	if (percent < 50)
		return "0-49";
	if (percent < 75)
		return "50-74";
	if (percent < 90)
		return "75-89";
	return "90-100";
}

/* thresholds in percent of time some task was stalled on memory */
const char *
minst_perf_memory_pressure(const char *pressure)
{
	g_auto(GStrv) lines = g_strsplit(pressure, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) fields = NULL;

		if (!g_str_has_prefix(lines[i], "some "))
			continue;
		fields = g_strsplit(lines[i] + strlen("some "), " ", -1);
		for (guint j = 0; fields[j] != NULL; j++) {
			char *end = NULL;
			double avg;

			if (!g_str_has_prefix(fields[j], "avg300="))
				continue;
			avg = g_ascii_strtod(fields[j] + strlen("avg300="), &end);
			if (end == fields[j] + strlen("avg300=") || *end != '\0' || avg < 0 ||
			    avg > 100) {
				g_debug("avg300 is not a percentage: skipping the memory "
					"pressure");
				return NULL;
			}
			if (avg < 0.1)
				return "none";
			if (avg < 1.0)
				return "low";
			if (avg < 10.0)
				return "medium";
			return "high";
		}
	}
	g_debug("the pressure file has no “some avg300”: skipping the memory pressure");
	return NULL;
}

static void
probe_disk(MinstContext *ctx, const char *mount, const char *metric_id, GPtrArray *samples)
{
	g_autofree char *path = minst_context_build_path(ctx, mount);
	struct statvfs buf;
	const char *bucket;

	if (statvfs(path, &buf) != 0) {
		g_debug("skipping the disk usage of %s: %s", mount, g_strerror(errno));
		return;
	}
	bucket = minst_bucket_disk_usage((guint64)(buf.f_blocks - buf.f_bfree),
					 (guint64)buf.f_bavail);
	if (bucket == NULL) {
		g_debug("%s reports no size: skipping its disk usage", mount);
		return;
	}
	minst_samples_add_value(samples, metric_id, g_variant_new_string(bucket));
}

void
minst_probe_performance(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *pressure = NULL;
	const char *bucket = NULL;

	probe_disk(ctx, "/", MINST_METRIC_PERF_DISK_USAGE_ROOT, samples);
	probe_disk(ctx, "/home", MINST_METRIC_PERF_DISK_USAGE_HOME, samples);

	pressure = minst_context_read_file(ctx, "/proc/pressure/memory", &error);
	if (pressure == NULL) {
		/* kernels without CONFIG_PSI, or psi=0 */
		g_debug("skipping the memory pressure: %s", error->message);
		return;
	}
	bucket = minst_perf_memory_pressure(pressure);
	if (bucket != NULL)
		minst_samples_add_value(samples, MINST_METRIC_PERF_MEMORY_PRESSURE,
					g_variant_new_string(bucket));
}
