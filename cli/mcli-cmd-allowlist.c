/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>

#include "mcli-common.h"

/* metrics-cli allowlist [explain NAME]: what may be recorded, and why */

#define LINE_WIDTH 80

static const char *
lookup_str(GVariant *metric, const char *key)
{
	const char *value = NULL;

	if (!g_variant_lookup(metric, key, "&s", &value))
		return "";
	return value;
}

/* a description or purpose, translated: the daemon sends the English of the
 * allowlist file; data/allowlist/allowlist-strings.c puts it into po/ */
static const char *
lookup_text(GVariant *metric, const char *key)
{
	const char *value = lookup_str(metric, key);

	return value[0] != '\0' ? g_dgettext(GETTEXT_PACKAGE, value) : value;
}

/* prints @text wrapped at LINE_WIDTH columns, every line indented by
 * @indent spaces */
static void
print_wrapped(const char *text, guint indent)
{
	g_auto(GStrv) words = g_strsplit_set(text, " \n\t", -1);
	g_autoptr(GString) line = g_string_new(NULL);
	guint width = 0;

	for (guint i = 0; words[i] != NULL; i++) {
		guint len = mcli_display_width(words[i]);

		if (len == 0)
			continue;
		if (width > 0 && indent + width + 1 + len > LINE_WIDTH) {
			g_print("%*s%s\n", (int)indent, "", line->str);
			g_string_truncate(line, 0);
			width = 0;
		}
		if (width > 0) {
			g_string_append_c(line, ' ');
			width++;
		}
		g_string_append(line, words[i]);
		width += len;
	}
	if (width > 0)
		g_print("%*s%s\n", (int)indent, "", line->str);
}

static const char *
sampled_label(GVariant *metric)
{
	gboolean sampled = FALSE;
	gboolean expired = FALSE;

	g_variant_lookup(metric, "expired", "b", &expired);
	if (expired)
		/* TRANSLATORS: whether this computer records a metric: it expired */
		return _("no (expired)");
	if (!g_variant_lookup(metric, "sampled", "b", &sampled))
		/* TRANSLATORS: whether this computer records a metric: decided on consent */
		return _("decided when you consent");
	/* TRANSLATORS: whether this computer records a metric */
	return sampled ? _("yes") : _("no (not in the sample)");
}

static void
print_summary(GVariant *metric)
{
	g_autofree char *line = NULL;
	g_autofree char *purpose = NULL;

	line = g_strdup_printf(
		/* TRANSLATORS: the name of a metric, then (its category, its
		 * expiry date, and whether this computer records it) */
		_("%s (%s, expires %s, recorded here: %s)"), lookup_str(metric, "name"),
		lookup_str(metric, "category"), lookup_str(metric, "expires"),
		sampled_label(metric));
	mcli_print_line(line);
	print_wrapped(lookup_text(metric, "description"), 2);
	/* TRANSLATORS: a label before the purpose of a metric */
	purpose = g_strdup_printf(_("Why: %s"), lookup_text(metric, "purpose"));
	print_wrapped(purpose, 2);
}

/* label and value pairs, the values in one column after the widest label:
 * the labels are translated, so their width is known only here */
static void
print_fields(GPtrArray *fields)
{
	guint width = 0;

	for (guint i = 0; i + 1 < fields->len; i += 2)
		width = MAX(width, mcli_display_width(g_ptr_array_index(fields, i)));
	for (guint i = 0; i + 1 < fields->len; i += 2) {
		g_autoptr(GString) line = g_string_new(NULL);

		/* padded by display width, not bytes */
		mcli_append_padded(line, g_ptr_array_index(fields, i), width);
		g_string_append_printf(line, " %s", (const char *)g_ptr_array_index(fields, i + 1));
		mcli_print_line(line->str);
	}
}

static void
add_field(GPtrArray *fields, const char *label, const char *value)
{
	g_ptr_array_add(fields, (gpointer)label);
	g_ptr_array_add(fields, (gpointer)value);
}

