/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MtestHarness"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-harness.h"

/*
 * Nothing the harness starts may outlive the test process, whatever ends it
 * (a failed assertion, SIGKILL, meson's timeout), and its temporary
 * directory goes with it. Two mechanisms, each enough for the processes:
 *
 * - every child gets PR_SET_PDEATHSIG(SIGKILL) before exec, and joins the
 *   process group of the reaper below;
 * - mtest_harness_new() forks a reaper: a process of its own group that
 *   holds the read end of a pipe. The harness writes REAPER_DONE to it once
 *   it has cleaned up; end of file without that means the test process died.
 *   The reaper then kills every process left in its group (the daemon a bus
 *   activated too), prints the daemon's log to stderr (which meson shows
 *   with --print-errorlogs) and removes the temporary directory.
 *
 * The reaper is forked from a process that may have threads (GDBus, GLib's
 * worker), so it uses plain libc calls only, no GLib.
 */

/* generous: only a hang exceeds it, also under valgrind and sanitizers */
#define WAIT_TIMEOUT (60 * G_USEC_PER_SEC)
/* between two looks of mtest_wait_until() */
#define POLL_INTERVAL_MS 10
#define REAPER_DONE 'd'

/* ---- process groups, in plain libc: the reaper uses them too ---- */

/* the state letter and process group of @pid from /proc; FALSE if gone */
static gboolean
read_proc_stat(pid_t pid, char *state, pid_t *group)
{
	char path[64];
	char buf[1024];
	const char *end;
	ssize_t n;
	int fd, pgrp = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FALSE;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return FALSE;
	buf[n] = '\0';
	/* "pid (comm) S ppid pgrp …"; comm may hold anything, even ')' */
	end = strrchr(buf, ')');
	if (end == NULL || sscanf(end + 1, " %c %*d %d", state, &pgrp) != 2)
		return FALSE;
	*group = pgrp;
	return TRUE;
}

/* sends @signal to every live process of @group but its leader, the
 * reaper; returns how many there were (a zombie has closed its files: it
 * counts as gone) */
static guint
signal_group(pid_t group, int signal)
{
	DIR *dir = opendir("/proc");
	struct dirent *entry;
	guint n = 0;

	if (dir == NULL)
		return 0;
	while ((entry = readdir(dir)) != NULL) {
		pid_t pid = (pid_t)strtol(entry->d_name, NULL, 10);
		pid_t pgrp = 0;
		char state = 0;

		if (pid <= 0 || pid == group || !read_proc_stat(pid, &state, &pgrp))
			continue;
		if (pgrp != group || state == 'Z' || state == 'X')
			continue;
		kill(pid, signal);
		n++;
	}
	closedir(dir);
	return n;
}

static void
pause_briefly(void)
{
	const struct timespec interval = {0, POLL_INTERVAL_MS * 1000000L};

	nanosleep(&interval, NULL);
}

static void
write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		text += n;
		len -= (size_t)n;
	}
}

static void
write_text(int fd, const char *text)
{
	write_all(fd, text, strlen(text));
}

