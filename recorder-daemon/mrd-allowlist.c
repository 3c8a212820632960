/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdAllowlist"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metrics-error.h"
#include "mrd-allowlist-private.h"

/*
 * The allowlist: the metrics the project approved, and the only gate
 * through which an event reaches the store. It is loaded from *.json files
 * (format: docs/allowlist.md) in a list of directories, in order: the
 * shipped one, then the administrator's; a later file replaces an earlier
 * metric of the same id. A broken file is rejected whole, with a message
 * that names the file, the line and the field; the other files still load.
 */

#define MAX_FILE_SIZE (16 * 1024 * 1024)

struct _MrdAllowlist {
	GObject parent_instance;
	GStrv dirs;		/* (owned) */
	GHashTable *by_id;	/* (owned) 16-byte id → (owned) MrdMetric */
	GHashTable *by_name;	/* (owned) name → MrdMetric (borrowed from by_id) */
	GHashTable *value_sets; /* (owned) set name → (owned) GHashTable of strings */
};

G_DEFINE_TYPE(MrdAllowlist, mrd_allowlist, G_TYPE_OBJECT)

static const char *const category_names[] = {
	[MRD_METRIC_CATEGORY_HARDWARE] = "hardware",
	[MRD_METRIC_CATEGORY_SETTINGS] = "settings",
	[MRD_METRIC_CATEGORY_USAGE] = "usage",
	[MRD_METRIC_CATEGORY_PERFORMANCE] = "performance",
	[MRD_METRIC_CATEGORY_PROBLEMS] = "problems",
};

gboolean
mrd_metric_category_from_string(const char *str, MrdMetricCategory *category)
{
	for (guint c = 0; c < G_N_ELEMENTS(category_names); c++) {
		if (g_strcmp0(str, category_names[c]) == 0) {
			*category = (MrdMetricCategory)c;
			return TRUE;
		}
	}
	return FALSE;
}

const char *
mrd_metric_category_to_string(MrdMetricCategory category)
{
	if ((guint)category >= G_N_ELEMENTS(category_names))
		return "unknown";
	return category_names[category];
}

void
mrd_value_domain_clear(MrdValueDomain *domain)
{
	g_clear_pointer(&domain->values, g_hash_table_unref);
	g_clear_pointer(&domain->values_from, g_free);
	g_clear_pointer(&domain->edges, g_free);
	g_clear_pointer(&domain->d_edges, g_free);
	g_clear_pointer(&domain->labels, g_strfreev);
}

void
mrd_metric_free(MrdMetric *metric)
{
	g_free(metric->name);
	g_free(metric->description);
	g_free(metric->purpose);
	g_free(metric->owner);
	g_clear_pointer(&metric->payload, g_variant_type_free);
	for (guint i = 0; i < metric->n_domains; i++)
		mrd_value_domain_clear(&metric->domains[i]);
	g_free(metric->domains);
	g_strfreev(metric->recorders);
	g_clear_pointer(&metric->recorder_uids, g_array_unref);
	g_strfreev(metric->recorder_apps);
	g_free(metric->added);
	g_free(metric->expires);
	g_free(metric->file);
	g_free(metric);
}

/* uuids are random, so any four of their bytes make a good hash */
/* for hash tables keyed by 16-byte metric ids */
guint
mrd_uuid_hash(gconstpointer key)
{
	const guint8 *b = key;
	return (guint)b[0] | ((guint)b[5] << 8) | ((guint)b[10] << 16) | ((guint)b[15] << 24);
}

gboolean
mrd_uuid_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, METRICS_UUID_SIZE) == 0;
}

/* ---- value sets ---- */

/* a value set file: one value per line, '#' starts a comment line, blank
 * lines and surrounding white space are ignored */
static GHashTable *
parse_value_set(const char *contents)
{
	g_autoptr(GHashTable) set = mrd_string_set_new();
	const char *line = contents;

	/* one pass over the file, a line at a time: a set may hold many
	 * thousands of values */
	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		gsize length = end != NULL ? (gsize)(end - line) : strlen(line);
		char *value = g_strstrip(g_strndup(line, length));

		if (value[0] == '\0' || value[0] == '#')
			g_free(value);
		else
			g_hash_table_add(set, value);
		line += length + (end != NULL ? 1 : 0);
	}
	return g_steal_pointer(&set);
}

