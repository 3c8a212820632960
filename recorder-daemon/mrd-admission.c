/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdAdmission"

#include "config.h"

#include <glib/gi18n.h>

#include "metrics-error.h"
#include "mrd-admission.h"

/*
 * Admission: every method call first passes the client's call rate (a
 * client over it is answered LimitExceeded at once, counted and logged
 * once per period; the others are not slowed by it); a call that needs
 * authorisation then asks polkit, with at most MRD_MAX_PENDING_CHECKS
 * checks of one client in flight.
 */

#define REJECT_LOG_PERIOD (10 * G_TIME_SPAN_SECOND)

struct _MrdAdmission {
	GObject parent_instance;

	MrdCallerRegistry *callers; /* (owned) */
	MrdAuthority *authority;    /* (owned) */
	MrdDrops *drops;	    /* (owned) */
	guint call_rate_limit;	    /* for the messages only: the registry counts */
	gint64 last_reject_log;
	guint n_rejects_unlogged;
	gint64 last_limit_log;
	guint n_limits_unlogged;
};

G_DEFINE_TYPE(MrdAdmission, mrd_admission, G_TYPE_OBJECT)

MrdAdmission *
mrd_admission_new(MrdCallerRegistry *callers, MrdAuthority *authority, MrdDrops *drops)
{
	MrdAdmission *self = g_object_new(MRD_TYPE_ADMISSION, NULL);

	self->callers = g_object_ref(callers);
	self->authority = g_object_ref(authority);
	self->drops = g_object_ref(drops);
	return self;
}

/* calls per second one client may make, of any method; 0 for no limit */
void
mrd_admission_set_call_rate_limit(MrdAdmission *self, guint calls_per_second)
{
	g_return_if_fail(MRD_IS_ADMISSION(self));

	self->call_rate_limit = calls_per_second;
	mrd_caller_registry_set_call_limit(self->callers, calls_per_second, MRD_MAX_PENDING_CHECKS);
}

/* a misbehaving client must not flood the journal: one line per period */
static void
log_rejected(MrdAdmission *self, const char *method, const GError *error)
{
	gint64 now = g_get_monotonic_time();

	if (self->last_reject_log != 0 && now - self->last_reject_log < REJECT_LOG_PERIOD) {
		self->n_rejects_unlogged++;
		g_debug("rejected a %s call: %s", method, error->message);
		return;
	}
	if (self->n_rejects_unlogged > 0)
		g_message("rejected a malformed %s call: %s (and %u more since the last report)",
			  method, error->message, self->n_rejects_unlogged);
	else
		g_message("rejected a malformed %s call: %s", method, error->message);
	self->last_reject_log = now;
	self->n_rejects_unlogged = 0;
}

/* every method call, before its handler: a client over its call rate is
 * answered LimitExceeded at once, counted and logged once per period; the
 * others are not slowed by it */
gboolean
mrd_admission_admit(MrdAdmission *self, GDBusMethodInvocation *invocation)
{
	const char *sender = g_dbus_method_invocation_get_sender(invocation);
	gint64 now = g_get_monotonic_time();

	g_return_val_if_fail(MRD_IS_ADMISSION(self), FALSE);

	if (sender == NULL || mrd_caller_registry_take_call(self->callers, sender, now))
		return TRUE;
	mrd_drops_count(self->drops, MRD_DROP_RATE_LIMITED_CALLS, 1);
	if (self->last_limit_log != 0 && now - self->last_limit_log < REJECT_LOG_PERIOD) {
		self->n_limits_unlogged++;
	} else {
		if (self->n_limits_unlogged > 0)
			g_message("refusing calls from %s: over %u calls per second (and %u "
				  "more since the last report)",
				  sender, self->call_rate_limit, self->n_limits_unlogged);
		else
			g_message("refusing calls from %s: over %u calls per second", sender,
				  self->call_rate_limit);
		self->last_limit_log = now;
		self->n_limits_unlogged = 0;
	}
	g_dbus_method_invocation_return_error(
		invocation, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
		_("Too many calls: at most %u per second"), self->call_rate_limit);
	return FALSE;
}

/* the generated skeletons emit one handle-<method> signal per call and
 * stop at the first handler returning TRUE: connected before the class
 * handlers run, this admits every method, present and future, in one place */
static void
admit_call_marshal(GClosure *closure,
		   GValue *return_value,
		   guint n_param_values,
		   const GValue *param_values,
		   gpointer invocation_hint,
		   gpointer marshal_data)
{
	MrdAdmission *self = MRD_ADMISSION(closure->data);
	GDBusMethodInvocation *invocation = g_value_get_object(&param_values[1]);

	g_value_set_boolean(return_value, !mrd_admission_admit(self, invocation));
}

/**
 * mrd_admission_guard_calls:
 * @skeleton: an exported object implementing @iface_type, a gdbus-codegen
 *   interface
 * @iface_type: the interface whose handle-* signals are guarded
 *
 * Makes every method call on @skeleton pass mrd_admission_admit() first.
 */
void
mrd_admission_guard_calls(MrdAdmission *self, gpointer skeleton, GType iface_type)
{
	g_autofree guint *ids = NULL;
	guint n_ids = 0;

	g_return_if_fail(MRD_IS_ADMISSION(self));
	g_return_if_fail(G_TYPE_CHECK_INSTANCE_TYPE(skeleton, iface_type));

	ids = g_signal_list_ids(iface_type, &n_ids);
	for (guint i = 0; i < n_ids; i++) {
		GSignalQuery query;
		GClosure *closure;

		g_signal_query(ids[i], &query);
		if (!g_str_has_prefix(query.signal_name, "handle-") || query.n_params < 1 ||
		    query.param_types[0] != G_TYPE_DBUS_METHOD_INVOCATION)
			continue;
		closure = g_closure_new_object(sizeof(GClosure), G_OBJECT(self));
		g_closure_set_marshal(closure, admit_call_marshal);
		g_signal_connect_closure_by_id(skeleton, ids[i], 0, closure, FALSE);
	}
}

