/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestE2e"

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>

#include "minst-test-common.h"
#include "mtest-harness.h"

/*
 * The whole path: a private system bus, the real recorder daemon with
 * consent granted, and metrics-instrumentation --once on the fixture trees.
 * Asserts that the daemon dropped nothing as not allowlisted (or of the
 * wrong type, kind or value) and that it stored exactly the expected
 * metrics; that a second run in the same week records nothing; that
 * nothing is recorded without consent; and that the long-running mode
 * (system and user) stops within seconds when consent is withdrawn, stays
 * idle, and records again when it is granted again.
 */

typedef struct {
	MtestHarness *harness; /* (owned) */
	char *tmp;	       /* (not owned) the harness's temporary directory */
	MetricsClient *client; /* (owned) */
	char *admin_dir;       /* (owned) (nullable) the administrator's allowlist dir */
} Fixture;

typedef struct {
	gboolean granted;
	gboolean polkit;
	const char *machine; /* (nullable) the fixture tree of the test */
	gboolean admin_apps; /* an administrator's known-app set in a second directory */
} Setup;

static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
	const Setup *setup = data;
	g_autofree char *admin_dir_arg = NULL;
	const char *args[] = {NULL, NULL};

	fixture->harness = mtest_harness_new();
	fixture->tmp = fixture->harness->tmpdir;
	mtest_harness_start_bus(fixture->harness);
	if (setup->polkit) {
		const char *const allowed[] = {"org.fedoraproject.Metrics1.set-consent", NULL};

		mtest_harness_start_polkit(fixture->harness);
		mtest_harness_set_allowed(fixture->harness, allowed);
	}

	/* consent granted before the daemon starts, as if the user said yes */
	if (setup->granted)
		mtest_harness_write_consent(fixture->harness, "granted");
	if (setup->admin_apps) {
		/* as /etc/metrics/allowlist.d/value-sets/desktop-apps.txt: the
		 * administrator approves Nautilus only */
		g_autofree char *sets = NULL;
		g_autofree char *file = NULL;

		fixture->admin_dir = g_build_filename(fixture->tmp, "admin-allowlist", NULL);
		sets = g_build_filename(fixture->admin_dir, "value-sets", NULL);
		g_assert_cmpint(g_mkdir_with_parents(sets, 0700), ==, 0);
		file = g_build_filename(sets, "desktop-apps.txt", NULL);
		mtest_write_file(file, "# local policy\norg.gnome.Nautilus.desktop\n");
		admin_dir_arg = g_strdup_printf("--allowlist-dir=%s", fixture->admin_dir);
		args[0] = admin_dir_arg;
	}
	/* the shipped allowlist (MTEST_ALLOWLIST_DIRS), then the
	 * administrator's: the gate must pass every probe's output */
	mtest_harness_start_daemon(fixture->harness, args);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
	g_clear_object(&fixture->client);
	g_clear_pointer(&fixture->harness, mtest_harness_free);
	g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	g_free(fixture->admin_dir);
}

/* the environment of a user session with German, two input sources and
 * the screen reader on */
static GSubprocessLauncher *
launcher_new(Fixture *fixture)
{
	GSubprocessLauncher *launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autofree char *config = g_build_filename(fixture->tmp, "config", NULL);
	g_autofree char *keyfile_dir = g_build_filename(config, "glib-2.0", "settings", NULL);
	g_autofree char *keyfile = g_build_filename(keyfile_dir, "keyfile", NULL);
	g_autofree char *data =
		g_test_build_filename(G_TEST_DIST, "fixtures", "user", "data", NULL);
	g_autofree char *schemas = g_test_build_filename(G_TEST_BUILT, ".", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(keyfile_dir, 0700), ==, 0);
	g_file_set_contents(keyfile,
			    "[org/gnome/desktop/input-sources]\n"
			    "sources=[('xkb', 'de'), ('xkb', 'us')]\n"
			    "[org/gnome/desktop/a11y/applications]\n"
			    "screen-reader-enabled=true\n"
			    "[org/gnome/mutter]\n"
			    "dynamic-workspaces=false\n"
			    "[org/gnome/desktop/wm/preferences]\n"
			    "num-workspaces=2\n",
			    -1, &error);
	g_assert_no_error(error);
	g_subprocess_launcher_setenv(launcher, "GSETTINGS_BACKEND", "keyfile", TRUE);
	g_subprocess_launcher_setenv(launcher, "GSETTINGS_SCHEMA_DIR", schemas, TRUE);
	g_subprocess_launcher_setenv(launcher, "XDG_CONFIG_HOME", config, TRUE);
	g_subprocess_launcher_setenv(launcher, "XDG_DATA_HOME", data, TRUE);
	g_subprocess_launcher_unsetenv(launcher, "LC_ALL");
	g_subprocess_launcher_unsetenv(launcher, "LC_MESSAGES");
	g_subprocess_launcher_setenv(launcher, "LANGUAGE", "de_DE.UTF-8", TRUE);
	g_subprocess_launcher_setenv(launcher, "LANG", "de_DE.UTF-8", TRUE);
	return launcher;
}

