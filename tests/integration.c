/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus: libmetrics → metrics-recorder →
 * metrics-cli, with polkit mocked by python-dbusmock.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <metrics.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-harness.h"

#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
#define ID_COUNTER "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002"
#define ID_DURATION "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003"
#define MARKER "org.example.MarkerApp-5f2c9.desktop"

static const char *const allow_consent[] = {"org.fedoraproject.Metrics1.set-consent", NULL};
static const char *const allow_nothing[] = {NULL};
static const char *const store_full_args[] = {"--max-store-size=64", NULL};
/* as fast as the test can send: the per-client event rate is not what it is
 * about */
static const char *const unlimited_args[] = {"--max-client-rate=0", "--max-client-calls=0", NULL};
static const char *const store_cap_args[] = {"--max-store-size=256", NULL};

typedef struct {
	MtestHarness *harness;
	MetricsClient *client;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, NULL);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

static void
fixture_set_up_no_daemon(Fixture *fixture, gconstpointer user_data)
{
	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->client);
	g_clear_pointer(&fixture->harness, mtest_harness_free);
}

static void
grant_consent(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;

	mtest_harness_set_allowed(fixture->harness, allow_consent);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_GRANTED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
}

/* records one event of each kind through the library and waits for the
 * daemon to acknowledge them */
static MetricsRecorder *
record_some(Fixture *fixture, const char *app_id, guint n)
{
	g_autoptr(GError) error = NULL;
	MetricsRecorder *recorder = metrics_recorder_new(fixture->harness->connection);

	for (guint i = 0; i < n; i++) {
		metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(app_id));
		metrics_recorder_add(recorder, ID_COUNTER, NULL, 2);
		metrics_recorder_record_duration(recorder, ID_DURATION, NULL,
						 g_get_real_time() - G_USEC_PER_SEC,
						 G_USEC_PER_SEC);
	}
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	return recorder;
}

static GPtrArray *
get_local_data(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *aggregates = metrics_client_get_local_data_sync(
		fixture->client, METRICS_CLIENT_FLAGS_NONE, NULL, &error);
	g_assert_no_error(error);
	return aggregates;
}

static GVariant *
make_batch(guint n, gsize id_len, const char *payload)
{
	GVariantBuilder builder;
	guint8 id[32];

	metrics_uuid_parse(ID_VALUE, id);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < n; i++) {
		g_variant_builder_add(&builder, "(@ayuxxmv)",
				      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, id_len, 1),
				      (guint32)METRICS_EVENT_KIND_VALUE, g_get_real_time(),
				      (gint64)1, g_variant_new_string(payload));
	}
	return g_variant_new("(@aya{sv})", metrics_batch_to_wire(g_variant_builder_end(&builder)),
			     NULL);
}

static guint64
status_u64(Fixture *fixture, const char *key)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	guint64 value = 0;

	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(status, key, "t", &value));
	return value;
}

/* before consent: the library sends nothing, a client that sends anyway is
 * answered "0 accepted", and the daemon writes no file at all */
static void
test_no_consent_no_data(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = record_some(fixture, MARKER, 3);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	guint32 accepted = 99, dropped = 0;

	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_UNKNOWN);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 9);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(4, 16, MARKER),
				   "(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 0);
	g_assert_cmpuint(dropped, ==, 4);

	aggregates = get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 0);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 0);
	g_assert_cmpuint(status_u64(fixture, "accepted"), ==, 0);
}

/* changing consent needs polkit's yes; a "no" from polkit changes nothing */
static void
test_consent_needs_polkit(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = NULL;
	const char *consent = NULL;

	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_false(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_GRANTED,
						       METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_true(g_variant_lookup(status, "consent", "&s", &consent));
	g_assert_cmpstr(consent, ==, "unknown");
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 0);
}

/* after a yes, what apps record is stored and shown back exactly */
static void
test_grant_record_show(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	gboolean seen[3] = {FALSE};

	grant_consent(fixture);
	recorder = record_some(fixture, "org.gnome.Maps.desktop", 4);
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_GRANTED);
	g_assert_true(g_file_test(db, G_FILE_TEST_EXISTS));

	aggregates = get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		GVariant *payload = metrics_aggregate_get_payload(aggregate);

		g_assert_cmpuint(metrics_aggregate_get_uid(aggregate), ==, getuid());
		g_assert_cmpuint(strlen(metrics_aggregate_get_week(aggregate)), ==, 10);
		switch (metrics_aggregate_get_kind(aggregate)) {
		case METRICS_EVENT_KIND_VALUE:
			g_assert_cmpstr(metrics_aggregate_get_event_id(aggregate), ==, ID_VALUE);
			g_assert_cmpuint(metrics_aggregate_get_count(aggregate), ==, 4);
			g_assert_cmpstr(g_variant_get_string(payload, NULL), ==,
					"org.gnome.Maps.desktop");
			seen[0] = TRUE;
			break;
		case METRICS_EVENT_KIND_COUNTER:
			g_assert_cmpuint(metrics_aggregate_get_count(aggregate), ==, 8);
			g_assert_null(payload);
			seen[1] = TRUE;
			break;
		case METRICS_EVENT_KIND_DURATION:
			g_assert_cmpuint(metrics_aggregate_get_duration(aggregate), ==,
					 4 * G_USEC_PER_SEC);
			seen[2] = TRUE;
			break;
		default:
			g_assert_not_reached();
		}
	}
	g_assert_true(seen[0] && seen[1] && seen[2]);
	g_assert_cmpuint(status_u64(fixture, "accepted"), ==, 12);
	g_assert_cmpuint(status_u64(fixture, "stored-keys"), ==, 3);
}

/* a "no" deletes every stored byte at once, and nothing is stored after */
static void
test_deny_deletes(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree char *consent_file = NULL;
	g_autofree char *consent_text = NULL;

	grant_consent(fixture);
	recorder = record_some(fixture, MARKER, 2);
	g_assert_true(mtest_harness_state_contains(fixture->harness, MARKER));

	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
	/* only the consent record is left */
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
	consent_file = g_build_filename(fixture->harness->state_dir, "consent.conf", NULL);
	g_assert_true(g_file_get_contents(consent_file, &consent_text, NULL, NULL));
	g_assert_nonnull(strstr(consent_text, "State=denied"));

	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(2, 16, MARKER),
				   "(uu)", &error);
	g_assert_no_error(error);
	aggregates = get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 0);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
}

/* what was acknowledged survives a stop and a kill -9 */
static void
test_restart_keeps_data(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) first = NULL;
	g_autoptr(MetricsRecorder) second = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;

	grant_consent(fixture);
	first = record_some(fixture, "org.gnome.Maps.desktop", 5);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	second = record_some(fixture, "org.gnome.Maps.desktop", 5);
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	mtest_harness_start_daemon(fixture->harness, NULL);

	aggregates = get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		if (metrics_aggregate_get_kind(aggregate) == METRICS_EVENT_KIND_VALUE)
			g_assert_cmpuint(metrics_aggregate_get_count(aggregate), ==, 10);
	}
}

static guint64
drops_for(Fixture *fixture, const char *reason);

static void
assert_call_fails(Fixture *fixture,
		  const char *method,
		  GVariant *parameters,
		  const char *expected_error)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree char *remote = NULL;

	reply = mtest_harness_call(fixture->harness, method, parameters, NULL, &error);
	g_assert_null(reply);
	g_assert_nonnull(error);
	remote = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(remote, ==, expected_error);
}

/* malformed calls get a clear error; the daemon keeps serving and keeps
 * what it stored */
static void
test_malformed_calls(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	GVariantBuilder options;

	grant_consent(fixture);
	recorder = record_some(fixture, "org.gnome.Maps.desktop", 1);

	/* the documented exception: GDBus refuses a wrong D-Bus signature
	 * before the daemon's handler runs (not counted, not logged) */
	assert_call_fails(fixture, "RecordEvents", g_variant_new("(s)", "junk"),
			  "org.freedesktop.DBus.Error.InvalidArgs");
	assert_call_fails(fixture, "RecordEvents", make_batch(0, 16, "x"),
			  "org.fedoraproject.Metrics1.Error.InvalidData");
	assert_call_fails(fixture, "RecordEvents", make_batch(METRICS_MAX_BATCH + 1, 16, "x"),
			  "org.fedoraproject.Metrics1.Error.LimitExceeded");
	assert_call_fails(fixture, "RecordEvents", make_batch(2, 7, "x"),
			  "org.fedoraproject.Metrics1.Error.InvalidData");
	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&options, "{sv}", "bogus", g_variant_new_boolean(TRUE));
	assert_call_fails(fixture, "GetLocalData", g_variant_new("(a{sv})", &options),
			  "org.fedoraproject.Metrics1.Error.InvalidData");
	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&options, "{sv}", "all", g_variant_new_string("yes"));
	assert_call_fails(fixture, "Clear", g_variant_new("(a{sv})", &options),
			  "org.fedoraproject.Metrics1.Error.InvalidData");
	assert_call_fails(fixture, "SetConsent", g_variant_new("(sa{sv})", "maybe", NULL),
			  "org.fedoraproject.Metrics1.Error.InvalidData");
	assert_call_fails(fixture, "SetConsent", g_variant_new("(sa{sv})", "unknown", NULL),
			  "org.fedoraproject.Metrics1.Error.InvalidData");
	assert_call_fails(fixture, "NoSuchMethod", g_variant_new("()"),
			  "org.freedesktop.DBus.Error.UnknownMethod");

	/* the size limits: a payload over 1 KiB, a batch over 2 MiB */
	{
		g_autofree char *big = g_strnfill(METRICS_MAX_PAYLOAD_SIZE + 1, 'x');
		g_autofree guint8 *huge = g_malloc0(METRICS_MAX_BATCH_BYTES + 1);

		assert_call_fails(fixture, "RecordEvents", make_batch(1, 16, big),
				  "org.fedoraproject.Metrics1.Error.LimitExceeded");
		assert_call_fails(
			fixture, "RecordEvents",
			g_variant_new("(@aya{sv})",
				      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, huge,
								METRICS_MAX_BATCH_BYTES + 1, 1),
				      NULL),
			"org.fedoraproject.Metrics1.Error.LimitExceeded");
	}

	/* the RecordEvents calls the daemon refused, not their bytes or events
	 * (the one of the wrong D-Bus type never reached it) */
	g_assert_cmpuint(drops_for(fixture, "malformed-calls"), ==, 5);

	/* still serving, nothing lost */
	aggregates = get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	g_assert_nonnull(fixture->harness->daemon);
	g_assert_nonnull(g_subprocess_get_identifier(fixture->harness->daemon));

	/* a burst of a dozen bad calls is one line in the log */
	{
		g_autofree char *log =
			g_build_filename(fixture->harness->tmpdir, "daemon.log", NULL);
		g_autofree char *text = NULL;
		guint n_lines = 0;

		g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
		for (const char *p = text; (p = strstr(p, "rejected a malformed")) != NULL; p++)
			n_lines++;
		g_assert_cmpuint(n_lines, ==, 1);
	}
}

