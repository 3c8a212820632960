/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): the
 * Endless client interface. The client here speaks only
 * com.endlessm.Metrics.EventRecorderServer, with GDBus calls written from
 * its documented signatures, as an existing eos-metrics client does; what
 * it records must take this project's one record path (gate, consent,
 * weekly aggregates) and show up in metrics-cli.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-stack.h"

#define EOS_NAME "com.endlessm.Metrics"
#define EOS_PATH "/com/endlessm/Metrics"
#define EOS_INTERFACE "com.endlessm.Metrics.EventRecorderServer"
#define CALL_TIMEOUT_MS 30000

/* what the eos client sends that must never be stored: its user_id
 * argument and its timestamps */
#define LYING_USER_ID 0x7a5c3e91u
#define TIMESTAMP_MARK G_GINT64_CONSTANT(0x1c2b3a4958677685)

static const char *const allow_consent_and_read_all[] = {
	"org.fedoraproject.Metrics1.set-consent",
	"org.fedoraproject.Metrics1.read-all",
	NULL,
};

static GVariant *
event_id(const char *uuid)
{
	guint8 id[METRICS_UUID_SIZE];

	g_assert_true(metrics_uuid_parse(uuid, id));
	return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, sizeof(id), 1);
}

static GVariant *
bytes_id(gsize n)
{
	g_autofree guint8 *bytes = g_malloc0(MAX(n, 1));

	for (gsize i = 0; i < n; i++)
		bytes[i] = (guint8)(0xa0 + i);
	return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes, n, 1);
}

/* a call on the eos interface; returns the reply, or NULL with @error */
static GVariant *
eos_call(GDBusConnection *connection,
	 const char *method,
	 GVariant *parameters,
	 const char *reply_type,
	 GError **error)
{
	return g_dbus_connection_call_sync(connection, EOS_NAME, EOS_PATH, EOS_INTERFACE, method,
					   parameters,
					   reply_type != NULL ? G_VARIANT_TYPE(reply_type) : NULL,
					   G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, error);
}

/* a record call that must succeed with the empty reply eos clients expect */
static void
eos_call_ok(GDBusConnection *connection, const char *method, GVariant *parameters)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = eos_call(connection, method, parameters, "()", &error);

	g_assert_no_error(error);
	g_assert_nonnull(reply);
}

/* a call that must fail with the D-Bus error @error_name */
static void
eos_call_fails(GDBusConnection *connection,
	       const char *method,
	       GVariant *parameters,
	       const char *error_name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = eos_call(connection, method, parameters, NULL, &error);
	g_autofree char *remote = NULL;

	g_assert_null(reply);
	g_assert_nonnull(error);
	remote = g_dbus_error_get_remote_error(error);
	g_test_message("%s: %s", method, error->message);
	g_assert_cmpstr(remote, ==, error_name);
}

static GVariant *
singular(const char *uuid, GVariant *payload)
{
	return g_variant_new("(u@ayxbv)", LYING_USER_ID, event_id(uuid), TIMESTAMP_MARK,
			     payload != NULL, payload != NULL ? payload : g_variant_new_int32(0));
}

static GVariant *
aggregate(const char *uuid, gint64 count, GVariant *payload)
{
	return g_variant_new("(u@ayxxbv)", LYING_USER_ID, event_id(uuid), count, TIMESTAMP_MARK,
			     payload != NULL, payload != NULL ? payload : g_variant_new_int32(0));
}

/* a sequence of @n elements at @timestamps (nanoseconds), the first with
 * @payload */
static GVariant *
sequence(const char *uuid, const gint64 *timestamps, guint n, GVariant *payload)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(xbv)"));
	for (guint i = 0; i < n; i++) {
		gboolean has = i == 0 && payload != NULL;

		g_variant_builder_add(&builder, "(xbv)", timestamps[i], has,
				      has ? payload : g_variant_new_int32((gint32)i));
	}
	return g_variant_new("(u@aya(xbv))", LYING_USER_ID, event_id(uuid), &builder);
}

