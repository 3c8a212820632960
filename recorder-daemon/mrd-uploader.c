/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdUploader"

#include "config.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "metrics-error.h"
#include "mrd-aggregator.h"
#include "mrd-upload-body.h"
#include "mrd-uploader.h"

/*
 * Sends the outbox to the Azafea server, one request at a time.
 *
 * The only wake-ups are a timer for the earliest due request and network
 * changes; the engine freezes closed weeks into requests and then calls
 * mrd_uploader_reschedule(). A row
 * is deleted only after a 2xx (mrd_outbox_complete); 5xx, 408, 429 and
 * transport failures are retried with capped exponential back-off and
 * jitter (Retry-After honoured); any other answer sets the request aside.
 * Before a request leaves, its attempt and next try are saved, so a crash
 * resends at most that request, and not at once.
 */

struct _MrdUploader {
	GObject parent_instance;

	MrdOutbox *outbox;	   /* (owned) */
	MrdClock *clock;	   /* (owned) */
	const MrdConfig *config;   /* (unowned) outlives the uploader */
	GNetworkMonitor *monitor;  /* (owned) */
	SoupSession *session;	   /* (owned) */
	GCancellable *cancellable; /* (owned) */
	gboolean server_is_local;
	gboolean loopback_needs_network; /* tests: no bypass for loopback */
	gboolean started;
	guint timer_id;
	gulong network_changed_id;
	gulong network_available_id;
	gulong network_metered_id;
	gint64 not_before; /* usec: no upload before, after a local failure */

	gboolean in_flight;
	/* UploadNow: tasks waiting for the current forced round */
	GPtrArray *force_tasks; /* (owned) (element-type GTask) */
	gint64 force_after_id;
	guint force_sent;
	guint force_failed;
};

G_DEFINE_TYPE(MrdUploader, mrd_uploader, G_TYPE_OBJECT)

static void
mrd_uploader_process(MrdUploader *self);

static gboolean
host_is_loopback(const char *url)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	const char *host = uri != NULL ? g_uri_get_host(uri) : NULL;
	g_autoptr(GInetAddress) address = NULL;

	if (host == NULL)
		return FALSE;
	if (g_ascii_strcasecmp(host, "localhost") == 0)
		return TRUE;
	address = g_inet_address_new_from_string(host);
	return address != NULL && g_inet_address_get_is_loopback(address);
}

/* a loopback server (the development sink, the tests) needs no network */
static gboolean
mrd_uploader_network_allows(MrdUploader *self, GError **error)
{
	if (self->server_is_local && !self->loopback_needs_network)
		return TRUE;
	if (!g_network_monitor_get_network_available(self->monitor)) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_FAILED,
				    _("The network is not available"));
		return FALSE;
	}
	if (g_network_monitor_get_network_metered(self->monitor) && !self->config->allow_metered) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_FAILED,
				    /* TRANSLATORS: AllowMetered is a configuration key */
				    _("The network is metered and AllowMetered is false"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
timer_cb(gpointer user_data)
{
	MrdUploader *self = MRD_UPLOADER(user_data);

	self->timer_id = 0;
	mrd_uploader_process(self);
	return G_SOURCE_REMOVE;
}

/* sets the one timer: the earliest due request, if any */
static void
mrd_uploader_schedule(MrdUploader *self)
{
	g_autoptr(GError) error = NULL;
	gint64 now = mrd_clock_get_real_time(self->clock);
	gint64 wake = G_MAXINT64;
	guint64 n_pending = 0, n_set_aside = 0;
	gint64 next_try = 0, last_sent = 0;
	gint64 delay_ms;

	g_clear_handle_id(&self->timer_id, g_source_remove);
	if (!self->started)
		return;
	if (mrd_uploader_network_allows(self, NULL)) {
		if (!mrd_outbox_get_stats(self->outbox, &n_pending, &n_set_aside, &next_try,
					  &last_sent, &error))
			g_warning("cannot read the outbox: %s", error->message);
		else if (n_pending > 0)
			wake = MAX(next_try, self->not_before);
	}
	if (wake == G_MAXINT64)
		return;
	delay_ms = CLAMP((wake - now + 999) / 1000, 0, (gint64)G_MAXINT32);
	g_debug("next upload wake-up in %" G_GINT64_FORMAT " s", delay_ms / 1000);
	self->timer_id =
		g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)delay_ms, timer_cb, self, NULL);
}

