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
 * but the choice and when it was made.
 */

#define GROUP "Consent"

struct _MrdConsent {
	GObject parent_instance;
	char *path; /* (owned) */
	MetricsConsent state;
	gint64 timestamp;
};

G_DEFINE_TYPE(MrdConsent, mrd_consent, G_TYPE_OBJECT)

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

/* saves the choice atomically before it takes effect */
gboolean
mrd_consent_set(MrdConsent *self, MetricsConsent state, gint64 now, GError **error)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error_local = NULL;
	g_autofree char *data = NULL;
	gsize len = 0;

	g_return_val_if_fail(MRD_IS_CONSENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	g_key_file_set_string(file, GROUP, "State", metrics_consent_to_string(state));
	g_key_file_set_int64(file, GROUP, "Changed", now);
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
	return TRUE;
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
