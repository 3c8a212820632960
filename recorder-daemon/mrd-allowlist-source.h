/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-allowlist.h"

G_BEGIN_DECLS

/* the shipped allowlist, then the administrator's (later files win) */
#define MRD_DEFAULT_ALLOWLIST_DIRS PKGDATADIR "/allowlist:" SYSCONFDIR "/metrics/allowlist.d"

#define MRD_TYPE_ALLOWLIST_SOURCE (mrd_allowlist_source_get_type())
G_DECLARE_FINAL_TYPE(MrdAllowlistSource, mrd_allowlist_source, MRD, ALLOWLIST_SOURCE, GObject)

MrdAllowlistSource *
mrd_allowlist_source_new(const char *const *dirs);
MrdAllowlist *
mrd_allowlist_source_load(MrdAllowlistSource *self);
MrdAllowlist *
mrd_allowlist_source_get_allowlist(MrdAllowlistSource *self);
void
mrd_allowlist_source_watch(MrdAllowlistSource *self);

G_END_DECLS
