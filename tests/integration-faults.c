/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): faults
 * around the daemon. An unusable state directory, an unreadable allowlist, a
 * full disk, a read-only file system and a bus that goes away: the daemon
 * keeps serving where it can, says what failed, and loses nothing it
 * acknowledged.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-stack.h"

/* the state directory is unusable (here: a file is in its way): the daemon
 * still starts and answers; saving a consent fails with a clear error */
static void
test_state_dir_unusable(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = NULL;

	g_assert_cmpint(g_rmdir(fixture->harness->state_dir), ==, 0);
	g_assert_true(g_file_set_contents(fixture->harness->state_dir, "in the way", -1, NULL));
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_start_daemon(fixture->harness, NULL);

	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	g_assert_false(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_GRANTED,
						       METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
	g_clear_error(&error);
	g_clear_pointer(&status, g_variant_unref);
	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	g_unlink(fixture->harness->state_dir);
	g_mkdir(fixture->harness->state_dir, 0700);
}

/* the system bus goes away: the daemon stops cleanly (it cannot serve
 * without it) and, once the bus and the daemon are back, everything it had
 * acknowledged is there */
static void
test_bus_restart(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autofree char *socket =
		g_build_filename(fixture->harness->tmpdir, "system_bus_socket", NULL);
	MtestHarness *harness = fixture->harness;

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 3);
	g_clear_object(&recorder);

	g_subprocess_force_exit(harness->bus);
	g_subprocess_wait(harness->bus, NULL, NULL);
	g_clear_object(&harness->bus);
	/* no crash: an orderly exit, whatever its status */
	g_assert_true(g_subprocess_wait(harness->daemon, NULL, NULL));
	g_assert_true(g_subprocess_get_if_exited(harness->daemon));
	g_clear_object(&harness->daemon);
	g_subprocess_force_exit(harness->polkit);
	g_subprocess_wait(harness->polkit, NULL, NULL);
	g_clear_object(&harness->polkit);
	g_clear_object(&harness->connection);
	g_clear_object(&fixture->client);
	g_unlink(socket);

	mtest_harness_start_bus(harness);
	mtest_harness_start_daemon(harness, NULL);
	fixture->client = metrics_client_new(harness->connection);
	aggregates = mtest_get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 3);
	/* 3 values, 3 counter increments of 2, 3 durations */
	g_assert_cmpuint(mtest_status_u64(fixture, "stored-events"), ==, 12);
}

/* starts the daemon with an allowlist it cannot read (a file is where its
 * only directory should be); it drops the events of a batch as
 * not-allowlisted */
static void
start_daemon_without_allowlist(MtestFixture *fixture)
{
	g_autofree char *bogus = g_build_filename(fixture->harness->tmpdir, "not-a-dir", NULL);
	g_autofree char *arg = g_strdup_printf("--allowlist-dir=%s", bogus);
	const char *const args[] = {arg, NULL};
	g_autofree char *saved = g_strdup(g_getenv("MTEST_ALLOWLIST_DIRS"));
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint32 accepted = 99, dropped = 0;

	g_assert_true(g_file_set_contents(bogus, "in the way", -1, NULL));
	g_unsetenv("MTEST_ALLOWLIST_DIRS");
	mtest_harness_start_daemon(fixture->harness, args);
	g_setenv("MTEST_ALLOWLIST_DIRS", saved, TRUE);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", mtest_make_batch(5, 16, "x"),
				   "(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 0);
	g_assert_cmpuint(dropped, ==, 5);
}

/* the allowlist cannot be read (here: a file is where its directory should
 * be): the daemon starts, serves, and drops what it cannot check */
static void
test_allowlist_unreadable(MtestFixture *fixture, gconstpointer user_data)
{
	mtest_harness_write_consent(fixture->harness, "granted");
	start_daemon_without_allowlist(fixture);
	g_assert_cmpuint(mtest_drops_for(fixture, "not-allowlisted"), ==, 5);
	g_assert_cmpuint(mtest_status_u64(fixture, "stored-events"), ==, 0);
}

/* the rest of the test runs in a child process with a mount namespace of
 * its own, so that what it mounts vanishes with it; FALSE in the parent
 * (the test then has passed, failed or been skipped there) */
