/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsUploadEvent"

#include "config.h"

#include "metrics-results-private.h"

/**
 * MetricsUploadEvent:
 *
 * One aggregate event of a request to the collection server, exactly as
 * the request's body holds it (see [method@Upload.get_events]): nothing in
 * it names the user or the machine. Immutable.
 *
 * Since: 0.2
 */

struct _MetricsUploadEvent {
	GObject parent_instance;
	char *event_id;	    /* (owned) */
	char *os_version;   /* (owned) */
	char *period_start; /* (owned) */
	guint count;
	GVariant *payload; /* (owned) (nullable) */
};

G_DEFINE_TYPE(MetricsUploadEvent, metrics_upload_event, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_EVENT_ID,
	PROP_OS_VERSION,
	PROP_PERIOD_START,
	PROP_COUNT,
	PROP_PAYLOAD,
	N_PROPS
};
static GParamSpec *props[N_PROPS] = {NULL};

/* @event: an (sssuav) of the daemon's reply */
MetricsUploadEvent *
metrics_upload_event_new_from_variant(GVariant *event)
{
	MetricsUploadEvent *self = g_object_new(METRICS_TYPE_UPLOAD_EVENT, NULL);
	g_autoptr(GVariant) payloads = NULL;
	guint32 count = 0;

	g_variant_get(event, "(sssu@av)", &self->event_id, &self->os_version, &self->period_start,
		      &count, &payloads);
	self->count = count;
	if (g_variant_n_children(payloads) > 0) {
		g_autoptr(GVariant) boxed = g_variant_get_child_value(payloads, 0);
		self->payload = g_variant_get_variant(boxed);
	}
	return self;
}

static void
metrics_upload_event_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	MetricsUploadEvent *self = METRICS_UPLOAD_EVENT(object);

	switch (prop_id) {
	case PROP_EVENT_ID:
		g_value_set_string(value, self->event_id);
		break;
	case PROP_OS_VERSION:
		g_value_set_string(value, self->os_version);
		break;
	case PROP_PERIOD_START:
		g_value_set_string(value, self->period_start);
		break;
	case PROP_COUNT:
		g_value_set_uint(value, self->count);
		break;
	case PROP_PAYLOAD:
		g_value_set_variant(value, self->payload);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
metrics_upload_event_finalize(GObject *object)
{
	MetricsUploadEvent *self = METRICS_UPLOAD_EVENT(object);

	g_free(self->event_id);
	g_free(self->os_version);
	g_free(self->period_start);
	g_clear_pointer(&self->payload, g_variant_unref);

	G_OBJECT_CLASS(metrics_upload_event_parent_class)->finalize(object);
}

static void
metrics_upload_event_class_init(MetricsUploadEventClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

	object_class->get_property = metrics_upload_event_get_property;
	object_class->finalize = metrics_upload_event_finalize;

	/**
	 * MetricsUploadEvent:event-id:
	 *
	 * The id the server knows the metric by: the weekly id derived from
	 * the allowlist id, as a textual UUID.
	 *
	 * Since: 0.2
	 */
	props[PROP_EVENT_ID] = g_param_spec_string("event-id", "Event id", NULL, NULL, flags);
	/**
	 * MetricsUploadEvent:os-version:
	 *
	 * The operating system's version (`VERSION_ID` of os-release).
	 *
	 * Since: 0.2
	 */
	props[PROP_OS_VERSION] = g_param_spec_string("os-version", "OS version", NULL, NULL, flags);
	/**
	 * MetricsUploadEvent:period-start:
	 *
	 * The first day of the aggregated week, the ISO week's Monday.
	 *
	 * Since: 0.2
	 */
	props[PROP_PERIOD_START] =
		g_param_spec_string("period-start", "Period start", NULL, NULL, flags);
	/**
	 * MetricsUploadEvent:count:
	 *
	 * How many events of the week the aggregate sums up.
	 *
	 * Since: 0.2
	 */
	props[PROP_COUNT] = g_param_spec_uint("count", "Count", NULL, 0, G_MAXUINT32, 0, flags);
	/**
	 * MetricsUploadEvent:payload:
	 *
	 * The value the events were recorded with, or %NULL for a metric
	 * without one.
	 *
	 * Since: 0.2
	 */
	props[PROP_PAYLOAD] =
		g_param_spec_variant("payload", "Payload", NULL, G_VARIANT_TYPE_ANY, NULL, flags);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
metrics_upload_event_init(MetricsUploadEvent *self)
{
}
