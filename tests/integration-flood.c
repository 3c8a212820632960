/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c), with the
 * shipped bus policy: hostile clients. Several connections flood the daemon
 * with fire-and-forget batches or one-event messages as fast as the socket
 * takes them; the daemon's memory stays bounded (MrdIntake drops the
 * excess unread), and a polite client is answered and its events kept
 * meanwhile. One message GLib cannot decode costs the daemon its bus
 * connection: the daemon exits with an error, and what it acknowledged and
 * the consent survive its restart.
 */

#include "config.h"

#include <string.h>

#include "metrics-private.h"
#include "mtest-stack.h"

/* the ceiling of docs/architecture.md, Per-client limits: 32 MB in all for
 * a daemon that starts at 11 MB, so at most 21 MB more than before the
 * flood (the tests' daemon starts larger: it loads the tests' big value
 * set, which the shipped allowlist does not have) */
#define MAX_GROWTH_KIB (21 * 1024)
#define FLOOD_SECONDS 3
#define FLOOD_BURST 16

typedef struct {
	GDBusConnection *connection; /* (owned) */
	GVariant *body;		     /* (owned) what it sends, again and again */
	gint64 deadline;
	guint64 n_sent;
	GThread *thread; /* (owned) */
} Flooder;

/* as fast as the socket takes it: a burst of messages that expect no
 * reply, then waiting until they are written, so that the test's own
 * queue stays small */
