/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Benchmarks of the event path, app → libmetrics -> metrics-recorder -> SQLite,
 * on a private system bus with the real daemon. Prints a table; nothing here
 * is a pass/fail test (the test suite runs it once with --quick to keep it
 * working).
 *
 *   bench-recorder [--quick] [--events N] [--keys N] [--callgrind]
 */

#include "config.h"

#include <glib/gstdio.h>
#include <metrics.h>
#include <stdio.h>
#include <string.h>

#include "mtest-harness.h"

#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
#define CHUNK 8000 /* below the library's in-process queue limit */

/* the per-client rate limit protects other clients; here one client is
 * the whole point */
static const char *const unlimited[] = {"--max-client-rate=0", "--max-client-calls=0", NULL};

static gint64
read_status_kib(GPid pid, const char *field)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return -1;
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], field))
			return g_ascii_strtoll(lines[i] + strlen(field), NULL, 10);
	}
	return -1;
}

static void
flush_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	gboolean *done = user_data;
	g_autoptr(GError) error = NULL;

	if (!metrics_recorder_flush_finish(METRICS_RECORDER(source), result, &error))
		g_printerr("flush failed: %s\n", error->message);
	*done = TRUE;
}

static void
flush_and_wait(MetricsRecorder *recorder)
{
	gboolean done = FALSE;

	metrics_recorder_flush_async(recorder, NULL, flush_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

static guint64
status_u64(MetricsClient *client, const char *key)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = metrics_client_get_status_sync(client, NULL, &error);
	guint64 value = 0;

	if (status == NULL)
		g_error("GetStatus failed: %s", error->message);
	g_variant_lookup(status, key, "t", &value);
	return value;
}

static char **
make_values(guint n_keys)
{
	char **values = g_new0(char *, n_keys + 1);

	for (guint i = 0; i < n_keys; i++)
		values[i] = g_strdup_printf("org.example.App%u.desktop", i);
	return values;
}

/* sends @n_events through the library in chunks, each flushed with its
 * batches in flight together; returns the time the record calls alone took */
static gint64
run_events(MetricsRecorder *recorder, guint n_events, char **values, guint n_keys)
{
	gint64 record_time = 0;

	for (guint sent = 0; sent < n_events;) {
		guint n = MIN(CHUNK, n_events - sent);
		gint64 start = g_get_monotonic_time();

		for (guint i = 0; i < n; i++) {
			metrics_recorder_record(recorder, ID_VALUE,
						g_variant_new_string(values[(sent + i) % n_keys]));
		}
		record_time += g_get_monotonic_time() - start;
		flush_and_wait(recorder);
		sent += n;
	}
	return record_time;
}

static guint64
callgrind_total(const char *path)
{
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return 0;
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "summary:") || g_str_has_prefix(lines[i], "totals:"))
			return g_ascii_strtoull(strchr(lines[i], ':') + 1, NULL, 10);
	}
	return 0;
}

/* instructions the daemon executes for one run: start, @n_events, stop */
static guint64
callgrind_run(guint n_events, char **values, guint n_keys)
{
	g_autoptr(MtestHarness) harness = mtest_harness_new();
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autofree char *out = g_build_filename(harness->tmpdir, "callgrind.out", NULL);
	g_autofree char *wrapper =
		g_strdup_printf("valgrind --tool=callgrind --callgrind-out-file=%s", out);

	g_setenv("MTEST_DAEMON_WRAPPER", wrapper, TRUE);
	mtest_harness_start_bus(harness);
	mtest_harness_write_consent(harness, "granted");
	mtest_harness_start_daemon(harness, unlimited);
	recorder = metrics_recorder_new(harness->connection);
	if (n_events > 0)
		run_events(recorder, n_events, values, n_keys);
	mtest_harness_stop_daemon(harness, FALSE);
	g_unsetenv("MTEST_DAEMON_WRAPPER");
	return callgrind_total(out);
}

