/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdService"

#include "config.h"

#include <glib/gi18n.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-engine.h"
#include "mrd-event.h"
#include "mrd-outbox.h"
#include "mrd-service.h"
#include "mrd-upload-body.h"

/*
 * The org.fedoraproject.Metrics1.Recorder object: the D-Bus surface of the
 * daemon and nothing else. Each handler decodes its arguments, admits the
 * call (the client's call rate, polkit where the method needs it), hands
 * over to the engine (MrdEngine) and encodes the reply. A recorded batch:
 *
 *   receive → parse (mrd-event) → engine: gate → caller's uid (from the
 *   bus) → engine: aggregate and store, in one transaction → reply
 */

#define INTERFACE_VERSION 1
#define REJECT_LOG_PERIOD (10 * G_TIME_SPAN_SECOND)

struct _MrdService {
	MrdDBusRecorderSkeleton parent_instance;

	GDBusConnection *connection; /* (owned) */
	MrdAuthority *authority;     /* (owned) */
	MrdClock *clock;	     /* (owned) */
	MrdCallerRegistry *callers;  /* (owned) */
	MrdEngine *engine;	     /* (owned) */
	GCancellable *cancellable;   /* (owned) */

	guint rate_limit;      /* events per second per client, 0: none */
	guint call_rate_limit; /* calls per second per client, 0: none */
	gint64 last_reject_log;
	guint n_rejects_unlogged;
	gint64 last_limit_log;
	guint n_limits_unlogged;
};

static void
mrd_service_iface_init(MrdDBusRecorderIface *iface);

G_DEFINE_TYPE_WITH_CODE(MrdService,
			mrd_service,
			MRD_DBUS_TYPE_RECORDER_SKELETON,
			G_IMPLEMENT_INTERFACE(MRD_DBUS_TYPE_RECORDER, mrd_service_iface_init))

static void
count_drop(MrdService *self, MrdDropReason reason, guint64 n)
{
	mrd_drops_count(mrd_engine_get_drops(self->engine), reason, n);
}

/* a misbehaving client must not flood the journal: one line per period */
static void
mrd_service_log_rejected(MrdService *self, const char *method, const GError *error)
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
static gboolean
mrd_service_admit_call(MrdService *self, GDBusMethodInvocation *invocation)
{
	const char *sender = g_dbus_method_invocation_get_sender(invocation);
	gint64 now = g_get_monotonic_time();

	if (self->callers == NULL || sender == NULL ||
	    mrd_caller_registry_take_call(self->callers, sender, now))
		return TRUE;
	count_drop(self, MRD_DROP_RATE_LIMITED_CALLS, 1);
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

/* the generated skeleton emits one handle-<method> signal per call and
 * stops at the first handler returning TRUE: connected before the class
 * handlers run, this admits every method, present and future, in one place */
static void
admit_call_marshal(GClosure *closure,
		   GValue *return_value,
		   guint n_param_values,
		   const GValue *param_values,
		   gpointer invocation_hint,
		   gpointer marshal_data)
{
	MrdService *self = MRD_SERVICE(g_value_get_object(&param_values[0]));
	GDBusMethodInvocation *invocation = g_value_get_object(&param_values[1]);

	g_value_set_boolean(return_value, !mrd_service_admit_call(self, invocation));
}

static void
mrd_service_limit_calls(MrdService *self)
{
	g_autofree guint *ids = NULL;
	guint n_ids = 0;

	ids = g_signal_list_ids(MRD_DBUS_TYPE_RECORDER, &n_ids);
	for (guint i = 0; i < n_ids; i++) {
		GSignalQuery query;
		GClosure *closure;

		g_signal_query(ids[i], &query);
		if (!g_str_has_prefix(query.signal_name, "handle-") || query.n_params < 1 ||
		    query.param_types[0] != G_TYPE_DBUS_METHOD_INVOCATION)
			continue;
		closure = g_closure_new_simple(sizeof(GClosure), NULL);
		g_closure_set_marshal(closure, admit_call_marshal);
		g_signal_connect_closure_by_id(self, ids[i], 0, closure, FALSE);
	}
}

static void
return_error(MrdService *self, GDBusMethodInvocation *invocation, const GError *error)
{
	if (g_error_matches(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA) ||
	    g_error_matches(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED))
		mrd_service_log_rejected(self, g_dbus_method_invocation_get_method_name(invocation),
					 error);
	else if (error->domain != METRICS_ERROR || error->code != METRICS_ERROR_PERMISSION_DENIED)
		g_warning("%s failed: %s", g_dbus_method_invocation_get_method_name(invocation),
			  error->message);
	g_dbus_method_invocation_return_gerror(invocation, error);
}

/* checks an a{sv} of options: only the keys of @allowed (NULL-terminated
 * pairs of name and type string) with their types */
static gboolean
check_options(GVariant *options, const char *const *allowed, GError **error)
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
					    _("Option “%s” must be of type %s, not %s"), key,
					    allowed[i + 1], g_variant_get_type_string(value));
				g_variant_unref(value);
				return FALSE;
			}
			known = TRUE;
		}
		if (!known) {
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("Unknown option “%s”"), key);
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
mrd_service_publish_consent(MrdService *self)
{
	MrdDBusRecorder *iface = MRD_DBUS_RECORDER(self);

	mrd_dbus_recorder_set_consent(
		iface, metrics_consent_to_string(mrd_engine_get_consent(self->engine)));
	mrd_dbus_recorder_set_consent_timestamp(iface,
						mrd_engine_get_consent_timestamp(self->engine));
}

