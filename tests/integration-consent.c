/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): consent.
 * Nothing is kept before a yes, a no deletes and overwrites what was kept,
 * and running apps follow a change at once.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-stack.h"

/* before consent: the library sends nothing, a client that sends anyway is
 * answered "0 accepted", and the daemon writes no file at all */
static void
test_no_consent_no_data(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = mtest_record_some(fixture, MARKER, 3);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	guint32 accepted = 99, dropped = 0;

	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_UNKNOWN);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 9);

	reply = mtest_harness_call(fixture->harness, "RecordEvents",
				   mtest_make_batch(4, 16, MARKER), "(uu)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, &dropped);
	g_assert_cmpuint(accepted, ==, 0);
	g_assert_cmpuint(dropped, ==, 4);

	aggregates = mtest_get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 0);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 0);
	g_assert_cmpuint(mtest_status_u64(fixture, "accepted"), ==, 0);
}

/* changing consent needs polkit's yes; a "no" from polkit changes nothing */
static void
test_consent_needs_polkit(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = NULL;
	const char *consent = NULL;

	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	g_assert_false(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_GRANTED,
						       METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	status = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_true(g_variant_lookup(status, "consent", "&s", &consent));
	g_assert_cmpstr(consent, ==, "unknown");
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 0);
}

/* a "no" deletes every stored byte at once, and nothing is stored after */
static void
test_deny_deletes(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) aggregates = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree char *consent_file = NULL;
	g_autofree char *consent_text = NULL;

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, MARKER, 2);
	g_assert_true(mtest_harness_state_contains(fixture->harness, MARKER));

	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
	/* only the consent record is left */
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
	consent_file = g_build_filename(fixture->harness->state_dir, "consent.conf", NULL);
	g_assert_true(g_file_get_contents(consent_file, &consent_text, NULL, NULL));
	g_assert_nonnull(strstr(consent_text, "State=denied"));

	reply = mtest_harness_call(fixture->harness, "RecordEvents",
				   mtest_make_batch(2, 16, MARKER), "(uu)", &error);
	g_assert_no_error(error);
	aggregates = mtest_get_local_data(fixture);
	g_assert_cmpuint(aggregates->len, ==, 0);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 1);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
}

typedef struct {
	MetricsRecorder *recorder;
	MetricsConsent consent;
} ConsentWait;

static gboolean
consent_is_cb(gpointer user_data)
{
	ConsentWait *wait = user_data;

	return metrics_recorder_get_consent(wait->recorder) == wait->consent;
}

/* waits until the app's recorder has heard of @consent */
static void
wait_for_consent(MetricsRecorder *recorder, MetricsConsent consent)
{
	ConsentWait wait = {recorder, consent};

	mtest_wait_until(consent_is_cb, &wait, "the consent change to reach the app");
}

static void
consent_notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	guint *n = user_data;
	(*n)++;
}

/* a running app follows a consent change within moments */
static void
test_consent_propagates(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	guint n_notify = 0;

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 1);
	g_signal_connect(recorder, "notify::consent", G_CALLBACK(consent_notify_cb), &n_notify);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	wait_for_consent(recorder, METRICS_CONSENT_DENIED);
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_DENIED);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(n_notify, >=, 1);

	/* events after the "no" are dropped in the app */
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string("x"));
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 1);
	/* a call still in flight keeps the recorder alive past this test, and
	 * its answer (an error once the bus is gone) notifies again: not into
	 * this frame */
	g_signal_handlers_disconnect_by_data(recorder, &n_notify);
}

/* with consent unknown, a running app learns of the grant live and what it
 * records afterwards is stored */
static void
test_grant_propagates(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = metrics_recorder_new(fixture->harness->connection);
	guint n_notify = 0;

	/* before: asked, unknown, dropped in the app */
	metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(MARKER));
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_UNKNOWN);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 1);

	g_signal_connect(recorder, "notify::consent", G_CALLBACK(consent_notify_cb), &n_notify);
	mtest_grant_consent(fixture);
	wait_for_consent(recorder, METRICS_CONSENT_GRANTED);
	g_assert_cmpint(metrics_recorder_get_consent(recorder), ==, METRICS_CONSENT_GRANTED);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(n_notify, >=, 1);

	for (guint i = 0; i < 3; i++)
		metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(MARKER));
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(metrics_recorder_get_n_dropped(recorder), ==, 1);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 3);
	g_assert_true(mtest_harness_state_contains(fixture->harness, MARKER));
	/* as in test_consent_propagates: no notification into this frame */
	g_signal_handlers_disconnect_by_data(recorder, &n_notify);
}

/* a "no" overwrites the stored bytes, it does not merely unlink the files:
 * hard links made outside the state directory beforehand still reach the
 * old inodes, and they must not hold the marker any more */
static void
test_deny_overwrites(MtestFixture *fixture, gconstpointer user_data)
{
	const char *suffixes[] = {"", "-wal"};
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func(g_free);

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, MARKER, 2);
	g_clear_object(&recorder);
	/* a clean stop checkpoints the marker into the database file; what is
	 * recorded after the restart is in the WAL */
	mtest_harness_stop_daemon(fixture->harness, FALSE);
	mtest_harness_start_daemon(fixture->harness, NULL);
	recorder = mtest_record_some(fixture, MARKER, 1);
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *file =
			g_strconcat(fixture->harness->state_dir, "/metrics.db", suffixes[i], NULL);
		char *link_path =
			g_strconcat(fixture->harness->tmpdir, "/linked.db", suffixes[i], NULL);

		g_assert_cmpint(link(file, link_path), ==, 0);
		g_ptr_array_add(links, link_path);
		/* the marker is in both files before */
		g_assert_true(mtest_file_contains(link_path, MARKER));
	}

	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));
	for (guint i = 0; i < links->len; i++) {
		const char *link_path = g_ptr_array_index(links, i);

		g_test_message("checking %s", link_path);
		g_assert_false(mtest_file_contains(link_path, MARKER));
		g_unlink(link_path);
	}
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/consent/no-consent-no-data", MtestFixture, NULL, mtest_fixture_set_up,
		   test_no_consent_no_data, mtest_fixture_tear_down);
	g_test_add("/metrics/consent/consent-needs-polkit", MtestFixture, NULL,
		   mtest_fixture_set_up, test_consent_needs_polkit, mtest_fixture_tear_down);
	g_test_add("/metrics/consent/deny-deletes", MtestFixture, NULL, mtest_fixture_set_up,
		   test_deny_deletes, mtest_fixture_tear_down);
	g_test_add("/metrics/consent/consent-propagates", MtestFixture, NULL, mtest_fixture_set_up,
		   test_consent_propagates, mtest_fixture_tear_down);
	g_test_add("/metrics/consent/grant-propagates", MtestFixture, NULL, mtest_fixture_set_up,
		   test_grant_propagates, mtest_fixture_tear_down);
	g_test_add("/metrics/consent/deny-overwrites", MtestFixture, NULL, mtest_fixture_set_up,
		   test_deny_overwrites, mtest_fixture_tear_down);

	return g_test_run();
}
