/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Benchmarks of the event path, app → libmetrics -> metrics-recorder -> SQLite,
 * on a private system bus with the real daemon. Prints a table of medians
 * over --runs runs, beside the reference daemon's figures and the
 * targets; nothing here is a pass/fail test (the test suite runs it once
 * with --quick to keep it working). docs/benchmarks.md has the commands.
 *
 *   bench-recorder [--quick] [--runs N] [--events N] [--keys N]
 *                  [--callgrind] [--callgrind-events N] [--callgrind-out FILE]
 */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <metrics.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench-common.h"
#include "mtest-harness.h"

#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
#define CHUNK 8000 /* below the library's in-process queue limit */

/* the per-client rate limit protects other clients; here one client is
 * the whole point */
static const char *const unlimited[] = {"--max-client-rate=0", "--max-client-calls=0", NULL};

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

/* system calls of the calling thread that the kernel counts per thread:
 * reads and writes of any kind (/proc/thread-self/io: syscr, syscw; a
 * wake-up of another thread through an eventfd or a pipe is a write), and
 * blocking ones, which leave the CPU (getrusage: context switches) */
typedef struct {
	int io_fd;
	gint64 rw;
	gint64 switches;
} SyscallCounter;

static gint64
read_rw_calls(int fd)
{
	char buf[512];
	ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);
	const char *r, *w;

	if (len <= 0)
		return -1;
	buf[len] = '\0';
	r = strstr(buf, "syscr:");
	w = strstr(buf, "syscw:");
	if (r == NULL || w == NULL)
		return -1;
	return g_ascii_strtoll(r + 6, NULL, 10) + g_ascii_strtoll(w + 6, NULL, 10);
}

static gint64
read_switches(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_THREAD, &usage) != 0)
		return -1;
	return usage.ru_nvcsw + usage.ru_nivcsw;
}

/* the pread of the counter itself is one read: measured, not assumed */
static gint64 counter_overhead = 0;

static void
counter_start(SyscallCounter *counter)
{
	counter->rw = read_rw_calls(counter->io_fd);
	counter->switches = read_switches();
}

static void
counter_stop(SyscallCounter *counter, gint64 *rw, gint64 *switches)
{
	*rw += read_rw_calls(counter->io_fd) - counter->rw - counter_overhead;
	*switches += read_switches() - counter->switches;
}

typedef struct {
	gint64 record_time; /* usec in record() calls */
	gint64 rw_calls;    /* read/write system calls during them */
	gint64 switches;    /* context switches during them */
} RecordFigures;

/* sends @n_events through the library in chunks, each flushed with its
 * batches in flight together; measures the record() calls alone */
static void
run_events(MetricsRecorder *recorder,
	   guint n_events,
	   char **values,
	   guint n_keys,
	   RecordFigures *figures)
{
	SyscallCounter counter = {.io_fd = open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC)};

	memset(figures, 0, sizeof(*figures));
	if (counter.io_fd >= 0) {
		/* two reads back to back: what reading costs */
		gint64 first = read_rw_calls(counter.io_fd);
		counter_overhead = read_rw_calls(counter.io_fd) - first;
	}
	for (guint sent = 0; sent < n_events;) {
		guint n = MIN(CHUNK, n_events - sent);
		gint64 start;

		counter_start(&counter);
		start = g_get_monotonic_time();
		for (guint i = 0; i < n; i++) {
			metrics_recorder_record(recorder, ID_VALUE,
						g_variant_new_string(values[(sent + i) % n_keys]));
		}
		figures->record_time += g_get_monotonic_time() - start;
		counter_stop(&counter, &figures->rw_calls, &figures->switches);
		flush_and_wait(recorder);
		sent += n;
	}
	if (counter.io_fd >= 0)
		close(counter.io_fd);
	else
		figures->rw_calls = -1;
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
callgrind_run(guint n_events, char **values, guint n_keys, const char *keep)
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
	if (n_events > 0) {
		RecordFigures figures;
		run_events(recorder, n_events, values, n_keys, &figures);
	}
	mtest_harness_stop_daemon(harness, FALSE);
	g_unsetenv("MTEST_DAEMON_WRAPPER");
	if (keep != NULL) {
		g_autofree char *contents = NULL;
		gsize len = 0;

		if (!g_file_get_contents(out, &contents, &len, NULL) ||
		    !g_file_set_contents(keep, contents, (gssize)len, NULL))
			g_printerr("cannot keep the profile in %s\n", keep);
	}
	return callgrind_total(out);
}

