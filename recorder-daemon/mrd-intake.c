/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdIntake"

#include "config.h"

#include <glib/gi18n.h>

#include "metrics-error.h"
#include "mrd-intake.h"

/*
 * GDBus reads every message of the bus connection in its I/O thread and
 * queues it for the main loop, however fast the main loop is; the
 * per-client limits of MrdAdmission come only after that. This filter runs
 * in the I/O thread, before the queue: a method call or signal from a
 * client over its rate of messages or bytes, or over what it (or all
 * clients together) may have admitted and not yet answered, is dropped
 * there, unread and unanswered, and counted as flooded-messages.
 *
 * A message is "in flight" from the filter until GDBus frees it, that is
 * until its call is answered (its invocation holds it) or its signal
 * dispatched: a charge in the message's qdata gives its size back then.
 * So everything queued for the main loop, and every call waiting for a
 * uid or polkit, is bounded.
 *
 * The client learns nothing but, for one dropped call a second that
 * expects a reply, a LimitExceeded error (sent from the main loop); the
 * others time out. Replies and messages from the bus itself always pass.
 *
 * Everything here but MrdIntake is shared with the I/O thread: under the
 * state's mutex, or reference counted.
 */

#define LOG_PERIOD (10 * G_TIME_SPAN_SECOND)
#define ANSWER_PERIOD G_TIME_SPAN_SECOND
#define MAX_QUEUED_ANSWERS 64
#define FOLD_DELAY_MS 100

typedef struct {
	int ref_count; /* under the state's mutex */
	double message_tokens;
	gint64 message_refilled;
	double byte_tokens;
	gint64 byte_refilled;
	guint n_in_flight;
	gsize bytes_in_flight;
	gint64 last_answered; /* monotonic usec, 0: never */
} IntakeClient;

typedef struct {
	GMutex mutex;
	GHashTable *clients; /* (owned) unique name → (owned) IntakeClient */
	guint message_rate;  /* 0: unlimited */
	guint byte_rate;     /* 0: unlimited */
	guint n_in_flight;   /* of the shared budget */
	gsize bytes_in_flight;
	guint n_reserve_in_flight;
	gsize reserve_in_flight;
	guint64 n_unfolded; /* dropped, not yet counted in MrdDrops */
	char *last_dropped; /* (owned) (nullable) whose message it was */
	GQueue answers;	    /* (element-type GDBusMessage) (owned) to send */
	gboolean fold_pending;
	GMainContext *context; /* (owned) the main loop's */
	MrdIntake *owner;      /* (unowned) (nullable) read and cleared in the main loop */
} IntakeState;

/* what an admitted message holds, in its qdata */
typedef struct {
	IntakeState *state;   /* (owned) */
	IntakeClient *client; /* (owned) */
	gsize size;
	gboolean reserve;
} IntakeCharge;

struct _MrdIntake {
	GObject parent_instance;

	GDBusConnection *connection; /* (owned) */
	MrdDrops *drops;	     /* (owned) */
	IntakeState *state;	     /* (owned) */
	guint filter_id;
	guint name_owner_changed_id;
	gint64 last_log;
	guint64 n_unlogged;
};

G_DEFINE_TYPE(MrdIntake, mrd_intake, G_TYPE_OBJECT)

static G_DEFINE_QUARK(mrd - intake - charge, charge)

	static void client_unref_locked(IntakeClient *client)
{
	if (--client->ref_count == 0)
		g_free(client);
}

static void
state_clear(gpointer data)
{
	IntakeState *state = data;

	g_hash_table_unref(state->clients);
	g_queue_clear_full(&state->answers, g_object_unref);
	g_free(state->last_dropped);
	g_main_context_unref(state->context);
	g_mutex_clear(&state->mutex);
}

static void
state_unref(gpointer data)
{
	g_atomic_rc_box_release_full(data, state_clear);
}

static void
client_table_unref(gpointer data)
{
	/* only when the state goes, or under its mutex */
	client_unref_locked(data);
}

