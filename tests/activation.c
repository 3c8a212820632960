/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestActivation"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>

#include "metrics-private.h"
#include "mrd-aggregator.h"
#include "mrd-outbox.h"
#include "mrd-store.h"

/*
 * The recorder's life cycle without systemd: a private system bus activates
 * the built daemon from a test .service file on the first call, and the
 * daemon exits on its own after --idle-timeout seconds without calls, unless
 * calls keep coming or an upload falls due soon.
 */

#define BUS_NAME "org.fedoraproject.Metrics1"
#define OBJECT_PATH "/org/fedoraproject/Metrics1"
#define INTERFACE "org.fedoraproject.Metrics1.Recorder"
/* generous: the machine running the tests may be loaded */
#define WAIT_TIMEOUT_MS 15000

typedef struct {
	char *tmpdir;	       /* (owned) */
	char *address;	       /* (owned) */
	GSubprocess *bus;      /* (owned) */
	GDBusConnection *conn; /* (owned) */
	GSubprocess *daemon;   /* (owned) (nullable) started by the test itself */
	gboolean daemon_exited;
	gboolean daemon_watched; /* daemon_wait_cb() is still to come */
} Fixture;

/* a failed assertion skips the teardown: children must not outlive us
 * (and keep the test's output open) */
static void
die_with_parent(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static GSubprocess *
spawn(GSubprocessLauncher *launcher, const char *const *argv)
{
	g_autoptr(GError) error = NULL;
	GSubprocess *subprocess;

	g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
	subprocess = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	return subprocess;
}

static const char *
daemon_path(void)
{
	const char *path = g_getenv("METRICS_RECORDER");

	g_assert_nonnull(path);
	return path;
}

static void
write_file(const char *path, const char *contents)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
}

static void
delete_recursive(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);

	if (dir != NULL) {
		const char *name;

		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *child = g_build_filename(path, name, NULL);
			delete_recursive(child);
		}
	}
	g_assert_no_errno(g_remove(path));
}

static gboolean
timeout_cb(gpointer user_data)
{
	gboolean *timed_out = user_data;

	*timed_out = TRUE;
	return G_SOURCE_REMOVE;
}

