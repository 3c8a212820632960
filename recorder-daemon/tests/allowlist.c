/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "metrics-error.h"
#include "mrd-aggregator.h"
#include "mrd-allowlist.h"
#include "mrd-gate.h"

#define ID_A "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c0aa"
#define ID_B "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c0bb"
#define ID_C "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c0cc"

/* 2027-01-06 12:00 UTC: within the test metrics' lifetime */
#define NOW (G_GINT64_CONSTANT(1799236800) * G_USEC_PER_SEC)

typedef struct {
	char *tmpdir;
	char *dirs[3];
} Fixture;

static void
remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			remove_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fixture->tmpdir = g_dir_make_tmp("allowlist-test-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->dirs[0] = g_build_filename(fixture->tmpdir, "shipped", NULL);
	fixture->dirs[1] = g_build_filename(fixture->tmpdir, "admin", NULL);
	fixture->dirs[2] = NULL;
	for (guint i = 0; i < 2; i++) {
		g_autofree char *sets = g_build_filename(fixture->dirs[i], "value-sets", NULL);
		g_assert_cmpint(g_mkdir_with_parents(sets, 0700), ==, 0);
	}
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	remove_tree(fixture->tmpdir);
	g_free(fixture->tmpdir);
	g_free(fixture->dirs[0]);
	g_free(fixture->dirs[1]);
}

static void
write_file(const char *dir, const char *name, const char *contents)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
}

/* a valid metric, one member per line; @extra adds members */
static char *
metric_json(const char *id, const char *name, const char *kind, const char *extra)
{
	return g_strdup_printf("    {\n"
			       "      \"id\": \"%s\",\n"
			       "      \"name\": \"%s\",\n"
			       "      \"description\": \"Something happened\",\n"
			       "      \"purpose\": \"To know how often\",\n"
			       "      \"owner\": \"Tests\", \"recorders\": [\"session\"],\n"
			       "      \"category\": \"usage\",\n"
			       "      \"kind\": \"%s\",\n"
			       "      \"added\": \"2026-11-01\",\n"
			       "      \"expires\": \"2027-10-31\",\n"
			       "      \"weekly_cap\": 100%s\n"
			       "    }",
			       id, name, kind, extra != NULL ? extra : "");
}

static char *
document(const char *metric1, const char *metric2)
{
	return g_strdup_printf("{\n  \"format\": 1,\n  \"metrics\": [\n%s%s%s\n  ]\n}\n", metric1,
			       metric2 != NULL ? ",\n" : "", metric2 != NULL ? metric2 : "");
}

static MrdEvent
make_event(const char *id, MetricsEventKind kind, GVariant *payload)
{
	MrdEvent event = {0};

	g_assert_true(metrics_uuid_parse(id, event.id));
	event.kind = kind;
	event.time = NOW;
	event.amount = 1;
	event.payload = payload != NULL ? g_variant_ref_sink(payload) : NULL;
	return event;
}

static MrdDropReason
check(MrdAllowlist *allowlist, const char *id, MetricsEventKind kind, GVariant *payload, gint64 now)
{
	MrdEvent event = make_event(id, kind, payload);
	MrdDropReason reason = mrd_allowlist_check(allowlist, &event, now, NULL);

	g_clear_pointer(&event.payload, g_variant_unref);
	return reason;
}

