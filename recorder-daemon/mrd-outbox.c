/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdOutbox"

#include "config.h"

#include <string.h>

#include "mrd-aggregator.h"
#include "mrd-drops.h"
#include "mrd-outbox.h"
#include "mrd-upload-body.h"

/*
 * The requests waiting to be uploaded, kept in the store
 * (mrd-store-outbox.c).
 *
 * When a week has closed, one transaction turns its aggregates into the
 * exact events of the requests that will carry them (all users merged: the
 * uid never leaves the machine) and deletes the aggregates, so nothing is
 * counted twice or lost. The aggregates are deleted first, and a full
 * store may go past its cap by what the requests need beyond the room that
 * leaves: a closed week must reach the outbox. The same transaction
 * remembers the first week not frozen: events are never again put in a
 * frozen week, even when the wall clock goes back
 * (mrd_outbox_get_first_open_week()). A row leaves the outbox only in the
 * transaction that archives it after the server answered 2xx; a crash in
 * between resends that one request.
 *
 * The allowlist is asked again when a week is frozen and before each send:
 * a metric withdrawn or expired since it was recorded does not leave.
 */

struct _MrdOutbox {
	GObject parent_instance;
	MrdStore *store;	 /* (owned) */
	char *os_version;	 /* (owned) */
	MrdAllowlist *allowlist; /* (owned) (nullable) none: every metric may leave */
	gint64 first_open_week;	 /* usec; 0 until a week was frozen */
	gboolean first_open_week_loaded;
};

/* the events dropped by one call, per reason */
typedef struct {
	guint64 n_events[MRD_N_DROP_REASONS];
	gboolean counted[MRD_N_DROP_REASONS];
} Drops;

enum {
	SIGNAL_DROPPED,
	N_SIGNALS,
};

static guint signals[N_SIGNALS];

G_DEFINE_TYPE(MrdOutbox, mrd_outbox, G_TYPE_OBJECT)

/* the number of events (the sum of the counts) in serialized elements */
static guint64
events_total(GBytes *bytes)
{
	g_autoptr(GVariant) events = mrd_upload_events_parse(bytes, NULL);
	GVariantIter iter;
	guint32 count = 0;
	guint64 total = 0;

	if (events == NULL)
		return 0;
	g_variant_iter_init(&iter, events);
	while (g_variant_iter_loop(&iter, "(@ay&s&su@mv)", NULL, NULL, NULL, &count, NULL))
		total += count;
	return total;
}

static void
count_drop(Drops *drops, MrdDropReason reason, guint64 n)
{
	drops->n_events[reason] += n;
	drops->counted[reason] = TRUE;
}

static void
emit_dropped(MrdOutbox *self, const Drops *drops)
{
	for (guint i = 0; i < MRD_N_DROP_REASONS; i++) {
		const char *reason = mrd_drop_reason_to_string((MrdDropReason)i);

		if (!drops->counted[i])
			continue;
		g_message("dropped %" G_GUINT64_FORMAT " events before upload: %s",
			  drops->n_events[i], reason);
		g_signal_emit(self, signals[SIGNAL_DROPPED], 0, i, drops->n_events[i]);
	}
}

/* whether the aggregates of @metric may still leave the machine at @now:
 * MRD_DROP_NONE if so, else why not. Without any allowlist (every file
 * missing or rejected: a broken installation, not a withdrawal) it cannot
 * tell: then @deferred is set, and nothing is to be frozen, sent or
 * dropped */
static MrdDropReason
check_metric(MrdOutbox *self, const guint8 *metric_id, gint64 now, gboolean *deferred)
{
	const MrdMetric *metric;

	*deferred = FALSE;
	if (self->allowlist == NULL)
		return MRD_DROP_NONE;
	if (mrd_allowlist_get_size(self->allowlist) == 0) {
		*deferred = TRUE;
		return MRD_DROP_NONE;
	}
	metric = mrd_allowlist_lookup(self->allowlist, metric_id);
	if (metric == NULL)
		return MRD_DROP_NOT_ALLOWLISTED;
	if (now >= metric->expires_end)
		return MRD_DROP_EXPIRED;
	return MRD_DROP_NONE;
}

