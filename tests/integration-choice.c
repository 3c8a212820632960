/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): each
 * user's own choice. A user who says "not for me" while the machine is
 * granted loses what they stored at once, on disk too; their apps drop
 * their events without calling the daemon, the daemon drops what comes
 * anyway, nothing of theirs is uploaded, and other users neither see nor
 * change it. The tests that run a client as another uid (nobody) need
 * root, as CI has.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics-private.h"
#include "msink-validate.h"
#include "mtest-stack.h"

#define NOBODY 65534
/* what nobody records (record-example --app-id), and root */
#define NOBODY_APP "org.gnome.Nautilus.desktop"
#define ROOT_APP "org.gnome.TextEditor.desktop"
#define ROOT_ONLY_APP "org.gnome.Maps.desktop"
/* a metric of tests/allowlist.d/upload-tests.json only root records here */
#define ROOT_ONLY_METRIC "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c100"

static const char *const allow_read_all[] = {"org.fedoraproject.Metrics1.read-all",
					     "org.fedoraproject.Metrics1.set-consent",
					     "org.fedoraproject.Metrics1.upload-now", NULL};

/* runs @args (a program first, copied where nobody may read it) as nobody */
static int
run_as_nobody(MtestFixture *fixture, const char *const *args, char **out)
{
	g_autoptr(GPtrArray) argv = mtest_harness_argv_as_user(fixture->harness, NOBODY, args);

	return mtest_harness_run(fixture->harness, (const char *const *)argv->pdata, out, NULL);
}

static void
nobody_records(MtestFixture *fixture, char **out)
{
	g_autofree char *example = mtest_harness_build_path("MTEST_EXAMPLE");
	const char *const args[] = {example, "--count", "2", "--app-id", NOBODY_APP, NULL};

	g_assert_cmpint(run_as_nobody(fixture, args, out), ==, 0);
}

/* metrics-cli --json choice [@choice] as nobody; returns what it printed */
static char *
nobody_choice(MtestFixture *fixture, const char *choice)
{
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	const char *const args[] = {cli, "--json", "choice", choice, NULL};
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;

	g_assert_cmpint(run_as_nobody(fixture, args, &out), ==, 0);
	node = json_from_string(out, &error);
	g_assert_no_error(error);
	return g_strdup(json_object_get_string_member(json_node_get_object(node), "user-choice"));
}

/* every user's rows, and how many of them are @uid's */
static guint
rows_of(MtestFixture *fixture, guint32 uid, guint *n_all)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) all = NULL;
	guint n = 0;

	mtest_harness_set_allowed(fixture->harness, allow_read_all);
	all = metrics_client_get_local_data_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						 NULL, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < all->len; i++)
		n += metrics_aggregate_get_uid(g_ptr_array_index(all, i)) == uid;
	if (n_all != NULL)
		*n_all = all->len;
	return n;
}

static MetricsUserChoice
own_choice(MtestFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	MetricsUserChoice choice = METRICS_USER_CHOICE_OUT;

	g_assert_true(metrics_client_get_user_choice_sync(fixture->client, &choice, NULL, &error));
	g_assert_no_error(error);
	return choice;
}

static void
set_own_choice(MtestFixture *fixture, MetricsUserChoice choice)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(metrics_client_set_user_choice_sync(fixture->client, choice, NULL, &error));
	g_assert_no_error(error);
}

/* the (aya{sv}) of RecordEvents: @n occurrences of @value of @metric */
static GVariant *
value_batch(const char *metric, guint n, const char *value)
{
	GVariantBuilder builder;
	guint8 id[METRICS_UUID_SIZE];

	g_assert_true(metrics_uuid_parse(metric, id));
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < n; i++)
		g_variant_builder_add(
			&builder, "(@ayuxxmv)",
			g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, METRICS_UUID_SIZE, 1),
			(guint32)METRICS_EVENT_KIND_VALUE, g_get_real_time(), (gint64)1,
			g_variant_new_string(value));
	return g_variant_new("(@aya{sv})", metrics_batch_to_wire(g_variant_builder_end(&builder)),
			     NULL);
}