static gpointer
flood_thread(gpointer user_data)
{
	Flooder *flooder = user_data;

	while (g_get_monotonic_time() < flooder->deadline) {
		for (guint i = 0; i < FLOOD_BURST; i++) {
			g_autoptr(GDBusMessage) message = g_dbus_message_new_method_call(
				METRICS_DBUS_NAME, METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE,
				"RecordEvents");

			g_dbus_message_set_body(message, flooder->body);
			g_dbus_message_set_flags(message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
			if (!g_dbus_connection_send_message(flooder->connection, message,
							    G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
							    NULL))
				return NULL;
			flooder->n_sent++;
		}
		if (!g_dbus_connection_flush_sync(flooder->connection, NULL, NULL))
			return NULL;
	}
	return NULL;
}

static gboolean
wrapped(void);

static gint64
daemon_status_kib(MtestFixture *fixture, const char *field)
{
	const char *pid = g_subprocess_get_identifier(fixture->harness->daemon);
	g_autofree char *path = g_strdup_printf("/proc/%s/status", pid);
	g_autofree char *contents = NULL;
	const char *line;

	g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	line = strstr(contents, field);
	g_assert_nonnull(line);
	return g_ascii_strtoll(line + strlen(field), NULL, 10);
}

/* under valgrind (the daemon wrapped) or AddressSanitizer the daemon's
 * memory is not its own: only the replies are checked then */
static gboolean
rss_meaningful(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return FALSE;
#else
	return !wrapped();
#endif
}

/* under valgrind the daemon reads what the bus queued for it (the flood
 * the filter has not seen yet) many times slower: the polite client waits
 * longer, and the flood is shorter */
static gboolean
wrapped(void)
{
	const char *wrapper = g_getenv("MTEST_DAEMON_WRAPPER");
	return wrapper != NULL && wrapper[0] != '\0';
}

static int
polite_timeout_ms(void)
{
	return wrapped() ? 300 * 1000 : 60 * 1000;
}

static GVariant *
polite_call(MtestFixture *fixture, const char *method, GVariant *parameters, GError **error)
{
	return g_dbus_connection_call_sync(fixture->harness->connection, METRICS_DBUS_NAME,
					   METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE, method,
					   parameters, NULL, G_DBUS_CALL_FLAGS_NONE,
					   polite_timeout_ms(), NULL, error);
}

/* @n_flooders connections send @body for FLOOD_SECONDS; meanwhile the
 * polite client asks GetStatus and records, and is answered every time */
static void
flood_and_check(MtestFixture *fixture, guint n_flooders, GVariant *body)
{
	g_autoptr(GVariant) owned_body = g_variant_ref_sink(body);
	g_autofree Flooder *flooders = NULL;
	gint64 deadline = g_get_monotonic_time() + (wrapped() ? 1 : FLOOD_SECONDS) * G_USEC_PER_SEC;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	guint n_replies = 0;
	guint n_refused = 0;
	guint64 n_sent = 0;
	guint32 accepted = 0;
	gint64 rss_before = 0;

	/* one flooder is enough to check that the daemon under valgrind
	 * drops and frees what it should */
	if (wrapped())
		n_flooders = 1;
	flooders = g_new0(Flooder, n_flooders);
	g_assert_cmpuint(mtest_record_value_batch(fixture, 20, "before"), ==, 20);
	if (rss_meaningful()) {
		rss_before = daemon_status_kib(fixture, "VmHWM:");
		g_test_message("daemon RSS before: %" G_GINT64_FORMAT
			       " KiB; messages of %" G_GSIZE_FORMAT " bytes",
			       rss_before, g_variant_get_size(owned_body));
	}
	for (guint i = 0; i < n_flooders; i++) {
		flooders[i].connection = mtest_harness_connect(fixture->harness);
		flooders[i].body = g_variant_ref(owned_body);
		flooders[i].deadline = deadline;
		flooders[i].thread = g_thread_new("flooder", flood_thread, &flooders[i]);
	}

	/* a polite client: a call at a time, each answered */
	while (g_get_monotonic_time() < deadline) {
		g_autoptr(GError) local_error = NULL;
		g_autoptr(GVariant) status = polite_call(
			fixture, "GetStatus", g_variant_new("(a{sv})", NULL), &local_error);

		/* the next call as soon as this one is answered: on a quiet
		 * machine that is faster than the call rate a client may have,
		 * and the refusal is an answer too */
		if (local_error != NULL) {
			g_autofree char *name = g_dbus_error_get_remote_error(local_error);

			g_assert_cmpstr(name, ==, "org.fedoraproject.Metrics1.Error.LimitExceeded");
			n_refused++;
		} else {
			g_assert_nonnull(status);
		}
		n_replies++;
	}
	for (guint i = 0; i < n_flooders; i++) {
		g_thread_join(flooders[i].thread);
		n_sent += flooders[i].n_sent;
		g_dbus_connection_close_sync(flooders[i].connection, NULL, NULL);
		g_clear_object(&flooders[i].connection);
		g_clear_pointer(&flooders[i].body, g_variant_unref);
	}
	g_test_message("%u flooders sent %" G_GUINT64_FORMAT " messages; %u replies to the "
		       "polite client",
		       n_flooders, n_sent, n_replies);
	g_assert_cmpuint(n_replies, >, n_refused);

	/* its events are accepted, during the aftermath too */
	reply = polite_call(fixture, "RecordEvents", mtest_make_batch(20, 16, "after"), &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, NULL);
	g_assert_cmpuint(accepted, ==, 20);
	{
		g_autoptr(GHashTable) values = mtest_stored_values(fixture);

		g_assert_cmpuint(GPOINTER_TO_SIZE(g_hash_table_lookup(values, "before")), ==, 20);
		g_assert_cmpuint(GPOINTER_TO_SIZE(g_hash_table_lookup(values, "after")), ==, 20);
	}
	/* what was dropped unread was counted */
	/* a sanitized or wrapped flooder may not outpace the limits in the
	 * flood's few seconds: there the count is only reported */
	if (rss_meaningful())
		g_assert_cmpuint(mtest_drops_for(fixture, "flooded-messages"), >, 0);
	else
		g_test_message("flooded-messages: %" G_GUINT64_FORMAT,
			       (guint64)mtest_drops_for(fixture, "flooded-messages"));

	if (rss_meaningful()) {
		gint64 peak = daemon_status_kib(fixture, "VmHWM:");
		gint64 now = daemon_status_kib(fixture, "VmRSS:");

		g_test_message("daemon RSS: peak %" G_GINT64_FORMAT " KiB, now %" G_GINT64_FORMAT
			       " KiB",
			       peak, now);
		g_assert_cmpint(peak - rss_before, <=, MAX_GROWTH_KIB);
	} else {
		g_test_message("the daemon runs under a wrapper or a sanitizer: its RSS is not "
			       "checked");
	}
}

static void
fixture_set_up(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *policy = g_test_build_filename(G_TEST_DIST, "..", "data", "dbus",
							"org.fedoraproject.Metrics1.conf", NULL);

	fixture->harness = mtest_harness_new();
	/* the shipped policy: what it denies, the test bus denies too */
	mtest_harness_add_bus_config(fixture->harness, policy);
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, NULL);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

/* fire-and-forget batches of 1024 events from four connections */
static void
test_batches(MtestFixture *fixture, gconstpointer user_data)
{
	flood_and_check(fixture, 4, mtest_make_batch(METRICS_MAX_BATCH, 16, "flood"));
}

/* one-event messages from eight connections */
static void
test_small_messages(MtestFixture *fixture, gconstpointer user_data)
{
	flood_and_check(fixture, 8, mtest_make_batch(1, 16, "flood"));
}

/* the body that GLib 2.74 (and, as of this writing, GLib's main branch)
 * cannot decode: its array's length is counted after the padding to the
 * first dict entry, GLib counts it from before, so it reads the last
 * entry as the string that follows */
static GVariant *
undecodable_body(void)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{yg}"));
	g_variant_builder_add(&builder, "{yg}", (guchar)2, "a{sv}");
	g_variant_builder_add(&builder, "{yg}", (guchar)0, "s");
	return g_variant_new("(a{yg}s)", &builder, "abcdefgh");
}

