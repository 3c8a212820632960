/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsRecorder"

#include "config.h"

#include <string.h>

#include "metrics-batch-private.h"

/*
 * The bytes of a RecordEvents batch, written directly: what building the
 * a(ayuxxmv) with GVariantBuilder, taking its normal form and storing it
 * gives, at a small part of the cost (the builder made several GVariants
 * per event, then serialised and checked them again).
 *
 * The format is GVariant's serialisation, little-endian and in normal
 * form. An array of variable-size elements is the elements, each at the
 * element type's alignment (8 here) with zero padding between them, then
 * the end offset of each. A tuple is its members, each at its alignment
 * with zero padding, then the end offsets of its variable-size members
 * but the last, in reverse order: here one, the end of the id. An offset
 * takes the fewest bytes of 1, 2, 4 and 8 that can address the whole
 * container, offsets included. The payload, an "mv", is nothing for
 * Nothing; for a value, the value's bytes, a zero byte, its type string,
 * and the zero byte that marks a "just" of a variable-size type.
 *
 * On a big-endian machine the payload's bytes would need swapping, so
 * there the batch is built with GVariant as before.
 */

/* the id (16), the kind at 16, padding to 24, the time and the amount */
#define EVENT_FIXED_SIZE 40

/* how many bytes each of @n_offsets offsets takes in a container whose
 * content is @body bytes */
static gsize
offset_size(gsize body, gsize n_offsets)
{
	if (body + n_offsets <= G_MAXUINT8)
		return 1;
	if (body + 2 * n_offsets <= G_MAXUINT16)
		return 2;
	if (body + 4 * n_offsets <= G_MAXUINT32)
		return 4;
	return 8;
}

static void
put_offset(guint8 *at, gsize value, gsize size)
{
	for (gsize i = 0; i < size; i++)
		at[i] = (guint8)(value >> (8 * i));
}

/* the normal form of @payload (a new reference), or NULL */
static GVariant *
normal_payload(GVariant *payload)
{
	if (payload == NULL)
		return NULL;
	if (g_variant_is_normal_form(payload))
		return g_variant_ref(payload);
	/* a new reference, not floating */
	return g_variant_get_normal_form(payload);
}

/* the bytes of the payload's "mv" */
static gsize
payload_size(GVariant *normal)
{
	if (normal == NULL)
		return 0;
	return g_variant_get_size(normal) + 1 + strlen(g_variant_get_type_string(normal)) + 1;
}

static void
write_payload(guint8 *at, GVariant *normal)
{
	gsize size;
	const char *type;

	if (normal == NULL)
		return;
	size = g_variant_get_size(normal);
	type = g_variant_get_type_string(normal);
	if (size > 0)
		memcpy(at, g_variant_get_data(normal), size);
	at[size] = 0;
	memcpy(at + size + 1, type, strlen(type));
	at[size + 1 + strlen(type)] = 0;
}

static void
put_le32(guint8 *at, guint32 value)
{
	value = GUINT32_TO_LE(value);
	memcpy(at, &value, sizeof(value));
}

static void
put_le64(guint8 *at, gint64 value)
{
	guint64 le = GUINT64_TO_LE((guint64)value);
	memcpy(at, &le, sizeof(le));
}

/* the batch of @n_events events as the bytes of RecordEvents' "ay" */
static GBytes *
encode_directly(const MetricsWireEvent *events, guint n_events)
{
	g_autofree GVariant **normals = g_new0(GVariant *, n_events);
	g_autofree gsize *sizes = g_new(gsize, n_events);
	gsize body = 0, frame, total;
	guint8 *data, *at;

	for (guint i = 0; i < n_events; i++) {
		gsize content;

		normals[i] = normal_payload(events[i].payload);
		content = EVENT_FIXED_SIZE + payload_size(normals[i]);
		sizes[i] = content + offset_size(content, 1);
		if (i > 0)
			body = (body + 7) & ~(gsize)7;
		body += sizes[i];
	}
	frame = offset_size(body, n_events);
	total = body + frame * n_events;
	data = g_malloc0(total);
	at = data;
	for (guint i = 0; i < n_events; i++) {
		const MetricsWireEvent *event = &events[i];
		gsize element_frame = sizes[i] - EVENT_FIXED_SIZE - payload_size(normals[i]);

		if (i > 0)
			at = data + (((gsize)(at - data) + 7) & ~(gsize)7);
		memcpy(at, event->id, METRICS_UUID_SIZE);
		put_le32(at + 16, event->kind);
		put_le64(at + 24, event->time);
		put_le64(at + 32, event->amount);
		write_payload(at + EVENT_FIXED_SIZE, normals[i]);
		/* the tuple's one offset: where the id ends */
		put_offset(at + sizes[i] - element_frame, METRICS_UUID_SIZE, element_frame);
		at += sizes[i];
		put_offset(data + body + (gsize)i * frame, (gsize)(at - data), frame);
		g_clear_pointer(&normals[i], g_variant_unref);
	}
	return g_bytes_new_take(data, total);
}

/**
 * metrics_batch_encode_reference:
 * @events: (array length=n_events): the events
 * @n_events: how many
 *
 * The same bytes as metrics_batch_encode(), built with GVariant: the
 * reference the direct encoding must equal (a test compares them), and
 * what a big-endian machine uses.
 *
 * Returns: (transfer full): the bytes
 */
GBytes *
metrics_batch_encode_reference(const MetricsWireEvent *events, guint n_events)
{
	GVariantBuilder builder;
	g_autoptr(GVariant) batch = NULL;
	g_autoptr(GVariant) normal = NULL;
	g_autoptr(GVariant) little = NULL;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < n_events; i++) {
		const MetricsWireEvent *event = &events[i];
		GVariant *id = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, event->id,
							 METRICS_UUID_SIZE, 1);

		g_variant_builder_add(&builder, "(@ayuxxmv)", id, event->kind, event->time,
				      event->amount, event->payload);
	}
	batch = g_variant_ref_sink(g_variant_builder_end(&builder));
	normal = g_variant_get_normal_form(batch);
	little = G_BYTE_ORDER == G_LITTLE_ENDIAN ? g_variant_ref(normal) :
						   g_variant_byteswap(normal);
	return g_variant_get_data_as_bytes(little);
}

/**
 * metrics_batch_encode:
 * @events: (array length=n_events): the events
 * @n_events: how many, at least one
 *
 * The bytes RecordEvents takes for @events: the serialized
 * little-endian normal form of the a(ayuxxmv) they make.
 *
 * Returns: (transfer full): the bytes
 */
GBytes *
metrics_batch_encode(const MetricsWireEvent *events, guint n_events)
{
	g_return_val_if_fail(events != NULL || n_events == 0, NULL);

	if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
		return metrics_batch_encode_reference(events, n_events);
	return encode_directly(events, n_events);
}