static gboolean
get_enabled(GDBusConnection *connection)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) value = NULL;

	reply = g_dbus_connection_call_sync(
		connection, EOS_NAME, EOS_PATH, "org.freedesktop.DBus.Properties", "Get",
		g_variant_new("(ss)", EOS_INTERFACE, "Enabled"), G_VARIANT_TYPE("(v)"),
		G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &value);
	g_assert_true(g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN));
	return g_variant_get_boolean(value);
}

/* the JSON output of metrics-cli @command --json [@option], parsed; show
 * exits with 2 when nothing is stored */
static JsonNode *
run_cli_json(MtestFixture *fixture, const char *command, const char *option)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	const char *args[] = {command, "--json", option, NULL};
	int status = mtest_harness_run_cli(fixture->harness, args, &out, NULL);

	if (g_strcmp0(command, "show") != 0 || status != 2)
		g_assert_cmpint(status, ==, 0);
	g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
	g_assert_no_error(error);
	return json_node_copy(json_parser_get_root(parser));
}

/* the drops of metrics-cli status --all --json, by reason */
static gint64
cli_drops_for(MtestFixture *fixture, const char *reason)
{
	g_autoptr(JsonNode) root = NULL;
	JsonObject *drops;

	mtest_harness_set_allowed(fixture->harness, allow_consent_and_read_all);
	root = run_cli_json(fixture, "status", "--all");
	drops = json_object_get_object_member(json_node_get_object(root), "drops");
	if (drops == NULL || !json_object_has_member(drops, reason))
		return 0;
	return json_object_get_int_member(drops, reason);
}

/* the rows of metrics-cli show --json of @id */
static GPtrArray *
cli_rows_of(MtestFixture *fixture, const char *id)
{
	g_autoptr(JsonNode) root = run_cli_json(fixture, "show", NULL);
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
	JsonArray *array;

	if (JSON_NODE_HOLDS_OBJECT(root))
		array = json_object_get_array_member(json_node_get_object(root), "aggregates");
	else
		array = json_node_get_array(root);
	g_assert_nonnull(array);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *row = json_array_get_object_element(array, i);

		if (g_strcmp0(json_object_get_string_member(row, "event-id"), id) == 0)
			g_ptr_array_add(rows, json_object_ref(row));
	}
	return rows;
}

/* whether any file of the state directory holds @len bytes of @needle */
static gboolean
state_holds_bytes(MtestFixture *fixture, const void *needle, gsize len)
{
	g_autoptr(GDir) dir = g_dir_open(fixture->harness->state_dir, 0, NULL);
	const char *name;

	if (dir == NULL)
		return FALSE;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(fixture->harness->state_dir, name, NULL);
		g_autofree char *contents = NULL;
		gsize size = 0;

		if (g_file_get_contents(path, &contents, &size, NULL) &&
		    memmem(contents, size, needle, len) != NULL)
			return TRUE;
	}
	return FALSE;
}

/* singular, aggregate and sequence events arrive as value, counter and
 * duration aggregates of the caller's own uid, visible in metrics-cli
 * show; the client's user_id and timestamps are nowhere on disk */
