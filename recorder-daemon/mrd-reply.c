/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdReply"

#include "config.h"

#include "metrics-private.h"
#include "mrd-reply.h"
#include "mrd-upload-body.h"

/*
 * The dictionaries of the D-Bus contract (data/dbus/): how the engine's
 * figures, the allowlist and the outbox's requests are written into the
 * replies of GetStatus, GetAllowlist, GetPendingUploads and
 * GetSentUploads. Each key is written here and nowhere else.
 */

/**
 * mrd_reply_metric:
 * @metric: an allowlisted metric
 * @now: the real time, in usec
 * @sampled: (nullable): whether this install records it, %NULL when that
 *   is not decided yet
 *
 * Returns: (transfer floating): one entry of GetAllowlist, a{sv}
 */
GVariant *
mrd_reply_metric(const MrdMetric *metric, gint64 now, const gboolean *sampled)
{
	const MrdValueDomain *strings = mrd_metric_get_strings(metric);
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "id", g_variant_new_string(metric->id_str));
	g_variant_builder_add(&builder, "{sv}", "name", g_variant_new_string(metric->name));
	g_variant_builder_add(&builder, "{sv}", "description",
			      g_variant_new_string(metric->description));
	g_variant_builder_add(&builder, "{sv}", "purpose", g_variant_new_string(metric->purpose));
	g_variant_builder_add(&builder, "{sv}", "owner", g_variant_new_string(metric->owner));
	g_variant_builder_add(
		&builder, "{sv}", "category",
		g_variant_new_string(mrd_metric_category_to_string(metric->category)));
	g_variant_builder_add(&builder, "{sv}", "kind",
			      g_variant_new_string(metrics_event_kind_to_string(metric->kind)));
	g_variant_builder_add(
		&builder, "{sv}", "payload",
		g_variant_new_take_string(metric->payload != NULL ?
						  g_variant_type_dup_string(metric->payload) :
						  g_strdup("")));
	if (strings != NULL && strings->values_from != NULL)
		g_variant_builder_add(&builder, "{sv}", "values-from",
				      g_variant_new_string(strings->values_from));
	if (strings != NULL)
		g_variant_builder_add(&builder, "{sv}", "n-values",
				      g_variant_new_uint64(g_hash_table_size(strings->values)));
	if (strings != NULL)
		g_variant_builder_add(&builder, "{sv}", "other",
				      g_variant_new_string(strings->map_other ? "map" : "drop"));
	g_variant_builder_add(&builder, "{sv}", "recorders",
			      g_variant_new_strv((const char *const *)metric->recorders, -1));
	g_variant_builder_add(&builder, "{sv}", "added", g_variant_new_string(metric->added));
	g_variant_builder_add(&builder, "{sv}", "expires", g_variant_new_string(metric->expires));
	g_variant_builder_add(&builder, "{sv}", "expired",
			      g_variant_new_boolean(now >= metric->expires_end));
	g_variant_builder_add(&builder, "{sv}", "sample-rate",
			      g_variant_new_double(metric->sample_rate));
	if (sampled != NULL)
		g_variant_builder_add(&builder, "{sv}", "sampled", g_variant_new_boolean(*sampled));
	g_variant_builder_add(&builder, "{sv}", "weekly-cap",
			      g_variant_new_uint64(metric->weekly_cap));
	g_variant_builder_add(&builder, "{sv}", "file", g_variant_new_string(metric->file));
	return g_variant_builder_end(&builder);
}

static void
add_status(GVariantBuilder *builder, const char *key, GVariant *value)
{
	g_variant_builder_add(builder, "{sv}", key, value);
}

/**
 * mrd_reply_status:
 * @st: the engine's figures
 * @drops: the drop counters
 * @n_clients: the clients known to the caller registry
 *
 * Without @st's all_users only the keys about the caller and about nobody
 * are written; the size of the store, the drops, the clients and the
 * uploads are everybody's (data/dbus/, GetStatus).
 *
 * Returns: (transfer floating): the reply of GetStatus, a{sv}
 */
/* (transfer floating): a{ss}, each category "on", "off" or "unknown" */
GVariant *
mrd_reply_categories(guint agreed, guint refused)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
	for (guint c = 0; c < MRD_N_METRIC_CATEGORIES; c++) {
		const char *state = (agreed & MRD_CATEGORY_BIT(c)) != 0	 ? "on" :
				    (refused & MRD_CATEGORY_BIT(c)) != 0 ? "off" :
									   "unknown";

		g_variant_builder_add(&b, "{ss}", mrd_metric_category_to_string(c), state);
	}
	return g_variant_builder_end(&b);
}

/* (transfer floating): as, the names of the categories of @set */
GVariant *
mrd_reply_category_list(guint set)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
	for (guint c = 0; c < MRD_N_METRIC_CATEGORIES; c++) {
		if ((set & MRD_CATEGORY_BIT(c)) != 0)
			g_variant_builder_add(&b, "s", mrd_metric_category_to_string(c));
	}
	return g_variant_builder_end(&b);
}

