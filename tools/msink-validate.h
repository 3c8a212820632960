/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* what an Azafea v3 server checks in a request (docs/upload.md) */
#define MSINK_BODY_TYPE "(xxsa{ss}ya(aysxmv)a(ayssumv))"
#define MSINK_MAX_BODY_SIZE (1024 * 1024)

typedef struct {
	guint status;	/* the HTTP status the server would answer */
	char *message;	/* (owned) the reason, for the answer body */
	char *checksum; /* (owned) (nullable) from the path */
	GVariant *body; /* (owned) (nullable) decoded, host order, when valid */
	gsize compressed_size;
	gsize size;
} MsinkResult;

void
msink_result_free(MsinkResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MsinkResult, msink_result_free)

MsinkResult *
msink_validate(const char *method,
	       const char *path,
	       const char *content_encoding,
	       GBytes *raw_body);
char **
msink_privacy_problems(GVariant *body);
char *
msink_body_to_json(const MsinkResult *result);

G_END_DECLS
