/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdUploads"

#include "config.h"

#include "mrd-upload-body.h"
#include "mrd-uploader.h"
#include "mrd-uploads.h"
#include "mrd-week.h"

/*
 * The second half of the data path, once events are stored:
 *
 *   store → freeze (mrd_outbox_freeze: a closed week becomes one request
 *   per metric-week, each due at a random moment of the upload window)
 *   → upload (MrdUploader)
 *
 * A week is frozen when the store opens, when the week ends (one timer)
 * and before UploadNow. Exists only while the store is open, that is
 * while consent is granted.
 */

struct _MrdUploads {
	GObject parent_instance;

	MrdClock *clock;	 /* (owned) */
	const MrdConfig *config; /* the engine's, which outlives this */
	MrdOutbox *outbox;	 /* (owned) */
	MrdUploader *uploader;	 /* (owned) */
	MrdDrops *drops;	 /* (owned) */
	guint week_close_id;
};

G_DEFINE_TYPE(MrdUploads, mrd_uploads, G_TYPE_OBJECT)

static void
outbox_dropped_cb(MrdOutbox *outbox, guint reason, guint64 n_events, gpointer user_data)
{
	mrd_drops_count(MRD_UPLOADS(user_data)->drops, (MrdDropReason)reason, n_events);
}

/* @config must outlive the new object */
MrdUploads *
mrd_uploads_new(MrdStore *store, MrdClock *clock, const MrdConfig *config, MrdDrops *drops)
{
	MrdUploads *self = g_object_new(MRD_TYPE_UPLOADS, NULL);

	self->clock = g_object_ref(clock);
	self->config = config;
	self->drops = g_object_ref(drops);
	self->outbox = mrd_outbox_new(store, mrd_upload_get_os_version());
	g_signal_connect_object(self->outbox, "dropped", G_CALLBACK(outbox_dropped_cb), self,
				G_CONNECT_DEFAULT);
	self->uploader =
		mrd_uploader_new(self->outbox, clock, config, g_network_monitor_get_default());
	return self;
}

/* the allowlist asked again before aggregates leave */
void
mrd_uploads_set_allowlist(MrdUploads *self, MrdAllowlist *allowlist)
{
	g_return_if_fail(MRD_IS_UPLOADS(self));
	mrd_outbox_set_allowlist(self->outbox, allowlist);
}

/* freezes every closed week into upload requests, and lets the uploader
 * know */
static gboolean
freeze(MrdUploads *self, GError **error)
{
	if (!mrd_outbox_freeze(self->outbox, mrd_clock_get_real_time(self->clock),
			       self->config->window_days, self->config->max_request_size, NULL,
			       error))
		return FALSE;
	mrd_uploader_reschedule(self->uploader);
	return TRUE;
}

static void
schedule_week_close(MrdUploads *self);

static gboolean
week_closed_cb(gpointer user_data)
{
	MrdUploads *self = MRD_UPLOADS(user_data);
	g_autoptr(GError) error = NULL;

	self->week_close_id = 0;
	if (!freeze(self, &error))
		g_warning("cannot queue the closed weeks for upload: %s", error->message);
	schedule_week_close(self);
	return G_SOURCE_REMOVE;
}

static void
schedule_week_close(MrdUploads *self)
{
	gint64 now = mrd_clock_get_real_time(self->clock);
	gint64 delay_ms = (mrd_week_start(now) + MRD_WEEK_USEC - now + 999) / 1000;

	g_clear_handle_id(&self->week_close_id, g_source_remove);
	self->week_close_id = g_timeout_add_full(G_PRIORITY_DEFAULT,
						 (guint)CLAMP(delay_ms, 0, (gint64)G_MAXINT32),
						 week_closed_cb, self, NULL);
}

/* freezes what is closed, starts sending what is due and waits for the
 * end of the week */
void
mrd_uploads_start(MrdUploads *self)
{
	g_autoptr(GError) error = NULL;

	g_return_if_fail(MRD_IS_UPLOADS(self));

	mrd_uploader_start(self->uploader);
	if (!freeze(self, &error))
		g_warning("cannot queue the closed weeks for upload: %s", error->message);
	schedule_week_close(self);
}

/* stops sending (cancelling a request in flight): before the store goes */
void
mrd_uploads_stop(MrdUploads *self)
{
	g_return_if_fail(MRD_IS_UPLOADS(self));

	g_clear_handle_id(&self->week_close_id, g_source_remove);
	mrd_uploader_stop(self->uploader);
}

