/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean
mrd_shred_range(const char *file, guint64 from, GError **error);
gboolean
mrd_shred_file(const char *file, GError **error);

G_END_DECLS
