/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstMain"

#include "config.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "minst-runner.h"

/*
 * metrics-instrumentation: records the system metrics of the Fedora
 * proposal through libmetrics. --system runs the system-wide probes (as a
 * system service), --user the per-user ones (as a user service in each
 * graphical session).
 *
 * It does nothing until the recorder daemon says consent is "granted",
 * then records each weekly metric once per week. When consent is withdrawn
 * it stops at once (no probes, nothing recorded) and stays idle, following
 * the daemon's Consent property, until consent is granted again, when it
 * records again: a later grant in the same boot or session needs no
 * restart.
 */

/* how often to check whether a new week started */
#define RECHECK_INTERVAL_SECONDS (6 * 3600)

typedef struct {
	GMainLoop *loop;   /* (owned) */
	MinstContext *ctx; /* (unowned) */
	MinstMode mode;
	MetricsRecorder *recorder; /* (unowned) */
	MetricsClient *client;	   /* (unowned) */
	gboolean active;
	guint recheck_id;
	int exit_status;
} MinstMain;

static void
run_once(MinstMain *main_data)
{
	g_autoptr(GError) error = NULL;
	guint n = 0;

	main_data->ctx->now = g_get_real_time() / G_USEC_PER_SEC;
	if (!minst_runner_run(main_data->ctx, main_data->mode, main_data->recorder,
			      main_data->client, &n, &error)) {
		g_warning("recording failed, will retry later: %s", error->message);
		return;
	}
	g_info("recorded %u samples", n);
}

static gboolean
recheck_cb(gpointer user_data)
{
	run_once(user_data);
	return G_SOURCE_CONTINUE;
}

static void
consent_changed(MinstMain *main_data)
{
	MetricsConsent consent = metrics_recorder_get_consent(main_data->recorder);

	if (consent == METRICS_CONSENT_GRANTED && !main_data->active) {
		g_message("consent is granted: recording weekly metrics");
		main_data->active = TRUE;
		run_once(main_data);
		main_data->recheck_id =
			g_timeout_add_seconds(RECHECK_INTERVAL_SECONDS, recheck_cb, main_data);
	} else if (consent != METRICS_CONSENT_GRANTED && main_data->active) {
		g_message("consent is %s: stopped recording, idle until consent is granted",
			  metrics_consent_to_string(consent));
		main_data->active = FALSE;
		g_clear_handle_id(&main_data->recheck_id, g_source_remove);
	} else {
		g_debug("consent is %s", metrics_consent_to_string(consent));
	}
}

/* a privacy key changed: what it stops is stopped for every later run
 * anyway; what it allows again is recorded now, not in up to 6 hours (the
 * weekly check keeps anything from being recorded twice) */
static void
privacy_changed_cb(MinstPrivacy *privacy, gpointer user_data)
{
	MinstMain *main_data = user_data;

	if (main_data->active)
		run_once(main_data);
}

static void
notify_consent_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	consent_changed(user_data);
}

static void
first_flush_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	/* an empty flush makes the recorder ask the daemon for the consent
	 * and follow its changes */
	if (!metrics_recorder_flush_finish(METRICS_RECORDER(source), result, &error))
		g_debug("cannot reach the recorder daemon yet: %s", error->message);
	consent_changed(user_data);
}

static gboolean
quit_signal_cb(gpointer user_data)
{
	MinstMain *main_data = user_data;

	g_message("stopping on signal");
	g_main_loop_quit(main_data->loop);
	return G_SOURCE_CONTINUE;
}

static GHashTable *
load_known_apps(const char *const *allowlist_dirs)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	GHashTable *set = minst_known_apps_load(allowlist_dirs, &path, &error);

	if (set == NULL)
		g_debug("no known-app set, apps will not be recorded: %s", error->message);
	else
		g_debug("known-app set: %u apps from %s", g_hash_table_size(set), path);
	return set;
}

