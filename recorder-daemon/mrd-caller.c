/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdCaller"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "metrics-error.h"
#include "mrd-caller.h"

/*
 * Who is calling, and how much: the Unix uid of a bus peer, asked of the bus
 * itself and never taken from arguments; a token bucket that limits how
 * many events per second one client may record, another for its calls of
 * any method, and a cap on its polkit checks in flight. State is kept per
 * unique name and forgotten when that name leaves the bus, so per-client
 * state dies with the client and the table stays as small as the set of
 * connected clients.
 *
 * The identity adds the app id of a sandboxed (Flatpak) caller, read from
 * the /.flatpak-info that flatpak puts at the root of the sandbox, through
 * /proc/PID/root of the process the bus names (docs/sandboxed-apps.md).
 * Any failure there means "no verified app id", never an error of the call.
 */

typedef struct {
	gboolean has_uid;
	guint32 uid;
	gboolean has_identity; /* app_id is known, possibly NULL */
	char *app_id;	       /* (owned) (nullable) verified app id */
	double tokens;	       /* events this client may still send now */
	gint64 refilled;       /* monotonic usec of the last refill */
	double call_tokens;    /* calls this client may still make now */
	gint64 call_refilled;  /* monotonic usec of the last refill */
	guint n_pending_checks;
} MrdClient;

struct _MrdCallerRegistry {
	GObject parent_instance;
	GDBusConnection *connection; /* (owned) */
	GHashTable *clients;	     /* (owned) unique name → MrdClient */
	guint name_owner_changed_id;
	guint events_per_second;   /* 0: unlimited */
	guint calls_per_second;	   /* 0: unlimited */
	guint max_pending_checks;  /* 0: unlimited */
	MrdCallerUidFunc uid_func; /* (nullable) replaces asking the bus */
	gpointer uid_func_data;
};

static void
mrd_client_free(gpointer data)
{
	MrdClient *client = data;

	g_free(client->app_id);
	g_free(client);
}

static MrdClient *
mrd_caller_registry_lookup(MrdCallerRegistry *self, const char *sender)
{
	MrdClient *client = g_hash_table_lookup(self->clients, sender);

	if (client == NULL) {
		client = g_new0(MrdClient, 1);
		/* full, and refilled from the first time it is used */
		client->tokens = 2.0 * self->events_per_second;
		client->call_tokens = 2.0 * self->calls_per_second;
		g_hash_table_insert(self->clients, g_strdup(sender), client);
	}
	return client;
}

/* a bucket of twice the rate, refilled at the rate: bursts of up to two
 * seconds' worth are fine, a flood is cut to the rate */
static void
bucket_refill(double *tokens, gint64 *refilled, guint rate, gint64 now)
{
	if (*refilled == 0)
		*refilled = now;
	if (now <= *refilled)
		return;
	*tokens = MIN(2.0 * rate, *tokens + (double)(now - *refilled) * rate / G_USEC_PER_SEC);
	*refilled = now;
}

guint
mrd_caller_registry_take_events(MrdCallerRegistry *self, const char *sender, guint n, gint64 now)
{
	MrdClient *client;
	guint allowed;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), 0);
	g_return_val_if_fail(sender != NULL, 0);

	if (self->events_per_second == 0)
		return n;
	client = mrd_caller_registry_lookup(self, sender);
	bucket_refill(&client->tokens, &client->refilled, self->events_per_second, now);
	allowed = (guint)MIN((double)n, client->tokens);
	client->tokens -= allowed;
	return allowed;
}

/* one call of any method: FALSE if @sender is over its call rate */
gboolean
mrd_caller_registry_take_call(MrdCallerRegistry *self, const char *sender, gint64 now)
{
	MrdClient *client;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), FALSE);
	g_return_val_if_fail(sender != NULL, FALSE);

	client = mrd_caller_registry_lookup(self, sender);
	if (self->calls_per_second == 0)
		return TRUE;
	bucket_refill(&client->call_tokens, &client->call_refilled, self->calls_per_second, now);
	if (client->call_tokens < 1.0)
		return FALSE;
	client->call_tokens -= 1.0;
	return TRUE;
}

/* a polkit check for @sender starts: FALSE if it already has as many in
 * flight as allowed (each one costs polkit work and daemon memory) */
