/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>

#include "mcli-common.h"

/* metrics-cli upload: send everything that is due now (issue 5) */
gboolean
mcli_cmd_upload(McliContext *ctx, int argc, char **argv, GError **error)
{
	MetricsClientFlags flags = METRICS_CLIENT_FLAGS_NONE;
	guint sent = 0, failed = 0;

	if (argc > 1)
		return mcli_usage_error(error, "metrics-cli upload");
	if (ctx->interactive)
		flags |= METRICS_CLIENT_FLAGS_INTERACTIVE;
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
	/* TRANSLATORS: the numbers of requests sent and failed */
	g_print(_("Uploaded %u requests; %u failed (see “metrics-cli show --next”).\n"), sent,
		failed);
	return TRUE;
}
