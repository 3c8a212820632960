/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The parser of the daemon's configuration file, metrics-recorder.conf(5),
 * whose [Upload] group names the server: any bytes must give a usable
 * configuration, never a crash.
 */

#include "config.h"

#include <glib.h>

#include "mrd-config.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
quiet_cb(const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	g_autoptr(MrdConfig) config = mrd_config_new();

	g_log_set_handler("MrdConfig", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_DEBUG, quiet_cb, NULL);
	mrd_config_load_data(config, (const char *)data, size, "fuzz");
	g_assert_nonnull(config->server_url);
	g_assert_cmpuint(config->retry_min, <=, config->retry_max);
	g_assert_cmpuint(config->max_request_size, >=, 4096);
	return 0;
}
