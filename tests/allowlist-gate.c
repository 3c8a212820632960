/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The allowlist gate through the real daemon on a private bus: every drop
 * reason, "other", the weekly cap across a restart, the sampling secret's
 * life, reload on a change of the directories and on SIGHUP (with a broken
 * file and a changed value set), and metrics-cli allowlist and status.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <metrics.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-harness.h"

#define ID_LIMITED "5e0c1a2b-0000-4000-8000-00000000000a"
#define ID_MAPPED "5e0c1a2b-0000-4000-8000-00000000000b"
#define ID_UNSAMPLED "5e0c1a2b-0000-4000-8000-00000000000c"
#define ID_EXPIRED "5e0c1a2b-0000-4000-8000-00000000000d"
#define ID_COUNTER "5e0c1a2b-0000-4000-8000-00000000000e"
#define ID_LATER "5e0c1a2b-0000-4000-8000-00000000000f"
#define ID_SOON_BROKEN "5e0c1a2b-0000-4000-8000-000000000010"
#define ID_UNKNOWN "5e0c1a2b-0000-4000-8000-0000000000ff"

#define FUTURE "\"added\": \"2026-11-01\", \"expires\": \"2027-10-31\""

static char *
metric(const char *id, const char *name, const char *kind, const char *extra)
{
	return g_strdup_printf("{\"id\": \"%s\", \"name\": \"%s\", \"description\": \"Test "
			       "metric\", \"purpose\": \"Tests\", \"owner\": \"Tests\", "
			       "\"category\": \"usage\", \"kind\": \"%s\", "
			       "\"recorders\": [\"session\", \"user:root\"], %s}",
			       id, name, kind, extra);
}

static char *
allowlist_json(void)
{
	g_autofree char *limited =
		metric(ID_LIMITED, "limited", "value",
		       "\"payload\": \"s\", \"values\": [\"x\"], " FUTURE ", \"weekly_cap\": 3");
	g_autofree char *mapped = metric(ID_MAPPED, "mapped", "value",
					 "\"payload\": \"s\", \"values_from\": \"apps\", "
					 "\"other\": \"map\", " FUTURE ", \"weekly_cap\": 100");
	g_autofree char *unsampled = metric(ID_UNSAMPLED, "unsampled", "counter",
					    FUTURE ", \"sample_rate\": 0, \"weekly_cap\": 100");
	g_autofree char *expired = metric(ID_EXPIRED, "expired", "counter",
					  "\"added\": \"2025-01-01\", \"expires\": "
					  "\"2025-12-31\", \"weekly_cap\": 100");
	g_autofree char *counter =
		metric(ID_COUNTER, "counter", "counter", FUTURE ", \"weekly_cap\": 100");

	return g_strdup_printf("{\"format\": 1, \"metrics\": [%s, %s, %s, %s, %s]}", limited,
			       mapped, unsampled, expired, counter);
}

typedef struct {
	MtestHarness *harness;
	char *allowlist_dir;
} Fixture;

static void
write_file(const char *dir, const char *name, const char *contents)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
}

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *sets = NULL;
	g_autofree char *json = allowlist_json();

	fixture->harness = mtest_harness_new();
	fixture->allowlist_dir = g_build_filename(fixture->harness->tmpdir, "allowlist", NULL);
	sets = g_build_filename(fixture->allowlist_dir, "value-sets", NULL);
	g_assert_cmpint(g_mkdir_with_parents(sets, 0700), ==, 0);
	write_file(fixture->allowlist_dir, "test.json", json);
	write_file(sets, "apps.txt", "# test\nknown.desktop\n");
	/* only this directory: the harness passes it to the daemon */
	g_setenv("MTEST_ALLOWLIST_DIRS", fixture->allowlist_dir, TRUE);

	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, NULL);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_pointer(&fixture->harness, mtest_harness_free);
	g_free(fixture->allowlist_dir);
}