/* the translated kind of the allowlist's kind id */
static const char *
kind_label(const char *kind)
{
	const MetricsEventKind kinds[] = {METRICS_EVENT_KIND_VALUE, METRICS_EVENT_KIND_COUNTER,
					  METRICS_EVENT_KIND_DURATION};

	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (g_strcmp0(metrics_event_kind_to_string(kinds[i]), kind) == 0)
			return mcli_kind_label(kinds[i]);
	}
	return kind;
}

static void
print_details(GVariant *metric)
{
	const char *payload = lookup_str(metric, "payload");
	double rate = 1.0;
	guint64 cap = 0, n_values = 0;
	g_autofree char *rate_str = NULL;
	g_autofree char *cap_str = NULL;
	g_autofree char *values_str = NULL;
	g_autofree char *n_values_str = NULL;
	g_autoptr(GPtrArray) fields = g_ptr_array_new();

	g_variant_lookup(metric, "sample-rate", "d", &rate);
	g_variant_lookup(metric, "weekly-cap", "t", &cap);
	rate_str = g_strdup_printf("%g %%", rate * 100.0);
	cap_str = g_strdup_printf("%" G_GUINT64_FORMAT, cap);

	/* TRANSLATORS: labels of the details of one metric */
	add_field(fields, _("Name:"), lookup_str(metric, "name"));
	add_field(fields, _("Id:"), lookup_str(metric, "id"));
	add_field(fields, _("Category:"), lookup_str(metric, "category"));
	add_field(fields, _("Kind:"), kind_label(lookup_str(metric, "kind")));
	add_field(fields, _("Value type:"),
		  payload[0] != '\0' ? payload :
				       /* TRANSLATORS: a metric without a value */
				       _("none"));
	if (g_variant_lookup(metric, "n-values", "t", &n_values)) {
		const char *from = lookup_str(metric, "values-from");

		n_values_str = g_strdup_printf("%" G_GUINT64_FORMAT, n_values);
		if (from[0] != '\0')
			values_str = g_strdup_printf(
				/* TRANSLATORS: a number of allowed values, then the
				 * name of their list */
				g_dngettext(NULL, "%s value from “%s”", "%s values from “%s”",
					    n_values),
				n_values_str, from);
		else
			values_str = g_strdup_printf(
				/* TRANSLATORS: a number of allowed values */
				g_dngettext(NULL, "%s value", "%s values", n_values), n_values_str);
		add_field(fields, _("Allowed values:"), values_str);
		add_field(fields, _("Other values:"),
			  g_strcmp0(lookup_str(metric, "other"), "map") == 0 ?
				  /* TRANSLATORS: what happens to a value outside the allowed set */
				  _("recorded as “other”") :
				  /* TRANSLATORS: what happens to a value outside the allowed set */
				  _("dropped"));
	} else if (payload[0] == 's') {
		/* TRANSLATORS: a string value that is not restricted */
		add_field(fields, _("Allowed values:"), _("any"));
	}
	add_field(fields, _("Added:"), lookup_str(metric, "added"));
	add_field(fields, _("Expires:"), lookup_str(metric, "expires"));
	add_field(fields, _("Sample rate:"), rate_str);
	add_field(fields, _("Recorded here:"), sampled_label(metric));
	add_field(fields, _("Weekly cap:"), cap_str);
	add_field(fields, _("Owner:"), lookup_str(metric, "owner"));
	add_field(fields, _("Defined in:"), lookup_str(metric, "file"));
	print_fields(fields);
	/* TRANSLATORS: a heading */
	g_print("%s\n", _("Description:"));
	print_wrapped(lookup_text(metric, "description"), 2);
	/* TRANSLATORS: a heading */
	g_print("%s\n", _("Purpose:"));
	print_wrapped(lookup_text(metric, "purpose"), 2);
}

/* the JSON of a metric: each documented key explicitly from the daemon's
 * dictionary (metrics-cli(1)); optional ones only when the daemon has them */
