/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <json-glib/json-glib.h>
#include <metrics.h>

G_BEGIN_DECLS

/* documented exit codes of metrics-cli (see docs/metrics-cli.md) */
typedef enum {
	MCLI_EXIT_OK = 0,
	MCLI_EXIT_FAILURE = 1,
	MCLI_EXIT_NOTHING_TO_DO = 2,
	MCLI_EXIT_NOT_FOUND = 3,
	MCLI_EXIT_NOT_RUNNING = 4,
	MCLI_EXIT_PERMISSION_DENIED = 5,
	MCLI_EXIT_USAGE = 64,
} McliExit;

typedef struct {
	gboolean json;
	gboolean interactive;
	MetricsClient *client; /* (owned) */
	McliExit exit_code;    /* set by a command that succeeds with another code */
} McliContext;

typedef gboolean (*McliCommandFunc)(McliContext *ctx, int argc, char **argv, GError **error);

gboolean
mcli_cmd_status(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_show(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_consent(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_clear(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_allowlist(McliContext *ctx, int argc, char **argv, GError **error);
GVariant *
mcli_allowlist_find(GVariant *metrics, const char *name);
/* upload (issue 5) */
gboolean
mcli_cmd_upload(McliContext *ctx, int argc, char **argv, GError **error);

void
mcli_print_json(JsonBuilder *builder);
char *
mcli_format_duration(guint64 usec);
char *
mcli_format_timestamp(gint64 usec);
gboolean
mcli_usage_error(GError **error, const char *usage);
char *
mcli_wrap(const char *text, guint width, const char *indent);
const char *
mcli_consent_label(MetricsConsent consent);

G_END_DECLS
