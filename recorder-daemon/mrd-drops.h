/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib.h>

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
	/* the rest of the gate: the client's event rate, sampling, the cap */
	MRD_DROP_RATE_LIMITED,
	MRD_DROP_NOT_SAMPLED,
	MRD_DROP_OVER_CAP,
	/* before the gate: the call itself */
	MRD_DROP_NO_CONSENT,
	MRD_DROP_MALFORMED_CALLS,
	MRD_DROP_RATE_LIMITED_CALLS,
	MRD_DROP_UNIDENTIFIED,
	/* after it: the store */
	MRD_DROP_STORE_FULL,
	MRD_DROP_STORE_FAILED,
	MRD_DROP_RETENTION,
	MRD_N_DROP_REASONS,
} MrdDropReason;

const char *
mrd_drop_reason_to_string(MrdDropReason reason);
gboolean
mrd_drop_reason_from_string(const char *str, MrdDropReason *reason);

G_END_DECLS
