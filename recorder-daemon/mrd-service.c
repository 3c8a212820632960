/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdService"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/random.h>

#include "metrics-error.h"
#include "metrics-private.h"
#include "mrd-aggregator.h"
#include "mrd-allowlist.h"
#include "mrd-caller.h"
#include "mrd-consent.h"
#include "mrd-event.h"
#include "mrd-service.h"
#include "mrd-store.h"
/* upload (issue 5) */
#include "mrd-outbox.h"
#include "mrd-upload-body.h"
#include "mrd-uploader.h"

/*
 * The org.fedoraproject.Metrics1.Recorder object. A recorded batch travels
 * one straight line:
 *
 *   receive (bus types) → parse (shape, limits) → consent → caller (uid from
 *   the bus) → aggregate (weekly keys) → store (one transaction) → reply
 *
 * Nothing about events touches the disk unless consent is granted; the
 * consent record is the only file written before that.
 */

#define INTERFACE_VERSION 1
#define STORE_FILENAME "metrics.db"
#define CONSENT_FILENAME "consent.conf"
/* an upload due within this keeps the daemon from exiting when idle */
#define IDLE_UPLOAD_HORIZON (15 * G_TIME_SPAN_MINUTE)
#define REJECT_LOG_PERIOD (10 * G_TIME_SPAN_SECOND)

struct _MrdService {
	MrdDBusRecorderSkeleton parent_instance;

	GDBusConnection *connection; /* (owned) */
	char *state_dir;	     /* (owned) */
	char *store_path;	     /* (owned) */
	MrdAuthority *authority;     /* (owned) */
	MrdClock *clock;	     /* (owned) */
	MrdConsent *consent;	     /* (owned) */
	MrdCallerRegistry *callers;  /* (owned) */
	MrdStore *store;	     /* (owned) (nullable) open only while consent is granted */
	GCancellable *cancellable;   /* (owned) */

	guint rate_limit;	/* events per second per client, 0: none */
	guint call_rate_limit;	/* calls per second per client, 0: none */
	guint64 max_store_size; /* bytes */
	guint retention_weeks;	/* unsent weeks older than this are dropped */
	gint64 last_prune;	/* monotonic usec */
	/* upload (issue 5): the outbox and the uploader live with the store */
	MrdConfig *config;     /* (owned) */
	MrdOutbox *outbox;     /* (owned) (nullable) */
	MrdUploader *uploader; /* (owned) (nullable) */

	guint64 n_accepted;
	GHashTable *drops; /* (owned) reason → guint64 count, since start */
	/* drops counted while consent is granted and not yet added to the
	 * store's counters, which keep them across restarts */
	GHashTable *drops_unsaved; /* (owned) reason → guint64 count */
	guint drops_save_id;
	gint64 last_reject_log;
	guint n_rejects_unlogged;
	gint64 last_limit_log;
	guint n_limits_unlogged;

	/* the allowlist gate */
	GStrv allowlist_dirs;	       /* (owned) */
	MrdAllowlist *allowlist;       /* (owned) */
	GPtrArray *allowlist_monitors; /* (owned) (element-type GFileMonitor) */
	guint allowlist_reload_id;     /* debounces directory changes */
	GBytes *sampling_secret;       /* (owned) (nullable) exists only with consent */
	GHashTable *sampled;	       /* (owned) metric id → decision, for this secret */
	MrdCapTable *caps;	       /* (owned) */
	GHashTable *drops_by_metric;   /* (owned) "reason\tid" → guint64 count */
	GHashTable *drops_logged;      /* (owned) "reason\tid" → day of the last log line */
};

static void
mrd_service_iface_init(MrdDBusRecorderIface *iface);

G_DEFINE_TYPE_WITH_CODE(MrdService,
			mrd_service,
			MRD_DBUS_TYPE_RECORDER_SKELETON,
			G_IMPLEMENT_INTERFACE(MRD_DBUS_TYPE_RECORDER, mrd_service_iface_init))

static void
add_count(GHashTable *counts, const char *reason, guint64 n)
{
	gpointer key = NULL;
	guint64 *count = NULL;

	if (!g_hash_table_lookup_extended(counts, reason, &key, (gpointer *)&count)) {
		count = g_new0(guint64, 1);
		g_hash_table_insert(counts, g_strdup(reason), count);
	}
	*count += n;
}

/* adds the drops counted since the last time to the store's counters; kept
 * for the next try if the store cannot take them */
static void
mrd_service_save_drops(MrdService *self)
{
	g_autoptr(GError) error = NULL;

	g_clear_handle_id(&self->drops_save_id, g_source_remove);
	if (self->store == NULL || g_hash_table_size(self->drops_unsaved) == 0)
		return;
	if (!mrd_store_add_drops(self->store, self->drops_unsaved, &error)) {
		g_debug("drop counters not saved yet: %s", error->message);
		return;
	}
	g_hash_table_remove_all(self->drops_unsaved);
}

static gboolean
save_drops_cb(gpointer user_data)
{
	MrdService *self = user_data;

	self->drops_save_id = 0;
	mrd_service_save_drops(self);
	return G_SOURCE_REMOVE;
}

