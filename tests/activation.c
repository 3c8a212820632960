/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestActivation"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "metrics-private.h"
#include "mrd-aggregator.h"
#include "mrd-outbox.h"
#include "mrd-store.h"
#include "mtest-harness.h"

/*
 * The recorder's life cycle without systemd: a private system bus activates
 * the built daemon from a test .service file on the first call, and the
 * daemon exits on its own after --idle-timeout seconds without calls, unless
 * calls keep coming or an upload falls due soon.
 */

/* generous: the machine running the tests may be loaded */
#define CALL_TIMEOUT_MS 15000

typedef struct {
	MtestHarness *harness; /* (owned) */
} Fixture;

static char *
get_name_owner(Fixture *fixture)
{
	return mtest_harness_get_name_owner(fixture->harness, METRICS_DBUS_NAME);
}

static GVariant *
get_status(Fixture *fixture, GDBusCallFlags flags)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariant *status = NULL;

	reply = g_dbus_connection_call_sync(
		fixture->harness->connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
		METRICS_DBUS_INTERFACE, "GetStatus", g_variant_new("(a{sv})", NULL),
		G_VARIANT_TYPE("(a{sv})"), flags, CALL_TIMEOUT_MS, NULL, &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(@a{sv})", &status);
	return status;
}

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	const char *const activated_args[] = {"--idle-timeout=1", NULL};
	g_autofree char *policy = g_test_build_filename(G_TEST_DIST, "..", "data", "dbus",
							"org.fedoraproject.Metrics1.conf", NULL);

	fixture->harness = mtest_harness_new();
	/* our installed bus policy too, so that dbus-daemon's parser checks it;
	 * it only adds allow rules to the open test policy */
	mtest_harness_add_bus_config(fixture->harness, policy);
	/* what the installed activation file does through systemd, without it */
	mtest_harness_set_activatable(fixture->harness, activated_args);
	mtest_harness_start_bus(fixture->harness);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	/* an activated daemon loses the bus with it and exits */
	g_clear_pointer(&fixture->harness, mtest_harness_free);
}

static void
test_activation_auto_start(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *first_owner = NULL;
	g_autofree char *second_owner = NULL;

	g_assert_null(get_name_owner(fixture));

	/* the first call starts the daemon */
	g_variant_unref(get_status(fixture, G_DBUS_CALL_FLAGS_NONE));
	first_owner = get_name_owner(fixture);
	g_assert_nonnull(first_owner);

	/* idle for a second: it goes away… */
	mtest_harness_wait_for_name(fixture->harness, METRICS_DBUS_NAME, FALSE);

	/* …and the next call brings a new one */
	g_variant_unref(get_status(fixture, G_DBUS_CALL_FLAGS_NONE));
	second_owner = get_name_owner(fixture);
	g_assert_nonnull(second_owner);
	g_assert_cmpstr(first_owner, !=, second_owner);
}

static void
test_activation_no_auto_start(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	/* the name is activatable but not started without auto-start */
	reply = g_dbus_connection_call_sync(
		fixture->harness->connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
		METRICS_DBUS_INTERFACE, "GetStatus", g_variant_new("(a{sv})", NULL),
		G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, &error);
	g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
	g_assert_null(reply);
}

static gboolean
daemon_exited_cb(gpointer user_data)
{
	Fixture *fixture = user_data;

	return g_subprocess_get_identifier(fixture->harness->daemon) == NULL;
}

/* the daemon the test started ended by itself, successfully, and gave up
 * its name */
static void
assert_daemon_exited(Fixture *fixture)
{
	GSubprocess *daemon = fixture->harness->daemon;

	mtest_wait_until(daemon_exited_cb, fixture, "the daemon to exit when idle");
	g_assert_true(g_subprocess_wait(daemon, NULL, NULL));
	g_assert_true(g_subprocess_get_if_exited(daemon));
	g_assert_cmpint(g_subprocess_get_exit_status(daemon), ==, 0);
	mtest_harness_wait_for_name(fixture->harness, METRICS_DBUS_NAME, FALSE);
}

