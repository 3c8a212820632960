/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>

#include "mcli-common.h"

static void
add_aggregate_json(JsonBuilder *builder, MetricsAggregate *aggregate)
{
	GVariant *payload = metrics_aggregate_get_payload(aggregate);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "uid");
	json_builder_add_int_value(builder, metrics_aggregate_get_uid(aggregate));
	json_builder_set_member_name(builder, "event-id");
	json_builder_add_string_value(builder, metrics_aggregate_get_event_id(aggregate));
	json_builder_set_member_name(builder, "week");
	json_builder_add_string_value(builder, metrics_aggregate_get_week(aggregate));
	json_builder_set_member_name(builder, "kind");
	json_builder_add_string_value(
		builder, metrics_event_kind_to_string(metrics_aggregate_get_kind(aggregate)));
	json_builder_set_member_name(builder, "payload");
	if (payload != NULL)
		json_builder_add_value(builder, json_gvariant_serialize(payload));
	else
		json_builder_add_null_value(builder);
	json_builder_set_member_name(builder, "payload-type");
	if (payload != NULL)
		json_builder_add_string_value(builder, g_variant_get_type_string(payload));
	else
		json_builder_add_null_value(builder);
	json_builder_set_member_name(builder, "count");
	json_builder_add_int_value(builder, (gint64)metrics_aggregate_get_count(aggregate));
	json_builder_set_member_name(builder, "duration-usec");
	json_builder_add_int_value(builder, (gint64)metrics_aggregate_get_duration(aggregate));
	json_builder_end_object(builder);
}

/* the metric's name from the allowlist, else its id */
static const char *
metric_label(GVariant *allowlist, MetricsAggregate *aggregate, char **owned)
{
	const char *id = metrics_aggregate_get_event_id(aggregate);
	g_autoptr(GVariant) info = allowlist != NULL ? mcli_allowlist_find(allowlist, id) : NULL;
	const char *name = NULL;

	if (info == NULL || !g_variant_lookup(info, "name", "s", owned))
		return id;
	name = *owned;
	return name;
}

static void
print_aggregate(MetricsAggregate *aggregate, gboolean with_uid, GVariant *allowlist)
{
	g_autofree char *name = NULL;
	GVariant *payload = metrics_aggregate_get_payload(aggregate);
	g_autofree char *value = payload != NULL ? g_variant_print(payload, FALSE) : g_strdup("—");
	g_autofree char *amount = NULL;

	if (metrics_aggregate_get_kind(aggregate) == METRICS_EVENT_KIND_DURATION)
		amount = mcli_format_duration(metrics_aggregate_get_duration(aggregate));
	else
		amount = g_strdup_printf("%" G_GUINT64_FORMAT,
					 metrics_aggregate_get_count(aggregate));
	if (with_uid)
		g_print("%-6u ", metrics_aggregate_get_uid(aggregate));
	g_print("%-20s  %-10s  %-8s  %-12s  %s\n", metric_label(allowlist, aggregate, &name),
		metrics_aggregate_get_week(aggregate),
		metrics_event_kind_to_string(metrics_aggregate_get_kind(aggregate)), amount, value);
}

gboolean
mcli_cmd_show(McliContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GVariant) allowlist = NULL;
	MetricsClientFlags flags = METRICS_CLIENT_FLAGS_NONE;
	gboolean all = FALSE;

	for (int i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--all") == 0)
			all = TRUE;
		else
			return mcli_usage_error(error, "metrics-cli show [--all]");
	}
	if (all)
		flags |= METRICS_CLIENT_FLAGS_ALL_USERS;
	if (ctx->interactive)
		flags |= METRICS_CLIENT_FLAGS_INTERACTIVE;
	aggregates = metrics_client_get_local_data_sync(ctx->client, flags, NULL, error);
	if (aggregates == NULL)
		return FALSE;

	if (ctx->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "aggregates");
		json_builder_begin_array(builder);
		for (guint i = 0; i < aggregates->len; i++)
			add_aggregate_json(builder, g_ptr_array_index(aggregates, i));
		json_builder_end_array(builder);
		json_builder_end_object(builder);
		mcli_print_json(builder);
		return TRUE;
	}

	if (aggregates->len == 0) {
		/* TRANSLATORS: shown when the store holds nothing for this user */
		g_print("%s\n", _("Nothing is stored."));
		ctx->exit_code = MCLI_EXIT_NOTHING_TO_DO;
		return TRUE;
	}
	if (all)
		/* TRANSLATORS: column heading: the local user id */
		g_print("%-6s ", _("User"));
	/* TRANSLATORS: column headings of the stored data */
	g_print("%-20s  %-10s  %-8s  %-12s  %s\n", _("Metric"), _("Week of"), _("Kind"),
		_("Amount"), _("Value"));
	/* names are nicer than ids; without the allowlist, ids it is */
	allowlist = metrics_client_get_allowlist_sync(ctx->client, NULL, NULL);
	for (guint i = 0; i < aggregates->len; i++)
		print_aggregate(g_ptr_array_index(aggregates, i), all, allowlist);
	return TRUE;
}
