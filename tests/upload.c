/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Uploads end to end: the real daemon on a private bus sends to a
 * SoupServer in a thread of this test, which validates every request like
 * an Azafea v3 server (the sink's validator), decodes every event and
 * injects faults. Each test asserts that every recorded event reaches the
 * server exactly once, or is set aside and still visible, never lost.
 */

#include "config.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-aggregator.h"
#include "mrd-upload-body.h"
#include "mrd-uploader.h"
#include "msink-validate.h"
#include "mtest-harness.h"

#define WEEK_SECONDS (7 * 24 * 3600)

typedef enum {
	FAULT_NONE,
	FAULT_STATUS,	/* answer a status (with Retry-After if set) */
	FAULT_SLOW,	/* answer 500 after the client's timeout */
	FAULT_RESET,	/* close the connection before reading the body */
	FAULT_REDIRECT, /* answer the status with Location: /ok (a 200 handler) */
	FAULT_HOLD,	/* store the request, never answer */
	FAULT_SLOW_OK,	/* store the request, answer 200 after the client's timeout */
} FaultKind;

/* when a request arrived (monotonic usec) and from which client port */
typedef struct {
	gint64 time;
	guint16 port;
} Arrival;

typedef struct {
	FaultKind kind;
	guint status;
	guint retry_after;
} Fault;

/* ---- the mock server, in its own thread and main context ---- */

typedef struct {
	GMutex lock;
	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	SoupServer *server;
	guint16 port;
	gboolean ready;
	GCond cond;

	/* under lock */
	GArray *script; /* (element-type Fault) applied to requests in turn */
	guint n_requests;
	GPtrArray *accepted;	    /* (element-type MsinkResult) */
	GPtrArray *problems;	    /* (element-type utf8) header or privacy problems */
	GHashTable *set_aside_sums; /* checksums answered with a refusal */
	GArray *arrivals;	    /* (element-type Arrival) */
	guint n_ok_hits;	    /* requests to /ok, where redirects point */
	GPtrArray *held;	    /* (element-type SoupServerMessage) never answered */
	/* the accepted request the client cannot know was stored (held, or
	 * answered too late): the only one that may arrive twice; -1 if none */
	gint unanswered;
	/* FAULT_SLOW: when the client dropped the connection, and when the
	 * server answered; 0 if not (yet) */
	gint64 disconnected_at;
	gint64 replied_at;
	gboolean closed_before_reply;
} MockServer;

static Fault
mock_next_fault(MockServer *mock)
{
	Fault fault = {FAULT_NONE, 200, 0};

	g_mutex_lock(&mock->lock);
	if (mock->n_requests < mock->script->len)
		fault = g_array_index(mock->script, Fault, mock->n_requests);
	mock->n_requests++;
	g_mutex_unlock(&mock->lock);
	return fault;
}

static void
mock_problem(MockServer *mock, const char *problem)
{
	g_mutex_lock(&mock->lock);
	g_ptr_array_add(mock->problems, g_strdup(problem));
	g_mutex_unlock(&mock->lock);
}

static void
check_headers(MockServer *mock, SoupMessageHeaders *headers)
{
	const char *agent = soup_message_headers_get_one(headers, "User-Agent");

	/* nothing that tells machines apart */
	if (g_strcmp0(agent, "metrics-recorder") != 0)
		mock_problem(mock, "unexpected User-Agent");
	if (soup_message_headers_get_one(headers, "Cookie") != NULL)
		mock_problem(mock, "a cookie was sent");
	if (soup_message_headers_get_one(headers, "Accept-Language") != NULL)
		mock_problem(mock, "Accept-Language was sent");
	if (g_strcmp0(soup_message_headers_get_one(headers, "X-Endless-Content-Encoding"),
		      "gzip") != 0)
		mock_problem(mock, "no X-Endless-Content-Encoding: gzip");
}

static void
early_cb(SoupServer *server,
	 SoupServerMessage *message,
	 const char *path,
	 GHashTable *query,
	 gpointer user_data)
{
	MockServer *mock = user_data;
	Fault fault;
	GSocketAddress *remote = soup_server_message_get_remote_address(message);
	Arrival arrival = {g_get_monotonic_time(), 0};

	if (g_str_has_prefix(path, "/ok"))
		return;
	if (G_IS_INET_SOCKET_ADDRESS(remote))
		arrival.port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(remote));
	g_mutex_lock(&mock->lock);
	g_array_append_val(mock->arrivals, arrival);
	g_mutex_unlock(&mock->lock);
	fault = mock_next_fault(mock);
	if (fault.kind == FAULT_RESET) {
		g_autoptr(GIOStream) stream = soup_server_message_steal_connection(message);
		g_io_stream_close(stream, NULL, NULL);
		return;
	}
	g_object_set_data_full(G_OBJECT(message), "fault", g_memdup2(&fault, sizeof(fault)),
			       g_free);
}

typedef struct {
	MockServer *mock;
	SoupServerMessage *message; /* (owned) */
	guint status;
} Delayed;

static void
delayed_free(gpointer data)
{
	Delayed *delayed = data;

	g_object_unref(delayed->message);
	g_free(delayed);
}

static void
disconnected_cb(SoupServerMessage *message, gpointer user_data)
{
	MockServer *mock = user_data;

	g_mutex_lock(&mock->lock);
	if (mock->disconnected_at == 0)
		mock->disconnected_at = g_get_monotonic_time();
	g_mutex_unlock(&mock->lock);
}

/* whether the client closed its end: the socket reads end of file */
static gboolean
client_closed(SoupServerMessage *message)
{
	GSocket *socket = soup_server_message_get_socket(message);
	char byte;
	gssize n;

	if (socket == NULL || g_socket_is_closed(socket))
		return TRUE;
	if (!g_socket_condition_check(socket, G_IO_IN | G_IO_HUP | G_IO_ERR))
		return FALSE;
	n = recv(g_socket_get_fd(socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0;
}

static gboolean
unpause_cb(gpointer user_data)
{
	Delayed *delayed = user_data;
	MockServer *mock = delayed->mock;
	gboolean closed = client_closed(delayed->message);

	g_mutex_lock(&mock->lock);
	mock->replied_at = g_get_monotonic_time();
	mock->closed_before_reply = closed || mock->disconnected_at != 0;
	g_mutex_unlock(&mock->lock);
	soup_server_message_set_status(delayed->message, delayed->status, NULL);
	soup_server_message_unpause(delayed->message);
	return G_SOURCE_REMOVE;
}

static void
answer_later(MockServer *mock, SoupServerMessage *message, guint status)
{
	GSource *source = g_timeout_source_new_seconds(4);
	Delayed *delayed = g_new0(Delayed, 1);

	delayed->mock = mock;
	delayed->message = g_object_ref(message);
	delayed->status = status;
	g_signal_connect(message, "disconnected", G_CALLBACK(disconnected_cb), mock);
	soup_server_message_pause(message);
	g_source_set_callback(source, unpause_cb, delayed, delayed_free);
	g_source_attach(source, mock->context);
	g_source_unref(source);
}

static void
ok_cb(SoupServer *server,
      SoupServerMessage *message,
      const char *path,
      GHashTable *query,
      gpointer user_data)
{
	MockServer *mock = user_data;

	g_mutex_lock(&mock->lock);
	mock->n_ok_hits++;
	g_mutex_unlock(&mock->lock);
	soup_server_message_set_status(message, 200, NULL);
}

static void
request_cb(SoupServer *server,
	   SoupServerMessage *message,
	   const char *path,
	   GHashTable *query,
	   gpointer user_data)
{
	MockServer *mock = user_data;
	Fault *fault = g_object_get_data(G_OBJECT(message), "fault");
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(message);
	g_autoptr(GBytes) raw =
		soup_message_body_flatten(soup_server_message_get_request_body(message));
	MsinkResult *result = msink_validate(
		soup_server_message_get_method(message), path,
		soup_message_headers_get_one(headers, "X-Endless-Content-Encoding"), raw);

	check_headers(mock, headers);
	if (result->status != 200) {
		g_autofree char *problem =
			g_strdup_printf("invalid request: %u %s", result->status, result->message);
		mock_problem(mock, problem);
		soup_server_message_set_status(message, result->status, NULL);
		msink_result_free(result);
		return;
	}
	if (fault == NULL || fault->kind == FAULT_NONE || fault->kind == FAULT_HOLD ||
	    fault->kind == FAULT_SLOW_OK) {
		g_auto(GStrv) problems = msink_privacy_problems(result->body);

		for (guint i = 0; problems != NULL && problems[i] != NULL; i++)
			mock_problem(mock, problems[i]);
		/* stored as a server that queued it, whatever the client
		 * hears */
		g_mutex_lock(&mock->lock);
		g_ptr_array_add(mock->accepted, result);
		if (fault != NULL && fault->kind != FAULT_NONE)
			mock->unanswered = (gint)mock->accepted->len - 1;
		g_mutex_unlock(&mock->lock);
		if (fault != NULL && fault->kind == FAULT_HOLD) {
			soup_server_message_pause(message);
			g_mutex_lock(&mock->lock);
			g_ptr_array_add(mock->held, g_object_ref(message));
			g_mutex_unlock(&mock->lock);
		} else if (fault != NULL && fault->kind == FAULT_SLOW_OK) {
			answer_later(mock, message, 200);
		} else {
			soup_server_message_set_status(message, 200, NULL);
		}
		return;
	}
	if (fault->kind == FAULT_SLOW) {
		answer_later(mock, message, 500);
	} else if (fault->kind == FAULT_REDIRECT) {
		g_autofree char *location = g_strdup_printf("http://127.0.0.1:%u/ok", mock->port);

		soup_server_message_set_redirect(message, fault->status, location);
		g_mutex_lock(&mock->lock);
		g_hash_table_add(mock->set_aside_sums, g_strdup(result->checksum));
		g_mutex_unlock(&mock->lock);
	} else {
		soup_server_message_set_status(message, fault->status, NULL);
		if (fault->retry_after > 0) {
			g_autofree char *value = g_strdup_printf("%u", fault->retry_after);
			soup_message_headers_replace(
				soup_server_message_get_response_headers(message), "Retry-After",
				value);
		}
		if (!mrd_upload_status_is_retryable(fault->status)) {
			g_mutex_lock(&mock->lock);
			g_hash_table_add(mock->set_aside_sums, g_strdup(result->checksum));
			g_mutex_unlock(&mock->lock);
		}
	}
	msink_result_free(result);
}

static void
mock_listen(MockServer *mock)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, mock->port);
	GSList *uris;

	g_assert_true(soup_server_listen(mock->server, address, 0, &error));
	g_assert_no_error(error);
	uris = soup_server_get_uris(mock->server);
	mock->port = (guint16)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
}