static void
test_record_kinds(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDBusConnection) eos = mtest_harness_connect(fixture->harness);
	g_autoptr(GPtrArray) values = NULL;
	g_autoptr(GPtrArray) counters = NULL;
	g_autoptr(GPtrArray) durations = NULL;
	const gint64 timestamps[] = {TIMESTAMP_MARK,
				     TIMESTAMP_MARK + 2 * G_GINT64_CONSTANT(1000000000),
				     TIMESTAMP_MARK + 5 * G_GINT64_CONSTANT(1000000000) + 999};
	guint64 be_mark = GUINT64_TO_BE((guint64)TIMESTAMP_MARK);
	guint64 le_mark = GUINT64_TO_LE((guint64)TIMESTAMP_MARK);
	guint32 be_uid = GUINT32_TO_BE(LYING_USER_ID);
	g_autofree char *mark_text = g_strdup_printf("%" G_GINT64_FORMAT, TIMESTAMP_MARK);
	g_autofree char *uid_text = g_strdup_printf("%u", LYING_USER_ID);

	g_assert_true(get_enabled(eos));
	eos_call_ok(eos, "RecordSingularEvent", singular(ID_VALUE, g_variant_new_string(MARKER)));
	eos_call_ok(eos, "RecordSingularEvent", singular(ID_VALUE, g_variant_new_string(MARKER)));
	eos_call_ok(eos, "RecordAggregateEvent", aggregate(ID_COUNTER, 5, NULL));
	eos_call_ok(eos, "RecordAggregateEvent", aggregate(ID_COUNTER, 3, NULL));
	/* a singular event of a counter metric is one more */
	eos_call_ok(eos, "RecordSingularEvent", singular(ID_COUNTER, NULL));
	eos_call_ok(eos, "RecordEventSequence",
		    sequence(ID_DURATION, timestamps, G_N_ELEMENTS(timestamps), NULL));

	values = cli_rows_of(fixture, ID_VALUE);
	g_assert_cmpuint(values->len, ==, 1);
	g_assert_cmpstr(json_object_get_string_member(g_ptr_array_index(values, 0), "payload"), ==,
			MARKER);
	g_assert_cmpint(json_object_get_int_member(g_ptr_array_index(values, 0), "count"), ==, 2);
	g_assert_cmpint(json_object_get_int_member(g_ptr_array_index(values, 0), "uid"), ==,
			getuid());

	counters = cli_rows_of(fixture, ID_COUNTER);
	g_assert_cmpuint(counters->len, ==, 1);
	g_assert_cmpint(json_object_get_int_member(g_ptr_array_index(counters, 0), "count"), ==, 9);
	g_assert_cmpint(json_object_get_int_member(g_ptr_array_index(counters, 0), "uid"), ==,
			getuid());

	/* first to last element, in µs, rounded down */
	durations = cli_rows_of(fixture, ID_DURATION);
	g_assert_cmpuint(durations->len, >=, 1);
	{
		gint64 total = 0, count = 0;

		for (guint i = 0; i < durations->len; i++) {
			JsonObject *row = g_ptr_array_index(durations, i);

			total += json_object_get_int_member(row, "duration-usec");
			count += json_object_get_int_member(row, "count");
		}
		g_assert_cmpint(total, ==, 5 * G_USEC_PER_SEC);
		g_assert_cmpint(count, ==, 1);
	}

	/* what eos's model carries and this one rejects is not on disk */
	g_assert_true(mtest_harness_state_contains(fixture->harness, MARKER));
	g_assert_false(state_holds_bytes(fixture, &be_mark, sizeof(be_mark)));
	g_assert_false(state_holds_bytes(fixture, &le_mark, sizeof(le_mark)));
	g_assert_false(state_holds_bytes(fixture, &be_uid, sizeof(be_uid)));
	g_assert_false(mtest_harness_state_contains(fixture->harness, mark_text));
	g_assert_false(mtest_harness_state_contains(fixture->harness, uid_text));
}

typedef struct {
	guint n_changes;
	gboolean last_enabled;
} EnabledWatch;

static void
properties_changed_cb(GDBusConnection *connection,
		      const char *sender,
		      const char *path,
		      const char *interface,
		      const char *signal,
		      GVariant *parameters,
		      gpointer user_data)
{
	EnabledWatch *watch = user_data;
	const char *changed_interface = NULL;
	g_autoptr(GVariant) changed = NULL;
	gboolean enabled;

	g_variant_get(parameters, "(&s@a{sv}@as)", &changed_interface, &changed, NULL);
	if (g_strcmp0(changed_interface, EOS_INTERFACE) != 0 ||
	    !g_variant_lookup(changed, "Enabled", "b", &enabled))
		return;
	watch->n_changes++;
	watch->last_enabled = enabled;
}

