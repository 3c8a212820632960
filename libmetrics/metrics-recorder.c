/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsRecorder"

#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "metrics-batch-private.h"
#include "metrics-enums.h"
#include "metrics-error.h"
#include "metrics-private.h"
#include "metrics-recorder.h"

/**
 * MetricsRecorder:
 *
 * Records anonymous events for the metrics recorder daemon.
 *
 * Recording never blocks and never fails: an event is appended to an
 * in-process queue and the call returns. The queue is sent to the daemon in
 * batches, one D-Bus call for many events, about 100 ms after the first
 * queued event, as soon as 256 events are queued, or when
 * [method@Recorder.flush_async] or [method@Recorder.flush_sync] is called. The
 * batches are sent from the [struct@GLib.MainContext] that was the
 * thread-default one when the recorder was created, so that context must be
 * running (as it is in any GTK or GApplication app); short-lived programs call
 * [method@Recorder.flush_sync] before they exit. In a [class@Gio.Application],
 * the default recorder flushes itself on [signal@Gio.Application::shutdown].
 *
 * The default recorder also sends what is still queued when the process
 * exits normally (`exit()` or the end of `main()`, which is also how a
 * Python or GJS script ends), with at most 3 seconds for the whole of it, so
 * that a daemon that does not answer never keeps a program from exiting.
 * This is a safety net, not the way to deliver: the exit of a process cannot
 * report a failure, and `_exit()`, a signal or a crash skip it. Call
 * [method@Recorder.flush_sync] (or [method@Recorder.flush_async] and wait for
 * it) where the program knows it is done. A process created by `fork()`
 * does not send again at its exit what its parent had queued. Recorders
 * made with [ctor@Recorder.new] are not flushed at exit: their connection
 * may be closed by then.
 *
 * What became of the events is counted: [method@Recorder.get_n_accepted]
 * (kept by the daemon), [method@Recorder.get_n_rejected] (refused by the
 * daemon's allowlist or limits) and [method@Recorder.get_n_dropped] (dropped
 * in this process: no consent, no daemon, invalid, or not delivered).
 * Recording and flushing succeed in each of these cases, so that metrics
 * never disturb the app; the counts are for its developers and tests.
 *
 * While the user has not consented to metrics, the user running the
 * process opted out for their account ([property@Recorder:user-opted-out]),
 * or the daemon is not installed, events are dropped in-process and nothing
 * is sent on the bus. The first event recorded makes the recorder ask the
 * daemon for the consent state and the user's own choice, and then follow
 * their changes.
 *
 * Methods of this object may be called from any thread.
 *
 * Since: 0.1
 */

/**
 * MetricsTimer:
 *
 * A running measurement of a duration, started with
 * [method@Recorder.start_timer]. Stop it with [method@Timer.stop] to record the
 * duration, or cancel it with [method@Timer.cancel].
 *
 * The duration is measured with the monotonic clock, so changes of the wall
 * clock do not distort it.
 *
 * Since: 0.1
 */

#define FLUSH_INTERVAL_MS 100
#define FLUSH_THRESHOLD 256
#define MAX_QUEUED_EVENTS 8192
#define SYNC_CALL_TIMEOUT 10000 /* ms */
#define EXIT_FLUSH_TIMEOUT_MS 3000
#define BATCH_NOT_ASSIGNED G_MAXUINT64

/* as the encoder reads it (metrics-batch.c) */
typedef MetricsWireEvent QueuedEvent;

typedef enum {
	STATE_IDLE,	  /* nothing recorded yet: no bus traffic at all */
	STATE_CONNECTING, /* asking the daemon for the consent state */
	STATE_READY,	  /* consent known */
	STATE_ABSENT,	  /* the daemon is neither running nor activatable */
} RecorderState;

struct _MetricsRecorder {
	GObject parent_instance;

	GMainContext *context;	     /* (owned) where batches are sent and signals arrive */
	GCancellable *cancellable;   /* (owned) */
	GDBusConnection *connection; /* (owned) (nullable) until connected; protected by lock */

	GMutex lock;
	/* protected by lock */
	GArray *queue; /* (element-type QueuedEvent) */
	RecorderState state;
	MetricsConsent consent;
	gboolean opted_out;	/* the user said "not for me" (SetUserChoice) */
	GSource *flush_source;	/* (owned) (nullable) the pending timed flush */
	GSource *urgent_source; /* (owned) (nullable) the pending immediate flush */
	guint64 n_dropped;
	guint64 n_accepted; /* acknowledged as kept by the daemon */
	guint64 n_rejected; /* acknowledged as dropped by the daemon */

	/* only used in context */
	gboolean subscribed;
	guint properties_changed_id;
	guint user_choice_id;
	guint watch_id;
	guint64 next_batch_id;
	GArray *pending_batches;   /* (element-type guint64) ascending */
	GPtrArray *waiters;	   /* (element-type GTask) */
	GError *send_error;	   /* (owned) (nullable) last failure, for waiters */
	GApplication *application; /* (nullable) (unowned) weak pointer */
	gulong shutdown_id;
};

struct _MetricsTimer {
	GObject parent_instance;

	MetricsRecorder *recorder; /* (owned) */
	guint8 id[METRICS_UUID_SIZE];
	GVariant *payload; /* (owned) (nullable) */
	gint64 start_wall;
	gint64 start_monotonic;
	gboolean done;
};

G_DEFINE_TYPE(MetricsRecorder, metrics_recorder, G_TYPE_OBJECT)
G_DEFINE_TYPE(MetricsTimer, metrics_timer, G_TYPE_OBJECT)

enum { PROP_0, PROP_CONNECTION, PROP_CONSENT, PROP_USER_OPTED_OUT, N_PROPS };
static GParamSpec *props[N_PROPS] = {NULL};

static void
metrics_recorder_flush_in_context(MetricsRecorder *self);
static void
metrics_recorder_connect_async(MetricsRecorder *self);
static gboolean
metrics_recorder_flush_until(MetricsRecorder *self,
			     gint64 deadline,
			     GCancellable *cancellable,
			     GError **error);

static void
queued_event_clear(gpointer data)
{
	QueuedEvent *event = data;
	g_clear_pointer(&event->payload, g_variant_unref);
}

static GArray *
queue_new(void)
{
	GArray *queue = g_array_sized_new(FALSE, FALSE, sizeof(QueuedEvent), 64);
	g_array_set_clear_func(queue, queued_event_clear);
	return queue;
}

static gboolean
notify_consent_cb(gpointer user_data)
{
	MetricsRecorder *self = METRICS_RECORDER(user_data);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CONSENT]);
	return G_SOURCE_REMOVE;
}