/* returns: (transfer full): what it printed (debug messages go to stdout) */
static char *
run_instrumentation(Fixture *fixture, const char *mode, const char *machine)
{
	g_autoptr(GSubprocessLauncher) launcher = launcher_new(fixture);
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *root = g_test_build_filename(G_TEST_DIST, "fixtures", machine, NULL);
	g_autofree char *root_arg = g_strdup_printf("--root=%s", root);
	g_autofree char *journal_arg = g_strdup_printf("--journal-export=%s/journal/export", root);
	g_autofree char *allowlist =
		g_test_build_filename(G_TEST_DIST, "fixtures", "allowlist", NULL);
	g_autofree char *allowlist_arg = g_strdup_printf("--allowlist-dir=%s", allowlist);
	/* the daemon's directories in the daemon's order */
	g_autofree char *admin_arg =
		fixture->admin_dir != NULL ?
			g_strdup_printf("--allowlist-dir=%s", fixture->admin_dir) :
			g_strdup_printf("--allowlist-dir=%s/no-admin-allowlist", fixture->tmp);
	g_autofree char *now_arg = g_strdup_printf("--now=%d", MINST_TEST_NOW);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
							  G_SUBPROCESS_FLAGS_STDERR_PIPE);
	process = mtest_harness_spawn(fixture->harness, launcher,
				      (const char *const[]){g_getenv("MINST_TEST_INSTRUMENTATION"),
							    mode, "--once", "--verbose", root_arg,
							    journal_arg, allowlist_arg, admin_arg,
							    now_arg, NULL});
	g_subprocess_communicate_utf8(process, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_test_message("metrics-instrumentation %s:\n%s%s", mode, out, err);
	if (!g_subprocess_get_if_exited(process) || g_subprocess_get_exit_status(process) != 0)
		g_error("metrics-instrumentation %s failed: %s", mode, err);
	/* nothing was refused by the allowlist check in the program either */
	g_assert_null(strstr(err, "not recording a sample"));
	return g_strconcat(out, err, NULL);
}

static guint64
stored(GPtrArray *aggregates, const char *metric_id, const char *payload)
{
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		GVariant *value = metrics_aggregate_get_payload(aggregate);
		g_autofree char *text = value != NULL ? g_variant_print(value, FALSE) : NULL;

		if (g_strcmp0(metrics_aggregate_get_event_id(aggregate), metric_id) == 0 &&
		    g_strcmp0(text, payload) == 0)
			return metrics_aggregate_get_count(aggregate);
	}
	return 0;
}

static GPtrArray *
local_data(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *aggregates = metrics_client_get_local_data_sync(
		fixture->client, METRICS_CLIENT_FLAGS_NONE, NULL, &error);

	g_assert_no_error(error);
	return aggregates;
}

static void
assert_no_allowlist_drops(Fixture *fixture)
{
	const char *reasons[] = {"not-allowlisted",   "wrong-type",	 "wrong-kind",
				 "value-not-allowed", "expired",	 "over-cap",
				 "not-sampled",	      "malformed-calls", "no-consent"};
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = mtest_harness_get_status_all(fixture->harness);
	g_autoptr(GVariant) drops = NULL;

	g_assert_no_error(error);
	drops = g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	g_assert_nonnull(drops);
	for (guint i = 0; i < G_N_ELEMENTS(reasons); i++) {
		guint64 n = 0;
		if (g_variant_lookup(drops, reasons[i], "t", &n))
			g_error("the daemon dropped %" G_GUINT64_FORMAT " events as %s", n,
				reasons[i]);
	}
}