static void
mrd_service_count_drop(MrdService *self, const char *reason, guint64 n)
{
	add_count(self->drops, reason, n);
	/* only with consent is anything written, and then only a count per
	 * reason, saved a second later so a burst of drops costs one write */
	if (n == 0 || self->consent == NULL ||
	    mrd_consent_get_state(self->consent) != METRICS_CONSENT_GRANTED)
		return;
	add_count(self->drops_unsaved, reason, n);
	if (self->drops_save_id == 0)
		self->drops_save_id = g_timeout_add_seconds(1, save_drops_cb, self);
}

/* adds the counters the store kept from earlier runs to this run's */
static void
mrd_service_load_drops(MrdService *self)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) saved = mrd_store_get_drops(self->store, &error);
	GVariantIter iter;
	const char *reason;
	guint64 n;

	if (saved == NULL) {
		g_warning("cannot read the saved drop counters: %s", error->message);
		return;
	}
	g_variant_iter_init(&iter, saved);
	while (g_variant_iter_next(&iter, "{&st}", &reason, &n))
		add_count(self->drops, reason, n);
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
	mrd_service_count_drop(self, "rate-limited-calls", 1);
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

static MetricsConsent
mrd_service_get_consent(MrdService *self)
{
	return mrd_consent_get_state(self->consent);
}

/* drops aggregates of weeks older than the retention limit that could not
 * be uploaded; runs when the store opens and then at most once a day */
static void
mrd_service_prune(MrdService *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *oldest = NULL;
	gint64 now = mrd_clock_get_real_time(self->clock);
	guint64 n_events = 0;

	if (self->store == NULL ||
	    (self->last_prune != 0 && g_get_monotonic_time() - self->last_prune < G_TIME_SPAN_DAY))
		return;
	self->last_prune = g_get_monotonic_time();
	oldest = mrd_week_to_string(mrd_week_start(now) -
				    (gint64)self->retention_weeks * MRD_WEEK_USEC);
	if (!mrd_store_prune(self->store, oldest, &n_events, &error)) {
		g_warning("cannot drop data older than %u weeks: %s", self->retention_weeks,
			  error->message);
		return;
	}
	if (n_events > 0) {
		g_message("dropped %" G_GUINT64_FORMAT " events of weeks before %s: older than "
			  "%u weeks and never uploaded",
			  n_events, oldest, self->retention_weeks);
		mrd_service_count_drop(self, "retention", n_events);
	}
}

static void
outbox_dropped_cb(MrdOutbox *outbox, const char *reason, guint64 n_events, gpointer user_data)
{
	mrd_service_count_drop(MRD_SERVICE(user_data), reason, n_events);
}

/* the store exists only while consent is granted; opened on demand so a
 * failure to open it (full disk, say) is retried on the next call */
static MrdStore *
mrd_service_ensure_store(MrdService *self, GError **error)
{
	if (self->store != NULL)
		return self->store;
	if (mrd_service_get_consent(self) != METRICS_CONSENT_GRANTED) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_DISABLED,
				    _("Metrics are disabled: the user has not consented"));
		return NULL;
	}
	self->store = mrd_store_open(self->store_path, error);
	if (self->store == NULL)
		return NULL;
	if (!mrd_store_set_max_size(self->store, self->max_store_size, error)) {
		g_clear_object(&self->store);
		return NULL;
	}
	mrd_service_load_drops(self);
	mrd_service_prune(self);
	mrd_service_save_drops(self);
	if (self->store != NULL) {
		/* upload (issue 5) */
		self->outbox = mrd_outbox_new(self->store, mrd_upload_get_os_version());
		mrd_outbox_set_allowlist(self->outbox, self->allowlist);
		mrd_outbox_set_retention_weeks(self->outbox, self->retention_weeks);
		g_signal_connect_object(self->outbox, "dropped", G_CALLBACK(outbox_dropped_cb),
					self, G_CONNECT_DEFAULT);
		self->uploader = mrd_uploader_new(self->outbox, self->clock, self->config,
						  g_network_monitor_get_default());
		mrd_uploader_start(self->uploader);
	}
	return self->store;
}

/* upload (issue 5): stops sending (cancelling a request in flight) before
 * the store goes */
static void
mrd_service_stop_uploads(MrdService *self)
{
	if (self->uploader != NULL)
		mrd_uploader_stop(self->uploader);
	g_clear_object(&self->uploader);
	g_clear_object(&self->outbox);
}

static gboolean
mrd_service_delete_store(MrdService *self, GError **error)
{
	mrd_service_stop_uploads(self);
	/* the drop counters go with the store */
	g_clear_handle_id(&self->drops_save_id, g_source_remove);
	g_hash_table_remove_all(self->drops_unsaved);
	if (self->store != NULL) {
		g_autoptr(GError) error_wipe = NULL;

		/* overwrite what is stored before the files go: removing them
		 * alone would leave the bytes in freed disk blocks */
		if (!mrd_store_wipe(self->store, &error_wipe))
			g_warning("cannot empty the store before deleting it: %s",
				  error_wipe->message);
		mrd_store_close(self->store);
		g_clear_object(&self->store);
	}
	/* every file is overwritten with zeros, then removed */
	return mrd_store_delete_files(self->store_path, error);
}

static void
mrd_service_publish_consent(MrdService *self)
{
	MrdDBusRecorder *iface = MRD_DBUS_RECORDER(self);

	mrd_dbus_recorder_set_consent(iface,
				      metrics_consent_to_string(mrd_service_get_consent(self)));
	mrd_dbus_recorder_set_consent_timestamp(iface, mrd_consent_get_timestamp(self->consent));
}

