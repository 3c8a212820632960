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
	const char *description;
} McliOption;

typedef struct {
	const char *name;
	const char *args;
	const char *summary;
	McliCommandFunc func;
	const McliOption *options; /* NULL-terminated */
} McliCommand;

static const McliOption no_options[] = {{NULL, NULL}};

static const McliOption show_options[] = {
	/* TRANSLATORS: an option of metrics-cli show in its --help */
	{"--all", N_("Show every user's data, with the user id; needs authorisation")},
	/* TRANSLATORS: an option of metrics-cli show in its --help; weeks
	 * start on Monday */
	{"--week YYYY-MM-DD", N_("Only the week that contains this day")},
	/* TRANSLATORS: an option of metrics-cli show in its --help */
	{"--metric NAME", N_("Only the metric of this name or id")},
	/* TRANSLATORS: an option of metrics-cli show in its --help */
	{"--next", N_("Show exactly what the next uploads will contain; needs authorisation")},
	/* TRANSLATORS: an option of metrics-cli show in its --help */
	{"--sent", N_("Show what was uploaded in the last 90 days and the server's answers; needs "
		      "authorisation")},
	{NULL, NULL},
};

static const McliOption status_options[] = {
	/* TRANSLATORS: an option of metrics-cli status in its --help */
	{"--all", N_("Every user's figures and the whole machine's: the store's size, drops and "
		     "uploads; needs authorisation")},
	{NULL, NULL},
};

static const McliOption consent_options[] = {
	/* TRANSLATORS: an argument of metrics-cli consent in its --help */
	{"grant", N_("Let approved metrics be recorded and uploaded; needs authorisation")},
	/* TRANSLATORS: an argument of metrics-cli consent in its --help */
	{"deny", N_("Stop recording and delete everything stored; needs authorisation")},
	/* TRANSLATORS: an argument of metrics-cli consent in its --help */
	{"status", N_("Show the current choice")},
	{NULL, NULL},
};

static const McliOption choice_options[] = {
	/* TRANSLATORS: an argument of metrics-cli choice in its --help */
	{"in", N_("Agree for your own account (the machine's consent still applies)")},
	/* TRANSLATORS: an argument of metrics-cli choice in its --help */
	{"out", N_("Not for me: record nothing of yours and delete what is stored")},
	/* TRANSLATORS: an argument of metrics-cli choice in its --help */
	{"default", N_("Follow the machine's consent, as if you never chose")},
	{NULL, NULL},
};

static const McliOption categories_options[] = {
	/* TRANSLATORS: a category of metrics in the --help of metrics-cli
	 * categories, which turns it on or off for the whole computer */
	{"hardware on|off", N_("The computer's devices and their features")},
	/* TRANSLATORS: a category of metrics in the --help of metrics-cli categories */
	{"settings on|off", N_("Which settings differ from their defaults")},
	/* TRANSLATORS: a category of metrics in the --help of metrics-cli categories */
	{"usage on|off", N_("Which apps and features are used, and how long")},
	/* TRANSLATORS: a category of metrics in the --help of metrics-cli categories */
	{"performance on|off", N_("How long things take")},
	/* TRANSLATORS: a category of metrics in the --help of metrics-cli categories */
	{"problems on|off", N_("Crashes and errors")},
	/* TRANSLATORS: an option of metrics-cli categories in its --help */
	{"--user", N_("Only for your own account, which needs no authorisation; without it, "
		      "for the whole computer, which does")},
	{NULL, NULL},
};

static const McliOption clear_options[] = {
	/* TRANSLATORS: an option of metrics-cli clear in its --help */
	{"--all", N_("Delete every user's data; needs authorisation")},
	{NULL, NULL},
};

static const McliOption allowlist_options[] = {
	/* TRANSLATORS: an argument of metrics-cli allowlist in its --help */
	{"explain NAME", N_("Show everything about one metric, given by name or id")},
	{NULL, NULL},
};

