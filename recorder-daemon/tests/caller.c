/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Unit tests of MrdCallerRegistry: the per-client token buckets, the cap on
 * authorisation checks in flight, forgetting a client that leaves the bus,
 * and, through the credentials seam, that one user never sees another's
 * data (with two connections of one process playing two users, so this
 * runs without root); the identity: the app id of a Flatpak caller, from a
 * parser of /.flatpak-info and, as root, a process in a fake sandbox.
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- the app id of a Flatpak caller ---- */

#define FLATPAK_INFO                                                                       \
	"[Application]\n"                                                                  \
	"name=org.example.Sandboxed\n"                                                     \
	"runtime=runtime/org.gnome.Platform/x86_64/47\n"                                   \
	"\n"                                                                               \
	"[Instance]\n"                                                                     \
	"instance-id=1234567890\n"                                                         \
	"app-path=/var/lib/flatpak/app/org.example.Sandboxed/x86_64/stable/active/files\n" \
	"\n"                                                                               \
	"[Context]\n"                                                                      \
	"shared=network;ipc;\n"                                                            \
	"\n"                                                                               \
	"[System Bus Policy]\n"                                                            \
	"org.fedoraproject.Metrics1=talk\n"

static char *
parse(const char *contents, gsize length, GError **error)
{
	return mrd_caller_parse_flatpak_info(contents, length, error);
}

