/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MtestHarness"

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>

#include "metrics-private.h"
#include "mtest-harness.h"

/* generous: only a hang exceeds it, also under valgrind and sanitizers */
#define WAIT_TIMEOUT (60 * G_USEC_PER_SEC)

char *
mtest_harness_build_path(const char *env_var)
{
	const char *value = g_getenv(env_var);

	if (value == NULL)
		g_error("%s is not set; run the tests with meson test", env_var);
	return g_strdup(value);
}

MtestHarness *
mtest_harness_new(void)
{
	MtestHarness *self = g_new0(MtestHarness, 1);
	g_autoptr(GError) error = NULL;

	self->tmpdir = g_dir_make_tmp("metrics-test-XXXXXX", &error);
	g_assert_no_error(error);
	self->state_dir = g_build_filename(self->tmpdir, "state", NULL);
	g_assert_cmpint(g_mkdir(self->state_dir, 0700), ==, 0);
	return self;
}

static void
stop_process(GSubprocess **process, gboolean kill)
{
	if (*process == NULL)
		return;
	if (kill)
		g_subprocess_force_exit(*process);
	else
		g_subprocess_send_signal(*process, SIGTERM);
	g_subprocess_wait(*process, NULL, NULL);
	g_clear_object(process);
}

static void
remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			remove_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

/* a clean stop must be a clean exit: no crash, and under the sanitizers no
 * leak report (which changes the exit status) */
static void
stop_daemon_checked(MtestHarness *self)
{
	if (self->daemon == NULL)
		return;
	g_subprocess_send_signal(self->daemon, SIGTERM);
	g_subprocess_wait(self->daemon, NULL, NULL);
	if (!g_subprocess_get_if_exited(self->daemon) ||
	    g_subprocess_get_exit_status(self->daemon) != 0) {
		g_autofree char *log = g_build_filename(self->tmpdir, "daemon.log", NULL);
		g_autofree char *text = NULL;

		g_file_get_contents(log, &text, NULL, NULL);
		g_printerr("daemon log:\n%s\n", text != NULL ? text : "(none)");
		g_error("the daemon did not exit cleanly (status %d)",
			g_subprocess_get_status(self->daemon));
	}
	g_clear_object(&self->daemon);
}

void
mtest_harness_free(MtestHarness *self)
{
	stop_daemon_checked(self);
	if (self->connection != NULL)
		g_dbus_connection_close_sync(self->connection, NULL, NULL);
	g_clear_object(&self->connection);
	stop_process(&self->polkit, FALSE);
	stop_process(&self->bus, FALSE);
	remove_tree(self->tmpdir);
	g_free(self->tmpdir);
	g_free(self->state_dir);
	g_free(self->address);
	g_free(self);
}

void
mtest_harness_start_bus(MtestHarness *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *config = mtest_harness_build_path("MTEST_BUS_CONFIG");
	g_autofree char *socket = g_build_filename(self->tmpdir, "system_bus_socket", NULL);
	g_autofree char *listen = g_strdup_printf("unix:path=%s", socket);
	g_autofree char *config_arg = g_strdup_printf("--config-file=%s", config);
	g_autofree char *address_arg = g_strdup_printf("--address=%s", listen);
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree char *line = NULL;

	self->bus =
		g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
				 &error, "dbus-daemon", config_arg, address_arg, "--nofork",
				 "--nopidfile", "--print-address=1", NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(self->bus));
	line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	g_free(self->address);
	self->address = g_strdup(g_strstrip(line));
	/* the library, the CLI and the daemon all use the system bus */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", self->address, TRUE);

	self->connection = g_dbus_connection_new_for_address_sync(
		self->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
}

static gboolean
name_has_owner(MtestHarness *self, const char *name)
{
	g_autoptr(GVariant) reply = NULL;
	gboolean has_owner = FALSE;

	reply = g_dbus_connection_call_sync(
		self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "NameHasOwner", g_variant_new("(s)", name),
		G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	if (reply != NULL)
		g_variant_get(reply, "(b)", &has_owner);
	return has_owner;
}

static void
wait_for_name(MtestHarness *self, const char *name, GSubprocess *process)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_TIMEOUT;

	while (!name_has_owner(self, name)) {
		if (process != NULL && g_subprocess_get_identifier(process) == NULL)
			g_error("the process that should own %s exited", name);
		if (g_get_monotonic_time() > deadline)
			g_error("%s did not appear on the bus", name);
		g_usleep(20000);
	}
}

void
mtest_harness_start_polkit(MtestHarness *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *python = mtest_harness_build_path("MTEST_PYTHON");
	g_autofree char *log = g_build_filename(self->tmpdir, "polkit.log", NULL);
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);

	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	self->polkit = g_subprocess_launcher_spawn(launcher, &error, python, "-m", "dbusmock",
						   "--system", "--template", "polkitd", NULL);
	g_assert_no_error(error);
	wait_for_name(self, "org.freedesktop.PolicyKit1", self->polkit);
}

void
mtest_harness_set_allowed(MtestHarness *self, const char *const *actions)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_sync(
		self->connection, "org.freedesktop.PolicyKit1",
		"/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock", "SetAllowed",
		g_variant_new("(^as)", actions), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	g_assert_no_error(error);
}

