/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlService"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpnl-enums.h"
#include "mpnl-service.h"

#define MPNL_BUS_NAME "org.fedoraproject.Metrics1"
#define MPNL_OBJECT_PATH "/org/fedoraproject/Metrics1"
#define MPNL_INTERFACE "org.fedoraproject.Metrics1.Recorder"
#define MPNL_ERROR_PREFIX "org.fedoraproject.Metrics1.Error."

/* the recorder as the panel sees it: one proxy on the system bus, whose
 * cached properties follow PropertiesChanged, and a state derived from them
 * and from whether the service can be reached at all */
struct _MpnlService {
	GObject parent_instance;

	GDBusConnection *connection; /* (owned) */
	MpnlDBusRecorder *proxy;     /* (owned) (nullable) until it is made */
	GCancellable *cancellable;   /* (owned) */
	MpnlState state;
	gboolean locked;
	gint64 consent_timestamp;
};

G_DEFINE_TYPE(MpnlService, mpnl_service, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_CONNECTION,
	PROP_STATE,
	PROP_LOCKED,
	PROP_CONSENT_TIMESTAMP,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

enum {
	SIGNAL_DATA_CHANGED,
	N_SIGNALS,
};
static guint signals[N_SIGNALS];

static void
mpnl_service_set_state(MpnlService *self, MpnlState state)
{
	gboolean consent_changed = self->state != state;

	if (consent_changed) {
		g_debug("state %d → %d", self->state, state);
		self->state = state;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
	}
	/* what is stored depends on the consent (saying no deletes it) */
	if (consent_changed)
		g_signal_emit(self, signals[SIGNAL_DATA_CHANGED], 0);
}

/* the state from the proxy's cached properties; only when the daemon has
 * an owner on the bus, otherwise the properties are not cached */
static void
mpnl_service_read_properties(MpnlService *self)
{
	const char *consent = mpnl_dbus_recorder_get_consent(self->proxy);
	gint64 timestamp = mpnl_dbus_recorder_get_consent_timestamp(self->proxy);
	g_autoptr(GVariant) locked = NULL;
	gboolean is_locked;

	/* a daemon that says whether the administrator fixed the choice
	 * exposes it as a boolean property; older daemons have none */
	locked = g_dbus_proxy_get_cached_property(G_DBUS_PROXY(self->proxy), "ConsentLocked");
	is_locked = locked != NULL && g_variant_is_of_type(locked, G_VARIANT_TYPE_BOOLEAN) &&
		    g_variant_get_boolean(locked);
	if (is_locked != self->locked) {
		self->locked = is_locked;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOCKED]);
	}
	if (timestamp != self->consent_timestamp) {
		self->consent_timestamp = timestamp;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CONSENT_TIMESTAMP]);
	}
	if (g_strcmp0(consent, "granted") == 0)
		mpnl_service_set_state(self, MPNL_STATE_GRANTED);
	else if (g_strcmp0(consent, "denied") == 0)
		mpnl_service_set_state(self, MPNL_STATE_DENIED);
	else if (g_strcmp0(consent, "unknown") == 0)
		mpnl_service_set_state(self, MPNL_STATE_UNKNOWN);
	/* anything else (a newer daemon's state) is shown as not decided,
	 * which collects nothing */
	else if (consent != NULL)
		mpnl_service_set_state(self, MPNL_STATE_UNKNOWN);
}

static void
mpnl_service_probe_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MpnlService) self = MPNL_SERVICE(user_data);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;

	reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);
	if (reply != NULL) {
		/* activated: the name owner appears and the properties load */
		g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(source));
		if (owner != NULL)
			mpnl_service_read_properties(self);
		return;
	}
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	g_debug("the recorder cannot be reached: %s", error->message);
	if (mpnl_error_is_absent(error))
		mpnl_service_set_state(self, MPNL_STATE_ABSENT);
}

static void
mpnl_service_activatable_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MpnlService) self = MPNL_SERVICE(user_data);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree const char **names = NULL;
	g_autofree char *owner = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	if (reply == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			mpnl_service_set_state(self, MPNL_STATE_ABSENT);
		return;
	}
	/* it came back while we asked */
	owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(self->proxy));
	if (owner != NULL)
		return;
	g_variant_get(reply, "(^a&s)", &names);
	/* a daemon that left when idle comes back at the next call, and the
	 * consent it stored is what the panel showed */
	if (!g_strv_contains(names, MPNL_BUS_NAME))
		mpnl_service_set_state(self, MPNL_STATE_ABSENT);
}