/* a second user opts out while the machine is granted: their rows go at
 * once, from the disk too, their apps send nothing, what they send anyway
 * is dropped; the first user's data is untouched */
static void
test_other_user_opts_out(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *out = NULL;
	g_autofree char *choice = NULL;
	g_autofree char *gdbus = g_find_program_in_path("gdbus");
	g_autoptr(GVariant) batch = NULL;
	g_autoptr(GVariant) bytes = NULL;
	g_autofree char *bytes_text = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	guint n_all = 0;

	g_assert_cmpuint(getuid(), ==, 0);
	g_assert_nonnull(gdbus);
	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, ROOT_APP, 1);
	nobody_records(fixture, NULL);
	g_assert_cmpuint(rows_of(fixture, NOBODY, &n_all), ==, 3);
	g_assert_cmpuint(n_all, ==, 6);
	g_assert_true(mtest_harness_state_contains(fixture->harness, NOBODY_APP));

	choice = nobody_choice(fixture, "out");
	g_assert_cmpstr(choice, ==, "out");
	/* gone at once, and from every file of the state directory */
	g_assert_cmpuint(rows_of(fixture, NOBODY, &n_all), ==, 0);
	g_assert_cmpuint(n_all, ==, 3);
	g_assert_false(mtest_harness_state_contains(fixture->harness, NOBODY_APP));
	g_assert_true(mtest_harness_state_contains(fixture->harness, ROOT_APP));
	/* root's own choice is not nobody's */
	g_assert_cmpint(own_choice(fixture), ==, METRICS_USER_CHOICE_DEFAULT);

	/* nobody's app drops in-process: the daemon is not even called */
	nobody_records(fixture, &out);
	g_assert_nonnull(strstr(out, "dropped in-process: 5"));
	g_assert_cmpuint(mtest_drops_for(fixture, "user-opted-out"), ==, 0);
	g_assert_cmpuint(rows_of(fixture, NOBODY, NULL), ==, 0);

	/* a hostile client of nobody's calls the daemon itself: dropped there */
	batch = g_variant_ref_sink(value_batch(ID_VALUE, 7, NOBODY_APP));
	bytes = g_variant_get_child_value(batch, 0);
	bytes_text = g_variant_print(bytes, TRUE);
	{
		const char *const args[] = {gdbus,
					    "call",
					    "--system",
					    "--dest",
					    METRICS_DBUS_NAME,
					    "--object-path",
					    METRICS_DBUS_PATH,
					    "--method",
					    METRICS_DBUS_INTERFACE ".RecordEvents",
					    bytes_text,
					    "@a{sv} {}",
					    NULL};
		g_autofree char *reply = NULL;

		g_assert_cmpint(run_as_nobody(fixture, args, &reply), ==, 0);
		g_assert_cmpstr(g_strstrip(reply), ==, "(uint32 0, uint32 7)");
	}
	g_assert_cmpuint(mtest_drops_for(fixture, "user-opted-out"), ==, 7);
	g_assert_cmpuint(rows_of(fixture, NOBODY, NULL), ==, 0);
	g_assert_false(mtest_harness_state_contains(fixture->harness, NOBODY_APP));

	/* root still records */
	g_clear_object(&recorder);
	recorder = mtest_record_some(fixture, ROOT_APP, 1);
	g_assert_cmpuint(rows_of(fixture, 0, &n_all), ==, 3);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 8);

	/* back to the default: nobody records again */
	g_clear_pointer(&choice, g_free);
	choice = nobody_choice(fixture, "default");
	g_assert_cmpstr(choice, ==, "default");
	nobody_records(fixture, NULL);
	g_assert_cmpuint(rows_of(fixture, NOBODY, NULL), ==, 3);
}

static void
user_choice_changed_cb(GDBusConnection *connection,
		       const char *sender_name,
		       const char *object_path,
		       const char *interface_name,
		       const char *signal_name,
		       GVariant *parameters,
		       gpointer user_data)
{
	GPtrArray *seen = user_data;
	const char *choice = NULL;

	g_variant_get(parameters, "(&s)", &choice);
	g_ptr_array_add(seen, g_strdup(choice));
}

