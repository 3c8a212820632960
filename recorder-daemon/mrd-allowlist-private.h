/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include "mrd-allowlist.h"

G_BEGIN_DECLS

/* shared by mrd-allowlist.c and mrd-allowlist-parse.c only */

#define MRD_ALLOWLIST_MAX_NAME_LENGTH 64
#define MRD_ALLOWLIST_VALUE_SETS_DIR "value-sets"

void
mrd_metric_free(MrdMetric *metric);
void
mrd_value_domain_clear(MrdValueDomain *domain);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MrdMetric, mrd_metric_free)

gboolean
mrd_allowlist_parse_document(MrdAllowlist *self,
			     const char *filename,
			     const char *data,
			     gsize length,
			     GPtrArray *metrics,
			     GError **error);
GHashTable *
mrd_allowlist_get_value_set(MrdAllowlist *self, const char *name, GError **error);
gboolean
mrd_allowlist_is_valid_name(const char *name);
GHashTable *
mrd_string_set_new(void);

G_END_DECLS
