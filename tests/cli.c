/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * metrics-cli as a user runs it, against the real daemon on a private
 * system bus with polkit mocked by python-dbusmock: every command's human
 * and --json output (each JSON parsed, its keys compared with the set
 * documented in docs/metrics-cli.1.md), exit codes, the empty store,
 * daemon and bus down, permission denied, the 80-column layout, --help,
 * bash completion, and interactive authorisation from a terminal.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <metrics.h>
#include <signal.h>
#include <string.h>

#include "mtest-harness.h"

#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
#define ID_COUNTER "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002"
#define ID_DURATION "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003"
#define APP_ID "org.example.CliTest.desktop"

#define ACTION_CONSENT "org.fedoraproject.Metrics1.set-consent"
#define ACTION_READ_ALL "org.fedoraproject.Metrics1.read-all"
#define ACTION_CLEAR_ALL "org.fedoraproject.Metrics1.clear-all"
#define ACTION_UPLOAD "org.fedoraproject.Metrics1.upload-now"

static const char *const allow_all[] = {ACTION_CONSENT, ACTION_READ_ALL, ACTION_CLEAR_ALL,
					ACTION_UPLOAD, NULL};
static const char *const allow_nothing[] = {NULL};

/* the JSON keys documented in docs/metrics-cli.1.md: status --all */
static const char *const status_keys[] = {"consent",
					  "user-choice",
					  "categories",
					  "all-users",
					  "consent-changed-usec",
					  "stored-keys",
					  "stored-events",
					  "stored-weeks",
					  "stored-bytes",
					  "store-used-bytes",
					  "store-max-bytes",
					  "store-full",
					  "accepted",
					  "allowlisted-metrics",
					  "pending-uploads",
					  "set-aside",
					  "next-upload",
					  "next-week-close",
					  "upload-window-days",
					  "last-upload",
					  "server-url",
					  "drops",
					  "drops-by-metric",
					  NULL};
/* status without --all: the caller's own figures and what is about nobody */
static const char *const own_status_keys[] = {"consent",
					      "user-choice",
					      "categories",
					      "all-users",
					      "consent-changed-usec",
					      "stored-keys",
					      "stored-events",
					      "stored-weeks",
					      "store-max-bytes",
					      "store-full",
					      "accepted",
					      "allowlisted-metrics",
					      "next-week-close",
					      "upload-window-days",
					      "server-url",
					      NULL};
static const char *const aggregate_keys[] = {"uid",   "event-id",      "week",
					     "kind",  "payload",       "payload-type",
					     "count", "duration-usec", NULL};
static const char *const next_keys[] = {"metric",   "week",	"state",       "due",
					"next-try", "attempts", "last-status", "last-answer",
					"events",   NULL};
static const char *const sent_keys[] = {"metric",    "week",	 "sent", "status",
					"answer",    "checksum", "size", "compressed-size",
					"timestamp", "events",	 NULL};
static const char *const event_keys[] = {
	"event-id", "os-version", "period-start", "count", "payload", "payload-type", NULL};
static const char *const metric_required_keys[] = {
	"id",	 "name",  "description", "purpose", "owner",	   "category",	 "kind", "payload",
	"other", "added", "expires",	 "expired", "sample-rate", "weekly-cap", "file", NULL};
static const char *const metric_optional_keys[] = {"values-from", "n-values", "sampled", NULL};
static const char *const error_keys[] = {"Domain", "Code", "Message", NULL};
static const char *const error_hint_keys[] = {"Domain", "Code", "Message", "Hint", NULL};

typedef struct {
	MtestHarness *harness;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, NULL);
}

static void
fixture_set_up_no_daemon(Fixture *fixture, gconstpointer user_data)
{
	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_pointer(&fixture->harness, mtest_harness_free);
}

/* runs metrics-cli with @args; returns its exit status */
static int
run_cli(Fixture *fixture, const char *const *args, char **out, char **err)
{
	return mtest_harness_run_cli(fixture->harness, args, out, err);
}

/* every byte of @text is ASCII, and no character became "?" */
static void
assert_ascii(const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if ((guchar)*p >= 0x80 || *p == '?')
			g_error("not plain ASCII at byte %d of:\n%s", (int)(p - text), text);
	}
}

/* runs metrics-cli @args in the C locale, whose character set is ASCII:
 * checks the status and that stdout and stderr are plain ASCII, typographic
 * characters replaced by look-alikes rather than "?"; returns stdout */
static char *
run_cli_ascii(Fixture *fixture, int expected_status, const char *const *args, char **err)
{
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out = NULL;
	g_autofree char *err_local = NULL;

	g_ptr_array_add(argv, (gpointer) "env");
	g_ptr_array_add(argv, (gpointer) "LC_ALL=C");
	g_ptr_array_add(argv, cli);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	g_assert_cmpint(mtest_harness_run(fixture->harness, (const char *const *)argv->pdata, &out,
					  &err_local),
			==, expected_status);
	g_test_message("LC_ALL=C metrics-cli %s:\n%s%s", args[0], out, err_local);
	assert_ascii(out);
	assert_ascii(err_local);
	if (err != NULL)
		*err = g_steal_pointer(&err_local);
	return g_steal_pointer(&out);
}

/* runs metrics-cli @args --json (after the command: it is accepted
 * anywhere), checks the status and a clean stderr, parses stdout */
static JsonNode *
run_json(Fixture *fixture, int expected_status, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();

	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, (gpointer) "--json");
	g_ptr_array_add(argv, NULL);
	g_assert_cmpint(run_cli(fixture, (const char *const *)argv->pdata, &out, &err), ==,
			expected_status);
	g_assert_cmpstr(err, ==, "");
	g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
	return json_node_copy(json_parser_get_root(parser));
}

