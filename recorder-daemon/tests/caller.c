/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Unit tests of MrdCallerRegistry: the per-client token buckets, the cap on
 * authorisation checks in flight, forgetting a client that leaves the bus,
 * and, through the credentials seam, that one user never sees another's
 * data (with two connections of one process playing two users, so this
 * runs without root).
 */

#include "config.h"

#include <glib/gstdio.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-caller.h"
#include "mrd-service.h"

#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"

typedef struct {
	GTestDBus *bus;
	GDBusConnection *connection; /* the daemon's */
} Fixture;

static GDBusConnection *
connect_to(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
		g_test_dbus_get_bus_address(fixture->bus),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);

	g_assert_no_error(error);
	return connection;
}

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	fixture->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(fixture->bus);
	fixture->connection = connect_to(fixture);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_dbus_connection_close_sync(fixture->connection, NULL, NULL);
	g_clear_object(&fixture->connection);
	g_test_dbus_down(fixture->bus);
	g_clear_object(&fixture->bus);
}

/* events: a burst of two seconds' worth, then the rate; each client has
 * its own bucket */
static void
test_event_bucket(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MrdCallerRegistry) registry = mrd_caller_registry_new(fixture->connection);
	gint64 now = g_get_monotonic_time();

	/* the bucket is full at the first call and refills from then on */
	mrd_caller_registry_set_rate_limit(registry, 100);
	g_assert_cmpuint(mrd_caller_registry_take_events(registry, ":1.1", 150, now), ==, 150);
	g_assert_cmpuint(mrd_caller_registry_take_events(registry, ":1.1", 150, now), ==, 50);
	g_assert_cmpuint(mrd_caller_registry_take_events(registry, ":1.1", 10, now), ==, 0);
	/* half a second refills 50 */
	g_assert_cmpuint(mrd_caller_registry_take_events(registry, ":1.1", 100,
							 now + 500 * G_TIME_SPAN_MILLISECOND),
			 ==, 50);
	/* a long pause refills no more than the burst */
	g_assert_cmpuint(mrd_caller_registry_take_events(registry, ":1.1", 1000,
							 now + 3600 * G_TIME_SPAN_SECOND),
			 ==, 200);
	/* another client is not affected */
	g_assert_cmpuint(mrd_caller_registry_take_events(registry, ":1.2", 200, now), ==, 200);

	mrd_caller_registry_set_rate_limit(registry, 0);
	g_assert_cmpuint(mrd_caller_registry_take_events(registry, ":1.1", 100000, now), ==,
			 100000);
}

/* calls: the same shape of bucket, one token a call */
static void
test_call_bucket(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MrdCallerRegistry) registry = mrd_caller_registry_new(fixture->connection);
	gint64 now = g_get_monotonic_time();
	guint n = 0;

	mrd_caller_registry_set_call_limit(registry, 10, 0);
	/* created now: the bucket is full, 2 s × 10 */
	while (n < 1000 && mrd_caller_registry_take_call(registry, ":1.7", now))
		n++;
	g_assert_cmpuint(n, ==, 20);
	g_assert_false(mrd_caller_registry_take_call(registry, ":1.7", now));
	/* a tenth of a second (and a half) later, one more */
	g_assert_true(mrd_caller_registry_take_call(registry, ":1.7",
						    now + 150 * G_TIME_SPAN_MILLISECOND));
	g_assert_false(mrd_caller_registry_take_call(registry, ":1.7",
						     now + 150 * G_TIME_SPAN_MILLISECOND));
	g_assert_true(mrd_caller_registry_take_call(registry, ":1.8", now));

	mrd_caller_registry_set_call_limit(registry, 0, 0);
	for (guint i = 0; i < 1000; i++)
		g_assert_true(mrd_caller_registry_take_call(registry, ":1.7", now));
}

/* authorisation checks in flight are capped per client */
static void
test_pending_checks(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MrdCallerRegistry) registry = mrd_caller_registry_new(fixture->connection);

	mrd_caller_registry_set_call_limit(registry, 0, 3);
	for (guint i = 0; i < 3; i++)
		g_assert_true(mrd_caller_registry_begin_check(registry, ":1.5"));
	g_assert_false(mrd_caller_registry_begin_check(registry, ":1.5"));
	g_assert_true(mrd_caller_registry_begin_check(registry, ":1.6"));
	mrd_caller_registry_end_check(registry, ":1.5");
	g_assert_true(mrd_caller_registry_begin_check(registry, ":1.5"));
	g_assert_false(mrd_caller_registry_begin_check(registry, ":1.5"));

	/* ending a check of a client that is gone does not bring it back */
	mrd_caller_registry_end_check(registry, ":1.99");
	g_assert_cmpuint(mrd_caller_registry_get_n_cached(registry), ==, 2);
}