/* ---- GetAllowlist ---- */

static GVariant *
metric_to_variant(MrdService *self, const MrdMetric *metric)
{
	GVariantBuilder builder;
	gint64 now = mrd_clock_get_real_time(self->clock);
	gboolean sampled = FALSE;
	gboolean decided = mrd_engine_get_sampling(self->engine, metric, &sampled);

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&builder, "{sv}", "id", g_variant_new_string(metric->id_str));
	g_variant_builder_add(&builder, "{sv}", "name", g_variant_new_string(metric->name));
	g_variant_builder_add(&builder, "{sv}", "description",
			      g_variant_new_string(metric->description));
	g_variant_builder_add(&builder, "{sv}", "purpose", g_variant_new_string(metric->purpose));
	g_variant_builder_add(&builder, "{sv}", "owner", g_variant_new_string(metric->owner));
	g_variant_builder_add(
		&builder, "{sv}", "category",
		g_variant_new_string(mrd_metric_category_to_string(metric->category)));
	g_variant_builder_add(&builder, "{sv}", "kind",
			      g_variant_new_string(metrics_event_kind_to_string(metric->kind)));
	g_variant_builder_add(
		&builder, "{sv}", "payload",
		g_variant_new_take_string(metric->payload != NULL ?
						  g_variant_type_dup_string(metric->payload) :
						  g_strdup("")));
	if (metric->values_from != NULL)
		g_variant_builder_add(&builder, "{sv}", "values-from",
				      g_variant_new_string(metric->values_from));
	if (metric->values != NULL)
		g_variant_builder_add(&builder, "{sv}", "n-values",
				      g_variant_new_uint64(g_hash_table_size(metric->values)));
	if (metric->values != NULL || metric->any_value)
		g_variant_builder_add(&builder, "{sv}", "other",
				      g_variant_new_string(metric->map_other ? "map" : "drop"));
	g_variant_builder_add(&builder, "{sv}", "added", g_variant_new_string(metric->added));
	g_variant_builder_add(&builder, "{sv}", "expires", g_variant_new_string(metric->expires));
	g_variant_builder_add(&builder, "{sv}", "expired",
			      g_variant_new_boolean(now >= metric->expires_end));
	g_variant_builder_add(&builder, "{sv}", "sample-rate",
			      g_variant_new_double(metric->sample_rate));
	if (decided)
		g_variant_builder_add(&builder, "{sv}", "sampled",
				      g_variant_new_boolean(sampled));
	g_variant_builder_add(&builder, "{sv}", "weekly-cap",
			      g_variant_new_uint64(metric->weekly_cap));
	g_variant_builder_add(&builder, "{sv}", "file", g_variant_new_string(metric->file));
	return g_variant_builder_end(&builder);
}