static int
remove_cb(const char *path, const struct stat *buf, int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* the reaper: waits for the test process to die, then cleans up after it */
G_GNUC_NORETURN static void
reaper_main(int lifeline, const char *tmpdir, const char *log_path)
{
	char buf[4096];
	ssize_t n;
	int fd;

	/* a terminal's ^C or meson's SIGTERM to the test's group is for the
	 * test; the reaper finishes its job */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	setpgid(0, 0);
	/* keep stderr (for the log) and the lifeline only: a copy of a bus
	 * connection's socket here would keep the connection open */
	fd = open("/dev/null", O_RDWR);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	if (lifeline != 3)
		dup2(lifeline, 3);
	if (close_range(4, ~0U, 0) != 0) {
		for (int i = 4; i < 4096; i++)
			close(i);
	}

	for (;;) {
		char c = 0;

		n = read(3, &c, 1);
		if (n == 1 && c == REAPER_DONE)
			_exit(0);
		if (n == 1 || (n < 0 && errno == EINTR))
			continue;
		break;
	}

	/* the test process died: its children die with it (PDEATHSIG), but
	 * not what they started; the group holds both */
	for (guint i = 0; i < 5000 / POLL_INTERVAL_MS && signal_group(getpid(), SIGKILL) > 0; i++)
		pause_briefly();

	fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		write_text(STDERR_FILENO, "\n---- the test process died; the daemon's log, ");
		write_text(STDERR_FILENO, log_path);
		write_text(STDERR_FILENO, ":\n");
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			write_all(STDERR_FILENO, buf, (size_t)n);
		write_text(STDERR_FILENO, "---- end of the daemon's log\n");
		close(fd);
	}
	nftw(tmpdir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	_exit(0);
}

static void
start_reaper(MtestHarness *self)
{
	g_autofree char *log_path = g_build_filename(self->tmpdir, "daemon.log", NULL);
	int fds[2];
	pid_t pid;

	g_assert_no_errno(pipe2(fds, O_CLOEXEC));
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		close(fds[1]);
		reaper_main(fds[0], self->tmpdir, log_path);
	}
	close(fds[0]);
	/* as the reaper does: the children join its group at once */
	setpgid(pid, pid);
	self->reaper_pid = pid;
	self->reaper_fd = fds[1];
}

