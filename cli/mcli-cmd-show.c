/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

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

/* a heading per metric: its name and what it is, wrapped to 80 columns */
static void
print_metric_heading(MetricsAggregate *aggregate, GVariant *allowlist)
{
	const char *id = metrics_aggregate_get_event_id(aggregate);
	g_autoptr(GVariant) info = allowlist != NULL ? mcli_allowlist_find(allowlist, id) : NULL;
	const char *name = id;
	const char *description = NULL;

	if (info != NULL) {
		g_variant_lookup(info, "name", "&s", &name);
		g_variant_lookup(info, "description", "&s", &description);
	}
	g_print("\n%s\n", name);
	if (description != NULL && description[0] != '\0') {
		/* translated: see data/allowlist/allowlist-strings.c */
		g_autofree char *wrapped =
			mcli_wrap(g_dgettext(GETTEXT_PACKAGE, description), 76, "  ");
		g_print("%s\n", wrapped);
	}
}

static void
print_aggregate(MetricsAggregate *aggregate, gboolean with_uid)
{
	GVariant *payload = metrics_aggregate_get_payload(aggregate);
	g_autofree char *value = payload != NULL ? g_variant_print(payload, FALSE) : g_strdup("—");
	g_autofree char *amount = NULL;

	if (metrics_aggregate_get_kind(aggregate) == METRICS_EVENT_KIND_DURATION)
		amount = mcli_format_duration(metrics_aggregate_get_duration(aggregate));
	else
		amount = g_strdup_printf("%" G_GUINT64_FORMAT,
					 metrics_aggregate_get_count(aggregate));
	g_print("    ");
	if (with_uid)
		g_print("%-6u ", metrics_aggregate_get_uid(aggregate));
	g_print("%-10s  %-8s  %-12s  %s\n", metrics_aggregate_get_week(aggregate),
		metrics_event_kind_to_string(metrics_aggregate_get_kind(aggregate)), amount, value);
}

/* --metric matches the id or the allowlist's name */
static gboolean
aggregate_matches(MetricsAggregate *aggregate,
		  GVariant *allowlist,
		  const char *week,
		  const char *metric)
{
	g_autofree char *name = NULL;

	if (week != NULL && g_strcmp0(metrics_aggregate_get_week(aggregate), week) != 0)
		return FALSE;
	if (metric != NULL && g_strcmp0(metrics_aggregate_get_event_id(aggregate), metric) != 0 &&
	    g_strcmp0(metric_label(allowlist, aggregate, &name), metric) != 0)
		return FALSE;
	return TRUE;
}

/* ---- show --next and show --sent (upload, issue 5) ---- */

static void
add_upload_events_json(JsonBuilder *builder, GVariant *events)
{
	GVariantIter iter;
	const char *id, *os_version, *period;
	guint32 count;
	GVariant *payload;

	json_builder_begin_array(builder);
	g_variant_iter_init(&iter, events);
	while (g_variant_iter_loop(&iter, "(&s&s&su@av)", &id, &os_version, &period, &count,
				   &payload)) {
		g_autoptr(GVariant) boxed = g_variant_n_children(payload) > 0 ?
						    g_variant_get_child_value(payload, 0) :
						    NULL;
		g_autoptr(GVariant) value = boxed != NULL ? g_variant_get_variant(boxed) : NULL;

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "event-id");
		json_builder_add_string_value(builder, id);
		json_builder_set_member_name(builder, "os-version");
		json_builder_add_string_value(builder, os_version);
		json_builder_set_member_name(builder, "period-start");
		json_builder_add_string_value(builder, period);
		json_builder_set_member_name(builder, "count");
		json_builder_add_int_value(builder, count);
		json_builder_set_member_name(builder, "payload");
		if (value != NULL)
			json_builder_add_value(builder, json_gvariant_serialize(value));
		else
			json_builder_add_null_value(builder);
		json_builder_set_member_name(builder, "payload-type");
		if (value != NULL)
			json_builder_add_string_value(builder, g_variant_get_type_string(value));
		else
			json_builder_add_null_value(builder);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
}