typedef struct {
	Fixture *fixture;
	gint64 next_call;
} Pacer;

/* true when the next call is due; the daemon must not exit meanwhile */
static gboolean
next_call_due_cb(gpointer user_data)
{
	Pacer *pacer = user_data;

	g_assert_false(daemon_exited_cb(pacer->fixture));
	return g_get_monotonic_time() >= pacer->next_call;
}

static void
test_activation_idle_exit(Fixture *fixture, gconstpointer user_data)
{
	const char *const args[] = {"--idle-timeout=2", NULL};
	Pacer pacer = {fixture, 0};
	gint64 start;

	mtest_harness_start_daemon(fixture->harness, args);

	/* calls every half second for twice the idle period keep it (the
	 * pace is what the test is about; nothing else is awaited) */
	start = g_get_monotonic_time();
	while (g_get_monotonic_time() - start < 4 * G_TIME_SPAN_SECOND) {
		g_variant_unref(get_status(fixture, G_DBUS_CALL_FLAGS_NO_AUTO_START));
		pacer.next_call = g_get_monotonic_time() + G_TIME_SPAN_SECOND / 2;
		mtest_wait_until(next_call_due_cb, &pacer, "the next call");
	}

	/* then it exits by itself */
	assert_daemon_exited(fixture);
}

/* ---- an upload due soon keeps the daemon (mrd_service_get_idle_inhibited) ---- */

typedef struct {
	gint64 due_in; /* usec from now until the pending upload's next try; 0: none */
	gboolean stays;
} IdleUploadCase;

/* any well-formed metric id: the outbox does not look at the allowlist */
#define PENDING_METRIC_ID "6f0c2a4e-5b1d-4c3a-9e8f-0a1b2c3d4e5f"

static void
delta_clear(gpointer data)
{
	MrdDelta *delta = data;
	g_clear_pointer(&delta->payload, g_bytes_unref);
}

/* what a daemon with consent leaves behind: the consent record and a store
 * holding one upload request of last week, next tried at now + @due_in, or
 * no request at all when @due_in is 0 */
static void
write_state(const char *state_dir, gint64 due_in)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *consent_path = g_build_filename(state_dir, "consent.conf", NULL);
	g_autofree char *store_path = g_build_filename(state_dir, "metrics.db", NULL);
	g_autoptr(MrdStore) store = NULL;
	g_autoptr(MrdOutbox) outbox = NULL;
	g_autoptr(MrdOutboxRequest) request = NULL;
	g_autoptr(GArray) deltas = g_array_new(FALSE, TRUE, sizeof(MrdDelta));
	g_autoptr(GVariant) payload = NULL;
	gint64 now = g_get_real_time();
	MrdDelta delta = {
		.week = mrd_week_start(now) - 7 * G_TIME_SPAN_DAY,
		.kind = METRICS_EVENT_KIND_VALUE,
		.count = 1,
	};
	guint n_requests = 0;

	g_assert_cmpint(g_mkdir_with_parents(state_dir, 0700), ==, 0);
	mtest_write_file(consent_path, "[Consent]\nState=granted\nChanged=1\n");
	store = mrd_store_open(store_path, &error);
	g_assert_no_error(error);
	if (due_in == 0) {
		mrd_store_close(store);
		return;
	}

	g_array_set_clear_func(deltas, delta_clear);
	payload = g_variant_ref_sink(g_variant_new_maybe(G_VARIANT_TYPE_VARIANT, NULL));
	delta.payload = g_variant_get_data_as_bytes(payload);
	g_assert_true(metrics_uuid_parse(PENDING_METRIC_ID, delta.id));
	g_array_append_val(deltas, delta);
	g_assert_true(mrd_store_add(store, 1000, deltas, &error));
	g_assert_no_error(error);

	outbox = mrd_outbox_new(store, "42");
	g_assert_true(mrd_outbox_freeze(outbox, now, 0, 65536, &n_requests, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n_requests, ==, 1);
	request = mrd_outbox_next(outbox, G_MAXINT64, 0, &error);
	g_assert_no_error(error);
	g_assert_nonnull(request);
	/* as after a failed attempt the server asked to repeat later */
	g_assert_true(mrd_outbox_retry_later(outbox, request->id, now + due_in, 503,
					     "503 Service Unavailable", &error));
	g_assert_no_error(error);
	mrd_store_close(store);
}