static void
stop_reaper(MtestHarness *self)
{
	const char done = REAPER_DONE;
	int status;

	write_all(self->reaper_fd, &done, 1);
	close(self->reaper_fd);
	while (waitpid(self->reaper_pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* runs in the child between fork and exec */
static void
child_setup_cb(gpointer user_data)
{
	const MtestHarness *self = user_data;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the test process died before the call above */
	if (getppid() != self->test_pid)
		_exit(127);
	setpgid(0, self->reaper_pid);
}

/* whether @pid is a process that has not ended (a zombie has) */
gboolean
mtest_process_running(GPid pid)
{
	pid_t group = 0;
	char state = 0;

	return read_proc_stat(pid, &state, &group) && state != 'Z' && state != 'X';
}

/* ---- waiting ---- */

static gint64
wait_timeout(void)
{
	const char *wrapper = g_getenv("MTEST_DAEMON_WRAPPER");

	/* valgrind makes the daemon some ten times slower */
	return wrapper != NULL && wrapper[0] != '\0' ? 5 * WAIT_TIMEOUT : WAIT_TIMEOUT;
}

static gboolean
set_flag_cb(gpointer user_data)
{
	gboolean *flag = user_data;

	*flag = TRUE;
	return G_SOURCE_REMOVE;
}

/* runs the thread-default main context (replies, signals) for @ms */
static void
iterate_for(guint ms)
{
	g_autoptr(GMainContext) context = g_main_context_ref_thread_default();
	g_autoptr(GSource) source = g_timeout_source_new(ms);
	gboolean fired = FALSE;

	g_source_set_callback(source, set_flag_cb, &fired, NULL);
	g_source_attach(source, context);
	while (!fired)
		g_main_context_iteration(context, TRUE);
}

/* waits until @condition holds, running the main context meanwhile; a
 * test that waits longer than any machine needs has failed */
void
mtest_wait_until(MtestCondition condition, gpointer user_data, const char *what)
{
	gint64 deadline = g_get_monotonic_time() + wait_timeout();

	while (!condition(user_data)) {
		if (g_get_monotonic_time() > deadline)
			g_error("timed out waiting for %s", what);
		iterate_for(POLL_INTERVAL_MS);
	}
}

guint
mtest_count_in(const char *text, const char *needle)
{
	guint n = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- the harness ---- */

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
	self->bus_includes = g_ptr_array_new_with_free_func(g_free);
	self->test_pid = getpid();
	start_reaper(self);
	return self;
}

GSubprocess *
mtest_harness_spawn(MtestHarness *self, GSubprocessLauncher *launcher, const char *const *argv)
{
	g_autoptr(GSubprocessLauncher) own = NULL;
	g_autoptr(GError) error = NULL;
	GSubprocess *process;

	if (launcher == NULL)
		launcher = own = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb, self, NULL);
	process = g_subprocess_launcher_spawnv(launcher, argv, &error);
	g_assert_no_error(error);
	return process;
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

static gboolean
group_empty_cb(gpointer user_data)
{
	MtestHarness *self = user_data;

	return signal_group(self->reaper_pid, SIGTERM) == 0;
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

char *
mtest_harness_read_daemon_log(MtestHarness *self)
{
	g_autofree char *path = g_build_filename(self->tmpdir, "daemon.log", NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

guint
mtest_harness_count_in_daemon_log(MtestHarness *self, const char *needle)
{
	g_autofree char *log = mtest_harness_read_daemon_log(self);

	return mtest_count_in(log, needle);
}

typedef struct {
	const char *path;
	const char *needle;
	guint n;
} FileWait;

static gboolean
file_has_cb(gpointer user_data)
{
	FileWait *wait = user_data;
	g_autofree char *text = NULL;

	return g_file_get_contents(wait->path, &text, NULL, NULL) &&
	       mtest_count_in(text, wait->needle) >= wait->n;
}

/* waits until the file at @path (a log) holds @needle @n times */
void
mtest_wait_for_in_file(const char *path, const char *needle, guint n)
{
	FileWait wait = {path, needle, n};
	g_autofree char *what = g_strdup_printf("“%s” %u times in %s", needle, n, path);

	mtest_wait_until(file_has_cb, &wait, what);
}

/* waits until the daemon has logged @needle @n times (its runs in this
 * harness together) */
void
mtest_harness_wait_for_daemon_log(MtestHarness *self, const char *needle, guint n)
{
	g_autofree char *path = g_build_filename(self->tmpdir, "daemon.log", NULL);

	mtest_wait_for_in_file(path, needle, n);
}

static void
print_daemon_log(MtestHarness *self)
{
	g_autofree char *log = mtest_harness_read_daemon_log(self);

	g_printerr("\n---- the daemon's log:\n%s---- end of the daemon's log\n", log);
}

/* a clean stop must be a clean exit: no crash, and under the sanitizers no
 * leak report (which changes the exit status); the abort prints the log */
static void
stop_daemon_checked(MtestHarness *self)
{
	if (self->daemon == NULL)
		return;
	g_subprocess_send_signal(self->daemon, SIGTERM);
	g_subprocess_wait(self->daemon, NULL, NULL);
	if (!g_subprocess_get_if_exited(self->daemon) ||
	    g_subprocess_get_exit_status(self->daemon) != 0)
		g_error("the daemon did not exit cleanly (status %d)",
			g_subprocess_get_status(self->daemon));
	g_clear_object(&self->daemon);
}

void
mtest_harness_stop_bus(MtestHarness *self)
{
	if (self->connection != NULL)
		g_dbus_connection_close_sync(self->connection, NULL, NULL);
	g_clear_object(&self->connection);
	stop_process(&self->bus, FALSE);
}

void
mtest_harness_free(MtestHarness *self)
{
	/* a failure that did not abort (g_test_fail()) shows the log too */
	if (g_test_failed())
		print_daemon_log(self);
	stop_daemon_checked(self);
	stop_process(&self->polkit, FALSE);
	mtest_harness_stop_bus(self);
	/* what the bus activated loses the bus with it and exits */
	mtest_wait_until(group_empty_cb, self, "the processes the bus started to exit");
	remove_tree(self->tmpdir);
	stop_reaper(self);
	g_ptr_array_unref(self->bus_includes);
	g_strfreev(self->allowed);
	g_free(self->service_exec);
	g_free(self->tmpdir);
	g_free(self->state_dir);
	g_free(self->address);
	g_free(self);
}

/* before mtest_harness_start_bus(): the bus reads @path too (an <include>;
 * as the installed policy, which then passes dbus-daemon's parser) */
void
mtest_harness_add_bus_config(MtestHarness *self, const char *path)
{
	g_ptr_array_add(self->bus_includes, g_strdup(path));
}

/* the daemon's command line, with @extra_args */
static GPtrArray *
daemon_argv(MtestHarness *self, const char *const *extra_args)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	const char *wrapper = g_getenv("MTEST_DAEMON_WRAPPER");
	const char *allowlist_dirs = g_getenv("MTEST_ALLOWLIST_DIRS");

	if (wrapper != NULL && wrapper[0] != '\0') {
		g_auto(GStrv) words = g_strsplit(wrapper, " ", -1);
		for (guint i = 0; words[i] != NULL; i++)
			g_ptr_array_add(argv, g_strdup(words[i]));
	}
	g_ptr_array_add(argv, mtest_harness_build_path("MTEST_DAEMON"));
	g_ptr_array_add(argv, g_strdup_printf("--state-dir=%s", self->state_dir));
	g_ptr_array_add(argv, g_strdup("--verbose"));
	/* the allowlist: shipped files plus the tests' overrides (allowlist.d) */
	if (allowlist_dirs != NULL) {
		g_auto(GStrv) dirs = g_strsplit(allowlist_dirs, ":", -1);
		for (guint i = 0; dirs[i] != NULL; i++)
			g_ptr_array_add(argv, g_strdup_printf("--allowlist-dir=%s", dirs[i]));
	}
	for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(extra_args[i]));
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* before mtest_harness_start_bus(): the bus starts the daemon (with
 * @extra_args) on the first call to its name, as the installed activation
 * file does through systemd; its output goes to the daemon's log too */
void
mtest_harness_set_activatable(MtestHarness *self, const char *const *extra_args)
{
	g_autoptr(GPtrArray) argv = daemon_argv(self, extra_args);
	g_autofree char *log = g_build_filename(self->tmpdir, "daemon.log", NULL);
	g_autoptr(GString) exec = g_string_new("/bin/sh -c 'exec \"$@\" >>\"$0\" 2>&1' ");
	g_autofree char *quoted_log = g_shell_quote(log);

	g_string_append(exec, quoted_log);
	for (guint i = 0; g_ptr_array_index(argv, i) != NULL; i++) {
		g_autofree char *quoted = g_shell_quote(g_ptr_array_index(argv, i));

		g_string_append_printf(exec, " %s", quoted);
	}
	g_free(self->service_exec);
	self->service_exec = g_string_free(g_steal_pointer(&exec), FALSE);
}

void
mtest_write_file(const char *path, const char *contents)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
}

/* the bus's configuration: the tests' open policy, what the test added,
 * and a directory of services to activate */
static char *
write_bus_config(MtestHarness *self)
{
	g_autofree char *base = mtest_harness_build_path("MTEST_BUS_CONFIG");
	g_autofree char *services = g_build_filename(self->tmpdir, "services", NULL);
	g_autoptr(GString) config = g_string_new("<busconfig>\n");
	char *path = g_build_filename(self->tmpdir, "bus.conf", NULL);

	g_string_append_printf(config, "  <include>%s</include>\n", base);
	for (guint i = 0; i < self->bus_includes->len; i++)
		g_string_append_printf(config, "  <include>%s</include>\n",
				       (const char *)g_ptr_array_index(self->bus_includes, i));
	if (self->service_exec != NULL) {
		/* both names the daemon owns start it, as the installed
		 * activation files do */
		const char *const names[] = {METRICS_DBUS_NAME, "com.endlessm.Metrics"};

		g_assert_cmpint(g_mkdir_with_parents(services, 0700), ==, 0);
		for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
			g_autofree char *basename = g_strconcat(names[i], ".service", NULL);
			g_autofree char *file = g_build_filename(services, basename, NULL);
			g_autofree char *service =
				g_strdup_printf("[D-BUS Service]\nName=%s\nExec=%s\n", names[i],
						self->service_exec);

			mtest_write_file(file, service);
		}
		g_string_append_printf(config, "  <servicedir>%s</servicedir>\n", services);
	}
	g_string_append(config, "</busconfig>\n");
	mtest_write_file(path, config->str);
	return path;
}

void
mtest_harness_start_bus(MtestHarness *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *config = write_bus_config(self);
	g_autofree char *socket = g_build_filename(self->tmpdir, "system_bus_socket", NULL);
	g_autofree char *log = g_build_filename(self->tmpdir, "bus.log", NULL);
	g_autofree char *listen = g_strdup_printf("unix:path=%s", socket);
	g_autofree char *config_arg = g_strdup_printf("--config-file=%s", config);
	g_autofree char *address_arg = g_strdup_printf("--address=%s", listen);
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree char *line = NULL;

	g_assert_null(self->bus);
	g_unlink(socket);
	/* what the bus activates finds it through the environment */
	g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", listen, TRUE);
	g_subprocess_launcher_set_stderr_file_path(launcher, log);
	self->bus = mtest_harness_spawn(
		self, launcher,
		(const char *const[]){"dbus-daemon", config_arg, address_arg, "--nofork",
				      "--nopidfile", "--print-address=1", NULL});
	/* the address is printed once the bus listens */
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(self->bus));
	line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	g_free(self->address);
	self->address = g_strdup(g_strstrip(line));
	/* the library, the CLI and the daemon all use the system bus */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", self->address, TRUE);
	g_clear_object(&self->connection);
	self->connection = mtest_harness_connect(self);
}

/* a new connection to the harness's bus, as another client */
GDBusConnection *
mtest_harness_connect(MtestHarness *self)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
		self->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);

	g_assert_no_error(error);
	return connection;
}