/* ---- the allowlist gate ---- */

#define SAMPLING_SECRET_FILENAME "sampling-secret"
#define SAMPLING_SECRET_SIZE 32
#define ALLOWLIST_RELOAD_DELAY_MS 500
/* distinct (reason, metric) drop counters kept; beyond, "others" */
#define MAX_DROP_KEYS 1024
#define DROP_KEY_OTHERS "others"

/* counts a drop by reason and metric; logs one line per (reason, metric)
 * and day, not per event */
static void
mrd_service_count_drop_metric(MrdService *self,
			      const char *reason_str,
			      const guint8 id[METRICS_UUID_SIZE])
{
	char id_str[METRICS_UUID_STRING_LENGTH + 1];
	g_autofree char *key = NULL;
	guint64 *count;
	gint64 day = g_get_monotonic_time() / G_TIME_SPAN_DAY + 1;

	mrd_service_count_drop(self, reason_str, 1);
	metrics_uuid_unparse(id, id_str);
	key = g_strdup_printf("%s\t%s", reason_str, id_str);
	count = g_hash_table_lookup(self->drops_by_metric, key);
	/* a client sending random ids must not grow the table without end:
	 * past the limit, new ids are counted together */
	if (count == NULL && g_hash_table_size(self->drops_by_metric) >= MAX_DROP_KEYS) {
		g_free(key);
		key = g_strdup_printf("%s\t%s", reason_str, DROP_KEY_OTHERS);
		count = g_hash_table_lookup(self->drops_by_metric, key);
	}
	if (count == NULL) {
		count = g_new0(guint64, 1);
		g_hash_table_insert(self->drops_by_metric, g_strdup(key), count);
	}
	(*count)++;
	if (GPOINTER_TO_SIZE(g_hash_table_lookup(self->drops_logged, key)) != (gsize)day) {
		const MrdMetric *metric = mrd_allowlist_lookup(self->allowlist, id);

		g_message("dropping events of metric %s (%s): %s; logged once a day", id_str,
			  metric != NULL ? metric->name : "not allowlisted", reason_str);
		g_hash_table_insert(self->drops_logged, g_steal_pointer(&key),
				    GSIZE_TO_POINTER((gsize)day));
	}
}

static guint64
cap_init_from_store(const guint8 id[METRICS_UUID_SIZE], gint64 week, gpointer user_data)
{
	MrdService *self = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree char *week_str = mrd_week_to_string(week);
	guint64 sum = 0;

	if (self->store == NULL || !mrd_store_sum_count(self->store, id, week_str, &sum, &error)) {
		g_debug("weekly cap starts at 0: %s", error != NULL ? error->message : "no store");
		return 0;
	}
	return sum;
}

/* the secret exists only while consent is granted: a new consent gets a
 * new secret, so its sampling decisions cannot be linked to the old ones */
