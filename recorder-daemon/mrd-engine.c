/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdEngine"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "metrics-error.h"
#include "mrd-aggregator.h"
#include "mrd-allowlist-source.h"
#include "mrd-consent.h"
#include "mrd-engine.h"
#include "mrd-gate.h"
#include "mrd-uploads.h"
#include "mrd-user-choices.h"
#include "mrd-week.h"

/*
 * The engine: what the daemon does with events, below the D-Bus surface.
 * A recorded batch goes
 *
 *   (mrd_engine_record_batch_async) the caller identified → gate →
 *   aggregate → store
 *     → freeze → upload (the outbox and the uploader, once a week closes)
 *
 * and the engine owns the life cycle that goes with consent: the store,
 * the outbox and the uploader exist only while consent is granted, and
 * saying no deletes them. The consent record is the only file written
 * before that.
 */

#define STORE_FILENAME "metrics.db"
#define CONSENT_FILENAME "consent.conf"
#define USER_CHOICES_FILENAME "user-choices.conf"
#define SAMPLING_SECRET_FILENAME "sampling-secret"
/* an upload due within this keeps the daemon from exiting when idle */
#define IDLE_UPLOAD_HORIZON (15 * G_TIME_SPAN_MINUTE)

struct _MrdEngine {
	GObject parent_instance;

	char *state_dir;		      /* (owned) */
	char *store_path;		      /* (owned) */
	char *secret_path;		      /* (owned) */
	MrdClock *clock;		      /* (owned) */
	MrdConfig *config;		      /* (owned) */
	MrdCallerRegistry *callers;	      /* (owned) */
	MrdConsent *consent;		      /* (owned) (nullable) until started */
	MrdUserChoices *user_choices;	      /* (owned) (nullable) until started */
	MrdDrops *drops;		      /* (owned) */
	MrdGate *gate;			      /* (owned) */
	MrdAllowlistSource *allowlist_source; /* (owned) */
	GCancellable *cancellable;	      /* (owned) */

	/* open only while consent is granted */
	MrdStore *store;     /* (owned) (nullable) */
	MrdUploads *uploads; /* (owned) (nullable) */

	guint64 max_store_size; /* bytes */
	guint retention_weeks;	/* unsent weeks older than this are dropped */
	gint64 last_prune;	/* monotonic usec */
	guint64 n_accepted;
	/* uid → events accepted since start (GetStatus without all): one
	 * entry per user who recorded */
	GHashTable *accepted_by_uid; /* (owned) (element-type guint guint64) */
};

G_DEFINE_TYPE(MrdEngine, mrd_engine, G_TYPE_OBJECT)

enum {
	SIGNAL_CONSENT_CHANGED,
	N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void
allowlist_changed_cb(MrdAllowlistSource *source, gpointer user_data);

MrdEngine *
mrd_engine_new(const char *state_dir, MrdClock *clock, MrdCallerRegistry *callers)
{
	MrdEngine *self;

	g_return_val_if_fail(state_dir != NULL, NULL);
	g_return_val_if_fail(MRD_IS_CLOCK(clock), NULL);
	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(callers), NULL);

	self = g_object_new(MRD_TYPE_ENGINE, NULL);
	self->state_dir = g_strdup(state_dir);
	self->store_path = g_build_filename(state_dir, STORE_FILENAME, NULL);
	self->secret_path = g_build_filename(state_dir, SAMPLING_SECRET_FILENAME, NULL);
	self->clock = g_object_ref(clock);
	self->callers = g_object_ref(callers);
	self->gate = mrd_gate_new(callers, self->drops);
	mrd_engine_set_allowlist_dirs(self, NULL);
	return self;
}

/* the daemon's configuration (taken); call before mrd_engine_start() */
void
mrd_engine_set_config(MrdEngine *self, MrdConfig *config)
{
	g_return_if_fail(MRD_IS_ENGINE(self));
	g_return_if_fail(config != NULL);
	g_return_if_fail(self->uploads == NULL);

	mrd_config_free(self->config);
	self->config = config;
}

/* the cap on the store's size in bytes, and how many weeks unsent data is
 * kept; take effect when the store is next opened */
void
mrd_engine_set_store_limits(MrdEngine *self, guint64 max_bytes, guint retention_weeks)
{
	g_return_if_fail(MRD_IS_ENGINE(self));
	self->max_store_size = max_bytes;
	self->retention_weeks = MAX(retention_weeks, 1);
}

/* @dirs: (nullable): the directories to load the allowlist from, in order
 * (later files win), %NULL for the default; call before mrd_engine_start() */