typedef struct {
	EnabledWatch *watch;
	guint n_changes;
} ChangeWait;

static gboolean
changes_reached_cb(gpointer user_data)
{
	ChangeWait *wait = user_data;
	return wait->watch->n_changes >= wait->n_changes;
}

static void
wait_for_change(EnabledWatch *watch, guint n_changes, gboolean enabled)
{
	ChangeWait wait = {watch, n_changes};

	mtest_wait_until(changes_reached_cb, &wait, "PropertiesChanged of Enabled");
	g_assert_cmpuint(watch->n_changes, ==, n_changes);
	g_assert_cmpint(watch->last_enabled, ==, enabled);
}

static const char *
native_consent(MtestFixture *fixture, char **out)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) status = metrics_client_get_status_sync(fixture->client, NULL, &error);

	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(status, "consent", "s", out));
	return *out;
}

/* Enabled is consent: it follows a change made on either interface, with
 * PropertiesChanged, and SetEnabled is SetConsent */
static void
test_enabled_follows_consent(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDBusConnection) eos = mtest_harness_connect(fixture->harness);
	g_autoptr(GError) error = NULL;
	g_autofree char *consent1 = NULL;
	g_autofree char *consent2 = NULL;
	EnabledWatch watch = {0};
	guint subscription;

	subscription = g_dbus_connection_signal_subscribe(
		eos, EOS_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged", EOS_PATH,
		NULL, G_DBUS_SIGNAL_FLAGS_NONE, properties_changed_cb, &watch, NULL);
	g_assert_false(get_enabled(eos));

	/* granted on the native interface */
	mtest_grant_consent(fixture);
	wait_for_change(&watch, 1, TRUE);
	g_assert_true(get_enabled(eos));

	/* denied through eos: consent says so, and what was stored goes */
	eos_call_ok(eos, "RecordSingularEvent", singular(ID_VALUE, g_variant_new_string(MARKER)));
	g_assert_true(mtest_harness_state_contains(fixture->harness, MARKER));
	eos_call_ok(eos, "SetEnabled", g_variant_new("(b)", FALSE));
	wait_for_change(&watch, 2, FALSE);
	g_assert_false(get_enabled(eos));
	g_assert_cmpstr(native_consent(fixture, &consent1), ==, "denied");
	g_assert_false(mtest_harness_state_contains(fixture->harness, MARKER));

	/* setting the current value again changes nothing */
	eos_call_ok(eos, "SetEnabled", g_variant_new("(b)", FALSE));
	/* and granted again through eos */
	eos_call_ok(eos, "SetEnabled", g_variant_new("(b)", TRUE));
	wait_for_change(&watch, 3, TRUE);
	g_assert_cmpstr(native_consent(fixture, &consent2), ==, "granted");

	/* denied on the native interface */
	g_assert_true(metrics_client_set_consent_sync(fixture->client, METRICS_CONSENT_DENIED,
						      METRICS_CLIENT_FLAGS_NONE, NULL, &error));
	g_assert_no_error(error);
	wait_for_change(&watch, 4, FALSE);
	g_dbus_connection_signal_unsubscribe(eos, subscription);
}

/* without polkit's yes, SetEnabled changes nothing and says why */
static void
test_set_enabled_needs_polkit(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDBusConnection) eos = mtest_harness_connect(fixture->harness);
	g_autofree char *consent1 = NULL;
	g_autofree char *consent2 = NULL;

	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	eos_call_fails(eos, "SetEnabled", g_variant_new("(b)", TRUE),
		       "org.fedoraproject.Metrics1.Error.PermissionDenied");
	g_assert_false(get_enabled(eos));
	g_assert_cmpstr(native_consent(fixture, &consent1), ==, "unknown");
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 0);

	/* nor can it take consent back once given */
	mtest_grant_consent(fixture);
	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	eos_call_fails(eos, "SetEnabled", g_variant_new("(b)", FALSE),
		       "org.fedoraproject.Metrics1.Error.PermissionDenied");
	g_assert_cmpstr(native_consent(fixture, &consent2), ==, "granted");
}