int
main(int argc, char *argv[])
{
	gboolean system_mode = FALSE;
	gboolean user_mode = FALSE;
	gboolean once = FALSE;
	gboolean verbose = FALSE;
	gint64 now = 0;
	g_autofree char *root = NULL;
	g_auto(GStrv) allowlist_dirs = NULL;
	g_autofree char *journal_export = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(MetricsClient) client = NULL;
	g_autoptr(MinstContext) ctx = NULL;
	MinstMain main_data = {0};
	const GOptionEntry options[] = {
		{"system", 0, 0, G_OPTION_ARG_NONE, &system_mode,
		 /* TRANSLATORS: command line option */
		 N_("Record the system-wide metrics (hardware, performance, problems)"), NULL},
		{"user", 0, 0, G_OPTION_ARG_NONE, &user_mode,
		 /* TRANSLATORS: command line option */
		 N_("Record the metrics of the user's session (settings, usage)"), NULL},
		{"once", 0, 0, G_OPTION_ARG_NONE, &once,
		 /* TRANSLATORS: command line option */
		 N_("Run the probes once, send the results and exit"), NULL},
		{"root", 0, 0, G_OPTION_ARG_FILENAME, &root,
		 /* TRANSLATORS: command line option */
		 N_("Read /proc, /sys and other system files below DIR (default: /)"), N_("DIR")},
		{"allowlist-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &allowlist_dirs,
		 /* TRANSLATORS: command line option */
		 N_("Directory of the allowlist, for its known-app set; repeat for several, "
		    "later ones win, as in metrics-recorder"),
		 N_("DIR")},
		{"journal-export", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &journal_export,
		 "Read journal entries in export format from FILE instead of journalctl", "FILE"},
		{"now", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &now,
		 "Treat SECONDS since the Unix epoch as the current time (with --once)", "SECONDS"},
		{"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		 /* TRANSLATORS: command line option */
		 N_("Show debug messages"), NULL},
		{NULL},
	};

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	/* TRANSLATORS: the program's one-line description */
	context = g_option_context_new(_("— record the system metrics of opt-in desktop metrics"));
	g_option_context_add_main_entries(context, options, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (system_mode == user_mode) {
		/* TRANSLATORS: error message */
		g_printerr("%s\n", _("Give exactly one of --system and --user"));
		return 2;
	}
	if (verbose)
		g_log_set_debug_enabled(TRUE);

	ctx = minst_context_new(root);
	if (now > 0)
		ctx->now = now;
	ctx->journal_export = g_steal_pointer(&journal_export);
	if (allowlist_dirs == NULL)
		allowlist_dirs = g_strsplit(MINST_DEFAULT_ALLOWLIST_DIRS, ":", -1);
	ctx->known_apps = load_known_apps((const char *const *)allowlist_dirs);
	if (user_mode) {
		ctx->user_data_dir = g_strdup(g_get_user_data_dir());
		ctx->settings_lookup = minst_gsettings_lookup;
		/* the user's own privacy keys, from their settings, followed live */
		ctx->privacy = minst_privacy_new(NULL);
	} else {
		g_autoptr(GSettingsBackend) defaults = g_memory_settings_backend_new();

		/* a system service has no user's settings: the machine's defaults
		 * (the schema's, with the distribution's overrides) */
		ctx->privacy = minst_privacy_new(defaults);
	}

	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_printerr("cannot connect to the system bus: %s\n", error->message);
		return 1;
	}
	recorder = metrics_recorder_new(bus);
	client = metrics_client_new(bus);
	main_data.ctx = ctx;
	main_data.mode = user_mode ? MINST_MODE_USER : MINST_MODE_SYSTEM;
	main_data.recorder = recorder;
	main_data.client = client;

	if (once) {
		guint n = 0;

		if (!metrics_recorder_flush_sync(recorder, NULL, &error)) {
			g_printerr("cannot reach the recorder daemon: %s\n", error->message);
			return 1;
		}
		if (metrics_recorder_get_consent(recorder) != METRICS_CONSENT_GRANTED) {
			g_message(
				"consent is %s: recording nothing",
				metrics_consent_to_string(metrics_recorder_get_consent(recorder)));
			return 0;
		}
		if (!minst_runner_run(ctx, main_data.mode, recorder, client, &n, &error)) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		g_info("recorded %u samples", n);
		return 0;
	}

	main_data.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, quit_signal_cb, &main_data);
	g_unix_signal_add(SIGINT, quit_signal_cb, &main_data);
	g_signal_connect(recorder, "notify::consent", G_CALLBACK(notify_consent_cb), &main_data);
	g_signal_connect(ctx->privacy, "changed", G_CALLBACK(privacy_changed_cb), &main_data);
	metrics_recorder_flush_async(recorder, NULL, first_flush_cb, &main_data);
	g_main_loop_run(main_data.loop);

	g_signal_handlers_disconnect_by_data(recorder, &main_data);
	g_signal_handlers_disconnect_by_data(ctx->privacy, &main_data);
	g_clear_handle_id(&main_data.recheck_id, g_source_remove);
	g_main_loop_unref(main_data.loop);
	return main_data.exit_status;
}
