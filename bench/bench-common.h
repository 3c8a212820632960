/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gint64
bench_read_status(GPid pid, const char *field);
double
bench_median(GArray *values);
GPid
bench_strace_attach(GPid pid, gboolean threads, const char *out_path, GError **error);
gint64
bench_strace_finish(GPid strace_pid, const char *out_path, gboolean print);

G_END_DECLS
