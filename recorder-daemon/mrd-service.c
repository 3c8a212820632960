/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdService"

#include "config.h"

#include <glib/gi18n.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-admission.h"
#include "mrd-engine.h"
#include "mrd-eos.h"
#include "mrd-event.h"
#include "mrd-intake.h"
#include "mrd-reply.h"
#include "mrd-service.h"

/*
 * The org.fedoraproject.Metrics1.Recorder object: the D-Bus surface of the
 * daemon and nothing else. Each handler decodes its arguments, admits the
 * call (the client's call rate, polkit where the method needs it), hands
 * over to the engine (MrdEngine) and encodes the reply. A recorded batch:
 *
 *   receive → parse (mrd-event) → engine (mrd_engine_record_batch_async):
 *   caller's uid (from the bus) → gate → aggregate and store, in one
 *   transaction → reply
 *
 * The Endless client interface (MrdEos) hands its events to the same
 * engine call.
 */

#define INTERFACE_VERSION 1

struct _MrdService {
	MrdDBusRecorderSkeleton parent_instance;

	GDBusConnection *connection; /* (owned) */
	MrdAuthority *authority;     /* (owned) */
	MrdClock *clock;	     /* (owned) */
	MrdCallerRegistry *callers;  /* (owned) */
	MrdEngine *engine;	     /* (owned) */
	MrdAdmission *admission;     /* (owned) */
	MrdIntake *intake;	     /* (owned) drops floods before GDBus queues them */
	MrdEos *eos;		     /* (owned) the Endless interface, on the same engine */
	GCancellable *cancellable;   /* (owned) */

	guint rate_limit;      /* events per second per client, 0: none */
	guint call_rate_limit; /* calls per second per client, 0: none */
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

static void
return_error(MrdService *self, GDBusMethodInvocation *invocation, const GError *error)
{
	mrd_admission_return_error(self->admission, invocation, error);
}

static void
authorize(MrdService *self,
	  GDBusMethodInvocation *invocation,
	  const char *action_id,
	  GAsyncReadyCallback callback,
	  gpointer data)
{
	mrd_admission_authorize_async(self->admission, invocation, action_id, self->cancellable,
				      callback, data);
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

static void
mrd_service_publish_categories(MrdService *self)
{
	guint agreed = 0, refused = 0;

	mrd_engine_get_categories(self->engine, &agreed, &refused);
	mrd_dbus_recorder_set_categories(MRD_DBUS_RECORDER(self),
					 mrd_reply_categories(agreed, refused));
}

/* parses a{sb} of category names: @on and @off get the bits of those set
 * TRUE and FALSE */
static gboolean
parse_categories(GVariant *categories, guint *on, guint *off, GError **error)
{
	GVariantIter iter;
	const char *name;
	gboolean enabled;

	*on = *off = 0;
	g_variant_iter_init(&iter, categories);
	while (g_variant_iter_next(&iter, "{&sb}", &name, &enabled)) {
		MrdMetricCategory category;

		if (!mrd_metric_category_from_string(name, &category)) {
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("Unknown category “%s”: use hardware, settings, usage, "
				      "performance or problems"),
				    name);
			return FALSE;
		}
		*on |= enabled ? MRD_CATEGORY_BIT(category) : 0;
		*off |= enabled ? 0 : MRD_CATEGORY_BIT(category);
	}
	if ((*on & *off) != 0) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("A category is both on and off: name each category once"));
		return FALSE;
	}
	return TRUE;
}

/* ---- GetAllowlist ---- */

static gboolean
mrd_service_handle_get_allowlist(MrdDBusRecorder *object,
				 GDBusMethodInvocation *invocation,
				 GVariant *options)
{
	MrdService *self = MRD_SERVICE(object);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) metrics = NULL;
	gint64 now = mrd_clock_get_real_time(self->clock);
	GVariantBuilder builder;

	if (!mrd_admission_check_options(options, NULL, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	metrics = mrd_allowlist_get_metrics(mrd_engine_get_allowlist(self->engine));
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < metrics->len; i++) {
		const MrdMetric *metric = g_ptr_array_index(metrics, i);
		gboolean sampled = FALSE;
		gboolean decided = mrd_engine_get_sampling(self->engine, metric, &sampled);

		g_variant_builder_add_value(
			&builder, mrd_reply_metric(metric, now, decided ? &sampled : NULL));
	}
	mrd_dbus_recorder_complete_get_allowlist(object, invocation,
						 g_variant_builder_end(&builder));
	return TRUE;
}