static gpointer
mock_thread(gpointer user_data)
{
	MockServer *mock = user_data;

	g_main_context_push_thread_default(mock->context);
	mock->server = soup_server_new("server-header", "mock-azafea", NULL);
	soup_server_add_early_handler(mock->server, NULL, early_cb, mock, NULL);
	soup_server_add_handler(mock->server, NULL, request_cb, mock, NULL);
	soup_server_add_handler(mock->server, "/ok", ok_cb, mock, NULL);
	mock_listen(mock);
	g_mutex_lock(&mock->lock);
	mock->ready = TRUE;
	g_cond_signal(&mock->cond);
	g_mutex_unlock(&mock->lock);
	g_main_loop_run(mock->loop);
	g_ptr_array_set_size(mock->held, 0);
	soup_server_disconnect(mock->server);
	g_assert_finalize_object(mock->server);
	g_main_context_pop_thread_default(mock->context);
	return NULL;
}

static MockServer *
mock_new(const Fault *script, guint n_script)
{
	MockServer *mock = g_new0(MockServer, 1);

	g_mutex_init(&mock->lock);
	g_cond_init(&mock->cond);
	mock->script = g_array_new(FALSE, FALSE, sizeof(Fault));
	g_array_append_vals(mock->script, script, n_script);
	mock->accepted = g_ptr_array_new_with_free_func((GDestroyNotify)msink_result_free);
	mock->problems = g_ptr_array_new_with_free_func(g_free);
	mock->set_aside_sums = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	mock->arrivals = g_array_new(FALSE, FALSE, sizeof(Arrival));
	mock->held = g_ptr_array_new_with_free_func(g_object_unref);
	mock->unanswered = -1;
	mock->context = g_main_context_new();
	mock->loop = g_main_loop_new(mock->context, FALSE);
	return mock;
}

static void
mock_start(MockServer *mock)
{
	mock->thread = g_thread_new("mock-azafea", mock_thread, mock);
	g_mutex_lock(&mock->lock);
	while (!mock->ready)
		g_cond_wait(&mock->cond, &mock->lock);
	g_mutex_unlock(&mock->lock);
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

static void
mock_stop(MockServer *mock)
{
	if (mock->thread == NULL)
		return;
	g_main_context_invoke(mock->context, quit_cb, mock->loop);
	g_thread_join(mock->thread);
	mock->thread = NULL;
	mock->ready = FALSE;
}

static void
mock_free(MockServer *mock)
{
	mock_stop(mock);
	g_main_loop_unref(mock->loop);
	g_main_context_unref(mock->context);
	g_array_unref(mock->script);
	g_ptr_array_unref(mock->accepted);
	g_ptr_array_unref(mock->problems);
	g_hash_table_unref(mock->set_aside_sums);
	g_array_unref(mock->arrivals);
	g_ptr_array_unref(mock->held);
	g_mutex_clear(&mock->lock);
	g_cond_clear(&mock->cond);
	g_free(mock);
}

/* a free port where nothing listens yet: the server is "down" */
static guint16
free_port(void)
{
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(GError) error = NULL;

	socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
			      &error);
	g_assert_no_error(error);
	g_assert_true(g_socket_bind(socket, address, TRUE, &error));
	bound = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

/* ---- the daemon side ---- */

typedef struct {
	MtestHarness *harness;
	MockServer *mock;
	GHashTable *expected; /* "weekly id|period|payload" → count */
} Fixture;

static const char *const allowed[] = {"org.fedoraproject.Metrics1.set-consent",
				      "org.fedoraproject.Metrics1.upload-now",
				      "org.fedoraproject.Metrics1.read-all", NULL};

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	const Fault *script = user_data;
	guint n = 0;

	while (script != NULL && script[n].kind != FAULT_NONE)
		n++;
	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_set_allowed(fixture->harness, allowed);
	mtest_harness_write_consent(fixture->harness, "granted");
	fixture->mock = mock_new(script, n);
	fixture->expected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_clear_pointer(&fixture->harness, mtest_harness_free);
	g_clear_pointer(&fixture->mock, mock_free);
	g_clear_pointer(&fixture->expected, g_hash_table_unref);
}

static void
start_daemon_full(Fixture *fixture,
		  gint64 offset_seconds,
		  const char *extra_config,
		  const char *extra_arg)
{
	g_autofree char *path = g_build_filename(fixture->harness->tmpdir, "upload.conf", NULL);
	g_autofree char *contents =
		g_strdup_printf("[Upload]\n"
				"ServerUrl=http://127.0.0.1:%u\n"
				"Window=0\nSpread=0\nRetryMin=1\nRetryMax=2\nTimeout=2\n%s",
				fixture->mock->port, extra_config != NULL ? extra_config : "");
	g_autofree char *config_arg = g_strdup_printf("--config=%s", path);
	g_autofree char *offset_arg =
		g_strdup_printf("--clock-offset=%" G_GINT64_FORMAT, offset_seconds);
	const char *args[] = {config_arg, offset_arg, extra_arg, NULL};

	g_assert_true(g_file_set_contents(path, contents, -1, NULL));
	mtest_harness_start_daemon(fixture->harness, args);
}

static void
start_daemon(Fixture *fixture, gint64 offset_seconds, const char *extra_config)
{
	start_daemon_full(fixture, offset_seconds, extra_config, NULL);
}

static char *
expected_key(const guint8 weekly[16], const char *period, const char *payload)
{
	char id[METRICS_UUID_STRING_LENGTH + 1];

	metrics_uuid_unparse(weekly, id);
	return g_strdup_printf("%s|%s|%s", id, period, payload);
}

/* the id of the @m-th metric of the upload tests (tests/allowlist.d) */
#define TEST_METRIC_PREFIX "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c1"
/* metrics of an allowlist the test writes itself */
#define OWN_METRIC_PREFIX "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c2"

/* records, with the daemon's clock @offset_days back, @n_values distinct
 * values three times each for each of @n_metrics metrics (ids
 * @id_prefix and two hex digits, numbered from @first), expected at the server if @expect;
 * then stops the daemon */
static void
record_week(Fixture *fixture,
	    gint64 offset_days,
	    const char *id_prefix,
	    guint first,
	    guint n_metrics,
	    guint n_values,
	    gboolean expect,
	    const char *extra_config,
	    const char *extra_arg)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *period = NULL;
	gint64 now = g_get_real_time();

	start_daemon_full(fixture, -offset_days * 24 * 3600, extra_config, extra_arg);
	period = mrd_week_to_string(mrd_week_start(now - offset_days * G_TIME_SPAN_DAY));
	for (guint m = first; m < first + n_metrics; m++) {
		GVariantBuilder builder;
		g_autoptr(GVariant) reply = NULL;
		g_autofree char *id_str = g_strdup_printf("%s%02x", id_prefix, m);
		guint8 id[16], weekly[16];
		guint32 accepted = 0, dropped = 0;

		g_assert_true(metrics_uuid_parse(id_str, id));
		mrd_upload_weekly_id(id, weekly);
		g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
		for (guint v = 0; v < n_values; v++) {
			g_autofree char *value = g_strdup_printf(
				"org.example.App%u-%u-with-a-name-long-enough-to-fill-requests", m,
				v);
			g_autoptr(GVariant) typed = g_variant_ref_sink(g_variant_new_string(value));
			g_autofree char *text = g_variant_print(typed, TRUE);

			for (guint k = 0; k < 3; k++) {
				g_variant_builder_add(
					&builder, "(@ayuxxmv)",
					g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, 16, 1),
					(guint32)METRICS_EVENT_KIND_VALUE, now, (gint64)1,
					g_variant_new_string(value));
			}
			if (expect)
				g_hash_table_insert(fixture->expected,
						    expected_key(weekly, period, text),
						    GUINT_TO_POINTER(3));
		}
		reply = mtest_harness_call(
			fixture->harness, "RecordEvents",
			g_variant_new("(@aya{sv})",
				      metrics_batch_to_wire(g_variant_builder_end(&builder)), NULL),
			"(uu)", &error);
		g_assert_no_error(error);
		g_variant_get(reply, "(uu)", &accepted, &dropped);
		g_assert_cmpuint(accepted, ==, n_values * 3);
	}
	mtest_harness_stop_daemon(fixture->harness, FALSE);
}

