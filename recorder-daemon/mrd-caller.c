/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdCaller"

#include "config.h"

#include <glib/gi18n.h>

#include "metrics-error.h"
#include "mrd-caller.h"

/*
 * Who is calling, and how much: the Unix uid of a bus peer, asked of the bus
 * itself and never taken from arguments; a token bucket that limits how
 * many events per second one client may record, another for its calls of
 * any method, and a cap on its polkit checks in flight. State is kept per
 * unique name and forgotten when that name leaves the bus, so per-client
 * state dies with the client and the table stays as small as the set of
 * connected clients.
 */

typedef struct {
	gboolean has_uid;
	guint32 uid;
	double tokens;	      /* events this client may still send now */
	gint64 refilled;      /* monotonic usec of the last refill */
	double call_tokens;   /* calls this client may still make now */
	gint64 call_refilled; /* monotonic usec of the last refill */
	guint n_pending_checks;
} MrdClient;

struct _MrdCallerRegistry {
	GObject parent_instance;
	GDBusConnection *connection; /* (owned) */
	GHashTable *clients;	     /* (owned) unique name → MrdClient */
	guint name_owner_changed_id;
	guint events_per_second;   /* 0: unlimited */
	guint calls_per_second;	   /* 0: unlimited */
	guint max_pending_checks;  /* 0: unlimited */
	MrdCallerUidFunc uid_func; /* (nullable) replaces asking the bus */
	gpointer uid_func_data;
};

static MrdClient *
mrd_caller_registry_lookup(MrdCallerRegistry *self, const char *sender)
{
	MrdClient *client = g_hash_table_lookup(self->clients, sender);

	if (client == NULL) {
		client = g_new0(MrdClient, 1);
		/* full, and refilled from the first time it is used */
		client->tokens = 2.0 * self->events_per_second;
		client->call_tokens = 2.0 * self->calls_per_second;
		g_hash_table_insert(self->clients, g_strdup(sender), client);
	}
	return client;
}

/* a bucket of twice the rate, refilled at the rate: bursts of up to two
 * seconds' worth are fine, a flood is cut to the rate */
static void
bucket_refill(double *tokens, gint64 *refilled, guint rate, gint64 now)
{
	if (*refilled == 0)
		*refilled = now;
	if (now <= *refilled)
		return;
	*tokens = MIN(2.0 * rate, *tokens + (double)(now - *refilled) * rate / G_USEC_PER_SEC);
	*refilled = now;
}

guint
mrd_caller_registry_take_events(MrdCallerRegistry *self, const char *sender, guint n, gint64 now)
{
	MrdClient *client;
	guint allowed;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), 0);
	g_return_val_if_fail(sender != NULL, 0);

	if (self->events_per_second == 0)
		return n;
	client = mrd_caller_registry_lookup(self, sender);
	bucket_refill(&client->tokens, &client->refilled, self->events_per_second, now);
	allowed = (guint)MIN((double)n, client->tokens);
	client->tokens -= allowed;
	return allowed;
}

/* one call of any method: FALSE if @sender is over its call rate */
gboolean
mrd_caller_registry_take_call(MrdCallerRegistry *self, const char *sender, gint64 now)
{
	MrdClient *client;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), FALSE);
	g_return_val_if_fail(sender != NULL, FALSE);

	client = mrd_caller_registry_lookup(self, sender);
	if (self->calls_per_second == 0)
		return TRUE;
	bucket_refill(&client->call_tokens, &client->call_refilled, self->calls_per_second, now);
	if (client->call_tokens < 1.0)
		return FALSE;
	client->call_tokens -= 1.0;
	return TRUE;
}

/* a polkit check for @sender starts: FALSE if it already has as many in
 * flight as allowed (each one costs polkit work and daemon memory) */
gboolean
mrd_caller_registry_begin_check(MrdCallerRegistry *self, const char *sender)
{
	MrdClient *client;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), FALSE);
	g_return_val_if_fail(sender != NULL, FALSE);

	client = mrd_caller_registry_lookup(self, sender);
	if (self->max_pending_checks != 0 && client->n_pending_checks >= self->max_pending_checks)
		return FALSE;
	client->n_pending_checks++;
	return TRUE;
}

void
mrd_caller_registry_end_check(MrdCallerRegistry *self, const char *sender)
{
	MrdClient *client;

	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	g_return_if_fail(sender != NULL);

	/* the client may have left meanwhile: then it is forgotten already,
	 * and must not be brought back */
	client = g_hash_table_lookup(self->clients, sender);
	if (client != NULL && client->n_pending_checks > 0)
		client->n_pending_checks--;
}

/* calls per second one client may make (0: no limit) and polkit checks it
 * may have in flight (0: no limit) */