static void
add_event(GVariantBuilder *builder, const char *id, MetricsEventKind kind, GVariant *payload)
{
	guint8 uuid[METRICS_UUID_SIZE];

	g_assert_true(metrics_uuid_parse(id, uuid));
	g_variant_builder_add(builder, "(@ayuxxmv)",
			      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, uuid, 16, 1),
			      (guint32)kind, g_get_real_time(), (gint64)1, payload);
}

static void
record(Fixture *fixture, GVariantBuilder *events, guint32 *accepted, guint32 *dropped)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = mtest_harness_call(
		fixture->harness, "RecordEvents",
		g_variant_new("(@ay@a{sv})", metrics_batch_to_wire(g_variant_builder_end(events)),
			      g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(uu)", &error);

	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", accepted, dropped);
}

static GVariant *
get_status(Fixture *fixture)
{
	return mtest_harness_get_status_all(fixture->harness);
}

static guint64
drops_for(GVariant *status, const char *reason)
{
	g_autoptr(GVariant) drops =
		g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	guint64 n = 0;

	g_assert_nonnull(drops);
	g_variant_lookup(drops, reason, "t", &n);
	return n;
}

static guint64
drops_for_metric(GVariant *status, const char *reason, const char *id)
{
	g_autoptr(GVariant) drops =
		g_variant_lookup_value(status, "drops-by-metric", G_VARIANT_TYPE("a(sst)"));
	GVariantIter iter;
	const char *r, *m;
	guint64 n;

	g_assert_nonnull(drops);
	g_variant_iter_init(&iter, drops);
	while (g_variant_iter_next(&iter, "(&s&st)", &r, &m, &n)) {
		if (g_strcmp0(r, reason) == 0 && g_strcmp0(m, id) == 0)
			return n;
	}
	return 0;
}

/* what each drop of test_every_reason() is, as metrics-cli shows it */
static const struct {
	const char *reason;
	const char *id;
	const char *name;  /* as metrics-cli names the metric */
	const char *label; /* as metrics-cli names the reason */
} expected_drops[] = {
	{"not-allowlisted", ID_UNKNOWN, ID_UNKNOWN, "not allowlisted"},
	{"value-not-allowed", ID_LIMITED, "limited", "value not allowed"},
	{"wrong-type", ID_LIMITED, "limited", "wrong value type"},
	{"wrong-kind", ID_COUNTER, "counter", "wrong kind"},
	{"not-sampled", ID_UNSAMPLED, "unsampled", "not sampled here"},
	{"expired", ID_EXPIRED, "expired", "metric expired"},
	{"over-cap", ID_LIMITED, "limited", "over the weekly cap"},
};

/* whether @text has a line made of @words separated by blanks, the last
 * word being the count */
static gboolean
has_row(const char *text, const char *const *words)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		const char *rest = lines[i];
		guint w;

		for (w = 0; words[w] != NULL; w++) {
			while (*rest == ' ')
				rest++;
			if (!g_str_has_prefix(rest, words[w]))
				break;
			rest += strlen(words[w]);
			if (*rest != ' ' && *rest != '\0')
				break;
		}
		if (words[w] == NULL && *rest == '\0')
			return TRUE;
	}
	return FALSE;
}

/* metrics-cli status and --json status show every drop by reason and by
 * metric */