/* records in a week 8 days back; a restart on the real clock finds that
 * week closed */
static void
record_closed_week(Fixture *fixture, guint n_metrics, guint n_values, const char *extra_config)
{
	record_week(fixture, 8, TEST_METRIC_PREFIX, 0, n_metrics, n_values, TRUE, extra_config,
		    NULL);
}

static GVariant *
call(Fixture *fixture, const char *method, const char *reply_type)
{
	g_autoptr(GError) error = NULL;
	GVariant *reply = mtest_harness_call(
		fixture->harness, method,
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		reply_type, &error);
	g_assert_no_error(error);
	return reply;
}

static guint64
status_u64(Fixture *fixture, const char *key)
{
	g_autoptr(GVariant) status = mtest_harness_get_status_all(fixture->harness);
	guint64 value = 0;
	gint64 signed_value = 0;

	if (g_variant_lookup(status, key, "t", &value))
		return value;
	g_assert_true(g_variant_lookup(status, key, "x", &signed_value));
	return (guint64)signed_value;
}

static guint
n_accepted(Fixture *fixture)
{
	guint n;

	g_mutex_lock(&fixture->mock->lock);
	n = fixture->mock->accepted->len;
	g_mutex_unlock(&fixture->mock->lock);
	return n;
}

static guint
n_requests(Fixture *fixture)
{
	guint n;

	g_mutex_lock(&fixture->mock->lock);
	n = fixture->mock->n_requests;
	g_mutex_unlock(&fixture->mock->lock);
	return n;
}

static gboolean
outbox_settled_cb(gpointer user_data)
{
	return status_u64(user_data, "pending-uploads") == 0;
}

/* waits until the outbox holds nothing pending */
static void
wait_outbox_settled(Fixture *fixture)
{
	mtest_wait_until(outbox_settled_cb, fixture, "the uploads to finish");
}

typedef struct {
	Fixture *fixture;
	guint n;
} AttemptWait;

/* whether the first @n pending requests have been tried at least once */
static gboolean
attempted_cb(gpointer user_data)
{
	AttemptWait *wait = user_data;
	g_autoptr(GVariant) reply = call(wait->fixture, "GetPendingUploads", "(aa{sv})");
	g_autoptr(GVariant) requests = g_variant_get_child_value(reply, 0);

	if (g_variant_n_children(requests) < wait->n)
		return FALSE;
	for (guint i = 0; i < wait->n; i++) {
		g_autoptr(GVariant) request = g_variant_get_child_value(requests, i);
		guint32 attempts = 0;

		if (!g_variant_lookup(request, "attempts", "u", &attempts) || attempts == 0)
			return FALSE;
	}
	return TRUE;
}

/* waits until the daemon has tried the first @n requests and noted how it
 * went */
static void
wait_attempted(Fixture *fixture, guint n)
{
	AttemptWait wait = {fixture, n};

	mtest_wait_until(attempted_cb, &wait, "the daemon to try the uploads");
}

typedef struct {
	Fixture *fixture;
	guint n;
} RequestWait;

static gboolean
requests_cb(gpointer user_data)
{
	RequestWait *wait = user_data;

	return n_requests(wait->fixture) >= wait->n;
}

/* waits until the server has had @n requests */
static void
wait_for_requests(Fixture *fixture, guint n)
{
	RequestWait wait = {fixture, n};

	mtest_wait_until(requests_cb, &wait, "requests to the server");
}

static void
add_events(GHashTable *seen, const char *what, GVariant *events, gboolean text_ids)
{
	GVariantIter iter;
	g_autoptr(GVariant) event = NULL;

	g_variant_iter_init(&iter, events);
	while ((event = g_variant_iter_next_value(&iter)) != NULL) {
		g_autofree char *key = NULL;
		g_autofree char *payload_text = NULL;
		g_autoptr(GVariant) payload = g_variant_get_child_value(event, 4);
		const char *period = NULL;
		guint32 count = 0;

		g_variant_get_child(event, 2, "&s", &period);
		g_variant_get_child(event, 3, "u", &count);
		if (text_ids) {
			/* (sssuav) from the bus */
			const char *id = NULL;
			g_autoptr(GVariant) value = NULL;

			g_variant_get_child(event, 0, "&s", &id);
			g_assert_cmpuint(g_variant_n_children(payload), ==, 1);
			value = g_variant_get_child_value(payload, 0);
			{
				g_autoptr(GVariant) inner = g_variant_get_variant(value);
				payload_text = g_variant_print(inner, TRUE);
			}
			key = g_strdup_printf("%s|%s|%s", id, period, payload_text);
		} else {
			/* (ayssumv) from a request body */
			g_autoptr(GVariant) id = g_variant_get_child_value(event, 0);
			g_autoptr(GVariant) boxed = g_variant_get_maybe(payload);
			g_autoptr(GVariant) inner = NULL;
			gsize len = 0;

			g_assert_nonnull(boxed);
			inner = g_variant_get_variant(boxed);
			payload_text = g_variant_print(inner, TRUE);
			key = expected_key(g_variant_get_fixed_array(id, &len, 1), period,
					   payload_text);
			g_assert_cmpuint(len, ==, 16);
		}
		if (g_hash_table_contains(seen, key))
			g_error("%s: event %s twice", what, key);
		g_hash_table_insert(seen, g_steal_pointer(&key), GUINT_TO_POINTER(count));
		g_clear_pointer(&event, g_variant_unref);
	}
}

/* whether @events (of a request body) were all seen already: the whole
 * request was sent again; a request that repeats only some is an error */
static gboolean
request_seen_before(GHashTable *seen, GVariant *events)
{
	g_autoptr(GHashTable) mine = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter iter;
	gpointer key;
	guint n_seen = 0, n = 0;

	add_events(mine, "one request", events, FALSE);
	g_hash_table_iter_init(&iter, mine);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		n++;
		if (g_hash_table_contains(seen, key))
			n_seen++;
	}
	if (n_seen > 0 && n_seen != n)
		g_error("a request repeats %u of its %u events", n_seen, n);
	return n > 0 && n_seen == n;
}

/* every recorded event reached the server exactly once, or is set aside:
 * nothing lost; nothing twice except the events of at most @max_duplicates
 * whole requests sent again (the one in flight at a crash or timeout) */
static void
assert_delivered(Fixture *fixture, guint expect_set_aside, guint max_duplicates)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GVariant) reply = call(fixture, "GetPendingUploads", "(aa{sv})");
	g_autoptr(GVariant) requests = g_variant_get_child_value(reply, 0);
	GHashTableIter iter;
	gpointer key, value;
	guint n_set_aside = 0;
	guint n_duplicates = 0;
	const char *os_version = mrd_upload_get_os_version();

	g_mutex_lock(&fixture->mock->lock);
	for (guint i = 0; i < fixture->mock->problems->len; i++)
		g_test_message("problem: %s",
			       (char *)g_ptr_array_index(fixture->mock->problems, i));
	g_assert_cmpuint(fixture->mock->problems->len, ==, 0);
	for (guint i = 0; i < fixture->mock->accepted->len; i++) {
		MsinkResult *result = g_ptr_array_index(fixture->mock->accepted, i);
		g_autoptr(GVariant) events = g_variant_get_child_value(result->body, 6);
		const char *os = NULL;

		g_variant_get_child(events, 0, "(@ay&ssu@mv)", NULL, &os, NULL, NULL, NULL);
		g_assert_cmpstr(os, ==, os_version);
		g_assert_cmpuint(result->compressed_size, <=, 65536);
		if (request_seen_before(seen, events)) {
			MsinkResult *unanswered = NULL;
			g_autoptr(GVariant) unanswered_events = NULL;

			/* only the request whose answer the client never got
			 * may come again, with the very same events */
			g_assert_cmpint(fixture->mock->unanswered, >=, 0);
			unanswered = g_ptr_array_index(fixture->mock->accepted,
						       fixture->mock->unanswered);
			unanswered_events = g_variant_get_child_value(unanswered->body, 6);
			g_assert_true(g_variant_equal(events, unanswered_events));
			n_duplicates++;
			continue;
		}
		add_events(seen, "accepted", events, FALSE);
	}
	g_mutex_unlock(&fixture->mock->lock);
	g_test_message("%u requests were sent twice", n_duplicates);
	g_assert_cmpuint(n_duplicates, <=, max_duplicates);

	for (gsize i = 0; i < g_variant_n_children(requests); i++) {
		g_autoptr(GVariant) request = g_variant_get_child_value(requests, i);
		g_autoptr(GVariant) events = g_variant_lookup_value(request, "events", NULL);
		const char *state = NULL;

		g_assert_true(g_variant_lookup(request, "state", "&s", &state));
		if (g_strcmp0(state, "next") == 0)
			continue;
		g_assert_cmpstr(state, ==, "set-aside");
		n_set_aside++;
		add_events(seen, "set aside", events, TRUE);
	}
	g_assert_cmpuint(n_set_aside, ==, expect_set_aside);
	g_assert_cmpuint(status_u64(fixture, "set-aside"), ==, expect_set_aside);

	g_assert_cmpuint(g_hash_table_size(seen), ==, g_hash_table_size(fixture->expected));
	g_hash_table_iter_init(&iter, fixture->expected);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		gpointer count = NULL;

		if (!g_hash_table_lookup_extended(seen, key, NULL, &count))
			g_error("event %s was lost", (char *)key);
		g_assert_cmpuint(GPOINTER_TO_UINT(count), ==, GPOINTER_TO_UINT(value));
	}
}

