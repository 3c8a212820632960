/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Unit tests of MetricsRecorder's queue against a scripted daemon: a second
 * connection on a private test bus owns the daemon's name and records every
 * call it gets, so the tests see exactly what the library puts on the bus.
 */

#include "config.h"

#include <metrics.h>

#include "metrics-private.h"

#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
#define ID_COUNTER "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002"
#define ID_DURATION "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003"

typedef struct {
	GTestDBus *bus;
	GDBusConnection *service_conn; /* the fake daemon's connection */
	GDBusConnection *client_conn;  /* the recorder's connection */
	GDBusNodeInfo *node_info;
	guint registration_id;
	guint owner_id;
	gboolean name_owned;
	char *consent;	  /* what the fake daemon reports */
	GPtrArray *calls; /* (element-type GVariant) decoded RecordEvents batches */
	guint n_consent_gets;
	/* how the fake daemon answers RecordEvents: NULL keeps every event,
	 * "half" drops half of each batch (rounded down), "error" refuses the
	 * batch as InvalidData */
	const char *reply;
	MetricsRecorder *recorder;
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

	if (g_strcmp0(method_name, "RecordEvents") == 0) {
		g_autoptr(GVariant) wire = NULL;
		g_autoptr(GVariant) options = NULL;
		g_autoptr(GBytes) bytes = NULL;
		g_autoptr(GVariant) events = NULL;
		guint32 n;

		/* what the daemon requires: little-endian normal form of the
		 * documented type, no options */
		g_variant_get(parameters, "(@ay@a{sv})", &wire, &options);
		g_assert_cmpuint(g_variant_n_children(options), ==, 0);
		bytes = g_variant_get_data_as_bytes(wire);
		events = g_variant_ref_sink(g_variant_new_from_bytes(
			G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE), bytes, FALSE));
		g_assert_true(G_BYTE_ORDER == G_LITTLE_ENDIAN);
		g_assert_true(g_variant_is_normal_form(events));
		n = (guint32)g_variant_n_children(events);
		g_ptr_array_add(fixture->calls, g_steal_pointer(&events));
		if (g_strcmp0(fixture->reply, "error") == 0)
			g_dbus_method_invocation_return_dbus_error(
				invocation, "org.fedoraproject.Metrics1.Error.InvalidData",
				"scripted refusal");
		else if (g_strcmp0(fixture->reply, "half") == 0)
			g_dbus_method_invocation_return_value(
				invocation, g_variant_new("(uu)", n - n / 2, n / 2));
		else
			g_dbus_method_invocation_return_value(invocation,
							      g_variant_new("(uu)", n, 0));
		return;
	}
	g_dbus_method_invocation_return_dbus_error(
		invocation, "org.freedesktop.DBus.Error.UnknownMethod", "not scripted");
}

static GVariant *
fake_get_property(GDBusConnection *connection,
		  const char *sender,
		  const char *object_path,
		  const char *interface_name,
		  const char *property_name,
		  GError **error,
		  gpointer user_data)
{
	Fixture *fixture = user_data;

	if (g_strcmp0(property_name, "Consent") == 0) {
		fixture->n_consent_gets++;
		return g_variant_new_string(fixture->consent);
	}
	if (g_strcmp0(property_name, "Version") == 0)
		return g_variant_new_uint32(1);
	if (g_strcmp0(property_name, "ConsentTimestamp") == 0)
		return g_variant_new_int64(0);
	g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no %s", property_name);
	return NULL;
}

static const GDBusInterfaceVTable fake_vtable = {
	fake_method_call,
	fake_get_property,
	NULL,
	{0},
};

static void
name_acquired_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	Fixture *fixture = user_data;
	fixture->name_owned = TRUE;
}

static void
fixture_set_up_bus(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = NULL;
	g_autofree char *xml_path = g_test_build_filename(G_TEST_DIST, "..", "..", "data", "dbus",
							  "org.fedoraproject.Metrics1.xml", NULL);
	const char *address;

	fixture->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(fixture->bus);
	address = g_test_dbus_get_bus_address(fixture->bus);

	fixture->service_conn = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	fixture->client_conn = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);

	g_file_get_contents(xml_path, &xml, NULL, &error);
	g_assert_no_error(error);
	fixture->node_info = g_dbus_node_info_new_for_xml(xml, &error);
	g_assert_no_error(error);
	fixture->calls = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	fixture->consent = g_strdup("granted");
	fixture->recorder = metrics_recorder_new(fixture->client_conn);
}