/* the daemon is neither running nor activatable: the library neither blocks
 * nor fails, the client says what to do */
static void
test_daemon_absent(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = metrics_recorder_new(fixture->harness->connection);
	g_autoptr(GVariant) status = NULL;
	gint64 start = g_get_monotonic_time();

	for (guint i = 0; i < 50; i++)
		metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string("x"));
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 50);

	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_null(status);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_NOT_RUNNING);
	g_assert_nonnull(strstr(error->message, "systemctl start metrics-recorder"));
}

static void
consent_notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	guint *n = user_data;
	(*n)++;
}

/* a running app follows a consent change within moments */
static void
test_consent_propagates(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	gint64 deadline;
	guint n_notify = 0;

	grant_consent(fixture);
	recorder = record_some(fixture, "org.gnome.Maps.desktop", 1);
	g_signal_connect(recorder, "notify::consent", G_CALLBACK(consent_notify_cb), &n_notify);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (metrics_recorder_get_consent(recorder) != METRICS_CONSENT_DENIED &&
	       g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_DENIED);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(n_notify, >=, 1);

	/* events after the "no" are dropped in the app */
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string("x"));
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 1);
}

/* a user clears their own data freely; everybody's needs polkit */
static void
test_clear_and_read_all(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) all = NULL;
	guint64 removed = 0;
	const char *const allow_all[] = {"org.fedoraproject.Metrics1.set-consent",
					 "org.fedoraproject.Metrics1.read-all",
					 "org.fedoraproject.Metrics1.clear-all", NULL};

	grant_consent(fixture);
	recorder = record_some(fixture, "org.gnome.Maps.desktop", 1);

	g_assert_null(metrics_client_get_local_data_sync(
		fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	g_assert_false(metrics_client_clear_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						 &removed, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);

	mtest_harness_set_allowed(fixture->harness, allow_all);
	all = metrics_client_get_local_data_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						 NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(all->len, ==, 3);

	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_true(metrics_client_clear_sync(fixture->client, METRICS_CLIENT_FLAGS_NONE,
						&removed, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed, ==, 3);
	g_clear_pointer(&all, g_ptr_array_unref);
	all = get_local_data(fixture);
	g_assert_cmpuint(all->len, ==, 0);
}

static JsonNode *
run_cli_json(Fixture *fixture, int expected_status, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(GError) error = NULL;
	JsonNode *node;

	g_ptr_array_add(argv, (gpointer) "--json");
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	g_assert_cmpint(mtest_harness_run_cli(fixture->harness, (const char *const *)argv->pdata,
					      &out, &err),
			==, expected_status);
	/* --json keeps stderr clean */
	g_assert_cmpstr(err, ==, "");
	node = json_from_string(out, &error);
	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

static int
run_cli(Fixture *fixture, const char *const *args, char **out, char **err)
{
	return mtest_harness_run_cli(fixture->harness, args, out, err);
}

/* metrics-cli against the daemon: output, JSON and exit codes */
static void
test_cli(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	JsonObject *object;
	JsonObject *error_object;
	const char *const show[] = {"show", NULL};
	const char *const status[] = {"status", NULL};
	const char *const grant[] = {"consent", "grant", NULL};
	const char *const consent_status[] = {"consent", "status", NULL};
	const char *const bogus[] = {"frobnicate", NULL};

	/* empty store: "nothing to do" */
	g_assert_cmpint(run_cli(fixture, show, &out, &err), ==, 2);
	g_assert_nonnull(strstr(out, "Nothing is stored"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* denied by polkit: exit code 5 and a JSON error object */
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	node = run_cli_json(fixture, 5, grant);
	error_object = json_object_get_object_member(json_node_get_object(node), "Error");
	g_assert_nonnull(error_object);
	g_assert_cmpstr(json_object_get_string_member(error_object, "Domain"), ==,
			"metrics-error-quark");
	g_assert_cmpint(json_object_get_int_member(error_object, "Code"), ==,
			METRICS_ERROR_PERMISSION_DENIED);
	g_clear_pointer(&node, json_node_unref);

	mtest_harness_set_allowed(fixture->harness, allow_consent);
	node = run_cli_json(fixture, 0, grant);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "consent"), ==,
			"granted");
	g_clear_pointer(&node, json_node_unref);
	node = run_cli_json(fixture, 0, consent_status);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "consent"), ==,
			"granted");
	g_clear_pointer(&node, json_node_unref);

	recorder = record_some(fixture, "org.gnome.Maps.desktop", 2);
	node = run_cli_json(fixture, 0, show);
	object = json_node_get_object(node);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(object, "aggregates")),
			 ==, 3);
	g_clear_pointer(&node, json_node_unref);

	node = run_cli_json(fixture, 0, status);
	object = json_node_get_object(node);
	g_assert_cmpstr(json_object_get_string_member(object, "consent"), ==, "granted");
	g_assert_cmpint(json_object_get_int_member(object, "stored-keys"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(object, "accepted"), ==, 6);
	g_clear_pointer(&node, json_node_unref);

	/* human output lists the stored value */
	g_assert_cmpint(run_cli(fixture, show, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "org.gnome.Maps.desktop"));
	g_assert_cmpstr(err, ==, "");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* filters: by metric name or id, by week */
	{
		const char *const by_name[] = {"show", "--metric", "app-opened", NULL};
		const char *const by_id[] = {"show", "--metric=" ID_COUNTER, NULL};
		const char *const old_week[] = {"show", "--week", "1999-01-04", NULL};
		const char *const show_help[] = {"show", "--help", NULL};

		node = run_cli_json(fixture, 0, by_name);
		g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
					 json_node_get_object(node), "aggregates")),
				 ==, 1);
		g_clear_pointer(&node, json_node_unref);
		node = run_cli_json(fixture, 0, by_id);
		g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
					 json_node_get_object(node), "aggregates")),
				 ==, 1);
		g_clear_pointer(&node, json_node_unref);
		g_assert_cmpint(run_cli(fixture, old_week, &out, &err), ==, 2);
		g_assert_nonnull(strstr(out, "Nothing is stored"));
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		g_assert_cmpint(run_cli(fixture, show_help, &out, &err), ==, 0);
		g_assert_nonnull(strstr(out, "--metric NAME"));
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
	}

	g_assert_cmpint(run_cli(fixture, bogus, &out, &err), ==, 64);
	g_assert_nonnull(strstr(err, "frobnicate"));
}

/* metrics-cli without a daemon: its own exit code and advice */
static void
test_cli_daemon_absent(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *const status[] = {"status", NULL};

	g_assert_cmpint(run_cli(fixture, status, &out, &err), ==, 4);
	g_assert_nonnull(strstr(err, "systemctl start metrics-recorder"));
}

static int
run_as_nobody(Fixture *fixture, const char *const *args, char **out)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();

	g_ptr_array_add(argv, (gpointer) "setpriv");
	g_ptr_array_add(argv, (gpointer) "--reuid=65534");
	g_ptr_array_add(argv, (gpointer) "--regid=65534");
	g_ptr_array_add(argv, (gpointer) "--clear-groups");
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	return mtest_harness_run(fixture->harness, (const char *const *)argv->pdata, out, NULL);
}

/* a second user's events are stored under that user's uid, taken from the
 * bus: each user sees and clears only their own data */
static void
test_other_user(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) own = NULL;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *example = mtest_harness_build_path("MTEST_EXAMPLE");
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	g_autofree char *out = NULL;
	guint n_nobody = 0;
	const char *const allow_all[] = {"org.fedoraproject.Metrics1.set-consent",
					 "org.fedoraproject.Metrics1.read-all", NULL};
	const char *const record_args[] = {
		example, "--count", "2", "--app-id", "org.gnome.Nautilus.desktop", NULL};
	const char *const show_args[] = {cli, "--json", "show", NULL};
	const char *const clear_args[] = {cli, "clear", NULL};
	const char *const deny_args[] = {cli, "consent", "deny", NULL};

	if (getuid() != 0) {
		g_test_skip("running a client under another uid needs root (CI runs as root)");
		return;
	}
	/* let the other user reach the bus socket */
	g_assert_cmpint(g_chmod(fixture->harness->tmpdir, 0755), ==, 0);

	grant_consent(fixture);
	recorder = record_some(fixture, "org.gnome.Maps.desktop", 1);
	g_assert_cmpint(run_as_nobody(fixture, record_args, NULL), ==, 0);

	own = get_local_data(fixture);
	g_assert_cmpuint(own->len, ==, 3);
	for (guint i = 0; i < own->len; i++)
		g_assert_cmpuint(metrics_aggregate_get_uid(g_ptr_array_index(own, i)), ==, 0);

	mtest_harness_set_allowed(fixture->harness, allow_all);
	all = metrics_client_get_local_data_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						 NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(all->len, ==, 6);
	for (guint i = 0; i < all->len; i++) {
		if (metrics_aggregate_get_uid(g_ptr_array_index(all, i)) == 65534)
			n_nobody++;
	}
	g_assert_cmpuint(n_nobody, ==, 3);

	/* the other user sees only their own rows */
	g_assert_cmpint(run_as_nobody(fixture, show_args, &out), ==, 0);
	node = json_from_string(out, &error);
	g_assert_no_error(error);
	{
		JsonArray *rows =
			json_object_get_array_member(json_node_get_object(node), "aggregates");
		g_assert_cmpuint(json_array_get_length(rows), ==, 3);
		for (guint i = 0; i < json_array_get_length(rows); i++)
			g_assert_cmpint(json_object_get_int_member(
						json_array_get_object_element(rows, i), "uid"),
					==, 65534);
	}

	/* and may not change consent, even though root's caller is allowed:
	 * the mock allows per action, so deny everything for this check */
	mtest_harness_set_allowed(fixture->harness, allow_nothing);
	g_assert_cmpint(run_as_nobody(fixture, deny_args, NULL), ==, 5);

	/* clearing their data leaves everybody else's */
	g_assert_cmpint(run_as_nobody(fixture, clear_args, NULL), ==, 0);
	g_clear_pointer(&own, g_ptr_array_unref);
	own = get_local_data(fixture);
	g_assert_cmpuint(own->len, ==, 3);

	/* root, authorised to clear everybody's, removes the other user's rows
	 * too */
	g_assert_cmpint(run_as_nobody(fixture, record_args, NULL), ==, 0);
	{
		const char *const allow_clear[] = {"org.fedoraproject.Metrics1.clear-all",
						   "org.fedoraproject.Metrics1.read-all", NULL};
		guint64 removed = 0;

		mtest_harness_set_allowed(fixture->harness, allow_clear);
		g_assert_true(metrics_client_clear_sync(
			fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS, &removed, NULL, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(removed, ==, 6);
		g_clear_pointer(&all, g_ptr_array_unref);
		all = metrics_client_get_local_data_sync(
			fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(all->len, ==, 0);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&node, json_node_unref);
		/* 2: nothing to show (metrics-cli(1)), still as JSON */
		g_assert_cmpint(run_as_nobody(fixture, show_args, &out), ==, 2);
		node = json_from_string(out, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
					 json_node_get_object(node), "aggregates")),
				 ==, 0);
	}
}