/* before consent: every record call succeeds, as eos clients expect, and
 * nothing at all is written; the drops are counted */
static void
test_no_consent_no_data(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDBusConnection) eos = mtest_harness_connect(fixture->harness);
	const gint64 timestamps[] = {1000, 2000000};

	g_assert_false(get_enabled(eos));
	for (guint i = 0; i < 3; i++) {
		eos_call_ok(eos, "RecordSingularEvent",
			    singular(ID_VALUE, g_variant_new_string(MARKER)));
		eos_call_ok(eos, "RecordAggregateEvent", aggregate(ID_COUNTER, 4, NULL));
		eos_call_ok(eos, "RecordEventSequence",
			    sequence(ID_DURATION, timestamps, G_N_ELEMENTS(timestamps), NULL));
	}
	eos_call_ok(eos, "UploadEvents", NULL);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 0);
	g_assert_cmpint(cli_drops_for(fixture, "no-consent"), ==, 9);
	g_assert_cmpuint(mtest_harness_count_state_files(fixture->harness), ==, 0);
}

/* what the gate refuses, or what this model has no place for, succeeds
 * for the client, is not stored, and is counted by reason */
static void
test_drops_counted(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDBusConnection) eos = mtest_harness_connect(fixture->harness);
	const gint64 one[] = {1000};
	const gint64 backwards[] = {5000000, 1000};
	const gint64 too_short[] = {1000, 1999};
	const gint64 too_long[] = {0, G_GINT64_CONSTANT(367) * 24 * 3600 * 1000000000};
	const gint64 extremes[] = {G_MININT64, G_MAXINT64};
	g_autoptr(GPtrArray) rows = NULL;

	/* the allowlist: an unknown UUID, a wrong payload type, a value not
	 * in the metric's set, a payload where the metric takes none */
	eos_call_ok(eos, "RecordSingularEvent",
		    singular("11111111-2222-4333-8444-555555555555", NULL));
	eos_call_ok(eos, "RecordSingularEvent", singular(ID_VALUE, g_variant_new_int32(7)));
	eos_call_ok(eos, "RecordSingularEvent",
		    singular(ID_VALUE, g_variant_new_string("not-in-the-test-values")));
	eos_call_ok(eos, "RecordAggregateEvent",
		    aggregate(ID_COUNTER, 2, g_variant_new_string(MARKER)));
	/* a sequence of a value metric is the wrong kind */
	eos_call_ok(eos, "RecordEventSequence",
		    sequence(ID_VALUE, too_short + 0, 1, NULL) /* one element */);
	/* no equivalent here: counts that are no increment, sequences that
	 * give no duration */
	eos_call_ok(eos, "RecordAggregateEvent", aggregate(ID_COUNTER, 0, NULL));
	eos_call_ok(eos, "RecordAggregateEvent", aggregate(ID_COUNTER, -3, NULL));
	eos_call_ok(eos, "RecordAggregateEvent", aggregate(ID_COUNTER, G_MININT64, NULL));
	eos_call_ok(eos, "RecordEventSequence", sequence(ID_DURATION, one, 1, NULL));
	eos_call_ok(eos, "RecordEventSequence",
		    sequence(ID_DURATION, backwards, G_N_ELEMENTS(backwards), NULL));
	eos_call_ok(eos, "RecordEventSequence",
		    sequence(ID_DURATION, too_short, G_N_ELEMENTS(too_short), NULL));
	eos_call_ok(eos, "RecordEventSequence",
		    sequence(ID_DURATION, too_long, G_N_ELEMENTS(too_long), NULL));
	eos_call_ok(eos, "RecordEventSequence",
		    sequence(ID_DURATION, extremes, G_N_ELEMENTS(extremes), NULL));
	/* a sequence of a counter metric: the wrong kind for the gate */
	eos_call_ok(eos, "RecordEventSequence",
		    sequence(ID_COUNTER, backwards + 1, 1, NULL) /* one element */);
	{
		const gint64 span[] = {0, 1000000};

		eos_call_ok(eos, "RecordEventSequence",
			    sequence(ID_COUNTER, span, G_N_ELEMENTS(span), NULL));
	}

	g_assert_cmpint(cli_drops_for(fixture, "not-allowlisted"), ==, 1);
	g_assert_cmpint(cli_drops_for(fixture, "wrong-type"), ==, 2);
	g_assert_cmpint(cli_drops_for(fixture, "value-not-allowed"), ==, 1);
	g_assert_cmpint(cli_drops_for(fixture, "wrong-kind"), ==, 1);
	g_assert_cmpint(cli_drops_for(fixture, "eos-unmapped"), ==, 10);
	rows = cli_rows_of(fixture, ID_COUNTER);
	g_assert_cmpuint(rows->len, ==, 0);
	g_clear_pointer(&rows, g_ptr_array_unref);
	rows = cli_rows_of(fixture, ID_DURATION);
	g_assert_cmpuint(rows->len, ==, 0);
	g_clear_pointer(&rows, g_ptr_array_unref);
	rows = cli_rows_of(fixture, ID_VALUE);
	g_assert_cmpuint(rows->len, ==, 0);
}