static gboolean
seen_some_cb(gpointer user_data)
{
	GPtrArray *seen = user_data;
	return seen->len > 0;
}

/* nobody's choice is nobody's: root, listening to every signal of the
 * daemon, does not hear it, and another uid can neither read nor change
 * root's */
static void
test_unicast_and_private(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *choice = NULL;
	guint id;

	g_assert_cmpuint(getuid(), ==, 0);
	mtest_grant_consent(fixture);
	/* any sender, any destination this connection may get */
	id = g_dbus_connection_signal_subscribe(
		fixture->harness->connection, NULL, METRICS_DBUS_INTERFACE, "UserChoiceChanged",
		NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, user_choice_changed_cb, seen, NULL);
	/* the daemon knows this connection as root's from now on */
	g_assert_cmpint(own_choice(fixture), ==, METRICS_USER_CHOICE_DEFAULT);

	choice = nobody_choice(fixture, "out");
	g_assert_cmpstr(choice, ==, "out");
	/* then root's own change: its signal comes after any sent before it */
	set_own_choice(fixture, METRICS_USER_CHOICE_IN);
	mtest_wait_until(seen_some_cb, seen, "root's UserChoiceChanged");
	g_assert_cmpuint(seen->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(seen, 0), ==, "in");

	/* setting the same again sends nothing */
	set_own_choice(fixture, METRICS_USER_CHOICE_OUT);
	set_own_choice(fixture, METRICS_USER_CHOICE_OUT);
	set_own_choice(fixture, METRICS_USER_CHOICE_IN);
	while (seen->len < 3)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpstr(g_ptr_array_index(seen, 1), ==, "out");
	g_assert_cmpstr(g_ptr_array_index(seen, 2), ==, "in");

	/* nobody reads their own, not root's; their change is not root's */
	set_own_choice(fixture, METRICS_USER_CHOICE_OUT);
	g_clear_pointer(&choice, g_free);
	choice = nobody_choice(fixture, NULL);
	g_assert_cmpstr(choice, ==, "out");
	g_clear_pointer(&choice, g_free);
	choice = nobody_choice(fixture, "in");
	g_assert_cmpstr(choice, ==, "in");
	g_assert_cmpint(own_choice(fixture), ==, METRICS_USER_CHOICE_OUT);
	g_dbus_connection_signal_unsubscribe(fixture->harness->connection, id);
}

/* SetUserChoice refuses anything but the three words, and has no way to
 * name another user */
static void
test_malformed(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	g_autofree char *long_value = g_strnfill(64 * 1024, 'o');
	const char *const bad[] = {"", "OUT", "out ", "opted-out", "0", "in\n", long_value};
	const char *const cli_args[] = {cli, "choice", "maybe", NULL};
	const char *const cli_extra[] = {cli, "choice", "out", "65534", NULL};
	g_autofree char *err = NULL;
	g_autofree char *choices_path =
		g_build_filename(fixture->harness->state_dir, "user-choices.conf", NULL);

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply =
			mtest_harness_call(fixture->harness, "SetUserChoice",
					   g_variant_new("(s)", bad[i]), "()", &error);

		g_assert_null(reply);
		g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
	}
	/* a uid as an argument is not part of the method */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply =
			mtest_harness_call(fixture->harness, "SetUserChoice",
					   g_variant_new("(su)", "out", NOBODY), "()", &error);

		g_assert_null(reply);
		g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply =
			mtest_harness_call(fixture->harness, "GetUserChoice",
					   g_variant_new("(u)", NOBODY), "(s)", &error);

		g_assert_null(reply);
		g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
	}
	g_assert_cmpint(mtest_harness_run_cli(fixture->harness, cli_args + 1, NULL, &err), ==, 64);
	g_assert_nonnull(strstr(err, "choice [in|out|default]"));
	g_assert_cmpint(mtest_harness_run_cli(fixture->harness, cli_extra + 1, NULL, NULL), ==, 64);
	/* nothing was saved by any of it */
	g_assert_false(g_file_test(choices_path, G_FILE_TEST_EXISTS));
	g_assert_cmpint(own_choice(fixture), ==, METRICS_USER_CHOICE_DEFAULT);
}

