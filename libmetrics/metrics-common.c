/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Metrics"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "metrics-error.h"
#include "metrics-private.h"

/**
 * metrics_consent_to_string:
 * @consent: a consent state
 *
 * Gets the name of @consent as used on the bus: `unknown`, `granted` or
 * `denied`.
 *
 * Returns: (transfer none): a static string
 *
 * Since: 0.1
 */
const char *
metrics_consent_to_string(MetricsConsent consent)
{
	switch (consent) {
	case METRICS_CONSENT_GRANTED:
		return "granted";
	case METRICS_CONSENT_DENIED:
		return "denied";
	case METRICS_CONSENT_UNKNOWN:
	default:
		return "unknown";
	}
}

/**
 * metrics_consent_from_string:
 * @str: (nullable): `unknown`, `granted` or `denied`
 * @consent: (out) (optional): return location for the consent state
 *
 * Parses a consent state as used on the bus.
 *
 * Returns: %TRUE if @str was a valid state
 *
 * Since: 0.1
 */
gboolean
metrics_consent_from_string(const char *str, MetricsConsent *consent)
{
	MetricsConsent value;

	if (g_strcmp0(str, "unknown") == 0)
		value = METRICS_CONSENT_UNKNOWN;
	else if (g_strcmp0(str, "granted") == 0)
		value = METRICS_CONSENT_GRANTED;
	else if (g_strcmp0(str, "denied") == 0)
		value = METRICS_CONSENT_DENIED;
	else
		return FALSE;
	if (consent != NULL)
		*consent = value;
	return TRUE;
}

/**
 * metrics_user_choice_to_string:
 * @choice: a user's choice
 *
 * Gets the name of @choice as used on the bus: `default`, `in` or `out`.
 *
 * Returns: (transfer none): a static string
 *
 * Since: 0.1
 */
const char *
metrics_user_choice_to_string(MetricsUserChoice choice)
{
	switch (choice) {
	case METRICS_USER_CHOICE_IN:
		return "in";
	case METRICS_USER_CHOICE_OUT:
		return "out";
	case METRICS_USER_CHOICE_DEFAULT:
	default:
		return "default";
	}
}

/**
 * metrics_user_choice_from_string:
 * @str: (nullable): `default`, `in` or `out`
 * @choice: (out) (optional): return location for the choice
 *
 * Parses a user's choice as used on the bus.
 *
 * Returns: %TRUE if @str was a valid choice
 *
 * Since: 0.1
 */
gboolean
metrics_user_choice_from_string(const char *str, MetricsUserChoice *choice)
{
	MetricsUserChoice value;

	if (g_strcmp0(str, "default") == 0)
		value = METRICS_USER_CHOICE_DEFAULT;
	else if (g_strcmp0(str, "in") == 0)
		value = METRICS_USER_CHOICE_IN;
	else if (g_strcmp0(str, "out") == 0)
		value = METRICS_USER_CHOICE_OUT;
	else
		return FALSE;
	if (choice != NULL)
		*choice = value;
	return TRUE;
}

/**
 * metrics_event_kind_to_string:
 * @kind: an event kind
 *
 * Gets the name of @kind: `value`, `counter` or `duration`.
 *
 * Returns: (transfer none): a static string
 *
 * Since: 0.1
 */
const char *
metrics_event_kind_to_string(MetricsEventKind kind)
{
	switch (kind) {
	case METRICS_EVENT_KIND_VALUE:
		return "value";
	case METRICS_EVENT_KIND_COUNTER:
		return "counter";
	case METRICS_EVENT_KIND_DURATION:
		return "duration";
	default:
		return "unknown";
	}
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* parses the canonical 8-4-4-4-12 form; cheap, as it runs for every
 * recorded event */
gboolean
metrics_uuid_parse(const char *str, guint8 out[METRICS_UUID_SIZE])
{
	guint n = 0;

	if (str == NULL)
		return FALSE;
	for (guint i = 0; i < METRICS_UUID_STRING_LENGTH; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (str[i] != '-')
				return FALSE;
			continue;
		}
		hi = hex_value(str[i]);
		if (hi < 0)
			return FALSE;
		lo = hex_value(str[i + 1]);
		if (lo < 0)
			return FALSE;
		out[n++] = (guint8)((hi << 4) | lo);
		i++;
	}
	return str[METRICS_UUID_STRING_LENGTH] == '\0';
}

void
metrics_uuid_unparse(const guint8 uuid[METRICS_UUID_SIZE], char out[METRICS_UUID_STRING_LENGTH + 1])
{
	static const char digits[] = "0123456789abcdef";
	guint n = 0;

	for (guint i = 0; i < METRICS_UUID_SIZE; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		out[n++] = digits[uuid[i] >> 4];
		out[n++] = digits[uuid[i] & 0xf];
	}
	out[n] = '\0';
}

/**
 * metrics_event_id_is_valid:
 * @event_id: (nullable): a string
 *
 * Checks that @event_id is a UUID in its textual form
 * (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`), as metric ids are.
 *
 * Returns: %TRUE if @event_id can be recorded
 *
 * Since: 0.1
 */
gboolean
metrics_event_id_is_valid(const char *event_id)
{
	guint8 uuid[METRICS_UUID_SIZE];
	return metrics_uuid_parse(event_id, uuid);
}

/* the RecordEvents form of a batch: @events (a(ayuxxmv), floating or not)
 * as the bytes of its little-endian normal form, in an "ay" */
GVariant *
metrics_batch_to_wire(GVariant *events)
{
	g_autoptr(GVariant) normal = g_variant_get_normal_form(g_variant_ref_sink(events));
	g_autoptr(GVariant) little = NULL;
	g_autoptr(GBytes) bytes = NULL;

	g_variant_unref(events);
	little = G_BYTE_ORDER == G_LITTLE_ENDIAN ? g_variant_ref(normal) :
						   g_variant_byteswap(normal);
	bytes = g_variant_get_data_as_bytes(little);
	return g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
}

void
metrics_i18n_init(void)
{
	static gsize done = 0;

	if (g_once_init_enter(&done)) {
		bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
		bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
		g_once_init_leave(&done, 1);
	}
}

/* maps a failed call to the daemon onto METRICS_ERROR, with a message that
 * says what to do; errors the daemon sent keep their code */
GError *
metrics_error_from_dbus(const GError *error)
{
	g_autoptr(GError) copy = g_error_copy(error);

	metrics_i18n_init();
	if (g_dbus_error_is_remote_error(copy))
		g_dbus_error_strip_remote_error(copy);
	if (copy->domain == METRICS_ERROR)
		return g_steal_pointer(&copy);
	if (g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	    g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
	    g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
	    g_error_matches(copy, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
		return g_error_new(METRICS_ERROR, METRICS_ERROR_NOT_RUNNING,
				   /* TRANSLATORS: the daemon is not on the system bus */
				   _("The metrics recorder is not running; start it with "
				     "“systemctl start metrics-recorder” or install it"));
	}
	if (g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED) ||
	    g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_AUTH_FAILED)) {
		return g_error_new(METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED,
				   /* TRANSLATORS: %s is the reason from the system */
				   _("Not allowed: %s"), copy->message);
	}
	if (g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS) ||
	    g_error_matches(copy, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
		return g_error_new_literal(METRICS_ERROR, METRICS_ERROR_NOT_SUPPORTED,
					   copy->message);
	if (g_error_matches(copy, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return g_steal_pointer(&copy);
	return g_error_new_literal(METRICS_ERROR, METRICS_ERROR_FAILED, copy->message);
}