int
main(int argc, char *argv[])
{
	gboolean quick = FALSE;
	gboolean callgrind = FALSE;
	gint n_events = 1000000;
	gint n_keys = 1000;
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MtestHarness) harness = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(MetricsClient) client = NULL;
	g_auto(GStrv) values = NULL;
	const GOptionEntry options[] = {
		{"quick", 0, 0, G_OPTION_ARG_NONE, &quick, "A small run, to check it works", NULL},
		{"events", 'n', 0, G_OPTION_ARG_INT, &n_events, "Events to send", "N"},
		{"keys", 'k', 0, G_OPTION_ARG_INT, &n_keys, "Distinct values (aggregate keys)",
		 "N"},
		{"callgrind", 0, 0, G_OPTION_ARG_NONE, &callgrind,
		 "Also count the daemon's instructions per event with callgrind", NULL},
		{NULL},
	};
	gint64 record_time, start, elapsed;
	guint64 accepted, stored_keys, stored_bytes;
	gint64 rss_idle, rss_peak;
	GPid pid;

	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (quick) {
		n_events = 20000;
		n_keys = 100;
	}
	if (n_events <= 0 || n_keys <= 0) {
		g_printerr("--events and --keys must be positive\n");
		return 2;
	}
	if (g_getenv("MTEST_DAEMON") == NULL)
		g_setenv("MTEST_DAEMON", BENCH_DAEMON, TRUE);
	if (g_getenv("MTEST_BUS_CONFIG") == NULL)
		g_setenv("MTEST_BUS_CONFIG", BENCH_BUS_CONFIG, TRUE);
	if (g_getenv("MTEST_ALLOWLIST_DIRS") == NULL)
		g_setenv("MTEST_ALLOWLIST_DIRS", BENCH_ALLOWLIST_DIRS, TRUE);
	values = make_values((guint)n_keys);

	harness = mtest_harness_new();
	mtest_harness_start_bus(harness);
	mtest_harness_write_consent(harness, "granted");
	mtest_harness_start_daemon(harness, unlimited);
	pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(harness->daemon), NULL, 10);
	rss_idle = read_status_kib(pid, "VmRSS:");
	recorder = metrics_recorder_new(harness->connection);
	client = metrics_client_new(harness->connection);

	/* warm up: connect and learn the consent */
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(values[0]));
	if (!metrics_recorder_flush_sync(recorder, NULL, &error))
		g_error("warm-up failed: %s", error->message);

	start = g_get_monotonic_time();
	record_time = run_events(recorder, (guint)n_events, values, (guint)n_keys);
	elapsed = g_get_monotonic_time() - start;

	accepted = status_u64(client, "accepted") - 1;
	stored_keys = status_u64(client, "stored-keys");
	stored_bytes = status_u64(client, "stored-bytes");
	rss_peak = read_status_kib(pid, "VmHWM:");

	g_print("# libmetrics -> metrics-recorder -> SQLite, %d events over %d keys\n", n_events,
		n_keys);
	g_print("%-48s %14s\n", "figure", "value");
	g_print("%-48s %14.1f\n", "app: record() cost, ns per call (amortised)",
		(double)record_time * 1000.0 / n_events);
	g_print("%-48s %14.0f\n", "end to end: accepted events per second",
		(double)accepted / ((double)elapsed / G_USEC_PER_SEC));
	g_print("%-48s %14" G_GUINT64_FORMAT "\n", "events accepted (of sent)", accepted);
	g_print("%-48s %14" G_GUINT64_FORMAT "\n", "aggregate rows stored", stored_keys);
	g_print("%-48s %14.1f\n", "bytes on disk per event",
		(double)stored_bytes / (double)MAX(accepted, 1));
	g_print("%-48s %14.1f\n", "bytes on disk per key",
		(double)stored_bytes / (double)MAX(stored_keys, 1));
	g_print("%-48s %14.1f\n", "daemon RSS idle, MiB", rss_idle / 1024.0);
	g_print("%-48s %14.1f\n", "daemon peak RSS, MiB", rss_peak / 1024.0);
	if (accepted != (guint64)n_events) {
		g_printerr("lost events: sent %d, accepted %" G_GUINT64_FORMAT "\n", n_events,
			   accepted);
		return 1;
	}
	g_clear_object(&recorder);
	g_clear_object(&client);
	g_clear_pointer(&harness, mtest_harness_free);

	if (callgrind) {
		guint n = quick ? 2000 : 20000;
		guint64 base = callgrind_run(0, values, (guint)n_keys);
		guint64 loaded = callgrind_run(n, values, (guint)n_keys);

		g_print("%-48s %14.0f\n", "daemon instructions per event (callgrind)",
			(double)(loaded - base) / n);
	}
	return 0;
}
