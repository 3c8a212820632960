/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The Azafea v3 body: uuid5, elements, little-endian normal form, gzip,
 * checksum, and the outbox that freezes closed weeks into requests split at
 * the size cap. Bodies are checked with the sink's validator, an
 * independent implementation of the server's checks.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mrd-aggregator.h"
#include "mrd-outbox.h"
#include "mrd-upload-body.h"
#include "msink-validate.h"

#define BASE_ID "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
/* the body of test_body_fixture(); the same bytes come out of Python's
 * GLib.Variant with uuid.uuid5() for the id, built independently */
#define BODY_FIXTURE_HEX                                                   \
	"08070605040302010807060504030201756e6b6e6f776e000000000000000000" \
	"ebd1839794c754f7b354bb880697bb57343200323032362d30312d3035000000" \
	"03000000000000006f72672e676e6f6d652e417070000073001e131000000000" \
	"ebd1839794c754f7b354bb880697bb57343200323032362d30312d3035000000" \
	"02010000000000005a000000000000000074001e13103c76201818"

static void
test_uuid5_vectors(void)
{
	/* RFC 4122 appendix C namespaces; the results are those of
	 * Python's uuid.uuid5, an independent implementation */
	const struct {
		const char *ns;
		const char *name;
		const char *expected;
	} vectors[] = {
		{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org",
		 "886313e1-3b8a-5372-9b90-0c9aee199e5d"},
		{"6ba7b811-9dad-11d1-80b4-00c04fd430c8", "https://fedoraproject.org/",
		 "e9917f8d-0811-5dd4-a88e-a214fe29ad70"},
		{BASE_ID, "weekly", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(vectors); i++) {
		guint8 ns[16], out[16];
		char text[METRICS_UUID_STRING_LENGTH + 1];

		g_assert_true(metrics_uuid_parse(vectors[i].ns, ns));
		mrd_uuid5(ns, vectors[i].name, out);
		metrics_uuid_unparse(out, text);
		g_assert_cmpint(out[6] >> 4, ==, 5);
		g_assert_cmpint(out[8] & 0xc0, ==, 0x80);
		if (vectors[i].expected != NULL)
			g_assert_cmpstr(text, ==, vectors[i].expected);
	}
}

static GVariant *
make_element(const char *week, MetricsEventKind kind, guint64 count, guint64 usec, GVariant *value)
{
	guint8 base[16];

	g_assert_true(metrics_uuid_parse(BASE_ID, base));
	return mrd_upload_element_new(base, "42", week, kind, count, usec, value);
}

static MsinkResult *
validate_body(GBytes *body)
{
	g_autofree char *checksum = mrd_upload_checksum(body);
	g_autofree char *path = g_strdup_printf("/3/%s", checksum);
	g_autoptr(GBytes) compressed = mrd_upload_gzip(body);

	return msink_validate("PUT", path, "gzip", compressed);
}

static void
test_body_valid(void)
{
	g_autoptr(GPtrArray) elements =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	g_autoptr(GBytes) events = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(MsinkResult) result = NULL;
	g_autoptr(GVariant) aggregates = NULL;
	g_autoptr(GVariant) payload = NULL;
	g_auto(GStrv) problems = NULL;
	const char *week = NULL, *os = NULL;
	guint32 count = 0;
	gint64 t0 = 0, t1 = 0;
	gsize id_len = 0;
	g_autoptr(GVariant) id = NULL;
	guint8 expected_id[16], base[16];

	g_ptr_array_add(elements, make_element("2026-01-05", METRICS_EVENT_KIND_VALUE, 3, 0,
					       g_variant_new_string("org.gnome.App")));
	g_ptr_array_add(elements, make_element("2026-01-05", METRICS_EVENT_KIND_COUNTER, 1ull << 40,
					       0, NULL));
	g_ptr_array_add(elements, make_element("2026-01-05", METRICS_EVENT_KIND_DURATION, 2,
					       90 * G_USEC_PER_SEC + 600000, NULL));
	events = mrd_upload_events_serialize(elements);
	body = mrd_upload_body_build(events, 1234567890123456789);
	result = validate_body(body);
	g_assert_cmpuint(result->status, ==, 200);
	problems = msink_privacy_problems(result->body);
	g_assert_null(problems);

	/* little-endian, normal form, the exact bytes */
	g_assert_cmpmem(g_bytes_get_data(body, NULL), 8, "\x15\x81\xe9\x7d\xf4\x10\x22\x11", 8);
	g_variant_get_child(result->body, 0, "x", &t0);
	g_variant_get_child(result->body, 1, "x", &t1);
	g_assert_cmpint(t0, ==, 1234567890123456789);
	g_assert_cmpint(t1, ==, t0);

	aggregates = g_variant_get_child_value(result->body, 6);
	g_assert_cmpuint(g_variant_n_children(aggregates), ==, 3);
	g_variant_get_child(aggregates, 0, "(@ay&s&su@mv)", &id, &os, &week, &count, &payload);
	g_assert_true(metrics_uuid_parse(BASE_ID, base));
	mrd_upload_weekly_id(base, expected_id);
	g_assert_cmpmem(g_variant_get_fixed_array(id, &id_len, 1), id_len, expected_id, 16);
	g_assert_cmpstr(os, ==, "42");
	g_assert_cmpstr(week, ==, "2026-01-05");
	g_assert_cmpuint(count, ==, 3);
	{
		g_autofree char *text = g_variant_print(payload, TRUE);
		g_assert_cmpstr(text, ==, "@mv <'org.gnome.App'>");
	}
	g_clear_pointer(&id, g_variant_unref);
	g_clear_pointer(&payload, g_variant_unref);

	/* counts are capped to u32 */
	g_variant_get_child(aggregates, 1, "(@ay&s&su@mv)", &id, &os, &week, &count, &payload);
	g_assert_cmpuint(count, ==, G_MAXUINT32);
	g_assert_null(g_variant_get_maybe(payload));
	g_clear_pointer(&id, g_variant_unref);
	g_clear_pointer(&payload, g_variant_unref);

	/* durations: the rounded seconds */
	g_variant_get_child(aggregates, 2, "(@ay&s&su@mv)", &id, &os, &week, &count, &payload);
	g_assert_cmpuint(count, ==, 2);
	{
		g_autofree char *text = g_variant_print(payload, TRUE);
		g_assert_cmpstr(text, ==, "@mv <uint64 91>");
	}
}

/* a whole small body, byte for byte, as an Azafea server must receive it
 * whatever the host's byte order: little-endian, normal form. Built on a
 * little-endian host and checked against the field layout in
 * docs/upload.md; a missed byte swap on a big-endian host fails here */
static const char body_fixture_hex[] = BODY_FIXTURE_HEX;

static void
test_body_fixture(void)
{
	g_autoptr(GPtrArray) elements =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	g_autoptr(GBytes) events = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GString) hex = g_string_new(NULL);
	const guint8 *data;
	gsize len = 0;

	g_ptr_array_add(elements, make_element("2026-01-05", METRICS_EVENT_KIND_VALUE, 3, 0,
					       g_variant_new_string("org.gnome.App")));
	g_ptr_array_add(elements, make_element("2026-01-05", METRICS_EVENT_KIND_DURATION, 258,
					       90 * G_USEC_PER_SEC, NULL));
	events = mrd_upload_events_serialize(elements);
	body = mrd_upload_body_build(events, G_GINT64_CONSTANT(0x0102030405060708));
	data = g_bytes_get_data(body, &len);
	for (gsize i = 0; i < len; i++)
		g_string_append_printf(hex, "%02x", data[i]);
	g_assert_cmpstr(hex->str, ==, body_fixture_hex);
}

