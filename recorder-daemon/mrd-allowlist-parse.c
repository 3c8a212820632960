/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdAllowlist"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics-error.h"
#include "mrd-allowlist-private.h"

/*
 * Parsing one allowlist document (format: docs/allowlist.md) into metrics.
 * A broken document is rejected whole, with a message that names the
 * file, the line and the field.
 */

#define MAX_NAME_LENGTH MRD_ALLOWLIST_MAX_NAME_LENGTH
#define MAX_TEXT_LENGTH 4096
#define MAX_TYPE_LENGTH 64

static const char *const metric_keys[] = {
	"id",	   "name",    "description", "purpose",	   "owner",   "category", "kind",
	"payload", "values",  "values_from", "other",	   "buckets", "members",  "recorders",
	"added",   "expires", "sample_rate", "weekly_cap", NULL,
};

/* what declares the values of one payload value (or of a tuple's member) */
static const char *const domain_keys[] = {"values", "values_from", "other", "buckets", NULL};

/* the GVariant types of numbers, which are recorded as buckets */
#define NUMBER_TYPES "ynqiuxtd"

/* ---- error reporting ---- */

/* the 1-based line of the first occurrence of @needle in @data, or 0 */
static guint
line_of(const char *data, gsize length, const char *needle)
{
	const char *found;
	guint line = 1;

	if (needle == NULL || data == NULL)
		return 0;
	found = g_strstr_len(data, (gssize)length, needle);
	if (found == NULL)
		return 0;
	for (const char *p = data; p < found; p++) {
		if (*p == '\n')
			line++;
	}
	return line;
}

/* the 1-based line of byte @offset of @data */
static guint
line_at(const char *data, gsize offset)
{
	guint line = 1;

	for (gsize i = 0; i < offset; i++) {
		if (data[i] == '\n')
			line++;
	}
	return line;
}

#define ROOT_OBJECT G_MAXUINT

/*
 * json-glib keeps no positions of parsed values, so errors find them in the
 * text: the offset of the key @field directly in element @index of the
 * top-level "metrics" array (or, for ROOT_OBJECT, in the root object), or
 * -1. @object_start (optional) gets the offset of that element's "{" (or
 * -1). A small scanner that knows strings and nesting, enough for a
 * document json-glib has parsed; keys written with escapes are not found.
 */
static gssize
find_key(const char *data, gsize length, guint index, const char *field, gssize *object_start)
{
	gsize field_len = strlen(field);
	guint target_depth = index == ROOT_OBJECT ? 1 : 3;
	guint depth = 0;
	guint element = 0;
	gboolean after_metrics_key = FALSE;
	gboolean in_metrics = FALSE;
	gboolean in_target = FALSE;

	if (object_start != NULL)
		*object_start = -1;
	for (gsize i = 0; i < length; i++) {
		char c = data[i];

		if (c == '"') {
			gsize start = i + 1;
			gsize j;

			for (i = start; i < length && data[i] != '"'; i++) {
				if (data[i] == '\\')
					i++;
			}
			if (i >= length)
				return -1;
			for (j = i + 1; j < length && g_ascii_isspace(data[j]); j++)
				;
			if (j >= length || data[j] != ':')
				continue;
			/* a key */
			if (depth == 1)
				after_metrics_key =
					i - start == 7 && memcmp(data + start, "metrics", 7) == 0;
			if (in_target && depth == target_depth && i - start == field_len &&
			    memcmp(data + start, field, field_len) == 0)
				return (gssize)start - 1;
			continue;
		}
		switch (c) {
		case '{':
		case '[':
			depth++;
			if (c == '[' && depth == 2 && after_metrics_key) {
				in_metrics = TRUE;
				element = 0;
			}
			if (c == '{' && ((depth == 1 && index == ROOT_OBJECT) ||
					 (depth == 3 && in_metrics && element == index))) {
				in_target = TRUE;
				if (object_start != NULL)
					*object_start = (gssize)i;
			}
			break;
		case '}':
		case ']':
			if (in_target && depth == target_depth)
				return -1;
			if (depth == 2)
				in_metrics = FALSE;
			if (depth > 0)
				depth--;
			break;
		case ',':
			if (depth == 2 && in_metrics)
				element++;
			break;
		default:
			break;
		}
	}
	return -1;
}

/* the line of key @field of the root object, or 0 */
static guint
root_key_line(const char *data, gsize length, const char *field)
{
	gssize at = find_key(data, length, ROOT_OBJECT, field, NULL);

	return at >= 0 ? line_at(data, (gsize)at) : 0;
}

typedef struct {
	const char *filename;
	const char *data;
	gsize length;
	guint index;	  /* of the metric in "metrics" */
	const char *name; /* (nullable) */
	const char *id;	  /* (nullable) */
} ParseContext;

