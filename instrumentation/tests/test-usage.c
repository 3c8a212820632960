/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestUsage"

#include "config.h"

#include <glib/gstdio.h>

#include "minst-test-common.h"

static GVariant *
workspaces_lookup(const char *schema_id, const char *key, gpointer user_data)
{
	const char *mode = user_data;

	if (g_strcmp0(key, "dynamic-workspaces") == 0)
		return g_strcmp0(mode, "dynamic") == 0 ? g_variant_new_boolean(TRUE) :
							 g_variant_new_boolean(FALSE);
	if (g_strcmp0(key, "num-workspaces") == 0 && g_strcmp0(mode, "missing") != 0)
		return g_strcmp0(mode, "wrong-type") == 0 ? g_variant_new_string("6") :
							    g_variant_new_int32(6);
	return NULL;
}

static void
test_parse(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) apps = NULL;

	apps = minst_usage_parse_app_state(
		"<application-state><context id=\"\">"
		"<application id=\"a.desktop\" score=\"1\" last-seen=\"100\"/>"
		"<application id=\"b.desktop\" score=\"1\" last-seen=\"99\"/>"
		"<application id=\"c.desktop\" last-seen=\"soon\"/>"
		"<application score=\"1\" last-seen=\"200\"/>"
		"</context><context id=\"work\">"
		"<application id=\"a.desktop\" score=\"1\" last-seen=\"150\"/>"
		"</context></application-state>",
		100, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(apps->len, ==, 1);
	g_assert_cmpstr(apps->pdata[0], ==, "a.desktop");

	g_clear_pointer(&apps, g_ptr_array_unref);
	apps = minst_usage_parse_app_state("<application-state><context>", 0, &error);
	g_assert_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_PARSE);
	g_assert_null(apps);
	g_clear_error(&error);
	apps = minst_usage_parse_app_state("\x01garbage", 0, &error);
	g_assert_nonnull(error);
	g_assert_null(apps);
}

static void
test_workspaces_bucket(void)
{
	g_assert_cmpstr(minst_bucket_workspaces(TRUE, 7), ==, "dynamic");
	g_assert_cmpstr(minst_bucket_workspaces(FALSE, 0), ==, "1");
	g_assert_cmpstr(minst_bucket_workspaces(FALSE, 1), ==, "1");
	g_assert_cmpstr(minst_bucket_workspaces(FALSE, 4), ==, "4");
	g_assert_cmpstr(minst_bucket_workspaces(FALSE, 6), ==, "5-8");
	g_assert_cmpstr(minst_bucket_workspaces(FALSE, 36), ==, "9+");
	g_assert_cmpstr(minst_bucket_workspaces(FALSE, -3), ==, "1");
}

static void
test_user_fixture(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("user");
	g_autoptr(GPtrArray) samples = minst_samples_new();

	ctx->user_data_dir = g_build_filename(ctx->root, "data", NULL);
	ctx->settings_lookup = workspaces_lookup;
	ctx->settings_data = (gpointer) "fixed";
	minst_probe_usage(ctx, samples);
	minst_test_assert_samples_valid(samples, ctx->known_apps);
	/* used this week and known; the private tool is unknown, the text
	 * editor was last used 11 days ago, Settings has no last-seen */
	minst_test_assert_value(samples, MINST_METRIC_USAGE_APP_USED, "org.gnome.Nautilus.desktop");
	minst_test_assert_value(samples, MINST_METRIC_USAGE_APP_USED,
				"org.mozilla.firefox.desktop");
	g_assert_cmpuint(minst_test_count(samples, MINST_METRIC_USAGE_APP_USED), ==, 2);
	minst_test_assert_value(samples, MINST_METRIC_USAGE_WORKSPACES, "5-8");
	g_assert_cmpuint(samples->len, ==, 3);
}

