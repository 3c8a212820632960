/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdDrops"

#include "config.h"

#include <string.h>

#include "mrd-drops.h"

/* in the order of MrdDropReason */
static const char *const reason_names[MRD_N_DROP_REASONS] = {
	[MRD_DROP_NONE] = "none",
	[MRD_DROP_NOT_ALLOWLISTED] = "not-allowlisted",
	[MRD_DROP_EXPIRED] = "expired",
	[MRD_DROP_WRONG_KIND] = "wrong-kind",
	[MRD_DROP_WRONG_TYPE] = "wrong-type",
	[MRD_DROP_VALUE_NOT_ALLOWED] = "value-not-allowed",
	[MRD_DROP_NOT_A_RECORDER] = "not-a-recorder",
	[MRD_DROP_RATE_LIMITED] = "rate-limited",
	[MRD_DROP_NOT_SAMPLED] = "not-sampled",
	[MRD_DROP_OVER_CAP] = "over-cap",
	[MRD_DROP_NO_CONSENT] = "no-consent",
	[MRD_DROP_USER_OPTED_OUT] = "user-opted-out",
	[MRD_DROP_CATEGORY_OFF] = "category-off",
	[MRD_DROP_MALFORMED_CALLS] = "malformed-calls",
	[MRD_DROP_RATE_LIMITED_CALLS] = "rate-limited-calls",
	[MRD_DROP_FLOODED_MESSAGES] = "flooded-messages",
	[MRD_DROP_UNIDENTIFIED] = "unidentified",
	[MRD_DROP_STORE_FULL] = "store-full",
	[MRD_DROP_STORE_FAILED] = "store-failed",
	[MRD_DROP_RETENTION] = "retention",
	[MRD_DROP_EOS_UNMAPPED] = "eos-unmapped",
};

/**
 * mrd_drop_reason_to_string:
 * @reason: a drop reason
 *
 * Returns: the reason's key in the `drops` dictionary of GetStatus
 */
const char *
mrd_drop_reason_to_string(MrdDropReason reason)
{
	if ((guint)reason >= MRD_N_DROP_REASONS)
		return "unknown";
	return reason_names[reason];
}

/**
 * mrd_drop_reason_from_string:
 * @str: a key of the `drops` dictionary, as the store keeps it
 * @reason: (out): its reason
 *
 * Returns: whether @str names a reason
 */