typedef struct {
	MrdUploader *self;	   /* (owned) */
	MrdOutboxRequest *request; /* (owned) */
	SoupMessage *message;	   /* (owned) */
	GBytes *body;		   /* (owned) uncompressed, as sent */
	char *checksum;		   /* (owned) */
	gsize compressed_size;
	gboolean forced;
} SendData;

static void
send_data_free(SendData *data)
{
	g_clear_object(&data->self);
	g_clear_pointer(&data->request, mrd_outbox_request_free);
	g_clear_object(&data->message);
	g_clear_pointer(&data->body, g_bytes_unref);
	g_free(data->checksum);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SendData, send_data_free)

static char *
describe_answer(SoupMessage *message, GBytes *reply)
{
	gsize len = 0;
	const char *data = reply != NULL ? g_bytes_get_data(reply, &len) : NULL;

	return mrd_upload_describe_answer(soup_message_get_status(message),
					  soup_message_get_reason_phrase(message), data, len);
}

static void
send_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(SendData) data = user_data;
	MrdUploader *self = data->self;
	MrdOutboxRequest *request = data->request;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error_store = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autofree char *answer = NULL;
	gint64 now;
	guint status = 0;
	gboolean ok = FALSE;

	reply = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		/* stopped: consent withdrawn or shutting down */
		g_debug("upload of request %" G_GINT64_FORMAT " cancelled", request->id);
		return;
	}
	self->in_flight = FALSE;
	now = mrd_clock_get_real_time(self->clock);
	if (reply == NULL) {
		gint64 next =
			now + mrd_upload_backoff(request->attempts + 1, self->config->retry_min,
						 self->config->retry_max, g_random_double());
		g_message("upload of week %s failed: %s; retrying in %" G_GINT64_FORMAT " s",
			  request->week, error->message, (next - now) / G_USEC_PER_SEC);
		mrd_outbox_retry_later(self->outbox, request->id, next, 0, error->message,
				       &error_store);
	} else {
		status = soup_message_get_status(data->message);
		answer = describe_answer(data->message, reply);
		if (SOUP_STATUS_IS_SUCCESSFUL(status)) {
			ok = mrd_outbox_complete(self->outbox, request, now, status, answer,
						 data->body, data->checksum, data->compressed_size,
						 &error_store);
			g_message("uploaded %u aggregates of week %s (%" G_GSIZE_FORMAT
				  " bytes): %s",
				  request->n_events, request->week, data->compressed_size, answer);
		} else if (mrd_upload_status_is_retryable(status)) {
			gint64 delay = 0;
			const char *retry_after = soup_message_headers_get_one(
				soup_message_get_response_headers(data->message), "Retry-After");

			/* the server knows best when it can take the request
			 * again: a longer wait than RetryMax is honoured */
			if (mrd_upload_parse_retry_after(retry_after, now, &delay))
				delay = mrd_upload_clamp_retry_after(delay);
			else
				delay = mrd_upload_backoff(
					request->attempts + 1, self->config->retry_min,
					self->config->retry_max, g_random_double());
			g_message("upload of week %s answered %s; retrying in %" G_GINT64_FORMAT
				  " s",
				  request->week, answer, delay / G_USEC_PER_SEC);
			mrd_outbox_retry_later(self->outbox, request->id, now + delay, status,
					       answer, &error_store);
		} else {
			/* the request itself is wrong: retrying cannot help */
			g_warning("upload of week %s rejected with %s; setting it aside",
				  request->week, answer);
			mrd_outbox_set_aside(self->outbox, request->id, status, answer,
					     &error_store);
		}
	}
	if (error_store != NULL)
		g_warning("cannot record the result of an upload: %s", error_store->message);
	if (data->forced) {
		if (ok)
			self->force_sent++;
		else
			self->force_failed++;
	}
	mrd_uploader_process(self);
}