static void
fixture_set_up_rate_limited(Fixture *fixture, gconstpointer user_data)
{
	const char *const args[] = {"--max-client-rate=100", NULL};

	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, args);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

static void
record_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	guint *accepted = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	guint32 n = 0;

	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &n, NULL);
	accepted[0] += n;
	accepted[1]++;
}

/* a client that floods the daemon is cut to its rate, and the excess is
 * counted; another client is served in full meanwhile */
static void
test_flood(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) flooder = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) drops = NULL;
	guint flood_accepted[2] = {0, 0};
	guint32 accepted = 0, dropped = 0;
	guint64 limited = 0;

	flooder = g_dbus_connection_new_for_address_sync(
		fixture->harness->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 10; i++)
		g_dbus_connection_call(flooder, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
				       METRICS_DBUS_INTERFACE, "RecordEvents",
				       make_batch(1000, 16, "flood"), G_VARIANT_TYPE("(uu)"),
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, record_cb, flood_accepted);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(50, 16, "polite"),
				   "(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 50);
	g_assert_cmpuint(dropped, ==, 0);

	while (flood_accepted[1] < 10)
		g_main_context_iteration(NULL, TRUE);
	/* a burst of two seconds' worth, then 100 per second */
	g_assert_cmpuint(flood_accepted[0], >=, 200);
	g_assert_cmpuint(flood_accepted[0], <, 5000);

	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	drops = g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	g_assert_true(g_variant_lookup(drops, "rate-limited", "t", &limited));
	g_assert_cmpuint(limited, ==, 10000 - flood_accepted[0]);
}

static void
fixture_set_up_granted(Fixture *fixture, gconstpointer user_data)
{
	const char *const *args = user_data;

	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, args);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

static guint64
stored_events(Fixture *fixture)
{
	return status_u64(fixture, "stored-events");
}

static guint64
drops_for(Fixture *fixture, const char *reason)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_autoptr(GVariant) drops = NULL;
	guint64 n = 0;

	g_assert_no_error(error);
	drops = g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	if (drops != NULL)
		g_variant_lookup(drops, reason, "t", &n);
	return n;
}

/* batches are sent one at a time while the daemon is killed at random
 * moments and restarted. Each batch has its own payload value, so its key
 * shows what became of it: every acknowledged batch is stored exactly once
 * (its full count), the one in flight at each kill either fully or not at
 * all, never in part or twice */
static void
test_kill_during_load(Fixture *fixture, gconstpointer user_data)
{
	const guint batch = 100;
	g_autoptr(GHashTable) acked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) in_flight =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) stored = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GRand) rand = g_rand_new();
	GHashTableIter iter;
	gpointer key, value;
	guint n_in_flight_stored = 0;

	for (guint round = 0; round < 5; round++) {
		gint64 kill_at = g_get_monotonic_time() + g_rand_int_range(rand, 20000, 200000);
		g_autofree char *flying = g_strdup_printf("load-%u-in-flight", round);

		for (guint i = 0; g_get_monotonic_time() < kill_at; i++) {
			g_autoptr(GError) error = NULL;
			g_autofree char *payload = g_strdup_printf("load-%u-%u", round, i);
			g_autoptr(GVariant) reply =
				mtest_harness_call(fixture->harness, "RecordEvents",
						   make_batch(batch, 16, payload), "(uu)", &error);
			guint32 accepted = 0;

			g_assert_no_error(error);
			g_variant_get(reply, "(uu)", &accepted, NULL);
			g_assert_cmpuint(accepted, ==, batch);
			g_hash_table_add(acked, g_steal_pointer(&payload));
		}
		/* a call in flight while the daemon dies */
		g_dbus_connection_call(fixture->harness->connection, METRICS_DBUS_NAME,
				       METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE, "RecordEvents",
				       make_batch(batch, 16, flying), G_VARIANT_TYPE("(uu)"),
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
		g_hash_table_add(in_flight, g_steal_pointer(&flying));
		g_usleep(g_rand_int_range(rand, 0, 3000));
		mtest_harness_stop_daemon(fixture->harness, TRUE);
		mtest_harness_start_daemon(fixture->harness, user_data);
	}
	g_assert_cmpuint(g_hash_table_size(acked), >, 0);

	/* the count of each payload, summed over weeks (a run may span
	 * Sunday midnight) */
	aggregates = get_local_data(fixture);
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		GVariant *payload = metrics_aggregate_get_payload(aggregate);
		const char *text;

		g_assert_cmpstr(metrics_aggregate_get_event_id(aggregate), ==, ID_VALUE);
		g_assert_nonnull(payload);
		text = g_variant_get_string(payload, NULL);
		g_hash_table_insert(
			stored, (gpointer)text,
			GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(stored, text)) +
					 metrics_aggregate_get_count(aggregate)));
	}
	g_hash_table_iter_init(&iter, acked);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		g_test_message("acknowledged %s", (const char *)key);
		g_assert_cmpuint(GPOINTER_TO_SIZE(g_hash_table_lookup(stored, key)), ==, batch);
	}
	g_hash_table_iter_init(&iter, stored);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (g_hash_table_contains(acked, key))
			continue;
		/* not acknowledged: only a batch in flight, and all of it */
		g_test_message("stored without acknowledgement: %s", (const char *)key);
		g_assert_true(g_hash_table_contains(in_flight, key));
		g_assert_cmpuint(GPOINTER_TO_SIZE(value), ==, batch);
		n_in_flight_stored++;
	}
	g_assert_cmpuint(status_u64(fixture, "stored-events"), ==,
			 (g_hash_table_size(acked) + n_in_flight_stored) * batch);
}

/* fills a store with a small cap (one new key per call) until events are dropped as store-full;
 * returns how many events were accepted */
static guint64
fill_store(Fixture *fixture)
{
	guint64 accepted_total = 0;

	for (guint i = 0; i < 2000 && drops_for(fixture, "store-full") == 0; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *value = g_strdup_printf(
			"%s-%u-%s", MARKER, i,
			"a-long-value-to-fill-the-store-quickly-a-long-value-to-fill-the-store-"
			"quickly-a-long-value-to-fill-the-store-quickly-a-long-value-to-fill-"
			"the-store-quickly-a-long-value-to-fill-the-store-quickly");
		g_autoptr(GVariant) reply =
			mtest_harness_call(fixture->harness, "RecordEvents",
					   make_batch(20, 16, value), "(uu)", &error);
		guint32 accepted = 0;

		g_assert_no_error(error);
		g_variant_get(reply, "(uu)", &accepted, NULL);
		accepted_total += accepted;
	}
	g_assert_cmpuint(drops_for(fixture, "store-full"), >, 0);
	return accepted_total;
}

/* the store is full: new events are dropped and counted, what is stored
 * stays, the daemon keeps serving */
static void
test_store_full(Fixture *fixture, gconstpointer user_data)
{
	guint64 accepted_total = fill_store(fixture);
	guint64 before = stored_events(fixture);

	g_assert_cmpuint(before, ==, accepted_total);
	g_assert_cmpuint(before, >, 0);
}

/* a damaged store at start-up is moved aside and a fresh one started */
static void
test_corrupt_store(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *name;
	gboolean kept = FALSE;

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_true(g_file_set_contents(db,
					  MARKER " this is not an SQLite database at all, "
						 "it is garbage that must be kept aside",
					  -1, NULL));
	mtest_harness_start_daemon(fixture->harness, NULL);

	recorder = record_some(fixture, "org.gnome.Maps.desktop", 1);
	aggregates = get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	dir = g_dir_open(fixture->harness->state_dir, 0, &error);
	while ((name = g_dir_read_name(dir)) != NULL)
		kept |= g_str_has_prefix(name, "metrics.db.corrupt-");
	g_assert_true(kept);

	/* a "no" removes the damaged copy too: it may hold event data */
	mtest_harness_set_allowed(fixture->harness, allow_consent);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
}

/* the store cannot be created (here: a directory is in its way): recording
 * fails with a clear error and the daemon keeps serving */
static void
test_store_unwritable(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	for (guint i = 0; i < 3; i++) {
		const char *suffixes[] = {"", "-wal", "-shm"};
		g_autofree char *file = g_strconcat(db, suffixes[i], NULL);
		g_unlink(file);
	}
	g_assert_cmpint(g_mkdir(db, 0700), ==, 0);
	mtest_harness_start_daemon(fixture->harness, NULL);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(3, 16, "x"), "(uu)",
				   &error);
	g_assert_null(reply);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
	g_clear_error(&error);
	g_assert_cmpuint(drops_for(fixture, "store-failed"), ==, 3);

	/* once the obstacle is gone, the next call works */
	g_assert_cmpint(g_rmdir(db), ==, 0);
	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(3, 16, "x"), "(uu)",
				   &error);
	g_assert_no_error(error);
	g_assert_cmpuint(stored_events(fixture), ==, 3);
}

/* the state directory is unusable (here: a file is in its way): the daemon
 * still starts and answers; saving a consent fails with a clear error */
static void
test_state_dir_unusable(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = NULL;

	g_assert_cmpint(g_rmdir(fixture->harness->state_dir), ==, 0);
	g_assert_true(g_file_set_contents(fixture->harness->state_dir, "in the way", -1, NULL));
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, NULL);

	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	mtest_harness_set_allowed(fixture->harness, allow_consent);
	g_assert_false(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_GRANTED,
						       METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
	g_clear_error(&error);
	g_clear_pointer(&status, g_variant_unref);
	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	g_unlink(fixture->harness->state_dir);
	g_mkdir(fixture->harness->state_dir, 0700);
}

