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
} MrdMetricCategory;

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
	GHashTable *values;    /* (owned) (nullable) allowed strings, for "s" payloads */
	char *values_from;     /* (owned) (nullable) name of the value set */
	gboolean any_value;    /* "s" payload without a value set (never shipped) */
	gboolean map_other;    /* a value outside the set becomes "other" */
	char *added;	       /* (owned) YYYY-MM-DD */
	char *expires;	       /* (owned) YYYY-MM-DD, the last day events are kept */
	gint64 expires_end;    /* usec since the epoch: 00:00 UTC after @expires */
	double sample_rate;
	guint64 weekly_cap;
	char *file; /* (owned) the file that defined it */
} MrdMetric;

#define MRD_ALLOWLIST_FORMAT 1
#define MRD_ALLOWLIST_OTHER_VALUE "other"
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
