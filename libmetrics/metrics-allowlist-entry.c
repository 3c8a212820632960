/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsAllowlistEntry"

#include "config.h"

#include "metrics-allowlist-entry.h"
#include "metrics-dict-private.h"
#include "metrics-enums.h"
#include "metrics-results-private.h"

/**
 * MetricsAllowlistEntry:
 *
 * One metric that the daemon's allowlist approves, as
 * [method@Client.list_metrics_async] returns it: what it records, why,
 * of which kind and type, who may record it and until when. Each property
 * is one key of the daemon's `GetAllowlist` reply. Immutable.
 *
 * Since: 0.2
 */

struct _MetricsAllowlistEntry {
	GObject parent_instance;
	GVariant *dict; /* (owned) the a{sv} of the daemon's reply */
};

G_DEFINE_TYPE(MetricsAllowlistEntry, metrics_allowlist_entry, G_TYPE_OBJECT)

/* the keys of the daemon's reply (data/dbus/org.fedoraproject.Metrics1.xml) */
static const MetricsDictKey keys[] = {
	{"id", "s", NULL, "Id"},
	{"name", "s", NULL, "Name"},
	{"description", "s", NULL, "Description"},
	{"purpose", "s", NULL, "Purpose"},
	{"owner", "s", NULL, "Owner"},
	{"category", "s", NULL, "Category"},
	{"kind", "s", metrics_event_kind_get_type, "Kind"},
	{"payload", "s", NULL, "Payload type"},
	{"values-from", "s", NULL, "Values from"},
	{"n-values", "t", NULL, "Number of values"},
	{"other", "s", NULL, "Other"},
	{"recorders", "as", NULL, "Recorders"},
	{"added", "s", NULL, "Added"},
	{"expires", "s", NULL, "Expires"},
	{"expired", "b", NULL, "Expired"},
	{"sample-rate", "d", NULL, "Sample rate"},
	{"sampled", "b", NULL, "Sampled"},
	{"weekly-cap", "t", NULL, "Weekly cap"},
	{"file", "s", NULL, "File"},
};

/**
 * MetricsAllowlistEntry:id:
 *
 * The metric's id, the UUID apps record, in its textual form.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:name:
 *
 * A short unique name, of `[a-z0-9-]`.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:description:
 *
 * What is recorded, in English, as the allowlist says; its translation is
 * in the project's gettext domain.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:purpose:
 *
 * Why the project needs it, in English.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:owner:
 *
 * Who answers for the metric.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:category:
 *
 * `hardware`, `settings`, `usage`, `performance` or `problems`.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:kind:
 *
 * What the metric measures.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:payload:
 *
 * The GVariant type of the metric's value, or an empty string for none.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:values-from:
 *
 * The named set of allowed values, or %NULL for none.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:n-values:
 *
 * How many values are allowed, if restricted; 0 otherwise.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:other:
 *
 * What happens to a value outside the set: `drop`, or `map` (recorded as
 * `other`); %NULL without a set.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:recorders:
 *
 * Who may record the metric: `system`, `session`, `user:NAME` or `app:APP-
 * ID`.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:added:
 *
 * When the metric was added, as `YYYY-MM-DD`.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:expires:
 *
 * After which day events of it are dropped, as `YYYY-MM-DD`.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:expired:
 *
 * Whether [property@Metrics.AllowlistEntry:expires] has passed.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:sample-rate:
 *
 * The share of installs that record the metric, 0 to 1.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:sampled:
 *
 * Whether this install records the metric. %FALSE too while the decision
 * is not made (it is made when consent is granted): the key is then absent
 * from [method@Metrics.AllowlistEntry.get_variant].
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:weekly-cap:
 *
 * The most events of the metric this install keeps per week.
 *
 * Since: 0.2
 */
/**
 * MetricsAllowlistEntry:file:
 *
 * The allowlist file that defines the metric.
 *
 * Since: 0.2
 */

/* takes @dict, an a{sv} */
MetricsAllowlistEntry *
metrics_allowlist_entry_new_from_variant(GVariant *dict)
{
	MetricsAllowlistEntry *self = g_object_new(METRICS_TYPE_ALLOWLIST_ENTRY, NULL);

	self->dict = g_variant_take_ref(dict);
	return self;
}

/**
 * metrics_allowlist_entry_get_variant:
 * @self: a #MetricsAllowlistEntry
 *
 * Gets the dictionary the daemon sent, of which the properties are a
 * typed view; it may have keys that later versions of the daemon added.
 *
 * Returns: (transfer none): an `a{sv}` [struct@GLib.Variant]
 *
 * Since: 0.2
 */
GVariant *
metrics_allowlist_entry_get_variant(MetricsAllowlistEntry *self)
{
	g_return_val_if_fail(METRICS_IS_ALLOWLIST_ENTRY(self), NULL);
	return self->dict;
}

static void
metrics_allowlist_entry_get_property(GObject *object,
				     guint prop_id,
				     GValue *value,
				     GParamSpec *pspec)
{
	MetricsAllowlistEntry *self = METRICS_ALLOWLIST_ENTRY(object);

	metrics_dict_get_property(self->dict, keys, G_N_ELEMENTS(keys), prop_id, value);
}

static void
metrics_allowlist_entry_finalize(GObject *object)
{
	MetricsAllowlistEntry *self = METRICS_ALLOWLIST_ENTRY(object);

	g_clear_pointer(&self->dict, g_variant_unref);

	G_OBJECT_CLASS(metrics_allowlist_entry_parent_class)->finalize(object);
}

static void
metrics_allowlist_entry_class_init(MetricsAllowlistEntryClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = metrics_allowlist_entry_get_property;
	object_class->finalize = metrics_allowlist_entry_finalize;
	metrics_dict_install_properties(object_class, keys, G_N_ELEMENTS(keys));
}

static void
metrics_allowlist_entry_init(MetricsAllowlistEntry *self)
{
}
