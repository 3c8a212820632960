/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdUploadBody"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "metrics-error.h"
#include "mrd-upload-body.h"

/*
 * Builds and reads the bytes of an Azafea v3 request. The server loads the
 * body as a little-endian GVariant in normal form, whatever the client's
 * byte order, so everything here that leaves as bytes is normal form and
 * little-endian; GVariants in memory are in host order.
 */

/* the overhead of the body around its aggregate array: two timestamps, the
 * image id, the empty dictionary and array, the flags and the framing */
#define BODY_OVERHEAD 128
/* gzip of incompressible data is a little larger than the data: header,
 * trailer and the stored blocks' headers */
#define GZIP_MARGIN 256

/* name-based UUID with SHA-1 (RFC 4122 section 4.3) */
void
mrd_uuid5(const guint8 namespace_id[METRICS_UUID_SIZE],
	  const char *name,
	  guint8 out[METRICS_UUID_SIZE])
{
	g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
	guint8 digest[20];
	gsize digest_len = sizeof(digest);

	g_checksum_update(sha1, namespace_id, METRICS_UUID_SIZE);
	g_checksum_update(sha1, (const guchar *)name, strlen(name));
	g_checksum_get_digest(sha1, digest, &digest_len);
	memcpy(out, digest, METRICS_UUID_SIZE);
	out[6] = (out[6] & 0x0f) | 0x50;
	out[8] = (out[8] & 0x3f) | 0x80;
}

/* the weekly id mirrors the server's monthly rule: uuid5(base, "weekly") */
void
mrd_upload_weekly_id(const guint8 base_id[METRICS_UUID_SIZE], guint8 out[METRICS_UUID_SIZE])
{
	mrd_uuid5(base_id, "weekly", out);
}

/* VERSION_ID of os-release, or an empty string */
const char *
mrd_upload_get_os_version(void)
{
	static gsize once = 0;
	static char *version = NULL;

	if (g_once_init_enter(&once)) {
		version = g_get_os_info(G_OS_INFO_KEY_VERSION_ID);
		if (version == NULL)
			version = g_strdup("");
		g_once_init_leave(&once, 1);
	}
	return version;
}

/* one element of field 6. The count is the number of events (for counters:
 * the sum of increments), capped to u32. Value and counter aggregates carry
 * the stored value; a duration aggregate carries its summed seconds: `t`,
 * or `(Xt)` with the recorded value of type X (docs/upload.md) */
GVariant *
mrd_upload_element_new(const guint8 base_id[METRICS_UUID_SIZE],
		       const char *os_version,
		       const char *period_start,
		       MetricsEventKind kind,
		       guint64 count,
		       guint64 duration_usec,
		       GVariant *value)
{
	guint8 weekly[METRICS_UUID_SIZE];
	GVariant *payload = NULL;

	mrd_upload_weekly_id(base_id, weekly);
	if (kind == METRICS_EVENT_KIND_DURATION) {
		GVariant *seconds =
			g_variant_new_uint64((duration_usec + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC);

		if (value != NULL) {
			GVariant *members[] = {value, seconds};
			payload = g_variant_new_tuple(members, G_N_ELEMENTS(members));
		} else {
			payload = seconds;
		}
	} else if (value != NULL) {
		payload = value;
	}
	return g_variant_ref_sink(g_variant_new(
		"(@ayssu@mv)",
		g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, weekly, sizeof(weekly), 1),
		os_version, period_start, (guint32)MIN(count, G_MAXUINT32),
		g_variant_new_maybe(G_VARIANT_TYPE_VARIANT,
				    payload != NULL ? g_variant_new_variant(payload) : NULL)));
}

/* an upper bound of what @element adds to a serialized array: its size,
 * alignment padding and its framing offset */
gsize
mrd_upload_element_cost(GVariant *element)
{
	return g_variant_get_size(element) + 8 + 8;
}

/* how many serialized bytes of elements one request may carry so that its
 * gzip body stays within @max_request_size whatever the compression */
gsize
mrd_upload_raw_budget(gsize max_request_size)
{
	if (max_request_size <= BODY_OVERHEAD + GZIP_MARGIN)
		return 0;
	return max_request_size - BODY_OVERHEAD - GZIP_MARGIN;
}

/* @v is in host order and normal form; returns its bytes little-endian */
static GBytes *
variant_to_le(GVariant *v)
{
	g_autoptr(GVariant) normal = g_variant_get_normal_form(v);

	if (G_BYTE_ORDER == G_BIG_ENDIAN) {
		g_autoptr(GVariant) swapped = g_variant_byteswap(normal);
		return g_variant_get_data_as_bytes(swapped);
	}
	return g_variant_get_data_as_bytes(normal);
}