static MrdOutboxRequest *
request_new(const guint8 *metric, const char *week, GPtrArray *elements)
{
	MrdOutboxRequest *request = g_new0(MrdOutboxRequest, 1);

	memcpy(request->metric, metric, METRICS_UUID_SIZE);
	request->week = g_strdup(week);
	request->events = mrd_upload_events_serialize(elements);
	request->n_events = elements->len;
	request->last_answer = g_strdup("");
	return request;
}

/* the requests being built from the aggregates, in their order */
typedef struct {
	MrdOutbox *self;
	gint64 now;
	gsize budget; /* raw bytes a request may carry */
	Drops *drops; /* (nullable) */
	gboolean deferred;
	GPtrArray *requests; /* (owned) (element-type MrdOutboxRequest) */
	GPtrArray *elements; /* (owned) (element-type GVariant) of the request being built */
	guint8 metric[METRICS_UUID_SIZE];
	char *week; /* (owned) (nullable) */
	gsize used;
} Builder;

static void
builder_flush(Builder *builder)
{
	if (builder->elements->len == 0)
		return;
	g_ptr_array_add(builder->requests,
			request_new(builder->metric, builder->week, builder->elements));
	g_ptr_array_set_size(builder->elements, 0);
	builder->used = 0;
}

static void
builder_add_cb(const MrdStoreUploadAggregate *aggregate, gpointer user_data)
{
	Builder *builder = user_data;
	MrdOutbox *self = builder->self;
	g_autoptr(GVariant) element = NULL;
	gboolean deferred = FALSE;
	MrdDropReason reason = check_metric(self, aggregate->metric, builder->now, &deferred);
	gsize cost;

	builder->deferred |= deferred;
	if (reason != MRD_DROP_NONE) {
		if (builder->drops != NULL)
			count_drop(builder->drops, reason, aggregate->count);
		return;
	}
	element = mrd_upload_element_new(aggregate->metric, self->os_version, aggregate->week,
					 aggregate->kind, aggregate->count, aggregate->duration,
					 aggregate->value);
	cost = mrd_upload_element_cost(element);
	/* one request per (metric, week), split at the size cap */
	if (memcmp(builder->metric, aggregate->metric, METRICS_UUID_SIZE) != 0 ||
	    g_strcmp0(builder->week, aggregate->week) != 0 ||
	    builder->used + cost > builder->budget)
		builder_flush(builder);
	memcpy(builder->metric, aggregate->metric, METRICS_UUID_SIZE);
	g_free(builder->week);
	builder->week = g_strdup(aggregate->week);
	g_ptr_array_add(builder->elements, g_steal_pointer(&element));
	builder->used += cost;
}

/* turns the aggregates of the weeks before @limit (or, with @open, from
 * @limit on) into requests, each under @max_request_size once gzipped;
 * those of metrics the allowlist refuses at @now are left out and counted
 * in @drops (nullable); @deferred (nullable) tells whether the allowlist
 * could not decide for some (those are kept in a preview) */
static GPtrArray *
build_requests(MrdOutbox *self,
	       const char *limit,
	       gboolean open,
	       gsize max_request_size,
	       gint64 now,
	       Drops *drops,
	       gboolean *deferred,
	       GError **error)
{
	g_autoptr(GPtrArray) requests =
		g_ptr_array_new_with_free_func((GDestroyNotify)mrd_outbox_request_free);
	g_autoptr(GPtrArray) elements =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	Builder builder = {
		.self = self,
		.now = now,
		.budget = mrd_upload_raw_budget(max_request_size),
		.drops = drops,
		.requests = requests,
		.elements = elements,
	};
	gboolean ok;

	ok = mrd_store_outbox_foreach_aggregate(self->store, limit, !open, builder_add_cb, &builder,
						error);
	if (ok)
		builder_flush(&builder);
	g_free(builder.week);
	if (!ok)
		return NULL;
	if (deferred != NULL)
		*deferred = builder.deferred;
	return g_steal_pointer(&requests);
}

/* a random moment in the window after the week closed, or after now if the
 * daemon noticed late: a backlog must not leave all at once either */
static gint64
random_due(const char *week, gint64 now, guint window_days)
{
	gint64 start = 0;
	gint64 base;

	if (!mrd_week_from_string(week, &start))
		start = mrd_week_start(now) - MRD_WEEK_USEC;
	base = MAX(now, start + MRD_WEEK_USEC);
	if (window_days == 0)
		return base;
	return base + (gint64)g_random_double_range(0, (double)window_days * G_TIME_SPAN_DAY);
}

