/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-drops.h"
#include "mrd-event.h"

G_BEGIN_DECLS

typedef enum {
	MRD_METRIC_CATEGORY_HARDWARE,
	MRD_METRIC_CATEGORY_SETTINGS,
	MRD_METRIC_CATEGORY_USAGE,
	MRD_METRIC_CATEGORY_PERFORMANCE,
	MRD_METRIC_CATEGORY_PROBLEMS,
	MRD_N_METRIC_CATEGORIES,
} MrdMetricCategory;

/* a set of categories, one bit per MrdMetricCategory */
#define MRD_CATEGORY_BIT(category) (1u << (guint)(category))
#define MRD_ALL_CATEGORIES ((1u << MRD_N_METRIC_CATEGORIES) - 1)

/* what one value may be: the payload, or one member of a tuple payload;
 * every value is from a closed set (docs/allowlist.md) */
typedef struct {
	char type;	    /* 'b', 's' or a number type: y n q i u x t d */
	GHashTable *values; /* (owned) (nullable) "s": the allowed strings */
	char *values_from;  /* (owned) (nullable) "s": the name of the value set */
	gboolean map_other; /* "s": a value outside the set becomes "other" */
	guint n_edges;	    /* numbers: the buckets' edges, increasing */
	gint64 *edges;	    /* (owned) (nullable) of an integer type */
	double *d_edges;    /* (owned) (nullable) of "d" */
	GStrv labels;	    /* (owned) (nullable) n_edges + 1 bucket labels */
} MrdValueDomain;

/* who sends an event, as the daemon verified it from the bus: what a
 * metric's "recorders" are checked against */
typedef struct {
	guint32 uid;
	/* the app id of a sandboxed caller as its sandbox identity tells it,
	 * verified by the caller registry (docs/sandboxed-apps.md); %NULL for
	 * an unsandboxed caller, and for every caller where the daemon may not
	 * read other processes' /proc/PID/root (the shipped unit) */
	const char *app_id;
} MrdRecorderIdentity;

/* one approved metric; owned by its MrdAllowlist */
typedef struct {
	guint8 id[METRICS_UUID_SIZE];
	char id_str[METRICS_UUID_STRING_LENGTH + 1];
	char *name;
	char *description;
	char *purpose;
	char *owner;
	MrdMetricCategory category;
	MetricsEventKind kind;
	GVariantType *payload; /* (owned) (nullable) none: events carry no value */
	/* (owned) (nullable) (array length=n_domains) what each value may be:
	 * one for a payload of type b, s or a number, one per member of a
	 * tuple; none without a payload */
	MrdValueDomain *domains;
	guint n_domains;
	gboolean is_tuple;
	/* the recorders, as written ("system", "session", "user:NAME",
	 * "app:APP-ID"), and resolved when the file was loaded */
	GStrv recorders;       /* (owned) */
	gboolean by_session;   /* any regular user (mrd_allowlist_is_session_uid()) */
	GArray *recorder_uids; /* (owned) (element-type guint32) system and named users */
	GStrv recorder_apps;   /* (owned) (nullable) verified app ids */
	char *added;	       /* (owned) YYYY-MM-DD */
	char *expires;	       /* (owned) YYYY-MM-DD, the last day events are kept */
	gint64 expires_end;    /* usec since the epoch: 00:00 UTC after @expires */
	double sample_rate;
	guint64 weekly_cap;
	char *file; /* (owned) the file that defined it */
} MrdMetric;

#define MRD_ALLOWLIST_FORMAT 1
#define MRD_ALLOWLIST_OTHER_VALUE "other"
/* the user of the system instrumentation (data/systemd/metrics.sysusers.conf,
 * User= of instrumentation/metrics-instrumentation.service.in): the
 * recorder "system" */
#define MRD_ALLOWLIST_SYSTEM_USER "metrics"
/* at most this many edges in "buckets" */
#define MRD_ALLOWLIST_MAX_BUCKET_EDGES 32
/* at most this many months between "added" and "expires" */
#define MRD_ALLOWLIST_MAX_LIFETIME_MONTHS 13

#define MRD_TYPE_ALLOWLIST (mrd_allowlist_get_type())
G_DECLARE_FINAL_TYPE(MrdAllowlist, mrd_allowlist, MRD, ALLOWLIST, GObject)

MrdAllowlist *
mrd_allowlist_new(const char *const *dirs);
const char *const *
mrd_allowlist_get_dirs(MrdAllowlist *self);
guint
mrd_allowlist_load(MrdAllowlist *self, GPtrArray *errors);
gboolean
mrd_allowlist_load_data(MrdAllowlist *self,
			const char *filename,
			const char *data,
			gssize length,
			GError **error);
gboolean
mrd_allowlist_load_file(MrdAllowlist *self, const char *path, GError **error);
guint
mrd_allowlist_get_size(MrdAllowlist *self);
const MrdMetric *
mrd_allowlist_lookup(MrdAllowlist *self, const guint8 id[METRICS_UUID_SIZE]);
const MrdMetric *
mrd_allowlist_lookup_name(MrdAllowlist *self, const char *name);
GPtrArray *
mrd_allowlist_get_metrics(MrdAllowlist *self);
MrdDropReason
mrd_allowlist_check(MrdAllowlist *self, MrdEvent *event, gint64 now, const MrdMetric **metric_out);
gboolean
mrd_metric_is_recorder(const MrdMetric *metric, const MrdRecorderIdentity *who);
const MrdValueDomain *
mrd_metric_get_strings(const MrdMetric *metric);
gboolean
mrd_allowlist_is_session_uid(guint32 uid);

const char *
mrd_metric_category_to_string(MrdMetricCategory category);
gboolean
mrd_metric_category_from_string(const char *str, MrdMetricCategory *category);
gboolean
mrd_metric_is_sampled(const MrdMetric *metric, GBytes *secret);

guint
mrd_uuid_hash(gconstpointer key);
gboolean
mrd_uuid_equal(gconstpointer a, gconstpointer b);

G_END_DECLS