static void
test_duration_with_value(void)
{
	g_autoptr(GVariant) element =
		make_element("2026-01-05", METRICS_EVENT_KIND_DURATION, 1, 3 * G_USEC_PER_SEC,
			     g_variant_new_string("org.gnome.App"));
	g_autoptr(GVariant) payload = g_variant_get_child_value(element, 4);
	g_autofree char *text = g_variant_print(payload, TRUE);

	g_assert_cmpstr(text, ==, "@mv <('org.gnome.App', uint64 3)>");
}

static void
test_checksum_and_gzip(void)
{
	g_autoptr(GBytes) data = g_bytes_new_static("abc", 3);
	g_autofree char *sum = mrd_upload_checksum(data);
	g_autoptr(GBytes) compressed = mrd_upload_gzip(data);
	const guint8 *gz = g_bytes_get_data(compressed, NULL);

	g_assert_cmpstr(sum, ==,
			"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	/* a gzip member without name or time */
	g_assert_cmpint(gz[0], ==, 0x1f);
	g_assert_cmpint(gz[1], ==, 0x8b);
	g_assert_cmpint(gz[3], ==, 0);
	g_assert_cmpmem(gz + 4, 4, "\0\0\0\0", 4);
}

/* a body built by hand, bypassing the daemon's builder: one aggregate with
 * an id of @id_len bytes and @period */
static GBytes *
hand_made_body(gsize id_len, const char *period)
{
	static const guint8 id[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
	GVariant *element = g_variant_new(
		"(@ayssu@mv)", g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, id_len, 1), "42",
		period, (guint32)1, g_variant_new_maybe(G_VARIANT_TYPE_VARIANT, NULL));
	g_autoptr(GVariant) body = g_variant_ref_sink(
		g_variant_new("(xxs@a{ss}y@a(aysxmv)@a(ayssumv))", (gint64)1, (gint64)1, "unknown",
			      g_variant_new_array(G_VARIANT_TYPE("{ss}"), NULL, 0), (guchar)0,
			      g_variant_new_array(G_VARIANT_TYPE("(aysxmv)"), NULL, 0),
			      g_variant_new_array(G_VARIANT_TYPE("(ayssumv)"), &element, 1)));
	g_autoptr(GVariant) normal = g_variant_get_normal_form(body);

	if (G_BYTE_ORDER == G_BIG_ENDIAN) {
		g_autoptr(GVariant) swapped = g_variant_byteswap(normal);
		return g_variant_get_data_as_bytes(swapped);
	}
	return g_variant_get_data_as_bytes(normal);
}

/* what the server parses, and what our privacy rules add */
static void
test_validator_periods(void)
{
	const struct {
		const char *period;
		guint status;
		gboolean monday;
	} cases[] = {
		{"2026-01-05", 200, TRUE},  {"2026-01-06", 200, FALSE}, {"2026-01", 200, FALSE},
		{"2026-13-01", 400, FALSE}, {"2026-02-30", 400, FALSE}, {"2026-W02", 400, FALSE},
		{"2026-1-05", 400, FALSE},  {"", 400, FALSE},		{"2026-01-05x", 400, FALSE},
		{"0000-01-03", 400, FALSE},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GBytes) body = hand_made_body(16, cases[i].period);
		g_autoptr(MsinkResult) result = validate_body(body);
		g_auto(GStrv) problems = NULL;

		g_test_message("period '%s': %u %s", cases[i].period, result->status,
			       result->message);
		g_assert_cmpuint(result->status, ==, cases[i].status);
		if (result->status != 200)
			continue;
		problems = msink_privacy_problems(result->body);
		if (cases[i].monday) {
			g_assert_null(problems);
		} else {
			g_assert_nonnull(problems);
			g_assert_nonnull(strstr(problems[0], "not a Monday"));
		}
	}
}

