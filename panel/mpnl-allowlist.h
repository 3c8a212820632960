/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* one approved metric, from GetAllowlist, with its texts translated */
typedef struct {
	char *id;	   /* (owned) the UUID */
	char *name;	   /* (owned) */
	char *category;	   /* (owned) */
	char *description; /* (owned) translated */
	char *purpose;	   /* (owned) translated */
	char *expires;	   /* (owned) YYYY-MM-DD or empty */
	gboolean expired;
} MpnlMetric;

void
mpnl_metric_free(MpnlMetric *metric);
GPtrArray *
mpnl_allowlist_parse(GVariant *reply);
MpnlMetric *
mpnl_allowlist_lookup(GPtrArray *metrics, const char *id);
const char *
mpnl_translate(const char *text);
const char *
mpnl_category_title(const char *category);
const char *const *
mpnl_categories(void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MpnlMetric, mpnl_metric_free)

G_END_DECLS