/* the retention of the requests: see mrd_outbox_prune() */
gboolean
mrd_uploads_prune(MrdUploads *self, const char *oldest_week, GError **error)
{
	g_return_val_if_fail(MRD_IS_UPLOADS(self), FALSE);
	return mrd_outbox_prune(self->outbox, mrd_clock_get_real_time(self->clock), oldest_week,
				error);
}

/* the first week events may still go to: none before the last frozen */
gint64
mrd_uploads_get_first_open_week(MrdUploads *self)
{
	g_autoptr(GError) error = NULL;
	gint64 week;

	g_return_val_if_fail(MRD_IS_UPLOADS(self), 0);

	week = mrd_outbox_get_first_open_week(self->outbox, &error);
	if (error != NULL)
		g_debug("cannot tell which weeks were frozen: %s", error->message);
	return week;
}

gboolean
mrd_uploads_get_stats(MrdUploads *self, MrdUploadsStats *stats, GError **error)
{
	g_return_val_if_fail(MRD_IS_UPLOADS(self), FALSE);
	return mrd_outbox_get_stats(self->outbox, &stats->n_pending, &stats->n_set_aside,
				    &stats->next_upload, &stats->last_upload, error);
}

/* (element-type MrdOutboxRequest) (transfer full): the requests waiting,
 * then those the weeks not yet closed would give */
GPtrArray *
mrd_uploads_list_pending(MrdUploads *self, GError **error)
{
	g_autoptr(GPtrArray) queued = NULL;
	g_autoptr(GPtrArray) next = NULL;

	g_return_val_if_fail(MRD_IS_UPLOADS(self), NULL);

	queued = mrd_outbox_list(self->outbox, error);
	if (queued == NULL)
		return NULL;
	next = mrd_outbox_preview(self->outbox, mrd_clock_get_real_time(self->clock),
				  self->config->max_request_size, error);
	if (next == NULL)
		return NULL;
	g_ptr_array_extend_and_steal(queued, g_steal_pointer(&next));
	return g_steal_pointer(&queued);
}

/* (element-type MrdOutboxRequest) (transfer full): the archive of what
 * was sent */
GPtrArray *
mrd_uploads_list_sent(MrdUploads *self, GError **error)
{
	g_return_val_if_fail(MRD_IS_UPLOADS(self), NULL);
	return mrd_outbox_list_sent(self->outbox, error);
}

static void
upload_now_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	g_autoptr(GError) error = NULL;
	guint *counts = g_new0(guint, 2);

	if (!mrd_uploader_upload_now_finish(MRD_UPLOADER(source), result, &counts[0], &counts[1],
					    &error)) {
		g_free(counts);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, counts, g_free);
}

/* sends every pending request now, closed weeks first frozen */
void
mrd_uploads_upload_now_async(MrdUploads *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GError) error = NULL;

	g_return_if_fail(MRD_IS_UPLOADS(self));

	g_task_set_source_tag(task, mrd_uploads_upload_now_async);
	if (!freeze(self, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	mrd_uploader_upload_now_async(self->uploader, cancellable, upload_now_cb,
				      g_steal_pointer(&task));
}

gboolean
mrd_uploads_upload_now_finish(MrdUploads *self,
			      GAsyncResult *result,
			      guint *n_sent,
			      guint *n_failed,
			      GError **error)
{
	g_autofree guint *counts = NULL;

	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);

	counts = g_task_propagate_pointer(G_TASK(result), error);
	if (counts == NULL)
		return FALSE;
	*n_sent = counts[0];
	*n_failed = counts[1];
	return TRUE;
}

static void
mrd_uploads_dispose(GObject *object)
{
	MrdUploads *self = MRD_UPLOADS(object);

	g_clear_handle_id(&self->week_close_id, g_source_remove);
	g_clear_object(&self->uploader);
	g_clear_object(&self->outbox);
	g_clear_object(&self->drops);
	g_clear_object(&self->clock);
	G_OBJECT_CLASS(mrd_uploads_parent_class)->dispose(object);
}

static void
mrd_uploads_class_init(MrdUploadsClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_uploads_dispose;
}

static void
mrd_uploads_init(MrdUploads *self)
{
}
