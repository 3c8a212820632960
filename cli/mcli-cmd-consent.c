/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>

#include "mcli-common.h"

static gboolean
print_consent(McliContext *ctx, GError **error)
{
	g_autoptr(GVariant) status = metrics_client_get_status_sync(ctx->client, NULL, error);
	const char *consent_str = "unknown";
	MetricsConsent consent = METRICS_CONSENT_UNKNOWN;

	if (status == NULL)
		return FALSE;
	g_variant_lookup(status, "consent", "&s", &consent_str);
	metrics_consent_from_string(consent_str, &consent);
	if (ctx->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "consent");
		json_builder_add_string_value(builder, metrics_consent_to_string(consent));
		json_builder_end_object(builder);
		mcli_print_json(builder);
	} else {
		g_print("%s\n", mcli_consent_label(consent));
	}
	return TRUE;
}

gboolean
mcli_cmd_consent(McliContext *ctx, int argc, char **argv, GError **error)
{
	const char *usage = "metrics-cli consent grant|deny|status";
	MetricsConsent consent;

	if (argc != 2)
		return mcli_usage_error(error, usage);
	if (g_strcmp0(argv[1], "status") == 0)
		return print_consent(ctx, error);
	if (g_strcmp0(argv[1], "grant") == 0)
		consent = METRICS_CONSENT_GRANTED;
	else if (g_strcmp0(argv[1], "deny") == 0)
		consent = METRICS_CONSENT_DENIED;
	else
		return mcli_usage_error(error, usage);

	if (!metrics_client_set_consent_sync(ctx->client, consent, mcli_auth_flags(ctx), NULL,
					     error))
		return FALSE;
	return print_consent(ctx, error);
}

static void
print_user_choice(McliContext *ctx, MetricsUserChoice choice)
{
	if (ctx->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "user-choice");
		json_builder_add_string_value(builder, metrics_user_choice_to_string(choice));
		json_builder_end_object(builder);
		mcli_print_json(builder);
	} else {
		g_print("%s\n", mcli_user_choice_label(choice));
	}
}

/* the caller's own choice: no authorisation, the daemon knows the user
 * from the bus */
gboolean
mcli_cmd_choice(McliContext *ctx, int argc, char **argv, GError **error)
{
	const char *usage = "metrics-cli choice [in|out|default]";
	MetricsUserChoice choice = METRICS_USER_CHOICE_DEFAULT;

	if (argc > 2)
		return mcli_usage_error(error, usage);
	if (argc == 2) {
		if (!metrics_user_choice_from_string(argv[1], &choice))
			return mcli_usage_error(error, usage);
		if (!metrics_client_set_user_choice_sync(ctx->client, choice, NULL, error))
			return FALSE;
	}
	if (!metrics_client_get_user_choice_sync(ctx->client, &choice, NULL, error))
		return FALSE;
	print_user_choice(ctx, choice);
	return TRUE;
}

/* the machine's state of each category, and whether it is off for the
 * caller's user */
