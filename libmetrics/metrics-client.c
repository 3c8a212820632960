/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsClient"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "metrics-client.h"
#include "metrics-error.h"
#include "metrics-private.h"
#include "metrics-results-private.h"

/**
 * MetricsClient:
 *
 * Inspects and controls the recorder daemon: the consent state, the data
 * stored locally, and its status. This is what `metrics-cli`, a settings
 * panel and an initial-setup page use; apps that only record events use
 * [class@Recorder].
 *
 * Every call has an asynchronous form and a synchronous one for command-line
 * tools; errors are in the [error@Metrics.Error] domain.
 *
 * Since: 0.1
 */

struct _MetricsClient {
	GObject parent_instance;
	GMutex lock;
	GDBusConnection *connection; /* (owned) (nullable) until connected; protected by lock */
};

G_DEFINE_TYPE(MetricsClient, metrics_client, G_TYPE_OBJECT)

enum { PROP_0, PROP_CONNECTION, N_PROPS };
static GParamSpec *props[N_PROPS] = {NULL};

/* a synchronous call runs the asynchronous one on a private main context,
 * so it neither needs nor disturbs the caller's main loop */
typedef struct {
	GMainContext *context; /* (owned) */
	GAsyncResult *result;  /* (owned) (nullable) */
} SyncCall;

static void
sync_call_begin(SyncCall *call)
{
	call->context = g_main_context_new();
	call->result = NULL;
	g_main_context_push_thread_default(call->context);
}

static void
sync_call_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	SyncCall *call = user_data;
	call->result = g_object_ref(result);
	g_main_context_wakeup(call->context);
}

/* returns the result, which the caller must unref */
static GAsyncResult *
sync_call_wait(SyncCall *call)
{
	while (call->result == NULL)
		g_main_context_iteration(call->context, TRUE);
	g_main_context_pop_thread_default(call->context);
	g_main_context_unref(call->context);
	return call->result;
}

static GDBusCallFlags
call_flags(MetricsClientFlags flags)
{
	return (flags & METRICS_CLIENT_FLAGS_INTERACTIVE) != 0 ?
		       G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION :
		       G_DBUS_CALL_FLAGS_NONE;
}

static GVariant *
options_for_flags(MetricsClientFlags flags)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if ((flags & METRICS_CLIENT_FLAGS_ALL_USERS) != 0)
		g_variant_builder_add(&builder, "{sv}", "all", g_variant_new_boolean(TRUE));
	return g_variant_builder_end(&builder);
}

/* the parameters of a method whose only argument is its options */
static GVariant *
options_only(MetricsClientFlags flags)
{
	return g_variant_new("(@a{sv})", options_for_flags(flags));
}

static void
call_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	GVariant *reply;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	if (reply == NULL) {
		g_task_return_error(task, metrics_error_from_dbus(error));
		return;
	}
	g_task_return_pointer(task, reply, (GDestroyNotify)g_variant_unref);
}

/* a call waiting for the system bus of a client made without a connection */
typedef struct {
	const char *method;	/* static */
	GVariant *parameters;	/* (owned) */
	const char *reply_type; /* static */
	MetricsClientFlags flags;
} PendingCall;

static void
pending_call_free(PendingCall *call)
{
	g_clear_pointer(&call->parameters, g_variant_unref);
	g_free(call);
}

static void
metrics_client_send(MetricsClient *self,
		    GDBusConnection *connection,
		    const char *method,
		    GVariant *parameters,
		    const char *reply_type,
		    MetricsClientFlags flags,
		    GTask *task)
{
	g_dbus_connection_call(connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
			       METRICS_DBUS_INTERFACE, method, parameters,
			       G_VARIANT_TYPE(reply_type), call_flags(flags),
			       /* a person may take a while to authenticate; an upload
				* waits for the server's answers */
			       (flags & METRICS_CLIENT_FLAGS_INTERACTIVE) != 0 ||
					       g_strcmp0(method, "UploadNow") == 0 ?
				       G_MAXINT :
				       -1,
			       g_task_get_cancellable(task), call_cb, task);
}

static void
bus_get_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	MetricsClient *self = g_task_get_source_object(task);
	PendingCall *call = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) connection = g_bus_get_finish(result, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	if (connection == NULL) {
		g_task_return_new_error(task, METRICS_ERROR, METRICS_ERROR_NOT_RUNNING,
					/* TRANSLATORS: %s is the reason */
					_("Cannot connect to the system bus: %s"), error->message);
		g_object_unref(task);
		return;
	}
	/* the first connection obtained is the client's from now on */
	g_mutex_lock(&self->lock);
	if (self->connection == NULL)
		self->connection = g_object_ref(connection);
	g_mutex_unlock(&self->lock);
	metrics_client_send(self, connection, call->method, call->parameters, call->reply_type,
			    call->flags, task);
}