/* every shape of unusable call gets a clear error, is counted, and the
 * daemon goes on serving */
static void
test_malformed_calls(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDBusConnection) eos = mtest_harness_connect(fixture->harness);
	const char *invalid = "org.fedoraproject.Metrics1.Error.InvalidData";
	const char *limit = "org.fedoraproject.Metrics1.Error.LimitExceeded";
	const char *args = "org.freedesktop.DBus.Error.InvalidArgs";
	const char *unknown = "org.freedesktop.DBus.Error.UnknownMethod";
	const gsize id_sizes[] = {0, 1, 15, 17, 32, 4096};
	g_autofree char *big = g_strnfill(METRICS_MAX_PAYLOAD_SIZE + 1, 'x');
	GVariantBuilder builder;
	guint n_malformed = 0;

	/* event ids of every wrong length, on each method */
	for (guint i = 0; i < G_N_ELEMENTS(id_sizes); i++) {
		g_autoptr(GVariant) single =
			g_variant_ref_sink(g_variant_new("(u@ayxbv)", 0u, bytes_id(id_sizes[i]),
							 (gint64)0, FALSE, g_variant_new_int32(0)));
		g_autoptr(GVariant) agg = g_variant_ref_sink(
			g_variant_new("(u@ayxxbv)", 0u, bytes_id(id_sizes[i]), (gint64)1, (gint64)0,
				      FALSE, g_variant_new_int32(0)));
		g_autoptr(GVariant) seq = g_variant_ref_sink(
			g_variant_new("(u@ay@a(xbv))", 0u, bytes_id(id_sizes[i]),
				      g_variant_new_array(G_VARIANT_TYPE("(xbv)"), NULL, 0)));

		eos_call_fails(eos, "RecordSingularEvent", single, invalid);
		eos_call_fails(eos, "RecordAggregateEvent", agg, invalid);
		eos_call_fails(eos, "RecordEventSequence", seq, invalid);
		n_malformed += 3;
	}
	/* payloads over the limit, also one hidden in a sequence */
	eos_call_fails(eos, "RecordSingularEvent", singular(ID_VALUE, g_variant_new_string(big)),
		       invalid);
	eos_call_fails(eos, "RecordAggregateEvent",
		       aggregate(ID_COUNTER, 1, g_variant_new_string(big)), invalid);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(xbv)"));
	for (guint i = 0; i < 4; i++)
		g_variant_builder_add(&builder, "(xbv)", (gint64)i * 1000000, i == 2,
				      i == 2 ? g_variant_new_string(big) : g_variant_new_int32(0));
	eos_call_fails(eos, "RecordEventSequence",
		       g_variant_new("(u@aya(xbv))", 0u, event_id(ID_DURATION), &builder), invalid);
	n_malformed += 3;
	/* a sequence longer than a batch may be */
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(xbv)"));
	for (guint i = 0; i < METRICS_MAX_BATCH + 1; i++)
		g_variant_builder_add(&builder, "(xbv)", (gint64)i * 1000, FALSE,
				      g_variant_new_int32(0));
	eos_call_fails(eos, "RecordEventSequence",
		       g_variant_new("(u@aya(xbv))", 0u, event_id(ID_DURATION), &builder), limit);
	n_malformed += 1;

	/* wrong D-Bus types, missing and extra arguments: GDBus refuses them */
	eos_call_fails(eos, "RecordSingularEvent", g_variant_new("(s)", "x"), args);
	eos_call_fails(eos, "RecordSingularEvent", NULL, args);
	eos_call_fails(
		eos, "RecordSingularEvent",
		g_variant_new("(usxbv)", 0u, ID_VALUE, (gint64)0, FALSE, g_variant_new_int32(0)),
		args);
	eos_call_fails(eos, "RecordAggregateEvent",
		       g_variant_new("(u@ayxbv)", 0u, event_id(ID_COUNTER), (gint64)0, FALSE,
				     g_variant_new_int32(0)),
		       args);
	eos_call_fails(eos, "RecordEventSequence",
		       g_variant_new("(u@aya(xv))", 0u, event_id(ID_DURATION), NULL), args);
	eos_call_fails(eos, "SetEnabled", g_variant_new("(s)", "true"), args);
	eos_call_fails(eos, "UploadEvents", g_variant_new("(b)", TRUE), args);
	/* what is deliberately not served */
	eos_call_fails(eos, "StartAggregateTimer", singular(ID_DURATION, NULL), unknown);
	eos_call_fails(eos, "ResetTrackingId", NULL, unknown);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
			eos, EOS_NAME, EOS_PATH, "org.freedesktop.DBus.Properties", "Get",
			g_variant_new("(ss)", EOS_INTERFACE, "TrackingId"), NULL,
			G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);

		g_assert_null(reply);
		g_assert_nonnull(error);
	}
	/* Enabled is not writable as a property: SetEnabled is the setter */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
			eos, EOS_NAME, EOS_PATH, "org.freedesktop.DBus.Properties", "Set",
			g_variant_new("(ssv)", EOS_INTERFACE, "Enabled",
				      g_variant_new_boolean(FALSE)),
			NULL, G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);

		g_assert_null(reply);
		g_assert_nonnull(error);
		g_assert_true(get_enabled(eos));
	}

	/* the daemon is still there, counted the refused calls, and records */
	g_assert_true(mtest_process_running((GPid)g_ascii_strtoll(
		g_subprocess_get_identifier(fixture->harness->daemon), NULL, 10)));
	g_assert_cmpint(cli_drops_for(fixture, "malformed-calls"), ==, n_malformed);
	eos_call_ok(eos, "RecordSingularEvent", singular(ID_VALUE, g_variant_new_string(MARKER)));
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 1);
}

