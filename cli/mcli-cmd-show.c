/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "mcli-common.h"

/* the members "payload" (the value as JSON) and "payload-type" (its
 * GVariant type), both null without a payload */
static void
add_payload_json(JsonBuilder *builder, GVariant *payload)
{
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
}

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
	add_payload_json(builder, payload);
	json_builder_set_member_name(builder, "count");
	json_builder_add_int_value(builder, (gint64)metrics_aggregate_get_count(aggregate));
	json_builder_set_member_name(builder, "duration-usec");
	json_builder_add_int_value(builder, (gint64)metrics_aggregate_get_duration(aggregate));
	json_builder_end_object(builder);
}

/* the metric's name from the allowlist, else @id; *@info is the metric's
 * allowlist entry, which holds the name (or %NULL) */
static const char *
metric_name_for_id(GVariant *allowlist, const char *id, GVariant **info)
{
	const char *name = id;

	*info = allowlist != NULL ? mcli_allowlist_find(allowlist, id) : NULL;
	if (*info != NULL)
		g_variant_lookup(*info, "name", "&s", &name);
	return name;
}

/* a heading per metric: its name and what it is, wrapped to 80 columns */
static void
print_metric_heading(MetricsAggregate *aggregate, GVariant *allowlist)
{
	g_autoptr(GVariant) info = NULL;
	const char *name =
		metric_name_for_id(allowlist, metrics_aggregate_get_event_id(aggregate), &info);
	const char *description = NULL;

	if (info != NULL)
		g_variant_lookup(info, "description", "&s", &description);
	g_print("\n");
	mcli_print_line(name);
	if (description != NULL && description[0] != '\0') {
		/* translated: see data/allowlist/allowlist-strings.c */
		g_autofree char *wrapped = mcli_wrap(g_dgettext(GETTEXT_PACKAGE, description),
						     MCLI_LINE_WIDTH - 2, "  ");
		g_print("%s\n", wrapped);
	}
}

/* the value column: on the row when it fits 80 columns, else on a line of
 * its own, wrapped */
static void
print_row_with_value(GString *row, const char *value)
{
	if (mcli_display_width(row->str) + mcli_display_width(value) <= MCLI_LINE_WIDTH) {
		g_string_append(row, value);
		g_print("%s\n", row->str);
		return;
	}
	g_strchomp(row->str);
	g_string_set_size(row, strlen(row->str));
	g_print("%s\n", row->str);
	{
		g_autofree char *wrapped = mcli_wrap(value, MCLI_LINE_WIDTH - 8, "        ");
		g_print("%s\n", wrapped);
	}
}

static void
print_aggregate(MetricsAggregate *aggregate, gboolean with_uid)
{
	GVariant *payload = metrics_aggregate_get_payload(aggregate);
	g_autofree char *value = mcli_format_payload(payload);
	g_autofree char *amount = NULL;
	g_autoptr(GString) row = g_string_new("    ");

	if (metrics_aggregate_get_kind(aggregate) == METRICS_EVENT_KIND_DURATION)
		amount = mcli_format_duration(metrics_aggregate_get_duration(aggregate));
	else
		amount = g_strdup_printf("%" G_GUINT64_FORMAT,
					 metrics_aggregate_get_count(aggregate));
	if (with_uid) {
		g_autofree char *uid = g_strdup_printf("%u", metrics_aggregate_get_uid(aggregate));
		mcli_append_padded(row, uid, 7);
	}
	mcli_append_padded(row, metrics_aggregate_get_week(aggregate), 12);
	mcli_append_padded(row, mcli_kind_label(metrics_aggregate_get_kind(aggregate)), 10);
	mcli_append_padded(row, amount, 14);
	print_row_with_value(row, value);
}

/* --metric matches the id or the allowlist's name */
static gboolean
aggregate_matches(MetricsAggregate *aggregate,
		  GVariant *allowlist,
		  const char *week,
		  const char *metric)
{
	const char *id = metrics_aggregate_get_event_id(aggregate);
	g_autoptr(GVariant) info = NULL;

	if (week != NULL && g_strcmp0(metrics_aggregate_get_week(aggregate), week) != 0)
		return FALSE;
	if (metric != NULL && g_strcmp0(id, metric) != 0 &&
	    g_strcmp0(metric_name_for_id(allowlist, id, &info), metric) != 0)
		return FALSE;
	return TRUE;
}

/* ---- show --next and show --sent: the requests due and those sent ---- */

/* the JSON of show --next and --sent: every key explicitly from the
 * daemon's, so the keys stay as documented in metrics-cli(1) whatever the
 * daemon adds */
typedef struct {
	const char *key;
	const char *type; /* GVariant type string of the daemon's value */
} McliKey;

static const McliKey next_keys[] = {
	{"metric", "s"},   {"week", "s"},     {"state", "s"},	    {"due", "x"},
	{"next-try", "x"}, {"attempts", "u"}, {"last-status", "u"}, {"last-answer", "s"},
};

static const McliKey sent_keys[] = {
	{"metric", "s"},    {"week", "s"},     {"sent", "x"}, {"status", "u"},
	{"answer", "s"},    {"checksum", "s"}, {"size", "t"}, {"compressed-size", "t"},
	{"timestamp", "x"},
};