static void
network_event_cb(SoupMessage *message,
		 GSocketClientEvent event,
		 GIOStream *connection,
		 gpointer user_data)
{
	if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CLIENT_CONNECTION(connection))
		mrd_upload_forbid_tls_resumption(G_TLS_CLIENT_CONNECTION(connection));
}

static void
mrd_uploader_send(MrdUploader *self, MrdOutboxRequest *request, gboolean forced)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SendData) data = g_new0(SendData, 1);
	g_autoptr(GBytes) compressed = NULL;
	g_autofree char *uri = NULL;
	SoupMessage *message;
	gint64 now = mrd_clock_get_real_time(self->clock);
	gint64 next_try = now + mrd_upload_backoff(request->attempts + 1, self->config->retry_min,
						   self->config->retry_max, g_random_double());

	data->self = g_object_ref(self);
	data->request = request;
	data->forced = forced;
	if (!mrd_outbox_begin_attempt(self->outbox, request->id, now, next_try, &error)) {
		g_warning("cannot start an upload: %s", error->message);
		return;
	}
	/* the events were frozen; the timestamps are taken now, both from the
	 * same clock (docs/upload.md) */
	data->body = mrd_upload_body_build(request->events, now * 1000);
	if (data->body == NULL) {
		g_warning("request %" G_GINT64_FORMAT " in the outbox is corrupt; setting it aside",
			  request->id);
		mrd_outbox_set_aside(self->outbox, request->id, 0, "corrupt in the outbox", NULL);
		return;
	}
	compressed = mrd_upload_gzip(data->body);
	data->compressed_size = g_bytes_get_size(compressed);
	data->checksum = mrd_upload_checksum(data->body);
	uri = g_strdup_printf("%s/3/%s", self->config->server_url, data->checksum);
	data->message = soup_message_new(SOUP_METHOD_PUT, uri);
	if (data->message == NULL) {
		g_warning("cannot upload to %s: invalid URL", self->config->server_url);
		return;
	}
	/* a redirect is answered like any other unexpected status (set
	 * aside): libsoup would follow a 302/303 with a GET, whose 2xx would
	 * mark a request delivered that never was. A new connection for each
	 * request: a kept-alive one would tie two requests together */
	soup_message_add_flags(data->message,
			       SOUP_MESSAGE_NO_REDIRECT | SOUP_MESSAGE_NEW_CONNECTION);
	g_signal_connect(data->message, "network-event", G_CALLBACK(network_event_cb), NULL);
	soup_message_headers_replace(soup_message_get_request_headers(data->message),
				     "X-Endless-Content-Encoding", "gzip");
	soup_message_set_request_body_from_bytes(data->message, "application/octet-stream",
						 compressed);
	g_debug("uploading request %" G_GINT64_FORMAT " (week %s, %u aggregates, %" G_GSIZE_FORMAT
		" bytes) to %s",
		request->id, request->week, request->n_events, data->compressed_size, uri);
	self->in_flight = TRUE;
	message = data->message;
	soup_session_send_and_read_async(self->session, message, G_PRIORITY_DEFAULT,
					 self->cancellable, send_cb, g_steal_pointer(&data));
}

