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
#define MAX_BATCH 1024 /* events per RecordEvents call, at most */
#define CHUNK 8000     /* below the library's in-process queue limit */

/* the per-client rate limit protects other clients; here one client is
 * the whole point */
static const char *const unlimited[] = {"--max-client-rate=0", "--max-client-calls=0", NULL};

/* the daemon's program (MTEST_DAEMON, or the one built beside) */
static const char *daemon_path = BENCH_DAEMON;

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

/* the store's files (database, WAL, shared memory) in @state_dir, as
 * GetStatus would count them for a privileged caller */
static guint64
store_file_bytes(const char *state_dir)
{
	const char *const names[] = {"metrics.db", "metrics.db-wal", "metrics.db-shm"};
	guint64 total = 0;

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(state_dir, names[i], NULL);
		GStatBuf st;

		if (g_stat(path, &st) == 0)
			total += (guint64)st.st_size;
	}
	return total;
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

/* flushes in flight at once: each sends one batch */
#define IN_FLIGHT 8

typedef struct {
	guint pending;
	guint failed;
} Flushes;

static void
window_flush_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Flushes *flushes = user_data;
	g_autoptr(GError) error = NULL;

	if (!metrics_recorder_flush_finish(METRICS_RECORDER(source), result, &error)) {
		if (flushes->failed++ == 0)
			g_printerr("flush failed: %s\n", error->message);
	}
	flushes->pending--;
}

static void
wait_flushes(Flushes *flushes, guint most)
{
	while (flushes->pending > most)
		g_main_context_iteration(NULL, TRUE);
}

/* sends @n_events through the library in batches of @batch events, each
 * flushed at once (so that it is one RecordEvents call), with up to
 * IN_FLIGHT of them in flight; measures the record() calls alone */
static void
run_events(MetricsRecorder *recorder,
	   guint n_events,
	   guint batch,
	   char **values,
	   guint n_keys,
	   RecordFigures *figures)
{
	SyscallCounter counter = {.io_fd = open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC)};
	Flushes flushes = {0};

	memset(figures, 0, sizeof(*figures));
	if (counter.io_fd >= 0) {
		/* two reads back to back: what reading costs */
		gint64 first = read_rw_calls(counter.io_fd);
		counter_overhead = read_rw_calls(counter.io_fd) - first;
	}
	for (guint sent = 0; sent < n_events;) {
		guint n = MIN(batch, n_events - sent);
		gint64 start;

		counter_start(&counter);
		start = g_get_monotonic_time();
		for (guint i = 0; i < n; i++) {
			metrics_recorder_record(recorder, ID_VALUE,
						g_variant_new_string(values[(sent + i) % n_keys]));
		}
		figures->record_time += g_get_monotonic_time() - start;
		counter_stop(&counter, &figures->rw_calls, &figures->switches);
		flushes.pending++;
		metrics_recorder_flush_async(recorder, NULL, window_flush_cb, &flushes);
		wait_flushes(&flushes, IN_FLIGHT - 1);
		sent += n;
	}
	wait_flushes(&flushes, 0);
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

/* what the benchmark measures: the daemon, or the floor (the no-op service
 * of bench-floor-service.c, with the same methods on the same bus) */
typedef enum {
	TARGET_DAEMON,
	TARGET_FLOOR,
	N_TARGETS,
} Target;

static void
start_harness(MtestHarness *harness, Target target)
{
	g_setenv("MTEST_DAEMON", target == TARGET_DAEMON ? daemon_path : BENCH_FLOOR, TRUE);
	mtest_harness_start_bus(harness);
	mtest_harness_write_consent(harness, "granted");
	mtest_harness_start_daemon(harness, unlimited);
}

static GPid
daemon_pid(MtestHarness *harness)
{
	return (GPid)g_ascii_strtoll(g_subprocess_get_identifier(harness->daemon), NULL, 10);
}