/* the members of @object are exactly @keys */
static void
assert_keys(JsonObject *object, const char *const *keys)
{
	g_autoptr(GList) members = json_object_get_members(object);

	for (guint i = 0; keys[i] != NULL; i++) {
		if (!json_object_has_member(object, keys[i]))
			g_error("JSON key “%s” is missing", keys[i]);
	}
	for (GList *l = members; l != NULL; l = l->next) {
		if (!g_strv_contains(keys, l->data))
			g_error("JSON key “%s” is not documented", (const char *)l->data);
	}
}

static void
assert_fits_80(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_utf8_strlen(lines[i], -1) > 80)
			g_error("line wider than 80 columns: “%s”", lines[i]);
	}
}

static void
assert_error_json(JsonNode *node, int code, gboolean with_hint)
{
	JsonObject *error = json_object_get_object_member(json_node_get_object(node), "Error");

	g_assert_nonnull(error);
	assert_keys(json_node_get_object(node), (const char *const[]){"Error", NULL});
	assert_keys(error, with_hint ? error_hint_keys : error_keys);
	g_assert_cmpstr(json_object_get_string_member(error, "Domain"), ==, "metrics-error-quark");
	g_assert_cmpint(json_object_get_int_member(error, "Code"), ==, code);
}

static void
grant(Fixture *fixture)
{
	const char *const args[] = {"consent", "grant", NULL};
	g_autoptr(JsonNode) node = NULL;

	mtest_harness_set_allowed(fixture->harness, allow_all);
	node = run_json(fixture, 0, args);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "consent"), ==,
			"granted");
}

/* two events of each kind */
static void
record_some(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = metrics_recorder_new(fixture->harness->connection);

	for (guint i = 0; i < 2; i++) {
		metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(APP_ID));
		metrics_recorder_add(recorder, ID_COUNTER, NULL, 2);
		metrics_recorder_record_duration(recorder, ID_DURATION, NULL,
						 g_get_real_time() - 90 * G_USEC_PER_SEC,
						 90 * G_USEC_PER_SEC);
	}
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
}

/* ---- the empty store ---- */

static void
test_empty(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	JsonObject *object;
	const char *const status[] = {"status", NULL};
	const char *const status_all[] = {"status", "--all", NULL};
	const char *const show[] = {"show", NULL};
	const char *const next[] = {"show", "--next", NULL};
	const char *const sent[] = {"show", "--sent", NULL};
	const char *const upload[] = {"upload", NULL};
	const char *const clear[] = {"clear", NULL};

	grant(fixture);

	g_assert_cmpint(run_cli(fixture, status_all, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(out, "0 aggregates of 0 events in 0 weeks, "));
	g_assert_nonnull(strstr(out, "none (nothing is stored)"));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, status_all);
	object = json_node_get_object(node);
	assert_keys(object, status_keys);
	g_assert_true(json_object_get_boolean_member(object, "all-users"));
	g_assert_cmpint(json_object_get_int_member(object, "stored-keys"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(object, "next-week-close"), ==, 0);
	g_clear_pointer(&node, json_node_unref);
	node = run_json(fixture, 0, status);
	object = json_node_get_object(node);
	assert_keys(object, own_status_keys);
	g_assert_false(json_object_get_boolean_member(object, "all-users"));
	g_clear_pointer(&node, json_node_unref);

	/* nothing to show: 2, in both modes */
	g_assert_cmpint(run_cli(fixture, show, &out, &err), ==, 2);
	g_assert_cmpstr(out, ==, "Nothing is stored.\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 2, show);
	assert_keys(json_node_get_object(node), (const char *const[]){"aggregates", NULL});
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
				 json_node_get_object(node), "aggregates")),
			 ==, 0);
	g_clear_pointer(&node, json_node_unref);

	g_assert_cmpint(run_cli(fixture, next, &out, &err), ==, 2);
	g_assert_cmpstr(out, ==, "Nothing waits to be uploaded.\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 2, next);
	assert_keys(json_node_get_object(node), (const char *const[]){"requests", NULL});
	g_clear_pointer(&node, json_node_unref);

	g_assert_cmpint(run_cli(fixture, sent, &out, &err), ==, 2);
	g_assert_cmpstr(out, ==, "Nothing was uploaded in the last 90 days.\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 2, sent);
	assert_keys(json_node_get_object(node), (const char *const[]){"requests", NULL});
	g_clear_pointer(&node, json_node_unref);

	g_assert_cmpint(run_cli(fixture, upload, &out, &err), ==, 2);
	g_assert_cmpstr(out, ==, "Nothing is due for upload.\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 2, upload);
	assert_keys(json_node_get_object(node), (const char *const[]){"sent", "failed", NULL});
	g_clear_pointer(&node, json_node_unref);

	g_assert_cmpint(run_cli(fixture, clear, &out, &err), ==, 2);
	g_assert_cmpstr(out, ==, "Nothing was stored: nothing deleted.\n");
	g_clear_pointer(&node, json_node_unref);
	node = run_json(fixture, 2, clear);
	assert_keys(json_node_get_object(node), (const char *const[]){"removed", NULL});
}

/* ---- the user's own choice ---- */

static void
test_choice(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *const show[] = {"choice", NULL};
	const char *const out_args[] = {"choice", "out", NULL};
	const char *const default_args[] = {"choice", "default", NULL};
	const char *const status[] = {"status", NULL};
	const char *const bogus[] = {"choice", "no", NULL};
	const char *const extra[] = {"choice", "in", "again", NULL};

	/* no authorisation at all is needed for one's own */
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_cmpint(run_cli(fixture, show, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "default (follows the machine's consent)\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_cli(fixture, out_args, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "out (nothing of yours is recorded or uploaded)\n");
	g_assert_cmpstr(err, ==, "");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, show);
	assert_keys(json_node_get_object(node), (const char *const[]){"user-choice", NULL});
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "user-choice"),
			==, "out");
	g_clear_pointer(&node, json_node_unref);
	node = run_json(fixture, 0, status);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "user-choice"),
			==, "out");
	g_clear_pointer(&node, json_node_unref);
	g_assert_cmpint(run_cli(fixture, status, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "Your choice:"));
	g_assert_nonnull(strstr(out, "out (nothing of yours is recorded or uploaded)"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, default_args);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "user-choice"),
			==, "default");
	g_clear_pointer(&node, json_node_unref);

	g_assert_cmpint(run_cli(fixture, bogus, &out, &err), ==, 64);
	g_assert_nonnull(strstr(err, "Usage:"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_cli(fixture, extra, &out, &err), ==, 64);
	g_assert_nonnull(strstr(err, "metrics-cli choice [in|out|default]"));
}