gboolean
mrd_caller_registry_begin_check(MrdCallerRegistry *self, const char *sender)
{
	MrdClient *client;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), FALSE);
	g_return_val_if_fail(sender != NULL, FALSE);

	client = mrd_caller_registry_lookup(self, sender);
	if (self->max_pending_checks != 0 && client->n_pending_checks >= self->max_pending_checks)
		return FALSE;
	client->n_pending_checks++;
	return TRUE;
}

void
mrd_caller_registry_end_check(MrdCallerRegistry *self, const char *sender)
{
	MrdClient *client;

	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	g_return_if_fail(sender != NULL);

	/* the client may have left meanwhile: then it is forgotten already,
	 * and must not be brought back */
	client = g_hash_table_lookup(self->clients, sender);
	if (client != NULL && client->n_pending_checks > 0)
		client->n_pending_checks--;
}

/* calls per second one client may make (0: no limit) and polkit checks it
 * may have in flight (0: no limit) */
void
mrd_caller_registry_set_call_limit(MrdCallerRegistry *self,
				   guint calls_per_second,
				   guint max_pending_checks)
{
	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	self->calls_per_second = calls_per_second;
	self->max_pending_checks = max_pending_checks;
}

/* replaces asking the bus for a caller's uid; for tests */
void
mrd_caller_registry_set_uid_func(MrdCallerRegistry *self, MrdCallerUidFunc func, gpointer user_data)
{
	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	self->uid_func = func;
	self->uid_func_data = user_data;
}

void
mrd_caller_registry_set_rate_limit(MrdCallerRegistry *self, guint events_per_second)
{
	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	self->events_per_second = events_per_second;
}

G_DEFINE_TYPE(MrdCallerRegistry, mrd_caller_registry, G_TYPE_OBJECT)

static void
name_owner_changed_cb(GDBusConnection *connection,
		      const char *sender_name,
		      const char *object_path,
		      const char *interface_name,
		      const char *signal_name,
		      GVariant *parameters,
		      gpointer user_data)
{
	MrdCallerRegistry *self = MRD_CALLER_REGISTRY(user_data);
	const char *name = NULL;
	const char *new_owner = NULL;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)")))
		return;
	g_variant_get(parameters, "(&s&s&s)", &name, NULL, &new_owner);
	if (name[0] == ':' && new_owner[0] == '\0')
		g_hash_table_remove(self->clients, name);
}

MrdCallerRegistry *
mrd_caller_registry_new(GDBusConnection *connection)
{
	MrdCallerRegistry *self = g_object_new(MRD_TYPE_CALLER_REGISTRY, NULL);

	self->connection = g_object_ref(connection);
	self->name_owner_changed_id = g_dbus_connection_signal_subscribe(
		connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
		"/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, name_owner_changed_cb,
		self, NULL);
	return self;
}

static void
get_uid_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	MrdCallerRegistry *self = g_task_get_source_object(task);
	const char *sender = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	MrdClient *client;
	guint32 uid = 0;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	if (reply == NULL) {
		g_task_return_new_error(task, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED,
					_("Cannot identify the caller: %s"), error->message);
		return;
	}
	g_variant_get(reply, "(u)", &uid);
	client = mrd_caller_registry_lookup(self, sender);
	client->has_uid = TRUE;
	client->uid = uid;
	g_task_return_int(task, uid);
}

void
mrd_caller_registry_get_uid_async(MrdCallerRegistry *self,
				  const char *sender,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	MrdClient *client;

	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	g_return_if_fail(sender != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, mrd_caller_registry_get_uid_async);
	client = g_hash_table_lookup(self->clients, sender);
	if (client != NULL && client->has_uid) {
		g_task_return_int(task, client->uid);
		return;
	}
	if (self->uid_func != NULL) {
		guint32 uid = 0;

		if (!self->uid_func(sender, &uid, self->uid_func_data)) {
			g_task_return_new_error(task, METRICS_ERROR,
						METRICS_ERROR_PERMISSION_DENIED,
						_("Cannot identify the caller %s"), sender);
			return;
		}
		client = mrd_caller_registry_lookup(self, sender);
		client->has_uid = TRUE;
		client->uid = uid;
		g_task_return_int(task, uid);
		return;
	}
	g_task_set_task_data(task, g_strdup(sender), g_free);
	g_dbus_connection_call(self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetConnectionUnixUser",
			       g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE, -1, cancellable, get_uid_cb,
			       g_steal_pointer(&task));
}

gboolean
mrd_caller_registry_get_uid_finish(MrdCallerRegistry *self,
				   GAsyncResult *result,
				   guint32 *uid,
				   GError **error)
{
	gssize value;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	value = g_task_propagate_int(G_TASK(result), error);
	if (value < 0)
		return FALSE;
	*uid = (guint32)value;
	return TRUE;
}