/* the set named @name from the last directory that has it */
GHashTable *
mrd_allowlist_get_value_set(MrdAllowlist *self, const char *name, GError **error)
{
	GHashTable *set = g_hash_table_lookup(self->value_sets, name);
	guint n_dirs = self->dirs != NULL ? g_strv_length(self->dirs) : 0;

	if (set != NULL)
		return g_hash_table_ref(set);
	for (guint i = n_dirs; i > 0; i--) {
		g_autofree char *file = g_strdup_printf("%s.txt", name);
		g_autofree char *path = g_build_filename(self->dirs[i - 1],
							 MRD_ALLOWLIST_VALUE_SETS_DIR, file, NULL);
		g_autofree char *contents = NULL;
		g_autoptr(GError) error_local = NULL;

		if (!g_file_get_contents(path, &contents, NULL, &error_local)) {
			if (g_error_matches(error_local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
				continue;
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("cannot read the value set: %s"), error_local->message);
			return NULL;
		}
		set = parse_value_set(contents);
		g_debug("value set %s: %u values from %s", name, g_hash_table_size(set), path);
		g_hash_table_insert(self->value_sets, g_strdup(name), set);
		return g_hash_table_ref(set);
	}
	g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
		    /* TRANSLATORS: %s is the name of a value set, a file in value-sets/ */
		    _("no value set “%s” (a file %s/%s.txt in an allowlist directory)"), name,
		    MRD_ALLOWLIST_VALUE_SETS_DIR, name);
	return NULL;
}

static void
mrd_allowlist_add(MrdAllowlist *self, MrdMetric *metric)
{
	MrdMetric *old = g_hash_table_lookup(self->by_id, metric->id);

	if (old != NULL) {
		g_debug("%s replaces metric %s of %s", metric->file, old->id_str, old->file);
		if (g_hash_table_lookup(self->by_name, old->name) == old)
			g_hash_table_remove(self->by_name, old->name);
	}
	/* a name taken by another id: the later file wins there too */
	if (g_hash_table_contains(self->by_name, metric->name))
		g_warning("%s: metric name %s is also used by another id; the later wins",
			  metric->file, metric->name);
	g_hash_table_replace(self->by_id, metric->id, metric);
	g_hash_table_replace(self->by_name, metric->name, metric);
}

/**
 * mrd_allowlist_load_data:
 * @filename: the name to use in errors
 *
 * Parses one allowlist document and adds its metrics, replacing those of the
 * same id. A document with any error adds nothing.
 */
gboolean
mrd_allowlist_load_data(MrdAllowlist *self,
			const char *filename,
			const char *data,
			gssize length,
			GError **error)
{
	g_autoptr(GPtrArray) metrics =
		g_ptr_array_new_with_free_func((GDestroyNotify)mrd_metric_free);

	g_return_val_if_fail(MRD_IS_ALLOWLIST(self), FALSE);
	g_return_val_if_fail(filename != NULL, FALSE);
	g_return_val_if_fail(data != NULL || length == 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (length < 0)
		length = (gssize)strlen(data);
	if (!mrd_allowlist_parse_document(self, filename, data != NULL ? data : "", (gsize)length,
					  metrics, error))
		return FALSE;
	/* the metrics move into the tables */
	g_ptr_array_set_free_func(metrics, NULL);
	for (guint i = 0; i < metrics->len; i++)
		mrd_allowlist_add(self, g_ptr_array_index(metrics, i));
	return TRUE;
}

gboolean
mrd_allowlist_load_file(MrdAllowlist *self, const char *path, GError **error)
{
	g_autofree char *contents = NULL;
	g_autoptr(GError) error_local = NULL;
	gsize length = 0;

	g_return_val_if_fail(MRD_IS_ALLOWLIST(self), FALSE);
	g_return_val_if_fail(path != NULL, FALSE);

	if (!g_file_get_contents(path, &contents, &length, &error_local)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA, "%s",
			    error_local->message);
		return FALSE;
	}
	if (length > MAX_FILE_SIZE) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("%s: larger than %u bytes"), path, (guint)MAX_FILE_SIZE);
		return FALSE;
	}
	return mrd_allowlist_load_data(self, path, contents, (gssize)length, error);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/**
 * mrd_allowlist_load:
 * @errors: (element-type GError) (nullable): where to add an error for
 *   each rejected file
 *
 * Loads every *.json file of the directories, in order, and within a
 * directory by file name. A missing directory is fine. Returns the number of
 * metrics loaded.
 */