static gboolean
notify_user_opted_out_cb(gpointer user_data)
{
	MetricsRecorder *self = METRICS_RECORDER(user_data);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_USER_OPTED_OUT]);
	return G_SOURCE_REMOVE;
}

/* always deferred, never g_main_context_invoke(): that runs the callback at
 * once when called in the context's thread, with the lock held, and a
 * notify handler calling a getter would deadlock */
static void
metrics_recorder_notify_later(MetricsRecorder *self, GSourceFunc func)
{
	g_autoptr(GSource) source = g_idle_source_new();

	g_source_set_priority(source, G_PRIORITY_DEFAULT);
	g_source_set_callback(source, func, g_object_ref(self), g_object_unref);
	g_source_set_static_name(source, "[libmetrics] notify");
	g_source_attach(source, self->context);
}

/* called with the lock held: whether events may go to the daemon */
static gboolean
metrics_recorder_may_send_locked(MetricsRecorder *self)
{
	return self->consent == METRICS_CONSENT_GRANTED && !self->opted_out;
}

/* called with the lock held; drops what is queued when the user opted out,
 * so that nothing recorded before it is sent after it */
static void
metrics_recorder_set_opted_out_locked(MetricsRecorder *self, gboolean opted_out)
{
	if (self->opted_out != opted_out) {
		self->opted_out = opted_out;
		metrics_recorder_notify_later(self, notify_user_opted_out_cb);
		g_debug("the user %s", opted_out ? "opted out" : "did not opt out");
	}
	if (opted_out && self->queue->len > 0) {
		g_debug("dropping %u queued events: the user opted out", self->queue->len);
		self->n_dropped += self->queue->len;
		g_array_set_size(self->queue, 0);
	}
}

/* called with the lock held; drops what is queued when consent is not
 * granted so that nothing recorded before a "no" is sent after it */
static void
metrics_recorder_set_consent_locked(MetricsRecorder *self, MetricsConsent consent)
{
	gboolean changed = self->state != STATE_READY || self->consent != consent;

	self->state = STATE_READY;
	if (self->consent != consent) {
		self->consent = consent;
		metrics_recorder_notify_later(self, notify_consent_cb);
	}
	if (consent != METRICS_CONSENT_GRANTED && self->queue->len > 0) {
		g_debug("dropping %u queued events: consent is %s", self->queue->len,
			metrics_consent_to_string(consent));
		self->n_dropped += self->queue->len;
		g_array_set_size(self->queue, 0);
	}
	if (changed)
		g_debug("consent is %s", metrics_consent_to_string(consent));
}

static void
metrics_recorder_set_absent_locked(MetricsRecorder *self)
{
	if (self->state != STATE_ABSENT)
		g_debug("the metrics daemon is not available: dropping events");
	self->state = STATE_ABSENT;
	self->n_dropped += self->queue->len;
	g_array_set_size(self->queue, 0);
}

static gboolean
is_daemon_absent_error(const GError *error)
{
	return g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

/* parses the reply of Properties.Get("Consent") */
static MetricsConsent
consent_from_reply(GVariant *reply)
{
	g_autoptr(GVariant) value = NULL;
	MetricsConsent consent = METRICS_CONSENT_UNKNOWN;

	g_variant_get(reply, "(v)", &value);
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
	    !metrics_consent_from_string(g_variant_get_string(value, NULL), &consent)) {
		g_debug("the daemon sent an invalid consent value; treating it as unknown");
		return METRICS_CONSENT_UNKNOWN;
	}
	return consent;
}

/* whether the user opted out, from the reply of GetUserChoice or its
 * error: a daemon without the method has no such choice; any other
 * failure counts as opted out, which is safe */
static gboolean
opted_out_from_reply(GVariant *reply, const GError *error)
{
	const char *str = NULL;
	MetricsUserChoice choice = METRICS_USER_CHOICE_OUT;

	if (reply == NULL) {
		if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
			return FALSE;
		g_debug("cannot get the user's choice, dropping events: %s", error->message);
		return TRUE;
	}
	g_variant_get(reply, "(&s)", &str);
	if (!metrics_user_choice_from_string(str, &choice))
		g_debug("the daemon sent an invalid choice; treating it as opted out");
	return choice == METRICS_USER_CHOICE_OUT;
}

/* @consent_reply: the reply of Properties.Get("Consent"), or NULL with
 * @error; @choice_reply and @choice_error: those of GetUserChoice, asked
 * only after a consent reply */
static void
metrics_recorder_handle_consent_reply(MetricsRecorder *self,
				      GVariant *reply,
				      const GError *error,
				      GVariant *choice_reply,
				      const GError *choice_error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->lock);

	if (reply != NULL && choice_reply == NULL && is_daemon_absent_error(choice_error)) {
		metrics_recorder_set_absent_locked(self);
	} else if (reply != NULL) {
		metrics_recorder_set_opted_out_locked(
			self, opted_out_from_reply(choice_reply, choice_error));
		metrics_recorder_set_consent_locked(self, consent_from_reply(reply));
	} else if (is_daemon_absent_error(error)) {
		metrics_recorder_set_absent_locked(self);
	} else {
		/* any other failure: behave as if not consented, which is safe */
		g_debug("cannot get the consent state: %s", error->message);
		metrics_recorder_set_consent_locked(self, METRICS_CONSENT_UNKNOWN);
	}
}

static void
properties_changed_cb(GDBusConnection *connection,
		      const char *sender_name,
		      const char *object_path,
		      const char *interface_name,
		      const char *signal_name,
		      GVariant *parameters,
		      gpointer user_data)
{
	MetricsRecorder *self = METRICS_RECORDER(user_data);
	g_autoptr(GVariant) changed = NULL;
	g_autoptr(GVariant) value = NULL;
	g_autoptr(GMutexLocker) locker = NULL;
	const char *iface = NULL;
	MetricsConsent consent;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sa{sv}as)")))
		return;
	g_variant_get(parameters, "(&s@a{sv}@as)", &iface, &changed, NULL);
	if (g_strcmp0(iface, METRICS_DBUS_INTERFACE) != 0)
		return;
	value = g_variant_lookup_value(changed, "Consent", G_VARIANT_TYPE_STRING);
	if (value == NULL)
		return;
	if (!metrics_consent_from_string(g_variant_get_string(value, NULL), &consent))
		consent = METRICS_CONSENT_UNKNOWN;
	locker = g_mutex_locker_new(&self->lock);
	metrics_recorder_set_consent_locked(self, consent);
}

