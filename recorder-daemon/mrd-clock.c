/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdClock"

#include "config.h"

#include "mrd-clock.h"

/*
 * The daemon's wall clock (UTC). Everything that depends on the date, such
 * as which ISO week an event falls in, asks this object, so tests can fix the
 * time or shift it (forwards and backwards) without touching the system
 * clock.
 */

struct _MrdClock {
	GObject parent_instance;
	gboolean fixed;
	gint64 fixed_time; /* usec, when fixed */
	gint64 offset;	   /* usec added to the real time otherwise */
};

G_DEFINE_TYPE(MrdClock, mrd_clock, G_TYPE_OBJECT)

MrdClock *
mrd_clock_new(void)
{
	return g_object_new(MRD_TYPE_CLOCK, NULL);
}

MrdClock *
mrd_clock_new_fixed(gint64 now_usec)
{
	MrdClock *self = mrd_clock_new();
	mrd_clock_set_fixed(self, now_usec);
	return self;
}

gint64
mrd_clock_get_real_time(MrdClock *self)
{
	g_return_val_if_fail(MRD_IS_CLOCK(self), 0);
	if (self->fixed)
		return self->fixed_time;
	return g_get_real_time() + self->offset;
}

void
mrd_clock_set_offset(MrdClock *self, gint64 offset_usec)
{
	g_return_if_fail(MRD_IS_CLOCK(self));
	self->fixed = FALSE;
	self->offset = offset_usec;
}

void
mrd_clock_set_fixed(MrdClock *self, gint64 now_usec)
{
	g_return_if_fail(MRD_IS_CLOCK(self));
	self->fixed = TRUE;
	self->fixed_time = now_usec;
}

static void
mrd_clock_class_init(MrdClockClass *klass)
{
}

static void
mrd_clock_init(MrdClock *self)
{
}