/* a bucket of two seconds' worth, refilled at @rate per second; it may
 * go into debt by one message's size, which then waits for the refill */
static gboolean
bucket_take(double *tokens, gint64 *refilled, guint rate, double n, gint64 now)
{
	if (rate == 0)
		return TRUE;
	if (*refilled == 0) {
		*tokens = 2.0 * rate;
		*refilled = now;
	}
	if (now > *refilled) {
		*tokens = MIN(2.0 * rate,
			      *tokens + (double)(now - *refilled) * rate / G_USEC_PER_SEC);
		*refilled = now;
	}
	if (*tokens <= 0.0 || (n <= 1.0 && *tokens < 1.0))
		return FALSE;
	*tokens -= n;
	return TRUE;
}

static void
charge_release(gpointer data)
{
	IntakeCharge *charge = data;
	IntakeState *state = charge->state;

	g_mutex_lock(&state->mutex);
	charge->client->n_in_flight--;
	charge->client->bytes_in_flight -= charge->size;
	if (charge->reserve) {
		state->n_reserve_in_flight--;
		state->reserve_in_flight -= charge->size;
	} else {
		state->n_in_flight--;
		state->bytes_in_flight -= charge->size;
	}
	client_unref_locked(charge->client);
	g_mutex_unlock(&state->mutex);
	state_unref(state);
	g_free(charge);
}

/* under the mutex: whether @sender may send one more message of @size
 * bytes; if so, its charge */
static IntakeCharge *
admit_locked(IntakeState *state, const char *sender, gsize size, gint64 now)
{
	IntakeClient *client = g_hash_table_lookup(state->clients, sender);
	IntakeCharge *charge;
	gboolean reserve = FALSE;

	if (client == NULL) {
		client = g_new0(IntakeClient, 1);
		client->ref_count = 1;
		g_hash_table_insert(state->clients, g_strdup(sender), client);
	}
	if (client->n_in_flight >= MRD_INTAKE_CLIENT_MAX_MESSAGES ||
	    (client->n_in_flight > 0 &&
	     client->bytes_in_flight + size > MRD_INTAKE_CLIENT_MAX_BYTES))
		return NULL;
	if (state->n_in_flight >= MRD_INTAKE_MAX_MESSAGES ||
	    state->bytes_in_flight + size > MRD_INTAKE_MAX_BYTES) {
		/* the shared budget is taken: a client with nothing in flight
		 * still gets one message through */
		if (client->n_in_flight > 0 ||
		    state->n_reserve_in_flight >= MRD_INTAKE_RESERVE_MESSAGES ||
		    state->reserve_in_flight + size > MRD_INTAKE_RESERVE_BYTES)
			return NULL;
		reserve = TRUE;
	}
	/* the rates last: a message refused for its budget costs no tokens */
	if (!bucket_take(&client->message_tokens, &client->message_refilled, state->message_rate,
			 1.0, now) ||
	    !bucket_take(&client->byte_tokens, &client->byte_refilled, state->byte_rate,
			 (double)size, now))
		return NULL;

	client->n_in_flight++;
	client->bytes_in_flight += size;
	client->ref_count++;
	if (reserve) {
		state->n_reserve_in_flight++;
		state->reserve_in_flight += size;
	} else {
		state->n_in_flight++;
		state->bytes_in_flight += size;
	}
	charge = g_new0(IntakeCharge, 1);
	charge->state = g_atomic_rc_box_acquire(state);
	charge->client = client;
	charge->size = size;
	charge->reserve = reserve;
	return charge;
}