/* ---- the identity: uid and, for a Flatpak app, its app id ---- */

/* a file descriptor closed when it goes out of scope (GLib 2.74 has no
 * g_autofd yet) */
typedef int MrdFd;

static void
mrd_fd_clear(MrdFd *fd)
{
	if (*fd >= 0)
		g_close(*fd, NULL);
	*fd = -1;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(MrdFd, mrd_fd_clear)

/* the rules flatpak gives app ids: three or more elements of
 * [A-Za-z0-9_-] separated by dots, none empty, none starting with a digit,
 * '-' only in the last one, at most 255 characters */
static gboolean
app_id_is_valid(const char *id)
{
	g_auto(GStrv) elements = NULL;
	guint n;

	if (strlen(id) == 0 || strlen(id) > 255)
		return FALSE;
	elements = g_strsplit(id, ".", -1);
	n = g_strv_length(elements);
	if (n < 3)
		return FALSE;
	for (guint i = 0; i < n; i++) {
		const char *element = elements[i];

		if (element[0] == '\0' || g_ascii_isdigit(element[0]))
			return FALSE;
		for (const char *c = element; *c != '\0'; c++) {
			if (g_ascii_isalnum(*c) || *c == '_')
				continue;
			if (*c == '-' && i == n - 1)
				continue;
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * mrd_caller_parse_flatpak_info:
 * @contents: the bytes of a /.flatpak-info file
 * @length: their length
 *
 * The app id in a flatpak instance's metadata: `[Application] name=`. A
 * runtime run on its own (a `[Runtime]` group) is not an app.
 *
 * Returns: (transfer full): the app id, or %NULL with @error set
 */
char *
mrd_caller_parse_flatpak_info(const char *contents, gsize length, GError **error)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autofree char *name = NULL;

	g_return_val_if_fail(contents != NULL || length == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (length > MRD_FLATPAK_INFO_MAX_SIZE) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "flatpak-info of %" G_GSIZE_FORMAT " bytes is too large", length);
		return NULL;
	}
	if (memchr(contents, '\0', length) != NULL) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "flatpak-info holds a NUL byte");
		return NULL;
	}
	if (!g_key_file_load_from_data(keyfile, contents, length, G_KEY_FILE_NONE, error))
		return NULL;
	if (g_key_file_has_group(keyfile, "Runtime")) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    "flatpak-info describes a runtime, not an app");
		return NULL;
	}
	name = g_key_file_get_string(keyfile, "Application", "name", error);
	if (name == NULL)
		return NULL;
	if (!app_id_is_valid(name)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "flatpak-info names an invalid app id");
		return NULL;
	}
	return g_steal_pointer(&name);
}

/* the pid a pidfd refers to, from /proc/self/fdinfo: 0 when the process
 * has exited (the kernel says -1) or the kernel does not say */
static guint32
pidfd_get_pid(int pidfd)
{
	g_autofree char *path = g_strdup_printf("/proc/self/fdinfo/%d", pidfd);
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return 0;
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		guint64 pid = 0;

		if (!g_str_has_prefix(lines[i], "Pid:"))
			continue;
		if (!g_ascii_string_to_unsigned(g_strstrip(lines[i] + strlen("Pid:")), 10, 1,
						G_MAXUINT32, &pid, NULL))
			return 0;
		return (guint32)pid;
	}
	return 0;
}

/* reads at most @max bytes of @fd; more is an error */
static char *
read_bounded(int fd, gsize max, gsize *length, GError **error)
{
	g_autofree char *buffer = g_malloc(max + 1);
	gsize n = 0;

	while (n <= max) {
		gssize r = read(fd, buffer + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
				    "cannot read: %s", g_strerror(saved));
			return NULL;
		}
		if (r == 0)
			break;
		n += (gsize)r;
	}
	if (n > max) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "more than %" G_GSIZE_FORMAT " bytes", max);
		return NULL;
	}
	buffer[n] = '\0';
	*length = n;
	return g_steal_pointer(&buffer);
}

/* field 22 of /proc/PID/stat, the start time in clock ticks since boot,
 * read through a directory fd of /proc/PID; 0 on failure */
