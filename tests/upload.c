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

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "metrics-private.h"
#include "mrd-aggregator.h"
#include "mrd-upload-body.h"
#include "mrd-uploader.h"
#include "msink-validate.h"
#include "mtest-harness.h"

#define WEEK_SECONDS (7 * 24 * 3600)
#define WAIT_USEC (30 * G_USEC_PER_SEC)

typedef enum {
	FAULT_NONE,
	FAULT_STATUS, /* answer a status (with Retry-After if set) */
	FAULT_SLOW,   /* answer 500 after the client's timeout */
	FAULT_RESET,  /* close the connection before reading the body */
} FaultKind;

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
	Fault fault = mock_next_fault(mock);

	if (fault.kind == FAULT_RESET) {
		g_autoptr(GIOStream) stream = soup_server_message_steal_connection(message);
		g_io_stream_close(stream, NULL, NULL);
		return;
	}
	g_object_set_data_full(G_OBJECT(message), "fault", g_memdup2(&fault, sizeof(fault)),
			       g_free);
}

static gboolean
unpause_cb(gpointer user_data)
{
	SoupServerMessage *message = user_data;

	soup_server_message_set_status(message, 500, NULL);
	soup_server_message_unpause(message);
	return G_SOURCE_REMOVE;
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
	if (fault == NULL || fault->kind == FAULT_NONE) {
		g_auto(GStrv) problems = msink_privacy_problems(result->body);

		for (guint i = 0; problems != NULL && problems[i] != NULL; i++)
			mock_problem(mock, problems[i]);
		soup_server_message_set_status(message, 200, NULL);
		g_mutex_lock(&mock->lock);
		g_ptr_array_add(mock->accepted, result);
		g_mutex_unlock(&mock->lock);
		return;
	}
	if (fault->kind == FAULT_SLOW) {
		GSource *source = g_timeout_source_new_seconds(4);

		soup_server_message_pause(message);
		g_source_set_callback(source, unpause_cb, g_object_ref(message), g_object_unref);
		g_source_attach(source, mock->context);
		g_source_unref(source);
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
	mock_listen(mock);
	g_mutex_lock(&mock->lock);
	mock->ready = TRUE;
	g_cond_signal(&mock->cond);
	g_mutex_unlock(&mock->lock);
	g_main_loop_run(mock->loop);
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
start_daemon(Fixture *fixture, gint64 offset_seconds, const char *extra_config)
{
	g_autofree char *path = g_build_filename(fixture->harness->tmpdir, "upload.conf", NULL);
	g_autofree char *contents =
		g_strdup_printf("[Upload]\n"
				"ServerUrl=http://127.0.0.1:%u\n"
				"Window=0\nRetryMin=1\nRetryMax=2\nTimeout=2\n%s",
				fixture->mock->port, extra_config != NULL ? extra_config : "");
	g_autofree char *config_arg = g_strdup_printf("--config=%s", path);
	g_autofree char *offset_arg =
		g_strdup_printf("--clock-offset=%" G_GINT64_FORMAT, offset_seconds);
	const char *args[] = {config_arg, offset_arg, NULL};

	g_assert_true(g_file_set_contents(path, contents, -1, NULL));
	mtest_harness_start_daemon(fixture->harness, args);
}

static char *
expected_key(const guint8 weekly[16], const char *period, const char *payload)
{
	char id[METRICS_UUID_STRING_LENGTH + 1];

	metrics_uuid_unparse(weekly, id);
	return g_strdup_printf("%s|%s|%s", id, period, payload);
}

/* records, with the daemon's clock 8 days back, @n_values distinct values
 * three times each for each of @n_metrics metrics; then restarts the
 * daemon on the real clock, so that week is closed */
static void
record_closed_week(Fixture *fixture, guint n_metrics, guint n_values, const char *extra_config)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *period = NULL;
	gint64 now = g_get_real_time();

	start_daemon(fixture, -8 * 24 * 3600, extra_config);
	period = mrd_week_to_string(mrd_week_start(now - 8 * G_TIME_SPAN_DAY));
	for (guint m = 0; m < n_metrics; m++) {
		GVariantBuilder builder;
		g_autoptr(GVariant) reply = NULL;
		g_autofree char *id_str =
			g_strdup_printf("8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c1%02x", m);
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
			g_hash_table_insert(fixture->expected, expected_key(weekly, period, text),
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
	g_autoptr(GVariant) reply = call(fixture, "GetStatus", "(a{sv})");
	g_autoptr(GVariant) status = g_variant_get_child_value(reply, 0);
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

/* waits until the outbox holds nothing pending */
static void
wait_outbox_settled(Fixture *fixture)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_USEC;

	while (status_u64(fixture, "pending-uploads") > 0) {
		if (g_get_monotonic_time() > deadline)
			g_error("uploads did not finish");
		g_usleep(50000);
	}
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

/* every recorded event reached the server exactly once, or is set aside:
 * nothing lost, nothing twice */
static void
assert_all_delivered(Fixture *fixture, guint expect_set_aside)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GVariant) reply = call(fixture, "GetPendingUploads", "(aa{sv})");
	g_autoptr(GVariant) requests = g_variant_get_child_value(reply, 0);
	GHashTableIter iter;
	gpointer key, value;
	guint n_set_aside = 0;
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
		add_events(seen, "accepted", events, FALSE);
	}
	g_mutex_unlock(&fixture->mock->lock);

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
	g_usleep(2500 * 1000);
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
	gint64 deadline = g_get_monotonic_time() + WAIT_USEC;
	const char *slow_retry = "RetryMin=4\nRetryMax=4\n";

	mock_start(fixture->mock);
	record_closed_week(fixture, 2, 3, slow_retry);
	start_daemon(fixture, 0, slow_retry);
	while (n_requests(fixture) < 2) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(20000);
	}
	g_usleep(200000);
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

/* denying consent cancels the upload in flight and deletes the outbox */
static void
test_consent_denied(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gint64 deadline = g_get_monotonic_time() + WAIT_USEC;

	mock_start(fixture->mock);
	record_closed_week(fixture, 2, 1, "Timeout=10\n");
	start_daemon(fixture, 0, "Timeout=10\n");
	while (n_requests(fixture) < 1) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(20000);
	}
	reply = mtest_harness_call(
		fixture->harness, "SetConsent",
		g_variant_new("(s@a{sv})", "denied",
			      g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		NULL, &error);
	g_assert_no_error(error);
	g_assert_false(mtest_harness_state_contains(fixture->harness, "SQLite format"));
	g_usleep(3 * G_USEC_PER_SEC);
	g_assert_cmpuint(n_requests(fixture), ==, 1);
	g_assert_cmpuint(n_accepted(fixture), ==, 0);
	g_assert_cmpuint(status_u64(fixture, "pending-uploads"), ==, 0);
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

	mock_start(fixture->mock);
	record_closed_week(fixture, 4, 1, "Window=7\n");
	start_daemon(fixture, 0, "Window=7\n");
	g_usleep(G_USEC_PER_SEC);
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
	return g_test_run();
}
