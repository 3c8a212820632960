/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* a private system bus with a mock polkit and the real daemon, for the
 * integration tests; every process it starts, and its temporary directory,
 * go with the test process however it ends */
typedef struct {
	char *tmpdir;		     /* (owned) */
	char *state_dir;	     /* (owned) */
	char *address;		     /* (owned) */
	GSubprocess *bus;	     /* (owned) (nullable) */
	GSubprocess *polkit;	     /* (owned) (nullable) */
	GSubprocess *daemon;	     /* (owned) (nullable) */
	GDBusConnection *connection; /* (owned) (nullable) */
	/* private */
	GPtrArray *bus_includes; /* (owned) (element-type utf8) */
	GStrv allowed;		 /* (owned) (nullable) what the polkit mock allows */
	char *service_exec;	 /* (owned) (nullable) the daemon's activation command */
	GPid test_pid;		 /* the process that made the harness */
	GPid reaper_pid;	 /* cleans up after the test process: mtest-harness.c */
	int reaper_fd;		 /* write end of the reaper's lifeline */
} MtestHarness;

typedef gboolean (*MtestCondition)(gpointer user_data);

MtestHarness *
mtest_harness_new(void);
void
mtest_harness_free(MtestHarness *self);
void
mtest_harness_add_bus_config(MtestHarness *self, const char *path);
void
mtest_harness_set_activatable(MtestHarness *self, const char *const *extra_args);
void
mtest_harness_start_bus(MtestHarness *self);
void
mtest_harness_stop_bus(MtestHarness *self);
void
mtest_harness_start_polkit(MtestHarness *self);
void
mtest_harness_set_allowed(MtestHarness *self, const char *const *actions);
GVariant *
mtest_harness_get_status_all(MtestHarness *self);
void
mtest_harness_polkit_mock_call(MtestHarness *self, const char *method, GVariant *args);
void
mtest_harness_start_daemon(MtestHarness *self, const char *const *extra_args);
void
mtest_harness_stop_daemon(MtestHarness *self, gboolean kill);
void
mtest_harness_set_state_dir(MtestHarness *self, const char *path);
void
mtest_harness_write_consent(MtestHarness *self, const char *state);
GSubprocess *
mtest_harness_spawn(MtestHarness *self, GSubprocessLauncher *launcher, const char *const *argv);
char *
mtest_harness_get_name_owner(MtestHarness *self, const char *name);
void
mtest_harness_wait_for_name(MtestHarness *self, const char *name, gboolean owned);
GVariant *
mtest_harness_call(MtestHarness *self,
		   const char *method,
		   GVariant *parameters,
		   const char *reply_type,
		   GError **error);
int
mtest_harness_run(MtestHarness *self, const char *const *argv, char **out, char **err);
int
mtest_harness_run_cli(MtestHarness *self, const char *const *args, char **out, char **err);
char *
mtest_harness_build_path(const char *env_var);
gboolean
mtest_harness_state_contains(MtestHarness *self, const char *marker);
guint
mtest_harness_count_state_files(MtestHarness *self);
char *
mtest_harness_read_daemon_log(MtestHarness *self);
guint
mtest_harness_count_in_daemon_log(MtestHarness *self, const char *needle);
void
mtest_harness_wait_for_daemon_log(MtestHarness *self, const char *needle, guint n);
GDBusConnection *
mtest_harness_connect(MtestHarness *self);

void
mtest_wait_until(MtestCondition condition, gpointer user_data, const char *what);
guint
mtest_count_in(const char *text, const char *needle);
void
mtest_wait_for_in_file(const char *path, const char *needle, guint n);
gboolean
mtest_process_running(GPid pid);
void
mtest_write_file(const char *path, const char *contents);
GPtrArray *
mtest_harness_argv_as_user(MtestHarness *self, guint uid, const char *const *argv);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MtestHarness, mtest_harness_free)

G_END_DECLS
