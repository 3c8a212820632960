/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsAggregate"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "metrics-aggregate.h"
#include "metrics-error.h"
#include "metrics-private.h"

struct _MetricsAggregate {
	gatomicrefcount ref_count;
	guint32 uid;
	char *event_id; /* (owned) */
	char *week;	/* (owned) */
	MetricsEventKind kind;
	GVariant *payload; /* (owned) (nullable) */
	guint64 count;
	guint64 duration;
};

G_DEFINE_BOXED_TYPE(MetricsAggregate,
		    metrics_aggregate,
		    metrics_aggregate_ref,
		    metrics_aggregate_unref)

/**
 * metrics_aggregate_ref:
 * @self: an aggregate
 *
 * Adds a reference to @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
MetricsAggregate *
metrics_aggregate_ref(MetricsAggregate *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_ref_count_inc(&self->ref_count);
	return self;
}

/**
 * metrics_aggregate_unref:
 * @self: (transfer full): an aggregate
 *
 * Drops a reference to @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
metrics_aggregate_unref(MetricsAggregate *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_ref_count_dec(&self->ref_count))
		return;
	g_free(self->event_id);
	g_free(self->week);
	g_clear_pointer(&self->payload, g_variant_unref);
	g_free(self);
}

/**
 * metrics_aggregate_deserialize:
 * @variant: a `(ussuavtt)` tuple as returned by the daemon's `GetLocalData`
 * @error: return location for an error
 *
 * Builds an aggregate from its form on the bus, checking every field.
 *
 * Returns: (transfer full): a new aggregate, or %NULL with
 *   [error@Metrics.Error.INVALID_DATA] set
 *
 * Since: 0.1
 */
MetricsAggregate *
metrics_aggregate_deserialize(GVariant *variant, GError **error)
{
	g_autoptr(MetricsAggregate) self = NULL;
	g_autoptr(GVariant) payloads = NULL;
	const char *event_id = NULL;
	const char *week = NULL;
	guint32 kind = 0;

	g_return_val_if_fail(variant != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!g_variant_is_of_type(variant, G_VARIANT_TYPE(METRICS_WIRE_AGGREGATE))) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Expected an aggregate of type %s but got %s"),
			    METRICS_WIRE_AGGREGATE, g_variant_get_type_string(variant));
		return NULL;
	}
	self = g_new0(MetricsAggregate, 1);
	g_atomic_ref_count_init(&self->ref_count);
	g_variant_get(variant, "(u&s&su@avtt)", &self->uid, &event_id, &week, &kind, &payloads,
		      &self->count, &self->duration);
	if (!metrics_event_id_is_valid(event_id) || kind > METRICS_EVENT_KIND_DURATION ||
	    g_variant_n_children(payloads) > 1) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Invalid aggregate for event “%s”"), event_id);
		return NULL;
	}
	self->event_id = g_strdup(event_id);
	self->week = g_strdup(week);
	self->kind = (MetricsEventKind)kind;
	if (g_variant_n_children(payloads) == 1) {
		g_autoptr(GVariant) boxed = g_variant_get_child_value(payloads, 0);
		self->payload = g_variant_get_variant(boxed);
	}
	return g_steal_pointer(&self);
}

/**
 * metrics_aggregate_get_uid:
 * @self: an aggregate
 *
 * Gets the local user who recorded these events. It is never uploaded.
 *
 * Returns: a user id
 *
 * Since: 0.1
 */
guint32
metrics_aggregate_get_uid(MetricsAggregate *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->uid;
}

/**
 * metrics_aggregate_get_event_id:
 * @self: an aggregate
 *
 * Gets the metric's id.
 *
 * Returns: (transfer none): a UUID string
 *
 * Since: 0.1
 */
const char *
metrics_aggregate_get_event_id(MetricsAggregate *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->event_id;
}

/**
 * metrics_aggregate_get_week:
 * @self: an aggregate
 *
 * Gets the ISO week the events fell in, as its Monday (UTC) in the form
 * `YYYY-MM-DD`.
 *
 * Returns: (transfer none): a date string
 *
 * Since: 0.1
 */
const char *
metrics_aggregate_get_week(MetricsAggregate *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->week;
}

/**
 * metrics_aggregate_get_kind:
 * @self: an aggregate
 *
 * Gets what the events measured.
 *
 * Returns: the kind
 *
 * Since: 0.1
 */
MetricsEventKind
metrics_aggregate_get_kind(MetricsAggregate *self)
{
	g_return_val_if_fail(self != NULL, METRICS_EVENT_KIND_VALUE);
	return self->kind;
}

/**
 * metrics_aggregate_get_payload:
 * @self: an aggregate
 *
 * Gets the value the events were recorded with.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if the metric has none
 *
 * Since: 0.1
 */
GVariant *
metrics_aggregate_get_payload(MetricsAggregate *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->payload;
}

/**
 * metrics_aggregate_get_count:
 * @self: an aggregate
 *
 * Gets how many events (for counters: the sum of the increments) are
 * aggregated here.
 *
 * Returns: a count
 *
 * Since: 0.1
 */
guint64
metrics_aggregate_get_count(MetricsAggregate *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->count;
}

/**
 * metrics_aggregate_get_duration:
 * @self: an aggregate
 *
 * Gets the summed duration of duration events, in microseconds; 0 for other
 * kinds.
 *
 * Returns: microseconds
 *
 * Since: 0.1
 */
guint64
metrics_aggregate_get_duration(MetricsAggregate *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->duration;
}
