/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstMetrics"

#include "config.h"

#include "minst-metrics.h"

const char *const minst_values_cpu_vendor[] = {"intel", "amd", "arm", "other", NULL};
const char *const minst_values_cpu_cores[] = {"1", "2", "3-4", "5-8", "9-16", "17-32", "33+", NULL};
/* MemTotal rounded up to a power of two */
const char *const minst_values_ram_size[] = {"<=2GiB", "4GiB",	 "8GiB", "16GiB",
					     "32GiB",  "64GiB+", NULL};
const char *const minst_values_gpu_vendor[] = {"intel", "amd", "nvidia", "virtual", "other", NULL};
const char *const minst_values_chassis[] = {"desktop", "laptop", "convertible", "tablet",
					    "server",  "other",	 NULL};
/* ISO 639-1 codes of the languages with a noticeable number of desktop
 * users; anything else is recorded as "other" */
const char *const minst_values_language[] = {
	"af", "am", "ar", "as", "az", "be", "bg", "bn", "bs", "ca",    "cs", "cy", "da", "de",
	"el", "en", "eo", "es", "et", "eu", "fa", "fi", "fr", "ga",    "gl", "gu", "he", "hi",
	"hr", "hu", "hy", "id", "is", "it", "ja", "ka", "kk", "km",    "kn", "ko", "ky", "lo",
	"lt", "lv", "mk", "ml", "mn", "mr", "ms", "my", "nb", "ne",    "nl", "nn", "oc", "or",
	"pa", "pl", "ps", "pt", "ro", "ru", "si", "sk", "sl", "sq",    "sr", "sv", "sw", "ta",
	"te", "tg", "th", "tr", "uk", "ur", "uz", "vi", "zh", "other", NULL};
const char *const minst_values_input_sources[] = {"0", "1", "2", "3", "4+", NULL};
const char *const minst_values_a11y_feature[] = {
	"none",		 "screen-reader",      "magnifier",   "on-screen-keyboard", "large-text",
	"high-contrast", "large-cursor",       "sticky-keys", "slow-keys",	    "bounce-keys",
	"mouse-keys",	 "reduced-animations", NULL};
const char *const minst_values_workspaces[] = {"dynamic", "1", "2", "3", "4", "5-8", "9+", NULL};
const char *const minst_values_disk_usage[] = {"0-49", "50-74", "75-89", "90-100", NULL};
const char *const minst_values_memory_pressure[] = {"none", "low", "medium", "high", NULL};
const char *const minst_values_oom_killer[] = {"kernel", "systemd-oomd", NULL};

static const MinstMetric metrics[] = {
	{MINST_METRIC_HW_CPU_VENDOR, "hw-cpu-vendor", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_cpu_vendor, NULL, MINST_MODE_SYSTEM, "hardware"},
	{MINST_METRIC_HW_CPU_CORES, "hw-cpu-cores", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_cpu_cores, NULL, MINST_MODE_SYSTEM, "hardware"},
	{MINST_METRIC_HW_RAM_SIZE, "hw-ram-size", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_ram_size, NULL, MINST_MODE_SYSTEM, "hardware"},
	{MINST_METRIC_HW_GPU_VENDOR, "hw-gpu-vendor", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_gpu_vendor, NULL, MINST_MODE_SYSTEM, "hardware"},
	{MINST_METRIC_HW_CHASSIS, "hw-chassis", METRICS_EVENT_KIND_VALUE, "s", minst_values_chassis,
	 NULL, MINST_MODE_SYSTEM, "hardware"},
	{MINST_METRIC_HW_CAMERA, "hw-camera", METRICS_EVENT_KIND_VALUE, "b", NULL, NULL,
	 MINST_MODE_SYSTEM, "hardware"},
	{MINST_METRIC_HW_TOUCHSCREEN, "hw-touchscreen", METRICS_EVENT_KIND_VALUE, "b", NULL, NULL,
	 MINST_MODE_SYSTEM, "hardware"},
	{MINST_METRIC_HW_FINGERPRINT_READER, "hw-fingerprint-reader", METRICS_EVENT_KIND_VALUE, "b",
	 NULL, NULL, MINST_MODE_SYSTEM, "hardware"},
	{MINST_METRIC_SETTINGS_LANGUAGE, "settings-language", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_language, NULL, MINST_MODE_USER, "settings"},
	{MINST_METRIC_SETTINGS_INPUT_SOURCES, "settings-input-sources", METRICS_EVENT_KIND_VALUE,
	 "s", minst_values_input_sources, NULL, MINST_MODE_USER, "settings"},
	{MINST_METRIC_SETTINGS_A11Y_FEATURE, "settings-a11y-feature", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_a11y_feature, NULL, MINST_MODE_USER, "settings"},
	{MINST_METRIC_USAGE_APP_USED, "usage-app-used", METRICS_EVENT_KIND_VALUE, "s", NULL,
	 MINST_VALUE_SET_DESKTOP_APPS, MINST_MODE_USER, "usage"},
	{MINST_METRIC_USAGE_WORKSPACES, "usage-workspaces", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_workspaces, NULL, MINST_MODE_USER, "usage"},
	{MINST_METRIC_PERF_DISK_USAGE_ROOT, "perf-disk-usage-root", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_disk_usage, NULL, MINST_MODE_SYSTEM, "performance"},
	{MINST_METRIC_PERF_DISK_USAGE_HOME, "perf-disk-usage-home", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_disk_usage, NULL, MINST_MODE_SYSTEM, "performance"},
	{MINST_METRIC_PERF_MEMORY_PRESSURE, "perf-memory-pressure", METRICS_EVENT_KIND_VALUE, "s",
	 minst_values_memory_pressure, NULL, MINST_MODE_SYSTEM, "performance"},
	{MINST_METRIC_PROBLEMS_UNCLEAN_SHUTDOWNS, "problems-unclean-shutdowns",
	 METRICS_EVENT_KIND_COUNTER, NULL, NULL, NULL, MINST_MODE_SYSTEM, "problems"},
	{MINST_METRIC_PROBLEMS_APP_CRASHES, "problems-app-crashes", METRICS_EVENT_KIND_COUNTER, "s",
	 NULL, MINST_VALUE_SET_DESKTOP_APPS, MINST_MODE_SYSTEM, "problems"},
	{MINST_METRIC_PROBLEMS_CRASHES_TOTAL, "problems-crashes-total", METRICS_EVENT_KIND_COUNTER,
	 NULL, NULL, NULL, MINST_MODE_SYSTEM, "problems"},
	{MINST_METRIC_PROBLEMS_OOM_KILLS, "problems-oom-kills", METRICS_EVENT_KIND_COUNTER, "s",
	 minst_values_oom_killer, NULL, MINST_MODE_SYSTEM, "problems"},
};

const MinstMetric *
minst_metrics_get_all(guint *n_metrics)
{
	*n_metrics = G_N_ELEMENTS(metrics);
	return metrics;
}

const MinstMetric *
minst_metrics_lookup(const char *id)
{
	for (guint i = 0; i < G_N_ELEMENTS(metrics); i++) {
		if (g_strcmp0(metrics[i].id, id) == 0)
			return &metrics[i];
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