static void
mrd_service_update_sampling_secret(MrdService *self)
{
	g_autofree char *path = g_build_filename(self->state_dir, SAMPLING_SECRET_FILENAME, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *contents = NULL;
	gsize length = 0;
	guint8 secret[SAMPLING_SECRET_SIZE];

	g_hash_table_remove_all(self->sampled);
	if (mrd_service_get_consent(self) != METRICS_CONSENT_GRANTED) {
		g_clear_pointer(&self->sampling_secret, g_bytes_unref);
		mrd_cap_table_reset(self->caps);
		if (g_unlink(path) != 0 && errno != ENOENT)
			g_warning("cannot delete %s: %s", path, g_strerror(errno));
		return;
	}
	if (self->sampling_secret != NULL)
		return;
	if (g_file_get_contents(path, &contents, &length, NULL) && length == SAMPLING_SECRET_SIZE) {
		self->sampling_secret = g_bytes_new_take(g_steal_pointer(&contents), length);
		return;
	}
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		g_warning("cannot make a sampling secret: %s", g_strerror(errno));
		return;
	}
	if (!g_file_set_contents_full(path, (const char *)secret, sizeof(secret),
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
		g_warning("cannot save the sampling secret: %s", error->message);
		return;
	}
	self->sampling_secret = g_bytes_new(secret, sizeof(secret));
}

static gboolean
mrd_service_is_sampled(MrdService *self, const MrdMetric *metric)
{
	gpointer cached = g_hash_table_lookup(self->sampled, metric->id);

	if (cached == NULL) {
		cached = GINT_TO_POINTER(mrd_metric_is_sampled(metric, self->sampling_secret) ? 2 :
												1);
		g_hash_table_insert(self->sampled, (gpointer)metric->id, cached);
	}
	return GPOINTER_TO_INT(cached) == 2;
}

/* the first week events may still go to: none before the last frozen */
static gint64
mrd_service_first_open_week(MrdService *self)
{
	g_autoptr(GError) error = NULL;
	gint64 week;

	if (self->outbox == NULL)
		return 0;
	week = mrd_outbox_get_first_open_week(self->outbox, &error);
	if (error != NULL)
		g_debug("cannot tell which weeks were frozen: %s", error->message);
	return week;
}

/* keeps the events of @batch that pass the allowlist, in order; counts the
 * others by reason and metric and returns how many were dropped. The
 * allowlist comes first, then the sender's event rate (so what a flooding
 * client loses is counted per metric too), then sampling and the cap */
static guint
mrd_service_gate(MrdService *self, GArray *batch, const char *sender)
{
	gint64 now = mrd_clock_get_real_time(self->clock);
	gint64 week = MAX(mrd_week_start(now), mrd_service_first_open_week(self));
	gint64 monotonic = g_get_monotonic_time();
	guint kept = 0;
	guint n = batch->len;

	for (guint i = 0; i < n; i++) {
		MrdEvent *event = &g_array_index(batch, MrdEvent, i);
		const MrdMetric *metric = NULL;
		MrdDropReason reason = mrd_allowlist_check(self->allowlist, event, now, &metric);
		const char *reason_str = NULL;

		if (reason == MRD_DROP_NONE &&
		    mrd_caller_registry_take_events(self->callers, sender, 1, monotonic) == 0)
			reason_str = "rate-limited";
		else if (reason == MRD_DROP_NONE && !mrd_service_is_sampled(self, metric))
			reason = MRD_DROP_NOT_SAMPLED;
		else if (reason == MRD_DROP_NONE &&
			 !mrd_cap_table_take(self->caps, metric, week, 1))
			reason = MRD_DROP_OVER_CAP;
		if (reason_str == NULL && reason != MRD_DROP_NONE)
			reason_str = mrd_drop_reason_to_string(reason);
		if (reason_str != NULL) {
			mrd_service_count_drop_metric(self, reason_str, event->id);
			g_clear_pointer(&event->payload, g_variant_unref);
			continue;
		}
		if (kept != i) {
			g_array_index(batch, MrdEvent, kept) = *event;
			event->payload = NULL;
		}
		kept++;
	}
	g_array_set_size(batch, kept);
	return n - kept;
}

/**
 * mrd_service_reload_allowlist:
 *
 * Loads the allowlist again (on SIGHUP and when its directories change).
 * A broken file is reported and skipped; the others load.
 */
void
mrd_service_reload_allowlist(MrdService *self)
{
	g_autoptr(MrdAllowlist) allowlist = NULL;
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
	g_autofree char *dirs = NULL;
	guint n;

	g_return_if_fail(MRD_IS_SERVICE(self));

	allowlist = mrd_allowlist_new((const char *const *)self->allowlist_dirs);
	n = mrd_allowlist_load(allowlist, errors);
	for (guint i = 0; i < errors->len; i++)
		g_warning("rejected an allowlist file: %s",
			  ((GError *)g_ptr_array_index(errors, i))->message);
	dirs = g_strjoinv(", ", self->allowlist_dirs);
	g_message("allowlist: %u metrics from %s", n, dirs);
	g_hash_table_remove_all(self->sampled);
	g_set_object(&self->allowlist, allowlist);
	if (self->outbox != NULL)
		mrd_outbox_set_allowlist(self->outbox, self->allowlist);
}

static void
mrd_service_watch_allowlist(MrdService *self);

static gboolean
allowlist_reload_cb(gpointer user_data)
{
	MrdService *self = user_data;

	self->allowlist_reload_id = 0;
	/* a directory may have appeared or gone: watch again, then read */
	g_ptr_array_set_size(self->allowlist_monitors, 0);
	mrd_service_watch_allowlist(self);
	mrd_service_reload_allowlist(self);
	return G_SOURCE_REMOVE;
}

static void
allowlist_dir_changed_cb(GFileMonitor *monitor,
			 GFile *file,
			 GFile *other_file,
			 GFileMonitorEvent event_type,
			 gpointer user_data)
{
	MrdService *self = user_data;

	/* an editor or a package writes several files: reload once */
	if (self->allowlist_reload_id != 0)
		g_source_remove(self->allowlist_reload_id);
	self->allowlist_reload_id =
		g_timeout_add(ALLOWLIST_RELOAD_DELAY_MS, allowlist_reload_cb, self);
}

static gboolean
is_at_or_above(GFile *file, GFile *path)
{
	return file != NULL && (g_file_equal(file, path) || g_file_has_prefix(path, file));
}

/* a change in the nearest existing parent of a missing directory: only
 * the creation of that directory (or of a parent on the way) matters */
static void
allowlist_parent_changed_cb(GFileMonitor *monitor,
			    GFile *file,
			    GFile *other_file,
			    GFileMonitorEvent event_type,
			    gpointer user_data)
{
	GFile *missing = g_object_get_data(G_OBJECT(monitor), "mrd-missing-dir");

	if (is_at_or_above(file, missing) || is_at_or_above(other_file, missing))
		allowlist_dir_changed_cb(monitor, file, other_file, event_type, user_data);
}

static void
mrd_service_watch_dir(MrdService *self, const char *path)
{
	g_autoptr(GFile) dir = g_file_new_for_path(path);
	g_autoptr(GFile) watched = g_object_ref(dir);
	g_autoptr(GError) error = NULL;
	GFileMonitor *monitor;

	/* GLib looks for a missing directory every few seconds, which would
	 * wake an idle daemon for nothing (bench-idle): watch its nearest
	 * existing parent instead; the watches are set up again on reload */
	while (g_file_query_file_type(watched, G_FILE_QUERY_INFO_NONE, NULL) !=
	       G_FILE_TYPE_DIRECTORY) {
		GFile *parent = g_file_get_parent(watched);

		if (parent == NULL) {
			g_debug("not watching %s: no parent directory exists", path);
			return;
		}
		g_object_unref(watched);
		watched = parent;
	}
	monitor = g_file_monitor_directory(watched, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
	if (monitor == NULL) {
		g_debug("not watching %s: %s", path, error->message);
		return;
	}
	if (g_file_equal(watched, dir)) {
		g_signal_connect(monitor, "changed", G_CALLBACK(allowlist_dir_changed_cb), self);
	} else {
		g_object_set_data_full(G_OBJECT(monitor), "mrd-missing-dir", g_object_ref(dir),
				       g_object_unref);
		g_signal_connect(monitor, "changed", G_CALLBACK(allowlist_parent_changed_cb), self);
	}
	g_ptr_array_add(self->allowlist_monitors, monitor);
}

static void
mrd_service_watch_allowlist(MrdService *self)
{
	for (guint i = 0; self->allowlist_dirs[i] != NULL; i++) {
		g_autofree char *value_sets =
			g_build_filename(self->allowlist_dirs[i], "value-sets", NULL);

		mrd_service_watch_dir(self, self->allowlist_dirs[i]);
		mrd_service_watch_dir(self, value_sets);
	}
}

/* the directories to load the allowlist from, in order (later files win);
 * call before mrd_service_start() */
void
mrd_service_set_allowlist_dirs(MrdService *self, const char *const *dirs)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	g_return_if_fail(dirs != NULL);

	g_strfreev(self->allowlist_dirs);
	self->allowlist_dirs = g_strdupv((GStrv)dirs);
}

/* ---- GetAllowlist ---- */

static GVariant *
metric_to_variant(MrdService *self, const MrdMetric *metric)
{
	GVariantBuilder builder;
	gint64 now = mrd_clock_get_real_time(self->clock);
	gboolean decided = metric->sample_rate >= 1.0 || metric->sample_rate <= 0.0 ||
			   self->sampling_secret != NULL;

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
				      g_variant_new_boolean(mrd_service_is_sampled(self, metric)));
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
	metrics = mrd_allowlist_get_metrics(self->allowlist);
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
	g_autoptr(GArray) deltas = NULL;
	MrdStore *store;
	guint32 uid = 0;
	guint n = data->batch->len;

	if (!mrd_caller_registry_get_uid_finish(self->callers, result, &uid, &error)) {
		mrd_service_count_drop(self, "unidentified", n);
		return_error(self, data->invocation, error);
		return;
	}
	/* consent may have changed while the caller was identified */
	if (mrd_service_get_consent(self) != METRICS_CONSENT_GRANTED) {
		mrd_service_count_drop(self, "no-consent", n);
		mrd_dbus_recorder_complete_record_events(MRD_DBUS_RECORDER(self), data->invocation,
							 0, n);
		return;
	}
	store = mrd_service_ensure_store(self, &error);
	if (store != NULL) {
		mrd_service_prune(self);
		deltas = mrd_aggregate_events(data->batch, mrd_clock_get_real_time(self->clock));
		/* never into a week already frozen for upload, even when the
		 * clock went back (docs/metrics-recorder.8.md) */
		mrd_deltas_clamp_week(deltas, mrd_service_first_open_week(self));
		mrd_store_add(store, uid, deltas, &error);
	}
	if (g_error_matches(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED)) {
		/* full: new events are dropped, what was stored is kept (the
		 * user already agreed to upload it) */
		mrd_service_count_drop(self, "store-full", n);
		g_debug("store full: %s", error->message);
		mrd_dbus_recorder_complete_record_events(MRD_DBUS_RECORDER(self), data->invocation,
							 0, n + data->n_dropped);
		return;
	}
	if (error != NULL) {
		mrd_service_count_drop(self, "store-failed", n);
		return_error(self, data->invocation, error);
		return;
	}
	self->n_accepted += n;
	mrd_dbus_recorder_complete_record_events(MRD_DBUS_RECORDER(self), data->invocation, n,
						 data->n_dropped);
}