static void
send_answers(MrdIntake *self, GQueue *answers)
{
	GDBusMessage *answer;

	while ((answer = g_queue_pop_head(answers)) != NULL) {
		g_dbus_connection_send_message(self->connection, answer,
					       G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
		g_object_unref(answer);
	}
}

/* in the main loop: counts what the filter dropped, logs it once per
 * period, sends the answers it prepared */
static gboolean
fold_cb(gpointer user_data)
{
	IntakeState *state = user_data;
	GQueue answers = G_QUEUE_INIT;
	g_autofree char *sender = NULL;
	MrdIntake *self;
	guint64 n;
	gint64 now = g_get_monotonic_time();

	g_mutex_lock(&state->mutex);
	n = state->n_unfolded;
	state->n_unfolded = 0;
	sender = g_steal_pointer(&state->last_dropped);
	answers = state->answers;
	g_queue_init(&state->answers);
	state->fold_pending = FALSE;
	self = state->owner;
	g_mutex_unlock(&state->mutex);

	if (self != NULL) {
		mrd_drops_count(self->drops, MRD_DROP_FLOODED_MESSAGES, n);
		self->n_unlogged += n;
		if (self->last_log == 0 || now - self->last_log >= LOG_PERIOD) {
			g_message(
				"ignoring messages from %s and others over their share: %" G_GUINT64_FORMAT
				" dropped unread since the last report",
				sender != NULL ? sender : "?", self->n_unlogged);
			self->last_log = now;
			self->n_unlogged = 0;
		}
		send_answers(self, &answers);
	}
	g_queue_clear_full(&answers, g_object_unref);
	return G_SOURCE_REMOVE;
}

/* under the mutex: @message of @sender was dropped */
static void
count_drop_locked(IntakeState *state,
		  IntakeClient *client,
		  GDBusMessage *message,
		  const char *sender,
		  gint64 now)
{
	state->n_unfolded++;
	if (g_strcmp0(state->last_dropped, sender) != 0) {
		g_free(state->last_dropped);
		state->last_dropped = g_strdup(sender);
	}
	if (client != NULL &&
	    g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL &&
	    (g_dbus_message_get_flags(message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) == 0 &&
	    (client->last_answered == 0 || now - client->last_answered >= ANSWER_PERIOD) &&
	    g_queue_get_length(&state->answers) < MAX_QUEUED_ANSWERS) {
		g_autoptr(GError) error = g_error_new_literal(
			METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
			_("Too many or too large messages: this client is ignored for a moment"));
		g_autofree char *name = g_dbus_error_encode_gerror(error);

		g_queue_push_tail(&state->answers, g_dbus_message_new_method_error_literal(
							   message, name, error->message));
		client->last_answered = now;
	}
	if (!state->fold_pending) {
		GSource *source = g_timeout_source_new(FOLD_DELAY_MS);

		state->fold_pending = TRUE;
		g_source_set_callback(source, fold_cb, g_atomic_rc_box_acquire(state), state_unref);
		g_source_set_static_name(source, "[mrd] intake fold");
		g_source_attach(source, state->context);
		g_source_unref(source);
	}
}

/* in GDBus's I/O thread */
static GDBusMessage *
filter_cb(GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
	IntakeState *state = user_data;
	GDBusMessageType type = g_dbus_message_get_message_type(message);
	const char *sender = g_dbus_message_get_sender(message);
	GVariant *body = g_dbus_message_get_body(message);
	IntakeCharge *charge;
	gint64 now;
	gsize size;

	/* replies answer our own calls, and the bus is trusted */
	if (!incoming ||
	    (type != G_DBUS_MESSAGE_TYPE_METHOD_CALL && type != G_DBUS_MESSAGE_TYPE_SIGNAL) ||
	    sender == NULL || g_strcmp0(sender, "org.freedesktop.DBus") == 0)
		return message;

	/* the body's serialised size, computed without serialising it */
	size = MRD_INTAKE_MESSAGE_OVERHEAD + 2 * (body != NULL ? g_variant_get_size(body) : 0);
	now = g_get_monotonic_time();
	g_mutex_lock(&state->mutex);
	charge = admit_locked(state, sender, size, now);
	if (charge == NULL)
		count_drop_locked(state, g_hash_table_lookup(state->clients, sender), message,
				  sender, now);
	g_mutex_unlock(&state->mutex);
	if (charge == NULL) {
		g_object_unref(message);
		return NULL;
	}
	g_object_set_qdata_full(G_OBJECT(message), charge_quark(), charge, charge_release);
	return message;
}

static void
name_owner_changed_cb(GDBusConnection *connection,
		      const char *sender_name,
		      const char *object_path,
		      const char *interface_name,
		      const char *signal_name,
		      GVariant *parameters,
		      gpointer user_data)
{
	MrdIntake *self = MRD_INTAKE(user_data);
	const char *name = NULL;
	const char *new_owner = NULL;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)")))
		return;
	g_variant_get(parameters, "(&s&s&s)", &name, NULL, &new_owner);
	if (name[0] != ':' || new_owner[0] != '\0')
		return;
	/* its messages still in flight keep their charges until freed */
	g_mutex_lock(&self->state->mutex);
	g_hash_table_remove(self->state->clients, name);
	g_mutex_unlock(&self->state->mutex);
}

/**
 * mrd_intake_new:
 * @connection: the daemon's bus connection
 * @drops: where dropped messages are counted
 *
 * Installs the filter on @connection; it goes with the returned object.
 */
MrdIntake *
mrd_intake_new(GDBusConnection *connection, MrdDrops *drops)
{
	MrdIntake *self;

	g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), NULL);
	g_return_val_if_fail(MRD_IS_DROPS(drops), NULL);

	self = g_object_new(MRD_TYPE_INTAKE, NULL);
	self->connection = g_object_ref(connection);
	self->drops = g_object_ref(drops);
	self->state = g_atomic_rc_box_new0(IntakeState);
	g_mutex_init(&self->state->mutex);
	self->state->clients =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, client_table_unref);
	g_queue_init(&self->state->answers);
	self->state->context = g_main_context_ref_thread_default();
	self->state->message_rate = MRD_INTAKE_MIN_MESSAGE_RATE;
	self->state->byte_rate = MRD_INTAKE_BYTE_RATE;
	self->state->owner = self;
	self->name_owner_changed_id = g_dbus_connection_signal_subscribe(
		connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
		"/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, name_owner_changed_cb,
		self, NULL);
	self->filter_id = g_dbus_connection_add_filter(
		connection, filter_cb, g_atomic_rc_box_acquire(self->state), state_unref);
	return self;
}

