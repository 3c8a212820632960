/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Unit tests of MetricsClient's typed results against a scripted daemon: a
 * second connection on a private test bus owns the daemon's name and
 * answers with the dictionaries each test sets, among them what a daemon
 * of another version, or a hostile one, might send.
 */

#include "config.h"

#include <metrics.h>

#include "metrics-private.h"

#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"

typedef struct {
	GTestDBus *bus;
	GDBusConnection *service_conn;
	GDBusConnection *client_conn;
	GDBusNodeInfo *node_info;
	guint registration_id;
	guint owner_id;
	gboolean name_owned;
	GVariant *reply; /* (owned) (nullable) what the next call returns */
	MetricsClient *client;
} Fixture;

static void
fake_method_call(GDBusConnection *connection,
		 const char *sender,
		 const char *object_path,
		 const char *interface_name,
		 const char *method_name,
		 GVariant *parameters,
		 GDBusMethodInvocation *invocation,
		 gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(GVariant) reply = g_steal_pointer(&fixture->reply);

	if (reply == NULL) {
		g_dbus_method_invocation_return_dbus_error(
			invocation, "org.freedesktop.DBus.Error.UnknownMethod", "not scripted");
		return;
	}
	g_dbus_method_invocation_return_value(invocation, reply);
}

static const GDBusInterfaceVTable fake_vtable = {
	fake_method_call,
	NULL,
	NULL,
	{0},
};

static void
name_acquired_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	Fixture *fixture = user_data;
	fixture->name_owned = TRUE;
}

static GDBusConnection *
connect_to(const char *address)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);

	g_assert_no_error(error);
	return connection;
}

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = NULL;
	g_autofree char *xml_path = g_test_build_filename(G_TEST_DIST, "..", "..", "data", "dbus",
							  "org.fedoraproject.Metrics1.xml", NULL);
	const char *address;

	fixture->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(fixture->bus);
	address = g_test_dbus_get_bus_address(fixture->bus);
	fixture->service_conn = connect_to(address);
	fixture->client_conn = connect_to(address);

	g_file_get_contents(xml_path, &xml, NULL, &error);
	g_assert_no_error(error);
	fixture->node_info = g_dbus_node_info_new_for_xml(xml, &error);
	g_assert_no_error(error);
	fixture->registration_id = g_dbus_connection_register_object(
		fixture->service_conn, METRICS_DBUS_PATH, fixture->node_info->interfaces[0],
		&fake_vtable, fixture, NULL, &error);
	g_assert_no_error(error);
	fixture->owner_id = g_bus_own_name_on_connection(fixture->service_conn, METRICS_DBUS_NAME,
							 G_BUS_NAME_OWNER_FLAGS_NONE,
							 name_acquired_cb, NULL, fixture, NULL);
	while (!fixture->name_owned)
		g_main_context_iteration(NULL, TRUE);
	fixture->client = metrics_client_new(fixture->client_conn);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->client);
	g_bus_unown_name(fixture->owner_id);
	g_dbus_connection_unregister_object(fixture->service_conn, fixture->registration_id);
	g_dbus_connection_close_sync(fixture->service_conn, NULL, NULL);
	g_dbus_connection_close_sync(fixture->client_conn, NULL, NULL);
	g_clear_object(&fixture->service_conn);
	g_clear_object(&fixture->client_conn);
	g_clear_pointer(&fixture->node_info, g_dbus_node_info_unref);
	g_clear_pointer(&fixture->reply, g_variant_unref);
	g_test_dbus_down(fixture->bus);
	g_clear_object(&fixture->bus);
}

static void
result_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(result);
}