static void
assert_all_delivered(Fixture *fixture, guint expect_set_aside)
{
	assert_delivered(fixture, expect_set_aside, 0);
}

static void
test_basic(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GVariant) sent = NULL;
	g_autoptr(GVariant) local = NULL;
	g_autoptr(GVariant) requests = NULL;

	mock_start(fixture->mock);
	record_closed_week(fixture, 3, 2, NULL);
	start_daemon(fixture, 0, NULL);
	wait_outbox_settled(fixture);
	/* one request per metric-week */
	g_assert_cmpuint(n_accepted(fixture), ==, 3);
	g_assert_cmpuint(n_requests(fixture), ==, 3);
	assert_all_delivered(fixture, 0);
	g_assert_cmpuint(status_u64(fixture, "last-upload"), >, 0);
	g_assert_cmpuint(status_u64(fixture, "next-upload"), ==, 0);

	/* the archive has what was sent; the aggregates are gone */
	sent = call(fixture, "GetSentUploads", "(aa{sv})");
	requests = g_variant_get_child_value(sent, 0);
	g_assert_cmpuint(g_variant_n_children(requests), ==, 3);
	local = call(fixture, "GetLocalData", "(a(ussuavtt))");
	g_assert_cmpuint(g_variant_n_children(g_variant_get_child_value(local, 0)), ==, 0);
}

static const Fault faults[] = {
	{FAULT_STATUS, 500, 0}, {FAULT_STATUS, 503, 1}, {FAULT_STATUS, 400, 0},
	{FAULT_STATUS, 413, 0}, {FAULT_SLOW, 0, 0},	{FAULT_RESET, 0, 0},
	{FAULT_NONE, 0, 0},
};

/* 500, 503 with Retry-After, a timeout and a reset are retried; 400 and
 * 413 are set aside */
static void
test_faults(Fixture *fixture, gconstpointer user_data)
{
	mock_start(fixture->mock);
	record_closed_week(fixture, 8, 1, NULL);
	start_daemon(fixture, 0, NULL);
	wait_outbox_settled(fixture);
	g_assert_cmpuint(n_accepted(fixture), ==, 6);
	/* 8 first tries, 4 retries */
	g_assert_cmpuint(n_requests(fixture), ==, 12);
	assert_all_delivered(fixture, 2);
	g_mutex_lock(&fixture->mock->lock);
	g_assert_cmpuint(g_hash_table_size(fixture->mock->set_aside_sums), ==, 2);
	g_mutex_unlock(&fixture->mock->lock);
}

static void
test_down_then_up(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) requests = NULL;
	g_autoptr(GVariant) first = NULL;
	guint32 attempts = 0, status = 1;

	fixture->mock->port = free_port();
	record_closed_week(fixture, 2, 2, NULL);
	start_daemon(fixture, 0, NULL);
	/* nobody listens: the daemon keeps the requests and retries */
	wait_attempted(fixture, 1);
	reply = call(fixture, "GetPendingUploads", "(aa{sv})");
	requests = g_variant_get_child_value(reply, 0);
	g_assert_cmpuint(g_variant_n_children(requests), ==, 2);
	first = g_variant_get_child_value(requests, 0);
	g_assert_true(g_variant_lookup(first, "attempts", "u", &attempts));
	g_assert_true(g_variant_lookup(first, "last-status", "u", &status));
	g_assert_cmpuint(attempts, >=, 1);
	g_assert_cmpuint(status, ==, 0);
	mock_start(fixture->mock);
	wait_outbox_settled(fixture);
	g_assert_cmpuint(n_accepted(fixture), ==, 2);
	assert_all_delivered(fixture, 0);
}

static const Fault two_unavailable[] = {
	{FAULT_STATUS, 503, 0},
	{FAULT_STATUS, 503, 0},
	{FAULT_NONE, 0, 0},
};

/* a kill -9 between a failure and the retry loses and duplicates nothing */
static void
test_restart(Fixture *fixture, gconstpointer user_data)
{
	const char *slow_retry = "RetryMin=4\nRetryMax=4\n";

	mock_start(fixture->mock);
	record_closed_week(fixture, 2, 3, slow_retry);
	start_daemon(fixture, 0, slow_retry);
	/* both failed, and the daemon has noted it */
	wait_for_requests(fixture, 2);
	wait_attempted(fixture, 2);
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	g_assert_cmpuint(n_accepted(fixture), ==, 0);
	start_daemon(fixture, 0, slow_retry);
	wait_outbox_settled(fixture);
	g_assert_cmpuint(n_requests(fixture), ==, 4);
	assert_all_delivered(fixture, 0);
}

static const Fault one_slow[] = {
	{FAULT_SLOW, 0, 0},
	{FAULT_NONE, 0, 0},
};

static gboolean
replied_cb(gpointer user_data)
{
	MockServer *mock = user_data;
	gint64 replied_at;

	g_mutex_lock(&mock->lock);
	replied_at = mock->replied_at;
	g_mutex_unlock(&mock->lock);
	return replied_at != 0;
}

/* denying consent cancels the upload in flight and deletes the outbox */
static void
test_consent_denied(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	(void)METRICS_ERROR; /* maps the D-Bus errors back */
	mock_start(fixture->mock);
	record_closed_week(fixture, 2, 1, "Timeout=10\n");
	start_daemon(fixture, 0, "Timeout=10\n");
	wait_for_requests(fixture, 1);
	reply = mtest_harness_call(
		fixture->harness, "SetConsent",
		g_variant_new("(s@a{sv})", "denied",
			      g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		NULL, &error);
	g_assert_no_error(error);
	g_assert_false(mtest_harness_state_contains(fixture->harness, "SQLite format"));
	/* the server answers 4 s after the request; by then the client must
	 * have dropped the connection (the daemon's timeout is 10 s, so
	 * only the cancellation can have closed it) */
	mtest_wait_until(replied_cb, fixture->mock, "the server to answer");
	g_mutex_lock(&fixture->mock->lock);
	g_assert_true(fixture->mock->closed_before_reply);
	g_mutex_unlock(&fixture->mock->lock);
	/* a second's watch, not a wait for anything: no new request */
	g_usleep(G_USEC_PER_SEC);
	g_assert_cmpuint(n_requests(fixture), ==, 1);
	g_assert_cmpuint(n_accepted(fixture), ==, 0);
	/* nothing kept: no outbox, no archive, no store file */
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 0);
	g_assert_cmpuint(status_u64(fixture, "set-aside"), ==, 0);
	g_assert_false(mtest_harness_state_contains(fixture->harness, "SQLite format"));
	reply = mtest_harness_call(
		fixture->harness, "GetSentUploads",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(aa{sv})", &error);
	if (error == NULL) {
		g_autoptr(GVariant) sent = g_variant_get_child_value(reply, 0);
		g_assert_cmpuint(g_variant_n_children(sent), ==, 0);
	} else {
		g_assert_error(error, METRICS_ERROR, METRICS_ERROR_DISABLED);
	}
}

/* runs metrics-cli --json show @what; returns the number of requests */
static guint
cli_count_requests(Fixture *fixture, const char *what)
{
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	const char *argv[] = {cli, "--json", "show", what, NULL};
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonArray *requests;

	g_assert_cmpint(mtest_harness_run(fixture->harness, argv, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	node = json_from_string(out, NULL);
	g_assert_nonnull(node);
	requests = json_object_get_array_member(json_node_get_object(node), "requests");
	for (guint i = 0; i < json_array_get_length(requests); i++) {
		JsonObject *request = json_array_get_object_element(requests, i);
		g_assert_true(json_object_has_member(request, "metric"));
		g_assert_cmpuint(
			json_array_get_length(json_object_get_array_member(request, "events")), >,
			0);
	}
	return json_array_get_length(requests);
}

/* with a window, requests wait for their own random moments; UploadNow
 * sends them all at once */
static void
test_upload_now(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GVariant) pending = NULL;
	g_autoptr(GVariant) requests = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GHashTable) dues = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autofree gint64 *values = g_new0(gint64, 4);
	gint64 now = g_get_real_time();
	guint32 sent = 0, failed = 0;
	guint n_planned;

	mock_start(fixture->mock);
	record_closed_week(fixture, 4, 1, "Window=7\n");
	n_planned = mtest_harness_count_in_daemon_log(fixture->harness, "next upload wake-up in");
	start_daemon(fixture, 0, "Window=7\n");
	/* the daemon has planned its next upload: nothing goes out before */
	mtest_harness_wait_for_daemon_log(fixture->harness, "next upload wake-up in",
					  n_planned + 1);
	g_assert_cmpuint(n_requests(fixture), ==, 0);
	pending = call(fixture, "GetPendingUploads", "(aa{sv})");
	requests = g_variant_get_child_value(pending, 0);
	g_assert_cmpuint(g_variant_n_children(requests), ==, 4);
	for (guint i = 0; i < 4; i++) {
		g_autoptr(GVariant) request = g_variant_get_child_value(requests, i);

		g_assert_true(g_variant_lookup(request, "due", "x", &values[i]));
		g_assert_cmpint(values[i], >=, now);
		g_assert_cmpint(values[i], <=, now + 7 * G_TIME_SPAN_DAY + 10 * G_USEC_PER_SEC);
		g_hash_table_add(dues, &values[i]);
	}
	/* each at its own moment */
	g_assert_cmpuint(g_hash_table_size(dues), ==, 4);

	/* metrics-cli shows what will leave, then sends it */
	g_assert_cmpuint(cli_count_requests(fixture, "--next"), ==, 4);
	{
		g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
		const char *argv[] = {cli, "--json", "upload", NULL};
		g_autofree char *out = NULL;
		g_autofree char *err = NULL;
		g_autoptr(JsonNode) node = NULL;

		g_assert_cmpint(mtest_harness_run(fixture->harness, argv, &out, &err), ==, 0);
		g_assert_cmpstr(err, ==, "");
		node = json_from_string(out, NULL);
		g_assert_nonnull(node);
		sent = (guint32)json_object_get_int_member(json_node_get_object(node), "sent");
		failed = (guint32)json_object_get_int_member(json_node_get_object(node), "failed");
	}
	g_assert_cmpuint(sent, ==, 4);
	g_assert_cmpuint(failed, ==, 0);
	g_assert_cmpuint(n_accepted(fixture), ==, 4);
	assert_all_delivered(fixture, 0);
	g_assert_cmpuint(cli_count_requests(fixture, "--sent"), ==, 4);

	/* nothing left: UploadNow sends nothing */
	reply = call(fixture, "UploadNow", "(uu)");
	g_variant_get(reply, "(uu)", &sent, &failed);
	g_assert_cmpuint(sent, ==, 0);
	g_assert_cmpuint(failed, ==, 0);
}

/* a metric-week larger than the cap is split into several requests */
static void
test_split(Fixture *fixture, gconstpointer user_data)
{
	const char *small = "MaxRequestSize=4096\n";

	mock_start(fixture->mock);
	record_closed_week(fixture, 1, 150, small);
	start_daemon(fixture, 0, small);
	wait_outbox_settled(fixture);
	g_assert_cmpuint(n_accepted(fixture), >, 1);
	g_mutex_lock(&fixture->mock->lock);
	for (guint i = 0; i < fixture->mock->accepted->len; i++) {
		MsinkResult *result = g_ptr_array_index(fixture->mock->accepted, i);
		g_assert_cmpuint(result->compressed_size, <=, 4096);
	}
	g_mutex_unlock(&fixture->mock->lock);
	assert_all_delivered(fixture, 0);
}

static const Fault two_redirects[] = {
	{FAULT_REDIRECT, 302, 0},
	{FAULT_REDIRECT, 303, 0},
	{FAULT_NONE, 0, 0},
};

/* a redirect is not followed: a 302 or 303 would be followed with a GET
 * whose 200 would mark the request delivered; both are set aside */
static void
test_redirect(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GVariant) sent = NULL;
	g_autoptr(GVariant) requests = NULL;

	mock_start(fixture->mock);
	record_closed_week(fixture, 2, 1, NULL);
	start_daemon(fixture, 0, NULL);
	wait_outbox_settled(fixture);
	g_assert_cmpuint(n_requests(fixture), ==, 2);
	g_assert_cmpuint(n_accepted(fixture), ==, 0);
	g_mutex_lock(&fixture->mock->lock);
	g_assert_cmpuint(fixture->mock->n_ok_hits, ==, 0);
	g_assert_cmpuint(g_hash_table_size(fixture->mock->set_aside_sums), ==, 2);
	g_mutex_unlock(&fixture->mock->lock);
	assert_all_delivered(fixture, 2);
	sent = call(fixture, "GetSentUploads", "(aa{sv})");
	requests = g_variant_get_child_value(sent, 0);
	g_assert_cmpuint(g_variant_n_children(requests), ==, 0);
	g_assert_cmpuint(status_u64(fixture, "last-upload"), ==, 0);
}