static gboolean
mrd_service_handle_get_allowlist(MrdDBusRecorder *object,
				 GDBusMethodInvocation *invocation,
				 GVariant *options)
{
	MrdService *self = MRD_SERVICE(object);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) metrics = NULL;
	GVariantBuilder builder;

	if (!check_options(options, NULL, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	metrics = mrd_allowlist_get_metrics(mrd_engine_get_allowlist(self->engine));
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < metrics->len; i++)
		g_variant_builder_add_value(&builder,
					    metric_to_variant(self, g_ptr_array_index(metrics, i)));
	mrd_dbus_recorder_complete_get_allowlist(object, invocation,
						 g_variant_builder_end(&builder));
	return TRUE;
}

/* ---- RecordEvents ---- */

typedef struct {
	MrdService *self; /* (owned) */
	GDBusMethodInvocation *invocation;
	GArray *batch;	 /* (owned) (element-type MrdEvent) */
	guint n_dropped; /* already dropped from the batch */
} RecordData;

static void
record_data_free(RecordData *data)
{
	g_clear_object(&data->self);
	g_clear_pointer(&data->batch, g_array_unref);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RecordData, record_data_free)

static void
record_uid_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(RecordData) data = user_data;
	MrdService *self = data->self;
	g_autoptr(GError) error = NULL;
	guint32 uid = 0;
	guint n = data->batch->len;
	guint n_kept = 0;

	if (!mrd_caller_registry_get_uid_finish(self->callers, result, &uid, &error)) {
		count_drop(self, MRD_DROP_UNIDENTIFIED, n);
		return_error(self, data->invocation, error);
		return;
	}
	if (!mrd_engine_record(self->engine, uid, data->batch, &n_kept, &error)) {
		return_error(self, data->invocation, error);
		return;
	}
	mrd_dbus_recorder_complete_record_events(MRD_DBUS_RECORDER(self), data->invocation,
						 n_kept, n - n_kept + data->n_dropped);
}

static gboolean
mrd_service_handle_record_events(MrdDBusRecorder *object,
				 GDBusMethodInvocation *invocation,
				 GVariant *events,
				 GVariant *options)
{
	MrdService *self = MRD_SERVICE(object);
	const char *sender = g_dbus_method_invocation_get_sender(invocation);
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) batch = NULL;
	RecordData *data;
	guint n_dropped;

	if (check_options(options, NULL, &error))
		batch = mrd_event_batch_parse(events, &error);
	if (batch == NULL) {
		/* calls, not events: how many events an unreadable batch held
		 * is not known */
		count_drop(self, MRD_DROP_MALFORMED_CALLS, 1);
		return_error(self, invocation, error);
		return TRUE;
	}
	/* only approved metrics go further, and only with consent; a
	 * flooding client is cut to its rate there, others keep their own */
	n_dropped = mrd_engine_gate(self->engine, batch, sender);
	if (batch->len == 0) {
		mrd_dbus_recorder_complete_record_events(object, invocation, 0, n_dropped);
		return TRUE;
	}

	data = g_new0(RecordData, 1);
	data->self = g_object_ref(self);
	data->invocation = invocation;
	data->batch = g_steal_pointer(&batch);
	data->n_dropped = n_dropped;
	mrd_caller_registry_get_uid_async(self->callers, sender, self->cancellable, record_uid_cb,
					  data);
	return TRUE;
}

/* ---- SetConsent ---- */

typedef struct {
	MrdService *self; /* (owned) */
	GDBusMethodInvocation *invocation;
	MetricsConsent consent;
	gboolean all_users;
	guint32 uid;
	void (*run)(MrdService *self, GDBusMethodInvocation *invocation, gpointer data);
} CallData;

static void
call_data_free(CallData *data)
{
	g_clear_object(&data->self);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CallData, call_data_free)

static CallData *
call_data_new(MrdService *self, GDBusMethodInvocation *invocation)
{
	CallData *data = g_new0(CallData, 1);
	data->self = g_object_ref(self);
	data->invocation = invocation;
	return data;
}

/* asks polkit whether the caller of @data may do @action_id; a client may
 * have at most MRD_MAX_PENDING_CHECKS checks in flight, beyond which the
 * call is refused with LimitExceeded (and @data freed). @callback must end
 * the check with mrd_service_end_check() */
