/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The upload policy: configuration file parsing, back-off, Retry-After and
 * which answers are retried.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "metrics-error.h"
#include "mrd-aggregator.h"
#include "mrd-config.h"
#include "mrd-outbox.h"
#include "mrd-uploader.h"

static void
test_config_defaults(void)
{
	g_autoptr(MrdConfig) config = mrd_config_new();

	g_assert_cmpstr(config->server_url, ==, MRD_CONFIG_DEFAULT_SERVER_URL);
	g_assert_cmpuint(config->window_days, ==, 7);
	g_assert_false(config->allow_metered);
	g_assert_cmpuint(config->max_request_size, ==, 65536);
	g_assert_cmpuint(config->retry_min, <, config->retry_max);
	g_assert_cmpuint(config->spread, ==, 6 * 3600);
	g_assert_null(config->ca_file);
	/* a missing file keeps the defaults without a warning */
	mrd_config_load_file(config, "/nonexistent/metrics-recorder.conf");
	g_assert_cmpuint(config->window_days, ==, 7);
}

static void
test_config_valid(void)
{
	g_autoptr(MrdConfig) config = mrd_config_new();
	const char *data = "[Upload]\n"
			   "ServerUrl=http://127.0.0.1:8080/azafea//\n"
			   "Window=0\n"
			   "AllowMetered=true\n"
			   "RetryMin=1\n"
			   "RetryMax=10\n"
			   "MaxRequestSize=4096\n"
			   "Timeout=5\n"
			   "Spread=30\n"
			   "CaFile=/etc/metrics/server.pem\n"
			   "[Other]\nWindow=nonsense\n";

	mrd_config_load_data(config, data, strlen(data), "test.conf");
	g_assert_cmpstr(config->server_url, ==, "http://127.0.0.1:8080/azafea");
	g_assert_cmpuint(config->window_days, ==, 0);
	g_assert_true(config->allow_metered);
	g_assert_cmpuint(config->retry_min, ==, 1);
	g_assert_cmpuint(config->retry_max, ==, 10);
	g_assert_cmpuint(config->max_request_size, ==, 4096);
	g_assert_cmpuint(config->timeout, ==, 5);
	g_assert_cmpuint(config->spread, ==, 30);
	g_assert_cmpstr(config->ca_file, ==, "/etc/metrics/server.pem");
}

/* each bad value is reported with the file, the key and the value, and
 * the default is kept */