static void
metrics_client_call(MetricsClient *self,
		    const char *method,
		    GVariant *parameters,
		    const char *reply_type,
		    MetricsClientFlags flags,
		    GCancellable *cancellable,
		    gpointer source_tag,
		    GAsyncReadyCallback callback,
		    gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GDBusConnection) connection = NULL;
	PendingCall *call;

	g_task_set_source_tag(task, source_tag);
	g_mutex_lock(&self->lock);
	if (self->connection != NULL)
		connection = g_object_ref(self->connection);
	g_mutex_unlock(&self->lock);
	if (connection != NULL) {
		metrics_client_send(self, connection, method, parameters, reply_type, flags,
				    g_steal_pointer(&task));
		return;
	}
	call = g_new0(PendingCall, 1);
	call->method = method;
	call->parameters = g_variant_ref_sink(parameters);
	call->reply_type = reply_type;
	call->flags = flags;
	g_task_set_task_data(task, call, (GDestroyNotify)pending_call_free);
	g_bus_get(G_BUS_TYPE_SYSTEM, cancellable, bus_get_cb, g_steal_pointer(&task));
}

static GVariant *
metrics_client_call_finish(MetricsClient *self,
			   GAsyncResult *result,
			   gpointer source_tag,
			   GError **error)
{
	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == source_tag, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	return g_task_propagate_pointer(G_TASK(result), error);
}

/* the single value of a reply, or %NULL for no reply */
static GVariant *
first_child(GVariant *reply)
{
	if (reply == NULL)
		return NULL;
	return g_variant_get_child_value(reply, 0);
}

/**
 * metrics_client_new:
 * @connection: (nullable): the bus on which the daemon runs, or %NULL for the
 *   system bus
 *
 * Creates a client. It does no I/O until a call is made; with %NULL, the
 * first call connects to the system bus, as [ctor@Recorder.new] does, and
 * fails with [error@Metrics.Error.NOT_RUNNING] if there is none. Before
 * 0.2, @connection could not be %NULL.
 *
 * Returns: (transfer full): a new client
 *
 * Since: 0.1
 */
MetricsClient *
metrics_client_new(GDBusConnection *connection)
{
	g_return_val_if_fail(connection == NULL || G_IS_DBUS_CONNECTION(connection), NULL);
	return g_object_new(METRICS_TYPE_CLIENT, "connection", connection, NULL);
}

/**
 * metrics_client_get_connection: (get-property connection)
 * @self: a client
 *
 * Gets the bus connection given at construction, or the system bus once a
 * client made without one has connected.
 *
 * Returns: (transfer none) (nullable): the connection, or %NULL before a
 *   client made without one has made a call
 *
 * Since: 0.1
 */
GDBusConnection *
metrics_client_get_connection(MetricsClient *self)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);

	/* once set, the connection is kept until dispose */
	locker = g_mutex_locker_new(&self->lock);
	return self->connection;
}

/**
 * metrics_client_get_status_async:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Asks the daemon for its status: the consent state, the limits, and what
 * is stored for the calling user. Other users' figures and those of the
 * whole machine (the store's size, drops, uploads) need
 * [method@Client.get_status_full_async] with
 * [flags@Metrics.ClientFlags.ALL_USERS].
 *
 * Since: 0.1
 */
void
metrics_client_get_status_async(MetricsClient *self,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetStatus", options_only(METRICS_CLIENT_FLAGS_NONE), "(a{sv})",
			    METRICS_CLIENT_FLAGS_NONE, cancellable, metrics_client_get_status_async,
			    callback, user_data);
}

/**
 * metrics_client_get_status_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.get_status_async].
 *
 * Returns: (transfer full): an `a{sv}` dictionary with the keys documented
 *   for the daemon's `GetStatus` method, such as `consent` and `stored-keys`
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_status_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply =
		metrics_client_call_finish(self, result, metrics_client_get_status_async, error);
	return first_child(reply);
}

/**
 * metrics_client_get_status_sync:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.get_status_async].
 *
 * Returns: (transfer full): the status dictionary, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_status_sync(MetricsClient *self, GCancellable *cancellable, GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_get_status_async(self, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_get_status_finish(self, result, error);
}

/**
 * metrics_client_get_status_full_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.ALL_USERS] for everybody's figures,
 *   which needs authorisation; [flags@Metrics.ClientFlags.INTERACTIVE] to
 *   let polkit ask for it
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Like [method@Client.get_status_async], with flags. With
 * [flags@Metrics.ClientFlags.ALL_USERS] the status counts every user's
 * data and adds what is about the whole machine: the store's size on disk,
 * the drops, the clients and the uploads; without authorisation the call
 * fails with [error@Metrics.Error.PERMISSION_DENIED].
 *
 * Since: 0.1
 */
void
metrics_client_get_status_full_async(MetricsClient *self,
				     MetricsClientFlags flags,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetStatus", options_only(flags), "(a{sv})", flags, cancellable,
			    metrics_client_get_status_full_async, callback, user_data);
}