/* ---- RecordEvents ---- */

typedef struct {
	MrdService *self; /* (owned) */
	GDBusMethodInvocation *invocation;
} RecordData;

static void
record_data_free(RecordData *data)
{
	g_clear_object(&data->self);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RecordData, record_data_free)

static void
record_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(RecordData) data = user_data;
	MrdService *self = data->self;
	g_autoptr(GError) error = NULL;
	guint n_kept = 0, n_dropped = 0;

	if (!mrd_engine_record_batch_finish(self->engine, result, &n_kept, &n_dropped, &error)) {
		return_error(self, data->invocation, error);
		return;
	}
	mrd_dbus_recorder_complete_record_events(MRD_DBUS_RECORDER(self), data->invocation, n_kept,
						 n_dropped);
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

	if (mrd_admission_check_options(options, NULL, &error))
		batch = mrd_event_batch_parse(events, &error);
	if (batch == NULL) {
		/* calls, not events: how many events an unreadable batch held
		 * is not known */
		count_drop(self, MRD_DROP_MALFORMED_CALLS, 1);
		return_error(self, invocation, error);
		return TRUE;
	}
	/* identify → gate → aggregate → store (the engine) */
	data = g_new0(RecordData, 1);
	data->self = g_object_ref(self);
	data->invocation = invocation;
	mrd_engine_record_batch_async(self->engine, sender, g_steal_pointer(&batch),
				      self->cancellable, record_done_cb, data);
	return TRUE;
}

/* ---- SetConsent ---- */

typedef struct {
	MrdService *self; /* (owned) */
	GDBusMethodInvocation *invocation;
	MetricsConsent consent;
	MetricsUserChoice user_choice;
	guint on, off; /* categories */
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

static void
set_consent_authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!mrd_admission_authorize_finish(MRD_ADMISSION(source), result, &error) ||
	    !mrd_engine_set_consent(data->self->engine, data->consent, &error)) {
		return_error(data->self, data->invocation, error);
		return;
	}
	/* the Consent properties follow through consent-changed; a yes
	 * agrees to the categories not refused */
	mrd_service_publish_categories(data->self);
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

	if (!mrd_admission_check_options(options, NULL, &error)) {
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
	authorize(self, invocation, MRD_ACTION_SET_CONSENT, set_consent_authorized_cb, data);
	return TRUE;
}

/* ---- SetUserChoice, GetUserChoice: the caller's own, no authorisation ---- */

/* unicast to each connection of @uid the daemon knows: another user must
 * not learn who opted out */
static void
emit_user_choice_changed(MrdService *self, guint32 uid, MetricsUserChoice choice)
{
	g_autoptr(GPtrArray) senders = mrd_caller_registry_list_senders(self->callers, uid);

	for (guint i = 0; i < senders->len; i++) {
		g_autoptr(GError) error = NULL;

		if (!g_dbus_connection_emit_signal(
			    self->connection, g_ptr_array_index(senders, i), METRICS_DBUS_PATH,
			    METRICS_DBUS_INTERFACE, "UserChoiceChanged",
			    g_variant_new("(s)", metrics_user_choice_to_string(choice)), &error))
			g_debug("cannot tell a client its user's choice: %s", error->message);
	}
}

static void
run_for_caller_uid(MrdService *self,
		   GDBusMethodInvocation *invocation,
		   CallData *data,
		   void (*run)(MrdService *, GDBusMethodInvocation *, gpointer));

static void
run_set_user_choice(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	CallData *data = user_data;
	g_autoptr(GError) error = NULL;
	gboolean changed = FALSE;

	if (!mrd_engine_set_user_choice(self->engine, data->uid, data->user_choice, &changed,
					&error)) {
		return_error(self, invocation, error);
		return;
	}
	/* the reply first: the caller's own library then hears the signal
	 * after the call it made returned */
	mrd_dbus_recorder_complete_set_user_choice(MRD_DBUS_RECORDER(self), invocation);
	if (changed)
		emit_user_choice_changed(self, data->uid, data->user_choice);
}