void
mrd_engine_set_allowlist_dirs(MrdEngine *self, const char *const *dirs)
{
	g_return_if_fail(MRD_IS_ENGINE(self));

	if (self->allowlist_source != NULL)
		g_signal_handlers_disconnect_by_data(self->allowlist_source, self);
	g_clear_object(&self->allowlist_source);
	self->allowlist_source = mrd_allowlist_source_new(dirs);
	g_signal_connect(self->allowlist_source, "changed", G_CALLBACK(allowlist_changed_cb), self);
}

/* ---- the store and what lives with it ---- */

/* retention, in one place, at most once a day (and when the store
 * opens): drops the aggregates and the pending requests of weeks older
 * than the limit, which could not be uploaded, and forgets the archive
 * of what was sent long ago */
static void
maintain(MrdEngine *self, gboolean now_anyway)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *oldest = NULL;
	gint64 now = mrd_clock_get_real_time(self->clock);
	guint64 n_events = 0;

	if (self->store == NULL || (!now_anyway && self->last_prune != 0 &&
				    g_get_monotonic_time() - self->last_prune < G_TIME_SPAN_DAY))
		return;
	self->last_prune = g_get_monotonic_time();
	oldest = mrd_week_to_string(mrd_week_start(now) -
				    (gint64)self->retention_weeks * MRD_WEEK_USEC);
	if (!mrd_store_prune(self->store, oldest, &n_events, &error)) {
		g_warning("cannot drop data older than %u weeks: %s", self->retention_weeks,
			  error->message);
		g_clear_error(&error);
	} else if (n_events > 0) {
		g_message("dropped %" G_GUINT64_FORMAT " events of weeks before %s: older than "
			  "%u weeks and never uploaded",
			  n_events, oldest, self->retention_weeks);
		mrd_drops_count(self->drops, MRD_DROP_RETENTION, n_events);
	}
	if (self->uploads != NULL && !mrd_uploads_prune(self->uploads, oldest, &error))
		g_warning("cannot prune the upload archive: %s", error->message);
}

static void
start_uploads(MrdEngine *self)
{
	self->uploads = mrd_uploads_new(self->store, self->clock, self->config, self->drops);
	mrd_uploads_set_allowlist(self->uploads, mrd_engine_get_allowlist(self));
	maintain(self, TRUE);
	mrd_uploads_start(self->uploads);
}

/* stops sending (cancelling a request in flight) before the store goes */
static void
stop_uploads(MrdEngine *self)
{
	if (self->uploads != NULL)
		mrd_uploads_stop(self->uploads);
	g_clear_object(&self->uploads);
}

/* what a user who opted out had stored goes, also when the daemon stopped
 * between saving the choice and deleting (mrd_engine_set_user_choice()) */
static void
forget_user(MrdEngine *self, guint32 uid)
{
	g_autoptr(GError) error = NULL;
	guint64 n_rows = 0, n_requests = 0;

	if (!mrd_store_forget(self->store, TRUE, uid, NULL, &n_rows, &n_requests, &error)) {
		g_warning("cannot delete the data of a user who opted out: %s", error->message);
		return;
	}
	if (n_rows > 0 || n_requests > 0)
		g_message("a user opted out: deleted %" G_GUINT64_FORMAT
			  " stored aggregates and %" G_GUINT64_FORMAT
			  " requests not sent yet that held their data",
			  n_rows, n_requests);
}

/* (transfer container) (element-type guint8): the ids of the allowlisted
 * metrics of the categories of @mask; they point into the allowlist */
static GPtrArray *
metrics_of_categories(MrdEngine *self, guint mask)
{
	g_autoptr(GPtrArray) metrics = mrd_allowlist_get_metrics(mrd_engine_get_allowlist(self));
	GPtrArray *ids = g_ptr_array_new();

	for (guint i = 0; i < metrics->len; i++) {
		const MrdMetric *metric = g_ptr_array_index(metrics, i);

		if ((mask & MRD_CATEGORY_BIT(metric->category)) != 0)
			g_ptr_array_add(ids, (gpointer)metric->id);
	}
	return ids;
}

/* deletes what is stored of the categories of @mask: everybody's, or
 * with @one_user of @uid only */
static void
forget_categories(MrdEngine *self, gboolean one_user, guint32 uid, guint mask)
{
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GError) error = NULL;
	guint64 n_rows = 0, n_requests = 0;

	if (self->store == NULL || mask == 0)
		return;
	ids = metrics_of_categories(self, mask);
	if (ids->len == 0)
		return;
	if (!mrd_store_forget(self->store, one_user, uid, ids, &n_rows, &n_requests, &error)) {
		g_warning("cannot delete the data of a category turned off: %s", error->message);
		return;
	}
	if (n_rows > 0 || n_requests > 0)
		g_message("a category was turned off%s: deleted %" G_GUINT64_FORMAT
			  " stored aggregates and %" G_GUINT64_FORMAT " requests not sent yet",
			  one_user ? " for one user" : "", n_rows, n_requests);
}