/**
 * metrics_client_get_status_full_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.get_status_full_async].
 *
 * Returns: (transfer full): an `a{sv}` dictionary with the keys documented
 *   for the daemon's `GetStatus` method
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_status_full_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply = metrics_client_call_finish(
		self, result, metrics_client_get_status_full_async, error);
	return first_child(reply);
}

/**
 * metrics_client_get_status_full_sync:
 * @self: a client
 * @flags: as for [method@Client.get_status_full_async]
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.get_status_full_async].
 *
 * Returns: (transfer full): the status dictionary, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_status_full_sync(MetricsClient *self,
				    MetricsClientFlags flags,
				    GCancellable *cancellable,
				    GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_get_status_full_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_get_status_full_finish(self, result, error);
}

/**
 * metrics_client_set_consent_async:
 * @self: a client
 * @consent: [enum@Metrics.Consent.GRANTED] or [enum@Metrics.Consent.DENIED]
 * @flags: [flags@Metrics.ClientFlags.INTERACTIVE] to allow an authentication dialog
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Records the user's choice. This needs authorisation by polkit (action
 * `org.fedoraproject.Metrics1.set-consent`). Denying deletes every stored
 * event at once.
 *
 * Since: 0.1
 */
void
metrics_client_set_consent_async(MetricsClient *self,
				 MetricsConsent consent,
				 MetricsClientFlags flags,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "SetConsent",
			    g_variant_new("(s@a{sv})", metrics_consent_to_string(consent),
					  options_for_flags(METRICS_CLIENT_FLAGS_NONE)),
			    "()", flags, cancellable, metrics_client_set_consent_async, callback,
			    user_data);
}

/**
 * metrics_client_set_consent_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.set_consent_async].
 *
 * Returns: %TRUE if the choice was saved; %FALSE with
 *   [error@Metrics.Error.PERMISSION_DENIED] if not authorised
 *
 * Since: 0.1
 */
gboolean
metrics_client_set_consent_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply =
		metrics_client_call_finish(self, result, metrics_client_set_consent_async, error);
	return reply != NULL;
}

/**
 * metrics_client_set_consent_sync:
 * @self: a client
 * @consent: the new consent state
 * @flags: flags
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.set_consent_async].
 *
 * Returns: %TRUE if the choice was saved
 *
 * Since: 0.1
 */
gboolean
metrics_client_set_consent_sync(MetricsClient *self,
				MetricsConsent consent,
				MetricsClientFlags flags,
				GCancellable *cancellable,
				GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	sync_call_begin(&call);
	metrics_client_set_consent_async(self, consent, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_set_consent_finish(self, result, error);
}

/**
 * metrics_client_set_user_choice_async:
 * @self: a client
 * @choice: the calling user's own choice
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Records the calling user's own choice, for their account only; it
 * needs no authorisation. The daemon identifies the user from the bus.
 * [enum@Metrics.UserChoice.OUT] deletes what the user has stored at once,
 * and from then on their events are dropped; the machine's consent
 * ([method@Client.set_consent_async]) still decides for everybody.
 *
 * Since: 0.1
 */
void
metrics_client_set_user_choice_async(MetricsClient *self,
				     MetricsUserChoice choice,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "SetUserChoice",
			    g_variant_new("(s)", metrics_user_choice_to_string(choice)), "()",
			    METRICS_CLIENT_FLAGS_NONE, cancellable,
			    metrics_client_set_user_choice_async, callback, user_data);
}

/**
 * metrics_client_set_user_choice_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.set_user_choice_async].
 *
 * Returns: %TRUE if the choice was saved; %FALSE with
 *   [error@Metrics.Error.STORAGE] if the daemon could not save it
 *
 * Since: 0.1
 */
gboolean
metrics_client_set_user_choice_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply = metrics_client_call_finish(
		self, result, metrics_client_set_user_choice_async, error);
	return reply != NULL;
}

/**
 * metrics_client_set_user_choice_sync:
 * @self: a client
 * @choice: the calling user's own choice
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.set_user_choice_async].
 *
 * Returns: %TRUE if the choice was saved
 *
 * Since: 0.1
 */
gboolean
metrics_client_set_user_choice_sync(MetricsClient *self,
				    MetricsUserChoice choice,
				    GCancellable *cancellable,
				    GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	sync_call_begin(&call);
	metrics_client_set_user_choice_async(self, choice, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_set_user_choice_finish(self, result, error);
}

/**
 * metrics_client_get_user_choice_async:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Gets the calling user's own choice, as set with
 * [method@Client.set_user_choice_async]. Nobody can read another user's.
 *
 * Since: 0.1
 */
void
metrics_client_get_user_choice_async(MetricsClient *self,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetUserChoice", NULL, "(s)", METRICS_CLIENT_FLAGS_NONE,
			    cancellable, metrics_client_get_user_choice_async, callback, user_data);
}

/**
 * metrics_client_get_user_choice_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @choice: (out) (optional): return location for the choice
 * @error: return location for an error
 *
 * Finishes [method@Client.get_user_choice_async].
 *
 * Returns: %TRUE on success; %FALSE with [error@Metrics.Error.FAILED] if
 *   the daemon answered with an unknown choice
 *
 * Since: 0.1
 */