static gboolean
mrd_service_handle_set_user_choice(MrdDBusRecorder *object,
				   GDBusMethodInvocation *invocation,
				   const char *choice_str)
{
	MrdService *self = MRD_SERVICE(object);
	g_autoptr(GError) error = NULL;
	MetricsUserChoice choice = METRICS_USER_CHOICE_DEFAULT;
	CallData *data;

	if (!metrics_user_choice_from_string(choice_str, &choice)) {
		g_set_error(&error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("Invalid choice “%s”: use “in”, “out” or “default”"), choice_str);
		return_error(self, invocation, error);
		return TRUE;
	}
	data = call_data_new(self, invocation);
	data->user_choice = choice;
	run_for_caller_uid(self, invocation, data, run_set_user_choice);
	return TRUE;
}

static void
run_get_user_choice(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	CallData *data = user_data;

	mrd_dbus_recorder_complete_get_user_choice(
		MRD_DBUS_RECORDER(self), invocation,
		metrics_user_choice_to_string(mrd_engine_get_user_choice(self->engine, data->uid)));
}

static gboolean
mrd_service_handle_get_user_choice(MrdDBusRecorder *object, GDBusMethodInvocation *invocation)
{
	MrdService *self = MRD_SERVICE(object);

	run_for_caller_uid(self, invocation, call_data_new(self, invocation), run_get_user_choice);
	return TRUE;
}

/* ---- SetCategories (polkit), SetUserCategories (the caller's own) ---- */

static void
set_categories_authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;
	gboolean changed = FALSE;

	if (!mrd_admission_authorize_finish(MRD_ADMISSION(source), result, &error) ||
	    !mrd_engine_set_categories(data->self->engine, data->on, data->off, &changed, &error)) {
		return_error(data->self, data->invocation, error);
		return;
	}
	if (changed)
		mrd_service_publish_categories(data->self);
	mrd_dbus_recorder_complete_set_categories(MRD_DBUS_RECORDER(data->self), data->invocation);
}

