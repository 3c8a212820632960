/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * What the benchmarks share: /proc figures, medians, counting system calls
 * with strace.
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "bench-common.h"

/* a number field of /proc/PID/status (for a thread, PID is its TID) */
gint64
bench_read_status(GPid pid, const char *field)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
	g_autofree char *contents = NULL;
	const char *line;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return -1;
	line = strstr(contents, field);
	if (line == NULL)
		return -1;
	return g_ascii_strtoll(line + strlen(field), NULL, 10);
}

static gint
compare_doubles(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* the median of an array of doubles (sorted in place) */
double
bench_median(GArray *values)
{
	guint n = values->len;

	if (n == 0)
		return 0;
	g_array_sort(values, compare_doubles);
	if (n % 2 == 1)
		return g_array_index(values, double, n / 2);
	return (g_array_index(values, double, n / 2 - 1) + g_array_index(values, double, n / 2)) /
	       2;
}

/* starts "strace -c" on @pid (with @threads, on all its threads) and
 * returns once it is attached; 0 if strace is not installed */
GPid
bench_strace_attach(GPid pid, gboolean threads, const char *out_path, GError **error)
{
	g_autofree char *strace = g_find_program_in_path("strace");
	g_autofree char *pid_str = g_strdup_printf("%d", pid);
	const char *argv[] = {NULL, "-c", "-o", out_path, "-p", pid_str, NULL, NULL};
	GPid strace_pid = 0;

	if (strace == NULL)
		return 0;
	argv[0] = strace;
	if (threads)
		argv[6] = "-f";
	if (!g_spawn_async(NULL, (char **)argv, NULL,
			   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
			   &strace_pid, error))
		return 0;
	/* attached when the traced thread names its tracer */
	for (guint i = 0; i < 1000 && bench_read_status(pid, "TracerPid:") <= 0; i++)
		g_usleep(10000);
	return strace_pid;
}

/* stops strace (it detaches and writes its table on SIGINT) and returns
 * the total of calls; with @print, prints the calls by name */
gint64
bench_strace_finish(GPid strace_pid, const char *out_path, gboolean print)
{
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	gint64 total = 0;
	int status;

	kill(strace_pid, SIGINT);
	waitpid(strace_pid, &status, 0);
	g_spawn_close_pid(strace_pid);
	if (!g_file_get_contents(out_path, &contents, NULL, NULL))
		return -1;
	/* rows: "% time  seconds  usecs/call  calls  [errors]  syscall" */
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) words = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
		g_autoptr(GPtrArray) fields = g_ptr_array_new();
		const char *name;
		gint64 calls;

		for (guint j = 0; words[j] != NULL; j++) {
			if (words[j][0] != '\0')
				g_ptr_array_add(fields, words[j]);
		}
		if (fields->len < 5 || !g_ascii_isdigit(((char *)fields->pdata[0])[0]))
			continue;
		name = fields->pdata[fields->len - 1];
		calls = g_ascii_strtoll(fields->pdata[3], NULL, 10);
		if (g_str_equal(name, "total"))
			total = calls;
		else if (print)
			g_print("%-48s %14" G_GINT64_FORMAT "\n", name, calls);
	}
	return total;
}