static void
check_cli_status(Fixture *fixture)
{
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	const char *const text_argv[] = {cli, "status", "--all", NULL};
	const char *const json_argv[] = {cli, "--json", "status", "--all", NULL};
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *root;
	JsonObject *drops;
	JsonArray *by_metric;

	mtest_harness_set_allowed(
		fixture->harness,
		(const char *const[]){"org.fedoraproject.Metrics1.read-all", NULL});
	g_assert_cmpint(mtest_harness_run(fixture->harness, text_argv, &out, &err), ==, 0);
	g_test_message("metrics-cli status:\n%s", out);
	g_assert_nonnull(strstr(out, "Dropped since start:\n"));
	g_assert_nonnull(strstr(out, "Dropped by the allowlist, by metric:\n"));
	for (guint i = 0; i < G_N_ELEMENTS(expected_drops); i++) {
		const char *const by_reason[] = {expected_drops[i].label, "1", NULL};
		const char *const by_name[] = {expected_drops[i].label, expected_drops[i].name, "1",
					       NULL};

		g_assert_true(has_row(out, by_reason));
		g_assert_true(has_row(out, by_name));
	}
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(mtest_harness_run(fixture->harness, json_argv, &out, &err), ==, 0);
	g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
	g_assert_no_error(error);
	root = json_node_get_object(json_parser_get_root(parser));
	drops = json_object_get_object_member(root, "drops");
	by_metric = json_object_get_array_member(root, "drops-by-metric");
	g_assert_nonnull(drops);
	g_assert_nonnull(by_metric);
	g_assert_cmpuint(json_object_get_size(drops), ==, G_N_ELEMENTS(expected_drops));
	g_assert_cmpuint(json_array_get_length(by_metric), ==, G_N_ELEMENTS(expected_drops));
	for (guint i = 0; i < G_N_ELEMENTS(expected_drops); i++) {
		gboolean found = FALSE;

		g_assert_cmpint(json_object_get_int_member(drops, expected_drops[i].reason), ==, 1);
		for (guint j = 0; j < json_array_get_length(by_metric); j++) {
			JsonObject *row = json_array_get_object_element(by_metric, j);

			if (g_str_equal(json_object_get_string_member(row, "reason"),
					expected_drops[i].reason) &&
			    g_str_equal(json_object_get_string_member(row, "metric"),
					expected_drops[i].id)) {
				g_assert_cmpint(json_object_get_int_member(row, "count"), ==, 1);
				found = TRUE;
			}
		}
		g_assert_true(found);
	}
}

static void
test_every_reason(Fixture *fixture, gconstpointer user_data)
{
	GVariantBuilder events;
	guint32 accepted = 0, dropped = 0;
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autofree char *log = NULL;
	g_autofree char *log_path = g_build_filename(fixture->harness->tmpdir, "daemon.log", NULL);
	gboolean seen_other = FALSE;
	const char *const reasons[] = {"not-allowlisted", "value-not-allowed", "wrong-type",
				       "wrong-kind",	  "not-sampled",       "expired"};

	g_variant_builder_init(&events, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	add_event(&events, ID_UNKNOWN, METRICS_EVENT_KIND_COUNTER, NULL);
	add_event(&events, ID_LIMITED, METRICS_EVENT_KIND_VALUE, g_variant_new_string("y"));
	add_event(&events, ID_LIMITED, METRICS_EVENT_KIND_VALUE, g_variant_new_uint32(1));
	add_event(&events, ID_COUNTER, METRICS_EVENT_KIND_DURATION, NULL);
	add_event(&events, ID_UNSAMPLED, METRICS_EVENT_KIND_COUNTER, NULL);
	add_event(&events, ID_EXPIRED, METRICS_EVENT_KIND_COUNTER, NULL);
	for (guint i = 0; i < 4; i++)
		add_event(&events, ID_LIMITED, METRICS_EVENT_KIND_VALUE, g_variant_new_string("x"));
	add_event(&events, ID_MAPPED, METRICS_EVENT_KIND_VALUE,
		  g_variant_new_string("org.example.Private.desktop"));
	add_event(&events, ID_COUNTER, METRICS_EVENT_KIND_COUNTER, NULL);
	record(fixture, &events, &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 5);
	g_assert_cmpuint(dropped, ==, 7);

	status = get_status(fixture);
	for (guint i = 0; i < G_N_ELEMENTS(reasons); i++)
		g_assert_cmpuint(drops_for(status, reasons[i]), ==, 1);
	g_assert_cmpuint(drops_for(status, "over-cap"), ==, 1);
	g_assert_cmpuint(drops_for_metric(status, "over-cap", ID_LIMITED), ==, 1);
	g_assert_cmpuint(drops_for_metric(status, "not-allowlisted", ID_UNKNOWN), ==, 1);
	g_assert_cmpuint(drops_for_metric(status, "expired", ID_EXPIRED), ==, 1);
	check_cli_status(fixture);

	/* the unapproved value never reached the store: "other" did */
	g_assert_false(mtest_harness_state_contains(fixture->harness, "org.example.Private"));
	reply = mtest_harness_call(fixture->harness, "GetLocalData",
				   g_variant_new_parsed("(@a{sv} {},)"), "(a(ussuavtt))", &error);
	g_assert_no_error(error);
	rows = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariant) payloads = g_variant_get_child_value(row, 4);
		const char *id = NULL;

		g_variant_get_child(row, 1, "&s", &id);
		g_assert_true(g_strcmp0(id, ID_LIMITED) == 0 || g_strcmp0(id, ID_MAPPED) == 0 ||
			      g_strcmp0(id, ID_COUNTER) == 0);
		if (g_strcmp0(id, ID_MAPPED) == 0) {
			g_autoptr(GVariant) boxed = g_variant_get_child_value(payloads, 0);
			g_autoptr(GVariant) value = g_variant_get_variant(boxed);
			g_assert_cmpstr(g_variant_get_string(value, NULL), ==, "other");
			seen_other = TRUE;
		}
	}
	g_assert_true(seen_other);

	/* one log line per (reason, metric), not one per event */
	g_clear_pointer(&status, g_variant_unref);
	g_variant_builder_init(&events, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < 50; i++)
		add_event(&events, ID_UNKNOWN, METRICS_EVENT_KIND_COUNTER, NULL);
	record(fixture, &events, &accepted, &dropped);
	g_assert_cmpuint(dropped, ==, 50);
	status = get_status(fixture);
	g_assert_cmpuint(drops_for_metric(status, "not-allowlisted", ID_UNKNOWN), ==, 51);
	g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
	{
		g_autofree char *line = g_strdup_printf("dropping events of metric %s", ID_UNKNOWN);
		const char *first = strstr(log, line);
		g_assert_nonnull(first);
		g_assert_null(strstr(first + 1, line));
	}
}

