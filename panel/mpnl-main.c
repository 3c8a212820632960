/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlMain"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>

#include "mpnl-window.h"

typedef struct {
	MpnlService *service; /* (owned) (nullable) */
	char **page;	      /* (unowned) where --page is parsed to */
} MpnlApp;

static void
mpnl_activate_cb(GApplication *application, gpointer user_data)
{
	MpnlApp *app = user_data;
	g_autoptr(GError) error = NULL;
	GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(application));

	if (window == NULL) {
		g_autoptr(GDBusConnection) connection = NULL;

		connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
		if (connection == NULL) {
			g_printerr(
				/* TRANSLATORS: %s is the reason */
				_("Cannot connect to the system bus: %s. Check that D-Bus is running.\n"),
				error->message);
			return;
		}
		app->service = mpnl_service_new(connection);
		window = GTK_WINDOW(mpnl_window_new(ADW_APPLICATION(application), app->service));
		if (*app->page != NULL)
			mpnl_window_show_page(MPNL_WINDOW(window), *app->page);
	}
	gtk_window_present(window);
}

int
main(int argc, char *argv[])
{
	g_autoptr(AdwApplication) application = NULL;
	g_autofree char *page = NULL;
	int status;
	MpnlApp app = {NULL, &page};
	const GOptionEntry entries[] = {
		{"page", 'p', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, &page,
		 /* TRANSLATORS: --page: the help of the option */
		 N_("Show this page first: consent, metrics, data or setup"), N_("PAGE")},
		{NULL},
	};

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	application =
		adw_application_new("org.fedoraproject.MetricsPanel", G_APPLICATION_DEFAULT_FLAGS);
	g_application_add_main_option_entries(G_APPLICATION(application), entries);
	g_application_set_option_context_summary(
		G_APPLICATION(application),
		/* TRANSLATORS: the summary of metrics-panel --help */
		_("See and change whether anonymous usage data is collected, what it is, and what "
		  "is stored."));
	g_signal_connect(application, "activate", G_CALLBACK(mpnl_activate_cb), &app);
	status = g_application_run(G_APPLICATION(application), argc, argv);
	g_clear_object(&app.service);
	return status;
}