static void
mrd_service_authorize(MrdService *self,
		      CallData *data,
		      const char *action_id,
		      GAsyncReadyCallback callback)
{
	GDBusMethodInvocation *invocation = data->invocation;
	const char *sender = g_dbus_method_invocation_get_sender(invocation);

	if (!mrd_caller_registry_begin_check(self->callers, sender)) {
		count_drop(self, MRD_DROP_RATE_LIMITED_CALLS, 1);
		g_debug("refusing a %s call of %s: %u authorisation checks in flight",
			g_dbus_method_invocation_get_method_name(invocation), sender,
			(guint)MRD_MAX_PENDING_CHECKS);
		g_dbus_method_invocation_return_error(
			invocation, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
			_("Too many authorisation requests in flight: at most %u"),
			(guint)MRD_MAX_PENDING_CHECKS);
		call_data_free(data);
		return;
	}
	mrd_authority_check_async(self->authority, sender, action_id,
				  invocation_allows_interaction(invocation) ?
					  MRD_AUTHORITY_FLAGS_ALLOW_INTERACTION :
					  MRD_AUTHORITY_FLAGS_NONE,
				  self->cancellable, callback, data);
}

static void
mrd_service_end_check(CallData *data)
{
	mrd_caller_registry_end_check(data->self->callers,
				      g_dbus_method_invocation_get_sender(data->invocation));
}

static void
set_consent_authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;

	mrd_service_end_check(data);
	if (!mrd_authority_check_finish(MRD_AUTHORITY(source), result, &error) ||
	    !mrd_engine_set_consent(data->self->engine, data->consent, &error)) {
		return_error(data->self, data->invocation, error);
		return;
	}
	mrd_service_publish_consent(data->self);
	mrd_dbus_recorder_complete_set_consent(MRD_DBUS_RECORDER(data->self), data->invocation);
}

static gboolean
mrd_service_handle_set_consent(MrdDBusRecorder *object,
			       GDBusMethodInvocation *invocation,
			       const char *consent_str,
			       GVariant *options)
{
	MrdService *self = MRD_SERVICE(object);
	g_autoptr(GError) error = NULL;
	MetricsConsent consent = METRICS_CONSENT_UNKNOWN;
	CallData *data;

	if (!check_options(options, NULL, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	if (!metrics_consent_from_string(consent_str, &consent) ||
	    consent == METRICS_CONSENT_UNKNOWN) {
		g_set_error(&error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Invalid consent “%s”: use “granted” or “denied”"), consent_str);
		return_error(self, invocation, error);
		return TRUE;
	}
	data = call_data_new(self, invocation);
	data->consent = consent;
	mrd_service_authorize(self, data, MRD_ACTION_SET_CONSENT, set_consent_authorized_cb);
	return TRUE;
}

/* ---- calls on the caller's own data, or everybody's with authorisation ---- */

static void
run_call_data(CallData *data)
{
	data->run(data->self, data->invocation, data);
}

static void
own_data_uid_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!mrd_caller_registry_get_uid_finish(MRD_CALLER_REGISTRY(source), result, &data->uid,
						&error)) {
		return_error(data->self, data->invocation, error);
		return;
	}
	run_call_data(data);
}

static void
all_data_authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;

	mrd_service_end_check(data);
	if (!mrd_authority_check_finish(MRD_AUTHORITY(source), result, &error)) {
		return_error(data->self, data->invocation, error);
		return;
	}
	run_call_data(data);
}

static const char *const user_scope_options[] = {"all", "b", NULL};

/* parses {all: b}; runs @run for the caller's uid, or, with all, once
 * polkit authorised @action_id */
static void
mrd_service_dispatch_user_scope(MrdService *self,
				GDBusMethodInvocation *invocation,
				GVariant *options,
				const char *action_id,
				void (*run)(MrdService *, GDBusMethodInvocation *, gpointer))
{
	g_autoptr(GError) error = NULL;
	CallData *data;

	if (!check_options(options, user_scope_options, &error)) {
		return_error(self, invocation, error);
		return;
	}
	data = call_data_new(self, invocation);
	data->run = run;
	if (!g_variant_lookup(options, "all", "b", &data->all_users))
		data->all_users = FALSE;
	if (data->all_users) {
		mrd_service_authorize(self, data, action_id, all_data_authorized_cb);
		return;
	}
	mrd_caller_registry_get_uid_async(self->callers,
					  g_dbus_method_invocation_get_sender(invocation),
					  self->cancellable, own_data_uid_cb, data);
}

