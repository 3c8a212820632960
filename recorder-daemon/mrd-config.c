/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdConfig"

#include "config.h"

#include <string.h>

#include "mrd-config.h"

/*
 * The configuration file is optional; every key has a default. A value that
 * cannot be used is reported with the file, the key and the value, and the
 * default is kept: a typo must not stop the daemon, nor silently change
 * what it sends.
 */

#define GROUP "Upload"

MrdConfig *
mrd_config_new(void)
{
	MrdConfig *self = g_new0(MrdConfig, 1);

	self->server_url = g_strdup(MRD_CONFIG_DEFAULT_SERVER_URL);
	self->window_days = 7;
	self->allow_metered = FALSE;
	self->retry_min = 60;
	self->retry_max = 24 * 3600;
	self->max_request_size = 64 * 1024;
	self->timeout = 60;
	self->spread = 6 * 3600;
	return self;
}

void
mrd_config_free(MrdConfig *self)
{
	if (self == NULL)
		return;
	g_free(self->server_url);
	g_free(self->ca_file);
	g_free(self);
}

/* $CONFIGURATION_DIRECTORY/metrics-recorder.conf from systemd, else
 * SYSCONFDIR/metrics/metrics-recorder.conf */
char *
mrd_config_default_path(void)
{
	const char *env = g_getenv("CONFIGURATION_DIRECTORY");

	if (env != NULL && env[0] != '\0') {
		g_auto(GStrv) dirs = g_strsplit(env, ":", 2);
		return g_build_filename(dirs[0], MRD_CONFIG_FILENAME, NULL);
	}
	return g_build_filename(METRICS_CONFIG_DIR, MRD_CONFIG_FILENAME, NULL);
}

static void
warn_invalid(const char *source, const char *key, const char *value, const char *why)
{
	g_warning("%s: ignoring [" GROUP "] %s=%s (%s); keeping the default", source, key, value,
		  why);
}

static gboolean
parse_uint(const char *source,
	   const char *key,
	   const char *value,
	   guint64 min,
	   guint64 max,
	   guint *out)
{
	guint64 number = 0;
	g_autoptr(GError) error = NULL;

	if (!g_ascii_string_to_unsigned(value, 10, min, max, &number, &error)) {
		warn_invalid(source, key, value, error->message);
		return FALSE;
	}
	*out = (guint)number;
	return TRUE;
}

static gboolean
server_url_is_valid(const char *value, const char **why)
{
	g_autoptr(GUri) uri = g_uri_parse(value, G_URI_FLAGS_NONE, NULL);
	const char *scheme;

	if (uri == NULL) {
		*why = "not a URL";
		return FALSE;
	}
	scheme = g_uri_get_scheme(uri);
	if (g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0) {
		*why = "not an http or https URL";
		return FALSE;
	}
	if (g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0') {
		*why = "no host";
		return FALSE;
	}
	if (g_uri_get_query(uri) != NULL || g_uri_get_fragment(uri) != NULL ||
	    g_uri_get_userinfo(uri) != NULL) {
		*why = "a query, fragment or user name is not allowed";
		return FALSE;
	}
	return TRUE;
}

/* applies the [Upload] group of @data; @source names it in warnings */
void
mrd_config_load_data(MrdConfig *self, const char *data, gsize len, const char *source)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) keys = NULL;
	guint retry_min = self->retry_min;
	guint retry_max = self->retry_max;

	if (!g_key_file_load_from_data(keyfile, data, len, G_KEY_FILE_NONE, &error)) {
		g_warning("%s: cannot parse: %s; using the defaults", source, error->message);
		return;
	}
	keys = g_key_file_get_keys(keyfile, GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const char *key = keys[i];
		g_autofree char *value = g_key_file_get_value(keyfile, GROUP, key, NULL);

		if (value == NULL)
			continue;
		if (g_strcmp0(key, "ServerUrl") == 0) {
			const char *why = NULL;

			if (!g_utf8_validate(value, -1, NULL) ||
			    !server_url_is_valid(value, &why)) {
				warn_invalid(source, key, value, why != NULL ? why : "not UTF-8");
				continue;
			}
			g_free(self->server_url);
			self->server_url = g_strdup(value);
			while (g_str_has_suffix(self->server_url, "/"))
				self->server_url[strlen(self->server_url) - 1] = '\0';
		} else if (g_strcmp0(key, "Window") == 0) {
			parse_uint(source, key, value, 0, 60, &self->window_days);
		} else if (g_strcmp0(key, "AllowMetered") == 0) {
			g_autoptr(GError) error_bool = NULL;
			gboolean allow = g_key_file_get_boolean(keyfile, GROUP, key, &error_bool);

			if (error_bool != NULL)
				warn_invalid(source, key, value, "not true or false");
			else
				self->allow_metered = allow;
		} else if (g_strcmp0(key, "RetryMin") == 0) {
			parse_uint(source, key, value, 1, 24 * 3600, &retry_min);
		} else if (g_strcmp0(key, "RetryMax") == 0) {
			parse_uint(source, key, value, 1, 7 * 24 * 3600, &retry_max);
		} else if (g_strcmp0(key, "MaxRequestSize") == 0) {
			parse_uint(source, key, value, 4096, 512 * 1024, &self->max_request_size);
		} else if (g_strcmp0(key, "Timeout") == 0) {
			parse_uint(source, key, value, 1, 600, &self->timeout);
		} else if (g_strcmp0(key, "Spread") == 0) {
			parse_uint(source, key, value, 0, 7 * 24 * 3600, &self->spread);
		} else if (g_strcmp0(key, "CaFile") == 0) {
			/* read when the uploader starts, so only the form is
			 * checked here */
			if (!g_path_is_absolute(value)) {
				warn_invalid(source, key, value, "not an absolute path");
				continue;
			}
			g_free(self->ca_file);
			self->ca_file = g_strdup(value);
		} else {
			g_warning("%s: ignoring unknown key [" GROUP "] %s", source, key);
		}
	}
	if (retry_max < retry_min) {
		g_warning("%s: [" GROUP "] RetryMax=%u is less than RetryMin=%u; keeping the "
			  "defaults",
			  source, retry_max, retry_min);
		return;
	}
	self->retry_min = retry_min;
	self->retry_max = retry_max;
}

/* a missing file means the defaults; an unreadable one is reported */
void
mrd_config_load_file(MrdConfig *self, const char *path)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;

	if (!g_file_get_contents(path, &data, &len, &error)) {
		if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_debug("no configuration file %s: using the defaults", path);
		else
			g_warning("cannot read %s: %s; using the defaults", path, error->message);
		return;
	}
	mrd_config_load_data(self, data, len, path);
}