/* the async call's result, the fake daemon answering meanwhile */
static GAsyncResult *
wait_for(GAsyncResult **result)
{
	while (*result == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *result;
}

/* the next reply is the tuple of @value, which this takes */
static void
script(Fixture *fixture, GVariant *value)
{
	g_autoptr(GVariant) owned = g_variant_take_ref(value);

	g_clear_pointer(&fixture->reply, g_variant_unref);
	fixture->reply = g_variant_ref_sink(g_variant_new_tuple(&owned, 1));
}

static MetricsStatus *
query_status(Fixture *fixture, GVariant *dict)
{
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GError) error = NULL;
	MetricsStatus *status;

	script(fixture, dict);
	metrics_client_query_status_async(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS, NULL,
					  result_cb, &result);
	status = metrics_client_query_status_finish(fixture->client, wait_for(&result), &error);
	g_assert_no_error(error);
	g_assert_true(METRICS_IS_STATUS(status));
	return status;
}

typedef enum { LIST_METRICS, LIST_PENDING, LIST_SENT } ListKind;

/* the typed list of @kind for the scripted reply @dicts */
static GPtrArray *
list(Fixture *fixture, GVariant *dicts, ListKind kind)
{
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GError) error = NULL;
	GPtrArray *objects = NULL;

	script(fixture, dicts);
	switch (kind) {
	case LIST_METRICS:
		metrics_client_list_metrics_async(fixture->client, NULL, result_cb, &result);
		objects = metrics_client_list_metrics_finish(fixture->client, wait_for(&result),
							     &error);
		break;
	case LIST_PENDING:
		metrics_client_list_pending_uploads_async(
			fixture->client, METRICS_CLIENT_FLAGS_NONE, NULL, result_cb, &result);
		objects = metrics_client_list_pending_uploads_finish(fixture->client,
								     wait_for(&result), &error);
		break;
	case LIST_SENT:
	default:
		metrics_client_list_sent_uploads_async(fixture->client, METRICS_CLIENT_FLAGS_NONE,
						       NULL, result_cb, &result);
		objects = metrics_client_list_sent_uploads_finish(fixture->client,
								  wait_for(&result), &error);
		break;
	}
	g_assert_no_error(error);
	g_assert_nonnull(objects);
	return objects;
}

static GVariant *
parse(const char *text)
{
	g_autoptr(GError) error = NULL;
	GVariant *value = g_variant_parse(NULL, text, NULL, NULL, &error);

	g_assert_no_error(error);
	return value;
}

