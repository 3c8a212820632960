/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Decoding and shape checks of RecordEvents batches: every malformed batch
 * gets a clear METRICS_ERROR, never a crash.
 */

#include "config.h"

#include <string.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-event.h"

static GVariant *
make_event(gsize id_len, guint32 kind, gint64 time, gint64 amount, gsize payload_len)
{
	g_autofree guint8 *id = g_malloc0(MAX(id_len, 1));
	g_autofree char *text = g_strnfill(payload_len, 'p');

	return g_variant_new("(@ayuxxmv)",
			     g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, id_len, 1), kind,
			     time, amount, payload_len > 0 ? g_variant_new_string(text) : NULL);
}

/* @n ordinary events, then @special if given, in the wire form */
static GVariant *
make_batch(guint n, GVariant *special)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < n; i++)
		g_variant_builder_add_value(&builder, make_event(16, 0, g_get_real_time(), 1, 4));
	if (special != NULL)
		g_variant_builder_add_value(&builder, special);
	return g_variant_ref_sink(metrics_batch_to_wire(g_variant_builder_end(&builder)));
}

static void
assert_rejected(GVariant *wire, gint code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) events = mrd_event_batch_parse(wire, &error);

	g_assert_null(events);
	g_assert_error(error, METRICS_ERROR, code);
	g_assert_nonnull(error->message);
	g_variant_unref(wire);
}

static void
test_valid(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) wire = make_batch(3, make_event(16, 2, 1000, 5, 0));
	g_autoptr(GArray) events = mrd_event_batch_parse(wire, &error);
	MrdEvent *last;

	g_assert_no_error(error);
	g_assert_cmpuint(events->len, ==, 4);
	g_assert_nonnull(g_array_index(events, MrdEvent, 0).payload);
	g_assert_cmpstr(g_variant_get_string(g_array_index(events, MrdEvent, 0).payload, NULL), ==,
			"pppp");
	last = &g_array_index(events, MrdEvent, 3);
	g_assert_cmpint(last->kind, ==, METRICS_EVENT_KIND_DURATION);
	g_assert_cmpint(last->amount, ==, 5);
	g_assert_cmpint(last->time, ==, 1000);
	g_assert_null(last->payload);
}

static void
test_malformed(void)
{
	assert_rejected(make_batch(0, NULL), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(METRICS_MAX_BATCH + 1, NULL), METRICS_ERROR_LIMIT_EXCEEDED);
	assert_rejected(make_batch(1, make_event(15, 0, 1, 1, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(0, 0, 1, 1, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(17, 0, 1, 1, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 3, 1, 1, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 0, 1, 2, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 1, 1, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 1, 1, -5, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 2, 1, MRD_MAX_DURATION_USEC + 1, 0)),
			METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 0, 0, 1, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 0, 1, 1, METRICS_MAX_PAYLOAD_SIZE + 1)),
			METRICS_ERROR_LIMIT_EXCEEDED);
	assert_rejected(g_variant_ref_sink(g_variant_new_string("not a batch")),
			METRICS_ERROR_INVALID_DATA);
}

static void
assert_message(GVariant *wire, const char *part)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) events = mrd_event_batch_parse(wire, &error);

	g_assert_null(events);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
	g_test_message("%s", error->message);
	if (strstr(error->message, part) == NULL)
		g_error("“%s” does not say “%s”", error->message, part);
	g_variant_unref(wire);
}

/* a batch serialized big-endian is refused, saying so, whatever its
 * kinds: GVariant's framing is little-endian either way, only the numbers
 * are swapped */