/* random ids cannot grow the daemon's drop counters without end */
static void
test_drop_counters_bounded(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) by_metric = NULL;
	guint32 accepted = 0, dropped = 0;

	for (guint batch = 0; batch < 2; batch++) {
		GVariantBuilder events;

		g_variant_builder_init(&events, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
		for (guint i = 0; i < 1000; i++) {
			g_autofree char *id =
				g_strdup_printf("%08x-0000-4000-8000-%012x", batch, i);
			add_event(&events, id, METRICS_EVENT_KIND_COUNTER, NULL);
		}
		record(fixture, &events, &accepted, &dropped);
		g_assert_cmpuint(dropped, ==, 1000);
	}
	status = get_status(fixture);
	g_assert_cmpuint(drops_for(status, "not-allowlisted"), ==, 2000);
	by_metric = g_variant_lookup_value(status, "drops-by-metric", G_VARIANT_TYPE("a(sst)"));
	g_assert_cmpuint(g_variant_n_children(by_metric), ==, 1025);
	g_assert_cmpuint(drops_for_metric(status, "not-allowlisted", "others"), ==, 2000 - 1024);
}

/* the cap holds across a restart: it starts from what is stored */
static void
test_cap_after_restart(Fixture *fixture, gconstpointer user_data)
{
	GVariantBuilder events;
	guint32 accepted = 0, dropped = 0;

	g_variant_builder_init(&events, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < 2; i++)
		add_event(&events, ID_LIMITED, METRICS_EVENT_KIND_VALUE, g_variant_new_string("x"));
	record(fixture, &events, &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 2);

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	g_variant_builder_init(&events, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < 3; i++)
		add_event(&events, ID_LIMITED, METRICS_EVENT_KIND_VALUE, g_variant_new_string("x"));
	record(fixture, &events, &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 1);
	g_assert_cmpuint(dropped, ==, 2);
}