/* returns: (transfer full) (nullable): the unique name owning @name */
char *
mtest_harness_get_name_owner(MtestHarness *self, const char *name)
{
	g_autoptr(GVariant) reply = NULL;
	char *owner = NULL;

	reply = g_dbus_connection_call_sync(
		self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "GetNameOwner", g_variant_new("(s)", name),
		G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	if (reply != NULL)
		g_variant_get(reply, "(s)", &owner);
	return owner;
}

typedef struct {
	MtestHarness *harness;
	const char *name;
	gboolean owned;
	GSubprocess *process; /* (nullable) the one that should own it */
} NameWait;

static gboolean
name_as_wanted_cb(gpointer user_data)
{
	NameWait *wait = user_data;
	g_autofree char *owner = mtest_harness_get_name_owner(wait->harness, wait->name);

	if ((owner != NULL) == wait->owned)
		return TRUE;
	if (wait->process != NULL && g_subprocess_get_identifier(wait->process) == NULL)
		g_error("the process that should own %s exited", wait->name);
	return FALSE;
}

static void
wait_for_name(MtestHarness *self, const char *name, gboolean owned, GSubprocess *process)
{
	NameWait wait = {self, name, owned, process};
	g_autofree char *what =
		g_strdup_printf("%s to %s the bus", name, owned ? "appear on" : "leave");

	mtest_wait_until(name_as_wanted_cb, &wait, what);
}

/* waits until @name has an owner (@owned) or none */
void
mtest_harness_wait_for_name(MtestHarness *self, const char *name, gboolean owned)
{
	wait_for_name(self, name, owned, NULL);
}

void
mtest_harness_start_polkit(MtestHarness *self)
{
	g_autofree char *python = mtest_harness_build_path("MTEST_PYTHON");
	g_autofree char *log = g_build_filename(self->tmpdir, "polkit.log", NULL);
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);

	g_subprocess_launcher_set_stdout_file_path(launcher, log);
	self->polkit =
		mtest_harness_spawn(self, launcher,
				    (const char *const[]){python, "-m", "dbusmock", "--system",
							  "--template", "polkitd", NULL});
	wait_for_name(self, "org.freedesktop.PolicyKit1", TRUE, self->polkit);
}

