/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-allowlist.h"
#include "mrd-drops.h"
#include "mrd-engine.h"
#include "mrd-outbox.h"

G_BEGIN_DECLS

GVariant *
mrd_reply_metric(const MrdMetric *metric, gint64 now, const gboolean *sampled);
GVariant *
mrd_reply_categories(guint agreed, guint refused);
GVariant *
mrd_reply_category_list(guint set);
GVariant *
mrd_reply_status(const MrdEngineStatus *st, MrdDrops *drops, guint n_clients);
GVariant *
mrd_reply_requests(GPtrArray *requests, gboolean sent);

G_END_DECLS
