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

static gint64
lookup_x(GVariant *status, const char *key)
{
	gint64 value = 0;
	g_variant_lookup(status, key, "x", &value);
	return value;
}

static char *
u64_str(guint64 n)
{
	return g_strdup_printf("%" G_GUINT64_FORMAT, n);
}

/* JSON keys from the daemon's keys: the daemon may add keys, the JSON keys
 * stay as documented in metrics-cli(1) */
static const struct {
	const char *json_key;
	const char *status_key;
	const char *type;
} status_keys[] = {
	{"consent-changed-usec", "consent-timestamp", "x"},
	{"stored-keys", "stored-keys", "t"},
	{"stored-events", "stored-events", "t"},
	{"stored-weeks", "stored-weeks", "t"},
	{"stored-bytes", "stored-bytes", "t"},
	{"store-used-bytes", "store-used-bytes", "t"},
	{"store-max-bytes", "store-max-bytes", "t"},
	{"store-full", "store-full", "b"},
	{"accepted", "accepted", "t"},
	{"allowlisted-metrics", "allowlisted-metrics", "u"},
	{"pending-uploads", "pending-uploads", "t"},
	{"set-aside", "set-aside", "t"},
	{"next-upload", "next-upload", "x"},
	{"next-week-close", "next-week-close", "x"},
	{"upload-window-days", "upload-window-days", "u"},
	{"last-upload", "last-upload", "x"},
	{"server-url", "server-url", "s"},
};

