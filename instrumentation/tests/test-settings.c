/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestSettings"

#include "config.h"

#include "minst-test-common.h"

/* an injected settings source: "schema key" → value */
static GVariant *
table_lookup(const char *schema_id, const char *key, gpointer user_data)
{
	GHashTable *table = user_data;
	g_autofree char *name = g_strdup_printf("%s %s", schema_id, key);
	GVariant *value = g_hash_table_lookup(table, name);

	return value != NULL ? g_variant_ref(value) : NULL;
}

static GHashTable *
table_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				     (GDestroyNotify)g_variant_unref);
}

static void
table_set(GHashTable *table, const char *schema_id, const char *key, const char *text)
{
	GVariant *value = g_variant_parse(NULL, text, NULL, NULL, NULL);
	g_assert_nonnull(value);
	g_hash_table_insert(table, g_strdup_printf("%s %s", schema_id, key), value);
}

static void
test_language(void)
{
	const char *de[] = {"de_DE.UTF-8", "de_DE", "de.UTF-8", "de", "C", NULL};
	const char *pt_br[] = {"pt_BR.UTF-8", "pt_BR", "pt", "C", NULL};
	const char *c[] = {"C.UTF-8", "C", NULL};
	const char *posix[] = {"POSIX", NULL};
	const char *fy[] = {"fy_NL", "C", NULL};
	const char *garbage[] = {"x", "C", NULL};
	const char *upper[] = {"EN_us", NULL};
	const char *first_wins[] = {"fr_FR", "en_US", NULL};

	g_assert_cmpstr(minst_settings_language(de), ==, "de");
	g_assert_cmpstr(minst_settings_language(pt_br), ==, "pt");
	g_assert_cmpstr(minst_settings_language(upper), ==, "en");
	g_assert_cmpstr(minst_settings_language(first_wins), ==, "fr");
	/* a language outside the list is "other", the allowlist maps it too */
	g_assert_cmpstr(minst_settings_language(fy), ==, "other");
	g_assert_null(minst_settings_language(c));
	g_assert_null(minst_settings_language(posix));
	g_assert_null(minst_settings_language(garbage));
	g_assert_null(minst_settings_language(NULL));
}

static void
test_input_sources_bucket(void)
{
	g_assert_cmpstr(minst_bucket_input_sources(0), ==, "0");
	g_assert_cmpstr(minst_bucket_input_sources(1), ==, "1");
	g_assert_cmpstr(minst_bucket_input_sources(3), ==, "3");
	g_assert_cmpstr(minst_bucket_input_sources(4), ==, "4+");
	g_assert_cmpstr(minst_bucket_input_sources(40), ==, "4+");
}

static void
test_injected(void)
{
	g_autoptr(MinstContext) ctx = minst_context_new("/");
	g_autoptr(GHashTable) table = table_new();
	g_autoptr(GPtrArray) samples = minst_samples_new();
	const char *languages[] = {"de_AT.UTF-8", NULL};
	g_autofree char *log = NULL;

	g_strfreev(ctx->language_names);
	ctx->language_names = g_strdupv((char **)languages);
	ctx->settings_lookup = table_lookup;
	ctx->settings_data = table;
	table_set(table, "org.gnome.desktop.input-sources", "sources",
		  "[('xkb', 'de'), ('xkb', 'us'), ('ibus', 'anthy')]");
	table_set(table, "org.gnome.desktop.a11y.applications", "screen-reader-enabled", "true");
	table_set(table, "org.gnome.desktop.a11y.applications", "screen-magnifier-enabled",
		  "false");
	table_set(table, "org.gnome.desktop.a11y.keyboard", "stickykeys-enable", "true");
	table_set(table, "org.gnome.desktop.interface", "text-scaling-factor", "1.25");
	table_set(table, "org.gnome.desktop.interface", "cursor-size", "24");
	/* a wrong type is skipped, not trusted */
	table_set(table, "org.gnome.desktop.a11y.interface", "high-contrast", "'yes'");

	minst_test_capture_begin();
	minst_probe_settings(ctx, samples);
	log = minst_test_capture_end();
	minst_test_assert_logged(log, "org.gnome.desktop.a11y.interface high-contrast has an "
				      "unexpected type s: skipping it");
	minst_test_assert_samples_valid(samples, NULL);
	minst_test_assert_value(samples, MINST_METRIC_SETTINGS_LANGUAGE, "de");
	minst_test_assert_value(samples, MINST_METRIC_SETTINGS_INPUT_SOURCES, "3");
	minst_test_assert_value(samples, MINST_METRIC_SETTINGS_A11Y_FEATURE, "screen-reader");
	minst_test_assert_value(samples, MINST_METRIC_SETTINGS_A11Y_FEATURE, "sticky-keys");
	minst_test_assert_value(samples, MINST_METRIC_SETTINGS_A11Y_FEATURE, "large-text");
	g_assert_cmpuint(minst_test_count(samples, MINST_METRIC_SETTINGS_A11Y_FEATURE), ==, 3);
	g_assert_cmpuint(samples->len, ==, 5);
}

