/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestProblems"

#include "config.h"

#include "minst-journal.h"
#include "minst-test-common.h"

static GPtrArray *
parse(const char *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *entries = minst_journal_parse_export(data, len, &error);
	g_assert_no_error(error);
	return entries;
}

static void
test_journal_parse(void)
{
	const char text[] = "__REALTIME_TIMESTAMP=1\nMESSAGE=a=b\n\n__REALTIME_TIMESTAMP=2\n"
			    "MESSAGE\n\x05\0\0\0\0\0\0\0two\nl\nFOO=\n";
	g_autoptr(GPtrArray) entries = parse(text, sizeof(text) - 1);
	GHashTable *second;

	g_assert_cmpuint(entries->len, ==, 2);
	g_assert_cmpstr(g_hash_table_lookup(entries->pdata[0], "MESSAGE"), ==, "a=b");
	second = entries->pdata[1];
	g_assert_cmpstr(g_hash_table_lookup(second, "MESSAGE"), ==, "two\nl");
	g_assert_cmpstr(g_hash_table_lookup(second, "FOO"), ==, "");
}

static void
test_journal_malformed(void)
{
	const char *bad[] = {
		"MESSAGE=no newline at the end",
		"lower=case\n",
		"=empty name\n",
		"MESSAGE\n\x05\0\0",
		"MESSAGE\n\xff\xff\xff\xff\xff\xff\xff\x7f"
		"abc\n",
		"MESSAGE\n\x02\0\0\0\0\0\0\0abc\n",
	};
	const char *files[] = {"garbage", "export"};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		gsize len = i == 3 ? 11 : i == 4 ? 20 : i == 5 ? 20 : strlen(bad[i]);
		g_autoptr(GPtrArray) entries = minst_journal_parse_export(bad[i], len, &error);

		g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
		g_assert_null(entries);
	}
	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", "malformed",
							      "journal", files[i], NULL);
		g_autofree char *contents = NULL;
		gsize len;
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) entries = NULL;

		g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
		entries = minst_journal_parse_export(contents, len, &error);
		g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
		g_assert_null(entries);
	}
	/* empty: no entries, not an error */
	{
		g_autoptr(GPtrArray) entries = parse("", 0);
		g_assert_cmpuint(entries->len, ==, 0);
	}
}

static void
test_app_from_unit(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("laptop-intel");
	struct {
		const char *unit;
		const char *app;
	} cases[] = {
		{"app-gnome-org.gnome.Nautilus-4321.scope", "org.gnome.Nautilus.desktop"},
		{"app-flatpak-org.mozilla.firefox-1234.scope", "org.mozilla.firefox.desktop"},
		{"app-org.gnome.TextEditor@a1b2c3.service", "org.gnome.TextEditor.desktop"},
		{"app-gnome-firefox-99.scope", "firefox.desktop"},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/"
		 "app-gnome-org.gnome.Settings-5.scope",
		 "org.gnome.Settings.desktop"},
		{"app-gnome-com.example.Private\\x2dTool-99.scope", NULL},
		{"packagekit.service", NULL},
		{"app-.scope", NULL},
		{"app-", NULL},
		{"", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *app = minst_problems_app_from_unit(cases[i].unit, ctx->known_apps);
		g_assert_cmpstr(app, ==, cases[i].app);
	}
}

static const MinstSample *
find_count(GPtrArray *samples, const char *metric_id, const char *value)
{
	const MinstSample *sample = minst_samples_find(samples, metric_id, value);
	g_assert_nonnull(sample);
	g_assert_cmpint(sample->kind, ==, METRICS_EVENT_KIND_COUNTER);
	return sample;
}