typedef struct {
	MrdOutbox *self;
	const char *limit;
	gint64 now;
	guint window_days;
	gsize max_request_size;
	Drops drops;
	GPtrArray *requests; /* (owned) (nullable) what was queued */
} FreezeData;

/* in the transaction of mrd_outbox_freeze(): reads the closed weeks and,
 * unless the allowlist cannot be asked (then nothing is frozen and nothing
 * lost) or there is nothing to do, queues their requests in place of
 * their aggregates */
static gboolean
freeze_cb(MrdStore *store, gpointer user_data, GError **error)
{
	FreezeData *data = user_data;
	g_autoptr(GPtrArray) requests = NULL;
	gboolean deferred = FALSE;
	gboolean any_dropped = FALSE;

	requests = build_requests(data->self, data->limit, FALSE, data->max_request_size, data->now,
				  &data->drops, &deferred, error);
	if (requests == NULL)
		return FALSE;
	if (deferred) {
		g_debug("no allowlist to check the closed weeks against: not freezing them yet");
		return TRUE;
	}
	for (guint i = 0; i < MRD_N_DROP_REASONS; i++)
		any_dropped |= data->drops.counted[i];
	if (requests->len == 0 && !any_dropped)
		return TRUE;
	for (guint i = 0; i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);

		request->due = random_due(request->week, data->now, data->window_days);
	}
	if (!mrd_store_outbox_queue(store, data->limit, requests, error))
		return FALSE;
	data->requests = g_steal_pointer(&requests);
	return TRUE;
}

/* freezes every closed week (per @now) into outbox requests, in one
 * transaction with the deletion of its aggregates */
gboolean
mrd_outbox_freeze(MrdOutbox *self,
		  gint64 now,
		  guint window_days,
		  gsize max_request_size,
		  guint *n_requests,
		  GError **error)
{
	g_autofree char *limit = mrd_week_to_string(mrd_week_start(now));
	FreezeData data = {self, limit, now, window_days, max_request_size};
	gboolean ok;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (n_requests != NULL)
		*n_requests = 0;
	ok = mrd_store_transaction(self->store, freeze_cb, &data, error);
	if (!ok || data.requests == NULL) {
		g_clear_pointer(&data.requests, g_ptr_array_unref);
		return ok;
	}
	g_debug("froze the weeks before %s into %u requests", limit, data.requests->len);
	/* read again when next asked */
	self->first_open_week_loaded = FALSE;
	emit_dropped(self, &data.drops);
	if (n_requests != NULL)
		*n_requests = data.requests->len;
	g_ptr_array_unref(data.requests);
	return TRUE;
}

/**
 * mrd_outbox_get_first_open_week:
 * @self: the outbox
 * @error: where a failure to read the store goes
 *
 * The Monday 00:00 UTC (usec) of the first week not yet frozen, as
 * remembered in the store, or 0 when no week was ever frozen (or on
 * error). New events go to this week when their own is earlier: after
 * the wall clock went back, the week it shows may already have left.
 *
 * Returns: the week's start, or 0
 */
gint64
mrd_outbox_get_first_open_week(MrdOutbox *self, GError **error)
{
	gint64 week = 0;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), 0);

	if (self->first_open_week_loaded)
		return self->first_open_week;
	if (!mrd_store_outbox_get_first_open_week(self->store, &week, error))
		return 0;
	self->first_open_week = week;
	self->first_open_week_loaded = TRUE;
	return week;
}

/* the requests the weeks not yet closed would produce now */
GPtrArray *
mrd_outbox_preview(MrdOutbox *self, gint64 now, gsize max_request_size, GError **error)
{
	g_autofree char *limit = mrd_week_to_string(mrd_week_start(now));
	GPtrArray *requests;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), NULL);

	requests = build_requests(self, limit, TRUE, max_request_size, now, NULL, NULL, error);
	for (guint i = 0; requests != NULL && i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);
		gint64 start = 0;

		request->state = MRD_OUTBOX_STATE_PREVIEW;
		if (mrd_week_from_string(request->week, &start))
			request->due = start + MRD_WEEK_USEC;
	}
	return requests;
}

GPtrArray *
mrd_outbox_list(MrdOutbox *self, GError **error)
{
	g_return_val_if_fail(MRD_IS_OUTBOX(self), NULL);

	return mrd_store_outbox_list(self->store, error);
}