/* the CPU time of process @pid so far (user and system), in seconds */
static double
process_cpu_seconds(GPid pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *contents = NULL;
	g_auto(GStrv) fields = NULL;
	const char *after_name;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return -1;
	/* the name in parentheses may hold spaces: fields start after it */
	after_name = strrchr(contents, ')');
	if (after_name == NULL)
		return -1;
	fields = g_strsplit(after_name + 2, " ", -1);
	if (g_strv_length(fields) < 13)
		return -1;
	/* utime and stime: fields 14 and 15 of stat, 12 and 13 after the name */
	return (double)(g_ascii_strtoull(fields[11], NULL, 10) +
			g_ascii_strtoull(fields[12], NULL, 10)) /
	       (double)sysconf(_SC_CLK_TCK);
}

/* the desktop model: @n_apps apps, each on a connection of its own, send a
 * few events every few seconds, and the instrumentation (a system and a
 * user instance) a batch once an hour; one simulated hour, driven as fast
 * as the calls are answered, with no real waits */
#define DESKTOP_APPS 30
#define DESKTOP_PERIOD_S 5
#define DESKTOP_ROUNDS (3600 / DESKTOP_PERIOD_S)
#define DESKTOP_INSTRUMENTATION_EVENTS 16

typedef struct {
	guint64 calls;
	guint64 events;
	double cpu_seconds; /* of the daemon, in the hour */
} DesktopFigures;

static void
desktop_send(MetricsRecorder *recorder, Flushes *flushes, const char *value, guint n)
{
	for (guint i = 0; i < n; i++)
		metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(value));
	flushes->pending++;
	metrics_recorder_flush_async(recorder, NULL, window_flush_cb, flushes);
}

static void
desktop_hour(MtestHarness *harness, GPid pid, guint rounds, DesktopFigures *figures)
{
	MetricsRecorder *apps[DESKTOP_APPS + 2];
	GDBusConnection *connections[DESKTOP_APPS + 2];
	char *values[DESKTOP_APPS + 2];
	Flushes flushes = {0};
	double cpu_start;

	memset(figures, 0, sizeof(*figures));
	for (guint a = 0; a < DESKTOP_APPS + 2; a++) {
		g_autoptr(GError) error = NULL;

		connections[a] = g_dbus_connection_new_for_address_sync(
			harness->address,
			G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
				G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL, NULL, &error);
		g_assert_no_error(error);
		apps[a] = metrics_recorder_new(connections[a]);
		values[a] = g_strdup_printf("org.example.App%u.desktop", a);
		/* connect and learn the consent, outside the hour */
		desktop_send(apps[a], &flushes, values[a], 1);
	}
	wait_flushes(&flushes, 0);
	cpu_start = process_cpu_seconds(pid);
	for (guint round = 0; round < rounds; round++) {
		/* 1 to 5 events per app and call, 3 on average */
		for (guint a = 0; a < DESKTOP_APPS; a++) {
			guint n = 1 + (round + a) % 5;

			desktop_send(apps[a], &flushes, values[a], n);
			figures->calls++;
			figures->events += n;
		}
		if (round == rounds / 2) {
			for (guint a = DESKTOP_APPS; a < DESKTOP_APPS + 2; a++) {
				desktop_send(apps[a], &flushes, values[a],
					     DESKTOP_INSTRUMENTATION_EVENTS);
				figures->calls++;
				figures->events += DESKTOP_INSTRUMENTATION_EVENTS;
			}
		}
		wait_flushes(&flushes, 0);
	}
	figures->cpu_seconds = process_cpu_seconds(pid) - cpu_start;
	for (guint a = 0; a < DESKTOP_APPS + 2; a++) {
		g_object_unref(apps[a]);
		g_object_unref(connections[a]);
		g_free(values[a]);
	}
}

/* what a run under callgrind is: the events of run_events(), or the
 * desktop hour */
typedef struct {
	guint n_events; /* 0: none (start-up and shutdown only) */
	guint batch;
	gboolean desktop;
	guint desktop_rounds;
} Workload;

/* instructions the daemon (or the floor) executes for one run: start,
 * the workload, stop */