static void
test_validator_rejects(void)
{
	g_autoptr(GPtrArray) elements =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	g_autoptr(GBytes) events = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GBytes) compressed = NULL;
	g_autofree char *sum = NULL;
	g_autofree char *path = NULL;
	g_autofree char *upper = NULL;
	g_autoptr(GBytes) wrong = g_bytes_new_static("\0\0\0\0", 4);
	struct {
		const char *method;
		const char *path;
		const char *encoding;
		GBytes *body;
		guint status;
	} cases[6];

	g_ptr_array_add(elements,
			make_element("2026-01-05", METRICS_EVENT_KIND_COUNTER, 1, 0, NULL));
	events = mrd_upload_events_serialize(elements);
	body = mrd_upload_body_build(events, 1);
	compressed = mrd_upload_gzip(body);
	sum = mrd_upload_checksum(body);
	path = g_strdup_printf("/3/%s", sum);
	upper = g_ascii_strup(path, -1);
	upper[1] = '3';
	cases[0] = (typeof(cases[0])){"POST", path, "gzip", compressed, 405};
	cases[1] = (typeof(cases[0])){"PUT", upper, "gzip", compressed, 405};
	cases[2] = (typeof(cases[0])){"PUT", path, "deflate", compressed, 400};
	cases[3] = (typeof(cases[0])){"PUT", path, "gzip", body, 500};
	cases[4] = (typeof(cases[0])){"PUT", path, NULL, compressed, 400};
	cases[5] = (typeof(cases[0])){"PUT", path, NULL, body, 200};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(MsinkResult) result = msink_validate(cases[i].method, cases[i].path,
							       cases[i].encoding, cases[i].body);
		g_test_message("case %u: %u %s", i, result->status, result->message);
		g_assert_cmpuint(result->status, ==, cases[i].status);
	}
	{
		g_autofree char *wrong_sum = mrd_upload_checksum(wrong);
		g_autofree char *wrong_path = g_strdup_printf("/3/%s", wrong_sum);
		g_autoptr(MsinkResult) result = msink_validate("PUT", wrong_path, NULL, wrong);
		g_assert_cmpuint(result->status, ==, 400);
	}
	/* an event id of 15 bytes sinks the whole request */
	{
		g_autoptr(GBytes) short_id = hand_made_body(15, "2026-01-05");
		g_autoptr(MsinkResult) result = validate_body(short_id);

		g_assert_cmpuint(result->status, ==, 400);
		g_assert_nonnull(strstr(result->message, "16 bytes"));
	}
	/* a period the server cannot parse */
	{
		g_autoptr(GBytes) bad_period = hand_made_body(16, "2026-W02");
		g_autoptr(MsinkResult) result = validate_body(bad_period);

		g_assert_cmpuint(result->status, ==, 400);
		g_assert_nonnull(strstr(result->message, "period"));
	}
	/* the right type, but not in normal form: the image id is not
	 * nul-terminated */
	{
		g_autoptr(GBytes) good = hand_made_body(16, "2026-01-05");
		gsize len = g_bytes_get_size(good);
		guint8 *bytes = g_memdup2(g_bytes_get_data(good, NULL), len);
		guint8 *nul = memmem(bytes, len, "unknown", 8);
		g_autoptr(GBytes) bad = NULL;
		g_autoptr(MsinkResult) result = NULL;

		g_assert_nonnull(nul);
		nul[7] = 1;
		bad = g_bytes_new_take(bytes, len);
		result = validate_body(bad);
		g_assert_cmpuint(result->status, ==, 400);
		g_assert_nonnull(strstr(result->message, "normal form"));
	}
}