/* sent by the daemon to this user's connections only */
static void
user_choice_changed_cb(GDBusConnection *connection,
		       const char *sender_name,
		       const char *object_path,
		       const char *interface_name,
		       const char *signal_name,
		       GVariant *parameters,
		       gpointer user_data)
{
	MetricsRecorder *self = METRICS_RECORDER(user_data);
	g_autoptr(GMutexLocker) locker = NULL;
	MetricsUserChoice choice = METRICS_USER_CHOICE_OUT;
	const char *str = NULL;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(s)")))
		return;
	g_variant_get(parameters, "(&s)", &str);
	if (!metrics_user_choice_from_string(str, &choice))
		choice = METRICS_USER_CHOICE_OUT;
	locker = g_mutex_locker_new(&self->lock);
	metrics_recorder_set_opted_out_locked(self, choice == METRICS_USER_CHOICE_OUT);
}

typedef struct {
	MetricsRecorder *self;	 /* (owned) */
	GVariant *consent_reply; /* (owned) */
} ConsentQuery;

static void
consent_query_free(ConsentQuery *query)
{
	g_object_unref(query->self);
	g_variant_unref(query->consent_reply);
	g_free(query);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ConsentQuery, consent_query_free)

static void
user_choice_get_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(ConsentQuery) query = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	metrics_recorder_handle_consent_reply(query->self, query->consent_reply, NULL, reply,
					      error);
	metrics_recorder_flush_in_context(query->self);
}

/* the consent known, the user's own choice is asked before anything is
 * sent: an app of a user who opted out sends nothing */
static void
consent_get_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MetricsRecorder) self = METRICS_RECORDER(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	ConsentQuery *query;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (reply == NULL) {
		metrics_recorder_handle_consent_reply(self, NULL, error, NULL, NULL);
		metrics_recorder_flush_in_context(self);
		return;
	}
	query = g_new0(ConsentQuery, 1);
	query->self = g_object_ref(self);
	query->consent_reply = g_steal_pointer(&reply);
	g_dbus_connection_call(G_DBUS_CONNECTION(source), METRICS_DBUS_NAME, METRICS_DBUS_PATH,
			       METRICS_DBUS_INTERFACE, "GetUserChoice", NULL, G_VARIANT_TYPE("(s)"),
			       G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, user_choice_get_cb,
			       query);
}

static void
metrics_recorder_query_consent_async(MetricsRecorder *self, GDBusConnection *connection)
{
	/* auto-start is allowed: the daemon is bus-activated and may have
	 * exited because it was idle */
	g_dbus_connection_call(connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
			       "org.freedesktop.DBus.Properties", "Get",
			       g_variant_new("(ss)", METRICS_DBUS_INTERFACE, "Consent"),
			       G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
			       consent_get_cb, g_object_ref(self));
}

static void
name_appeared_cb(GDBusConnection *connection,
		 const char *name,
		 const char *name_owner,
		 gpointer user_data)
{
	MetricsRecorder *self = METRICS_RECORDER(user_data);
	/* a (re)started daemon: learn its consent state again */
	metrics_recorder_query_consent_async(self, connection);
}

static void
application_shutdown_cb(GApplication *application, gpointer user_data)
{
	MetricsRecorder *self = METRICS_RECORDER(user_data);
	g_autoptr(GError) error = NULL;

	if (!metrics_recorder_flush_sync(self, NULL, &error))
		g_debug("flush at shutdown failed: %s", error->message);
}

/* the default recorder flushes when the process's GApplication shuts
 * down; called when it is created and again once connected, for an
 * application created in between */
static void
metrics_recorder_watch_application(MetricsRecorder *self)
{
	GApplication *application = g_application_get_default();

	if (application == NULL || self->shutdown_id != 0)
		return;
	self->application = application;
	g_object_add_weak_pointer(G_OBJECT(application), (gpointer *)&self->application);
	self->shutdown_id = g_signal_connect(application, "shutdown",
					     G_CALLBACK(application_shutdown_cb), self);
}

/* in context, once connected: follow the daemon's consent and presence */
static void
metrics_recorder_subscribe(MetricsRecorder *self, GDBusConnection *connection)
{
	if (self->subscribed)
		return;
	self->subscribed = TRUE;
	self->properties_changed_id = g_dbus_connection_signal_subscribe(
		connection, METRICS_DBUS_NAME, "org.freedesktop.DBus.Properties",
		"PropertiesChanged", METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE,
		G_DBUS_SIGNAL_FLAGS_NONE, properties_changed_cb, self, NULL);
	self->user_choice_id = g_dbus_connection_signal_subscribe(
		connection, METRICS_DBUS_NAME, METRICS_DBUS_INTERFACE, "UserChoiceChanged",
		METRICS_DBUS_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, user_choice_changed_cb, self,
		NULL);
	self->watch_id = g_bus_watch_name_on_connection(connection, METRICS_DBUS_NAME,
							G_BUS_NAME_WATCHER_FLAGS_NONE,
							name_appeared_cb, NULL, self, NULL);

	if (self == metrics_recorder_get_default())
		metrics_recorder_watch_application(self);
}

static void
bus_get_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MetricsRecorder) self = METRICS_RECORDER(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) connection = g_bus_get_finish(result, &error);

	if (connection == NULL) {
		g_autoptr(GMutexLocker) locker = NULL;

		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_debug("no system bus: %s", error->message);
		locker = g_mutex_locker_new(&self->lock);
		metrics_recorder_set_absent_locked(self);
		g_clear_pointer(&locker, g_mutex_locker_free);
		metrics_recorder_flush_in_context(self);
		return;
	}
	g_mutex_lock(&self->lock);
	if (self->connection == NULL)
		self->connection = g_object_ref(connection);
	g_mutex_unlock(&self->lock);
	metrics_recorder_subscribe(self, self->connection);
	/* name_appeared_cb queries the consent once the name has an owner;
	 * ask now too, which activates the daemon if it is not running */
	metrics_recorder_query_consent_async(self, self->connection);
}

/* in context */
static void
metrics_recorder_connect_async(MetricsRecorder *self)
{
	GDBusConnection *connection;

	g_mutex_lock(&self->lock);
	connection = self->connection != NULL ? g_object_ref(self->connection) : NULL;
	g_mutex_unlock(&self->lock);

	if (connection == NULL) {
		g_bus_get(G_BUS_TYPE_SYSTEM, self->cancellable, bus_get_cb, g_object_ref(self));
		return;
	}
	metrics_recorder_subscribe(self, connection);
	metrics_recorder_query_consent_async(self, connection);
	g_object_unref(connection);
}

/* builds the RecordEvents arguments from up to METRICS_MAX_BATCH events
 * taken from the start of @events: their bytes written directly */
static GVariant *
build_batch(GArray *events, guint start, guint n)
{
	g_autoptr(GBytes) bytes =
		metrics_batch_encode(&g_array_index(events, QueuedEvent, start), n);

	return g_variant_new("(@aya{sv})",
			     g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, bytes, TRUE),
			     NULL);
}

/* takes what is queued if the recorder may send it; returns NULL when there
 * is nothing to send (and drops the queue when sending is not allowed) */