void
mrd_caller_registry_set_call_limit(MrdCallerRegistry *self,
				   guint calls_per_second,
				   guint max_pending_checks)
{
	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	self->calls_per_second = calls_per_second;
	self->max_pending_checks = max_pending_checks;
}

/* replaces asking the bus for a caller's uid; for tests */
void
mrd_caller_registry_set_uid_func(MrdCallerRegistry *self, MrdCallerUidFunc func, gpointer user_data)
{
	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	self->uid_func = func;
	self->uid_func_data = user_data;
}

void
mrd_caller_registry_set_rate_limit(MrdCallerRegistry *self, guint events_per_second)
{
	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	self->events_per_second = events_per_second;
}

G_DEFINE_TYPE(MrdCallerRegistry, mrd_caller_registry, G_TYPE_OBJECT)

static void
name_owner_changed_cb(GDBusConnection *connection,
		      const char *sender_name,
		      const char *object_path,
		      const char *interface_name,
		      const char *signal_name,
		      GVariant *parameters,
		      gpointer user_data)
{
	MrdCallerRegistry *self = MRD_CALLER_REGISTRY(user_data);
	const char *name = NULL;
	const char *new_owner = NULL;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)")))
		return;
	g_variant_get(parameters, "(&s&s&s)", &name, NULL, &new_owner);
	if (name[0] == ':' && new_owner[0] == '\0')
		g_hash_table_remove(self->clients, name);
}

MrdCallerRegistry *
mrd_caller_registry_new(GDBusConnection *connection)
{
	MrdCallerRegistry *self = g_object_new(MRD_TYPE_CALLER_REGISTRY, NULL);

	self->connection = g_object_ref(connection);
	self->name_owner_changed_id = g_dbus_connection_signal_subscribe(
		connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
		"/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, name_owner_changed_cb,
		self, NULL);
	return self;
}

static void
get_uid_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	MrdCallerRegistry *self = g_task_get_source_object(task);
	const char *sender = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	MrdClient *client;
	guint32 uid = 0;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	if (reply == NULL) {
		g_task_return_new_error(task, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED,
					_("Cannot identify the caller: %s"), error->message);
		return;
	}
	g_variant_get(reply, "(u)", &uid);
	client = mrd_caller_registry_lookup(self, sender);
	client->has_uid = TRUE;
	client->uid = uid;
	g_task_return_int(task, uid);
}

void
mrd_caller_registry_get_uid_async(MrdCallerRegistry *self,
				  const char *sender,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	MrdClient *client;

	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	g_return_if_fail(sender != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, mrd_caller_registry_get_uid_async);
	client = g_hash_table_lookup(self->clients, sender);
	if (client != NULL && client->has_uid) {
		g_task_return_int(task, client->uid);
		return;
	}
	if (self->uid_func != NULL) {
		guint32 uid = 0;

		if (!self->uid_func(sender, &uid, self->uid_func_data)) {
			g_task_return_new_error(task, METRICS_ERROR,
						METRICS_ERROR_PERMISSION_DENIED,
						_("Cannot identify the caller %s"), sender);
			return;
		}
		client = mrd_caller_registry_lookup(self, sender);
		client->has_uid = TRUE;
		client->uid = uid;
		g_task_return_int(task, uid);
		return;
	}
	g_task_set_task_data(task, g_strdup(sender), g_free);
	g_dbus_connection_call(self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetConnectionUnixUser",
			       g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE, -1, cancellable, get_uid_cb,
			       g_steal_pointer(&task));
}

gboolean
mrd_caller_registry_get_uid_finish(MrdCallerRegistry *self,
				   GAsyncResult *result,
				   guint32 *uid,
				   GError **error)
{
	gssize value;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	value = g_task_propagate_int(G_TASK(result), error);
	if (value < 0)
		return FALSE;
	*uid = (guint32)value;
	return TRUE;
}

guint
mrd_caller_registry_get_n_cached(MrdCallerRegistry *self)
{
	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), 0);
	return g_hash_table_size(self->clients);
}

static void
mrd_caller_registry_dispose(GObject *object)
{
	MrdCallerRegistry *self = MRD_CALLER_REGISTRY(object);

	if (self->name_owner_changed_id != 0) {
		g_dbus_connection_signal_unsubscribe(self->connection, self->name_owner_changed_id);
		self->name_owner_changed_id = 0;
	}
	g_clear_object(&self->connection);
	g_clear_pointer(&self->clients, g_hash_table_unref);

	G_OBJECT_CLASS(mrd_caller_registry_parent_class)->dispose(object);
}

static void
mrd_caller_registry_class_init(MrdCallerRegistryClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_caller_registry_dispose;
}

static void
mrd_caller_registry_init(MrdCallerRegistry *self)
{
	self->clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}