/* the options every command takes */
static const McliOption common_options[] = {
	/* TRANSLATORS: an option of every command in its --help */
	{"--json", N_("Print machine-readable JSON")},
	/* TRANSLATORS: an option of every command in its --help */
	{"-h, --help", N_("Show this help")},
	{NULL, NULL},
};

static const McliCommand commands[] = {
	/* TRANSLATORS: summary of a command */
	{"status", "[--all]", N_("Show the consent state and what is stored"), mcli_cmd_status,
	 status_options},
	{"show", "[--all] [--week YYYY-MM-DD] [--metric NAME] | --next | --sent",
	 /* TRANSLATORS: summary of a command */
	 N_("Show what is stored for you, what will be uploaded, or what was"), mcli_cmd_show,
	 show_options},
	/* TRANSLATORS: summary of a command */
	{"consent", "grant|deny|status", N_("Change or show whether metrics are collected"),
	 mcli_cmd_consent, consent_options},
	/* TRANSLATORS: summary of a command */
	{"choice", "[in|out|default]", N_("Change or show your own choice, for your account only"),
	 mcli_cmd_choice, choice_options},
	/* TRANSLATORS: summary of a command */
	{"categories", "[--user] [NAME on|off]",
	 N_("Show or change which categories of metrics are collected"), mcli_cmd_categories,
	 categories_options},
	/* TRANSLATORS: summary of a command */
	{"clear", "[--all]", N_("Delete your stored data"), mcli_cmd_clear, clear_options},
	/* TRANSLATORS: summary of a command */
	{"allowlist", "[explain NAME]", N_("List the metrics that may be recorded, and why"),
	 mcli_cmd_allowlist, allowlist_options},
	/* TRANSLATORS: summary of a command */
	{"upload", "", N_("Send everything that is due for upload now"), mcli_cmd_upload,
	 no_options},
};

static char *
commands_summary(void)
{
	GString *text = g_string_new(NULL);

	/* TRANSLATORS: heading of the list of commands in --help */
	g_string_append_printf(text, "%s\n", _("Commands:"));
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		g_autofree char *summary = mcli_wrap(_(commands[i].summary), 72, "      ");

		/* the usage, then the summary on its own line: both fit 80
		 * columns whatever the language */
		g_string_append_printf(text, "  %s%s%s\n%s\n", commands[i].name,
				       commands[i].args[0] != '\0' ? " " : "", commands[i].args,
				       summary);
	}
	return g_string_free(text, FALSE);
}

/* "  --option         what it does", the description wrapped at 80 */
static void
append_option_help(GString *text, const McliOption *option)
{
	const guint column = 24;
	g_autofree char *indent = g_strnfill(column, ' ');
	g_autofree char *wrapped =
		mcli_wrap(_(option->description), MCLI_LINE_WIDTH - column, indent);
	g_autoptr(GString) head = g_string_new("  ");

	g_string_append(head, option->name);
	if (mcli_display_width(head->str) + 2 > column) {
		g_string_append_printf(text, "%s\n%s\n", head->str, wrapped);
		return;
	}
	mcli_append_padded(head, "", column - mcli_display_width(head->str));
	g_string_append_printf(text, "%s%s\n", head->str, wrapped + column);
}

/* metrics-cli COMMAND --help: usage, summary and each argument or option
 * with a translated line, in 80 columns */
