/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-common.h"

G_BEGIN_DECLS

#define METRICS_TYPE_RECORDER (metrics_recorder_get_type())
G_DECLARE_FINAL_TYPE(MetricsRecorder, metrics_recorder, METRICS, RECORDER, GObject)

#define METRICS_TYPE_TIMER (metrics_timer_get_type())
G_DECLARE_FINAL_TYPE(MetricsTimer, metrics_timer, METRICS, TIMER, GObject)

MetricsRecorder *
metrics_recorder_get_default(void);
MetricsRecorder *
metrics_recorder_new(GDBusConnection *connection);

void
metrics_recorder_record(MetricsRecorder *self, const char *event_id, GVariant *payload);
void
metrics_recorder_add(MetricsRecorder *self, const char *event_id, GVariant *payload, gint64 count);
void
metrics_recorder_add_count(MetricsRecorder *self,
			   const char *event_id,
			   gint64 count,
			   GVariant *payload);
void
metrics_recorder_record_duration(MetricsRecorder *self,
				 const char *event_id,
				 GVariant *payload,
				 gint64 start_time_usec,
				 gint64 duration_usec);
MetricsTimer *
metrics_recorder_start_timer(MetricsRecorder *self, const char *event_id, GVariant *payload);

void
metrics_recorder_flush_async(MetricsRecorder *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
metrics_recorder_flush_finish(MetricsRecorder *self, GAsyncResult *result, GError **error);
gboolean
metrics_recorder_flush_sync(MetricsRecorder *self, GCancellable *cancellable, GError **error);

MetricsConsent
metrics_recorder_get_consent(MetricsRecorder *self);
gboolean
metrics_recorder_get_user_opted_out(MetricsRecorder *self);
guint64
metrics_recorder_get_n_dropped(MetricsRecorder *self);
guint64
metrics_recorder_get_n_accepted(MetricsRecorder *self);
guint64
metrics_recorder_get_n_rejected(MetricsRecorder *self);

void
metrics_timer_stop(MetricsTimer *self);
void
metrics_timer_cancel(MetricsTimer *self);

G_END_DECLS