static guint64
proc_start_time(int pid_dirfd)
{
	g_auto(MrdFd) fd = openat(pid_dirfd, "stat", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	g_autofree char *contents = NULL;
	g_auto(GStrv) fields = NULL;
	const char *after_comm;
	gsize length = 0;
	guint64 start = 0;

	if (fd < 0)
		return 0;
	contents = read_bounded(fd, 4096, &length, NULL);
	if (contents == NULL)
		return 0;
	/* the command name is in parentheses and may hold spaces and ')' */
	after_comm = strrchr(contents, ')');
	if (after_comm == NULL)
		return 0;
	/* fields 3, 4, … follow; the start time is field 22 */
	fields = g_strsplit(after_comm + 1, " ", -1);
	if (g_strv_length(fields) < 21 ||
	    !g_ascii_string_to_unsigned(fields[20], 10, 1, G_MAXUINT64, &start, NULL))
		return 0;
	return start;
}

/**
 * mrd_caller_read_app_id:
 * @pidfd: a pidfd of the caller's process, or -1
 * @pid: its pid as the bus tells it, or 0
 *
 * Reads the verified app id of a Flatpak process: the `[Application]
 * name` of /proc/PID/root/.flatpak-info. The process is pinned by @pidfd
 * when there is one: it must still be alive with the same pid after the
 * file is read, so a pid reused meanwhile cannot answer for it. Without a
 * pidfd, the process's start time must be the same before and after.
 * The file must be a regular file (not followed if a symbolic link, not
 * waited on if a pipe) of at most %MRD_FLATPAK_INFO_MAX_SIZE bytes, and
 * the root must not be a FUSE file system, which the caller could serve
 * itself and make the read hang.
 *
 * Returns: (transfer full): the app id; %NULL with @error set if the
 *   process is not sandboxed or anything fails: never a guess
 */
char *
mrd_caller_read_app_id(int pidfd, guint32 pid, GError **error)
{
	g_autofree char *pid_name = NULL;
	g_auto(MrdFd) proc_fd = -1;
	g_auto(MrdFd) pid_fd = -1;
	g_auto(MrdFd) root_fd = -1;
	g_auto(MrdFd) info_fd = -1;
	g_autofree char *contents = NULL;
	g_autofree char *app_id = NULL;
	struct statfs fs;
	struct stat st;
	guint64 started = 0;
	gsize length = 0;

	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (pidfd >= 0) {
		guint32 pinned = pidfd_get_pid(pidfd);

		if (pinned == 0 || (pid != 0 && pinned != pid)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    "the caller's process is gone or not process %u", pid);
			return NULL;
		}
		pid = pinned;
	}
	if (pid == 0) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    "the bus gives no process for the caller");
		return NULL;
	}

	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (proc_fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			    "cannot open /proc: %s", g_strerror(saved));
		return NULL;
	}
	/* a directory fd of /proc/PID stays bound to that process: once it
	 * exits, everything opened through it fails, even if the pid is reused */
	pid_name = g_strdup_printf("%u", pid);
	pid_fd = openat(proc_fd, pid_name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (pid_fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			    "cannot open /proc/%u: %s", pid, g_strerror(saved));
		return NULL;
	}
	/* with a pidfd, the directory is the pinned process's if the process
	 * is still alive with that pid now that the directory is open */
	if (pidfd >= 0 && pidfd_get_pid(pidfd) != pid) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "process %u exited while it was looked up", pid);
		return NULL;
	}
	started = proc_start_time(pid_fd);
	if (started == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "cannot read the start time of process %u", pid);
		return NULL;
	}

	/* "root" is a magic link to the process's root directory: following
	 * it is the point; what is below it is not followed */
	root_fd = openat(pid_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			    "cannot open the root of process %u: %s", pid, g_strerror(saved));
		return NULL;
	}
	if (fstatfs(root_fd, &fs) != 0 || fs.f_type == 0x65735546 /* FUSE_SUPER_MAGIC */) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "the root of process %u is on FUSE or unknown", pid);
		return NULL;
	}
	info_fd = openat(root_fd, ".flatpak-info",
			 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (info_fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			    "process %u has no /.flatpak-info: %s", pid, g_strerror(saved));
		return NULL;
	}
	if (fstat(info_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "the /.flatpak-info of process %u is not a regular file", pid);
		return NULL;
	}
	contents = read_bounded(info_fd, MRD_FLATPAK_INFO_MAX_SIZE, &length, error);
	if (contents == NULL) {
		g_prefix_error(error, "the /.flatpak-info of process %u: ", pid);
		return NULL;
	}

	/* the same process all along: alive, same pid, same start */
	if ((pidfd >= 0 && pidfd_get_pid(pidfd) != pid) || proc_start_time(pid_fd) != started) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "process %u exited while it was looked up", pid);
		return NULL;
	}
	app_id = mrd_caller_parse_flatpak_info(contents, length, error);
	if (app_id == NULL) {
		g_prefix_error(error, "the /.flatpak-info of process %u: ", pid);
		return NULL;
	}
	return g_steal_pointer(&app_id);
}