typedef struct {
	char *dir;
	char *path;
	MrdStore *store;
	MrdOutbox *outbox;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fixture->dir = g_dir_make_tmp("mrd-outbox-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->path = g_build_filename(fixture->dir, "metrics.db", NULL);
	fixture->store = mrd_store_open(fixture->path, &error);
	g_assert_no_error(error);
	fixture->outbox = mrd_outbox_new(fixture->store, "42");
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->outbox);
	g_clear_object(&fixture->store);
	mrd_store_delete_files(fixture->path, NULL);
	g_rmdir(fixture->dir);
	g_free(fixture->path);
	g_free(fixture->dir);
}

static void
delta_clear(gpointer data)
{
	MrdDelta *delta = data;
	g_clear_pointer(&delta->payload, g_bytes_unref);
}

/* @n distinct string values of one metric in @week, for @uid */
static void
add_values(Fixture *fixture, guint32 uid, const char *week, guint n, const char *prefix)
{
	g_autoptr(GArray) deltas = g_array_new(FALSE, TRUE, sizeof(MrdDelta));
	g_autoptr(GError) error = NULL;
	gint64 start = 0;

	g_array_set_clear_func(deltas, delta_clear);
	g_assert_true(mrd_week_from_string(week, &start));
	for (guint i = 0; i < n; i++) {
		g_autofree char *text = g_strdup_printf("%s-%04u-%s", prefix, i,
							"padding-to-make-values-longer-0123456789");
		g_autoptr(GVariant) maybe = g_variant_ref_sink(g_variant_new_maybe(
			G_VARIANT_TYPE_VARIANT, g_variant_new_variant(g_variant_new_string(text))));
		MrdDelta delta = {
			.week = start,
			.kind = METRICS_EVENT_KIND_VALUE,
			.payload = g_variant_get_data_as_bytes(maybe),
			.count = 1,
		};

		g_assert_true(metrics_uuid_parse(BASE_ID, delta.id));
		g_array_append_val(deltas, delta);
	}
	g_assert_true(mrd_store_add(fixture->store, uid, deltas, &error));
	g_assert_no_error(error);
}

