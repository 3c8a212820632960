/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-private.h"

G_BEGIN_DECLS

/* one event as the library queues it and the encoder reads it */
typedef struct {
	guint8 id[METRICS_UUID_SIZE];
	guint32 kind;
	gint64 time;
	gint64 amount;
	GVariant *payload; /* (owned) (nullable) */
} MetricsWireEvent;

GBytes *
metrics_batch_encode(const MetricsWireEvent *events, guint n_events);
GBytes *
metrics_batch_encode_reference(const MetricsWireEvent *events, guint n_events);

G_END_DECLS
