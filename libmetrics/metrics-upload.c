/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsUpload"

#include "config.h"

#include "metrics-dict-private.h"
#include "metrics-enums.h"
#include "metrics-results-private.h"
#include "metrics-upload.h"

/**
 * MetricsUpload:
 *
 * One request to the collection server: pending, as
 * [method@Client.list_pending_uploads_async] returns them, or sent, as
 * [method@Client.list_sent_uploads_async] returns them. Each property is
 * one key of the daemon's `GetPendingUploads` or `GetSentUploads` reply;
 * the keys of the other kind read as 0 or %NULL. Immutable.
 *
 * Since: 0.2
 */

struct _MetricsUpload {
	GObject parent_instance;
	GVariant *dict; /* (owned) the a{sv} of the daemon's reply */
};

G_DEFINE_TYPE(MetricsUpload, metrics_upload, G_TYPE_OBJECT)

/* the keys of the daemon's reply (data/dbus/org.fedoraproject.Metrics1.xml) */
static const MetricsDictKey keys[] = {
	{"metric", "s", NULL, "Metric"},
	{"week", "s", NULL, "Week"},
	{"state", "s", NULL, "State"},
	{"due", "x", NULL, "Due"},
	{"next-try", "x", NULL, "Next try"},
	{"attempts", "u", NULL, "Attempts"},
	{"last-status", "u", NULL, "Last status"},
	{"last-answer", "s", NULL, "Last answer"},
	{"sent", "x", NULL, "Sent"},
	{"status", "u", NULL, "Status"},
	{"answer", "s", NULL, "Answer"},
	{"checksum", "s", NULL, "Checksum"},
	{"size", "t", NULL, "Size"},
	{"compressed-size", "t", NULL, "Compressed size"},
	{"timestamp", "x", NULL, "Timestamp"},
};

/**
 * MetricsUpload:metric:
 *
 * The metric's id (the allowlist id).
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:week:
 *
 * The ISO week's Monday (UTC), as `YYYY-MM-DD`.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:state:
 *
 * Of a pending request: `pending`, `set-aside` (refused by the server, not
 * retried) or `next` (a week not yet closed); %NULL for a sent one.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:due:
 *
 * When a pending request is due (for `next`: when its week closes), in
 * microseconds since the Unix epoch.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:next-try:
 *
 * When a pending request is tried again, in microseconds since the Unix
 * epoch.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:attempts:
 *
 * How many times a pending request was tried.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:last-status:
 *
 * The server's last HTTP status for a pending request (0: no answer).
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:last-answer:
 *
 * A summary of the server's last answer to a pending request.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:sent:
 *
 * When the server accepted a sent request, in microseconds since the Unix
 * epoch; 0 for a pending one.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:status:
 *
 * The HTTP status with which the server accepted a sent request.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:answer:
 *
 * A summary of the server's answer to a sent request.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:checksum:
 *
 * The SHA-512 of a sent request's uncompressed body.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:size:
 *
 * The bytes of a sent request's body before compression.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:compressed-size:
 *
 * The bytes of a sent request's body after gzip.
 *
 * Since: 0.2
 */
/**
 * MetricsUpload:timestamp:
 *
 * The timestamps of a sent request's body, in nanoseconds since the Unix
 * epoch.
 *
 * Since: 0.2
 */

/* takes @dict, an a{sv} */
MetricsUpload *
metrics_upload_new_from_variant(GVariant *dict)
{
	MetricsUpload *self = g_object_new(METRICS_TYPE_UPLOAD, NULL);

	self->dict = g_variant_take_ref(dict);
	return self;
}

/**
 * metrics_upload_get_variant:
 * @self: a #MetricsUpload
 *
 * Gets the dictionary the daemon sent, of which the properties are a
 * typed view; it may have keys that later versions of the daemon added.
 *
 * Returns: (transfer none): an `a{sv}` [struct@GLib.Variant]
 *
 * Since: 0.2
 */
GVariant *
metrics_upload_get_variant(MetricsUpload *self)
{
	g_return_val_if_fail(METRICS_IS_UPLOAD(self), NULL);
	return self->dict;
}

/**
 * metrics_upload_get_events:
 * @self: a #MetricsUpload
 *
 * Gets exactly the aggregate events the request's body holds (or, for a
 * week not yet closed, would hold).
 *
 * Returns: (transfer container) (element-type MetricsUploadEvent): the events
 *
 * Since: 0.2
 */
GPtrArray *
metrics_upload_get_events(MetricsUpload *self)
{
	g_autoptr(GVariant) events = NULL;
	GPtrArray *result = g_ptr_array_new_with_free_func(g_object_unref);
	gsize n;

	g_return_val_if_fail(METRICS_IS_UPLOAD(self), result);

	events = g_variant_lookup_value(self->dict, "events", G_VARIANT_TYPE("a(sssuav)"));
	if (events == NULL)
		return result;
	n = g_variant_n_children(events);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) event = g_variant_get_child_value(events, i);
		g_ptr_array_add(result, metrics_upload_event_new_from_variant(event));
	}
	return result;
}

static void
metrics_upload_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	MetricsUpload *self = METRICS_UPLOAD(object);

	metrics_dict_get_property(self->dict, keys, G_N_ELEMENTS(keys), prop_id, value);
}

static void
metrics_upload_finalize(GObject *object)
{
	MetricsUpload *self = METRICS_UPLOAD(object);

	g_clear_pointer(&self->dict, g_variant_unref);

	G_OBJECT_CLASS(metrics_upload_parent_class)->finalize(object);
}

static void
metrics_upload_class_init(MetricsUploadClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = metrics_upload_get_property;
	object_class->finalize = metrics_upload_finalize;
	metrics_dict_install_properties(object_class, keys, G_N_ELEMENTS(keys));
}

static void
metrics_upload_init(MetricsUpload *self)
{
}