gboolean
metrics_client_get_user_choice_finish(MetricsClient *self,
				      GAsyncResult *result,
				      MetricsUserChoice *choice,
				      GError **error)
{
	g_autoptr(GVariant) reply = metrics_client_call_finish(
		self, result, metrics_client_get_user_choice_async, error);
	const char *str = NULL;
	MetricsUserChoice value = METRICS_USER_CHOICE_DEFAULT;

	if (reply == NULL)
		return FALSE;
	g_variant_get(reply, "(&s)", &str);
	if (!metrics_user_choice_from_string(str, &value)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_FAILED,
			    _("The metrics daemon sent an unknown choice “%s”"), str);
		return FALSE;
	}
	if (choice != NULL)
		*choice = value;
	return TRUE;
}

/**
 * metrics_client_get_user_choice_sync:
 * @self: a client
 * @choice: (out) (optional): return location for the choice
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.get_user_choice_async].
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
metrics_client_get_user_choice_sync(MetricsClient *self,
				    MetricsUserChoice *choice,
				    GCancellable *cancellable,
				    GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	sync_call_begin(&call);
	metrics_client_get_user_choice_async(self, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_get_user_choice_finish(self, result, choice, error);
}

/**
 * metrics_client_set_category_async:
 * @self: a client
 * @category: `hardware`, `settings`, `usage`, `performance` or `problems`
 *   (the allowlist's categories)
 * @enabled: %TRUE to turn it on, %FALSE to turn it off
 * @flags: [flags@Metrics.ClientFlags.ALL_USERS] for the whole machine,
 *   which needs authorisation by polkit (action
 *   `org.fedoraproject.Metrics1.set-consent`; add
 *   [flags@Metrics.ClientFlags.INTERACTIVE] to allow a dialog); without it,
 *   for the calling user's own account, which needs none
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Turns a category of metrics on or off. Turning one off deletes at once
 * what is stored of its metrics: everybody's for the machine, the caller's
 * for their account. A category off for the machine is off for everybody;
 * turning it on for one's account makes it follow the machine again. The
 * state is in the status ([method@Client.get_status_async]): `categories`
 * for the machine, `user-categories-off` for the caller.
 *
 * Since: 0.1
 */
void
metrics_client_set_category_async(MetricsClient *self,
				  const char *category,
				  gboolean enabled,
				  MetricsClientFlags flags,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	GVariantBuilder categories;

	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(category != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	g_variant_builder_init(&categories, G_VARIANT_TYPE("a{sb}"));
	g_variant_builder_add(&categories, "{sb}", category, enabled);
	if ((flags & METRICS_CLIENT_FLAGS_ALL_USERS) != 0)
		metrics_client_call(self, "SetCategories",
				    g_variant_new("(a{sb}@a{sv})", &categories,
						  options_for_flags(METRICS_CLIENT_FLAGS_NONE)),
				    "()", flags, cancellable, metrics_client_set_category_async,
				    callback, user_data);
	else
		metrics_client_call(self, "SetUserCategories",
				    g_variant_new("(a{sb})", &categories), "()", flags, cancellable,
				    metrics_client_set_category_async, callback, user_data);
}

/**
 * metrics_client_set_category_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.set_category_async].
 *
 * Returns: %TRUE if the choice was saved; %FALSE with
 *   [error@Metrics.Error.INVALID_DATA] for an unknown category, or
 *   [error@Metrics.Error.PERMISSION_DENIED] if not authorised
 *
 * Since: 0.1
 */
gboolean
metrics_client_set_category_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply =
		metrics_client_call_finish(self, result, metrics_client_set_category_async, error);
	return reply != NULL;
}

/**
 * metrics_client_set_category_sync:
 * @self: a client
 * @category: a category of metrics
 * @enabled: %TRUE to turn it on, %FALSE to turn it off
 * @flags: as for [method@Client.set_category_async]
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.set_category_async].
 *
 * Returns: %TRUE if the choice was saved
 *
 * Since: 0.1
 */
gboolean
metrics_client_set_category_sync(MetricsClient *self,
				 const char *category,
				 gboolean enabled,
				 MetricsClientFlags flags,
				 GCancellable *cancellable,
				 GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	sync_call_begin(&call);
	metrics_client_set_category_async(self, category, enabled, flags, cancellable, sync_call_cb,
					  &call);
	result = sync_call_wait(&call);
	return metrics_client_set_category_finish(self, result, error);
}

/**
 * metrics_client_get_local_data_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.ALL_USERS] for every user's data (needs
 *   authorisation)
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Gets exactly what the daemon stores locally for the calling user.
 *
 * Since: 0.1
 */
void
metrics_client_get_local_data_async(MetricsClient *self,
				    MetricsClientFlags flags,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetLocalData", options_only(flags),
			    "(a" METRICS_WIRE_AGGREGATE ")", flags, cancellable,
			    metrics_client_get_local_data_async, callback, user_data);
}