/* the line to name for a problem with @field of the metric: that of the
 * field, or for a missing field that of the metric's id (or its start) */
static guint
field_line(const ParseContext *ctx, const char *field)
{
	gssize start = -1;
	gssize at = find_key(ctx->data, ctx->length, ctx->index, field, &start);
	g_autofree char *quoted = NULL;
	guint line = 0;

	if (at < 0)
		at = find_key(ctx->data, ctx->length, ctx->index, "id", NULL);
	if (at < 0)
		at = start;
	if (at >= 0)
		return line_at(ctx->data, (gsize)at);

	/* not found by the scanner: the first mention of the id or name */
	if (ctx->id != NULL) {
		quoted = g_strdup_printf("\"%s\"", ctx->id);
		line = line_of(ctx->data, ctx->length, quoted);
	}
	if (line == 0 && ctx->name != NULL) {
		g_free(quoted);
		quoted = g_strdup_printf("\"%s\"", ctx->name);
		line = line_of(ctx->data, ctx->length, quoted);
	}
	return line;
}

/* sets an error naming the file, the line of key @line_key (see
 * field_line()) and the field @field */
static gboolean
set_error_va(GError **error,
	     const ParseContext *ctx,
	     const char *line_key,
	     const char *field,
	     const char *format,
	     va_list args)
{
	g_autofree char *what = NULL;
	g_autofree char *message = g_strdup_vprintf(format, args);
	guint line = field_line(ctx, line_key);

	if (ctx->name != NULL)
		what = g_strdup_printf("metrics[%u] (“%s”)", ctx->index, ctx->name);
	else
		what = g_strdup_printf("metrics[%u]", ctx->index);
	if (line > 0)
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: file:line: metric, field “name”: the problem */
			    _("%s:%u: %s, field “%s”: %s"), ctx->filename, line, what, field,
			    message);
	else
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: file: metric, field “name”: the problem */
			    _("%s: %s, field “%s”: %s"), ctx->filename, what, field, message);
	return FALSE;
}

G_GNUC_PRINTF(4, 5)
static gboolean
set_field_error(GError **error, const ParseContext *ctx, const char *field, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	set_error_va(error, ctx, field, field, format, args);
	va_end(args);
	return FALSE;
}

/* where a domain's fields are: directly in the metric (@member < 0), or in
 * element @member of its "members" */
typedef struct {
	const ParseContext *ctx;
	gint member;
} DomainWhere;

/* an error about @field of the domain: in a member, named
 * “members[N].field” on the line of “members” */
G_GNUC_PRINTF(4, 5)
static gboolean
set_domain_error(GError **error,
		 const DomainWhere *where,
		 const char *field,
		 const char *format,
		 ...)
{
	g_autofree char *label = NULL;
	va_list args;

	if (where->member >= 0)
		label = field != NULL ? g_strdup_printf("members[%d].%s", where->member, field) :
					g_strdup_printf("members[%d]", where->member);
	else
		label = g_strdup(field);
	va_start(args, format);
	set_error_va(error, where->ctx, where->member >= 0 ? "members" : field, label, format,
		     args);
	va_end(args);
	return FALSE;
}

/* ---- names and value sets ---- */

/* whether @name is a name of the form [a-z0-9-]+, not starting with a dash */
gboolean
mrd_allowlist_is_valid_name(const char *name)
{
	gsize len = strlen(name);

	if (len == 0 || len > MAX_NAME_LENGTH || name[0] == '-')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_islower(name[i]) && !g_ascii_isdigit(name[i]) && name[i] != '-')
			return FALSE;
	}
	return TRUE;
}

/* a set of strings (owned keys) */
GHashTable *
mrd_string_set_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/* ---- parsing ---- */

static gboolean
get_string_member(JsonObject *object,
		  const ParseContext *ctx,
		  const char *field,
		  gboolean required,
		  gsize max_length,
		  const char **out,
		  GError **error)
{
	JsonNode *node = json_object_get_member(object, field);
	const char *value;

	*out = NULL;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node)) {
		if (required)
			/* TRANSLATORS: a field of an allowlist entry is missing */
			return set_field_error(error, ctx, field, _("missing"));
		return TRUE;
	}
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
		return set_field_error(error, ctx, field, _("must be a string"));
	value = json_node_get_string(node);
	if (required && value[0] == '\0')
		return set_field_error(error, ctx, field, _("must not be empty"));
	if (strlen(value) > max_length)
		return set_field_error(error, ctx, field,
				       /* TRANSLATORS: a field of an allowlist entry is too
					* long; the limits are at most a few thousand */
				       g_dngettext(NULL, "longer than %u byte",
						   "longer than %u bytes", max_length),
				       (guint)max_length);
	if (!g_utf8_validate(value, -1, NULL))
		return set_field_error(error, ctx, field, _("not valid UTF-8"));
	*out = value;
	return TRUE;
}