static void
mpnl_service_owner_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	MpnlService *self = MPNL_SERVICE(user_data);
	g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(self->proxy));

	if (owner != NULL) {
		mpnl_service_read_properties(self);
		/* a new daemon may hold other data than the one before */
		g_signal_emit(self, signals[SIGNAL_DATA_CHANGED], 0);
		return;
	}
	g_dbus_connection_call(self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "ListActivatableNames", NULL,
			       G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, -1,
			       self->cancellable, mpnl_service_activatable_cb, g_object_ref(self));
}

static void
mpnl_service_properties_cb(GDBusProxy *proxy,
			   GVariant *changed,
			   const char *const *invalidated,
			   gpointer user_data)
{
	mpnl_service_read_properties(MPNL_SERVICE(user_data));
}

static void
mpnl_service_proxy_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MpnlService) self = MPNL_SERVICE(user_data);
	g_autoptr(GError) error = NULL;
	g_autofree char *owner = NULL;
	MpnlDBusRecorder *proxy;

	proxy = mpnl_dbus_recorder_proxy_new_finish(result, &error);
	if (proxy == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_warning("cannot talk to the recorder: %s", error->message);
			mpnl_service_set_state(self, MPNL_STATE_ABSENT);
		}
		return;
	}
	self->proxy = proxy;
	g_signal_connect_object(proxy, "notify::g-name-owner", G_CALLBACK(mpnl_service_owner_cb),
				self, G_CONNECT_DEFAULT);
	g_signal_connect_object(proxy, "g-properties-changed",
				G_CALLBACK(mpnl_service_properties_cb), self, G_CONNECT_DEFAULT);
	owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(proxy));
	if (owner != NULL) {
		mpnl_service_read_properties(self);
		return;
	}
	/* not running: a call starts a bus-activatable daemon, and fails at
	 * once with ServiceUnknown when there is none */
	g_dbus_proxy_call(
		G_DBUS_PROXY(proxy), "GetStatus",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, mpnl_service_probe_cb,
		g_object_ref(self));
}

static void
mpnl_service_constructed(GObject *object)
{
	MpnlService *self = MPNL_SERVICE(object);

	G_OBJECT_CLASS(mpnl_service_parent_class)->constructed(object);
	mpnl_dbus_recorder_proxy_new(self->connection, G_DBUS_PROXY_FLAGS_NONE, MPNL_BUS_NAME,
				     MPNL_OBJECT_PATH, self->cancellable, mpnl_service_proxy_cb,
				     g_object_ref(self));
}

static void
mpnl_service_dispose(GObject *object)
{
	MpnlService *self = MPNL_SERVICE(object);

	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->proxy);
	g_clear_object(&self->connection);
	G_OBJECT_CLASS(mpnl_service_parent_class)->dispose(object);
}

static void
mpnl_service_finalize(GObject *object)
{
	MpnlService *self = MPNL_SERVICE(object);

	g_clear_object(&self->cancellable);
	G_OBJECT_CLASS(mpnl_service_parent_class)->finalize(object);
}

static void
mpnl_service_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	MpnlService *self = MPNL_SERVICE(object);

	switch (prop_id) {
	case PROP_CONNECTION:
		g_value_set_object(value, self->connection);
		break;
	case PROP_STATE:
		g_value_set_enum(value, self->state);
		break;
	case PROP_LOCKED:
		g_value_set_boolean(value, self->locked);
		break;
	case PROP_CONSENT_TIMESTAMP:
		g_value_set_int64(value, self->consent_timestamp);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
mpnl_service_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	MpnlService *self = MPNL_SERVICE(object);

	switch (prop_id) {
	case PROP_CONNECTION:
		self->connection = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
mpnl_service_class_init(MpnlServiceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->constructed = mpnl_service_constructed;
	object_class->dispose = mpnl_service_dispose;
	object_class->finalize = mpnl_service_finalize;
	object_class->get_property = mpnl_service_get_property;
	object_class->set_property = mpnl_service_set_property;

	props[PROP_CONNECTION] = g_param_spec_object(
		"connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
		G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
	props[PROP_STATE] =
		g_param_spec_enum("state", NULL, NULL, MPNL_TYPE_STATE, MPNL_STATE_CONNECTING,
				  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_LOCKED] = g_param_spec_boolean("locked", NULL, NULL, FALSE,
						  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_CONSENT_TIMESTAMP] =
		g_param_spec_int64("consent-timestamp", NULL, NULL, 0, G_MAXINT64, 0,
				   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/* the stored data may be different: consent changed, or the daemon
	 * came back */
	signals[SIGNAL_DATA_CHANGED] =
		g_signal_new("data-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
			     NULL, NULL, G_TYPE_NONE, 0);
}

static void
mpnl_service_init(MpnlService *self)
{
	self->cancellable = g_cancellable_new();
	self->state = MPNL_STATE_CONNECTING;
}

/* the recorder on @connection, normally the system bus */
MpnlService *
mpnl_service_new(GDBusConnection *connection)
{
	g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), NULL);
	return g_object_new(MPNL_TYPE_SERVICE, "connection", connection, NULL);
}

MpnlState
mpnl_service_get_state(MpnlService *self)
{
	g_return_val_if_fail(MPNL_IS_SERVICE(self), MPNL_STATE_ABSENT);
	return self->state;
}

gboolean
mpnl_service_get_locked(MpnlService *self)
{
	g_return_val_if_fail(MPNL_IS_SERVICE(self), FALSE);
	return self->locked;
}

gint64
mpnl_service_get_consent_timestamp(MpnlService *self)
{
	g_return_val_if_fail(MPNL_IS_SERVICE(self), 0);
	return self->consent_timestamp;
}

/* (nullable) (transfer none) */
MpnlDBusRecorder *
mpnl_service_get_proxy(MpnlService *self)
{
	g_return_val_if_fail(MPNL_IS_SERVICE(self), NULL);
	return self->proxy;
}

static void
mpnl_service_call_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	GVariant *reply;

	reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);
	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, reply, (GDestroyNotify)g_variant_unref);
}

