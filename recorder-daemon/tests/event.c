/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Shape checks of RecordEvents batches: every malformed batch gets a clear
 * METRICS_ERROR, never a crash.
 */

#include "config.h"

#include "metrics-error.h"
#include "mrd-event.h"

static GVariant *
make_event(gsize id_len,
	   guint32 kind,
	   gint64 time,
	   gint64 amount,
	   guint n_payloads,
	   gsize payload_len)
{
	g_autofree guint8 *id = g_malloc0(MAX(id_len, 1));
	GVariantBuilder payloads;

	g_variant_builder_init(&payloads, G_VARIANT_TYPE("av"));
	for (guint i = 0; i < n_payloads; i++) {
		g_autofree char *text = g_strnfill(payload_len, 'p');
		g_variant_builder_add(&payloads, "v", g_variant_new_string(text));
	}
	return g_variant_new("(@ayuxx@av)",
			     g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, id_len, 1), kind,
			     time, amount, g_variant_builder_end(&payloads));
}

static GVariant *
make_batch(guint n, GVariant *special)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(ayuxxav)"));
	for (guint i = 0; i < n; i++)
		g_variant_builder_add_value(&builder,
					    make_event(16, 0, g_get_real_time(), 1, 1, 4));
	if (special != NULL)
		g_variant_builder_add_value(&builder, special);
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

static void
assert_rejected(GVariant *batch, gint code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) events = mrd_event_batch_parse(batch, &error);

	g_assert_null(events);
	g_assert_error(error, METRICS_ERROR, code);
	g_assert_nonnull(error->message);
	g_variant_unref(batch);
}

static void
test_valid(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) batch = make_batch(3, make_event(16, 2, 1000, 5, 0, 0));
	g_autoptr(GArray) events = mrd_event_batch_parse(batch, &error);
	MrdEvent *last;

	g_assert_no_error(error);
	g_assert_cmpuint(events->len, ==, 4);
	g_assert_nonnull(g_array_index(events, MrdEvent, 0).payload);
	last = &g_array_index(events, MrdEvent, 3);
	g_assert_cmpint(last->kind, ==, METRICS_EVENT_KIND_DURATION);
	g_assert_cmpint(last->amount, ==, 5);
	g_assert_null(last->payload);
}

static void
test_malformed(void)
{
	assert_rejected(make_batch(0, NULL), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(METRICS_MAX_BATCH + 1, NULL), METRICS_ERROR_LIMIT_EXCEEDED);
	assert_rejected(make_batch(1, make_event(15, 0, 1, 1, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(0, 0, 1, 1, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(17, 0, 1, 1, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 3, 1, 1, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 0, 1, 2, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 1, 1, 0, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 1, 1, -5, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 2, 1, MRD_MAX_DURATION_USEC + 1, 0, 0)),
			METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 0, 0, 1, 0, 0)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 0, 1, 1, 2, 1)), METRICS_ERROR_INVALID_DATA);
	assert_rejected(make_batch(1, make_event(16, 0, 1, 1, 1, METRICS_MAX_PAYLOAD_SIZE + 1)),
			METRICS_ERROR_LIMIT_EXCEEDED);
	assert_rejected(g_variant_ref_sink(g_variant_new_string("not a batch")),
			METRICS_ERROR_INVALID_DATA);
}

/* payloads are kept in normal form, so equal values aggregate together */
static void
test_normal_form(void)
{
	g_autoptr(GError) error = NULL;
	/* a non-normal serialization of a string: trusted=FALSE data */
	const guint8 data[] = {'a', 'b', '\0'};
	g_autoptr(GBytes) bytes = g_bytes_new(data, sizeof(data));
	g_autoptr(GVariant) value =
		g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE_STRING, bytes, FALSE));
	GVariantBuilder builder;
	g_autoptr(GVariant) batch = NULL;
	g_autoptr(GArray) events = NULL;
	guint8 id[16] = {0};
	GVariant *boxed = g_variant_new_variant(value);

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(ayuxxav)"));
	g_variant_builder_add(
		&builder, "(@ayuxx@av)", g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, 16, 1),
		0, (gint64)1, (gint64)1, g_variant_new_array(G_VARIANT_TYPE_VARIANT, &boxed, 1));
	batch = g_variant_ref_sink(g_variant_builder_end(&builder));
	events = mrd_event_batch_parse(batch, &error);
	g_assert_no_error(error);
	g_assert_true(g_variant_is_normal_form(g_array_index(events, MrdEvent, 0).payload));
	g_assert_cmpstr(g_variant_get_string(g_array_index(events, MrdEvent, 0).payload, NULL), ==,
			"ab");
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/mrd/event/valid", test_valid);
	g_test_add_func("/mrd/event/malformed", test_malformed);
	g_test_add_func("/mrd/event/normal-form", test_normal_form);

	return g_test_run();
}
