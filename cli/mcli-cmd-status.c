/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>

#include "mcli-common.h"

static guint64
lookup_u64(GVariant *status, const char *key)
{
	guint64 value = 0;
	g_variant_lookup(status, key, "t", &value);
	return value;
}

gboolean
mcli_cmd_status(McliContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) drops = NULL;
	g_autoptr(GVariant) by_metric = NULL;
	const char *consent_str = "unknown";
	gint64 changed = 0;
	MetricsConsent consent = METRICS_CONSENT_UNKNOWN;
	const char *keys[] = {"stored-keys", "stored-events",	"stored-bytes",
			      "accepted",    "pending-uploads", "set-aside"};
	const char *times[] = {"next-upload", "last-upload"};
	const char *server = "";

	if (argc > 1)
		return mcli_usage_error(error, "metrics-cli status");
	status = metrics_client_get_status_sync(ctx->client, NULL, error);
	if (status == NULL)
		return FALSE;
	g_variant_lookup(status, "consent", "&s", &consent_str);
	g_variant_lookup(status, "consent-timestamp", "x", &changed);
	metrics_consent_from_string(consent_str, &consent);
	g_variant_lookup(status, "server-url", "&s", &server);
	drops = g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	by_metric = g_variant_lookup_value(status, "drops-by-metric", G_VARIANT_TYPE("a(sst)"));

	if (ctx->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "consent");
		json_builder_add_string_value(builder, metrics_consent_to_string(consent));
		json_builder_set_member_name(builder, "consent-changed-usec");
		json_builder_add_int_value(builder, changed);
		for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
			json_builder_set_member_name(builder, keys[i]);
			json_builder_add_int_value(builder, (gint64)lookup_u64(status, keys[i]));
		}
		for (guint i = 0; i < G_N_ELEMENTS(times); i++) {
			gint64 usec = 0;

			g_variant_lookup(status, times[i], "x", &usec);
			json_builder_set_member_name(builder, times[i]);
			json_builder_add_int_value(builder, usec);
		}
		json_builder_set_member_name(builder, "server-url");
		json_builder_add_string_value(builder, server);
		json_builder_set_member_name(builder, "drops");
		json_builder_begin_object(builder);
		if (drops != NULL) {
			GVariantIter iter;
			const char *reason;
			guint64 count;

			g_variant_iter_init(&iter, drops);
			while (g_variant_iter_next(&iter, "{&st}", &reason, &count)) {
				json_builder_set_member_name(builder, reason);
				json_builder_add_int_value(builder, (gint64)count);
			}
		}
		json_builder_end_object(builder);
		json_builder_set_member_name(builder, "drops-by-metric");
		json_builder_begin_array(builder);
		if (by_metric != NULL) {
			GVariantIter iter;
			const char *reason, *metric;
			guint64 count;

			g_variant_iter_init(&iter, by_metric);
			while (g_variant_iter_next(&iter, "(&s&st)", &reason, &metric, &count)) {
				json_builder_begin_object(builder);
				json_builder_set_member_name(builder, "reason");
				json_builder_add_string_value(builder, reason);
				json_builder_set_member_name(builder, "metric");
				json_builder_add_string_value(builder, metric);
				json_builder_set_member_name(builder, "count");
				json_builder_add_int_value(builder, (gint64)count);
				json_builder_end_object(builder);
			}
		}
		json_builder_end_array(builder);
		json_builder_end_object(builder);
		mcli_print_json(builder);
		return TRUE;
	}

	{
		g_autofree char *changed_str = mcli_format_timestamp(changed);
		g_autofree char *size_str = g_format_size(lookup_u64(status, "stored-bytes"));

		/* TRANSLATORS: a label, then the consent state */
		g_print("%-22s %s\n", _("Consent:"), mcli_consent_label(consent));
		/* TRANSLATORS: a label, then a date */
		g_print("%-22s %s\n", _("Consent changed:"), changed_str);
		/* TRANSLATORS: a label, then numbers of aggregates and events */
		g_print("%-22s %" G_GUINT64_FORMAT " aggregates of %" G_GUINT64_FORMAT
			" events, %s on disk\n",
			_("Stored:"), lookup_u64(status, "stored-keys"),
			lookup_u64(status, "stored-events"), size_str);
		/* TRANSLATORS: a label, then a number of events */
		g_print("%-22s %" G_GUINT64_FORMAT "\n", _("Accepted since start:"),
			lookup_u64(status, "accepted"));
		{
			gint64 next = 0, last = 0;
			g_autofree char *next_str = NULL;
			g_autofree char *last_str = NULL;

			g_variant_lookup(status, "next-upload", "x", &next);
			g_variant_lookup(status, "last-upload", "x", &last);
			next_str = mcli_format_timestamp(next);
			last_str = mcli_format_timestamp(last);
			/* TRANSLATORS: a label, then a number of requests */
			g_print("%-22s %" G_GUINT64_FORMAT "\n", _("Uploads waiting:"),
				lookup_u64(status, "pending-uploads"));
			/* TRANSLATORS: a label, then a number of requests the server refused */
			g_print("%-22s %" G_GUINT64_FORMAT "\n", _("Uploads set aside:"),
				lookup_u64(status, "set-aside"));
			/* TRANSLATORS: a label, then a date */
			g_print("%-22s %s\n", _("Next upload:"), next_str);
			/* TRANSLATORS: a label, then a date */
			g_print("%-22s %s\n", _("Last upload:"), last_str);
			/* TRANSLATORS: a label, then the address of the server */
			g_print("%-22s %s\n", _("Server:"), server);
		}
		if (drops != NULL && g_variant_n_children(drops) > 0) {
			GVariantIter iter;
			const char *reason;
			guint64 count;

			/* TRANSLATORS: a heading for counts of dropped events by reason */
			g_print("%s\n", _("Dropped since start:"));
			g_variant_iter_init(&iter, drops);
			while (g_variant_iter_next(&iter, "{&st}", &reason, &count))
				g_print("  %-20s %" G_GUINT64_FORMAT "\n", reason, count);
		}
		if (by_metric != NULL && g_variant_n_children(by_metric) > 0) {
			g_autoptr(GVariant) allowlist =
				metrics_client_get_allowlist_sync(ctx->client, NULL, NULL);
			GVariantIter iter;
			const char *reason, *metric;
			guint64 count;

			/* TRANSLATORS: a heading for counts of events the allowlist dropped,
			 * by reason and metric */
			g_print("%s\n", _("Dropped by the allowlist, by metric:"));
			g_variant_iter_init(&iter, by_metric);
			while (g_variant_iter_next(&iter, "(&s&st)", &reason, &metric, &count)) {
				g_autoptr(GVariant) info =
					allowlist != NULL ? mcli_allowlist_find(allowlist, metric) :
							    NULL;
				const char *name = metric;

				if (info != NULL)
					g_variant_lookup(info, "name", "&s", &name);
				g_print("  %-20s %-36s %" G_GUINT64_FORMAT "\n", reason, name,
					count);
			}
		}
	}
	return TRUE;
}