/* calls @method of the polkit mock (dbusmock's polkitd template) */
void
mtest_harness_polkit_mock_call(MtestHarness *self, const char *method, GVariant *args)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_sync(self->connection, "org.freedesktop.PolicyKit1",
					    "/org/freedesktop/PolicyKit1/Authority",
					    "org.freedesktop.DBus.Mock", method, args, NULL,
					    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	g_assert_no_error(error);
}

void
mtest_harness_set_allowed(MtestHarness *self, const char *const *actions)
{
	mtest_harness_polkit_mock_call(self, "SetAllowed", g_variant_new("(^as)", actions));
	g_strfreev(self->allowed);
	self->allowed = g_strdupv((char **)actions);
}

/* GetStatus with everybody's figures (the drops, the uploads, the store's
 * bytes): the read-all action is allowed for that one call, then what the
 * test allowed is put back */
GVariant *
mtest_harness_get_status_all(MtestHarness *self)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) with_read_all = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder options;
	const char *const none[] = {NULL};
	GVariant *status = NULL;

	/* a test that needs no authorisation otherwise may not run the mock */
	if (self->polkit == NULL)
		mtest_harness_start_polkit(self);
	if (self->allowed != NULL)
		g_strv_builder_addv(builder, (const char **)self->allowed);
	g_strv_builder_add(builder, "org.fedoraproject.Metrics1.read-all");
	with_read_all = g_strv_builder_end(builder);
	mtest_harness_polkit_mock_call(self, "SetAllowed", g_variant_new("(^as)", with_read_all));
	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&options, "{sv}", "all", g_variant_new_boolean(TRUE));
	reply = mtest_harness_call(self, "GetStatus", g_variant_new("(a{sv})", &options), "(a{sv})",
				   &error);
	mtest_harness_polkit_mock_call(
		self, "SetAllowed",
		g_variant_new("(^as)",
			      self->allowed != NULL ? (const char *const *)self->allowed : none));
	g_assert_no_error(error);
	g_variant_get(reply, "(@a{sv})", &status);
	return status;
}

