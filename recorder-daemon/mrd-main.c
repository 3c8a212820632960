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

/* the command line */
typedef struct {
	gboolean verbose;
	gboolean replace;
	gboolean version;
	gint rate_limit;
	gint call_rate_limit;
	gint max_store_kib;
	gint retention_weeks;
	gint idle_timeout;
	char *state_dir;
	GStrv allowlist_dirs;
	char *config_path;
	gint64 clock_offset;
	char *clock_offset_file;
} Options;

static void
options_clear(Options *opts)
{
	g_free(opts->state_dir);
	g_strfreev(opts->allowlist_dirs);
	g_free(opts->config_path);
	g_free(opts->clock_offset_file);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

/* parses the command line into @opts: 0 to go on, else the exit status */
static int
parse_options(Options *opts, int *argc, char ***argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	const GOptionEntry options[] = {
		{"verbose", 'v', 0, G_OPTION_ARG_NONE, &opts->verbose,
		 /* TRANSLATORS: command line option */
		 N_("Show debug messages"), NULL},
		{"replace", 'r', 0, G_OPTION_ARG_NONE, &opts->replace,
		 /* TRANSLATORS: command line option */
		 N_("Replace a running recorder"), NULL},
		{"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts->state_dir,
		 /* TRANSLATORS: command line option */
		 N_("Directory for the consent record and the store (default: $STATE_DIRECTORY)"),
		 N_("DIR")},
		{"max-client-rate", 0, 0, G_OPTION_ARG_INT, &opts->rate_limit,
		 /* TRANSLATORS: command line option */
		 N_("Events per second one client may record (0: no limit)"), N_("N")},
		{"max-client-calls", 0, 0, G_OPTION_ARG_INT, &opts->call_rate_limit,
		 /* TRANSLATORS: command line option */
		 N_("Calls per second one client may make (0: no limit)"), N_("N")},
		{"max-store-size", 0, 0, G_OPTION_ARG_INT, &opts->max_store_kib,
		 /* TRANSLATORS: command line option */
		 N_("Largest size of the store, in KiB; new events are dropped beyond it"),
		 N_("KIB")},
		{"retention", 0, 0, G_OPTION_ARG_INT, &opts->retention_weeks,
		 /* TRANSLATORS: command line option */
		 N_("Weeks to keep data that could not be uploaded"), N_("WEEKS")},
		{"idle-timeout", 0, 0, G_OPTION_ARG_INT, &opts->idle_timeout,
		 /* TRANSLATORS: command line option */
		 N_("Exit after SECONDS without calls (default: 0, never)"), N_("SECONDS")},
		{"allowlist-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->allowlist_dirs,
		 /* TRANSLATORS: command line option */
		 N_("Load the allowlist from DIR; repeat for several, later ones win (default: "
		    "the shipped one, then the administrator's)"),
		 N_("DIR")},
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &opts->config_path,
		 /* TRANSLATORS: command line option */
		 N_("Read the configuration from FILE instead of the default"), N_("FILE")},
		{"clock-offset", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &opts->clock_offset,
		 /* TRANSLATORS: command line option; for tests and demos only */
		 N_("Shift the daemon's clock by SECONDS (tests and demos only)"), N_("SECONDS")},
		{"clock-offset-file", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME,
		 &opts->clock_offset_file,
		 /* TRANSLATORS: command line option; for tests only */
		 N_("Shift the daemon's clock by the seconds in FILE, read again when it changes "
		    "(tests only)"),
		 N_("FILE")},
		{"version", 0, 0, G_OPTION_ARG_NONE, &opts->version,
		 /* TRANSLATORS: command line option */
		 N_("Show the version and exit"), NULL},
		{NULL},
	};

	/* TRANSLATORS: the daemon's one-line description */
	context = g_option_context_new(_("— record opt-in desktop metrics"));
	g_option_context_add_main_entries(context, options, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, argc, argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (opts->idle_timeout < 0) {
		/* TRANSLATORS: error for a bad command line option */
		g_printerr("%s\n", _("--idle-timeout must be 0 or more seconds"));
		return 2;
	}
	if (opts->rate_limit < 0 || opts->call_rate_limit < 0 || opts->max_store_kib < 64 ||
	    opts->retention_weeks < 1) {
		g_printerr("--max-client-rate and --max-client-calls must not be negative, "
			   "--max-store-size must be at least 64 (KiB) and --retention at least 1 "
			   "(week)\n");
		return 2;
	}
	if (opts->state_dir == NULL)
		opts->state_dir = mrd_daemon_default_state_dir();
	return 0;
}

/* the service as the options say, not started yet */
static MrdService *
make_service(const Options *opts, GDBusConnection *bus, MrdClock *clock)
{
	g_autoptr(MrdAuthority) authority = mrd_authority_new();
	MrdService *service = mrd_service_new(bus, opts->state_dir, authority, clock);
	g_autofree char *config_path = NULL;
	MrdConfig *config = mrd_config_new();

	mrd_service_set_rate_limit(service, (guint)opts->rate_limit);
	mrd_service_set_call_rate_limit(service, (guint)opts->call_rate_limit);
	mrd_service_set_store_limits(service, (guint64)opts->max_store_kib * 1024,
				     (guint)opts->retention_weeks);
	if (opts->allowlist_dirs != NULL)
		mrd_service_set_allowlist_dirs(service, (const char *const *)opts->allowlist_dirs);
	if (opts->clock_offset != 0) {
		g_warning("shifting the clock by %" G_GINT64_FORMAT " s: for tests only",
			  opts->clock_offset);
		mrd_clock_set_offset(clock, opts->clock_offset * G_USEC_PER_SEC);
	}
	if (opts->clock_offset_file != NULL)
		mrd_clock_set_offset_file(clock, opts->clock_offset_file);
	config_path =
		opts->config_path != NULL ? g_strdup(opts->config_path) : mrd_config_default_path();
	mrd_config_load_file(config, config_path);
	mrd_service_set_config(service, config);
	return service;
}

int
main(int argc, char *argv[])
{
	g_auto(Options) opts = {
		.rate_limit = MRD_DEFAULT_RATE_LIMIT,
		.call_rate_limit = MRD_DEFAULT_CALL_RATE_LIMIT,
		.max_store_kib = MRD_DEFAULT_MAX_STORE_SIZE / 1024,
		.retention_weeks = MRD_DEFAULT_RETENTION_WEEKS,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdClock) clock = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	g_autoptr(MrdService) service = NULL;
	g_autoptr(MrdDaemon) daemon = NULL;
	int status;

	/* first, while there is one thread and no TLS connection yet: no
	 * TLS session resumption (docs/upload.md) */
	mrd_upload_setup_tls_environment();
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	/* the store and the consent record are private to the service user */
	umask(0077);

	status = parse_options(&opts, &argc, &argv);
	if (status != 0)
		return status;
	if (opts.version) {
		g_print("metrics-recorder %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (opts.verbose)
		g_log_set_debug_enabled(TRUE);
	(void)metrics_error_quark();

	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_printerr("cannot connect to the system bus: %s\n", error->message);
		return 1;
	}
	g_dbus_connection_set_exit_on_close(bus, FALSE);

	clock = mrd_clock_new();
	service = make_service(&opts, bus, clock);
	if (!mrd_service_start(service, &error)) {
		g_printerr("cannot start: %s\n", error->message);
		return 1;
	}
	daemon = mrd_daemon_new(bus, service);
	return mrd_daemon_run(daemon, opts.replace, (guint)opts.idle_timeout);
}