static gboolean
parse_date(const char *str, GDate *date)
{
	guint year, month, day;
	char extra;

	if (str == NULL || strlen(str) != 10 || str[4] != '-' || str[7] != '-')
		return FALSE;
	if (sscanf(str, "%4u-%2u-%2u%c", &year, &month, &day, &extra) != 3)
		return FALSE;
	if (!g_date_valid_dmy((GDateDay)day, (GDateMonth)month, (GDateYear)year))
		return FALSE;
	g_date_clear(date, 1);
	g_date_set_dmy(date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
	return TRUE;
}

static gint64
date_to_usec(const GDate *date)
{
	g_autoptr(GDateTime) dt =
		g_date_time_new_utc((gint)g_date_get_year(date), (gint)g_date_get_month(date),
				    (gint)g_date_get_day(date), 0, 0, 0);
	return g_date_time_to_unix(dt) * G_USEC_PER_SEC;
}

static gboolean
parse_kind(const char *str, MetricsEventKind *kind)
{
	for (guint k = METRICS_EVENT_KIND_VALUE; k <= METRICS_EVENT_KIND_DURATION; k++) {
		if (g_strcmp0(str, metrics_event_kind_to_string((MetricsEventKind)k)) == 0) {
			*kind = (MetricsEventKind)k;
			return TRUE;
		}
	}
	return FALSE;
}

/* a string of @object, or %NULL; FALSE for another type */
static gboolean
get_domain_string(JsonObject *object,
		  const DomainWhere *where,
		  const char *field,
		  const char **out,
		  GError **error)
{
	JsonNode *node = json_object_get_member(object, field);

	*out = NULL;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING ||
	    strlen(json_node_get_string(node)) > MAX_NAME_LENGTH)
		return set_domain_error(error, where, field,
					_("must be a name of the form [a-z0-9-]+"));
	*out = json_node_get_string(node);
	return TRUE;
}

/* a member of @object unless absent or null */
static JsonNode *
get_present(JsonObject *object, const char *field)
{
	JsonNode *node = json_object_get_member(object, field);

	return node != NULL && !JSON_NODE_HOLDS_NULL(node) ? node : NULL;
}

/* the allowed strings of an "s" value: "values" or "values_from" */
static gboolean
parse_strings(MrdAllowlist *self,
	      JsonObject *object,
	      const DomainWhere *where,
	      MrdValueDomain *domain,
	      GError **error)
{
	JsonNode *values = get_present(object, "values");
	const char *values_from = NULL;
	const char *other = NULL;
	JsonArray *array;

	if (!get_domain_string(object, where, "values_from", &values_from, error) ||
	    !get_domain_string(object, where, "other", &other, error))
		return FALSE;
	if (get_present(object, "buckets") != NULL)
		return set_domain_error(error, where, "buckets",
					_("only a number has buckets, not a string"));
	if ((values != NULL) == (values_from != NULL))
		return set_domain_error(
			error, where, values != NULL ? "values_from" : "values",
			_("a string needs exactly one of “values” or “values_from”: free text "
			  "is never recorded"));
	if (other == NULL || g_strcmp0(other, "drop") == 0)
		domain->map_other = FALSE;
	else if (g_strcmp0(other, "map") == 0)
		domain->map_other = TRUE;
	else
		return set_domain_error(error, where, "other",
					_("must be “drop” or “map”, not “%s”"), other);

	if (values_from != NULL) {
		if (!mrd_allowlist_is_valid_name(values_from))
			return set_domain_error(error, where, "values_from",
						_("“%s” is not a name of the form [a-z0-9-]+"),
						values_from);
		domain->values_from = g_strdup(values_from);
		domain->values = mrd_allowlist_get_value_set(self, values_from, error);
		if (domain->values == NULL) {
			g_autoptr(GError) error_local = g_steal_pointer(error);
			return set_domain_error(error, where, "values_from", "%s",
						error_local->message);
		}
		return TRUE;
	}

	if (!JSON_NODE_HOLDS_ARRAY(values))
		return set_domain_error(error, where, "values", _("must be an array of strings"));
	array = json_node_get_array(values);
	domain->values = mrd_string_set_new();
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);

		if (!JSON_NODE_HOLDS_VALUE(element) ||
		    json_node_get_value_type(element) != G_TYPE_STRING ||
		    !g_utf8_validate(json_node_get_string(element), -1, NULL))
			return set_domain_error(error, where, "values",
						_("element %u is not a string"), i);
		g_hash_table_add(domain->values, g_strdup(json_node_get_string(element)));
	}
	if (g_hash_table_size(domain->values) == 0)
		return set_domain_error(error, where, "values", _("must not be empty"));
	return TRUE;
}

