/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * METRICS_ERROR:
 *
 * Error domain for libmetrics and the recorder daemon. Errors in this domain
 * are from the [error@Metrics.Error] enumeration; they keep their domain and code when
 * they cross the bus.
 *
 * Since: 0.1
 */
#define METRICS_ERROR metrics_error_quark()

/**
 * MetricsError:
 * @METRICS_ERROR_FAILED: Something failed; the message says what.
 * @METRICS_ERROR_INVALID_DATA: The request or event was malformed; fix the caller.
 * @METRICS_ERROR_PERMISSION_DENIED: The caller is not authorised to do this.
 * @METRICS_ERROR_DISABLED: Metrics are disabled because the user has not consented.
 * @METRICS_ERROR_NOT_SUPPORTED: The operation is not supported by this version.
 * @METRICS_ERROR_LIMIT_EXCEEDED: A size or rate limit was exceeded; send less.
 * @METRICS_ERROR_STORAGE: The local store could not be read or written.
 * @METRICS_ERROR_NOT_RUNNING: The recorder daemon is not running or not installed.
 *
 * Error codes in the `METRICS_ERROR` domain ([func@Metrics.Error.quark]),
 * named for what the caller can do.
 *
 * Since: 0.1
 */
typedef enum {
	METRICS_ERROR_FAILED,
	METRICS_ERROR_INVALID_DATA,
	METRICS_ERROR_PERMISSION_DENIED,
	METRICS_ERROR_DISABLED,
	METRICS_ERROR_NOT_SUPPORTED,
	METRICS_ERROR_LIMIT_EXCEEDED,
	METRICS_ERROR_STORAGE,
	METRICS_ERROR_NOT_RUNNING,
} MetricsError;

GQuark
metrics_error_quark(void);

G_END_DECLS
