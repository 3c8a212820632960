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
	/* the batch is read from its bytes: what was accepted must be a
	 * normal-form a(ayuxxmv) that GVariant reads the same way */
	if (G_BYTE_ORDER == G_LITTLE_ENDIAN) {
		g_autoptr(GBytes) bytes = g_bytes_new(data, size);
		g_autoptr(GVariant) batch = g_variant_ref_sink(g_variant_new_from_bytes(
			G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE), bytes, FALSE));

		g_assert_true(g_variant_is_normal_form(batch));
		g_assert_cmpuint(g_variant_n_children(batch), ==, events->len);
		for (guint i = 0; i < events->len; i++) {
			MrdEvent *event = &g_array_index(events, MrdEvent, i);
			g_autoptr(GVariant) id = NULL;
			g_autoptr(GVariant) payload = NULL;
			guint32 kind;
			gint64 time, amount;
			gsize id_len = 0;
			const guint8 *id_bytes;

			g_variant_get_child(batch, i, "(@ayuxxmv)", &id, &kind, &time, &amount,
					    &payload);
			id_bytes = g_variant_get_fixed_array(id, &id_len, 1);
			g_assert_cmpmem(event->id, METRICS_UUID_SIZE, id_bytes, id_len);
			g_assert_cmpint(event->kind, ==, kind);
			g_assert_cmpint(event->time, ==, time);
			g_assert_cmpint(event->amount, ==, amount);
			g_assert_true((payload == NULL) == (event->payload == NULL));
			if (payload != NULL)
				g_assert_true(g_variant_equal(payload, event->payload));
		}
	}
	for (guint i = 0; i < events->len; i++) {
		MrdEvent *event = &g_array_index(events, MrdEvent, i);

		g_assert_cmpint(event->amount, >, 0);
		g_assert_cmpint(event->time, >, 0);
		g_assert_cmpint(event->kind, <=, METRICS_EVENT_KIND_DURATION);
		g_assert_true(event->payload == NULL || g_variant_is_normal_form(event->payload));
	}
	return 0;
}
