/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <string.h>

#include "minst-probe.h"

G_BEGIN_DECLS

/* 2026-11-18 12:00 UTC, a Wednesday: the fixtures' journals and app usage
 * are around the previous week, 2026-11-09 to 2026-11-16 */
#define MINST_TEST_NOW 1795003200

static inline MinstContext *
minst_test_context_new(const char *machine)
{
	g_autofree char *root = g_test_build_filename(G_TEST_DIST, "fixtures", machine, NULL);
	g_autofree char *apps = g_test_build_filename(G_TEST_DIST, "fixtures", "allowlist",
						      "value-sets", "desktop-apps.txt", NULL);
	g_autoptr(GError) error = NULL;
	MinstContext *ctx = minst_context_new(root);

	ctx->now = MINST_TEST_NOW;
	ctx->known_apps = minst_value_set_load(apps, &error);
	g_assert_no_error(error);
	return ctx;
}

/* every sample a probe emits must pass the same check as before recording */
static inline void
minst_test_assert_samples_valid(GPtrArray *samples, GHashTable *known_apps)
{
	for (guint i = 0; i < samples->len; i++) {
		g_autoptr(GError) error = NULL;
		g_assert_true(
			minst_sample_validate(g_ptr_array_index(samples, i), known_apps, &error));
		g_assert_no_error(error);
	}
}

static inline void
minst_test_assert_value(GPtrArray *samples, const char *metric_id, const char *value)
{
	if (minst_samples_find(samples, metric_id, value) == NULL)
		g_error("no sample %s = %s", metric_id, value);
}

static inline void
minst_test_assert_bool(GPtrArray *samples, const char *metric_id, gboolean value)
{
	const MinstSample *sample = minst_samples_find(samples, metric_id, NULL);

	g_assert_nonnull(sample);
	g_assert_true(g_variant_is_of_type(sample->payload, G_VARIANT_TYPE_BOOLEAN));
	g_assert_cmpint(g_variant_get_boolean(sample->payload), ==, value);
}

static inline guint
minst_test_count(GPtrArray *samples, const char *metric_id)
{
	guint n = 0;
	for (guint i = 0; i < samples->len; i++) {
		const MinstSample *sample = g_ptr_array_index(samples, i);
		if (g_strcmp0(sample->metric_id, metric_id) == 0)
			n++;
	}
	return n;
}

/* ---- the probes' debug messages: each skipped value says why ---- */

static GString *minst_test_debug_log; /* (nullable) while capturing */

static inline GLogWriterOutput
minst_test_log_writer(GLogLevelFlags level,
		      const GLogField *fields,
		      gsize n_fields,
		      gpointer user_data)
{
	if (minst_test_debug_log != NULL && (level & G_LOG_LEVEL_DEBUG) != 0) {
		for (gsize i = 0; i < n_fields; i++) {
			if (g_strcmp0(fields[i].key, "MESSAGE") != 0)
				continue;
			g_string_append_len(minst_test_debug_log, fields[i].value,
					    fields[i].length);
			g_string_append_c(minst_test_debug_log, '\n');
		}
		return G_LOG_WRITER_HANDLED;
	}
	return g_log_writer_default(level, fields, n_fields, user_data);
}

/* starts collecting the debug messages (the writer is set once) */
static inline void
minst_test_capture_begin(void)
{
	static gsize installed = 0;

	if (g_once_init_enter(&installed)) {
		g_log_set_writer_func(minst_test_log_writer, NULL, NULL);
		g_once_init_leave(&installed, 1);
	}
	g_assert_null(minst_test_debug_log);
	minst_test_debug_log = g_string_new(NULL);
	g_log_set_debug_enabled(TRUE);
}

/* returns: (transfer full): the debug messages since begin, one a line */
static inline char *
minst_test_capture_end(void)
{
	g_log_set_debug_enabled(FALSE);
	return g_string_free(g_steal_pointer(&minst_test_debug_log), FALSE);
}

static inline void
minst_test_assert_logged(const char *log, const char *message)
{
	if (strstr(log, message) == NULL)
		g_error("no debug message “%s” in:\n%s", message, log);
}

G_END_DECLS