/* the pending request with the lowest id above @after_id whose next try is
 * before @due_before; NULL without error when there is none */
MrdOutboxRequest *
mrd_outbox_next(MrdOutbox *self, gint64 due_before, gint64 after_id, GError **error)
{
	g_return_val_if_fail(MRD_IS_OUTBOX(self), NULL);

	return mrd_store_outbox_next(self->store, due_before, after_id, error);
}

/* saved before the request leaves: if the daemon dies during it, the next
 * start waits for the back-off instead of hammering the server */
gboolean
mrd_outbox_begin_attempt(MrdOutbox *self, gint64 id, gint64 now, gint64 next_try, GError **error)
{
	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	return mrd_store_outbox_begin_attempt(self->store, id, now, next_try, error);
}

gboolean
mrd_outbox_retry_later(MrdOutbox *self,
		       gint64 id,
		       gint64 next_try,
		       guint status,
		       const char *answer,
		       GError **error)
{
	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	return mrd_store_outbox_retry_later(self->store, id, next_try, status, answer, error);
}

gboolean
mrd_outbox_set_aside(MrdOutbox *self, gint64 id, guint status, const char *answer, GError **error)
{
	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	return mrd_store_outbox_set_aside(self->store, id, status, answer, error);
}

/* the server accepted @request: delete it and archive what was sent, in one
 * transaction */
gboolean
mrd_outbox_complete(MrdOutbox *self,
		    const MrdOutboxRequest *request,
		    gint64 now,
		    guint status,
		    const char *answer,
		    GBytes *body,
		    const char *checksum,
		    gsize compressed_size,
		    GError **error)
{
	MrdStoreSentRecord record = {now, status, answer, body, checksum, compressed_size};

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	return mrd_store_outbox_archive(self->store, request, &record, error);
}

GPtrArray *
mrd_outbox_list_sent(MrdOutbox *self, GError **error)
{
	g_return_val_if_fail(MRD_IS_OUTBOX(self), NULL);

	return mrd_store_outbox_list_sent(self->store, error);
}

/* deletes the pending requests of weeks before @oldest_week, which could
 * not be sent within the retention limit, and counts their events in
 * @drops; one transaction */
static gboolean
prune_unsent(MrdOutbox *self, const char *oldest_week, Drops *drops, GError **error)
{
	g_autoptr(GPtrArray) deleted = NULL;
	guint64 total = 0;

	deleted = mrd_store_outbox_delete_pending_before(self->store, oldest_week, error);
	if (deleted == NULL)
		return FALSE;
	for (guint i = 0; i < deleted->len; i++)
		total += events_total(g_ptr_array_index(deleted, i));
	if (deleted->len > 0)
		count_drop(drops, MRD_DROP_RETENTION, total);
	return TRUE;
}

/**
 * mrd_outbox_prune:
 * @now: the real time, in usec
 * @oldest_week: (nullable): the first week whose requests are kept
 *   waiting, "YYYY-MM-DD"; %NULL keeps every pending request
 *
 * Forgets what was sent, and what was set aside, more than
 * MRD_OUTBOX_KEEP ago, and drops the pending requests of weeks before
 * @oldest_week: they could not be sent within the retention limit.
 *
 * Returns: whether the store could be written
 */
gboolean
mrd_outbox_prune(MrdOutbox *self, gint64 now, const char *oldest_week, GError **error)
{
	Drops drops = {0};

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (!mrd_store_outbox_forget_before(self->store, now - MRD_OUTBOX_KEEP, error))
		return FALSE;
	if (oldest_week != NULL) {
		if (!prune_unsent(self, oldest_week, &drops, error))
			return FALSE;
		emit_dropped(self, &drops);
	}
	return TRUE;
}

/* if the allowlist refuses @request's metric at @now, deletes the request
 * and counts its events as dropped; returns whether it did. @deferred
 * (nullable) tells whether the allowlist could not decide: then the
 * request must not be sent now, and is kept */
gboolean
mrd_outbox_drop_if_filtered(MrdOutbox *self,
			    const MrdOutboxRequest *request,
			    gint64 now,
			    gboolean *deferred,
			    GError **error)
{
	Drops drops = {0};
	gboolean cannot_tell = FALSE;
	MrdDropReason reason;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	reason = check_metric(self, request->metric, now, &cannot_tell);
	if (deferred != NULL)
		*deferred = cannot_tell;
	if (reason == MRD_DROP_NONE)
		return FALSE;
	count_drop(&drops, reason, events_total(request->events));
	if (!mrd_store_outbox_delete(self->store, request->id, error))
		return FALSE;
	emit_dropped(self, &drops);
	return TRUE;
}

