/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the length of an ISO week, in microseconds */
#define MRD_WEEK_USEC (7 * G_TIME_SPAN_DAY)

gint64
mrd_week_start(gint64 time_usec);
char *
mrd_week_to_string(gint64 week_start);
gboolean
mrd_week_from_string(const char *str, gint64 *week_start);

G_END_DECLS