static const Fault one_held[] = {
	{FAULT_HOLD, 0, 0},
	{FAULT_NONE, 0, 0},
};

static gboolean
held_cb(gpointer user_data)
{
	MockServer *mock = user_data;
	guint n_held;

	g_mutex_lock(&mock->lock);
	n_held = mock->held->len;
	g_mutex_unlock(&mock->lock);
	return n_held > 0;
}

/* kill -9 while the server holds a request it has stored: after the
 * restart that one request may arrive twice, everything else once */
static void
test_crash_mid_upload(Fixture *fixture, gconstpointer user_data)
{
	const char *patient = "Timeout=30\n";

	mock_start(fixture->mock);
	record_closed_week(fixture, 3, 2, patient);
	start_daemon(fixture, 0, patient);
	mtest_wait_until(held_cb, fixture->mock, "the server to hold a request");
	/* one request at a time: the others wait for the held one */
	g_assert_cmpuint(n_requests(fixture), ==, 1);
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	start_daemon(fixture, 0, patient);
	wait_outbox_settled(fixture);
	g_assert_cmpuint(n_accepted(fixture), <=, 4);
	assert_delivered(fixture, 0, 1);
}

static const Fault one_slow_ok[] = {
	{FAULT_SLOW_OK, 0, 0},
	{FAULT_NONE, 0, 0},
};

/* the server stores a request but answers after the client gave up: that
 * request is sent again, once */
static void
test_slow_ok(Fixture *fixture, gconstpointer user_data)
{
	mock_start(fixture->mock);
	record_closed_week(fixture, 2, 2, NULL);
	start_daemon(fixture, 0, NULL);
	wait_outbox_settled(fixture);
	g_assert_cmpuint(n_requests(fixture), ==, 3);
	g_assert_cmpuint(n_accepted(fixture), ==, 3);
	assert_delivered(fixture, 0, 1);
}

static const Fault retry_after_3[] = {
	{FAULT_STATUS, 503, 3},
	{FAULT_NONE, 0, 0},
};

/* Retry-After is honoured even when longer than RetryMax */
static void
test_retry_after_longer(Fixture *fixture, gconstpointer user_data)
{
	const char *short_max = "RetryMin=1\nRetryMax=1\n";
	Arrival first, second;

	mock_start(fixture->mock);
	record_closed_week(fixture, 1, 1, short_max);
	start_daemon(fixture, 0, short_max);
	wait_outbox_settled(fixture);
	assert_all_delivered(fixture, 0);
	g_mutex_lock(&fixture->mock->lock);
	g_assert_cmpuint(fixture->mock->arrivals->len, ==, 2);
	first = g_array_index(fixture->mock->arrivals, Arrival, 0);
	second = g_array_index(fixture->mock->arrivals, Arrival, 1);
	g_mutex_unlock(&fixture->mock->lock);
	g_test_message("retried after %" G_GINT64_FORMAT " ms", (second.time - first.time) / 1000);
	g_assert_cmpint(second.time - first.time, >=, 3 * G_USEC_PER_SEC);
}

/* a backlog due at once (the week closed while the daemon was stopped)
 * does not leave back to back, and no two requests share a connection */
static void
test_spread(Fixture *fixture, gconstpointer user_data)
{
	const char *spread = "Spread=3\n";
	g_autoptr(GHashTable) ports = g_hash_table_new(g_direct_hash, g_direct_equal);
	gint64 first = G_MAXINT64, last = 0;

	mock_start(fixture->mock);
	record_closed_week(fixture, 5, 1, spread);
	start_daemon(fixture, 0, spread);
	wait_outbox_settled(fixture);
	assert_all_delivered(fixture, 0);
	g_mutex_lock(&fixture->mock->lock);
	g_assert_cmpuint(fixture->mock->arrivals->len, ==, 5);
	for (guint i = 0; i < fixture->mock->arrivals->len; i++) {
		Arrival *arrival = &g_array_index(fixture->mock->arrivals, Arrival, i);

		g_test_message(
			"request %u at +%" G_GINT64_FORMAT " ms from port %u", i,
			(arrival->time - g_array_index(fixture->mock->arrivals, Arrival, 0).time) /
				1000,
			arrival->port);
		g_assert_cmpuint(arrival->port, !=, 0);
		g_assert_false(g_hash_table_contains(ports, GUINT_TO_POINTER(arrival->port)));
		g_hash_table_add(ports, GUINT_TO_POINTER(arrival->port));
		first = MIN(first, arrival->time);
		last = MAX(last, arrival->time);
	}
	g_mutex_unlock(&fixture->mock->lock);
	/* back to back they take a few ms; spread over 3 s, the chance that
	 * four random moments all fall in the first 200 ms is below 1e-4 */
	g_assert_cmpint(last - first, >, 200 * 1000);
}

static guint64
drops_for(Fixture *fixture, const char *reason)
{
	g_autoptr(GVariant) status = mtest_harness_get_status_all(fixture->harness);
	g_autoptr(GVariant) drops =
		g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	guint64 n = 0;

	g_assert_nonnull(drops);
	g_variant_lookup(drops, reason, "t", &n);
	return n;
}

/* what could not be sent within the retention limit (8 weeks) is
 * dropped, counted, and not retried for ever */