/* an edge as a label writes it */
static char *
format_edge(const MrdValueDomain *domain, guint i)
{
	char buffer[G_ASCII_DTOSTR_BUF_SIZE];

	if (domain->d_edges == NULL)
		return g_strdup_printf("%" G_GINT64_FORMAT, domain->edges[i]);
	return g_strdup(g_ascii_formatd(buffer, sizeof(buffer), "%.15g", domain->d_edges[i]));
}

/* the buckets of a number: "buckets", increasing edges; the labels are
 * "<e0", "e0-e1", …, ">=eN" (docs/allowlist.md) */
static gboolean
parse_buckets(JsonObject *object, const DomainWhere *where, MrdValueDomain *domain, GError **error)
{
	JsonNode *node = get_present(object, "buckets");
	JsonArray *array;
	guint n;

	for (guint k = 0; k < 3; k++) {
		const char *field = (const char *[]){"values", "values_from", "other"}[k];

		if (get_present(object, field) != NULL)
			return set_domain_error(error, where, field,
						_("only a string has a set of allowed values, "
						  "not a number (“%c”)"),
						domain->type);
	}
	if (node == NULL)
		return set_domain_error(error, where, "buckets",
					_("a number (“%c”) needs “buckets”: numbers are "
					  "recorded as the bucket they fall in, never as they are"),
					domain->type);
	if (!JSON_NODE_HOLDS_ARRAY(node))
		return set_domain_error(error, where, "buckets",
					_("must be an array of increasing numbers"));
	array = json_node_get_array(node);
	n = json_array_get_length(array);
	if (n == 0 || n > MRD_ALLOWLIST_MAX_BUCKET_EDGES)
		return set_domain_error(error, where, "buckets", _("must have from 1 to %u edges"),
					(guint)MRD_ALLOWLIST_MAX_BUCKET_EDGES);
	domain->n_edges = n;
	if (domain->type == 'd')
		domain->d_edges = g_new0(double, n);
	else
		domain->edges = g_new0(gint64, n);
	for (guint i = 0; i < n; i++) {
		JsonNode *element = json_array_get_element(array, i);
		GType type = JSON_NODE_HOLDS_VALUE(element) ? json_node_get_value_type(element) :
							      G_TYPE_INVALID;

		if (domain->type == 'd' && (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE)) {
			domain->d_edges[i] = type == G_TYPE_INT64 ?
						     (double)json_node_get_int(element) :
						     json_node_get_double(element);
			if (!isfinite(domain->d_edges[i]) ||
			    (i > 0 && domain->d_edges[i] <= domain->d_edges[i - 1]))
				return set_domain_error(error, where, "buckets",
							_("the edges must increase"));
		} else if (domain->type != 'd' && type == G_TYPE_INT64) {
			domain->edges[i] = json_node_get_int(element);
			if (i > 0 && domain->edges[i] <= domain->edges[i - 1])
				return set_domain_error(error, where, "buckets",
							_("the edges must increase"));
		} else {
			return set_domain_error(error, where, "buckets",
						domain->type == 'd' ?
							_("element %u is not a number") :
							_("element %u is not a whole number"),
						i);
		}
	}
	domain->labels = g_new0(char *, n + 2);
	for (guint i = 0; i <= n; i++) {
		g_autofree char *low = i > 0 ? format_edge(domain, i - 1) : NULL;
		g_autofree char *high = i < n ? format_edge(domain, i) : NULL;

		if (low == NULL)
			domain->labels[i] = g_strdup_printf("<%s", high);
		else if (high == NULL)
			domain->labels[i] = g_strdup_printf(">=%s", low);
		else
			domain->labels[i] = g_strdup_printf("%s-%s", low, high);
	}
	return TRUE;
}

/* the domain of one value of type @type, declared in @object */
static gboolean
parse_domain(MrdAllowlist *self,
	     JsonObject *object,
	     const DomainWhere *where,
	     const char *type,
	     MrdValueDomain *domain,
	     GError **error)
{
	domain->type = type[0];
	if (type[0] == 's')
		return parse_strings(self, object, where, domain, error);
	if (type[0] != '\0' && strchr(NUMBER_TYPES, type[0]) != NULL)
		return parse_buckets(object, where, domain, error);
	/* a boolean: nothing to declare */
	for (guint k = 0; domain_keys[k] != NULL; k++) {
		if (get_present(object, domain_keys[k]) != NULL)
			return set_domain_error(error, where, domain_keys[k],
						_("a boolean (“b”) declares no values"));
	}
	return TRUE;
}

