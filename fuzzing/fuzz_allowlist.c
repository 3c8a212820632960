/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Fuzzes the allowlist parser (recorder-daemon/mrd-allowlist.c) with one
 * document per input, then checks an event against whatever loaded.
 */

#include "config.h"

#include <string.h>

#include "mrd-allowlist.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) metrics = NULL;

	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
	if (!mrd_allowlist_load_data(allowlist, "fuzz.json", (const char *)data, (gssize)size,
				     &error)) {
		g_assert_nonnull(error);
		return 0;
	}
	metrics = mrd_allowlist_get_metrics(allowlist);
	for (guint i = 0; i < metrics->len; i++) {
		const MrdMetric *metric = g_ptr_array_index(metrics, i);
		MrdEvent event = {0};

		memcpy(event.id, metric->id, METRICS_UUID_SIZE);
		event.kind = metric->kind;
		event.time = 1;
		event.amount = 1;
		event.payload = g_variant_ref_sink(g_variant_new_string("fuzz"));
		(void)mrd_allowlist_check(allowlist, &event, 0, NULL);
		g_clear_pointer(&event.payload, g_variant_unref);
		g_assert_true(mrd_allowlist_lookup_name(allowlist, metric->name) != NULL);
	}
	return 0;
}
