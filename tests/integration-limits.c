/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): per-client
 * limits. A client that floods the daemon with events or calls is cut to its
 * share and counted, polkit checks in flight are capped, per-client state
 * goes with the client, and other clients are served meanwhile.
 */

#include "config.h"

#include "metrics-private.h"
#include "mtest-stack.h"

static void
fixture_set_up_rate_limited(MtestFixture *fixture, gconstpointer user_data)
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
test_flood(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) flooder = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) drops = NULL;
	guint flood_accepted[2] = {0, 0};
	guint32 accepted = 0, dropped = 0;
	guint64 limited = 0;

	flooder = mtest_harness_connect(fixture->harness);
	for (guint i = 0; i < 10; i++)
		g_dbus_connection_call(flooder, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
				       METRICS_DBUS_INTERFACE, "RecordEvents",
				       mtest_make_batch(1000, 16, "flood"), G_VARIANT_TYPE("(uu)"),
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, record_cb, flood_accepted);

	reply = mtest_harness_call(fixture->harness, "RecordEvents",
				   mtest_make_batch(50, 16, "polite"), "(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 50);
	g_assert_cmpuint(dropped, ==, 0);

	while (flood_accepted[1] < 10)
		g_main_context_iteration(NULL, TRUE);
	/* a burst of two seconds' worth, then 100 per second */
	g_assert_cmpuint(flood_accepted[0], >=, 200);
	g_assert_cmpuint(flood_accepted[0], <, 5000);

	status = mtest_harness_get_status_all(fixture->harness);
	drops = g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	g_assert_true(g_variant_lookup(drops, "rate-limited", "t", &limited));
	g_assert_cmpuint(limited, ==, 10000 - flood_accepted[0]);
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
			args = mtest_make_batch(0, 16, "flood");
			break;
		case FLOOD_RECORD_NO_CONSENT:
			method = "RecordEvents";
			args = mtest_make_batch(1, 16, "flood");
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
fixture_set_up_call_limited(MtestFixture *fixture, gconstpointer user_data)
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
test_call_flood(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) flooder = NULL;
	Flood flood = {0};
	guint n_served = 0, n_limited = 0, n_lines;

	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	flooder = mtest_harness_connect(fixture->harness);
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
		aggregates = mtest_get_local_data(fixture);
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
	g_assert_cmpuint(mtest_drops_for(fixture, "rate-limited-calls"), ==, n_limited);
	g_assert_cmpuint(mtest_drops_for(fixture, "malformed-calls"), ==,
			 flood.n_served[FLOOD_RECORD_MALFORMED]);

	/* and logged once per period, not once per call */
	n_lines = mtest_harness_count_in_daemon_log(fixture->harness, "refusing calls from");
	g_assert_cmpuint(n_lines, >=, 1);
	g_assert_cmpuint(n_lines, <, 10);
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
test_pending_checks_capped(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) asker = NULL;
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) again = NULL;
	guint counts[3] = {0, 0, 0};

	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	mtest_harness_polkit_mock_call(fixture->harness, "SimulateHang",
				       g_variant_new("(b)", TRUE));
	asker = mtest_harness_connect(fixture->harness);
	for (guint i = 0; i < 12; i++)
		g_dbus_connection_call(asker, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
				       METRICS_DBUS_INTERFACE, "SetConsent",
				       g_variant_new("(sa{sv})", "granted", NULL), NULL,
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, count_reply_cb, counts);
	while (counts[0] + counts[1] + counts[2] < 4)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(counts[1], ==, 4);

	/* the daemon is not blocked by the hanging checks */
	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);

	mtest_harness_polkit_mock_call(fixture->harness, "SimulateHang",
				       g_variant_new("(b)", FALSE));
	mtest_harness_polkit_mock_call(fixture->harness, "ReleaseHangingCalls", NULL);
	while (counts[0] + counts[1] + counts[2] < 12)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(counts[0], ==, 8);
	g_assert_cmpuint(counts[1], ==, 4);
	g_assert_cmpuint(counts[2], ==, 0);
	/* read with read-all, which is a polkit check too: now that polkit
	 * answers again */
	g_assert_cmpuint(mtest_drops_for(fixture, "rate-limited-calls"), ==, 4);

	/* the checks ended: the same client may ask again */
	again = g_dbus_connection_call_sync(asker, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
					    METRICS_DBUS_INTERFACE, "SetConsent",
					    g_variant_new("(sa{sv})", "denied", NULL), NULL,
					    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(again);
	g_assert_cmpuint(mtest_drops_for(fixture, "rate-limited-calls"), ==, 4);
}

typedef struct {
	MtestFixture *fixture;
	guint32 limit;
	guint32 n; /* the daemon's count of clients, last time asked */
} ClientCount;

static gboolean
clients_at_most_cb(gpointer user_data)
{
	ClientCount *count = user_data;
	g_autoptr(GVariant) status = mtest_harness_get_status_all(count->fixture->harness);

	g_assert_true(g_variant_lookup(status, "clients", "u", &count->n));
	return count->n <= count->limit;
}

/* per-client state goes with the client: 200 connections come and go and
 * the daemon's table of clients falls back */
static void
test_clients_bounded(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) connections = g_ptr_array_new_with_free_func(g_object_unref);
	guint32 before = 0, during = 0;
	ClientCount after = {fixture, 0, 0};
	g_autoptr(GVariant) status_before = NULL;
	g_autoptr(GVariant) status_during = NULL;

	status_before = mtest_harness_get_status_all(fixture->harness);
	g_assert_true(g_variant_lookup(status_before, "clients", "u", &before));
	for (guint i = 0; i < 200; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		GDBusConnection *connection = mtest_harness_connect(fixture->harness);

		reply = g_dbus_connection_call_sync(
			connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE,
			i % 2 == 0 ? "GetLocalData" : "GetStatus", g_variant_new("(a{sv})", NULL),
			NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
		g_assert_no_error(error);
		g_ptr_array_add(connections, connection);
	}
	status_during = mtest_harness_get_status_all(fixture->harness);
	g_assert_true(g_variant_lookup(status_during, "clients", "u", &during));
	g_assert_cmpuint(during, ==, before + 200);

	for (guint i = 0; i < connections->len; i++)
		g_dbus_connection_close_sync(g_ptr_array_index(connections, i), NULL, NULL);
	after.limit = before;
	mtest_wait_until(clients_at_most_cb, &after, "the daemon to forget the clients");
	g_assert_cmpuint(after.n, ==, before);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/limits/flood", MtestFixture, NULL, fixture_set_up_rate_limited,
		   test_flood, mtest_fixture_tear_down);
	g_test_add("/metrics/limits/call-flood", MtestFixture, NULL, fixture_set_up_call_limited,
		   test_call_flood, mtest_fixture_tear_down);
	g_test_add("/metrics/limits/pending-checks-capped", MtestFixture, NULL,
		   mtest_fixture_set_up, test_pending_checks_capped, mtest_fixture_tear_down);
	g_test_add("/metrics/limits/clients-bounded", MtestFixture, NULL, mtest_fixture_set_up,
		   test_clients_bounded, mtest_fixture_tear_down);

	return g_test_run();
}
