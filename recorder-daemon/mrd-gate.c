/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdGate"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/random.h>

#include "mrd-gate.h"
#include "mrd-shred.h"

/*
 * The gate: the only way from a received batch to the aggregator. An event
 * passes if the allowlist approves it (known id, not expired, kind, payload
 * type and value), its sender is one of the metric's recorders (by the uid
 * the bus tells, known before the gate), within its event rate, this install
 * samples its metric, and its metric's weekly cap is not reached. The
 * allowlist comes first, so that every event is counted per metric, also
 * what a flooding client loses.
 */

/* ---- weekly caps ---- */

typedef struct {
	guint8 id[METRICS_UUID_SIZE];
	guint64 count;
} CapEntry;

struct _MrdCapTable {
	GHashTable *counts; /* (owned) 16-byte id → (owned) CapEntry, for @week */
	gint64 week;
};

MrdCapTable *
mrd_cap_table_new(void)
{
	MrdCapTable *self = g_new0(MrdCapTable, 1);

	self->counts = g_hash_table_new_full(mrd_uuid_hash, mrd_uuid_equal, NULL, g_free);
	self->week = G_MININT64;
	return self;
}

void
mrd_cap_table_free(MrdCapTable *self)
{
	g_hash_table_unref(self->counts);
	g_free(self);
}

/* forgets every count (for example when the store was deleted) */
void
mrd_cap_table_reset(MrdCapTable *self)
{
	g_hash_table_remove_all(self->counts);
	self->week = G_MININT64;
}

/* the week counted, G_MININT64 before any */
gint64
mrd_cap_table_get_week(MrdCapTable *self)
{
	return self->week;
}

/* starts counting @week from zero; seed it with what is stored */
void
mrd_cap_table_start_week(MrdCapTable *self, gint64 week)
{
	g_hash_table_remove_all(self->counts);
	self->week = week;
}

static CapEntry *
lookup_entry(MrdCapTable *self, const guint8 id[METRICS_UUID_SIZE])
{
	CapEntry *entry = g_hash_table_lookup(self->counts, id);

	if (entry == NULL) {
		entry = g_new0(CapEntry, 1);
		memcpy(entry->id, id, METRICS_UUID_SIZE);
		g_hash_table_insert(self->counts, entry->id, entry);
	}
	return entry;
}

/* adds @count events of metric @id already accepted in the current week */
void
mrd_cap_table_seed(MrdCapTable *self, const guint8 id[METRICS_UUID_SIZE], guint64 count)
{
	lookup_entry(self, id)->count += count;
}

/* counts @amount for @metric in @week unless that would exceed its cap;
 * another week than the current one starts from zero */
gboolean
mrd_cap_table_take(MrdCapTable *self, const MrdMetric *metric, gint64 week, guint64 amount)
{
	CapEntry *entry;

	if (week != self->week)
		mrd_cap_table_start_week(self, week);
	entry = lookup_entry(self, metric->id);
	if (amount > metric->weekly_cap || entry->count > metric->weekly_cap - amount)
		return FALSE;
	entry->count += amount;
	return TRUE;
}

/* ---- the sampling secret ---- */

#define SAMPLING_SECRET_SIZE 32

/**
 * mrd_sampling_secret_load:
 * @path: the secret's file, in the state directory
 *
 * Reads the install's sampling secret, or makes a new one from the
 * system's random source and saves it (mode 0600).
 *
 * Returns: (transfer full) (nullable): the secret, or %NULL with @error
 */
GBytes *
mrd_sampling_secret_load(const char *path, GError **error)
{
	g_autofree char *contents = NULL;
	gsize length = 0;
	guint8 secret[SAMPLING_SECRET_SIZE];

	if (g_file_get_contents(path, &contents, &length, NULL) && length == SAMPLING_SECRET_SIZE)
		return g_bytes_new_take(g_steal_pointer(&contents), length);
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		int saved_errno = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
			    "cannot make a sampling secret: %s", g_strerror(saved_errno));
		return NULL;
	}
	if (!g_file_set_contents_full(path, (const char *)secret, sizeof(secret),
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
		g_prefix_error(error, "cannot save the sampling secret: ");
		return NULL;
	}
	return g_bytes_new(secret, sizeof(secret));
}