typedef struct {
	char *sender; /* (owned) */
	guint32 uid;
	guint32 pid;  /* 0: unknown */
	int pidfd;    /* (owned) -1: none */
	char *app_id; /* (owned) (nullable) the thread's result */
} IdentityData;

static void
identity_data_free(gpointer user_data)
{
	IdentityData *data = user_data;

	g_free(data->sender);
	if (data->pidfd >= 0)
		g_close(data->pidfd, NULL);
	g_free(data->app_id);
	g_free(data);
}

typedef struct {
	guint32 uid;
	char *app_id; /* (owned) (nullable) */
} Identity;

static void
identity_free(gpointer user_data)
{
	Identity *identity = user_data;

	g_free(identity->app_id);
	g_free(identity);
}

static void
return_identity(GTask *task, guint32 uid, const char *app_id)
{
	Identity *identity = g_new0(Identity, 1);

	identity->uid = uid;
	identity->app_id = g_strdup(app_id);
	g_task_return_pointer(task, identity, identity_free);
}

static void
remember_identity(MrdCallerRegistry *self, const char *sender, guint32 uid, const char *app_id)
{
	MrdClient *client = mrd_caller_registry_lookup(self, sender);

	client->has_uid = TRUE;
	client->uid = uid;
	client->has_identity = TRUE;
	g_free(client->app_id);
	client->app_id = g_strdup(app_id);
}

/* in a worker thread: the reads of /proc may block (a root on a network
 * file system), and the daemon's handlers must not */
static void
read_app_id_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	IdentityData *data = task_data;
	g_autoptr(GError) error = NULL;

	data->app_id = mrd_caller_read_app_id(data->pidfd, data->pid, &error);
	if (data->app_id == NULL)
		g_debug("caller %s has no verified app id: %s", data->sender, error->message);
	g_task_return_boolean(task, TRUE);
}

static void
read_app_id_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	MrdCallerRegistry *self = g_task_get_source_object(task);
	IdentityData *data = g_task_get_task_data(G_TASK(result));

	/* a caller that left meanwhile is forgotten already, and is not
	 * brought back */
	if (self->clients != NULL && g_hash_table_contains(self->clients, data->sender))
		remember_identity(self, data->sender, data->uid, data->app_id);
	return_identity(task, data->uid, data->app_id);
}

static void
get_credentials_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	MrdCallerRegistry *self = g_task_get_source_object(task);
	const char *sender = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) credentials = NULL;
	g_autoptr(GTask) thread_task = NULL;
	IdentityData *data = NULL;
	GCancellable *cancellable;
	gint32 fd_index = -1;
	guint32 uid = 0;

	reply = g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(source), &fds,
								result, &error);
	if (reply == NULL) {
		g_task_return_new_error(task, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED,
					_("Cannot identify the caller: %s"), error->message);
		return;
	}
	credentials = g_variant_get_child_value(reply, 0);
	if (!g_variant_lookup(credentials, "UnixUserID", "u", &uid)) {
		g_task_return_new_error(task, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED,
					_("Cannot identify the caller %s"), sender);
		return;
	}
	data = g_new0(IdentityData, 1);
	data->sender = g_strdup(sender);
	data->uid = uid;
	data->pidfd = -1;
	if (!g_variant_lookup(credentials, "ProcessID", "u", &data->pid))
		data->pid = 0;
	/* a pidfd, when the bus offers one (dbus-broker, newer dbus-daemon) */
	if (fds != NULL && g_variant_lookup(credentials, "ProcessFD", "h", &fd_index))
		data->pidfd = g_unix_fd_list_get(fds, fd_index, NULL);

	cancellable = g_task_get_cancellable(task);
	thread_task = g_task_new(self, cancellable, read_app_id_cb, g_steal_pointer(&task));
	g_task_set_source_tag(thread_task, get_credentials_cb);
	g_task_set_task_data(thread_task, data, identity_data_free);
	g_task_run_in_thread(thread_task, read_app_id_thread);
}