static void
fixture_start_daemon(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;

	fixture->registration_id = g_dbus_connection_register_object(
		fixture->service_conn, METRICS_DBUS_PATH, fixture->node_info->interfaces[0],
		&fake_vtable, fixture, NULL, &error);
	g_assert_no_error(error);
	fixture->owner_id = g_bus_own_name_on_connection(fixture->service_conn, METRICS_DBUS_NAME,
							 G_BUS_NAME_OWNER_FLAGS_NONE,
							 name_acquired_cb, NULL, fixture, NULL);
	while (!fixture->name_owned)
		g_main_context_iteration(NULL, TRUE);
}

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	fixture_set_up_bus(fixture, user_data);
	fixture_start_daemon(fixture);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->recorder);
	if (fixture->owner_id != 0)
		g_bus_unown_name(fixture->owner_id);
	if (fixture->registration_id != 0)
		g_dbus_connection_unregister_object(fixture->service_conn,
						    fixture->registration_id);
	g_dbus_connection_close_sync(fixture->service_conn, NULL, NULL);
	g_dbus_connection_close_sync(fixture->client_conn, NULL, NULL);
	g_clear_object(&fixture->service_conn);
	g_clear_object(&fixture->client_conn);
	g_clear_pointer(&fixture->node_info, g_dbus_node_info_unref);
	g_clear_pointer(&fixture->calls, g_ptr_array_unref);
	g_clear_pointer(&fixture->consent, g_free);
	g_test_dbus_down(fixture->bus);
	g_clear_object(&fixture->bus);
}

static void
flush_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	gboolean *done = user_data;
	g_autoptr(GError) error = NULL;

	g_assert_true(metrics_recorder_flush_finish(METRICS_RECORDER(source), result, &error));
	g_assert_no_error(error);
	*done = TRUE;
}

static void
flush_and_wait(Fixture *fixture)
{
	gboolean done = FALSE;

	metrics_recorder_flush_async(fixture->recorder, NULL, flush_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

static guint
count_sent_events(Fixture *fixture)
{
	guint n = 0;

	for (guint i = 0; i < fixture->calls->len; i++)
		n += g_variant_n_children(g_ptr_array_index(fixture->calls, i));
	return n;
}

/* value, counter and duration arrive with the right fields in one call */
static void
test_record_kinds(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsTimer) timer = NULL;
	g_autoptr(GVariant) events = NULL;
	gint64 before = g_get_real_time();

	metrics_recorder_record(fixture->recorder, ID_VALUE,
				g_variant_new_string("org.gnome.Maps"));
	metrics_recorder_add(fixture->recorder, ID_COUNTER, NULL, 5);
	timer = metrics_recorder_start_timer(fixture->recorder, ID_DURATION, NULL);
	g_usleep(2000);
	metrics_timer_stop(timer);
	metrics_timer_stop(timer); /* a second stop records nothing */
	flush_and_wait(fixture);

	g_assert_cmpuint(fixture->calls->len, ==, 1);
	events = g_variant_ref(g_ptr_array_index(fixture->calls, 0));
	g_assert_cmpuint(g_variant_n_children(events), ==, 3);
	for (guint i = 0; i < 3; i++) {
		g_autoptr(GVariant) id = NULL;
		g_autoptr(GVariant) payload = NULL;
		guint32 kind;
		gint64 time, amount;
		char uuid[METRICS_UUID_STRING_LENGTH + 1];
		gsize len;

		g_variant_get_child(events, i, "(@ayuxx@mv)", &id, &kind, &time, &amount, &payload);
		metrics_uuid_unparse(g_variant_get_fixed_array(id, &len, 1), uuid);
		g_assert_cmpuint(len, ==, 16);
		g_assert_cmpint(time, >=, before);
		g_assert_cmpint(time, <=, g_get_real_time());
		switch (kind) {
		case METRICS_EVENT_KIND_VALUE: {
			g_autoptr(GVariant) boxed = g_variant_get_child_value(payload, 0);
			g_autoptr(GVariant) value = g_variant_get_variant(boxed);
			g_assert_cmpstr(uuid, ==, ID_VALUE);
			g_assert_cmpint(amount, ==, 1);
			g_assert_cmpstr(g_variant_get_string(value, NULL), ==, "org.gnome.Maps");
			break;
		}
		case METRICS_EVENT_KIND_COUNTER:
			g_assert_cmpstr(uuid, ==, ID_COUNTER);
			g_assert_cmpint(amount, ==, 5);
			g_assert_cmpuint(g_variant_n_children(payload), ==, 0);
			break;
		case METRICS_EVENT_KIND_DURATION:
			g_assert_cmpstr(uuid, ==, ID_DURATION);
			g_assert_cmpint(amount, >=, 2000);
			g_assert_cmpint(amount, <, 10 * G_USEC_PER_SEC);
			break;
		default:
			g_assert_not_reached();
		}
	}
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 0);
	g_assert_cmpint(metrics_recorder_get_consent(fixture->recorder), ==,
			METRICS_CONSENT_GRANTED);
}