/* a client's state goes when its connection leaves the bus, so the table
 * is as small as the set of connected clients */
static void
test_forget_on_leave(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MrdCallerRegistry) registry = mrd_caller_registry_new(fixture->connection);
	g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func(g_object_unref);
	gint64 deadline;

	mrd_caller_registry_set_call_limit(registry, 1, 0);
	for (guint i = 0; i < 20; i++) {
		GDBusConnection *client = connect_to(fixture);
		const char *name = g_dbus_connection_get_unique_name(client);

		g_ptr_array_add(clients, client);
		g_assert_true(
			mrd_caller_registry_take_call(registry, name, g_get_monotonic_time()));
	}
	g_assert_cmpuint(mrd_caller_registry_get_n_cached(registry), ==, 20);

	/* one leaves: only it is forgotten */
	g_dbus_connection_close_sync(g_ptr_array_index(clients, 0), NULL, NULL);
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (mrd_caller_registry_get_n_cached(registry) > 19 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(mrd_caller_registry_get_n_cached(registry), ==, 19);

	for (guint i = 1; i < clients->len; i++)
		g_dbus_connection_close_sync(g_ptr_array_index(clients, i), NULL, NULL);
	while (mrd_caller_registry_get_n_cached(registry) > 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(mrd_caller_registry_get_n_cached(registry), ==, 0);
}

/* ---- two users on one test bus, through the uid seam ---- */

typedef struct {
	const char *names[2];
	guint32 uids[2];
} FakeUsers;

static gboolean
fake_uid(const char *sender, guint32 *uid, gpointer user_data)
{
	FakeUsers *users = user_data;

	for (guint i = 0; i < G_N_ELEMENTS(users->names); i++) {
		if (g_strcmp0(sender, users->names[i]) == 0) {
			*uid = users->uids[i];
			return TRUE;
		}
	}
	return FALSE;
}

static void
call_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(result);
}

/* the service runs in this thread's main context: iterate it while waiting */
static GVariant *
call(GDBusConnection *client,
     const char *service,
     const char *method,
     GVariant *parameters,
     const char *reply_type,
     GError **error)
{
	g_autoptr(GAsyncResult) result = NULL;

	g_dbus_connection_call(client, service, METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE, method,
			       parameters, G_VARIANT_TYPE(reply_type), G_DBUS_CALL_FLAGS_NONE, -1,
			       NULL, call_done_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	return g_dbus_connection_call_finish(client, result, error);
}

static GVariant *
make_batch(const char *value, guint n)
{
	GVariantBuilder builder;
	guint8 id[METRICS_UUID_SIZE];

	g_assert_true(metrics_uuid_parse(ID_VALUE, id));
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < n; i++)
		g_variant_builder_add(
			&builder, "(@ayuxxmv)",
			g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, sizeof(id), 1),
			(guint32)METRICS_EVENT_KIND_VALUE, g_get_real_time(), (gint64)1,
			g_variant_new_string(value));
	return g_variant_new("(@aya{sv})", metrics_batch_to_wire(g_variant_builder_end(&builder)),
			     NULL);
}

static void
remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);
		g_unlink(child);
	}
	g_rmdir(path);
}

/* each user reads and clears only their own rows: the uid comes from the
 * registry (here, the seam), never from the call */
