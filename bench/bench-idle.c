/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Wake-ups of an idle daemon: the real metrics-recorder on a private system
 * bus, consent granted, no idle exit, nobody calling. Over a period (60 s;
 * --quick: 5 s) it counts the context switches of all the daemon's threads
 * (/proc/PID/task/TID/status) and then, over a second period of the same
 * length and if strace is installed, its system calls by name. The only
 * wake-up it should have is its upload timer (the end of the week, or the
 * next retry), so both should be zero. Prints a table; asserts nothing.
 *
 *   bench-idle [--quick] [--seconds N]
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "bench-common.h"
#include "mtest-harness.h"

/* the sum of @field over the daemon's threads */
static gint64
sum_over_threads(GPid pid, const char *field)
{
	g_autofree char *task_dir = g_strdup_printf("/proc/%d/task", pid);
	g_autoptr(GDir) dir = g_dir_open(task_dir, 0, NULL);
	const char *tid;
	gint64 total = 0;

	if (dir == NULL)
		return -1;
	while ((tid = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(task_dir, tid, "status", NULL);
		g_autofree char *contents = NULL;
		const char *line;

		if (!g_file_get_contents(path, &contents, NULL, NULL))
			continue;
		line = strstr(contents, field);
		if (line != NULL)
			total += g_ascii_strtoll(line + strlen(field), NULL, 10);
	}
	return total;
}

static guint
count_threads(GPid pid)
{
	g_autofree char *task_dir = g_strdup_printf("/proc/%d/task", pid);
	g_autoptr(GDir) dir = g_dir_open(task_dir, 0, NULL);
	guint n = 0;

	while (dir != NULL && g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

static void
sleep_for(guint seconds)
{
	g_usleep((gulong)seconds * G_USEC_PER_SEC);
}

int
main(int argc, char *argv[])
{
	const char *const args[] = {"--idle-timeout=0", NULL};
	gboolean quick = FALSE;
	gint seconds = 60;
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MtestHarness) harness = NULL;
	g_autofree char *strace = g_find_program_in_path("strace");
	const GOptionEntry options[] = {
		{"quick", 0, 0, G_OPTION_ARG_NONE, &quick, "5 s periods, to check it works", NULL},
		{"seconds", 's', 0, G_OPTION_ARG_INT, &seconds, "Length of each period", "N"},
		{NULL},
	};
	gint64 vol_before, invol_before, vol, invol;
	GPid pid;

	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (quick)
		seconds = 5;
	if (seconds <= 0) {
		g_printerr("--seconds must be positive\n");
		return 2;
	}
	if (g_getenv("MTEST_DAEMON") == NULL)
		g_setenv("MTEST_DAEMON", BENCH_DAEMON, TRUE);
	if (g_getenv("MTEST_BUS_CONFIG") == NULL)
		g_setenv("MTEST_BUS_CONFIG", BENCH_BUS_CONFIG, TRUE);
	if (g_getenv("MTEST_ALLOWLIST_DIRS") == NULL)
		g_setenv("MTEST_ALLOWLIST_DIRS", BENCH_ALLOWLIST_DIRS, TRUE);

	harness = mtest_harness_new();
	mtest_harness_start_bus(harness);
	mtest_harness_write_consent(harness, "granted");
	mtest_harness_start_daemon(harness, args);
	pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(harness->daemon), NULL, 10);
	/* let start-up finish: the allowlist, the store, the first timer */
	sleep_for(1);

	g_print("# idle metrics-recorder (consent granted, no idle exit), %d s periods\n", seconds);
	g_print("%-48s %14s\n", "figure", "value");
	vol_before = sum_over_threads(pid, "voluntary_ctxt_switches:");
	invol_before = sum_over_threads(pid, "nonvoluntary_ctxt_switches:");
	sleep_for((guint)seconds);
	vol = sum_over_threads(pid, "voluntary_ctxt_switches:") - vol_before;
	invol = sum_over_threads(pid, "nonvoluntary_ctxt_switches:") - invol_before;
	g_print("%-48s %14u\n", "daemon threads", count_threads(pid));
	g_print("%-48s %14" G_GINT64_FORMAT "\n", "voluntary context switches (all threads)", vol);
	g_print("%-48s %14" G_GINT64_FORMAT "\n", "involuntary context switches", invol);
	g_print("%-48s %14.2f\n", "wake-ups per minute (voluntary switches)",
		(double)vol * 60.0 / seconds);

	if (strace == NULL) {
		g_print("%-48s %14s\n", "system calls (strace)", "no strace");
	} else {
		g_autofree char *out = g_build_filename(harness->tmpdir, "strace.out", NULL);
		GPid tracer = bench_strace_attach(pid, TRUE, out, &error);
		gint64 total;

		g_assert_no_error(error);
		sleep_for((guint)seconds);
		g_print("# system calls over %d s (strace -f -c), by name\n", seconds);
		total = bench_strace_finish(tracer, out, TRUE);
		g_print("%-48s %14" G_GINT64_FORMAT "\n", "system calls in total", total);
	}
	g_print("# target: none but the upload timer (the end of the week or the next retry)\n");
	return 0;
}