static void
test_config_invalid(void)
{
	const struct {
		const char *line;
		const char *message;
	} cases[] = {
		{"ServerUrl=ftp://example.org", "*test.conf*ServerUrl=ftp://example.org*"},
		{"ServerUrl=https://user@example.org", "*ServerUrl=https://user@example.org*"},
		{"ServerUrl=not a url", "*ServerUrl=not a url*"},
		{"ServerUrl=https://example.org/?id=1", "*ServerUrl=*"},
		{"Window=-1", "*Window=-1*"},
		{"Window=61", "*Window=61*"},
		{"Window=seven", "*Window=seven*"},
		{"AllowMetered=maybe", "*AllowMetered=maybe*"},
		{"RetryMin=0", "*RetryMin=0*"},
		{"MaxRequestSize=1048576", "*MaxRequestSize=1048576*"},
		{"MaxRequestSize=100", "*MaxRequestSize=100*"},
		{"Timeout=0", "*Timeout=0*"},
		{"Spread=604801", "*Spread=604801*"},
		{"Spread=-1", "*Spread=-1*"},
		{"Colour=blue", "*unknown key*Colour*"},
		{"CaFile=server.pem", "*CaFile=server.pem*absolute*"},
		{"RetryMin=100\nRetryMax=10", "*RetryMax=10 is less than RetryMin=100*"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(MrdConfig) config = mrd_config_new();
		g_autoptr(MrdConfig) defaults = mrd_config_new();
		g_autofree char *data = g_strdup_printf("[Upload]\n%s\n", cases[i].line);

		g_test_expect_message("MrdConfig", G_LOG_LEVEL_WARNING, cases[i].message);
		mrd_config_load_data(config, data, strlen(data), "test.conf");
		g_test_assert_expected_messages();
		g_assert_cmpstr(config->server_url, ==, defaults->server_url);
		g_assert_cmpuint(config->window_days, ==, defaults->window_days);
		g_assert_cmpint(config->allow_metered, ==, defaults->allow_metered);
		g_assert_cmpuint(config->retry_min, ==, defaults->retry_min);
		g_assert_cmpuint(config->retry_max, ==, defaults->retry_max);
		g_assert_cmpuint(config->max_request_size, ==, defaults->max_request_size);
		g_assert_cmpuint(config->timeout, ==, defaults->timeout);
		g_assert_cmpuint(config->spread, ==, defaults->spread);
		g_assert_cmpstr(config->ca_file, ==, defaults->ca_file);
	}
}

static void
test_config_unparsable(void)
{
	g_autoptr(MrdConfig) config = mrd_config_new();
	const char *data = "this is not a key file\n[Upload\n";

	g_test_expect_message("MrdConfig", G_LOG_LEVEL_WARNING, "*bad.conf: cannot parse*");
	mrd_config_load_data(config, data, strlen(data), "bad.conf");
	g_test_assert_expected_messages();
	g_assert_cmpstr(config->server_url, ==, MRD_CONFIG_DEFAULT_SERVER_URL);
}

static void
test_backoff(void)
{
	/* without jitter (random 1): min × 2^(n-1), capped */
	g_assert_cmpint(mrd_upload_backoff(1, 60, 86400, 1.0), ==, 60 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(2, 60, 86400, 1.0), ==, 120 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(5, 60, 86400, 1.0), ==, 960 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(20, 60, 86400, 1.0), ==, 86400 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(G_MAXUINT, 60, 86400, 1.0), ==,
			86400 * G_TIME_SPAN_SECOND);
	/* jitter takes off up to half */
	g_assert_cmpint(mrd_upload_backoff(2, 60, 86400, 0.0), ==, 60 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(20, 60, 86400, 0.5), ==, 64800 * G_TIME_SPAN_SECOND);
	/* never less than a second */
	g_assert_cmpint(mrd_upload_backoff(1, 1, 1, 0.0), ==, G_TIME_SPAN_SECOND);
}

static void
test_retry_after(void)
{
	gint64 delay = -1;
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	gint64 now = G_GINT64_CONSTANT(784111777) * G_USEC_PER_SEC;

	g_assert_true(mrd_upload_parse_retry_after("120", now, &delay));
	g_assert_cmpint(delay, ==, 120 * G_TIME_SPAN_SECOND);
	g_assert_true(mrd_upload_parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now, &delay));
	g_assert_cmpint(delay, ==, 60 * G_TIME_SPAN_SECOND);
	g_assert_true(mrd_upload_parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now, &delay));
	g_assert_cmpint(delay, ==, 0);
	/* a long wait is honoured, up to a week; never less than a second */
	g_assert_cmpint(mrd_upload_clamp_retry_after(3 * G_TIME_SPAN_DAY), ==, 3 * G_TIME_SPAN_DAY);
	g_assert_cmpint(mrd_upload_clamp_retry_after(30 * G_TIME_SPAN_DAY), ==,
			7 * G_TIME_SPAN_DAY);
	g_assert_cmpint(mrd_upload_clamp_retry_after(0), ==, G_TIME_SPAN_SECOND);
	g_assert_false(mrd_upload_parse_retry_after(NULL, now, &delay));
	g_assert_false(mrd_upload_parse_retry_after("soon", now, &delay));
	g_assert_false(mrd_upload_parse_retry_after("-5", now, &delay));
}

