/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsStatus"

#include "config.h"

#include "metrics-dict-private.h"
#include "metrics-enums.h"
#include "metrics-results-private.h"
#include "metrics-status.h"

/**
 * MetricsStatus:
 *
 * The state of the recorder daemon, as [method@Client.query_status_async]
 * returns it: the consent, what is stored and, for authorised callers,
 * the drops and the uploads. Each property is one key of the daemon's
 * `GetStatus` reply; a key the daemon did not send reads as 0, %FALSE or
 * %NULL. Immutable.
 *
 * In C, read the properties with g_object_get(); in Python with
 * `status.props.stored_keys`; in GJS with `status.stored_keys` (or
 * `status['stored-keys']`).
 *
 * Since: 0.2
 */

struct _MetricsStatus {
	GObject parent_instance;
	GVariant *dict; /* (owned) the a{sv} of the daemon's reply */
};

G_DEFINE_TYPE(MetricsStatus, metrics_status, G_TYPE_OBJECT)

/* the keys of the daemon's reply (data/dbus/org.fedoraproject.Metrics1.xml) */
static const MetricsDictKey keys[] = {
	{"all-users", "b", NULL, "All users"},
	{"consent", "s", metrics_consent_get_type, "Consent"},
	{"consent-timestamp", "x", NULL, "Consent timestamp"},
	{"stored-keys", "t", NULL, "Stored keys"},
	{"stored-events", "t", NULL, "Stored events"},
	{"stored-bytes", "t", NULL, "Stored bytes"},
	{"stored-weeks", "t", NULL, "Stored weeks"},
	{"store-used-bytes", "t", NULL, "Store used bytes"},
	{"store-max-bytes", "t", NULL, "Store maximum bytes"},
	{"store-full", "b", NULL, "Store full"},
	{"accepted", "t", NULL, "Accepted"},
	{"allowlisted-metrics", "u", NULL, "Allowlisted metrics"},
	{"clients", "u", NULL, "Clients"},
	{"pending-uploads", "t", NULL, "Pending uploads"},
	{"set-aside", "t", NULL, "Set aside"},
	{"next-upload", "x", NULL, "Next upload"},
	{"last-upload", "x", NULL, "Last upload"},
	{"server-url", "s", NULL, "Server URL"},
	{"next-week-close", "x", NULL, "Next week close"},
	{"upload-window-days", "u", NULL, "Upload window"},
};

/**
 * MetricsStatus:all-users:
 *
 * Whether the figures are every user's, as asked with
 * [flags@Metrics.ClientFlags.ALL_USERS]. Without it, the figures about
 * other users and about the whole machine (the store's size, drops,
 * clients, uploads) are not sent and read as 0.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:consent:
 *
 * The consent state, as [property@Metrics.Recorder:consent].
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:consent-timestamp:
 *
 * When the consent state last changed, in microseconds since the Unix
 * epoch; 0 if it never changed.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:stored-keys:
 *
 * How many aggregates are stored (the caller's, or everybody's).
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:stored-events:
 *
 * How many events the stored aggregates sum up.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:stored-bytes:
 *
 * The size of the store on disk, in bytes; only with
 * [property@Metrics.Status:all-users].
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:stored-weeks:
 *
 * How many distinct weeks the stored aggregates span.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:store-used-bytes:
 *
 * The bytes of the store's pages in use, which the cap counts; only with
 * [property@Metrics.Status:all-users].
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:store-max-bytes:
 *
 * The cap on the store's size, in bytes; events past it are dropped.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:store-full:
 *
 * Whether the store is at its cap, where new events are dropped.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:accepted:
 *
 * How many events (the caller's, or everybody's) the daemon accepted since
 * it started.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:allowlisted-metrics:
 *
 * How many metrics the allowlist approves.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:clients:
 *
 * How many bus connections the daemon keeps per-client state for; only
 * with [property@Metrics.Status:all-users].
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:pending-uploads:
 *
 * How many requests wait in the outbox; only with
 * [property@Metrics.Status:all-users].
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:set-aside:
 *
 * How many requests the server refused for good; only with
 * [property@Metrics.Status:all-users].
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:next-upload:
 *
 * When the next request is due, in microseconds since the Unix epoch; 0 if
 * none is pending (or without [property@Metrics.Status:all-users]).
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:last-upload:
 *
 * When the server last accepted a request, in microseconds since the Unix
 * epoch; 0 if never (or without [property@Metrics.Status:all-users]).
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:server-url:
 *
 * Where uploads go.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:next-week-close:
 *
 * When the oldest stored week closes and its aggregates move to the
 * outbox, in microseconds since the Unix epoch; 0 if nothing is stored.
 *
 * Since: 0.2
 */