static gboolean
print_categories(McliContext *ctx, GError **error)
{
	g_autoptr(GVariant) status = metrics_client_get_status_sync(ctx->client, NULL, error);
	g_autoptr(GVariant) categories = NULL;
	g_autoptr(GVariant) user_off = NULL;
	g_autoptr(JsonBuilder) builder = NULL;
	GVariantIter iter;
	const char *name, *state;

	if (status == NULL)
		return FALSE;
	categories = g_variant_lookup_value(status, "categories", G_VARIANT_TYPE("a{ss}"));
	user_off = g_variant_lookup_value(status, "user-categories-off", G_VARIANT_TYPE("as"));
	if (categories == NULL) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_NOT_SUPPORTED,
				    /* TRANSLATORS: metrics-cli categories with an old daemon */
				    _("The metrics daemon has no categories: update it"));
		return FALSE;
	}
	if (ctx->json) {
		builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "categories");
		json_builder_begin_object(builder);
	}
	g_variant_iter_init(&iter, categories);
	while (g_variant_iter_next(&iter, "{&s&s}", &name, &state)) {
		gboolean off_for_user = FALSE;

		for (gsize i = 0; user_off != NULL && i < g_variant_n_children(user_off); i++) {
			const char *off = NULL;

			g_variant_get_child(user_off, i, "&s", &off);
			off_for_user |= g_strcmp0(off, name) == 0;
		}
		if (ctx->json) {
			json_builder_set_member_name(builder, name);
			json_builder_begin_object(builder);
			json_builder_set_member_name(builder, "machine");
			json_builder_add_string_value(builder, state);
			json_builder_set_member_name(builder, "user");
			json_builder_add_string_value(builder, off_for_user ? "off" : "on");
			json_builder_end_object(builder);
		} else {
			g_autoptr(GString) line = g_string_new(NULL);

			mcli_append_padded(line, name, 14);
			g_string_append_c(line, ' ');
			g_string_append(line, mcli_category_state_label(state));
			if (off_for_user)
				/* TRANSLATORS: after the state of a category, when the
				 * user turned it off for their own account */
				g_string_append(line, _(", off for you"));
			mcli_print_line(line->str);
		}
	}
	if (ctx->json) {
		json_builder_end_object(builder);
		json_builder_end_object(builder);
		mcli_print_json(builder);
	}
	return TRUE;
}

/* the machine's categories (authorised), or with --user the caller's own */
gboolean
mcli_cmd_categories(McliContext *ctx, int argc, char **argv, GError **error)
{
	const char *usage = "metrics-cli categories [--user] [NAME on|off]";
	g_autoptr(GPtrArray) words = g_ptr_array_new();
	gboolean for_user = FALSE;
	MetricsClientFlags flags;

	for (int i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--user") == 0)
			for_user = TRUE;
		else if (argv[i][0] == '-')
			return mcli_usage_error(error, usage);
		else
			g_ptr_array_add(words, argv[i]);
	}
	if (words->len == 0 && !for_user)
		return print_categories(ctx, error);
	if (words->len != 2 || (g_strcmp0(g_ptr_array_index(words, 1), "on") != 0 &&
				g_strcmp0(g_ptr_array_index(words, 1), "off") != 0))
		return mcli_usage_error(error, usage);
	flags = for_user ? METRICS_CLIENT_FLAGS_NONE :
			   METRICS_CLIENT_FLAGS_ALL_USERS | mcli_auth_flags(ctx);
	if (!metrics_client_set_category_sync(ctx->client, g_ptr_array_index(words, 0),
					      g_strcmp0(g_ptr_array_index(words, 1), "on") == 0,
					      flags, NULL, error))
		return FALSE;
	return print_categories(ctx, error);
}

gboolean
mcli_cmd_clear(McliContext *ctx, int argc, char **argv, GError **error)
{
	MetricsClientFlags flags = METRICS_CLIENT_FLAGS_NONE;
	guint64 removed = 0;

	for (int i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--all") == 0)
			flags |= METRICS_CLIENT_FLAGS_ALL_USERS;
		else
			return mcli_usage_error(error, "metrics-cli clear [--all]");
	}
	/* clearing one's own data needs no authorisation */
	if ((flags & METRICS_CLIENT_FLAGS_ALL_USERS) != 0)
		flags |= mcli_auth_flags(ctx);
	if (!metrics_client_clear_sync(ctx->client, flags, &removed, NULL, error))
		return FALSE;
	if (ctx->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "removed");
		json_builder_add_int_value(builder, (gint64)removed);
		json_builder_end_object(builder);
		mcli_print_json(builder);
	} else {
		g_autofree char *count = g_strdup_printf("%" G_GUINT64_FORMAT, removed);

		if (removed == 0)
			/* TRANSLATORS: metrics-cli clear found nothing */
			g_print("%s\n", _("Nothing was stored: nothing deleted."));
		else
			/* TRANSLATORS: %s is a number of stored aggregates */
			g_print(g_dngettext(NULL, "Deleted %s stored aggregate.\n",
					    "Deleted %s stored aggregates.\n", removed),
				count);
	}
	if (removed == 0)
		ctx->exit_code = MCLI_EXIT_NOTHING_TO_DO;
	return TRUE;
}
