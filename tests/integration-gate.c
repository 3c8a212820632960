/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The gate closed by construction, through the real daemon: a number is
 * kept and uploaded as the label of its bucket and never as itself, and
 * only a metric's recorders may record it (the others' events are dropped
 * as not-a-recorder, counted per metric).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-harness.h"

#define ID_NUMBER "5e0c1a2b-0000-4000-8000-000000000101"
#define ID_PAIR "5e0c1a2b-0000-4000-8000-000000000102"
#define ID_OWN "5e0c1a2b-0000-4000-8000-000000000103"
#define ID_NOBODY "5e0c1a2b-0000-4000-8000-000000000104"
#define ID_SYSTEM "5e0c1a2b-0000-4000-8000-000000000105"
#define ID_SESSION "5e0c1a2b-0000-4000-8000-000000000106"

/* a number nobody would record by chance, and its bucket */
#define RAW_NUMBER G_GUINT64_CONSTANT(1712345678901234)
#define RAW_NUMBER_TEXT "1712345678901234"
#define NUMBER_LABEL ">=1000000"
#define PAIR_LABEL "10-100"

static const char *const allow_read_all[] = {"org.fedoraproject.Metrics1.read-all", NULL};

typedef struct {
	MtestHarness *harness;
	char *allowlist_dir;
	char *own_user; /* the test's own user name */
} Fixture;

static char *
metric(const char *id, const char *name, const char *kind, const char *recorders, const char *extra)
{
	return g_strdup_printf("{\"id\": \"%s\", \"name\": \"%s\", \"description\": \"Test "
			       "metric\", \"purpose\": \"Tests\", \"owner\": \"Tests\", "
			       "\"category\": \"usage\", \"kind\": \"%s\", \"recorders\": [%s], %s"
			       "\"added\": \"2026-11-01\", \"expires\": \"2027-10-31\", "
			       "\"weekly_cap\": 1000}",
			       id, name, kind, recorders, extra);
}

static char *
allowlist_json(const char *own_user)
{
	g_autofree char *own = g_strdup_printf("\"user:%s\"", own_user);
	g_autofree char *number = metric(ID_NUMBER, "number", "value", own,
					 "\"payload\": \"t\", \"buckets\": [0, 1000, 1000000], ");
	g_autofree char *pair = metric(ID_PAIR, "pair", "value", own,
				       "\"payload\": \"(su)\", \"members\": [{\"values_from\": "
				       "\"apps\"}, {\"buckets\": [0, 10, 100]}], ");
	g_autofree char *by_own = metric(ID_OWN, "by-own", "counter", own, "");
	g_autofree char *by_nobody =
		metric(ID_NOBODY, "by-nobody", "counter", "\"user:nobody\"", "");
	g_autofree char *by_system = metric(ID_SYSTEM, "by-system", "counter", "\"system\"", "");
	g_autofree char *by_session =
		metric(ID_SESSION, "by-session", "counter", "\"session\"", "");

	return g_strdup_printf("{\"format\": 1, \"metrics\": [%s, %s, %s, %s, %s, %s]}", number,
			       pair, by_own, by_nobody, by_system, by_session);
}

static void
start_daemon(Fixture *fixture, gint64 clock_offset)
{
	g_autofree char *offset = g_strdup_printf("--clock-offset=%" G_GINT64_FORMAT, clock_offset);
	const char *const args[] = {offset, NULL};

	mtest_harness_start_daemon(fixture->harness, args);
}

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *sets = NULL;
	g_autofree char *json = NULL;
	g_autofree char *json_path = NULL;
	g_autofree char *set_path = NULL;
	struct passwd *pw = getpwuid(getuid());

	g_assert_nonnull(pw);
	fixture->own_user = g_strdup(pw->pw_name);
	json = allowlist_json(fixture->own_user);
	fixture->harness = mtest_harness_new();
	fixture->allowlist_dir = g_build_filename(fixture->harness->tmpdir, "allowlist", NULL);
	sets = g_build_filename(fixture->allowlist_dir, "value-sets", NULL);
	g_assert_cmpint(g_mkdir_with_parents(sets, 0755), ==, 0);
	json_path = g_build_filename(fixture->allowlist_dir, "gate.json", NULL);
	set_path = g_build_filename(sets, "apps.txt", NULL);
	mtest_write_file(json_path, json);
	mtest_write_file(set_path, "known.desktop\n");
	/* only this directory: the harness passes it to the daemon */
	g_setenv("MTEST_ALLOWLIST_DIRS", fixture->allowlist_dir, TRUE);

	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_pointer(&fixture->harness, mtest_harness_free);
	g_free(fixture->allowlist_dir);
	g_free(fixture->own_user);
}

