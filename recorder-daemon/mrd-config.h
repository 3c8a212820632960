/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MRD_CONFIG_DEFAULT_SERVER_URL "https://metrics.fedoraproject.org"
#define MRD_CONFIG_FILENAME "metrics-recorder.conf"

/* the daemon's configuration file, group [Upload] (docs/upload.md) */
typedef struct {
	char *server_url;	/* (owned) without a trailing slash */
	guint window_days;	/* uploads happen at random within this after a week closes */
	gboolean allow_metered; /* upload on a metered network too */
	guint retry_min;	/* seconds: the first back-off */
	guint retry_max;	/* seconds: the back-off cap */
	guint max_request_size; /* bytes of gzip body */
	guint timeout;		/* seconds per request */
	guint spread;		/* seconds: a backlog due at once is spread over this */
	char *ca_file; /* (owned) (nullable) certificates to trust instead of the system's */
} MrdConfig;

MrdConfig *
mrd_config_new(void);
void
mrd_config_free(MrdConfig *self);
void
mrd_config_load_data(MrdConfig *self, const char *data, gsize len, const char *source);
void
mrd_config_load_file(MrdConfig *self, const char *path);
char *
mrd_config_default_path(void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MrdConfig, mrd_config_free)

G_END_DECLS