static void
test_activation_idle_upload(Fixture *fixture, gconstpointer user_data)
{
	const IdleUploadCase *idle_case = user_data;
	g_autofree char *config_path =
		g_build_filename(fixture->harness->tmpdir, "recorder.conf", NULL);
	g_autofree char *config_arg = g_strdup_printf("--config=%s", config_path);
	const char *const args[] = {"--idle-timeout=1", config_arg, NULL};
	g_autoptr(GVariant) status = NULL;
	guint64 n_pending = 0;
	gint64 next_upload = 0;
	gint64 now = g_get_real_time();

	write_state(fixture->harness->state_dir, idle_case->due_in);
	/* nothing must be sent anywhere even if something fell due */
	mtest_write_file(config_path, "[Upload]\nServerUrl=http://127.0.0.1:9/\n");
	mtest_harness_start_daemon(fixture->harness, args);

	/* the daemon sees the pending upload and when it is due (this call
	 * starts a new idle period; the uploads are everybody's data, which
	 * the test may read with read-all) */
	status = mtest_harness_get_status_all(fixture->harness);
	g_assert_true(g_variant_lookup(status, "pending-uploads", "t", &n_pending));
	g_assert_true(g_variant_lookup(status, "next-upload", "x", &next_upload));
	if (idle_case->due_in == 0) {
		g_assert_cmpuint(n_pending, ==, 0);
	} else {
		g_assert_cmpuint(n_pending, ==, 1);
		g_assert_cmpint(next_upload, >=, now + idle_case->due_in);
		g_assert_cmpint(next_upload, <=, g_get_real_time() + idle_case->due_in);
	}

	if (idle_case->stays) {
		/* three idle periods without a call, each ending in "stay" (the
		 * daemon logs that with --verbose): it keeps the name */
		mtest_harness_wait_for_daemon_log(fixture->harness, "idle, but asked to stay", 3);
		g_assert_false(daemon_exited_cb(fixture));
		g_assert_nonnull(get_name_owner(fixture));
	} else {
		assert_daemon_exited(fixture);
	}
}

int
main(int argc, char *argv[])
{
	static const IdleUploadCase due_soon = {5 * G_TIME_SPAN_MINUTE, TRUE};
	static const IdleUploadCase due_later = {2 * G_TIME_SPAN_HOUR, FALSE};
	static const IdleUploadCase nothing_due = {0, FALSE};

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/activation/auto-start", Fixture, NULL, fixture_setup,
		   test_activation_auto_start, fixture_teardown);
	g_test_add("/metrics/activation/no-auto-start", Fixture, NULL, fixture_setup,
		   test_activation_no_auto_start, fixture_teardown);
	g_test_add("/metrics/activation/idle-exit", Fixture, NULL, fixture_setup,
		   test_activation_idle_exit, fixture_teardown);
	g_test_add("/metrics/activation/idle-upload-due-soon", Fixture, &due_soon, fixture_setup,
		   test_activation_idle_upload, fixture_teardown);
	g_test_add("/metrics/activation/idle-upload-due-later", Fixture, &due_later, fixture_setup,
		   test_activation_idle_upload, fixture_teardown);
	g_test_add("/metrics/activation/idle-nothing-due", Fixture, &nothing_due, fixture_setup,
		   test_activation_idle_upload, fixture_teardown);
	return g_test_run();
}