static void
print_uploads_json(GVariant *requests)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	GVariantIter iter;
	GVariant *request;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "requests");
	json_builder_begin_array(builder);
	g_variant_iter_init(&iter, requests);
	while (g_variant_iter_loop(&iter, "@a{sv}", &request)) {
		GVariantIter keys;
		const char *key;
		GVariant *value;

		json_builder_begin_object(builder);
		g_variant_iter_init(&keys, request);
		while (g_variant_iter_loop(&keys, "{&sv}", &key, &value)) {
			json_builder_set_member_name(builder, key);
			if (g_strcmp0(key, "events") == 0 &&
			    g_variant_is_of_type(value, G_VARIANT_TYPE("a(sssuav)")))
				add_upload_events_json(builder, value);
			else
				json_builder_add_value(builder, json_gvariant_serialize(value));
		}
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	mcli_print_json(builder);
}

static void
print_upload_events(GVariant *events)
{
	GVariantIter iter;
	const char *id, *os_version, *period;
	guint32 count;
	GVariant *payload;

	g_variant_iter_init(&iter, events);
	while (g_variant_iter_loop(&iter, "(&s&s&su@av)", &id, &os_version, &period, &count,
				   &payload)) {
		g_autoptr(GVariant) boxed = g_variant_n_children(payload) > 0 ?
						    g_variant_get_child_value(payload, 0) :
						    NULL;
		g_autofree char *value =
			boxed != NULL ? g_variant_print(boxed, TRUE) : g_strdup("—");

		g_print("    %-36s  %-10s  %-6s  %10u  %s\n", id, period, os_version, count, value);
	}
}

static void
print_uploads(GVariant *requests, gboolean sent)
{
	GVariantIter iter;
	GVariant *request;

	g_variant_iter_init(&iter, requests);
	while (g_variant_iter_loop(&iter, "@a{sv}", &request)) {
		g_autoptr(GVariant) events = g_variant_lookup_value(request, "events", NULL);
		const char *metric = "?", *week = "?", *state = "?", *answer = "";
		gint64 when = 0;
		g_autofree char *when_str = NULL;

		g_variant_lookup(request, "metric", "&s", &metric);
		g_variant_lookup(request, "week", "&s", &week);
		if (sent) {
			g_variant_lookup(request, "sent", "x", &when);
			g_variant_lookup(request, "answer", "&s", &answer);
			when_str = mcli_format_timestamp(when);
			/* TRANSLATORS: a sent request: metric, week, time, server's answer */
			g_print(_("Metric %s, week of %s: sent %s, answer “%s”\n"), metric, week,
				when_str, answer);
		} else {
			guint32 attempts = 0;

			g_variant_lookup(request, "state", "&s", &state);
			g_variant_lookup(request, "due", "x", &when);
			g_variant_lookup(request, "attempts", "u", &attempts);
			g_variant_lookup(request, "last-answer", "&s", &answer);
			when_str = mcli_format_timestamp(when);
			if (g_strcmp0(state, "next") == 0)
				/* TRANSLATORS: a request of a week not closed yet */
				g_print(_("Metric %s, week of %s: not closed yet, closes %s\n"),
					metric, week, when_str);
			else if (g_strcmp0(state, "set-aside") == 0)
				/* TRANSLATORS: a request the server refused */
				g_print(_("Metric %s, week of %s: set aside, the server answered "
					  "“%s”\n"),
					metric, week, answer);
			else
				/* TRANSLATORS: a pending request: metric, week, due time, tries */
				g_print(_("Metric %s, week of %s: due %s, %u attempts\n"), metric,
					week, when_str, attempts);
		}
		if (events != NULL)
			print_upload_events(events);
	}
}

