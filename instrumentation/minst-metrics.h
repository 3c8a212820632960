/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <metrics.h>

G_BEGIN_DECLS

/*
 * Every metric the instrumentation records. Each one has an entry with the
 * same id, name, kind, payload type and value list in
 * data/allowlist/system.json; the test-metrics unit test cross-checks them.
 */

/* hardware, system service */
#define MINST_METRIC_HW_CPU_VENDOR "5a607ce9-8a65-40fc-a6d4-cf062209a138"
#define MINST_METRIC_HW_CPU_CORES "48769f89-6692-43f5-805b-fcb6d195908d"
#define MINST_METRIC_HW_RAM_SIZE "47effd3e-ffbb-4d86-aaa6-9879698ce0b0"
#define MINST_METRIC_HW_GPU_VENDOR "e38f3189-26c0-4910-846b-5df847aecde5"
#define MINST_METRIC_HW_CHASSIS "4cc6568e-b6b1-497b-830c-3c978dfd827b"
#define MINST_METRIC_HW_CAMERA "30eab634-d7ac-47a9-a9d3-de480d5c4003"
#define MINST_METRIC_HW_TOUCHSCREEN "e75ba5d2-338b-4f20-b230-2763bcaeb8ec"
#define MINST_METRIC_HW_FINGERPRINT_READER "e59600fc-4067-4200-9cf2-d8f16e139057"

/* system settings, user service */
#define MINST_METRIC_SETTINGS_LANGUAGE "454ea575-fd92-4652-b921-59bc0c395464"
#define MINST_METRIC_SETTINGS_INPUT_SOURCES "ea1db57b-4981-42ab-abd5-ccd8284f0dbf"
#define MINST_METRIC_SETTINGS_A11Y_FEATURE "1b782030-9120-47a9-bc84-5b9b02203b78"

/* desktop usage, user service */
#define MINST_METRIC_USAGE_APP_USED "f2f0e35a-df87-45b1-86c7-7b134c514067"
#define MINST_METRIC_USAGE_WORKSPACES "08273d68-446f-4189-b3f6-bde70c016989"

/* performance, system service */
#define MINST_METRIC_PERF_DISK_USAGE_ROOT "22edbbc0-7de3-4514-8b38-7a4ed979df10"
#define MINST_METRIC_PERF_DISK_USAGE_HOME "ace43c05-a2e6-4a47-9c44-aca6462bc122"
#define MINST_METRIC_PERF_MEMORY_PRESSURE "9a7a9d55-7b7b-464d-a043-5fb535dcd28f"

/* evidence of problems, system service */
#define MINST_METRIC_PROBLEMS_UNCLEAN_SHUTDOWNS "0087b514-343f-478b-bc3f-f22346b2422c"
#define MINST_METRIC_PROBLEMS_APP_CRASHES "4d8bff88-415c-41bb-9afd-298544e62592"
#define MINST_METRIC_PROBLEMS_CRASHES_TOTAL "ddf0f743-441a-4204-ac07-9cf5160d18e4"
#define MINST_METRIC_PROBLEMS_OOM_KILLS "0805e630-122d-4767-a603-c6601e2ed3db"

/* the value set that app ids are checked against (file in the allowlist's
 * value-sets directory) */
#define MINST_VALUE_SET_DESKTOP_APPS "desktop-apps"

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
	MinstMode mode;
	const char *category; /* as in the allowlist: hardware, settings, … */
} MinstMetric;

const MinstMetric *
minst_metrics_get_all(guint *n_metrics);
const MinstMetric *
minst_metrics_lookup(const char *id);
gboolean
minst_metric_allows_value(const MinstMetric *metric, const char *value);

/* the value lists, shared by the probes so that they can only emit listed
 * strings */
extern const char *const minst_values_cpu_vendor[];
extern const char *const minst_values_cpu_cores[];
extern const char *const minst_values_ram_size[];
extern const char *const minst_values_gpu_vendor[];
extern const char *const minst_values_chassis[];
extern const char *const minst_values_language[];
extern const char *const minst_values_input_sources[];
extern const char *const minst_values_a11y_feature[];
extern const char *const minst_values_workspaces[];
extern const char *const minst_values_disk_usage[];
extern const char *const minst_values_memory_pressure[];
extern const char *const minst_values_oom_killer[];

G_END_DECLS
