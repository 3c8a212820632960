/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The upload policy: configuration file parsing, back-off, Retry-After and
 * which answers are retried.
 */

#include "config.h"

#include <string.h>

#include "mrd-config.h"
#include "mrd-uploader.h"

static void
test_config_defaults(void)
{
	g_autoptr(MrdConfig) config = mrd_config_new();

	g_assert_cmpstr(config->server_url, ==, MRD_CONFIG_DEFAULT_SERVER_URL);
	g_assert_cmpuint(config->window_days, ==, 7);
	g_assert_false(config->allow_metered);
	g_assert_cmpuint(config->max_request_size, ==, 65536);
	g_assert_cmpuint(config->retry_min, <, config->retry_max);
	/* a missing file keeps the defaults without a warning */
	mrd_config_load_file(config, "/nonexistent/metrics-recorder.conf");
	g_assert_cmpuint(config->window_days, ==, 7);
}

static void
test_config_valid(void)
{
	g_autoptr(MrdConfig) config = mrd_config_new();
	const char *data = "[Upload]\n"
			   "ServerUrl=http://127.0.0.1:8080/azafea//\n"
			   "Window=0\n"
			   "AllowMetered=true\n"
			   "RetryMin=1\n"
			   "RetryMax=10\n"
			   "MaxRequestSize=4096\n"
			   "Timeout=5\n"
			   "[Other]\nWindow=nonsense\n";

	mrd_config_load_data(config, data, strlen(data), "test.conf");
	g_assert_cmpstr(config->server_url, ==, "http://127.0.0.1:8080/azafea");
	g_assert_cmpuint(config->window_days, ==, 0);
	g_assert_true(config->allow_metered);
	g_assert_cmpuint(config->retry_min, ==, 1);
	g_assert_cmpuint(config->retry_max, ==, 10);
	g_assert_cmpuint(config->max_request_size, ==, 4096);
	g_assert_cmpuint(config->timeout, ==, 5);
}

/* each bad value is reported with the file, the key and the value, and
 * the default is kept */
static void
test_config_invalid(void)
{
	const struct {
		const char *line;
		const char *message;
	} cases[] = {
		{"ServerUrl=ftp://example.org", "*test.conf*ServerUrl=ftp://example.org*"},
		{"ServerUrl=https://user@example.org", "*ServerUrl=https://user@example.org*"},
		{"ServerUrl=not a url", "*ServerUrl=not a url*"},
		{"ServerUrl=https://example.org/?id=1", "*ServerUrl=*"},
		{"Window=-1", "*Window=-1*"},
		{"Window=61", "*Window=61*"},
		{"Window=seven", "*Window=seven*"},
		{"AllowMetered=maybe", "*AllowMetered=maybe*"},
		{"RetryMin=0", "*RetryMin=0*"},
		{"MaxRequestSize=1048576", "*MaxRequestSize=1048576*"},
		{"MaxRequestSize=100", "*MaxRequestSize=100*"},
		{"Timeout=0", "*Timeout=0*"},
		{"Colour=blue", "*unknown key*Colour*"},
		{"RetryMin=100\nRetryMax=10", "*RetryMax=10 is less than RetryMin=100*"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(MrdConfig) config = mrd_config_new();
		g_autoptr(MrdConfig) defaults = mrd_config_new();
		g_autofree char *data = g_strdup_printf("[Upload]\n%s\n", cases[i].line);

		g_test_expect_message("MrdConfig", G_LOG_LEVEL_WARNING, cases[i].message);
		mrd_config_load_data(config, data, strlen(data), "test.conf");
		g_test_assert_expected_messages();
		g_assert_cmpstr(config->server_url, ==, defaults->server_url);
		g_assert_cmpuint(config->window_days, ==, defaults->window_days);
		g_assert_cmpint(config->allow_metered, ==, defaults->allow_metered);
		g_assert_cmpuint(config->retry_min, ==, defaults->retry_min);
		g_assert_cmpuint(config->retry_max, ==, defaults->retry_max);
		g_assert_cmpuint(config->max_request_size, ==, defaults->max_request_size);
		g_assert_cmpuint(config->timeout, ==, defaults->timeout);
	}
}

static void
test_config_unparsable(void)
{
	g_autoptr(MrdConfig) config = mrd_config_new();
	const char *data = "this is not a key file\n[Upload\n";

	g_test_expect_message("MrdConfig", G_LOG_LEVEL_WARNING, "*bad.conf: cannot parse*");
	mrd_config_load_data(config, data, strlen(data), "bad.conf");
	g_test_assert_expected_messages();
	g_assert_cmpstr(config->server_url, ==, MRD_CONFIG_DEFAULT_SERVER_URL);
}

static void
test_backoff(void)
{
	/* without jitter (random 1): min × 2^(n-1), capped */
	g_assert_cmpint(mrd_upload_backoff(1, 60, 86400, 1.0), ==, 60 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(2, 60, 86400, 1.0), ==, 120 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(5, 60, 86400, 1.0), ==, 960 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(20, 60, 86400, 1.0), ==, 86400 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(G_MAXUINT, 60, 86400, 1.0), ==,
			86400 * G_TIME_SPAN_SECOND);
	/* jitter takes off up to half */
	g_assert_cmpint(mrd_upload_backoff(2, 60, 86400, 0.0), ==, 60 * G_TIME_SPAN_SECOND);
	g_assert_cmpint(mrd_upload_backoff(20, 60, 86400, 0.5), ==, 64800 * G_TIME_SPAN_SECOND);
	/* never less than a second */
	g_assert_cmpint(mrd_upload_backoff(1, 1, 1, 0.0), ==, G_TIME_SPAN_SECOND);
}

static void
test_retry_after(void)
{
	gint64 delay = -1;
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	gint64 now = G_GINT64_CONSTANT(784111777) * G_USEC_PER_SEC;

	g_assert_true(mrd_upload_parse_retry_after("120", now, &delay));
	g_assert_cmpint(delay, ==, 120 * G_TIME_SPAN_SECOND);
	g_assert_true(mrd_upload_parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now, &delay));
	g_assert_cmpint(delay, ==, 60 * G_TIME_SPAN_SECOND);
	g_assert_true(mrd_upload_parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now, &delay));
	g_assert_cmpint(delay, ==, 0);
	g_assert_false(mrd_upload_parse_retry_after(NULL, now, &delay));
	g_assert_false(mrd_upload_parse_retry_after("soon", now, &delay));
	g_assert_false(mrd_upload_parse_retry_after("-5", now, &delay));
}

static void
test_retryable(void)
{
	g_assert_true(mrd_upload_status_is_retryable(500));
	g_assert_true(mrd_upload_status_is_retryable(503));
	g_assert_true(mrd_upload_status_is_retryable(408));
	g_assert_true(mrd_upload_status_is_retryable(429));
	g_assert_false(mrd_upload_status_is_retryable(400));
	g_assert_false(mrd_upload_status_is_retryable(404));
	g_assert_false(mrd_upload_status_is_retryable(413));
	g_assert_false(mrd_upload_status_is_retryable(301));
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/metrics/upload/config/defaults", test_config_defaults);
	g_test_add_func("/metrics/upload/config/valid", test_config_valid);
	g_test_add_func("/metrics/upload/config/invalid", test_config_invalid);
	g_test_add_func("/metrics/upload/config/unparsable", test_config_unparsable);
	g_test_add_func("/metrics/upload/backoff", test_backoff);
	g_test_add_func("/metrics/upload/retry-after", test_retry_after);
	g_test_add_func("/metrics/upload/retryable", test_retryable);
	return g_test_run();
}