static void
test_big_endian(void)
{
	for (guint32 kind = 0; kind <= METRICS_EVENT_KIND_DURATION; kind++) {
		GVariantBuilder builder;
		g_autoptr(GVariant) array = NULL;
		g_autoptr(GVariant) swapped = NULL;

		g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
		for (guint i = 0; i < 3; i++)
			g_variant_builder_add_value(
				&builder,
				make_event(16, kind, g_get_real_time(),
					   kind == METRICS_EVENT_KIND_VALUE ? 1 : 5 + i, 4));
		array = g_variant_ref_sink(g_variant_builder_end(&builder));
		swapped = g_variant_byteswap(array);
		assert_message(g_variant_ref_sink(g_variant_new_from_data(
				       G_VARIANT_TYPE_BYTESTRING, g_variant_get_data(swapped),
				       g_variant_get_size(swapped), TRUE, NULL, NULL)),
			       "the batch is big-endian; RecordEvents takes little-endian GVariant "
			       "data (g_variant_byteswap()");
	}
}

/* each refusal says what was wrong and what to send instead */
static void
test_messages(void)
{
	assert_message(make_batch(1, make_event(36, 0, 1, 1, 0)), "16 bytes, not as text");
	assert_message(make_batch(1, make_event(16, 7, 1, 1, 0)),
		       "use 0 (value), 1 (counter) or 2 (duration)");
	assert_message(make_batch(1, make_event(16, 0, 1, 2, 0)),
		       "the amount of a value is always 1");
	assert_message(make_batch(1, make_event(16, 1, 1, 0, 0)),
		       "a counter's increment is at least 1");
	assert_message(make_batch(1, make_event(16, 2, 1, MRD_MAX_DURATION_USEC + 1, 0)),
		       "a duration is 1 to 31622400000000 microseconds");
	assert_message(make_batch(1, make_event(16, 0, -3, 1, 0)),
		       "the time -3 is not positive; give microseconds since the Unix epoch");
	assert_message(g_variant_ref_sink(g_variant_new_string("not a batch")),
		       "send the batch's serialized bytes");
}

/* bytes that are not a normal-form a(ayuxxmv): garbage and truncation are
 * rejected; a damaged byte anywhere never crashes, and whatever is read from
 * it passes every check or the batch is rejected as a whole */
static void
test_not_normal_form(void)
{
	g_autoptr(GVariant) good = make_batch(2, NULL);
	gsize size = 0;
	const guint8 *data = g_variant_get_fixed_array(good, &size, 1);
	g_autofree guint8 *copy = g_memdup2(data, size);
	const char garbage[] = "\x01\x02\x03 this is not a batch \xff\xfe";
	g_autofree guint8 *huge = g_malloc0(METRICS_MAX_BATCH_BYTES + 1);

	assert_rejected(g_variant_ref_sink(g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, garbage,
								     sizeof(garbage), 1)),
			METRICS_ERROR_INVALID_DATA);
	assert_rejected(g_variant_ref_sink(
				g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, data, size - 3, 1)),
			METRICS_ERROR_INVALID_DATA);
	for (gsize i = 0; i < size; i++) {
		g_autoptr(GVariant) wire = NULL;
		g_autoptr(GArray) events = NULL;
		g_autoptr(GError) error = NULL;

		copy[i] ^= 0x5a;
		wire = g_variant_ref_sink(
			g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, copy, size, 1));
		events = mrd_event_batch_parse(wire, &error);
		if (events == NULL) {
			g_assert_nonnull(error);
		} else {
			for (guint j = 0; j < events->len; j++) {
				MrdEvent *event = &g_array_index(events, MrdEvent, j);
				g_assert_cmpint(event->amount, >, 0);
				g_assert_cmpint(event->time, >, 0);
				g_assert_true(event->payload == NULL ||
					      g_variant_is_normal_form(event->payload));
			}
		}
		copy[i] ^= 0x5a;
	}
	assert_rejected(g_variant_ref_sink(g_variant_new_fixed_array(
				G_VARIANT_TYPE_BYTE, huge, METRICS_MAX_BATCH_BYTES + 1, 1)),
			METRICS_ERROR_LIMIT_EXCEEDED);
}

