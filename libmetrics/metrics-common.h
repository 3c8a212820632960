/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * MetricsConsent:
 * @METRICS_CONSENT_UNKNOWN: The user was never asked. Nothing is stored or sent.
 * @METRICS_CONSENT_GRANTED: The user agreed: accepted events are stored and uploaded.
 * @METRICS_CONSENT_DENIED: The user declined: nothing is stored or sent.
 *
 * The user's choice about metrics collection, as kept by the recorder daemon.
 *
 * Since: 0.1
 */
typedef enum {
	METRICS_CONSENT_UNKNOWN,
	METRICS_CONSENT_GRANTED,
	METRICS_CONSENT_DENIED,
} MetricsConsent;

/**
 * MetricsEventKind:
 * @METRICS_EVENT_KIND_VALUE: One occurrence, optionally of a value.
 * @METRICS_EVENT_KIND_COUNTER: An increment of a counter.
 * @METRICS_EVENT_KIND_DURATION: A measured duration.
 *
 * What an event measures; it decides how the daemon aggregates it.
 *
 * Since: 0.1
 */
typedef enum {
	METRICS_EVENT_KIND_VALUE,
	METRICS_EVENT_KIND_COUNTER,
	METRICS_EVENT_KIND_DURATION,
} MetricsEventKind;

const char *
metrics_consent_to_string(MetricsConsent consent);
gboolean
metrics_consent_from_string(const char *str, MetricsConsent *consent);
const char *
metrics_event_kind_to_string(MetricsEventKind kind);
gboolean
metrics_event_id_is_valid(const char *event_id);

G_END_DECLS
