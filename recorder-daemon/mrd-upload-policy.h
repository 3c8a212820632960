/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the uploader's policy (mrd-upload-policy.c), as pure functions for the
 * tests */
gint64
mrd_upload_backoff(guint attempts, guint min_seconds, guint max_seconds, double random01);
gboolean
mrd_upload_parse_retry_after(const char *value, gint64 now, gint64 *delay);
gint64
mrd_upload_clamp_retry_after(gint64 delay);
gboolean
mrd_upload_status_is_retryable(guint status);
char *
mrd_upload_describe_answer(guint status, const char *reason, const char *body, gsize len);
void
mrd_upload_forbid_tls_resumption(GTlsClientConnection *connection);
char *
mrd_upload_tls_priority(const char *current, const char *fallback);
void
mrd_upload_setup_tls_environment(void);

G_END_DECLS