static void
test_categories(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *const show[] = {"categories", NULL};
	const char *const off[] = {"categories", "problems", "off", NULL};
	const char *const user_off[] = {"categories", "--user", "usage", "off", NULL};
	const char *const bogus[] = {"categories", "crashes", "off", NULL};
	const char *const bad_state[] = {"categories", "usage", "maybe", NULL};
	JsonObject *categories;

	node = run_json(fixture, 0, show);
	categories = json_object_get_object_member(json_node_get_object(node), "categories");
	g_assert_cmpuint(json_object_get_size(categories), ==, 5);
	g_assert_cmpstr(json_object_get_string_member(
				json_object_get_object_member(categories, "usage"), "machine"),
			==, "unknown");
	g_clear_pointer(&node, json_node_unref);

	/* the machine's switch needs authorisation; one's own does not */
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_cmpint(run_cli(fixture, off, &out, &err), ==, 5);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_cli(fixture, user_off, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "usage"));
	g_assert_nonnull(strstr(out, "off for you"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	mtest_harness_set_allowed(fixture->harness, allow_all);
	node = run_json(fixture, 0, off);
	categories = json_object_get_object_member(json_node_get_object(node), "categories");
	g_assert_cmpstr(json_object_get_string_member(
				json_object_get_object_member(categories, "problems"), "machine"),
			==, "off");
	g_assert_cmpstr(json_object_get_string_member(
				json_object_get_object_member(categories, "usage"), "user"),
			==, "off");
	g_clear_pointer(&node, json_node_unref);

	node = run_json(fixture, 1, bogus);
	assert_error_json(node, METRICS_ERROR_INVALID_DATA, FALSE);
	g_clear_pointer(&node, json_node_unref);
	g_assert_cmpint(run_cli(fixture, bad_state, &out, &err), ==, 64);
	g_assert_nonnull(strstr(err, "categories [--user] [NAME on|off]"));
}

/* ---- consent ---- */

static void
test_consent(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *const status[] = {"consent", "status", NULL};
	const char *const grant_args[] = {"consent", "grant", NULL};
	const char *const deny_args[] = {"consent", "deny", NULL};
	const char *const bogus[] = {"consent", "maybe", NULL};

	g_assert_cmpint(run_cli(fixture, status, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "not asked yet (nothing is recorded)\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, status);
	assert_keys(json_node_get_object(node), (const char *const[]){"consent", NULL});
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "consent"), ==,
			"unknown");
	g_clear_pointer(&node, json_node_unref);

	/* denied: 5, and in human mode a hint at what to do */
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_cmpint(run_cli(fixture, grant_args, &out, &err), ==, 5);
	g_assert_cmpstr(out, ==, "");
	g_assert_nonnull(strstr(err, "Not authorised"));
	g_assert_nonnull(strstr(err, "Run the command from a terminal so you can authenticate, or "
				     "ask an administrator."));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 5, grant_args);
	assert_error_json(node, METRICS_ERROR_PERMISSION_DENIED, TRUE);
	g_clear_pointer(&node, json_node_unref);

	mtest_harness_set_allowed(fixture->harness, allow_all);
	g_assert_cmpint(run_cli(fixture, grant_args, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "granted (metrics are recorded and uploaded)\n");
	g_assert_cmpstr(err, ==, "");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, status);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "consent"), ==,
			"granted");
	g_clear_pointer(&node, json_node_unref);

	node = run_json(fixture, 0, deny_args);
	assert_keys(json_node_get_object(node), (const char *const[]){"consent", NULL});
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "consent"), ==,
			"denied");
	g_clear_pointer(&node, json_node_unref);
	g_assert_cmpint(run_cli(fixture, status, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "denied (nothing is recorded)\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(run_cli(fixture, bogus, &out, &err), ==, 64);
	g_assert_nonnull(strstr(err, "Usage:"));
}

/* ---- stored data: status, show, --next, upload, clear ---- */

static void
test_data(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *expected = NULL;
	JsonObject *object;
	JsonArray *array;
	const char *const status[] = {"status", NULL};
	const char *const status_all[] = {"status", "--all", NULL};
	const char *const show[] = {"show", NULL};
	const char *const show_all[] = {"show", "--all", NULL};
	const char *const next[] = {"show", "--next", NULL};
	const char *const upload[] = {"upload", NULL};
	const char *const clear[] = {"clear", NULL};
	const char *const clear_all[] = {"clear", "--all", NULL};
	const char *const garbage[] = {"show", "--week", "garbage", NULL};
	const char *const bad_day[] = {"show", "--week=2026-02-30", NULL};
	const char *const by_metric[] = {"show", "--metric", "app-opened", NULL};
	gint64 n_events;

	grant(fixture);
	record_some(fixture);

	/* status --all: what is stored, in IEC units, and when it will go */
	node = run_json(fixture, 0, status_all);
	object = json_node_get_object(node);
	assert_keys(object, status_keys);
	g_assert_cmpint(json_object_get_int_member(object, "stored-keys"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(object, "stored-weeks"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(object, "store-max-bytes"), >, 0);
	g_assert_false(json_object_get_boolean_member(object, "store-full"));
	g_assert_cmpint(json_object_get_int_member(object, "next-upload"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(object, "next-week-close"), >,
			g_get_real_time());
	g_assert_cmpint(json_object_get_int_member(object, "next-week-close"), <=,
			g_get_real_time() + 7 * G_TIME_SPAN_DAY);
	g_assert_cmpint(json_object_get_int_member(object, "upload-window-days"), ==, 7);
	n_events = json_object_get_int_member(object, "stored-events");
	g_clear_pointer(&node, json_node_unref);
	g_assert_cmpint(run_cli(fixture, status_all, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	expected = g_strdup_printf("3 aggregates of %" G_GINT64_FORMAT " events in 1 week, ",
				   n_events);
	g_assert_nonnull(strstr(out, expected));
	g_assert_nonnull(strstr(out, "KiB of"));
	g_assert_nonnull(strstr(out, "MiB"));
	g_assert_null(strstr(out, " kB"));
	g_assert_null(strstr(out, "Next upload:           never"));
	g_assert_nonnull(strstr(out, "at a random moment within 7 days"));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* status: the caller's own, without the store's size or the drops */
	g_assert_cmpint(run_cli(fixture, status, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_clear_pointer(&expected, g_free);
	expected = g_strdup_printf(" 3 aggregates of %" G_GINT64_FORMAT " events in 1 week\n",
				   n_events);
	g_assert_nonnull(strstr(out, "Stored for you: "));
	g_assert_nonnull(strstr(out, expected));
	g_assert_null(strstr(out, "KiB"));
	g_assert_null(strstr(out, "Uploads waiting:"));
	g_assert_null(strstr(out, "Dropped"));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, status);
	object = json_node_get_object(node);
	assert_keys(object, own_status_keys);
	g_assert_cmpint(json_object_get_int_member(object, "stored-keys"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(object, "stored-events"), ==, n_events);
	g_clear_pointer(&node, json_node_unref);

	/* status --all without authorisation */
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_cmpint(run_cli(fixture, status_all, &out, &err), ==, 5);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	mtest_harness_set_allowed(fixture->harness, allow_all);

	/* show: grouped by metric, kinds as words, in 80 columns */
	g_assert_cmpint(run_cli(fixture, show, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(out, APP_ID));
	g_assert_nonnull(strstr(out, "app-opened"));
	g_assert_nonnull(strstr(out, "counter"));
	g_assert_nonnull(strstr(out, "3 min 00 s"));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, show);
	array = json_object_get_array_member(json_node_get_object(node), "aggregates");
	g_assert_cmpuint(json_array_get_length(array), ==, 3);
	for (guint i = 0; i < json_array_get_length(array); i++)
		assert_keys(json_array_get_object_element(array, i), aggregate_keys);
	g_clear_pointer(&node, json_node_unref);

	/* filters; --week takes any day of the week */
	node = run_json(fixture, 0, by_metric);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
				 json_node_get_object(node), "aggregates")),
			 ==, 1);
	g_clear_pointer(&node, json_node_unref);
	{
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();
		g_autoptr(GDateTime) sunday =
			g_date_time_add_days(now, 7 - g_date_time_get_day_of_week(now));
		g_autofree char *day = g_date_time_format(sunday, "%Y-%m-%d");
		const char *const by_week[] = {"show", "--week", day, NULL};

		node = run_json(fixture, 0, by_week);
		g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
					 json_node_get_object(node), "aggregates")),
				 ==, 3);
		g_clear_pointer(&node, json_node_unref);
	}
	g_assert_cmpint(run_cli(fixture, garbage, &out, &err), ==, 64);
	g_assert_nonnull(strstr(err, "Not a date: “garbage”"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_cli(fixture, bad_day, &out, &err), ==, 64);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* show --all: denied, then allowed */
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_cmpint(run_cli(fixture, show_all, &out, &err), ==, 5);
	g_assert_nonnull(strstr(err, "ask an administrator"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 5, show_all);
	assert_error_json(node, METRICS_ERROR_PERMISSION_DENIED, TRUE);
	g_clear_pointer(&node, json_node_unref);
	mtest_harness_set_allowed(fixture->harness, allow_all);
	g_assert_cmpint(run_cli(fixture, show_all, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "User"));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, show_all);
	array = json_object_get_array_member(json_node_get_object(node), "aggregates");
	g_assert_cmpuint(json_array_get_length(array), ==, 3);
	g_clear_pointer(&node, json_node_unref);

	/* show --next: this week's requests, decoded */
	g_assert_cmpint(run_cli(fixture, next, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(out, "not closed yet, closes"));
	g_assert_nonnull(strstr(out, "app-opened, week of"));
	g_assert_nonnull(strstr(out, APP_ID));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, next);
	array = json_object_get_array_member(json_node_get_object(node), "requests");
	g_assert_cmpuint(json_array_get_length(array), ==, 3);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *request = json_array_get_object_element(array, i);
		JsonArray *events = json_object_get_array_member(request, "events");

		assert_keys(request, next_keys);
		g_assert_cmpstr(json_object_get_string_member(request, "state"), ==, "next");
		g_assert_cmpuint(json_array_get_length(events), >, 0);
		for (guint j = 0; j < json_array_get_length(events); j++)
			assert_keys(json_array_get_object_element(events, j), event_keys);
	}
	g_clear_pointer(&node, json_node_unref);

	/* the week is not closed: nothing is due */
	g_assert_cmpint(run_cli(fixture, upload, &out, &err), ==, 2);
	g_assert_cmpstr(out, ==, "Nothing is due for upload.\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 2, upload);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(node), "sent"), ==, 0);
	g_clear_pointer(&node, json_node_unref);

	/* clear: own data, then nothing left; --all denied, then allowed */
	g_assert_cmpint(run_cli(fixture, clear, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "Deleted 3 stored aggregates.\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 2, clear);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(node), "removed"), ==, 0);
	g_clear_pointer(&node, json_node_unref);
	record_some(fixture);
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_cmpint(run_cli(fixture, clear_all, &out, &err), ==, 5);
	g_assert_nonnull(strstr(err, "ask an administrator"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 5, clear_all);
	assert_error_json(node, METRICS_ERROR_PERMISSION_DENIED, TRUE);
	g_clear_pointer(&node, json_node_unref);
	mtest_harness_set_allowed(fixture->harness, allow_all);
	node = run_json(fixture, 0, clear_all);
	assert_keys(json_node_get_object(node), (const char *const[]){"removed", NULL});
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(node), "removed"), ==, 3);
	g_clear_pointer(&node, json_node_unref);
	g_assert_cmpint(run_cli(fixture, clear_all, &out, &err), ==, 2);
}

/* ---- uploads: show --next with requests due, upload, show --sent ---- */

/* a figure of everybody's status (the uploads are the machine's) */
static gint64
status_int(Fixture *fixture, const char *key)
{
	const char *const status[] = {"status", "--all", NULL};
	g_autoptr(JsonNode) node = run_json(fixture, 0, status);

	return json_object_get_int_member(json_node_get_object(node), key);
}

static gboolean
three_pending_cb(gpointer user_data)
{
	return status_int(user_data, "pending-uploads") >= 3;
}

static void
test_uploads(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	g_autoptr(GSubprocess) sink = NULL;
	g_autoptr(GDataInputStream) sink_out = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *sink_path = mtest_harness_build_path("MTEST_SINK");
	g_autofree char *url = NULL;
	g_autofree char *config = g_build_filename(fixture->harness->tmpdir, "cli.conf", NULL);
	g_autofree char *config_arg = g_strdup_printf("--config=%s", config);
	g_autofree char *contents = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	/* the daemon's clock a week and a day ahead: this week is closed */
	const char *const daemon_args[] = {config_arg, "--clock-offset=691200", NULL};
	const char *const status[] = {"status", "--all", NULL};
	const char *const next[] = {"show", "--next", NULL};
	const char *const sent[] = {"show", "--sent", NULL};
	const char *const upload[] = {"upload", NULL};
	JsonArray *array;

	grant(fixture);
	record_some(fixture);

	/* metrics-sink: a local server that validates and accepts uploads */
	sink = mtest_harness_spawn(fixture->harness, launcher,
				   (const char *const[]){sink_path, NULL});
	sink_out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(sink));
	url = g_data_input_stream_read_line(sink_out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(url);
	contents = g_strdup_printf("[Upload]\nServerUrl=%s\nWindow=7\n", g_strstrip(url));
	g_assert_true(g_file_set_contents(config, contents, -1, NULL));
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, daemon_args);
	mtest_wait_until(three_pending_cb, fixture, "three uploads to be queued");

	/* status --all: the due time of the first request, not an estimate */
	g_assert_cmpint(run_cli(fixture, status, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "Uploads waiting:       3"));
	g_assert_null(strstr(out, "random moment"));
	g_assert_nonnull(strstr(out, "Last upload:           never"));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* show --next: the requests, each due at its own random moment; the
	 * payloads as plain values, not in GVariant's notation */
	g_assert_cmpint(run_cli(fixture, next, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "due "));
	g_assert_null(strstr(out, "<"));
	g_assert_nonnull(strstr(out, ", 0 attempts"));
	g_assert_nonnull(strstr(out, APP_ID));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, next);
	array = json_object_get_array_member(json_node_get_object(node), "requests");
	g_assert_cmpuint(json_array_get_length(array), ==, 3);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *request = json_array_get_object_element(array, i);

		assert_keys(request, next_keys);
		g_assert_cmpstr(json_object_get_string_member(request, "state"), ==, "pending");
	}
	g_clear_pointer(&node, json_node_unref);

	/* upload: sends them now */
	g_assert_cmpint(run_cli(fixture, upload, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "Uploaded 3 requests.\n");
	g_assert_cmpstr(err, ==, "");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 2, upload);
	assert_keys(json_node_get_object(node), (const char *const[]){"sent", "failed", NULL});
	g_clear_pointer(&node, json_node_unref);

	/* show --sent: the archive, with the server's answers */
	g_assert_cmpint(run_cli(fixture, sent, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(out, "app-opened, week of"));
	g_assert_nonnull(strstr(out, "sent "));
	g_assert_nonnull(strstr(out, APP_ID));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, sent);
	array = json_object_get_array_member(json_node_get_object(node), "requests");
	g_assert_cmpuint(json_array_get_length(array), ==, 3);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *request = json_array_get_object_element(array, i);
		JsonArray *events = json_object_get_array_member(request, "events");

		assert_keys(request, sent_keys);
		g_assert_cmpint(json_object_get_int_member(request, "status"), ==, 200);
		for (guint j = 0; j < json_array_get_length(events); j++)
			assert_keys(json_array_get_object_element(events, j), event_keys);
	}
	g_clear_pointer(&node, json_node_unref);

	g_assert_cmpint(status_int(fixture, "last-upload"), >, 0);

	/* a locale that is not UTF-8: ASCII look-alikes, not "?" */
	out = run_cli_ascii(fixture, 0, status, NULL);
	g_assert_nonnull(strstr(out, " KiB of "));
	g_clear_pointer(&out, g_free);
	out = run_cli_ascii(fixture, 0, sent, NULL);
	g_assert_nonnull(strstr(out, "answer \"200 "));
	/* the payloads as plain values: the summed seconds of the duration */
	g_assert_nonnull(strstr(out, "  180\n"));
	g_assert_null(strstr(out, "<"));
	g_clear_pointer(&out, g_free);
	out = run_cli_ascii(fixture, 64, (const char *const[]){"bogus", NULL}, &err);
	g_assert_nonnull(strstr(err, "Unknown command \"bogus\""));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	out = run_cli_ascii(fixture, 0, (const char *const[]){"--help", NULL}, NULL);
	g_assert_nonnull(strstr(out, "COMMAND [ARGS...]"));
	g_clear_pointer(&out, g_free);

	g_subprocess_send_signal(sink, SIGTERM);
	g_subprocess_wait(sink, NULL, NULL);
}