/* the choice is kept by the daemon, private, across restarts and whatever
 * the machine's consent: nothing about events is written for it */
static void
test_survives_restart(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *choices_path =
		g_build_filename(fixture->harness->state_dir, "user-choices.conf", NULL);
	g_autofree char *contents = NULL;
	g_autoptr(GError) error = NULL;
	GStatBuf buf;

	/* consent unknown: the choice is saved, no store is made */
	set_own_choice(fixture, METRICS_USER_CHOICE_OUT);
	g_assert_cmpint(g_stat(choices_path, &buf), ==, 0);
	g_assert_cmpuint(buf.st_mode & 0777, ==, 0600);
	g_assert_true(g_file_get_contents(choices_path, &contents, NULL, NULL));
	g_assert_nonnull(strstr(contents, "\n0=out\n"));
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));

	mtest_harness_stop_daemon(fixture->harness, TRUE);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, NULL);
	g_assert_cmpint(own_choice(fixture), ==, METRICS_USER_CHOICE_OUT);
	g_assert_cmpuint(mtest_record_value_batch(fixture, 5, MARKER), ==, 0);
	g_assert_cmpuint(mtest_drops_for(fixture, "user-opted-out"), ==, 5);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));

	/* denying consent and granting again keeps the user's own choice */
	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_GRANTED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(own_choice(fixture), ==, METRICS_USER_CHOICE_OUT);

	/* a damaged file counts every user as out, and is not overwritten */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_true(g_file_set_contents(choices_path, "[Users\n\x01\x02", -1, NULL));
	mtest_harness_start_daemon(fixture->harness, NULL);
	g_assert_cmpint(own_choice(fixture), ==, METRICS_USER_CHOICE_OUT);
	g_assert_false(metrics_client_set_user_choice_sync(
		fixture->client, METRICS_USER_CHOICE_DEFAULT, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
	g_assert_nonnull(strstr(error->message, choices_path));
	g_assert_cmpuint(mtest_record_value_batch(fixture, 3, MARKER), ==, 0);
}

static gboolean
opted_in_cb(gpointer user_data)
{
	return !metrics_recorder_get_user_opted_out(user_data);
}

/* libmetrics learns the choice from the daemon and drops in the app: no
 * RecordEvents call reaches the daemon; it follows a change at once */
static void
test_library_in_process(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GError) error = NULL;

	mtest_grant_consent(fixture);
	set_own_choice(fixture, METRICS_USER_CHOICE_OUT);
	recorder = metrics_recorder_new(fixture->harness->connection);
	for (guint i = 0; i < 4; i++)
		metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(MARKER));
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(metrics_recorder_get_user_opted_out(recorder));
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_GRANTED);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 4);
	/* the daemon counted nothing: it was not called */
	g_assert_cmpuint(mtest_drops_for(fixture, "user-opted-out"), ==, 0);
	g_assert_cmpuint(mtest_status_u64(fixture, "accepted"), ==, 0);

	/* the signal, sent to this user's connections, turns it back on */
	set_own_choice(fixture, METRICS_USER_CHOICE_IN);
	mtest_wait_until(opted_in_cb, recorder, "the recorder to hear the choice");
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(MARKER));
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 1);
}

/* ---- uploads: a SoupServer of the test, in a thread of its own ---- */

typedef struct {
	GMutex lock;
	GMainContext *context; /* (owned) */
	GMainLoop *loop;       /* (owned) */
	SoupServer *server;    /* (owned) */
	GThread *thread;       /* (owned) */
	GPtrArray *bodies;     /* (owned) (element-type utf8) each body printed */
	guint16 port;
	char *problem; /* (owned) (nullable) */
} Server;

