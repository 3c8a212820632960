/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdConsent"

#include "config.h"

#include <glib/gi18n.h>

#include "metrics-error.h"
#include "mrd-consent.h"

/*
 * The consent record: a small key file in the state directory. It is the
 * only file the daemon writes before the user said yes, and it holds nothing
 * but the choice, when it was made, and which categories of metrics were
 * agreed to and refused:
 *
 *   [Consent]
 *   State=granted
 *   Changed=1764672000000000
 *   Agreed=hardware;settings;usage;performance;problems;
 *   Refused=
 *
 * A category in neither list was never asked about (one added after the
 * user said yes): it is not recorded until it is agreed to. A record
 * without Agreed= predates categories: its yes covered the five there were.
 */

#define GROUP "Consent"

struct _MrdConsent {
	GObject parent_instance;
	char *path; /* (owned) */
	MetricsConsent state;
	gint64 timestamp;
	guint agreed;  /* MRD_CATEGORY_BIT()s */
	guint refused; /* never also in agreed */
};

G_DEFINE_TYPE(MrdConsent, mrd_consent, G_TYPE_OBJECT)

/* unknown names are skipped: a newer daemon's categories */
static guint
read_categories(GKeyFile *file, const char *key, const char *path)
{
	g_auto(GStrv) names = g_key_file_get_string_list(file, GROUP, key, NULL, NULL);
	guint set = 0;

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		MrdMetricCategory category;

		if (mrd_metric_category_from_string(names[i], &category))
			set |= MRD_CATEGORY_BIT(category);
		else if (names[i][0] != '\0')
			g_warning(
				"the consent record %s names an unknown category “%s”; ignoring it",
				path, names[i]);
	}
	return set;
}

static void
write_categories(GKeyFile *file, const char *key, guint set)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	for (guint c = 0; c < MRD_N_METRIC_CATEGORIES; c++) {
		if ((set & MRD_CATEGORY_BIT(c)) != 0)
			g_ptr_array_add(names, (gpointer)mrd_metric_category_to_string(c));
	}
	g_key_file_set_string_list(file, GROUP, key, (const char *const *)names->pdata, names->len);
}

static void
mrd_consent_load(MrdConsent *self)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *state = NULL;

	if (!g_key_file_load_from_file(file, self->path, G_KEY_FILE_NONE, &error)) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_warning("cannot read the consent record %s, treating consent as "
				  "unknown: %s",
				  self->path, error->message);
		return;
	}
	state = g_key_file_get_string(file, GROUP, "State", NULL);
	if (!metrics_consent_from_string(state, &self->state)) {
		g_warning("the consent record %s has an invalid state, treating consent as "
			  "unknown",
			  self->path);
		self->state = METRICS_CONSENT_UNKNOWN;
		return;
	}
	self->timestamp = g_key_file_get_int64(file, GROUP, "Changed", NULL);
	if (!g_key_file_has_key(file, GROUP, "Agreed", NULL)) {
		self->agreed = self->state == METRICS_CONSENT_GRANTED ? MRD_ALL_CATEGORIES : 0;
		return;
	}
	self->agreed = read_categories(file, "Agreed", self->path);
	self->refused = read_categories(file, "Refused", self->path);
	self->agreed &= ~self->refused;
}

MrdConsent *
mrd_consent_new(const char *path)
{
	MrdConsent *self = g_object_new(MRD_TYPE_CONSENT, NULL);

	self->path = g_strdup(path);
	mrd_consent_load(self);
	return self;
}

MetricsConsent
mrd_consent_get_state(MrdConsent *self)
{
	g_return_val_if_fail(MRD_IS_CONSENT(self), METRICS_CONSENT_UNKNOWN);
	return self->state;
}

gint64
mrd_consent_get_timestamp(MrdConsent *self)
{
	g_return_val_if_fail(MRD_IS_CONSENT(self), 0);
	return self->timestamp;
}

/* the categories agreed to (MRD_CATEGORY_BIT()s): what may be recorded
 * while consent is granted */
guint
mrd_consent_get_agreed(MrdConsent *self)
{
	g_return_val_if_fail(MRD_IS_CONSENT(self), 0);
	return self->agreed;
}

guint
mrd_consent_get_refused(MrdConsent *self)
{
	g_return_val_if_fail(MRD_IS_CONSENT(self), 0);
	return self->refused;
}

static gboolean
save(MrdConsent *self,
     MetricsConsent state,
     gint64 now,
     guint agreed,
     guint refused,
     GError **error)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error_local = NULL;
	g_autofree char *data = NULL;
	gsize len = 0;

	g_key_file_set_string(file, GROUP, "State", metrics_consent_to_string(state));
	g_key_file_set_int64(file, GROUP, "Changed", now);
	write_categories(file, "Agreed", agreed);
	write_categories(file, "Refused", refused);
	data = g_key_file_to_data(file, &len, NULL);
	if (!g_file_set_contents_full(self->path, data, (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
				      0600, &error_local)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("Cannot save the consent choice: %s"), error_local->message);
		return FALSE;
	}
	self->state = state;
	self->timestamp = now;
	self->agreed = agreed;
	self->refused = refused;
	return TRUE;
}

/* saves the choice atomically before it takes effect; a yes agrees to
 * every category not refused, those never asked about included */
gboolean
mrd_consent_set(MrdConsent *self, MetricsConsent state, gint64 now, GError **error)
{
	guint agreed;

	g_return_val_if_fail(MRD_IS_CONSENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	agreed = state == METRICS_CONSENT_GRANTED ? MRD_ALL_CATEGORIES & ~self->refused :
						    self->agreed;
	return save(self, state, now, agreed, self->refused, error);
}

/* turns the categories of @on on and those of @off off (disjoint), the
 * others as they were; saved atomically before it takes effect */
gboolean
mrd_consent_set_categories(MrdConsent *self, guint on, guint off, GError **error)
{
	g_return_val_if_fail(MRD_IS_CONSENT(self), FALSE);
	g_return_val_if_fail((on & off) == 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	return save(self, self->state, self->timestamp, (self->agreed | on) & ~off,
		    (self->refused | off) & ~on, error);
}

static void
mrd_consent_finalize(GObject *object)
{
	MrdConsent *self = MRD_CONSENT(object);

	g_free(self->path);

	G_OBJECT_CLASS(mrd_consent_parent_class)->finalize(object);
}

static void
mrd_consent_class_init(MrdConsentClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = mrd_consent_finalize;
}

static void
mrd_consent_init(MrdConsent *self)
{
	self->state = METRICS_CONSENT_UNKNOWN;
}