/**
 * metrics_client_get_local_data_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.get_local_data_async].
 *
 * Returns: (transfer container) (element-type MetricsAggregate): the stored
 *   aggregates, possibly none, or %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
metrics_client_get_local_data_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply = metrics_client_call_finish(
		self, result, metrics_client_get_local_data_async, error);
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	gsize n;

	if (reply == NULL)
		return NULL;
	rows = g_variant_get_child_value(reply, 0);
	n = g_variant_n_children(rows);
	aggregates = g_ptr_array_new_full(n, (GDestroyNotify)metrics_aggregate_unref);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		MetricsAggregate *aggregate = metrics_aggregate_deserialize(row, error);

		if (aggregate == NULL)
			return NULL;
		g_ptr_array_add(aggregates, aggregate);
	}
	return g_steal_pointer(&aggregates);
}

/**
 * metrics_client_get_local_data_sync:
 * @self: a client
 * @flags: flags
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.get_local_data_async].
 *
 * Returns: (transfer container) (element-type MetricsAggregate): the stored
 *   aggregates, or %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
metrics_client_get_local_data_sync(MetricsClient *self,
				   MetricsClientFlags flags,
				   GCancellable *cancellable,
				   GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_get_local_data_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_get_local_data_finish(self, result, error);
}

/**
 * metrics_client_clear_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.ALL_USERS] to delete every user's data
 *   (needs authorisation)
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Deletes the calling user's stored data.
 *
 * Since: 0.1
 */
void
metrics_client_clear_async(MetricsClient *self,
			   MetricsClientFlags flags,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "Clear", options_only(flags), "(t)", flags, cancellable,
			    metrics_client_clear_async, callback, user_data);
}

/**
 * metrics_client_clear_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @removed: (out) (optional): return location for how many aggregates were deleted
 * @error: return location for an error
 *
 * Finishes [method@Client.clear_async].
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
metrics_client_clear_finish(MetricsClient *self,
			    GAsyncResult *result,
			    guint64 *removed,
			    GError **error)
{
	g_autoptr(GVariant) reply =
		metrics_client_call_finish(self, result, metrics_client_clear_async, error);

	if (reply == NULL)
		return FALSE;
	if (removed != NULL)
		g_variant_get(reply, "(t)", removed);
	return TRUE;
}

/**
 * metrics_client_clear_sync:
 * @self: a client
 * @flags: flags
 * @removed: (out) (optional): return location for how many aggregates were deleted
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.clear_async].
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
metrics_client_clear_sync(MetricsClient *self,
			  MetricsClientFlags flags,
			  guint64 *removed,
			  GCancellable *cancellable,
			  GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	sync_call_begin(&call);
	metrics_client_clear_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_clear_finish(self, result, removed, error);
}

/* ---- allowlist ---- */

/**
 * metrics_client_get_allowlist_async:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Asks the daemon for the allowlist: every metric it may record, with what
 * it is for and whether this computer records it.
 *
 * Since: 0.1
 */
void
metrics_client_get_allowlist_async(MetricsClient *self,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetAllowlist", options_only(METRICS_CLIENT_FLAGS_NONE),
			    "(aa{sv})", METRICS_CLIENT_FLAGS_NONE, cancellable,
			    metrics_client_get_allowlist_async, callback, user_data);
}

/**
 * metrics_client_get_allowlist_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.get_allowlist_async].
 *
 * Returns: (transfer full): an `aa{sv}` array with one dictionary per
 *   approved metric, sorted by name, with the keys documented for the
 *   daemon's `GetAllowlist` method (`id`, `name`, `description`, `purpose`,
 *   `category`, `expires`, `sampled`, …), or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_allowlist_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply =
		metrics_client_call_finish(self, result, metrics_client_get_allowlist_async, error);
	return first_child(reply);
}

/**
 * metrics_client_get_allowlist_sync:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.get_allowlist_async].
 *
 * Returns: (transfer full): the allowlist as `aa{sv}`, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_allowlist_sync(MetricsClient *self, GCancellable *cancellable, GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_get_allowlist_async(self, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_get_allowlist_finish(self, result, error);
}

/* ---- upload ---- */

/**
 * metrics_client_upload_now_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.INTERACTIVE] to allow an authentication dialog
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Asks the daemon to send every pending upload now, without the random
 * delay that otherwise keeps this machine's requests apart in time. This
 * needs authorisation by polkit (action
 * `org.fedoraproject.Metrics1.upload-now`).
 *
 * Since: 0.1
 */
void
metrics_client_upload_now_async(MetricsClient *self,
				MetricsClientFlags flags,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "UploadNow", options_only(METRICS_CLIENT_FLAGS_NONE), "(uu)",
			    flags, cancellable, metrics_client_upload_now_async, callback,
			    user_data);
}