static void
start_harness(MtestHarness *harness)
{
	mtest_harness_start_bus(harness);
	mtest_harness_write_consent(harness, "granted");
	mtest_harness_start_daemon(harness, unlimited);
}

static GPid
daemon_pid(MtestHarness *harness)
{
	return (GPid)g_ascii_strtoll(g_subprocess_get_identifier(harness->daemon), NULL, 10);
}

enum {
	FIG_RECORD_NS,
	FIG_RATE,
	FIG_RW_CALLS,
	FIG_SWITCHES,
	FIG_BYTES_EVENT,
	FIG_BYTES_KEY,
	FIG_ROWS,
	FIG_RSS_IDLE,
	FIG_RSS_PEAK,
	N_FIGURES,
};

/* one run on a new bus, daemon and store; FALSE if events were lost */
static gboolean
run_once(guint n_events, char **values, guint n_keys, double figures[N_FIGURES])
{
	g_autoptr(MtestHarness) harness = mtest_harness_new();
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(MetricsClient) client = NULL;
	g_autoptr(GError) error = NULL;
	RecordFigures record;
	guint64 accepted, stored_keys, stored_bytes;
	gint64 start, elapsed, rss_idle;
	GPid pid;

	start_harness(harness);
	pid = daemon_pid(harness);
	rss_idle = bench_read_status(pid, "VmRSS:");
	recorder = metrics_recorder_new(harness->connection);
	client = metrics_client_new(harness->connection);

	/* warm up: connect and learn the consent */
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(values[0]));
	if (!metrics_recorder_flush_sync(recorder, NULL, &error))
		g_error("warm-up failed: %s", error->message);

	start = g_get_monotonic_time();
	run_events(recorder, n_events, values, n_keys, &record);
	elapsed = g_get_monotonic_time() - start;

	accepted = status_u64(client, "accepted") - 1;
	stored_keys = status_u64(client, "stored-keys");
	stored_bytes = status_u64(client, "stored-bytes");
	/* kB of 1024 bytes, as MB of 10^6 bytes like the reference's figures */
	figures[FIG_RSS_IDLE] = rss_idle * 1024.0 / 1e6;
	figures[FIG_RSS_PEAK] = bench_read_status(pid, "VmHWM:") * 1024.0 / 1e6;
	figures[FIG_RECORD_NS] = (double)record.record_time * 1000.0 / n_events;
	figures[FIG_RATE] = (double)accepted / ((double)elapsed / G_USEC_PER_SEC);
	figures[FIG_RW_CALLS] = record.rw_calls < 0 ? -1 : (double)record.rw_calls / n_events;
	figures[FIG_SWITCHES] = (double)record.switches / n_events;
	figures[FIG_BYTES_EVENT] = (double)stored_bytes / (double)MAX(accepted, 1);
	figures[FIG_BYTES_KEY] = (double)stored_bytes / (double)MAX(stored_keys, 1);
	figures[FIG_ROWS] = (double)stored_keys;
	if (accepted != n_events) {
		g_printerr("lost events: sent %u, accepted %" G_GUINT64_FORMAT "\n", n_events,
			   accepted);
		return FALSE;
	}
	return TRUE;
}

/* whether @name is a program in PATH */
static gboolean
have_program(const char *name)
{
	g_autofree char *path = g_find_program_in_path(name);

	return path != NULL;
}

/* every system call of the recording thread during CHUNK record() calls,
 * by strace attached to that thread alone (not timed), less those of an
 * empty window: the attaching and detaching; -1 without strace */