static void
server_cb(SoupServer *soup_server,
	  SoupServerMessage *message,
	  const char *path,
	  GHashTable *query,
	  gpointer user_data)
{
	Server *server = user_data;
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(message);
	g_autoptr(GBytes) raw =
		soup_message_body_flatten(soup_server_message_get_request_body(message));
	g_autoptr(MsinkResult) result = msink_validate(
		soup_server_message_get_method(message), path,
		soup_message_headers_get_one(headers, "X-Endless-Content-Encoding"), raw);

	g_mutex_lock(&server->lock);
	if (result->status == 200)
		g_ptr_array_add(server->bodies, g_variant_print(result->body, FALSE));
	else if (server->problem == NULL)
		server->problem = g_strdup(result->message);
	g_mutex_unlock(&server->lock);
	soup_server_message_set_status(message, result->status, NULL);
}

static gpointer
server_thread(gpointer user_data)
{
	Server *server = user_data;

	g_main_context_push_thread_default(server->context);
	g_main_loop_run(server->loop);
	g_main_context_pop_thread_default(server->context);
	return NULL;
}

static Server *
server_start(void)
{
	Server *server = g_new0(Server, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	GSList *uris;

	g_mutex_init(&server->lock);
	server->bodies = g_ptr_array_new_with_free_func(g_free);
	server->context = g_main_context_new();
	server->loop = g_main_loop_new(server->context, FALSE);
	g_main_context_push_thread_default(server->context);
	server->server = soup_server_new(NULL, NULL);
	soup_server_add_handler(server->server, NULL, server_cb, server, NULL);
	g_assert_true(soup_server_listen(server->server, address, 0, &error));
	g_assert_no_error(error);
	g_main_context_pop_thread_default(server->context);
	uris = soup_server_get_uris(server->server);
	server->port = (guint16)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	server->thread = g_thread_new("upload-server", server_thread, server);
	return server;
}

static gboolean
quit_cb(gpointer user_data)
{
	Server *server = user_data;

	soup_server_disconnect(server->server);
	g_main_loop_quit(server->loop);
	return G_SOURCE_REMOVE;
}

static void
server_free(Server *server)
{
	g_main_context_invoke(server->context, quit_cb, server);
	g_thread_join(server->thread);
	g_clear_object(&server->server);
	g_main_loop_unref(server->loop);
	g_main_context_unref(server->context);
	g_ptr_array_unref(server->bodies);
	g_free(server->problem);
	g_mutex_clear(&server->lock);
	g_free(server);
}

/* with the daemon's clock @offset_days back */
static void
start_daemon_uploading(MtestFixture *fixture, Server *server, gint64 offset_days)
{
	g_autofree char *path = g_build_filename(fixture->harness->tmpdir, "upload.conf", NULL);
	g_autofree char *contents = g_strdup_printf(
		"[Upload]\nServerUrl=http://127.0.0.1:%u\nWindow=1\nSpread=0\nRetryMin=1\n"
		"RetryMax=2\nTimeout=5\n",
		server->port);
	g_autofree char *config_arg = g_strdup_printf("--config=%s", path);
	g_autofree char *offset_arg =
		g_strdup_printf("--clock-offset=%" G_GINT64_FORMAT, -offset_days * 24 * 3600);
	const char *args[] = {config_arg, offset_arg, NULL};

	g_assert_true(g_file_set_contents(path, contents, -1, NULL));
	mtest_harness_start_daemon(fixture->harness, args);
}

/* what GetPendingUploads says, printed */
static char *
pending_text(MtestFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	mtest_harness_set_allowed(fixture->harness, allow_read_all);
	reply = mtest_harness_call(
		fixture->harness, "GetPendingUploads",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(aa{sv})", &error);
	g_assert_no_error(error);
	return g_variant_print(reply, FALSE);
}

/* nobody's share of a week already frozen for upload is not sent: the
 * requests that hold any of it go whole (the users' shares are merged in
 * them), those of root alone are sent */
static void
test_nothing_uploaded(MtestFixture *fixture, gconstpointer user_data)
{
	Server *server = server_start();
	g_autofree char *example = mtest_harness_build_path("MTEST_EXAMPLE");
	const char *const root_args[] = {example, "--count", "2", "--app-id", ROOT_APP, NULL};
	g_autofree char *pending = NULL;
	g_autofree char *choice = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	guint32 accepted = 0, n_sent = 0, n_failed = 0;
	gboolean root_only_sent = FALSE;

	g_assert_cmpuint(getuid(), ==, 0);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_write_consent(fixture->harness, "granted");
	/* a week back: root and nobody record the same metrics, and root one
	 * more of its own */
	start_daemon_uploading(fixture, server, 8);
	g_assert_cmpint(mtest_harness_run(fixture->harness, root_args, NULL, NULL), ==, 0);
	nobody_records(fixture, NULL);
	reply = mtest_harness_call(fixture->harness, "RecordEvents",
				   value_batch(ROOT_ONLY_METRIC, 4, ROOT_ONLY_APP), "(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, NULL);
	g_assert_cmpuint(accepted, ==, 4);
	mtest_harness_stop_daemon(fixture->harness, FALSE);

	/* today: that week is closed and frozen into the outbox, not due yet */
	start_daemon_uploading(fixture, server, 0);
	pending = pending_text(fixture);
	g_assert_nonnull(strstr(pending, NOBODY_APP));
	g_assert_nonnull(strstr(pending, ROOT_ONLY_APP));
	g_assert_nonnull(strstr(pending, "'pending'"));
	g_assert_true(mtest_harness_state_contains(fixture->harness, NOBODY_APP));

	choice = nobody_choice(fixture, "out");
	g_assert_cmpstr(choice, ==, "out");
	g_clear_pointer(&pending, g_free);
	pending = pending_text(fixture);
	g_assert_null(strstr(pending, NOBODY_APP));
	g_assert_null(strstr(pending, ROOT_APP));
	g_assert_nonnull(strstr(pending, ROOT_ONLY_APP));
	g_assert_false(mtest_harness_state_contains(fixture->harness, NOBODY_APP));

	g_clear_pointer(&reply, g_variant_unref);
	reply = mtest_harness_call(
		fixture->harness, "UploadNow",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &n_sent, &n_failed);
	g_assert_cmpuint(n_failed, ==, 0);
	g_assert_cmpuint(n_sent, >=, 1);

	g_mutex_lock(&server->lock);
	g_assert_null(server->problem);
	g_assert_cmpuint(server->bodies->len, ==, n_sent);
	for (guint i = 0; i < server->bodies->len; i++) {
		const char *body = g_ptr_array_index(server->bodies, i);

		g_assert_null(strstr(body, NOBODY_APP));
		/* root's share of the same requests went with them */
		g_assert_null(strstr(body, ROOT_APP));
		root_only_sent |= strstr(body, ROOT_ONLY_APP) != NULL;
	}
	g_mutex_unlock(&server->lock);
	g_assert_true(root_only_sent);
	server_free(server);
}

/* ---- categories ---- */

static GVariant *
categories_property(MtestFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
		fixture->harness->connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
		"org.freedesktop.DBus.Properties", "Get",
		g_variant_new("(ss)", METRICS_DBUS_INTERFACE, "Categories"), G_VARIANT_TYPE("(v)"),
		G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	GVariant *value = NULL;

	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &value);
	g_assert_true(g_variant_is_of_type(value, G_VARIANT_TYPE("a{ss}")));
	return value;
}

static const char *
category_state(GVariant *categories, const char *name)
{
	const char *state = NULL;

	g_assert_true(g_variant_lookup(categories, name, "&s", &state));
	return state;
}

static GVariant *
one_category(const char *name, gboolean on)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sb}"));
	g_variant_builder_add(&b, "{sb}", name, on);
	return g_variant_builder_end(&b);
}