/**
 * metrics_client_upload_now_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @sent: (out) (optional): return location for how many requests the server accepted
 * @failed: (out) (optional): return location for how many failed (retried later, or
 *   set aside when refused)
 * @error: return location for an error
 *
 * Finishes [method@Client.upload_now_async].
 *
 * Returns: %TRUE if every pending request was tried
 *
 * Since: 0.1
 */
gboolean
metrics_client_upload_now_finish(MetricsClient *self,
				 GAsyncResult *result,
				 guint *sent,
				 guint *failed,
				 GError **error)
{
	g_autoptr(GVariant) reply =
		metrics_client_call_finish(self, result, metrics_client_upload_now_async, error);
	guint32 n_sent = 0, n_failed = 0;

	if (reply == NULL)
		return FALSE;
	g_variant_get(reply, "(uu)", &n_sent, &n_failed);
	if (sent != NULL)
		*sent = n_sent;
	if (failed != NULL)
		*failed = n_failed;
	return TRUE;
}

/**
 * metrics_client_upload_now_sync:
 * @self: a client
 * @flags: flags
 * @sent: (out) (optional): return location for how many requests were accepted
 * @failed: (out) (optional): return location for how many failed
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.upload_now_async].
 *
 * Returns: %TRUE if every pending request was tried
 *
 * Since: 0.1
 */
gboolean
metrics_client_upload_now_sync(MetricsClient *self,
			       MetricsClientFlags flags,
			       guint *sent,
			       guint *failed,
			       GCancellable *cancellable,
			       GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	sync_call_begin(&call);
	metrics_client_upload_now_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_upload_now_finish(self, result, sent, failed, error);
}

/**
 * metrics_client_get_pending_uploads_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.INTERACTIVE] to allow an authentication dialog
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Gets the requests waiting to be uploaded, decoded, and what the weeks not
 * yet closed would send. They merge every local user's data, so this needs
 * authorisation by polkit (action `org.fedoraproject.Metrics1.read-all`).
 *
 * Since: 0.1
 */
void
metrics_client_get_pending_uploads_async(MetricsClient *self,
					 MetricsClientFlags flags,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetPendingUploads", options_only(METRICS_CLIENT_FLAGS_NONE),
			    "(aa{sv})", flags, cancellable,
			    metrics_client_get_pending_uploads_async, callback, user_data);
}

/**
 * metrics_client_get_pending_uploads_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.get_pending_uploads_async].
 *
 * Returns: (transfer full): an `aa{sv}` array with one dictionary per
 *   request, with the keys documented for the daemon's `GetPendingUploads`
 *   method, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_pending_uploads_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply = metrics_client_call_finish(
		self, result, metrics_client_get_pending_uploads_async, error);
	return first_child(reply);
}

/**
 * metrics_client_get_pending_uploads_sync:
 * @self: a client
 * @flags: flags
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.get_pending_uploads_async].
 *
 * Returns: (transfer full): the `aa{sv}` array, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_pending_uploads_sync(MetricsClient *self,
					MetricsClientFlags flags,
					GCancellable *cancellable,
					GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_get_pending_uploads_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_get_pending_uploads_finish(self, result, error);
}

/**
 * metrics_client_get_sent_uploads_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.INTERACTIVE] to allow an authentication dialog
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Gets the archive of the requests the server accepted in the last 90
 * days, decoded. This needs authorisation by polkit (action
 * `org.fedoraproject.Metrics1.read-all`).
 *
 * Since: 0.1
 */
void
metrics_client_get_sent_uploads_async(MetricsClient *self,
				      MetricsClientFlags flags,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetSentUploads", options_only(METRICS_CLIENT_FLAGS_NONE),
			    "(aa{sv})", flags, cancellable, metrics_client_get_sent_uploads_async,
			    callback, user_data);
}

/**
 * metrics_client_get_sent_uploads_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.get_sent_uploads_async].
 *
 * Returns: (transfer full): an `aa{sv}` array with one dictionary per sent
 *   request, with the keys documented for the daemon's `GetSentUploads`
 *   method, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_sent_uploads_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply = metrics_client_call_finish(
		self, result, metrics_client_get_sent_uploads_async, error);
	return first_child(reply);
}

/**
 * metrics_client_get_sent_uploads_sync:
 * @self: a client
 * @flags: flags
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.get_sent_uploads_async].
 *
 * Returns: (transfer full): the `aa{sv}` array, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
metrics_client_get_sent_uploads_sync(MetricsClient *self,
				     MetricsClientFlags flags,
				     GCancellable *cancellable,
				     GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_get_sent_uploads_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_get_sent_uploads_finish(self, result, error);
}

/* ---- typed results ---- */

typedef gpointer (*DictToObject)(GVariant *dict);

/* an aa{sv} as a GPtrArray of the objects @convert makes of each a{sv} */
static GPtrArray *
dicts_to_objects(GVariant *dicts, DictToObject convert)
{
	gsize n = g_variant_n_children(dicts);
	GPtrArray *objects = g_ptr_array_new_full(n, g_object_unref);

	for (gsize i = 0; i < n; i++)
		g_ptr_array_add(objects, convert(g_variant_get_child_value(dicts, i)));
	return objects;
}