/* the system bus goes away: the daemon stops cleanly (it cannot serve
 * without it) and, once the bus and the daemon are back, everything it had
 * acknowledged is there */
static void
test_bus_restart(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autofree char *socket =
		g_build_filename(fixture->harness->tmpdir, "system_bus_socket", NULL);
	MtestHarness *harness = fixture->harness;

	grant_consent(fixture);
	recorder = record_some(fixture, "org.gnome.Maps.desktop", 3);
	g_clear_object(&recorder);

	g_subprocess_force_exit(harness->bus);
	g_subprocess_wait(harness->bus, NULL, NULL);
	g_clear_object(&harness->bus);
	/* no crash: an orderly exit, whatever its status */
	g_assert_true(g_subprocess_wait(harness->daemon, NULL, NULL));
	g_assert_true(g_subprocess_get_if_exited(harness->daemon));
	g_clear_object(&harness->daemon);
	g_subprocess_force_exit(harness->polkit);
	g_subprocess_wait(harness->polkit, NULL, NULL);
	g_clear_object(&harness->polkit);
	g_clear_object(&harness->connection);
	g_clear_object(&fixture->client);
	g_unlink(socket);

	mtest_harness_start_bus(harness);
	mtest_harness_start_daemon(harness, NULL);
	fixture->client = metrics_client_new(harness->connection);
	aggregates = get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	/* 3 values, 3 counter increments of 2, 3 durations */
	g_assert_cmpuint(status_u64(fixture, "stored-events"), ==, 12);
}

/* the allowlist cannot be read (here: a file is where its directory should
 * be): the daemon starts, serves, and drops what it cannot check */
static void
test_allowlist_unreadable(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *bogus = g_build_filename(fixture->harness->tmpdir, "not-a-dir", NULL);
	g_autofree char *arg = g_strdup_printf("--allowlist-dir=%s", bogus);
	const char *const args[] = {arg, NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint32 accepted = 99, dropped = 0;

	g_assert_true(g_file_set_contents(bogus, "in the way", -1, NULL));
	mtest_harness_write_consent(fixture->harness, "granted");
	g_setenv("MTEST_ALLOWLIST_DIRS_SAVED", g_getenv("MTEST_ALLOWLIST_DIRS"), TRUE);
	g_unsetenv("MTEST_ALLOWLIST_DIRS");
	mtest_harness_start_daemon(fixture->harness, args);
	g_setenv("MTEST_ALLOWLIST_DIRS", g_getenv("MTEST_ALLOWLIST_DIRS_SAVED"), TRUE);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(5, 16, "x"), "(uu)",
				   &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 0);
	g_assert_cmpuint(dropped, ==, 5);
	g_assert_cmpuint(drops_for(fixture, "not-allowlisted"), ==, 5);
	g_assert_cmpuint(status_u64(fixture, "stored-events"), ==, 0);
}

static gboolean
file_contains(const char *path, const char *marker)
{
	g_autofree char *contents = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	return memmem(contents, len, marker, strlen(marker)) != NULL;
}

/* a "no" overwrites the stored bytes, it does not merely unlink the files:
 * hard links made outside the state directory beforehand still reach the
 * old inodes, and they must not hold the marker any more */
static void
test_deny_overwrites(Fixture *fixture, gconstpointer user_data)
{
	const char *suffixes[] = {"", "-wal"};
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func(g_free);

	grant_consent(fixture);
	recorder = record_some(fixture, MARKER, 2);
	g_clear_object(&recorder);
	/* a clean stop checkpoints the marker into the database file; what is
	 * recorded after the restart is in the WAL */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	recorder = record_some(fixture, MARKER, 1);
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *file =
			g_strconcat(fixture->harness->state_dir, "/metrics.db", suffixes[i], NULL);
		char *link_path =
			g_strconcat(fixture->harness->tmpdir, "/linked.db", suffixes[i], NULL);

		g_assert_cmpint(link(file, link_path), ==, 0);
		g_ptr_array_add(links, link_path);
		/* the marker is in both files before */
		g_assert_true(file_contains(link_path, MARKER));
	}

	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
	for (guint i = 0; i < links->len; i++) {
		const char *link_path = g_ptr_array_index(links, i);

		g_test_message("checking %s", link_path);
		g_assert_false(file_contains(link_path, MARKER));
		g_unlink(link_path);
	}
}

static guint64
file_size(const char *path)
{
	GStatBuf buf;

	if (g_stat(path, &buf) != 0)
		return 0;
	return (guint64)buf.st_size;
}

/* the cap holds for the database and its WAL together: filled to the cap,
 * the daemon drops new events as store-full, keeps serving, and its files
 * stay within the cap plus the pages of the batch last written (here 20
 * events of ~300 bytes: at most 4 pages of 4 KiB with their 24-byte WAL
 * frame headers; docs/metrics-recorder.8.md) */
static void
test_store_cap_total(Fixture *fixture, gconstpointer user_data)
{
	const guint64 cap = 256 * 1024;
	const guint64 margin = 4 * (4096 + 24);
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autoptr(GPtrArray) aggregates = NULL;
	guint64 accepted, n_full, peak = 0;

	accepted = fill_store(fixture);
	g_assert_cmpuint(stored_events(fixture), ==, accepted);
	n_full = drops_for(fixture, "store-full");
	/* full: more batches are dropped and counted, the files do not grow */
	for (guint i = 0; i < 20; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *value = g_strdup_printf(
			"%s-more-%u-%s", MARKER, i,
			"another-long-value-that-does-not-fit-another-long-value-that-does-not-"
			"fit-another-long-value-that-does-not-fit-another-long-value-that");
		g_autoptr(GVariant) reply =
			mtest_harness_call(fixture->harness, "RecordEvents",
					   make_batch(20, 16, value), "(uu)", &error);
		guint32 n = 0;

		g_assert_no_error(error);
		g_variant_get(reply, "(uu)", &n, NULL);
		accepted += n;
		peak = MAX(peak, file_size(db) + file_size(wal));
	}
	g_test_message("database %" G_GUINT64_FORMAT " + WAL %" G_GUINT64_FORMAT
		       " bytes, peak %" G_GUINT64_FORMAT ", cap %" G_GUINT64_FORMAT,
		       file_size(db), file_size(wal), peak, cap);
	g_assert_cmpuint(drops_for(fixture, "store-full"), >, n_full);
	g_assert_cmpuint(peak, <=, cap + margin);
	g_assert_cmpuint(file_size(db) + file_size(wal), <=, cap + margin);
	/* still serving, what was stored intact */
	aggregates = get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, >, 0);
	g_assert_cmpuint(stored_events(fixture), ==, accepted);
}

/* the drop counters (per reason only) are kept in the store: GetStatus
 * reports them after a kill -9 (once saved, a second after the drop), a
 * clean restart and an idle exit; a "no" deletes them with the rest */
static void
test_drops_persist(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *ahead =
		g_strdup_printf("--clock-offset=%" G_GINT64_FORMAT, (gint64)10 * 7 * 24 * 3600);
	const char *const ahead_args[] = {"--max-store-size=64", ahead, NULL};
	const char *const idle_args[] = {"--max-store-size=64", "--idle-timeout=1", NULL};
	g_autoptr(GError) error = NULL;
	guint64 n_full, n_stored;

	fill_store(fixture);
	n_full = drops_for(fixture, "store-full");
	n_stored = stored_events(fixture);
	g_assert_cmpuint(n_stored, >, 0);

	/* saved a second after the drop, so a kill -9 well after that loses
	 * nothing */
	g_usleep(3 * G_USEC_PER_SEC);
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	mtest_harness_start_daemon(fixture->harness, store_full_args);
	g_assert_cmpuint(drops_for(fixture, "store-full"), ==, n_full);

	/* ten weeks later the stored weeks are past the retention limit */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, ahead_args);
	g_assert_cmpuint(drops_for(fixture, "retention"), ==, n_stored);
	g_assert_cmpuint(stored_events(fixture), ==, 0);

	/* the daemon exits when idle; started again, it still knows */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, idle_args);
	g_assert_true(g_subprocess_wait(fixture->harness->daemon, NULL, NULL));
	g_clear_object(&fixture->harness->daemon);
	mtest_harness_start_daemon(fixture->harness, store_full_args);
	g_assert_cmpuint(drops_for(fixture, "store-full"), ==, n_full);
	g_assert_cmpuint(drops_for(fixture, "retention"), ==, n_stored);

	/* a "no" deletes the counters with everything else */
	mtest_harness_set_allowed(fixture->harness, allow_consent);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, store_full_args);
	g_assert_cmpuint(drops_for(fixture, "store-full"), ==, 0);
	g_assert_cmpuint(drops_for(fixture, "retention"), ==, 0);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
}

/* the rest of the test runs in a child process with a mount namespace of
 * its own, so that what it mounts vanishes with it; FALSE in the parent
 * (the test then has passed, failed or been skipped there) */
static gboolean
in_private_mounts(void)
{
	g_autoptr(GError) error = NULL;
	const char *probe[] = {"unshare", "-m", "true", NULL};
	int status = -1;

	if (g_test_subprocess()) {
		g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
		g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
		return TRUE;
	}
	if (geteuid() != 0) {
		g_test_skip("mounting a small or read-only file system needs root (CI runs as "
			    "root); run the integration tests as root to cover this fault");
		return FALSE;
	}
	if (!g_spawn_sync(NULL, (char **)probe, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
			  &status, &error) ||
	    !g_spawn_check_wait_status(status, NULL)) {
		g_test_skip("cannot make a private mount namespace here (unshare -m failed): no "
			    "CAP_SYS_ADMIN in this container");
		return FALSE;
	}
	g_test_trap_subprocess(NULL, 240 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
	return FALSE;
}

static void
mount_tmpfs(const char *dir, const char *size)
{
	g_autofree char *options = g_strdup_printf("size=%s,mode=0700", size);

	g_assert_cmpint(mount("tmpfs", dir, "tmpfs", 0, options), ==, 0);
}

/* the counts of each value of ID_VALUE in the store */
static GHashTable *
stored_values(Fixture *fixture)
{
	g_autoptr(GPtrArray) aggregates = get_local_data(fixture);
	GHashTable *values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		GVariant *payload = metrics_aggregate_get_payload(aggregate);
		const char *text;

		if (payload == NULL ||
		    g_strcmp0(metrics_aggregate_get_event_id(aggregate), ID_VALUE) != 0)
			continue;
		text = g_variant_get_string(payload, NULL);
		g_hash_table_insert(
			values, g_strdup(text),
			GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(values, text)) +
					 metrics_aggregate_get_count(aggregate)));
	}
	return values;
}