/* ---- a full store ---- */

static void
fixture_set_up_small_store(Fixture *fixture, gconstpointer user_data)
{
	const char *const args[] = {"--max-store-size=64", NULL};

	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, args);
}

static void
test_store_full(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = metrics_recorder_new(fixture->harness->connection);
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *const status[] = {"status", "--all", NULL};
	JsonObject *object;
	JsonObject *drops;

	grant(fixture);
	for (guint i = 0; i < 400; i++) {
		g_autoptr(GError) error = NULL;

		for (guint j = 0; j < 20; j++) {
			g_autofree char *value = g_strdup_printf(
				"org.example.FillTheStoreWithALongApplicationIdentifier%u_%u."
				"AndSomeMoreToMakeItLongerStill.desktop",
				i, j);
			metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(value));
		}
		g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
		g_assert_no_error(error);
		g_clear_pointer(&node, json_node_unref);
		node = run_json(fixture, 0, status);
		drops = json_object_get_object_member(json_node_get_object(node), "drops");
		if (json_object_has_member(drops, "store-full"))
			break;
	}
	object = json_node_get_object(node);
	drops = json_object_get_object_member(object, "drops");
	g_assert_true(json_object_has_member(drops, "store-full"));
	g_assert_true(json_object_get_boolean_member(object, "store-full"));
	g_assert_cmpint(json_object_get_int_member(object, "store-max-bytes"), ==, 64 * 1024);

	g_assert_cmpint(run_cli(fixture, status, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "64.0\u00a0KiB (full: new events are dropped)"));
	g_assert_nonnull(strstr(out, "store full"));
	assert_fits_80(out);
}