static void
test_retention(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) requests = NULL;

	/* the server is down the whole time */
	fixture->mock->port = free_port();
	record_week(fixture, 63, TEST_METRIC_PREFIX, 0, 2, 2, FALSE, NULL, NULL);
	/* a week later it was frozen for upload, and could not be sent */
	start_daemon(fixture, -55 * 24 * 3600, NULL);
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 2);
	g_assert_cmpuint(drops_for(fixture, "retention"), ==, 0);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	/* today that week is 9 weeks old */
	start_daemon(fixture, 0, NULL);
	g_assert_cmpuint(drops_for(fixture, "retention"), ==, 2 * 2 * 3);
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 0);
	reply = call(fixture, "GetPendingUploads", "(aa{sv})");
	requests = g_variant_get_child_value(reply, 0);
	g_assert_cmpuint(g_variant_n_children(requests), ==, 0);
}

/* writes an allowlist file with one metric @id expiring on @expires */
static void
write_allowlist(const char *dir, const char *name, const char *id, const char *expires)
{
	g_autofree char *path = NULL;
	g_autofree char *json = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autoptr(GDateTime) added_date = g_date_time_add_days(now, -60);
	g_autofree char *added = g_date_time_format(added_date, "%Y-%m-%d");

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	path = g_strdup_printf("%s/%s.json", dir, name);
	json = g_strdup_printf(
		"{\"format\": 1, \"metrics\": [{\"id\": \"%s\", \"name\": \"%s\", "
		"\"description\": \"A metric of the upload tests.\", \"purpose\": \"Tests.\", "
		"\"owner\": \"Fedora Metrics tests\", \"category\": \"usage\", \"kind\": \"value\", "
		"\"payload\": \"s\", \"values_from\": \"test-values\", "
		"\"recorders\": [\"session\", \"user:root\"], \"added\": \"%s\", \"expires\": \"%s\", "
		"\"weekly_cap\": 1000000000}]}\n",
		id, name, added, expires);
	g_assert_true(g_file_set_contents(path, json, -1, NULL));
}

/* the allowlist is asked again when a week is frozen and before each
 * send: a metric withdrawn or expired since it was recorded is dropped
 * and counted, not uploaded */
static void
test_allowlist_recheck(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *dir = g_build_filename(fixture->harness->tmpdir, "allowlist", NULL);
	g_autofree char *dir_arg = g_strdup_printf("--allowlist-dir=%s", dir);
	g_autofree char *withdrawn_path = g_build_filename(dir, "withdrawn.json", NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autoptr(GDateTime) yesterday = g_date_time_add_days(now, -1);
	g_autofree char *expires = g_date_time_format(yesterday, "%Y-%m-%d");

	/* c200 is withdrawn after recording; c201 expires at 00:00 UTC today */
	write_allowlist(dir, "withdrawn", OWN_METRIC_PREFIX "00", expires);
	write_allowlist(dir, "expiring", OWN_METRIC_PREFIX "01", expires);
	fixture->mock->port = free_port();
	record_week(fixture, 8, TEST_METRIC_PREFIX, 0, 1, 2, TRUE, NULL, dir_arg);
	record_week(fixture, 8, OWN_METRIC_PREFIX, 0, 2, 2, FALSE, NULL, dir_arg);
	g_assert_cmpint(g_unlink(withdrawn_path), ==, 0);

	/* yesterday: the week is frozen without the withdrawn metric; the
	 * server is down, nothing leaves */
	start_daemon_full(fixture, -24 * 3600, NULL, dir_arg);
	g_assert_cmpuint(drops_for(fixture, "not-allowlisted"), ==, 2 * 3);
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 2);
	mtest_harness_stop_daemon(fixture->harness, FALSE);

	/* today: the expiring metric has expired; its request is dropped
	 * before it is sent */
	mock_start(fixture->mock);
	start_daemon_full(fixture, 0, NULL, dir_arg);
	wait_outbox_settled(fixture);
	g_assert_cmpuint(drops_for(fixture, "expired"), ==, 2 * 3);
	g_assert_cmpuint(n_accepted(fixture), ==, 1);
	assert_all_delivered(fixture, 0);
}

/* UploadNow fails clearly without consent and without authorisation */
static void
test_upload_now_errors(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const char *no_upload[] = {"org.fedoraproject.Metrics1.read-all", NULL};

	(void)METRICS_ERROR; /* maps the D-Bus errors back */
	mock_start(fixture->mock);
	record_closed_week(fixture, 1, 1, "Window=7\n");

	/* polkit says no */
	mtest_harness_set_allowed(fixture->harness, no_upload);
	start_daemon(fixture, 0, "Window=7\n");
	reply = mtest_harness_call(
		fixture->harness, "UploadNow",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(uu)", &error);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	g_assert_null(reply);
	g_assert_cmpuint(n_requests(fixture), ==, 0);
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 1);
	mtest_harness_stop_daemon(fixture->harness, FALSE);

	/* no consent */
	mtest_harness_set_allowed(fixture->harness, allowed);
	mtest_harness_write_consent(fixture->harness, "denied");
	start_daemon(fixture, 0, "Window=7\n");
	reply = mtest_harness_call(
		fixture->harness, "UploadNow",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(uu)", &error);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_DISABLED);
	g_assert_null(reply);
	g_assert_cmpuint(n_requests(fixture), ==, 0);
}

/* reads lines from the sink's stdout until one starts with @prefix */
static char *
read_line_with(GDataInputStream *stream, const char *prefix)
{
	while (TRUE) {
		g_autoptr(GError) error = NULL;
		g_autofree char *line =
			g_data_input_stream_read_line_utf8(stream, NULL, NULL, &error);

		g_assert_no_error(error);
		if (line == NULL)
			return NULL;
		g_test_message("sink: %s", line);
		if (g_str_has_prefix(line, prefix))
			return g_steal_pointer(&line);
	}
}

/* the development sink (tools/metrics-sink) takes a real upload */
static void
test_metrics_sink(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *sink_path = mtest_harness_build_path("MTEST_SINK");
	g_autofree char *output = g_build_filename(fixture->harness->tmpdir, "sink.jsonl", NULL);
	g_autofree char *output_arg = g_strdup_printf("--output=%s", output);
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GSubprocess) sink = NULL;
	g_autoptr(GDataInputStream) stdout_stream = NULL;
	g_autoptr(GUri) uri = NULL;
	g_autofree char *url = NULL;
	g_autofree char *summary = NULL;
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint32 sent = 0, failed = 0;
	guint n_aggregates = 0;

	sink = mtest_harness_spawn(fixture->harness, launcher,
				   (const char *const[]){sink_path, "--port=0", output_arg, NULL});
	stdout_stream = g_data_input_stream_new(g_subprocess_get_stdout_pipe(sink));
	url = read_line_with(stdout_stream, "http://127.0.0.1:");
	g_assert_nonnull(url);
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, &error);
	g_assert_no_error(error);
	fixture->mock->port = (guint16)g_uri_get_port(uri);

	record_closed_week(fixture, 2, 3, "Window=7\n");
	start_daemon(fixture, 0, "Window=7\n");
	reply = call(fixture, "UploadNow", "(uu)");
	g_variant_get(reply, "(uu)", &sent, &failed);
	g_assert_cmpuint(sent, ==, 2);
	g_assert_cmpuint(failed, ==, 0);
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 0);
	g_assert_cmpuint(status_u64(fixture, "set-aside"), ==, 0);

	g_subprocess_send_signal(sink, SIGTERM);
	summary = read_line_with(stdout_stream, "2 requests accepted");
	g_assert_cmpstr(summary, ==, "2 requests accepted, 0 rejected");
	g_assert_true(g_subprocess_wait_check(sink, NULL, &error));
	g_assert_no_error(error);

	/* one JSON line per request, with the decoded events */
	g_assert_true(g_file_get_contents(output, &contents, NULL, &error));
	lines = g_strsplit(g_strchomp(contents), "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 2);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(JsonNode) node = json_from_string(lines[i], &error);
		JsonObject *object;
		JsonArray *aggregates;

		g_assert_no_error(error);
		object = json_node_get_object(node);
		g_assert_cmpstr(json_object_get_string_member(object, "image-id"), ==, "unknown");
		g_assert_cmpint(json_object_get_int_member(object, "singular-events"), ==, 0);
		aggregates = json_object_get_array_member(object, "aggregates");
		for (guint j = 0; j < json_array_get_length(aggregates); j++) {
			JsonObject *event = json_array_get_object_element(aggregates, j);
			const char *payload = json_object_get_string_member(event, "payload");

			g_assert_cmpint(json_object_get_int_member(event, "count"), ==, 3);
			g_assert_true(g_str_has_prefix(payload, "'org.example.App"));
			n_aggregates++;
		}
	}
	g_assert_cmpuint(n_aggregates, ==, 6);
}

/* records batches of new values into a week 8 days back, in a store capped
 * at 64 KiB, until it is full; every accepted event is expected at the
 * server. Returns how many events were accepted */