/**
 * metrics_client_query_status_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.ALL_USERS] for everybody's figures, which needs
 *   authorisation; [flags@Metrics.ClientFlags.INTERACTIVE] to let polkit ask for it
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Asks the daemon for its status, as [method@Client.get_status_full_async]
 * does, and returns it typed: the consent state, the limits, and what is
 * stored for the calling user, or with [flags@Metrics.ClientFlags.ALL_USERS]
 * for everybody, with the drops and the uploads (which needs authorisation:
 * the call then fails with [error@Metrics.Error.PERMISSION_DENIED]).
 *
 * Since: 0.2
 */
void
metrics_client_query_status_async(MetricsClient *self,
				  MetricsClientFlags flags,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetStatus", options_only(flags), "(a{sv})", flags, cancellable,
			    metrics_client_query_status_async, callback, user_data);
}

/**
 * metrics_client_query_status_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.query_status_async].
 *
 * Returns: (transfer full): the status, or %NULL on error
 *
 * Since: 0.2
 */
MetricsStatus *
metrics_client_query_status_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply =
		metrics_client_call_finish(self, result, metrics_client_query_status_async, error);
	g_autoptr(GVariant) value = NULL;

	if (reply == NULL)
		return NULL;
	value = g_variant_get_child_value(reply, 0);
	return metrics_status_new_from_variant(g_steal_pointer(&value));
}

/**
 * metrics_client_query_status_sync:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.ALL_USERS] for everybody's figures, which needs
 *   authorisation; [flags@Metrics.ClientFlags.INTERACTIVE] to let polkit ask for it
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.query_status_async].
 *
 * Returns: (transfer full): the status, or %NULL on error
 *
 * Since: 0.2
 */
MetricsStatus *
metrics_client_query_status_sync(MetricsClient *self,
				 MetricsClientFlags flags,
				 GCancellable *cancellable,
				 GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_query_status_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_query_status_finish(self, result, error);
}

/**
 * metrics_client_list_metrics_async:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Asks the daemon for the allowlist, as [method@Client.get_allowlist_async]
 * does, and returns it typed: every metric it may record, with what it is
 * for and whether this computer records it. Any caller may read it.
 *
 * Since: 0.2
 */
void
metrics_client_list_metrics_async(MetricsClient *self,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetAllowlist", options_only(METRICS_CLIENT_FLAGS_NONE),
			    "(aa{sv})", METRICS_CLIENT_FLAGS_NONE, cancellable,
			    metrics_client_list_metrics_async, callback, user_data);
}

/**
 * metrics_client_list_metrics_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.list_metrics_async].
 *
 * Returns: (transfer container) (element-type MetricsAllowlistEntry): the approved
 *   metrics sorted by name, or %NULL on error
 *
 * Since: 0.2
 */
GPtrArray *
metrics_client_list_metrics_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply =
		metrics_client_call_finish(self, result, metrics_client_list_metrics_async, error);
	g_autoptr(GVariant) value = NULL;

	if (reply == NULL)
		return NULL;
	value = g_variant_get_child_value(reply, 0);
	return dicts_to_objects(value, (DictToObject)metrics_allowlist_entry_new_from_variant);
}

/**
 * metrics_client_list_metrics_sync:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.list_metrics_async].
 *
 * Returns: (transfer container) (element-type MetricsAllowlistEntry): the approved
 *   metrics sorted by name, or %NULL on error
 *
 * Since: 0.2
 */
GPtrArray *
metrics_client_list_metrics_sync(MetricsClient *self, GCancellable *cancellable, GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_list_metrics_async(self, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_list_metrics_finish(self, result, error);
}

/**
 * metrics_client_list_pending_uploads_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.INTERACTIVE] to allow an authentication dialog
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Gets the requests waiting to be uploaded, and what the weeks not yet
 * closed would send, as [method@Client.get_pending_uploads_async] does,
 * typed. They merge every local user's data, so this needs authorisation
 * by polkit (action `org.fedoraproject.Metrics1.read-all`).
 *
 * Since: 0.2
 */
void
metrics_client_list_pending_uploads_async(MetricsClient *self,
					  MetricsClientFlags flags,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetPendingUploads", options_only(METRICS_CLIENT_FLAGS_NONE),
			    "(aa{sv})", flags, cancellable,
			    metrics_client_list_pending_uploads_async, callback, user_data);
}

/**
 * metrics_client_list_pending_uploads_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.list_pending_uploads_async].
 *
 * Returns: (transfer container) (element-type MetricsUpload): the requests in the
 *   order they are due, or %NULL on error
 *
 * Since: 0.2
 */