static void
send_undecodable(GDBusConnection *connection, GDBusMessage *message)
{
	g_autoptr(GError) error = NULL;

	g_dbus_message_set_body(message, undecodable_body());
	g_assert_true(g_dbus_connection_send_message(connection, message,
						     G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_dbus_connection_flush_sync(connection, NULL, &error));
	g_assert_no_error(error);
}

/* GLib itself cannot read it back: the message is what the test means */
static void
test_undecodable_is_undecodable(void)
{
	g_autoptr(GDBusMessage) message = g_dbus_message_new_method_call(
		METRICS_DBUS_NAME, METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE, "GetStatus");
	g_autoptr(GDBusMessage) back = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree guchar *blob = NULL;
	gsize len = 0;

	g_dbus_message_set_body(message, undecodable_body());
	g_dbus_message_set_serial(message, 1);
	blob = g_dbus_message_to_blob(message, &len, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
	g_assert_no_error(error);
	back = g_dbus_message_new_from_blob(blob, len, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
	if (back != NULL)
		g_test_message("this GLib decodes the message: the daemon keeps its connection");
	else
		g_test_message("this GLib cannot decode the message: %s", error->message);
}

/* a round trip to the daemon on @connection */
static gboolean
ping(GDBusConnection *connection, GError **error)
{
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
		connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH, "org.freedesktop.DBus.Peer",
		"Ping", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, error);

	return reply != NULL;
}

static GVariant *
local_data(MtestFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	GVariant *rows = mtest_harness_call(fixture->harness, "GetLocalData",
					    g_variant_new("(a{sv})", NULL), NULL, &error);

	g_assert_no_error(error);
	return rows;
}

/* as a unicast signal, the shipped policy keeps the message from the
 * daemon; as a method call, which the policy allows, the daemon loses its
 * connection and exits 1 (Restart=on-failure brings it back; so does
 * activation): everything acknowledged before, and the consent, are there
 * after the restart */
static void
test_undecodable_message(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDBusConnection) attacker = mtest_harness_connect(fixture->harness);
	g_autofree char *owner = mtest_harness_get_name_owner(fixture->harness, METRICS_DBUS_NAME);
	g_autoptr(GDBusMessage) signal = NULL;
	g_autoptr(GDBusMessage) call = NULL;
	g_autoptr(GVariant) before = NULL;
	g_autoptr(GVariant) after = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = NULL;
	const char *consent = NULL;

	mtest_record_batches(fixture, "kept", 5);
	before = local_data(fixture);

	/* a unicast signal: the bus refuses it, the daemon answers on */
	signal = g_dbus_message_new_signal(METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE, "Anything");
	g_dbus_message_set_destination(signal, owner);
	send_undecodable(attacker, signal);
	/* on the same connection, so after the signal */
	g_assert_true(ping(attacker, &error));
	g_assert_no_error(error);

	/* a method call of the interface, which the policy lets through */
	call = g_dbus_message_new_method_call(METRICS_DBUS_NAME, METRICS_DBUS_PATH,
					      METRICS_DBUS_INTERFACE, "GetStatus");
	send_undecodable(attacker, call);
	{
		GSubprocess *daemon = fixture->harness->daemon;

		/* either this GLib decodes it and the daemon answers, or the
		 * daemon exits on its own, with an error, not a crash */
		if (ping(attacker, &error)) {
			g_test_message("the daemon kept its connection");
		} else {
			g_test_message("the daemon lost its connection: %s", error->message);
			g_clear_error(&error);
			g_assert_true(g_subprocess_wait(daemon, NULL, NULL));
			g_assert_true(g_subprocess_get_if_exited(daemon));
			g_assert_cmpint(g_subprocess_get_exit_status(daemon), ==, 1);
			g_clear_object(&fixture->harness->daemon);
			mtest_harness_wait_for_name(fixture->harness, METRICS_DBUS_NAME, FALSE);
			mtest_harness_start_daemon(fixture->harness, NULL);
		}
	}

	/* consent and data are as they were */
	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(status, "consent", "&s", &consent));
	g_assert_cmpstr(consent, ==, "granted");
	after = local_data(fixture);
	g_assert_true(g_variant_equal(before, after));
	mtest_assert_batches_intact(fixture, "kept", 5);
	/* and the daemon records again */
	g_assert_cmpuint(mtest_record_value_batch(fixture, 20, "again"), ==, 20);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/metrics/flood/batches", MtestFixture, NULL, fixture_set_up, test_batches,
		   mtest_fixture_tear_down);
	g_test_add("/metrics/flood/small-messages", MtestFixture, NULL, fixture_set_up,
		   test_small_messages, mtest_fixture_tear_down);
	g_test_add_func("/metrics/flood/undecodable-is-undecodable",
			test_undecodable_is_undecodable);
	g_test_add("/metrics/flood/undecodable-message", MtestFixture, NULL, fixture_set_up,
		   test_undecodable_message, mtest_fixture_tear_down);
	return g_test_run();
}