static guint64
fill_closed_week(Fixture *fixture, const char *extra_config, const char *extra_arg)
{
	gint64 now = g_get_real_time();
	g_autofree char *period = mrd_week_to_string(mrd_week_start(now - 8 * G_TIME_SPAN_DAY));
	guint64 accepted_total = 0;
	guint n_full_batches = 0;

	start_daemon_full(fixture, -8 * 24 * 3600, extra_config, extra_arg);
	for (guint b = 0; b < 400 && n_full_batches < 3; b++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
		g_autofree char *id_str = g_strdup_printf("%s%02x", TEST_METRIC_PREFIX, b % 4);
		GVariantBuilder builder;
		guint8 id[16], weekly[16];
		guint32 accepted = 0, dropped = 0;

		g_assert_true(metrics_uuid_parse(id_str, id));
		mrd_upload_weekly_id(id, weekly);
		g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
		for (guint v = 0; v < 10; v++) {
			g_autofree char *value = g_strdup_printf(
				"org.example.Full%u-%u-with-a-name-long-enough-to-fill-the-store",
				b, v);
			g_autoptr(GVariant) typed = g_variant_ref_sink(g_variant_new_string(value));
			g_autofree char *text = g_variant_print(typed, TRUE);

			for (guint k = 0; k < 2; k++)
				g_variant_builder_add(
					&builder, "(@ayuxxmv)",
					g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, 16, 1),
					(guint32)METRICS_EVENT_KIND_VALUE, now, (gint64)1,
					g_variant_new_string(value));
			g_ptr_array_add(keys, expected_key(weekly, period, text));
		}
		reply = mtest_harness_call(
			fixture->harness, "RecordEvents",
			g_variant_new("(@aya{sv})",
				      metrics_batch_to_wire(g_variant_builder_end(&builder)), NULL),
			"(uu)", &error);
		g_assert_no_error(error);
		g_variant_get(reply, "(uu)", &accepted, &dropped);
		/* a batch is stored whole or not at all */
		if (accepted == 0) {
			g_assert_cmpuint(dropped, ==, 20);
			n_full_batches++;
			continue;
		}
		g_assert_cmpuint(accepted, ==, 20);
		accepted_total += accepted;
		for (guint i = 0; i < keys->len; i++)
			g_hash_table_insert(fixture->expected, g_strdup(keys->pdata[i]),
					    GUINT_TO_POINTER(2));
	}
	g_assert_cmpuint(n_full_batches, ==, 3);
	g_assert_cmpuint(drops_for(fixture, "store-full"), ==, 3 * 20);
	g_assert_cmpuint(status_u64(fixture, "stored-events"), ==, accepted_total);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	return accepted_total;
}

/* the files of a 64 KiB store that the outbox took past its cap stay
 * within twice the cap (and the pages of one write) */
static void
assert_store_size(Fixture *fixture, const char *when)
{
	g_autofree char *db = g_build_filename(fixture->harness->state_dir, "metrics.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	GStatBuf db_stat = {0}, wal_stat = {0};

	g_assert_cmpint(g_stat(db, &db_stat), ==, 0);
	if (g_stat(wal, &wal_stat) != 0)
		wal_stat.st_size = 0;
	g_test_message("%s: database %" G_GINT64_FORMAT " + WAL %" G_GINT64_FORMAT
		       " bytes, cap 65536",
		       when, (gint64)db_stat.st_size, (gint64)wal_stat.st_size);
	g_assert_cmpint(db_stat.st_size + wal_stat.st_size, <=, 2 * 65536 + 4 * 4096);
}

/* a store filled to its cap with a week that then closes: the week is
 * frozen into the outbox all the same (freezing frees the room the
 * requests take) and reaches the server whole, nothing lost */
static void
test_full_store_freezes(Fixture *fixture, gconstpointer user_data)
{
	const char *window = "Window=7\n";
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) requests = NULL;
	guint64 accepted, n_queued_events = 0;
	guint n_queued = 0;
	guint32 sent = 0, failed = 0;

	mock_start(fixture->mock);
	accepted = fill_closed_week(fixture, window, "--max-store-size=64");
	g_test_message("%" G_GUINT64_FORMAT " events of %u keys fill the store", accepted,
		       g_hash_table_size(fixture->expected));
	g_assert_cmpuint(accepted, >, 0);

	/* on the real clock, the week has ended: it is queued, each request
	 * waiting for its moment in the window */
	start_daemon_full(fixture, 0, window, "--max-store-size=64");
	reply = call(fixture, "GetPendingUploads", "(aa{sv})");
	requests = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(requests); i++) {
		g_autoptr(GVariant) request = g_variant_get_child_value(requests, i);
		g_autoptr(GVariant) events = g_variant_lookup_value(request, "events", NULL);
		const char *state = NULL;

		g_assert_true(g_variant_lookup(request, "state", "&s", &state));
		g_assert_cmpstr(state, ==, "pending");
		n_queued++;
		for (gsize j = 0; j < g_variant_n_children(events); j++) {
			g_autoptr(GVariant) event = g_variant_get_child_value(events, j);
			guint32 count = 0;

			g_variant_get_child(event, 3, "u", &count);
			n_queued_events += count;
		}
	}
	g_assert_cmpuint(n_queued, >=, 4);
	g_assert_cmpuint(n_queued_events, ==, accepted);
	g_assert_cmpuint(cli_count_requests(fixture, "--next"), ==, n_queued);
	g_assert_cmpuint(status_u64(fixture, "stored-events"), ==, 0);
	g_assert_cmpuint(n_requests(fixture), ==, 0);
	/* the requests may take the store past its cap, by at most the
	 * room of what they replaced (docs/metrics-recorder.8.md) */
	assert_store_size(fixture, "after the freeze");

	/* and it leaves, whole */
	reply = call(fixture, "UploadNow", "(uu)");
	g_variant_get(reply, "(uu)", &sent, &failed);
	g_assert_cmpuint(sent, ==, n_queued);
	g_assert_cmpuint(failed, ==, 0);
	assert_all_delivered(fixture, 0);
	g_assert_cmpuint(drops_for(fixture, "retention"), ==, 0);
	/* the archive of what was sent fits too, and the daemon still
	 * serves */
	g_assert_cmpuint(cli_count_requests(fixture, "--sent"), ==, n_queued);
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 0);
	assert_store_size(fixture, "after the uploads");
}

/* ---- TLS: no handshake resumes an earlier one (docs/upload.md) ---- */

/*
 * A GnuTLS server on loopback that issues session tickets and would resume
 * any session a client offers: it counts, for every ClientHello, a
 * pre_shared_key (TLS 1.3 resumption), a non-empty session_ticket (TLS 1.2)
 * and a legacy session id seen before (TLS 1.2 session id resumption), and
 * for every handshake whether it resumed. The server's certificate, trusted
 * through CaFile=, was made with
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
 *     -keyout tests/tls-loopback-key.pem -out tests/tls-loopback-cert.pem \
 *     -days 36500 -subj /CN=127.0.0.1 \
 *     -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
 *     -addext basicConstraints=critical,CA:TRUE
 */

#define TLS_EXT_SESSION_TICKET 35
#define TLS_EXT_PRE_SHARED_KEY 41

typedef struct {
	GThread *thread;
	int listen_fd;
	guint16 port;
	gnutls_certificate_credentials_t credentials;
	gnutls_datum_t ticket_key;
	gboolean stop; /* atomic */

	GMutex lock;
	/* under lock */
	guint n_hellos;
	guint n_psk_offers;
	guint n_ticket_offers;
	guint n_repeated_ids;
	GHashTable *session_ids; /* hex legacy session ids of the ClientHellos */
	guint n_handshakes;
	guint n_resumed;
	guint n_answered; /* requests read whole and answered 200 */
} TlsServer;

static int
tls_hello_extension_cb(void *user_data, unsigned tls_id, const unsigned char *data, unsigned size)
{
	TlsServer *server = user_data;

	/* under lock (tls_hello_cb) */
	if (tls_id == TLS_EXT_PRE_SHARED_KEY)
		server->n_psk_offers++;
	else if (tls_id == TLS_EXT_SESSION_TICKET && size > 0)
		server->n_ticket_offers++;
	return 0;
}

static int
tls_hello_cb(gnutls_session_t session,
	     unsigned int htype,
	     unsigned when,
	     unsigned int incoming,
	     const gnutls_datum_t *msg)
{
	TlsServer *server = gnutls_session_get_ptr(session);
	/* legacy_version (2), random (32), then the session id, length first */
	const gsize id_at = 2 + 32;

	g_mutex_lock(&server->lock);
	server->n_hellos++;
	if (msg->size > id_at && msg->size > id_at + msg->data[id_at]) {
		guint id_len = msg->data[id_at];

		if (id_len > 0) {
			g_autofree char *hex = g_malloc0(2 * id_len + 1);

			for (guint i = 0; i < id_len; i++)
				g_snprintf(hex + 2 * i, 3, "%02x", msg->data[id_at + 1 + i]);
			if (!g_hash_table_add(server->session_ids, g_steal_pointer(&hex)))
				server->n_repeated_ids++;
		}
	}
	g_assert_cmpint(gnutls_ext_raw_parse(server, tls_hello_extension_cb, msg,
					     GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO),
			==, 0);
	g_mutex_unlock(&server->lock);
	return 0;
}

/* reads one HTTP request (headers, then Content-Length bytes of body) */
static gboolean
tls_read_request(gnutls_session_t session)
{
	g_autoptr(GString) request = g_string_new(NULL);
	gssize body_at = -1;
	guint64 length = 0;

	for (;;) {
		char buffer[16384];
		gssize n = gnutls_record_recv(session, buffer, sizeof buffer);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			return FALSE;
		g_string_append_len(request, buffer, n);
		if (body_at < 0) {
			const char *end = strstr(request->str, "\r\n\r\n");
			g_auto(GStrv) lines = NULL;

			if (end == NULL)
				continue;
			body_at = end - request->str + 4;
			lines = g_strsplit(request->str, "\r\n", -1);
			for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
				if (g_ascii_strncasecmp(lines[i], "Content-Length:", 15) == 0)
					length = g_ascii_strtoull(lines[i] + 15, NULL, 10);
			}
		}
		if (request->len >= (gsize)body_at + length)
			return TRUE;
	}
}

