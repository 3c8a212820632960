/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-common.h"

G_BEGIN_DECLS

/* the contract of data/dbus/org.fedoraproject.Metrics1.xml, shared by the
 * library and the daemon */
#define METRICS_DBUS_NAME "org.fedoraproject.Metrics1"
#define METRICS_DBUS_PATH "/org/fedoraproject/Metrics1"
#define METRICS_DBUS_INTERFACE "org.fedoraproject.Metrics1.Recorder"
/* a RecordEvents batch: the bytes of a little-endian, normal-form
 * GVariant of type "a" METRICS_WIRE_EVENT_TYPE */
#define METRICS_WIRE_EVENT_TYPE "(ayuxxmv)"
#define METRICS_MAX_BATCH_BYTES (2 * 1024 * 1024)
#define METRICS_WIRE_AGGREGATE "(ussuavtt)"
#define METRICS_MAX_BATCH 1024
#define METRICS_MAX_PAYLOAD_SIZE 1024
#define METRICS_UUID_SIZE 16
#define METRICS_UUID_STRING_LENGTH 36

gboolean
metrics_uuid_parse(const char *str, guint8 out[METRICS_UUID_SIZE]);
void
metrics_uuid_unparse(const guint8 uuid[METRICS_UUID_SIZE],
		     char out[METRICS_UUID_STRING_LENGTH + 1]);
void
metrics_i18n_init(void);
GVariant *
metrics_batch_to_wire(GVariant *events);
GError *
metrics_error_from_dbus(const GError *error);

G_END_DECLS