static guint64
callgrind_run(Target target, const Workload *work, char **values, guint n_keys, const char *keep)
{
	g_autoptr(MtestHarness) harness = mtest_harness_new();
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(MetricsClient) client = NULL;
	g_autofree char *out = g_build_filename(harness->tmpdir, "callgrind.out", NULL);
	g_autofree char *wrapper =
		g_strdup_printf("valgrind --tool=callgrind --callgrind-out-file=%s", out);

	g_setenv("MTEST_DAEMON_WRAPPER", wrapper, TRUE);
	start_harness(harness, target);
	recorder = metrics_recorder_new(harness->connection);
	/* a call answered: the service is past its start-up (and handles
	 * SIGTERM) before a run without events stops it */
	client = metrics_client_new(harness->connection);
	status_u64(client, "accepted");
	if (work->desktop) {
		DesktopFigures figures;
		desktop_hour(harness, daemon_pid(harness), work->desktop_rounds, &figures);
	} else if (work->n_events > 0) {
		RecordFigures figures;
		run_events(recorder, work->n_events, work->batch, values, n_keys, &figures);
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

/* one run on a new bus, daemon (or floor) and store, in batches of
 * @batch; FALSE if events were lost */
static gboolean
run_once(Target target,
	 guint n_events,
	 guint batch,
	 char **values,
	 guint n_keys,
	 double figures[N_FIGURES])
{
	g_autoptr(MtestHarness) harness = mtest_harness_new();
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(MetricsClient) client = NULL;
	g_autoptr(GError) error = NULL;
	RecordFigures record;
	guint64 accepted, stored_keys, stored_bytes;
	gint64 start, elapsed, rss_idle;
	GPid pid;

	start_harness(harness, target);
	pid = daemon_pid(harness);
	rss_idle = bench_read_status(pid, "VmRSS:");
	recorder = metrics_recorder_new(harness->connection);
	client = metrics_client_new(harness->connection);

	/* warm up: connect and learn the consent */
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(values[0]));
	if (!metrics_recorder_flush_sync(recorder, NULL, &error))
		g_error("warm-up failed: %s", error->message);

	start = g_get_monotonic_time();
	run_events(recorder, n_events, batch, values, n_keys, &record);
	elapsed = g_get_monotonic_time() - start;

	accepted = status_u64(client, "accepted") - 1;
	stored_keys = status_u64(client, "stored-keys");
	stored_bytes = store_file_bytes(harness->state_dir);
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

/* medians of @n_runs runs of run_once(); FALSE if events were lost */
static gboolean
run_medians(Target target,
	    guint n_runs,
	    guint n_events,
	    guint batch,
	    char **values,
	    guint n_keys,
	    double median[N_FIGURES])
{
	GArray *samples[N_FIGURES];
	gboolean ok = TRUE;

	for (guint f = 0; f < N_FIGURES; f++)
		samples[f] = g_array_new(FALSE, FALSE, sizeof(double));
	for (guint run = 0; ok && run < n_runs; run++) {
		double figures[N_FIGURES];

		ok = run_once(target, n_events, batch, values, n_keys, figures);
		for (guint f = 0; ok && f < N_FIGURES; f++)
			g_array_append_val(samples[f], figures[f]);
	}
	for (guint f = 0; f < N_FIGURES; f++) {
		median[f] = bench_median(samples[f]);
		g_array_unref(samples[f]);
	}
	return ok;
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
	start_harness(harness, TARGET_DAEMON);
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

	g_print("%-50s %12s %12s %12s %12s\n", figure, measured, reference, target, ratio);
}

/* a figure beside its floor: the ratio is measured / floor */
static void
print_floor_row(const char *figure, int decimals, double value, double floor_, const char *target)
{
	g_autofree char *measured =
		value < 0 ? g_strdup("n/a") : g_strdup_printf("%.*f", decimals, value);
	g_autofree char *floor_str =
		floor_ < 0 ? g_strdup("n/a") : g_strdup_printf("%.*f", decimals, floor_);
	g_autofree char *ratio =
		value < 0 || floor_ <= 0 ? g_strdup("-") : g_strdup_printf("%.2f", value / floor_);

	g_print("%-50s %12s %12s %12s %12s\n", figure, measured, floor_str, ratio, target);
}

/* the daemon's (and the floor's) instructions per event, or per call,
 * for batches of @batch: a loaded run less one without events */
static void
callgrind_per_event(const guint64 base[N_TARGETS],
		    guint n_events,
		    guint batch,
		    char **values,
		    guint n_keys,
		    const char *keep,
		    double per_event[N_TARGETS])
{
	Workload work = {.n_events = n_events, .batch = batch};

	for (Target t = 0; t < N_TARGETS; t++) {
		guint64 loaded =
			callgrind_run(t, &work, values, n_keys, t == TARGET_DAEMON ? keep : NULL);
		per_event[t] = (double)(loaded - base[t]) / n_events;
	}
}

/* --app-run: the app's side alone, in a process of its own on the bus
 * of DBUS_SYSTEM_BUS_ADDRESS (the floor answering), for callgrind */
static int
app_run(guint n_events, guint batch, guint n_keys)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_auto(GStrv) values = make_values(n_keys);
	RecordFigures figures;

	if (bus == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	recorder = metrics_recorder_new(bus);
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(values[0]));
	if (!metrics_recorder_flush_sync(recorder, NULL, &error)) {
		g_printerr("warm-up failed: %s\n", error->message);
		return 1;
	}
	if (n_events > 0)
		run_events(recorder, n_events, batch, values, n_keys, &figures);
	return 0;
}

/* instructions of the app process (record() and the library's sending,
 * in all its threads) per event: a run of @n_events in batches of @batch
 * less one without events, each under callgrind, the floor answering */
static double
app_instructions_per_event(guint n_events, guint batch, guint n_keys)
{
	g_autoptr(MtestHarness) harness = mtest_harness_new();
	g_autofree char *self_path = g_file_read_link("/proc/self/exe", NULL);
	guint64 totals[2] = {0, 0};

	if (self_path == NULL)
		return -1;
	start_harness(harness, TARGET_FLOOR);
	for (guint run = 0; run < 2; run++) {
		g_autofree char *out = g_strdup_printf("%s/app-%u.callgrind", harness->tmpdir, run);
		g_autofree char *out_arg = g_strdup_printf("--callgrind-out-file=%s", out);
		g_autofree char *events_arg =
			g_strdup_printf("--app-run=%u", run == 0 ? 0 : n_events);
		g_autofree char *batch_arg = g_strdup_printf("--batch=%u", batch);
		g_autofree char *keys_arg = g_strdup_printf("--keys=%u", n_keys);
		const char *argv[] = {"valgrind", "--tool=callgrind", "-q",	out_arg, self_path,
				      events_arg, batch_arg,	      keys_arg, NULL};
		g_autoptr(GError) error = NULL;
		int status = 0;

		if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
				  NULL, &status, &error) ||
		    !g_spawn_check_wait_status(status, &error)) {
			g_printerr("the app's callgrind run failed: %s\n", error->message);
			return -1;
		}
		totals[run] = callgrind_total(out);
	}
	mtest_harness_stop_daemon(harness, FALSE);
	return (double)(totals[1] - totals[0]) / n_events;
}