/* gives every pending request already due at @now, except @except_id, a new
 * random next try within [@now, @now + @spread]: a backlog (after the
 * machine was off, offline or the server down) must not leave back to
 * back, which would tie its requests together by time */
gboolean
mrd_outbox_spread_overdue(MrdOutbox *self,
			  gint64 now,
			  gint64 except_id,
			  gint64 spread,
			  guint *n_spread,
			  GError **error)
{
	g_autoptr(GArray) ids = NULL;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (n_spread != NULL)
		*n_spread = 0;
	ids = mrd_store_outbox_list_overdue(self->store, now, except_id, error);
	if (ids == NULL)
		return FALSE;
	for (guint i = 0; i < ids->len; i++) {
		gint64 next_try = now + (gint64)g_random_double_range(0, (double)spread + 1);

		if (!mrd_store_outbox_set_next_try(self->store, g_array_index(ids, gint64, i),
						   next_try, error))
			return FALSE;
	}
	if (n_spread != NULL)
		*n_spread = ids->len;
	return TRUE;
}

/**
 * mrd_outbox_set_allowlist:
 * @self: the outbox
 * @allowlist: (nullable): the allowlist in force, or %NULL to let every
 *   metric leave
 *
 * The allowlist asked again when a week is frozen and before each send: a
 * metric no longer in it is dropped as `not-allowlisted`, one past its
 * expiry as `expired`; while it is empty (no file could be read) nothing
 * is frozen, sent or dropped. The outbox keeps a reference; the service
 * sets it again when it reloads the allowlist.
 */
void
mrd_outbox_set_allowlist(MrdOutbox *self, MrdAllowlist *allowlist)
{
	g_return_if_fail(MRD_IS_OUTBOX(self));
	g_return_if_fail(allowlist == NULL || MRD_IS_ALLOWLIST(allowlist));

	g_set_object(&self->allowlist, allowlist);
}

gboolean
mrd_outbox_get_stats(MrdOutbox *self,
		     guint64 *n_pending,
		     guint64 *n_set_aside,
		     gint64 *next_try,
		     gint64 *last_sent,
		     GError **error)
{
	MrdStoreOutboxStats stats;

	g_return_val_if_fail(MRD_IS_OUTBOX(self), FALSE);

	if (!mrd_store_outbox_get_stats(self->store, &stats, error))
		return FALSE;
	*n_pending = stats.n_pending;
	*n_set_aside = stats.n_set_aside;
	*next_try = stats.next_try;
	*last_sent = stats.last_sent;
	return TRUE;
}

MrdOutbox *
mrd_outbox_new(MrdStore *store, const char *os_version)
{
	MrdOutbox *self;

	g_return_val_if_fail(MRD_IS_STORE(store), NULL);
	g_return_val_if_fail(os_version != NULL, NULL);

	self = g_object_new(MRD_TYPE_OUTBOX, NULL);
	self->store = g_object_ref(store);
	self->os_version = g_strdup(os_version);
	return self;
}

static void
mrd_outbox_dispose(GObject *object)
{
	MrdOutbox *self = MRD_OUTBOX(object);

	g_clear_object(&self->allowlist);

	G_OBJECT_CLASS(mrd_outbox_parent_class)->dispose(object);
}

static void
mrd_outbox_finalize(GObject *object)
{
	MrdOutbox *self = MRD_OUTBOX(object);

	g_clear_object(&self->store);
	g_free(self->os_version);

	G_OBJECT_CLASS(mrd_outbox_parent_class)->finalize(object);
}

static void
mrd_outbox_class_init(MrdOutboxClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_outbox_dispose;
	object_class->finalize = mrd_outbox_finalize;

	/**
	 * MrdOutbox::dropped:
	 * @reason: the #MrdDropReason (retention, not allowlisted, expired)
	 * @n_events: how many events (the sum of the counts)
	 *
	 * Aggregates were deleted without being sent.
	 */
	signals[SIGNAL_DROPPED] =
		g_signal_new("dropped", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			     NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT64);
}

static void
mrd_outbox_init(MrdOutbox *self)
{
}