static GArray *
metrics_recorder_take_queue(MetricsRecorder *self, RecorderState *state_out)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->lock);
	GArray *events;

	*state_out = self->state;
	if (self->state == STATE_IDLE || self->state == STATE_CONNECTING)
		return NULL;
	if (self->state == STATE_ABSENT || !metrics_recorder_may_send_locked(self)) {
		self->n_dropped += self->queue->len;
		g_array_set_size(self->queue, 0);
		return NULL;
	}
	if (self->queue->len == 0)
		return NULL;
	events = self->queue;
	self->queue = queue_new();
	return events;
}

typedef struct {
	MetricsRecorder *self; /* (owned) */
	guint64 batch_id;
	guint n_events;
} BatchData;

static void
batch_data_free(BatchData *data)
{
	g_clear_object(&data->self);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BatchData, batch_data_free)

static void
metrics_recorder_complete_waiters(MetricsRecorder *self)
{
	guint64 oldest_pending = self->pending_batches->len > 0 ?
					 g_array_index(self->pending_batches, guint64, 0) :
					 G_MAXUINT64;

	for (guint i = 0; i < self->waiters->len;) {
		GTask *task = g_ptr_array_index(self->waiters, i);
		guint64 target = GPOINTER_TO_SIZE(g_task_get_task_data(task));

		/* target is the last batch this flush sent; BATCH_NOT_ASSIGNED
		 * while the consent state is still being asked */
		if (target == BATCH_NOT_ASSIGNED || target >= oldest_pending) {
			i++;
			continue;
		}
		if (self->send_error != NULL)
			g_task_return_error(task, metrics_error_from_dbus(self->send_error));
		else
			g_task_return_boolean(task, TRUE);
		g_ptr_array_remove_index(self->waiters, i);
	}
	if (self->waiters->len == 0)
		g_clear_error(&self->send_error);
}

/* what the daemon said about a batch, for get_n_accepted and get_n_rejected */
static void
metrics_recorder_count_reply(MetricsRecorder *self, guint32 accepted, guint32 dropped)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->lock);

	self->n_accepted += accepted;
	self->n_rejected += dropped;
}

static void
record_events_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(BatchData) data = user_data;
	MetricsRecorder *self = data->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	for (guint i = 0; i < self->pending_batches->len; i++) {
		if (g_array_index(self->pending_batches, guint64, i) == data->batch_id) {
			g_array_remove_index(self->pending_batches, i);
			break;
		}
	}
	if (reply == NULL) {
		/* never loud: the app must not suffer from metrics */
		g_debug("sending %u events failed: %s", data->n_events, error->message);
		g_mutex_lock(&self->lock);
		self->n_dropped += data->n_events;
		if (is_daemon_absent_error(error))
			metrics_recorder_set_absent_locked(self);
		g_mutex_unlock(&self->lock);
		if (self->send_error == NULL)
			self->send_error = g_steal_pointer(&error);
	} else {
		guint32 accepted = 0, dropped = 0;
		g_variant_get(reply, "(uu)", &accepted, &dropped);
		g_debug("sent %u events: %u accepted, %u dropped", data->n_events, accepted,
			dropped);
		metrics_recorder_count_reply(self, accepted, dropped);
	}
	metrics_recorder_complete_waiters(self);
}

/* in context: sends or drops what is queued, then completes the waiters
 * that this flush covers */
static void
metrics_recorder_flush_in_context(MetricsRecorder *self)
{
	g_autoptr(GArray) events = NULL;
	GDBusConnection *connection;
	RecorderState state;

	events = metrics_recorder_take_queue(self, &state);
	if (state == STATE_IDLE) {
		g_mutex_lock(&self->lock);
		self->state = STATE_CONNECTING;
		g_mutex_unlock(&self->lock);
		metrics_recorder_connect_async(self);
		return;
	}
	if (state == STATE_CONNECTING)
		return;

	g_mutex_lock(&self->lock);
	connection = self->connection;
	g_mutex_unlock(&self->lock);
	for (guint start = 0; events != NULL && start < events->len; start += METRICS_MAX_BATCH) {
		guint n = MIN(METRICS_MAX_BATCH, events->len - start);
		BatchData *data = g_new0(BatchData, 1);

		data->self = g_object_ref(self);
		data->batch_id = self->next_batch_id++;
		data->n_events = n;
		g_array_append_val(self->pending_batches, data->batch_id);
		g_dbus_connection_call(connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
				       METRICS_DBUS_INTERFACE, "RecordEvents",
				       build_batch(events, start, n), G_VARIANT_TYPE("(uu)"),
				       G_DBUS_CALL_FLAGS_NONE, -1, NULL, record_events_cb, data);
	}

	/* every waiter so far is covered by the batches sent until now */
	for (guint i = 0; i < self->waiters->len; i++) {
		GTask *task = g_ptr_array_index(self->waiters, i);
		if (GPOINTER_TO_SIZE(g_task_get_task_data(task)) == BATCH_NOT_ASSIGNED)
			g_task_set_task_data(task, GSIZE_TO_POINTER(self->next_batch_id - 1), NULL);
	}
	metrics_recorder_complete_waiters(self);
}

static gboolean
flush_source_cb(gpointer user_data)
{
	MetricsRecorder *self = METRICS_RECORDER(user_data);

	g_mutex_lock(&self->lock);
	if (self->flush_source != NULL && g_source_is_destroyed(self->flush_source))
		g_clear_pointer(&self->flush_source, g_source_unref);
	if (self->urgent_source != NULL && g_source_is_destroyed(self->urgent_source))
		g_clear_pointer(&self->urgent_source, g_source_unref);
	g_mutex_unlock(&self->lock);

	metrics_recorder_flush_in_context(self);
	return G_SOURCE_REMOVE;
}

static GSource *
attach_flush_source(MetricsRecorder *self, guint interval_ms)
{
	GSource *source = interval_ms > 0 ? g_timeout_source_new(interval_ms) : g_idle_source_new();

	g_source_set_priority(source, G_PRIORITY_LOW);
	g_source_set_callback(source, flush_source_cb, g_object_ref(self), g_object_unref);
	g_source_set_static_name(source, "[libmetrics] flush");
	g_source_attach(source, self->context);
	return source;
}

/* checks what the app passed; the daemon checks again, this only keeps
 * what it would reject off the bus */
