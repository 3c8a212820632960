/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MsinkValidate"

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "msink-validate.h"

/*
 * The checks of an Azafea v3 server, written from docs/upload.md (the
 * request, the body and the answers) and on purpose independent of the
 * daemon's body builder, so the tests compare two implementations. Where
 * the real server answers 200 and rejects the request later in its worker
 * (wrong type, not normal form, image id, event id length), this answers
 * 400 so the mistake is seen at once.
 */

void
msink_result_free(MsinkResult *result)
{
	if (result == NULL)
		return;
	g_free(result->message);
	g_free(result->checksum);
	g_clear_pointer(&result->body, g_variant_unref);
	g_free(result);
}

static MsinkResult *
result_new(guint status, const char *message)
{
	MsinkResult *result = g_new0(MsinkResult, 1);

	result->status = status;
	result->message = g_strdup(message);
	return result;
}

static gboolean
is_checksum(const char *str)
{
	if (strlen(str) != 128)
		return FALSE;
	for (const char *p = str; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
			return FALSE;
	}
	return TRUE;
}

static GBytes *
gunzip(GBytes *data)
{
	g_autoptr(GZlibDecompressor) decompressor =
		g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
	g_autoptr(GByteArray) out = g_byte_array_new();
	const guint8 *in;
	gsize in_len = 0;
	guint8 buffer[16384];
	GConverterResult converted;

	in = g_bytes_get_data(data, &in_len);
	do {
		gsize read = 0, written = 0;
		g_autoptr(GError) error = NULL;

		converted = g_converter_convert(G_CONVERTER(decompressor), in, in_len, buffer,
						sizeof(buffer), G_CONVERTER_INPUT_AT_END, &read,
						&written, &error);
		if (converted == G_CONVERTER_ERROR)
			return NULL;
		g_byte_array_append(out, buffer, written);
		in += read;
		in_len -= read;
		/* a zip bomb cannot be larger than what the server accepts
		 * by much; stop well before memory runs out */
		if (out->len > 64 * MSINK_MAX_BODY_SIZE)
			return NULL;
	} while (converted != G_CONVERTER_FINISHED);
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static gboolean
event_ids_valid(GVariant *events)
{
	GVariantIter iter;
	g_autoptr(GVariant) event = NULL;

	g_variant_iter_init(&iter, events);
	while ((event = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) id = g_variant_get_child_value(event, 0);

		if (g_variant_n_children(id) != 16)
			return FALSE;
		g_clear_pointer(&event, g_variant_unref);
	}
	return TRUE;
}

static gboolean
digits(const char *str, gsize n)
{
	for (gsize i = 0; i < n; i++) {
		if (!g_ascii_isdigit(str[i]))
			return FALSE;
	}
	return TRUE;
}

/* an aggregate's period start as the server parses it: an ISO date
 * YYYY-MM-DD, or YYYY-MM for the first of the month; FALSE if neither */
static gboolean
parse_period(const char *period, GDate *date)
{
	gsize len = strlen(period);
	guint year, month, day = 1;

	if ((len != 7 && len != 10) || !digits(period, 4) || period[4] != '-' ||
	    !digits(period + 5, 2))
		return FALSE;
	if (len == 10 && (period[7] != '-' || !digits(period + 8, 2)))
		return FALSE;
	year = (guint)g_ascii_strtoull(period, NULL, 10);
	month = (guint)g_ascii_strtoull(period + 5, NULL, 10);
	if (len == 10)
		day = (guint)g_ascii_strtoull(period + 8, NULL, 10);
	if (year < 1 || month < 1 || month > 12 || day < 1 ||
	    !g_date_valid_dmy((GDateDay)day, (GDateMonth)month, (GDateYear)year))
		return FALSE;
	g_date_clear(date, 1);
	g_date_set_dmy(date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
	return TRUE;
}

static gboolean
periods_valid(GVariant *aggregates)
{
	GVariantIter iter;
	const char *period = NULL;

	g_variant_iter_init(&iter, aggregates);
	while (g_variant_iter_next(&iter, "(@ay&s&su@mv)", NULL, NULL, &period, NULL, NULL)) {
		GDate date;

		if (!parse_period(period, &date))
			return FALSE;
	}
	return TRUE;
}

/* validates one request as the server would; never NULL */
MsinkResult *
msink_validate(const char *method, const char *path, const char *content_encoding, GBytes *raw_body)
{
	g_autoptr(MsinkResult) result = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GVariant) variant = NULL;
	g_autoptr(GVariant) events = NULL;
	g_autofree char *checksum = NULL;
	const char *image_id = NULL;

	if (g_strcmp0(method, "PUT") != 0 || !g_str_has_prefix(path, "/3/") ||
	    !is_checksum(path + 3))
		return result_new(405, "Method Not Allowed");
	if (g_bytes_get_size(raw_body) >= MSINK_MAX_BODY_SIZE)
		return result_new(413, "Request Entity Too Large");
	if (content_encoding != NULL && g_strcmp0(content_encoding, "gzip") != 0)
		return result_new(400, "Unknown X-Endless-Content-Encoding");
	if (content_encoding != NULL) {
		body = gunzip(raw_body);
		if (body == NULL)
			return result_new(500, "Invalid gzip body");
	} else {
		body = g_bytes_ref(raw_body);
	}
	checksum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA512, body);
	if (g_strcmp0(checksum, path + 3) != 0)
		return result_new(400, "SHA512 mismatch");

	/* the server loads the body little-endian and in normal form */
	variant = g_variant_ref_sink(
		g_variant_new_from_bytes(G_VARIANT_TYPE(MSINK_BODY_TYPE), body, FALSE));
	if (!g_variant_is_normal_form(variant))
		return result_new(400, "Body is not a " MSINK_BODY_TYPE " in normal form");
	if (G_BYTE_ORDER == G_BIG_ENDIAN) {
		GVariant *swapped = g_variant_byteswap(variant);
		g_variant_unref(variant);
		variant = swapped;
	}
	g_variant_get_child(variant, 2, "&s", &image_id);
	if (g_strcmp0(image_id, "unknown") != 0)
		return result_new(400, "Unknown image id");
	events = g_variant_get_child_value(variant, 5);
	if (!event_ids_valid(events))
		return result_new(400, "Singular event id is not 16 bytes");
	g_clear_pointer(&events, g_variant_unref);
	events = g_variant_get_child_value(variant, 6);
	if (!event_ids_valid(events))
		return result_new(400, "Aggregate event id is not 16 bytes");
	if (!periods_valid(events))
		return result_new(400, "Aggregate period start is not YYYY-MM-DD or YYYY-MM");

	result = result_new(200, "OK");
	result->checksum = g_steal_pointer(&checksum);
	result->body = g_steal_pointer(&variant);
	result->compressed_size = g_bytes_get_size(raw_body);
	result->size = g_bytes_get_size(body);
	return g_steal_pointer(&result);
}