static gboolean
category_off_for_user(GVariant *status, const char *name)
{
	g_autoptr(GVariant) off =
		g_variant_lookup_value(status, "user-categories-off", G_VARIANT_TYPE("as"));

	for (gsize i = 0; off != NULL && i < g_variant_n_children(off); i++) {
		const char *item = NULL;

		g_variant_get_child(off, i, "&s", &item);
		if (g_strcmp0(item, name) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
add_categories_json(JsonBuilder *builder, GVariant *status)
{
	g_autoptr(GVariant) categories =
		g_variant_lookup_value(status, "categories", G_VARIANT_TYPE("a{ss}"));
	GVariantIter iter;
	const char *name, *state;

	if (categories == NULL)
		return;
	json_builder_set_member_name(builder, "categories");
	json_builder_begin_object(builder);
	g_variant_iter_init(&iter, categories);
	while (g_variant_iter_next(&iter, "{&s&s}", &name, &state)) {
		json_builder_set_member_name(builder, name);
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "machine");
		json_builder_add_string_value(builder, state);
		json_builder_set_member_name(builder, "user");
		json_builder_add_string_value(builder,
					      category_off_for_user(status, name) ? "off" : "on");
		json_builder_end_object(builder);
	}
	json_builder_end_object(builder);
}

/* "hardware: on, usage: off for you, ..." */
static char *
categories_summary(GVariant *status)
{
	g_autoptr(GVariant) categories =
		g_variant_lookup_value(status, "categories", G_VARIANT_TYPE("a{ss}"));
	g_autoptr(GString) text = g_string_new(NULL);
	GVariantIter iter;
	const char *name, *state;

	if (categories == NULL)
		return NULL;
	g_variant_iter_init(&iter, categories);
	while (g_variant_iter_next(&iter, "{&s&s}", &name, &state)) {
		if (text->len > 0)
			g_string_append(text, "; ");
		g_string_append_printf(text, "%s %s", name, mcli_category_state_label(state));
		if (category_off_for_user(status, name))
			/* TRANSLATORS: after the state of a category, when the
			 * user turned it off for their own account */
			g_string_append(text, _(", off for you"));
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

static void
print_status_json(GVariant *status,
		  MetricsConsent consent,
		  const MetricsUserChoice *choice,
		  GVariant *drops,
		  GVariant *by_metric)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	gboolean all_users = FALSE;

	g_variant_lookup(status, "all-users", "b", &all_users);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "consent");
	json_builder_add_string_value(builder, metrics_consent_to_string(consent));
	if (choice != NULL) {
		json_builder_set_member_name(builder, "user-choice");
		json_builder_add_string_value(builder, metrics_user_choice_to_string(*choice));
	}
	add_categories_json(builder, status);
	json_builder_set_member_name(builder, "all-users");
	json_builder_add_boolean_value(builder, all_users);
	for (guint i = 0; i < G_N_ELEMENTS(status_keys); i++) {
		const char *type = status_keys[i].type;
		g_autoptr(GVariant) present =
			g_variant_lookup_value(status, status_keys[i].status_key, NULL);

		/* everybody's figures come only with --all */
		if (present == NULL)
			continue;
		json_builder_set_member_name(builder, status_keys[i].json_key);
		if (g_strcmp0(type, "b") == 0) {
			gboolean value = FALSE;
			g_variant_lookup(status, status_keys[i].status_key, "b", &value);
			json_builder_add_boolean_value(builder, value);
		} else if (g_strcmp0(type, "s") == 0) {
			const char *value = "";
			g_variant_lookup(status, status_keys[i].status_key, "&s", &value);
			json_builder_add_string_value(builder, value);
		} else if (g_strcmp0(type, "u") == 0) {
			guint32 value = 0;
			g_variant_lookup(status, status_keys[i].status_key, "u", &value);
			json_builder_add_int_value(builder, value);
		} else if (g_strcmp0(type, "x") == 0) {
			json_builder_add_int_value(builder,
						   lookup_x(status, status_keys[i].status_key));
		} else {
			json_builder_add_int_value(
				builder, (gint64)lookup_u64(status, status_keys[i].status_key));
		}
	}
	if (!all_users) {
		json_builder_end_object(builder);
		mcli_print_json(builder);
		return;
	}
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
}

/* "3 aggregates of 12 events in 2 weeks, 74 KiB of 4 MiB" */
static char *
stored_summary(GVariant *status)
{
	guint64 n_keys = lookup_u64(status, "stored-keys");
	guint64 n_events = lookup_u64(status, "stored-events");
	guint64 n_weeks = lookup_u64(status, "stored-weeks");
	g_autofree char *keys_n = u64_str(n_keys);
	g_autofree char *events_n = u64_str(n_events);
	g_autofree char *weeks_n = u64_str(n_weeks);
	g_autofree char *keys_str = NULL;
	g_autofree char *events_str = NULL;
	g_autofree char *weeks_str = NULL;
	g_autofree char *size_str = NULL;
	g_autofree char *max_str = mcli_format_size(lookup_u64(status, "store-max-bytes"));
	gboolean full = FALSE;
	g_autofree char *text = NULL;
	guint64 used = 0;

	/* against the cap, what the cap counts; a daemon without the key: the
	 * size on disk */
	if (!g_variant_lookup(status, "store-used-bytes", "t", &used))
		used = lookup_u64(status, "stored-bytes");
	size_str = mcli_format_size(used);

	keys_str = g_strdup_printf(
		/* TRANSLATORS: the first part of "3 aggregates of 12 events in
		 * 2 weeks, 74 KiB of 4 MiB"; an aggregate sums up the events of
		 * one metric, week and value */
		g_dngettext(NULL, "%s aggregate", "%s aggregates", n_keys), keys_n);
	events_str = g_strdup_printf(
		/* TRANSLATORS: the second part of "3 aggregates of 12 events in
		 * 2 weeks, 74 KiB of 4 MiB" */
		g_dngettext(NULL, "%s event", "%s events", n_events), events_n);
	/* TRANSLATORS: the third part of "3 aggregates of 12 events in 2
	 * weeks, 74 KiB of 4 MiB" */
	weeks_str = g_strdup_printf(g_dngettext(NULL, "%s week", "%s weeks", n_weeks), weeks_n);
	/* TRANSLATORS: what is stored, e.g. "3 aggregates of 12 events in 2
	 * weeks, 74 KiB of 4 MiB": aggregates, events, weeks, then the space
	 * they use and the cap on it */
	text = g_strdup_printf(_("%s of %s in %s, %s of %s"), keys_str, events_str, weeks_str,
			       size_str, max_str);
	if (!g_variant_lookup(status, "stored-bytes", "t", NULL)) {
		/* one user's figures: the store's size is everybody's */
		g_free(text);
		/* TRANSLATORS: what is stored for you, e.g. "3 aggregates of 12
		 * events in 2 weeks" */
		text = g_strdup_printf(_("%s of %s in %s"), keys_str, events_str, weeks_str);
	}
	g_variant_lookup(status, "store-full", "b", &full);
	if (full) {
		return g_strdup_printf(
			/* TRANSLATORS: after what is stored, when the store
			 * reached its cap */
			_("%s (full: new events are dropped)"), text);
	}
	return g_steal_pointer(&text);
}

/* the next upload: a request's due time, or when the stored data will go */
static char *
next_upload_summary(GVariant *status)
{
	gint64 next = lookup_x(status, "next-upload");
	gint64 week_close = lookup_x(status, "next-week-close");
	guint32 window = 0;
	g_autofree char *when = NULL;
	g_autofree char *window_n = NULL;

	if (next > 0)
		return mcli_format_timestamp(next);
	if (week_close <= 0)
		/* TRANSLATORS: the next upload, when nothing is stored */
		return g_strdup(_("none (nothing is stored)"));
	g_variant_lookup(status, "upload-window-days", "u", &window);
	when = mcli_format_timestamp(week_close);
	if (window == 0)
		/* TRANSLATORS: the next upload; %s is a date */
		return g_strdup_printf(_("%s, when the week of the stored data closes"), when);
	window_n = g_strdup_printf("%u", window);
	return g_strdup_printf(
		g_dngettext(NULL,
			    /* TRANSLATORS: the next upload; the first %s is a date,
			     * the second a number of days */
			    "after %s, when the week of the stored data closes, at a random "
			    "moment within %s day",
			    "after %s, when the week of the stored data closes, at a random "
			    "moment within %s days",
			    window),
		when, window_n);
}

static void
print_status(McliContext *ctx,
	     GVariant *status,
	     MetricsConsent consent,
	     const MetricsUserChoice *choice,
	     GVariant *drops,
	     GVariant *by_metric)
{
	const char *server = "";
	g_autofree char *changed_str = mcli_format_timestamp(lookup_x(status, "consent-timestamp"));
	g_autofree char *stored = stored_summary(status);
	g_autofree char *accepted = u64_str(lookup_u64(status, "accepted"));
	g_autofree char *pending = u64_str(lookup_u64(status, "pending-uploads"));
	g_autofree char *set_aside = u64_str(lookup_u64(status, "set-aside"));
	g_autofree char *next_str = next_upload_summary(status);
	g_autofree char *last_str = mcli_format_timestamp(lookup_x(status, "last-upload"));
	g_autofree char *categories = categories_summary(status);
	gboolean all_users = FALSE;

	g_variant_lookup(status, "all-users", "b", &all_users);
	g_variant_lookup(status, "server-url", "&s", &server);
	/* TRANSLATORS: a label, then the consent state */
	mcli_print_field(_("Consent:"), mcli_consent_label(consent));
	/* TRANSLATORS: a label, then a date */
	mcli_print_field(_("Consent changed:"), changed_str);
	if (choice != NULL)
		/* TRANSLATORS: a label, then the user's own choice */
		mcli_print_field(_("Your choice:"), mcli_user_choice_label(*choice));
	if (categories != NULL)
		/* TRANSLATORS: a label, then each category of metrics and its
		 * state */
		mcli_print_field(_("Categories:"), categories);
	if (all_users)
		/* TRANSLATORS: a label, then what is stored for every user */
		mcli_print_field(_("Stored (all users):"), stored);
	else
		/* TRANSLATORS: a label, then what is stored for the caller */
		mcli_print_field(_("Stored for you:"), stored);
	/* TRANSLATORS: a label, then a number of events */
	mcli_print_field(_("Accepted since start:"), accepted);
	if (all_users) {
		/* TRANSLATORS: a label, then a number of requests */
		mcli_print_field(_("Uploads waiting:"), pending);
		/* TRANSLATORS: a label, then a number of requests the server
		 * refused */
		mcli_print_field(_("Uploads set aside:"), set_aside);
	}
	/* TRANSLATORS: a label, then a date */
	mcli_print_field(_("Next upload:"), next_str);
	if (all_users)
		/* TRANSLATORS: a label, then a date */
		mcli_print_field(_("Last upload:"), last_str);
	/* TRANSLATORS: a label, then the address of the server */
	mcli_print_field(_("Server:"), server);

	if (drops != NULL && g_variant_n_children(drops) > 0) {
		GVariantIter iter;
		const char *reason;
		guint64 count;

		/* TRANSLATORS: a heading for counts of dropped events by reason */
		g_print("%s\n", _("Dropped since start:"));
		g_variant_iter_init(&iter, drops);
		while (g_variant_iter_next(&iter, "{&st}", &reason, &count)) {
			g_autoptr(GString) line = g_string_new("  ");

			mcli_append_padded(line, mcli_drop_reason_label(reason), 30);
			g_string_append_printf(line, " %" G_GUINT64_FORMAT, count);
			mcli_print_line(line->str);
		}
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
				allowlist != NULL ? mcli_allowlist_find(allowlist, metric) : NULL;
			g_autoptr(GString) line = g_string_new("  ");
			const char *name = metric;

			if (info != NULL)
				g_variant_lookup(info, "name", "&s", &name);
			mcli_append_padded(line, mcli_drop_reason_label(reason), 22);
			g_string_append_c(line, ' ');
			mcli_append_padded(line, name, 36);
			g_string_append_printf(line, " %" G_GUINT64_FORMAT, count);
			mcli_print_line(line->str);
		}
	}
}

gboolean
mcli_cmd_status(McliContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) drops = NULL;
	g_autoptr(GVariant) by_metric = NULL;
	const char *consent_str = "unknown";
	MetricsConsent consent = METRICS_CONSENT_UNKNOWN;
	MetricsClientFlags flags = METRICS_CLIENT_FLAGS_NONE;
	MetricsUserChoice choice = METRICS_USER_CHOICE_DEFAULT;
	g_autoptr(GError) choice_error = NULL;
	gboolean has_choice;

	for (int i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--all") != 0)
			return mcli_usage_error(error, "metrics-cli status [--all]");
		flags |= METRICS_CLIENT_FLAGS_ALL_USERS | mcli_auth_flags(ctx);
	}
	status = metrics_client_get_status_full_sync(ctx->client, flags, NULL, error);
	if (status == NULL)
		return FALSE;
	g_variant_lookup(status, "consent", "&s", &consent_str);
	metrics_consent_from_string(consent_str, &consent);
	drops = g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	by_metric = g_variant_lookup_value(status, "drops-by-metric", G_VARIANT_TYPE("a(sst)"));
	/* the caller's own choice; a daemon without it has none to show */
	has_choice = metrics_client_get_user_choice_sync(ctx->client, &choice, NULL, &choice_error);
	if (!has_choice)
		g_debug("no user choice: %s", choice_error->message);

	if (ctx->json)
		print_status_json(status, consent, has_choice ? &choice : NULL, drops, by_metric);
	else
		print_status(ctx, status, consent, has_choice ? &choice : NULL, drops, by_metric);
	return TRUE;
}
