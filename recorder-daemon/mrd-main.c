/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdMain"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <sys/stat.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-config.h"
#include "mrd-idle.h"
#include "mrd-service.h"

typedef struct {
	GMainLoop *loop;      /* (owned) */
	MrdService *service;  /* (owned) (nullable) */
	GDBusConnection *bus; /* (owned) */
	guint owner_id;
	int exit_status;
} MrdMain;

static void
name_acquired_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	g_message("owning %s", name);
}

static void
name_lost_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	MrdMain *main_data = user_data;

	if (connection == NULL) {
		g_warning("lost the connection to the system bus");
	} else {
		g_warning("cannot own %s (another recorder runs; use --replace to replace it)",
			  name);
	}
	main_data->exit_status = 1;
	g_main_loop_quit(main_data->loop);
}

static gboolean
quit_signal_cb(gpointer user_data)
{
	MrdMain *main_data = user_data;

	/* every accepted batch is committed before its reply, so there is
	 * nothing to flush: just stop */
	g_message("stopping on signal");
	g_main_loop_quit(main_data->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
idle_inhibit_cb(gpointer user_data)
{
	MrdMain *main_data = user_data;
	return mrd_service_get_idle_inhibited(main_data->service);
}

static void
idle_expired_cb(MrdIdle *idle, gpointer user_data)
{
	MrdMain *main_data = user_data;

	/* give the name up first: a call sent from now on activates a new
	 * instance instead of reaching this one as it exits */
	g_message("exiting after a period without calls");
	g_clear_handle_id(&main_data->owner_id, g_bus_unown_name);
	g_main_loop_quit(main_data->loop);
}

static gboolean
reload_signal_cb(gpointer user_data)
{
	MrdMain *main_data = user_data;

	g_message("reloading the allowlist on SIGHUP");
	mrd_service_reload_allowlist(main_data->service);
	return G_SOURCE_CONTINUE;
}

/* STATE_DIRECTORY from systemd may list several directories */
static char *
default_state_dir(void)
{
	const char *env = g_getenv("STATE_DIRECTORY");

	if (env != NULL && env[0] != '\0') {
		g_auto(GStrv) dirs = g_strsplit(env, ":", 2);
		return g_strdup(dirs[0]);
	}
	return g_strdup(DEFAULT_STATE_DIR);
}

int
main(int argc, char *argv[])
{
	gboolean verbose = FALSE;
	gboolean replace = FALSE;
	gboolean version = FALSE;
	gint rate_limit = MRD_DEFAULT_RATE_LIMIT;
	gint call_rate_limit = MRD_DEFAULT_CALL_RATE_LIMIT;
	gint max_store_kib = MRD_DEFAULT_MAX_STORE_SIZE / 1024;
	gint retention_weeks = MRD_DEFAULT_RETENTION_WEEKS;
	g_autofree char *state_dir = NULL;
	g_auto(GStrv) allowlist_dirs = NULL;
	g_autofree char *config_path = NULL;
	gint64 clock_offset = 0;
	MrdConfig *config = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdAuthority) authority = NULL;
	g_autoptr(MrdClock) clock = NULL;
	g_autoptr(MrdIdle) idle = NULL;
	MrdMain main_data = {0};
	gint idle_timeout = 0;
	const GOptionEntry options[] = {
		{"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		 /* TRANSLATORS: command line option */
		 N_("Show debug messages"), NULL},
		{"replace", 'r', 0, G_OPTION_ARG_NONE, &replace,
		 /* TRANSLATORS: command line option */
		 N_("Replace a running recorder"), NULL},
		{"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
		 /* TRANSLATORS: command line option */
		 N_("Directory for the consent record and the store (default: $STATE_DIRECTORY)"),
		 N_("DIR")},
		{"max-client-rate", 0, 0, G_OPTION_ARG_INT, &rate_limit,
		 /* TRANSLATORS: command line option */
		 N_("Events per second one client may record (0: no limit)"), N_("N")},
		{"max-client-calls", 0, 0, G_OPTION_ARG_INT, &call_rate_limit,
		 /* TRANSLATORS: command line option */
		 N_("Calls per second one client may make (0: no limit)"), N_("N")},
		{"max-store-size", 0, 0, G_OPTION_ARG_INT, &max_store_kib,
		 /* TRANSLATORS: command line option */
		 N_("Largest size of the store, in KiB; new events are dropped beyond it"),
		 N_("KIB")},
		{"retention", 0, 0, G_OPTION_ARG_INT, &retention_weeks,
		 /* TRANSLATORS: command line option */
		 N_("Weeks to keep data that could not be uploaded"), N_("WEEKS")},
		{"idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
		 /* TRANSLATORS: command line option */
		 N_("Exit after SECONDS without calls (default: 0, never)"), N_("SECONDS")},
		{"allowlist-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &allowlist_dirs,
		 /* TRANSLATORS: command line option */
		 N_("Load the allowlist from DIR; repeat for several, later ones win (default: "
		    "the shipped one, then the administrator's)"),
		 N_("DIR")},
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
		 /* TRANSLATORS: command line option */
		 N_("Read the configuration from FILE instead of the default"), N_("FILE")},
		{"clock-offset", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &clock_offset,
		 /* TRANSLATORS: command line option; for tests and demos only */
		 N_("Shift the daemon's clock by SECONDS (tests and demos only)"), N_("SECONDS")},
		{"version", 0, 0, G_OPTION_ARG_NONE, &version,
		 /* TRANSLATORS: command line option */
		 N_("Show the version and exit"), NULL},
		{NULL},
	};

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	/* the store and the consent record are private to the service user */
	umask(0077);

	/* TRANSLATORS: the daemon's one-line description */
	context = g_option_context_new(_("— record opt-in desktop metrics"));
	g_option_context_add_main_entries(context, options, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (version) {
		g_print("metrics-recorder %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (verbose)
		g_log_set_debug_enabled(TRUE);
	if (idle_timeout < 0) {
		/* TRANSLATORS: error for a bad command line option */
		g_printerr("%s\n", _("--idle-timeout must be 0 or more seconds"));
		return 2;
	}
	if (state_dir == NULL)
		state_dir = default_state_dir();
	(void)metrics_error_quark();

	main_data.bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (main_data.bus == NULL) {
		g_printerr("cannot connect to the system bus: %s\n", error->message);
		return 1;
	}
	g_dbus_connection_set_exit_on_close(main_data.bus, FALSE);

	authority = mrd_authority_new();
	clock = mrd_clock_new();
	if (rate_limit < 0 || call_rate_limit < 0 || max_store_kib < 64 || retention_weeks < 1) {
		g_printerr("--max-client-rate and --max-client-calls must not be negative, "
			   "--max-store-size must be at least 64 (KiB) and --retention at least 1 "
			   "(week)\n");
		return 2;
	}
	main_data.service = mrd_service_new(main_data.bus, state_dir, authority, clock);
	mrd_service_set_rate_limit(main_data.service, (guint)rate_limit);
	mrd_service_set_call_rate_limit(main_data.service, (guint)call_rate_limit);
	mrd_service_set_store_limits(main_data.service, (guint64)max_store_kib * 1024,
				     (guint)retention_weeks);
	if (allowlist_dirs != NULL)
		mrd_service_set_allowlist_dirs(main_data.service,
					       (const char *const *)allowlist_dirs);
	if (clock_offset != 0) {
		g_warning("shifting the clock by %" G_GINT64_FORMAT " s: for tests only",
			  clock_offset);
		mrd_clock_set_offset(clock, clock_offset * G_USEC_PER_SEC);
	}
	config = mrd_config_new();
	if (config_path == NULL)
		config_path = mrd_config_default_path();
	mrd_config_load_file(config, config_path);
	mrd_service_set_config(main_data.service, config);
	if (!mrd_service_start(main_data.service, &error)) {
		g_printerr("cannot start: %s\n", error->message);
		g_clear_object(&main_data.service);
		g_clear_object(&main_data.bus);
		return 1;
	}

	main_data.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, quit_signal_cb, &main_data);
	g_unix_signal_add(SIGINT, quit_signal_cb, &main_data);
	g_unix_signal_add(SIGHUP, reload_signal_cb, &main_data);
	if (idle_timeout > 0) {
		idle = mrd_idle_new(main_data.bus, (guint)idle_timeout, idle_inhibit_cb,
				    &main_data);
		g_signal_connect(idle, "expired", G_CALLBACK(idle_expired_cb), &main_data);
	}
	main_data.owner_id = g_bus_own_name_on_connection(
		main_data.bus, METRICS_DBUS_NAME,
		G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
			(replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : G_BUS_NAME_OWNER_FLAGS_NONE),
		name_acquired_cb, name_lost_cb, &main_data, NULL);
	g_main_loop_run(main_data.loop);

	g_clear_handle_id(&main_data.owner_id, g_bus_unown_name);
	g_clear_object(&idle);
	mrd_service_stop(main_data.service);
	g_clear_object(&main_data.service);
	g_clear_pointer(&main_data.loop, g_main_loop_unref);
	g_clear_object(&main_data.bus);
	return main_data.exit_status;
}