static gboolean
in_private_mounts(void)
{
	g_autoptr(GError) error = NULL;
	const char *probe[] = {"unshare", "-m", "true", NULL};
	int status = -1;

	if (g_test_subprocess()) {
		g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
		g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
		return TRUE;
	}
	if (geteuid() != 0) {
		g_test_skip("mounting a small or read-only file system needs root (CI runs as "
			    "root); run the integration tests as root to cover this fault");
		return FALSE;
	}
	if (!g_spawn_sync(NULL, (char **)probe, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
			  &status, &error) ||
	    !g_spawn_check_wait_status(status, NULL)) {
		g_test_skip("cannot make a private mount namespace here (unshare -m failed): no "
			    "CAP_SYS_ADMIN in this container");
		return FALSE;
	}
	g_test_trap_subprocess(NULL, 240 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
	return FALSE;
}

static void
mount_tmpfs(const char *dir, const char *size)
{
	g_autofree char *options = g_strdup_printf("size=%s,mode=0700", size);

	g_assert_cmpint(mount("tmpfs", dir, "tmpfs", 0, options), ==, 0);
}

/* the disk is full (a 512 KiB tmpfs as the state directory, filled up):
 * recording fails cleanly or drops and counts, the daemon keeps serving,
 * and once there is room again recording works and what was acknowledged
 * before is intact */
static void
test_disk_full(MtestFixture *fixture, gconstpointer user_data)
{
	static const guint8 chunk[4096] = {0};
	g_autofree char *filler = NULL;
	guint64 n_refused = 0;
	int fd;

	if (!in_private_mounts())
		return;
	mount_tmpfs(fixture->harness->state_dir, "512k");
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, NULL);
	mtest_record_batches(fixture, "before", 5);

	/* fill the file system */
	filler = g_build_filename(fixture->harness->state_dir, "filler", NULL);
	fd = g_open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	g_assert_cmpint(errno, ==, ENOSPC);
	close(fd);

	for (guint i = 0; i < 500 && n_refused == 0; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *value = g_strdup_printf(
			"full-%u-%s", i,
			"a-long-value-to-need-new-pages-a-long-value-to-need-new-pages-a-long-value");
		g_autoptr(GVariant) reply =
			mtest_harness_call(fixture->harness, "RecordEvents",
					   mtest_make_batch(20, 16, value), "(uu)", &error);
		guint32 accepted = 0, dropped = 0;

		if (reply == NULL) {
			/* a clear error of ours, not a crash or a bus error */
			g_autofree char *remote = g_dbus_error_get_remote_error(error);
			g_test_message("refused: %s", error->message);
			g_assert_nonnull(remote);
			g_assert_true(
				g_str_has_prefix(remote, "org.fedoraproject.Metrics1.Error."));
			n_refused += 20;
			continue;
		}
		g_variant_get(reply, "(uu)", &accepted, &dropped);
		n_refused += dropped;
	}
	g_assert_cmpuint(n_refused, >, 0);
	g_assert_cmpuint(mtest_drops_for(fixture, "store-full") +
				 mtest_drops_for(fixture, "store-failed"),
			 >=, n_refused);
	/* still serving, nothing acknowledged lost */
	mtest_assert_batches_intact(fixture, "before", 5);

	/* room again: recording works */
	g_assert_cmpint(g_unlink(filler), ==, 0);
	mtest_record_batches(fixture, "after", 3);
	mtest_assert_batches_intact(fixture, "before", 5);
	mtest_assert_batches_intact(fixture, "after", 3);

	/* and all of it is on disk: it survives a restart */
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	mtest_assert_batches_intact(fixture, "before", 5);
	mtest_assert_batches_intact(fixture, "after", 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_cmpint(umount2(fixture->harness->state_dir, MNT_DETACH), ==, 0);
}

/* the state directory is read-only (a read-only bind mount of it; chmod
 * does not stop root): recording fails with a clear error and is counted,
 * reading what is stored still works */
static void
test_read_only_state_dir(MtestFixture *fixture, gconstpointer user_data)
{
	const char *state_dir;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	if (!in_private_mounts())
		return;
	state_dir = fixture->harness->state_dir;
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	mtest_harness_start_daemon(fixture->harness, NULL);
	mtest_record_batches(fixture, "before", 3);
	/* a file system does not become read-only under open files: it is a
	 * daemon started on a read-only state directory, after a crash */
	mtest_harness_stop_daemon(fixture->harness, TRUE);
	g_assert_cmpint(mount(state_dir, state_dir, NULL, MS_BIND, NULL), ==, 0);
	g_assert_cmpint(mount(NULL, state_dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), ==,
			0);
	g_assert_cmpint(access(state_dir, W_OK), !=, 0);
	mtest_harness_start_daemon(fixture->harness, NULL);

	reply = mtest_harness_call(fixture->harness, "RecordEvents", mtest_make_batch(4, 16, "ro"),
				   "(uu)", &error);
	g_assert_null(reply);
	g_test_message("refused: %s", error->message);
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE);
	g_assert_cmpuint(mtest_drops_for(fixture, "store-failed"), ==, 4);
	/* reading works, nothing lost */
	mtest_assert_batches_intact(fixture, "before", 3);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 3 * 20);

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_cmpint(umount2(state_dir, MNT_DETACH), ==, 0);
	/* writable again: the next daemon records */
	mtest_harness_start_daemon(fixture->harness, NULL);
	mtest_record_batches(fixture, "after", 1);
	mtest_assert_batches_intact(fixture, "before", 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
}

