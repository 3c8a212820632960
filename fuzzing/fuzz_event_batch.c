/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * RecordEvents batches as they come from the bus: any bytes must give a
 * clear error or events that pass every shape check, never a crash.
 */

#include "config.h"

#include "metrics-error.h"
#include "mrd-event.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	g_autoptr(GVariant) wire =
		g_variant_ref_sink(g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, data, size, 1));
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) events = mrd_event_batch_parse(wire, &error);

	if (events == NULL) {
		g_assert_nonnull(error);
		g_assert_true(error->domain == METRICS_ERROR);
		return 0;
	}
	g_assert_cmpuint(events->len, >, 0);
	g_assert_cmpuint(events->len, <=, METRICS_MAX_BATCH);
	for (guint i = 0; i < events->len; i++) {
		MrdEvent *event = &g_array_index(events, MrdEvent, i);

		g_assert_cmpint(event->amount, >, 0);
		g_assert_cmpint(event->time, >, 0);
		g_assert_cmpint(event->kind, <=, METRICS_EVENT_KIND_DURATION);
		g_assert_true(event->payload == NULL || g_variant_is_normal_form(event->payload));
	}
	return 0;
}
