/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): after
 * "no", nothing recorded is readable, not even in the freed blocks of the
 * disk. As root with loop devices, the state directory is a small ext4
 * image whose raw bytes are scanned; elsewhere every file left, and a hard
 * link made beforehand to every file, is.
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-stack.h"

/* 32 MiB: room for the store, small enough to scan every byte */
#define IMAGE_SIZE (32 * 1024 * 1024)
#define SECRET_SIZE 32

/* a TAP comment; a test subprocess has none, so there on stderr too */
G_GNUC_PRINTF(1, 2)
static void
note(const char *format, ...)
{
	g_autofree char *text = NULL;
	va_list args;

	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	g_test_message("%s", text);
	if (g_test_subprocess())
		g_printerr("# %s\n", text);
}

typedef struct {
	const char *what;
	const guint8 *bytes;
	gsize len;
} Needle;

typedef struct {
	guint8 uuid[16];
	guint8 secret[SECRET_SIZE];
	Needle needles[4];
} Needles;

static void
needles_init(Needles *needles, MtestHarness *harness)
{
	g_autofree char *secret_path =
		g_build_filename(harness->state_dir, "sampling-secret", NULL);
	g_autofree char *secret = NULL;
	gsize len = 0;

	g_assert_true(metrics_uuid_parse(ID_VALUE, needles->uuid));
	g_assert_true(g_file_get_contents(secret_path, &secret, &len, NULL));
	g_assert_cmpuint(len, ==, SECRET_SIZE);
	memcpy(needles->secret, secret, SECRET_SIZE);
	needles->needles[0] = (Needle){"the marker value", (const guint8 *)MARKER, strlen(MARKER)};
	needles->needles[1] = (Needle){"the metric's UUID bytes", needles->uuid, 16};
	needles->needles[2] =
		(Needle){"the metric's UUID text", (const guint8 *)ID_VALUE, strlen(ID_VALUE)};
	needles->needles[3] = (Needle){"the sampling secret", needles->secret, SECRET_SIZE};
}

/* how often each needle occurs in @data; logs each count, returns the sum */
static guint
count_needles(const Needles *needles, const char *where, const guint8 *data, gsize len)
{
	guint total = 0;

	for (guint i = 0; i < G_N_ELEMENTS(needles->needles); i++) {
		const Needle *needle = &needles->needles[i];
		const guint8 *at = data;
		guint n = 0;

		while (at + needle->len <= data + len) {
			at = memmem(at, (gsize)(data + len - at), needle->bytes, needle->len);
			if (at == NULL)
				break;
			n++;
			at++;
		}
		if (n > 0)
			note("%s: %s found %u times", where, needle->what, n);
		total += n;
	}
	return total;
}

static guint
count_needles_in_file(const Needles *needles, const char *path)
{
	g_autofree char *contents = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &contents, &len, NULL))
		return 0;
	return count_needles(needles, path, (const guint8 *)contents, len);
}

/* every regular file under @dir */
static guint
count_needles_in_tree(const Needles *needles, const char *dir)
{
	g_autoptr(GDir) handle = g_dir_open(dir, 0, NULL);
	const char *name;
	guint total = 0;

	while (handle != NULL && (name = g_dir_read_name(handle)) != NULL) {
		g_autofree char *child = g_build_filename(dir, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			continue;
		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			total += count_needles_in_tree(needles, child);
		else
			total += count_needles_in_file(needles, child);
	}
	return total;
}

/* a hard link in @links_dir to every file of the state directory: what
 * deletion does to a file, a link to it shows */
static void
link_every_file(MtestHarness *harness, const char *links_dir)
{
	g_autoptr(GDir) dir = g_dir_open(harness->state_dir, 0, NULL);
	const char *name;

	g_assert_nonnull(dir);
	g_assert_cmpint(g_mkdir(links_dir, 0700), ==, 0);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *file = g_build_filename(harness->state_dir, name, NULL);
		g_autofree char *link_path = g_build_filename(links_dir, name, NULL);

		if (g_file_test(file, G_FILE_TEST_IS_REGULAR))
			g_assert_cmpint(link(file, link_path), ==, 0);
	}
}

static void
record_marker(MtestFixture *fixture)
{
	for (guint i = 0; i < 5; i++)
		g_assert_cmpuint(mtest_record_value_batch(fixture, 20, MARKER), ==, 20);
}

/* grant, record, a clean exit, a restart, record again, deny, a clean exit;
 * returns how many needles the files under the state directory and under
 * @links_dir hold, and how many bytes of the link to the secret are not
 * zero (the file is to be overwritten in place) */
static guint
grant_record_deny(MtestFixture *fixture, const char *links_dir, Needles *needles)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *secret_link = g_build_filename(links_dir, "sampling-secret", NULL);
	g_autofree char *secret = NULL;
	gsize len = 0;
	guint n_secret = 0, n_files, n_links;

	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, NULL);
	mtest_grant_consent(fixture);
	needles_init(needles, fixture->harness);
	record_marker(fixture);
	/* SIGTERM: the store is closed cleanly, which lets SQLite checkpoint
	 * and remove its write-ahead log */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	record_marker(fixture);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 200);

	link_every_file(fixture->harness, links_dir);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	mtest_harness_stop_daemon(fixture->harness, FALSE);

	g_assert_true(g_file_get_contents(secret_link, &secret, &len, NULL));
	g_assert_cmpuint(len, ==, SECRET_SIZE);
	for (gsize i = 0; i < len; i++)
		n_secret += secret[i] != 0;
	n_files = count_needles_in_tree(needles, fixture->harness->state_dir);
	n_links = count_needles_in_tree(needles, links_dir);
	note("after no: %u non-zero bytes in the link to the sampling secret, %u "
	     "needles in the files left, %u in the hard links",
	     n_secret, n_files, n_links);
	return n_secret + n_files + n_links;
}

