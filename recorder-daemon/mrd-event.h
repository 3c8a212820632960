/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-private.h"

G_BEGIN_DECLS

/* the longest duration one event may carry */
#define MRD_MAX_DURATION_USEC (G_TIME_SPAN_DAY * 366)

/* one event of a RecordEvents batch, checked for shape but not yet against
 * the allowlist */
typedef struct {
	guint8 id[METRICS_UUID_SIZE];
	MetricsEventKind kind;
	gint64 time;	   /* usec since the epoch; for durations the start */
	gint64 amount;	   /* 1, an increment, or usec */
	GVariant *payload; /* (owned) (nullable) */
} MrdEvent;

GArray *
mrd_event_batch_new(guint reserved);
GArray *
mrd_event_batch_parse(GVariant *events, GError **error);

G_END_DECLS