static void
test_parse_good(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *a = metric_json(ID_A, "app-opened", "value",
					 ",\n      \"payload\": \"s\",\n"
					 "      \"values\": [\"x\", \"y\"],\n"
					 "      \"other\": \"map\",\n"
					 "      \"sample_rate\": 0.5");
	g_autofree char *b = metric_json(ID_B, "crashes", "counter", ",\n      \"payload\": null");
	g_autofree char *doc = document(a, b);
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new((const char *const *)fixture->dirs);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
	g_autoptr(GPtrArray) metrics = NULL;
	const MrdMetric *metric;
	guint8 id[METRICS_UUID_SIZE];

	write_file(fixture->dirs[0], "group.json", doc);
	g_assert_cmpuint(mrd_allowlist_load(allowlist, errors), ==, 2);
	g_assert_cmpuint(errors->len, ==, 0);

	metrics_uuid_parse(ID_A, id);
	metric = mrd_allowlist_lookup(allowlist, id);
	g_assert_nonnull(metric);
	g_assert_cmpstr(metric->name, ==, "app-opened");
	g_assert_cmpstr(metric->id_str, ==, ID_A);
	g_assert_cmpint(metric->kind, ==, METRICS_EVENT_KIND_VALUE);
	g_assert_cmpint(metric->category, ==, MRD_METRIC_CATEGORY_USAGE);
	g_assert_true(g_variant_type_equal(metric->payload, G_VARIANT_TYPE_STRING));
	g_assert_nonnull(mrd_metric_get_strings(metric));
	g_assert_cmpuint(g_hash_table_size(mrd_metric_get_strings(metric)->values), ==, 2);
	g_assert_true(mrd_metric_get_strings(metric)->map_other);
	g_assert_cmpstr(metric->recorders[0], ==, "session");
	g_assert_null(metric->recorders[1]);
	g_assert_cmpfloat(metric->sample_rate, ==, 0.5);
	g_assert_cmpuint(metric->weekly_cap, ==, 100);
	g_assert_cmpstr(metric->expires, ==, "2027-10-31");

	metric = mrd_allowlist_lookup_name(allowlist, "crashes");
	g_assert_nonnull(metric);
	g_assert_null(metric->payload);
	g_assert_cmpfloat(metric->sample_rate, ==, 1.0);
	g_assert_cmpint(metric->kind, ==, METRICS_EVENT_KIND_COUNTER);

	metrics = mrd_allowlist_get_metrics(allowlist);
	g_assert_cmpuint(metrics->len, ==, 2);
	g_assert_cmpstr(((MrdMetric *)g_ptr_array_index(metrics, 0))->name, ==, "app-opened");
}

typedef struct {
	const char *name;
	const char *from; /* replaced in a valid document … */
	const char *to;	  /* … by this */
	const char *field;
	guint line; /* expected in the message, 0 for none */
} BrokenCase;