guint
mrd_allowlist_load(MrdAllowlist *self, GPtrArray *errors)
{
	g_return_val_if_fail(MRD_IS_ALLOWLIST(self), 0);

	for (guint d = 0; self->dirs != NULL && self->dirs[d] != NULL; d++) {
		g_autoptr(GDir) dir = g_dir_open(self->dirs[d], 0, NULL);
		g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
		const char *name;

		if (dir == NULL) {
			g_debug("no allowlist directory %s", self->dirs[d]);
			continue;
		}
		while ((name = g_dir_read_name(dir)) != NULL) {
			if (g_str_has_suffix(name, ".json") && name[0] != '.')
				g_ptr_array_add(names, g_strdup(name));
		}
		g_ptr_array_sort(names, compare_strings);
		for (guint i = 0; i < names->len; i++) {
			g_autofree char *path =
				g_build_filename(self->dirs[d], g_ptr_array_index(names, i), NULL);
			g_autoptr(GError) error = NULL;

			if (!mrd_allowlist_load_file(self, path, &error)) {
				if (errors != NULL)
					g_ptr_array_add(errors, g_steal_pointer(&error));
			}
		}
	}
	return g_hash_table_size(self->by_id);
}

const char *const *
mrd_allowlist_get_dirs(MrdAllowlist *self)
{
	g_return_val_if_fail(MRD_IS_ALLOWLIST(self), NULL);
	return (const char *const *)self->dirs;
}

guint
mrd_allowlist_get_size(MrdAllowlist *self)
{
	g_return_val_if_fail(MRD_IS_ALLOWLIST(self), 0);
	return g_hash_table_size(self->by_id);
}

const MrdMetric *
mrd_allowlist_lookup(MrdAllowlist *self, const guint8 id[METRICS_UUID_SIZE])
{
	return g_hash_table_lookup(self->by_id, id);
}

const MrdMetric *
mrd_allowlist_lookup_name(MrdAllowlist *self, const char *name)
{
	g_return_val_if_fail(MRD_IS_ALLOWLIST(self), NULL);
	return g_hash_table_lookup(self->by_name, name);
}

static gint
compare_metrics(gconstpointer a, gconstpointer b)
{
	const MrdMetric *ma = *(const MrdMetric *const *)a;
	const MrdMetric *mb = *(const MrdMetric *const *)b;
	return strcmp(ma->name, mb->name);
}

/* returns: (transfer container) (element-type MrdMetric): by name */
GPtrArray *
mrd_allowlist_get_metrics(MrdAllowlist *self)
{
	GPtrArray *metrics;
	GHashTableIter iter;
	gpointer value;

	g_return_val_if_fail(MRD_IS_ALLOWLIST(self), NULL);

	metrics = g_ptr_array_sized_new(g_hash_table_size(self->by_id));
	g_hash_table_iter_init(&iter, self->by_id);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(metrics, value);
	g_ptr_array_sort(metrics, compare_metrics);
	return metrics;
}

/* the bucket of @value: how many edges are at most @value */
static guint
bucket_of(const MrdValueDomain *domain, GVariant *value)
{
	gint64 n = 0;
	guint i = 0;

	if (domain->type == 'd') {
		double d = g_variant_get_double(value);

		while (i < domain->n_edges && domain->d_edges[i] <= d)
			i++;
		return i;
	}
	switch (domain->type) {
	case 'y':
		n = g_variant_get_byte(value);
		break;
	case 'n':
		n = g_variant_get_int16(value);
		break;
	case 'q':
		n = g_variant_get_uint16(value);
		break;
	case 'i':
		n = g_variant_get_int32(value);
		break;
	case 'u':
		n = g_variant_get_uint32(value);
		break;
	case 'x':
		n = g_variant_get_int64(value);
		break;
	case 't':
		/* above every edge, which are int64 */
		if (g_variant_get_uint64(value) > (guint64)G_MAXINT64)
			return domain->n_edges;
		n = (gint64)g_variant_get_uint64(value);
		break;
	default:
		g_assert_not_reached();
	}
	while (i < domain->n_edges && domain->edges[i] <= n)
		i++;
	return i;
}

/* checks @value (of the domain's type) against @domain; *@stored gets what
 * is kept instead of it: the same value, "other", or a bucket's label */