static double
strace_record_calls(char **values, guint n_keys, guint *n_out)
{
	g_autoptr(MtestHarness) harness = mtest_harness_new();
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	gint64 empty, loaded;
	GPid tracer;

	if (!have_program("strace"))
		return -1;
	out = g_build_filename(harness->tmpdir, "strace.out", NULL);
	start_harness(harness);
	recorder = metrics_recorder_new(harness->connection);
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(values[0]));
	if (!metrics_recorder_flush_sync(recorder, NULL, &error))
		g_error("warm-up failed: %s", error->message);

	tracer = bench_strace_attach(getpid(), FALSE, out, &error);
	g_assert_no_error(error);
	empty = bench_strace_finish(tracer, out, FALSE);
	tracer = bench_strace_attach(getpid(), FALSE, out, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < CHUNK; i++)
		metrics_recorder_record(recorder, ID_VALUE,
					g_variant_new_string(values[i % n_keys]));
	loaded = bench_strace_finish(tracer, out, FALSE);
	flush_and_wait(recorder);
	*n_out = CHUNK;
	return (double)MAX(loaded - empty, 0) / CHUNK;
}

static void
print_row(const char *figure,
	  int decimals,
	  double value,
	  const char *reference,
	  const char *target,
	  const char *ratio)
{
	g_autofree char *measured =
		value < 0 ? g_strdup("n/a") : g_strdup_printf("%.*f", decimals, value);

	g_print("%-46s %12s %12s %12s %12s\n", figure, measured, reference, target, ratio);
}