/* what the choices exclude goes when the store opens: also when the daemon
 * stopped between saving a choice and deleting */
static void
forget_opted_out(MrdEngine *self)
{
	g_autoptr(GArray) uids = NULL;
	g_autoptr(GArray) with_off = NULL;

	if (self->consent != NULL)
		forget_categories(self, FALSE, 0,
				  MRD_ALL_CATEGORIES & ~mrd_consent_get_agreed(self->consent));
	if (self->user_choices == NULL)
		return;
	uids = mrd_user_choices_list_opted_out(self->user_choices);
	for (guint i = 0; i < uids->len; i++)
		forget_user(self, g_array_index(uids, guint32, i));
	with_off = mrd_user_choices_list_with_off(self->user_choices);
	for (guint i = 0; i < with_off->len; i++) {
		guint32 uid = g_array_index(with_off, guint32, i);

		forget_categories(self, TRUE, uid,
				  mrd_user_choices_get_off(self->user_choices, uid));
	}
}

/* the store exists only while consent is granted; opened on demand so a
 * failure to open it (full disk, say) is retried on the next call */
static MrdStore *
ensure_store(MrdEngine *self, GError **error)
{
	if (self->store != NULL)
		return self->store;
	if (mrd_engine_get_consent(self) != METRICS_CONSENT_GRANTED) {
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
	mrd_drops_set_store(self->drops, self->store, TRUE);
	forget_opted_out(self);
	/* the weekly counts start again from what this store holds */
	mrd_cap_table_reset(mrd_gate_get_caps(self->gate));
	start_uploads(self);
	return self->store;
}

static gboolean
delete_store(MrdEngine *self, GError **error)
{
	stop_uploads(self);
	/* the drop counters go with the store */
	mrd_drops_set_store(self->drops, NULL, FALSE);
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

/* the gate's sampling secret exists only while consent is granted: a new
 * consent gets a new secret, so its sampling decisions cannot be linked
 * to the old ones */
static void
update_sampling_secret(MrdEngine *self)
{
	g_autoptr(GBytes) secret = NULL;
	g_autoptr(GError) error = NULL;

	if (mrd_engine_get_consent(self) != METRICS_CONSENT_GRANTED) {
		mrd_gate_set_secret(self->gate, NULL);
		if (!mrd_sampling_secret_delete(self->secret_path, &error))
			g_warning("%s", error->message);
		return;
	}
	secret = mrd_sampling_secret_load(self->secret_path, &error);
	if (secret == NULL)
		g_warning("%s", error->message);
	mrd_gate_set_secret(self->gate, secret);
}

/* ---- life cycle ---- */

/* loads the consent record and makes the store match it */
void
mrd_engine_start(MrdEngine *self)
{
	g_autofree char *consent_path = NULL;
	g_autofree char *choices_path = NULL;
	g_autoptr(GError) error = NULL;

	g_return_if_fail(MRD_IS_ENGINE(self));
	g_return_if_fail(self->consent == NULL);

	/* an unusable state directory degrades, it does not stop the daemon:
	 * consent stays unknown and calls that need storage fail clearly */
	if (g_mkdir_with_parents(self->state_dir, 0700) != 0) {
		int saved_errno = errno;
		g_warning("cannot create the state directory %s: %s", self->state_dir,
			  g_strerror(saved_errno));
	}
	consent_path = g_build_filename(self->state_dir, CONSENT_FILENAME, NULL);
	self->consent = mrd_consent_new(consent_path);
	choices_path = g_build_filename(self->state_dir, USER_CHOICES_FILENAME, NULL);
	self->user_choices = mrd_user_choices_new(choices_path);
	/* before the store opens: the outbox asks what may leave */
	mrd_allowlist_source_load(self->allowlist_source);

	if (mrd_engine_get_consent(self) == METRICS_CONSENT_GRANTED) {
		if (ensure_store(self, &error) == NULL)
			g_warning("the metrics store is not available; will retry: %s",
				  error->message);
	} else if (!delete_store(self, &error)) {
		/* left over from an interrupted "no" */
		g_warning("cannot delete the store of a withdrawn consent: %s", error->message);
	}
	update_sampling_secret(self);
	mrd_allowlist_source_watch(self->allowlist_source);
}

/* stops uploading and saves what is pending; the engine answers no more */
void
mrd_engine_stop(MrdEngine *self)
{
	g_return_if_fail(MRD_IS_ENGINE(self));

	g_cancellable_cancel(self->cancellable);
	stop_uploads(self);
	mrd_drops_save(self->drops);
	if (self->store != NULL)
		mrd_store_close(self->store);
}

/* ---- consent ---- */

MetricsConsent
mrd_engine_get_consent(MrdEngine *self)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), METRICS_CONSENT_UNKNOWN);

	if (self->consent == NULL)
		return METRICS_CONSENT_UNKNOWN;
	return mrd_consent_get_state(self->consent);
}

