/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestPrivacy"

#include "config.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "minst-runner.h"
#include "minst-test-common.h"

/*
 * The desktop's privacy keys, with the memory settings backend and GNOME's
 * schema compiled from schemas/privacy/: each key turned off stops its
 * metrics in what the runner collects, turned on again resumes them, and
 * the object says "changed" when it happens. Run a second time without the
 * schema (MINST_TEST_NO_PRIVACY_SCHEMA): nothing is stopped.
 */

static GVariant *
dynamic_workspaces(const char *schema_id, const char *key, gpointer user_data)
{
	if (g_str_equal(schema_id, "org.gnome.mutter") && g_str_equal(key, "dynamic-workspaces"))
		return g_variant_ref_sink(g_variant_new_boolean(TRUE));
	return NULL;
}

static MinstContext *
user_context(MinstPrivacy *privacy)
{
	MinstContext *ctx = minst_test_context_new("user");

	ctx->user_data_dir = g_build_filename(ctx->root, "data", NULL);
	ctx->settings_lookup = dynamic_workspaces;
	ctx->privacy = privacy != NULL ? g_object_ref(privacy) : NULL;
	return ctx;
}

static MinstContext *
system_context(MinstPrivacy *privacy)
{
	MinstContext *ctx = minst_test_context_new("laptop-intel");

	ctx->journal_export = g_build_filename(ctx->root, "journal", "export", NULL);
	ctx->privacy = privacy != NULL ? g_object_ref(privacy) : NULL;
	return ctx;
}

static guint
count_category(GPtrArray *samples, const char *category)
{
	guint n = 0;

	for (guint i = 0; i < samples->len; i++) {
		const MinstSample *sample = g_ptr_array_index(samples, i);

		if (g_str_equal(minst_metrics_lookup(sample->metric_id)->category, category))
			n++;
	}
	return n;
}

typedef struct {
	guint n_app_used;
	guint n_workspaces;
	guint n_problems;
	guint n_hardware;
} Counts;

/* what the runner collects now in both modes */
static Counts
collect(MinstPrivacy *privacy)
{
	g_autoptr(MinstContext) user = user_context(privacy);
	g_autoptr(MinstContext) system = system_context(privacy);
	g_autoptr(GPtrArray) user_samples = minst_runner_collect(user, MINST_MODE_USER, NULL);
	g_autoptr(GPtrArray) system_samples = minst_runner_collect(system, MINST_MODE_SYSTEM, NULL);
	Counts counts = {
		.n_app_used = minst_test_count(user_samples, MINST_METRIC_USAGE_APP_USED),
		.n_workspaces = minst_test_count(user_samples, MINST_METRIC_USAGE_WORKSPACES),
		.n_problems = count_category(system_samples, "problems"),
		.n_hardware = count_category(system_samples, "hardware"),
	};

	minst_test_assert_samples_valid(user_samples, user->known_apps);
	minst_test_assert_samples_valid(system_samples, system->known_apps);
	return counts;
}

static void
changed_cb(MinstPrivacy *privacy, gpointer user_data)
{
	guint *n_changed = user_data;
	(*n_changed)++;
}