/* what our client promises beyond what the server checks: nothing that
 * tells machines apart; NULL if all is well */
char **
msink_privacy_problems(GVariant *body)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GVariant) site = g_variant_get_child_value(body, 3);
	g_autoptr(GVariant) singulars = g_variant_get_child_value(body, 5);
	g_autoptr(GVariant) aggregates = g_variant_get_child_value(body, 6);
	GVariantIter iter;
	const char *period = NULL;
	gint64 relative = 0, absolute = 0;
	guint8 flags = 0;

	g_variant_get_child(body, 0, "x", &relative);
	g_variant_get_child(body, 1, "x", &absolute);
	g_variant_get_child(body, 4, "y", &flags);
	if (relative != absolute)
		g_ptr_array_add(problems, g_strdup("the two timestamps differ"));
	if (g_variant_n_children(site) != 0)
		g_ptr_array_add(problems, g_strdup("site labels are not empty"));
	if (flags != 0)
		g_ptr_array_add(problems, g_strdup("flags are not 0"));
	if (g_variant_n_children(singulars) != 0)
		g_ptr_array_add(problems, g_strdup("singular events are sent"));
	/* weekly aggregates: the period is the ISO week's Monday, nothing
	 * finer */
	g_variant_iter_init(&iter, aggregates);
	while (g_variant_iter_next(&iter, "(@ay&s&su@mv)", NULL, NULL, &period, NULL, NULL)) {
		GDate date;

		if (strlen(period) != 10 || !parse_period(period, &date) ||
		    g_date_get_weekday(&date) != G_DATE_MONDAY) {
			g_ptr_array_add(problems,
					g_strdup_printf("period start %s is not a Monday", period));
			break;
		}
	}
	if (problems->len == 0)
		return NULL;
	g_ptr_array_add(problems, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&problems), FALSE);
}