static void
mrd_uploader_finish_forced(MrdUploader *self, const GError *error)
{
	g_autoptr(GPtrArray) tasks = g_steal_pointer(&self->force_tasks);

	self->force_tasks = g_ptr_array_new_with_free_func(g_object_unref);
	for (guint i = 0; i < tasks->len; i++) {
		GTask *task = g_ptr_array_index(tasks, i);

		if (error != NULL) {
			g_task_return_error(task, g_error_copy(error));
			continue;
		}
		g_task_set_task_data(task, GUINT_TO_POINTER(self->force_failed), NULL);
		g_task_return_int(task, self->force_sent);
	}
}

/* sends the next request, if one is due (or, in an UploadNow round, any
 * pending one not yet tried in this round) */
static void
mrd_uploader_process(MrdUploader *self)
{
	g_autoptr(GError) error = NULL;
	MrdOutboxRequest *request = NULL;
	gboolean forced = self->force_tasks->len > 0;
	gint64 now = mrd_clock_get_real_time(self->clock);

	if (!self->started || self->in_flight)
		return;
	while (TRUE) {
		gboolean deferred = FALSE;

		if (forced) {
			request = mrd_outbox_next(self->outbox, G_MAXINT64, self->force_after_id,
						  &error);
			if (request != NULL)
				self->force_after_id = request->id;
		} else if (now >= self->not_before && mrd_uploader_network_allows(self, NULL)) {
			request = mrd_outbox_next(self->outbox, now, 0, &error);
		}
		if (request == NULL)
			break;
		/* a metric withdrawn from the allowlist or expired since it
		 * was frozen is dropped, not sent */
		if (mrd_outbox_drop_if_filtered(self->outbox, request, now, &deferred, &error)) {
			g_clear_pointer(&request, mrd_outbox_request_free);
			continue;
		}
		if (!deferred && error == NULL)
			break;
		/* no allowlist to ask (or no answer from the outbox): this
		 * request waits */
		g_debug("request %" G_GINT64_FORMAT " cannot be checked against the allowlist "
			"now: not sending it yet",
			request->id);
		g_clear_pointer(&request, mrd_outbox_request_free);
		if (forced && error == NULL) {
			self->force_failed++;
			continue;
		}
		self->not_before = now + (gint64)self->config->retry_min * G_USEC_PER_SEC;
		break;
	}
	if (error != NULL)
		g_warning("cannot read the outbox: %s", error->message);
	/* outside UploadNow, one request of a backlog leaves now and the
	 * others each at a new random moment within Spread */
	if (request != NULL && !forced && self->config->spread > 0) {
		g_autoptr(GError) error_spread = NULL;
		guint n_spread = 0;

		if (!mrd_outbox_spread_overdue(self->outbox, now, request->id,
					       (gint64)self->config->spread * G_USEC_PER_SEC,
					       &n_spread, &error_spread))
			g_warning("cannot spread the uploads due: %s", error_spread->message);
		else if (n_spread > 0)
			g_debug("%u more uploads were due: each at a random moment within %u s",
				n_spread, self->config->spread);
	}
	if (request != NULL) {
		mrd_uploader_send(self, request, forced);
		if (self->in_flight)
			return;
		/* it could not even be sent: in a forced round go on with
		 * the next, else wait before trying again */
		if (forced) {
			self->force_failed++;
			mrd_uploader_process(self);
			return;
		}
		self->not_before = mrd_clock_get_real_time(self->clock) +
				   (gint64)self->config->retry_min * G_USEC_PER_SEC;
	}
	if (forced)
		mrd_uploader_finish_forced(self, error);
	mrd_uploader_schedule(self);
}

static void
network_changed_cb(GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
	MrdUploader *self = MRD_UPLOADER(user_data);

	g_debug("network changed: available %d, metered %d", available,
		g_network_monitor_get_network_metered(monitor));
	mrd_uploader_process(self);
}

/* a monitor may change "metered" or "available" without network-changed */
static void
network_notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	GNetworkMonitor *monitor = G_NETWORK_MONITOR(object);

	network_changed_cb(monitor, g_network_monitor_get_network_available(monitor), user_data);
}