/**
 * mrd_caller_registry_get_identity_async:
 * @self: the registry
 * @sender: the unique bus name of the caller
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: for @callback
 *
 * Finds out who @sender is: its uid and, if it is a Flatpak app, its
 * verified app id, both from the bus's credentials of the connection and
 * the kernel, never from the caller's words. Cached like the uid until the
 * caller leaves the bus.
 */
void
mrd_caller_registry_get_identity_async(MrdCallerRegistry *self,
				       const char *sender,
				       GCancellable *cancellable,
				       GAsyncReadyCallback callback,
				       gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	MrdClient *client;

	g_return_if_fail(MRD_IS_CALLER_REGISTRY(self));
	g_return_if_fail(sender != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, mrd_caller_registry_get_identity_async);
	client = g_hash_table_lookup(self->clients, sender);
	if (client != NULL && client->has_identity) {
		return_identity(task, client->uid, client->app_id);
		return;
	}
	if (self->uid_func != NULL) {
		guint32 uid = 0;

		/* the tests' users have no process to look at */
		if (!self->uid_func(sender, &uid, self->uid_func_data)) {
			g_task_return_new_error(task, METRICS_ERROR,
						METRICS_ERROR_PERMISSION_DENIED,
						_("Cannot identify the caller %s"), sender);
			return;
		}
		remember_identity(self, sender, uid, NULL);
		return_identity(task, uid, NULL);
		return;
	}
	/* the entry exists while the call is out, so that a caller leaving
	 * meanwhile is seen: its entry goes */
	(void)mrd_caller_registry_lookup(self, sender);
	g_task_set_task_data(task, g_strdup(sender), g_free);
	g_dbus_connection_call_with_unix_fd_list(
		self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "GetConnectionCredentials", g_variant_new("(s)", sender),
		G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, cancellable,
		get_credentials_cb, g_steal_pointer(&task));
}

/**
 * mrd_caller_registry_get_identity_finish:
 * @self: the registry
 * @result: the result given to the callback
 * @uid: (out): the caller's Unix uid
 * @app_id: (out) (optional) (nullable) (transfer full): its verified app id,
 *   %NULL for a caller that is not sandboxed or whose sandbox could not be
 *   verified
 * @error: set when the caller cannot be identified at all
 *
 * Returns: %FALSE if the caller cannot be identified
 */
gboolean
mrd_caller_registry_get_identity_finish(MrdCallerRegistry *self,
					GAsyncResult *result,
					guint32 *uid,
					char **app_id,
					GError **error)
{
	Identity *identity;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(uid != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	identity = g_task_propagate_pointer(G_TASK(result), error);
	if (identity == NULL)
		return FALSE;
	*uid = identity->uid;
	if (app_id != NULL)
		*app_id = g_steal_pointer(&identity->app_id);
	identity_free(identity);
	return TRUE;
}

guint
mrd_caller_registry_get_n_cached(MrdCallerRegistry *self)
{
	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), 0);
	return g_hash_table_size(self->clients);
}

/**
 * mrd_caller_registry_list_senders:
 * @uid: a Unix uid
 *
 * The connections on the bus known to belong to @uid: those that called
 * the daemon and are still connected. A signal meant for one user
 * (UserChoiceChanged) goes to these only.
 *
 * Returns: (transfer full) (element-type utf8): their unique names
 */
GPtrArray *
mrd_caller_registry_list_senders(MrdCallerRegistry *self, guint32 uid)
{
	GPtrArray *senders = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer key, value;

	g_return_val_if_fail(MRD_IS_CALLER_REGISTRY(self), senders);

	g_hash_table_iter_init(&iter, self->clients);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		MrdClient *client = value;

		if (client->has_uid && client->uid == uid)
			g_ptr_array_add(senders, g_strdup(key));
	}
	return senders;
}

static void
mrd_caller_registry_dispose(GObject *object)
{
	MrdCallerRegistry *self = MRD_CALLER_REGISTRY(object);

	if (self->name_owner_changed_id != 0) {
		g_dbus_connection_signal_unsubscribe(self->connection, self->name_owner_changed_id);
		self->name_owner_changed_id = 0;
	}
	g_clear_object(&self->connection);
	g_clear_pointer(&self->clients, g_hash_table_unref);

	G_OBJECT_CLASS(mrd_caller_registry_parent_class)->dispose(object);
}

static void
mrd_caller_registry_class_init(MrdCallerRegistryClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_caller_registry_dispose;
}

static void
mrd_caller_registry_init(MrdCallerRegistry *self)
{
	self->clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, mrd_client_free);
}