/* the sampling secret exists only while consent is granted */
static void
test_sampling_secret(Fixture *fixture, gconstpointer user_data)
{
	const char *const allow_consent[] = {"org.fedoraproject.Metrics1.set-consent", NULL};
	g_autofree char *path =
		g_build_filename(fixture->harness->state_dir, "sampling-secret", NULL);
	g_autoptr(MetricsClient) client = metrics_client_new(fixture->harness->connection);
	g_autoptr(GError) error = NULL;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	gsize length = 0;
	GStatBuf buf;

	g_assert_true(g_file_get_contents(path, &first, &length, NULL));
	g_assert_cmpuint(length, ==, 32);
	g_assert_cmpint(g_stat(path, &buf), ==, 0);
	g_assert_cmpint(buf.st_mode & 0777, ==, 0600);

	mtest_harness_set_allowed(fixture->harness, allow_consent);
	g_assert_true(metrics_client_set_consent_sync(client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	g_assert_true(metrics_client_set_consent_sync(client, METRICS_CONSENT_GRANTED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(path, &second, &length, NULL));
	g_assert_cmpuint(length, ==, 32);
	/* a new consent, a new and unlinkable secret */
	g_assert_true(memcmp(first, second, 32) != 0);
}

static gboolean
allowlist_has(Fixture *fixture, const char *name)
{
	g_autoptr(MetricsClient) client = metrics_client_new(fixture->harness->connection);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) metrics = metrics_client_get_allowlist_sync(client, NULL, &error);
	GVariantIter iter;
	GVariant *metric;

	g_assert_no_error(error);
	g_variant_iter_init(&iter, metrics);
	while ((metric = g_variant_iter_next_value(&iter)) != NULL) {
		const char *metric_name = NULL;
		gboolean found;

		g_variant_lookup(metric, "name", "&s", &metric_name);
		found = g_strcmp0(metric_name, name) == 0;
		g_variant_unref(metric);
		if (found)
			return TRUE;
	}
	return FALSE;
}

typedef struct {
	Fixture *fixture;
	const char *name;
	gboolean present;
} MetricWait;

static gboolean
metric_as_wanted_cb(gpointer user_data)
{
	MetricWait *wait = user_data;

	return allowlist_has(wait->fixture, wait->name) == wait->present;
}

static void
wait_for_metric(Fixture *fixture, const char *name, gboolean present)
{
	MetricWait wait = {fixture, name, present};

	mtest_wait_until(metric_as_wanted_cb, &wait, name);
}

/* records one event of ID_LATER with a string; returns whether accepted */
static gboolean
record_later(Fixture *fixture, const char *value)
{
	GVariantBuilder events;
	guint32 accepted = 0, dropped = 0;

	g_variant_builder_init(&events, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	add_event(&events, ID_LATER, METRICS_EVENT_KIND_VALUE, g_variant_new_string(value));
	record(fixture, &events, &accepted, &dropped);
	g_assert_cmpuint(accepted + dropped, ==, 1);
	return accepted == 1;
}

/* the metric "later": a string from the value set "apps", others dropped */
static char *
later_from_set_json(void)
{
	g_autofree char *later = metric(ID_LATER, "later", "value",
					"\"payload\": \"s\", \"values_from\": \"apps\", " FUTURE
					", \"weekly_cap\": 100");
	return g_strdup_printf("{\"format\": 1, \"metrics\": [%s]}", later);
}

/* a change of the directories reloads on its own: a new file, a changed
 * value set; a broken file is skipped (the log names its file, line and
 * field), the daemon stays up and the other files load */
static void
test_reload(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *json = later_from_set_json();
	g_autofree char *sets = g_build_filename(fixture->allowlist_dir, "value-sets", NULL);
	g_autofree char *bad = metric(ID_LATER, "broken", "gauge", FUTURE ", \"weekly_cap\": 1");
	g_autofree char *broken =
		g_strdup_printf("{\n\"format\": 1,\n\"metrics\": [\n%s\n]}\n", bad);
	g_autofree char *log = NULL;

	g_assert_false(allowlist_has(fixture, "later"));
	write_file(fixture->allowlist_dir, "broken.json", broken);
	write_file(fixture->allowlist_dir, "later.json", json);
	write_file(sets, "apps.txt", "known.desktop\nnew.desktop\n");
	wait_for_metric(fixture, "later", TRUE);
	g_assert_true(allowlist_has(fixture, "limited"));
	g_assert_false(allowlist_has(fixture, "broken"));
	/* the changed value set is in use */
	g_assert_true(record_later(fixture, "new.desktop"));
	g_assert_false(record_later(fixture, "unknown.desktop"));

	log = mtest_harness_read_daemon_log(fixture->harness);
	g_assert_nonnull(strstr(log, "broken.json:4: metrics[0] (“broken”), field “kind”"));
	g_assert_nonnull(g_subprocess_get_identifier(fixture->harness->daemon));
}

/* SIGHUP reloads what the directory monitor cannot see: files reached
 * through symbolic links, changed in another directory */
static void
test_reload_sighup(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *outside = g_build_filename(fixture->harness->tmpdir, "outside", NULL);
	g_autofree char *sets = g_build_filename(fixture->allowlist_dir, "value-sets", NULL);
	g_autofree char *later_target = g_build_filename(outside, "later.json", NULL);
	g_autofree char *later_link = g_build_filename(fixture->allowlist_dir, "later.json", NULL);
	g_autofree char *apps_target = g_build_filename(outside, "apps.txt", NULL);
	g_autofree char *apps_link = g_build_filename(sets, "apps.txt", NULL);
	g_autofree char *broken_target = g_build_filename(outside, "broken.json", NULL);
	g_autofree char *broken_link = g_build_filename(fixture->allowlist_dir, "z.json", NULL);
	g_autofree char *before =
		metric(ID_LATER, "before", "counter", FUTURE ", \"weekly_cap\": 1");
	g_autofree char *before_json =
		g_strdup_printf("{\"format\": 1, \"metrics\": [%s]}", before);
	g_autofree char *soon =
		metric(ID_SOON_BROKEN, "soon-broken", "counter", FUTURE ", \"weekly_cap\": 1");
	g_autofree char *soon_json = g_strdup_printf("{\"format\": 1, \"metrics\": [%s]}", soon);
	g_autofree char *bad =
		metric(ID_SOON_BROKEN, "soon-broken", "gauge", FUTURE ", \"weekly_cap\": 1");
	g_autofree char *broken =
		g_strdup_printf("{\n\"format\": 1,\n\"metrics\": [\n%s\n]}\n", bad);
	g_autofree char *later = later_from_set_json();
	g_autofree char *log = NULL;
	const char *new_log;
	gsize log_length;

	/* the links exist before the daemon starts, so that no event of their
	 * creation (GLib adds a late "changes done" one) is still to come */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_cmpint(g_mkdir_with_parents(outside, 0700), ==, 0);
	write_file(outside, "apps.txt", "known.desktop\n");
	write_file(outside, "later.json", before_json);
	write_file(outside, "broken.json", soon_json);
	g_assert_cmpint(g_unlink(apps_link), ==, 0);
	g_assert_cmpint(symlink(apps_target, apps_link), ==, 0);
	g_assert_cmpint(symlink(broken_target, broken_link), ==, 0);
	g_assert_cmpint(symlink(later_target, later_link), ==, 0);
	mtest_harness_start_daemon(fixture->harness, NULL);
	g_assert_true(allowlist_has(fixture, "before"));
	g_assert_true(allowlist_has(fixture, "soon-broken"));

	/* changed behind the links: the monitor sees nothing … */
	write_file(outside, "apps.txt", "known.desktop\nnew.desktop\n");
	write_file(outside, "later.json", later);
	write_file(outside, "broken.json", broken);
	/* two seconds' watch, not a wait for anything: nothing to see */
	g_usleep(2 * G_USEC_PER_SEC);
	g_assert_true(allowlist_has(fixture, "before"));
	g_assert_false(allowlist_has(fixture, "later"));

	/* … and SIGHUP reloads it all */
	log = mtest_harness_read_daemon_log(fixture->harness);
	log_length = strlen(log);
	g_clear_pointer(&log, g_free);
	g_subprocess_send_signal(fixture->harness->daemon, SIGHUP);
	wait_for_metric(fixture, "later", TRUE);
	g_assert_false(allowlist_has(fixture, "before"));
	g_assert_false(allowlist_has(fixture, "soon-broken"));
	g_assert_true(allowlist_has(fixture, "limited"));
	g_assert_true(record_later(fixture, "new.desktop"));
	g_assert_false(record_later(fixture, "unknown.desktop"));

	log = mtest_harness_read_daemon_log(fixture->harness);
	g_assert_cmpuint(strlen(log), >, log_length);
	new_log = log + log_length;
	g_test_message("daemon log after SIGHUP:\n%s", new_log);
	g_assert_nonnull(strstr(new_log, "reloading the allowlist on SIGHUP"));
	g_assert_nonnull(strstr(new_log, "z.json:4: metrics[0] (“soon-broken”), field “kind”"));
	g_assert_nonnull(g_subprocess_get_identifier(fixture->harness->daemon));
}

static void
test_cli(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	const char *const list[] = {cli, "allowlist", NULL};
	const char *const explain[] = {cli, "allowlist", "explain", "mapped", NULL};
	const char *const explain_id[] = {cli,	     "--json",	   "allowlist",
					  "explain", ID_UNSAMPLED, NULL};
	const char *const missing[] = {cli, "allowlist", "explain", "nope", NULL};
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	g_assert_cmpint(mtest_harness_run(fixture->harness, list, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(out, "limited (usage, expires 2027-10-31, recorded here: yes)"));
	g_assert_nonnull(strstr(out, "expired (usage, expires 2025-12-31, recorded here: no"));
	g_assert_nonnull(strstr(out, "unsampled (usage, expires 2027-10-31, recorded here: no"));
	{
		g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
		for (guint i = 0; lines[i] != NULL; i++)
			g_assert_cmpuint(g_utf8_strlen(lines[i], -1), <=, 80);
	}
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(mtest_harness_run(fixture->harness, explain, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, ID_MAPPED));
	g_assert_nonnull(strstr(out, "1 value from “apps”"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(mtest_harness_run(fixture->harness, explain_id, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "\"sampled\" : false"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(mtest_harness_run(fixture->harness, missing, &out, &err), ==, 3);
	g_assert_nonnull(strstr(err, "nope"));
}

/* a directory that does not exist when the daemon starts is watched
 * through its nearest existing parent (GLib would poll for it, waking the
 * daemon every few seconds): files put there later still load, and once
 * it exists it is watched itself */
static void
test_dir_created_later(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *late =
		g_build_filename(fixture->harness->tmpdir, "late", "allowlist.d", NULL);
	g_autofree char *later = g_build_filename(late, "later.json", NULL);
	g_autofree char *dirs = g_strdup_printf("%s:%s", fixture->allowlist_dir, late);
	g_autofree char *later_metric =
		metric(ID_LATER, "later", "counter", FUTURE ", \"weekly_cap\": 100");
	g_autofree char *json = g_strdup_printf("{\"format\": 1, \"metrics\": [%s]}", later_metric);

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_setenv("MTEST_ALLOWLIST_DIRS", dirs, TRUE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	g_assert_false(allowlist_has(fixture, "later"));

	g_assert_cmpint(g_mkdir_with_parents(late, 0700), ==, 0);
	write_file(late, "later.json", json);
	wait_for_metric(fixture, "later", TRUE);
	g_assert_true(allowlist_has(fixture, "limited"));

	/* the new directory is watched itself now */
	g_assert_cmpint(g_unlink(later), ==, 0);
	wait_for_metric(fixture, "later", FALSE);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
	ADD("/metrics/allowlist-gate/every-reason", test_every_reason);
	ADD("/metrics/allowlist-gate/drop-counters-bounded", test_drop_counters_bounded);
	ADD("/metrics/allowlist-gate/cap-after-restart", test_cap_after_restart);
	ADD("/metrics/allowlist-gate/sampling-secret", test_sampling_secret);
	ADD("/metrics/allowlist-gate/reload", test_reload);
	ADD("/metrics/allowlist-gate/reload-sighup", test_reload_sighup);
	ADD("/metrics/allowlist-gate/dir-created-later", test_dir_created_later);
	ADD("/metrics/allowlist-gate/cli", test_cli);
#undef ADD
	return g_test_run();
}