static void
run_get_local_data(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	CallData *data = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = mrd_engine_dump(self->engine, data->all_users, data->uid, &error);

	if (rows == NULL) {
		return_error(self, invocation, error);
		return;
	}
	mrd_dbus_recorder_complete_get_local_data(MRD_DBUS_RECORDER(self), invocation, rows);
}

static gboolean
mrd_service_handle_get_local_data(MrdDBusRecorder *object,
				  GDBusMethodInvocation *invocation,
				  GVariant *options)
{
	mrd_service_dispatch_user_scope(MRD_SERVICE(object), invocation, options,
					MRD_ACTION_READ_ALL, run_get_local_data);
	return TRUE;
}

static void
run_clear(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	CallData *data = user_data;
	g_autoptr(GError) error = NULL;
	guint64 removed = 0;

	if (!mrd_engine_clear(self->engine, data->all_users, data->uid, &removed, &error)) {
		return_error(self, invocation, error);
		return;
	}
	g_message("cleared %" G_GUINT64_FORMAT " stored aggregates%s", removed,
		  data->all_users ? " of all users" : "");
	mrd_dbus_recorder_complete_clear(MRD_DBUS_RECORDER(self), invocation, removed);
}

static gboolean
mrd_service_handle_clear(MrdDBusRecorder *object,
			 GDBusMethodInvocation *invocation,
			 GVariant *options)
{
	mrd_service_dispatch_user_scope(MRD_SERVICE(object), invocation, options,
					MRD_ACTION_CLEAR_ALL, run_clear);
	return TRUE;
}

/* ---- GetStatus ---- */

static void
add_status(GVariantBuilder *builder, const char *key, GVariant *value)
{
	g_variant_builder_add(builder, "{sv}", key, value);
}