static void
tls_serve(TlsServer *server, int fd)
{
	static const char answer[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	gnutls_session_t session = NULL;
	struct timeval timeout = {10, 0};
	int ret;

	/* a client that stops talking does not stop the server */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
	g_assert_cmpint(gnutls_init(&session, GNUTLS_SERVER), ==, 0);
	g_assert_cmpint(gnutls_set_default_priority(session), ==, 0);
	g_assert_cmpint(
		gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, server->credentials), ==,
		0);
	g_assert_cmpint(gnutls_session_ticket_enable_server(session, &server->ticket_key), ==, 0);
	gnutls_session_set_ptr(session, server);
	gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_PRE,
					   tls_hello_cb);
	gnutls_transport_set_int(session, fd);
	do
		ret = gnutls_handshake(session);
	while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	if (ret == 0) {
		g_mutex_lock(&server->lock);
		server->n_handshakes++;
		if (gnutls_session_is_resumed(session))
			server->n_resumed++;
		g_mutex_unlock(&server->lock);
		if (tls_read_request(session) &&
		    gnutls_record_send(session, answer, sizeof answer - 1) ==
			    (gssize)(sizeof answer - 1)) {
			g_mutex_lock(&server->lock);
			server->n_answered++;
			g_mutex_unlock(&server->lock);
			gnutls_bye(session, GNUTLS_SHUT_WR);
		}
	} else {
		g_test_message("TLS server: handshake failed: %s", gnutls_strerror(ret));
	}
	gnutls_deinit(session);
	close(fd);
}

static gpointer
tls_server_thread(gpointer user_data)
{
	TlsServer *server = user_data;

	while (!g_atomic_int_get(&server->stop)) {
		int fd = accept(server->listen_fd, NULL, NULL);

		if (fd < 0)
			continue;
		if (g_atomic_int_get(&server->stop)) {
			close(fd);
			break;
		}
		tls_serve(server, fd);
	}
	return NULL;
}

static TlsServer *
tls_server_new(void)
{
	TlsServer *server = g_new0(TlsServer, 1);
	g_autofree char *cert = g_test_build_filename(G_TEST_DIST, "tls-loopback-cert.pem", NULL);
	g_autofree char *key = g_test_build_filename(G_TEST_DIST, "tls-loopback-key.pem", NULL);
	struct sockaddr_in address = {0};
	socklen_t address_len = sizeof address;

	g_mutex_init(&server->lock);
	server->session_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_assert_cmpint(gnutls_certificate_allocate_credentials(&server->credentials), ==, 0);
	g_assert_cmpint(gnutls_certificate_set_x509_key_file(server->credentials, cert, key,
							     GNUTLS_X509_FMT_PEM),
			==, 0);
	g_assert_cmpint(gnutls_session_ticket_key_generate(&server->ticket_key), ==, 0);

	server->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(server->listen_fd, >=, 0);
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(server->listen_fd, (struct sockaddr *)&address, sizeof address), ==,
			0);
	g_assert_cmpint(listen(server->listen_fd, 16), ==, 0);
	g_assert_cmpint(getsockname(server->listen_fd, (struct sockaddr *)&address, &address_len),
			==, 0);
	server->port = ntohs(address.sin_port);
	server->thread = g_thread_new("tls-server", tls_server_thread, server);
	return server;
}

static void
tls_server_free(TlsServer *server)
{
	struct sockaddr_in address = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* wake accept() up */
	g_atomic_int_set(&server->stop, TRUE);
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	address.sin_port = htons(server->port);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&address, sizeof address), ==, 0);
	g_thread_join(server->thread);
	close(fd);
	close(server->listen_fd);
	gnutls_certificate_free_credentials(server->credentials);
	gnutls_memset(server->ticket_key.data, 0, server->ticket_key.size);
	gnutls_free(server->ticket_key.data);
	g_hash_table_unref(server->session_ids);
	g_mutex_clear(&server->lock);
	g_free(server);
}

/* several uploads, each on a connection of its own, one after another:
 * each could resume the session of the one before; none may */
static void
test_tls_no_resumption(Fixture *fixture, gconstpointer user_data)
{
	TlsServer *server = tls_server_new();
	g_autofree char *path = g_build_filename(fixture->harness->tmpdir, "tls.conf", NULL);
	g_autofree char *ca_file =
		g_test_build_filename(G_TEST_DIST, "tls-loopback-cert.pem", NULL);
	g_autofree char *contents =
		g_strdup_printf("[Upload]\nServerUrl=https://127.0.0.1:%u\nCaFile=%s\n"
				"Window=0\nSpread=0\nRetryMin=1\nRetryMax=2\nTimeout=5\n",
				server->port, ca_file);
	g_autofree char *config_arg = g_strdup_printf("--config=%s", path);
	const char *args[] = {config_arg, NULL};

	record_closed_week(fixture, 4, 1, NULL);
	g_assert_true(g_file_set_contents(path, contents, -1, NULL));
	{
		/* under AddressSanitizer: GCC 12's LeakSanitizer crashes on the
		 * dynamic TLS of the GnuTLS module that GIO loads (it reads a
		 * bogus DTLS range with this glibc), so this daemon is checked
		 * for leaks by the valgrind run alone */
		const char *asan = g_getenv("ASAN_OPTIONS");
		g_autofree char *saved = g_strdup(asan);

		if (asan != NULL) {
			g_autofree char *no_leaks = g_strconcat(asan, ":detect_leaks=0", NULL);
			g_setenv("ASAN_OPTIONS", no_leaks, TRUE);
		}
		mtest_harness_start_daemon(fixture->harness, args);
		if (saved != NULL)
			g_setenv("ASAN_OPTIONS", saved, TRUE);
	}
	wait_outbox_settled(fixture);

	g_mutex_lock(&server->lock);
	g_test_message("%u ClientHellos, %u handshakes, %u resumed, %u requests answered",
		       server->n_hellos, server->n_handshakes, server->n_resumed,
		       server->n_answered);
	/* one request per metric-week, each on its own connection */
	g_assert_cmpuint(server->n_answered, ==, 4);
	g_assert_cmpuint(server->n_handshakes, >=, 4);
	g_assert_cmpuint(server->n_hellos, >=, server->n_handshakes);
	/* nothing offered to resume, nothing resumed */
	g_assert_cmpuint(server->n_psk_offers, ==, 0);
	g_assert_cmpuint(server->n_ticket_offers, ==, 0);
	g_assert_cmpuint(server->n_repeated_ids, ==, 0);
	g_assert_cmpuint(server->n_resumed, ==, 0);
	g_mutex_unlock(&server->lock);
	g_assert_cmpuint(status_u64(fixture, "set-aside"), ==, 0);
	tls_server_free(server);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/upload/basic", Fixture, NULL, fixture_set_up, test_basic,
		   fixture_tear_down);
	g_test_add("/metrics/upload/faults", Fixture, faults, fixture_set_up, test_faults,
		   fixture_tear_down);
	g_test_add("/metrics/upload/down-then-up", Fixture, NULL, fixture_set_up, test_down_then_up,
		   fixture_tear_down);
	g_test_add("/metrics/upload/restart", Fixture, two_unavailable, fixture_set_up,
		   test_restart, fixture_tear_down);
	g_test_add("/metrics/upload/consent-denied", Fixture, one_slow, fixture_set_up,
		   test_consent_denied, fixture_tear_down);
	g_test_add("/metrics/upload/upload-now", Fixture, NULL, fixture_set_up, test_upload_now,
		   fixture_tear_down);
	g_test_add("/metrics/upload/split", Fixture, NULL, fixture_set_up, test_split,
		   fixture_tear_down);
	g_test_add("/metrics/upload/redirect", Fixture, two_redirects, fixture_set_up,
		   test_redirect, fixture_tear_down);
	g_test_add("/metrics/upload/crash-mid-upload", Fixture, one_held, fixture_set_up,
		   test_crash_mid_upload, fixture_tear_down);
	g_test_add("/metrics/upload/slow-ok", Fixture, one_slow_ok, fixture_set_up, test_slow_ok,
		   fixture_tear_down);
	g_test_add("/metrics/upload/retry-after-longer", Fixture, retry_after_3, fixture_set_up,
		   test_retry_after_longer, fixture_tear_down);
	g_test_add("/metrics/upload/spread", Fixture, NULL, fixture_set_up, test_spread,
		   fixture_tear_down);
	g_test_add("/metrics/upload/retention", Fixture, NULL, fixture_set_up, test_retention,
		   fixture_tear_down);
	g_test_add("/metrics/upload/allowlist-recheck", Fixture, NULL, fixture_set_up,
		   test_allowlist_recheck, fixture_tear_down);
	g_test_add("/metrics/upload/upload-now-errors", Fixture, NULL, fixture_set_up,
		   test_upload_now_errors, fixture_tear_down);
	g_test_add("/metrics/upload/metrics-sink", Fixture, NULL, fixture_set_up, test_metrics_sink,
		   fixture_tear_down);
	g_test_add("/metrics/upload/full-store-freezes", Fixture, NULL, fixture_set_up,
		   test_full_store_freezes, fixture_tear_down);
	g_test_add("/metrics/upload/tls-no-resumption", Fixture, NULL, fixture_set_up,
		   test_tls_no_resumption, fixture_tear_down);
	return g_test_run();
}