static void
add_json_member(JsonBuilder *builder, GVariant *dict, const McliKey *key)
{
	g_autoptr(GVariant) value =
		g_variant_lookup_value(dict, key->key, G_VARIANT_TYPE(key->type));

	json_builder_set_member_name(builder, key->key);
	if (key->type[0] == 's')
		json_builder_add_string_value(
			builder, value != NULL ? g_variant_get_string(value, NULL) : "");
	else if (value == NULL)
		json_builder_add_int_value(builder, 0);
	else if (key->type[0] == 'x')
		json_builder_add_int_value(builder, g_variant_get_int64(value));
	else if (key->type[0] == 'u')
		json_builder_add_int_value(builder, g_variant_get_uint32(value));
	else
		json_builder_add_int_value(builder, (gint64)g_variant_get_uint64(value));
}

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
		add_payload_json(builder, value);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
}

static void
print_uploads_json(GVariant *requests, gboolean sent)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	const McliKey *keys = sent ? sent_keys : next_keys;
	guint n_keys = sent ? G_N_ELEMENTS(sent_keys) : G_N_ELEMENTS(next_keys);
	GVariantIter iter;
	GVariant *request;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "requests");
	json_builder_begin_array(builder);
	g_variant_iter_init(&iter, requests);
	while (g_variant_iter_loop(&iter, "@a{sv}", &request)) {
		g_autoptr(GVariant) events =
			g_variant_lookup_value(request, "events", G_VARIANT_TYPE("a(sssuav)"));

		json_builder_begin_object(builder);
		for (guint i = 0; i < n_keys; i++)
			add_json_member(builder, request, &keys[i]);
		json_builder_set_member_name(builder, "events");
		if (events != NULL) {
			add_upload_events_json(builder, events);
		} else {
			json_builder_begin_array(builder);
			json_builder_end_array(builder);
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
		g_autofree char *value = mcli_format_payload(boxed);
		g_autofree char *count_str = g_strdup_printf("%u", count);
		g_autoptr(GString) row = g_string_new("    ");

		mcli_append_padded(row, id, 38);
		mcli_append_padded(row, period, 12);
		mcli_append_padded(row, os_version, 8);
		mcli_append_padded(row, count_str, 8);
		print_row_with_value(row, value);
	}
}

static void
print_uploads(GVariant *requests, GVariant *allowlist, gboolean sent)
{
	GVariantIter iter;
	GVariant *request;

	g_variant_iter_init(&iter, requests);
	while (g_variant_iter_loop(&iter, "@a{sv}", &request)) {
		g_autoptr(GVariant) events =
			g_variant_lookup_value(request, "events", G_VARIANT_TYPE("a(sssuav)"));
		g_autoptr(GVariant) info = NULL;
		const char *metric = "?", *week = "?", *state = "?", *answer = "";
		gint64 when = 0;
		g_autofree char *when_str = NULL;
		g_autofree char *heading = NULL;
		g_autofree char *detail = NULL;
		g_autofree char *wrapped = NULL;

		g_variant_lookup(request, "metric", "&s", &metric);
		g_variant_lookup(request, "week", "&s", &week);
		/* TRANSLATORS: a request of an upload: a metric and its week */
		heading = g_strdup_printf(_("%s, week of %s"),
					  metric_name_for_id(allowlist, metric, &info), week);
		if (sent) {
			g_variant_lookup(request, "sent", "x", &when);
			g_variant_lookup(request, "answer", "&s", &answer);
			when_str = mcli_format_timestamp(when);
			/* TRANSLATORS: a sent request: when, and the server's answer */
			detail = g_strdup_printf(_("sent %s, answer “%s”"), when_str, answer);
		} else {
			guint32 attempts = 0;
			g_autofree char *attempts_str = NULL;

			g_variant_lookup(request, "state", "&s", &state);
			g_variant_lookup(request, "due", "x", &when);
			g_variant_lookup(request, "attempts", "u", &attempts);
			g_variant_lookup(request, "last-answer", "&s", &answer);
			when_str = mcli_format_timestamp(when);
			attempts_str = g_strdup_printf("%u", attempts);
			if (g_strcmp0(state, "next") == 0)
				/* TRANSLATORS: a request of a week not closed yet */
				detail = g_strdup_printf(_("not closed yet, closes %s"), when_str);
			else if (g_strcmp0(state, "set-aside") == 0)
				/* TRANSLATORS: a request the server refused */
				detail = g_strdup_printf(_("set aside, the server answered “%s”"),
							 answer);
			else
				/* TRANSLATORS: a pending request: due time, tries */
				detail = g_strdup_printf(g_dngettext(NULL, "due %s, %s attempt",
								     "due %s, %s attempts",
								     attempts),
							 when_str, attempts_str);
		}
		wrapped = mcli_wrap(detail, MCLI_LINE_WIDTH - 4, "    ");
		g_print("\n");
		mcli_print_line(heading);
		g_print("%s\n", wrapped);
		if (events != NULL)
			print_upload_events(events);
	}
}