static void
add_event(GVariantBuilder *builder, const char *id, MetricsEventKind kind, GVariant *payload)
{
	guint8 uuid[METRICS_UUID_SIZE];

	g_assert_true(metrics_uuid_parse(id, uuid));
	g_variant_builder_add(builder, "(@ayuxxmv)",
			      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, uuid, sizeof(uuid), 1),
			      (guint32)kind, g_get_real_time(), (gint64)1, payload);
}

/* the RecordEvents arguments for one event of each of @ids (counters) */
static GVariant *
counters_batch(const char *const *ids)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; ids[i] != NULL; i++)
		add_event(&builder, ids[i], METRICS_EVENT_KIND_COUNTER, NULL);
	return g_variant_new("(@aya{sv})", metrics_batch_to_wire(g_variant_builder_end(&builder)),
			     NULL);
}

static void
record(Fixture *fixture, GVariant *args, guint32 expect_accepted)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
		mtest_harness_call(fixture->harness, "RecordEvents", args, "(uu)", &error);
	guint32 accepted = 0;

	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, NULL);
	g_assert_cmpuint(accepted, ==, expect_accepted);
}

static char *
call_printed(Fixture *fixture, const char *method, const char *reply_type)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = mtest_harness_call(
		fixture->harness, method,
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		reply_type, &error);

	g_assert_no_error(error);
	return g_variant_print(reply, TRUE);
}

/* a number and a tuple with a number: stored, listed and uploaded as the
 * labels of their buckets, the numbers nowhere */
static void
test_numbers_as_buckets(Fixture *fixture, gconstpointer user_data)
{
	GVariantBuilder builder;
	g_autofree char *local = NULL;
	g_autofree char *pending = NULL;
	g_autofree char *shown = NULL;
	const char *const show_args[] = {"--json", "show", "--next", NULL};
	g_autofree char *err = NULL;

	/* in a week that is over once the daemon runs at the real time again */
	start_daemon(fixture, -8 * 24 * 3600);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	add_event(&builder, ID_NUMBER, METRICS_EVENT_KIND_VALUE, g_variant_new_uint64(RAW_NUMBER));
	add_event(&builder, ID_NUMBER, METRICS_EVENT_KIND_VALUE, g_variant_new_uint64(RAW_NUMBER));
	add_event(&builder, ID_PAIR, METRICS_EVENT_KIND_VALUE,
		  g_variant_new("(su)", "known.desktop", (guint32)42));
	/* free text in a member is still refused */
	add_event(&builder, ID_PAIR, METRICS_EVENT_KIND_VALUE,
		  g_variant_new("(su)", "alice@her-laptop.example", (guint32)42));
	record(fixture,
	       g_variant_new("(@aya{sv})", metrics_batch_to_wire(g_variant_builder_end(&builder)),
			     NULL),
	       3);

	local = call_printed(fixture, "GetLocalData", "(a(ussuavtt))");
	g_test_message("local data: %s", local);
	g_assert_nonnull(strstr(local, "'" NUMBER_LABEL "'"));
	g_assert_nonnull(strstr(local, "('known.desktop', '" PAIR_LABEL "')"));
	g_assert_null(strstr(local, RAW_NUMBER_TEXT));
	g_assert_null(strstr(local, "alice"));
	g_assert_false(mtest_harness_state_contains(fixture->harness, RAW_NUMBER_TEXT));
	g_assert_false(mtest_harness_state_contains(fixture->harness, "alice@her-laptop"));

	/* back at the real time the week is frozen for upload */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	start_daemon(fixture, 0);
	mtest_harness_set_allowed(fixture->harness, allow_read_all);
	pending = call_printed(fixture, "GetPendingUploads", "(aa{sv})");
	g_test_message("pending: %s", pending);
	g_assert_nonnull(strstr(pending, NUMBER_LABEL));
	g_assert_nonnull(strstr(pending, PAIR_LABEL));
	g_assert_null(strstr(pending, RAW_NUMBER_TEXT));
	g_assert_cmpint(mtest_harness_run_cli(fixture->harness, show_args, &shown, &err), ==, 0);
	g_assert_nonnull(strstr(shown, NUMBER_LABEL));
	g_assert_null(strstr(shown, RAW_NUMBER_TEXT));
	g_assert_false(mtest_harness_state_contains(fixture->harness, RAW_NUMBER_TEXT));
}

/* the drops of the allowlist gate for metric @id: by-metric entries
 * (reason, metric id, count) */
static guint64
drops_for_metric(Fixture *fixture, const char *reason, const char *id)
{
	/* the drops by metric are everybody's: read-all */
	g_autoptr(GVariant) status = mtest_harness_get_status_all(fixture->harness);
	g_autoptr(GVariant) by_metric = NULL;
	guint64 total = 0;

	by_metric = g_variant_lookup_value(status, "drops-by-metric", G_VARIANT_TYPE("a(sst)"));
	g_assert_nonnull(by_metric);
	for (gsize i = 0; i < g_variant_n_children(by_metric); i++) {
		const char *r = NULL, *m = NULL;
		guint64 n = 0;

		g_variant_get_child(by_metric, i, "(&s&st)", &r, &m, &n);
		if (g_strcmp0(r, reason) == 0 && g_strcmp0(m, id) == 0)
			total += n;
	}
	return total;
}

