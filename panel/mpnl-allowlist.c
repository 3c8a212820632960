/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlAllowlist"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpnl-allowlist.h"

void
mpnl_metric_free(MpnlMetric *metric)
{
	if (metric == NULL)
		return;
	g_free(metric->id);
	g_free(metric->name);
	g_free(metric->category);
	g_free(metric->description);
	g_free(metric->purpose);
	g_free(metric->expires);
	g_free(metric);
}

/* the daemon sends the allowlist's English texts; the shipped ones are
 * translated in the project's gettext domain (data/allowlist/allowlist-strings.c),
 * and a text that is not there (a local allowlist file) stays as it is */
const char *
mpnl_translate(const char *text)
{
	if (text == NULL || *text == '\0')
		return "";
	return g_dgettext(GETTEXT_PACKAGE, text);
}

static const char *const mpnl_category_ids[] = {
	"hardware", "settings", "usage", "performance", "problems", NULL,
};

/* the categories in the order the panel shows them */
const char *const *
mpnl_categories(void)
{
	return mpnl_category_ids;
}

const char *
mpnl_category_title(const char *category)
{
	if (g_strcmp0(category, "hardware") == 0)
		/* TRANSLATORS: a category of metrics */
		return _("Hardware");
	if (g_strcmp0(category, "settings") == 0)
		/* TRANSLATORS: a category of metrics */
		return _("Settings");
	if (g_strcmp0(category, "usage") == 0)
		/* TRANSLATORS: a category of metrics */
		return _("Usage");
	if (g_strcmp0(category, "performance") == 0)
		/* TRANSLATORS: a category of metrics */
		return _("Performance");
	if (g_strcmp0(category, "problems") == 0)
		/* TRANSLATORS: a category of metrics */
		return _("Problems");
	/* TRANSLATORS: the category of metrics of a kind the panel does not know */
	return _("Other");
}

static char *
mpnl_dict_string(GVariantDict *dict, const char *key)
{
	const char *value = NULL;

	if (!g_variant_dict_lookup(dict, key, "&s", &value))
		return g_strdup("");
	return g_strdup(value);
}

/* the metrics of a GetAllowlist reply, (aa{sv}); entries without an id are
 * skipped: (transfer full) (element-type MpnlMetric) */
GPtrArray *
mpnl_allowlist_parse(GVariant *reply)
{
	g_autoptr(GPtrArray) metrics =
		g_ptr_array_new_with_free_func((GDestroyNotify)mpnl_metric_free);
	g_autoptr(GVariant) list = NULL;
	GVariantIter iter;
	GVariant *entry;

	g_return_val_if_fail(g_variant_is_of_type(reply, G_VARIANT_TYPE("(aa{sv})")), NULL);
	list = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, list);
	while ((entry = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) owned = entry;
		g_auto(GVariantDict) dict;
		g_autoptr(MpnlMetric) metric = g_new0(MpnlMetric, 1);
		g_autofree char *description = NULL;
		g_autofree char *purpose = NULL;

		g_variant_dict_init(&dict, owned);
		metric->id = mpnl_dict_string(&dict, "id");
		if (*metric->id == '\0')
			continue;
		metric->name = mpnl_dict_string(&dict, "name");
		metric->category = mpnl_dict_string(&dict, "category");
		description = mpnl_dict_string(&dict, "description");
		purpose = mpnl_dict_string(&dict, "purpose");
		metric->description = g_strdup(mpnl_translate(description));
		metric->purpose = g_strdup(mpnl_translate(purpose));
		metric->expires = mpnl_dict_string(&dict, "expires");
		if (!g_variant_dict_lookup(&dict, "expired", "b", &metric->expired))
			metric->expired = FALSE;
		g_ptr_array_add(metrics, g_steal_pointer(&metric));
	}
	return g_steal_pointer(&metrics);
}

/* (nullable) (transfer none) */
MpnlMetric *
mpnl_allowlist_lookup(GPtrArray *metrics, const char *id)
{
	if (metrics == NULL)
		return NULL;
	for (guint i = 0; i < metrics->len; i++) {
		MpnlMetric *metric = g_ptr_array_index(metrics, i);
		if (g_strcmp0(metric->id, id) == 0)
			return metric;
	}
	return NULL;
}