/* calls @method on the recorder; @interactive lets polkit ask the user to
 * authenticate (the session's agent shows its dialog), which may take as
 * long as the user does */
void
mpnl_service_call_async(MpnlService *self,
			const char *method,
			GVariant *parameters,
			gboolean interactive,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(MPNL_IS_SERVICE(self));
	g_return_if_fail(method != NULL);
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, mpnl_service_call_async);
	if (self->proxy == NULL) {
		if (parameters != NULL)
			g_variant_unref(g_variant_ref_sink(parameters));
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
					/* TRANSLATORS: an error shown in the panel */
					_("The metrics service cannot be reached."));
		return;
	}
	g_dbus_proxy_call(G_DBUS_PROXY(self->proxy), method, parameters,
			  interactive ? G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION :
					G_DBUS_CALL_FLAGS_NONE,
			  interactive ? G_MAXINT : -1, cancellable, mpnl_service_call_cb,
			  g_steal_pointer(&task));
}

GVariant *
mpnl_service_call_finish(MpnlService *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

static void
mpnl_service_set_consent_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;

	reply = mpnl_service_call_finish(MPNL_SERVICE(source), result, &error);
	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/* asks the recorder to set the consent, which polkit may have the user
 * confirm; the state follows from PropertiesChanged, not from the reply */
void
mpnl_service_set_consent_async(MpnlService *self,
			       gboolean granted,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(MPNL_IS_SERVICE(self));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, mpnl_service_set_consent_async);
	mpnl_service_call_async(self, "SetConsent",
				g_variant_new("(s@a{sv})", granted ? "granted" : "denied",
					      g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
				TRUE, cancellable, mpnl_service_set_consent_cb,
				g_steal_pointer(&task));
}

gboolean
mpnl_service_set_consent_finish(MpnlService *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

static gboolean
mpnl_error_has_name(const GError *error, const char *name)
{
	g_autofree char *remote = NULL;

	if (!g_dbus_error_is_remote_error(error))
		return FALSE;
	remote = g_dbus_error_get_remote_error(error);
	return g_strcmp0(remote, name) == 0;
}

/* the user cancelled or failed authentication, or is not allowed */
gboolean
mpnl_error_is_permission_denied(const GError *error)
{
	return mpnl_error_has_name(error, MPNL_ERROR_PREFIX "PermissionDenied") ||
	       mpnl_error_has_name(error, "org.freedesktop.DBus.Error.AccessDenied");
}

/* nothing owns the name and nothing can start it */
gboolean
mpnl_error_is_absent(const GError *error)
{
	return mpnl_error_has_name(error, "org.freedesktop.DBus.Error.ServiceUnknown") ||
	       mpnl_error_has_name(error, "org.freedesktop.DBus.Error.NameHasNoOwner") ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

/* the message without the D-Bus error name, for a person */
char *
mpnl_error_message(const GError *error)
{
	g_autoptr(GError) copy = g_error_copy(error);

	g_dbus_error_strip_remote_error(copy);
	return g_strdup(copy->message);
}