gint64
mrd_engine_get_consent_timestamp(MrdEngine *self)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), 0);

	if (self->consent == NULL)
		return 0;
	return mrd_consent_get_timestamp(self->consent);
}

/**
 * mrd_engine_set_consent:
 * @consent: granted or denied
 *
 * Saves the choice; anything but granted deletes what is stored.
 *
 * Returns: whether the choice was saved
 */
gboolean
mrd_engine_set_consent(MrdEngine *self, MetricsConsent consent, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);
	g_return_val_if_fail(self->consent != NULL, FALSE);

	if (consent == mrd_engine_get_consent(self))
		return TRUE;
	/* save the choice first: if deleting fails below, start-up deletes
	 * again, as it does whenever consent is not granted */
	if (!mrd_consent_set(self->consent, consent, mrd_clock_get_real_time(self->clock), error))
		return FALSE;
	if (consent != METRICS_CONSENT_GRANTED && !delete_store(self, &error_local))
		g_warning("consent withdrawn but the store could not be deleted: %s",
			  error_local->message);
	update_sampling_secret(self);
	g_message("consent is now %s", metrics_consent_to_string(consent));
	g_signal_emit(self, signals[SIGNAL_CONSENT_CHANGED], 0);
	return TRUE;
}

/* ---- each user's own choice ---- */

/* the choice of @uid; "out" until the engine started */
MetricsUserChoice
mrd_engine_get_user_choice(MrdEngine *self, guint32 uid)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), METRICS_USER_CHOICE_OUT);

	if (self->user_choices == NULL)
		return METRICS_USER_CHOICE_OUT;
	return mrd_user_choices_get(self->user_choices, uid);
}

/**
 * mrd_engine_set_user_choice:
 * @uid: the caller's uid, from the bus
 * @choice: its choice
 * @changed: (out) (optional): whether it differs from the one before
 *
 * Saves the choice of @uid, whatever the machine's consent (it is not
 * event data). Opting out deletes what @uid has stored at once, and the
 * requests not sent yet that hold any of it; events of @uid are dropped
 * from then on.
 *
 * Returns: whether the choice was saved
 */
gboolean
mrd_engine_set_user_choice(MrdEngine *self,
			   guint32 uid,
			   MetricsUserChoice choice,
			   gboolean *changed,
			   GError **error)
{
	gboolean differs;

	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);
	g_return_val_if_fail(self->user_choices != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	differs = mrd_user_choices_get(self->user_choices, uid) != choice;
	if (changed != NULL)
		*changed = differs;
	if (!differs)
		return TRUE;
	/* saved first: if the daemon stops before the deletion below, the
	 * store deletes it when it next opens */
	if (!mrd_user_choices_set(self->user_choices, uid, choice, error))
		return FALSE;
	g_message("a user's own choice is now %s", metrics_user_choice_to_string(choice));
	g_debug("uid %u chose %s", uid, metrics_user_choice_to_string(choice));
	if (choice == METRICS_USER_CHOICE_OUT && self->store != NULL) {
		/* a request in flight may hold their share: cancelled first */
		stop_uploads(self);
		forget_user(self, uid);
		start_uploads(self);
	}
	return TRUE;
}

/* ---- categories ---- */

/* the machine's categories: @agreed (may be recorded while consent is
 * granted) and @refused, as MRD_CATEGORY_BIT()s; the others were never
 * asked about */
void
mrd_engine_get_categories(MrdEngine *self, guint *agreed, guint *refused)
{
	g_return_if_fail(MRD_IS_ENGINE(self));

	*agreed = self->consent != NULL ? mrd_consent_get_agreed(self->consent) : 0;
	*refused = self->consent != NULL ? mrd_consent_get_refused(self->consent) : 0;
}

/**
 * mrd_engine_set_categories:
 * @on: categories to turn on (MRD_CATEGORY_BIT()s)
 * @off: categories to turn off, disjoint from @on
 * @changed: (out): whether anything changed
 *
 * Saves the machine's choice of categories; what is stored of a category
 * turned off is deleted at once, everybody's.
 *
 * Returns: whether it was saved
 */