static gboolean
show_uploads(McliContext *ctx, gboolean sent, GError **error)
{
	MetricsClientFlags flags = mcli_auth_flags(ctx);
	g_autoptr(GVariant) requests =
		sent ? metrics_client_get_sent_uploads_sync(ctx->client, flags, NULL, error) :
		       metrics_client_get_pending_uploads_sync(ctx->client, flags, NULL, error);
	g_autoptr(GVariant) allowlist = NULL;
	g_autoptr(GString) heading = g_string_new("    ");

	if (requests == NULL)
		return FALSE;
	/* nothing to show: the same exit code with and without --json */
	if (g_variant_n_children(requests) == 0)
		ctx->exit_code = MCLI_EXIT_NOTHING_TO_DO;
	if (ctx->json) {
		print_uploads_json(requests, sent);
		return TRUE;
	}
	if (g_variant_n_children(requests) == 0) {
		g_print("%s\n", sent ? /* TRANSLATORS: the archive of uploads is empty */
					_("Nothing was uploaded in the last 90 days.") :
					/* TRANSLATORS: nothing waits for upload */
					_("Nothing waits to be uploaded."));
		return TRUE;
	}
	allowlist = metrics_client_get_allowlist_sync(ctx->client, NULL, NULL);
	/* TRANSLATORS: column headings of the events of an upload: the
	 * weekly event id, the week, the OS version, the count and the value */
	mcli_append_padded(heading, _("Event"), 38);
	mcli_append_padded(heading, _("Week of"), 12);
	mcli_append_padded(heading, _("OS"), 8);
	mcli_append_padded(heading, _("Count"), 8);
	g_string_append(heading, _("Value"));
	mcli_print_line(heading->str);
	print_uploads(requests, allowlist, sent);
	return TRUE;
}

/* --week: any day of the week, as YYYY-MM-DD; returns its Monday */
static char *
parse_week(const char *text, GError **error)
{
	g_autoptr(GDate) date = g_date_new();
	guint year = 0, month = 0, day = 0;
	char tail = '\0';

	if (sscanf(text, "%4u-%2u-%2u%c", &year, &month, &day, &tail) != 3 || year < 1970 ||
	    strlen(text) != 10 ||
	    !g_date_valid_dmy((GDateDay)day, (GDateMonth)month, (GDateYear)year)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    /* TRANSLATORS: %s is what the user gave to --week */
			    _("Not a date: “%s”; give a day of the week as YYYY-MM-DD"), text);
		return NULL;
	}
	g_date_set_dmy(date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
	g_date_subtract_days(date, g_date_get_weekday(date) - G_DATE_MONDAY);
	return g_strdup_printf("%04u-%02u-%02u", g_date_get_year(date), g_date_get_month(date),
			       g_date_get_day(date));
}

gboolean
mcli_cmd_show(McliContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GVariant) allowlist = NULL;
	MetricsClientFlags flags = METRICS_CLIENT_FLAGS_NONE;
	gboolean all = FALSE;
	const char *week_arg = NULL;
	g_autofree char *week = NULL;
	const char *metric = NULL;
	const char *previous = NULL;
	const char *usage =
		"metrics-cli show [--all] [--week YYYY-MM-DD] [--metric NAME] | --next | --sent";

	for (int i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--all") == 0)
			all = TRUE;
		else if (g_strcmp0(argv[i], "--week") == 0 && i + 1 < argc)
			week_arg = argv[++i];
		else if (g_str_has_prefix(argv[i], "--week="))
			week_arg = argv[i] + strlen("--week=");
		else if (g_strcmp0(argv[i], "--metric") == 0 && i + 1 < argc)
			metric = argv[++i];
		else if (g_str_has_prefix(argv[i], "--metric="))
			metric = argv[i] + strlen("--metric=");
		/* --next and --sent take no other option */
		else if (g_strcmp0(argv[i], "--next") == 0 && argc == 2)
			return show_uploads(ctx, FALSE, error);
		else if (g_strcmp0(argv[i], "--sent") == 0 && argc == 2)
			return show_uploads(ctx, TRUE, error);
		else
			return mcli_usage_error(error, usage);
	}
	if (week_arg != NULL) {
		week = parse_week(week_arg, error);
		if (week == NULL)
			return FALSE;
	}
	/* one's own data needs no authorisation */
	if (all)
		flags |= METRICS_CLIENT_FLAGS_ALL_USERS | mcli_auth_flags(ctx);
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

	/* nothing to show: the same exit code with and without --json */
	if (aggregates->len == 0)
		ctx->exit_code = MCLI_EXIT_NOTHING_TO_DO;
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
		return TRUE;
	}
	{
		g_autoptr(GString) heading = g_string_new("    ");

		if (all)
			/* TRANSLATORS: column heading: the local user id */
			mcli_append_padded(heading, _("User"), 7);
		/* TRANSLATORS: column headings of the stored data */
		mcli_append_padded(heading, _("Week of"), 12);
		mcli_append_padded(heading, _("Kind"), 10);
		mcli_append_padded(heading, _("Amount"), 14);
		g_string_append(heading, _("Value"));
		mcli_print_line(heading->str);
	}
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
