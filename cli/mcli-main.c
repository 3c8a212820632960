/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <unistd.h>

#include "mcli-common.h"

typedef struct {
	const char *name;
	const char *args;
	const char *summary;
	McliCommandFunc func;
} McliCommand;

static const McliCommand commands[] = {
	/* TRANSLATORS: summary of a command */
	{"status", "", N_("Show the consent state and what is stored"), mcli_cmd_status},
	/* TRANSLATORS: summary of a command */
	{"show", "[--all] [--week YYYY-MM-DD] [--metric NAME] | --next | --sent",
	 N_("Show what is stored for you, what will be uploaded, or what was"), mcli_cmd_show},
	/* TRANSLATORS: summary of a command */
	{"consent", "grant|deny|status", N_("Change or show whether metrics are collected"),
	 mcli_cmd_consent},
	/* TRANSLATORS: summary of a command */
	{"clear", "[--all]", N_("Delete your stored data"), mcli_cmd_clear},
	/* TRANSLATORS: summary of a command */
	{"allowlist", "[explain NAME]", N_("List the metrics that may be recorded, and why"),
	 mcli_cmd_allowlist},
	/* upload (issue 5) */
	/* TRANSLATORS: summary of a command */
	{"upload", "", N_("Send everything that is due for upload now"), mcli_cmd_upload},
};

static char *
commands_summary(void)
{
	GString *text = g_string_new(NULL);

	/* TRANSLATORS: heading of the list of commands in --help */
	g_string_append_printf(text, "%s\n", _("Commands:"));
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		/* the usage, then the summary on its own line: both fit 80
		 * columns whatever the language */
		g_string_append_printf(text, "  %s%s%s\n      %s\n", commands[i].name,
				       commands[i].args[0] != '\0' ? " " : "", commands[i].args,
				       _(commands[i].summary));
	}
	return g_string_free(text, FALSE);
}

static McliExit
exit_code_for_error(const GError *error)
{
	if (error->domain == G_OPTION_ERROR)
		return MCLI_EXIT_USAGE;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
		return MCLI_EXIT_NOT_FOUND;
	if (error->domain != METRICS_ERROR)
		return MCLI_EXIT_FAILURE;
	switch (error->code) {
	case METRICS_ERROR_NOT_RUNNING:
		return MCLI_EXIT_NOT_RUNNING;
	case METRICS_ERROR_PERMISSION_DENIED:
		return MCLI_EXIT_PERMISSION_DENIED;
	default:
		return MCLI_EXIT_FAILURE;
	}
}

static void
print_error(McliContext *ctx, const GError *error)
{
	if (ctx->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "Error");
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "Domain");
		json_builder_add_string_value(builder, g_quark_to_string(error->domain));
		json_builder_set_member_name(builder, "Code");
		json_builder_add_int_value(builder, error->code);
		json_builder_set_member_name(builder, "Message");
		json_builder_add_string_value(builder, error->message);
		json_builder_end_object(builder);
		json_builder_end_object(builder);
		mcli_print_json(builder);
		return;
	}
	g_printerr("%s\n", error->message);
}

int
main(int argc, char *argv[])
{
	gboolean json = FALSE;
	gboolean verbose = FALSE;
	gboolean version = FALSE;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	g_autofree char *summary = NULL;
	McliContext ctx = {0};
	const McliCommand *command = NULL;
	const GOptionEntry options[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json,
		 /* TRANSLATORS: command line option */
		 N_("Print machine-readable JSON"), NULL},
		{"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		 /* TRANSLATORS: command line option */
		 N_("Show debug messages"), NULL},
		{"version", 0, 0, G_OPTION_ARG_NONE, &version,
		 /* TRANSLATORS: command line option */
		 N_("Show the version and exit"), NULL},
		{NULL},
	};

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	/* TRANSLATORS: placeholder in the usage line */
	context = g_option_context_new(_("COMMAND [ARGS…]"));
	/* TRANSLATORS: one-line description of metrics-cli */
	g_option_context_set_summary(context,
				     _("See and control the metrics kept on this computer."));
	summary = commands_summary();
	g_option_context_set_description(context, summary);
	g_option_context_add_main_entries(context, options, GETTEXT_PACKAGE);
	/* options after the command belong to the command */
	g_option_context_set_strict_posix(context, TRUE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return MCLI_EXIT_USAGE;
	}
	if (version) {
		g_print("metrics-cli %s\n", PACKAGE_VERSION);
		return MCLI_EXIT_OK;
	}
	if (verbose)
		g_log_set_debug_enabled(TRUE);
	ctx.json = json;
	ctx.interactive = !json && isatty(STDIN_FILENO);

	if (argc < 2) {
		g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);
		g_printerr("%s", help);
		return MCLI_EXIT_USAGE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_strcmp0(commands[i].name, argv[1]) == 0)
			command = &commands[i];
	}
	if (command == NULL) {
		/* TRANSLATORS: %s is what the user typed */
		g_printerr(_("Unknown command “%s”; see “metrics-cli --help”\n"), argv[1]);
		return MCLI_EXIT_USAGE;
	}
	/* metrics-cli COMMAND --help */
	for (int i = 2; i < argc; i++) {
		if (g_strcmp0(argv[i], "--help") == 0 || g_strcmp0(argv[i], "-h") == 0) {
			/* TRANSLATORS: %s %s is a command and its arguments */
			g_print(_("Usage: metrics-cli [--json] %s %s\n"), command->name,
				command->args);
			g_print("\n%s\n", _(command->summary));
			/* TRANSLATORS: where the details are */
			g_print("\n%s\n",
				_("See metrics-cli(1) for the details and the JSON keys."));
			return MCLI_EXIT_OK;
		}
	}

	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_autoptr(GError) error_bus =
			g_error_new(METRICS_ERROR, METRICS_ERROR_NOT_RUNNING,
				    /* TRANSLATORS: %s is the reason */
				    _("Cannot connect to the system bus: %s"), error->message);
		print_error(&ctx, error_bus);
		return MCLI_EXIT_NOT_RUNNING;
	}
	ctx.client = metrics_client_new(bus);
	if (!command->func(&ctx, argc - 1, argv + 1, &error)) {
		print_error(&ctx, error);
		g_clear_object(&ctx.client);
		return exit_code_for_error(error);
	}
	g_clear_object(&ctx.client);
	return ctx.exit_code;
}