static void
add_id(JsonBuilder *builder, GVariant *id)
{
	gsize len = 0;
	const guint8 *b = g_variant_get_fixed_array(id, &len, 1);
	g_autofree char *text = NULL;

	if (len != 16) {
		json_builder_add_null_value(builder);
		return;
	}
	text = g_strdup_printf(
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		b[15]);
	json_builder_add_string_value(builder, text);
}

static void
add_payload(JsonBuilder *builder, GVariant *maybe)
{
	g_autoptr(GVariant) boxed = g_variant_get_maybe(maybe);
	g_autoptr(GVariant) value = boxed != NULL ? g_variant_get_variant(boxed) : NULL;

	json_builder_set_member_name(builder, "payload");
	if (value == NULL) {
		json_builder_add_null_value(builder);
		return;
	}
	{
		g_autofree char *text = g_variant_print(value, TRUE);
		json_builder_add_string_value(builder, text);
	}
}

/* one JSON line describing an accepted request */
char *
msink_body_to_json(const MsinkResult *result)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GVariant) events = NULL;
	GVariantIter iter;
	gint64 relative = 0, absolute = 0;
	const char *image_id = NULL;
	guint8 flags = 0;
	GVariant *id, *payload;
	const char *os_version, *period;
	guint32 count;

	g_variant_get_child(result->body, 0, "x", &relative);
	g_variant_get_child(result->body, 1, "x", &absolute);
	g_variant_get_child(result->body, 2, "&s", &image_id);
	g_variant_get_child(result->body, 4, "y", &flags);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "checksum");
	json_builder_add_string_value(builder, result->checksum);
	json_builder_set_member_name(builder, "size");
	json_builder_add_int_value(builder, (gint64)result->size);
	json_builder_set_member_name(builder, "compressed-size");
	json_builder_add_int_value(builder, (gint64)result->compressed_size);
	json_builder_set_member_name(builder, "relative-timestamp");
	json_builder_add_int_value(builder, relative);
	json_builder_set_member_name(builder, "absolute-timestamp");
	json_builder_add_int_value(builder, absolute);
	json_builder_set_member_name(builder, "image-id");
	json_builder_add_string_value(builder, image_id);
	json_builder_set_member_name(builder, "flags");
	json_builder_add_int_value(builder, flags);
	json_builder_set_member_name(builder, "singular-events");
	events = g_variant_get_child_value(result->body, 5);
	json_builder_add_int_value(builder, (gint64)g_variant_n_children(events));
	g_clear_pointer(&events, g_variant_unref);

	json_builder_set_member_name(builder, "aggregates");
	json_builder_begin_array(builder);
	events = g_variant_get_child_value(result->body, 6);
	g_variant_iter_init(&iter, events);
	while (g_variant_iter_loop(&iter, "(@ay&s&su@mv)", &id, &os_version, &period, &count,
				   &payload)) {
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "event-id");
		add_id(builder, id);
		json_builder_set_member_name(builder, "os-version");
		json_builder_add_string_value(builder, os_version);
		json_builder_set_member_name(builder, "period-start");
		json_builder_add_string_value(builder, period);
		json_builder_set_member_name(builder, "count");
		json_builder_add_int_value(builder, count);
		add_payload(builder, payload);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}
