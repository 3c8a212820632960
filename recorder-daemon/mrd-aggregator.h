/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-event.h"
#include "mrd-week.h"

G_BEGIN_DECLS

/* what one batch adds to one stored aggregate: the key is (id, week, kind,
 * payload); the uid is added by the store */
typedef struct {
	guint8 id[METRICS_UUID_SIZE];
	gint64 week; /* usec since the epoch of that ISO week's Monday 00:00 UTC */
	MetricsEventKind kind;
	GBytes *payload; /* (owned) serialized "mv", in normal form */
	guint64 count;
	guint64 duration; /* usec, for durations */
} MrdDelta;

GArray *
mrd_aggregate_events(GArray *events, gint64 now);
void
mrd_deltas_clamp_week(GArray *deltas, gint64 first_open_week);

G_END_DECLS
