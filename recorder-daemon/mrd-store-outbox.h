/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-private.h"
#include "mrd-store.h"

G_BEGIN_DECLS

/*
 * The store's side of the upload queue (mrd-store-outbox.c): the rows of
 * the outbox and sent tables and the frozen mark; what goes into them, and
 * when, is MrdOutbox's to decide.
 */

typedef enum {
	MRD_OUTBOX_STATE_PENDING = 0,
	MRD_OUTBOX_STATE_SET_ASIDE = 1,
	/* a request that a week not yet closed would produce: not stored */
	MRD_OUTBOX_STATE_PREVIEW = 2,
} MrdOutboxState;

/* a request to send, or one that was sent (then @sent, @checksum and @body
 * are set) */
typedef struct {
	gint64 id;
	guint8 metric[16];
	char *week;	/* (owned) */
	GBytes *events; /* (owned) little-endian a(ayssumv), or for a sent one the whole body */
	guint n_events;
	gint64 due;	 /* usec */
	gint64 next_try; /* usec */
	gint64 last_try; /* usec, or 0 */
	guint attempts;
	MrdOutboxState state;
	guint last_status;
	char *last_answer; /* (owned) */
	gint64 sent;	   /* usec; sent archive only */
	char *checksum;	   /* (owned) (nullable); sent archive only */
	guint64 compressed_size;
} MrdOutboxRequest;

void
mrd_outbox_request_free(MrdOutboxRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MrdOutboxRequest, mrd_outbox_request_free)

/* the aggregates of one (metric, week, kind, value), all users summed */
typedef struct {
	const guint8 *metric; /* METRICS_UUID_SIZE bytes */
	const char *week;     /* YYYY-MM-DD of its Monday */
	MetricsEventKind kind;
	GVariant *value; /* (nullable) */
	guint64 count;
	guint64 duration;
} MrdStoreUploadAggregate;

typedef void (*MrdStoreUploadAggregateFunc)(const MrdStoreUploadAggregate *aggregate,
					    gpointer user_data);

gboolean
mrd_store_outbox_foreach_aggregate(MrdStore *self,
				   const char *week,
				   gboolean before,
				   MrdStoreUploadAggregateFunc func,
				   gpointer user_data,
				   GError **error);
gboolean
mrd_store_outbox_queue(MrdStore *self, const char *week, GPtrArray *requests, GError **error);
gboolean
mrd_store_outbox_get_first_open_week(MrdStore *self, gint64 *week, GError **error);
GPtrArray *
mrd_store_outbox_list(MrdStore *self, GError **error);
MrdOutboxRequest *
mrd_store_outbox_next(MrdStore *self, gint64 due_before, gint64 after_id, GError **error);
GArray *
mrd_store_outbox_list_overdue(MrdStore *self, gint64 now, gint64 except_id, GError **error);
gboolean
mrd_store_outbox_begin_attempt(MrdStore *self,
			       gint64 id,
			       gint64 now,
			       gint64 next_try,
			       GError **error);
gboolean
mrd_store_outbox_retry_later(MrdStore *self,
			     gint64 id,
			     gint64 next_try,
			     guint status,
			     const char *answer,
			     GError **error);
gboolean
mrd_store_outbox_set_next_try(MrdStore *self, gint64 id, gint64 next_try, GError **error);
gboolean
mrd_store_outbox_set_aside(MrdStore *self,
			   gint64 id,
			   guint status,
			   const char *answer,
			   GError **error);
gboolean
mrd_store_outbox_delete(MrdStore *self, gint64 id, GError **error);
GPtrArray *
mrd_store_outbox_delete_pending_before(MrdStore *self, const char *week, GError **error);
/* what was sent, and the server's answer, for the archive */
typedef struct {
	gint64 sent; /* usec */
	guint status;
	const char *answer; /* (nullable) as the outbox keeps it */
	GBytes *body;	    /* the whole body, uncompressed */
	const char *checksum;
	gsize compressed_size;
} MrdStoreSentRecord;

gboolean
mrd_store_outbox_archive(MrdStore *self,
			 const MrdOutboxRequest *request,
			 const MrdStoreSentRecord *record,
			 GError **error);
GPtrArray *
mrd_store_outbox_list_sent(MrdStore *self, GError **error);
gboolean
mrd_store_outbox_forget_before(MrdStore *self, gint64 before, GError **error);
/* the figures of the outbox for GetStatus and the uploader's timer */
typedef struct {
	guint64 n_pending;
	guint64 n_set_aside;
	gint64 next_try;  /* usec: the earliest pending one's, 0 if none */
	gint64 last_sent; /* usec: the latest in the archive, 0 if none */
} MrdStoreOutboxStats;

gboolean
mrd_store_outbox_get_stats(MrdStore *self, MrdStoreOutboxStats *stats, GError **error);

G_END_DECLS
