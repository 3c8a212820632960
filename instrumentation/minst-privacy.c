/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstPrivacy"

#include "config.h"

#include "minst-privacy.h"

/*
 * The desktop's privacy keys (org.gnome.desktop.privacy), followed live:
 *
 *   remember-app-usage = false         no app-usage metric (usage-app-used)
 *   report-technical-problems = false  no problems metric at all
 *   send-software-usage-stats          nothing: it is about statistics of
 *                                      installing and removing software,
 *                                      which no metric here counts
 *
 * (docs/instrumentation.md, "Privacy settings"). Without the schema, or
 * without one of its keys (older GNOME), nothing is stopped: the daemon's
 * consent is then the only switch. The object emits "changed" when one of
 * the keys it follows changes, so that the runner can record at once what a
 * key turned back on allows.
 */

struct _MinstPrivacy {
	GObject parent_instance;
	GSettings *settings; /* (owned) (nullable) no schema installed */
};

enum {
	SIGNAL_CHANGED,
	N_SIGNALS,
};

static guint signals[N_SIGNALS];

G_DEFINE_TYPE(MinstPrivacy, minst_privacy, G_TYPE_OBJECT)

static const char *const followed_keys[] = {
	"remember-app-usage",
	"report-technical-problems",
};

/* the key's value; TRUE (allowed) when this version of the schema lacks it */
static gboolean
key_allows(MinstPrivacy *self, const char *key)
{
	g_autoptr(GSettingsSchema) schema = NULL;

	if (self->settings == NULL)
		return TRUE;
	g_object_get(self->settings, "settings-schema", &schema, NULL);
	if (!g_settings_schema_has_key(schema, key))
		return TRUE;
	return g_settings_get_boolean(self->settings, key);
}

gboolean
minst_privacy_has_schema(MinstPrivacy *self)
{
	g_return_val_if_fail(MINST_IS_PRIVACY(self), FALSE);
	return self->settings != NULL;
}

/* FALSE if no metric of @category may be recorded now */
gboolean
minst_privacy_allows_category(MinstPrivacy *self, const char *category)
{
	g_return_val_if_fail(MINST_IS_PRIVACY(self), TRUE);
	g_return_val_if_fail(category != NULL, TRUE);

	if (g_str_equal(category, "problems"))
		return key_allows(self, "report-technical-problems");
	return TRUE;
}

/* FALSE if @metric may not be recorded now */
gboolean
minst_privacy_allows_metric(MinstPrivacy *self, const MinstMetric *metric)
{
	g_return_val_if_fail(MINST_IS_PRIVACY(self), TRUE);
	g_return_val_if_fail(metric != NULL, TRUE);

	if (!minst_privacy_allows_category(self, metric->category))
		return FALSE;
	if (g_str_equal(metric->id, MINST_METRIC_USAGE_APP_USED))
		return key_allows(self, "remember-app-usage");
	return TRUE;
}

static void
settings_changed_cb(GSettings *settings, const char *key, gpointer user_data)
{
	MinstPrivacy *self = MINST_PRIVACY(user_data);

	if (!g_strv_contains(followed_keys, key))
		return;
	g_debug("privacy setting %s is now %s", key,
		g_settings_get_boolean(settings, key) ? "true" : "false");
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

/**
 * minst_privacy_new:
 * @backend: (nullable): the settings backend; %NULL for the default one
 *   (the user's dconf database), a memory backend for the defaults alone
 *
 * Returns: (transfer full): the privacy keys, or an object that allows
 *   everything when the schema is not installed
 */
MinstPrivacy *
minst_privacy_new(GSettingsBackend *backend)
{
	MinstPrivacy *self = g_object_new(MINST_TYPE_PRIVACY, NULL);
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = NULL;

	if (source != NULL)
		schema = g_settings_schema_source_lookup(source, MINST_PRIVACY_SCHEMA, TRUE);
	if (schema == NULL) {
		g_debug("no schema %s: the privacy settings stop nothing", MINST_PRIVACY_SCHEMA);
		return self;
	}
	self->settings = g_settings_new_full(schema, backend, NULL);
	g_signal_connect(self->settings, "changed", G_CALLBACK(settings_changed_cb), self);
	/* GSettings emits "changed" only for keys that were read once */
	for (guint i = 0; i < G_N_ELEMENTS(followed_keys); i++)
		(void)key_allows(self, followed_keys[i]);
	return self;
}

static void
minst_privacy_dispose(GObject *object)
{
	MinstPrivacy *self = MINST_PRIVACY(object);

	if (self->settings != NULL)
		g_signal_handlers_disconnect_by_data(self->settings, self);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(minst_privacy_parent_class)->dispose(object);
}

static void
minst_privacy_class_init(MinstPrivacyClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = minst_privacy_dispose;

	/**
	 * MinstPrivacy::changed:
	 * @privacy: the object
	 *
	 * One of the followed privacy keys changed.
	 */
	signals[SIGNAL_CHANGED] =
		g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			     NULL, G_TYPE_NONE, 0);
}

static void
minst_privacy_init(MinstPrivacy *self)
{
}