static void
test_laptop_intel(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("laptop-intel");
	g_autoptr(GPtrArray) samples = minst_samples_new();

	ctx->journal_export = g_build_filename(ctx->root, "journal", "export", NULL);
	minst_probe_problems(ctx, samples);
	minst_test_assert_samples_valid(samples, ctx->known_apps);
	/* boot b2… never shut down; a1… did, c3… did after the week, 5e… is
	 * the running boot, 0d… started before the week */
	g_assert_cmpint(find_count(samples, MINST_METRIC_PROBLEMS_UNCLEAN_SHUTDOWNS, NULL)->amount,
			==, 1);
	/* five core dumps in the week (a sixth is in the current week) */
	g_assert_cmpint(find_count(samples, MINST_METRIC_PROBLEMS_CRASHES_TOTAL, NULL)->amount, ==,
			5);
	g_assert_cmpint(
		find_count(samples, MINST_METRIC_PROBLEMS_APP_CRASHES, "org.gnome.Nautilus.desktop")
			->amount,
		==, 2);
	g_assert_cmpint(find_count(samples, MINST_METRIC_PROBLEMS_APP_CRASHES,
				   "org.mozilla.firefox.desktop")
				->amount,
			==, 1);
	g_assert_cmpuint(minst_test_count(samples, MINST_METRIC_PROBLEMS_APP_CRASHES), ==, 2);
	g_assert_cmpint(find_count(samples, MINST_METRIC_PROBLEMS_OOM_KILLS, "kernel")->amount, ==,
			2);
	g_assert_cmpint(
		find_count(samples, MINST_METRIC_PROBLEMS_OOM_KILLS, "systemd-oomd")->amount, ==,
		1);
	g_assert_cmpuint(samples->len, ==, 6);
}

static void
test_desktop_clean(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("desktop-amd-nvidia");
	g_autoptr(GPtrArray) samples = minst_samples_new();

	/* the only boot of the week is the running one: nothing to count */
	ctx->journal_export = g_build_filename(ctx->root, "journal", "export", NULL);
	minst_probe_problems(ctx, samples);
	g_assert_cmpuint(samples->len, ==, 0);
}

static void
test_malformed(void)
{
	/* each file, and what the probe must say about skipping it */
	const char *files[][2] = {
		{"export", "skipping problems, the journal export is malformed: truncated field"},
		{"garbage",
		 "skipping problems, the journal export is malformed: invalid field name"},
		{"empty", "the boot id is malformed: skipping unclean shutdowns"},
		{"missing", "skipping problems: "},
	};

	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autoptr(MinstContext) ctx = minst_test_context_new("malformed");
		g_autoptr(GPtrArray) samples = minst_samples_new();
		g_autofree char *log = NULL;

		ctx->journal_export = g_build_filename(ctx->root, "journal", files[i][0], NULL);
		minst_test_capture_begin();
		minst_probe_problems(ctx, samples);
		log = minst_test_capture_end();
		g_assert_cmpuint(samples->len, ==, 0);
		minst_test_assert_logged(log, files[i][1]);
	}
}

static void
test_no_boot_id(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("laptop-intel");
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GPtrArray) samples = minst_samples_new();
	g_autofree char *path = g_build_filename(ctx->root, "journal", "export", NULL);
	g_autofree char *contents = NULL;
	gsize len;
	gint64 start, end;

	/* without the running boot's id, unclean shutdowns cannot be told
	 * apart from the running boot: skipped, the rest is counted */
	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	entries = parse(contents, len);
	minst_previous_week(MINST_TEST_NOW, &start, &end);
	minst_problems_count(entries, start, end, NULL, ctx->known_apps, samples);
	g_assert_null(minst_samples_find(samples, MINST_METRIC_PROBLEMS_UNCLEAN_SHUTDOWNS, NULL));
	g_assert_nonnull(minst_samples_find(samples, MINST_METRIC_PROBLEMS_CRASHES_TOTAL, NULL));
}

static void
test_week(void)
{
	gint64 start, end;
	g_autofree char *week = minst_week_string(MINST_TEST_NOW);

	minst_previous_week(MINST_TEST_NOW, &start, &end);
	g_assert_cmpint(end, ==, 1794787200);		 /* 2026-11-16 00:00 UTC */
	g_assert_cmpint(start, ==, 1794787200 - 604800); /* 2026-11-09 */
	g_assert_cmpstr(week, ==, "2026-11-16");
	/* a Monday at midnight starts its own week */
	minst_previous_week(1794787200, &start, &end);
	g_assert_cmpint(end, ==, 1794787200);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/metrics/instrumentation/problems/journal-parse", test_journal_parse);
	g_test_add_func("/metrics/instrumentation/problems/journal-malformed",
			test_journal_malformed);
	g_test_add_func("/metrics/instrumentation/problems/app-from-unit", test_app_from_unit);
	g_test_add_func("/metrics/instrumentation/problems/laptop-intel", test_laptop_intel);
	g_test_add_func("/metrics/instrumentation/problems/desktop-clean", test_desktop_clean);
	g_test_add_func("/metrics/instrumentation/problems/malformed", test_malformed);
	g_test_add_func("/metrics/instrumentation/problems/no-boot-id", test_no_boot_id);
	g_test_add_func("/metrics/instrumentation/problems/week", test_week);
	return g_test_run();
}