static const BrokenCase broken_cases[] = {
	{"bad-json", "\"owner\": \"Tests\",", "\"owner\": \"Tests\",,", NULL, 9},
	{"unknown-key", "\"owner\": \"Tests\",", "\"owner\": \"Tests\", \"colour\": \"red\",",
	 "colour", 9},
	{"bad-uuid", ID_A, "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c0zz", "id", 5},
	{"upper-case-uuid", ID_A, "8F3B6A59-2C1E-4C7A-9B0E-51D2F4A7C0AA", "id", 5},
	{"bad-type", "\"kind\": \"value\",", "\"kind\": \"value\", \"payload\": \"(sq\",",
	 "payload", 11},
	{"indefinite-type", "\"kind\": \"value\",", "\"kind\": \"value\", \"payload\": \"*\",",
	 "payload", 11},
	{"missing-expires", "\"expires\": \"2027-10-31\",", "", "expires", 5},
	{"expires-too-late", "\"expires\": \"2027-10-31\"", "\"expires\": \"2027-12-02\"",
	 "expires", 13},
	{"expires-before-added", "\"expires\": \"2027-10-31\"", "\"expires\": \"2026-10-31\"",
	 "expires", 13},
	{"bad-date", "\"added\": \"2026-11-01\"", "\"added\": \"2026-02-30\"", "added", 12},
	{"bad-kind", "\"kind\": \"value\"", "\"kind\": \"gauge\"", "kind", 11},
	{"bad-category", "\"category\": \"usage\"", "\"category\": \"secrets\"", "category", 10},
	{"bad-name", "\"name\": \"one\"", "\"name\": \"One Metric\"", "name", 6},
	{"empty-description", "\"description\": \"Something happened\"", "\"description\": \"\"",
	 "description", 7},
	{"bad-rate", "\"weekly_cap\": 100", "\"weekly_cap\": 100, \"sample_rate\": 1.5",
	 "sample_rate", 14},
	{"bad-cap", "\"weekly_cap\": 100", "\"weekly_cap\": 0", "weekly_cap", 14},
	{"string-without-set", "\"kind\": \"value\",", "\"kind\": \"value\", \"payload\": \"s\",",
	 "values", 5},
	{"set-without-string", "\"weekly_cap\": 100", "\"weekly_cap\": 100, \"values\": [\"a\"]",
	 "values", 14},
	{"missing-value-set", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"s\", \"values_from\": \"nope\",", "values_from", 11},
	{"bad-other", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"s\", \"values\": [\"a\"], \"other\": \"keep\",",
	 "other", 11},
	/* closed value domains: no free text, no unbounded number */
	{"any-value", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"s\", \"any_value\": true,", "any_value", 11},
	{"any-value-with-set", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"s\", \"values\": [\"a\"], \"any_value\": true,",
	 "any_value", 11},
	{"number-without-buckets", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"u\",", "buckets", 5},
	{"double-without-buckets", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"d\",", "buckets", 5},
	{"number-with-values", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"t\", \"values\": [\"1\"],", "values", 11},
	{"string-with-buckets", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"s\", \"values\": [\"a\"], \"buckets\": [1],",
	 "buckets", 11},
	{"boolean-with-values", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"b\", \"values\": [\"a\"],", "values", 11},
	{"empty-buckets", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"u\", \"buckets\": [],", "buckets", 11},
	{"buckets-not-increasing", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"u\", \"buckets\": [4, 2],", "buckets", 11},
	{"buckets-fraction-for-integer", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"x\", \"buckets\": [0.5],", "buckets", 11},
	{"buckets-not-numbers", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"d\", \"buckets\": [\"1\"],", "buckets", 11},
	{"free-type-array", "\"kind\": \"value\",", "\"kind\": \"value\", \"payload\": \"as\",",
	 "payload", 11},
	{"free-type-variant", "\"kind\": \"value\",", "\"kind\": \"value\", \"payload\": \"v\",",
	 "payload", 11},
	{"free-type-object-path", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"o\",", "payload", 11},
	{"nested-tuple", "\"kind\": \"value\",", "\"kind\": \"value\", \"payload\": \"(s(su))\",",
	 "payload", 11},
	{"tuple-without-members", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"(su)\",", "members", 5},
	{"tuple-with-top-level-values", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"(su)\", \"values\": [\"a\"],", "values", 11},
	{"tuple-members-count", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"(su)\", \"members\": [{\"values\": [\"a\"]}],",
	 "members", 11},
	{"tuple-member-free-text", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"(su)\", \"members\": [{}, {\"buckets\": [1]}],",
	 "members[0].values", 11},
	{"tuple-member-unbounded", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"(su)\", \"members\": [{\"values\": [\"a\"]}, {}],",
	 "members[1].buckets", 11},
	{"tuple-member-unknown-key", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"(bq)\", \"members\": [{\"any_value\": true}, "
	 "{\"buckets\": [1]}],",
	 "members[0].any_value", 11},
	{"members-without-tuple", "\"kind\": \"value\",",
	 "\"kind\": \"value\", \"payload\": \"b\", \"members\": [{}],", "members", 11},
	/* who may record */
	{"missing-recorders", " \"recorders\": [\"session\"],", "", "recorders", 5},
	{"empty-recorders", "[\"session\"]", "[]", "recorders", 9},
	{"bad-recorder", "[\"session\"]", "[\"anyone\"]", "recorders", 9},
	{"bad-app-recorder", "[\"session\"]", "[\"app:not an id\"]", "recorders", 9},
	{"bad-format", "\"format\": 1", "\"format\": 2", "format", 2},
	{"top-level-key", "\"format\": 1", "\"format\": 1, \"extra\": true", "extra", 2},
};

static void
test_parse_broken(Fixture *fixture, gconstpointer user_data)
{
	const BrokenCase *bc = user_data;
	g_autofree char *good = metric_json(ID_C, "good", "counter", NULL);
	g_autofree char *one = metric_json(ID_A, "one", "value", NULL);
	g_autofree char *good_doc = document(good, NULL);
	g_autofree char *doc = document(one, NULL);
	g_autoptr(GString) broken = g_string_new(doc);
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new((const char *const *)fixture->dirs);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
	g_autofree char *path = g_build_filename(fixture->dirs[0], "b-broken.json", NULL);
	const GError *error;
	guint8 id[METRICS_UUID_SIZE];

	g_assert_cmpuint(g_string_replace(broken, bc->from, bc->to, 1), ==, 1);
	/* the broken file sorts between two good ones */
	write_file(fixture->dirs[0], "a-good.json", good_doc);
	write_file(fixture->dirs[0], "b-broken.json", broken->str);
	write_file(fixture->dirs[1], "c-good.json", good_doc);

	g_assert_cmpuint(mrd_allowlist_load(allowlist, errors), ==, 1);
	g_assert_cmpuint(errors->len, ==, 1);
	error = g_ptr_array_index(errors, 0);
	g_test_message("%s: %s", bc->name, error->message);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
	g_assert_true(g_str_has_prefix(error->message, path));
	if (bc->line > 0) {
		g_autofree char *where = g_strdup_printf("%s:%u:", path, bc->line);
		g_assert_true(g_str_has_prefix(error->message, where));
	}
	if (bc->field != NULL)
		g_assert_nonnull(strstr(error->message, bc->field));
	/* nothing of the broken file is used, everything else is */
	metrics_uuid_parse(ID_A, id);
	g_assert_null(mrd_allowlist_lookup(allowlist, id));
	g_assert_nonnull(mrd_allowlist_lookup_name(allowlist, "good"));
}