static guint64
total_count(GPtrArray *requests)
{
	guint64 total = 0;

	for (guint i = 0; i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);
		g_autoptr(GVariant) events = mrd_upload_events_parse(request->events, NULL);
		GVariantIter iter;
		guint32 count;

		g_assert_nonnull(events);
		g_variant_iter_init(&iter, events);
		while (g_variant_iter_loop(&iter, "(@ay&s&su@mv)", NULL, NULL, NULL, &count, NULL))
			total += count;
	}
	return total;
}

static void
test_freeze(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) requests = NULL;
	g_autoptr(GPtrArray) preview = NULL;
	gint64 monday = 0, now;
	guint n = 0;
	guint64 keys = 0, events = 0;

	g_assert_true(mrd_week_from_string("2026-01-05", &monday));
	/* two users, the same values: merged, counts summed */
	add_values(fixture, 1000, "2026-01-05", 3, "a");
	add_values(fixture, 1001, "2026-01-05", 3, "a");
	add_values(fixture, 1000, "2026-01-12", 2, "b");

	/* during the week nothing is frozen, but the preview shows it */
	now = monday + 3 * G_TIME_SPAN_DAY;
	g_assert_true(mrd_outbox_freeze(fixture->outbox, now, 7, 65536, &n, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 0);
	preview = mrd_outbox_preview(fixture->outbox, now, 65536, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(preview->len, ==, 2);
	g_assert_cmpuint(total_count(preview), ==, 8);

	/* after the week: one request for the closed week, due within the
	 * window after its end; the open week stays aggregated */
	now = monday + 7 * G_TIME_SPAN_DAY + 1;
	g_assert_true(mrd_outbox_freeze(fixture->outbox, now, 7, 65536, &n, &error));
	g_assert_cmpuint(n, ==, 1);
	requests = mrd_outbox_list(fixture->outbox, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(requests->len, ==, 1);
	{
		MrdOutboxRequest *request = g_ptr_array_index(requests, 0);

		g_assert_cmpstr(request->week, ==, "2026-01-05");
		g_assert_cmpuint(request->n_events, ==, 3);
		g_assert_cmpint(request->due, >=, now);
		g_assert_cmpint(request->due, <=, monday + 14 * G_TIME_SPAN_DAY);
		g_assert_cmpint(request->next_try, ==, request->due);
	}
	g_assert_cmpuint(total_count(requests), ==, 6);
	g_assert_true(mrd_store_get_totals(fixture->store, &keys, &events, &error));
	g_assert_cmpuint(keys, ==, 2);

	/* freezing again adds nothing */
	g_assert_true(mrd_outbox_freeze(fixture->outbox, now, 7, 65536, &n, &error));
	g_assert_cmpuint(n, ==, 0);
}

static void
test_split(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) requests = NULL;
	gint64 monday = 0;
	guint n = 0;
	const guint cap = 4096;

	g_assert_true(mrd_week_from_string("2026-01-05", &monday));
	add_values(fixture, 1000, "2026-01-05", 300, "split");
	g_assert_true(mrd_outbox_freeze(fixture->outbox, monday + 8 * G_TIME_SPAN_DAY, 0, cap, &n,
					&error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, >, 1);
	requests = mrd_outbox_list(fixture->outbox, &error);
	g_assert_cmpuint(requests->len, ==, n);
	g_assert_cmpuint(total_count(requests), ==, 300);
	for (guint i = 0; i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);
		g_autoptr(GBytes) body = mrd_upload_body_build(request->events, G_MAXINT64);
		g_autoptr(GBytes) compressed = mrd_upload_gzip(body);
		g_autoptr(MsinkResult) result = validate_body(body);

		g_assert_cmpuint(result->status, ==, 200);
		g_assert_cmpuint(g_bytes_get_size(compressed), <=, cap);
		/* window 0: due exactly when noticed */
		g_assert_cmpint(request->due, ==, monday + 8 * G_TIME_SPAN_DAY);
	}
}

static void
test_complete_and_archive(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) requests = NULL;
	g_autoptr(GPtrArray) sent = NULL;
	g_autoptr(MrdOutboxRequest) next = NULL;
	g_autoptr(GBytes) body = NULL;
	gint64 monday = 0, now;
	guint64 pending = 0, set_aside = 0;
	gint64 next_try = 0, last = 0;

	g_assert_true(mrd_week_from_string("2026-01-05", &monday));
	add_values(fixture, 1000, "2026-01-05", 2, "x");
	add_values(fixture, 1000, "2026-01-05", 2, "y");
	now = monday + 8 * G_TIME_SPAN_DAY;
	g_assert_true(mrd_outbox_freeze(fixture->outbox, now, 0, 4096, NULL, &error));
	next = mrd_outbox_next(fixture->outbox, now, 0, &error);
	g_assert_no_error(error);
	g_assert_nonnull(next);
	g_assert_true(mrd_outbox_begin_attempt(fixture->outbox, next->id, now, now + 60, &error));
	body = mrd_upload_body_build(next->events, now * 1000);
	g_assert_true(mrd_outbox_complete(fixture->outbox, next, now, 200, "200 OK", body, "sum",
					  10, &error));
	g_assert_no_error(error);
	requests = mrd_outbox_list(fixture->outbox, &error);
	g_assert_cmpuint(requests->len, ==, 0);
	sent = mrd_outbox_list_sent(fixture->outbox, &error);
	g_assert_cmpuint(sent->len, ==, 1);
	g_assert_true(mrd_outbox_get_stats(fixture->outbox, &pending, &set_aside, &next_try, &last,
					   &error));
	g_assert_cmpint(last, ==, now);

	/* the archive keeps 90 days */
	g_assert_true(mrd_outbox_prune(fixture->outbox, now + MRD_OUTBOX_KEEP - 1, NULL, &error));
	g_clear_pointer(&sent, g_ptr_array_unref);
	sent = mrd_outbox_list_sent(fixture->outbox, &error);
	g_assert_cmpuint(sent->len, ==, 1);
	g_assert_true(mrd_outbox_prune(fixture->outbox, now + MRD_OUTBOX_KEEP + 1, NULL, &error));
	g_clear_pointer(&sent, g_ptr_array_unref);
	sent = mrd_outbox_list_sent(fixture->outbox, &error);
	g_assert_cmpuint(sent->len, ==, 0);
}

