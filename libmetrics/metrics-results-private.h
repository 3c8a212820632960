/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include "metrics-allowlist-entry.h"
#include "metrics-drop-count.h"
#include "metrics-status.h"
#include "metrics-upload-event.h"
#include "metrics-upload.h"

G_BEGIN_DECLS

/* the typed results of MetricsClient, built from the daemon's replies in
 * one place each; the dictionaries are taken (floating ones sunk) */
MetricsStatus *
metrics_status_new_from_variant(GVariant *dict);
MetricsAllowlistEntry *
metrics_allowlist_entry_new_from_variant(GVariant *dict);
MetricsUpload *
metrics_upload_new_from_variant(GVariant *dict);
MetricsUploadEvent *
metrics_upload_event_new_from_variant(GVariant *event);
MetricsDropCount *
metrics_drop_count_new(const char *reason, const char *metric_id, guint64 count);

G_END_DECLS