/* records @n batches of 20 events, each its own value @prefix-<i>, all
 * acknowledged */
static void
record_batches(Fixture *fixture, const char *prefix, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *value = g_strdup_printf("%s-%u", prefix, i);
		g_autoptr(GVariant) reply =
			mtest_harness_call(fixture->harness, "RecordEvents",
					   make_batch(20, 16, value), "(uu)", &error);
		guint32 accepted = 0;

		g_assert_no_error(error);
		g_variant_get(reply, "(uu)", &accepted, NULL);
		g_assert_cmpuint(accepted, ==, 20);
	}
}

static void
assert_batches_intact(Fixture *fixture, const char *prefix, guint n)
{
	g_autoptr(GHashTable) values = stored_values(fixture);

	for (guint i = 0; i < n; i++) {
		g_autofree char *value = g_strdup_printf("%s-%u", prefix, i);
		g_assert_cmpuint(GPOINTER_TO_SIZE(g_hash_table_lookup(values, value)), ==, 20);
	}
}

/* the disk is full (a 512 KiB tmpfs as the state directory, filled up):
 * recording fails cleanly or drops and counts, the daemon keeps serving,
 * and once there is room again recording works and what was acknowledged
 * before is intact */
static void
test_disk_full(Fixture *fixture, gconstpointer user_data)
{
	static const guint8 chunk[4096] = {0};
	g_autofree char *filler = NULL;
	guint64 n_refused = 0;
	int fd;

	if (!in_private_mounts())
		return;
	mount_tmpfs(fixture->harness->state_dir, "512k");
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, NULL);
	record_batches(fixture, "before", 5);

	/* fill the file system */
	filler = g_build_filename(fixture->harness->state_dir, "filler", NULL);
	fd = g_open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	g_assert_cmpint(errno, ==, ENOSPC);
	close(fd);

	for (guint i = 0; i < 500 && n_refused == 0; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *value = g_strdup_printf(
			"full-%u-%s", i,
			"a-long-value-to-need-new-pages-a-long-value-to-need-new-pages-a-long-value");
		g_autoptr(GVariant) reply =
			mtest_harness_call(fixture->harness, "RecordEvents",
					   make_batch(20, 16, value), "(uu)", &error);
		guint32 accepted = 0, dropped = 0;

		if (reply == NULL) {
			/* a clear error of ours, not a crash or a bus error */
			g_autofree char *remote = g_dbus_error_get_remote_error(error);
			g_test_message("refused: %s", error->message);
			g_assert_nonnull(remote);
			g_assert_true(
				g_str_has_prefix(remote, "org.fedoraproject.Metrics1.Error."));
			n_refused += 20;
			continue;
		}
		g_variant_get(reply, "(uu)", &accepted, &dropped);
		n_refused += dropped;
	}
	g_assert_cmpuint(n_refused, >, 0);
	g_assert_cmpuint(drops_for(fixture, "store-full") + drops_for(fixture, "store-failed"), >=,
			 n_refused);
	/* still serving, nothing acknowledged lost */
	assert_batches_intact(fixture, "before", 5);

	/* room again: recording works */
	g_assert_cmpint(g_unlink(filler), ==, 0);
	record_batches(fixture, "after", 3);
	assert_batches_intact(fixture, "before", 5);
	assert_batches_intact(fixture, "after", 3);

	/* and all of it is on disk: it survives a restart */
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	assert_batches_intact(fixture, "before", 5);
	assert_batches_intact(fixture, "after", 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_cmpint(umount2(fixture->harness->state_dir, MNT_DETACH), ==, 0);
}

/* the state directory is read-only (a read-only bind mount of it; chmod
 * does not stop root): recording fails with a clear error and is counted,
 * reading what is stored still works */
static void
test_read_only_state_dir(Fixture *fixture, gconstpointer user_data)
{
	const char *state_dir;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	if (!in_private_mounts())
		return;
	state_dir = fixture->harness->state_dir;
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, NULL);
	record_batches(fixture, "before", 3);
	/* a file system does not become read-only under open files: it is a
	 * daemon started on a read-only state directory, after a crash */
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	g_assert_cmpint(mount(state_dir, state_dir, NULL, MS_BIND, NULL), ==, 0);
	g_assert_cmpint(mount(NULL, state_dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), ==,
			0);
	g_assert_cmpint(access(state_dir, W_OK), !=, 0);
	mtest_harness_start_daemon(fixture->harness, NULL);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(4, 16, "ro"),
				   "(uu)", &error);
	g_assert_null(reply);
	g_test_message("refused: %s", error->message);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
	g_assert_cmpuint(drops_for(fixture, "store-failed"), ==, 4);
	/* reading works, nothing lost */
	assert_batches_intact(fixture, "before", 3);
	g_assert_cmpuint(stored_events(fixture), ==, 3 * 20);

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_cmpint(umount2(state_dir, MNT_DETACH), ==, 0);
	/* writable again: the next daemon records */
	mtest_harness_start_daemon(fixture->harness, NULL);
	record_batches(fixture, "after", 1);
	assert_batches_intact(fixture, "before", 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
}

/* a store damaged at start-up (its pages overwritten, the header intact)
 * is moved aside with the data it held, kept for inspection; the fresh
 * store works, and what was in the damaged one is never shown or queued
 * for upload, even once its week has ended */
static void
test_corrupt_store_set_aside(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autofree char *later =
		g_strdup_printf("--clock-offset=%" G_GINT64_FORMAT, (gint64)3 * 7 * 24 * 3600);
	const char *const later_args[] = {later, NULL};
	g_autoptr(GHashTable) values = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autofree char *aside = NULL;
	const char *name;
	guint8 garbage[4096];
	g_autofree char *contents = NULL;
	const char *found;
	gsize len = 0, data_page;
	int fd;

	record_batches(fixture, MARKER, 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	/* damage every page but the first and the one with the data */
	g_assert_true(g_file_get_contents(db, &contents, &len, NULL));
	found = memmem(contents, len, MARKER, strlen(MARKER));
	g_assert_nonnull(found);
	data_page = (found - contents) / sizeof(garbage);
	memset(garbage, 0xa5, sizeof(garbage));
	fd = g_open(db, O_WRONLY | O_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	for (gsize page = 1; page < len / sizeof(garbage); page++) {
		if (page != data_page)
			g_assert_cmpint(pwrite(fd, garbage, sizeof(garbage),
					       (off_t)(page * sizeof(garbage))),
					==, sizeof(garbage));
	}
	close(fd);

	/* three weeks later: had the old data been taken in, it would be
	 * queued for upload now */
	mtest_harness_start_daemon(fixture->harness, later_args);
	values = stored_values(fixture);
	g_assert_cmpuint(g_hash_table_size(values), ==, 0);
	record_batches(fixture, "fresh", 2);
	assert_batches_intact(fixture, "fresh", 2);
	g_assert_cmpuint(stored_events(fixture), ==, 2 * 20);
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 0);
	g_assert_false(file_contains(db, MARKER));

	dir = g_dir_open(fixture->harness->state_dir, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, "metrics.db.corrupt-") &&
		    !g_str_has_suffix(name, "-shm") && !g_str_has_suffix(name, "-wal"))
			aside = g_build_filename(fixture->harness->state_dir, name, NULL);
	}
	g_assert_nonnull(aside);
	/* kept as it was, for inspection */
	g_assert_true(file_contains(aside, MARKER));
}

/* the allowlist cannot be read at start-up: new events are dropped, but
 * what was stored before stays, and is there once the allowlist is back */
static void
test_allowlist_unreadable_keeps_data(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *bogus = g_build_filename(fixture->harness->tmpdir, "not-a-dir", NULL);
	g_autofree char *arg = g_strdup_printf("--allowlist-dir=%s", bogus);
	const char *const args[] = {arg, NULL};
	g_autofree char *saved = g_strdup(g_getenv("MTEST_ALLOWLIST_DIRS"));
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint32 accepted = 99, dropped = 0;

	record_batches(fixture, "before", 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_true(g_file_set_contents(bogus, "in the way", -1, NULL));
	g_unsetenv("MTEST_ALLOWLIST_DIRS");
	mtest_harness_start_daemon(fixture->harness, args);
	g_setenv("MTEST_ALLOWLIST_DIRS", saved, TRUE);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(5, 16, "x"), "(uu)",
				   &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 0);
	g_assert_cmpuint(dropped, ==, 5);
	assert_batches_intact(fixture, "before", 3);
	g_assert_cmpuint(stored_events(fixture), ==, 3 * 20);

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	assert_batches_intact(fixture, "before", 3);
	record_batches(fixture, "after", 1);
	g_assert_cmpuint(stored_events(fixture), ==, 4 * 20);
}

/* a file is in the way of the state directory at start-up (say, a botched
 * restore): the daemon serves, stores nothing and deletes nothing; once the
 * directory is back, so is everything acknowledged before */
static void
test_state_dir_in_the_way_keeps_data(Fixture *fixture, gconstpointer user_data)
{
	const char *state_dir = fixture->harness->state_dir;
	g_autofree char *moved = g_strconcat(state_dir, ".moved", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) status = NULL;
	guint32 accepted = 99;

	record_batches(fixture, "before", 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_cmpint(g_rename(state_dir, moved), ==, 0);
	g_assert_true(g_file_set_contents(state_dir, "in the way", -1, NULL));
	mtest_harness_start_daemon(fixture->harness, NULL);

	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	reply = mtest_harness_call(fixture->harness, "RecordEvents", make_batch(2, 16, "x"), "(uu)",
				   &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, NULL);
	g_assert_cmpuint(accepted, ==, 0);
	mtest_harness_stop_daemon(fixture->harness, FALSE);

	g_assert_cmpint(g_unlink(state_dir), ==, 0);
	g_assert_cmpint(g_rename(moved, state_dir), ==, 0);
	mtest_harness_start_daemon(fixture->harness, NULL);
	assert_batches_intact(fixture, "before", 3);
	g_assert_cmpuint(stored_events(fixture), ==, 3 * 20);
}

/* a state directory the daemon creates itself is 0700, the files in it
 * 0600 */
static void
test_state_dir_modes(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *name;
	GStatBuf buf;
	guint n = 0;

	g_assert_cmpint(g_rmdir(fixture->harness->state_dir), ==, 0);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, NULL);
	grant_consent(fixture);
	recorder = record_some(fixture, "org.gnome.Maps.desktop", 1);

	g_assert_cmpint(g_stat(fixture->harness->state_dir, &buf), ==, 0);
	g_assert_true(S_ISDIR(buf.st_mode));
	g_assert_cmpuint(buf.st_mode & 0777, ==, 0700);
	dir = g_dir_open(fixture->harness->state_dir, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(fixture->harness->state_dir, name, NULL);

		g_assert_cmpint(g_stat(path, &buf), ==, 0);
		g_test_message("%s: %o", name, buf.st_mode & 0777);
		g_assert_cmpuint(buf.st_mode & 0777, ==, 0600);
		n++;
	}
	/* consent.conf, the sampling secret, metrics.db, -wal, -shm */
	g_assert_cmpuint(n, >=, 4);
}