/* the line is that of the field in the right metric, even where an earlier
 * metric has the same id */
static void
test_parse_line_of_field(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *two = metric_json(ID_A, "two", "counter", NULL);
	g_autofree char *two_b = metric_json(ID_A, "two-b", "counter", NULL);
	g_autofree char *three = metric_json(ID_B, "three", "gauge", NULL);
	g_autofree char *doc_b = document(two, two_b);
	g_autofree char *doc_c = document(two, three);
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new(NULL);
	g_autoptr(GError) error = NULL;

	/* metrics[1] starts on line 16: its id is on line 17, its kind on 23 */
	g_assert_false(mrd_allowlist_load_data(allowlist, "b.json", doc_b, -1, &error));
	g_test_message("%s", error->message);
	g_assert_true(
		g_str_has_prefix(error->message, "b.json:17: metrics[1] (“two-b”), field “id”"));
	g_clear_error(&error);

	g_assert_false(mrd_allowlist_load_data(allowlist, "c.json", doc_c, -1, &error));
	g_test_message("%s", error->message);
	g_assert_true(
		g_str_has_prefix(error->message, "c.json:23: metrics[1] (“three”), field “kind”"));
	g_clear_error(&error);

	/* text that looks like the key inside a string is not the key */
	{
		g_autofree char *bad = metric_json(ID_B, "four", "gauge", NULL);
		g_autofree char *doc = document(bad, NULL);
		g_autoptr(GString) tricky = g_string_new(doc);

		g_string_replace(tricky, "\"Something happened\"", "\"Says \\\"kind\\\": {[\"", 1);
		g_assert_false(
			mrd_allowlist_load_data(allowlist, "d.json", tricky->str, -1, &error));
		g_test_message("%s", error->message);
		g_assert_true(g_str_has_prefix(error->message, "d.json:11: metrics[0] (“four”)"));
	}
}

static void
test_parse_garbage(Fixture *fixture, gconstpointer user_data)
{
	const char *inputs[] = {"",
				"[]",
				"null",
				"{\"format\": 1}",
				"{\"format\": 1, \"metrics\": {}}",
				"{\"format\": 1, \"metrics\": [1]}",
				"\xff\xfe",
				"{{{{"};
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(inputs); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_false(
			mrd_allowlist_load_data(allowlist, "garbage.json", inputs[i], -1, &error));
		g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
		g_assert_true(g_str_has_prefix(error->message, "garbage.json"));
	}
	g_assert_cmpuint(mrd_allowlist_get_size(allowlist), ==, 0);
}