/* ---- allowlist ---- */

static void
test_allowlist(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	JsonArray *metrics;
	const char *const list[] = {"allowlist", NULL};
	const char *const explain[] = {"allowlist", "explain", "app-opened", NULL};
	const char *const missing[] = {"allowlist", "explain", "no-such-metric", NULL};
	g_autoptr(GPtrArray) all_keys = g_ptr_array_new();

	for (guint i = 0; metric_required_keys[i] != NULL; i++)
		g_ptr_array_add(all_keys, (gpointer)metric_required_keys[i]);
	for (guint i = 0; metric_optional_keys[i] != NULL; i++)
		g_ptr_array_add(all_keys, (gpointer)metric_optional_keys[i]);
	g_ptr_array_add(all_keys, NULL);

	g_assert_cmpint(run_cli(fixture, list, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(out, "app-opened ("));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, list);
	assert_keys(json_node_get_object(node), (const char *const[]){"metrics", NULL});
	metrics = json_object_get_array_member(json_node_get_object(node), "metrics");
	g_assert_cmpuint(json_array_get_length(metrics), >, 0);
	for (guint i = 0; i < json_array_get_length(metrics); i++) {
		JsonObject *metric = json_array_get_object_element(metrics, i);
		g_autoptr(GList) members = json_object_get_members(metric);

		for (guint j = 0; metric_required_keys[j] != NULL; j++)
			g_assert_true(json_object_has_member(metric, metric_required_keys[j]));
		for (GList *l = members; l != NULL; l = l->next)
			g_assert_true(
				g_strv_contains((const char *const *)all_keys->pdata, l->data));
	}
	g_clear_pointer(&node, json_node_unref);

	g_assert_cmpint(run_cli(fixture, explain, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, ID_VALUE));
	assert_fits_80(out);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	node = run_json(fixture, 0, explain);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "id"), ==,
			ID_VALUE);
	g_clear_pointer(&node, json_node_unref);

	g_assert_cmpint(run_cli(fixture, missing, &out, &err), ==, 3);
	g_assert_nonnull(strstr(err, "no-such-metric"));
}

