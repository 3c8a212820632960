/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <json-glib/json-glib.h>
#include <metrics.h>

#include "mcli-polkit-agent.h"

G_BEGIN_DECLS

/* documented exit codes of metrics-cli (see docs/metrics-cli.1.md) */
typedef enum {
	MCLI_EXIT_OK = 0,
	MCLI_EXIT_FAILURE = 1,
	MCLI_EXIT_NOTHING_TO_DO = 2,
	MCLI_EXIT_NOT_FOUND = 3,
	MCLI_EXIT_NOT_RUNNING = 4,
	MCLI_EXIT_PERMISSION_DENIED = 5,
	MCLI_EXIT_USAGE = 64,
} McliExit;

/* human output fits this many columns */
#define MCLI_LINE_WIDTH 80

typedef struct {
	gboolean json;
	gboolean interactive;
	MetricsClient *client;	/* (owned) */
	McliPolkitAgent *agent; /* (owned) (nullable) started on the first privileged call */
	gboolean agent_tried;	/* started (or failed to) once already */
	McliExit exit_code;	/* set by a command that succeeds with another code */
} McliContext;

typedef gboolean (*McliCommandFunc)(McliContext *ctx, int argc, char **argv, GError **error);

gboolean
mcli_cmd_status(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_show(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_categories(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_choice(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_consent(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_clear(McliContext *ctx, int argc, char **argv, GError **error);
gboolean
mcli_cmd_allowlist(McliContext *ctx, int argc, char **argv, GError **error);
GVariant *
mcli_allowlist_find(GVariant *metrics, const char *name);
gboolean
mcli_cmd_upload(McliContext *ctx, int argc, char **argv, GError **error);

MetricsClientFlags
mcli_auth_flags(McliContext *ctx);
void
mcli_print_json(JsonBuilder *builder);
char *
mcli_format_duration(guint64 usec);
char *
mcli_format_timestamp(gint64 usec);
char *
mcli_format_size(guint64 bytes);
gboolean
mcli_usage_error(GError **error, const char *usage);
char *
mcli_wrap(const char *text, guint width, const char *indent);
guint
mcli_display_width(const char *text);
void
mcli_append_padded(GString *out, const char *text, guint width);
void
mcli_print_line(const char *line);
void
mcli_print_field(const char *label, const char *value);
const char *
mcli_consent_label(MetricsConsent consent);
const char *
mcli_user_choice_label(MetricsUserChoice choice);
const char *
mcli_category_state_label(const char *state);
const char *
mcli_drop_reason_label(const char *reason);
const char *
mcli_kind_label(MetricsEventKind kind);
char *
mcli_format_payload(GVariant *payload);
void
mcli_set_print_handlers(void);

G_END_DECLS