/* every documented key of GetStatus reads as its property */
static void
test_status(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsStatus) status = NULL;
	g_autoptr(GPtrArray) drops = NULL;
	g_autoptr(GPtrArray) by_metric = NULL;
	g_autofree char *server_url = NULL;
	g_autofree char *reason = NULL;
	g_autofree char *metric_id = NULL;
	MetricsConsent consent;
	gboolean all_users, store_full;
	gint64 consent_timestamp, next_upload, last_upload, next_week_close;
	guint64 stored_keys, stored_events, stored_bytes, stored_weeks, used, max, accepted;
	guint64 pending, set_aside, count;
	guint allowlisted, clients, window;

	status = query_status(
		fixture,
		parse("{'all-users': <true>, 'consent': <'granted'>, 'consent-timestamp': <int64 7>,"
		      " 'stored-keys': <uint64 3>, 'stored-events': <uint64 9>,"
		      " 'stored-bytes': <uint64 4096>, 'stored-weeks': <uint64 2>,"
		      " 'store-used-bytes': <uint64 1024>, 'store-max-bytes': <uint64 8192>,"
		      " 'store-full': <true>, 'accepted': <uint64 11>,"
		      " 'drops': <{'not-allowlisted': uint64 4, 'no-consent': 5}>,"
		      " 'drops-by-metric': <[('not-allowlisted', 'x-y', uint64 4)]>,"
		      " 'allowlisted-metrics': <uint32 40>, 'clients': <uint32 2>,"
		      " 'pending-uploads': <uint64 6>, 'set-aside': <uint64 1>,"
		      " 'next-upload': <int64 100>, 'last-upload': <int64 50>,"
		      " 'server-url': <'https://example.invalid/'>,"
		      " 'next-week-close': <int64 200>, 'upload-window-days': <uint32 7>,"
		      " 'added-later': <'ignored'>}"));
	g_object_get(status, "all-users", &all_users, "consent", &consent, "consent-timestamp",
		     &consent_timestamp, "stored-keys", &stored_keys, "stored-events",
		     &stored_events, "stored-bytes", &stored_bytes, "stored-weeks", &stored_weeks,
		     "store-used-bytes", &used, "store-max-bytes", &max, "store-full", &store_full,
		     "accepted", &accepted, "allowlisted-metrics", &allowlisted, "clients",
		     &clients, "pending-uploads", &pending, "set-aside", &set_aside, "next-upload",
		     &next_upload, "last-upload", &last_upload, "server-url", &server_url,
		     "next-week-close", &next_week_close, "upload-window-days", &window, NULL);
	g_assert_true(all_users);
	g_assert_cmpint(consent, ==, METRICS_CONSENT_GRANTED);
	g_assert_cmpint(consent_timestamp, ==, 7);
	g_assert_cmpuint(stored_keys, ==, 3);
	g_assert_cmpuint(stored_events, ==, 9);
	g_assert_cmpuint(stored_bytes, ==, 4096);
	g_assert_cmpuint(stored_weeks, ==, 2);
	g_assert_cmpuint(used, ==, 1024);
	g_assert_cmpuint(max, ==, 8192);
	g_assert_true(store_full);
	g_assert_cmpuint(accepted, ==, 11);
	g_assert_cmpuint(allowlisted, ==, 40);
	g_assert_cmpuint(clients, ==, 2);
	g_assert_cmpuint(pending, ==, 6);
	g_assert_cmpuint(set_aside, ==, 1);
	g_assert_cmpint(next_upload, ==, 100);
	g_assert_cmpint(last_upload, ==, 50);
	g_assert_cmpstr(server_url, ==, "https://example.invalid/");
	g_assert_cmpint(next_week_close, ==, 200);
	g_assert_cmpuint(window, ==, 7);
	g_assert_true(
		g_variant_lookup(metrics_status_get_variant(status), "added-later", "&s", NULL));

	drops = metrics_status_get_drops(status);
	g_assert_cmpuint(drops->len, ==, 2);
	g_object_get(drops->pdata[0], "reason", &reason, "metric-id", &metric_id, "count", &count,
		     NULL);
	g_assert_null(metric_id);
	g_assert_true((g_str_equal(reason, "not-allowlisted") && count == 4) ||
		      (g_str_equal(reason, "no-consent") && count == 5));
	g_clear_pointer(&reason, g_free);
	by_metric = metrics_status_get_drops_by_metric(status);
	g_assert_cmpuint(by_metric->len, ==, 1);
	g_object_get(by_metric->pdata[0], "reason", &reason, "metric-id", &metric_id, "count",
		     &count, NULL);
	g_assert_cmpstr(reason, ==, "not-allowlisted");
	g_assert_cmpstr(metric_id, ==, "x-y");
	g_assert_cmpuint(count, ==, 4);
}

/* a daemon of another version, or a hostile one: every key of the wrong
 * type, names out of range; each reads as its default, nothing crashes */
