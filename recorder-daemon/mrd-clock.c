/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdClock"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "mrd-clock.h"

/*
 * The daemon's wall clock (UTC). Everything that depends on the date, such
 * as which ISO week an event falls in, asks this object, so tests can fix the
 * time or shift it (forwards and backwards) without touching the system
 * clock.
 *
 * For tests of the whole daemon, the shift can come from a file that is
 * read again when it changes (mrd_clock_set_offset_file()): the clock then
 * looks at the file at most once a second, when it is asked the time, and
 * never wakes the daemon up by itself.
 */

/* how often the offset file is looked at, at most */
#define OFFSET_FILE_CHECK_INTERVAL G_USEC_PER_SEC
/* a shift beyond a century is a mistake */
#define MAX_OFFSET_SECONDS ((gint64)100 * 366 * 24 * 3600)

struct _MrdClock {
	GObject parent_instance;
	gboolean fixed;
	gint64 fixed_time; /* usec, when fixed */
	gint64 offset;	   /* usec added to the real time otherwise */

	char *offset_file;	    /* (owned) (nullable) */
	gint64 offset_file_checked; /* monotonic usec of the last look, 0: never */
	gboolean offset_file_seen;  /* whether the fields below describe it */
	guint64 offset_file_ino;
	gint64 offset_file_size;
	gint64 offset_file_mtime; /* nsec */
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

/* reads the offset file again if it changed since the last look */
static void
check_offset_file(MrdClock *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *contents = NULL;
	GStatBuf buf;
	gint64 mtime;
	gint64 seconds = 0;

	self->offset_file_checked = g_get_monotonic_time();
	if (g_stat(self->offset_file, &buf) != 0) {
		if (self->offset_file_seen)
			g_warning("cannot read the clock offset file %s: %s; keeping the offset",
				  self->offset_file, g_strerror(errno));
		self->offset_file_seen = FALSE;
		return;
	}
	mtime = (gint64)buf.st_mtim.tv_sec * 1000000000 + buf.st_mtim.tv_nsec;
	if (self->offset_file_seen && self->offset_file_ino == (guint64)buf.st_ino &&
	    self->offset_file_size == (gint64)buf.st_size && self->offset_file_mtime == mtime)
		return;
	self->offset_file_seen = TRUE;
	self->offset_file_ino = (guint64)buf.st_ino;
	self->offset_file_size = (gint64)buf.st_size;
	self->offset_file_mtime = mtime;
	if (!g_file_get_contents(self->offset_file, &contents, NULL, &error) ||
	    !g_ascii_string_to_signed(g_strstrip(contents), 10, -MAX_OFFSET_SECONDS,
				      MAX_OFFSET_SECONDS, &seconds, &error)) {
		g_warning("cannot use the clock offset file %s: %s; keeping the offset",
			  self->offset_file, error->message);
		return;
	}
	if (seconds * G_USEC_PER_SEC != self->offset)
		g_message("shifting the clock by %" G_GINT64_FORMAT " s (from %s): for tests only",
			  seconds, self->offset_file);
	self->offset = seconds * G_USEC_PER_SEC;
}

gint64
mrd_clock_get_real_time(MrdClock *self)
{
	g_return_val_if_fail(MRD_IS_CLOCK(self), 0);
	if (self->fixed)
		return self->fixed_time;
	if (G_UNLIKELY(self->offset_file != NULL) &&
	    (self->offset_file_checked == 0 ||
	     g_get_monotonic_time() - self->offset_file_checked >= OFFSET_FILE_CHECK_INTERVAL))
		check_offset_file(self);
	return g_get_real_time() + self->offset;
}

void
mrd_clock_set_offset(MrdClock *self, gint64 offset_usec)
{
	g_return_if_fail(MRD_IS_CLOCK(self));
	self->fixed = FALSE;
	self->offset = offset_usec;
}

/**
 * mrd_clock_set_offset_file:
 * @self: the clock
 * @path: (nullable): a file holding the shift in seconds (a decimal
 *   integer, negative for the past), or %NULL to stop reading it
 *
 * For tests only: shifts the clock by what @path holds, now and again
 * whenever the file changes (looked at, at most once a second, when the
 * time is asked). An unreadable file or content keeps the shift in use.
 */
void
mrd_clock_set_offset_file(MrdClock *self, const char *path)
{
	g_return_if_fail(MRD_IS_CLOCK(self));
	g_free(self->offset_file);
	self->offset_file = g_strdup(path);
	self->offset_file_seen = FALSE;
	self->offset_file_checked = 0;
	if (path != NULL) {
		self->fixed = FALSE;
		check_offset_file(self);
	}
}

void
mrd_clock_set_fixed(MrdClock *self, gint64 now_usec)
{
	g_return_if_fail(MRD_IS_CLOCK(self));
	self->fixed = TRUE;
	self->fixed_time = now_usec;
}

static void
mrd_clock_finalize(GObject *object)
{
	MrdClock *self = MRD_CLOCK(object);

	g_free(self->offset_file);

	G_OBJECT_CLASS(mrd_clock_parent_class)->finalize(object);
}

static void
mrd_clock_class_init(MrdClockClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = mrd_clock_finalize;
}

static void
mrd_clock_init(MrdClock *self)
{
}
