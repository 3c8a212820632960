/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* a private system bus with a mock polkit and the real daemon, for the
 * integration tests */
typedef struct {
	char *tmpdir;		     /* (owned) */
	char *state_dir;	     /* (owned) */
	char *address;		     /* (owned) */
	GSubprocess *bus;	     /* (owned) (nullable) */
	GSubprocess *polkit;	     /* (owned) (nullable) */
	GSubprocess *daemon;	     /* (owned) (nullable) */
	GDBusConnection *connection; /* (owned) (nullable) */
} MtestHarness;

MtestHarness *
mtest_harness_new(void);
void
mtest_harness_free(MtestHarness *self);
void
mtest_harness_start_bus(MtestHarness *self);
void
mtest_harness_start_polkit(MtestHarness *self);
void
mtest_harness_set_allowed(MtestHarness *self, const char *const *actions);
void
mtest_harness_start_daemon(MtestHarness *self, const char *const *extra_args);
void
mtest_harness_stop_daemon(MtestHarness *self, gboolean kill);
void
mtest_harness_write_consent(MtestHarness *self, const char *state);
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MtestHarness, mtest_harness_free)

G_END_DECLS