int
main(int argc, char *argv[])
{
	gboolean quick = FALSE;
	gboolean callgrind = FALSE;
	gint n_events = 1000000;
	gint n_keys = 1000;
	gint n_runs = 0;
	gint n_callgrind = 0;
	g_autofree char *callgrind_out = NULL;
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) values = NULL;
	const GOptionEntry options[] = {
		{"quick", 0, 0, G_OPTION_ARG_NONE, &quick, "A small run, to check it works", NULL},
		{"runs", 'r', 0, G_OPTION_ARG_INT, &n_runs,
		 "Runs to take the medians of (default 3; --quick: 1)", "N"},
		{"events", 'n', 0, G_OPTION_ARG_INT, &n_events, "Events to send per run", "N"},
		{"keys", 'k', 0, G_OPTION_ARG_INT, &n_keys, "Distinct values (aggregate keys)",
		 "N"},
		{"callgrind", 0, 0, G_OPTION_ARG_NONE, &callgrind,
		 "Also count the daemon's instructions per event with callgrind", NULL},
		{"callgrind-events", 0, 0, G_OPTION_ARG_INT, &n_callgrind,
		 "Events of the callgrind run (default 20000; --quick: 2000)", "N"},
		{"callgrind-out", 0, 0, G_OPTION_ARG_FILENAME, &callgrind_out,
		 "Keep the callgrind profile of the loaded run in FILE", "FILE"},
		{NULL},
	};
	GArray *samples[N_FIGURES];
	double median[N_FIGURES];
	double instructions = -1, strace_calls = -1;
	guint n_straced = 0;
	char ratio[N_FIGURES][32];

	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (quick) {
		n_events = 20000;
		n_keys = 100;
	}
	if (n_runs == 0)
		n_runs = quick ? 1 : 3;
	if (n_callgrind == 0)
		n_callgrind = quick ? 2000 : 20000;
	if (n_events <= 0 || n_keys <= 0 || n_runs <= 0 || n_callgrind <= 0) {
		g_printerr("--events, --keys, --runs and --callgrind-events must be positive\n");
		return 2;
	}
	if (g_getenv("MTEST_DAEMON") == NULL)
		g_setenv("MTEST_DAEMON", BENCH_DAEMON, TRUE);
	if (g_getenv("MTEST_BUS_CONFIG") == NULL)
		g_setenv("MTEST_BUS_CONFIG", BENCH_BUS_CONFIG, TRUE);
	if (g_getenv("MTEST_ALLOWLIST_DIRS") == NULL)
		g_setenv("MTEST_ALLOWLIST_DIRS", BENCH_ALLOWLIST_DIRS, TRUE);
	values = make_values((guint)n_keys);

	for (guint f = 0; f < N_FIGURES; f++)
		samples[f] = g_array_new(FALSE, FALSE, sizeof(double));
	for (gint run = 0; run < n_runs; run++) {
		double figures[N_FIGURES];

		if (!run_once((guint)n_events, values, (guint)n_keys, figures))
			return 1;
		for (guint f = 0; f < N_FIGURES; f++)
			g_array_append_val(samples[f], figures[f]);
	}
	for (guint f = 0; f < N_FIGURES; f++) {
		median[f] = bench_median(samples[f]);
		g_array_unref(samples[f]);
	}
	strace_calls = strace_record_calls(values, (guint)n_keys, &n_straced);
	if (callgrind) {
		guint64 base = callgrind_run(0, values, (guint)n_keys, NULL);
		guint64 loaded =
			callgrind_run((guint)n_callgrind, values, (guint)n_keys, callgrind_out);

		/* the whole daemon process, start to exit, less a run without
		 * events: D-Bus, parsing, the gate, aggregation, SQLite */
		instructions = (double)(loaded - base) / n_callgrind;
	}

	g_snprintf(ratio[FIG_RATE], sizeof(ratio[0]), "%.1fx", median[FIG_RATE] / 6200);
	g_snprintf(ratio[FIG_BYTES_EVENT], sizeof(ratio[0]), "1/%.0f",
		   95 / MAX(median[FIG_BYTES_EVENT], 0.001));
	g_snprintf(ratio[FIG_RSS_IDLE], sizeof(ratio[0]), "%.2fx", median[FIG_RSS_IDLE] / 17.5);
	g_snprintf(ratio[FIG_RSS_PEAK], sizeof(ratio[0]), "%.2fx", median[FIG_RSS_PEAK] / 20.8);

	g_print("# libmetrics -> metrics-recorder -> SQLite: %d events over %d keys, "
		"median of %d run(s)\n",
		n_events, n_keys, n_runs);
	g_print("# reference: eos-event-recorder-daemon on the same machine\n");
	g_print("%-46s %12s %12s %12s %12s\n", "figure", "measured", "reference", "target",
		"vs ref.");
	print_row("app: record() cost, ns per call (amortised)", 0, median[FIG_RECORD_NS], "-",
		  "<= 1000", "-");
	print_row("app: read/write syscalls per record()", 4, median[FIG_RW_CALLS], "-", "0", "-");
	print_row("app: context switches per record()", 4, median[FIG_SWITCHES], "-", "0", "-");
	if (strace_calls >= 0) {
		g_autofree char *label =
			g_strdup_printf("app: all syscalls per record() (strace, %u)", n_straced);
		print_row(label, 4, strace_calls, "-", "0", "-");
	}
	print_row("end to end: accepted events per second", 0, median[FIG_RATE], "6200", ">= 62000",
		  ratio[FIG_RATE]);
	if (callgrind) {
		g_autofree char *label = g_strdup_printf(
			"daemon: instructions per event (callgrind, %d)", n_callgrind);
		g_autofree char *vs = g_strdup_printf("1/%.1f", 272000 / MAX(instructions, 1));
		print_row(label, 0, instructions, "272000", "<= 27200", vs);
	}
	print_row("daemon: RSS idle, MB", 1, median[FIG_RSS_IDLE], "17.5", "-",
		  ratio[FIG_RSS_IDLE]);
	print_row("daemon: peak RSS after the run, MB", 1, median[FIG_RSS_PEAK], "20.8", "<= 20.8",
		  ratio[FIG_RSS_PEAK]);
	print_row("store: aggregate rows", 0, median[FIG_ROWS], "-", "-", "-");
	print_row("store: bytes on disk per event", 2, median[FIG_BYTES_EVENT], "95", "-",
		  ratio[FIG_BYTES_EVENT]);
	print_row("store: bytes on disk per key", 0, median[FIG_BYTES_KEY], "-", "-", "-");
	return 0;
}