static void
test_retryable(void)
{
	g_assert_true(mrd_upload_status_is_retryable(500));
	g_assert_true(mrd_upload_status_is_retryable(503));
	g_assert_true(mrd_upload_status_is_retryable(408));
	g_assert_true(mrd_upload_status_is_retryable(429));
	g_assert_false(mrd_upload_status_is_retryable(400));
	g_assert_false(mrd_upload_status_is_retryable(404));
	g_assert_false(mrd_upload_status_is_retryable(413));
	g_assert_false(mrd_upload_status_is_retryable(301));
	g_assert_false(mrd_upload_status_is_retryable(302));
	g_assert_false(mrd_upload_status_is_retryable(303));
}

/* ---- network gating, with a network monitor the test controls ---- */

#define FAKE_TYPE_MONITOR (fake_monitor_get_type())
G_DECLARE_FINAL_TYPE(FakeMonitor, fake_monitor, FAKE, MONITOR, GObject)

struct _FakeMonitor {
	GObject parent_instance;
	gboolean available;
	gboolean metered;
};

enum {
	PROP_0,
	PROP_NETWORK_AVAILABLE,
	PROP_NETWORK_METERED,
	PROP_CONNECTIVITY,
};

static void
fake_monitor_iface_init(GNetworkMonitorInterface *iface);
static void
fake_monitor_initable_iface_init(GInitableIface *iface);

G_DEFINE_TYPE_WITH_CODE(FakeMonitor,
			fake_monitor,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(G_TYPE_INITABLE, fake_monitor_initable_iface_init)
				G_IMPLEMENT_INTERFACE(G_TYPE_NETWORK_MONITOR,
						      fake_monitor_iface_init))

