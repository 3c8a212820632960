/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The harness cleans up after a test process that dies: a child of this
 * program starts a harness (bus, polkit mock, daemon), prints the process
 * ids and the temporary directory, and, once this program has seen them
 * running, dies of a failed assertion, of SIGKILL, or of what meson does on
 * a timeout (SIGTERM to its process group). This program then waits until
 * every one of those processes has ended and the directory is gone, and
 * finds the daemon's log on the child's stderr.
 */

#define G_LOG_DOMAIN "TestHarnessCleanup"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mtest-harness.h"

#define DIE_BY_OPTION "--die-by"

/* the child: a harness, then death by @how */
G_GNUC_NORETURN static void
child_main(const char *how)
{
	MtestHarness *harness = mtest_harness_new();

	mtest_harness_start_bus(harness);
	mtest_harness_start_polkit(harness);
	mtest_harness_start_daemon(harness, NULL);
	/* the name shows on the bus before the daemon's own callback logs it;
	 * the parent looks for that line in the log */
	mtest_harness_wait_for_daemon_log(harness, "owning org.fedoraproject.Metrics1", 1);
	g_print("%s %s %s %d %s\n", g_subprocess_get_identifier(harness->bus),
		g_subprocess_get_identifier(harness->polkit),
		g_subprocess_get_identifier(harness->daemon), (int)harness->reaper_pid,
		harness->tmpdir);
	fflush(stdout);
	/* the test has looked at them: go (or be killed meanwhile) */
	while (getchar() != EOF)
		;
	/* the harness is never freed */
	g_assert_cmpstr(how, !=, "assertion");
	for (;;)
		pause();
}

/* the child leads a process group of its own, as meson's test processes
 * do, and dies with this test */
static void
child_setup_cb(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
}

typedef struct {
	GPid pids[4]; /* bus, polkit mock, daemon, reaper */
	const char *tmpdir;
} Leftovers;

static gboolean
all_gone_cb(gpointer user_data)
{
	Leftovers *leftovers = user_data;

	for (guint i = 0; i < G_N_ELEMENTS(leftovers->pids); i++) {
		if (mtest_process_running(leftovers->pids[i]))
			return FALSE;
	}
	return !g_file_test(leftovers->tmpdir, G_FILE_TEST_EXISTS);
}

static void
test_cleanup(gconstpointer user_data)
{
	const char *how = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree char *scratch = g_dir_make_tmp("metrics-cleanup-XXXXXX", &error);
	g_autofree char *err_path = g_build_filename(scratch, "stderr", NULL);
	g_autofree char *self_exe = g_file_read_link("/proc/self/exe", &error);
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GSubprocess) child = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree char *line = NULL;
	g_autofree char *err = NULL;
	g_auto(GStrv) fields = NULL;
	Leftovers leftovers = {{0}, NULL};

	g_assert_no_error(error);
	g_subprocess_launcher_set_stderr_file_path(launcher, err_path);
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb, NULL, NULL);
	child = g_subprocess_launcher_spawn(launcher, &error, self_exe, DIE_BY_OPTION, how, NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(child));
	line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	g_test_message("the child's harness: %s", line);
	fields = g_strsplit(line, " ", -1);
	g_assert_cmpuint(g_strv_length(fields), ==, 5);
	for (guint i = 0; i < G_N_ELEMENTS(leftovers.pids); i++) {
		leftovers.pids[i] = (GPid)g_ascii_strtoll(fields[i], NULL, 10);
		g_assert_true(mtest_process_running(leftovers.pids[i]));
	}
	leftovers.tmpdir = fields[4];
	g_assert_true(g_file_test(leftovers.tmpdir, G_FILE_TEST_IS_DIR));

	if (g_str_equal(how, "assertion"))
		g_assert_true(
			g_output_stream_close(g_subprocess_get_stdin_pipe(child), NULL, &error));
	else if (g_str_equal(how, "sigkill"))
		g_subprocess_force_exit(child);
	else if (g_str_equal(how, "timeout"))
		g_assert_no_errno(
			kill(-(pid_t)g_ascii_strtoll(g_subprocess_get_identifier(child), NULL, 10),
			     SIGTERM));
	g_assert_true(g_subprocess_wait(child, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_signaled(child));

	/* nothing left running, nothing left on disk */
	mtest_wait_until(all_gone_cb, &leftovers, "the harness's processes and directory to go");
	/* and what the daemon said is where meson looks for it */
	g_assert_true(g_file_get_contents(err_path, &err, NULL, &error));
	g_assert_no_error(error);
	g_assert_nonnull(strstr(err, "the test process died; the daemon's log"));
	g_assert_nonnull(strstr(err, "owning org.fedoraproject.Metrics1"));
	g_assert_no_errno(g_unlink(err_path));
	g_assert_no_errno(g_rmdir(scratch));
}

int
main(int argc, char *argv[])
{
	if (argc == 3 && g_str_equal(argv[1], DIE_BY_OPTION))
		child_main(argv[2]);

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_data_func("/metrics/harness/cleanup-after-assertion", "assertion", test_cleanup);
	g_test_add_data_func("/metrics/harness/cleanup-after-sigkill", "sigkill", test_cleanup);
	g_test_add_data_func("/metrics/harness/cleanup-after-timeout", "timeout", test_cleanup);
	return g_test_run();
}