/* whether @type is of one value that can be declared: b, s or a number */
static gboolean
is_value_type(const GVariantType *type)
{
	const char *str = g_variant_type_peek_string(type);

	return g_variant_type_get_string_length(type) == 1 &&
	       (str[0] == 'b' || str[0] == 's' || strchr(NUMBER_TYPES, str[0]) != NULL);
}

/* the declared values of the payload: nothing without one; for b, s or a
 * number in the metric itself; for a tuple in "members", one each */
static gboolean
parse_payload_values(MrdAllowlist *self,
		     JsonObject *object,
		     const ParseContext *ctx,
		     MrdMetric *metric,
		     GError **error)
{
	DomainWhere where = {ctx, -1};
	JsonNode *members = get_present(object, "members");
	JsonArray *array;
	const GVariantType *item;
	guint n;

	if (metric->payload == NULL || g_variant_type_is_tuple(metric->payload)) {
		for (guint k = 0; domain_keys[k] != NULL; k++) {
			if (get_present(object, domain_keys[k]) != NULL)
				return set_field_error(
					error, ctx, domain_keys[k],
					metric->payload == NULL ?
						_("a metric without a payload declares no values") :
						_("a tuple declares the values of each member in "
						  "“members”"));
		}
	}
	if (metric->payload == NULL) {
		if (members != NULL)
			return set_field_error(error, ctx, "members",
					       _("a metric without a payload has no members"));
		return TRUE;
	}
	if (!g_variant_type_is_tuple(metric->payload)) {
		if (members != NULL)
			return set_field_error(error, ctx, "members",
					       _("only a tuple payload has members"));
		if (!is_value_type(metric->payload))
			return set_field_error(
				error, ctx, "payload",
				_("“%s” is not b, s, a number (y n q i u x t d) or a tuple of "
				  "them"),
				g_variant_type_peek_string(metric->payload));
		metric->n_domains = 1;
		metric->domains = g_new0(MrdValueDomain, 1);
		return parse_domain(self, object, &where,
				    g_variant_type_peek_string(metric->payload),
				    &metric->domains[0], error);
	}

	metric->is_tuple = TRUE;
	n = g_variant_type_n_items(metric->payload);
	if (n == 0)
		return set_field_error(error, ctx, "payload", _("an empty tuple carries no value"));
	for (item = g_variant_type_first(metric->payload); item != NULL;
	     item = g_variant_type_next(item)) {
		if (!is_value_type(item))
			return set_field_error(error, ctx, "payload",
					       _("each member of a tuple is b, s or a number (y n "
						 "q i u x t d), not “%.*s”"),
					       (int)g_variant_type_get_string_length(item),
					       g_variant_type_peek_string(item));
	}
	if (members == NULL || !JSON_NODE_HOLDS_ARRAY(members))
		return set_field_error(error, ctx, "members",
				       _("a tuple payload needs “members”: an array with the "
					 "values of each member"));
	array = json_node_get_array(members);
	if (json_array_get_length(array) != n)
		return set_field_error(error, ctx, "members",
				       _("needs one element for each of the payload’s %u "
					 "members, not %u"),
				       n, json_array_get_length(array));
	metric->n_domains = n;
	metric->domains = g_new0(MrdValueDomain, n);
	item = g_variant_type_first(metric->payload);
	for (guint i = 0; i < n; i++, item = g_variant_type_next(item)) {
		JsonNode *element = json_array_get_element(array, i);
		g_autoptr(GList) keys = NULL;
		char type[2] = {g_variant_type_peek_string(item)[0], '\0'};

		where.member = (gint)i;
		if (!JSON_NODE_HOLDS_OBJECT(element))
			return set_domain_error(error, &where, NULL, _("must be an object"));
		keys = json_object_get_members(json_node_get_object(element));
		for (GList *l = keys; l != NULL; l = l->next) {
			if (!g_strv_contains(domain_keys, l->data))
				return set_domain_error(error, &where, l->data, _("unknown key"));
		}
		if (!parse_domain(self, json_node_get_object(element), &where, type,
				  &metric->domains[i], error))
			return FALSE;
	}
	return TRUE;
}