/* loads little-endian bytes that must be of @type and in normal form */
static GVariant *
variant_from_le(const char *type, GBytes *bytes, GError **error)
{
	g_autoptr(GVariant) v =
		g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(type), bytes, FALSE));

	if (!g_variant_is_normal_form(v)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    _("The upload data is not a GVariant of type %s in normal form"), type);
		return NULL;
	}
	if (G_BYTE_ORDER == G_BIG_ENDIAN)
		return g_variant_byteswap(v);
	return g_steal_pointer(&v);
}

/* serializes elements (of type (ayssumv)) as the a(ayssumv) of field 6 */
GBytes *
mrd_upload_events_serialize(GPtrArray *elements)
{
	g_autoptr(GVariant) array = g_variant_ref_sink(
		g_variant_new_array(G_VARIANT_TYPE(MRD_UPLOAD_ELEMENT_TYPE),
				    (GVariant *const *)elements->pdata, elements->len));
	return variant_to_le(array);
}

GVariant *
mrd_upload_events_parse(GBytes *events_le, GError **error)
{
	return variant_from_le(MRD_UPLOAD_EVENTS_TYPE, events_le, error);
}

/* the uncompressed body: both timestamps are the same clock reading, so
 * their difference is zero for every machine */
GBytes *
mrd_upload_body_build(GBytes *events_le, gint64 timestamp_ns)
{
	g_autoptr(GVariant) events = mrd_upload_events_parse(events_le, NULL);
	g_autoptr(GVariant) body = NULL;

	g_return_val_if_fail(events != NULL, NULL);
	body = g_variant_ref_sink(g_variant_new(
		"(xxs@a{ss}y@a(aysxmv)@" MRD_UPLOAD_EVENTS_TYPE ")", timestamp_ns, timestamp_ns,
		MRD_UPLOAD_IMAGE_ID, g_variant_new_array(G_VARIANT_TYPE("{ss}"), NULL, 0),
		(guchar)0, g_variant_new_array(G_VARIANT_TYPE("(aysxmv)"), NULL, 0), events));
	return variant_to_le(body);
}

GVariant *
mrd_upload_body_parse(GBytes *body_le, GError **error)
{
	return variant_from_le(MRD_UPLOAD_BODY_TYPE, body_le, error);
}

GBytes *
mrd_upload_gzip(GBytes *data)
{
	g_autoptr(GZlibCompressor) compressor =
		g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
	g_autoptr(GByteArray) out = g_byte_array_new();
	const guint8 *in = NULL;
	gsize in_len = 0;
	guint8 buffer[16384];
	GConverterResult result;

	in = g_bytes_get_data(data, &in_len);
	do {
		gsize read = 0, written = 0;
		g_autoptr(GError) error = NULL;

		result = g_converter_convert(G_CONVERTER(compressor), in, in_len, buffer,
					     sizeof(buffer), G_CONVERTER_INPUT_AT_END, &read,
					     &written, &error);
		/* compressing from memory into a buffer of this size cannot
		 * fail */
		g_assert_no_error(error);
		g_byte_array_append(out, buffer, written);
		in += read;
		in_len -= read;
	} while (result != G_CONVERTER_FINISHED);
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

/* SHA-512 of @body as 128 lower-case hex digits */
char *
mrd_upload_checksum(GBytes *body)
{
	return g_compute_checksum_for_bytes(G_CHECKSUM_SHA512, body);
}

/* a(ayssumv) → a(sssuav): ids as text, the maybe as zero or one element,
 * for D-Bus (which has no maybe type) */
GVariant *
mrd_upload_events_describe(GVariant *events)
{
	GVariantBuilder builder;
	GVariantIter iter;
	g_autoptr(GVariant) id = NULL;
	const char *os_version, *period;
	guint32 count;
	g_autoptr(GVariant) payload = NULL;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(sssuav)"));
	g_variant_iter_init(&iter, events);
	while (g_variant_iter_next(&iter, "(@ay&s&su@mv)", &id, &os_version, &period, &count,
				   &payload)) {
		char id_str[METRICS_UUID_STRING_LENGTH + 1] = "invalid";
		gsize id_len = 0;
		const guint8 *id_bytes = g_variant_get_fixed_array(id, &id_len, 1);
		g_autoptr(GVariant) boxed = g_variant_get_maybe(payload);

		if (id_len == METRICS_UUID_SIZE)
			metrics_uuid_unparse(id_bytes, id_str);
		g_variant_builder_add(
			&builder, "(sssu@av)", id_str, os_version, period, count,
			g_variant_new_array(G_VARIANT_TYPE_VARIANT, &boxed, boxed != NULL ? 1 : 0));
		g_clear_pointer(&id, g_variant_unref);
		g_clear_pointer(&payload, g_variant_unref);
	}
	return g_variant_builder_end(&builder);
}