gboolean
mrd_engine_set_categories(MrdEngine *self, guint on, guint off, gboolean *changed, GError **error)
{
	guint agreed = 0, refused = 0;

	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);
	g_return_val_if_fail(self->consent != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	mrd_engine_get_categories(self, &agreed, &refused);
	*changed = (on & ~agreed) != 0 || (off & ~refused) != 0;
	if (!*changed)
		return TRUE;
	if (!mrd_consent_set_categories(self->consent, on, off, error))
		return FALSE;
	g_message("categories changed: agreed %#x, refused %#x",
		  mrd_consent_get_agreed(self->consent), mrd_consent_get_refused(self->consent));
	if ((off & agreed) != 0 && self->store != NULL) {
		stop_uploads(self);
		forget_categories(self, FALSE, 0, off & agreed);
		start_uploads(self);
	}
	return TRUE;
}

/* the categories @uid turned off for itself */
guint
mrd_engine_get_user_off(MrdEngine *self, guint32 uid)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), MRD_ALL_CATEGORIES);

	if (self->user_choices == NULL)
		return MRD_ALL_CATEGORIES;
	return mrd_user_choices_get_off(self->user_choices, uid);
}

/* saves the categories @uid turns off for itself (@off, the others on);
 * what @uid stored of those newly off is deleted at once */
gboolean
mrd_engine_set_user_off(MrdEngine *self, guint32 uid, guint off, GError **error)
{
	guint before;

	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);
	g_return_val_if_fail(self->user_choices != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	before = mrd_user_choices_get_off(self->user_choices, uid);
	if (before == off)
		return TRUE;
	if (!mrd_user_choices_set_off(self->user_choices, uid, off, error))
		return FALSE;
	g_debug("uid %u turned categories %#x off", uid, off);
	if ((off & ~before) != 0 && self->store != NULL) {
		stop_uploads(self);
		forget_categories(self, TRUE, uid, off & ~before);
		start_uploads(self);
	}
	return TRUE;
}

/* ---- the allowlist ---- */

static void
allowlist_changed_cb(MrdAllowlistSource *source, gpointer user_data)
{
	MrdEngine *self = MRD_ENGINE(user_data);

	MrdAllowlist *allowlist = mrd_allowlist_source_get_allowlist(source);

	mrd_gate_set_allowlist(self->gate, allowlist);
	if (self->uploads != NULL)
		mrd_uploads_set_allowlist(self->uploads, allowlist);
}

/* (transfer none): the allowlist as loaded last */
MrdAllowlist *
mrd_engine_get_allowlist(MrdEngine *self)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), NULL);
	return mrd_gate_get_allowlist(self->gate);
}

/* whether sampling is decided for @metric, and then in @sampled whether
 * this install records it */
gboolean
mrd_engine_get_sampling(MrdEngine *self, const MrdMetric *metric, gboolean *sampled)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);
	return mrd_gate_get_sampling(self->gate, metric, sampled);
}

/* loads the allowlist again (on SIGHUP) */
void
mrd_engine_reload_allowlist(MrdEngine *self)
{
	g_return_if_fail(MRD_IS_ENGINE(self));
	mrd_allowlist_source_load(self->allowlist_source);
}

/* (transfer none): the drop counters */
MrdDrops *
mrd_engine_get_drops(MrdEngine *self)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), NULL);
	return self->drops;
}

/* ---- recording ---- */

/* the first week events may still go to: none before the last frozen */
static gint64
first_open_week(MrdEngine *self)
{
	return self->uploads != NULL ? mrd_uploads_get_first_open_week(self->uploads) : 0;
}

static void
seed_cap_cb(const guint8 *metric_id, guint64 count, gpointer user_data)
{
	mrd_cap_table_seed(user_data, metric_id, count);
}

/* gives the weekly caps what the store already holds of @week */
static void
seed_caps(MrdEngine *self, gint64 week)
{
	MrdCapTable *caps = mrd_gate_get_caps(self->gate);
	g_autofree char *week_str = NULL;
	g_autoptr(GError) error = NULL;

	if (mrd_cap_table_get_week(caps) == week)
		return;
	mrd_cap_table_start_week(caps, week);
	if (self->store == NULL)
		return;
	week_str = mrd_week_to_string(week);
	if (!mrd_store_foreach_week_count(self->store, week_str, seed_cap_cb, caps, &error))
		g_debug("the weekly caps start at 0: %s", error->message);
}

/* keeps the events of @batch that may be recorded and counts the others:
 * all of them without consent, else those the gate refuses (checking @who
 * against each metric's recorders); returns how many were dropped */