/* whether this process may mount a loop device in a mount namespace of
 * its own (root, CAP_SYS_ADMIN, a free loop device, mkfs.ext4); the reason
 * when not */
static gboolean
can_use_loop_devices(char **reason)
{
	const char *probe[] = {"unshare", "-m", "losetup", "-f", NULL};
	g_autofree char *mkfs = g_find_program_in_path("mkfs.ext4");
	int status = -1;

	if (geteuid() != 0) {
		*reason = g_strdup("not running as root");
		return FALSE;
	}
	if (mkfs == NULL) {
		*reason = g_strdup("mkfs.ext4 (e2fsprogs) is not installed");
		return FALSE;
	}
	if (!g_spawn_sync(NULL, (char **)probe, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
				  G_SPAWN_STDERR_TO_DEV_NULL,
			  NULL, NULL, NULL, NULL, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL)) {
		*reason = g_strdup("no private mount namespace or no free loop device here "
				   "(`unshare -m losetup -f` failed)");
		return FALSE;
	}
	return TRUE;
}

static void
run_checked(MtestHarness *harness, const char *const *argv)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status = mtest_harness_run(harness, argv, &out, &err);

	if (status != 0)
		g_error("%s failed (status %d): %s%s", argv[0], status, out, err);
}

/* the counts of the needles in the raw bytes of @image */
static guint
scan_image(const Needles *needles, const char *image)
{
	g_autoptr(GMappedFile) mapped = NULL;
	g_autoptr(GError) error = NULL;

	mapped = g_mapped_file_new(image, FALSE, &error);
	g_assert_no_error(error);
	return count_needles(needles, "the raw ext4 image",
			     (const guint8 *)g_mapped_file_get_contents(mapped),
			     g_mapped_file_get_length(mapped));
}

/* in a child with its own mount namespace: the state directory on a
 * freshly made ext4 image, loop-mounted; after "no" and unmounting, not
 * one byte of the image holds a needle */
static void
test_raw_disk(MtestFixture *fixture)
{
	MtestHarness *harness = fixture->harness;
	g_autofree char *image = g_build_filename(harness->tmpdir, "disk.img", NULL);
	g_autofree char *mnt = g_build_filename(harness->tmpdir, "disk", NULL);
	g_autofree char *state = g_build_filename(mnt, "state", NULL);
	g_autofree char *links = g_build_filename(mnt, "links", NULL);
	/* no discard: freed blocks keep their bytes, as on most disks; a
	 * loop device of mount(8) detaches itself when unmounted, also when
	 * this process dies and its mount namespace with it */
	const char *mkfs[] = {"mkfs.ext4", "-q", "-F", "-E", "nodiscard", image, NULL};
	const char *mount_image[] = {"mount",	       "-t",  "ext4", "-o",
				     "loop,nodiscard", image, mnt,    NULL};
	Needles needles;
	guint found, n_files;
	int fd;

	g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
	g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);

	fd = g_open(image, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, IMAGE_SIZE), ==, 0);
	close(fd);
	run_checked(harness, mkfs);
	g_assert_cmpint(g_mkdir(mnt, 0700), ==, 0);
	run_checked(harness, mount_image);
	g_assert_cmpint(g_mkdir(state, 0700), ==, 0);
	mtest_harness_set_state_dir(harness, state);

	n_files = grant_record_deny(fixture, links, &needles);

	if (umount(mnt) != 0)
		g_error("cannot unmount %s: %s", mnt, g_strerror(errno));
	found = scan_image(&needles, image);
	note("the raw ext4 image: %u occurrences of recorded data or the secret", found);
	g_assert_cmpuint(n_files, ==, 0);
	g_assert_cmpuint(found, ==, 0);
}

static void
test_after_no(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *reason = NULL;

	if (g_test_subprocess()) {
		test_raw_disk(fixture);
		return;
	}
	if (can_use_loop_devices(&reason)) {
		g_test_trap_subprocess(NULL, 240 * G_USEC_PER_SEC,
				       G_TEST_SUBPROCESS_INHERIT_STDOUT |
					       G_TEST_SUBPROCESS_INHERIT_STDERR);
		g_test_trap_assert_passed();
		return;
	}
	/* not a skip: the files are still checked, and the note says what
	 * was not */
	g_test_message("NOTE: the raw-device scan did not run (%s): only the files left "
		       "under the state directory and hard links to them were scanned; run "
		       "this test as root with loop devices to scan the disk's freed blocks",
		       reason);
	g_printerr("NOTE: the raw-device scan did not run: %s\n", reason);
	{
		g_autofree char *links = g_build_filename(fixture->harness->tmpdir, "links", NULL);
		Needles needles;

		g_assert_cmpuint(grant_record_deny(fixture, links, &needles), ==, 0);
	}
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/wipe/nothing-after-no", MtestFixture, NULL,
		   mtest_fixture_set_up_no_daemon, test_after_no, mtest_fixture_tear_down);
	return g_test_run();
}