/* a later directory replaces a metric of the same id; value sets too */
static void
test_override(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *a1 = metric_json(ID_A, "app-opened", "value",
					  ",\n \"payload\": \"s\", \"values_from\": \"apps\"");
	g_autofree char *b1 = metric_json(ID_B, "other-metric", "counter", NULL);
	g_autofree char *a2 = metric_json(ID_A, "app-opened", "value",
					  ",\n \"payload\": \"s\", \"values_from\": \"apps\","
					  " \"weekly_cap\": 7");
	g_autofree char *doc1 = document(a1, b1);
	g_autofree char *doc2 = document(a2, NULL);
	g_autofree char *sets1 = g_build_filename(fixture->dirs[0], "value-sets", NULL);
	g_autofree char *sets2 = g_build_filename(fixture->dirs[1], "value-sets", NULL);
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new((const char *const *)fixture->dirs);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
	const MrdMetric *metric;

	/* a duplicate key: the last one counts, as in json-glib */
	g_assert_nonnull(strstr(a2, "\"weekly_cap\": 100"));
	write_file(fixture->dirs[0], "apps.json", doc1);
	write_file(fixture->dirs[1], "apps.json", doc2);
	write_file(sets1, "apps.txt", "# comment\nshipped.desktop\n\n");
	write_file(sets2, "apps.txt", "  admin.desktop  \nsecond.desktop\n");

	g_assert_cmpuint(mrd_allowlist_load(allowlist, errors), ==, 2);
	g_assert_cmpuint(errors->len, ==, 0);
	metric = mrd_allowlist_lookup_name(allowlist, "app-opened");
	g_assert_nonnull(metric);
	g_assert_true(g_str_has_prefix(metric->file, fixture->dirs[1]));
	g_assert_cmpuint(metric->weekly_cap, ==, 7);
	/* the admin's value set wins over the shipped one */
	g_assert_cmpuint(g_hash_table_size(mrd_metric_get_strings(metric)->values), ==, 2);
	g_assert_true(
		g_hash_table_contains(mrd_metric_get_strings(metric)->values, "admin.desktop"));
	g_assert_false(
		g_hash_table_contains(mrd_metric_get_strings(metric)->values, "shipped.desktop"));
	g_assert_nonnull(mrd_allowlist_lookup_name(allowlist, "other-metric"));
}

static MrdAllowlist *
load_reasons_allowlist(Fixture *fixture)
{
	g_autofree char *a =
		metric_json(ID_A, "opened", "value", ",\n \"payload\": \"s\", \"values\": [\"x\"]");
	g_autofree char *b = metric_json(ID_B, "mapped", "value",
					 ",\n \"payload\": \"s\", \"values\": [\"x\"], \"other\": "
					 "\"map\"");
	g_autofree char *c = metric_json(ID_C, "count", "counter", NULL);
	g_autofree char *doc1 = document(a, b);
	g_autofree char *doc2 = document(c, NULL);
	MrdAllowlist *allowlist = mrd_allowlist_new((const char *const *)fixture->dirs);

	write_file(fixture->dirs[0], "one.json", doc1);
	write_file(fixture->dirs[0], "two.json", doc2);
	g_assert_cmpuint(mrd_allowlist_load(allowlist, NULL), ==, 3);
	return allowlist;
}

static void
test_check_reasons(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MrdAllowlist) allowlist = load_reasons_allowlist(fixture);
	/* 2027-11-01 00:00 UTC, the day after "expires" */
	const gint64 expired = G_GINT64_CONSTANT(1825027200) * G_USEC_PER_SEC;
	const gint64 last_moment = expired - 1;
	const MetricsEventKind value = METRICS_EVENT_KIND_VALUE;

	g_assert_cmpint(check(allowlist, ID_A, value, g_variant_new_string("x"), NOW), ==,
			MRD_DROP_NONE);
	g_assert_cmpint(check(allowlist, ID_C, METRICS_EVENT_KIND_COUNTER, NULL, NOW), ==,
			MRD_DROP_NONE);
	g_assert_cmpint(check(allowlist, "00000000-0000-0000-0000-000000000000", value, NULL, NOW),
			==, MRD_DROP_NOT_ALLOWLISTED);
	g_assert_cmpint(
		check(allowlist, ID_A, METRICS_EVENT_KIND_COUNTER, g_variant_new_string("x"), NOW),
		==, MRD_DROP_WRONG_KIND);
	g_assert_cmpint(check(allowlist, ID_A, value, g_variant_new_uint32(1), NOW), ==,
			MRD_DROP_WRONG_TYPE);
	g_assert_cmpint(check(allowlist, ID_A, value, NULL, NOW), ==, MRD_DROP_WRONG_TYPE);
	g_assert_cmpint(
		check(allowlist, ID_C, METRICS_EVENT_KIND_COUNTER, g_variant_new_string("x"), NOW),
		==, MRD_DROP_WRONG_TYPE);
	g_assert_cmpint(check(allowlist, ID_A, value, g_variant_new_string("y"), NOW), ==,
			MRD_DROP_VALUE_NOT_ALLOWED);
	/* "expires" is the last day on which events are kept (UTC) */
	g_assert_cmpint(check(allowlist, ID_A, value, g_variant_new_string("x"), last_moment), ==,
			MRD_DROP_NONE);
	g_assert_cmpint(check(allowlist, ID_A, value, g_variant_new_string("x"), expired), ==,
			MRD_DROP_EXPIRED);

	g_assert_cmpstr(mrd_drop_reason_to_string(MRD_DROP_NOT_ALLOWLISTED), ==, "not-allowlisted");
	g_assert_cmpstr(mrd_drop_reason_to_string(MRD_DROP_VALUE_NOT_ALLOWED), ==,
			"value-not-allowed");
	g_assert_cmpstr(mrd_drop_reason_to_string(MRD_DROP_OVER_CAP), ==, "over-cap");
	g_assert_cmpstr(mrd_drop_reason_to_string(MRD_DROP_NOT_SAMPLED), ==, "not-sampled");
}