/* the store and the consent record are private to the service user */
static void
test_file_modes(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *name;
	guint n = 0;

	grant_consent(fixture);
	recorder = record_some(fixture, "org.gnome.Maps.desktop", 1);
	dir = g_dir_open(fixture->harness->state_dir, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(fixture->harness->state_dir, name, NULL);
		GStatBuf buf;

		g_assert_cmpint(g_stat(path, &buf), ==, 0);
		g_assert_cmpint(buf.st_mode & 0077, ==, 0);
		n++;
	}
	g_assert_cmpuint(n, >=, 2);
}

/* ---- access control and per-client limits (issue 6) ---- */

static const char *const all_actions[] = {
	"org.fedoraproject.Metrics1.set-consent", "org.fedoraproject.Metrics1.read-all",
	"org.fedoraproject.Metrics1.clear-all", "org.fedoraproject.Metrics1.upload-now", NULL};

typedef struct {
	const char *method;
	const char *args; /* GVariant text of the parameters */
	const char *reply_type;
	const char *action;
} PrivilegedCall;

/* every call that needs polkit, with the one action it needs */
static const PrivilegedCall privileged_calls[] = {
	{"SetConsent", "('granted', @a{sv} {})", "()", "org.fedoraproject.Metrics1.set-consent"},
	{"Clear", "({'all': <true>},)", "(t)", "org.fedoraproject.Metrics1.clear-all"},
	{"GetLocalData", "({'all': <true>},)", "(a(ussuavtt))",
	 "org.fedoraproject.Metrics1.read-all"},
	{"UploadNow", "(@a{sv} {},)", "(uu)", "org.fedoraproject.Metrics1.upload-now"},
	{"GetPendingUploads", "(@a{sv} {},)", "(aa{sv})", "org.fedoraproject.Metrics1.read-all"},
	{"GetSentUploads", "(@a{sv} {},)", "(aa{sv})", "org.fedoraproject.Metrics1.read-all"},
	/* last: the calls above need consent */
	{"SetConsent", "('denied', @a{sv} {})", "()", "org.fedoraproject.Metrics1.set-consent"},
};

static GVariant *
privileged_call(Fixture *fixture, const PrivilegedCall *entry, GError **error)
{
	g_autoptr(GError) parse_error = NULL;
	GVariant *args = g_variant_parse(NULL, entry->args, NULL, NULL, &parse_error);

	g_assert_no_error(parse_error);
	return mtest_harness_call(fixture->harness, entry->method, args, entry->reply_type, error);
}

static void
fixture_set_up_uploads(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *config = NULL;
	g_autofree char *config_arg = NULL;
	const char *args[2] = {NULL, NULL};

	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	/* a local server, so UploadNow does not depend on the network; the
	 * outbox is empty, so nothing is sent to it */
	path = g_build_filename(fixture->harness->tmpdir, "upload.conf", NULL);
	config = g_strdup("[Upload]\nServerUrl=http://127.0.0.1:9\n");
	g_assert_true(g_file_set_contents(path, config, -1, &error));
	config_arg = g_strdup_printf("--config=%s", path);
	args[0] = config_arg;
	mtest_harness_start_daemon(fixture->harness, args);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

/* every privileged call: refused with nothing allowed and with every other
 * action allowed; served with only its own action allowed */
static void
test_privileged_calls(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *policy_path = g_test_build_filename(
		G_TEST_DIST, "..", "data", "polkit", "org.fedoraproject.Metrics1.policy.in", NULL);
	g_autofree char *policy = NULL;
	guint n_actions = 0;

	/* the table covers every action the policy defines */
	g_assert_true(g_file_get_contents(policy_path, &policy, NULL, NULL));
	for (const char *p = policy; (p = strstr(p, "<action id=\"")) != NULL; n_actions++) {
		g_autofree char *id = NULL;
		gboolean covered = FALSE;

		p += strlen("<action id=\"");
		id = g_strndup(p, strcspn(p, "\""));
		for (guint i = 0; i < G_N_ELEMENTS(privileged_calls); i++)
			covered |= g_strcmp0(privileged_calls[i].action, id) == 0;
		g_assert_true(covered);
		g_assert_true(g_strv_contains(all_actions, id));
	}
	g_assert_cmpuint(n_actions, ==, g_strv_length((GStrv)all_actions));

	for (guint i = 0; i < G_N_ELEMENTS(privileged_calls); i++) {
		const PrivilegedCall *entry = &privileged_calls[i];
		const char *only[] = {entry->action, NULL};
		const char *others[G_N_ELEMENTS(all_actions)] = {NULL};
		guint n_others = 0;

		g_test_message("%s %s needs %s", entry->method, entry->args, entry->action);
		for (guint j = 0; all_actions[j] != NULL; j++) {
			if (g_strcmp0(all_actions[j], entry->action) != 0)
				others[n_others++] = all_actions[j];
		}
		for (guint round = 0; round < 3; round++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) reply = NULL;

			mtest_harness_set_allowed(fixture->harness,
						  round == 0 ? allow_nothing :
						  round == 1 ? (const char *const *)others :
							       (const char *const *)only);
			reply = privileged_call(fixture, entry, &error);
			if (round < 2) {
				g_autofree char *remote = NULL;

				g_assert_null(reply);
				g_assert_nonnull(error);
				remote = g_dbus_error_get_remote_error(error);
				g_assert_cmpstr(
					remote, ==,
					"org.fedoraproject.Metrics1.Error.PermissionDenied");
			} else {
				g_assert_no_error(error);
				g_assert_nonnull(reply);
			}
		}
	}
}

/* a denial on SetConsent changes nothing, and after a granted denial the
 * store is gone (the allowed path really acts) */
static void
test_privileged_calls_act(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const char *only_clear[] = {"org.fedoraproject.Metrics1.clear-all", NULL};
	guint64 removed = 0;

	recorder = record_some(fixture, MARKER, 2);
	g_assert_cmpuint(stored_events(fixture), ==, 8);
	mtest_harness_set_allowed(fixture->harness, only_clear);
	g_assert_cmpstr(privileged_calls[1].method, ==, "Clear");
	reply = privileged_call(fixture, &privileged_calls[1], &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(t)", &removed);
	g_assert_cmpuint(removed, ==, 3);
	g_assert_cmpuint(stored_events(fixture), ==, 0);
}

/* the calls a flooder cycles through: every kind of method, a malformed
 * batch, and a batch sent without consent */
enum {
	FLOOD_GET_STATUS,
	FLOOD_SET_CONSENT,
	FLOOD_GET_LOCAL_DATA,
	FLOOD_CLEAR,
	FLOOD_RECORD_MALFORMED,
	FLOOD_RECORD_NO_CONSENT,
	FLOOD_N_KINDS,
};

typedef struct {
	guint n_sent;
	guint n_done;
	guint n_served[FLOOD_N_KINDS];	/* admitted and answered as expected */
	guint n_limited[FLOOD_N_KINDS]; /* refused with LimitExceeded */
	guint n_checks_limited;
	guint n_other;
	GDBusConnection *connection;
} Flood;

typedef struct {
	Flood *flood;
	guint kind;
} FloodCall;

static void
flood_send(Flood *flood);

static void
flood_reply_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autofree FloodCall *call = user_data;
	Flood *flood = call->flood;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
		g_dbus_connection_call_finish(flood->connection, result, &error);

	flood->n_done++;
	if (g_error_matches(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED)) {
		flood->n_limited[call->kind]++;
		if (strstr(error->message, "in flight") != NULL)
			flood->n_checks_limited++;
	} else if (call->kind == FLOOD_RECORD_MALFORMED ?
			   g_error_matches(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA) :
			   reply != NULL) {
		flood->n_served[call->kind]++;
	} else {
		g_test_message("flood call %u: unexpected %s", call->kind,
			       error != NULL ? error->message : "success");
		flood->n_other++;
	}
	flood_send(flood);
}

#define FLOOD_CALLS 2004
/* below the bus's max_replies_per_connection */
#define FLOOD_WINDOW 400

static void
flood_send(Flood *flood)
{
	while (flood->n_sent < FLOOD_CALLS && flood->n_sent - flood->n_done < FLOOD_WINDOW) {
		FloodCall *call = g_new0(FloodCall, 1);
		const char *method = "GetStatus";
		GVariant *args = NULL;

		call->flood = flood;
		call->kind = flood->n_sent % FLOOD_N_KINDS;
		switch (call->kind) {
		case FLOOD_SET_CONSENT:
			method = "SetConsent";
			args = g_variant_new("(sa{sv})", "denied", NULL);
			break;
		case FLOOD_GET_LOCAL_DATA:
			method = "GetLocalData";
			break;
		case FLOOD_CLEAR:
			method = "Clear";
			break;
		case FLOOD_RECORD_MALFORMED:
			method = "RecordEvents";
			args = make_batch(0, 16, "flood");
			break;
		case FLOOD_RECORD_NO_CONSENT:
			method = "RecordEvents";
			args = make_batch(1, 16, "flood");
			break;
		default:
			break;
		}
		g_dbus_connection_call(flood->connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
				       METRICS_DBUS_INTERFACE, method,
				       args != NULL ? args : g_variant_new("(a{sv})", NULL), NULL,
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, flood_reply_cb, call);
		flood->n_sent++;
	}
}

static void
fixture_set_up_call_limited(Fixture *fixture, gconstpointer user_data)
{
	const char *const args[] = {"--max-client-calls=20", NULL};

	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, args);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

/* one connection floods calls of every kind (consent never given): its
 * excess is refused with LimitExceeded and counted, polkit checks in
 * flight stay capped, and a second connection is served meanwhile */