static const struct {
	const char *key;
	const char *type;
	gboolean optional;
} metric_keys[] = {
	{"id", "s", FALSE},	 {"name", "s", FALSE},	     {"description", "s", FALSE},
	{"purpose", "s", FALSE}, {"owner", "s", FALSE},	     {"category", "s", FALSE},
	{"kind", "s", FALSE},	 {"payload", "s", FALSE},    {"values-from", "s", TRUE},
	{"n-values", "t", TRUE}, {"other", "s", FALSE},	     {"added", "s", FALSE},
	{"expires", "s", FALSE}, {"expired", "b", FALSE},    {"sample-rate", "d", FALSE},
	{"sampled", "b", TRUE},	 {"weekly-cap", "t", FALSE}, {"file", "s", FALSE},
};

static void
add_metric_json(JsonBuilder *builder, GVariant *metric)
{
	json_builder_begin_object(builder);
	for (guint i = 0; i < G_N_ELEMENTS(metric_keys); i++) {
		g_autoptr(GVariant) value = g_variant_lookup_value(
			metric, metric_keys[i].key, G_VARIANT_TYPE(metric_keys[i].type));
		char type = metric_keys[i].type[0];

		if (value == NULL && metric_keys[i].optional)
			continue;
		json_builder_set_member_name(builder, metric_keys[i].key);
		if (type == 's')
			json_builder_add_string_value(
				builder, value != NULL ? g_variant_get_string(value, NULL) : "");
		else if (type == 'b')
			json_builder_add_boolean_value(
				builder, value != NULL && g_variant_get_boolean(value));
		else if (type == 'd')
			json_builder_add_double_value(
				builder, value != NULL ? g_variant_get_double(value) : 0.0);
		else
			json_builder_add_int_value(
				builder, value != NULL ? (gint64)g_variant_get_uint64(value) : 0);
	}
	json_builder_end_object(builder);
}

/* the metric whose name or id is @name, or NULL */
GVariant *
mcli_allowlist_find(GVariant *metrics, const char *name)
{
	GVariantIter iter;
	GVariant *metric;

	g_variant_iter_init(&iter, metrics);
	while ((metric = g_variant_iter_next_value(&iter)) != NULL) {
		if (g_strcmp0(lookup_str(metric, "name"), name) == 0 ||
		    g_strcmp0(lookup_str(metric, "id"), name) == 0)
			return metric;
		g_variant_unref(metric);
	}
	return NULL;
}

gboolean
mcli_cmd_allowlist(McliContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GVariant) metrics = NULL;
	const char *usage = "metrics-cli allowlist [explain NAME]";

	if (argc != 1 && (argc != 3 || g_strcmp0(argv[1], "explain") != 0))
		return mcli_usage_error(error, usage);
	metrics = metrics_client_get_allowlist_sync(ctx->client, NULL, error);
	if (metrics == NULL)
		return FALSE;

	if (argc == 3) {
		g_autoptr(GVariant) metric = mcli_allowlist_find(metrics, argv[2]);

		if (metric == NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    /* TRANSLATORS: %s is what the user asked for */
				    _("No metric “%s” is on the allowlist; see “metrics-cli "
				      "allowlist”"),
				    argv[2]);
			return FALSE;
		}
		if (ctx->json) {
			g_autoptr(JsonBuilder) builder = json_builder_new();

			add_metric_json(builder, metric);
			mcli_print_json(builder);
		} else
			print_details(metric);
		return TRUE;
	}

	/* nothing approved: the same exit code with and without --json */
	if (g_variant_n_children(metrics) == 0)
		ctx->exit_code = MCLI_EXIT_NOTHING_TO_DO;
	if (ctx->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "metrics");
		json_builder_begin_array(builder);
		for (gsize i = 0; i < g_variant_n_children(metrics); i++) {
			g_autoptr(GVariant) metric = g_variant_get_child_value(metrics, i);
			add_metric_json(builder, metric);
		}
		json_builder_end_array(builder);
		json_builder_end_object(builder);
		mcli_print_json(builder);
		return TRUE;
	}
	if (g_variant_n_children(metrics) == 0) {
		/* TRANSLATORS: the allowlist is empty */
		g_print("%s\n", _("No metric is approved: nothing is recorded."));
		return TRUE;
	}
	for (gsize i = 0; i < g_variant_n_children(metrics); i++) {
		g_autoptr(GVariant) metric = g_variant_get_child_value(metrics, i);

		if (i > 0)
			g_print("\n");
		print_summary(metric);
	}
	return TRUE;
}