/* ---- daemon down, bus down ---- */

static void
test_daemon_down(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *const status[] = {"status", NULL};
	const char *const show[] = {"show", NULL};

	node = run_json(fixture, 4, status);
	assert_error_json(node, METRICS_ERROR_NOT_RUNNING, FALSE);
	g_clear_pointer(&node, json_node_unref);
	g_assert_cmpint(run_cli(fixture, show, &out, &err), ==, 4);
	g_assert_cmpstr(out, ==, "");
	g_assert_nonnull(strstr(err, "systemctl start metrics-recorder"));
}

static void
test_no_bus(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *socket = g_build_filename(fixture->harness->tmpdir, "no-bus", NULL);
	g_autofree char *address = g_strdup_printf("unix:path=%s", socket);
	g_autofree char *saved = g_strdup(g_getenv("DBUS_SYSTEM_BUS_ADDRESS"));
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *const consent[] = {"consent", "status", NULL};

	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
	g_assert_cmpint(run_cli(fixture, consent, &out, &err), ==, 4);
	g_assert_cmpstr(out, ==, "");
	g_assert_nonnull(strstr(err, "Cannot connect to the system bus"));
	g_assert_nonnull(strstr(err, "systemctl start dbus"));
	node = run_json(fixture, 4, consent);
	assert_error_json(node, METRICS_ERROR_NOT_RUNNING, TRUE);
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", saved, TRUE);
}

/* ---- --help and completion ---- */

/* the commands, from the list in metrics-cli --help */
static GStrv
list_commands(Fixture *fixture)
{
	const char *const help[] = {"--help", NULL};
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GStrvBuilder) commands = g_strv_builder_new();
	gboolean in_commands = FALSE;

	g_assert_cmpint(run_cli(fixture, help, &out, NULL), ==, 0);
	assert_fits_80(out);
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_strcmp0(lines[i], "Commands:") == 0) {
			in_commands = TRUE;
			continue;
		}
		/* "  name args", the summary below indented deeper */
		if (in_commands && g_str_has_prefix(lines[i], "  ") && lines[i][2] != ' ') {
			g_auto(GStrv) words = g_strsplit(lines[i] + 2, " ", 2);
			g_strv_builder_add(commands, words[0]);
		}
	}
	return g_strv_builder_end(commands);
}