static gboolean
event_is_valid(const char *event_id, guint8 id[METRICS_UUID_SIZE], gint64 amount, GVariant *payload)
{
	if (!metrics_uuid_parse(event_id, id)) {
		g_debug("dropping an event with an invalid id “%s”", event_id);
		return FALSE;
	}
	if (payload != NULL && g_variant_get_size(payload) > METRICS_MAX_PAYLOAD_SIZE) {
		g_debug("dropping an event of %s with a payload over %u bytes", event_id,
			(guint)METRICS_MAX_PAYLOAD_SIZE);
		return FALSE;
	}
	if (amount <= 0) {
		g_debug("dropping an event of %s with a non-positive amount", event_id);
		return FALSE;
	}
	return TRUE;
}

static void
metrics_recorder_enqueue(MetricsRecorder *self,
			 const char *event_id,
			 MetricsEventKind kind,
			 gint64 time,
			 gint64 amount,
			 GVariant *payload)
{
	QueuedEvent event = {
		.kind = kind,
		.time = time,
		.amount = amount,
	};
	g_autoptr(GMutexLocker) locker = NULL;
	gboolean valid;

	if (payload != NULL)
		g_variant_ref_sink(payload);
	valid = event_is_valid(event_id, event.id, amount, payload);

	locker = g_mutex_locker_new(&self->lock);
	if (!valid || self->state == STATE_ABSENT ||
	    (self->state == STATE_READY && !metrics_recorder_may_send_locked(self)) ||
	    self->queue->len >= MAX_QUEUED_EVENTS) {
		self->n_dropped++;
		g_clear_pointer(&payload, g_variant_unref);
		return;
	}
	event.payload = payload;
	g_array_append_val(self->queue, event);
	if (self->flush_source == NULL)
		self->flush_source = attach_flush_source(self, FLUSH_INTERVAL_MS);
	if (self->queue->len >= FLUSH_THRESHOLD && self->urgent_source == NULL)
		self->urgent_source = attach_flush_source(self, 0);
}

/**
 * metrics_recorder_record:
 * @self: a recorder
 * @event_id: the metric's id, a UUID such as `"5c9a1c5e-…"`, listed in the allowlist
 * @payload: (nullable) (transfer floating): the value, of the type the allowlist gives
 *
 * Records one occurrence of an event, such as “app X opened” with the app's
 * id as @payload. Returns at once and never fails; an event the daemon does
 * not approve is dropped there.
 *
 * Since: 0.1
 */
void
metrics_recorder_record(MetricsRecorder *self, const char *event_id, GVariant *payload)
{
	g_return_if_fail(METRICS_IS_RECORDER(self));
	g_return_if_fail(event_id != NULL);

	metrics_recorder_enqueue(self, event_id, METRICS_EVENT_KIND_VALUE, g_get_real_time(), 1,
				 payload);
}

/**
 * metrics_recorder_add:
 * @self: a recorder
 * @event_id: the metric's id (a UUID)
 * @payload: (nullable) (transfer floating): the value the counter is kept for
 * @count: how much to add, at least 1
 *
 * Adds @count to a counter metric, such as a crash count. Returns at once and
 * never fails.
 *
 * Since: 0.1
 */
void
metrics_recorder_add(MetricsRecorder *self, const char *event_id, GVariant *payload, gint64 count)
{
	g_return_if_fail(METRICS_IS_RECORDER(self));
	g_return_if_fail(event_id != NULL);

	metrics_recorder_enqueue(self, event_id, METRICS_EVENT_KIND_COUNTER, g_get_real_time(),
				 count, payload);
}

/**
 * metrics_recorder_add_count:
 * @self: a recorder
 * @event_id: the metric's id (a UUID)
 * @count: how much to add, at least 1
 * @payload: (nullable) (transfer floating): the value the counter is kept for,
 *   or %NULL for a counter without one
 *
 * Adds @count to a counter metric, like [method@Recorder.add] with the
 * arguments in the order in which bindings can leave out the payload:
 * `recorder.add_count(id, 2)` in Python; `recorder.add_count(id, 2, null)`
 * in GJS. Returns at once and never fails.
 *
 * Since: 0.2
 */
void
metrics_recorder_add_count(MetricsRecorder *self,
			   const char *event_id,
			   gint64 count,
			   GVariant *payload)
{
	g_return_if_fail(METRICS_IS_RECORDER(self));
	g_return_if_fail(event_id != NULL);

	metrics_recorder_enqueue(self, event_id, METRICS_EVENT_KIND_COUNTER, g_get_real_time(),
				 count, payload);
}

/**
 * metrics_recorder_record_duration:
 * @self: a recorder
 * @event_id: the metric's id (a UUID)
 * @payload: (nullable) (transfer floating): the value the duration is kept for
 * @start_time_usec: when the measured period started, in microseconds since
 *   the Unix epoch, as from [func@GLib.get_real_time]
 * @duration_usec: how long it lasted, in microseconds, at least 1
 *
 * Records a duration measured by the caller. The daemon splits a duration
 * that spans the end of a week between the weeks. Most callers use
 * [method@Recorder.start_timer] instead.
 *
 * Since: 0.1
 */
void
metrics_recorder_record_duration(MetricsRecorder *self,
				 const char *event_id,
				 GVariant *payload,
				 gint64 start_time_usec,
				 gint64 duration_usec)
{
	g_return_if_fail(METRICS_IS_RECORDER(self));
	g_return_if_fail(event_id != NULL);

	metrics_recorder_enqueue(self, event_id, METRICS_EVENT_KIND_DURATION, start_time_usec,
				 duration_usec, payload);
}

/**
 * metrics_recorder_start_timer:
 * @self: a recorder
 * @event_id: the metric's id (a UUID)
 * @payload: (nullable) (transfer floating): the value the duration is kept for
 *
 * Starts measuring a duration, such as how long a task took. Call
 * [method@Timer.stop] on the result to record it.
 *
 * Returns: (transfer full): a running timer
 *
 * Since: 0.1
 */
MetricsTimer *
metrics_recorder_start_timer(MetricsRecorder *self, const char *event_id, GVariant *payload)
{
	MetricsTimer *timer;

	g_return_val_if_fail(METRICS_IS_RECORDER(self), NULL);
	g_return_val_if_fail(event_id != NULL, NULL);

	timer = g_object_new(METRICS_TYPE_TIMER, NULL);
	timer->recorder = g_object_ref(self);
	if (!metrics_uuid_parse(event_id, timer->id)) {
		g_debug("timer for an invalid id “%s” will record nothing", event_id);
		timer->done = TRUE;
	}
	if (payload != NULL)
		timer->payload = g_variant_ref_sink(payload);
	timer->start_wall = g_get_real_time();
	timer->start_monotonic = g_get_monotonic_time();
	return timer;
}

/**
 * metrics_timer_stop:
 * @self: a timer
 *
 * Stops the timer and records the duration since it started. Stopping a timer
 * a second time, or after [method@Timer.cancel], does nothing.
 *
 * Since: 0.1
 */
