/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdShred"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics-error.h"
#include "mrd-shred.h"

/*
 * Removing a file so that its bytes do not stay behind: it is overwritten
 * with zeros in place (no O_TRUNC, no new file: the same blocks, which
 * another hard link to it sees too) and synced before it is unlinked,
 * since the blocks of an unlinked file are freed with whatever they hold,
 * and its dirty pages are never written. On a copy-on-write file system
 * (btrfs) or behind an SSD's remapping the old blocks may stay anyway:
 * that is beyond what a program can do (metrics-recorder(8), DELETION).
 */

static gboolean
set_file_error(GError **error, const char *file, const char *reason)
{
	g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
		    /* TRANSLATORS: a file of the state directory, then why */
		    _("Cannot overwrite %s before deleting it: %s"), file, reason);
	return FALSE;
}

/**
 * mrd_shred_range:
 * @file: a regular file
 * @from: where the zeros start
 * @error: where a failure to open, write or sync goes
 *
 * Overwrites @file from @from to its end with zeros and syncs it; its
 * length stays. A file that is not there, or is not a regular file, is
 * left alone.
 *
 * Returns: whether the bytes were overwritten and synced
 */
gboolean
mrd_shred_range(const char *file, guint64 from, GError **error)
{
	static const guint8 zeros[64 * 1024] = {0};
	struct stat buf;
	off_t offset = (off_t)from;
	int fd;

	g_return_val_if_fail(file != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	fd = g_open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0);
	if (fd < 0) {
		int saved_errno = errno;

		if (saved_errno == ENOENT || saved_errno == EISDIR || saved_errno == ELOOP)
			return TRUE;
		return set_file_error(error, file, g_strerror(saved_errno));
	}
	if (fstat(fd, &buf) != 0 || !S_ISREG(buf.st_mode)) {
		close(fd);
		return TRUE;
	}
	while (offset < buf.st_size) {
		ssize_t n = pwrite(fd, zeros,
				   (size_t)MIN(buf.st_size - offset, (off_t)sizeof(zeros)), offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved_errno = errno;

			close(fd);
			/* TRANSLATORS: why a file could not be overwritten */
			return set_file_error(error, file,
					      n < 0 ? g_strerror(saved_errno) : _("short write"));
		}
		offset += n;
	}
	if (fdatasync(fd) != 0) {
		int saved_errno = errno;

		close(fd);
		return set_file_error(error, file, g_strerror(saved_errno));
	}
	close(fd);
	return TRUE;
}

/**
 * mrd_shred_file:
 * @file: the file to remove
 * @error: where a failure to remove it goes
 *
 * Overwrites all of @file with zeros (mrd_shred_range()), syncs it and
 * removes it; a missing file is fine. A file that could not be overwritten
 * is removed all the same, with a warning: keeping it would keep the data
 * readable.
 *
 * Returns: whether @file is gone
 */
gboolean
mrd_shred_file(const char *file, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(file != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!mrd_shred_range(file, 0, &error_local))
		g_warning("%s", error_local->message);
	if (g_unlink(file) != 0 && errno != ENOENT) {
		int saved_errno = errno;

		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE, _("Cannot delete %s: %s"),
			    file, g_strerror(saved_errno));
		return FALSE;
	}
	return TRUE;
}