/* the arguments and options listed in metrics-cli @command --help */
static GStrv
list_options(Fixture *fixture, const char *command)
{
	const char *const help[] = {command, "--help", NULL};
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GStrvBuilder) options = g_strv_builder_new();
	gboolean in_options = FALSE;

	g_assert_cmpint(run_cli(fixture, help, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	assert_fits_80(out);
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_strcmp0(lines[i], "Arguments and options:") == 0) {
			in_options = TRUE;
			continue;
		}
		if (in_options && lines[i][0] == '\0')
			break;
		if (in_options && g_str_has_prefix(lines[i], "  ") && lines[i][2] != ' ') {
			g_auto(GStrv) words = g_strsplit(lines[i] + 2, " ", 2);
			const char *word = words[0];

			/* "-h, --help": the long form */
			if (g_strcmp0(word, "-h,") == 0)
				word = "--help";
			g_strv_builder_add(options, word);
			/* every option has its line of text, beside it or below */
			g_assert_true(
				(words[1] != NULL && strspn(words[1], " ") < strlen(words[1])) ||
				(lines[i + 1] != NULL &&
				 g_str_has_prefix(lines[i + 1], "                        ")));
		}
	}
	return g_strv_builder_end(options);
}

static void
test_help(Fixture *fixture, gconstpointer user_data)
{
	g_auto(GStrv) commands = list_commands(fixture);

	g_assert_cmpuint(g_strv_length(commands), ==, 8);
	for (guint i = 0; commands[i] != NULL; i++) {
		g_auto(GStrv) options = list_options(fixture, commands[i]);

		g_assert_true(g_strv_contains((const char *const *)options, "--json"));
		g_assert_true(g_strv_contains((const char *const *)options, "--help"));
	}
}

/* what the bash completion offers for @words (the last one being
 * completed), with bash-completion's _init_completion stubbed */
static GStrv
complete(const char *const *words)
{
	g_autofree char *source = mtest_harness_build_path("MTEST_COMPLETION");
	g_autoptr(GString) script = g_string_new(NULL);
	g_autofree char *quoted = g_shell_quote(source);
	g_autofree char *out = NULL;
	g_autoptr(GError) error = NULL;
	int status = 0;
	guint n = g_strv_length((GStrv)words);
	const char *argv[] = {"bash", "--norc", "--noprofile", "-c", NULL, NULL};

	g_string_append(script, "_init_completion() { words=(\"${COMP_WORDS[@]}\"); "
				"cword=$COMP_CWORD; cur=${COMP_WORDS[COMP_CWORD]}; "
				"prev=${COMP_WORDS[COMP_CWORD-1]}; }; complete() { :; }; ");
	g_string_append_printf(script, ". %s; COMP_WORDS=(", quoted);
	for (guint i = 0; i < n; i++) {
		g_autofree char *word = g_shell_quote(words[i]);
		g_string_append_printf(script, "%s ", word);
	}
	g_string_append_printf(script,
			       "); COMP_CWORD=%u; _metrics_cli; "
			       "printf '%%s\\n' \"${COMPREPLY[@]}\"",
			       n - 1);
	argv[4] = script->str;
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
				   NULL, &status, &error));
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	return g_strsplit(g_strstrip(out), "\n", -1);
}

static void
test_completion(Fixture *fixture, gconstpointer user_data)
{
	g_auto(GStrv) commands = list_commands(fixture);
	g_auto(GStrv) offered = complete((const char *const[]){"metrics-cli", "", NULL});

	for (guint i = 0; commands[i] != NULL; i++) {
		g_auto(GStrv) options = list_options(fixture, commands[i]);

		if (!g_strv_contains((const char *const *)offered, commands[i]))
			g_error("the completion does not offer the command %s", commands[i]);
		for (guint j = 0; options[j] != NULL; j++) {
			g_auto(GStrv) for_command = NULL;
			const char *option = options[j];

			/* arguments (grant, explain) come first, options anywhere */
			for_command = complete((const char *const[]){
				"metrics-cli", commands[i], option[0] == '-' ? "-" : "", NULL});
			if (!g_strv_contains((const char *const *)for_command, option))
				g_error("the completion of %s does not offer %s", commands[i],
					option);
		}
	}
}

/* ---- interactive authorisation from a terminal ---- */

/* the calls the polkit mock logged for @method */
static GPtrArray *
polkit_calls(Fixture *fixture, const char *method)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) calls = NULL;
	GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	GVariantIter iter;
	const char *name;
	GVariant *args;
	guint64 when;

	reply = g_dbus_connection_call_sync(
		fixture->harness->connection, "org.freedesktop.PolicyKit1",
		"/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock", "GetCalls",
		NULL, G_VARIANT_TYPE("(a(tsav))"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	g_assert_no_error(error);
	calls = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, calls);
	while (g_variant_iter_next(&iter, "(t&s@av)", &when, &name, &args)) {
		if (g_strcmp0(name, method) == 0)
			g_ptr_array_add(found, args);
		else
			g_variant_unref(args);
	}
	return found;
}

/* the flags (u, the 4th argument) of the last CheckAuthorization of
 * @action */
static gboolean
last_check_flags(Fixture *fixture, const char *action, guint32 *flags)
{
	g_autoptr(GPtrArray) calls = polkit_calls(fixture, "CheckAuthorization");
	gboolean found = FALSE;

	for (guint i = 0; i < calls->len; i++) {
		GVariant *args = g_ptr_array_index(calls, i);
		g_autoptr(GVariant) id_box = g_variant_get_child_value(args, 1);
		g_autoptr(GVariant) id = g_variant_get_variant(id_box);
		g_autoptr(GVariant) flags_box = g_variant_get_child_value(args, 3);
		g_autoptr(GVariant) flags_value = g_variant_get_variant(flags_box);

		if (g_strcmp0(g_variant_get_string(id, NULL), action) != 0)
			continue;
		*flags = g_variant_get_uint32(flags_value);
		found = TRUE;
	}
	return found;
}

static void
clear_polkit_calls(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
		fixture->harness->connection, "org.freedesktop.PolicyKit1",
		"/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock", "ClearCalls",
		NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	g_assert_no_error(error);
}