static void
test_isolation(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *state_dir = g_dir_make_tmp("mrd-caller-XXXXXX", &error);
	g_autofree char *consent = g_build_filename(state_dir, "consent.conf", NULL);
	g_autofree char *shipped =
		g_test_build_filename(G_TEST_DIST, "..", "..", "data", "allowlist", NULL);
	g_autofree char *overrides =
		g_test_build_filename(G_TEST_DIST, "..", "..", "tests", "allowlist.d", NULL);
	/* the value set of the tests' metrics, built (tests/allowlist-values) */
	g_autofree char *test_values =
		g_test_build_filename(G_TEST_BUILT, "..", "..", "tests", "allowlist-values", NULL);
	const char *const dirs[] = {shipped, overrides, test_values, NULL};
	g_autoptr(MrdAuthority) authority = mrd_authority_new();
	g_autoptr(MrdClock) clock = mrd_clock_new();
	g_autoptr(MrdService) service = NULL;
	g_autoptr(GDBusConnection) alice = connect_to(fixture);
	g_autoptr(GDBusConnection) bob = connect_to(fixture);
	const char *daemon = g_dbus_connection_get_unique_name(fixture->connection);
	FakeUsers users = {
		.names = {g_dbus_connection_get_unique_name(alice),
			  g_dbus_connection_get_unique_name(bob)},
		.uids = {1001, 1002},
	};
	GDBusConnection *clients[] = {alice, bob};

	g_assert_no_error(error);
	g_assert_true(
		g_file_set_contents(consent, "[Consent]\nState=granted\nChanged=1\n", -1, NULL));
	service = mrd_service_new(fixture->connection, state_dir, authority, clock);
	mrd_service_set_allowlist_dirs(service, dirs);
	g_assert_true(mrd_service_start(service, &error));
	g_assert_no_error(error);
	mrd_caller_registry_set_uid_func(mrd_service_get_callers(service), fake_uid, &users);

	for (guint i = 0; i < G_N_ELEMENTS(clients); i++) {
		g_autoptr(GVariant) reply =
			call(clients[i], daemon, "RecordEvents",
			     make_batch(i == 0 ? "alice.desktop" : "bob.desktop", i + 2), "(uu)",
			     &error);
		guint32 accepted = 0;

		g_assert_no_error(error);
		g_variant_get(reply, "(uu)", &accepted, NULL);
		g_assert_cmpuint(accepted, ==, i + 2);
	}

	for (guint i = 0; i < G_N_ELEMENTS(clients); i++) {
		g_autoptr(GVariant) reply =
			call(clients[i], daemon, "GetLocalData", g_variant_new("(a{sv})", NULL),
			     "(a" METRICS_WIRE_AGGREGATE ")", &error);
		g_autoptr(GVariant) rows = NULL;
		g_autoptr(GVariant) value = NULL;
		guint32 uid = 0;
		guint64 count = 0;

		g_assert_no_error(error);
		rows = g_variant_get_child_value(reply, 0);
		g_assert_cmpuint(g_variant_n_children(rows), ==, 1);
		g_variant_get_child(rows, 0, "(u&s&su@avtt)", &uid, NULL, NULL, NULL, &value,
				    &count, NULL);
		g_assert_cmpuint(uid, ==, users.uids[i]);
		g_assert_cmpuint(count, ==, i + 2);
	}

	/* bob clears his own; alice's stays */
	{
		g_autoptr(GVariant) reply =
			call(bob, daemon, "Clear", g_variant_new("(a{sv})", NULL), "(t)", &error);
		g_autoptr(GVariant) rows = NULL;
		guint64 removed = 0;

		g_assert_no_error(error);
		g_variant_get(reply, "(t)", &removed);
		g_assert_cmpuint(removed, ==, 1);
		g_clear_pointer(&reply, g_variant_unref);
		reply = call(alice, daemon, "GetLocalData", g_variant_new("(a{sv})", NULL),
			     "(a" METRICS_WIRE_AGGREGATE ")", &error);
		g_assert_no_error(error);
		rows = g_variant_get_child_value(reply, 0);
		g_assert_cmpuint(g_variant_n_children(rows), ==, 1);
	}

	/* a caller the registry cannot identify gets nothing */
	{
		g_autoptr(GDBusConnection) stranger = connect_to(fixture);
		g_autoptr(GVariant) reply =
			call(stranger, daemon, "GetLocalData", g_variant_new("(a{sv})", NULL),
			     "(a" METRICS_WIRE_AGGREGATE ")", &error);

		g_assert_null(reply);
		g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
		g_clear_error(&error);
	}

	mrd_service_stop(service);
	g_clear_object(&service);
	remove_tree(state_dir);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	(void)metrics_error_quark();

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
	ADD("/metrics/caller/event-bucket", test_event_bucket);
	ADD("/metrics/caller/call-bucket", test_call_bucket);
	ADD("/metrics/caller/pending-checks", test_pending_checks);
	ADD("/metrics/caller/forget-on-leave", test_forget_on_leave);
	ADD("/metrics/caller/isolation", test_isolation);
#undef ADD

	return g_test_run();
}