/* the allowlist cannot be read at start-up: new events are dropped, but
 * what was stored before stays, and is there once the allowlist is back */
static void
test_allowlist_unreadable_keeps_data(MtestFixture *fixture, gconstpointer user_data)
{
	mtest_record_batches(fixture, "before", 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	start_daemon_without_allowlist(fixture);
	mtest_assert_batches_intact(fixture, "before", 3);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 3 * 20);

	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	mtest_assert_batches_intact(fixture, "before", 3);
	mtest_record_batches(fixture, "after", 1);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 4 * 20);
}

/* a file is in the way of the state directory at start-up (say, a botched
 * restore): the daemon serves, stores nothing and deletes nothing; once the
 * directory is back, so is everything acknowledged before */
static void
test_state_dir_in_the_way_keeps_data(MtestFixture *fixture, gconstpointer user_data)
{
	const char *state_dir = fixture->harness->state_dir;
	g_autofree char *moved = g_strconcat(state_dir, ".moved", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) status = NULL;
	guint32 accepted = 99;

	mtest_record_batches(fixture, "before", 3);
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	g_assert_cmpint(g_rename(state_dir, moved), ==, 0);
	g_assert_true(g_file_set_contents(state_dir, "in the way", -1, NULL));
	mtest_harness_start_daemon(fixture->harness, NULL);

	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	reply = mtest_harness_call(fixture->harness, "RecordEvents", mtest_make_batch(2, 16, "x"),
				   "(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, NULL);
	g_assert_cmpuint(accepted, ==, 0);
	mtest_harness_stop_daemon(fixture->harness, FALSE);

	g_assert_cmpint(g_unlink(state_dir), ==, 0);
	g_assert_cmpint(g_rename(moved, state_dir), ==, 0);
	mtest_harness_start_daemon(fixture->harness, NULL);
	mtest_assert_batches_intact(fixture, "before", 3);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 3 * 20);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/faults/state-dir-unusable", MtestFixture, NULL,
		   mtest_fixture_set_up_no_daemon, test_state_dir_unusable,
		   mtest_fixture_tear_down);
	g_test_add("/metrics/faults/bus-restart", MtestFixture, NULL, mtest_fixture_set_up,
		   test_bus_restart, mtest_fixture_tear_down);
	g_test_add("/metrics/faults/allowlist-unreadable", MtestFixture, NULL,
		   mtest_fixture_set_up_no_daemon, test_allowlist_unreadable,
		   mtest_fixture_tear_down);
	g_test_add("/metrics/faults/disk-full", MtestFixture, NULL, mtest_fixture_set_up_no_daemon,
		   test_disk_full, mtest_fixture_tear_down);
	g_test_add("/metrics/faults/allowlist-unreadable-keeps-data", MtestFixture, NULL,
		   mtest_fixture_set_up_granted, test_allowlist_unreadable_keeps_data,
		   mtest_fixture_tear_down);
	g_test_add("/metrics/faults/state-dir-in-the-way-keeps-data", MtestFixture, NULL,
		   mtest_fixture_set_up_granted, test_state_dir_in_the_way_keeps_data,
		   mtest_fixture_tear_down);
	g_test_add("/metrics/faults/read-only-state-dir", MtestFixture, NULL,
		   mtest_fixture_set_up_no_daemon, test_read_only_state_dir,
		   mtest_fixture_tear_down);

	return g_test_run();
}