/* runs metrics-cli @args with a terminal as stdin, under script(1) */
static int
run_in_terminal(Fixture *fixture, const char *args, char **out, const char *path)
{
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	g_autofree char *quoted = g_shell_quote(cli);
	g_autofree char *path_quoted = g_shell_quote(path != NULL ? path : g_getenv("PATH"));
	/* PATH for metrics-cli only: where it looks for pkttyagent */
	g_autofree char *command = g_strdup_printf("env PATH=%s %s %s", path_quoted, quoted, args);
	const char *argv[] = {"script", "--quiet",   "--return", "--command",
			      command,	"/dev/null", NULL};

	return mtest_harness_run(fixture->harness, argv, out, NULL);
}

/* whether @name is a program in PATH */
static gboolean
have_program(const char *name)
{
	g_autofree char *path = g_find_program_in_path(name);

	return path != NULL;
}

static void
test_interactive(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GPtrArray) registrations = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const char *const deny[] = {"consent", "deny", NULL};
	guint32 flags = 0;

	if (!have_program("script"))
		g_error("script(1) (util-linux) is needed to give metrics-cli a terminal");
	mtest_harness_set_allowed(fixture->harness, allow_all);

	/* not a terminal: no interaction asked for */
	clear_polkit_calls(fixture);
	g_assert_cmpint(run_cli(fixture, deny, &out, &err), ==, 0);
	g_assert_true(last_check_flags(fixture, ACTION_CONSENT, &flags));
	g_assert_cmpuint(flags & 1, ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* a terminal: ALLOW_INTERACTIVE_AUTHORIZATION reaches the daemon,
	 * which asks polkit with AllowUserInteraction (1). The mock cannot
	 * register pkttyagent (it lacks RegisterAuthenticationAgentWithOptions):
	 * the command goes on without the agent */
	clear_polkit_calls(fixture);
	g_assert_cmpint(run_in_terminal(fixture, "consent grant", &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "granted"));
	g_assert_true(last_check_flags(fixture, ACTION_CONSENT, &flags));
	g_assert_cmpuint(flags & 1, ==, 1);
	g_clear_pointer(&out, g_free);

	/* with --json: never interactive, even from a terminal */
	clear_polkit_calls(fixture);
	g_assert_cmpint(run_in_terminal(fixture, "consent deny --json", &out, NULL), ==, 0);
	g_assert_true(last_check_flags(fixture, ACTION_CONSENT, &flags));
	g_assert_cmpuint(flags & 1, ==, 0);
	g_clear_pointer(&out, g_free);

	/* a polkit that takes agents: pkttyagent registers for the CLI's
	 * process before the call is made */
	reply = g_dbus_connection_call_sync(
		fixture->harness->connection, "org.freedesktop.PolicyKit1",
		"/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock", "AddMethod",
		g_variant_new("(sssss)", "org.freedesktop.PolicyKit1.Authority",
			      "RegisterAuthenticationAgentWithOptions", "(sa{sv})ssa{sv}", "", ""),
		NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	g_assert_no_error(error);
	clear_polkit_calls(fixture);
	g_assert_cmpint(run_in_terminal(fixture, "consent grant", &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "granted"));
	registrations = polkit_calls(fixture, "RegisterAuthenticationAgentWithOptions");
	if (!have_program("pkttyagent"))
		g_error("pkttyagent (polkit) is needed for this test");
	g_assert_cmpuint(registrations->len, ==, 1);
	{
		GVariant *args = g_ptr_array_index(registrations, 0);
		g_autoptr(GVariant) subject_box = g_variant_get_child_value(args, 0);
		g_autoptr(GVariant) subject = g_variant_get_variant(subject_box);
		const char *kind = NULL;

		g_variant_get_child(subject, 0, "&s", &kind);
		g_assert_cmpstr(kind, ==, "unix-process");
	}
	g_assert_true(last_check_flags(fixture, ACTION_CONSENT, &flags));
	g_assert_cmpuint(flags & 1, ==, 1);

	/* no pkttyagent: the call is made all the same, still interactive */
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&registrations, g_ptr_array_unref);
	clear_polkit_calls(fixture);
	g_assert_cmpint(run_in_terminal(fixture, "consent deny", &out, "/nonexistent"), ==, 0);
	g_assert_nonnull(strstr(out, "denied"));
	registrations = polkit_calls(fixture, "RegisterAuthenticationAgentWithOptions");
	g_assert_cmpuint(registrations->len, ==, 0);
	g_assert_true(last_check_flags(fixture, ACTION_CONSENT, &flags));
	g_assert_cmpuint(flags & 1, ==, 1);

	/* denied from a terminal: the other hint */
	g_clear_pointer(&out, g_free);
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_cmpint(run_in_terminal(fixture, "consent deny", &out, NULL), ==, 5);
	g_assert_nonnull(strstr(out, "ask an administrator"));
	(void)node;
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func, setup) g_test_add(path, Fixture, NULL, setup, func, fixture_tear_down)
	ADD("/metrics/cli/empty", test_empty, fixture_set_up);
	ADD("/metrics/cli/consent", test_consent, fixture_set_up);
	ADD("/metrics/cli/choice", test_choice, fixture_set_up);
	ADD("/metrics/cli/categories", test_categories, fixture_set_up);
	ADD("/metrics/cli/data", test_data, fixture_set_up);
	ADD("/metrics/cli/uploads", test_uploads, fixture_set_up);
	ADD("/metrics/cli/store-full", test_store_full, fixture_set_up_small_store);
	ADD("/metrics/cli/allowlist", test_allowlist, fixture_set_up);
	ADD("/metrics/cli/daemon-down", test_daemon_down, fixture_set_up_no_daemon);
	ADD("/metrics/cli/no-bus", test_no_bus, fixture_set_up_no_daemon);
	ADD("/metrics/cli/help", test_help, fixture_set_up_no_daemon);
	ADD("/metrics/cli/completion", test_completion, fixture_set_up_no_daemon);
	ADD("/metrics/cli/interactive", test_interactive, fixture_set_up);
#undef ADD

	return g_test_run();
}