static void
test_hostile_replies(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsStatus) status = NULL;
	g_autoptr(GPtrArray) drops = NULL;
	g_autoptr(GPtrArray) by_metric = NULL;
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GPtrArray) uploads = NULL;
	g_autoptr(GPtrArray) events = NULL;
	g_autofree char *server_url = NULL;
	g_autofree char *name = NULL;
	g_auto(GStrv) recorders = NULL;
	MetricsConsent consent;
	MetricsEventKind kind;
	guint64 stored_keys;
	gboolean all_users;
	gdouble sample_rate;

	status = query_status(fixture,
			      parse("{'all-users': <'yes'>, 'consent': <'maybe'>,"
				    " 'stored-keys': <int32 -1>, 'server-url': <[1, 2]>,"
				    " 'drops': <uint32 5>, 'drops-by-metric': <[('a', 'b')]>}"));
	g_object_get(status, "all-users", &all_users, "consent", &consent, "stored-keys",
		     &stored_keys, "server-url", &server_url, NULL);
	g_assert_false(all_users);
	g_assert_cmpint(consent, ==, METRICS_CONSENT_UNKNOWN);
	g_assert_cmpuint(stored_keys, ==, 0);
	g_assert_null(server_url);
	drops = metrics_status_get_drops(status);
	g_assert_cmpuint(drops->len, ==, 0);
	by_metric = metrics_status_get_drops_by_metric(status);
	g_assert_cmpuint(by_metric->len, ==, 0);

	/* an empty dictionary: all defaults */
	g_clear_object(&status);
	status = query_status(fixture, parse("@a{sv} {}"));
	g_object_get(status, "consent", &consent, NULL);
	g_assert_cmpint(consent, ==, METRICS_CONSENT_UNKNOWN);

	entries = list(fixture,
		       parse("[{'name': <uint32 1>, 'kind': <'bogus'>, 'recorders': <[1, 2]>,"
			     " 'sample-rate': <'all'>}, @a{sv} {}]"),
		       LIST_METRICS);
	g_assert_cmpuint(entries->len, ==, 2);
	g_object_get(entries->pdata[0], "name", &name, "kind", &kind, "recorders", &recorders,
		     "sample-rate", &sample_rate, NULL);
	g_assert_null(name);
	g_assert_cmpint(kind, ==, METRICS_EVENT_KIND_VALUE);
	g_assert_null(recorders);
	g_assert_cmpfloat(sample_rate, ==, 0.0);

	uploads = list(fixture, parse("[{'events': <[('a', 'b')]>}, {'events': <'none'>}]"),
		       LIST_PENDING);
	g_assert_cmpuint(uploads->len, ==, 2);
	events = metrics_upload_get_events(uploads->pdata[0]);
	g_assert_cmpuint(events->len, ==, 0);
	g_clear_pointer(&events, g_ptr_array_unref);
	events = metrics_upload_get_events(uploads->pdata[1]);
	g_assert_cmpuint(events->len, ==, 0);
}

/* the keys of GetAllowlist and of both upload lists read as properties;
 * the integration tests have no sent request to read */