static void
test_check_map_other(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MrdAllowlist) allowlist = load_reasons_allowlist(fixture);
	MrdEvent event = make_event(ID_B, METRICS_EVENT_KIND_VALUE,
				    g_variant_new_string("org.example.Private.desktop"));
	const MrdMetric *metric = NULL;

	g_assert_cmpint(mrd_allowlist_check(allowlist, &event, NOW, &metric), ==, MRD_DROP_NONE);
	g_assert_nonnull(metric);
	g_assert_cmpstr(metric->name, ==, "mapped");
	g_assert_cmpstr(g_variant_get_string(event.payload, NULL), ==, "other");
	g_clear_pointer(&event.payload, g_variant_unref);

	/* an allowed value is kept as it is */
	event = make_event(ID_B, METRICS_EVENT_KIND_VALUE, g_variant_new_string("x"));
	g_assert_cmpint(mrd_allowlist_check(allowlist, &event, NOW, NULL), ==, MRD_DROP_NONE);
	g_assert_cmpstr(g_variant_get_string(event.payload, NULL), ==, "x");
	g_clear_pointer(&event.payload, g_variant_unref);
}

/* numbers become the labels of their buckets, also within a tuple; the
 * number itself is not kept */
static void
test_check_buckets(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *a = metric_json(ID_A, "cores", "value",
					 ",\n \"payload\": \"u\", \"buckets\": [0, 2, 4, 8, 16]");
	g_autofree char *b = metric_json(ID_B, "offset", "value",
					 ",\n \"payload\": \"x\", \"buckets\": [-10, 0]");
	g_autofree char *c = metric_json(ID_C, "pair", "value",
					 ",\n \"payload\": \"(sdt)\", \"members\": [{\"values\": "
					 "[\"a\"], \"other\": \"map\"}, {\"buckets\": [0.5, 1.5]}, "
					 "{\"buckets\": [16]}]");
	g_autofree char *doc1 = document(a, b);
	g_autofree char *doc2 = document(c, NULL);
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new((const char *const *)fixture->dirs);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
	const struct {
		const char *id;
		GVariant *payload;
		const char *stored; /* printed, or NULL for a drop */
	} cases[] = {
		{ID_A, g_variant_new_uint32(0), "'0-2'"},
		{ID_A, g_variant_new_uint32(1), "'0-2'"},
		{ID_A, g_variant_new_uint32(4), "'4-8'"},
		{ID_A, g_variant_new_uint32(15), "'8-16'"},
		{ID_A, g_variant_new_uint32(16), "'>=16'"},
		{ID_A, g_variant_new_uint32(G_MAXUINT32), "'>=16'"},
		{ID_B, g_variant_new_int64(-11), "'<-10'"},
		{ID_B, g_variant_new_int64(-10), "'-10-0'"},
		{ID_B, g_variant_new_int64(0), "'>=0'"},
		{ID_B, g_variant_new_int64(G_GINT64_CONSTANT(1712345678901234)), "'>=0'"},
		{ID_C, g_variant_new("(sdt)", "a", 0.1, G_MAXUINT64), "('a', '<0.5', '>=16')"},
		{ID_C, g_variant_new("(sdt)", "alice@her-laptop.example", 1.5, (guint64)42),
		 "('other', '>=1.5', '>=16')"},
		{ID_C, g_variant_new("(sdt)", "a", NAN, (guint64)1), NULL},
	};

	write_file(fixture->dirs[0], "one.json", doc1);
	write_file(fixture->dirs[0], "two.json", doc2);
	g_assert_cmpuint(mrd_allowlist_load(allowlist, errors), ==, 3);
	g_assert_cmpuint(errors->len, ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		MrdEvent event =
			make_event(cases[i].id, METRICS_EVENT_KIND_VALUE, cases[i].payload);
		MrdDropReason reason = mrd_allowlist_check(allowlist, &event, NOW, NULL);

		if (cases[i].stored == NULL) {
			g_assert_cmpint(reason, ==, MRD_DROP_VALUE_NOT_ALLOWED);
		} else {
			g_autofree char *printed = g_variant_print(event.payload, FALSE);

			g_assert_cmpint(reason, ==, MRD_DROP_NONE);
			g_assert_cmpstr(printed, ==, cases[i].stored);
		}
		g_clear_pointer(&event.payload, g_variant_unref);
	}
}

