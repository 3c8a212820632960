/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The daemon under a flood: the real metrics-recorder on a private system
 * bus, consent granted; several connections send RecordEvents that expect
 * no reply as fast as the socket takes them (4 connections of 1024-event
 * batches, then 8 of one-event messages, each with a fresh daemon) for a
 * period (20 s; --quick: 2 s), while a polite client asks GetStatus every
 * 100 ms. Prints the daemon's peak and final RSS under each flood and the
 * polite client's reply latency (median, max); asserts nothing.
 *
 *   bench-flood [--quick] [--seconds N]
 *
 * MTEST_DAEMON chooses another daemon binary (an older build, to compare).
 */

#include "config.h"

#include <stdio.h>

#include "bench-common.h"
#include "metrics-private.h"
#include "mtest-harness.h"
#include "mtest-stack.h"

#define BURST 16

typedef struct {
	GDBusConnection *connection; /* (owned) */
	GVariant *body;		     /* (owned) */
	gint64 deadline;
	guint64 n_sent;
	GThread *thread; /* (owned) */
} Flooder;

static gpointer
flood_thread(gpointer user_data)
{
	Flooder *flooder = user_data;

	while (g_get_monotonic_time() < flooder->deadline) {
		for (guint i = 0; i < BURST; i++) {
			g_autoptr(GDBusMessage) message = g_dbus_message_new_method_call(
				METRICS_DBUS_NAME, METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE,
				"RecordEvents");

			g_dbus_message_set_body(message, flooder->body);
			g_dbus_message_set_flags(message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
			if (!g_dbus_connection_send_message(flooder->connection, message,
							    G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
							    NULL))
				return NULL;
			flooder->n_sent++;
		}
		if (!g_dbus_connection_flush_sync(flooder->connection, NULL, NULL))
			return NULL;
	}
	return NULL;
}

static void
run_flood(const char *label, guint n_flooders, GVariant *body, guint seconds)
{
	g_autoptr(GVariant) owned_body = g_variant_ref_sink(body);
	g_autoptr(MtestHarness) harness = mtest_harness_new();
	g_autoptr(GArray) latencies = g_array_new(FALSE, FALSE, sizeof(double));
	g_autofree Flooder *flooders = g_new0(Flooder, n_flooders);
	gint64 deadline;
	guint64 n_sent = 0;
	guint n_failed = 0;
	double max_latency = 0;
	GPid pid;

	mtest_harness_start_bus(harness);
	mtest_harness_write_consent(harness, "granted");
	mtest_harness_start_daemon(harness, NULL);
	pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(harness->daemon), NULL, 10);
	g_print("%-40s %10" G_GINT64_FORMAT " KiB\n", "daemon RSS before",
		bench_read_status(pid, "VmRSS:"));

	deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
	for (guint i = 0; i < n_flooders; i++) {
		flooders[i].connection = mtest_harness_connect(harness);
		flooders[i].body = g_variant_ref(owned_body);
		flooders[i].deadline = deadline;
		flooders[i].thread = g_thread_new("flooder", flood_thread, &flooders[i]);
	}
	while (g_get_monotonic_time() < deadline) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		gint64 start = g_get_monotonic_time();
		double latency;

		/* a minute: the daemon before the intake kept clients waiting
		 * for tens of seconds */
		reply = g_dbus_connection_call_sync(
			harness->connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
			METRICS_DBUS_INTERFACE, "GetStatus", g_variant_new("(a{sv})", NULL), NULL,
			G_DBUS_CALL_FLAGS_NONE, 60 * 1000, NULL, &error);
		latency = (double)(g_get_monotonic_time() - start) / 1000.0;
		if (reply == NULL) {
			n_failed++;
			g_printerr("GetStatus failed: %s\n", error->message);
		} else {
			g_array_append_val(latencies, latency);
			max_latency = MAX(max_latency, latency);
		}
		/* the next call as soon as this one is answered */
	}
	for (guint i = 0; i < n_flooders; i++) {
		g_thread_join(flooders[i].thread);
		n_sent += flooders[i].n_sent;
		g_dbus_connection_close_sync(flooders[i].connection, NULL, NULL);
		g_clear_object(&flooders[i].connection);
		g_clear_pointer(&flooders[i].body, g_variant_unref);
	}

	g_print("%s: %u connections, %" G_GSIZE_FORMAT "-byte messages, %u s\n", label, n_flooders,
		g_variant_get_size(owned_body), seconds);
	g_print("%-40s %10" G_GUINT64_FORMAT "\n", "messages sent", n_sent);
	g_print("%-40s %10" G_GINT64_FORMAT " KiB\n", "daemon peak RSS (VmHWM)",
		bench_read_status(pid, "VmHWM:"));
	g_print("%-40s %10" G_GINT64_FORMAT " KiB\n", "daemon RSS after",
		bench_read_status(pid, "VmRSS:"));
	g_print("%-40s %10u\n", "GetStatus answered", latencies->len);
	g_print("%-40s %10u\n", "GetStatus failed", n_failed);
	if (latencies->len > 0) {
		g_print("%-40s %10.1f ms\n", "GetStatus latency, median", bench_median(latencies));
		g_print("%-40s %10.1f ms\n", "GetStatus latency, max", max_latency);
	}
	g_print("\n");
}

int
main(int argc, char *argv[])
{
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	gboolean quick = FALSE;
	gint seconds = 20;
	const GOptionEntry options[] = {
		{"quick", 0, 0, G_OPTION_ARG_NONE, &quick, "2 s per flood (for the test suite)",
		 NULL},
		{"seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Seconds per flood (20)", "N"},
		{NULL},
	};

	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (quick)
		seconds = 2;
	if (g_getenv("MTEST_DAEMON") == NULL)
		g_setenv("MTEST_DAEMON", BENCH_DAEMON, TRUE);
	if (g_getenv("MTEST_BUS_CONFIG") == NULL)
		g_setenv("MTEST_BUS_CONFIG", BENCH_BUS_CONFIG, TRUE);
	if (g_getenv("MTEST_ALLOWLIST_DIRS") == NULL)
		g_setenv("MTEST_ALLOWLIST_DIRS", BENCH_ALLOWLIST_DIRS, TRUE);

	run_flood("1024-event batches", 4, mtest_make_batch(METRICS_MAX_BATCH, 16, "flood"),
		  (guint)seconds);
	run_flood("one-event messages", 8, mtest_make_batch(1, 16, "flood"), (guint)seconds);
	return 0;
}