static gboolean
mrd_service_handle_get_status(MrdDBusRecorder *object,
			      GDBusMethodInvocation *invocation,
			      GVariant *options)
{
	MrdService *self = MRD_SERVICE(object);
	MrdDrops *drops = mrd_engine_get_drops(self->engine);
	g_autoptr(GError) error = NULL;
	MrdEngineStatus st;
	GVariantBuilder b;

	if (!check_options(options, NULL, &error) ||
	    !mrd_engine_get_status(self->engine, &st, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	add_status(&b, "consent", g_variant_new_string(metrics_consent_to_string(st.consent)));
	add_status(&b, "consent-timestamp", g_variant_new_int64(st.consent_timestamp));
	add_status(&b, "stored-keys", g_variant_new_uint64(st.usage.n_keys));
	add_status(&b, "stored-events", g_variant_new_uint64(st.usage.n_events));
	add_status(&b, "stored-bytes", g_variant_new_uint64(st.usage.file_bytes));
	add_status(&b, "stored-weeks", g_variant_new_uint64(st.usage.n_weeks));
	add_status(&b, "store-used-bytes", g_variant_new_uint64(st.usage.used_bytes));
	add_status(&b, "store-max-bytes", g_variant_new_uint64(st.max_store_bytes));
	add_status(&b, "store-full", g_variant_new_boolean(st.usage.full));
	add_status(&b, "accepted", g_variant_new_uint64(st.n_accepted));
	add_status(&b, "drops", mrd_drops_to_variant(drops));
	add_status(&b, "drops-by-metric", mrd_drops_by_metric_to_variant(drops));
	add_status(&b, "allowlisted-metrics", g_variant_new_uint32(st.n_allowlisted));
	add_status(&b, "clients",
		   g_variant_new_uint32(mrd_caller_registry_get_n_cached(self->callers)));
	add_status(&b, "pending-uploads", g_variant_new_uint64(st.n_pending));
	add_status(&b, "set-aside", g_variant_new_uint64(st.n_set_aside));
	add_status(&b, "next-upload", g_variant_new_int64(st.next_upload));
	add_status(&b, "last-upload", g_variant_new_int64(st.last_upload));
	add_status(&b, "server-url", g_variant_new_string(st.server_url));
	add_status(&b, "next-week-close", g_variant_new_int64(st.next_week_close));
	add_status(&b, "upload-window-days", g_variant_new_uint32(st.window_days));
	mrd_dbus_recorder_complete_get_status(object, invocation, g_variant_builder_end(&b));
	return TRUE;
}

/* ---- UploadNow, GetPendingUploads, GetSentUploads ---- */

static void
upload_now_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;
	guint n_sent = 0, n_failed = 0;

	if (!mrd_engine_upload_now_finish(MRD_ENGINE(source), result, &n_sent, &n_failed,
					  &error)) {
		return_error(data->self, data->invocation, error);
		return;
	}
	g_message("upload requested: %u requests sent, %u failed", n_sent, n_failed);
	mrd_dbus_recorder_complete_upload_now(MRD_DBUS_RECORDER(data->self), data->invocation,
					      n_sent, n_failed);
}

static void
run_upload_now(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	CallData *data = user_data;

	mrd_engine_upload_now_async(self->engine, self->cancellable, upload_now_done_cb,
				    call_data_new(self, data->invocation));
}

/* runs @run once polkit authorised @action_id; the call takes no options */
static gboolean
mrd_service_dispatch_authorized(MrdService *self,
				GDBusMethodInvocation *invocation,
				GVariant *options,
				const char *action_id,
				void (*run)(MrdService *, GDBusMethodInvocation *, gpointer))
{
	g_autoptr(GError) error = NULL;
	CallData *data;

	if (!check_options(options, NULL, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	data = call_data_new(self, invocation);
	data->run = run;
	mrd_service_authorize(self, data, action_id, all_data_authorized_cb);
	return TRUE;
}

static gboolean
mrd_service_handle_upload_now(MrdDBusRecorder *object,
			      GDBusMethodInvocation *invocation,
			      GVariant *options)
{
	return mrd_service_dispatch_authorized(MRD_SERVICE(object), invocation, options,
					       MRD_ACTION_UPLOAD_NOW, run_upload_now);
}

static void
add_request_common(GVariantBuilder *dict, const MrdOutboxRequest *request, GVariant *events)
{
	char metric[METRICS_UUID_STRING_LENGTH + 1];

	metrics_uuid_unparse(request->metric, metric);
	g_variant_builder_add(dict, "{sv}", "metric", g_variant_new_string(metric));
	g_variant_builder_add(dict, "{sv}", "week", g_variant_new_string(request->week));
	g_variant_builder_add(dict, "{sv}", "events", mrd_upload_events_describe(events));
}

static const char *
outbox_state_to_string(MrdOutboxState state)
{
	switch (state) {
	case MRD_OUTBOX_STATE_PENDING:
		return "pending";
	case MRD_OUTBOX_STATE_SET_ASIDE:
		return "set-aside";
	case MRD_OUTBOX_STATE_PREVIEW:
	default:
		return "next";
	}
}

static void
add_pending(GVariantBuilder *builder, const MrdOutboxRequest *request)
{
	g_autoptr(GVariant) events = mrd_upload_events_parse(request->events, NULL);
	GVariantBuilder dict;

	if (events == NULL)
		return;
	g_variant_builder_init(&dict, G_VARIANT_TYPE_VARDICT);
	add_request_common(&dict, request, events);
	g_variant_builder_add(&dict, "{sv}", "state",
			      g_variant_new_string(outbox_state_to_string(request->state)));
	g_variant_builder_add(&dict, "{sv}", "due", g_variant_new_int64(request->due));
	g_variant_builder_add(&dict, "{sv}", "next-try", g_variant_new_int64(request->next_try));
	g_variant_builder_add(&dict, "{sv}", "attempts", g_variant_new_uint32(request->attempts));
	g_variant_builder_add(&dict, "{sv}", "last-status",
			      g_variant_new_uint32(request->last_status));
	g_variant_builder_add(&dict, "{sv}", "last-answer",
			      g_variant_new_string(request->last_answer));
	g_variant_builder_add(builder, "@a{sv}", g_variant_builder_end(&dict));
}

static void
run_get_pending_uploads(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) pending = mrd_engine_list_pending(self->engine, &error);
	GVariantBuilder builder;

	if (pending == NULL) {
		return_error(self, invocation, error);
		return;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < pending->len; i++)
		add_pending(&builder, g_ptr_array_index(pending, i));
	mrd_dbus_recorder_complete_get_pending_uploads(MRD_DBUS_RECORDER(self), invocation,
						       g_variant_builder_end(&builder));
}

static void
add_sent(GVariantBuilder *builder, const MrdOutboxRequest *request)
{
	g_autoptr(GVariant) body = mrd_upload_body_parse(request->events, NULL);
	g_autoptr(GVariant) events = NULL;
	GVariantBuilder dict;
	gint64 timestamp = 0;

	if (body == NULL)
		return;
	g_variant_get_child(body, 1, "x", &timestamp);
	events = g_variant_get_child_value(body, 6);
	g_variant_builder_init(&dict, G_VARIANT_TYPE_VARDICT);
	add_request_common(&dict, request, events);
	g_variant_builder_add(&dict, "{sv}", "sent", g_variant_new_int64(request->sent));
	g_variant_builder_add(&dict, "{sv}", "status", g_variant_new_uint32(request->last_status));
	g_variant_builder_add(&dict, "{sv}", "answer", g_variant_new_string(request->last_answer));
	g_variant_builder_add(&dict, "{sv}", "checksum", g_variant_new_string(request->checksum));
	g_variant_builder_add(&dict, "{sv}", "size",
			      g_variant_new_uint64(g_bytes_get_size(request->events)));
	g_variant_builder_add(&dict, "{sv}", "compressed-size",
			      g_variant_new_uint64(request->compressed_size));
	g_variant_builder_add(&dict, "{sv}", "timestamp", g_variant_new_int64(timestamp));
	g_variant_builder_add(builder, "@a{sv}", g_variant_builder_end(&dict));
}

static void
run_get_sent_uploads(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) sent = mrd_engine_list_sent(self->engine, &error);
	GVariantBuilder builder;

	if (sent == NULL) {
		return_error(self, invocation, error);
		return;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < sent->len; i++)
		add_sent(&builder, g_ptr_array_index(sent, i));
	mrd_dbus_recorder_complete_get_sent_uploads(MRD_DBUS_RECORDER(self), invocation,
						    g_variant_builder_end(&builder));
}

static gboolean
mrd_service_handle_get_pending_uploads(MrdDBusRecorder *object,
				       GDBusMethodInvocation *invocation,
				       GVariant *options)
{
	/* what is uploaded merges every user's aggregates: reading it is
	 * reading everybody's data */
	return mrd_service_dispatch_authorized(MRD_SERVICE(object), invocation, options,
					       MRD_ACTION_READ_ALL, run_get_pending_uploads);
}

static gboolean
mrd_service_handle_get_sent_uploads(MrdDBusRecorder *object,
				    GDBusMethodInvocation *invocation,
				    GVariant *options)
{
	return mrd_service_dispatch_authorized(MRD_SERVICE(object), invocation, options,
					       MRD_ACTION_READ_ALL, run_get_sent_uploads);
}

/* ---- life cycle ---- */

static void
mrd_service_iface_init(MrdDBusRecorderIface *iface)
{
	iface->handle_record_events = mrd_service_handle_record_events;
	iface->handle_set_consent = mrd_service_handle_set_consent;
	iface->handle_get_local_data = mrd_service_handle_get_local_data;
	iface->handle_get_status = mrd_service_handle_get_status;
	iface->handle_clear = mrd_service_handle_clear;
	iface->handle_get_allowlist = mrd_service_handle_get_allowlist;
	iface->handle_upload_now = mrd_service_handle_upload_now;
	iface->handle_get_pending_uploads = mrd_service_handle_get_pending_uploads;
	iface->handle_get_sent_uploads = mrd_service_handle_get_sent_uploads;
}

MrdService *
mrd_service_new(GDBusConnection *connection,
		const char *state_dir,
		MrdAuthority *authority,
		MrdClock *clock)
{
	MrdService *self;

	g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), NULL);
	g_return_val_if_fail(state_dir != NULL, NULL);
	g_return_val_if_fail(MRD_IS_AUTHORITY(authority), NULL);
	g_return_val_if_fail(MRD_IS_CLOCK(clock), NULL);

	self = g_object_new(MRD_TYPE_SERVICE, NULL);
	self->connection = g_object_ref(connection);
	self->authority = g_object_ref(authority);
	self->clock = g_object_ref(clock);
	self->callers = mrd_caller_registry_new(connection);
	mrd_caller_registry_set_rate_limit(self->callers, self->rate_limit);
	mrd_caller_registry_set_call_limit(self->callers, self->call_rate_limit,
					   MRD_MAX_PENDING_CHECKS);
	self->engine = mrd_engine_new(state_dir, clock, self->callers);
	return self;
}