/* many events go in few calls, none over the batch limit */
static void
test_batching(Fixture *fixture, gconstpointer user_data)
{
	const guint n = 3000;

	for (guint i = 0; i < n; i++)
		metrics_recorder_add(fixture->recorder, ID_COUNTER, NULL, 1);
	flush_and_wait(fixture);

	g_assert_cmpuint(count_sent_events(fixture), ==, n);
	g_assert_cmpuint(fixture->calls->len, <=, 5);
	for (guint i = 0; i < fixture->calls->len; i++)
		g_assert_cmpuint(g_variant_n_children(g_ptr_array_index(fixture->calls, i)), <=,
				 METRICS_MAX_BATCH);
}

/* the timer flush sends without an explicit flush */
static void
test_timed_flush(Fixture *fixture, gconstpointer user_data)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	metrics_recorder_record(fixture->recorder, ID_VALUE, g_variant_new_string("a"));
	while (fixture->calls->len == 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(count_sent_events(fixture), ==, 1);
}

/* no consent: nothing but the consent question crosses the bus */
static void
test_no_consent(Fixture *fixture, gconstpointer user_data)
{
	g_free(fixture->consent);
	fixture->consent = g_strdup((const char *)user_data);

	for (guint i = 0; i < 10; i++)
		metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	flush_and_wait(fixture);
	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	flush_and_wait(fixture);

	g_assert_cmpuint(fixture->calls->len, ==, 0);
	g_assert_cmpuint(fixture->n_consent_gets, >=, 1);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 11);
}

static void
notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	guint *n = user_data;
	(*n)++;
}

/* a consent change announced by the daemon reaches the library */
static void
test_consent_follows_daemon(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GVariantBuilder changed;
	guint n_notify = 0;
	gint64 deadline;

	g_signal_connect(fixture->recorder, "notify::consent", G_CALLBACK(notify_cb), &n_notify);
	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	flush_and_wait(fixture);
	g_assert_cmpuint(count_sent_events(fixture), ==, 1);

	g_variant_builder_init(&changed, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&changed, "{sv}", "Consent", g_variant_new_string("denied"));
	g_dbus_connection_emit_signal(
		fixture->service_conn, NULL, METRICS_DBUS_PATH, "org.freedesktop.DBus.Properties",
		"PropertiesChanged",
		g_variant_new("(sa{sv}as)", METRICS_DBUS_INTERFACE, &changed, NULL), &error);
	g_assert_no_error(error);
	deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (metrics_recorder_get_consent(fixture->recorder) != METRICS_CONSENT_DENIED &&
	       g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpint(metrics_recorder_get_consent(fixture->recorder), ==,
			METRICS_CONSENT_DENIED);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(n_notify, >=, 2);

	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	flush_and_wait(fixture);
	g_assert_cmpuint(count_sent_events(fixture), ==, 1);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 1);
}

/* malformed input from the app is dropped in-process, never sent */
static void
test_invalid_events(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *big = g_strnfill(METRICS_MAX_PAYLOAD_SIZE + 10, 'x');

	metrics_recorder_record(fixture->recorder, "not-a-uuid", NULL);
	metrics_recorder_record(fixture->recorder, ID_VALUE "0", NULL);
	metrics_recorder_record(fixture->recorder, ID_VALUE, g_variant_new_string(big));
	metrics_recorder_add(fixture->recorder, ID_COUNTER, NULL, 0);
	metrics_recorder_add(fixture->recorder, ID_COUNTER, NULL, -3);
	metrics_recorder_record(fixture->recorder, ID_VALUE, g_variant_new_string("ok"));
	flush_and_wait(fixture);

	g_assert_cmpuint(count_sent_events(fixture), ==, 1);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 5);
	g_assert_false(metrics_event_id_is_valid(NULL));
	g_assert_true(metrics_event_id_is_valid("8F3B6A59-2C1E-4C7A-9B0E-51D2F4A7C001"));
}