/* who may record: the recorders against a caller's uid and app id */
static void
test_recorders(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *a_json = metric_json(ID_A, "by-root", "counter", NULL);
	g_autofree char *b_json = metric_json(ID_B, "by-session", "counter", NULL);
	g_autofree char *c = metric_json(ID_C, "by-app", "counter", NULL);
	g_autoptr(GString) a = g_string_new(a_json);
	g_autofree char *doc1 = NULL;
	g_autofree char *doc2 = NULL;
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new((const char *const *)fixture->dirs);
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
	const MrdMetric *by_root, *by_session, *by_app;
	const MrdRecorderIdentity root = {0, NULL};
	const MrdRecorderIdentity nobody = {65534, NULL};
	const MrdRecorderIdentity user = {1000, NULL};
	const MrdRecorderIdentity app = {1000, "org.example.App"};
	g_autoptr(GString) c_app = g_string_new(c);

	g_string_replace(a, "[\"session\"]", "[\"user:root\", \"system\"]", 1);
	g_string_replace(c_app, "[\"session\"]", "[\"app:org.example.App\"]", 1);
	doc1 = document(a->str, b_json);
	doc2 = document(c_app->str, NULL);
	write_file(fixture->dirs[0], "one.json", doc1);
	write_file(fixture->dirs[0], "two.json", doc2);
	g_assert_cmpuint(mrd_allowlist_load(allowlist, errors), ==, 3);
	g_assert_cmpuint(errors->len, ==, 0);
	by_root = mrd_allowlist_lookup_name(allowlist, "by-root");
	by_session = mrd_allowlist_lookup_name(allowlist, "by-session");
	by_app = mrd_allowlist_lookup_name(allowlist, "by-app");

	g_assert_true(mrd_metric_is_recorder(by_root, &root));
	g_assert_false(mrd_metric_is_recorder(by_root, &nobody));
	g_assert_false(mrd_metric_is_recorder(by_root, &user));
	g_assert_false(mrd_metric_is_recorder(by_session, &root));
	g_assert_false(mrd_metric_is_recorder(by_session, &nobody));
	g_assert_true(mrd_metric_is_recorder(by_session, &user) ==
		      mrd_allowlist_is_session_uid(1000));
	g_assert_false(mrd_allowlist_is_session_uid(0));
	g_assert_false(mrd_allowlist_is_session_uid(65534));
	/* an app only by the app id the daemon verified, never by its uid */
	g_assert_false(mrd_metric_is_recorder(by_app, &user));
	g_assert_true(mrd_metric_is_recorder(by_app, &app));
	g_assert_cmpstr(mrd_drop_reason_to_string(MRD_DROP_NOT_A_RECORDER), ==, "not-a-recorder");
}

