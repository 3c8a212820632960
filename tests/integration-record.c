/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): recording
 * and reading back. What apps record through libmetrics is stored and shown
 * exactly, by the library and by metrics-cli; malformed calls and an absent
 * daemon get clear answers.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-stack.h"

/* after a yes, what apps record is stored and shown back exactly */
static void
test_grant_record_show(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	gboolean seen[3] = {FALSE};

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 4);
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_GRANTED);
	g_assert_true(g_file_test(db, G_FILE_TEST_EXISTS));

	aggregates = mtest_get_local_data(fixture);
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
	g_assert_cmpuint(mtest_status_u64(fixture, "accepted"), ==, 12);
	g_assert_cmpuint(mtest_status_u64(fixture, "stored-keys"), ==, 3);
}

/* what was acknowledged survives a stop and a kill -9 */
static void
test_restart_keeps_data(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) first = NULL;
	g_autoptr(MetricsRecorder) second = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;

	mtest_grant_consent(fixture);
	first = mtest_record_some(fixture, "org.gnome.Maps.desktop", 5);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	second = mtest_record_some(fixture, "org.gnome.Maps.desktop", 5);
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	mtest_harness_start_daemon(fixture->harness, NULL);

	aggregates = mtest_get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		if (metrics_aggregate_get_kind(aggregate) == METRICS_EVENT_KIND_VALUE)
			g_assert_cmpuint(metrics_aggregate_get_count(aggregate), ==, 10);
	}
}

static void
assert_call_fails(MtestFixture *fixture,
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
test_malformed_calls(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	GVariantBuilder options;

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 1);

	/* the documented exception: GDBus refuses a wrong D-Bus signature
	 * before the daemon's handler runs (not counted, not logged) */
	assert_call_fails(fixture, "RecordEvents", g_variant_new("(s)", "junk"),
			  "org.freedesktop.DBus.Error.InvalidArgs");
	assert_call_fails(fixture, "RecordEvents", mtest_make_batch(0, 16, "x"),
			  "org.fedoraproject.Metrics1.Error.InvalidData");
	assert_call_fails(fixture, "RecordEvents", mtest_make_batch(METRICS_MAX_BATCH + 1, 16, "x"),
			  "org.fedoraproject.Metrics1.Error.LimitExceeded");
	assert_call_fails(fixture, "RecordEvents", mtest_make_batch(2, 7, "x"),
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

		assert_call_fails(fixture, "RecordEvents", mtest_make_batch(1, 16, big),
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
	g_assert_cmpuint(mtest_drops_for(fixture, "malformed-calls"), ==, 5);

	/* still serving, nothing lost */
	aggregates = mtest_get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	g_assert_nonnull(fixture->harness->daemon);
	g_assert_nonnull(g_subprocess_get_identifier(fixture->harness->daemon));

	/* a burst of a dozen bad calls is one line in the log */
	g_assert_cmpuint(
		mtest_harness_count_in_daemon_log(fixture->harness, "rejected a malformed"), ==, 1);
}

/* the daemon is neither running nor activatable: the library neither blocks
 * nor fails, the client says what to do */
static void
test_daemon_absent(MtestFixture *fixture, gconstpointer user_data)
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

static JsonNode *
run_cli_json(MtestFixture *fixture, int expected_status, const char *const *args)
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
run_cli(MtestFixture *fixture, const char *const *args, char **out, char **err)
{
	return mtest_harness_run_cli(fixture->harness, args, out, err);
}

/* metrics-cli against the daemon: output, JSON and exit codes */
static void
test_cli(MtestFixture *fixture, gconstpointer user_data)
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
	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	node = run_cli_json(fixture, 5, grant);
	error_object = json_object_get_object_member(json_node_get_object(node), "Error");
	g_assert_nonnull(error_object);
	g_assert_cmpstr(json_object_get_string_member(error_object, "Domain"), ==,
			"metrics-error-quark");
	g_assert_cmpint(json_object_get_int_member(error_object, "Code"), ==,
			METRICS_ERROR_PERMISSION_DENIED);
	g_clear_pointer(&node, json_node_unref);

	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	node = run_cli_json(fixture, 0, grant);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "consent"), ==,
			"granted");
	g_clear_pointer(&node, json_node_unref);
	node = run_cli_json(fixture, 0, consent_status);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "consent"), ==,
			"granted");
	g_clear_pointer(&node, json_node_unref);

	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 2);
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
test_cli_daemon_absent(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *const status[] = {"status", NULL};

	g_assert_cmpint(run_cli(fixture, status, &out, &err), ==, 4);
	g_assert_nonnull(strstr(err, "systemctl start metrics-recorder"));
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/record/grant-record-show", MtestFixture, NULL, mtest_fixture_set_up,
		   test_grant_record_show, mtest_fixture_tear_down);
	g_test_add("/metrics/record/restart-keeps-data", MtestFixture, NULL, mtest_fixture_set_up,
		   test_restart_keeps_data, mtest_fixture_tear_down);
	g_test_add("/metrics/record/malformed-calls", MtestFixture, NULL, mtest_fixture_set_up,
		   test_malformed_calls, mtest_fixture_tear_down);
	g_test_add("/metrics/record/daemon-absent", MtestFixture, NULL,
		   mtest_fixture_set_up_no_daemon, test_daemon_absent, mtest_fixture_tear_down);
	g_test_add("/metrics/record/cli", MtestFixture, NULL, mtest_fixture_set_up, test_cli,
		   mtest_fixture_tear_down);
	g_test_add("/metrics/record/cli-daemon-absent", MtestFixture, NULL,
		   mtest_fixture_set_up_no_daemon, test_cli_daemon_absent, mtest_fixture_tear_down);

	return g_test_run();
}
