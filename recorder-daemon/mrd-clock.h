/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define MRD_TYPE_CLOCK (mrd_clock_get_type())
G_DECLARE_FINAL_TYPE(MrdClock, mrd_clock, MRD, CLOCK, GObject)

MrdClock *
mrd_clock_new(void);
MrdClock *
mrd_clock_new_fixed(gint64 now_usec);
gint64
mrd_clock_get_real_time(MrdClock *self);
void
mrd_clock_set_offset(MrdClock *self, gint64 offset_usec);
void
mrd_clock_set_fixed(MrdClock *self, gint64 now_usec);
void
mrd_clock_set_offset_file(MrdClock *self, const char *path);

G_END_DECLS