static void
test_nothing_available(void)
{
	g_autoptr(MinstContext) ctx = minst_context_new("/");
	g_autoptr(GHashTable) table = table_new();
	g_autoptr(GPtrArray) samples = minst_samples_new();
	const char *languages[] = {"C", NULL};
	g_autofree char *log = NULL;

	/* no schemas at all (not a GNOME session) and the C locale */
	g_strfreev(ctx->language_names);
	ctx->language_names = g_strdupv((char **)languages);
	ctx->settings_lookup = table_lookup;
	ctx->settings_data = table;
	minst_test_capture_begin();
	minst_probe_settings(ctx, samples);
	log = minst_test_capture_end();
	g_assert_cmpuint(samples->len, ==, 0);
	minst_test_assert_logged(log, "the locale is C or POSIX: skipping the language");
	minst_test_assert_logged(log, "no accessibility setting is available: skipping them");
}

/* the real GSettings lookup, with the memory backend and test schemas */
static void
test_gsettings(void)
{
	g_autoptr(MinstContext) ctx = minst_context_new("/");
	g_autoptr(GPtrArray) samples = minst_samples_new();
	g_autoptr(GSettings) settings = g_settings_new("org.gnome.desktop.a11y.interface");
	g_autoptr(GVariant) missing = NULL;

	missing = minst_gsettings_lookup("org.example.NoSuchSchema", "key", NULL);
	g_assert_null(missing);
	missing = minst_gsettings_lookup("org.gnome.mutter", "no-such-key", NULL);
	g_assert_null(missing);

	g_assert_true(g_settings_set_boolean(settings, "high-contrast", TRUE));
	ctx->settings_lookup = minst_gsettings_lookup;
	minst_probe_settings(ctx, samples);
	minst_test_assert_samples_valid(samples, NULL);
	minst_test_assert_value(samples, MINST_METRIC_SETTINGS_INPUT_SOURCES, "0");
	minst_test_assert_value(samples, MINST_METRIC_SETTINGS_A11Y_FEATURE, "high-contrast");
	g_assert_cmpuint(minst_test_count(samples, MINST_METRIC_SETTINGS_A11Y_FEATURE), ==, 1);

	/* all off: "none" */
	g_assert_true(g_settings_set_boolean(settings, "high-contrast", FALSE));
	g_ptr_array_set_size(samples, 0);
	minst_probe_settings(ctx, samples);
	minst_test_assert_value(samples, MINST_METRIC_SETTINGS_A11Y_FEATURE, "none");
}

int
main(int argc, char **argv)
{
	g_autofree char *schema_dir = NULL;

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	schema_dir = g_test_build_filename(G_TEST_BUILT, ".", NULL);
	g_setenv("GSETTINGS_SCHEMA_DIR", schema_dir, TRUE);
	g_setenv("GSETTINGS_BACKEND", "memory", TRUE);

	g_test_add_func("/metrics/instrumentation/settings/language", test_language);
	g_test_add_func("/metrics/instrumentation/settings/input-sources-bucket",
			test_input_sources_bucket);
	g_test_add_func("/metrics/instrumentation/settings/injected", test_injected);
	g_test_add_func("/metrics/instrumentation/settings/nothing-available",
			test_nothing_available);
	g_test_add_func("/metrics/instrumentation/settings/gsettings", test_gsettings);
	return g_test_run();
}