/* "recorders": who may record the metric, resolved now */
static gboolean
parse_recorders(JsonObject *object, const ParseContext *ctx, MrdMetric *metric, GError **error)
{
	JsonNode *node = json_object_get_member(object, "recorders");
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func(g_free);
	JsonArray *array;

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return set_field_error(error, ctx, "recorders", _("missing"));
	if (!JSON_NODE_HOLDS_ARRAY(node) || json_array_get_length(json_node_get_array(node)) == 0)
		return set_field_error(error, ctx, "recorders",
				       _("must be a non-empty array of “system”, “session”, "
					 "“user:NAME” or “app:APP-ID”"));
	array = json_node_get_array(node);
	metric->recorder_uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);
		const char *spec;
		const char *user = NULL;

		if (!JSON_NODE_HOLDS_VALUE(element) ||
		    json_node_get_value_type(element) != G_TYPE_STRING)
			return set_field_error(error, ctx, "recorders",
					       _("element %u is not a string"), i);
		spec = json_node_get_string(element);
		if (g_strcmp0(spec, "session") == 0) {
			metric->by_session = TRUE;
		} else if (g_strcmp0(spec, "system") == 0) {
			/* the instrumentation's user, which is the daemon's own
			 * in the shipped units; a daemon started by hand (tests,
			 * the demo) counts its own uid as the system's too */
			guint32 own = (guint32)geteuid();

			g_array_append_val(metric->recorder_uids, own);
			user = MRD_ALLOWLIST_SYSTEM_USER;
		} else if (g_str_has_prefix(spec, "user:") && spec[5] != '\0' &&
			   strlen(spec) <= 5 + MAX_NAME_LENGTH) {
			user = spec + 5;
		} else if (g_str_has_prefix(spec, "app:") && g_application_id_is_valid(spec + 4)) {
			g_ptr_array_add(apps, g_strdup(spec + 4));
		} else {
			return set_field_error(error, ctx, "recorders",
					       _("“%s” is not “system”, “session”, “user:NAME” or "
						 "“app:APP-ID”"),
					       spec);
		}
		if (user != NULL) {
			struct passwd *pw = getpwnam(user);

			/* a user that does not exist here records nothing */
			if (pw != NULL)
				g_array_append_val(metric->recorder_uids, pw->pw_uid);
			else
				g_debug("%s: %s: no user %s here", ctx->filename, metric->name,
					user);
		}
		g_ptr_array_add(names, g_strdup(spec));
	}
	g_ptr_array_add(names, NULL);
	metric->recorders = (GStrv)g_ptr_array_steal(names, NULL);
	if (apps->len > 0) {
		g_ptr_array_add(apps, NULL);
		metric->recorder_apps = (GStrv)g_ptr_array_steal(apps, NULL);
	}
	return TRUE;
}

static gboolean
parse_number(JsonObject *object,
	     const ParseContext *ctx,
	     const char *field,
	     double *out,
	     GError **error)
{
	JsonNode *node = json_object_get_member(object, field);
	GType type;

	if (node == NULL)
		return TRUE;
	type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
	if (type == G_TYPE_INT64)
		*out = (double)json_node_get_int(node);
	else if (type == G_TYPE_DOUBLE)
		*out = json_node_get_double(node);
	else
		return set_field_error(error, ctx, field, _("must be a number"));
	return TRUE;
}

/* the name and id first, so that later errors can say where; then no
 * unknown key, and the id and name themselves */
static gboolean
parse_identity(JsonObject *object, ParseContext *ctx, MrdMetric *metric, GError **error)
{
	g_autoptr(GList) members = NULL;
	const char *id = NULL, *name = NULL;

	if (json_object_has_member(object, "name") &&
	    JSON_NODE_HOLDS_VALUE(json_object_get_member(object, "name")) &&
	    json_node_get_value_type(json_object_get_member(object, "name")) == G_TYPE_STRING)
		ctx->name = json_object_get_string_member(object, "name");
	if (json_object_has_member(object, "id") &&
	    JSON_NODE_HOLDS_VALUE(json_object_get_member(object, "id")) &&
	    json_node_get_value_type(json_object_get_member(object, "id")) == G_TYPE_STRING)
		ctx->id = json_object_get_string_member(object, "id");

	members = json_object_get_members(object);
	for (GList *l = members; l != NULL; l = l->next) {
		/* what the format once had, which allowed any string */
		if (g_strcmp0(l->data, "any_value") == 0)
			return set_field_error(
				error, ctx, l->data,
				_("is not accepted: a string lists its values (“values” or "
				  "“values_from”), free text is never recorded"));
		if (!g_strv_contains(metric_keys, l->data))
			return set_field_error(error, ctx, l->data, _("unknown key"));
	}

	if (!get_string_member(object, ctx, "id", TRUE, METRICS_UUID_STRING_LENGTH + 1, &id, error))
		return FALSE;
	if (!metrics_uuid_parse(id, metric->id))
		return set_field_error(error, ctx, "id", _("“%s” is not a UUID"), id);
	metrics_uuid_unparse(metric->id, metric->id_str);
	if (strcmp(metric->id_str, id) != 0)
		return set_field_error(error, ctx, "id", _("write the UUID in lower case: “%s”"),
				       metric->id_str);

	if (!get_string_member(object, ctx, "name", TRUE, MAX_NAME_LENGTH, &name, error))
		return FALSE;
	if (!mrd_allowlist_is_valid_name(name))
		return set_field_error(error, ctx, "name",
				       _("“%s” is not a name of the form [a-z0-9-]+"), name);
	metric->name = g_strdup(name);
	return TRUE;
}

