/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>

#include "mcli-common.h"

void
mcli_print_json(JsonBuilder *builder)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	g_autofree char *text = NULL;

	json_generator_set_pretty(generator, TRUE);
	json_generator_set_root(generator, root);
	text = json_generator_to_data(generator, NULL);
	g_print("%s\n", text);
}

char *
mcli_format_duration(guint64 usec)
{
	guint64 seconds = usec / G_USEC_PER_SEC;

	if (seconds >= 3600)
		/* TRANSLATORS: a duration in hours and minutes */
		return g_strdup_printf(_("%" G_GUINT64_FORMAT " h %02" G_GUINT64_FORMAT " min"),
				       seconds / 3600, (seconds % 3600) / 60);
	if (seconds >= 60)
		/* TRANSLATORS: a duration in minutes and seconds */
		return g_strdup_printf(_("%" G_GUINT64_FORMAT " min %02" G_GUINT64_FORMAT " s"),
				       seconds / 60, seconds % 60);
	/* TRANSLATORS: a duration in seconds */
	return g_strdup_printf(_("%.3f s"), (double)usec / G_USEC_PER_SEC);
}

char *
mcli_format_timestamp(gint64 usec)
{
	g_autoptr(GDateTime) dt = NULL;

	if (usec <= 0)
		/* TRANSLATORS: a time that never was */
		return g_strdup(_("never"));
	dt = g_date_time_new_from_unix_local(usec / G_USEC_PER_SEC);
	if (dt == NULL)
		return g_strdup("?");
	return g_date_time_format(dt, "%c");
}

/* @text broken into lines of at most @width columns, each after @indent */
char *
mcli_wrap(const char *text, guint width, const char *indent)
{
	g_auto(GStrv) words = g_strsplit(text, " ", -1);
	GString *out = g_string_new(indent);
	guint column = 0;

	for (guint i = 0; words[i] != NULL; i++) {
		guint len = (guint)g_utf8_strlen(words[i], -1);

		if (len == 0)
			continue;
		if (column > 0 && column + 1 + len > width) {
			g_string_append_printf(out, "\n%s", indent);
			column = 0;
		}
		if (column > 0) {
			g_string_append_c(out, ' ');
			column++;
		}
		g_string_append(out, words[i]);
		column += len;
	}
	return g_string_free(out, FALSE);
}

gboolean
mcli_usage_error(GError **error, const char *usage)
{
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
		    /* TRANSLATORS: %s is how to use the command */
		    _("Usage: %s"), usage);
	return FALSE;
}

const char *
mcli_consent_label(MetricsConsent consent)
{
	switch (consent) {
	case METRICS_CONSENT_GRANTED:
		/* TRANSLATORS: consent state */
		return _("granted (metrics are recorded and uploaded)");
	case METRICS_CONSENT_DENIED:
		/* TRANSLATORS: consent state */
		return _("denied (nothing is recorded)");
	case METRICS_CONSENT_UNKNOWN:
	default:
		/* TRANSLATORS: consent state */
		return _("not asked yet (nothing is recorded)");
	}
}