/* sets a key as the user would, and lets the change arrive */
static void
set_key(const char *key, gboolean value)
{
	g_autoptr(GSettings) settings = g_settings_new(MINST_PRIVACY_SCHEMA);

	g_assert_true(g_settings_set_boolean(settings, key, value));
	g_settings_sync();
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void
reset_keys(void)
{
	g_autoptr(GSettings) settings = g_settings_new(MINST_PRIVACY_SCHEMA);
	const char *keys[] = {"remember-app-usage", "send-software-usage-stats",
			      "report-technical-problems", "disable-camera"};

	for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
		g_settings_reset(settings, keys[i]);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* GNOME's defaults: app usage is remembered, problems are not reported */
static void
test_defaults(void)
{
	g_autoptr(MinstPrivacy) privacy = NULL;
	Counts counts;

	reset_keys();
	privacy = minst_privacy_new(NULL);
	g_assert_true(minst_privacy_has_schema(privacy));
	counts = collect(privacy);
	g_assert_cmpuint(counts.n_app_used, >, 0);
	g_assert_cmpuint(counts.n_workspaces, ==, 1);
	g_assert_cmpuint(counts.n_problems, ==, 0);
	g_assert_cmpuint(counts.n_hardware, >, 0);

	/* without the object (as before), everything */
	counts = collect(NULL);
	g_assert_cmpuint(counts.n_app_used, >, 0);
	g_assert_cmpuint(counts.n_problems, >, 0);
}

static void
test_remember_app_usage(void)
{
	g_autoptr(MinstPrivacy) privacy = NULL;
	g_autofree char *log = NULL;
	guint n_changed = 0;
	guint n_apps;
	Counts counts;

	reset_keys();
	privacy = minst_privacy_new(NULL);
	g_signal_connect(privacy, "changed", G_CALLBACK(changed_cb), &n_changed);
	n_apps = collect(privacy).n_app_used;
	g_assert_cmpuint(n_apps, >, 0);

	set_key("remember-app-usage", FALSE);
	g_assert_cmpuint(n_changed, ==, 1);
	minst_test_capture_begin();
	counts = collect(privacy);
	log = minst_test_capture_end();
	g_assert_cmpuint(counts.n_app_used, ==, 0);
	/* only app usage: the other usage metric, and other categories, stay */
	g_assert_cmpuint(counts.n_workspaces, ==, 1);
	g_assert_cmpuint(counts.n_hardware, >, 0);
	minst_test_assert_logged(
		log, "app usage is off in the privacy settings: skipping the apps used");

	set_key("remember-app-usage", TRUE);
	g_assert_cmpuint(n_changed, ==, 2);
	g_assert_cmpuint(collect(privacy).n_app_used, ==, n_apps);
}

static void
test_report_technical_problems(void)
{
	g_autoptr(MinstPrivacy) privacy = NULL;
	g_autofree char *log = NULL;
	guint n_changed = 0;
	guint n_problems;
	Counts counts;

	reset_keys();
	privacy = minst_privacy_new(NULL);
	g_signal_connect(privacy, "changed", G_CALLBACK(changed_cb), &n_changed);
	g_assert_cmpuint(collect(privacy).n_problems, ==, 0);

	set_key("report-technical-problems", TRUE);
	g_assert_cmpuint(n_changed, ==, 1);
	n_problems = collect(privacy).n_problems;
	g_assert_cmpuint(n_problems, >, 0);

	set_key("report-technical-problems", FALSE);
	g_assert_cmpuint(n_changed, ==, 2);
	minst_test_capture_begin();
	counts = collect(privacy);
	log = minst_test_capture_end();
	g_assert_cmpuint(counts.n_problems, ==, 0);
	g_assert_cmpuint(counts.n_hardware, >, 0);
	g_assert_cmpuint(counts.n_app_used, >, 0);
	/* the probe does not even run */
	minst_test_assert_logged(log, "problems metrics are off in the privacy settings");

	set_key("report-technical-problems", TRUE);
	g_assert_cmpuint(collect(privacy).n_problems, ==, n_problems);
}

/* about statistics of installing and removing software: nothing here */
static void
test_send_software_usage_stats(void)
{
	g_autoptr(MinstPrivacy) privacy = NULL;
	guint n_changed = 0;
	Counts before;
	Counts after;

	reset_keys();
	set_key("report-technical-problems", TRUE);
	privacy = minst_privacy_new(NULL);
	g_signal_connect(privacy, "changed", G_CALLBACK(changed_cb), &n_changed);
	before = collect(privacy);
	set_key("send-software-usage-stats", TRUE);
	set_key("send-software-usage-stats", FALSE);
	/* nor does a key it does not follow */
	set_key("disable-camera", TRUE);
	after = collect(privacy);
	g_assert_cmpuint(n_changed, ==, 0);
	g_assert_cmpmem(&before, sizeof(before), &after, sizeof(after));
	g_assert_cmpuint(after.n_app_used, >, 0);
	g_assert_cmpuint(after.n_problems, >, 0);
}

/* a system service sees the defaults only (a memory backend of its own):
 * the schema's, so with GNOME's, no problems metrics */
static void
test_defaults_backend(void)
{
	g_autoptr(GSettingsBackend) defaults = g_memory_settings_backend_new();
	g_autoptr(MinstPrivacy) privacy = NULL;

	reset_keys();
	/* the user's value does not reach it */
	set_key("report-technical-problems", TRUE);
	privacy = minst_privacy_new(defaults);
	g_assert_cmpuint(collect(privacy).n_problems, ==, 0);
	g_assert_cmpuint(collect(privacy).n_app_used, >, 0);
}

/* without the schema (no GNOME, or an older one) nothing is stopped */
static void
test_no_schema(void)
{
	g_autoptr(MinstPrivacy) privacy = minst_privacy_new(NULL);
	Counts counts;

	g_assert_false(minst_privacy_has_schema(privacy));
	counts = collect(privacy);
	g_assert_cmpuint(counts.n_app_used, >, 0);
	g_assert_cmpuint(counts.n_workspaces, ==, 1);
	g_assert_cmpuint(counts.n_problems, >, 0);
}

int
main(int argc, char **argv)
{
	gboolean no_schema = g_getenv("MINST_TEST_NO_PRIVACY_SCHEMA") != NULL;
	g_autofree char *schema_dir = NULL;

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	/* the other tests' schemas lack the privacy schema */
	schema_dir = no_schema ? g_test_build_filename(G_TEST_BUILT, ".", NULL) :
				 g_test_build_filename(G_TEST_BUILT, "schemas", "privacy", NULL);
	g_setenv("GSETTINGS_SCHEMA_DIR", schema_dir, TRUE);
	g_setenv("GSETTINGS_BACKEND", "memory", TRUE);

	if (no_schema) {
		g_test_add_func("/metrics/instrumentation/privacy/no-schema", test_no_schema);
		return g_test_run();
	}
	g_test_add_func("/metrics/instrumentation/privacy/defaults", test_defaults);
	g_test_add_func("/metrics/instrumentation/privacy/remember-app-usage",
			test_remember_app_usage);
	g_test_add_func("/metrics/instrumentation/privacy/report-technical-problems",
			test_report_technical_problems);
	g_test_add_func("/metrics/instrumentation/privacy/send-software-usage-stats",
			test_send_software_usage_stats);
	g_test_add_func("/metrics/instrumentation/privacy/defaults-backend", test_defaults_backend);
	return g_test_run();
}
