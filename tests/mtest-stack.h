/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <metrics.h>

#include "mtest-harness.h"

G_BEGIN_DECLS

/* the metrics of tests/allowlist.d/test-overrides.json */
#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
#define ID_COUNTER "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002"
#define ID_DURATION "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003"
/* a payload that is nowhere in the state directory unless recorded */
#define MARKER "org.example.MarkerApp-5f2c9.desktop"

extern const char *const mtest_allow_consent[];
extern const char *const mtest_allow_nothing[];

/* the whole stack for one test: the harness and a client of the daemon */
typedef struct {
	MtestHarness *harness;
	MetricsClient *client;
} MtestFixture;

void
mtest_fixture_set_up(MtestFixture *fixture, gconstpointer user_data);
void
mtest_fixture_set_up_no_daemon(MtestFixture *fixture, gconstpointer user_data);
void
mtest_fixture_set_up_granted(MtestFixture *fixture, gconstpointer user_data);
void
mtest_fixture_tear_down(MtestFixture *fixture, gconstpointer user_data);
void
mtest_grant_consent(MtestFixture *fixture);
MetricsRecorder *
mtest_record_some(MtestFixture *fixture, const char *app_id, guint n);
GPtrArray *
mtest_get_local_data(MtestFixture *fixture);
GVariant *
mtest_make_batch(guint n, gsize id_len, const char *payload);
guint64
mtest_status_u64(MtestFixture *fixture, const char *key);
guint64
mtest_stored_events(MtestFixture *fixture);
guint64
mtest_drops_for(MtestFixture *fixture, const char *reason);
gboolean
mtest_file_contains(const char *path, const char *marker);
GHashTable *
mtest_stored_values(MtestFixture *fixture);
guint32
mtest_record_value_batch(MtestFixture *fixture, guint n, const char *payload);
void
mtest_record_batches(MtestFixture *fixture, const char *prefix, guint n);
void
mtest_assert_batches_intact(MtestFixture *fixture, const char *prefix, guint n);

G_END_DECLS