/* iterates the default context until *flag is set; FALSE on timeout */
static gboolean
wait_for_flag(const gboolean *flag, guint timeout_ms)
{
	gboolean timed_out = FALSE;
	guint id = g_timeout_add(timeout_ms, timeout_cb, &timed_out);

	while (!*flag && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(id);
	return *flag;
}

static void
sleep_iterating(guint ms)
{
	gboolean flag = FALSE;

	g_assert_false(wait_for_flag(&flag, ms));
}

static char *
get_name_owner(Fixture *fixture)
{
	g_autoptr(GVariant) reply = NULL;
	char *owner = NULL;

	reply = g_dbus_connection_call_sync(
		fixture->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "GetNameOwner", g_variant_new("(s)", BUS_NAME),
		G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	if (reply != NULL)
		g_variant_get(reply, "(s)", &owner);
	return owner;
}

/* polls, so that no NameOwnerChanged can be missed between checks */
static gboolean
wait_for_owner(Fixture *fixture, gboolean want_owner)
{
	for (guint waited = 0; waited < WAIT_TIMEOUT_MS; waited += 50) {
		g_autofree char *owner = get_name_owner(fixture);

		if ((owner != NULL) == want_owner)
			return TRUE;
		sleep_iterating(50);
	}
	return FALSE;
}

static void
call_get_status(Fixture *fixture, GDBusCallFlags flags)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_sync(fixture->conn, BUS_NAME, OBJECT_PATH, INTERFACE,
					    "GetStatus", g_variant_new("(a{sv})", NULL),
					    G_VARIANT_TYPE("(a{sv})"), flags, WAIT_TIMEOUT_MS, NULL,
					    &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
}

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autofree char *socket_path = NULL;
	g_autofree char *config_path = NULL;
	g_autofree char *services_dir = NULL;
	g_autofree char *service = NULL;
	g_autofree char *config = NULL;
	g_autofree char *state_dir = NULL;
	g_autofree char *service_path = NULL;

	fixture->tmpdir = g_dir_make_tmp("metrics-activation-XXXXXX", &error);
	g_assert_no_error(error);
	socket_path = g_build_filename(fixture->tmpdir, "system_bus_socket", NULL);
	config_path = g_build_filename(fixture->tmpdir, "bus.conf", NULL);
	services_dir = g_build_filename(fixture->tmpdir, "services", NULL);
	state_dir = g_build_filename(fixture->tmpdir, "state", NULL);
	fixture->address = g_strdup_printf("unix:path=%s", socket_path);
	g_assert_cmpint(g_mkdir(services_dir, 0700), ==, 0);

	/* what the installed activation file does through systemd, without it */
	service = g_strdup_printf("[D-BUS Service]\n"
				  "Name=%s\n"
				  "Exec=%s --idle-timeout=1 --state-dir=%s\n",
				  BUS_NAME, daemon_path(), state_dir);
	service_path = g_build_filename(services_dir, BUS_NAME ".service", NULL);
	write_file(service_path, service);
	/* our installed bus policy too, so that dbus-daemon's parser checks it;
	 * it only adds allow rules to the open test policy */
	config = g_strdup_printf("<busconfig>\n"
				 "  <include>%s</include>\n"
				 "  <include>%s</include>\n"
				 "  <servicedir>%s</servicedir>\n"
				 "</busconfig>\n",
				 g_test_get_filename(G_TEST_DIST, "private-system-bus.conf", NULL),
				 g_test_get_filename(G_TEST_DIST, "..", "data", "dbus",
						     "org.fedoraproject.Metrics1.conf", NULL),
				 services_dir);
	write_file(config_path, config);

	/* activated services inherit the bus's environment */
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", fixture->address, TRUE);
	g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
	fixture->bus = g_subprocess_launcher_spawn(launcher, &error, "dbus-daemon", "--nofork",
						   "--nopidfile", "--config-file", config_path,
						   "--address", fixture->address, NULL);
	g_assert_no_error(error);
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", fixture->address, TRUE);

	for (guint waited = 0; fixture->conn == NULL; waited += 50) {
		g_clear_error(&error);
		if (g_file_test(socket_path, G_FILE_TEST_EXISTS))
			fixture->conn = g_dbus_connection_new_for_address_sync(
				fixture->address,
				G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
					G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
				NULL, NULL, &error);
		if (fixture->conn == NULL) {
			g_assert_cmpuint(waited, <, WAIT_TIMEOUT_MS);
			g_usleep(50 * 1000);
		}
	}
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	if (fixture->daemon != NULL && !fixture->daemon_exited)
		g_subprocess_force_exit(fixture->daemon);
	/* the wait's callback writes into the fixture: it must have run */
	while (fixture->daemon_watched)
		g_main_context_iteration(NULL, TRUE);
	g_clear_object(&fixture->daemon);
	g_clear_object(&fixture->conn);
	/* an activated daemon loses the bus with it and exits */
	g_subprocess_force_exit(fixture->bus);
	g_subprocess_wait(fixture->bus, NULL, NULL);
	g_clear_object(&fixture->bus);
	delete_recursive(fixture->tmpdir);
	g_free(fixture->tmpdir);
	g_free(fixture->address);
}

static void
test_activation_auto_start(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *first_owner = NULL;
	g_autofree char *second_owner = NULL;

	g_assert_null(get_name_owner(fixture));

	/* the first call starts the daemon */
	call_get_status(fixture, G_DBUS_CALL_FLAGS_NONE);
	first_owner = get_name_owner(fixture);
	g_assert_nonnull(first_owner);

	/* idle for a second: it goes away… */
	g_assert_true(wait_for_owner(fixture, FALSE));

	/* …and the next call brings a new one */
	call_get_status(fixture, G_DBUS_CALL_FLAGS_NONE);
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
	reply = g_dbus_connection_call_sync(fixture->conn, BUS_NAME, OBJECT_PATH, INTERFACE,
					    "GetStatus", g_variant_new("(a{sv})", NULL),
					    G_VARIANT_TYPE("(a{sv})"),
					    G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, &error);
	g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
	g_assert_null(reply);
}

static void
daemon_wait_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Fixture *fixture = user_data;

	g_assert_true(g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL));
	fixture->daemon_exited = TRUE;
	fixture->daemon_watched = FALSE;
}