static void
fake_monitor_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FakeMonitor *self = FAKE_MONITOR(object);

	switch (prop_id) {
	case PROP_NETWORK_AVAILABLE:
		g_value_set_boolean(value, self->available);
		break;
	case PROP_NETWORK_METERED:
		g_value_set_boolean(value, self->metered);
		break;
	case PROP_CONNECTIVITY:
		g_value_set_enum(value, self->available ? G_NETWORK_CONNECTIVITY_FULL :
							  G_NETWORK_CONNECTIVITY_LOCAL);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static gboolean
fake_monitor_can_reach(GNetworkMonitor *monitor,
		       GSocketConnectable *connectable,
		       GCancellable *cancellable,
		       GError **error)
{
	return TRUE;
}

static gboolean
fake_monitor_init_sync(GInitable *initable, GCancellable *cancellable, GError **error)
{
	return TRUE;
}

static void
fake_monitor_iface_init(GNetworkMonitorInterface *iface)
{
	iface->can_reach = fake_monitor_can_reach;
}

static void
fake_monitor_initable_iface_init(GInitableIface *iface)
{
	iface->init = fake_monitor_init_sync;
}

static void
fake_monitor_class_init(FakeMonitorClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = fake_monitor_get_property;
	g_object_class_override_property(object_class, PROP_NETWORK_AVAILABLE, "network-available");
	g_object_class_override_property(object_class, PROP_NETWORK_METERED, "network-metered");
	g_object_class_override_property(object_class, PROP_CONNECTIVITY, "connectivity");
}

static void
fake_monitor_init(FakeMonitor *self)
{
}

/* as a real monitor does: only the property notification, no
 * network-changed, so the uploader must follow both */
static void
fake_monitor_set(FakeMonitor *self, gboolean available, gboolean metered)
{
	gboolean available_changed = self->available != available;
	gboolean metered_changed = self->metered != metered;

	/* both change together, then both are notified */
	self->available = available;
	self->metered = metered;
	if (available_changed)
		g_object_notify(G_OBJECT(self), "network-available");
	if (metered_changed)
		g_object_notify(G_OBJECT(self), "network-metered");
}

typedef struct {
	char *dir;
	char *path;
	MrdStore *store;
	MrdOutbox *outbox;
	MrdClock *clock;
	MrdConfig *config;
	FakeMonitor *monitor;
	SoupServer *server;
	guint n_hits;
	MrdUploader *uploader;
} NetFixture;

static void
server_cb(SoupServer *server,
	  SoupServerMessage *message,
	  const char *path,
	  GHashTable *query,
	  gpointer user_data)
{
	NetFixture *fixture = user_data;

	fixture->n_hits++;
	soup_server_message_set_status(message, 200, NULL);
}

/* one aggregate of last week in the store; a server on loopback; the
 * uploader with the fake monitor and no loopback bypass (not started) */
static void
net_set_up(NetFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) deltas = g_array_new(FALSE, TRUE, sizeof(MrdDelta));
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GVariant) maybe = g_variant_ref_sink(g_variant_new_maybe(
		G_VARIANT_TYPE_VARIANT, g_variant_new_variant(g_variant_new_string("x"))));
	g_autofree char *data = NULL;
	gint64 now = g_get_real_time();
	MrdDelta delta = {
		.week = mrd_week_start(now) - 7 * G_TIME_SPAN_DAY,
		.kind = METRICS_EVENT_KIND_VALUE,
		.count = 2,
	};
	GSList *uris;

	fixture->dir = g_dir_make_tmp("mrd-net-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->path = g_build_filename(fixture->dir, "metrics.db", NULL);
	fixture->store = mrd_store_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_true(metrics_uuid_parse("8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001", delta.id));
	delta.payload = g_variant_get_data_as_bytes(maybe);
	g_array_append_val(deltas, delta);
	g_assert_true(mrd_store_add(fixture->store, 1000, deltas, &error));
	g_assert_no_error(error);
	g_bytes_unref(delta.payload);
	fixture->outbox = mrd_outbox_new(fixture->store, "42");
	fixture->clock = mrd_clock_new();
	/* last week is closed: one request, due at once (Window=0) */
	g_assert_true(mrd_outbox_freeze(fixture->outbox, now, 0, 65536, NULL, &error));
	g_assert_no_error(error);

	fixture->server = soup_server_new(NULL, NULL);
	soup_server_add_handler(fixture->server, NULL, server_cb, fixture, NULL);
	g_assert_true(soup_server_listen(fixture->server, address, 0, &error));
	g_assert_no_error(error);
	uris = soup_server_get_uris(fixture->server);
	data = g_strdup_printf("[Upload]\nServerUrl=http://127.0.0.1:%d\nWindow=0\nSpread=0\n"
			       "AllowMetered=%s\n",
			       g_uri_get_port(uris->data), user_data != NULL ? "true" : "false");
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	fixture->config = mrd_config_new();
	mrd_config_load_data(fixture->config, data, strlen(data), "test.conf");
	fixture->monitor = g_object_new(FAKE_TYPE_MONITOR, NULL);
	fixture->uploader = mrd_uploader_new(fixture->outbox, fixture->clock, fixture->config,
					     G_NETWORK_MONITOR(fixture->monitor));
	mrd_uploader_set_loopback_needs_network(fixture->uploader, TRUE);
}

static void
net_tear_down(NetFixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->uploader);
	soup_server_disconnect(fixture->server);
	g_clear_object(&fixture->server);
	g_clear_object(&fixture->monitor);
	g_clear_pointer(&fixture->config, mrd_config_free);
	g_clear_object(&fixture->clock);
	g_clear_object(&fixture->outbox);
	g_clear_object(&fixture->store);
	mrd_store_delete_files(fixture->path, NULL);
	g_rmdir(fixture->dir);
	g_free(fixture->path);
	g_free(fixture->dir);
}

/* runs the main loop for @ms: what the uploader would do meanwhile */
static void
spin(guint ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE);
}

static void
wait_hits(NetFixture *fixture, guint n)
{
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

	while (fixture->n_hits < n) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, FALSE);
	}
}