GVariant *
mrd_reply_status(const MrdEngineStatus *st, MrdDrops *drops, guint n_clients)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	add_status(&b, "all-users", g_variant_new_boolean(st->all_users));
	add_status(&b, "consent", g_variant_new_string(metrics_consent_to_string(st->consent)));
	add_status(&b, "consent-timestamp", g_variant_new_int64(st->consent_timestamp));
	add_status(&b, "stored-keys", g_variant_new_uint64(st->usage.n_keys));
	add_status(&b, "stored-events", g_variant_new_uint64(st->usage.n_events));
	add_status(&b, "stored-weeks", g_variant_new_uint64(st->usage.n_weeks));
	add_status(&b, "store-max-bytes", g_variant_new_uint64(st->max_store_bytes));
	add_status(&b, "store-full", g_variant_new_boolean(st->usage.full));
	add_status(&b, "accepted", g_variant_new_uint64(st->n_accepted));
	add_status(&b, "allowlisted-metrics", g_variant_new_uint32(st->n_allowlisted));
	add_status(&b, "server-url", g_variant_new_string(st->server_url));
	add_status(&b, "next-week-close", g_variant_new_int64(st->next_week_close));
	add_status(&b, "upload-window-days", g_variant_new_uint32(st->window_days));
	add_status(&b, "categories",
		   mrd_reply_categories(st->categories_agreed, st->categories_refused));
	if (!st->all_users) {
		add_status(&b, "user-categories-off", mrd_reply_category_list(st->user_off));
		return g_variant_builder_end(&b);
	}
	add_status(&b, "stored-bytes", g_variant_new_uint64(st->usage.file_bytes));
	add_status(&b, "store-used-bytes", g_variant_new_uint64(st->usage.used_bytes));
	add_status(&b, "drops", mrd_drops_to_variant(drops));
	add_status(&b, "drops-by-metric", mrd_drops_by_metric_to_variant(drops));
	add_status(&b, "clients", g_variant_new_uint32(n_clients));
	add_status(&b, "pending-uploads", g_variant_new_uint64(st->uploads.n_pending));
	add_status(&b, "set-aside", g_variant_new_uint64(st->uploads.n_set_aside));
	add_status(&b, "next-upload", g_variant_new_int64(st->uploads.next_upload));
	add_status(&b, "last-upload", g_variant_new_int64(st->uploads.last_upload));
	return g_variant_builder_end(&b);
}

static void
add_request_common(GVariantBuilder *dict, const MrdOutboxRequest *request, GVariant *events)
{
	char metric[METRICS_UUID_STRING_LENGTH + 1];

	metrics_uuid_unparse(request->metric, metric);
	g_variant_builder_add(dict, "{sv}", "metric", g_variant_new_string(metric));
	g_variant_builder_add(dict, "{sv}", "week", g_variant_new_string(request->week));
	g_variant_builder_add(dict, "{sv}", "events", mrd_upload_events_describe(events));
}

static const char *
outbox_state_to_string(MrdOutboxState state)
{
	switch (state) {
	case MRD_OUTBOX_STATE_PENDING:
		return "pending";
	case MRD_OUTBOX_STATE_SET_ASIDE:
		return "set-aside";
	case MRD_OUTBOX_STATE_PREVIEW:
	default:
		return "next";
	}
}

static void
add_pending(GVariantBuilder *builder, const MrdOutboxRequest *request)
{
	g_autoptr(GVariant) events = mrd_upload_events_parse(request->events, NULL);
	GVariantBuilder dict;

	if (events == NULL)
		return;
	g_variant_builder_init(&dict, G_VARIANT_TYPE_VARDICT);
	add_request_common(&dict, request, events);
	g_variant_builder_add(&dict, "{sv}", "state",
			      g_variant_new_string(outbox_state_to_string(request->state)));
	g_variant_builder_add(&dict, "{sv}", "due", g_variant_new_int64(request->due));
	g_variant_builder_add(&dict, "{sv}", "next-try", g_variant_new_int64(request->next_try));
	g_variant_builder_add(&dict, "{sv}", "attempts", g_variant_new_uint32(request->attempts));
	g_variant_builder_add(&dict, "{sv}", "last-status",
			      g_variant_new_uint32(request->last_status));
	g_variant_builder_add(&dict, "{sv}", "last-answer",
			      g_variant_new_string(request->last_answer));
	g_variant_builder_add(builder, "@a{sv}", g_variant_builder_end(&dict));
}

static void
add_sent(GVariantBuilder *builder, const MrdOutboxRequest *request)
{
	g_autoptr(GVariant) body = mrd_upload_body_parse(request->events, NULL);
	g_autoptr(GVariant) events = NULL;
	GVariantBuilder dict;
	gint64 timestamp = 0;

	if (body == NULL)
		return;
	g_variant_get_child(body, 1, "x", &timestamp);
	events = g_variant_get_child_value(body, 6);
	g_variant_builder_init(&dict, G_VARIANT_TYPE_VARDICT);
	add_request_common(&dict, request, events);
	g_variant_builder_add(&dict, "{sv}", "sent", g_variant_new_int64(request->sent));
	g_variant_builder_add(&dict, "{sv}", "status", g_variant_new_uint32(request->last_status));
	g_variant_builder_add(&dict, "{sv}", "answer", g_variant_new_string(request->last_answer));
	g_variant_builder_add(&dict, "{sv}", "checksum", g_variant_new_string(request->checksum));
	g_variant_builder_add(&dict, "{sv}", "size",
			      g_variant_new_uint64(g_bytes_get_size(request->events)));
	g_variant_builder_add(&dict, "{sv}", "compressed-size",
			      g_variant_new_uint64(request->compressed_size));
	g_variant_builder_add(&dict, "{sv}", "timestamp", g_variant_new_int64(timestamp));
	g_variant_builder_add(builder, "@a{sv}", g_variant_builder_end(&dict));
}

/**
 * mrd_reply_requests:
 * @requests: (element-type MrdOutboxRequest): requests of the outbox
 * @sent: whether they are the archive of sent requests
 *
 * Returns: (transfer floating): the reply of GetPendingUploads or
 *   GetSentUploads, aa{sv}
 */
GVariant *
mrd_reply_requests(GPtrArray *requests, gboolean sent)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < requests->len; i++) {
		if (sent)
			add_sent(&builder, g_ptr_array_index(requests, i));
		else
			add_pending(&builder, g_ptr_array_index(requests, i));
	}
	return g_variant_builder_end(&builder);
}
