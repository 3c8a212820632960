/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The batch encoder writes RecordEvents' bytes directly: they must be the
 * very bytes GVariant gives for the same events (normal form,
 * little-endian), for every shape of payload and at every size of offset.
 */

#include "config.h"

#include <string.h>

#include "metrics-batch-private.h"

static void
clear_event(gpointer data)
{
	MetricsWireEvent *event = data;

	g_clear_pointer(&event->payload, g_variant_unref);
}

/* payloads of many types, trusted and not */
static GVariant *
make_payload(GRand *rand, guint i)
{
	switch (i % 14) {
	case 0:
		return NULL;
	case 1:
		return g_variant_new_string("org.example.App.desktop");
	case 2:
		return g_variant_new_int32(g_rand_int(rand));
	case 3:
		return g_variant_new_uint64(((guint64)g_rand_int(rand) << 32) | g_rand_int(rand));
	case 4:
		return g_variant_new_boolean(g_rand_boolean(rand));
	case 5:
		return g_variant_new_byte((guint8)g_rand_int(rand));
	case 6:
		return g_variant_new_double(g_rand_double(rand));
	case 7:
		return g_variant_new("()");
	case 8:
		return g_variant_new_parsed("['a', 'bc', '']");
	case 9:
		return g_variant_new_parsed("{'k': <int16 3>, 'long-key': <'v'>}");
	case 10:
		return g_variant_new_parsed("(byte 1, 'x', [uint32 1, 2], @ms nothing)");
	case 11:
		return g_variant_new_variant(g_variant_new_string(""));
	case 12: {
		/* untrusted bytes not in normal form: (yi) with non-zero padding */
		static const guint8 bytes[] = {7, 0xff, 0xff, 0xff, 1, 0, 0, 0};

		return g_variant_new_from_data(G_VARIANT_TYPE("(yi)"), bytes, sizeof(bytes), FALSE,
					       NULL, NULL);
	}
	default: {
		/* long enough for 2-byte offsets inside the event */
		g_autofree char *text = g_strnfill(200 + g_rand_int_range(rand, 0, 800), 'v');

		return g_variant_new_string(text);
	}
	}
}

static GArray *
make_events(GRand *rand, guint n, guint first_payload)
{
	GArray *events = g_array_new(FALSE, TRUE, sizeof(MetricsWireEvent));

	g_array_set_clear_func(events, clear_event);
	for (guint i = 0; i < n; i++) {
		MetricsWireEvent event = {
			.kind = g_rand_int_range(rand, 0, 3),
			.time = g_rand_int(rand) * (gint64)1000,
			.amount = g_rand_int_range(rand, 1, G_MAXINT32),
		};
		GVariant *payload = make_payload(rand, first_payload + i);

		for (guint b = 0; b < METRICS_UUID_SIZE; b++)
			event.id[b] = (guint8)g_rand_int(rand);
		event.payload = payload != NULL ? g_variant_ref_sink(payload) : NULL;
		g_array_append_val(events, event);
	}
	return events;
}

static void
assert_same_bytes(GArray *events)
{
	g_autoptr(GBytes) direct =
		metrics_batch_encode((const MetricsWireEvent *)events->data, events->len);
	g_autoptr(GBytes) reference =
		metrics_batch_encode_reference((const MetricsWireEvent *)events->data, events->len);
	g_autoptr(GVariant) parsed = NULL;

	g_assert_cmpmem(g_bytes_get_data(direct, NULL), g_bytes_get_size(direct),
			g_bytes_get_data(reference, NULL), g_bytes_get_size(reference));
	/* and GVariant reads them as a normal-form batch of as many events */
	parsed = g_variant_ref_sink(g_variant_new_from_bytes(
		G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE), direct, FALSE));
	g_assert_true(g_variant_is_normal_form(parsed));
	g_assert_cmpuint(g_variant_n_children(parsed), ==, events->len);
}

/* every payload shape, one event per batch and all together */
static void
test_payload_shapes(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(1);

	for (guint i = 0; i < 14; i++) {
		g_autoptr(GArray) one = make_events(rand, 1, i);

		assert_same_bytes(one);
	}
	for (guint n = 2; n <= 30; n++) {
		g_autoptr(GArray) some = make_events(rand, n, n);

		assert_same_bytes(some);
	}
}

/* batches whose offsets take 1, 2 and 4 bytes: small, over 255 bytes,
 * over 64 KiB, up to the daemon's 1024 events */
static void
test_offset_sizes(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(2);
	const guint sizes[] = {1, 3, 6, 7, 64, 300, 1024};

	for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
		for (guint first = 0; first < 14; first += 13) {
			g_autoptr(GArray) events = make_events(rand, sizes[i], first);

			assert_same_bytes(events);
		}
	}
}

/* many random batches */
static void
test_random(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(3);

	for (guint round = 0; round < 200; round++) {
		g_autoptr(GArray) events = make_events(rand, (guint)g_rand_int_range(rand, 1, 80),
						       (guint)g_rand_int(rand));

		assert_same_bytes(events);
	}
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/metrics/batch/payload-shapes", test_payload_shapes);
	g_test_add_func("/metrics/batch/offset-sizes", test_offset_sizes);
	g_test_add_func("/metrics/batch/random", test_random);
	return g_test_run();
}