static void
test_parse_flatpak_info(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;
	g_autofree char *huge = NULL;
	g_autoptr(GString) padded = g_string_new(FLATPAK_INFO);
	const char *rejected[] = {
		/* no [Application] group, or no name in it */
		"[Instance]\ninstance-id=1\n",
		"[Application]\nruntime=runtime/org.gnome.Platform/x86_64/47\n",
		/* a runtime run on its own is not an app */
		"[Runtime]\nname=org.gnome.Platform\n[Application]\nname=org.example.App\n",
		/* not a key file */
		"\x7f"
		"ELF\x02\x01\x01garbage\n",
		"name=org.example.App\n",
		"[Application\nname=org.example.App\n",
		/* names flatpak would never give */
		"[Application]\nname=\n",
		"[Application]\nname=org.example\n",
		"[Application]\nname=org..App\n",
		"[Application]\nname=org.3example.App\n",
		"[Application]\nname=org.exa-mple.App\n",
		"[Application]\nname=org.example.App/../../etc\n",
		"[Application]\nname=org.example.App;\n",
		"[Application]\nname=org.example.\xc3\xa4pp\n",
		"[Application]\nname=org.example.\xff\n",
	};

	id = parse(FLATPAK_INFO, strlen(FLATPAK_INFO), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(id, ==, "org.example.Sandboxed");
	g_clear_pointer(&id, g_free);

	/* '-' is allowed in the last element */
	id = parse("[Application]\nname=org.example.My-App_2\n",
		   strlen("[Application]\nname=org.example.My-App_2\n"), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(id, ==, "org.example.My-App_2");
	g_clear_pointer(&id, g_free);

	for (guint i = 0; i < G_N_ELEMENTS(rejected); i++) {
		id = parse(rejected[i], strlen(rejected[i]), &error);
		if (id != NULL)
			g_error("accepted %s from “%s”", id, rejected[i]);
		g_assert_nonnull(error);
		g_clear_error(&error);
	}

	/* an empty file, and a NUL byte hiding a second name */
	id = parse("", 0, &error);
	g_assert_null(id);
	g_clear_error(&error);
	id = parse("[Application]\nname=org.example.A\0name=org.example.B\n", 49, &error);
	g_assert_null(id);
	g_clear_error(&error);

	/* exactly the limit is read, one byte more is not */
	while (padded->len < MRD_FLATPAK_INFO_MAX_SIZE)
		g_string_append_c(padded, '\n');
	g_string_truncate(padded, MRD_FLATPAK_INFO_MAX_SIZE);
	id = parse(padded->str, padded->len, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(id, ==, "org.example.Sandboxed");
	g_clear_pointer(&id, g_free);
	g_string_append_c(padded, '\n');
	id = parse(padded->str, padded->len, &error);
	g_assert_null(id);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_clear_error(&error);
	huge = g_malloc0(16 * 1024 * 1024);
	memset(huge, 'x', 16 * 1024 * 1024 - 1);
	id = parse(huge, 16 * 1024 * 1024 - 1, &error);
	g_assert_null(id);
	g_clear_error(&error);
}

typedef struct {
	GAsyncResult *result; /* (owned) (nullable) */
} Waiter;

static void
waiter_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Waiter *waiter = user_data;
	waiter->result = g_object_ref(result);
}

static gboolean
get_identity(MrdCallerRegistry *registry,
	     const char *sender,
	     guint32 *uid,
	     char **app_id,
	     GError **error)
{
	Waiter waiter = {NULL};
	gboolean ok;

	mrd_caller_registry_get_identity_async(registry, sender, NULL, waiter_done_cb, &waiter);
	while (waiter.result == NULL)
		g_main_context_iteration(NULL, TRUE);
	ok = mrd_caller_registry_get_identity_finish(registry, waiter.result, uid, app_id, error);
	g_object_unref(waiter.result);
	return ok;
}

/* a caller that is not sandboxed: its uid from the bus, no app id; the
 * uid lookup still works beside it */
static void
test_identity_unsandboxed(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(MrdCallerRegistry) registry = mrd_caller_registry_new(fixture->connection);
	g_autoptr(GDBusConnection) client = connect_to(fixture);
	const char *name = g_dbus_connection_get_unique_name(client);
	g_autoptr(GError) error = NULL;
	g_autofree char *app_id = NULL;
	guint32 uid = G_MAXUINT32;

	g_assert_true(get_identity(registry, name, &uid, &app_id, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(uid, ==, getuid());
	g_assert_null(app_id);
	g_assert_cmpuint(mrd_caller_registry_get_n_cached(registry), ==, 1);

	/* cached: the same answer, the app id not wanted this time */
	uid = G_MAXUINT32;
	g_assert_true(get_identity(registry, name, &uid, NULL, &error));
	g_assert_cmpuint(uid, ==, getuid());

	/* a name nobody has: no identity at all */
	g_assert_false(get_identity(registry, ":1.999999", &uid, &app_id, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);

	/* the process of this test has no /.flatpak-info; pid 0 and a pid
	 * that cannot exist give nothing either */
	app_id = mrd_caller_read_app_id(-1, (guint32)getpid(), &error);
	g_assert_null(app_id);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_clear_error(&error);
	app_id = mrd_caller_read_app_id(-1, 0, &error);
	g_assert_null(app_id);
	g_clear_error(&error);
	app_id = mrd_caller_read_app_id(-1, G_MAXINT32, &error);
	g_assert_null(app_id);
	g_clear_error(&error);
}

/*
 * A fake sandbox: this program, started again with --fake-sandbox, makes
 * itself a mount namespace with a tmpfs holding /.flatpak-info (as flatpak
 * makes one with bubblewrap), connects to the test bus, changes its root
 * to that tmpfs and waits. The registry must then find the app id through
 * the bus's credentials and /proc/PID/root, as for a real Flatpak app.
 * Needs root (unshare, mount, chroot); CI runs the tests as root.
 */
static int
fake_sandbox_main(const char *variant, const char *root, const char *address)
{
	g_autoptr(GDBusConnection) connection = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *info = g_build_filename(root, ".flatpak-info", NULL);
	g_autofree char *elsewhere = g_build_filename(root, "info", NULL);
	char buffer[64];

	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("fake-sandbox", root, "tmpfs", 0, "size=1m,mode=0755") != 0) {
		g_print("SKIP cannot make a mount namespace: %s\n", g_strerror(errno));
		return 0;
	}
	if (g_str_equal(variant, "valid")) {
		g_assert_true(g_file_set_contents(info, FLATPAK_INFO, -1, NULL));
	} else if (g_str_equal(variant, "symlink")) {
		/* a link to a valid file is not followed */
		g_assert_true(g_file_set_contents(elsewhere, FLATPAK_INFO, -1, NULL));
		g_assert_cmpint(symlink("info", info), ==, 0);
	} else if (g_str_equal(variant, "fifo")) {
		/* nobody ever writes: reading it must not hang */
		g_assert_cmpint(mkfifo(info, 0644), ==, 0);
	} else if (g_str_equal(variant, "directory")) {
		g_assert_cmpint(g_mkdir(info, 0755), ==, 0);
	} else if (g_str_equal(variant, "huge")) {
		g_autoptr(GString) contents = g_string_new(FLATPAK_INFO);

		while (contents->len <= MRD_FLATPAK_INFO_MAX_SIZE)
			g_string_append(contents, "# padding\n");
		g_assert_true(g_file_set_contents(info, contents->str, contents->len, NULL));
	} else if (g_str_equal(variant, "garbage")) {
		g_assert_true(g_file_set_contents(info,
						  "\x7f"
						  "ELF\x02\x01 not a key file\n",
						  -1, NULL));
	} else {
		g_assert_not_reached();
	}
	/* read-only, as flatpak's is to the app */
	g_assert_cmpint(mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY, NULL), ==, 0);

	connection = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(chroot(root), ==, 0);
	g_assert_cmpint(chdir("/"), ==, 0);
	g_print("%s\n", g_dbus_connection_get_unique_name(connection));
	fflush(stdout);
	/* until the test closes our stdin */
	while (read(STDIN_FILENO, buffer, sizeof(buffer)) > 0)
		;
	return 0;
}

static void
test_identity_fake_sandbox(Fixture *fixture, gconstpointer user_data)
{
	const char *variant = user_data;
	g_autoptr(MrdCallerRegistry) registry = mrd_caller_registry_new(fixture->connection);
	g_autoptr(GError) error = NULL;
	g_autofree char *root = NULL;
	g_autofree char *self = NULL;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) child = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree char *name = NULL;
	g_autofree char *app_id = NULL;
	guint32 uid = G_MAXUINT32;

	if (getuid() != 0) {
		g_test_skip("a fake sandbox needs root (unshare, mount, chroot)");
		return;
	}
	root = g_dir_make_tmp("mrd-sandbox-XXXXXX", &error);
	g_assert_no_error(error);
	self = g_file_read_link("/proc/self/exe", &error);
	g_assert_no_error(error);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
					     G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	/* in the fake sandbox's root, a sanitizer's leak check could not read
	 * its suppressions and would fail the child: the parent checks leaks */
	g_subprocess_launcher_setenv(launcher, "LSAN_OPTIONS", "detect_leaks=0", TRUE);
	g_subprocess_launcher_setenv(launcher, "ASAN_OPTIONS", "detect_leaks=0", TRUE);
	child = g_subprocess_launcher_spawn(launcher, &error, self, "--fake-sandbox", variant, root,
					    g_test_dbus_get_bus_address(fixture->bus), NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(child));
	name = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(name);
	if (g_str_has_prefix(name, "SKIP ")) {
		g_test_skip(name + strlen("SKIP "));
	} else {
		g_assert_true(g_dbus_is_unique_name(name));
		g_assert_true(get_identity(registry, name, &uid, &app_id, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(uid, ==, getuid());
		if (g_str_equal(variant, "valid"))
			g_assert_cmpstr(app_id, ==, "org.example.Sandboxed");
		else
			g_assert_null(app_id);

		/* cached for the sender */
		g_clear_pointer(&app_id, g_free);
		g_assert_true(get_identity(registry, name, &uid, &app_id, &error));
		if (g_str_equal(variant, "valid"))
			g_assert_cmpstr(app_id, ==, "org.example.Sandboxed");
	}

	g_assert_true(g_output_stream_close(g_subprocess_get_stdin_pipe(child), NULL, &error));
	g_assert_true(g_subprocess_wait_check(child, NULL, &error));
	g_assert_no_error(error);
	/* the tmpfs was the child's alone: the directory here is empty */
	g_assert_cmpint(g_rmdir(root), ==, 0);
}

/* once the process has exited, its pid gives nothing, even cached by the
 * bus: the lookup fails closed */
static const char *const sandbox_variants[] = {
	"valid", "symlink", "fifo", "directory", "huge", "garbage",
};

static void
test_identity_exited(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	/* a child that lives until its stdin closes, so that its pid can be
	 * read before it exits (GLib forgets the pid once it reaps it) */
	g_autoptr(GSubprocess) child =
		g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE, &error, "cat", NULL);
	g_autofree char *app_id = NULL;
	guint32 pid;

	g_assert_no_error(error);
	pid = (guint32)g_ascii_strtoull(g_subprocess_get_identifier(child), NULL, 10);
	g_assert_true(g_output_stream_close(g_subprocess_get_stdin_pipe(child), NULL, &error));
	g_assert_true(g_subprocess_wait_check(child, NULL, &error));
	app_id = mrd_caller_read_app_id(-1, pid, &error);
	g_assert_null(app_id);
	g_assert_nonnull(error);
}

int
main(int argc, char *argv[])
{
	if (argc == 5 && g_str_equal(argv[1], "--fake-sandbox"))
		return fake_sandbox_main(argv[2], argv[3], argv[4]);

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	(void)metrics_error_quark();

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
	ADD("/metrics/caller/event-bucket", test_event_bucket);
	ADD("/metrics/caller/call-bucket", test_call_bucket);
	ADD("/metrics/caller/pending-checks", test_pending_checks);
	ADD("/metrics/caller/forget-on-leave", test_forget_on_leave);
	ADD("/metrics/caller/isolation", test_isolation);
	ADD("/metrics/caller/identity/unsandboxed", test_identity_unsandboxed);
	ADD("/metrics/caller/identity/exited", test_identity_exited);
#undef ADD
	g_test_add_func("/metrics/caller/flatpak-info/parse", test_parse_flatpak_info);
	for (guint i = 0; i < G_N_ELEMENTS(sandbox_variants); i++) {
		g_autofree char *path = g_strconcat("/metrics/caller/identity/fake-sandbox/",
						    sandbox_variants[i], NULL);
		g_test_add(path, Fixture, sandbox_variants[i], fixture_set_up,
			   test_identity_fake_sandbox, fixture_tear_down);
	}

	return g_test_run();
}