static void
set_category(MtestFixture *fixture, const char *name, gboolean on, GError **error)
{
	g_autoptr(GVariant) reply = mtest_harness_call(
		fixture->harness, "SetCategories",
		g_variant_new("(@a{sb}@a{sv})", one_category(name, on),
			      g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"()", error);
}

static void
set_user_category(MtestFixture *fixture, const char *name, gboolean on)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
		mtest_harness_call(fixture->harness, "SetUserCategories",
				   g_variant_new("(@a{sb})", one_category(name, on)), "()", &error);

	g_assert_no_error(error);
}

/* how many of root's stored rows are of @metric */
static guint
own_rows_of(MtestFixture *fixture, const char *metric)
{
	g_autoptr(GPtrArray) own = mtest_get_local_data(fixture);
	guint n = 0;

	for (guint i = 0; i < own->len; i++)
		n += g_strcmp0(metrics_aggregate_get_event_id(g_ptr_array_index(own, i)), metric) ==
		     0;
	return n;
}

/* a category turned off for the machine goes at once and its events are
 * dropped; one turned off by a user goes for that user only */
static void
test_category_off(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) categories = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autofree char *consent_path =
		g_build_filename(fixture->harness->state_dir, "consent.conf", NULL);
	g_autofree char *contents = NULL;
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) off = NULL;
	const char *bad[] = {"", "Usage", "usage ", "crashes", "performance\n"};

	g_assert_cmpuint(getuid(), ==, 0);
	/* a record of before categories: its yes covers all five */
	categories = categories_property(fixture);
	g_assert_cmpstr(category_state(categories, "problems"), ==, "unknown");
	g_clear_pointer(&categories, g_variant_unref);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, NULL);
	categories = categories_property(fixture);
	g_assert_cmpuint(g_variant_n_children(categories), ==, 5);
	g_assert_cmpstr(category_state(categories, "hardware"), ==, "on");
	g_assert_cmpstr(category_state(categories, "problems"), ==, "on");
	g_clear_pointer(&categories, g_variant_unref);

	/* usage (a value and a duration) and problems (a counter) */
	recorder = mtest_record_some(fixture, MARKER, 1);
	g_assert_cmpuint(own_rows_of(fixture, ID_COUNTER), ==, 1);

	/* the machine's switch needs polkit; unknown names change nothing */
	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	set_category(fixture, "problems", FALSE, &error);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		set_category(fixture, bad[i], FALSE, &error);
		g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
		g_clear_error(&error);
	}
	{
		g_autoptr(GVariant) reply = mtest_harness_call(
			fixture->harness, "SetCategories",
			g_variant_new("(@a{ss}@a{sv})", g_variant_new_parsed("{'problems': 'off'}"),
				      g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
			"()", &error);
		g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
		g_clear_error(&error);
	}
	g_assert_cmpuint(own_rows_of(fixture, ID_COUNTER), ==, 1);

	set_category(fixture, "problems", FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(own_rows_of(fixture, ID_COUNTER), ==, 0);
	g_assert_cmpuint(own_rows_of(fixture, ID_VALUE), ==, 1);
	categories = categories_property(fixture);
	g_assert_cmpstr(category_state(categories, "problems"), ==, "off");
	g_assert_cmpstr(category_state(categories, "usage"), ==, "on");
	g_assert_true(g_file_get_contents(consent_path, &contents, NULL, NULL));
	g_assert_nonnull(strstr(contents, "Refused=problems;"));
	g_clear_object(&recorder);
	recorder = mtest_record_some(fixture, MARKER, 1);
	g_assert_cmpuint(own_rows_of(fixture, ID_COUNTER), ==, 0);
	g_assert_cmpuint(mtest_drops_for(fixture, "category-off"), ==, 1);

	/* root turns usage off for itself: its rows go, from the disk too */
	g_assert_true(mtest_harness_state_contains(fixture->harness, MARKER));
	set_user_category(fixture, "usage", FALSE);
	g_assert_cmpuint(own_rows_of(fixture, ID_VALUE), ==, 0);
	g_assert_cmpuint(own_rows_of(fixture, ID_DURATION), ==, 0);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	off = g_variant_lookup_value(status, "user-categories-off", G_VARIANT_TYPE("as"));
	g_assert_nonnull(off);
	g_assert_cmpuint(g_variant_n_children(off), ==, 1);
	g_clear_object(&recorder);
	recorder = mtest_record_some(fixture, MARKER, 1);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 0);

	/* nobody's usage is still recorded; problems is off for everybody */
	nobody_records(fixture, NULL);
	g_assert_cmpuint(rows_of(fixture, NOBODY, NULL), ==, 2);

	/* both survive a restart */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	g_clear_pointer(&categories, g_variant_unref);
	categories = categories_property(fixture);
	g_assert_cmpstr(category_state(categories, "problems"), ==, "off");
	g_clear_object(&recorder);
	recorder = mtest_record_some(fixture, MARKER, 1);
	g_assert_cmpuint(rows_of(fixture, 0, NULL), ==, 0);

	/* back on for the user: recorded again */
	set_user_category(fixture, "usage", TRUE);
	g_clear_object(&recorder);
	recorder = mtest_record_some(fixture, MARKER, 1);
	g_assert_cmpuint(own_rows_of(fixture, ID_VALUE), ==, 1);
}