/* flush_sync does not need the recorder's main context to run: the app
 * thread blocks in it while only the fake daemon's context is iterated */
static gpointer
flush_sync_thread(gpointer user_data)
{
	Fixture *fixture = user_data;
	g_autoptr(GError) error = NULL;
	gboolean ok = metrics_recorder_flush_sync(fixture->recorder, NULL, &error);

	g_assert_no_error(error);
	return GINT_TO_POINTER(ok);
}

static void
test_flush_sync(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GMainContext) app_context = g_main_context_new();
	g_autoptr(GThread) thread = NULL;
	gpointer result;

	/* the recorder belongs to a context nobody iterates */
	g_clear_object(&fixture->recorder);
	g_main_context_push_thread_default(app_context);
	fixture->recorder = metrics_recorder_new(fixture->client_conn);
	g_main_context_pop_thread_default(app_context);

	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	metrics_recorder_add(fixture->recorder, ID_COUNTER, NULL, 2);
	thread = g_thread_new("app", flush_sync_thread, fixture);
	while (fixture->calls->len == 0)
		g_main_context_iteration(NULL, TRUE);
	result = g_thread_join(g_steal_pointer(&thread));
	g_assert_true(GPOINTER_TO_INT(result));
	g_assert_cmpuint(count_sent_events(fixture), ==, 2);
}

typedef struct {
	Fixture *fixture;
	GError *error; /* (owned) (nullable) */
	gboolean ok;
} FlushSyncResult;

static gpointer
flush_sync_result_thread(gpointer user_data)
{
	FlushSyncResult *result = user_data;

	result->ok = metrics_recorder_flush_sync(result->fixture->recorder, NULL, &result->error);
	return NULL;
}

/* flush_sync in another thread while the fake daemon answers here */
static gboolean
flush_sync_in_thread(Fixture *fixture, GError **error)
{
	FlushSyncResult result = {fixture, NULL, FALSE};
	GThread *thread = g_thread_new("app", flush_sync_result_thread, &result);
	guint n_calls = fixture->calls->len;

	while (fixture->calls->len == n_calls)
		g_main_context_iteration(NULL, TRUE);
	g_thread_join(thread);
	if (result.error != NULL)
		g_propagate_error(error, result.error);
	return result.ok;
}

static void
flush_error_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GError **error = user_data;

	g_assert_false(metrics_recorder_flush_finish(METRICS_RECORDER(source), result, error));
	g_assert_nonnull(*error);
}

/* what the daemon answered is counted: kept, refused, or (when it refuses
 * the whole batch) dropped, and every recorded event is in one count */
static void
test_counts(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fixture->reply = "half";
	for (guint i = 0; i < 5; i++)
		metrics_recorder_add_count(fixture->recorder, ID_COUNTER, 2, NULL);
	flush_and_wait(fixture);
	g_assert_cmpuint(count_sent_events(fixture), ==, 5);
	g_assert_cmpuint(metrics_recorder_get_n_accepted(fixture->recorder), ==, 3);
	g_assert_cmpuint(metrics_recorder_get_n_rejected(fixture->recorder), ==, 2);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 0);

	/* the same from flush_sync */
	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	metrics_recorder_add_count(fixture->recorder, ID_COUNTER, 1, g_variant_new_string("x"));
	g_assert_true(flush_sync_in_thread(fixture, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(metrics_recorder_get_n_accepted(fixture->recorder), ==, 4);
	g_assert_cmpuint(metrics_recorder_get_n_rejected(fixture->recorder), ==, 3);

	/* a refused batch: the flush fails, in both forms, and its events are
	 * counted as dropped */
	fixture->reply = "error";
	for (guint i = 0; i < 3; i++)
		metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	if (!flush_sync_in_thread(fixture, &error)) {
		g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
		g_clear_error(&error);
	} else {
		/* on a slow run (valgrind) the recorder's own timer sent the batch
		 * before flush_sync did; its events must still be counted */
		g_assert_no_error(error);
	}
	while (metrics_recorder_get_n_dropped(fixture->recorder) < 3)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 3);

	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	metrics_recorder_flush_async(fixture->recorder, NULL, flush_error_cb, &error);
	while (error == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 5);
	g_assert_cmpuint(metrics_recorder_get_n_accepted(fixture->recorder), ==, 4);
	g_assert_cmpuint(metrics_recorder_get_n_rejected(fixture->recorder), ==, 3);
	/* 5 + 2 + 3 + 2 recorded, 4 + 3 + 5 counted */
	g_assert_cmpuint(count_sent_events(fixture), ==, 12);
}