/* daemon_exited is set when the daemon the test started ends */
static void
watch_daemon(Fixture *fixture)
{
	fixture->daemon_watched = TRUE;
	g_subprocess_wait_async(fixture->daemon, NULL, daemon_wait_cb, fixture);
}

static void
test_activation_idle_exit(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autofree char *state_dir = g_build_filename(fixture->tmpdir, "state", NULL);
	g_autofree char *state_arg = g_strdup_printf("--state-dir=%s", state_dir);
	gint64 start;

	fixture->daemon = spawn(launcher, (const char *const[]){daemon_path(), "--idle-timeout=2",
								state_arg, NULL});
	watch_daemon(fixture);
	g_assert_true(wait_for_owner(fixture, TRUE));

	/* calls every half second for twice the idle period keep it */
	start = g_get_monotonic_time();
	while (g_get_monotonic_time() - start < 4 * G_TIME_SPAN_SECOND) {
		call_get_status(fixture, G_DBUS_CALL_FLAGS_NO_AUTO_START);
		sleep_iterating(500);
		g_assert_false(fixture->daemon_exited);
	}

	/* then it exits by itself, successfully, and gives up its name */
	g_assert_true(wait_for_flag(&fixture->daemon_exited, WAIT_TIMEOUT_MS));
	g_assert_true(g_subprocess_get_if_exited(fixture->daemon));
	g_assert_cmpint(g_subprocess_get_exit_status(fixture->daemon), ==, 0);
	g_assert_true(wait_for_owner(fixture, FALSE));
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
	write_file(consent_path, "[Consent]\nState=granted\nChanged=1\n");
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

static GVariant *
get_status(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariant *status = NULL;

	reply = g_dbus_connection_call_sync(
		fixture->conn, BUS_NAME, OBJECT_PATH, INTERFACE, "GetStatus",
		g_variant_new("(a{sv})", NULL), G_VARIANT_TYPE("(a{sv})"),
		G_DBUS_CALL_FLAGS_NO_AUTO_START, WAIT_TIMEOUT_MS, NULL, &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(@a{sv})", &status);
	return status;
}

static void
test_activation_idle_upload(Fixture *fixture, gconstpointer user_data)
{
	const IdleUploadCase *idle_case = user_data;
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autofree char *state_dir = g_build_filename(fixture->tmpdir, "state", NULL);
	g_autofree char *state_arg = g_strdup_printf("--state-dir=%s", state_dir);
	g_autofree char *config_path = g_build_filename(fixture->tmpdir, "recorder.conf", NULL);
	g_autofree char *config_arg = g_strdup_printf("--config=%s", config_path);
	g_autoptr(GVariant) status = NULL;
	guint64 n_pending = 0;
	gint64 next_upload = 0;
	gint64 now = g_get_real_time();

	write_state(state_dir, idle_case->due_in);
	/* nothing must be sent anywhere even if something fell due */
	write_file(config_path, "[Upload]\nServerUrl=http://127.0.0.1:9/\n");
	fixture->daemon = spawn(launcher, (const char *const[]){daemon_path(), "--idle-timeout=1",
								state_arg, config_arg, NULL});
	watch_daemon(fixture);
	g_assert_true(wait_for_owner(fixture, TRUE));

	/* the daemon sees the pending upload and when it is due (this call
	 * starts a new idle period) */
	status = get_status(fixture);
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
		/* three idle periods without a call: it keeps the name */
		sleep_iterating(3000);
		g_assert_false(fixture->daemon_exited);
		g_assert_true(wait_for_owner(fixture, TRUE));
	} else {
		g_assert_true(wait_for_flag(&fixture->daemon_exited, WAIT_TIMEOUT_MS));
		g_assert_true(g_subprocess_get_if_exited(fixture->daemon));
		g_assert_cmpint(g_subprocess_get_exit_status(fixture->daemon), ==, 0);
		g_assert_true(wait_for_owner(fixture, FALSE));
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