static void
upload_now_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(result);
}

static gboolean
upload_now(NetFixture *fixture, guint *n_sent, GError **error)
{
	g_autoptr(GAsyncResult) result = NULL;

	mrd_uploader_upload_now_async(fixture->uploader, NULL, upload_now_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	return mrd_uploader_upload_now_finish(fixture->uploader, result, n_sent, NULL, error);
}

static guint64
n_pending(NetFixture *fixture)
{
	guint64 pending = 0, set_aside = 0;
	gint64 next_try = 0, last_sent = 0;

	g_assert_true(mrd_outbox_get_stats(fixture->outbox, &pending, &set_aside, &next_try,
					   &last_sent, NULL));
	return pending;
}

/* the request is deleted once its answer is handled, a moment after the
 * server saw it */
static void
wait_no_pending(NetFixture *fixture)
{
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

	while (n_pending(fixture) > 0) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
}

/* nothing leaves while the network is down or metered; a change that
 * allows it sends at once; UploadNow says why it cannot */
static void
test_network_gating(NetFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	guint n_sent = 0;

	fake_monitor_set(fixture->monitor, FALSE, FALSE);
	mrd_uploader_start(fixture->uploader);
	spin(300);
	g_assert_cmpuint(fixture->n_hits, ==, 0);
	g_assert_cmpuint(n_pending(fixture), ==, 1);
	g_assert_false(upload_now(fixture, &n_sent, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "not available"));
	g_clear_error(&error);

	/* available but metered, AllowMetered=false */
	fake_monitor_set(fixture->monitor, TRUE, TRUE);
	spin(300);
	g_assert_cmpuint(fixture->n_hits, ==, 0);
	g_assert_false(upload_now(fixture, &n_sent, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "metered"));
	g_clear_error(&error);

	/* no longer metered: the change alone sends it */
	fake_monitor_set(fixture->monitor, TRUE, FALSE);
	wait_hits(fixture, 1);
	wait_no_pending(fixture);
}

/* AllowMetered=true: a metered network is good enough */
static void
test_network_metered_allowed(NetFixture *fixture, gconstpointer user_data)
{
	fake_monitor_set(fixture->monitor, FALSE, TRUE);
	mrd_uploader_start(fixture->uploader);
	spin(300);
	g_assert_cmpuint(fixture->n_hits, ==, 0);
	fake_monitor_set(fixture->monitor, TRUE, TRUE);
	wait_hits(fixture, 1);
	wait_no_pending(fixture);
}

/* a CaFile= that cannot be read is reported, and the system's
 * certificates stay in use (tests/upload.c uploads through a good one) */
static void
test_ca_file_unreadable(NetFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MrdConfig) config = mrd_config_new();
	g_autoptr(MrdUploader) uploader = NULL;
	const char *data = "[Upload]\nCaFile=/nonexistent/ca.pem\n";

	mrd_config_load_data(config, data, strlen(data), "test.conf");
	g_assert_cmpstr(config->ca_file, ==, "/nonexistent/ca.pem");
	g_test_expect_message("MrdUploader", G_LOG_LEVEL_WARNING,
			      "*CaFile=/nonexistent/ca.pem*system's certificates*");
	uploader = mrd_uploader_new(fixture->outbox, fixture->clock, config,
				    G_NETWORK_MONITOR(fixture->monitor));
	g_test_assert_expected_messages();
	g_assert_nonnull(uploader);
}

/* every request starts a TLS session of its own (docs/upload.md): the
 * priority given to glib-networking forbids tickets and the legacy session
 * id, whatever the environment said; tests/upload.c checks the handshakes */