/* the daemon is not there: recording and flushing return at once */
static void
test_daemon_absent(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	gint64 start = g_get_monotonic_time();

	for (guint i = 0; i < 100; i++)
		metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	g_assert_true(metrics_recorder_flush_sync(fixture->recorder, NULL, &error));
	g_assert_no_error(error);
	/* generous: only a hang would exceed it */
	g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 100);

	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 101);
	g_assert_cmpuint(fixture->calls->len, ==, 0);
}

static GDBusMessage *
properties_changed_filter(GDBusConnection *connection,
			  GDBusMessage *message,
			  gboolean incoming,
			  gpointer user_data)
{
	gint *seen = user_data;

	if (incoming && g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_SIGNAL &&
	    g_strcmp0(g_dbus_message_get_member(message), "PropertiesChanged") == 0)
		g_atomic_int_set(seen, 1);
	return message;
}

/* events queued but not yet sent when consent turns to denied are never
 * sent: within one flush interval nothing more crosses the bus */
static void
test_deny_drops_queued(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GVariantBuilder changed;
	gint seen = 0;
	guint filter_id;
	gint64 until;

	/* consent known to be granted: the recorder is ready to send */
	metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	flush_and_wait(fixture);
	g_assert_cmpuint(fixture->calls->len, ==, 1);

	filter_id = g_dbus_connection_add_filter(fixture->client_conn, properties_changed_filter,
						 &seen, NULL);
	for (guint i = 0; i < 10; i++)
		metrics_recorder_record(fixture->recorder, ID_VALUE, NULL);
	g_variant_builder_init(&changed, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&changed, "{sv}", "Consent", g_variant_new_string("denied"));
	g_dbus_connection_emit_signal(
		fixture->service_conn, NULL, METRICS_DBUS_PATH, "org.freedesktop.DBus.Properties",
		"PropertiesChanged",
		g_variant_new("(sa{sv}as)", METRICS_DBUS_INTERFACE, &changed, NULL), &error);
	g_assert_no_error(error);
	/* the main context is not iterated until the signal has reached the
	 * app's connection, so the flush timer cannot run first: the signal
	 * is dispatched at a higher priority than the flush */
	while (!g_atomic_int_get(&seen))
		g_usleep(1000);
	g_usleep(20000);
	g_dbus_connection_remove_filter(fixture->client_conn, filter_id);

	until = g_get_monotonic_time() + 300 * G_TIME_SPAN_MILLISECOND;
	while (g_get_monotonic_time() < until)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpint(metrics_recorder_get_consent(fixture->recorder), ==,
			METRICS_CONSENT_DENIED);
	g_assert_cmpuint(fixture->calls->len, ==, 1);
	g_assert_cmpuint(count_sent_events(fixture), ==, 1);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(fixture->recorder), ==, 10);
}

/* ---- the default recorder flushes when the application shuts down ---- */

typedef struct {
	Fixture *fixture;
	GMainContext *context; /* (owned) the fake daemon's */
	gint stop;
} DaemonThread;

static gpointer
daemon_thread_func(gpointer user_data)
{
	DaemonThread *thread = user_data;

	/* calls are dispatched in the context the object was registered in:
	 * this thread's, so the fake daemon answers while the app's main
	 * thread blocks in its shutdown flush */
	Fixture *fixture = thread->fixture;
	g_autoptr(GError) error = NULL;

	g_main_context_push_thread_default(thread->context);
	fixture->registration_id = g_dbus_connection_register_object(
		fixture->service_conn, METRICS_DBUS_PATH, fixture->node_info->interfaces[0],
		&fake_vtable, fixture, NULL, &error);
	g_assert_no_error(error);
	fixture->owner_id = g_bus_own_name_on_connection(fixture->service_conn, METRICS_DBUS_NAME,
							 G_BUS_NAME_OWNER_FLAGS_NONE,
							 name_acquired_cb, NULL, fixture, NULL);
	while (!fixture->name_owned)
		g_main_context_iteration(thread->context, TRUE);
	g_atomic_int_set(&thread->stop, 1);
	while (g_atomic_int_get(&thread->stop) != 2)
		g_main_context_iteration(thread->context, TRUE);
	g_main_context_pop_thread_default(thread->context);
	return NULL;
}