static const char *
getenv_either(const char *name)
{
	g_autofree char *upper = g_ascii_strup(name, -1);
	const char *value = g_getenv(name);

	if (value == NULL || value[0] == '\0')
		value = g_getenv(upper);
	return value != NULL && value[0] != '\0' ? value : NULL;
}

/* a system service has no desktop proxy settings: proxies come from its
 * environment only (https_proxy or http_proxy, no_proxy), e.g. a systemd
 * Environment= line; NULL means direct */
static GProxyResolver *
proxy_resolver_from_environment(const char *url)
{
	const char *proxy =
		getenv_either(g_str_has_prefix(url, "https:") ? "https_proxy" : "http_proxy");
	const char *no_proxy = getenv_either("no_proxy");
	g_auto(GStrv) ignore = NULL;

	if (proxy == NULL)
		return NULL;
	if (no_proxy != NULL)
		ignore = g_strsplit(no_proxy, ",", -1);
	for (guint i = 0; ignore != NULL && ignore[i] != NULL; i++)
		g_strstrip(ignore[i]);
	return g_simple_proxy_resolver_new(proxy, ignore);
}

MrdUploader *
mrd_uploader_new(MrdOutbox *outbox,
		 MrdClock *clock,
		 const MrdConfig *config,
		 GNetworkMonitor *monitor)
{
	MrdUploader *self;

	g_return_val_if_fail(MRD_IS_OUTBOX(outbox), NULL);
	g_return_val_if_fail(MRD_IS_CLOCK(clock), NULL);
	g_return_val_if_fail(config != NULL, NULL);
	g_return_val_if_fail(G_IS_NETWORK_MONITOR(monitor), NULL);

	self = g_object_new(MRD_TYPE_UPLOADER, NULL);
	self->outbox = g_object_ref(outbox);
	self->clock = g_object_ref(clock);
	self->config = config;
	self->monitor = g_object_ref(monitor);
	self->server_is_local = host_is_loopback(config->server_url);
	/* nothing that tells machines apart: a fixed User-Agent without a
	 * version, no cookies, no Accept-Language (docs/upload.md) */
	self->session = soup_session_new_with_options("user-agent", MRD_UPLOAD_USER_AGENT,
						      "timeout", config->timeout, "idle-timeout",
						      config->timeout, NULL);
	soup_session_remove_feature_by_type(self->session, SOUP_TYPE_COOKIE_JAR);
	{
		g_autoptr(GProxyResolver) proxy =
			proxy_resolver_from_environment(config->server_url);
		soup_session_set_proxy_resolver(self->session, proxy);
	}
	if (config->ca_file != NULL) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GTlsDatabase) database = g_tls_file_database_new(config->ca_file, &error);

		/* CaFile= replaces the system's certificates; one that
		 * cannot be read leaves them in place: the server is still
		 * checked, nothing is sent unchecked */
		if (database == NULL)
			g_warning("cannot use CaFile=%s: %s; trusting the system's "
				  "certificates instead",
				  config->ca_file, error->message);
		else
			soup_session_set_tls_database(self->session, database);
	}
	return self;
}

/* for the tests: a loopback ServerUrl waits for the network like any other */
void
mrd_uploader_set_loopback_needs_network(MrdUploader *self, gboolean needs_network)
{
	g_return_if_fail(MRD_IS_UPLOADER(self));
	self->loopback_needs_network = needs_network;
}

/* starts sending what is due, and follows the network */
void
mrd_uploader_start(MrdUploader *self)
{
	g_return_if_fail(MRD_IS_UPLOADER(self));

	if (self->started)
		return;
	self->started = TRUE;
	if (g_cancellable_is_cancelled(self->cancellable)) {
		g_clear_object(&self->cancellable);
		self->cancellable = g_cancellable_new();
	}
	self->network_changed_id = g_signal_connect(self->monitor, "network-changed",
						    G_CALLBACK(network_changed_cb), self);
	self->network_available_id = g_signal_connect(self->monitor, "notify::network-available",
						      G_CALLBACK(network_notify_cb), self);
	self->network_metered_id = g_signal_connect(self->monitor, "notify::network-metered",
						    G_CALLBACK(network_notify_cb), self);
	mrd_uploader_process(self);
}

