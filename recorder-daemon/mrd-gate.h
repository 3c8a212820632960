/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-allowlist.h"
#include "mrd-caller.h"
#include "mrd-drops.h"

G_BEGIN_DECLS

/* per metric, the count of accepted events of the whole install in one
 * week (the current one): what the weekly cap is checked against */
typedef struct _MrdCapTable MrdCapTable;

MrdCapTable *
mrd_cap_table_new(void);
void
mrd_cap_table_free(MrdCapTable *self);
void
mrd_cap_table_reset(MrdCapTable *self);
gint64
mrd_cap_table_get_week(MrdCapTable *self);
void
mrd_cap_table_start_week(MrdCapTable *self, gint64 week);
void
mrd_cap_table_seed(MrdCapTable *self, const guint8 id[METRICS_UUID_SIZE], guint64 count);
gboolean
mrd_cap_table_take(MrdCapTable *self, const MrdMetric *metric, gint64 week, guint64 amount);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MrdCapTable, mrd_cap_table_free)

GBytes *
mrd_sampling_secret_load(const char *path, GError **error);
gboolean
mrd_sampling_secret_delete(const char *path, GError **error);

/* the gate every event passes before it is aggregated: the allowlist,
 * whether the sender may record the metric, then the sender's event rate,
 * sampling and the weekly cap */
#define MRD_TYPE_GATE (mrd_gate_get_type())
G_DECLARE_FINAL_TYPE(MrdGate, mrd_gate, MRD, GATE, GObject)

MrdGate *
mrd_gate_new(MrdCallerRegistry *callers, MrdDrops *drops);
void
mrd_gate_set_allowlist(MrdGate *self, MrdAllowlist *allowlist);
MrdAllowlist *
mrd_gate_get_allowlist(MrdGate *self);
void
mrd_gate_set_secret(MrdGate *self, GBytes *secret);
gboolean
mrd_gate_get_sampling(MrdGate *self, const MrdMetric *metric, gboolean *sampled);
MrdCapTable *
mrd_gate_get_caps(MrdGate *self);
guint
mrd_gate_filter(MrdGate *self,
		GArray *batch,
		const char *sender,
		const MrdRecorderIdentity *who,
		gint64 now,
		gint64 week,
		guint categories);

G_END_DECLS