static void
assert_all_known(GPtrArray *aggregates)
{
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		const MinstMetric *metric =
			minst_metrics_lookup(metrics_aggregate_get_event_id(aggregate));

		g_assert_nonnull(metric);
		g_assert_cmpint(metrics_aggregate_get_kind(aggregate), ==, metric->kind);
	}
}

static void
test_system_and_user(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GPtrArray) again = NULL;
	g_autofree char *vendor = NULL;

	g_free(run_instrumentation(fixture, "--system", "laptop-intel"));
	g_free(run_instrumentation(fixture, "--user", "user"));
	assert_no_allowlist_drops(fixture);

	aggregates = local_data(fixture);
	assert_all_known(aggregates);
	/* hardware */
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CPU_VENDOR, "'intel'"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CPU_CORES, "'3-4'"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_RAM_SIZE, "'16GiB'"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_GPU_VENDOR, "'intel'"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CHASSIS, "'laptop'"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CAMERA, "true"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_TOUCHSCREEN, "true"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_FINGERPRINT_READER, "true"), ==, 1);
	/* performance: the disk bands depend on the build machine */
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PERF_MEMORY_PRESSURE, "'none'"), ==, 1);
	/* problems */
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_UNCLEAN_SHUTDOWNS, NULL), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_CRASHES_TOTAL, NULL), ==, 5);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_APP_CRASHES,
				"'org.gnome.Nautilus.desktop'"),
			 ==, 2);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_APP_CRASHES,
				"'org.mozilla.firefox.desktop'"),
			 ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_OOM_KILLS, "'kernel'"), ==, 2);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_OOM_KILLS, "'systemd-oomd'"), ==,
			 1);
	/* settings and usage */
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_SETTINGS_LANGUAGE, "'de'"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_SETTINGS_INPUT_SOURCES, "'2'"), ==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_SETTINGS_A11Y_FEATURE, "'screen-reader'"),
			 ==, 1);
	g_assert_cmpuint(
		stored(aggregates, MINST_METRIC_USAGE_APP_USED, "'org.gnome.Nautilus.desktop'"), ==,
		1);
	g_assert_cmpuint(
		stored(aggregates, MINST_METRIC_USAGE_APP_USED, "'org.mozilla.firefox.desktop'"),
		==, 1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_USAGE_WORKSPACES, "'2'"), ==, 1);
	/* 21 above + 2 disk bands; nothing else (the private tool's crash
	 * and use are not there) */
	g_assert_cmpuint(aggregates->len, ==, 23);

	/* the same week again: nothing new */
	g_free(run_instrumentation(fixture, "--system", "laptop-intel"));
	g_free(run_instrumentation(fixture, "--user", "user"));
	again = local_data(fixture);
	g_assert_cmpuint(again->len, ==, aggregates->len);
	for (guint i = 0; i < again->len; i++)
		g_assert_cmpuint(metrics_aggregate_get_count(g_ptr_array_index(again, i)), ==,
				 metrics_aggregate_get_count(g_ptr_array_index(aggregates, i)));
	assert_no_allowlist_drops(fixture);
}

/* every fixture tree through the real daemon: nothing dropped, every
 * stored metric known, and what the tree says */
static void
test_machine(Fixture *fixture, gconstpointer data)
{
	const Setup *setup = data;
	const char *machine = setup->machine;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autofree char *output = NULL;

	/* one install at a time: the dedup would skip a second tree */
	output = run_instrumentation(fixture, "--system", machine);
	g_free(run_instrumentation(fixture, "--user", "user"));
	assert_no_allowlist_drops(fixture);
	aggregates = local_data(fixture);
	assert_all_known(aggregates);
	/* the user's session is the same on every machine */
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_SETTINGS_LANGUAGE, "'de'"), ==, 1);
	if (g_str_equal(machine, "laptop-intel")) {
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CHASSIS, "'laptop'"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CAMERA, "true"), ==, 1);
	} else if (g_str_equal(machine, "desktop-amd-nvidia")) {
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CPU_VENDOR, "'amd'"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_GPU_VENDOR, "'amd'"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_GPU_VENDOR, "'nvidia'"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CHASSIS, "'desktop'"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CAMERA, "false"), ==, 1);
	} else if (g_str_equal(machine, "vm-minimal")) {
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CPU_VENDOR, "'amd'"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CPU_CORES, "'2'"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CHASSIS, NULL), ==, 0);
	} else if (g_str_equal(machine, "arm-board")) {
		/* its video4linux nodes are codecs, not cameras */
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CPU_VENDOR, "'arm'"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CAMERA, "false"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CAMERA, "true"), ==, 0);
	} else if (g_str_equal(machine, "malformed")) {
		/* with --verbose the program says what it skipped and why */
		g_assert_nonnull(
			strstr(output, "MemTotal is not a size in kB: skipping the RAM size"));
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CAMERA, "false"), ==, 1);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_HW_CPU_VENDOR, "'intel'"), ==, 0);
		g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_CRASHES_TOTAL, NULL), ==,
				 0);
	} else {
		g_assert_not_reached();
	}
}

