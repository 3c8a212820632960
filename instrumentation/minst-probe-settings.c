/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstProbeSettings"

#include "config.h"

#include <string.h>

#include "minst-probe.h"

/*
 * System settings of the user's session: the display language (the
 * language code only, no region), how many input sources are configured
 * (not which), and which accessibility features are on.
 */

/* @language_names as from g_get_language_names(): the first real locale
 * wins; "C" and "POSIX" say nothing about the user's language */
const char *
minst_settings_language(const char *const *language_names)
{
	for (guint i = 0; language_names != NULL && language_names[i] != NULL; i++) {
		const char *name = language_names[i];
		g_autofree char *code = NULL;
		gsize len = strcspn(name, "_.@");

		if (g_strcmp0(name, "C") == 0 || g_strcmp0(name, "POSIX") == 0 ||
		    g_str_has_prefix(name, "C.")) {
			continue;
		}
		code = g_ascii_strdown(name, (gssize)len);
		/* language_names also lists shortened forms of each locale,
		 * so the first entry decides; a language outside the
		 * allowlist's codes is "other" */
		for (guint j = 0; minst_values_settings_language[j] != NULL; j++) {
			if (g_strcmp0(minst_values_settings_language[j], code) == 0)
				return minst_values_settings_language[j];
		}
		if (len < 2 || len > 3) {
			g_debug("“%s” is not a locale name: skipping the language", name);
			return NULL;
		}
		return "other";
	}
	g_debug("the locale is C or POSIX: skipping the language");
	return NULL;
}

const char *
minst_bucket_input_sources(guint n)
{
	if (n >= 4)
		return "4+";
	return minst_values_settings_input_sources[n];
}

typedef struct {
	const char *schema_id;
	const char *key;
	const char *feature; /* one of minst_values_settings_a11y_feature */
} BoolFeature;

static const BoolFeature bool_features[] = {
	{"org.gnome.desktop.a11y.applications", "screen-reader-enabled", "screen-reader"},
	{"org.gnome.desktop.a11y.applications", "screen-magnifier-enabled", "magnifier"},
	{"org.gnome.desktop.a11y.applications", "screen-keyboard-enabled", "on-screen-keyboard"},
	{"org.gnome.desktop.a11y.interface", "high-contrast", "high-contrast"},
	{"org.gnome.desktop.a11y.keyboard", "stickykeys-enable", "sticky-keys"},
	{"org.gnome.desktop.a11y.keyboard", "slowkeys-enable", "slow-keys"},
	{"org.gnome.desktop.a11y.keyboard", "bouncekeys-enable", "bounce-keys"},
	{"org.gnome.desktop.a11y.keyboard", "mousekeys-enable", "mouse-keys"},
};

static void
probe_a11y(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GVariant) scaling = NULL;
	g_autoptr(GVariant) cursor = NULL;
	g_autoptr(GVariant) animations = NULL;
	g_autoptr(GPtrArray) on = g_ptr_array_new();
	guint n_known = 0;

	for (guint i = 0; i < G_N_ELEMENTS(bool_features); i++) {
		g_autoptr(GVariant) value =
			minst_context_lookup_setting(ctx, bool_features[i].schema_id,
						     bool_features[i].key, G_VARIANT_TYPE_BOOLEAN);
		if (value == NULL)
			continue;
		n_known++;
		if (g_variant_get_boolean(value))
			g_ptr_array_add(on, (gpointer)bool_features[i].feature);
	}
	scaling = minst_context_lookup_setting(ctx, "org.gnome.desktop.interface",
					       "text-scaling-factor", G_VARIANT_TYPE_DOUBLE);
	if (scaling != NULL) {
		n_known++;
		if (g_variant_get_double(scaling) > 1.0)
			g_ptr_array_add(on, (gpointer) "large-text");
	}
	/* the default is 24; the accessibility panel's large cursor is 32+ */
	cursor = minst_context_lookup_setting(ctx, "org.gnome.desktop.interface", "cursor-size",
					      G_VARIANT_TYPE_INT32);
	if (cursor != NULL) {
		n_known++;
		if (g_variant_get_int32(cursor) > 24)
			g_ptr_array_add(on, (gpointer) "large-cursor");
	}
	animations = minst_context_lookup_setting(ctx, "org.gnome.desktop.interface",
						  "enable-animations", G_VARIANT_TYPE_BOOLEAN);
	if (animations != NULL) {
		n_known++;
		if (!g_variant_get_boolean(animations))
			g_ptr_array_add(on, (gpointer) "reduced-animations");
	}

	if (n_known == 0) {
		g_debug("no accessibility setting is available: skipping them");
		return;
	}
	/* "none" too, so that the share of users with a feature on is known */
	if (on->len == 0)
		g_ptr_array_add(on, (gpointer) "none");
	for (guint i = 0; i < on->len; i++)
		minst_samples_add_value(samples, MINST_METRIC_SETTINGS_A11Y_FEATURE,
					g_variant_new_string(g_ptr_array_index(on, i)));
}

void
minst_probe_settings(MinstContext *ctx, GPtrArray *samples)
{
	const char *language = minst_settings_language((const char *const *)ctx->language_names);
	g_autoptr(GVariant) sources = NULL;

	if (language != NULL)
		minst_samples_add_value(samples, MINST_METRIC_SETTINGS_LANGUAGE,
					g_variant_new_string(language));

	sources = minst_context_lookup_setting(ctx, "org.gnome.desktop.input-sources", "sources",
					       G_VARIANT_TYPE("a(ss)"));
	if (sources != NULL) {
		const char *bucket = minst_bucket_input_sources(g_variant_n_children(sources));
		minst_samples_add_value(samples, MINST_METRIC_SETTINGS_INPUT_SOURCES,
					g_variant_new_string(bucket));
	}

	probe_a11y(ctx, samples);
}