static guint
gate_batch(MrdEngine *self, GArray *batch, const char *sender, const MrdRecorderIdentity *who)
{
	gint64 now, week;
	guint n = batch->len;

	if (mrd_engine_get_consent(self) != METRICS_CONSENT_GRANTED) {
		/* counted in memory only: nothing about events is written */
		mrd_drops_count(self->drops, MRD_DROP_NO_CONSENT, n);
		g_array_set_size(batch, 0);
		return n;
	}
	if (mrd_engine_get_user_choice(self, who->uid) == METRICS_USER_CHOICE_OUT) {
		/* the user said "not for me": not even the gate's counts */
		mrd_drops_count(self->drops, MRD_DROP_USER_OPTED_OUT, n);
		g_array_set_size(batch, 0);
		return n;
	}
	/* so that the drops counted here are kept, and the caps seeded */
	ensure_store(self, NULL);
	now = mrd_clock_get_real_time(self->clock);
	week = MAX(mrd_week_start(now), first_open_week(self));
	seed_caps(self, week);
	return mrd_gate_filter(self->gate, batch, sender, who, now, week,
			       mrd_consent_get_agreed(self->consent) &
				       ~mrd_engine_get_user_off(self, who->uid));
}

/* aggregates @batch (what passed gate_batch()) by week and adds it to the
 * store of @uid in one transaction; @n_kept: how many were stored, 0 when
 * consent was withdrawn meanwhile or the store is full (then they are
 * counted as dropped); FALSE when the store could not be written */
static gboolean
store_batch(MrdEngine *self, guint32 uid, GArray *batch, guint *n_kept, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GArray) deltas = NULL;
	guint n = batch->len;

	*n_kept = 0;
	/* consent may have changed while the caller was identified */
	if (mrd_engine_get_consent(self) != METRICS_CONSENT_GRANTED) {
		mrd_drops_count(self->drops, MRD_DROP_NO_CONSENT, n);
		return TRUE;
	}
	if (mrd_engine_get_user_choice(self, uid) == METRICS_USER_CHOICE_OUT) {
		mrd_drops_count(self->drops, MRD_DROP_USER_OPTED_OUT, n);
		return TRUE;
	}
	if (ensure_store(self, &error_local) != NULL) {
		maintain(self, FALSE);
		deltas = mrd_aggregate_events(batch, mrd_clock_get_real_time(self->clock));
		/* never into a week already frozen for upload, even when the
		 * clock went back (docs/metrics-recorder.8.md) */
		mrd_deltas_clamp_week(deltas, first_open_week(self));
		mrd_store_add(self->store, uid, deltas, &error_local);
	}
	if (g_error_matches(error_local, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED)) {
		/* full: new events are dropped, what was stored is kept (the
		 * user already agreed to upload it) */
		mrd_drops_count(self->drops, MRD_DROP_STORE_FULL, n);
		g_debug("store full: %s", error_local->message);
		return TRUE;
	}
	if (error_local != NULL) {
		mrd_drops_count(self->drops, MRD_DROP_STORE_FAILED, n);
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	self->n_accepted += n;
	{
		gpointer key = GUINT_TO_POINTER(uid);
		guint64 *count = g_hash_table_lookup(self->accepted_by_uid, key);

		if (count == NULL) {
			count = g_new0(guint64, 1);
			g_hash_table_insert(self->accepted_by_uid, key, count);
		}
		*count += n;
	}
	*n_kept = n;
	return TRUE;
}

typedef struct {
	char *sender;  /* (owned) */
	GArray *batch; /* (owned) (element-type MrdEvent) */
	guint n_kept;
	guint n_dropped;
} RecordBatch;

static void
record_batch_free(gpointer data)
{
	RecordBatch *record = data;

	g_free(record->sender);
	g_clear_pointer(&record->batch, g_array_unref);
	g_free(record);
}

/* the caller is known: the gate checks it against each metric's
 * recorders, then what passes is aggregated and stored */
