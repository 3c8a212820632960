/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdStore"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics-error.h"
#include "mrd-store-private.h"

/*
 * The files of the store as files: a damaged one moved aside, and all of
 * them overwritten and removed when consent is withdrawn.
 */

/* moves a damaged store aside, to be kept for inspection and never read
 * again; mrd_store_delete_files() removes it with the rest */
gboolean
mrd_store_move_aside(const char *path, GError **error)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%S");
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};

	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *from = g_strconcat(path, suffixes[i], NULL);
		g_autofree char *to = g_strconcat(path, ".corrupt-", stamp, suffixes[i], NULL);

		if (g_rename(from, to) != 0 && errno != ENOENT) {
			int saved_errno = errno;
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
				    _("Cannot move the damaged store %s aside: %s"), from,
				    g_strerror(saved_errno));
			return FALSE;
		}
	}
	g_warning("the metrics store %s was damaged; kept it as %s.corrupt-%s and started a "
		  "new one",
		  path, path, stamp);
	return TRUE;
}

/* overwrites the whole length of @file with zeros and syncs it, so that
 * removing it afterwards does not leave its bytes in freed disk blocks (nor
 * in another hard link to it); on a copy-on-write file system or behind an
 * SSD's wear levelling this is the best a program can do. A file that is not
 * there, or is not a regular file, is left to the unlink that follows. */
static void
zero_fill(const char *file)
{
	static const guint8 zeros[64 * 1024] = {0};
	struct stat buf;
	off_t offset = 0;
	int fd;

	fd = g_open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0);
	if (fd < 0) {
		if (errno != ENOENT && errno != EISDIR && errno != ELOOP)
			g_warning("cannot overwrite %s before deleting it: %s", file,
				  g_strerror(errno));
		return;
	}
	if (fstat(fd, &buf) != 0 || !S_ISREG(buf.st_mode)) {
		close(fd);
		return;
	}
	while (offset < buf.st_size) {
		ssize_t n = pwrite(fd, zeros,
				   (size_t)MIN(buf.st_size - offset, (off_t)sizeof(zeros)), offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_warning("cannot overwrite %s before deleting it: %s", file,
				  n < 0 ? g_strerror(errno) : "short write");
			break;
		}
		offset += n;
	}
	if (fdatasync(fd) != 0)
		g_warning("cannot sync %s before deleting it: %s", file, g_strerror(errno));
	close(fd);
}

/* removes @file after overwriting it; a missing file is fine */
static gboolean
shred_file(const char *file, GError **error)
{
	zero_fill(file);
	if (g_unlink(file) != 0 && errno != ENOENT) {
		int saved_errno = errno;
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE, _("Cannot delete %s: %s"),
			    file, g_strerror(saved_errno));
		return FALSE;
	}
	return TRUE;
}

static gboolean
delete_corrupt_copies(const char *path, GError **error)
{
	g_autofree char *dirname = g_path_get_dirname(path);
	g_autofree char *prefix = NULL;
	g_autoptr(GDir) dir = g_dir_open(dirname, 0, NULL);
	const char *name;

	if (dir == NULL)
		return TRUE;
	{
		g_autofree char *basename = g_path_get_basename(path);
		prefix = g_strconcat(basename, ".corrupt-", NULL);
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *file = NULL;

		if (!g_str_has_prefix(name, prefix))
			continue;
		file = g_build_filename(dirname, name, NULL);
		if (!shred_file(file, error))
			return FALSE;
	}
	return TRUE;
}

/* removes the database with its WAL and journal files, and damaged copies
 * kept aside: they hold event data too; each is overwritten with zeros
 * first; missing files are fine. The store must be closed. */
gboolean
mrd_store_delete_files(const char *path, GError **error)
{
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};

	g_return_val_if_fail(path != NULL, FALSE);

	if (!delete_corrupt_copies(path, error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *file = g_strconcat(path, suffixes[i], NULL);

		if (!shred_file(file, error))
			return FALSE;
	}
	return TRUE;
}