/* the desktop model's figures, for an hour of @rounds rounds (quick runs
 * simulate part of the hour and scale it up) */
static int
run_desktop(gboolean callgrind, guint rounds)
{
	DesktopFigures figures[N_TARGETS];
	double instructions[N_TARGETS] = {-1, -1};
	double scale = (double)DESKTOP_ROUNDS / rounds;

	for (Target t = 0; t < N_TARGETS; t++) {
		g_autoptr(MtestHarness) harness = mtest_harness_new();

		start_harness(harness, t);
		desktop_hour(harness, daemon_pid(harness), rounds, &figures[t]);
		mtest_harness_stop_daemon(harness, FALSE);
		figures[t].calls = (guint64)(figures[t].calls * scale);
		figures[t].events = (guint64)(figures[t].events * scale);
		figures[t].cpu_seconds *= scale;
	}
	if (callgrind) {
		Workload none = {0}, hour = {.desktop = TRUE, .desktop_rounds = rounds};

		for (Target t = 0; t < N_TARGETS; t++) {
			guint64 base = callgrind_run(t, &none, NULL, 0, NULL);
			guint64 loaded = callgrind_run(t, &hour, NULL, 0, NULL);

			instructions[t] = (double)(loaded - base) * scale;
		}
	}
	g_print("# desktop model: %d apps, each a call of 1 to 5 events (3 on average) every "
		"%d s, and the instrumentation (2 instances) a call of %d events in the hour; "
		"one simulated hour (%u of its %d rounds, scaled up) without real waits\n",
		DESKTOP_APPS, DESKTOP_PERIOD_S, DESKTOP_INSTRUMENTATION_EVENTS, rounds,
		DESKTOP_ROUNDS);
	g_print("%-50s %12s %12s %12s %12s\n", "figure", "measured", "floor", "/floor", "target");
	print_floor_row("calls in the hour", 0, (double)figures[TARGET_DAEMON].calls,
			(double)figures[TARGET_FLOOR].calls, "-");
	print_floor_row("events in the hour", 0, (double)figures[TARGET_DAEMON].events,
			(double)figures[TARGET_FLOOR].events, "-");
	print_floor_row("daemon: CPU seconds per hour (utime+stime)", 3,
			figures[TARGET_DAEMON].cpu_seconds, figures[TARGET_FLOOR].cpu_seconds, "-");
	if (callgrind) {
		print_floor_row("daemon: instructions per hour (callgrind), M", 1,
				instructions[TARGET_DAEMON] / 1e6, instructions[TARGET_FLOOR] / 1e6,
				"-");
		print_floor_row("daemon: instructions per call (callgrind)", 0,
				instructions[TARGET_DAEMON] / figures[TARGET_DAEMON].calls,
				instructions[TARGET_FLOOR] / figures[TARGET_FLOOR].calls, "-");
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	gboolean quick = FALSE;
	gboolean callgrind = FALSE;
	gboolean desktop = FALSE;
	gint app_events = -1;
	gint batch = MAX_BATCH;
	gint n_events = 1000000;
	gint n_small_events = 0;
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
		{"events", 'n', 0, G_OPTION_ARG_INT, &n_events,
		 "Events to send per run in 1024-event batches", "N"},
		{"small-events", 0, 0, G_OPTION_ARG_INT, &n_small_events,
		 "Events to send per run in 64-event batches (default: --events / 4)", "N"},
		{"keys", 'k', 0, G_OPTION_ARG_INT, &n_keys, "Distinct values (aggregate keys)",
		 "N"},
		{"callgrind", 0, 0, G_OPTION_ARG_NONE, &callgrind,
		 "Also count the daemon's instructions per event with callgrind", NULL},
		{"callgrind-events", 0, 0, G_OPTION_ARG_INT, &n_callgrind,
		 "Events of the callgrind runs (default 20000; --quick: 2000)", "N"},
		{"callgrind-out", 0, 0, G_OPTION_ARG_FILENAME, &callgrind_out,
		 "Keep the callgrind profile of the daemon's 1024-event run in FILE", "FILE"},
		{"desktop", 0, 0, G_OPTION_ARG_NONE, &desktop,
		 "Only the desktop model: the daemon's CPU in a simulated hour", NULL},
		{"app-run", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &app_events,
		 "Only record N events on the system bus (for the app's callgrind runs)", "N"},
		{"batch", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &batch,
		 "Events per batch of --app-run", "N"},
		{NULL},
	};
	double median[N_TARGETS][N_FIGURES], small[N_TARGETS][N_FIGURES],
		single[N_TARGETS][N_FIGURES];
	double per_event[N_TARGETS] = {-1, -1}, per_small[N_TARGETS] = {-1, -1},
	       per_call[N_TARGETS] = {-1, -1};
	double strace_calls = -1;
	double app_per_event[2] = {-1, -1};
	guint n_straced = 0, n_single;
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
	if (n_small_events == 0)
		n_small_events = MAX(n_events / 4, 64);
	if (n_runs == 0)
		n_runs = quick ? 1 : 3;
	if (n_callgrind == 0)
		n_callgrind = quick ? 2000 : 20000;
	if (n_events <= 0 || n_small_events <= 0 || n_keys <= 0 || n_runs <= 0 ||
	    n_callgrind <= 0) {
		g_printerr("--events, --small-events, --keys, --runs and --callgrind-events must "
			   "be positive\n");
		return 2;
	}
	if (app_events >= 0)
		return app_run((guint)app_events, (guint)CLAMP(batch, 1, MAX_BATCH), (guint)n_keys);
	if (g_getenv("MTEST_DAEMON") != NULL)
		daemon_path = g_getenv("MTEST_DAEMON");
	daemon_path = g_strdup(daemon_path);
	if (g_getenv("MTEST_BUS_CONFIG") == NULL)
		g_setenv("MTEST_BUS_CONFIG", BENCH_BUS_CONFIG, TRUE);
	if (g_getenv("MTEST_ALLOWLIST_DIRS") == NULL)
		g_setenv("MTEST_ALLOWLIST_DIRS", BENCH_ALLOWLIST_DIRS, TRUE);
	if (desktop)
		return run_desktop(callgrind, quick ? DESKTOP_ROUNDS / 20 : DESKTOP_ROUNDS);
	values = make_values((guint)n_keys);

	/* one-event calls: what a call costs, whatever it carries */
	n_single = (guint)MAX(n_small_events / 16, 64);
	for (Target t = 0; t < N_TARGETS; t++) {
		if (!run_medians(t, (guint)n_runs, (guint)n_events, MAX_BATCH, values,
				 (guint)n_keys, median[t]) ||
		    !run_medians(t, (guint)n_runs, (guint)n_small_events, 64, values, (guint)n_keys,
				 small[t]) ||
		    !run_medians(t, (guint)n_runs, n_single, 1, values, (guint)n_keys, single[t]))
			return 1;
	}
	strace_calls = strace_record_calls(values, (guint)n_keys, &n_straced);
	if (callgrind) {
		Workload none = {0};
		guint64 base[N_TARGETS];

		for (Target t = 0; t < N_TARGETS; t++)
			base[t] = callgrind_run(t, &none, values, (guint)n_keys, NULL);
		/* the whole process, start to exit, less a run without events:
		 * D-Bus, parsing, the gate, aggregation, SQLite */
		callgrind_per_event(base, (guint)n_callgrind, MAX_BATCH, values, (guint)n_keys,
				    callgrind_out, per_event);
		callgrind_per_event(base, (guint)n_callgrind, 64, values, (guint)n_keys, NULL,
				    per_small);
		callgrind_per_event(base, (guint)MAX(n_callgrind / 10, 64), 1, values,
				    (guint)n_keys, NULL, per_call);
		app_per_event[0] =
			app_instructions_per_event((guint)n_callgrind, MAX_BATCH, (guint)n_keys);
		app_per_event[1] =
			app_instructions_per_event((guint)n_callgrind, 64, (guint)n_keys);
	}

	g_snprintf(ratio[FIG_RATE], sizeof(ratio[0]), "%.1fx",
		   median[TARGET_DAEMON][FIG_RATE] / 6200);
	g_snprintf(ratio[FIG_BYTES_EVENT], sizeof(ratio[0]), "1/%.0f",
		   95 / MAX(median[TARGET_DAEMON][FIG_BYTES_EVENT], 0.001));
	g_snprintf(ratio[FIG_RSS_IDLE], sizeof(ratio[0]), "%.2fx",
		   median[TARGET_DAEMON][FIG_RSS_IDLE] / 17.5);
	g_snprintf(ratio[FIG_RSS_PEAK], sizeof(ratio[0]), "%.2fx",
		   median[TARGET_DAEMON][FIG_RSS_PEAK] / 20.8);

	g_print("# libmetrics -> metrics-recorder -> SQLite: %d events in 1024-event batches, "
		"%d in 64-event batches, %u in 1-event calls, over %d keys, median of %d "
		"run(s)\n",
		n_events, n_small_events, n_single, n_keys, n_runs);
	g_print("# floor: a no-op service of the same methods on the same bus "
		"(bench-floor-service)\n");
	g_print("%-50s %12s %12s %12s %12s\n", "figure", "measured", "floor", "/floor", "target");
	print_floor_row("end to end: events/s, 1024-event batches", 0,
			median[TARGET_DAEMON][FIG_RATE], median[TARGET_FLOOR][FIG_RATE],
			">= 0.8 fl.");
	print_floor_row("end to end: events/s, 64-event batches", 0, small[TARGET_DAEMON][FIG_RATE],
			small[TARGET_FLOOR][FIG_RATE], ">= 0.8 fl.");
	print_floor_row("end to end: calls/s, 1-event calls", 0, single[TARGET_DAEMON][FIG_RATE],
			single[TARGET_FLOOR][FIG_RATE], "-");
	if (callgrind) {
		print_floor_row("daemon: instructions per event, 1024-event batches", 0,
				per_event[TARGET_DAEMON], per_event[TARGET_FLOOR], "<= 2000");
		print_floor_row("daemon: instructions per event, 64-event batches", 0,
				per_small[TARGET_DAEMON], per_small[TARGET_FLOOR], "<= 2x fl.");
		print_floor_row("daemon: instructions per 1-event call", 0, per_call[TARGET_DAEMON],
				per_call[TARGET_FLOOR], "-");
	}
	if (callgrind) {
		print_row("app: instructions per event, 1024-event batches", 0, app_per_event[0],
			  "-", "<= 3000", "-");
		print_row("app: instructions per event, 64-event batches", 0, app_per_event[1], "-",
			  "<= 3000", "-");
	}
	print_floor_row("app: record() cost, ns per call (amortised)", 0,
			median[TARGET_DAEMON][FIG_RECORD_NS], median[TARGET_FLOOR][FIG_RECORD_NS],
			"<= 1000");
	g_print("\n# the daemon alone; reference: eos-event-recorder-daemon on the same "
		"machine\n");
	g_print("%-50s %12s %12s %12s %12s\n", "figure", "measured", "reference", "target",
		"vs ref.");
	print_row("app: read/write syscalls per record()", 4, median[TARGET_DAEMON][FIG_RW_CALLS],
		  "-", "0", "-");
	print_row("app: context switches per record()", 4, median[TARGET_DAEMON][FIG_SWITCHES], "-",
		  "0", "-");
	if (strace_calls >= 0) {
		g_autofree char *label =
			g_strdup_printf("app: all syscalls per record() (strace, %u)", n_straced);
		print_row(label, 4, strace_calls, "-", "0", "-");
	}
	print_row("end to end: accepted events per second", 0, median[TARGET_DAEMON][FIG_RATE],
		  "6200", ">= 62000", ratio[FIG_RATE]);
	if (callgrind) {
		g_autofree char *label = g_strdup_printf(
			"daemon: instructions per event (callgrind, %d)", n_callgrind);
		g_autofree char *vs =
			g_strdup_printf("1/%.1f", 272000 / MAX(per_event[TARGET_DAEMON], 1));
		print_row(label, 0, per_event[TARGET_DAEMON], "272000", "<= 27200", vs);
	}
	print_row("daemon: RSS idle, MB", 1, median[TARGET_DAEMON][FIG_RSS_IDLE], "17.5", "-",
		  ratio[FIG_RSS_IDLE]);
	print_row("daemon: peak RSS after the run, MB", 1, median[TARGET_DAEMON][FIG_RSS_PEAK],
		  "20.8", "<= 20.8", ratio[FIG_RSS_PEAK]);
	print_row("store: aggregate rows", 0, median[TARGET_DAEMON][FIG_ROWS], "-", "-", "-");
	print_row("store: bytes on disk per event", 2, median[TARGET_DAEMON][FIG_BYTES_EVENT], "95",
		  "-", ratio[FIG_BYTES_EVENT]);
	print_row("store: bytes on disk per key", 0, median[TARGET_DAEMON][FIG_BYTES_KEY], "-", "-",
		  "-");
	return 0;
}