typedef struct {
	guint n_pending;
	guint n_ok;
	guint n_limited;
	guint n_other;
} FloodCount;

static void
flood_reply_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	FloodCount *count = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

	count->n_pending--;
	if (reply != NULL) {
		count->n_ok++;
	} else {
		g_autofree char *remote = g_dbus_error_get_remote_error(error);

		if (g_strcmp0(remote, "org.fedoraproject.Metrics1.Error.LimitExceeded") == 0)
			count->n_limited++;
		else
			count->n_other++;
	}
}

static gboolean
flood_answered_cb(gpointer user_data)
{
	FloodCount *count = user_data;
	return count->n_pending == 0;
}

/* the eos interface shares the per-client call rate of the native one: a
 * flooding eos client is refused, not served without limit, and counted */
static void
test_call_rate_shared(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GDBusConnection) eos = mtest_harness_connect(fixture->harness);
	FloodCount count = {0};

	for (guint i = 0; i < 100; i++) {
		count.n_pending++;
		g_dbus_connection_call(eos, EOS_NAME, EOS_PATH, EOS_INTERFACE,
				       "RecordAggregateEvent", aggregate(ID_COUNTER, 1, NULL),
				       G_VARIANT_TYPE("()"), G_DBUS_CALL_FLAGS_NONE,
				       CALL_TIMEOUT_MS, NULL, flood_reply_cb, &count);
	}
	mtest_wait_until(flood_answered_cb, &count, "every call of the flood answered");
	g_assert_cmpuint(count.n_other, ==, 0);
	g_assert_cmpuint(count.n_ok, >=, 1);
	g_assert_cmpuint(count.n_limited, >=, 1);
	g_assert_cmpuint(mtest_drops_for(fixture, "rate-limited-calls"), ==, count.n_limited);
	/* what was answered is what is stored */
	g_assert_cmpuint(mtest_stored_events(fixture), ==, count.n_ok);
}

