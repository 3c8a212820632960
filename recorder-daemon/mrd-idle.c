/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdIdle"

#include "config.h"

#include "mrd-idle.h"

/*
 * Idle exit. The daemon is started by the bus (through systemd) when somebody
 * calls it, so it need not stay resident: once no method call has arrived for
 * the timeout, no call is still being answered, and nothing asks it to stay
 * (an upload due soon), it emits "expired" and mrd-main quits.
 *
 * Activity is seen with a connection filter rather than in each handler, so
 * that property reads, introspection and calls still waiting for polkit all
 * count, whatever the interfaces grow to. The filter runs in the GDBus worker
 * thread: the state it shares with the main context is under a lock.
 */

/* a call whose reply never left (a bug) stops holding the daemon after this */
#define PENDING_MAX_AGE (10 * G_TIME_SPAN_MINUTE)

/* what the filter shares with the main context; refcounted because a filter
 * may still run for a moment after it is removed */
typedef struct {
	GMutex lock;
	gint64 last_activity; /* monotonic µs */
	GHashTable *pending;  /* (owned) "sender serial" → arrival µs (gint64 *) */
} IdleState;

struct _MrdIdle {
	GObject parent_instance;

	GDBusConnection *connection; /* (owned) */
	IdleState *state;	     /* (owned) */
	guint filter_id;
	GSource *timeout_source; /* (owned) (nullable) */
	guint timeout_seconds;
	MrdIdleInhibitFunc inhibit_func; /* (nullable) */
	gpointer inhibit_data;
	GMainContext *context; /* (owned) where "expired" is emitted */
};

static void
idle_state_clear(gpointer data)
{
	IdleState *state = data;

	g_clear_pointer(&state->pending, g_hash_table_unref);
	g_mutex_clear(&state->lock);
}

static IdleState *
idle_state_new(void)
{
	IdleState *state = g_atomic_rc_box_new0(IdleState);

	g_mutex_init(&state->lock);
	state->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	state->last_activity = g_get_monotonic_time();
	return state;
}

static void
idle_state_unref(gpointer data)
{
	g_atomic_rc_box_release_full(data, idle_state_clear);
}

enum {
	SIGNAL_EXPIRED,
	SIGNAL_LAST,
};

static guint signals[SIGNAL_LAST] = {0};

G_DEFINE_TYPE(MrdIdle, mrd_idle, G_TYPE_OBJECT)

static char *
pending_key(const char *peer, guint32 serial)
{
	return g_strdup_printf("%s %" G_GUINT32_FORMAT, peer != NULL ? peer : "", serial);
}

/* worker thread: must not block and touches only the shared state */
static GDBusMessage *
mrd_idle_filter_cb(GDBusConnection *connection,
		   GDBusMessage *message,
		   gboolean incoming,
		   gpointer user_data)
{
	IdleState *state = user_data;
	GDBusMessageType type = g_dbus_message_get_message_type(message);
	g_autoptr(GMutexLocker) locker = NULL;

	if (incoming && type == G_DBUS_MESSAGE_TYPE_METHOD_CALL) {
		gint64 now = g_get_monotonic_time();

		locker = g_mutex_locker_new(&state->lock);
		state->last_activity = now;
		if ((g_dbus_message_get_flags(message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) ==
		    0) {
			gint64 *arrival = g_new(gint64, 1);

			*arrival = now;
			g_hash_table_replace(state->pending,
					     pending_key(g_dbus_message_get_sender(message),
							 g_dbus_message_get_serial(message)),
					     arrival);
		}
	} else if (!incoming && (type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN ||
				 type == G_DBUS_MESSAGE_TYPE_ERROR)) {
		g_autofree char *key = pending_key(g_dbus_message_get_destination(message),
						   g_dbus_message_get_reply_serial(message));

		locker = g_mutex_locker_new(&state->lock);
		/* answering counts as activity too: the idle period starts
		 * when the last call is done, not when it came in */
		if (g_hash_table_remove(state->pending, key))
			state->last_activity = g_get_monotonic_time();
	}
	return message;
}

static guint
idle_state_count_pending_locked(IdleState *state, gint64 now)
{
	GHashTableIter iter;
	gpointer value;
	guint n = 0;

	g_hash_table_iter_init(&iter, state->pending);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (now - *(gint64 *)value > PENDING_MAX_AGE) {
			g_warning(
				"a method call got no reply for %u minutes; no longer waiting for it",
				(guint)(PENDING_MAX_AGE / G_TIME_SPAN_MINUTE));
			g_hash_table_iter_remove(&iter);
			continue;
		}
		n++;
	}
	return n;
}

static void
mrd_idle_schedule(MrdIdle *self, gint64 delay_usec);