static gboolean
wake_cb(gpointer user_data)
{
	return G_SOURCE_REMOVE;
}

static void
app_activate_cb(GApplication *application, gpointer user_data)
{
	MetricsRecorder *recorder = metrics_recorder_get_default();

	/* recorded, then straight out: nothing has been flushed yet */
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string("org.example.App"));
	metrics_recorder_add(recorder, ID_COUNTER, NULL, 3);
	metrics_recorder_add(recorder, ID_COUNTER, NULL, 4);
	g_application_quit(application);
}

static void
test_application_shutdown_child(void)
{
	Fixture fixture_storage = {0};
	Fixture *fixture = &fixture_storage;
	DaemonThread thread = {fixture, g_main_context_new(), 0};
	g_autoptr(GThread) daemon = NULL;
	g_autoptr(GApplication) application = NULL;
	int status;

	fixture_set_up_bus(fixture, NULL);
	/* the default recorder uses the system bus */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address(fixture->bus), TRUE);
	daemon = g_thread_new("fake-daemon", daemon_thread_func, &thread);
	while (g_atomic_int_get(&thread.stop) != 1)
		g_usleep(1000);

	application =
		g_application_new("org.example.MetricsShutdownTest", G_APPLICATION_NON_UNIQUE);
	g_signal_connect(application, "activate", G_CALLBACK(app_activate_cb), NULL);
	status = g_application_run(application, 0, NULL);
	g_assert_cmpint(status, ==, 0);

	g_atomic_int_set(&thread.stop, 2);
	g_main_context_invoke(thread.context, wake_cb, NULL);
	g_thread_join(g_steal_pointer(&daemon));
	g_main_context_unref(thread.context);

	g_assert_cmpuint(count_sent_events(fixture), ==, 3);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(metrics_recorder_get_default()), ==, 0);
	{
		/* the shared system bus connection ends the process with
		 * SIGTERM when its bus goes away, as the teardown does */
		g_autoptr(GDBusConnection) system = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, NULL);

		if (system != NULL)
			g_dbus_connection_set_exit_on_close(system, FALSE);
	}
	fixture_tear_down(fixture, NULL);
}

static void
test_application_shutdown(void)
{
	/* in a child: the default recorder is a process-wide singleton bound
	 * to the system bus of this test only */
	if (g_test_subprocess()) {
		test_application_shutdown_child();
		return;
	}
	g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/recorder/kinds", Fixture, NULL, fixture_set_up, test_record_kinds,
		   fixture_tear_down);
	g_test_add("/metrics/recorder/batching", Fixture, NULL, fixture_set_up, test_batching,
		   fixture_tear_down);
	g_test_add("/metrics/recorder/timed-flush", Fixture, NULL, fixture_set_up, test_timed_flush,
		   fixture_tear_down);
	g_test_add("/metrics/recorder/no-consent/unknown", Fixture, "unknown", fixture_set_up,
		   test_no_consent, fixture_tear_down);
	g_test_add("/metrics/recorder/no-consent/denied", Fixture, "denied", fixture_set_up,
		   test_no_consent, fixture_tear_down);
	g_test_add("/metrics/recorder/no-consent/garbage", Fixture, "maybe", fixture_set_up,
		   test_no_consent, fixture_tear_down);
	g_test_add("/metrics/recorder/consent-follows-daemon", Fixture, NULL, fixture_set_up,
		   test_consent_follows_daemon, fixture_tear_down);
	g_test_add("/metrics/recorder/invalid-events", Fixture, NULL, fixture_set_up,
		   test_invalid_events, fixture_tear_down);
	g_test_add("/metrics/recorder/daemon-absent", Fixture, NULL, fixture_set_up_bus,
		   test_daemon_absent, fixture_tear_down);
	g_test_add("/metrics/recorder/flush-sync", Fixture, NULL, fixture_set_up, test_flush_sync,
		   fixture_tear_down);
	g_test_add("/metrics/recorder/counts", Fixture, NULL, fixture_set_up, test_counts,
		   fixture_tear_down);
	g_test_add("/metrics/recorder/deny-drops-queued", Fixture, NULL, fixture_set_up,
		   test_deny_drops_queued, fixture_tear_down);
	g_test_add_func("/metrics/recorder/application-shutdown", test_application_shutdown);

	return g_test_run();
}