/* an allowlist of one counter, @id, kept until @expires; with no @id, an
 * empty one (as when no allowlist file could be read) */
static MrdAllowlist *
make_allowlist(const char *id, const char *expires)
{
	const char *const no_dirs[] = {NULL};
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new(no_dirs);
	g_autoptr(GError) error = NULL;
	g_autofree char *json = NULL;

	if (id == NULL)
		return g_steal_pointer(&allowlist);
	json = g_strdup_printf("{\"format\": 1, \"metrics\": [{\"id\": \"%s\", "
			       "\"name\": \"test-metric\", \"description\": \"Something\", "
			       "\"purpose\": \"Tests\", \"owner\": \"Tests\", "
			       "\"category\": \"usage\", \"kind\": \"counter\", "
			       "\"recorders\": [\"session\"], "
			       "\"added\": \"2025-06-01\", \"expires\": \"%s\", "
			       "\"weekly_cap\": 1000}]}",
			       id, expires);
	g_assert_true(mrd_allowlist_load_data(allowlist, "test.json", json, -1, &error));
	g_assert_no_error(error);
	return g_steal_pointer(&allowlist);
}

static void
dropped_cb(MrdOutbox *outbox, guint reason_id, guint64 n_events, gpointer user_data)
{
	GHashTable *drops = user_data;
	const char *reason = mrd_drop_reason_to_string((MrdDropReason)reason_id);
	guint64 *count = g_hash_table_lookup(drops, reason);

	if (count == NULL) {
		count = g_new0(guint64, 1);
		g_hash_table_insert(drops, g_strdup(reason), count);
	}
	*count += n_events;
}