static gboolean
mrd_service_handle_set_categories(MrdDBusRecorder *object,
				  GDBusMethodInvocation *invocation,
				  GVariant *categories,
				  GVariant *options)
{
	MrdService *self = MRD_SERVICE(object);
	g_autoptr(GError) error = NULL;
	guint on = 0, off = 0;
	CallData *data;

	if (!mrd_admission_check_options(options, NULL, &error) ||
	    !parse_categories(categories, &on, &off, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	data = call_data_new(self, invocation);
	data->on = on;
	data->off = off;
	authorize(self, invocation, MRD_ACTION_SET_CONSENT, set_categories_authorized_cb, data);
	return TRUE;
}

static void
run_set_user_categories(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	CallData *data = user_data;
	g_autoptr(GError) error = NULL;
	guint off = (mrd_engine_get_user_off(self->engine, data->uid) | data->off) & ~data->on;

	if (!mrd_engine_set_user_off(self->engine, data->uid, off, &error)) {
		return_error(self, invocation, error);
		return;
	}
	mrd_dbus_recorder_complete_set_user_categories(MRD_DBUS_RECORDER(self), invocation);
}

static gboolean
mrd_service_handle_set_user_categories(MrdDBusRecorder *object,
				       GDBusMethodInvocation *invocation,
				       GVariant *categories)
{
	MrdService *self = MRD_SERVICE(object);
	g_autoptr(GError) error = NULL;
	guint on = 0, off = 0;
	CallData *data;

	if (!parse_categories(categories, &on, &off, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	data = call_data_new(self, invocation);
	data->on = on;
	data->off = off;
	run_for_caller_uid(self, invocation, data, run_set_user_categories);
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

/* runs @run once the caller's uid, from the bus, is in @data (owned) */
static void
run_for_caller_uid(MrdService *self,
		   GDBusMethodInvocation *invocation,
		   CallData *data,
		   void (*run)(MrdService *, GDBusMethodInvocation *, gpointer))
{
	data->run = run;
	mrd_caller_registry_get_uid_async(self->callers,
					  g_dbus_method_invocation_get_sender(invocation),
					  self->cancellable, own_data_uid_cb, data);
}

static void
all_data_authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!mrd_admission_authorize_finish(MRD_ADMISSION(source), result, &error)) {
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

	if (!mrd_admission_check_options(options, user_scope_options, &error)) {
		return_error(self, invocation, error);
		return;
	}
	data = call_data_new(self, invocation);
	if (!g_variant_lookup(options, "all", "b", &data->all_users))
		data->all_users = FALSE;
	if (data->all_users) {
		data->run = run;
		authorize(self, invocation, action_id, all_data_authorized_cb, data);
		return;
	}
	run_for_caller_uid(self, invocation, data, run);
}

static void
run_get_local_data(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	CallData *data = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows =
		mrd_engine_dump(self->engine, data->all_users, data->uid, &error);

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

/* the caller's own figures, or with all (read-all) everybody's */
static void
run_get_status(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	CallData *data = user_data;
	g_autoptr(GError) error = NULL;
	MrdEngineStatus st;

	if (!mrd_engine_get_status(self->engine, data->all_users, data->uid, &st, &error)) {
		return_error(self, invocation, error);
		return;
	}
	mrd_dbus_recorder_complete_get_status(
		MRD_DBUS_RECORDER(self), invocation,
		mrd_reply_status(&st, mrd_engine_get_drops(self->engine),
				 mrd_caller_registry_get_n_cached(self->callers)));
}

static gboolean
mrd_service_handle_get_status(MrdDBusRecorder *object,
			      GDBusMethodInvocation *invocation,
			      GVariant *options)
{
	mrd_service_dispatch_user_scope(MRD_SERVICE(object), invocation, options,
					MRD_ACTION_READ_ALL, run_get_status);
	return TRUE;
}

/* ---- UploadNow, GetPendingUploads, GetSentUploads ---- */

static void
upload_now_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;
	guint n_sent = 0, n_failed = 0;

	if (!mrd_engine_upload_now_finish(data->self->engine, result, &n_sent, &n_failed, &error)) {
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

	if (!mrd_admission_check_options(options, NULL, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	data = call_data_new(self, invocation);
	data->run = run;
	authorize(self, invocation, action_id, all_data_authorized_cb, data);
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

/* the reply of GetPendingUploads or, with @sent, GetSentUploads: both
 * are (aa{sv}) */
static void
reply_requests(MrdService *self, GDBusMethodInvocation *invocation, gboolean sent)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) requests = mrd_engine_list_requests(self->engine, sent, &error);

	if (requests == NULL) {
		return_error(self, invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(
		invocation, g_variant_new("(@aa{sv})", mrd_reply_requests(requests, sent)));
}

static void
run_get_pending_uploads(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	reply_requests(self, invocation, FALSE);
}

static void
run_get_sent_uploads(MrdService *self, GDBusMethodInvocation *invocation, gpointer user_data)
{
	reply_requests(self, invocation, TRUE);
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
	iface->handle_set_user_choice = mrd_service_handle_set_user_choice;
	iface->handle_set_categories = mrd_service_handle_set_categories;
	iface->handle_set_user_categories = mrd_service_handle_set_user_categories;
	iface->handle_get_user_choice = mrd_service_handle_get_user_choice;
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
	self->engine = mrd_engine_new(state_dir, clock, self->callers);
	self->admission =
		mrd_admission_new(self->callers, authority, mrd_engine_get_drops(self->engine));
	mrd_admission_set_call_rate_limit(self->admission, self->call_rate_limit);
	mrd_admission_guard_calls(self->admission, self, MRD_DBUS_TYPE_RECORDER);
	g_signal_connect_object(self->engine, "consent-changed",
				G_CALLBACK(mrd_service_publish_consent), self, G_CONNECT_SWAPPED);
	self->eos = mrd_eos_new(self->engine, self->admission, clock);
	self->intake = mrd_intake_new(connection, mrd_engine_get_drops(self->engine));
	mrd_intake_set_call_rate_limit(self->intake, self->call_rate_limit);
	return self;
}

/* starts the engine (consent, allowlist, store) and exports the objects on
 * the bus: this interface's and the Endless one (MrdEos) */
gboolean
mrd_service_start(MrdService *self, GError **error)
{
	g_return_val_if_fail(MRD_IS_SERVICE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	mrd_engine_start(self->engine);
	mrd_dbus_recorder_set_version(MRD_DBUS_RECORDER(self), INTERFACE_VERSION);
	mrd_service_publish_consent(self);
	mrd_service_publish_categories(self);
	return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self), self->connection,
						METRICS_DBUS_PATH, error) &&
	       mrd_eos_export(self->eos, self->connection, error);
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
	mrd_admission_set_call_rate_limit(self->admission, calls_per_second);
	mrd_intake_set_call_rate_limit(self->intake, calls_per_second);
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
	mrd_eos_unexport(self->eos);
	if (g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self)) != NULL)
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self));
	mrd_engine_stop(self->engine);
}

static void
mrd_service_dispose(GObject *object)
{
	MrdService *self = MRD_SERVICE(object);

	g_clear_object(&self->intake);
	g_clear_object(&self->eos);
	g_clear_object(&self->admission);
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
}