static void
test_call_flood(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) flooder = NULL;
	Flood flood = {0};
	guint n_served = 0, n_limited = 0;

	mtest_harness_set_allowed(fixture->harness, allow_consent);
	flooder = g_dbus_connection_new_for_address_sync(
		fixture->harness->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	flood.connection = flooder;
	flood_send(&flood);

	/* queued behind hundreds of the flooder's calls, and answered */
	for (guint i = 0; i < 3; i++) {
		g_autoptr(GVariant) status = NULL;
		g_autoptr(GPtrArray) aggregates = NULL;

		status = metrics_client_get_status_sync(fixture->client, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(
			metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
							METRICS_CLIENT_FLAGS_NONE, NULL, &error));
		g_assert_no_error(error);
		aggregates = get_local_data(fixture);
		while (flood.n_done < (i + 1) * FLOOD_CALLS / 4)
			g_main_context_iteration(NULL, TRUE);
	}
	while (flood.n_done < FLOOD_CALLS)
		g_main_context_iteration(NULL, TRUE);

	g_assert_cmpuint(flood.n_other, ==, 0);
	for (guint kind = 0; kind < FLOOD_N_KINDS; kind++) {
		g_test_message("flood call %u: %u served, %u refused", kind, flood.n_served[kind],
			       flood.n_limited[kind]);
		g_assert_cmpuint(flood.n_limited[kind], >, 0);
		n_served += flood.n_served[kind];
		n_limited += flood.n_limited[kind];
	}
	g_test_message("flood: %u refused for polkit checks in flight", flood.n_checks_limited);
	g_assert_cmpuint(n_served + n_limited, ==, FLOOD_CALLS);
	g_assert_cmpuint(n_served, >, 0);
	g_assert_cmpuint(n_limited, >, FLOOD_CALLS / 2);
	/* every refusal is counted, and none was the polite client's */
	g_assert_cmpuint(drops_for(fixture, "rate-limited-calls"), ==, n_limited);
	g_assert_cmpuint(drops_for(fixture, "malformed-calls"), ==,
			 flood.n_served[FLOOD_RECORD_MALFORMED]);

	/* and logged once per period, not once per call */
	{
		g_autofree char *log =
			g_build_filename(fixture->harness->tmpdir, "daemon.log", NULL);
		g_autofree char *text = NULL;
		guint n_lines = 0;

		g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
		for (const char *p = text; (p = strstr(p, "refusing calls from")) != NULL; p++)
			n_lines++;
		g_assert_cmpuint(n_lines, >=, 1);
		g_assert_cmpuint(n_lines, <, 10);
	}
}

static void
polkit_mock_call(Fixture *fixture, const char *method, GVariant *args)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
		fixture->harness->connection, "org.freedesktop.PolicyKit1",
		"/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock", method, args,
		NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

	g_assert_no_error(error);
}

static void
count_reply_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	guint *counts = user_data; /* served, limited, other */
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

	if (reply != NULL)
		counts[0]++;
	else if (g_error_matches(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED))
		counts[1]++;
	else
		counts[2]++;
}

/* polkit does not answer: one client may have 8 checks in flight, its
 * further privileged calls are refused at once, other calls and other
 * clients are served; once polkit answers, the client may ask again */
static void
test_pending_checks_capped(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) asker = NULL;
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) again = NULL;
	guint counts[3] = {0, 0, 0};

	mtest_harness_set_allowed(fixture->harness, allow_consent);
	polkit_mock_call(fixture, "SimulateHang", g_variant_new("(b)", TRUE));
	asker = g_dbus_connection_new_for_address_sync(
		fixture->harness->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 12; i++)
		g_dbus_connection_call(asker, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
				       METRICS_DBUS_INTERFACE, "SetConsent",
				       g_variant_new("(sa{sv})", "granted", NULL), NULL,
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, count_reply_cb, counts);
	while (counts[0] + counts[1] + counts[2] < 4)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(counts[1], ==, 4);
	g_assert_cmpuint(drops_for(fixture, "rate-limited-calls"), ==, 4);

	/* the daemon is not blocked by the hanging checks */
	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);

	polkit_mock_call(fixture, "SimulateHang", g_variant_new("(b)", FALSE));
	polkit_mock_call(fixture, "ReleaseHangingCalls", NULL);
	while (counts[0] + counts[1] + counts[2] < 12)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(counts[0], ==, 8);
	g_assert_cmpuint(counts[1], ==, 4);
	g_assert_cmpuint(counts[2], ==, 0);

	/* the checks ended: the same client may ask again */
	again = g_dbus_connection_call_sync(asker, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
					    METRICS_DBUS_INTERFACE, "SetConsent",
					    g_variant_new("(sa{sv})", "denied", NULL), NULL,
					    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(again);
	g_assert_cmpuint(drops_for(fixture, "rate-limited-calls"), ==, 4);
}

/* per-client state goes with the client: 200 connections come and go and
 * the daemon's table of clients falls back */
static void
test_clients_bounded(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) connections = g_ptr_array_new_with_free_func(g_object_unref);
	guint32 before = 0, during = 0, after = 0;
	gint64 deadline;

	g_autoptr(GVariant) status_before = NULL;
	g_autoptr(GVariant) status_during = NULL;

	status_before = metrics_client_get_status_sync(fixture->client, NULL, NULL);
	g_assert_true(g_variant_lookup(status_before, "clients", "u", &before));
	for (guint i = 0; i < 200; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
			fixture->harness->address,
			G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
				G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL, NULL, &error);

		g_assert_no_error(error);
		reply = g_dbus_connection_call_sync(
			connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE,
			i % 2 == 0 ? "GetLocalData" : "GetStatus", g_variant_new("(a{sv})", NULL),
			NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
		g_assert_no_error(error);
		g_ptr_array_add(connections, connection);
	}
	status_during = metrics_client_get_status_sync(fixture->client, NULL, NULL);
	g_assert_true(g_variant_lookup(status_during, "clients", "u", &during));
	g_assert_cmpuint(during, ==, before + 200);

	for (guint i = 0; i < connections->len; i++)
		g_dbus_connection_close_sync(g_ptr_array_index(connections, i), NULL, NULL);
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	do {
		g_autoptr(GVariant) status =
			metrics_client_get_status_sync(fixture->client, NULL, NULL);

		g_assert_true(g_variant_lookup(status, "clients", "u", &after));
		if (after > before)
			g_usleep(50000);
	} while (after > before && g_get_monotonic_time() < deadline);
	g_assert_cmpuint(after, ==, before);
}

/* with consent unknown, a running app learns of the grant live and what it
 * records afterwards is stored */
static void
test_grant_propagates(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = metrics_recorder_new(fixture->harness->connection);
	guint n_notify = 0;
	gint64 deadline;

	/* before: asked, unknown, dropped in the app */
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(MARKER));
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_UNKNOWN);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 1);

	g_signal_connect(recorder, "notify::consent", G_CALLBACK(consent_notify_cb), &n_notify);
	grant_consent(fixture);
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (metrics_recorder_get_consent(recorder) != METRICS_CONSENT_GRANTED &&
	       g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_GRANTED);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(n_notify, >=, 1);

	for (guint i = 0; i < 3; i++)
		metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(MARKER));
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 1);
	g_assert_cmpuint(stored_events(fixture), ==, 3);
	g_assert_true(mtest_harness_state_contains(fixture->harness, MARKER));
}

/* ---- clock jumps through the running daemon (fault matrix) ---- */

static const char *const allow_uploads[] = {"org.fedoraproject.Metrics1.set-consent",
					    "org.fedoraproject.Metrics1.upload-now",
					    "org.fedoraproject.Metrics1.read-all", NULL};

/* the Monday (YYYY-MM-DD, UTC) of the ISO week holding @time_usec */
static char *
week_of(gint64 time_usec)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(time_usec / G_USEC_PER_SEC);
	g_autoptr(GDateTime) monday =
		g_date_time_add_days(dt, -(g_date_time_get_day_of_week(dt) - 1));

	return g_date_time_format(monday, "%Y-%m-%d");
}

/* moves the running daemon's clock to @days from the real time, and waits
 * until it must have seen it (it looks at the file at most once a second) */
static void
set_clock_offset(Fixture *fixture, const char *path, gint64 days)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT "\n", days * 24 * 3600);

	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
	g_usleep(G_USEC_PER_SEC + G_USEC_PER_SEC / 2);
}

/* records @n events of ID_VALUE with @payload; returns how many were
 * acknowledged */
static guint32
record_value_batch(Fixture *fixture, guint n, const char *payload)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = mtest_harness_call(fixture->harness, "RecordEvents",
						       make_batch(n, 16, payload), "(uu)", &error);
	guint32 accepted = 0;

	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, NULL);
	return accepted;
}

/* the daemon still answers GetStatus and GetLocalData */
static void
assert_serving(Fixture *fixture)
{
	g_autoptr(GPtrArray) aggregates = get_local_data(fixture);

	g_assert_nonnull(aggregates);
	g_assert_cmpuint(status_u64(fixture, "stored-keys"), ==, aggregates->len);
}

static char *
payload_text(GVariant *payload)
{
	g_autoptr(GVariant) boxed = NULL;
	g_autoptr(GVariant) value = NULL;

	if (g_variant_n_children(payload) != 1)
		return g_strdup("");
	boxed = g_variant_get_child_value(payload, 0);
	value = g_variant_get_variant(boxed);
	return g_variant_dup_string(value, NULL);
}

static void
add_count(GHashTable *counts, const char *key, guint64 n)
{
	g_hash_table_insert(
		counts, g_strdup(key),
		GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(counts, key)) + n));
}

/* what the daemon holds of ID_VALUE, as "place|week|payload" → count:
 * place "local" (GetLocalData), or the state of the outbox request
 * ("pending", or "next" for a week not yet closed); @n_pending: how many
 * pending requests each week has, as "week" → n */