/**
 * MetricsStatus:upload-window-days:
 *
 * How many days after a week closes its request may be sent, at a random
 * moment.
 *
 * Since: 0.2
 */

/* takes @dict, an a{sv} */
MetricsStatus *
metrics_status_new_from_variant(GVariant *dict)
{
	MetricsStatus *self = g_object_new(METRICS_TYPE_STATUS, NULL);

	self->dict = g_variant_take_ref(dict);
	return self;
}

/**
 * metrics_status_get_variant:
 * @self: a #MetricsStatus
 *
 * Gets the dictionary the daemon sent, of which the properties are a
 * typed view; it may have keys that later versions of the daemon added.
 *
 * Returns: (transfer none): an `a{sv}` [struct@GLib.Variant]
 *
 * Since: 0.2
 */
GVariant *
metrics_status_get_variant(MetricsStatus *self)
{
	g_return_val_if_fail(METRICS_IS_STATUS(self), NULL);
	return self->dict;
}

/**
 * metrics_status_get_drops:
 * @self: a #MetricsStatus
 *
 * Gets how many events the daemon dropped, by reason (`no-consent`,
 * `not-allowlisted`, `wrong-type`, `store-full`, …; the daemon's `GetStatus`
 * method lists them). Only with [property@Metrics.Status:all-users]: the
 * drops are not counted per user.
 *
 * Returns: (transfer container) (element-type MetricsDropCount): one entry
 *   per reason, without a metric id; empty without
 *   [property@Metrics.Status:all-users]
 *
 * Since: 0.2
 */
GPtrArray *
metrics_status_get_drops(MetricsStatus *self)
{
	g_autoptr(GVariant) drops = NULL;
	GPtrArray *result = g_ptr_array_new_with_free_func(g_object_unref);
	GVariantIter iter;
	const char *reason;
	guint64 count;

	g_return_val_if_fail(METRICS_IS_STATUS(self), result);

	drops = g_variant_lookup_value(self->dict, "drops", G_VARIANT_TYPE("a{st}"));
	if (drops == NULL)
		return result;
	g_variant_iter_init(&iter, drops);
	while (g_variant_iter_next(&iter, "{&st}", &reason, &count))
		g_ptr_array_add(result, metrics_drop_count_new(reason, NULL, count));
	return result;
}

/**
 * metrics_status_get_drops_by_metric:
 * @self: a #MetricsStatus
 *
 * Gets the drops of the allowlist gate by reason and metric, such as the
 * events of an id that is not in the allowlist. The metric id is `others`
 * for the metrics past the daemon's limit of entries. Only with
 * [property@Metrics.Status:all-users].
 *
 * Returns: (transfer container) (element-type MetricsDropCount): one entry
 *   per reason and metric; empty without [property@Metrics.Status:all-users]
 *
 * Since: 0.2
 */
GPtrArray *
metrics_status_get_drops_by_metric(MetricsStatus *self)
{
	g_autoptr(GVariant) drops = NULL;
	GPtrArray *result = g_ptr_array_new_with_free_func(g_object_unref);
	GVariantIter iter;
	const char *reason, *metric_id;
	guint64 count;

	g_return_val_if_fail(METRICS_IS_STATUS(self), result);

	drops = g_variant_lookup_value(self->dict, "drops-by-metric", G_VARIANT_TYPE("a(sst)"));
	if (drops == NULL)
		return result;
	g_variant_iter_init(&iter, drops);
	while (g_variant_iter_next(&iter, "(&s&st)", &reason, &metric_id, &count))
		g_ptr_array_add(result, metrics_drop_count_new(reason, metric_id, count));
	return result;
}

static void
metrics_status_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	MetricsStatus *self = METRICS_STATUS(object);

	metrics_dict_get_property(self->dict, keys, G_N_ELEMENTS(keys), prop_id, value);
}

static void
metrics_status_finalize(GObject *object)
{
	MetricsStatus *self = METRICS_STATUS(object);

	g_clear_pointer(&self->dict, g_variant_unref);

	G_OBJECT_CLASS(metrics_status_parent_class)->finalize(object);
}

static void
metrics_status_class_init(MetricsStatusClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = metrics_status_get_property;
	object_class->finalize = metrics_status_finalize;
	metrics_dict_install_properties(object_class, keys, G_N_ELEMENTS(keys));
}

static void
metrics_status_init(MetricsStatus *self)
{
}
