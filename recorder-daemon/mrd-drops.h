/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-private.h"
#include "mrd-store.h"

G_BEGIN_DECLS

/* why an event (or, for the _CALLS reasons, a call) was not kept; each
 * has one string, that of the `drops` dictionary of GetStatus
 * (mrd_drop_reason_to_string()) */
typedef enum {
	MRD_DROP_NONE,
	/* the allowlist gate (mrd_allowlist_check()) */
	MRD_DROP_NOT_ALLOWLISTED,
	MRD_DROP_EXPIRED,
	MRD_DROP_WRONG_KIND,
	MRD_DROP_WRONG_TYPE,
	MRD_DROP_VALUE_NOT_ALLOWED,
	/* the caller may not record the metric (its "recorders") */
	MRD_DROP_NOT_A_RECORDER,
	/* the rest of the gate: the client's event rate, sampling, the cap */
	MRD_DROP_RATE_LIMITED,
	MRD_DROP_NOT_SAMPLED,
	MRD_DROP_OVER_CAP,
	/* before the gate: the call itself */
	MRD_DROP_NO_CONSENT,
	/* the caller's uid said "not for me" (SetUserChoice) */
	MRD_DROP_USER_OPTED_OUT,
	/* the metric's category is off (or not agreed to yet) for the
	 * machine, or off for the caller's user */
	MRD_DROP_CATEGORY_OFF,
	MRD_DROP_MALFORMED_CALLS,
	MRD_DROP_RATE_LIMITED_CALLS,
	/* messages dropped unread by MrdIntake, before GDBus queues them */
	MRD_DROP_FLOODED_MESSAGES,
	MRD_DROP_UNIDENTIFIED,
	/* after it: the store */
	MRD_DROP_STORE_FULL,
	MRD_DROP_STORE_FAILED,
	MRD_DROP_RETENTION,
	/* an event of the Endless interface that this project's model cannot
	 * hold (docs/eos-compat.md) */
	MRD_DROP_EOS_UNMAPPED,
	MRD_N_DROP_REASONS,
} MrdDropReason;

const char *
mrd_drop_reason_to_string(MrdDropReason reason);
gboolean
mrd_drop_reason_from_string(const char *str, MrdDropReason *reason);

/* the counters of dropped events: totals by reason since the daemon
 * started plus what the store kept from earlier runs (while consent is
 * granted), and by (reason, metric) for this run */
#define MRD_TYPE_DROPS (mrd_drops_get_type())
G_DECLARE_FINAL_TYPE(MrdDrops, mrd_drops, MRD, DROPS, GObject)

MrdDrops *
mrd_drops_new(void);
void
mrd_drops_count(MrdDrops *self, MrdDropReason reason, guint64 n);
void
mrd_drops_count_metric(MrdDrops *self,
		       MrdDropReason reason,
		       const guint8 id[METRICS_UUID_SIZE],
		       const char *name);
void
mrd_drops_set_store(MrdDrops *self, MrdStore *store, gboolean load);
void
mrd_drops_save(MrdDrops *self);
guint64
mrd_drops_get(MrdDrops *self, MrdDropReason reason);
GVariant *
mrd_drops_to_variant(MrdDrops *self);
GVariant *
mrd_drops_by_metric_to_variant(MrdDrops *self);

G_END_DECLS
