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

/**
 * MetricsUserChoice:
 * @METRICS_USER_CHOICE_DEFAULT: The user never chose: their account follows
 *   the machine's consent.
 * @METRICS_USER_CHOICE_IN: The user said yes for their own account; it
 *   still takes the machine's consent as well for anything to be kept.
 * @METRICS_USER_CHOICE_OUT: The user said "not for me": nothing of their
 *   account is recorded, stored or uploaded, whatever the machine's consent.
 *
 * One user's own choice about metrics, kept by the recorder daemon for
 * their account; it needs no authorisation.
 *
 * Since: 0.1
 */
typedef enum {
	METRICS_USER_CHOICE_DEFAULT,
	METRICS_USER_CHOICE_IN,
	METRICS_USER_CHOICE_OUT,
} MetricsUserChoice;

const char *
metrics_consent_to_string(MetricsConsent consent);
gboolean
metrics_consent_from_string(const char *str, MetricsConsent *consent);
const char *
metrics_user_choice_to_string(MetricsUserChoice choice);
gboolean
metrics_user_choice_from_string(const char *str, MetricsUserChoice *choice);
const char *
metrics_event_kind_to_string(MetricsEventKind kind);
gboolean
metrics_event_id_is_valid(const char *event_id);

G_END_DECLS