static void
test_unknown_and_malformed(void)
{
	/* the workspace setting, and what the probe must say about it */
	const char *modes[][2] = {
		{"missing", "the number of workspaces is unknown: skipping it"},
		{"wrong-type", "org.gnome.desktop.wm.preferences num-workspaces has an unexpected "
			       "type s: skipping it"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autoptr(MinstContext) ctx = minst_test_context_new("user-malformed");
		g_autoptr(GPtrArray) samples = minst_samples_new();
		g_autofree char *log = NULL;

		ctx->user_data_dir = g_build_filename(ctx->root, "data", NULL);
		ctx->settings_lookup = workspaces_lookup;
		ctx->settings_data = (gpointer)modes[i][0];
		minst_test_capture_begin();
		minst_probe_usage(ctx, samples);
		log = minst_test_capture_end();
		g_assert_cmpuint(samples->len, ==, 0);
		/* the truncated app usage file is skipped whole */
		minst_test_assert_logged(log, "application_state is malformed: Error on line 5");
		minst_test_assert_logged(log, modes[i][1]);
	}
	{
		g_autoptr(MinstContext) ctx = minst_test_context_new("user");
		g_autoptr(GPtrArray) samples = minst_samples_new();

		g_autofree char *log = NULL;

		/* without the known-app set nothing about apps is recorded */
		ctx->user_data_dir = g_build_filename(ctx->root, "data", NULL);
		g_clear_pointer(&ctx->known_apps, g_hash_table_unref);
		ctx->settings_lookup = workspaces_lookup;
		ctx->settings_data = (gpointer) "dynamic";
		minst_test_capture_begin();
		minst_probe_usage(ctx, samples);
		log = minst_test_capture_end();
		minst_test_assert_logged(log, "no known-app set: skipping the apps used");
		g_assert_cmpuint(samples->len, ==, 1);
		minst_test_assert_value(samples, MINST_METRIC_USAGE_WORKSPACES, "dynamic");
	}
}

/* the known-app set is resolved as the daemon resolves it: the last
 * allowlist directory with value-sets/desktop-apps.txt wins */
static void
test_known_apps_admin(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *shipped =
		g_test_build_filename(G_TEST_DIST, "fixtures", "allowlist", NULL);
	g_autofree char *tmp = g_dir_make_tmp("minst-admin-XXXXXX", &error);
	g_autofree char *admin = g_build_filename(tmp, "admin", NULL);
	g_autofree char *admin_sets = g_build_filename(admin, "value-sets", NULL);
	g_autofree char *admin_file = g_build_filename(admin_sets, "desktop-apps.txt", NULL);
	g_autofree char *empty = g_build_filename(tmp, "empty", NULL);
	g_autofree char *path = NULL;
	g_autoptr(GHashTable) set = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(g_mkdir_with_parents(admin_sets, 0700), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(empty, 0700), ==, 0);
	/* the administrator allows only Nautilus (and the comment is one, as
	 * for the daemon) */
	g_file_set_contents(admin_file, "# only this one\n  org.gnome.Nautilus.desktop  \n", -1,
			    &error);
	g_assert_no_error(error);

	{
		const char *dirs[] = {shipped, admin, NULL};
		g_autoptr(MinstContext) ctx = minst_test_context_new("user");
		g_autoptr(GPtrArray) samples = minst_samples_new();

		set = minst_known_apps_load(dirs, &path, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(path, ==, admin_file);
		g_assert_cmpuint(g_hash_table_size(set), ==, 1);
		g_assert_true(g_hash_table_contains(set, "org.gnome.Nautilus.desktop"));

		/* the probe records only what the administrator's set lists */
		g_clear_pointer(&ctx->known_apps, g_hash_table_unref);
		ctx->known_apps = g_hash_table_ref(set);
		ctx->user_data_dir = g_build_filename(ctx->root, "data", NULL);
		ctx->settings_lookup = workspaces_lookup;
		ctx->settings_data = (gpointer) "fixed";
		minst_probe_usage(ctx, samples);
		minst_test_assert_value(samples, MINST_METRIC_USAGE_APP_USED,
					"org.gnome.Nautilus.desktop");
		g_assert_cmpuint(minst_test_count(samples, MINST_METRIC_USAGE_APP_USED), ==, 1);
		g_clear_pointer(&set, g_hash_table_unref);
		g_clear_pointer(&path, g_free);
	}
	{
		/* a later directory without the set does not hide the earlier one */
		const char *dirs[] = {shipped, empty, NULL};

		set = minst_known_apps_load(dirs, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(g_hash_table_contains(set, "org.mozilla.firefox.desktop"));
		g_clear_pointer(&set, g_hash_table_unref);
	}
	{
		/* the order matters: here the shipped set is the later one */
		const char *dirs[] = {admin, shipped, NULL};

		set = minst_known_apps_load(dirs, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(g_hash_table_contains(set, "org.mozilla.firefox.desktop"));
		g_clear_pointer(&set, g_hash_table_unref);
	}
	{
		const char *dirs[] = {empty, NULL};

		set = minst_known_apps_load(dirs, NULL, &error);
		g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
		g_assert_null(set);
		g_clear_error(&error);
	}
	g_unlink(admin_file);
	g_rmdir(admin_sets);
	g_rmdir(admin);
	g_rmdir(empty);
	g_rmdir(tmp);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/metrics/instrumentation/usage/parse", test_parse);
	g_test_add_func("/metrics/instrumentation/usage/workspaces-bucket", test_workspaces_bucket);
	g_test_add_func("/metrics/instrumentation/usage/user", test_user_fixture);
	g_test_add_func("/metrics/instrumentation/usage/malformed", test_unknown_and_malformed);
	g_test_add_func("/metrics/instrumentation/usage/known-apps-admin", test_known_apps_admin);
	return g_test_run();
}
