/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "minst-metrics.h"
#include "minst-privacy.h"

G_BEGIN_DECLS

/*
 * What every probe shares: where it reads from (a root directory that tests
 * point at a fixture tree), and where its results go (a list of samples that
 * the runner checks against the metric table and records).
 */

/* returns the value of a GSettings key, or NULL (with the reason at debug
 * level) when the schema or the key does not exist */
typedef GVariant *(*MinstSettingsLookupFunc)(const char *schema_id,
					     const char *key,
					     gpointer user_data);

typedef struct {
	char *root;				 /* (owned) probe root, "/" in production */
	char *user_data_dir;			 /* (owned) (nullable) the user's XDG data dir */
	char *journal_export;			 /* (owned) (nullable) export-format file read
						  * instead of running journalctl */
	GHashTable *known_apps;			 /* (owned) (nullable) the desktop-apps value set */
	char **language_names;			 /* (owned) as from g_get_language_names() */
	gint64 now;				 /* seconds since the Unix epoch */
	MinstSettingsLookupFunc settings_lookup; /* (nullable) */
	gpointer settings_data;
	MinstPrivacy *privacy; /* (owned) (nullable) the desktop's privacy keys */
} MinstContext;

typedef struct {
	const char *metric_id; /* (unowned) one of the MINST_METRIC_ ids */
	MetricsEventKind kind;
	GVariant *payload; /* (owned) (nullable) */
	gint64 amount;
} MinstSample;

MinstContext *
minst_context_new(const char *root);
void
minst_context_free(MinstContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MinstContext, minst_context_free)

char *
minst_context_build_path(MinstContext *ctx, const char *path);
char *
minst_context_read_file(MinstContext *ctx, const char *path, GError **error);
GVariant *
minst_context_lookup_setting(MinstContext *ctx,
			     const char *schema_id,
			     const char *key,
			     const GVariantType *type);
GHashTable *
minst_value_set_load(const char *path, GError **error);

/* the recorder daemon's default allowlist directories (its
 * MRD_DEFAULT_ALLOWLIST_DIRS), in its order: later ones win */
#define MINST_DEFAULT_ALLOWLIST_DIRS PKGDATADIR "/allowlist:" SYSCONFDIR "/metrics/allowlist.d"

GHashTable *
minst_known_apps_load(const char *const *allowlist_dirs, char **path_out, GError **error);

GPtrArray *
minst_samples_new(void);
void
minst_samples_add_value(GPtrArray *samples, const char *metric_id, GVariant *payload);
void
minst_samples_add_count(GPtrArray *samples,
			const char *metric_id,
			GVariant *payload,
			gint64 amount);
const MinstSample *
minst_samples_find(GPtrArray *samples, const char *metric_id, const char *value);
gboolean
minst_sample_validate(const MinstSample *sample, GHashTable *known_apps, GError **error);

/* the GSettings implementation of MinstSettingsLookupFunc */
GVariant *
minst_gsettings_lookup(const char *schema_id, const char *key, gpointer user_data);

/* hardware (minst-probe-hardware.c) */
const char *
minst_hw_cpu_vendor(const char *cpuinfo);
guint
minst_hw_cpu_cores(const char *cpuinfo);
const char *
minst_bucket_cpu_cores(guint cores);
const char *
minst_hw_ram_size(const char *meminfo);
const char *
minst_hw_gpu_vendor_from_pci_id(const char *vendor);
const char *
minst_hw_chassis(const char *chassis_type);
gboolean
minst_hw_touchscreen_from_input_devices(const char *devices, gboolean *present);
gboolean
minst_hw_v4l_capture_from_udev(const char *udev_data, gboolean *capture);
gboolean
minst_hw_is_fingerprint_reader(const char *id_vendor, const char *id_product);
void
minst_probe_hardware(MinstContext *ctx, GPtrArray *samples);

/* system settings (minst-probe-settings.c) */
const char *
minst_settings_language(const char *const *language_names);
const char *
minst_bucket_input_sources(guint n);
void
minst_probe_settings(MinstContext *ctx, GPtrArray *samples);

/* desktop usage (minst-probe-usage.c) */
GPtrArray *
minst_usage_parse_app_state(const char *contents, gint64 since, GError **error);
const char *
minst_bucket_workspaces(gboolean dynamic, gint n);
void
minst_probe_usage(MinstContext *ctx, GPtrArray *samples);

/* performance (minst-probe-performance.c) */
const char *
minst_bucket_disk_usage(guint64 used, guint64 available);
const char *
minst_perf_memory_pressure(const char *pressure);
void
minst_probe_performance(MinstContext *ctx, GPtrArray *samples);

/* evidence of problems (minst-probe-problems.c) */
char *
minst_problems_app_from_unit(const char *unit, GHashTable *known_apps);
void
minst_problems_count(GPtrArray *entries,
		     gint64 window_start,
		     gint64 window_end,
		     const char *current_boot_id,
		     GHashTable *known_apps,
		     GPtrArray *samples);
void
minst_probe_problems(MinstContext *ctx, GPtrArray *samples);

/* the previous ISO week (Monday 00:00 UTC to Monday 00:00 UTC) before @now,
 * in seconds since the Unix epoch */
void
minst_previous_week(gint64 now, gint64 *start, gint64 *end);
char *
minst_week_string(gint64 now);

G_END_DECLS