static gboolean
show_uploads(McliContext *ctx, gboolean sent, GError **error)
{
	MetricsClientFlags flags =
		ctx->interactive ? METRICS_CLIENT_FLAGS_INTERACTIVE : METRICS_CLIENT_FLAGS_NONE;
	g_autoptr(GVariant) requests =
		sent ? metrics_client_get_sent_uploads_sync(ctx->client, flags, NULL, error) :
		       metrics_client_get_pending_uploads_sync(ctx->client, flags, NULL, error);

	if (requests == NULL)
		return FALSE;
	if (ctx->json) {
		print_uploads_json(requests);
		return TRUE;
	}
	if (g_variant_n_children(requests) == 0) {
		g_print("%s\n", sent ? /* TRANSLATORS: the archive of uploads is empty */
					_("Nothing was uploaded in the last 90 days.") :
					/* TRANSLATORS: nothing waits for upload */
					_("Nothing waits to be uploaded."));
		ctx->exit_code = MCLI_EXIT_NOTHING_TO_DO;
		return TRUE;
	}
	/* TRANSLATORS: column headings of the events of an upload */
	g_print("    %-36s  %-10s  %-6s  %10s  %s\n", _("Event"), _("Week of"), _("OS"), _("Count"),
		_("Payload"));
	print_uploads(requests, sent);
	return TRUE;
}

gboolean
mcli_cmd_show(McliContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GVariant) allowlist = NULL;
	MetricsClientFlags flags = METRICS_CLIENT_FLAGS_NONE;
	gboolean all = FALSE;
	const char *week = NULL;
	const char *metric = NULL;
	const char *previous = NULL;
	const char *usage =
		"metrics-cli show [--all] [--week YYYY-MM-DD] [--metric NAME] | --next | --sent";

	for (int i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--all") == 0)
			all = TRUE;
		else if (g_strcmp0(argv[i], "--week") == 0 && i + 1 < argc)
			week = argv[++i];
		else if (g_str_has_prefix(argv[i], "--week="))
			week = argv[i] + strlen("--week=");
		else if (g_strcmp0(argv[i], "--metric") == 0 && i + 1 < argc)
			metric = argv[++i];
		else if (g_str_has_prefix(argv[i], "--metric="))
			metric = argv[i] + strlen("--metric=");
		/* upload (issue 5) */
		else if (g_strcmp0(argv[i], "--next") == 0 && argc == 2)
			return show_uploads(ctx, FALSE, error);
		else if (g_strcmp0(argv[i], "--sent") == 0 && argc == 2)
			return show_uploads(ctx, TRUE, error);
		else
			return mcli_usage_error(error, usage);
	}
	if (all)
		flags |= METRICS_CLIENT_FLAGS_ALL_USERS;
	if (ctx->interactive)
		flags |= METRICS_CLIENT_FLAGS_INTERACTIVE;
	aggregates = metrics_client_get_local_data_sync(ctx->client, flags, NULL, error);
	if (aggregates == NULL)
		return FALSE;
	/* names are nicer than ids; without the allowlist, ids it is */
	allowlist = metrics_client_get_allowlist_sync(ctx->client, NULL, NULL);
	for (guint i = aggregates->len; i > 0; i--) {
		if (!aggregate_matches(g_ptr_array_index(aggregates, i - 1), allowlist, week,
				       metric))
			g_ptr_array_remove_index(aggregates, i - 1);
	}

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
	g_print("    ");
	if (all)
		/* TRANSLATORS: column heading: the local user id */
		g_print("%-6s ", _("User"));
	/* TRANSLATORS: column headings of the stored data */
	g_print("%-10s  %-8s  %-12s  %s\n", _("Week of"), _("Kind"), _("Amount"), _("Value"));
	/* the daemon returns the rows sorted by metric: a heading for each */
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);

		if (g_strcmp0(previous, metrics_aggregate_get_event_id(aggregate)) != 0)
			print_metric_heading(aggregate, allowlist);
		previous = metrics_aggregate_get_event_id(aggregate);
		print_aggregate(aggregate, all);
	}
	return TRUE;
}