static GHashTable *
held_counts(Fixture *fixture, GHashTable *n_pending)
{
	g_autoptr(GError) error = NULL;
	GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GVariant) local = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(GVariant) pending = NULL;
	g_autoptr(GVariant) requests = NULL;

	local = mtest_harness_call(
		fixture->harness, "GetLocalData",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(a(ussuavtt))", &error);
	g_assert_no_error(error);
	rows = g_variant_get_child_value(local, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) payload = NULL;
		g_autofree char *text = NULL;
		g_autofree char *key = NULL;
		const char *id = NULL, *week = NULL;
		guint64 count = 0;

		g_variant_get_child(rows, i, "(u&s&su@avtt)", NULL, &id, &week, NULL, &payload,
				    &count, NULL);
		if (g_strcmp0(id, ID_VALUE) != 0)
			continue;
		text = payload_text(payload);
		key = g_strdup_printf("local|%s|%s", week, text);
		add_count(counts, key, count);
	}

	pending = mtest_harness_call(
		fixture->harness, "GetPendingUploads",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(aa{sv})", &error);
	g_assert_no_error(error);
	requests = g_variant_get_child_value(pending, 0);
	for (gsize i = 0; i < g_variant_n_children(requests); i++) {
		g_autoptr(GVariant) request = g_variant_get_child_value(requests, i);
		g_autoptr(GVariant) events = g_variant_lookup_value(request, "events", NULL);
		const char *state = NULL, *week = NULL, *metric = NULL;

		g_assert_true(g_variant_lookup(request, "state", "&s", &state));
		g_assert_true(g_variant_lookup(request, "week", "&s", &week));
		g_assert_true(g_variant_lookup(request, "metric", "&s", &metric));
		if (g_strcmp0(metric, ID_VALUE) != 0)
			continue;
		if (g_strcmp0(state, "pending") == 0)
			add_count(n_pending, week, 1);
		for (gsize j = 0; j < g_variant_n_children(events); j++) {
			g_autoptr(GVariant) payload = NULL;
			g_autofree char *text = NULL;
			g_autofree char *key = NULL;
			const char *period = NULL;
			guint32 count = 0;

			g_variant_get_child(events, j, "(&s&s&su@av)", NULL, NULL, &period, &count,
					    &payload);
			g_assert_cmpstr(period, ==, week);
			text = payload_text(payload);
			key = g_strdup_printf("%s|%s|%s", state, week, text);
			add_count(counts, key, count);
		}
	}
	return counts;
}

static guint64
held(GHashTable *counts, const char *place, const char *week, const char *payload)
{
	g_autofree char *key = g_strdup_printf("%s|%s|%s", place, week, payload);

	return GPOINTER_TO_SIZE(g_hash_table_lookup(counts, key));
}

/* the sum over every place and week for @payload; "next" is left out,
 * being a preview of what is local */
static guint64
held_total(GHashTable *counts, const char *payload)
{
	g_autofree char *suffix = g_strdup_printf("|%s", payload);
	GHashTableIter iter;
	gpointer key, value;
	guint64 total = 0;

	g_hash_table_iter_init(&iter, counts);
	while (g_hash_table_iter_next(&iter, &key, &value))
		if (g_str_has_suffix(key, suffix) && !g_str_has_prefix(key, "next|"))
			total += GPOINTER_TO_SIZE(value);
	return total;
}

/* freezes what has closed (UploadNow; the server does not answer, so the
 * requests stay in the outbox) */
static void
freeze_closed_weeks(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = mtest_harness_call(
		fixture->harness, "UploadNow",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(uu)", &error);
	guint32 sent = G_MAXUINT32;

	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &sent, NULL);
	g_assert_cmpuint(sent, ==, 0);
}

/* the wall clock of the running daemon jumps forwards two weeks, then
 * back ten days, with events recorded before and after each jump: every
 * acknowledged event is counted exactly once, the week that closed is in
 * the outbox once, events after the jump back do not go into it (they go
 * to the first week still open, docs/metrics-recorder.8.md), and the
 * daemon serves throughout */
static void
test_clock_jumps(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *offset_path =
		g_build_filename(fixture->harness->tmpdir, "clock-offset", NULL);
	g_autofree char *offset_arg = g_strdup_printf("--clock-offset-file=%s", offset_path);
	g_autofree char *config_path =
		g_build_filename(fixture->harness->tmpdir, "upload.conf", NULL);
	g_autofree char *config_arg = g_strdup_printf("--config=%s", config_path);
	const char *const args[] = {config_arg, offset_arg, NULL};
	gint64 now = g_get_real_time();
	g_autofree char *week0 = week_of(now);
	g_autofree char *week1 = week_of(now + 7 * G_TIME_SPAN_DAY);
	g_autofree char *week2 = week_of(now + 14 * G_TIME_SPAN_DAY);
	g_autoptr(GHashTable) counts = NULL;
	g_autoptr(GHashTable) n_pending =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	const char *const phases[] = {"org.example.Before.desktop", "org.example.Ahead.desktop",
				      "org.example.Back.desktop"};
	guint32 accepted[3];

	/* nothing answers at port 9: what is frozen stays in the outbox */
	g_assert_true(g_file_set_contents(config_path, "[Upload]\nServerUrl=http://127.0.0.1:9\n",
					  -1, &error));
	g_assert_true(g_file_set_contents(offset_path, "0\n", -1, &error));
	g_assert_no_error(error);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_set_allowed(fixture->harness, allow_uploads);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, args);
	fixture->client = metrics_client_new(fixture->harness->connection);

	/* this week */
	accepted[0] = record_value_batch(fixture, 30, phases[0]);
	g_assert_cmpuint(accepted[0], ==, 30);
	assert_serving(fixture);

	/* two weeks ahead: this week and the next have ended, and are frozen
	 * (the next one is empty); the current one stays local */
	set_clock_offset(fixture, offset_path, 14);
	assert_serving(fixture);
	accepted[1] = record_value_batch(fixture, 20, phases[1]);
	g_assert_cmpuint(accepted[1], ==, 20);
	freeze_closed_weeks(fixture);
	assert_serving(fixture);

	/* ten days back, into week 0 or 1 again: both were frozen already */
	set_clock_offset(fixture, offset_path, 4);
	assert_serving(fixture);
	accepted[2] = record_value_batch(fixture, 10, phases[2]);
	g_assert_cmpuint(accepted[2], ==, 10);
	freeze_closed_weeks(fixture);
	assert_serving(fixture);

	counts = held_counts(fixture, n_pending);
	/* every acknowledged event exactly once */
	for (guint i = 0; i < G_N_ELEMENTS(phases); i++)
		g_assert_cmpuint(held_total(counts, phases[i]), ==, accepted[i]);
	/* week 0 is in the outbox, once; no other week of it is */
	g_assert_cmpuint(held(counts, "pending", week0, phases[0]), ==, accepted[0]);
	g_assert_cmpuint(g_hash_table_size(n_pending), ==, 1);
	g_assert_cmpuint(GPOINTER_TO_SIZE(g_hash_table_lookup(n_pending, week0)), ==, 1);
	/* the current week stays local; what came after the jump back went
	 * there too, not into a frozen week */
	g_assert_cmpuint(held(counts, "local", week2, phases[1]), ==, accepted[1]);
	g_assert_cmpuint(held(counts, "local", week2, phases[2]), ==, accepted[2]);
	g_assert_cmpuint(held(counts, "local", week0, phases[2]), ==, 0);
	g_assert_cmpuint(held(counts, "local", week1, phases[2]), ==, 0);
	g_assert_cmpuint(held(counts, "next", week2, phases[2]), ==, accepted[2]);
	g_assert_cmpuint(status_u64(fixture, "stored-events"), ==, accepted[1] + accepted[2]);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func, setup) g_test_add(path, Fixture, NULL, setup, func, fixture_tear_down)
	ADD("/integration/no-consent-no-data", test_no_consent_no_data, fixture_set_up);
	ADD("/integration/consent-needs-polkit", test_consent_needs_polkit, fixture_set_up);
	ADD("/integration/grant-record-show", test_grant_record_show, fixture_set_up);
	ADD("/integration/deny-deletes", test_deny_deletes, fixture_set_up);
	ADD("/integration/restart-keeps-data", test_restart_keeps_data, fixture_set_up);
	ADD("/integration/malformed-calls", test_malformed_calls, fixture_set_up);
	ADD("/integration/daemon-absent", test_daemon_absent, fixture_set_up_no_daemon);
	ADD("/integration/consent-propagates", test_consent_propagates, fixture_set_up);
	ADD("/integration/clear-and-read-all", test_clear_and_read_all, fixture_set_up);
	ADD("/integration/cli", test_cli, fixture_set_up);
	ADD("/integration/cli-daemon-absent", test_cli_daemon_absent, fixture_set_up_no_daemon);
	ADD("/integration/other-user", test_other_user, fixture_set_up);
	ADD("/integration/flood", test_flood, fixture_set_up_rate_limited);
	g_test_add("/integration/kill-during-load", Fixture, unlimited_args, fixture_set_up_granted,
		   test_kill_during_load, fixture_tear_down);
	g_test_add("/integration/store-full", Fixture, store_full_args, fixture_set_up_granted,
		   test_store_full, fixture_tear_down);
	ADD("/integration/corrupt-store", test_corrupt_store, fixture_set_up_granted);
	ADD("/integration/store-unwritable", test_store_unwritable, fixture_set_up_granted);
	ADD("/integration/state-dir-unusable", test_state_dir_unusable, fixture_set_up_no_daemon);
	ADD("/integration/file-modes", test_file_modes, fixture_set_up);
	ADD("/integration/bus-restart", test_bus_restart, fixture_set_up);
	ADD("/integration/allowlist-unreadable", test_allowlist_unreadable,
	    fixture_set_up_no_daemon);
	ADD("/integration/privileged-calls", test_privileged_calls, fixture_set_up_uploads);
	ADD("/integration/privileged-calls-act", test_privileged_calls_act, fixture_set_up_granted);
	ADD("/integration/call-flood", test_call_flood, fixture_set_up_call_limited);
	ADD("/integration/pending-checks-capped", test_pending_checks_capped, fixture_set_up);
	ADD("/integration/clients-bounded", test_clients_bounded, fixture_set_up);
	ADD("/integration/grant-propagates", test_grant_propagates, fixture_set_up);
	ADD("/integration/deny-overwrites", test_deny_overwrites, fixture_set_up);
	g_test_add("/integration/drops-persist", Fixture, store_full_args, fixture_set_up_granted,
		   test_drops_persist, fixture_tear_down);
	g_test_add("/integration/store-cap-total", Fixture, store_cap_args, fixture_set_up_granted,
		   test_store_cap_total, fixture_tear_down);
	ADD("/integration/disk-full", test_disk_full, fixture_set_up_no_daemon);
	ADD("/integration/state-dir-modes", test_state_dir_modes, fixture_set_up_no_daemon);
	ADD("/integration/corrupt-store-set-aside", test_corrupt_store_set_aside,
	    fixture_set_up_granted);
	ADD("/integration/allowlist-unreadable-keeps-data", test_allowlist_unreadable_keeps_data,
	    fixture_set_up_granted);
	ADD("/integration/state-dir-in-the-way-keeps-data", test_state_dir_in_the_way_keeps_data,
	    fixture_set_up_granted);
	ADD("/integration/read-only-state-dir", test_read_only_state_dir, fixture_set_up_no_daemon);
	ADD("/integration/clock-jumps", test_clock_jumps, fixture_set_up_no_daemon);
#undef ADD

	return g_test_run();
}