static void
print_command_help(const McliCommand *command)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *usage = NULL;
	g_autofree char *usage_wrapped = NULL;
	g_autofree char *summary = NULL;
	g_autofree char *see = NULL;

	usage = g_strdup_printf("metrics-cli %s%s%s", command->name,
				command->args[0] != '\0' ? " " : "", command->args);
	usage_wrapped = mcli_wrap(usage, MCLI_LINE_WIDTH - 8, "        ");
	/* TRANSLATORS: the heading of the usage of a command in its --help */
	g_string_append_printf(text, "%s\n%s\n\n", _("Usage:"), usage_wrapped);
	summary = mcli_wrap(_(command->summary), MCLI_LINE_WIDTH, "");
	g_string_append_printf(text, "%s\n\n", summary);
	/* TRANSLATORS: the heading of the arguments and options of a command
	 * in its --help */
	g_string_append_printf(text, "%s\n", _("Arguments and options:"));
	for (guint i = 0; command->options[i].name != NULL; i++)
		append_option_help(text, &command->options[i]);
	for (guint i = 0; common_options[i].name != NULL; i++)
		append_option_help(text, &common_options[i]);
	/* TRANSLATORS: where the details are, at the end of a command's --help */
	see = mcli_wrap(_("See metrics-cli(1) for the details, the JSON keys and the exit codes."),
			MCLI_LINE_WIDTH, "");
	g_string_append_printf(text, "\n%s\n", see);
	g_print("%s", text->str);
}

/* what to do about an error, or NULL */
static const char *
error_hint(McliContext *ctx, const GError *error)
{
	if (g_error_matches(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED)) {
		if (ctx->interactive)
			/* TRANSLATORS: advice after polkit refused an action
			 * although the user could authenticate */
			return _("Authentication failed or is not possible for this action; ask an "
				 "administrator.");
		/* TRANSLATORS: advice after polkit refused an action */
		return _("Run the command from a terminal so you can authenticate, or ask an "
			 "administrator.");
	}
	return NULL;
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
print_error(McliContext *ctx, const GError *error, const char *hint)
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
		if (hint != NULL) {
			json_builder_set_member_name(builder, "Hint");
			json_builder_add_string_value(builder, hint);
		}
		json_builder_end_object(builder);
		json_builder_end_object(builder);
		mcli_print_json(builder);
		return;
	}
	g_printerr("%s\n", error->message);
	if (hint != NULL)
		g_printerr("%s\n", hint);
}

/* global options are allowed anywhere on the command line: takes them out
 * of @argv after the command, so commands see only their own */
static void
take_global_options(int *argc, char **argv, gboolean *json, gboolean *verbose)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (i > 1 && g_strcmp0(argv[i], "--json") == 0)
			*json = TRUE;
		else if (i > 1 &&
			 (g_strcmp0(argv[i], "--verbose") == 0 || g_strcmp0(argv[i], "-v") == 0))
			*verbose = TRUE;
		else
			argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
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
	mcli_set_print_handlers();
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	/* TRANSLATORS: placeholder in the usage line */
	context = g_option_context_new(_("COMMAND [ARGS…]"));
	g_option_context_set_summary(context,
				     /* TRANSLATORS: one-line description of metrics-cli */
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
	take_global_options(&argc, argv, &json, &verbose);
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
			print_command_help(command);
			return MCLI_EXIT_OK;
		}
	}

	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_autoptr(GError) error_bus =
			g_error_new(METRICS_ERROR, METRICS_ERROR_NOT_RUNNING,
				    /* TRANSLATORS: %s is the reason */
				    _("Cannot connect to the system bus: %s"), error->message);

		print_error(&ctx, error_bus,
			    /* TRANSLATORS: advice when the system bus cannot be reached */
			    _("The D-Bus system bus is not running: start it with “systemctl "
			      "start dbus” (as root), or check DBUS_SYSTEM_BUS_ADDRESS."));
		return MCLI_EXIT_NOT_RUNNING;
	}
	ctx.client = metrics_client_new(bus);
	if (!command->func(&ctx, argc - 1, argv + 1, &error)) {
		print_error(&ctx, error, error_hint(&ctx, error));
		g_clear_pointer(&ctx.agent, mcli_polkit_agent_stop);
		g_clear_object(&ctx.client);
		return exit_code_for_error(error);
	}
	g_clear_pointer(&ctx.agent, mcli_polkit_agent_stop);
	g_clear_object(&ctx.client);
	return ctx.exit_code;
}