/* a category the consent record does not name was added after the yes: it
 * is not recorded until asked */
static void
test_new_category_unknown(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) categories = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autofree char *consent_path =
		g_build_filename(fixture->harness->state_dir, "consent.conf", NULL);

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_true(g_file_set_contents(consent_path,
					  "[Consent]\nState=granted\nChanged=1\n"
					  "Agreed=hardware;settings;usage;performance;\nRefused=\n",
					  -1, NULL));
	mtest_harness_start_daemon(fixture->harness, NULL);
	categories = categories_property(fixture);
	g_assert_cmpstr(category_state(categories, "usage"), ==, "on");
	g_assert_cmpstr(category_state(categories, "problems"), ==, "unknown");
	recorder = mtest_record_some(fixture, MARKER, 1);
	g_assert_cmpuint(own_rows_of(fixture, ID_VALUE), ==, 1);
	g_assert_cmpuint(own_rows_of(fixture, ID_COUNTER), ==, 0);
	g_assert_cmpuint(mtest_drops_for(fixture, "category-off"), ==, 1);

	/* asked again: agreed */
	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	set_category(fixture, "problems", TRUE, &error);
	g_assert_no_error(error);
	g_clear_pointer(&categories, g_variant_unref);
	categories = categories_property(fixture);
	g_assert_cmpstr(category_state(categories, "problems"), ==, "on");
	g_clear_object(&recorder);
	recorder = mtest_record_some(fixture, MARKER, 1);
	g_assert_cmpuint(own_rows_of(fixture, ID_COUNTER), ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add("/metrics/choice/other-user-opts-out", MtestFixture, NULL, mtest_fixture_set_up,
		   test_other_user_opts_out, mtest_fixture_tear_down);
	g_test_add("/metrics/choice/unicast-and-private", MtestFixture, NULL, mtest_fixture_set_up,
		   test_unicast_and_private, mtest_fixture_tear_down);
	g_test_add("/metrics/choice/malformed", MtestFixture, NULL, mtest_fixture_set_up,
		   test_malformed, mtest_fixture_tear_down);
	g_test_add("/metrics/choice/survives-restart", MtestFixture, NULL, mtest_fixture_set_up,
		   test_survives_restart, mtest_fixture_tear_down);
	g_test_add("/metrics/choice/library-in-process", MtestFixture, NULL, mtest_fixture_set_up,
		   test_library_in_process, mtest_fixture_tear_down);
	g_test_add("/metrics/choice/nothing-uploaded", MtestFixture, NULL, mtest_fixture_set_up,
		   test_nothing_uploaded, mtest_fixture_tear_down);
	g_test_add("/metrics/choice/category-off", MtestFixture, NULL, mtest_fixture_set_up,
		   test_category_off, mtest_fixture_tear_down);
	g_test_add("/metrics/choice/new-category-unknown", MtestFixture, NULL, mtest_fixture_set_up,
		   test_new_category_unknown, mtest_fixture_tear_down);
	return g_test_run();
}