/* the stored count of each metric id, of every user */
static GHashTable *
stored_counts(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	GVariantBuilder options;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) rows = NULL;
	GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	g_variant_builder_init(&options, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&options, "{sv}", "all", g_variant_new_boolean(TRUE));
	mtest_harness_set_allowed(fixture->harness, allow_read_all);
	reply = mtest_harness_call(fixture->harness, "GetLocalData",
				   g_variant_new("(@a{sv})", g_variant_builder_end(&options)),
				   "(a(ussuavtt))", &error);
	g_assert_no_error(error);
	rows = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		const char *id = NULL;
		guint64 count = 0;

		g_variant_get_child(rows, i, "(u&ssu@avtt)", NULL, &id, NULL, NULL, NULL, &count,
				    NULL);
		g_hash_table_insert(
			counts, g_strdup(id),
			GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(counts, id)) +
					 count));
	}
	return counts;
}

static guint64
count_of(GHashTable *counts, const char *id)
{
	return GPOINTER_TO_SIZE(g_hash_table_lookup(counts, id));
}

/* every metric recorded by the test's own uid and by nobody: only each
 * metric's recorders are kept, the others dropped as not-a-recorder */
static void
test_recorders(Fixture *fixture, gconstpointer user_data)
{
	const char *const all[] = {ID_OWN, ID_NOBODY, ID_SYSTEM, ID_SESSION, NULL};
	g_autoptr(GVariant) batch = g_variant_ref_sink(counters_batch(all));
	g_autoptr(GHashTable) counts = NULL;
	/* the test's uid is a session user's when it is a regular user's, and
	 * the system's as it is the daemon's own */
	gboolean own_is_session = getuid() >= 1000 && getuid() != 65534;
	guint32 own_accepted = 2 + (own_is_session ? 1 : 0);
	g_autofree char *out = NULL;

	if (getuid() != 0) {
		g_test_skip("running a client under another uid needs root (CI runs as root)");
		return;
	}
	start_daemon(fixture, 0);
	record(fixture, g_variant_ref(batch), own_accepted);

	/* the same batch from nobody (uid 65534), through gdbus */
	g_assert_cmpint(g_chmod(fixture->harness->tmpdir, 0755), ==, 0);
	{
		g_autofree char *bytes = NULL;
		g_autoptr(GVariant) events = g_variant_get_child_value(batch, 0);
		const char *const argv[] = {"setpriv",
					    "--reuid=65534",
					    "--regid=65534",
					    "--clear-groups",
					    "gdbus",
					    "call",
					    "--system",
					    "--dest",
					    METRICS_DBUS_NAME,
					    "--object-path",
					    METRICS_DBUS_PATH,
					    "--method",
					    METRICS_DBUS_INTERFACE ".RecordEvents",
					    NULL,
					    "{}",
					    NULL};

		bytes = g_variant_print(events, TRUE);
		((const char **)argv)[13] = bytes;
		g_assert_cmpint(mtest_harness_run(fixture->harness, argv, &out, NULL), ==, 0);
		g_test_message("nobody: %s", out);
		/* by-nobody only: nobody is no session user */
		g_assert_nonnull(strstr(out, "(uint32 1, uint32 3)"));
	}

	counts = stored_counts(fixture);
	g_assert_cmpuint(count_of(counts, ID_OWN), ==, 1);
	g_assert_cmpuint(count_of(counts, ID_NOBODY), ==, 1);
	g_assert_cmpuint(count_of(counts, ID_SYSTEM), ==, 1);
	g_assert_cmpuint(count_of(counts, ID_SESSION), ==, own_is_session ? 1 : 0);

	/* own uid: not by-nobody (nor by-session as root); nobody: all but
	 * by-nobody */
	g_assert_cmpuint(drops_for_metric(fixture, "not-a-recorder", ID_NOBODY), ==, 1);
	g_assert_cmpuint(drops_for_metric(fixture, "not-a-recorder", ID_OWN), ==, 1);
	g_assert_cmpuint(drops_for_metric(fixture, "not-a-recorder", ID_SYSTEM), ==, 1);
	g_assert_cmpuint(drops_for_metric(fixture, "not-a-recorder", ID_SESSION), ==,
			 own_is_session ? 1 : 2);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/gate/numbers-as-buckets", Fixture, NULL, fixture_set_up,
		   test_numbers_as_buckets, fixture_tear_down);
	g_test_add("/metrics/gate/recorders", Fixture, NULL, fixture_set_up, test_recorders,
		   fixture_tear_down);
	return g_test_run();
}
