/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MetricsError"

#include "config.h"

#include <gio/gio.h>

#include "metrics-error.h"

static const GDBusErrorEntry metrics_error_entries[] = {
	{METRICS_ERROR_FAILED, "org.fedoraproject.Metrics1.Error.Failed"},
	{METRICS_ERROR_INVALID_DATA, "org.fedoraproject.Metrics1.Error.InvalidData"},
	{METRICS_ERROR_PERMISSION_DENIED, "org.fedoraproject.Metrics1.Error.PermissionDenied"},
	{METRICS_ERROR_DISABLED, "org.fedoraproject.Metrics1.Error.Disabled"},
	{METRICS_ERROR_NOT_SUPPORTED, "org.fedoraproject.Metrics1.Error.NotSupported"},
	{METRICS_ERROR_LIMIT_EXCEEDED, "org.fedoraproject.Metrics1.Error.LimitExceeded"},
	{METRICS_ERROR_STORAGE, "org.fedoraproject.Metrics1.Error.Storage"},
	{METRICS_ERROR_NOT_RUNNING, "org.fedoraproject.Metrics1.Error.NotRunning"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(metrics_error_entries) == METRICS_ERROR_NOT_RUNNING + 1);

/**
 * metrics_error_quark:
 *
 * Gets the error domain of libmetrics. It is registered with GDBus, so
 * errors of this domain keep their domain and code across the bus.
 *
 * Returns: the quark of the `METRICS_ERROR` domain
 *
 * Since: 0.1
 */
GQuark
metrics_error_quark(void)
{
	static gsize quark = 0;
	g_dbus_error_register_error_domain("metrics-error-quark", &quark, metrics_error_entries,
					   G_N_ELEMENTS(metrics_error_entries));
	return (GQuark)quark;
}
