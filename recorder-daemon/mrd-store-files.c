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
#include <unistd.h>

#include "metrics-error.h"
#include "mrd-shred.h"
#include "mrd-store-private.h"

/*
 * The files of the store as files: a damaged one moved aside, the
 * write-ahead log cut back without freeing what it held, and all of them
 * overwritten and removed when consent is withdrawn.
 */

/* the WAL header's length: with it zeroed, the log is empty to SQLite */

/**
 * mrd_store_shrink_wal:
 * @wal: the write-ahead log's file
 * @keep: the length to cut it back to, a whole number of frames
 * @error: where a failure to overwrite or cut it goes
 *
 * Cuts the write-ahead log back to @keep bytes the way SQLite's
 * journal_size_limit would, but without leaving what the cut part held in
 * freed disk blocks: the part beyond @keep is overwritten with zeros and
 * synced first. The header is zeroed too, so that the frames that stay
 * can never be taken for a log again: SQLite writes a new header with the
 * next transaction, and after a crash before that it finds no log, which
 * is right, since everything in it is in the database already.
 *
 * Only call it when every frame has been checkpointed into the database
 * (the checkpoint was complete) and no transaction is open.
 *
 * Returns: whether the log was cut back
 */
gboolean
mrd_store_shrink_wal(const char *wal, guint64 keep, GError **error)
{
	static const guint8 zeros[MRD_STORE_WAL_HEADER_SIZE] = {0};
	g_autoptr(GError) error_local = NULL;
	int saved_errno;
	int fd;

	g_return_val_if_fail(wal != NULL, FALSE);
	g_return_val_if_fail(keep >= MRD_STORE_WAL_HEADER_SIZE, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	/* the header first: once it is gone, no frame is read again, even
	 * after a crash half way (frames up to @keep without those after them
	 * would be an older state than the database's) */
	fd = g_open(wal, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0);
	if (fd >= 0 && pwrite(fd, zeros, sizeof(zeros), 0) == (ssize_t)sizeof(zeros) &&
	    fdatasync(fd) == 0 && mrd_shred_range(wal, keep, &error_local) &&
	    ftruncate(fd, (off_t)keep) == 0) {
		close(fd);
		return TRUE;
	}
	saved_errno = errno;
	if (fd >= 0)
		close(fd);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
		    _("Cannot cut back the journal %s: %s"), wal, g_strerror(saved_errno));
	return FALSE;
}

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
		if (!mrd_shred_file(file, error))
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

		if (!mrd_shred_file(file, error))
			return FALSE;
	}
	return TRUE;
}
