/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* parses `journalctl --output=export` data into entries, each a
 * (element-type utf8 utf8) GHashTable from field name to value; binary
 * values that are not UTF-8 are left out */
GPtrArray *
minst_journal_parse_export(const char *data, gsize len, GError **error);

G_END_DECLS