static GVariant *
make_payload(guint i)
{
	switch (i % 8) {
	case 0:
		return NULL;
	case 1:
		return g_variant_new_string("");
	case 2:
		return g_variant_new_uint32(i);
	case 3:
		return g_variant_new("(sx)", "a tuple", (gint64)i);
	case 4:
		return g_variant_new_strv(NULL, 0);
	case 5:
		return g_variant_new("()");
	case 6:
		return g_variant_new("ay", NULL);
	default:
		return g_variant_new_take_string(g_strnfill(i % 300, 'x'));
	}
}

/* the batch is read straight from its bytes: what it finds must be what
 * GVariant finds, at every size of framing offset (1, 2 and 4 bytes) */
static void
test_matches_gvariant(void)
{
	const guint sizes[] = {1, 2, 7, 40, 300, METRICS_MAX_BATCH};

	for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
		GVariantBuilder builder;
		g_autoptr(GVariant) events = NULL;
		g_autoptr(GVariant) wire = NULL;
		g_autoptr(GArray) parsed = NULL;
		g_autoptr(GError) error = NULL;

		g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
		for (guint i = 0; i < sizes[s]; i++) {
			guint8 id[16];
			GVariant *payload = make_payload(i * 7 + s);

			memset(id, (int)(i + 1), sizeof(id));
			g_variant_builder_add(
				&builder, "(@ayuxxmv)",
				g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, 16, 1), i % 3,
				(gint64)1700000000000000 + i,
				i % 3 == 0 ? (gint64)1 : (gint64)i + 1, payload);
		}
		events = g_variant_ref_sink(g_variant_builder_end(&builder));
		/* it takes a reference of its own: @events is not floating */
		wire = g_variant_ref_sink(metrics_batch_to_wire(events));
		parsed = mrd_event_batch_parse(wire, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(parsed->len, ==, sizes[s]);
		for (guint i = 0; i < sizes[s]; i++) {
			const MrdEvent *event = &g_array_index(parsed, MrdEvent, i);
			g_autoptr(GVariant) id = NULL;
			g_autoptr(GVariant) payload = NULL;
			guint32 kind;
			gint64 time, amount;
			gsize id_len = 0;

			g_variant_get_child(events, i, "(@ayuxxmv)", &id, &kind, &time, &amount,
					    &payload);
			g_assert_cmpmem(event->id, 16, g_variant_get_fixed_array(id, &id_len, 1),
					id_len);
			g_assert_cmpint(event->kind, ==, kind);
			g_assert_cmpint(event->time, ==, time);
			g_assert_cmpint(event->amount, ==, amount);
			if (payload == NULL) {
				g_assert_null(event->payload);
			} else {
				g_assert_nonnull(event->payload);
				g_assert_true(g_variant_equal(event->payload, payload));
				g_assert_true(g_variant_is_normal_form(event->payload));
			}
		}
	}
}

/* a payload GVariant would read as a default value is refused, not
 * guessed at */
static void
test_payload_not_normal(void)
{
	g_autoptr(GVariant) good = make_batch(0, make_event(16, 0, 1, 1, 3));
	gsize size = 0;
	const guint8 *data = g_variant_get_fixed_array(good, &size, 1);
	g_autofree guint8 *copy = g_memdup2(data, size);
	guint8 *ppp = memmem(copy, size, "ppp", 4);

	/* "ppp" followed by its zero byte: an embedded zero makes it no string */
	g_assert_nonnull(ppp);
	ppp[1] = 0;
	assert_rejected(
		g_variant_ref_sink(g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, copy, size, 1)),
		METRICS_ERROR_INVALID_DATA);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/metrics/event/valid", test_valid);
	g_test_add_func("/metrics/event/malformed", test_malformed);
	g_test_add_func("/metrics/event/not-normal-form", test_not_normal_form);
	g_test_add_func("/metrics/event/big-endian", test_big_endian);
	g_test_add_func("/metrics/event/messages", test_messages);
	g_test_add_func("/metrics/event/matches-gvariant", test_matches_gvariant);
	g_test_add_func("/metrics/event/payload-not-normal", test_payload_not_normal);

	return g_test_run();
}