void
mtest_harness_start_daemon(MtestHarness *self, const char *const *extra_args)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *log = g_build_filename(self->tmpdir, "daemon.log", NULL);
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	const char *wrapper = g_getenv("MTEST_DAEMON_WRAPPER");

	g_assert_null(self->daemon);
	if (wrapper != NULL && wrapper[0] != '\0') {
		g_auto(GStrv) words = g_strsplit(wrapper, " ", -1);
		for (guint i = 0; words[i] != NULL; i++)
			g_ptr_array_add(argv, g_strdup(words[i]));
	}
	g_ptr_array_add(argv, mtest_harness_build_path("MTEST_DAEMON"));
	g_ptr_array_add(argv, g_strdup_printf("--state-dir=%s", self->state_dir));
	g_ptr_array_add(argv, g_strdup("--verbose"));
	/* the allowlist: shipped files plus the tests' overrides (allowlist.d) */
	if (g_getenv("MTEST_ALLOWLIST_DIRS") != NULL) {
		g_auto(GStrv) dirs = g_strsplit(g_getenv("MTEST_ALLOWLIST_DIRS"), ":", -1);
		for (guint i = 0; dirs[i] != NULL; i++)
			g_ptr_array_add(argv, g_strdup_printf("--allowlist-dir=%s", dirs[i]));
	}
	for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(extra_args[i]));
	g_ptr_array_add(argv, NULL);

	/* append, so the log of every run of the daemon in a test is kept */
	g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_subprocess_launcher_set_stdout_file_path(launcher, NULL);
	{
		int fd = g_open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		g_assert_cmpint(fd, >=, 0);
		g_subprocess_launcher_take_stdout_fd(launcher, fd);
	}
	self->daemon =
		g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
	g_assert_no_error(error);
	wait_for_name(self, METRICS_DBUS_NAME, self->daemon);
}

void
mtest_harness_stop_daemon(MtestHarness *self, gboolean kill)
{
	if (kill)
		stop_process(&self->daemon, TRUE);
	else
		stop_daemon_checked(self);
	/* the name is released when the process is gone */
	while (name_has_owner(self, METRICS_DBUS_NAME))
		g_usleep(10000);
}

void
mtest_harness_write_consent(MtestHarness *self, const char *state)
{
	g_autofree char *path = g_build_filename(self->state_dir, "consent.conf", NULL);
	g_autofree char *contents = g_strdup_printf("[Consent]\nState=%s\nChanged=1\n", state);

	g_assert_true(g_file_set_contents(path, contents, -1, NULL));
}

GVariant *
mtest_harness_call(MtestHarness *self,
		   const char *method,
		   GVariant *parameters,
		   const char *reply_type,
		   GError **error)
{
	return g_dbus_connection_call_sync(self->connection, METRICS_DBUS_NAME, METRICS_DBUS_PATH,
					   METRICS_DBUS_INTERFACE, method, parameters,
					   reply_type != NULL ? G_VARIANT_TYPE(reply_type) : NULL,
					   G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
}

/* runs a program to its end; returns its exit status */
int
mtest_harness_run(MtestHarness *self, const char *const *argv, char **out, char **err)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) process = NULL;
	g_autofree char *stdout_buf = NULL;
	g_autofree char *stderr_buf = NULL;

	process = g_subprocess_newv(
		argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(process, NULL, NULL, &stdout_buf, &stderr_buf, &error);
	g_assert_no_error(error);
	if (out != NULL)
		*out = g_steal_pointer(&stdout_buf);
	if (err != NULL)
		*err = g_steal_pointer(&stderr_buf);
	return g_subprocess_get_if_exited(process) ? g_subprocess_get_exit_status(process) : -1;
}

/* runs the built metrics-cli (MTEST_CLI) with @args; logs what it said */
int
mtest_harness_run_cli(MtestHarness *self, const char *const *args, char **out, char **err)
{
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out_local = NULL;
	g_autofree char *err_local = NULL;
	int status;

	g_ptr_array_add(argv, cli);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	status = mtest_harness_run(self, (const char *const *)argv->pdata, &out_local, &err_local);
	g_test_message("metrics-cli %s: status %d\n%s%s", args[0] != NULL ? args[0] : "", status,
		       out_local, err_local);
	if (out != NULL)
		*out = g_steal_pointer(&out_local);
	if (err != NULL)
		*err = g_steal_pointer(&err_local);
	return status;
}

static gboolean
tree_contains(const char *path, const char *marker)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);
		g_autofree char *contents = NULL;
		gsize len = 0;

		if (g_file_test(child, G_FILE_TEST_IS_DIR)) {
			if (tree_contains(child, marker))
				return TRUE;
			continue;
		}
		if (!g_file_get_contents(child, &contents, &len, NULL))
			continue;
		if (memmem(contents, len, marker, strlen(marker)) != NULL)
			return TRUE;
	}
	return FALSE;
}

/* searches every byte of every file under the state directory */
gboolean
mtest_harness_state_contains(MtestHarness *self, const char *marker)
{
	return tree_contains(self->state_dir, marker);
}

guint
mtest_harness_count_state_files(MtestHarness *self)
{
	g_autoptr(GDir) dir = g_dir_open(self->state_dir, 0, NULL);
	guint n = 0;

	while (dir != NULL && g_dir_read_name(dir) != NULL)
		n++;
	return n;
}