/* what people read: description, purpose, owner */
static gboolean
parse_texts(JsonObject *object, ParseContext *ctx, MrdMetric *metric, GError **error)
{
	const char *description = NULL, *purpose = NULL, *owner = NULL;

	if (!get_string_member(object, ctx, "description", TRUE, MAX_TEXT_LENGTH, &description,
			       error) ||
	    !get_string_member(object, ctx, "purpose", TRUE, MAX_TEXT_LENGTH, &purpose, error) ||
	    !get_string_member(object, ctx, "owner", TRUE, MAX_TEXT_LENGTH, &owner, error))
		return FALSE;
	metric->description = g_strdup(description);
	metric->purpose = g_strdup(purpose);
	metric->owner = g_strdup(owner);
	return TRUE;
}

/* what the daemon checks events against: category, kind, payload type */
static gboolean
parse_shape(JsonObject *object, ParseContext *ctx, MrdMetric *metric, GError **error)
{
	const char *category = NULL, *kind = NULL, *payload = NULL;

	if (!get_string_member(object, ctx, "category", TRUE, MAX_NAME_LENGTH, &category, error) ||
	    !get_string_member(object, ctx, "kind", TRUE, MAX_NAME_LENGTH, &kind, error) ||
	    !get_string_member(object, ctx, "payload", FALSE, MAX_TYPE_LENGTH, &payload, error))
		return FALSE;
	if (!mrd_metric_category_from_string(category, &metric->category))
		return set_field_error(error, ctx, "category",
				       _("“%s” is not one of hardware, settings, usage, "
					 "performance, problems"),
				       category);
	if (!parse_kind(kind, &metric->kind))
		return set_field_error(error, ctx, "kind",
				       _("“%s” is not one of counter, duration, value"), kind);
	if (payload != NULL) {
		if (!g_variant_type_string_is_valid(payload) ||
		    !g_variant_type_is_definite(G_VARIANT_TYPE(payload)))
			return set_field_error(error, ctx, "payload",
					       _("“%s” is not a definite GVariant type string"),
					       payload);
		metric->payload = g_variant_type_new(payload);
	}
	return TRUE;
}

/* added and expires: a lifetime of at most MRD_ALLOWLIST_MAX_LIFETIME_MONTHS */
static gboolean
parse_dates(JsonObject *object, ParseContext *ctx, MrdMetric *metric, GError **error)
{
	const char *added = NULL, *expires = NULL;
	GDate added_date, expires_date, limit;

	if (!get_string_member(object, ctx, "added", TRUE, MAX_NAME_LENGTH, &added, error) ||
	    !get_string_member(object, ctx, "expires", TRUE, MAX_NAME_LENGTH, &expires, error))
		return FALSE;
	if (!parse_date(added, &added_date))
		return set_field_error(error, ctx, "added", _("“%s” is not a date YYYY-MM-DD"),
				       added);
	if (!parse_date(expires, &expires_date))
		return set_field_error(error, ctx, "expires", _("“%s” is not a date YYYY-MM-DD"),
				       expires);
	limit = added_date;
	g_date_add_months(&limit, MRD_ALLOWLIST_MAX_LIFETIME_MONTHS);
	if (g_date_compare(&expires_date, &added_date) < 0)
		return set_field_error(error, ctx, "expires", _("%s is before “added” (%s)"),
				       expires, added);
	if (g_date_compare(&expires_date, &limit) > 0)
		return set_field_error(error, ctx, "expires",
				       _("%s is more than %u months after “added” (%s)"), expires,
				       (guint)MRD_ALLOWLIST_MAX_LIFETIME_MONTHS, added);
	g_date_add_days(&expires_date, 1);
	metric->expires_end = date_to_usec(&expires_date);
	metric->added = g_strdup(added);
	metric->expires = g_strdup(expires);
	return TRUE;
}

/* sample_rate and weekly_cap */
static gboolean
parse_limits(JsonObject *object, ParseContext *ctx, MrdMetric *metric, GError **error)
{
	JsonNode *cap;
	double rate = 1.0;

	if (!parse_number(object, ctx, "sample_rate", &rate, error))
		return FALSE;
	if (!(rate >= 0.0 && rate <= 1.0))
		return set_field_error(error, ctx, "sample_rate", _("must be between 0 and 1"));
	metric->sample_rate = rate;

	cap = json_object_get_member(object, "weekly_cap");
	if (cap == NULL)
		return set_field_error(error, ctx, "weekly_cap", _("missing"));
	if (!JSON_NODE_HOLDS_VALUE(cap) || json_node_get_value_type(cap) != G_TYPE_INT64 ||
	    json_node_get_int(cap) < 1)
		return set_field_error(error, ctx, "weekly_cap",
				       _("must be a whole number of at least 1"));
	metric->weekly_cap = (guint64)json_node_get_int(cap);
	return TRUE;
}