static void
record_identity_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	MrdEngine *self = g_task_get_source_object(task);
	RecordBatch *record = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	MrdRecorderIdentity who = {0};
	g_autofree char *app_id = NULL;

	if (!mrd_caller_registry_get_identity_finish(self->callers, result, &who.uid, &app_id,
						     &error)) {
		mrd_drops_count(self->drops, MRD_DROP_UNIDENTIFIED, record->batch->len);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* the app id only of a caller whose sandbox the registry verified
	 * (docs/sandboxed-apps.md); NULL for every other caller */
	who.app_id = app_id;
	/* only approved metrics of this caller go further, and only with
	 * consent; a flooding client is cut to its rate there */
	record->n_dropped = gate_batch(self, record->batch, record->sender, &who);
	if (record->batch->len > 0 &&
	    !store_batch(self, who.uid, record->batch, &record->n_kept, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	record->n_dropped += record->batch->len - record->n_kept;
	g_task_return_boolean(task, TRUE);
}

/**
 * mrd_engine_record_batch_async:
 * @sender: the caller's unique bus name: its uid (and verified app id)
 *   come from the bus, never from the call
 * @batch: (transfer full) (element-type MrdEvent): the events of one call,
 *   checked for shape
 *
 * The one path every recorded event takes, whichever interface it came
 * by: the caller identified, then the gate (consent, the allowlist, the
 * caller's recorders, its event rate, sampling, the weekly cap), then
 * aggregation by ISO week and the store, in one transaction. Dropped
 * events are counted by reason.
 */
void
mrd_engine_record_batch_async(MrdEngine *self,
			      const char *sender,
			      GArray *batch,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	RecordBatch *record;

	g_return_if_fail(MRD_IS_ENGINE(self));
	g_return_if_fail(sender != NULL);
	g_return_if_fail(batch != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, mrd_engine_record_batch_async);
	record = g_new0(RecordBatch, 1);
	record->sender = g_strdup(sender);
	record->batch = batch;
	g_task_set_task_data(task, record, record_batch_free);
	/* the gate needs the caller's uid, which the registry caches per
	 * sender */
	mrd_caller_registry_get_identity_async(self->callers, sender, cancellable,
					       record_identity_cb, g_steal_pointer(&task));
}

/**
 * mrd_engine_record_batch_finish:
 * @n_kept: (out) (optional): how many events were stored
 * @n_dropped: (out) (optional): how many were dropped (and counted)
 *
 * Returns: %FALSE when the caller could not be identified or the store
 *   could not be written; a batch the gate dropped entirely is no error
 */
gboolean
mrd_engine_record_batch_finish(MrdEngine *self,
			       GAsyncResult *result,
			       guint *n_kept,
			       guint *n_dropped,
			       GError **error)
{
	RecordBatch *record;

	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!g_task_propagate_boolean(G_TASK(result), error))
		return FALSE;
	record = g_task_get_task_data(G_TASK(result));
	if (n_kept != NULL)
		*n_kept = record->n_kept;
	if (n_dropped != NULL)
		*n_dropped = record->n_dropped;
	return TRUE;
}

/* ---- reading and clearing ---- */

/* (transfer full): the stored aggregates of @uid, or of everybody; none
 * without consent */
GVariant *
mrd_engine_dump(MrdEngine *self, gboolean all_users, guint32 uid, GError **error)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), NULL);

	/* nothing is stored without consent */
	if (mrd_engine_get_consent(self) != METRICS_CONSENT_GRANTED)
		return g_variant_ref_sink(
			g_variant_new_array(G_VARIANT_TYPE(METRICS_WIRE_AGGREGATE), NULL, 0));
	if (ensure_store(self, error) == NULL)
		return NULL;
	return mrd_store_dump(self->store, all_users, uid, error);
}

/* deletes the stored aggregates of @uid, or of everybody */
gboolean
mrd_engine_clear(MrdEngine *self,
		 gboolean all_users,
		 guint32 uid,
		 guint64 *n_removed,
		 GError **error)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);

	*n_removed = 0;
	if (mrd_engine_get_consent(self) != METRICS_CONSENT_GRANTED)
		return TRUE;
	return ensure_store(self, error) != NULL &&
	       mrd_store_clear(self->store, all_users, uid, n_removed, error);
}

/**
 * mrd_engine_get_status:
 * @all_users: whether the figures are everybody's; a caller needs the
 *   read-all authorisation for it
 * @uid: the caller, without @all_users
 * @status: (out caller-allocates): what GetStatus reports
 *
 * Without @all_users only what is about @uid (its aggregates, the events
 * it had accepted) and what is about nobody (consent, limits, the
 * allowlist, the server): the store's size, the uploads and the drops
 * would show what other users do. Nothing of the store when it is not
 * open.
 *
 * Returns: whether the store could be read
 */
gboolean
mrd_engine_get_status(MrdEngine *self,
		      gboolean all_users,
		      guint32 uid,
		      MrdEngineStatus *status,
		      GError **error)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);

	memset(status, 0, sizeof(*status));
	status->all_users = all_users;
	status->consent = mrd_engine_get_consent(self);
	status->consent_timestamp = mrd_engine_get_consent_timestamp(self);
	status->max_store_bytes = self->max_store_size;
	if (all_users) {
		status->n_accepted = self->n_accepted;
	} else {
		guint64 *count = g_hash_table_lookup(self->accepted_by_uid, GUINT_TO_POINTER(uid));

		status->n_accepted = count != NULL ? *count : 0;
	}
	status->n_allowlisted = mrd_allowlist_get_size(mrd_engine_get_allowlist(self));
	mrd_engine_get_categories(self, &status->categories_agreed, &status->categories_refused);
	if (!all_users)
		status->user_off = mrd_engine_get_user_off(self, uid);
	status->server_url = self->config->server_url;
	status->window_days = self->config->window_days;
	if (self->store != NULL &&
	    !mrd_store_get_usage(self->store, all_users, uid, &status->usage, error))
		return FALSE;
	if (all_users && self->uploads != NULL &&
	    !mrd_uploads_get_stats(self->uploads, &status->uploads, error))
		return FALSE;
	/* the oldest stored week goes to the outbox when it closes, then out
	 * at a random moment in the window after that */
	if (status->usage.oldest_week != 0)
		status->next_week_close = status->usage.oldest_week + MRD_WEEK_USEC;
	return TRUE;
}