void
metrics_timer_stop(MetricsTimer *self)
{
	char id[METRICS_UUID_STRING_LENGTH + 1];
	gint64 duration;

	g_return_if_fail(METRICS_IS_TIMER(self));

	if (self->done)
		return;
	self->done = TRUE;
	duration = MAX(g_get_monotonic_time() - self->start_monotonic, 1);
	metrics_uuid_unparse(self->id, id);
	metrics_recorder_enqueue(self->recorder, id, METRICS_EVENT_KIND_DURATION, self->start_wall,
				 duration, g_steal_pointer(&self->payload));
}

/**
 * metrics_timer_cancel:
 * @self: a timer
 *
 * Stops the timer without recording anything.
 *
 * Since: 0.1
 */
void
metrics_timer_cancel(MetricsTimer *self)
{
	g_return_if_fail(METRICS_IS_TIMER(self));
	self->done = TRUE;
	g_clear_pointer(&self->payload, g_variant_unref);
}

static gboolean
flush_invoke_cb(gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	MetricsRecorder *self = g_task_get_source_object(task);

	g_task_set_task_data(task, GSIZE_TO_POINTER(BATCH_NOT_ASSIGNED), NULL);
	g_ptr_array_add(self->waiters, g_object_ref(task));
	metrics_recorder_flush_in_context(self);
	return G_SOURCE_REMOVE;
}

/**
 * metrics_recorder_flush_async:
 * @self: a recorder
 * @cancellable: (nullable): a cancellable (the flush itself is not undone)
 * @callback: (scope async) (nullable): called when the events queued so far
 *   were handled, or %NULL to send them without waiting
 * @user_data: data for @callback
 *
 * Sends the queued events to the daemon now, or drops them if the user has not
 * consented or the daemon is not installed. @callback is called once the
 * daemon acknowledged them (which it does only after storing them) or they
 * were dropped. The recorder's main context must be running.
 *
 * Since: 0.1
 */
