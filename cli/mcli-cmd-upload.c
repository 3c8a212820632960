/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>

#include "mcli-common.h"

/* metrics-cli upload: send everything that is due now */
gboolean
mcli_cmd_upload(McliContext *ctx, int argc, char **argv, GError **error)
{
	MetricsClientFlags flags = METRICS_CLIENT_FLAGS_NONE;
	guint sent = 0, failed = 0;

	if (argc > 1)
		return mcli_usage_error(error, "metrics-cli upload");
	flags |= mcli_auth_flags(ctx);
	if (!metrics_client_upload_now_sync(ctx->client, flags, &sent, &failed, NULL, error))
		return FALSE;
	if (failed > 0)
		ctx->exit_code = MCLI_EXIT_FAILURE;
	else if (sent == 0)
		ctx->exit_code = MCLI_EXIT_NOTHING_TO_DO;

	if (ctx->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "sent");
		json_builder_add_int_value(builder, sent);
		json_builder_set_member_name(builder, "failed");
		json_builder_add_int_value(builder, failed);
		json_builder_end_object(builder);
		mcli_print_json(builder);
		return TRUE;
	}
	if (sent == 0 && failed == 0) {
		/* TRANSLATORS: metrics-cli upload found nothing to send */
		g_print("%s\n", _("Nothing is due for upload."));
		return TRUE;
	}
	{
		g_autofree char *sent_str = g_strdup_printf("%u", sent);
		g_autofree char *failed_str = g_strdup_printf("%u", failed);
		g_autofree char *sent_text = g_strdup_printf(
			/* TRANSLATORS: the first part of "Uploaded 3 requests; 1 failed" */
			g_dngettext(NULL, "Uploaded %s request", "Uploaded %s requests", sent),
			sent_str);

		if (failed == 0) {
			g_print("%s.\n", sent_text);
			return TRUE;
		}
		/* TRANSLATORS: after "Uploaded 3 requests": how many failed */
		g_print(g_dngettext(NULL, "%s; %s failed (see “metrics-cli show --next”).\n",
				    "%s; %s failed (see “metrics-cli show --next”).\n", failed),
			sent_text, failed_str);
	}
	return TRUE;
}