void
mtest_harness_start_daemon(MtestHarness *self, const char *const *extra_args)
{
	g_autoptr(GPtrArray) argv = daemon_argv(self, extra_args);
	g_autofree char *log = g_build_filename(self->tmpdir, "daemon.log", NULL);
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	int fd;

	g_assert_null(self->daemon);
	/* append, so the log of every run of the daemon in a test is kept */
	fd = g_open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_subprocess_launcher_take_stdout_fd(launcher, fd);
	self->daemon = mtest_harness_spawn(self, launcher, (const char *const *)argv->pdata);
	wait_for_name(self, METRICS_DBUS_NAME, TRUE, self->daemon);
}

void
mtest_harness_stop_daemon(MtestHarness *self, gboolean kill)
{
	if (kill)
		stop_process(&self->daemon, TRUE);
	else
		stop_daemon_checked(self);
	/* the name is released when the process is gone */
	mtest_harness_wait_for_name(self, METRICS_DBUS_NAME, FALSE);
}

/* before the daemon starts: its --state-dir is @path (such as a directory
 * on a file system the test mounted) instead of one in the temporary
 * directory; the test removes what it leaves there */
void
mtest_harness_set_state_dir(MtestHarness *self, const char *path)
{
	g_assert_null(self->daemon);
	g_assert_null(self->service_exec);
	g_free(self->state_dir);
	self->state_dir = g_strdup(path);
}

void
mtest_harness_write_consent(MtestHarness *self, const char *state)
{
	g_autofree char *path = g_build_filename(self->state_dir, "consent.conf", NULL);
	g_autofree char *contents = g_strdup_printf("[Consent]\nState=%s\nChanged=1\n", state);

	mtest_write_file(path, contents);
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
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autofree char *stdout_buf = NULL;
	g_autofree char *stderr_buf = NULL;

	process = mtest_harness_spawn(self, launcher, argv);
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

/* ---- programs run as another user ---- */

/* copies @src to @dest_dir/@name (its contents, following symlinks) with
 * @mode */
static void
copy_readable(const char *src, const char *dest_dir, const char *name, int mode)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *contents = NULL;
	g_autofree char *dest = g_build_filename(dest_dir, name, NULL);
	gsize len = 0;

	g_file_get_contents(src, &contents, &len, &error);
	g_assert_no_error(error);
	g_file_set_contents_full(dest, contents, (gssize)len, G_FILE_SET_CONTENTS_NONE, mode,
				 &error);
	g_assert_no_error(error);
	/* whatever the umask */
	g_assert_cmpint(g_chmod(dest, mode), ==, 0);
}

/* the directory in the harness's own, open to every user, with copies of
 * the libraries of the build tree (MTEST_LIBDIRS) in lib/ */