static MrdDropReason
check_value(const MrdValueDomain *domain, GVariant *value, GVariant **stored)
{
	*stored = NULL;
	switch (domain->type) {
	case 'b':
		*stored = g_variant_ref(value);
		return MRD_DROP_NONE;
	case 's':
		if (g_hash_table_contains(domain->values, g_variant_get_string(value, NULL))) {
			*stored = g_variant_ref(value);
			return MRD_DROP_NONE;
		}
		if (!domain->map_other)
			return MRD_DROP_VALUE_NOT_ALLOWED;
		*stored = g_variant_ref_sink(g_variant_new_string(MRD_ALLOWLIST_OTHER_VALUE));
		return MRD_DROP_NONE;
	case 'd':
		if (isnan(g_variant_get_double(value)))
			return MRD_DROP_VALUE_NOT_ALLOWED;
		break;
	default:
		break;
	}
	*stored =
		g_variant_ref_sink(g_variant_new_string(domain->labels[bucket_of(domain, value)]));
	return MRD_DROP_NONE;
}

/* the payload to keep in place of @payload, or %NULL with *@reason */
static GVariant *
check_payload(const MrdMetric *metric, GVariant *payload, MrdDropReason *reason)
{
	g_autofree GVariant **members = NULL;
	GVariant *stored = NULL;

	if (!metric->is_tuple) {
		*reason = check_value(&metric->domains[0], payload, &stored);
		return stored;
	}
	members = g_new0(GVariant *, metric->n_domains);
	for (guint i = 0; i < metric->n_domains; i++) {
		g_autoptr(GVariant) member = g_variant_get_child_value(payload, i);

		*reason = check_value(&metric->domains[i], member, &members[i]);
		if (*reason != MRD_DROP_NONE) {
			for (guint j = 0; j < i; j++)
				g_variant_unref(members[j]);
			return NULL;
		}
	}
	stored = g_variant_ref_sink(g_variant_new_tuple(members, metric->n_domains));
	for (guint i = 0; i < metric->n_domains; i++)
		g_variant_unref(members[i]);
	return stored;
}

/**
 * mrd_allowlist_check:
 * @event: the event; its payload is replaced by what is kept of it: a
 *   string outside the set of a metric that maps to "other" by "other", a
 *   number by the label of its bucket (also within a tuple)
 * @now: usec since the epoch
 * @metric_out: (out) (optional): the event's metric, if it is allowlisted
 *
 * The checks that depend on the allowlist alone: known id, not expired,
 * kind, payload type and value. Who may record it
 * (mrd_metric_is_recorder()), sampling and the weekly cap are the gate's,
 * as they need the caller and the install's state.
 */
MrdDropReason
mrd_allowlist_check(MrdAllowlist *self, MrdEvent *event, gint64 now, const MrdMetric **metric_out)
{
	const MrdMetric *metric = g_hash_table_lookup(self->by_id, event->id);
	MrdDropReason reason = MRD_DROP_NONE;
	GVariant *stored;

	if (metric_out != NULL)
		*metric_out = metric;
	if (metric == NULL)
		return MRD_DROP_NOT_ALLOWLISTED;
	if (now >= metric->expires_end)
		return MRD_DROP_EXPIRED;
	if (event->kind != metric->kind)
		return MRD_DROP_WRONG_KIND;
	if (metric->payload == NULL)
		return event->payload == NULL ? MRD_DROP_NONE : MRD_DROP_WRONG_TYPE;
	if (event->payload == NULL || !g_variant_is_of_type(event->payload, metric->payload))
		return MRD_DROP_WRONG_TYPE;
	stored = check_payload(metric, event->payload, &reason);
	if (stored == NULL)
		return reason;
	g_variant_unref(event->payload);
	event->payload = stored;
	return MRD_DROP_NONE;
}

/* the range of uids of regular users, from /etc/login.defs as useradd
 * reads it (UID_MIN, UID_MAX), read once */
static void
get_session_uid_range(guint32 *uid_min, guint32 *uid_max)
{
	static gsize once = 0;
	static guint32 range[2] = {1000, 60000};

	if (g_once_init_enter(&once)) {
		g_autofree char *contents = NULL;

		if (g_file_get_contents("/etc/login.defs", &contents, NULL, NULL)) {
			g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);

			for (guint i = 0; lines[i] != NULL; i++) {
				g_auto(GStrv) words =
					g_strsplit_set(g_strstrip(lines[i]), " \t", 2);
				guint64 value = 0;

				if (words[0] == NULL || words[1] == NULL ||
				    !g_ascii_string_to_unsigned(g_strstrip(words[1]), 10, 1,
								G_MAXUINT32 - 1, &value, NULL))
					continue;
				if (g_strcmp0(words[0], "UID_MIN") == 0)
					range[0] = (guint32)value;
				else if (g_strcmp0(words[0], "UID_MAX") == 0)
					range[1] = (guint32)value;
			}
		}
		g_once_init_leave(&once, 1);
	}
	*uid_min = range[0];
	*uid_max = range[1];
}