/* an administrator's known-app set (in the second allowlist directory)
 * is the one both the daemon and the instrumentation use: apps outside it
 * are not recorded, and the daemon drops nothing */
static void
test_admin_value_set(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autofree char *output = NULL;

	output = run_instrumentation(fixture, "--system", "laptop-intel");
	g_assert_nonnull(strstr(output, "known-app set: 1 apps from"));
	g_assert_nonnull(strstr(output, "admin-allowlist"));
	g_free(run_instrumentation(fixture, "--user", "user"));
	assert_no_allowlist_drops(fixture);
	aggregates = local_data(fixture);
	assert_all_known(aggregates);
	g_assert_cmpuint(
		stored(aggregates, MINST_METRIC_USAGE_APP_USED, "'org.gnome.Nautilus.desktop'"), ==,
		1);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_APP_CRASHES,
				"'org.gnome.Nautilus.desktop'"),
			 ==, 2);
	g_assert_cmpuint(
		stored(aggregates, MINST_METRIC_USAGE_APP_USED, "'org.mozilla.firefox.desktop'"),
		==, 0);
	g_assert_cmpuint(stored(aggregates, MINST_METRIC_PROBLEMS_APP_CRASHES,
				"'org.mozilla.firefox.desktop'"),
			 ==, 0);
}

static void
test_no_consent(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autofree char *state = g_build_filename(fixture->tmp, "state", NULL);

	g_free(run_instrumentation(fixture, "--system", "laptop-intel"));
	g_free(run_instrumentation(fixture, "--user", "user"));
	aggregates = local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 0);
	/* nothing about events on disk */
	dir = g_dir_open(state, 0, NULL);
	g_assert_nonnull(dir);
	g_assert_null(g_dir_read_name(dir));
}

