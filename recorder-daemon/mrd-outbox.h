/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-private.h"
#include "mrd-allowlist.h"
#include "mrd-store-outbox.h"
#include "mrd-store.h"

G_BEGIN_DECLS

/* how long the archive of sent requests, and set-aside requests, are kept */
#define MRD_OUTBOX_KEEP (90 * G_TIME_SPAN_DAY)

#define MRD_TYPE_OUTBOX (mrd_outbox_get_type())
G_DECLARE_FINAL_TYPE(MrdOutbox, mrd_outbox, MRD, OUTBOX, GObject)

MrdOutbox *
mrd_outbox_new(MrdStore *store, const char *os_version);
void
mrd_outbox_set_allowlist(MrdOutbox *self, MrdAllowlist *allowlist);
gboolean
mrd_outbox_drop_if_filtered(MrdOutbox *self,
			    const MrdOutboxRequest *request,
			    gint64 now,
			    gboolean *deferred,
			    GError **error);
gboolean
mrd_outbox_spread_overdue(MrdOutbox *self,
			  gint64 now,
			  gint64 except_id,
			  gint64 spread,
			  guint *n_spread,
			  GError **error);
gboolean
mrd_outbox_freeze(MrdOutbox *self,
		  gint64 now,
		  guint window_days,
		  gsize max_request_size,
		  guint *n_requests,
		  GError **error);
gint64
mrd_outbox_get_first_open_week(MrdOutbox *self, GError **error);
GPtrArray *
mrd_outbox_preview(MrdOutbox *self, gint64 now, gsize max_request_size, GError **error);
GPtrArray *
mrd_outbox_list(MrdOutbox *self, GError **error);
MrdOutboxRequest *
mrd_outbox_next(MrdOutbox *self, gint64 due_before, gint64 after_id, GError **error);
gboolean
mrd_outbox_begin_attempt(MrdOutbox *self, gint64 id, gint64 now, gint64 next_try, GError **error);
gboolean
mrd_outbox_retry_later(MrdOutbox *self,
		       gint64 id,
		       gint64 next_try,
		       guint status,
		       const char *answer,
		       GError **error);
gboolean
mrd_outbox_set_aside(MrdOutbox *self, gint64 id, guint status, const char *answer, GError **error);
gboolean
mrd_outbox_complete(MrdOutbox *self,
		    const MrdOutboxRequest *request,
		    gint64 now,
		    guint status,
		    const char *answer,
		    GBytes *body,
		    const char *checksum,
		    gsize compressed_size,
		    GError **error);
GPtrArray *
mrd_outbox_list_sent(MrdOutbox *self, GError **error);
gboolean
mrd_outbox_prune(MrdOutbox *self, gint64 now, const char *oldest_week, GError **error);
gboolean
mrd_outbox_get_stats(MrdOutbox *self,
		     guint64 *n_pending,
		     guint64 *n_set_aside,
		     gint64 *next_try,
		     gint64 *last_sent,
		     GError **error);

G_END_DECLS
