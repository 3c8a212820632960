/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdMain"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <sys/stat.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-config.h"
#include "mrd-daemon.h"
#include "mrd-service.h"
#include "mrd-uploader.h"

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
	g_autofree char *clock_offset_file = NULL;
	MrdConfig *config = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdAuthority) authority = NULL;
	g_autoptr(MrdClock) clock = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	g_autoptr(MrdService) service = NULL;
	g_autoptr(MrdDaemon) daemon = NULL;
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
		{"clock-offset-file", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME,
		 &clock_offset_file,
		 /* TRANSLATORS: command line option; for tests only */
		 N_("Shift the daemon's clock by the seconds in FILE, read again when it changes "
		    "(tests only)"),
		 N_("FILE")},
		{"version", 0, 0, G_OPTION_ARG_NONE, &version,
		 /* TRANSLATORS: command line option */
		 N_("Show the version and exit"), NULL},
		{NULL},
	};

	/* first, while there is one thread and no TLS connection yet: no
	 * TLS session resumption (docs/upload.md) */
	mrd_upload_setup_tls_environment();
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
		state_dir = mrd_daemon_default_state_dir();
	(void)metrics_error_quark();

	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_printerr("cannot connect to the system bus: %s\n", error->message);
		return 1;
	}
	g_dbus_connection_set_exit_on_close(bus, FALSE);

	authority = mrd_authority_new();
	clock = mrd_clock_new();
	if (rate_limit < 0 || call_rate_limit < 0 || max_store_kib < 64 || retention_weeks < 1) {
		g_printerr("--max-client-rate and --max-client-calls must not be negative, "
			   "--max-store-size must be at least 64 (KiB) and --retention at least 1 "
			   "(week)\n");
		return 2;
	}
	service = mrd_service_new(bus, state_dir, authority, clock);
	mrd_service_set_rate_limit(service, (guint)rate_limit);
	mrd_service_set_call_rate_limit(service, (guint)call_rate_limit);
	mrd_service_set_store_limits(service, (guint64)max_store_kib * 1024,
				     (guint)retention_weeks);
	if (allowlist_dirs != NULL)
		mrd_service_set_allowlist_dirs(service, (const char *const *)allowlist_dirs);
	if (clock_offset != 0) {
		g_warning("shifting the clock by %" G_GINT64_FORMAT " s: for tests only",
			  clock_offset);
		mrd_clock_set_offset(clock, clock_offset * G_USEC_PER_SEC);
	}
	if (clock_offset_file != NULL)
		mrd_clock_set_offset_file(clock, clock_offset_file);
	config = mrd_config_new();
	if (config_path == NULL)
		config_path = mrd_config_default_path();
	mrd_config_load_file(config, config_path);
	mrd_service_set_config(service, config);
	if (!mrd_service_start(service, &error)) {
		g_printerr("cannot start: %s\n", error->message);
		return 1;
	}
	daemon = mrd_daemon_new(bus, service);
	return mrd_daemon_run(daemon, replace, (guint)idle_timeout);
}
