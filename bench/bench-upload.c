/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Upload costs: bytes on the wire per aggregate (raw body and gzip), and CPU
 * time to build one request (serialize, gzip, SHA-512), for requests of
 * typical shapes; then whole requests through the uploader (outbox, HTTP,
 * archive) to a SoupServer on loopback in another thread: CPU per request
 * of the uploader's thread, and bytes uploaded per event for a store of
 * 1,000,000 events in 1,000 keys. Prints figures; asserts nothing about
 * speed.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/resource.h>

#include "mrd-aggregator.h"
#include "mrd-outbox.h"
#include "mrd-upload-body.h"
#include "mrd-uploader.h"

static double
cpu_seconds(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
	       (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of the calling thread only (the server runs in another) */
static double
thread_cpu_seconds(void)
{
	struct rusage usage;

	getrusage(RUSAGE_THREAD, &usage);
	return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
	       (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

typedef struct {
	GMutex lock;
	GCond cond;
	GMainContext *context;
	GMainLoop *loop;
	guint16 port;
	gboolean ready;
	guint n_requests; /* under lock */
	guint64 n_bytes;  /* under lock: request bodies as received (gzip) */
} Sink;

static void
sink_cb(SoupServer *server,
	SoupServerMessage *message,
	const char *path,
	GHashTable *query,
	gpointer user_data)
{
	Sink *sink = user_data;
	SoupMessageBody *body = soup_server_message_get_request_body(message);

	g_mutex_lock(&sink->lock);
	sink->n_requests++;
	sink->n_bytes += (guint64)body->length;
	g_mutex_unlock(&sink->lock);
	soup_server_message_set_status(message, 200, NULL);
}

static gpointer
sink_thread(gpointer user_data)
{
	Sink *sink = user_data;
	g_autoptr(SoupServer) server = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	GSList *uris;

	g_main_context_push_thread_default(sink->context);
	server = soup_server_new(NULL, NULL);
	soup_server_add_handler(server, NULL, sink_cb, sink, NULL);
	if (!soup_server_listen(server, address, 0, NULL))
		g_error("cannot listen on loopback");
	uris = soup_server_get_uris(server);
	g_mutex_lock(&sink->lock);
	sink->port = (guint16)g_uri_get_port(uris->data);
	sink->ready = TRUE;
	g_cond_signal(&sink->cond);
	g_mutex_unlock(&sink->lock);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	g_main_loop_run(sink->loop);
	soup_server_disconnect(server);
	g_main_context_pop_thread_default(sink->context);
	return NULL;
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

static void
ignore_log(const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
}

static void
upload_now_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(result);
}

/* a store of @n_keys aggregates (@n_metrics metrics, app ids as values) of
 * last week holding @n_events events in all, uploaded with UploadNow */
static void
measure_uploader(guint n_metrics, guint n_keys, guint64 n_events)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("bench-upload-XXXXXX", &error);
	g_autofree char *path = g_build_filename(dir, "metrics.db", NULL);
	g_autoptr(MrdStore) store = NULL;
	g_autoptr(MrdOutbox) outbox = NULL;
	g_autoptr(MrdClock) clock = mrd_clock_new();
	g_autoptr(MrdConfig) config = mrd_config_new();
	g_autoptr(MrdUploader) uploader = NULL;
	g_autoptr(GArray) deltas = g_array_new(FALSE, TRUE, sizeof(MrdDelta));
	g_autoptr(GAsyncResult) result = NULL;
	g_autofree char *data = NULL;
	gint64 week = mrd_week_start(g_get_real_time()) - 7 * G_TIME_SPAN_DAY;
	Sink sink = {0};
	GThread *thread;
	guint n_sent = 0, n_failed = 0;
	double start;

	g_assert_no_error(error);
	store = mrd_store_open(path, &error);
	g_assert_no_error(error);
	for (guint k = 0; k < n_keys; k++) {
		g_autofree char *app = g_strdup_printf("org.example.Application%u.desktop", k);
		g_autoptr(GVariant) maybe = g_variant_ref_sink(g_variant_new_maybe(
			G_VARIANT_TYPE_VARIANT, g_variant_new_variant(g_variant_new_string(app))));
		g_autofree char *id =
			g_strdup_printf("8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7%04x", k % n_metrics);
		MrdDelta delta = {
			.week = week,
			.kind = METRICS_EVENT_KIND_VALUE,
			.payload = g_variant_get_data_as_bytes(maybe),
			.count = n_events / n_keys,
		};

		metrics_uuid_parse(id, delta.id);
		g_array_append_val(deltas, delta);
	}
	if (!mrd_store_add(store, 1000, deltas, &error))
		g_error("cannot fill the store: %s", error->message);
	for (guint i = 0; i < deltas->len; i++)
		g_bytes_unref(g_array_index(deltas, MrdDelta, i).payload);

	g_mutex_init(&sink.lock);
	g_cond_init(&sink.cond);
	sink.context = g_main_context_new();
	sink.loop = g_main_loop_new(sink.context, FALSE);
	thread = g_thread_new("sink", sink_thread, &sink);
	g_mutex_lock(&sink.lock);
	while (!sink.ready)
		g_cond_wait(&sink.cond, &sink.lock);
	g_mutex_unlock(&sink.lock);

	data = g_strdup_printf("[Upload]\nServerUrl=http://127.0.0.1:%u\nWindow=7\n", sink.port);
	mrd_config_load_data(config, data, strlen(data), "bench");
	outbox = mrd_outbox_new(store, "42");
	start = thread_cpu_seconds();
	uploader = mrd_uploader_new(outbox, clock, config, g_network_monitor_get_default());
	/* the closed week becomes requests (due later: Window) */
	if (!mrd_outbox_freeze(outbox, g_get_real_time(), 7, 65536, NULL, &error))
		g_error("cannot freeze: %s", error->message);
	mrd_uploader_start(uploader);
	mrd_uploader_upload_now_async(uploader, NULL, upload_now_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	if (!mrd_uploader_upload_now_finish(uploader, result, &n_sent, &n_failed, &error))
		g_error("UploadNow failed: %s", error->message);
	{
		double elapsed = thread_cpu_seconds() - start;

		g_mutex_lock(&sink.lock);
		g_print("uploader to loopback: %u keys, %" G_GUINT64_FORMAT " events, %u metrics: "
			"%u requests (%u failed), %.1f ms CPU/request (uploader thread, freeze "
			"included), %" G_GUINT64_FORMAT
			" B of gzip bodies: %.5f B/event, %.1f B/aggregate\n",
			n_keys, n_events, n_metrics, n_sent, n_failed,
			n_sent > 0 ? elapsed * 1e3 / n_sent : 0.0, sink.n_bytes,
			(double)sink.n_bytes / (double)n_events, (double)sink.n_bytes / n_keys);
		g_mutex_unlock(&sink.lock);
	}
	g_clear_object(&uploader);
	g_main_context_invoke(sink.context, quit_cb, sink.loop);
	g_thread_join(thread);
	g_main_loop_unref(sink.loop);
	g_main_context_unref(sink.context);
	g_mutex_clear(&sink.lock);
	g_cond_clear(&sink.cond);
	g_clear_object(&outbox);
	mrd_store_close(store);
	g_clear_object(&store);
	mrd_store_delete_files(path, NULL);
	g_rmdir(dir);
}

static GBytes *
make_events(MetricsEventKind kind, guint n)
{
	g_autoptr(GPtrArray) elements =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	guint8 base[16];

	metrics_uuid_parse("8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001", base);
	for (guint i = 0; i < n; i++) {
		g_autofree char *app = g_strdup_printf("org.example.Application%u.desktop", i);
		GVariant *value =
			kind == METRICS_EVENT_KIND_COUNTER ? NULL : g_variant_new_string(app);

		g_ptr_array_add(elements, mrd_upload_element_new(base, "42", "2026-01-05", kind,
								 17 + i, G_TIME_SPAN_HOUR, value));
	}
	return mrd_upload_events_serialize(elements);
}

static void
measure(const char *label, MetricsEventKind kind, guint n_aggregates, guint iterations)
{
	g_autoptr(GBytes) events = make_events(kind, n_aggregates);
	gsize raw = 0, gz = 0;
	double start = cpu_seconds(), elapsed;

	for (guint i = 0; i < iterations; i++) {
		g_autoptr(GBytes) body = mrd_upload_body_build(events, (gint64)i);
		g_autoptr(GBytes) compressed = mrd_upload_gzip(body);
		g_autofree char *sum = mrd_upload_checksum(body);

		raw = g_bytes_get_size(body);
		gz = g_bytes_get_size(compressed);
	}
	elapsed = cpu_seconds() - start;
	g_print("%-34s %5u aggr  raw %7.1f B/aggr  gzip %7.1f B/aggr  (%6zu B gzip)  "
		"%8.1f us CPU/request\n",
		label, n_aggregates, (double)raw / n_aggregates, (double)gz / n_aggregates, gz,
		elapsed * 1e6 / iterations);
}

int
main(int argc, char *argv[])
{
	gboolean quick = argc > 1 && g_strcmp0(argv[1], "--quick") == 0;
	guint iterations = quick ? 3 : 2000;

	/* one line per request from the uploader would drown the figures */
	g_log_set_handler("MrdUploader", G_LOG_LEVEL_MESSAGE, ignore_log, NULL);
	g_print("upload request build (body + gzip + SHA-512), %u iterations each\n", iterations);
	measure("counter, no value", METRICS_EVENT_KIND_COUNTER, 1, iterations);
	measure("value (app id)", METRICS_EVENT_KIND_VALUE, 1, iterations);
	measure("duration with value", METRICS_EVENT_KIND_DURATION, 1, iterations);
	measure("value (app id), one metric-week", METRICS_EVENT_KIND_VALUE, 50, iterations);
	measure("value (app id), one metric-week", METRICS_EVENT_KIND_VALUE, 600,
		quick ? 1 : iterations / 10);
	/* one request per metric-week: 100 metrics of 10 values, then 10 of
	 * 100 values, 1,000 keys and 1,000,000 events in both */
	measure_uploader(100, 1000, quick ? 10000 : 1000000);
	measure_uploader(10, 1000, quick ? 10000 : 1000000);
	return 0;
}