/* follows --max-client-calls: a client is cut here only well above it, so
 * that the calls MrdAdmission refuses are still answered; with no call
 * limit (0) there are no rates here either, only the caps on what is in
 * flight, which bound the memory */
void
mrd_intake_set_call_rate_limit(MrdIntake *self, guint calls_per_second)
{
	g_return_if_fail(MRD_IS_INTAKE(self));

	g_mutex_lock(&self->state->mutex);
	self->state->message_rate =
		calls_per_second == 0 ? 0 : MAX(MRD_INTAKE_MIN_MESSAGE_RATE, 2 * calls_per_second);
	self->state->byte_rate = calls_per_second == 0 ? 0 : MRD_INTAKE_BYTE_RATE;
	g_mutex_unlock(&self->state->mutex);
}

static void
mrd_intake_dispose(GObject *object)
{
	MrdIntake *self = MRD_INTAKE(object);

	if (self->filter_id != 0) {
		/* the filter may run a little longer: it holds its own
		 * reference to the state */
		g_dbus_connection_remove_filter(self->connection, self->filter_id);
		self->filter_id = 0;
	}
	if (self->name_owner_changed_id != 0) {
		g_dbus_connection_signal_unsubscribe(self->connection, self->name_owner_changed_id);
		self->name_owner_changed_id = 0;
	}
	if (self->state != NULL) {
		g_mutex_lock(&self->state->mutex);
		self->state->owner = NULL;
		g_mutex_unlock(&self->state->mutex);
		g_clear_pointer(&self->state, state_unref);
	}
	g_clear_object(&self->drops);
	g_clear_object(&self->connection);
	G_OBJECT_CLASS(mrd_intake_parent_class)->dispose(object);
}

static void
mrd_intake_class_init(MrdIntakeClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_intake_dispose;
}

static void
mrd_intake_init(MrdIntake *self)
{
}