static void
test_tls_priority(void)
{
	const char *fallback = "NORMAL:%COMPAT:%NO_TICKETS:%DISABLE_TLS13_COMPAT_MODE";
	g_autofree char *unset = mrd_upload_tls_priority(NULL, fallback);
	g_autofree char *empty = mrd_upload_tls_priority("", fallback);
	g_autofree char *admin = mrd_upload_tls_priority("@SYSTEM:-VERS-TLS1.2", fallback);
	g_autofree char *half = mrd_upload_tls_priority("NORMAL:%NO_TICKETS", fallback);
	g_autofree char *tls12_only = mrd_upload_tls_priority("NORMAL:%NO_TICKETS_TLS12", fallback);
	g_autofree char *complete =
		mrd_upload_tls_priority("NORMAL:%DISABLE_TLS13_COMPAT_MODE:%NO_TICKETS", fallback);

	g_assert_cmpstr(unset, ==, fallback);
	g_assert_cmpstr(empty, ==, fallback);
	/* the administrator's choice stays, the keywords are added */
	g_assert_cmpstr(admin, ==, "@SYSTEM:-VERS-TLS1.2:%NO_TICKETS:%DISABLE_TLS13_COMPAT_MODE");
	g_assert_cmpstr(half, ==, "NORMAL:%NO_TICKETS:%DISABLE_TLS13_COMPAT_MODE");
	/* only TLS 1.2 tickets off is not enough: TLS 1.3 ones resume too */
	g_assert_cmpstr(tls12_only, ==,
			"NORMAL:%NO_TICKETS_TLS12:%NO_TICKETS:%DISABLE_TLS13_COMPAT_MODE");
	g_assert_null(complete);
	/* the build's own value needs nothing added (meson checks it too) */
	g_assert_null(mrd_upload_tls_priority(MRD_TLS_PRIORITY, fallback));
}

/* where glib-networking has the per-connection switch, it is turned off */
static void
test_tls_resumption_property(void)
{
	g_autoptr(GInputStream) in = g_memory_input_stream_new();
	g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
	g_autoptr(GIOStream) base = g_simple_io_stream_new(in, out);
	g_autoptr(GError) error = NULL;
	g_autoptr(GIOStream) tls = NULL;
	gboolean enabled = FALSE;

	if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		g_test_fail_printf("no TLS backend: install glib-networking");
		return;
	}
	tls = g_tls_client_connection_new(base, NULL, &error);
	g_assert_no_error(error);
	mrd_upload_forbid_tls_resumption(G_TLS_CLIENT_CONNECTION(tls));
	if (g_object_class_find_property(G_OBJECT_GET_CLASS(tls), "session-resumption-enabled") ==
	    NULL) {
		/* glib-networking 2.74: the priority (above) does it; the
		 * call must just do no harm */
		g_test_message("no session-resumption-enabled property: covered by the priority");
		return;
	}
	g_object_get(tls, "session-resumption-enabled", &enabled, NULL);
	g_assert_false(enabled);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/metrics/upload/config/defaults", test_config_defaults);
	g_test_add_func("/metrics/upload/config/valid", test_config_valid);
	g_test_add_func("/metrics/upload/config/invalid", test_config_invalid);
	g_test_add_func("/metrics/upload/config/unparsable", test_config_unparsable);
	g_test_add_func("/metrics/upload/backoff", test_backoff);
	g_test_add_func("/metrics/upload/retry-after", test_retry_after);
	g_test_add_func("/metrics/upload/retryable", test_retryable);
	g_test_add_func("/metrics/upload/tls-priority", test_tls_priority);
	g_test_add_func("/metrics/upload/tls-resumption-property", test_tls_resumption_property);
	g_test_add("/metrics/upload/network/gating", NetFixture, NULL, net_set_up,
		   test_network_gating, net_tear_down);
	g_test_add("/metrics/upload/network/metered-allowed", NetFixture, "allow", net_set_up,
		   test_network_metered_allowed, net_tear_down);
	g_test_add("/metrics/upload/ca-file-unreadable", NetFixture, NULL, net_set_up,
		   test_ca_file_unreadable, net_tear_down);
	return g_test_run();
}