/* deletes the secret's file, if there is one: overwritten with zeros in
 * place first, so that neither its freed blocks nor a hard link to it keep
 * the secret */
gboolean
mrd_sampling_secret_delete(const char *path, GError **error)
{
	return mrd_shred_file(path, error);
}

/* ---- the gate ---- */

struct _MrdGate {
	GObject parent_instance;

	MrdCallerRegistry *callers; /* (owned) */
	MrdDrops *drops;	    /* (owned) */
	MrdAllowlist *allowlist;    /* (owned) */
	GBytes *secret;		    /* (owned) (nullable) exists only with consent */
	GHashTable *sampled;	    /* (owned) metric → decision, for this secret */
	MrdCapTable *caps;	    /* (owned) */
};

G_DEFINE_TYPE(MrdGate, mrd_gate, G_TYPE_OBJECT)

MrdGate *
mrd_gate_new(MrdCallerRegistry *callers, MrdDrops *drops)
{
	MrdGate *self = g_object_new(MRD_TYPE_GATE, NULL);

	self->callers = g_object_ref(callers);
	self->drops = g_object_ref(drops);
	return self;
}

/* the allowlist to check events against, as loaded last */
void
mrd_gate_set_allowlist(MrdGate *self, MrdAllowlist *allowlist)
{
	g_return_if_fail(MRD_IS_GATE(self));
	g_return_if_fail(MRD_IS_ALLOWLIST(allowlist));

	g_hash_table_remove_all(self->sampled);
	g_set_object(&self->allowlist, allowlist);
}

MrdAllowlist *
mrd_gate_get_allowlist(MrdGate *self)
{
	g_return_val_if_fail(MRD_IS_GATE(self), NULL);
	return self->allowlist;
}

/* the install's sampling secret; %NULL when consent is not granted, which
 * also forgets the weekly counts */
void
mrd_gate_set_secret(MrdGate *self, GBytes *secret)
{
	g_return_if_fail(MRD_IS_GATE(self));

	g_hash_table_remove_all(self->sampled);
	if (secret == NULL)
		mrd_cap_table_reset(self->caps);
	if (secret != NULL)
		g_bytes_ref(secret);
	g_clear_pointer(&self->secret, g_bytes_unref);
	self->secret = secret;
}

static gboolean
is_sampled(MrdGate *self, const MrdMetric *metric)
{
	gpointer cached = g_hash_table_lookup(self->sampled, metric->id);

	if (cached == NULL) {
		cached = GINT_TO_POINTER(mrd_metric_is_sampled(metric, self->secret) ? 2 : 1);
		g_hash_table_insert(self->sampled, (gpointer)metric->id, cached);
	}
	return GPOINTER_TO_INT(cached) == 2;
}

/**
 * mrd_gate_get_sampling:
 * @metric: an allowlisted metric
 * @sampled: (out): whether this install records it
 *
 * Returns: whether it is decided yet: a metric sampled at a rate other
 *   than 0 or 1 is decided only once there is a secret (with consent)
 */
gboolean
mrd_gate_get_sampling(MrdGate *self, const MrdMetric *metric, gboolean *sampled)
{
	g_return_val_if_fail(MRD_IS_GATE(self), FALSE);

	*sampled = is_sampled(self, metric);
	return metric->sample_rate >= 1.0 || metric->sample_rate <= 0.0 || self->secret != NULL;
}

/* the weekly counts, which the engine seeds from the store */
MrdCapTable *
mrd_gate_get_caps(MrdGate *self)
{
	g_return_val_if_fail(MRD_IS_GATE(self), NULL);
	return self->caps;
}