static gboolean
mrd_service_handle_record_events(MrdDBusRecorder *object,
				 GDBusMethodInvocation *invocation,
				 GVariant *events,
				 GVariant *options)
{
	MrdService *self = MRD_SERVICE(object);
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) batch = NULL;
	RecordData *data;
	guint n_dropped;

	if (check_options(options, NULL, &error))
		batch = mrd_event_batch_parse(events, &error);
	if (batch == NULL) {
		/* calls, not events: how many events an unreadable batch held
		 * is not known */
		mrd_service_count_drop(self, "malformed-calls", 1);
		return_error(self, invocation, error);
		return TRUE;
	}
	if (mrd_service_get_consent(self) != METRICS_CONSENT_GRANTED) {
		/* counted in memory only: nothing about events is written */
		mrd_service_count_drop(self, "no-consent", batch->len);
		mrd_dbus_recorder_complete_record_events(object, invocation, 0, batch->len);
		return TRUE;
	}
	/* the allowlist gate: only approved metrics go further; a flooding
	 * client is cut to its rate there, others keep their own */
	n_dropped = mrd_service_gate(self, batch, g_dbus_method_invocation_get_sender(invocation));
	if (batch->len == 0) {
		mrd_dbus_recorder_complete_record_events(object, invocation, 0, n_dropped);
		return TRUE;
	}

	data = g_new0(RecordData, 1);
	data->self = g_object_ref(self);
	data->invocation = invocation;
	data->batch = g_steal_pointer(&batch);
	data->n_dropped = n_dropped;
	mrd_caller_registry_get_uid_async(self->callers,
					  g_dbus_method_invocation_get_sender(invocation),
					  self->cancellable, record_uid_cb, data);
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
		mrd_service_count_drop(self, "rate-limited-calls", 1);
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