static char *
read_text(const char *path)
{
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

/* waits until the program's log holds @needle @n times; returns the log */
static char *
wait_for_log(const char *log_path, const char *needle, guint n)
{
	mtest_wait_for_in_file(log_path, needle, n);
	return read_text(log_path);
}

static gboolean
has_data_cb(gpointer user_data)
{
	g_autoptr(GPtrArray) aggregates = local_data(user_data);

	return aggregates->len > 0;
}

static void
wait_for_data(Fixture *fixture)
{
	mtest_wait_until(has_data_cb, fixture, "the daemon to store the metrics");
}

static void
set_consent(Fixture *fixture, MetricsConsent consent)
{
	g_autoptr(GError) error = NULL;

	metrics_client_set_consent_sync(fixture->client, consent, METRICS_CLIENT_FLAGS_NONE, NULL,
					&error);
	g_assert_no_error(error);
}

/* the long-running service (as systemd runs it, for @data "--system" or
 * "--user") stops recording within seconds when consent is withdrawn, stays
 * up and idle (no probes run, nothing is recorded), and records again when
 * consent is granted again in the same run */
static void
test_consent_follows(Fixture *fixture, gconstpointer data)
{
	const char *mode = g_str_has_suffix(g_test_get_path(), "/system") ? "--system" : "--user";
	g_autoptr(GSubprocessLauncher) launcher = launcher_new(fixture);
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *allowlist =
		g_test_build_filename(G_TEST_DIST, "fixtures", "allowlist", NULL);
	g_autofree char *allowlist_arg = g_strdup_printf("--allowlist-dir=%s", allowlist);
	g_autofree char *root =
		g_test_build_filename(G_TEST_DIST, "fixtures", "laptop-intel", NULL);
	g_autofree char *root_arg = g_strdup_printf("--root=%s", root);
	g_autofree char *journal_arg = g_strdup_printf("--journal-export=%s/journal/export", root);
	g_autofree char *log_path = g_build_filename(fixture->tmp, "instrumentation.log", NULL);
	g_autofree char *log = NULL;
	const char *probes = g_str_equal(mode, "--system") ? "running the hardware probes" :
							     "running the settings probes";
	gint64 denied_at;
	guint n_probes;

	int log_fd = g_open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	/* GLib writes debug messages to stdout, the others to stderr */
	g_assert_cmpint(log_fd, >=, 0);
	g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_NONE);
	g_subprocess_launcher_take_stdout_fd(launcher, log_fd);
	g_subprocess_launcher_take_stderr_fd(launcher, dup(log_fd));
	process = mtest_harness_spawn(fixture->harness, launcher,
				      (const char *const[]){g_getenv("MINST_TEST_INSTRUMENTATION"),
							    mode, "--verbose", allowlist_arg,
							    root_arg, journal_arg, NULL});

	/* it records at once because consent is granted */
	wait_for_data(fixture);
	log = wait_for_log(log_path, probes, 1);
	g_clear_pointer(&log, g_free);

	/* the user says no: it stops within seconds, and stays up */
	denied_at = g_get_monotonic_time();
	set_consent(fixture, METRICS_CONSENT_DENIED);
	log = wait_for_log(log_path, "consent is denied: stopped recording", 1);
	g_assert_cmpint(g_get_monotonic_time() - denied_at, <, 5 * G_USEC_PER_SEC);
	n_probes = mtest_count_in(log, probes);
	g_clear_pointer(&log, g_free);
	/* a second's watch, not a wait for anything: no probe runs, nothing
	 * is stored */
	g_usleep(G_USEC_PER_SEC);
	g_assert_nonnull(g_subprocess_get_identifier(process));
	{
		g_autoptr(GPtrArray) aggregates = local_data(fixture);
		g_assert_cmpuint(aggregates->len, ==, 0);
	}
	log = read_text(log_path);
	g_assert_cmpuint(mtest_count_in(log, probes), ==, n_probes);
	g_clear_pointer(&log, g_free);

	/* … and yes again: the same process records again */
	set_consent(fixture, METRICS_CONSENT_GRANTED);
	wait_for_data(fixture);
	log = wait_for_log(log_path, "consent is granted: recording weekly metrics", 2);
	g_assert_cmpuint(mtest_count_in(log, probes), ==, n_probes + 1);
	assert_no_allowlist_drops(fixture);

	/* systemd stops it with SIGTERM: a clean exit */
	g_subprocess_send_signal(process, SIGTERM);
	g_subprocess_wait(process, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(process));
	g_assert_cmpint(g_subprocess_get_exit_status(process), ==, 0);
}

int
main(int argc, char **argv)
{
	static const Setup granted = {.granted = TRUE};
	static const Setup unknown = {.granted = FALSE};
	static const Setup granted_polkit = {.granted = TRUE, .polkit = TRUE};
	static const Setup admin = {.granted = TRUE, .admin_apps = TRUE};
	static const Setup machines[] = {
		{.granted = TRUE, .machine = "laptop-intel"},
		{.granted = TRUE, .machine = "desktop-amd-nvidia"},
		{.granted = TRUE, .machine = "vm-minimal"},
		{.granted = TRUE, .machine = "malformed"},
		{.granted = TRUE, .machine = "arm-board"},
	};

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add("/metrics/instrumentation/e2e/system-and-user", Fixture, &granted, fixture_setup,
		   test_system_and_user, fixture_teardown);
	for (guint i = 0; i < G_N_ELEMENTS(machines); i++) {
		g_autofree char *path = g_strdup_printf("/metrics/instrumentation/e2e/machine/%s",
							machines[i].machine);
		g_test_add(path, Fixture, &machines[i], fixture_setup, test_machine,
			   fixture_teardown);
	}
	g_test_add("/metrics/instrumentation/e2e/admin-value-set", Fixture, &admin, fixture_setup,
		   test_admin_value_set, fixture_teardown);
	g_test_add("/metrics/instrumentation/e2e/no-consent", Fixture, &unknown, fixture_setup,
		   test_no_consent, fixture_teardown);
	for (guint i = 0; i < 2; i++) {
		g_autofree char *path = g_strdup_printf(
			"/metrics/instrumentation/e2e/stops-when-denied-resumes-when-"
			"granted/%s",
			i == 0 ? "system" : "user");
		g_test_add(path, Fixture, &granted_polkit, fixture_setup, test_consent_follows,
			   fixture_teardown);
	}
	return g_test_run();
}