static char *
shared_dir(MtestHarness *self)
{
	g_autofree char *dir = g_build_filename(self->tmpdir, "shared", NULL);
	g_autofree char *lib = g_build_filename(dir, "lib", NULL);
	const char *libdirs = g_getenv("MTEST_LIBDIRS");
	g_auto(GStrv) lib_dirs = g_strsplit(libdirs != NULL ? libdirs : "", ":", -1);

	if (g_file_test(dir, G_FILE_TEST_IS_DIR))
		return g_steal_pointer(&dir);
	/* the bus socket is in the harness's directory too */
	g_assert_cmpint(g_chmod(self->tmpdir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(lib, 0755), ==, 0);
	/* whatever the umask */
	g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
	g_assert_cmpint(g_chmod(lib, 0755), ==, 0);
	for (guint i = 0; lib_dirs[i] != NULL; i++) {
		g_autoptr(GDir) d = NULL;
		const char *name;

		if (lib_dirs[i][0] == '\0')
			continue;
		d = g_dir_open(lib_dirs[i], 0, NULL);
		g_assert_nonnull(d);
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *src = g_build_filename(lib_dirs[i], name, NULL);

			if (g_str_has_prefix(name, "lib") && strstr(name, ".so") != NULL &&
			    g_file_test(src, G_FILE_TEST_IS_REGULAR))
				copy_readable(src, lib, name, 0644);
		}
	}
	return g_steal_pointer(&dir);
}

/* @value of a sanitizer's options (ASAN_OPTIONS...) with the suppression
 * files it names copied to @dir */
static char *
share_sanitizer_options(const char *value, const char *dir)
{
	g_auto(GStrv) options = g_strsplit(value, ":", -1);

	for (guint i = 0; options[i] != NULL; i++) {
		g_autofree char *name = NULL;
		g_autofree char *copy = NULL;

		if (!g_str_has_prefix(options[i], "suppressions="))
			continue;
		name = g_path_get_basename(options[i] + strlen("suppressions="));
		copy_readable(options[i] + strlen("suppressions="), dir, name, 0644);
		copy = g_build_filename(dir, name, NULL);
		g_free(options[i]);
		options[i] = g_strconcat("suppressions=", copy, NULL);
	}
	return g_strjoinv(":", options);
}

/*
 * The command line that runs @argv as @uid (and its gid): argv[0], a
 * program of the build tree, and the build tree's libraries are copied
 * where any user may read them, in the harness's directory (which goes with
 * the harness). The build tree may be closed to other users: a clone in
 * /root is, as root's home is 0700. The program runs from that directory,
 * with the copies of the sanitizers' suppression files and its coverage
 * data there too.
 */
GPtrArray *
mtest_harness_argv_as_user(MtestHarness *self, guint uid, const char *const *argv)
{
	static const char *const sanitizer_vars[] = {"ASAN_OPTIONS", "LSAN_OPTIONS",
						     "UBSAN_OPTIONS"};
	g_autofree char *dir = shared_dir(self);
	g_autofree char *name = g_path_get_basename(argv[0]);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	copy_readable(argv[0], dir, name, 0755);
	g_ptr_array_add(out, g_strdup("setpriv"));
	g_ptr_array_add(out, g_strdup_printf("--reuid=%u", uid));
	g_ptr_array_add(out, g_strdup_printf("--regid=%u", uid));
	g_ptr_array_add(out, g_strdup("--clear-groups"));
	g_ptr_array_add(out, g_strdup("env"));
	g_ptr_array_add(out, g_strdup_printf("--chdir=%s", dir));
	g_ptr_array_add(out, g_strdup_printf("LD_LIBRARY_PATH=%s/lib", dir));
	g_ptr_array_add(out, g_strdup_printf("GCOV_PREFIX=%s/gcov", dir));
	for (guint i = 0; i < G_N_ELEMENTS(sanitizer_vars); i++) {
		const char *value = g_getenv(sanitizer_vars[i]);
		g_autofree char *shared = NULL;

		if (value == NULL)
			continue;
		shared = share_sanitizer_options(value, dir);
		g_ptr_array_add(out, g_strdup_printf("%s=%s", sanitizer_vars[i], shared));
	}
	g_ptr_array_add(out, g_build_filename(dir, name, NULL));
	for (guint i = 1; argv[i] != NULL; i++)
		g_ptr_array_add(out, g_strdup(argv[i]));
	g_ptr_array_add(out, NULL);
	return out;
}
