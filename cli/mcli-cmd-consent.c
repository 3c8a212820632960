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
