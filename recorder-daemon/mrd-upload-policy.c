/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdUploader"

#include "config.h"

#include <libsoup/soup.h>

#include "mrd-upload-policy.h"

/*
 * The uploader's policy as pure functions, so that the tests (and the fuzz
 * target fuzz_upload_response) can call them without a server: how long
 * to wait before a retry, which answers are worth one, what of an answer
 * is kept, and the TLS settings that keep two requests from being linked.
 */

#define MAX_ANSWER_LENGTH 200
/* a server may ask for a long pause (Retry-After), but not for ever */
#define RETRY_AFTER_CEILING (7 * G_TIME_SPAN_DAY)

/* capped exponential back-off with jitter: the n-th retry waits between
 * half and all of min × 2^(n-1), at most max */
gint64
mrd_upload_backoff(guint attempts, guint min_seconds, guint max_seconds, double random01)
{
	double delay = min_seconds;

	for (guint i = 1; i < attempts && delay < max_seconds; i++)
		delay *= 2;
	delay = MIN(delay, (double)max_seconds);
	delay *= 0.5 + 0.5 * CLAMP(random01, 0.0, 1.0);
	return MAX((gint64)(delay * G_USEC_PER_SEC), G_USEC_PER_SEC);
}

/* Retry-After is delay-seconds or an HTTP date (RFC 9110 10.2.3) */
gboolean
mrd_upload_parse_retry_after(const char *value, gint64 now, gint64 *delay)
{
	guint64 seconds = 0;
	g_autoptr(GDateTime) date = NULL;

	if (value == NULL)
		return FALSE;
	if (g_ascii_string_to_unsigned(value, 10, 0, 10 * 365 * 24 * 3600, &seconds, NULL)) {
		*delay = (gint64)seconds * G_USEC_PER_SEC;
		return TRUE;
	}
	date = soup_date_time_new_from_http_string(value);
	if (date == NULL)
		return FALSE;
	*delay = MAX(g_date_time_to_unix(date) * G_USEC_PER_SEC - now, 0);
	return TRUE;
}

/* a Retry-After delay as the uploader uses it: at least a second, at most
 * RETRY_AFTER_CEILING, whatever RetryMax says */
gint64
mrd_upload_clamp_retry_after(gint64 delay)
{
	return CLAMP(delay, G_USEC_PER_SEC, RETRY_AFTER_CEILING);
}

gboolean
mrd_upload_status_is_retryable(guint status)
{
	return status >= 500 || status == SOUP_STATUS_REQUEST_TIMEOUT ||
	       status == 429 /* too many requests */;
}

/* the server's answer, short and printable, for the outbox and the log:
 * untrusted (the fuzz target fuzz_upload_response feeds it) */
char *
mrd_upload_describe_answer(guint status, const char *reason, const char *body, gsize len)
{
	GString *text = g_string_new(NULL);
	/* libsoup passes the reason phrase on as it came: the answer goes out
	 * over D-Bus as a string, which must be UTF-8 */
	g_autofree char *valid_reason = g_utf8_make_valid(reason != NULL ? reason : "", -1);

	g_string_append_printf(text, "%u %s", status, valid_reason);
	if (body != NULL && len > 0 &&
	    g_utf8_validate(body, (gssize)MIN(len, MAX_ANSWER_LENGTH), NULL)) {
		g_string_append(text, ": ");
		g_string_append_len(text, body, (gssize)MIN(len, MAX_ANSWER_LENGTH));
	}
	for (gsize i = 0; i < text->len; i++) {
		if (g_ascii_iscntrl(text->str[i]))
			text->str[i] = ' ';
	}
	return g_strchomp(g_string_free(text, FALSE));
}

/* a resumed TLS session (a session ticket, or a session id the server
 * cached) would show the server that two requests came from one client:
 * every request starts a session of its own (docs/upload.md). Newer
 * glib-networking has a switch for it on each client connection; 2.74 has
 * none, and resumes TLS 1.3 sessions from its process-wide ticket cache, so
 * mrd_upload_tls_priority() also keeps GnuTLS from asking for tickets (and
 * from sending a legacy session id) */
void
mrd_upload_forbid_tls_resumption(GTlsClientConnection *connection)
{
	g_return_if_fail(G_IS_TLS_CLIENT_CONNECTION(connection));

	if (g_object_class_find_property(G_OBJECT_GET_CLASS(connection),
					 "session-resumption-enabled") != NULL)
		g_object_set(connection, "session-resumption-enabled", FALSE, NULL);
}

/* GnuTLS priority keywords no upload may do without: no session tickets
 * (no resumption), and no TLS 1.3 middlebox compatibility mode, whose
 * legacy session id GnuTLS 3.7 repeats on every connection of a process */
static const char *const required_priority_keywords[] = {"%NO_TICKETS",
							 "%DISABLE_TLS13_COMPAT_MODE", NULL};

/**
 * mrd_upload_tls_priority:
 * @current: (nullable): the value of `G_TLS_GNUTLS_PRIORITY`, if set
 * @fallback: the priority to use when @current is unset or empty: the
 *   build's `tls_priority` option, which has the keywords already
 *
 * glib-networking's GnuTLS backend reads `G_TLS_GNUTLS_PRIORITY` once, when
 * the first TLS connection is made, and uses it instead of its default
 * (the system's priority plus `%COMPAT`). `%NO_TICKETS` keeps the client
 * from offering or storing session tickets, so no handshake resumes an
 * earlier one; `%DISABLE_TLS13_COMPAT_MODE` leaves the legacy session id
 * of the ClientHello empty. A priority the administrator set is kept, with
 * the keywords it lacks added.
 *
 * Returns: (transfer full) (nullable): the value to set, or %NULL if
 *   @current already has them
 */
char *
mrd_upload_tls_priority(const char *current, const char *fallback)
{
	g_auto(GStrv) items = NULL;
	g_autoptr(GString) priority = NULL;

	g_return_val_if_fail(fallback != NULL, NULL);

	if (current == NULL || current[0] == '\0')
		return g_strdup(fallback);
	items = g_strsplit(current, ":", -1);
	priority = g_string_new(current);
	for (guint i = 0; required_priority_keywords[i] != NULL; i++) {
		if (!g_strv_contains((const char *const *)items, required_priority_keywords[i]))
			g_string_append_printf(priority, ":%s", required_priority_keywords[i]);
	}
	if (g_str_equal(priority->str, current))
		return NULL;
	return g_string_free(g_steal_pointer(&priority), FALSE);
}

/* before anything makes a TLS connection, while the daemon has one thread */
void
mrd_upload_setup_tls_environment(void)
{
	g_autofree char *priority =
		mrd_upload_tls_priority(g_getenv("G_TLS_GNUTLS_PRIORITY"), MRD_TLS_PRIORITY);

	if (priority != NULL)
		g_setenv("G_TLS_GNUTLS_PRIORITY", priority, TRUE);
}