void
metrics_recorder_flush_async(MetricsRecorder *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(METRICS_IS_RECORDER(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, metrics_recorder_flush_async);
	g_task_set_check_cancellable(task, TRUE);
	g_main_context_invoke_full(self->context, G_PRIORITY_DEFAULT, flush_invoke_cb,
				   g_object_ref(task), g_object_unref);
}

/**
 * metrics_recorder_flush_finish:
 * @self: a recorder
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Recorder.flush_async].
 *
 * Returns: %TRUE if every queued event was delivered or deliberately dropped;
 *   %FALSE if sending failed
 *
 * Since: 0.1
 */
gboolean
metrics_recorder_flush_finish(MetricsRecorder *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(METRICS_IS_RECORDER(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	return g_task_propagate_boolean(G_TASK(result), error);
}

static gboolean
subscribe_invoke_cb(gpointer user_data)
{
	MetricsRecorder *self = METRICS_RECORDER(user_data);
	GDBusConnection *connection;

	g_mutex_lock(&self->lock);
	connection = self->connection;
	g_mutex_unlock(&self->lock);
	if (connection != NULL)
		metrics_recorder_subscribe(self, connection);
	return G_SOURCE_REMOVE;
}

/* the timeout of one synchronous call: SYNC_CALL_TIMEOUT, or what is left
 * until @deadline (monotonic time; 0 for none) */
static int
call_timeout(gint64 deadline)
{
	gint64 left;

	if (deadline == 0)
		return SYNC_CALL_TIMEOUT;
	left = (deadline - g_get_monotonic_time()) / 1000;
	return (int)CLAMP(left, 1, SYNC_CALL_TIMEOUT);
}

/* for flush_sync, which must not depend on the recorder's main context */
static gboolean
metrics_recorder_ensure_consent_sync(MetricsRecorder *self,
				     gint64 deadline,
				     GCancellable *cancellable,
				     GError **error)
{
	g_autoptr(GDBusConnection) connection = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) choice_reply = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GError) choice_error = NULL;
	RecorderState state;

	g_mutex_lock(&self->lock);
	state = self->state;
	if (self->connection != NULL)
		connection = g_object_ref(self->connection);
	g_mutex_unlock(&self->lock);
	if (state == STATE_READY || state == STATE_ABSENT)
		return TRUE;

	if (connection == NULL) {
		connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, cancellable, &error_local);
		if (connection == NULL) {
			g_debug("no system bus: %s", error_local->message);
			g_mutex_lock(&self->lock);
			metrics_recorder_set_absent_locked(self);
			g_mutex_unlock(&self->lock);
			return TRUE;
		}
		g_mutex_lock(&self->lock);
		if (self->connection == NULL)
			self->connection = g_object_ref(connection);
		g_mutex_unlock(&self->lock);
	}
	reply = g_dbus_connection_call_sync(
		connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH, "org.freedesktop.DBus.Properties",
		"Get", g_variant_new("(ss)", METRICS_DBUS_INTERFACE, "Consent"),
		G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, call_timeout(deadline), cancellable,
		&error_local);
	if (g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (reply != NULL) {
		choice_reply = g_dbus_connection_call_sync(
			connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE,
			"GetUserChoice", NULL, G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE,
			SYNC_CALL_TIMEOUT, cancellable, &choice_error);
		if (g_error_matches(choice_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_propagate_error(error, g_steal_pointer(&choice_error));
			return FALSE;
		}
	}
	metrics_recorder_handle_consent_reply(self, reply, error_local, choice_reply, choice_error);
	/* follow consent changes from now on, in the recorder's context */
	g_main_context_invoke_full(self->context, G_PRIORITY_DEFAULT, subscribe_invoke_cb,
				   g_object_ref(self), g_object_unref);
	return TRUE;
}

/**
 * metrics_recorder_flush_sync:
 * @self: a recorder
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Sends the queued events to the daemon and waits until it acknowledged them,
 * or drops them if the user has not consented or the daemon is not installed.
 * Unlike [method@Recorder.flush_async] this does not need the recorder's main
 * context to run; use it before a short-lived program exits. It waits for at
 * most a few seconds per batch.
 *
 * %TRUE does not mean that the daemon kept the events: it also refuses
 * events (an id that is not in the allowlist, a payload of the wrong type)
 * and without consent or without a daemon they are dropped here. Compare
 * [method@Recorder.get_n_accepted], [method@Recorder.get_n_rejected] and
 * [method@Recorder.get_n_dropped] before and after the call to learn what
 * happened.
 *
 * Returns: %TRUE if every queued event was delivered or deliberately dropped;
 *   %FALSE if sending failed (the events are then counted as dropped)
 *
 * Since: 0.1
 */
gboolean
metrics_recorder_flush_sync(MetricsRecorder *self, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(METRICS_IS_RECORDER(self), FALSE);
	g_return_val_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	return metrics_recorder_flush_until(self, 0, cancellable, error);
}

/* flush_sync, each call bounded by what is left until @deadline (monotonic
 * time; 0 for SYNC_CALL_TIMEOUT per call) */
static gboolean
metrics_recorder_flush_until(MetricsRecorder *self,
			     gint64 deadline,
			     GCancellable *cancellable,
			     GError **error)
{
	g_autoptr(GArray) events = NULL;
	g_autoptr(GDBusConnection) connection = NULL;
	RecorderState state;

	if (!metrics_recorder_ensure_consent_sync(self, deadline, cancellable, error))
		return FALSE;
	events = metrics_recorder_take_queue(self, &state);
	if (events == NULL)
		return TRUE;

	g_mutex_lock(&self->lock);
	connection = g_object_ref(self->connection);
	g_mutex_unlock(&self->lock);
	for (guint start = 0; start < events->len; start += METRICS_MAX_BATCH) {
		guint n = MIN(METRICS_MAX_BATCH, events->len - start);
		g_autoptr(GVariant) reply = NULL;
		g_autoptr(GError) error_local = NULL;

		reply = g_dbus_connection_call_sync(
			connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH, METRICS_DBUS_INTERFACE,
			"RecordEvents", build_batch(events, start, n), G_VARIANT_TYPE("(uu)"),
			G_DBUS_CALL_FLAGS_NONE, call_timeout(deadline), cancellable, &error_local);
		if (reply == NULL) {
			g_mutex_lock(&self->lock);
			/* this batch and the ones not sent yet are lost */
			self->n_dropped += events->len - start;
			if (is_daemon_absent_error(error_local))
				metrics_recorder_set_absent_locked(self);
			g_mutex_unlock(&self->lock);
			g_propagate_error(error, metrics_error_from_dbus(error_local));
			return FALSE;
		} else {
			guint32 accepted = 0, dropped = 0;

			g_variant_get(reply, "(uu)", &accepted, &dropped);
			metrics_recorder_count_reply(self, accepted, dropped);
		}
	}
	return TRUE;
}

/**
 * metrics_recorder_get_consent: (get-property consent)
 * @self: a recorder
 *
 * Gets the consent state as last reported by the daemon. It is
 * [enum@Metrics.Consent.UNKNOWN] until the recorder has talked to the daemon,
 * which it does when the first event is recorded. Connect to
 * `notify::consent` to follow changes.
 *
 * Returns: the consent state
 *
 * Since: 0.1
 */
MetricsConsent
metrics_recorder_get_consent(MetricsRecorder *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(METRICS_IS_RECORDER(self), METRICS_CONSENT_UNKNOWN);

	locker = g_mutex_locker_new(&self->lock);
	return self->consent;
}

/**
 * metrics_recorder_get_user_opted_out: (get-property user-opted-out)
 * @self: a recorder
 *
 * Gets whether the user running this process said "not for me" for their
 * own account (see [method@Client.set_user_choice_async]), as last
 * reported by the daemon. While it is %TRUE the recorder drops every event
 * in the process, without any call to the daemon. It is %FALSE until the
 * recorder has talked to the daemon, which it does when the first event is
 * recorded; events recorded before the answer are held and dropped if the
 * user opted out. Connect to `notify::user-opted-out` to follow changes,
 * which the daemon sends to this user's connections only.
 *
 * Returns: whether the user opted out
 *
 * Since: 0.1
 */
gboolean
metrics_recorder_get_user_opted_out(MetricsRecorder *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(METRICS_IS_RECORDER(self), FALSE);

	locker = g_mutex_locker_new(&self->lock);
	return self->opted_out;
}

/**
 * metrics_recorder_get_n_dropped:
 * @self: a recorder
 *
 * Gets how many events this recorder dropped in-process: no consent, no
 * daemon, invalid, over the queue limit, or (since 0.2) sent without an
 * answer from the daemon. For diagnostics and tests.
 *
 * Returns: a count
 *
 * Since: 0.1
 */
guint64
metrics_recorder_get_n_dropped(MetricsRecorder *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(METRICS_IS_RECORDER(self), 0);

	locker = g_mutex_locker_new(&self->lock);
	return self->n_dropped;
}

/**
 * metrics_recorder_get_n_accepted:
 * @self: a recorder
 *
 * Gets how many of the events this recorder sent the daemon acknowledged
 * as kept. The daemon answers only after committing them to its store, so
 * after [method@Recorder.flush_sync] returns, this counts every event of
 * the flush that will be stored. For diagnostics and tests.
 *
 * Returns: a count
 *
 * Since: 0.2
 */
guint64
metrics_recorder_get_n_accepted(MetricsRecorder *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(METRICS_IS_RECORDER(self), 0);

	locker = g_mutex_locker_new(&self->lock);
	return self->n_accepted;
}

/**
 * metrics_recorder_get_n_rejected:
 * @self: a recorder
 *
 * Gets how many of the events this recorder sent the daemon dropped: not
 * in the allowlist, of the wrong kind or payload type, a value outside the
 * metric's set, not recorded by this caller, over a limit, or consent
 * withdrawn meanwhile. The daemon tells the reasons to administrators
 * (`metrics-cli status --all`). For diagnostics and tests.
 *
 * Returns: a count
 *
 * Since: 0.2
 */
guint64
metrics_recorder_get_n_rejected(MetricsRecorder *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(METRICS_IS_RECORDER(self), 0);

	locker = g_mutex_locker_new(&self->lock);
	return self->n_rejected;
}

/**
 * metrics_recorder_new:
 * @connection: (nullable): the bus on which the daemon runs, or %NULL for
 *   the system bus
 *
 * Creates a recorder. Apps use [func@Recorder.get_default] instead; this is
 * for tests and for programs that talk to a daemon on another bus. The
 * thread-default main context at this call is the one the recorder sends
 * from.
 *
 * Returns: (transfer full): a new recorder
 *
 * Since: 0.1
 */
MetricsRecorder *
metrics_recorder_new(GDBusConnection *connection)
{
	g_return_val_if_fail(connection == NULL || G_IS_DBUS_CONNECTION(connection), NULL);
	return g_object_new(METRICS_TYPE_RECORDER, "connection", connection, NULL);
}

static MetricsRecorder *default_recorder = NULL;
static pid_t default_recorder_pid = 0;

/* the process exits (main() returned, exit(), sys.exit() in Python, the end
 * of a GJS script) with events still queued: send them, as flush_sync
 * would, but for at most EXIT_FLUSH_TIMEOUT_MS in all, so that a daemon
 * that does not answer never keeps a program from exiting. A program that
 * recorded nothing makes no bus traffic here. A child that inherited the
 * queue through fork() does not send it again: its parent does. */
static void
default_recorder_flush_at_exit(void)
{
	MetricsRecorder *self = default_recorder;
	g_autoptr(GError) error = NULL;
	guint queued;

	if (self == NULL || getpid() != default_recorder_pid)
		return;
	g_mutex_lock(&self->lock);
	queued = self->queue->len;
	g_mutex_unlock(&self->lock);
	if (queued == 0)
		return;
	g_debug("flushing %u events at exit", queued);
	if (!metrics_recorder_flush_until(
		    self, g_get_monotonic_time() + EXIT_FLUSH_TIMEOUT_MS * 1000, NULL, &error))
		g_debug("flush at exit failed: %s", error->message);
}

/**
 * metrics_recorder_get_default:
 *
 * Gets the process's recorder, which talks to the daemon on the system bus.
 * It is created on the first call; the thread-default main context at that
 * call is the one it sends from.
 *
 * Returns: (transfer none): the default recorder
 *
 * Since: 0.1
 */
MetricsRecorder *
metrics_recorder_get_default(void)
{
	static gsize initialized = 0;

	if (g_once_init_enter(&initialized)) {
		default_recorder = metrics_recorder_new(NULL);
		/* at once: an app that records and quits before the recorder
		 * has connected must still have its events flushed */
		metrics_recorder_watch_application(default_recorder);
		default_recorder_pid = getpid();
		atexit(default_recorder_flush_at_exit);
		g_once_init_leave(&initialized, 1);
	}
	return default_recorder;
}

static void
metrics_recorder_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	MetricsRecorder *self = METRICS_RECORDER(object);

	switch (prop_id) {
	case PROP_CONNECTION:
		g_mutex_lock(&self->lock);
		g_value_set_object(value, self->connection);
		g_mutex_unlock(&self->lock);
		break;
	case PROP_CONSENT:
		g_value_set_enum(value, metrics_recorder_get_consent(self));
		break;
	case PROP_USER_OPTED_OUT:
		g_value_set_boolean(value, metrics_recorder_get_user_opted_out(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
metrics_recorder_set_property(GObject *object,
			      guint prop_id,
			      const GValue *value,
			      GParamSpec *pspec)
{
	MetricsRecorder *self = METRICS_RECORDER(object);

	switch (prop_id) {
	case PROP_CONNECTION:
		self->connection = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
metrics_recorder_dispose(GObject *object)
{
	MetricsRecorder *self = METRICS_RECORDER(object);

	g_cancellable_cancel(self->cancellable);
	if (self->properties_changed_id != 0) {
		g_dbus_connection_signal_unsubscribe(self->connection, self->properties_changed_id);
		self->properties_changed_id = 0;
	}
	if (self->user_choice_id != 0) {
		g_dbus_connection_signal_unsubscribe(self->connection, self->user_choice_id);
		self->user_choice_id = 0;
	}
	g_clear_handle_id(&self->watch_id, g_bus_unwatch_name);
	if (self->application != NULL) {
		g_clear_signal_handler(&self->shutdown_id, self->application);
		g_object_remove_weak_pointer(G_OBJECT(self->application),
					     (gpointer *)&self->application);
		self->application = NULL;
	}
	g_mutex_lock(&self->lock);
	if (self->flush_source != NULL) {
		g_source_destroy(self->flush_source);
		g_clear_pointer(&self->flush_source, g_source_unref);
	}
	if (self->urgent_source != NULL) {
		g_source_destroy(self->urgent_source);
		g_clear_pointer(&self->urgent_source, g_source_unref);
	}
	g_mutex_unlock(&self->lock);

	G_OBJECT_CLASS(metrics_recorder_parent_class)->dispose(object);
}

static void
metrics_recorder_finalize(GObject *object)
{
	MetricsRecorder *self = METRICS_RECORDER(object);

	if (self->queue->len > 0)
		g_debug("%u events were never flushed", self->queue->len);
	g_clear_pointer(&self->queue, g_array_unref);
	g_clear_pointer(&self->pending_batches, g_array_unref);
	g_clear_pointer(&self->waiters, g_ptr_array_unref);
	g_clear_error(&self->send_error);
	g_clear_object(&self->connection);
	g_clear_object(&self->cancellable);
	g_clear_pointer(&self->context, g_main_context_unref);
	g_mutex_clear(&self->lock);

	G_OBJECT_CLASS(metrics_recorder_parent_class)->finalize(object);
}

static void
metrics_recorder_class_init(MetricsRecorderClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = metrics_recorder_get_property;
	object_class->set_property = metrics_recorder_set_property;
	object_class->dispose = metrics_recorder_dispose;
	object_class->finalize = metrics_recorder_finalize;

	/* make sure errors from the daemon arrive in our domain */
	(void)metrics_error_quark();
	metrics_i18n_init();

	/**
	 * MetricsRecorder:connection:
	 *
	 * The bus connection to the daemon; %NULL until the recorder first
	 * connects to the system bus, unless given at construction.
	 *
	 * Since: 0.1
	 */
	props[PROP_CONNECTION] = g_param_spec_object(
		"connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
		G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

	/**
	 * MetricsRecorder:consent: (getter get_consent)
	 *
	 * The consent state as last reported by the daemon; see
	 * [method@Recorder.get_consent].
	 *
	 * Since: 0.1
	 */
	props[PROP_CONSENT] = g_param_spec_enum("consent", NULL, NULL, METRICS_TYPE_CONSENT,
						METRICS_CONSENT_UNKNOWN,
						G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

	/**
	 * MetricsRecorder:user-opted-out: (getter get_user_opted_out)
	 *
	 * Whether the user running this process opted out for their account;
	 * see [method@Recorder.get_user_opted_out].
	 *
	 * Since: 0.1
	 */
	props[PROP_USER_OPTED_OUT] = g_param_spec_boolean(
		"user-opted-out", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
metrics_recorder_init(MetricsRecorder *self)
{
	g_mutex_init(&self->lock);
	self->context = g_main_context_ref_thread_default();
	self->cancellable = g_cancellable_new();
	self->queue = queue_new();
	self->pending_batches = g_array_new(FALSE, FALSE, sizeof(guint64));
	self->waiters = g_ptr_array_new_with_free_func(g_object_unref);
	self->next_batch_id = 1;
	self->state = STATE_IDLE;
	self->consent = METRICS_CONSENT_UNKNOWN;
}

static void
metrics_timer_finalize(GObject *object)
{
	MetricsTimer *self = METRICS_TIMER(object);

	g_clear_object(&self->recorder);
	g_clear_pointer(&self->payload, g_variant_unref);

	G_OBJECT_CLASS(metrics_timer_parent_class)->finalize(object);
}

static void
metrics_timer_class_init(MetricsTimerClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = metrics_timer_finalize;
}

static void
metrics_timer_init(MetricsTimer *self)
{
}