/* a call to the eos name starts the daemon, as the installed activation
 * file does, and what it records is stored */
static void
test_activation(void)
{
	const char *const activated_args[] = {"--idle-timeout=0", NULL};
	g_autoptr(MtestHarness) harness = mtest_harness_new();
	g_autofree char *policy = g_test_build_filename(G_TEST_DIST, "..", "data", "dbus",
							"com.endlessm.Metrics.conf", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree char *owner = NULL;
	g_autofree char *native_owner = NULL;

	/* the shipped policy, parsed by dbus-daemon on top of the open one */
	mtest_harness_add_bus_config(harness, policy);
	mtest_harness_set_activatable(harness, activated_args);
	mtest_harness_write_consent(harness, "granted");
	mtest_harness_start_bus(harness);
	g_assert_null(mtest_harness_get_name_owner(harness, EOS_NAME));

	reply = g_dbus_connection_call_sync(
		harness->connection, EOS_NAME, EOS_PATH, EOS_INTERFACE, "RecordSingularEvent",
		singular(ID_VALUE, g_variant_new_string(MARKER)), G_VARIANT_TYPE("()"),
		G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);
	g_assert_no_error(error);
	owner = mtest_harness_get_name_owner(harness, EOS_NAME);
	native_owner = mtest_harness_get_name_owner(harness, METRICS_DBUS_NAME);
	g_assert_nonnull(owner);
	/* one daemon serves both names */
	g_assert_cmpstr(owner, ==, native_owner);
	g_assert_true(mtest_harness_state_contains(harness, MARKER));
}

static const char *const one_call_per_second[] = {"--max-client-calls=1", NULL};

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add("/metrics/eos/record-kinds", MtestFixture, NULL, mtest_fixture_set_up_granted,
		   test_record_kinds, mtest_fixture_tear_down);
	g_test_add("/metrics/eos/enabled-follows-consent", MtestFixture, NULL, mtest_fixture_set_up,
		   test_enabled_follows_consent, mtest_fixture_tear_down);
	g_test_add("/metrics/eos/set-enabled-needs-polkit", MtestFixture, NULL,
		   mtest_fixture_set_up, test_set_enabled_needs_polkit, mtest_fixture_tear_down);
	g_test_add("/metrics/eos/no-consent-no-data", MtestFixture, NULL, mtest_fixture_set_up,
		   test_no_consent_no_data, mtest_fixture_tear_down);
	g_test_add("/metrics/eos/drops-counted", MtestFixture, NULL, mtest_fixture_set_up_granted,
		   test_drops_counted, mtest_fixture_tear_down);
	g_test_add("/metrics/eos/malformed-calls", MtestFixture, NULL, mtest_fixture_set_up_granted,
		   test_malformed_calls, mtest_fixture_tear_down);
	g_test_add("/metrics/eos/call-rate-shared", MtestFixture, one_call_per_second,
		   mtest_fixture_set_up_granted, test_call_rate_shared, mtest_fixture_tear_down);
	g_test_add_func("/metrics/eos/activation", test_activation);
	return g_test_run();
}