gboolean
mrd_drop_reason_from_string(const char *str, MrdDropReason *reason)
{
	for (guint i = 0; i < MRD_N_DROP_REASONS; i++) {
		if (g_strcmp0(reason_names[i], str) == 0) {
			*reason = (MrdDropReason)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* ---- the counters ---- */

/* distinct (reason, metric) counters kept; beyond, "others" */
#define MAX_METRIC_KEYS 1024
#define METRIC_KEY_OTHERS "others"
/* a burst of drops is saved in one write, this long after the first */
#define SAVE_DELAY_SECONDS 1

typedef struct {
	guint64 count;
	gint64 logged_day; /* monotonic day of the last log line, 0: never */
} MetricCount;

struct _MrdDrops {
	GObject parent_instance;

	guint64 totals[MRD_N_DROP_REASONS];  /* since start, plus the store's */
	guint64 unsaved[MRD_N_DROP_REASONS]; /* counted with a store, not yet in it */
	MrdStore *store;		     /* (owned) (nullable) set while consent is granted */
	guint save_id;
	GHashTable *by_metric; /* (owned) "reason\tid" → (owned) MetricCount */
};

G_DEFINE_TYPE(MrdDrops, mrd_drops, G_TYPE_OBJECT)

MrdDrops *
mrd_drops_new(void)
{
	return g_object_new(MRD_TYPE_DROPS, NULL);
}

static gboolean
save_cb(gpointer user_data)
{
	MrdDrops *self = user_data;

	self->save_id = 0;
	mrd_drops_save(self);
	return G_SOURCE_REMOVE;
}

/**
 * mrd_drops_count:
 * @reason: why
 * @n: how many events (or calls, for the _CALLS reasons)
 *
 * Counts a drop. Only while a store is set (that is, with consent) is
 * anything written, and then only a count per reason, a second later.
 */
void
mrd_drops_count(MrdDrops *self, MrdDropReason reason, guint64 n)
{
	g_return_if_fail(MRD_IS_DROPS(self));
	g_return_if_fail((guint)reason < MRD_N_DROP_REASONS);

	if (n == 0)
		return;
	self->totals[reason] += n;
	if (self->store == NULL)
		return;
	self->unsaved[reason] += n;
	if (self->save_id == 0)
		self->save_id = g_timeout_add_seconds(SAVE_DELAY_SECONDS, save_cb, self);
}

/**
 * mrd_drops_count_metric:
 * @reason: why
 * @id: the event's metric id
 * @name: (nullable): the metric's name, if it is allowlisted
 *
 * Counts one dropped event by reason and by metric, and logs one line per
 * (reason, metric) and day, not per event. A client sending random ids
 * cannot grow the table without end: past a limit, new ids are counted
 * together as "others".
 */
void
mrd_drops_count_metric(MrdDrops *self,
		       MrdDropReason reason,
		       const guint8 id[METRICS_UUID_SIZE],
		       const char *name)
{
	char id_str[METRICS_UUID_STRING_LENGTH + 1];
	g_autofree char *key = NULL;
	MetricCount *entry;
	gint64 day = g_get_monotonic_time() / G_TIME_SPAN_DAY + 1;
	const char *reason_str = mrd_drop_reason_to_string(reason);

	mrd_drops_count(self, reason, 1);
	metrics_uuid_unparse(id, id_str);
	key = g_strdup_printf("%s\t%s", reason_str, id_str);
	entry = g_hash_table_lookup(self->by_metric, key);
	if (entry == NULL && g_hash_table_size(self->by_metric) >= MAX_METRIC_KEYS) {
		g_free(key);
		key = g_strdup_printf("%s\t%s", reason_str, METRIC_KEY_OTHERS);
		entry = g_hash_table_lookup(self->by_metric, key);
	}
	if (entry == NULL) {
		entry = g_new0(MetricCount, 1);
		g_hash_table_insert(self->by_metric, g_strdup(key), entry);
	}
	entry->count++;
	if (entry->logged_day != day) {
		g_message("dropping events of metric %s (%s): %s; logged once a day", id_str,
			  name != NULL ? name : "not allowlisted", reason_str);
		entry->logged_day = day;
	}
}

/* adds the counters @store kept from earlier runs to this run's */
static void
load_saved(MrdDrops *self, MrdStore *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) saved = mrd_store_get_drops(store, &error);
	GVariantIter iter;
	const char *reason_str;
	guint64 n;

	if (saved == NULL) {
		g_warning("cannot read the saved drop counters: %s", error->message);
		return;
	}
	g_variant_iter_init(&iter, saved);
	while (g_variant_iter_next(&iter, "{&st}", &reason_str, &n)) {
		MrdDropReason reason;

		if (mrd_drop_reason_from_string(reason_str, &reason))
			self->totals[reason] += n;
		else
			g_debug("ignoring the saved counter of an unknown drop reason %s",
				reason_str);
	}
}

/**
 * mrd_drops_set_store:
 * @store: (nullable): the store, open while consent is granted, or %NULL
 * @load: whether to add the counters @store kept to the totals first
 *
 * Where the counters are kept across restarts. With %NULL (consent
 * withdrawn), what was not saved yet is forgotten: the counters go with
 * the store.
 */
void
mrd_drops_set_store(MrdDrops *self, MrdStore *store, gboolean load)
{
	g_return_if_fail(MRD_IS_DROPS(self));

	if (store == self->store)
		return;
	g_clear_handle_id(&self->save_id, g_source_remove);
	if (store == NULL)
		memset(self->unsaved, 0, sizeof(self->unsaved));
	g_set_object(&self->store, store);
	if (store != NULL && load)
		load_saved(self, store);
	mrd_drops_save(self);
}

/**
 * mrd_drops_save:
 *
 * Adds the drops counted since the last save to the store's counters;
 * they are kept for the next try if the store cannot take them.
 */
void
mrd_drops_save(MrdDrops *self)
{
	g_autoptr(GHashTable) counts = NULL;
	g_autoptr(GError) error = NULL;

	g_return_if_fail(MRD_IS_DROPS(self));

	g_clear_handle_id(&self->save_id, g_source_remove);
	if (self->store == NULL)
		return;
	counts = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < MRD_N_DROP_REASONS; i++) {
		if (self->unsaved[i] > 0)
			g_hash_table_insert(counts, (gpointer)mrd_drop_reason_to_string(i),
					    &self->unsaved[i]);
	}
	if (g_hash_table_size(counts) == 0)
		return;
	if (!mrd_store_add_drops(self->store, counts, &error)) {
		g_debug("drop counters not saved yet: %s", error->message);
		return;
	}
	memset(self->unsaved, 0, sizeof(self->unsaved));
}

/**
 * mrd_drops_get:
 * @reason: a reason
 *
 * Returns: how many were dropped for @reason
 */
guint64
mrd_drops_get(MrdDrops *self, MrdDropReason reason)
{
	g_return_val_if_fail(MRD_IS_DROPS(self), 0);
	g_return_val_if_fail((guint)reason < MRD_N_DROP_REASONS, 0);
	return self->totals[reason];
}

/**
 * mrd_drops_to_variant:
 *
 * Returns: (transfer floating): the totals as GetStatus `drops`, a{st},
 *   with the reasons counted at least once
 */
GVariant *
mrd_drops_to_variant(MrdDrops *self)
{
	GVariantBuilder builder;

	g_return_val_if_fail(MRD_IS_DROPS(self), NULL);

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{st}"));
	for (guint i = 0; i < MRD_N_DROP_REASONS; i++) {
		if (self->totals[i] > 0)
			g_variant_builder_add(&builder, "{st}", mrd_drop_reason_to_string(i),
					      self->totals[i]);
	}
	return g_variant_builder_end(&builder);
}

/**
 * mrd_drops_by_metric_to_variant:
 *
 * Returns: (transfer floating): the counters by metric as GetStatus
 *   `drops-by-metric`, a(sst) of (reason, metric id or "others", count)
 */
GVariant *
mrd_drops_by_metric_to_variant(MrdDrops *self)
{
	GVariantBuilder builder;
	GHashTableIter iter;
	gpointer key, value;

	g_return_val_if_fail(MRD_IS_DROPS(self), NULL);

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(sst)"));
	g_hash_table_iter_init(&iter, self->by_metric);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_auto(GStrv) parts = g_strsplit(key, "\t", 2);

		g_variant_builder_add(&builder, "(sst)", parts[0], parts[1],
				      ((MetricCount *)value)->count);
	}
	return g_variant_builder_end(&builder);
}

static void
mrd_drops_dispose(GObject *object)
{
	MrdDrops *self = MRD_DROPS(object);

	g_clear_handle_id(&self->save_id, g_source_remove);
	g_clear_object(&self->store);
	G_OBJECT_CLASS(mrd_drops_parent_class)->dispose(object);
}

static void
mrd_drops_finalize(GObject *object)
{
	MrdDrops *self = MRD_DROPS(object);

	g_clear_pointer(&self->by_metric, g_hash_table_unref);
	G_OBJECT_CLASS(mrd_drops_parent_class)->finalize(object);
}

static void
mrd_drops_class_init(MrdDropsClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_drops_dispose;
	object_class->finalize = mrd_drops_finalize;
}

static void
mrd_drops_init(MrdDrops *self)
{
	self->by_metric = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}
