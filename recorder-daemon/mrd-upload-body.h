/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-private.h"

G_BEGIN_DECLS

/* the Azafea metrics v3 request body (docs/upload.md) */
#define MRD_UPLOAD_BODY_TYPE "(xxsa{ss}ya(aysxmv)a(ayssumv))"
#define MRD_UPLOAD_EVENTS_TYPE "a(ayssumv)"
#define MRD_UPLOAD_ELEMENT_TYPE "(ayssumv)"
#define MRD_UPLOAD_IMAGE_ID "unknown"

void
mrd_uuid5(const guint8 namespace_id[METRICS_UUID_SIZE],
	  const char *name,
	  guint8 out[METRICS_UUID_SIZE]);
void
mrd_upload_weekly_id(const guint8 base_id[METRICS_UUID_SIZE], guint8 out[METRICS_UUID_SIZE]);
const char *
mrd_upload_get_os_version(void);

GVariant *
mrd_upload_element_new(const guint8 base_id[METRICS_UUID_SIZE],
		       const char *os_version,
		       const char *period_start,
		       MetricsEventKind kind,
		       guint64 count,
		       guint64 duration_usec,
		       GVariant *value);
gsize
mrd_upload_element_cost(GVariant *element);
gsize
mrd_upload_raw_budget(gsize max_request_size);

GBytes *
mrd_upload_events_serialize(GPtrArray *elements);
GVariant *
mrd_upload_events_parse(GBytes *events_le, GError **error);
GBytes *
mrd_upload_body_build(GBytes *events_le, gint64 timestamp_ns);
GVariant *
mrd_upload_body_parse(GBytes *body_le, GError **error);
GBytes *
mrd_upload_gzip(GBytes *data);
char *
mrd_upload_checksum(GBytes *body);

GVariant *
mrd_upload_events_describe(GVariant *events);

G_END_DECLS