/* starts the engine (consent, allowlist, store) and exports the object on
 * the bus */
gboolean
mrd_service_start(MrdService *self, GError **error)
{
	g_return_val_if_fail(MRD_IS_SERVICE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	mrd_engine_start(self->engine);
	mrd_dbus_recorder_set_version(MRD_DBUS_RECORDER(self), INTERFACE_VERSION);
	mrd_service_publish_consent(self);
	return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self), self->connection,
						METRICS_DBUS_PATH, error);
}

/* the daemon's configuration (taken); call before mrd_service_start() */
void
mrd_service_set_config(MrdService *self, MrdConfig *config)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	mrd_engine_set_config(self->engine, config);
}

/* the cap on the store's size in bytes, and how many weeks unsent data is
 * kept; take effect when the store is next opened */
void
mrd_service_set_store_limits(MrdService *self, guint64 max_bytes, guint retention_weeks)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	mrd_engine_set_store_limits(self->engine, max_bytes, retention_weeks);
}

/* the directories to load the allowlist from, in order (later files win);
 * call before mrd_service_start() */
void
mrd_service_set_allowlist_dirs(MrdService *self, const char *const *dirs)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	g_return_if_fail(dirs != NULL);
	mrd_engine_set_allowlist_dirs(self->engine, dirs);
}