/* cancels the request in flight and every timer; UploadNow callers get an
 * error */
void
mrd_uploader_stop(MrdUploader *self)
{
	g_autoptr(GError) error = NULL;

	g_return_if_fail(MRD_IS_UPLOADER(self));

	self->started = FALSE;
	g_cancellable_cancel(self->cancellable);
	self->in_flight = FALSE;
	g_clear_handle_id(&self->timer_id, g_source_remove);
	g_clear_signal_handler(&self->network_changed_id, self->monitor);
	g_clear_signal_handler(&self->network_available_id, self->monitor);
	g_clear_signal_handler(&self->network_metered_id, self->monitor);
	g_set_error_literal(&error, METRICS_ERROR, METRICS_ERROR_DISABLED,
			    _("Uploads were stopped"));
	mrd_uploader_finish_forced(self, error);
}

/* sends every pending request now, ignoring the random delay and the
 * back-off; each is tried once */
void
mrd_uploader_upload_now_async(MrdUploader *self,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GError) error = NULL;

	g_return_if_fail(MRD_IS_UPLOADER(self));

	g_task_set_source_tag(task, mrd_uploader_upload_now_async);
	if (!self->started) {
		g_task_return_new_error(task, METRICS_ERROR, METRICS_ERROR_DISABLED, "%s",
					_("Uploads are stopped"));
		return;
	}
	if (!mrd_uploader_network_allows(self, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (self->force_tasks->len == 0) {
		self->force_after_id = 0;
		self->force_sent = 0;
		self->force_failed = 0;
	}
	g_ptr_array_add(self->force_tasks, g_steal_pointer(&task));
	mrd_uploader_process(self);
}

/**
 * mrd_uploader_reschedule:
 *
 * Tells the uploader that the outbox changed (closed weeks were frozen
 * into requests): what is due now is sent, the rest waits for its time.
 */
void
mrd_uploader_reschedule(MrdUploader *self)
{
	g_return_if_fail(MRD_IS_UPLOADER(self));
	mrd_uploader_process(self);
}

gboolean
mrd_uploader_upload_now_finish(MrdUploader *self,
			       GAsyncResult *result,
			       guint *n_sent,
			       guint *n_failed,
			       GError **error)
{
	gssize sent;

	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);

	sent = g_task_propagate_int(G_TASK(result), error);
	if (sent < 0)
		return FALSE;
	if (n_sent != NULL)
		*n_sent = (guint)sent;
	if (n_failed != NULL)
		*n_failed = GPOINTER_TO_UINT(g_task_get_task_data(G_TASK(result)));
	return TRUE;
}

static void
mrd_uploader_dispose(GObject *object)
{
	MrdUploader *self = MRD_UPLOADER(object);

	if (self->started)
		mrd_uploader_stop(self);
	g_clear_handle_id(&self->timer_id, g_source_remove);
	g_clear_object(&self->session);
	g_clear_object(&self->outbox);
	g_clear_object(&self->clock);
	g_clear_object(&self->monitor);
	g_clear_object(&self->cancellable);
	g_clear_pointer(&self->force_tasks, g_ptr_array_unref);

	G_OBJECT_CLASS(mrd_uploader_parent_class)->dispose(object);
}

static void
mrd_uploader_class_init(MrdUploaderClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_uploader_dispose;
}

static void
mrd_uploader_init(MrdUploader *self)
{
	self->cancellable = g_cancellable_new();
	self->force_tasks = g_ptr_array_new_with_free_func(g_object_unref);
}