static gboolean
mrd_service_apply_consent(MrdService *self, MetricsConsent consent, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (consent == mrd_service_get_consent(self))
		return TRUE;
	/* save the choice first: if deleting fails below, start-up deletes
	 * again, as it does whenever consent is not granted */
	if (!mrd_consent_set(self->consent, consent, mrd_clock_get_real_time(self->clock), error))
		return FALSE;
	if (consent != METRICS_CONSENT_GRANTED && !mrd_service_delete_store(self, &error_local))
		g_warning("consent withdrawn but the store could not be deleted: %s",
			  error_local->message);
	mrd_service_update_sampling_secret(self);
	g_message("consent is now %s", metrics_consent_to_string(consent));
	mrd_service_publish_consent(self);
	return TRUE;
}

static void
set_consent_authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;

	mrd_service_end_check(data);
	if (!mrd_authority_check_finish(MRD_AUTHORITY(source), result, &error) ||
	    !mrd_service_apply_consent(data->self, data->consent, &error)) {
		return_error(data->self, data->invocation, error);
		return;
	}
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
	g_autoptr(GVariant) rows = NULL;

	if (mrd_service_get_consent(self) != METRICS_CONSENT_GRANTED) {
		/* nothing is stored without consent */
		rows = g_variant_ref_sink(
			g_variant_new_array(G_VARIANT_TYPE(METRICS_WIRE_AGGREGATE), NULL, 0));
	} else {
		MrdStore *store = mrd_service_ensure_store(self, &error);

		if (store != NULL)
			rows = mrd_store_dump(store, data->all_users, data->uid, &error);
	}
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

	if (mrd_service_get_consent(self) == METRICS_CONSENT_GRANTED) {
		MrdStore *store = mrd_service_ensure_store(self, &error);

		if (store == NULL ||
		    !mrd_store_clear(store, data->all_users, data->uid, &removed, &error)) {
			return_error(self, invocation, error);
			return;
		}
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

static gboolean
mrd_service_handle_get_status(MrdDBusRecorder *object,
			      GDBusMethodInvocation *invocation,
			      GVariant *options)
{
	MrdService *self = MRD_SERVICE(object);
	g_autoptr(GError) error = NULL;
	GVariantBuilder status;
	GVariantBuilder drops;
	GHashTableIter iter;
	gpointer key, value;
	MrdStoreUsage usage = {0};

	if (!check_options(options, NULL, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}
	if (self->store != NULL && !mrd_store_get_usage(self->store, &usage, &error)) {
		return_error(self, invocation, error);
		return TRUE;
	}

	g_variant_builder_init(&drops, G_VARIANT_TYPE("a{st}"));
	g_hash_table_iter_init(&iter, self->drops);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_variant_builder_add(&drops, "{st}", key, *(guint64 *)value);

	g_variant_builder_init(&status, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(
		&status, "{sv}", "consent",
		g_variant_new_string(metrics_consent_to_string(mrd_service_get_consent(self))));
	g_variant_builder_add(&status, "{sv}", "consent-timestamp",
			      g_variant_new_int64(mrd_consent_get_timestamp(self->consent)));
	g_variant_builder_add(&status, "{sv}", "stored-keys", g_variant_new_uint64(usage.n_keys));
	g_variant_builder_add(&status, "{sv}", "stored-events",
			      g_variant_new_uint64(usage.n_events));
	g_variant_builder_add(&status, "{sv}", "stored-bytes",
			      g_variant_new_uint64(usage.file_bytes));
	g_variant_builder_add(&status, "{sv}", "stored-weeks", g_variant_new_uint64(usage.n_weeks));
	g_variant_builder_add(&status, "{sv}", "store-used-bytes",
			      g_variant_new_uint64(usage.used_bytes));
	g_variant_builder_add(&status, "{sv}", "store-max-bytes",
			      g_variant_new_uint64(self->max_store_size));
	g_variant_builder_add(&status, "{sv}", "store-full", g_variant_new_boolean(usage.full));
	g_variant_builder_add(&status, "{sv}", "accepted", g_variant_new_uint64(self->n_accepted));
	g_variant_builder_add(&status, "{sv}", "drops", g_variant_builder_end(&drops));

	g_variant_builder_init(&drops, G_VARIANT_TYPE("a(sst)"));
	g_hash_table_iter_init(&iter, self->drops_by_metric);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_auto(GStrv) parts = g_strsplit(key, "\t", 2);
		g_variant_builder_add(&drops, "(sst)", parts[0], parts[1], *(guint64 *)value);
	}
	g_variant_builder_add(&status, "{sv}", "drops-by-metric", g_variant_builder_end(&drops));
	g_variant_builder_add(&status, "{sv}", "allowlisted-metrics",
			      g_variant_new_uint32(mrd_allowlist_get_size(self->allowlist)));
	g_variant_builder_add(
		&status, "{sv}", "clients",
		g_variant_new_uint32(mrd_caller_registry_get_n_cached(self->callers)));
	/* upload (issue 5) */
	{
		guint64 n_pending = 0, n_set_aside = 0;
		gint64 next_try = 0, last_sent = 0;

		if (self->outbox != NULL &&
		    !mrd_outbox_get_stats(self->outbox, &n_pending, &n_set_aside, &next_try,
					  &last_sent, &error)) {
			g_variant_builder_clear(&status);
			return_error(self, invocation, error);
			return TRUE;
		}
		g_variant_builder_add(&status, "{sv}", "pending-uploads",
				      g_variant_new_uint64(n_pending));
		g_variant_builder_add(&status, "{sv}", "set-aside",
				      g_variant_new_uint64(n_set_aside));
		g_variant_builder_add(&status, "{sv}", "next-upload",
				      g_variant_new_int64(next_try));
		g_variant_builder_add(&status, "{sv}", "last-upload",
				      g_variant_new_int64(last_sent));
		g_variant_builder_add(&status, "{sv}", "server-url",
				      g_variant_new_string(self->config->server_url));
		/* the oldest stored week goes to the outbox when it closes,
		 * then out at a random moment in the window after that */
		g_variant_builder_add(
			&status, "{sv}", "next-week-close",
			g_variant_new_int64(
				usage.oldest_week != 0 ? usage.oldest_week + MRD_WEEK_USEC : 0));
		g_variant_builder_add(&status, "{sv}", "upload-window-days",
				      g_variant_new_uint32(self->config->window_days));
	}
	mrd_dbus_recorder_complete_get_status(object, invocation, g_variant_builder_end(&status));
	return TRUE;
}

/* ---- idle exit ---- */

/* asked by mrd-main (MrdIdle) before it exits for lack of calls: TRUE keeps
 * the daemon running for another idle period */
gboolean
mrd_service_get_idle_inhibited(MrdService *self)
{
	g_return_val_if_fail(MRD_IS_SERVICE(self), FALSE);

	/* an upload due soon keeps the daemon up to send it; one due later
	 * is sent when metrics-upload.timer or the next app wakes it */
	{
		guint64 n_pending = 0, n_set_aside = 0;
		gint64 next_try = 0, last_sent = 0;

		if (self->outbox == NULL ||
		    !mrd_outbox_get_stats(self->outbox, &n_pending, &n_set_aside, &next_try,
					  &last_sent, NULL))
			return FALSE;
		return n_pending > 0 && next_try > 0 &&
		       next_try <= mrd_clock_get_real_time(self->clock) + IDLE_UPLOAD_HORIZON;
	}
}

/* ---- upload (issue 5): UploadNow, GetPendingUploads, GetSentUploads ---- */

static void
upload_now_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;
	guint n_sent = 0, n_failed = 0;

	if (!mrd_uploader_upload_now_finish(MRD_UPLOADER(source), result, &n_sent, &n_failed,
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
	g_autoptr(GError) error = NULL;

	if (mrd_service_ensure_store(self, &error) == NULL) {
		return_error(self, invocation, error);
		return;
	}
	mrd_uploader_upload_now_async(self->uploader, self->cancellable, upload_now_done_cb,
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
	g_autoptr(GPtrArray) queued = NULL;
	g_autoptr(GPtrArray) next = NULL;
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	if (mrd_service_get_consent(self) == METRICS_CONSENT_GRANTED) {
		if (mrd_service_ensure_store(self, &error) != NULL) {
			queued = mrd_outbox_list(self->outbox, &error);
			if (queued != NULL)
				next = mrd_outbox_preview(self->outbox,
							  mrd_clock_get_real_time(self->clock),
							  self->config->max_request_size, &error);
		}
		if (error != NULL) {
			g_variant_builder_clear(&builder);
			return_error(self, invocation, error);
			return;
		}
		for (guint i = 0; i < queued->len; i++)
			add_pending(&builder, g_ptr_array_index(queued, i));
		for (guint i = 0; i < next->len; i++)
			add_pending(&builder, g_ptr_array_index(next, i));
	}
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
	g_autoptr(GPtrArray) sent = NULL;
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	if (mrd_service_get_consent(self) == METRICS_CONSENT_GRANTED) {
		if (mrd_service_ensure_store(self, &error) != NULL)
			sent = mrd_outbox_list_sent(self->outbox, &error);
		if (sent == NULL) {
			g_variant_builder_clear(&builder);
			return_error(self, invocation, error);
			return;
		}
		for (guint i = 0; i < sent->len; i++)
			add_sent(&builder, g_ptr_array_index(sent, i));
	}
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

/* the daemon's configuration; call before mrd_service_start() */
void
mrd_service_set_config(MrdService *self, MrdConfig *config)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	g_return_if_fail(config != NULL);
	g_return_if_fail(self->uploader == NULL);

	mrd_config_free(self->config);
	self->config = config;
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
	/* upload (issue 5) */
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
	self->state_dir = g_strdup(state_dir);
	self->store_path = g_build_filename(state_dir, STORE_FILENAME, NULL);
	self->authority = g_object_ref(authority);
	self->clock = g_object_ref(clock);
	return self;
}

/* loads the consent record, makes the store match it, and exports the
 * object on the bus */
gboolean
mrd_service_start(MrdService *self, GError **error)
{
	g_autofree char *consent_path = NULL;
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(MRD_IS_SERVICE(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	/* an unusable state directory degrades, it does not stop the daemon:
	 * consent stays unknown and calls that need storage fail clearly */
	if (g_mkdir_with_parents(self->state_dir, 0700) != 0) {
		int saved_errno = errno;
		g_warning("cannot create the state directory %s: %s", self->state_dir,
			  g_strerror(saved_errno));
	}
	consent_path = g_build_filename(self->state_dir, CONSENT_FILENAME, NULL);
	self->consent = mrd_consent_new(consent_path);
	self->callers = mrd_caller_registry_new(self->connection);
	mrd_caller_registry_set_rate_limit(self->callers, self->rate_limit);
	mrd_caller_registry_set_call_limit(self->callers, self->call_rate_limit,
					   MRD_MAX_PENDING_CHECKS);
	/* before the store opens: the uploader asks it what may leave */
	mrd_service_reload_allowlist(self);

	if (mrd_service_get_consent(self) == METRICS_CONSENT_GRANTED) {
		if (mrd_service_ensure_store(self, &error_local) == NULL)
			g_warning("the metrics store is not available; will retry: %s",
				  error_local->message);
	} else if (!mrd_service_delete_store(self, &error_local)) {
		/* left over from an interrupted "no" */
		g_warning("cannot delete the store of a withdrawn consent: %s",
			  error_local->message);
	}

	mrd_service_update_sampling_secret(self);
	mrd_service_watch_allowlist(self);

	mrd_dbus_recorder_set_version(MRD_DBUS_RECORDER(self), INTERFACE_VERSION);
	mrd_service_publish_consent(self);
	return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self), self->connection,
						METRICS_DBUS_PATH, error);
}

/* the cap on the store's size in bytes, and how many weeks unsent data is
 * kept; take effect when the store is next opened */
void
mrd_service_set_store_limits(MrdService *self, guint64 max_bytes, guint retention_weeks)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	self->max_store_size = max_bytes;
	self->retention_weeks = MAX(retention_weeks, 1);
}

/* events per second one client may record; 0 for no limit */
void
mrd_service_set_rate_limit(MrdService *self, guint events_per_second)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	self->rate_limit = events_per_second;
	if (self->callers != NULL)
		mrd_caller_registry_set_rate_limit(self->callers, events_per_second);
}

/* calls per second one client may make, of any method; 0 for no limit */
void
mrd_service_set_call_rate_limit(MrdService *self, guint calls_per_second)
{
	g_return_if_fail(MRD_IS_SERVICE(self));
	self->call_rate_limit = calls_per_second;
	if (self->callers != NULL)
		mrd_caller_registry_set_call_limit(self->callers, calls_per_second,
						   MRD_MAX_PENDING_CHECKS);
}

/* the registry of callers, once started: lets unit tests tell the uid of
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
	mrd_service_stop_uploads(self);
	if (g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self)) != NULL)
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self));
	mrd_service_save_drops(self);
	if (self->store != NULL)
		mrd_store_close(self->store);
}

static void
mrd_service_dispose(GObject *object)
{
	MrdService *self = MRD_SERVICE(object);

	g_clear_handle_id(&self->allowlist_reload_id, g_source_remove);
	g_clear_handle_id(&self->drops_save_id, g_source_remove);
	g_clear_pointer(&self->allowlist_monitors, g_ptr_array_unref);
	g_clear_object(&self->allowlist);
	mrd_service_stop_uploads(self);
	g_clear_object(&self->store);
	g_clear_object(&self->callers);
	g_clear_object(&self->consent);
	g_clear_object(&self->authority);
	g_clear_object(&self->clock);
	g_clear_object(&self->connection);
	g_clear_object(&self->cancellable);

	G_OBJECT_CLASS(mrd_service_parent_class)->dispose(object);
}

static void
mrd_service_finalize(GObject *object)
{
	MrdService *self = MRD_SERVICE(object);

	g_free(self->state_dir);
	g_free(self->store_path);
	g_clear_pointer(&self->drops, g_hash_table_unref);
	g_clear_pointer(&self->drops_unsaved, g_hash_table_unref);
	g_clear_pointer(&self->drops_by_metric, g_hash_table_unref);
	g_clear_pointer(&self->drops_logged, g_hash_table_unref);
	g_clear_pointer(&self->sampled, g_hash_table_unref);
	g_clear_pointer(&self->sampling_secret, g_bytes_unref);
	g_clear_pointer(&self->caps, mrd_cap_table_free);
	g_strfreev(self->allowlist_dirs);
	g_clear_pointer(&self->config, mrd_config_free);

	G_OBJECT_CLASS(mrd_service_parent_class)->finalize(object);
}

static void
mrd_service_class_init(MrdServiceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_service_dispose;
	object_class->finalize = mrd_service_finalize;
}

static void
mrd_service_init(MrdService *self)
{
	self->cancellable = g_cancellable_new();
	self->rate_limit = MRD_DEFAULT_RATE_LIMIT;
	self->call_rate_limit = MRD_DEFAULT_CALL_RATE_LIMIT;
	mrd_service_limit_calls(self);
	self->max_store_size = MRD_DEFAULT_MAX_STORE_SIZE;
	self->retention_weeks = MRD_DEFAULT_RETENTION_WEEKS;
	self->drops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->drops_unsaved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	self->allowlist_dirs = g_strsplit(MRD_DEFAULT_ALLOWLIST_DIRS, ":", -1);
	self->allowlist = mrd_allowlist_new(NULL);
	self->allowlist_monitors = g_ptr_array_new_with_free_func(g_object_unref);
	self->sampled = g_hash_table_new(g_direct_hash, g_direct_equal);
	self->caps = mrd_cap_table_new(cap_init_from_store, self);
	self->drops_by_metric = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->drops_logged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->config = mrd_config_new();
}