static guint64
drops_of(GHashTable *drops, const char *reason)
{
	guint64 *count = g_hash_table_lookup(drops, reason);
	return count != NULL ? *count : 0;
}

/* the allowlist at freeze (even when it leaves nothing to send) and before a
 * send, the retention of pending requests, and spreading a backlog */
static void
test_drops_and_spread(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) drops =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GPtrArray) requests = NULL;
	g_autoptr(MrdOutboxRequest) next = NULL;
	gint64 monday = 0, now;
	guint n = 0;
	guint64 keys = 1, events = 1;
	gboolean deferred = FALSE;
	g_autoptr(MrdAllowlist) empty = make_allowlist(NULL, NULL);
	g_autoptr(MrdAllowlist) other =
		make_allowlist("8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c0ff", "2026-05-31");
	g_autoptr(MrdAllowlist) expired = make_allowlist(BASE_ID, "2026-01-10");

	g_signal_connect(fixture->outbox, "dropped", G_CALLBACK(dropped_cb), drops);
	g_assert_true(mrd_week_from_string("2026-01-05", &monday));
	now = monday + 8 * G_TIME_SPAN_DAY;

	/* the allowlist cannot tell (it is empty): nothing frozen, nothing lost */
	add_values(fixture, 1000, "2026-01-05", 3, "w");
	mrd_outbox_set_allowlist(fixture->outbox, empty);
	g_assert_true(mrd_outbox_freeze(fixture->outbox, now, 0, 65536, &n, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpuint(g_hash_table_size(drops), ==, 0);
	g_assert_true(mrd_store_get_totals(fixture->store, &keys, &events, &error));
	g_assert_cmpuint(keys, ==, 3);

	/* a withdrawn metric: its aggregates are deleted, not frozen */
	mrd_outbox_set_allowlist(fixture->outbox, other);
	g_assert_true(mrd_outbox_freeze(fixture->outbox, now, 0, 65536, &n, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpuint(drops_of(drops, "not-allowlisted"), ==, 3);
	g_assert_true(mrd_store_get_totals(fixture->store, &keys, &events, &error));
	g_assert_cmpuint(keys, ==, 0);

	/* frozen while allowed, expired before the send */
	mrd_outbox_set_allowlist(fixture->outbox, NULL);
	add_values(fixture, 1000, "2026-01-05", 300, "e");
	g_assert_true(mrd_outbox_freeze(fixture->outbox, now, 0, 4096, &n, &error));
	g_assert_cmpuint(n, >, 2);
	next = mrd_outbox_next(fixture->outbox, now, 0, &error);
	g_assert_nonnull(next);
	g_assert_false(mrd_outbox_drop_if_filtered(fixture->outbox, next, now, NULL, &error));
	/* the allowlist cannot tell: kept, not to be sent */
	mrd_outbox_set_allowlist(fixture->outbox, empty);
	g_assert_false(mrd_outbox_drop_if_filtered(fixture->outbox, next, now, &deferred, &error));
	g_assert_true(deferred);
	mrd_outbox_set_allowlist(fixture->outbox, expired);
	g_assert_true(mrd_outbox_drop_if_filtered(fixture->outbox, next, now, &deferred, &error));
	g_assert_false(deferred);
	g_assert_no_error(error);
	g_assert_cmpuint(drops_of(drops, "expired"), ==, next->n_events);
	mrd_outbox_set_allowlist(fixture->outbox, NULL);

	/* a backlog: all due now; all but one get a new moment in the spread */
	g_assert_true(mrd_outbox_spread_overdue(fixture->outbox, now, 0, 0, &n, &error));
	requests = mrd_outbox_list(fixture->outbox, &error);
	g_assert_cmpuint(n, ==, requests->len);
	g_clear_pointer(&requests, g_ptr_array_unref);
	g_clear_pointer(&next, mrd_outbox_request_free);
	next = mrd_outbox_next(fixture->outbox, now, 0, &error);
	g_assert_true(mrd_outbox_spread_overdue(fixture->outbox, now, next->id, 60 * G_USEC_PER_SEC,
						&n, &error));
	requests = mrd_outbox_list(fixture->outbox, &error);
	g_assert_cmpuint(n, ==, requests->len - 1);
	for (guint i = 0; i < requests->len; i++) {
		MrdOutboxRequest *request = g_ptr_array_index(requests, i);

		if (request->id == next->id) {
			g_assert_cmpint(request->next_try, <=, now);
			continue;
		}
		g_assert_cmpint(request->next_try, >=, now);
		g_assert_cmpint(request->next_try, <=, now + 60 * G_USEC_PER_SEC + 1);
	}
	g_clear_pointer(&requests, g_ptr_array_unref);

	/* retention: kept from the oldest week kept on, dropped before it */
	g_assert_true(mrd_outbox_prune(fixture->outbox, monday + 8 * MRD_WEEK_USEC, "2026-01-05",
				       &error));
	g_assert_cmpuint(drops_of(drops, "retention"), ==, 0);
	requests = mrd_outbox_list(fixture->outbox, &error);
	g_assert_cmpuint(requests->len, >, 0);
	g_clear_pointer(&requests, g_ptr_array_unref);
	g_assert_true(mrd_outbox_prune(fixture->outbox, monday + 9 * MRD_WEEK_USEC, "2026-01-12",
				       &error));
	g_assert_no_error(error);
	g_assert_cmpuint(drops_of(drops, "retention"), ==, 300 - next->n_events);
	requests = mrd_outbox_list(fixture->outbox, &error);
	g_assert_cmpuint(requests->len, ==, 0);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/metrics/upload/uuid5", test_uuid5_vectors);
	g_test_add_func("/metrics/upload/body/valid", test_body_valid);
	g_test_add_func("/metrics/upload/body/duration-with-value", test_duration_with_value);
	g_test_add_func("/metrics/upload/body/checksum-gzip", test_checksum_and_gzip);
	g_test_add_func("/metrics/upload/validator/rejects", test_validator_rejects);
	g_test_add_func("/metrics/upload/validator/periods", test_validator_periods);
	g_test_add_func("/metrics/upload/body/fixture", test_body_fixture);
	g_test_add("/metrics/upload/outbox/freeze", Fixture, NULL, fixture_set_up, test_freeze,
		   fixture_tear_down);
	g_test_add("/metrics/upload/outbox/split", Fixture, NULL, fixture_set_up, test_split,
		   fixture_tear_down);
	g_test_add("/metrics/upload/outbox/complete", Fixture, NULL, fixture_set_up,
		   test_complete_and_archive, fixture_tear_down);
	g_test_add("/metrics/upload/outbox/drops-and-spread", Fixture, NULL, fixture_set_up,
		   test_drops_and_spread, fixture_tear_down);
	return g_test_run();
}