GPtrArray *
metrics_client_list_pending_uploads_finish(MetricsClient *self,
					   GAsyncResult *result,
					   GError **error)
{
	g_autoptr(GVariant) reply = metrics_client_call_finish(
		self, result, metrics_client_list_pending_uploads_async, error);
	g_autoptr(GVariant) value = NULL;

	if (reply == NULL)
		return NULL;
	value = g_variant_get_child_value(reply, 0);
	return dicts_to_objects(value, (DictToObject)metrics_upload_new_from_variant);
}

/**
 * metrics_client_list_pending_uploads_sync:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.INTERACTIVE] to allow an authentication dialog
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.list_pending_uploads_async].
 *
 * Returns: (transfer container) (element-type MetricsUpload): the requests in the
 *   order they are due, or %NULL on error
 *
 * Since: 0.2
 */
GPtrArray *
metrics_client_list_pending_uploads_sync(MetricsClient *self,
					 MetricsClientFlags flags,
					 GCancellable *cancellable,
					 GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_list_pending_uploads_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_list_pending_uploads_finish(self, result, error);
}

/**
 * metrics_client_list_sent_uploads_async:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.INTERACTIVE] to allow an authentication dialog
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Gets the archive of the requests the server accepted in the last 90
 * days, as [method@Client.get_sent_uploads_async] does, typed. This needs
 * authorisation by polkit (action `org.fedoraproject.Metrics1.read-all`).
 *
 * Since: 0.2
 */
void
metrics_client_list_sent_uploads_async(MetricsClient *self,
				       MetricsClientFlags flags,
				       GCancellable *cancellable,
				       GAsyncReadyCallback callback,
				       gpointer user_data)
{
	g_return_if_fail(METRICS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	metrics_client_call(self, "GetSentUploads", options_only(METRICS_CLIENT_FLAGS_NONE),
			    "(aa{sv})", flags, cancellable, metrics_client_list_sent_uploads_async,
			    callback, user_data);
}

/**
 * metrics_client_list_sent_uploads_finish:
 * @self: a client
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Client.list_sent_uploads_async].
 *
 * Returns: (transfer container) (element-type MetricsUpload): the sent requests,
 *   oldest first, or %NULL on error
 *
 * Since: 0.2
 */
GPtrArray *
metrics_client_list_sent_uploads_finish(MetricsClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GVariant) reply = metrics_client_call_finish(
		self, result, metrics_client_list_sent_uploads_async, error);
	g_autoptr(GVariant) value = NULL;

	if (reply == NULL)
		return NULL;
	value = g_variant_get_child_value(reply, 0);
	return dicts_to_objects(value, (DictToObject)metrics_upload_new_from_variant);
}

/**
 * metrics_client_list_sent_uploads_sync:
 * @self: a client
 * @flags: [flags@Metrics.ClientFlags.INTERACTIVE] to allow an authentication dialog
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Synchronous form of [method@Client.list_sent_uploads_async].
 *
 * Returns: (transfer container) (element-type MetricsUpload): the sent requests,
 *   oldest first, or %NULL on error
 *
 * Since: 0.2
 */
GPtrArray *
metrics_client_list_sent_uploads_sync(MetricsClient *self,
				      MetricsClientFlags flags,
				      GCancellable *cancellable,
				      GError **error)
{
	SyncCall call;
	g_autoptr(GAsyncResult) result = NULL;

	g_return_val_if_fail(METRICS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	sync_call_begin(&call);
	metrics_client_list_sent_uploads_async(self, flags, cancellable, sync_call_cb, &call);
	result = sync_call_wait(&call);
	return metrics_client_list_sent_uploads_finish(self, result, error);
}

static void
metrics_client_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	MetricsClient *self = METRICS_CLIENT(object);

	switch (prop_id) {
	case PROP_CONNECTION:
		g_value_set_object(value, metrics_client_get_connection(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
metrics_client_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	MetricsClient *self = METRICS_CLIENT(object);

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
metrics_client_dispose(GObject *object)
{
	MetricsClient *self = METRICS_CLIENT(object);

	g_clear_object(&self->connection);

	G_OBJECT_CLASS(metrics_client_parent_class)->dispose(object);
}

static void
metrics_client_finalize(GObject *object)
{
	MetricsClient *self = METRICS_CLIENT(object);

	g_mutex_clear(&self->lock);

	G_OBJECT_CLASS(metrics_client_parent_class)->finalize(object);
}

static void
metrics_client_class_init(MetricsClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = metrics_client_get_property;
	object_class->set_property = metrics_client_set_property;
	object_class->dispose = metrics_client_dispose;
	object_class->finalize = metrics_client_finalize;

	(void)metrics_error_quark();
	metrics_i18n_init();

	/**
	 * MetricsClient:connection: (getter get_connection)
	 *
	 * The bus on which the daemon runs; %NULL at construction for the
	 * system bus, which is set here once connected.
	 *
	 * Since: 0.1
	 */
	props[PROP_CONNECTION] = g_param_spec_object(
		"connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
		G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
metrics_client_init(MetricsClient *self)
{
	g_mutex_init(&self->lock);
}
