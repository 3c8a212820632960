/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The upload server's answer: a raw HTTP/1.1 response (status line,
 * headers, a blank line, the body) goes through what the uploader does
 * with one: the retry decision, Retry-After (delay-seconds or an HTTP
 * date) and the description of the answer kept in the outbox and shown
 * over D-Bus. Never a crash; the description is short, printable UTF-8.
 */

#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "mrd-uploader.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* a fixed time (2026-11-18 12:00 UTC): the same input gives the same run */
#define FUZZ_NOW (G_GINT64_CONSTANT(1795003200) * G_USEC_PER_SEC)

static void
check_answer(guint status, const char *reason, const char *body, gsize body_len)
{
	g_autofree char *answer = mrd_upload_describe_answer(status, reason, body, body_len);

	g_assert_nonnull(answer);
	g_assert_true(g_utf8_validate(answer, -1, NULL));
	for (const char *p = answer; *p != '\0'; p++)
		g_assert_false(g_ascii_iscntrl(*p));
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *text = (const char *)data;
	const char *end = g_strstr_len(text, (gssize)size, "\r\n\r\n");
	g_autoptr(SoupMessageHeaders) headers =
		soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE);
	g_autofree char *head = NULL;
	g_autofree char *reason = NULL;
	SoupHTTPVersion version;
	const char *retry_after;
	const char *body;
	gsize head_len, body_len;
	guint status = 0;
	gint64 delay = -1;

	/* the head with its blank line, as the HTTP/1 client hands it over */
	head_len = end != NULL ? (gsize)(end - text) + 4 : size;
	body = text + head_len;
	body_len = size - head_len;
	/* whatever the headers, the body is described safely */
	check_answer(500, "Internal Server Error", body, body_len);
	if (head_len == 0 || head_len > G_MAXINT || memchr(text, '\0', head_len) != NULL)
		return 0;
	head = g_strndup(text, head_len);
	if (!soup_headers_parse_response(head, (int)head_len, headers, &version, &status, &reason))
		return 0;
	check_answer(status, reason, body, body_len);
	(void)mrd_upload_status_is_retryable(status);
	retry_after = soup_message_headers_get_one(headers, "Retry-After");
	if (mrd_upload_parse_retry_after(retry_after, FUZZ_NOW, &delay))
		g_assert_cmpint(delay, >=, 0);
	return 0;
}
