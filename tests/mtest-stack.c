/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * What the integration-*.c programs share: the whole stack on a private
 * system bus (libmetrics → metrics-recorder → metrics-cli, polkit mocked by
 * python-dbusmock) through the harness, and the ways they record and read
 * back.
 */

#include "config.h"

#include <string.h>

#include "metrics-private.h"
#include "mtest-stack.h"

const char *const mtest_allow_consent[] = {"org.fedoraproject.Metrics1.set-consent", NULL};
const char *const mtest_allow_nothing[] = {NULL};

/* the harness with a bus; with @daemon also the polkit mock and the daemon
 * (with @args, and with consent already granted if @granted) */
static void
set_up(MtestFixture *fixture, gboolean daemon, gboolean granted, const char *const *args)
{
	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	if (daemon) {
		mtest_harness_start_polkit(fixture->harness);
		if (granted)
			mtest_harness_write_consent(fixture->harness, "granted");
		mtest_harness_start_daemon(fixture->harness, args);
	}
	fixture->client = metrics_client_new(fixture->harness->connection);
}

void
mtest_fixture_set_up(MtestFixture *fixture, gconstpointer user_data)
{
	set_up(fixture, TRUE, FALSE, NULL);
}

void
mtest_fixture_set_up_no_daemon(MtestFixture *fixture, gconstpointer user_data)
{
	set_up(fixture, FALSE, FALSE, NULL);
}

/* @user_data: (nullable): the daemon's extra arguments */
void
mtest_fixture_set_up_granted(MtestFixture *fixture, gconstpointer user_data)
{
	set_up(fixture, TRUE, TRUE, user_data);
}

void
mtest_fixture_tear_down(MtestFixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->client);
	g_clear_pointer(&fixture->harness, mtest_harness_free);
}

void
mtest_grant_consent(MtestFixture *fixture)
{
	g_autoptr(GError) error = NULL;

	mtest_harness_set_allowed(fixture->harness, mtest_allow_consent);
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_GRANTED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
}

/* records one event of each kind through the library and waits for the
 * daemon to acknowledge them */
MetricsRecorder *
mtest_record_some(MtestFixture *fixture, const char *app_id, guint n)
{
	g_autoptr(GError) error = NULL;
	MetricsRecorder *recorder = metrics_recorder_new(fixture->harness->connection);

	for (guint i = 0; i < n; i++) {
		metrics_recorder_record(recorder, ID_VALUE, g_variant_new_string(app_id));
		metrics_recorder_add(recorder, ID_COUNTER, NULL, 2);
		metrics_recorder_record_duration(recorder, ID_DURATION, NULL,
						 g_get_real_time() - G_USEC_PER_SEC,
						 G_USEC_PER_SEC);
	}
	g_assert_true(metrics_recorder_flush_sync(recorder, NULL, &error));
	g_assert_no_error(error);
	return recorder;
}

GPtrArray *
mtest_get_local_data(MtestFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *aggregates = metrics_client_get_local_data_sync(
		fixture->client, METRICS_CLIENT_FLAGS_NONE, NULL, &error);
	g_assert_no_error(error);
	return aggregates;
}

GVariant *
mtest_make_batch(guint n, gsize id_len, const char *payload)
{
	GVariantBuilder builder;
	guint8 id[32];

	metrics_uuid_parse(ID_VALUE, id);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < n; i++) {
		g_variant_builder_add(&builder, "(@ayuxxmv)",
				      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, id_len, 1),
				      (guint32)METRICS_EVENT_KIND_VALUE, g_get_real_time(),
				      (gint64)1, g_variant_new_string(payload));
	}
	return g_variant_new("(@aya{sv})", metrics_batch_to_wire(g_variant_builder_end(&builder)),
			     NULL);
}

/* a figure of GetStatus, everybody's (mtest_harness_get_status_all()) */
guint64
mtest_status_u64(MtestFixture *fixture, const char *key)
{
	g_autoptr(GVariant) status = mtest_harness_get_status_all(fixture->harness);
	guint64 value = 0;

	g_assert_true(g_variant_lookup(status, key, "t", &value));
	return value;
}

guint64
mtest_stored_events(MtestFixture *fixture)
{
	return mtest_status_u64(fixture, "stored-events");
}

guint64
mtest_drops_for(MtestFixture *fixture, const char *reason)
{
	g_autoptr(GVariant) status = mtest_harness_get_status_all(fixture->harness);
	g_autoptr(GVariant) drops = NULL;
	guint64 n = 0;

	drops = g_variant_lookup_value(status, "drops", G_VARIANT_TYPE("a{st}"));
	if (drops != NULL)
		g_variant_lookup(drops, reason, "t", &n);
	return n;
}

gboolean
mtest_file_contains(const char *path, const char *marker)
{
	g_autofree char *contents = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	return memmem(contents, len, marker, strlen(marker)) != NULL;
}

/* the counts of each value of ID_VALUE in the store */
GHashTable *
mtest_stored_values(MtestFixture *fixture)
{
	g_autoptr(GPtrArray) aggregates = mtest_get_local_data(fixture);
	GHashTable *values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < aggregates->len; i++) {
		MetricsAggregate *aggregate = g_ptr_array_index(aggregates, i);
		GVariant *payload = metrics_aggregate_get_payload(aggregate);
		const char *text;

		if (payload == NULL ||
		    g_strcmp0(metrics_aggregate_get_event_id(aggregate), ID_VALUE) != 0)
			continue;
		text = g_variant_get_string(payload, NULL);
		g_hash_table_insert(
			values, g_strdup(text),
			GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(values, text)) +
					 metrics_aggregate_get_count(aggregate)));
	}
	return values;
}

/* records @n events of ID_VALUE with @payload; returns how many were
 * acknowledged */
guint32
mtest_record_value_batch(MtestFixture *fixture, guint n, const char *payload)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = mtest_harness_call(
		fixture->harness, "RecordEvents", mtest_make_batch(n, 16, payload), "(uu)", &error);
	guint32 accepted = 0;

	g_assert_no_error(error);
	g_variant_get(reply, "(uu)", &accepted, NULL);
	return accepted;
}

/* records @n batches of 20 events, each its own value @prefix-<i>, all
 * acknowledged */
void
mtest_record_batches(MtestFixture *fixture, const char *prefix, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autofree char *value = g_strdup_printf("%s-%u", prefix, i);

		g_assert_cmpuint(mtest_record_value_batch(fixture, 20, value), ==, 20);
	}
}

void
mtest_assert_batches_intact(MtestFixture *fixture, const char *prefix, guint n)
{
	g_autoptr(GHashTable) values = mtest_stored_values(fixture);

	for (guint i = 0; i < n; i++) {
		g_autofree char *value = g_strdup_printf("%s-%u", prefix, i);
		g_assert_cmpuint(GPOINTER_TO_SIZE(g_hash_table_lookup(values, value)), ==, 20);
	}
}