static MrdMetric *
parse_metric(MrdAllowlist *self, JsonNode *node, ParseContext *ctx, GError **error)
{
	g_autoptr(MrdMetric) metric = g_new0(MrdMetric, 1);
	JsonObject *object;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("%s: metrics[%u] is not an object"), ctx->filename, ctx->index);
		return NULL;
	}
	object = json_node_get_object(node);
	if (!parse_identity(object, ctx, metric, error) ||
	    !parse_texts(object, ctx, metric, error) || !parse_shape(object, ctx, metric, error) ||
	    !parse_dates(object, ctx, metric, error) || !parse_limits(object, ctx, metric, error) ||
	    !parse_payload_values(self, object, ctx, metric, error) ||
	    !parse_recorders(object, ctx, metric, error))
		return NULL;
	metric->file = g_strdup(ctx->filename);
	return g_steal_pointer(&metric);
}

/* json-glib reports "<data>:LINE:COL: …"; name the file instead */
static void
set_syntax_error(GError **error, const char *filename, const GError *error_json)
{
	const char *message = error_json->message;

	if (g_str_has_prefix(message, "<data>"))
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA, "%s%s", filename,
			    message + strlen("<data>"));
	else
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA, "%s: %s", filename,
			    message);
}

/* parses one file; all or nothing: on success its metrics are in @metrics */
gboolean
mrd_allowlist_parse_document(MrdAllowlist *self,
			     const char *filename,
			     const char *data,
			     gsize length,
			     GPtrArray *metrics,
			     GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) error_json = NULL;
	g_autoptr(GList) members = NULL;
	g_autoptr(GHashTable) seen_ids = g_hash_table_new(mrd_uuid_hash, mrd_uuid_equal);
	g_autoptr(GHashTable) seen_names = g_hash_table_new(g_str_hash, g_str_equal);
	JsonNode *root;
	JsonObject *object;
	JsonNode *format;
	JsonNode *list;

	if (!g_utf8_validate(data, (gssize)length, NULL)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("%s: not valid UTF-8"), filename);
		return FALSE;
	}
	if (!json_parser_load_from_data(parser, data, (gssize)length, &error_json)) {
		set_syntax_error(error, filename, error_json);
		return FALSE;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("%s: the document must be an object with “format” and “metrics”"),
			    filename);
		return FALSE;
	}
	object = json_node_get_object(root);
	members = json_object_get_members(object);
	for (GList *l = members; l != NULL; l = l->next) {
		if (g_strcmp0(l->data, "format") != 0 && g_strcmp0(l->data, "metrics") != 0 &&
		    g_strcmp0(l->data, "$schema") != 0) {
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("%s:%u: unknown key “%s”"), filename,
				    MAX(root_key_line(data, length, l->data), 1),
				    (const char *)l->data);
			return FALSE;
		}
	}
	format = json_object_get_member(object, "format");
	if (format == NULL || !JSON_NODE_HOLDS_VALUE(format) ||
	    json_node_get_value_type(format) != G_TYPE_INT64 ||
	    json_node_get_int(format) != MRD_ALLOWLIST_FORMAT) {
		guint line = root_key_line(data, length, "format");

		if (line > 0)
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("%s:%u: field “format” must be %d"), filename, line,
				    MRD_ALLOWLIST_FORMAT);
		else
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    _("%s: field “format” must be %d"), filename,
				    MRD_ALLOWLIST_FORMAT);
		return FALSE;
	}
	list = json_object_get_member(object, "metrics");
	if (list == NULL || !JSON_NODE_HOLDS_ARRAY(list)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("%s: field “metrics” must be an array"), filename);
		return FALSE;
	}
	for (guint i = 0; i < json_array_get_length(json_node_get_array(list)); i++) {
		ParseContext ctx = {filename, data, length, i, NULL, NULL};
		MrdMetric *metric = parse_metric(
			self, json_array_get_element(json_node_get_array(list), i), &ctx, error);

		if (metric == NULL)
			return FALSE;
		g_ptr_array_add(metrics, metric);
		if (g_hash_table_contains(seen_ids, metric->id))
			return set_field_error(error, &ctx, "id", _("the id is used twice"));
		if (g_hash_table_contains(seen_names, metric->name))
			return set_field_error(error, &ctx, "name", _("the name is used twice"));
		g_hash_table_add(seen_ids, metric->id);
		g_hash_table_add(seen_names, metric->name);
	}
	return TRUE;
}