/**
 * mrd_allowlist_is_session_uid:
 *
 * Whether @uid is that of a regular user, the recorder "session": from
 * UID_MIN to UID_MAX of /etc/login.defs (1000 to 60000 without it), and
 * not the overflow user nobody (65534).
 */
gboolean
mrd_allowlist_is_session_uid(guint32 uid)
{
	guint32 uid_min, uid_max;

	get_session_uid_range(&uid_min, &uid_max);
	return uid >= uid_min && uid <= uid_max && uid != 65534;
}

/**
 * mrd_metric_is_recorder:
 * @who: the caller, as the daemon identified it
 *
 * Whether @who may record @metric: one of its "recorders" is the caller's
 * uid (the system instrumentation's user, a named user, any regular user
 * for "session") or its verified app id.
 */
gboolean
mrd_metric_is_recorder(const MrdMetric *metric, const MrdRecorderIdentity *who)
{
	if (metric->by_session && mrd_allowlist_is_session_uid(who->uid))
		return TRUE;
	for (guint i = 0; metric->recorder_uids != NULL && i < metric->recorder_uids->len; i++) {
		if (g_array_index(metric->recorder_uids, guint32, i) == who->uid)
			return TRUE;
	}
	/* an app id is only ever one the caller registry verified from the
	 * caller's sandbox; an unsandboxed caller has none */
	if (who->app_id != NULL && metric->recorder_apps != NULL)
		return g_strv_contains((const char *const *)metric->recorder_apps, who->app_id);
	return FALSE;
}

/* the domain of a payload of type "s", or %NULL */
const MrdValueDomain *
mrd_metric_get_strings(const MrdMetric *metric)
{
	if (metric->is_tuple || metric->n_domains != 1 || metric->domains[0].type != 's')
		return NULL;
	return &metric->domains[0];
}

/**
 * mrd_metric_is_sampled:
 * @secret: (nullable): the install's sampling secret
 *
 * Whether this install records @metric: HMAC-SHA256(secret, id) read as a
 * number in [0, 1) is below the sample rate. The same secret always gives
 * the same answer; without a secret only rates 0 and 1 are decided.
 */
gboolean
mrd_metric_is_sampled(const MrdMetric *metric, GBytes *secret)
{
	g_autoptr(GHmac) hmac = NULL;
	guint8 digest[32];
	gsize digest_len = sizeof(digest);
	guint64 x = 0;
	gsize secret_len = 0;
	const guint8 *secret_data;

	if (metric->sample_rate >= 1.0)
		return TRUE;
	if (metric->sample_rate <= 0.0 || secret == NULL)
		return FALSE;
	secret_data = g_bytes_get_data(secret, &secret_len);
	hmac = g_hmac_new(G_CHECKSUM_SHA256, secret_data, secret_len);
	g_hmac_update(hmac, metric->id, METRICS_UUID_SIZE);
	g_hmac_get_digest(hmac, digest, &digest_len);
	for (guint i = 0; i < 8; i++)
		x = (x << 8) | digest[i];
	/* 53 bits are what a double holds exactly */
	return (double)(x >> 11) / (double)(G_GUINT64_CONSTANT(1) << 53) < metric->sample_rate;
}

/* ---- life cycle ---- */

MrdAllowlist *
mrd_allowlist_new(const char *const *dirs)
{
	MrdAllowlist *self = g_object_new(MRD_TYPE_ALLOWLIST, NULL);

	self->dirs = g_strdupv((GStrv)dirs);
	return self;
}

static void
mrd_allowlist_finalize(GObject *object)
{
	MrdAllowlist *self = MRD_ALLOWLIST(object);

	g_clear_pointer(&self->by_name, g_hash_table_unref);
	g_clear_pointer(&self->by_id, g_hash_table_unref);
	g_clear_pointer(&self->value_sets, g_hash_table_unref);
	g_strfreev(self->dirs);

	G_OBJECT_CLASS(mrd_allowlist_parent_class)->finalize(object);
}

static void
mrd_allowlist_class_init(MrdAllowlistClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = mrd_allowlist_finalize;
}

static void
mrd_allowlist_init(MrdAllowlist *self)
{
	self->by_id = g_hash_table_new_full(mrd_uuid_hash, mrd_uuid_equal, NULL,
					    (GDestroyNotify)mrd_metric_free);
	self->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	self->value_sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						 (GDestroyNotify)g_hash_table_unref);
}