/**
 * mrd_service_reload_allowlist:
 *
 * Loads the allowlist again (on SIGHUP; directory changes are followed
 * by the engine itself).
 */
void
mrd_service_reload_allowlist(MrdService *self)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	mrd_engine_reload_allowlist(self->engine);
}

/* asked by mrd-main (MrdIdle) before it exits for lack of calls: TRUE keeps
 * the daemon running for another idle period */
gboolean
mrd_service_get_idle_inhibited(MrdService *self)
{
	g_return_val_if_fail(MRD_IS_SERVICE(self), FALSE);
	return mrd_engine_get_idle_inhibited(self->engine);
}

/* events per second one client may record; 0 for no limit */
void
mrd_service_set_rate_limit(MrdService *self, guint events_per_second)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	self->rate_limit = events_per_second;
	mrd_caller_registry_set_rate_limit(self->callers, events_per_second);
}

/* calls per second one client may make, of any method; 0 for no limit */
void
mrd_service_set_call_rate_limit(MrdService *self, guint calls_per_second)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	self->call_rate_limit = calls_per_second;
	mrd_caller_registry_set_call_limit(self->callers, calls_per_second,
					   MRD_MAX_PENDING_CHECKS);
}

/* the registry of callers: lets unit tests tell the uid of
 * each test connection */
MrdCallerRegistry *
mrd_service_get_callers(MrdService *self)
{
	g_return_val_if_fail(MRD_IS_SERVICE(self), NULL);
	return self->callers;
}

void
mrd_service_stop(MrdService *self)
{
	g_return_if_fail(MRD_IS_SERVICE(self));

	g_cancellable_cancel(self->cancellable);
	if (g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self)) != NULL)
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self));
	mrd_engine_stop(self->engine);
}

static void
mrd_service_dispose(GObject *object)
{
	MrdService *self = MRD_SERVICE(object);

	g_clear_object(&self->engine);
	g_clear_object(&self->callers);
	g_clear_object(&self->authority);
	g_clear_object(&self->clock);
	g_clear_object(&self->connection);
	g_clear_object(&self->cancellable);

	G_OBJECT_CLASS(mrd_service_parent_class)->dispose(object);
}

static void
mrd_service_class_init(MrdServiceClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_service_dispose;
}

static void
mrd_service_init(MrdService *self)
{
	self->cancellable = g_cancellable_new();
	self->rate_limit = MRD_DEFAULT_RATE_LIMIT;
	self->call_rate_limit = MRD_DEFAULT_CALL_RATE_LIMIT;
	mrd_service_limit_calls(self);
}