static MrdDropReason
check_event(MrdGate *self,
	    MrdEvent *event,
	    const char *sender,
	    const MrdRecorderIdentity *who,
	    gint64 now,
	    gint64 week,
	    gint64 monotonic,
	    guint categories,
	    const MrdMetric **metric)
{
	MrdDropReason reason = mrd_allowlist_check(self->allowlist, event, now, metric);

	if (reason != MRD_DROP_NONE)
		return reason;
	if (!mrd_metric_is_recorder(*metric, who))
		return MRD_DROP_NOT_A_RECORDER;
	/* before the rate, the sample and the cap: it uses none of them */
	if ((categories & MRD_CATEGORY_BIT((*metric)->category)) == 0)
		return MRD_DROP_CATEGORY_OFF;
	if (mrd_caller_registry_take_events(self->callers, sender, 1, monotonic) == 0)
		return MRD_DROP_RATE_LIMITED;
	if (!is_sampled(self, *metric))
		return MRD_DROP_NOT_SAMPLED;
	if (!mrd_cap_table_take(self->caps, *metric, week, 1))
		return MRD_DROP_OVER_CAP;
	return MRD_DROP_NONE;
}

/**
 * mrd_gate_filter:
 * @batch: (element-type MrdEvent): the events of one call
 * @sender: the caller's unique bus name
 * @who: the caller's identity, from the bus
 * @now: the real time, in usec
 * @week: the week the events will be stored in, for the weekly cap
 * @categories: the categories that may be recorded for this caller
 *   (MRD_CATEGORY_BIT()); the events of the others are dropped
 *
 * Keeps the events of @batch that pass the gate, in order; counts the
 * others by reason and metric.
 *
 * Returns: how many were dropped
 */
guint
mrd_gate_filter(MrdGate *self,
		GArray *batch,
		const char *sender,
		const MrdRecorderIdentity *who,
		gint64 now,
		gint64 week,
		guint categories)
{
	gint64 monotonic = g_get_monotonic_time();
	guint kept = 0;
	guint n = batch->len;

	g_return_val_if_fail(MRD_IS_GATE(self), 0);
	g_return_val_if_fail(who != NULL, 0);

	for (guint i = 0; i < n; i++) {
		MrdEvent *event = &g_array_index(batch, MrdEvent, i);
		const MrdMetric *metric = NULL;
		MrdDropReason reason = check_event(self, event, sender, who, now, week, monotonic,
						   categories, &metric);

		if (reason != MRD_DROP_NONE) {
			mrd_drops_count_metric(self->drops, reason, event->id,
					       metric != NULL ? metric->name : NULL);
			g_clear_pointer(&event->payload, g_variant_unref);
			continue;
		}
		if (kept != i) {
			g_array_index(batch, MrdEvent, kept) = *event;
			event->payload = NULL;
		}
		kept++;
	}
	g_array_set_size(batch, kept);
	return n - kept;
}

static void
mrd_gate_dispose(GObject *object)
{
	MrdGate *self = MRD_GATE(object);

	g_clear_object(&self->callers);
	g_clear_object(&self->drops);
	g_clear_object(&self->allowlist);
	G_OBJECT_CLASS(mrd_gate_parent_class)->dispose(object);
}

static void
mrd_gate_finalize(GObject *object)
{
	MrdGate *self = MRD_GATE(object);

	g_clear_pointer(&self->secret, g_bytes_unref);
	g_clear_pointer(&self->sampled, g_hash_table_unref);
	g_clear_pointer(&self->caps, mrd_cap_table_free);
	G_OBJECT_CLASS(mrd_gate_parent_class)->finalize(object);
}

static void
mrd_gate_class_init(MrdGateClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_gate_dispose;
	object_class->finalize = mrd_gate_finalize;
}

static void
mrd_gate_init(MrdGate *self)
{
	self->allowlist = mrd_allowlist_new(NULL);
	self->sampled = g_hash_table_new(g_direct_hash, g_direct_equal);
	self->caps = mrd_cap_table_new();
}
