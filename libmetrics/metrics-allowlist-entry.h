/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define METRICS_TYPE_ALLOWLIST_ENTRY (metrics_allowlist_entry_get_type())
G_DECLARE_FINAL_TYPE(MetricsAllowlistEntry,
		     metrics_allowlist_entry,
		     METRICS,
		     ALLOWLIST_ENTRY,
		     GObject)

GVariant *
metrics_allowlist_entry_get_variant(MetricsAllowlistEntry *self);

G_END_DECLS
