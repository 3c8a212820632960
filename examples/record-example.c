/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * A minimal app that records a value, a counter and a duration through
 * libmetrics, then flushes before it exits.
 *
 *   record-example [--count N] [--app-id ID]
 */

#include <metrics.h>

/* ids from data/allowlist/ */
#define APP_OPENED_ID "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
#define CRASH_COUNT_ID "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002"
#define SESSION_TIME_ID "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003"

int
main(int argc, char *argv[])
{
	gint count = 1;
	g_autofree char *app_id = NULL;
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsTimer) timer = NULL;
	const GOptionEntry options[] = {
		{"count", 'n', 0, G_OPTION_ARG_INT, &count, "How many times to record", "N"},
		{"app-id", 0, 0, G_OPTION_ARG_STRING, &app_id, "Desktop id to record", "ID"},
		{NULL},
	};
	MetricsRecorder *recorder;

	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (app_id == NULL)
		app_id = g_strdup("org.gnome.TextEditor.desktop");

	recorder = metrics_recorder_get_default();
	timer = metrics_recorder_start_timer(recorder, SESSION_TIME_ID, NULL);
	for (gint i = 0; i < count; i++) {
		/* recording never blocks and never fails */
		metrics_recorder_record(recorder, APP_OPENED_ID, g_variant_new_string(app_id));
		metrics_recorder_add_count(recorder, CRASH_COUNT_ID, 1, NULL);
	}
	g_usleep(G_USEC_PER_SEC / 100);
	metrics_timer_stop(timer);

	/* a short-lived program flushes before it exits: the default recorder
	 * also sends what is left when the process exits, but with a short
	 * bound and no way to report a failure */
	if (!metrics_recorder_flush_sync(recorder, NULL, &error)) {
		g_printerr("could not deliver the events: %s\n", error->message);
		return 1;
	}
	/* delivered is not kept: the daemon refuses what its allowlist does
	 * not approve, and without consent or daemon the events are dropped
	 * here; the counts tell which */
	g_print("recorded %d events (consent: %s, dropped in-process: %" G_GUINT64_FORMAT ")\n",
		count * 2 + 1, metrics_consent_to_string(metrics_recorder_get_consent(recorder)),
		metrics_recorder_get_n_dropped(recorder));
	g_print("the daemon kept %" G_GUINT64_FORMAT " and refused %" G_GUINT64_FORMAT "\n",
		metrics_recorder_get_n_accepted(recorder),
		metrics_recorder_get_n_rejected(recorder));
	return 0;
}