static void
test_sampling(void)
{
	MrdMetric metric = {0};
	g_autoptr(GBytes) secret1 = g_bytes_new_static("0123456789abcdef0123456789abcdef", 32);
	g_autoptr(GBytes) secret2 = g_bytes_new_static("fedcba9876543210fedcba9876543210", 32);
	guint n_in = 0, n_differ = 0;
	const guint n = 4000;

	/* 0 and 1 need no secret */
	metric.sample_rate = 1.0;
	g_assert_true(mrd_metric_is_sampled(&metric, NULL));
	g_assert_true(mrd_metric_is_sampled(&metric, secret1));
	metric.sample_rate = 0.0;
	g_assert_false(mrd_metric_is_sampled(&metric, NULL));
	g_assert_false(mrd_metric_is_sampled(&metric, secret1));
	/* without a secret (no consent) nothing in between is sampled */
	metric.sample_rate = 0.999;
	g_assert_false(mrd_metric_is_sampled(&metric, NULL));

	metric.sample_rate = 0.25;
	for (guint i = 0; i < n; i++) {
		gboolean in1;

		memset(metric.id, 0, sizeof(metric.id));
		memcpy(metric.id, &i, sizeof(i));
		in1 = mrd_metric_is_sampled(&metric, secret1);
		/* deterministic for a secret */
		g_assert_cmpint(in1, ==, mrd_metric_is_sampled(&metric, secret1));
		if (in1)
			n_in++;
		if (in1 != mrd_metric_is_sampled(&metric, secret2))
			n_differ++;
	}
	/* about a quarter of the metrics, and another secret decides anew */
	g_assert_cmpuint(n_in, >, n / 4 - n / 20);
	g_assert_cmpuint(n_in, <, n / 4 + n / 20);
	g_assert_cmpuint(n_differ, >, n / 5);
}

static void
test_weekly_cap(void)
{
	MrdMetric metric = {0};
	g_autoptr(MrdCapTable) caps = mrd_cap_table_new();
	gint64 week = mrd_week_start(NOW);
	gint64 next_week = week + MRD_WEEK_USEC;

	metrics_uuid_parse(ID_A, metric.id);
	metric.weekly_cap = 5;
	/* the store already holds 2 events of this week, so 3 more */
	mrd_cap_table_start_week(caps, week);
	g_assert_cmpint(mrd_cap_table_get_week(caps), ==, week);
	mrd_cap_table_seed(caps, metric.id, 2);
	g_assert_true(mrd_cap_table_take(caps, &metric, week, 1));
	g_assert_true(mrd_cap_table_take(caps, &metric, week, 2));
	g_assert_false(mrd_cap_table_take(caps, &metric, week, 1));
	g_assert_false(mrd_cap_table_take(caps, &metric, week, 1));
	/* an amount larger than the cap never fits */
	g_assert_false(mrd_cap_table_take(caps, &metric, next_week, 6));
	/* another week starts from zero */
	g_assert_cmpint(mrd_cap_table_get_week(caps), ==, next_week);
	g_assert_true(mrd_cap_table_take(caps, &metric, next_week, 5));
	g_assert_false(mrd_cap_table_take(caps, &metric, next_week, 1));
	/* forgotten when the store is deleted */
	mrd_cap_table_reset(caps);
	g_assert_cmpint(mrd_cap_table_get_week(caps), ==, G_MININT64);
	g_assert_true(mrd_cap_table_take(caps, &metric, next_week, 3));
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/allowlist/parse/good", Fixture, NULL, fixture_set_up, test_parse_good,
		   fixture_tear_down);
	for (guint i = 0; i < G_N_ELEMENTS(broken_cases); i++) {
		g_autofree char *path =
			g_strdup_printf("/metrics/allowlist/parse/broken/%s", broken_cases[i].name);
		g_test_add(path, Fixture, &broken_cases[i], fixture_set_up, test_parse_broken,
			   fixture_tear_down);
	}
	g_test_add("/metrics/allowlist/parse/line-of-field", Fixture, NULL, fixture_set_up,
		   test_parse_line_of_field, fixture_tear_down);
	g_test_add("/metrics/allowlist/parse/garbage", Fixture, NULL, fixture_set_up,
		   test_parse_garbage, fixture_tear_down);
	g_test_add("/metrics/allowlist/override", Fixture, NULL, fixture_set_up, test_override,
		   fixture_tear_down);
	g_test_add("/metrics/allowlist/check/reasons", Fixture, NULL, fixture_set_up,
		   test_check_reasons, fixture_tear_down);
	g_test_add("/metrics/allowlist/check/map-other", Fixture, NULL, fixture_set_up,
		   test_check_map_other, fixture_tear_down);
	g_test_add("/metrics/allowlist/check/buckets", Fixture, NULL, fixture_set_up,
		   test_check_buckets, fixture_tear_down);
	g_test_add("/metrics/allowlist/check/recorders", Fixture, NULL, fixture_set_up,
		   test_recorders, fixture_tear_down);
	g_test_add_func("/metrics/allowlist/sampling", test_sampling);
	g_test_add_func("/metrics/allowlist/weekly-cap", test_weekly_cap);
	return g_test_run();
}