static gboolean
mrd_idle_timeout_cb(gpointer user_data)
{
	MrdIdle *self = MRD_IDLE(user_data);
	gint64 period = (gint64)self->timeout_seconds * G_TIME_SPAN_SECOND;
	gint64 now = g_get_monotonic_time();
	gint64 idle_for;
	guint n_pending;

	g_clear_pointer(&self->timeout_source, g_source_unref);
	g_mutex_lock(&self->state->lock);
	idle_for = now - self->state->last_activity;
	n_pending = idle_state_count_pending_locked(self->state, now);
	g_mutex_unlock(&self->state->lock);

	if (n_pending > 0) {
		g_debug("idle period over but %u calls are in progress", n_pending);
		mrd_idle_schedule(self, period);
		return G_SOURCE_REMOVE;
	}
	if (idle_for < period) {
		mrd_idle_schedule(self, period - idle_for);
		return G_SOURCE_REMOVE;
	}
	if (self->inhibit_func != NULL && self->inhibit_func(self->inhibit_data)) {
		g_debug("idle, but asked to stay");
		mrd_idle_schedule(self, period);
		return G_SOURCE_REMOVE;
	}
	g_debug("no call for %u s", self->timeout_seconds);
	g_signal_emit(self, signals[SIGNAL_EXPIRED], 0);
	return G_SOURCE_REMOVE;
}

static void
mrd_idle_schedule(MrdIdle *self, gint64 delay_usec)
{
	/* round up so that the check never runs just before the deadline */
	self->timeout_source = g_timeout_source_new((guint)((delay_usec + 999) / 1000));
	g_source_set_callback(self->timeout_source, mrd_idle_timeout_cb, self, NULL);
	g_source_set_static_name(self->timeout_source, "[metrics-recorder] idle timeout");
	g_source_attach(self->timeout_source, self->context);
}

/**
 * mrd_idle_new:
 * @connection: the bus connection the daemon serves
 * @timeout_seconds: idle period, more than 0
 * @inhibit_func: (nullable): asked before expiring
 * @user_data: for @inhibit_func
 *
 * Starts watching @connection; "expired" is emitted in the thread-default
 * main context of the caller once the daemon has been idle for
 * @timeout_seconds.
 *
 * Returns: (transfer full): a new #MrdIdle
 */
MrdIdle *
mrd_idle_new(GDBusConnection *connection,
	     guint timeout_seconds,
	     MrdIdleInhibitFunc inhibit_func,
	     gpointer user_data)
{
	MrdIdle *self;

	g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), NULL);
	g_return_val_if_fail(timeout_seconds > 0, NULL);

	self = g_object_new(MRD_TYPE_IDLE, NULL);
	self->connection = g_object_ref(connection);
	self->timeout_seconds = timeout_seconds;
	self->inhibit_func = inhibit_func;
	self->inhibit_data = user_data;
	self->context = g_main_context_ref_thread_default();
	self->filter_id = g_dbus_connection_add_filter(connection, mrd_idle_filter_cb,
						       g_atomic_rc_box_acquire(self->state),
						       idle_state_unref);
	mrd_idle_schedule(self, (gint64)timeout_seconds * G_TIME_SPAN_SECOND);
	return self;
}

/* for tests: calls received and not yet answered */
guint
mrd_idle_get_n_pending(MrdIdle *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(MRD_IS_IDLE(self), 0);

	locker = g_mutex_locker_new(&self->state->lock);
	return g_hash_table_size(self->state->pending);
}

static void
mrd_idle_dispose(GObject *object)
{
	MrdIdle *self = MRD_IDLE(object);

	if (self->timeout_source != NULL) {
		g_source_destroy(self->timeout_source);
		g_clear_pointer(&self->timeout_source, g_source_unref);
	}
	if (self->filter_id != 0) {
		g_dbus_connection_remove_filter(self->connection, self->filter_id);
		self->filter_id = 0;
	}
	g_clear_pointer(&self->context, g_main_context_unref);
	g_clear_object(&self->connection);

	G_OBJECT_CLASS(mrd_idle_parent_class)->dispose(object);
}

static void
mrd_idle_finalize(GObject *object)
{
	MrdIdle *self = MRD_IDLE(object);

	g_clear_pointer(&self->state, idle_state_unref);

	G_OBJECT_CLASS(mrd_idle_parent_class)->finalize(object);
}

static void
mrd_idle_class_init(MrdIdleClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_idle_dispose;
	object_class->finalize = mrd_idle_finalize;

	/**
	 * MrdIdle::expired:
	 * @self: the #MrdIdle
	 *
	 * The daemon has been idle for the whole period and may exit. Emitted
	 * once.
	 */
	signals[SIGNAL_EXPIRED] =
		g_signal_new("expired", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			     NULL, G_TYPE_NONE, 0);
}

static void
mrd_idle_init(MrdIdle *self)
{
	self->state = idle_state_new();
}
