/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#include "config.h"

#include "mrd-drops.h"

/* in the order of MrdDropReason */
static const char *const reason_names[MRD_N_DROP_REASONS] = {
	[MRD_DROP_NONE] = "none",
	[MRD_DROP_NOT_ALLOWLISTED] = "not-allowlisted",
	[MRD_DROP_EXPIRED] = "expired",
	[MRD_DROP_WRONG_KIND] = "wrong-kind",
	[MRD_DROP_WRONG_TYPE] = "wrong-type",
	[MRD_DROP_VALUE_NOT_ALLOWED] = "value-not-allowed",
	[MRD_DROP_RATE_LIMITED] = "rate-limited",
	[MRD_DROP_NOT_SAMPLED] = "not-sampled",
	[MRD_DROP_OVER_CAP] = "over-cap",
	[MRD_DROP_NO_CONSENT] = "no-consent",
	[MRD_DROP_MALFORMED_CALLS] = "malformed-calls",
	[MRD_DROP_RATE_LIMITED_CALLS] = "rate-limited-calls",
	[MRD_DROP_UNIDENTIFIED] = "unidentified",
	[MRD_DROP_STORE_FULL] = "store-full",
	[MRD_DROP_STORE_FAILED] = "store-failed",
	[MRD_DROP_RETENTION] = "retention",
};

/**
 * mrd_drop_reason_to_string:
 * @reason: a drop reason
 *
 * Returns: the reason's key in the `drops` dictionary of GetStatus
 */
const char *
mrd_drop_reason_to_string(MrdDropReason reason)
{
	if ((guint)reason >= MRD_N_DROP_REASONS)
		return "unknown";
	return reason_names[reason];
}

/**
 * mrd_drop_reason_from_string:
 * @str: a key of the `drops` dictionary, as the store keeps it
 * @reason: (out): its reason
 *
 * Returns: whether @str names a reason
 */
gboolean
mrd_drop_reason_from_string(const char *str, MrdDropReason *reason)
{
	for (guint i = 0; i < MRD_N_DROP_REASONS; i++) {
		if (g_strcmp0(reason_names[i], str) == 0) {
			*reason = (MrdDropReason)i;
			return TRUE;
		}
	}
	return FALSE;
}