/* answers @invocation with @error, and logs it: a malformed or refused
 * call once per period, a failure always (not a denied authorisation) */
void
mrd_admission_return_error(MrdAdmission *self,
			   GDBusMethodInvocation *invocation,
			   const GError *error)
{
	if (g_error_matches(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA) ||
	    g_error_matches(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED))
		log_rejected(self, g_dbus_method_invocation_get_method_name(invocation), error);
	else if (error->domain != METRICS_ERROR || error->code != METRICS_ERROR_PERMISSION_DENIED)
		g_warning("%s failed: %s", g_dbus_method_invocation_get_method_name(invocation),
			  error->message);
	g_dbus_method_invocation_return_gerror(invocation, error);
}

/* checks an a{sv} of options: only the keys of @allowed (NULL-terminated
 * pairs of name and type string) with their types */
gboolean
mrd_admission_check_options(GVariant *options, const char *const *allowed, GError **error)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_iter_init(&iter, options);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
		gboolean known = FALSE;

		for (guint i = 0; allowed != NULL && allowed[i] != NULL; i += 2) {
			if (g_strcmp0(allowed[i], key) != 0)
				continue;
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE(allowed[i + 1]))) {
				g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
					    /* TRANSLATORS: an option's name, then two
					     * GVariant type strings */
					    _("Option “%s” must be of type %s, not %s; pass it "
					      "as %s"),
					    key, allowed[i + 1], g_variant_get_type_string(value),
					    allowed[i + 1]);
				g_variant_unref(value);
				return FALSE;
			}
			known = TRUE;
		}
		if (!known) {
			g_autoptr(GString) names = g_string_new(NULL);

			for (guint i = 0; allowed != NULL && allowed[i] != NULL; i += 2)
				g_string_append_printf(names, "%s“%s”", i > 0 ? ", " : "",
						       allowed[i]);
			if (names->len > 0)
				g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
					    /* TRANSLATORS: an option's name, then the
					     * list of the method's options */
					    _("Unknown option “%s”; this method takes %s"), key,
					    names->str);
			else
				g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
					    /* TRANSLATORS: an option's name */
					    _("Unknown option “%s”; this method takes no "
					      "options: pass an empty dictionary"),
					    key);
			g_variant_unref(value);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
invocation_allows_interaction(GDBusMethodInvocation *invocation)
{
	GDBusMessage *message = g_dbus_method_invocation_get_message(invocation);
	return (g_dbus_message_get_flags(message) &
		G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
}

static void
authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	MrdAdmission *self = g_task_get_source_object(task);
	GDBusMethodInvocation *invocation = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	mrd_caller_registry_end_check(self->callers,
				      g_dbus_method_invocation_get_sender(invocation));
	if (!mrd_authority_check_finish(MRD_AUTHORITY(source), result, &error))
		g_task_return_error(task, g_steal_pointer(&error));
	else
		g_task_return_boolean(task, TRUE);
}

/**
 * mrd_admission_authorize_async:
 * @invocation: the call
 * @action_id: the polkit action it needs
 *
 * Asks polkit whether the caller of @invocation may do @action_id; a
 * client with MRD_MAX_PENDING_CHECKS checks in flight is refused with
 * LimitExceeded at once.
 */
void
mrd_admission_authorize_async(MrdAdmission *self,
			      GDBusMethodInvocation *invocation,
			      const char *action_id,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	const char *sender = g_dbus_method_invocation_get_sender(invocation);

	g_return_if_fail(MRD_IS_ADMISSION(self));

	g_task_set_source_tag(task, mrd_admission_authorize_async);
	g_task_set_task_data(task, g_object_ref(invocation), g_object_unref);
	if (!mrd_caller_registry_begin_check(self->callers, sender)) {
		mrd_drops_count(self->drops, MRD_DROP_RATE_LIMITED_CALLS, 1);
		g_debug("refusing a %s call of %s: %u authorisation checks in flight",
			g_dbus_method_invocation_get_method_name(invocation), sender,
			(guint)MRD_MAX_PENDING_CHECKS);
		g_task_return_new_error(task, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
					_("Too many authorisation requests in flight: at most %u"),
					(guint)MRD_MAX_PENDING_CHECKS);
		return;
	}
	mrd_authority_check_async(self->authority, sender, action_id,
				  invocation_allows_interaction(invocation) ?
					  MRD_AUTHORITY_FLAGS_ALLOW_INTERACTION :
					  MRD_AUTHORITY_FLAGS_NONE,
				  cancellable, authorized_cb, g_steal_pointer(&task));
}

gboolean
mrd_admission_authorize_finish(MrdAdmission *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

static void
mrd_admission_dispose(GObject *object)
{
	MrdAdmission *self = MRD_ADMISSION(object);

	g_clear_object(&self->callers);
	g_clear_object(&self->authority);
	g_clear_object(&self->drops);
	G_OBJECT_CLASS(mrd_admission_parent_class)->dispose(object);
}

static void
mrd_admission_class_init(MrdAdmissionClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_admission_dispose;
}

static void
mrd_admission_init(MrdAdmission *self)
{
}
