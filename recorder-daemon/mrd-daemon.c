/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdDaemon"

#include "config.h"

#include <glib-unix.h>

#include "metrics-private.h"
#include "mrd-daemon.h"
#include "mrd-eos.h"
#include "mrd-idle.h"

/*
 * The process around the service: owns the bus names (its own, and the
 * Endless client interface's for existing eos-metrics clients), stops on SIGTERM and
 * SIGINT, reloads the allowlist on SIGHUP, and exits after a period without
 * calls. main() (mrd-main.c) parses the command line and builds the service.
 */

struct _MrdDaemon {
	GObject parent_instance;
	GDBusConnection *bus; /* (owned) */
	MrdService *service;  /* (owned) */
	GMainLoop *loop;      /* (owned) */
	MrdIdle *idle;	      /* (owned) (nullable) */
	guint owner_id;
	guint eos_owner_id;
	int exit_status;
};

G_DEFINE_TYPE(MrdDaemon, mrd_daemon, G_TYPE_OBJECT)

static void
name_acquired_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	g_message("owning %s", name);
}

static void
name_lost_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	MrdDaemon *self = MRD_DAEMON(user_data);

	if (connection == NULL) {
		g_warning("lost the connection to the system bus");
	} else {
		g_warning("cannot own %s (another recorder runs; use --replace to replace it)",
			  name);
	}
	self->exit_status = 1;
	g_main_loop_quit(self->loop);
}

/* without the Endless name the daemon still serves its own interface:
 * another recorder of that interface may run, or the bus policy may not
 * let this one own it */
static void
eos_name_lost_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	if (connection != NULL)
		g_message("not serving %s: the name is owned by another service or not allowed "
			  "by the bus policy",
			  name);
}

static gboolean
quit_signal_cb(gpointer user_data)
{
	MrdDaemon *self = MRD_DAEMON(user_data);

	/* every accepted batch is committed before its reply, so there is
	 * nothing to flush: just stop */
	g_message("stopping on signal");
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
reload_signal_cb(gpointer user_data)
{
	MrdDaemon *self = MRD_DAEMON(user_data);

	g_message("reloading the allowlist on SIGHUP");
	mrd_service_reload_allowlist(self->service);
	return G_SOURCE_CONTINUE;
}

static gboolean
idle_inhibit_cb(gpointer user_data)
{
	MrdDaemon *self = MRD_DAEMON(user_data);
	return mrd_service_get_idle_inhibited(self->service);
}

static void
idle_expired_cb(MrdIdle *idle, gpointer user_data)
{
	MrdDaemon *self = MRD_DAEMON(user_data);

	/* give the name up first: a call sent from now on activates a new
	 * instance instead of reaching this one as it exits */
	g_message("exiting after a period without calls");
	g_clear_handle_id(&self->owner_id, g_bus_unown_name);
	g_clear_handle_id(&self->eos_owner_id, g_bus_unown_name);
	g_main_loop_quit(self->loop);
}

/* STATE_DIRECTORY from systemd may list several directories: the first */
char *
mrd_daemon_default_state_dir(void)
{
	const char *env = g_getenv("STATE_DIRECTORY");

	if (env != NULL && env[0] != '\0') {
		g_auto(GStrv) dirs = g_strsplit(env, ":", 2);
		return g_strdup(dirs[0]);
	}
	return g_strdup(DEFAULT_STATE_DIR);
}

/* @service is started already; runs until a signal, the loss of the name
 * or (with @idle_timeout seconds, 0 for never) a period without calls, and
 * returns the exit status */
int
mrd_daemon_run(MrdDaemon *self, gboolean replace, guint idle_timeout)
{
	guint signal_ids[3];

	g_return_val_if_fail(MRD_IS_DAEMON(self), 1);
	g_return_val_if_fail(self->loop == NULL, 1);

	self->loop = g_main_loop_new(NULL, FALSE);
	signal_ids[0] = g_unix_signal_add(SIGTERM, quit_signal_cb, self);
	signal_ids[1] = g_unix_signal_add(SIGINT, quit_signal_cb, self);
	signal_ids[2] = g_unix_signal_add(SIGHUP, reload_signal_cb, self);
	if (idle_timeout > 0) {
		self->idle = mrd_idle_new(self->bus, idle_timeout, idle_inhibit_cb, self);
		g_signal_connect(self->idle, "expired", G_CALLBACK(idle_expired_cb), self);
	}
	/* the Endless name first: the bus handles one connection's requests
	 * in order, so once the daemon's own name is owned (what clients and
	 * systemd's Type=dbus wait for) the other is settled too */
	self->eos_owner_id = g_bus_own_name_on_connection(
		self->bus, MRD_EOS_DBUS_NAME,
		G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
			(replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : G_BUS_NAME_OWNER_FLAGS_NONE),
		name_acquired_cb, eos_name_lost_cb, self, NULL);
	self->owner_id = g_bus_own_name_on_connection(
		self->bus, METRICS_DBUS_NAME,
		G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
			(replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : G_BUS_NAME_OWNER_FLAGS_NONE),
		name_acquired_cb, name_lost_cb, self, NULL);
	g_main_loop_run(self->loop);

	g_clear_handle_id(&self->owner_id, g_bus_unown_name);
	g_clear_handle_id(&self->eos_owner_id, g_bus_unown_name);
	for (guint i = 0; i < G_N_ELEMENTS(signal_ids); i++)
		g_source_remove(signal_ids[i]);
	g_clear_object(&self->idle);
	mrd_service_stop(self->service);
	return self->exit_status;
}

MrdDaemon *
mrd_daemon_new(GDBusConnection *bus, MrdService *service)
{
	MrdDaemon *self;

	g_return_val_if_fail(G_IS_DBUS_CONNECTION(bus), NULL);
	g_return_val_if_fail(MRD_IS_SERVICE(service), NULL);

	self = g_object_new(MRD_TYPE_DAEMON, NULL);
	self->bus = g_object_ref(bus);
	self->service = g_object_ref(service);
	return self;
}

static void
mrd_daemon_dispose(GObject *object)
{
	MrdDaemon *self = MRD_DAEMON(object);

	g_clear_handle_id(&self->owner_id, g_bus_unown_name);
	g_clear_handle_id(&self->eos_owner_id, g_bus_unown_name);
	g_clear_object(&self->idle);
	g_clear_object(&self->service);
	g_clear_object(&self->bus);

	G_OBJECT_CLASS(mrd_daemon_parent_class)->dispose(object);
}

static void
mrd_daemon_finalize(GObject *object)
{
	MrdDaemon *self = MRD_DAEMON(object);

	g_clear_pointer(&self->loop, g_main_loop_unref);

	G_OBJECT_CLASS(mrd_daemon_parent_class)->finalize(object);
}

static void
mrd_daemon_class_init(MrdDaemonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_daemon_dispose;
	object_class->finalize = mrd_daemon_finalize;
}

static void
mrd_daemon_init(MrdDaemon *self)
{
}