/* ---- uploads ---- */

/* sends every pending request now, closed weeks first frozen */
void
mrd_engine_upload_now_async(MrdEngine *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_return_if_fail(MRD_IS_ENGINE(self));

	if (ensure_store(self, &error) == NULL) {
		g_task_report_error(self, callback, user_data, mrd_engine_upload_now_async,
				    g_steal_pointer(&error));
		return;
	}
	mrd_uploads_upload_now_async(self->uploads, cancellable, callback, user_data);
}

gboolean
mrd_engine_upload_now_finish(MrdEngine *self,
			     GAsyncResult *result,
			     guint *n_sent,
			     guint *n_failed,
			     GError **error)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);

	if (g_async_result_is_tagged(result, mrd_engine_upload_now_async))
		return g_task_propagate_boolean(G_TASK(result), error);
	return mrd_uploads_upload_now_finish(MRD_UPLOADS(g_task_get_source_object(G_TASK(result))),
					     result, n_sent, n_failed, error);
}

/* (element-type MrdOutboxRequest) (transfer full): with @sent the archive
 * of what was sent, else the requests waiting and those the weeks not yet
 * closed would give; none without consent */
GPtrArray *
mrd_engine_list_requests(MrdEngine *self, gboolean sent, GError **error)
{
	g_return_val_if_fail(MRD_IS_ENGINE(self), NULL);

	if (mrd_engine_get_consent(self) != METRICS_CONSENT_GRANTED)
		return g_ptr_array_new_with_free_func((GDestroyNotify)mrd_outbox_request_free);
	if (ensure_store(self, error) == NULL)
		return NULL;
	return sent ? mrd_uploads_list_sent(self->uploads, error) :
		      mrd_uploads_list_pending(self->uploads, error);
}

/* TRUE keeps the daemon running for another idle period: an upload due
 * soon keeps it up to send it; one due later is sent when
 * metrics-upload.timer or the next app wakes it */
gboolean
mrd_engine_get_idle_inhibited(MrdEngine *self)
{
	MrdUploadsStats stats = {0};

	g_return_val_if_fail(MRD_IS_ENGINE(self), FALSE);

	if (self->uploads == NULL || !mrd_uploads_get_stats(self->uploads, &stats, NULL))
		return FALSE;
	return stats.n_pending > 0 && stats.next_upload > 0 &&
	       stats.next_upload <= mrd_clock_get_real_time(self->clock) + IDLE_UPLOAD_HORIZON;
}

static void
mrd_engine_dispose(GObject *object)
{
	MrdEngine *self = MRD_ENGINE(object);

	stop_uploads(self);
	if (self->allowlist_source != NULL)
		g_signal_handlers_disconnect_by_data(self->allowlist_source, self);
	g_clear_object(&self->allowlist_source);
	g_clear_object(&self->store);
	g_clear_object(&self->gate);
	g_clear_object(&self->drops);
	g_clear_object(&self->consent);
	g_clear_object(&self->user_choices);
	g_clear_object(&self->callers);
	g_clear_object(&self->clock);
	g_clear_object(&self->cancellable);
	G_OBJECT_CLASS(mrd_engine_parent_class)->dispose(object);
}

static void
mrd_engine_finalize(GObject *object)
{
	MrdEngine *self = MRD_ENGINE(object);

	g_free(self->state_dir);
	g_free(self->store_path);
	g_free(self->secret_path);
	g_clear_pointer(&self->config, mrd_config_free);
	g_clear_pointer(&self->accepted_by_uid, g_hash_table_unref);
	G_OBJECT_CLASS(mrd_engine_parent_class)->finalize(object);
}

static void
mrd_engine_class_init(MrdEngineClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_engine_dispose;
	object_class->finalize = mrd_engine_finalize;

	/**
	 * MrdEngine::consent-changed:
	 *
	 * Consent was set to another state (and saved): each bus interface
	 * publishes it in its own terms.
	 */
	signals[SIGNAL_CONSENT_CHANGED] =
		g_signal_new("consent-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
			     NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mrd_engine_init(MrdEngine *self)
{
	self->cancellable = g_cancellable_new();
	self->max_store_size = MRD_DEFAULT_MAX_STORE_SIZE;
	self->retention_weeks = MRD_DEFAULT_RETENTION_WEEKS;
	self->drops = mrd_drops_new();
	self->config = mrd_config_new();
	self->accepted_by_uid = g_hash_table_new_full(NULL, NULL, NULL, g_free);
}