static void
test_allowlist_and_uploads(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GPtrArray) uploads = NULL;
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(GVariant) payload = NULL;
	g_auto(GStrv) recorders = NULL;
	g_autofree char *id = NULL;
	g_autofree char *answer = NULL;
	g_autofree char *checksum = NULL;
	g_autofree char *state = NULL;
	g_autofree char *event_id = NULL;
	g_autofree char *os_version = NULL;
	g_autofree char *period_start = NULL;
	MetricsEventKind kind;
	gboolean sampled, expired;
	gdouble sample_rate;
	gint64 sent, timestamp;
	guint status, count;
	guint64 size, compressed_size, weekly_cap;

	entries = list(fixture,
		       parse("[{'id': <'" ID_VALUE "'>, 'kind': <'duration'>,"
			     " 'recorders': <['session', 'app:org.example.App']>,"
			     " 'sample-rate': <0.25>, 'sampled': <true>, 'expired': <false>,"
			     " 'weekly-cap': <uint64 99>}]"),
		       LIST_METRICS);
	g_assert_cmpuint(entries->len, ==, 1);
	g_assert_true(METRICS_IS_ALLOWLIST_ENTRY(entries->pdata[0]));
	g_object_get(entries->pdata[0], "id", &id, "kind", &kind, "recorders", &recorders,
		     "sample-rate", &sample_rate, "sampled", &sampled, "expired", &expired,
		     "weekly-cap", &weekly_cap, NULL);
	g_assert_cmpstr(id, ==, ID_VALUE);
	g_assert_cmpint(kind, ==, METRICS_EVENT_KIND_DURATION);
	g_assert_cmpstrv(recorders,
			 ((const char *const[]){"session", "app:org.example.App", NULL}));
	g_assert_cmpfloat(sample_rate, ==, 0.25);
	g_assert_true(sampled);
	g_assert_false(expired);
	g_assert_cmpuint(weekly_cap, ==, 99);

	uploads = list(fixture,
		       parse("[{'metric': <'m'>, 'week': <'2026-11-23'>, 'sent': <int64 5>,"
			     " 'status': <uint32 200>, 'answer': <'OK'>, 'checksum': <'abc'>,"
			     " 'size': <uint64 300>, 'compressed-size': <uint64 120>,"
			     " 'timestamp': <int64 5000>, 'events': <[('e', '12', '2026-11-23',"
			     " uint32 4, [<'org.example.App'>]), ('f', '12', '2026-11-23',"
			     " uint32 1, @av [])]>}]"),
		       LIST_SENT);
	g_assert_cmpuint(uploads->len, ==, 1);
	g_object_get(uploads->pdata[0], "sent", &sent, "status", &status, "answer", &answer,
		     "checksum", &checksum, "size", &size, "compressed-size", &compressed_size,
		     "timestamp", &timestamp, "state", &state, NULL);
	g_assert_cmpint(sent, ==, 5);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(answer, ==, "OK");
	g_assert_cmpstr(checksum, ==, "abc");
	g_assert_cmpuint(size, ==, 300);
	g_assert_cmpuint(compressed_size, ==, 120);
	g_assert_cmpint(timestamp, ==, 5000);
	g_assert_null(state);

	events = metrics_upload_get_events(uploads->pdata[0]);
	g_assert_cmpuint(events->len, ==, 2);
	g_object_get(events->pdata[0], "event-id", &event_id, "os-version", &os_version,
		     "period-start", &period_start, "count", &count, "payload", &payload, NULL);
	g_assert_cmpstr(event_id, ==, "e");
	g_assert_cmpstr(os_version, ==, "12");
	g_assert_cmpstr(period_start, ==, "2026-11-23");
	g_assert_cmpuint(count, ==, 4);
	g_assert_cmpstr(g_variant_get_string(payload, NULL), ==, "org.example.App");
	g_clear_pointer(&payload, g_variant_unref);
	g_object_get(events->pdata[1], "payload", &payload, NULL);
	g_assert_null(payload);
}

/* a client made without a connection uses the system bus, here the test
 * bus through DBUS_SYSTEM_BUS_ADDRESS, once it makes its first call */
static void
test_new_null(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsClient) client = NULL;
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GError) error = NULL;
	GVariant *dicts = parse("[{'name': <'x'>}]");

	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address(fixture->bus), TRUE);
	client = metrics_client_new(NULL);
	g_assert_null(metrics_client_get_connection(client));
	script(fixture, dicts);
	metrics_client_list_metrics_async(client, NULL, result_cb, &result);
	entries = metrics_client_list_metrics_finish(client, wait_for(&result), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(entries->len, ==, 1);
	g_assert_true(G_IS_DBUS_CONNECTION(metrics_client_get_connection(client)));
	g_assert_true(metrics_client_get_connection(client) != fixture->client_conn);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/client/status", Fixture, NULL, fixture_set_up, test_status,
		   fixture_tear_down);
	g_test_add("/metrics/client/hostile-replies", Fixture, NULL, fixture_set_up,
		   test_hostile_replies, fixture_tear_down);
	g_test_add("/metrics/client/allowlist-and-uploads", Fixture, NULL, fixture_set_up,
		   test_allowlist_and_uploads, fixture_tear_down);
	g_test_add("/metrics/client/new-null", Fixture, NULL, fixture_set_up, test_new_null,
		   fixture_tear_down);

	return g_test_run();
}
