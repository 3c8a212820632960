/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The whole stack on a private system bus (tests/mtest-stack.c): access
 * control. Each user sees and clears their own data; every privileged call
 * needs its own polkit action, and only that one.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include "metrics-private.h"
#include "mtest-stack.h"

/* a user clears their own data freely; everybody's needs polkit */
static void
test_clear_and_read_all(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) all = NULL;
	guint64 removed = 0;
	const char *const allow_all[] = {"org.fedoraproject.Metrics1.set-consent",
					 "org.fedoraproject.Metrics1.read-all",
					 "org.fedoraproject.Metrics1.clear-all", NULL};

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 1);

	g_assert_null(metrics_client_get_local_data_sync(
		fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	g_assert_false(metrics_client_clear_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						 &removed, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);

	mtest_harness_set_allowed(fixture->harness, allow_all);
	all = metrics_client_get_local_data_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						 NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(all->len, ==, 3);

	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	g_assert_true(metrics_client_clear_sync(fixture->client, METRICS_CLIENT_FLAGS_NONE,
						&removed, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed, ==, 3);
	g_clear_pointer(&all, g_ptr_array_unref);
	all = mtest_get_local_data(fixture);
	g_assert_cmpuint(all->len, ==, 0);
}

/* runs @args (a program of the build tree first) as nobody, from copies
 * nobody may read (mtest_harness_argv_as_user()) */
static int
run_as_nobody(MtestFixture *fixture, const char *const *args, char **out)
{
	g_autoptr(GPtrArray) argv = mtest_harness_argv_as_user(fixture->harness, 65534, args);

	return mtest_harness_run(fixture->harness, (const char *const *)argv->pdata, out, NULL);
}

/* a second user's events are stored under that user's uid, taken from the
 * bus: each user sees and clears only their own data */
static void
test_other_user(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) own = NULL;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *example = mtest_harness_build_path("MTEST_EXAMPLE");
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	g_autofree char *out = NULL;
	guint n_nobody = 0;
	const char *const allow_all[] = {"org.fedoraproject.Metrics1.set-consent",
					 "org.fedoraproject.Metrics1.read-all", NULL};
	const char *const record_args[] = {
		example, "--count", "2", "--app-id", "org.gnome.Nautilus.desktop", NULL};
	const char *const show_args[] = {cli, "--json", "show", NULL};
	const char *const clear_args[] = {cli, "clear", NULL};
	const char *const deny_args[] = {cli, "consent", "deny", NULL};

	if (getuid() != 0) {
		g_test_skip("running a client under another uid needs root (CI runs as root)");
		return;
	}
	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 1);
	g_assert_cmpint(run_as_nobody(fixture, record_args, NULL), ==, 0);

	own = mtest_get_local_data(fixture);
	g_assert_cmpuint(own->len, ==, 3);
	for (guint i = 0; i < own->len; i++)
		g_assert_cmpuint(metrics_aggregate_get_uid(g_ptr_array_index(own, i)), ==, 0);

	mtest_harness_set_allowed(fixture->harness, allow_all);
	all = metrics_client_get_local_data_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						 NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(all->len, ==, 6);
	for (guint i = 0; i < all->len; i++) {
		if (metrics_aggregate_get_uid(g_ptr_array_index(all, i)) == 65534)
			n_nobody++;
	}
	g_assert_cmpuint(n_nobody, ==, 3);

	/* the other user sees only their own rows */
	g_assert_cmpint(run_as_nobody(fixture, show_args, &out), ==, 0);
	node = json_from_string(out, &error);
	g_assert_no_error(error);
	{
		JsonArray *rows =
			json_object_get_array_member(json_node_get_object(node), "aggregates");
		g_assert_cmpuint(json_array_get_length(rows), ==, 3);
		for (guint i = 0; i < json_array_get_length(rows); i++)
			g_assert_cmpint(json_object_get_int_member(
						json_array_get_object_element(rows, i), "uid"),
					==, 65534);
	}

	/* and may not change consent, even though root's caller is allowed:
	 * the mock allows per action, so deny everything for this check */
	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	g_assert_cmpint(run_as_nobody(fixture, deny_args, NULL), ==, 5);

	/* clearing their data leaves everybody else's */
	g_assert_cmpint(run_as_nobody(fixture, clear_args, NULL), ==, 0);
	g_clear_pointer(&own, g_ptr_array_unref);
	own = mtest_get_local_data(fixture);
	g_assert_cmpuint(own->len, ==, 3);

	/* root, authorised to clear everybody's, removes the other user's rows
	 * too */
	g_assert_cmpint(run_as_nobody(fixture, record_args, NULL), ==, 0);
	{
		const char *const allow_clear[] = {"org.fedoraproject.Metrics1.clear-all",
						   "org.fedoraproject.Metrics1.read-all", NULL};
		guint64 removed = 0;

		mtest_harness_set_allowed(fixture->harness, allow_clear);
		g_assert_true(metrics_client_clear_sync(
			fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS, &removed, NULL, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(removed, ==, 6);
		g_clear_pointer(&all, g_ptr_array_unref);
		all = metrics_client_get_local_data_sync(
			fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(all->len, ==, 0);
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&node, json_node_unref);
		/* 2: nothing to show (metrics-cli(1)), still as JSON */
		g_assert_cmpint(run_as_nobody(fixture, show_args, &out), ==, 2);
		node = json_from_string(out, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
					 json_node_get_object(node), "aggregates")),
				 ==, 0);
	}
}

static const char *const all_actions[] = {
	"org.fedoraproject.Metrics1.set-consent", "org.fedoraproject.Metrics1.read-all",
	"org.fedoraproject.Metrics1.clear-all", "org.fedoraproject.Metrics1.upload-now", NULL};

typedef struct {
	const char *method;
	const char *args; /* GVariant text of the parameters */
	const char *reply_type;
	const char *action;
} PrivilegedCall;

/* every call that needs polkit, with the one action it needs */
static const PrivilegedCall privileged_calls[] = {
	{"SetConsent", "('granted', @a{sv} {})", "()", "org.fedoraproject.Metrics1.set-consent"},
	{"Clear", "({'all': <true>},)", "(t)", "org.fedoraproject.Metrics1.clear-all"},
	{"GetLocalData", "({'all': <true>},)", "(a(ussuavtt))",
	 "org.fedoraproject.Metrics1.read-all"},
	{"UploadNow", "(@a{sv} {},)", "(uu)", "org.fedoraproject.Metrics1.upload-now"},
	{"GetPendingUploads", "(@a{sv} {},)", "(aa{sv})", "org.fedoraproject.Metrics1.read-all"},
	{"GetSentUploads", "(@a{sv} {},)", "(aa{sv})", "org.fedoraproject.Metrics1.read-all"},
	/* last: the calls above need consent */
	{"SetConsent", "('denied', @a{sv} {})", "()", "org.fedoraproject.Metrics1.set-consent"},
};

static GVariant *
privileged_call(MtestFixture *fixture, const PrivilegedCall *entry, GError **error)
{
	g_autoptr(GError) parse_error = NULL;
	GVariant *args = g_variant_parse(NULL, entry->args, NULL, NULL, &parse_error);

	g_assert_no_error(parse_error);
	return mtest_harness_call(fixture->harness, entry->method, args, entry->reply_type, error);
}

static void
fixture_set_up_uploads(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *config = NULL;
	g_autofree char *config_arg = NULL;
	const char *args[2] = {NULL, NULL};

	fixture->harness = mtest_harness_new();
	mtest_harness_start_bus(fixture->harness);
	mtest_harness_start_polkit(fixture->harness);
	mtest_harness_write_consent(fixture->harness, "granted");
	/* a local server, so UploadNow does not depend on the network; the
	 * outbox is empty, so nothing is sent to it */
	path = g_build_filename(fixture->harness->tmpdir, "upload.conf", NULL);
	config = g_strdup("[Upload]\nServerUrl=http://127.0.0.1:9\n");
	g_assert_true(g_file_set_contents(path, config, -1, &error));
	config_arg = g_strdup_printf("--config=%s", path);
	args[0] = config_arg;
	mtest_harness_start_daemon(fixture->harness, args);
	fixture->client = metrics_client_new(fixture->harness->connection);
}

/* every privileged call: refused with nothing allowed and with every other
 * action allowed; served with only its own action allowed */
static void
test_privileged_calls(MtestFixture *fixture, gconstpointer user_data)
{
	g_autofree char *policy_path = g_test_build_filename(
		G_TEST_DIST, "..", "data", "polkit", "org.fedoraproject.Metrics1.policy.in", NULL);
	g_autofree char *policy = NULL;
	guint n_actions = 0;

	/* the table covers every action the policy defines */
	g_assert_true(g_file_get_contents(policy_path, &policy, NULL, NULL));
	for (const char *p = policy; (p = strstr(p, "<action id=\"")) != NULL; n_actions++) {
		g_autofree char *id = NULL;
		gboolean covered = FALSE;

		p += strlen("<action id=\"");
		id = g_strndup(p, strcspn(p, "\""));
		for (guint i = 0; i < G_N_ELEMENTS(privileged_calls); i++)
			covered |= g_strcmp0(privileged_calls[i].action, id) == 0;
		g_assert_true(covered);
		g_assert_true(g_strv_contains(all_actions, id));
	}
	g_assert_cmpuint(n_actions, ==, g_strv_length((GStrv)all_actions));

	for (guint i = 0; i < G_N_ELEMENTS(privileged_calls); i++) {
		const PrivilegedCall *entry = &privileged_calls[i];
		const char *only[] = {entry->action, NULL};
		const char *others[G_N_ELEMENTS(all_actions)] = {NULL};
		guint n_others = 0;

		g_test_message("%s %s needs %s", entry->method, entry->args, entry->action);
		for (guint j = 0; all_actions[j] != NULL; j++) {
			if (g_strcmp0(all_actions[j], entry->action) != 0)
				others[n_others++] = all_actions[j];
		}
		for (guint round = 0; round < 3; round++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) reply = NULL;

			mtest_harness_set_allowed(fixture->harness,
						  round == 0 ? mtest_allow_nothing :
						  round == 1 ? (const char *const *)others :
							       (const char *const *)only);
			reply = privileged_call(fixture, entry, &error);
			if (round < 2) {
				g_autofree char *remote = NULL;

				g_assert_null(reply);
				g_assert_nonnull(error);
				remote = g_dbus_error_get_remote_error(error);
				g_assert_cmpstr(
					remote, ==,
					"org.fedoraproject.Metrics1.Error.PermissionDenied");
			} else {
				g_assert_no_error(error);
				g_assert_nonnull(reply);
			}
		}
	}
}

/* a denial on SetConsent changes nothing, and after a granted denial the
 * store is gone (the allowed path really acts) */
static void
test_privileged_calls_act(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const char *only_clear[] = {"org.fedoraproject.Metrics1.clear-all", NULL};
	guint64 removed = 0;

	recorder = mtest_record_some(fixture, MARKER, 2);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 8);
	mtest_harness_set_allowed(fixture->harness, only_clear);
	g_assert_cmpstr(privileged_calls[1].method, ==, "Clear");
	reply = privileged_call(fixture, &privileged_calls[1], &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(t)", &removed);
	g_assert_cmpuint(removed, ==, 3);
	g_assert_cmpuint(mtest_stored_events(fixture), ==, 0);
}

static JsonObject *
status_as_nobody(MtestFixture *fixture, const char *const *args, int expected, JsonNode **node)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;

	g_assert_cmpint(run_as_nobody(fixture, args, &out), ==, expected);
	if (expected != 0)
		return NULL;
	*node = json_from_string(out, &error);
	g_assert_no_error(error);
	return json_node_get_object(*node);
}

/* GetStatus tells each user their own figures; everybody's, and what is
 * about the whole machine (the store's size, drops, uploads, clients),
 * needs read-all */
static void
test_status_scope(MtestFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GVariant) own = NULL;
	g_autoptr(GVariant) all = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *example = mtest_harness_build_path("MTEST_EXAMPLE");
	g_autofree char *cli = mtest_harness_build_path("MTEST_CLI");
	const char *const machine_keys[] = {
		"stored-bytes",	   "store-used-bytes", "drops",	      "drops-by-metric", "clients",
		"pending-uploads", "set-aside",	       "next-upload", "last-upload",	 NULL};
	const char *const allow_read_all[] = {"org.fedoraproject.Metrics1.read-all", NULL};
	const char *const record_args[] = {
		example, "--count", "2", "--app-id", "org.gnome.Nautilus.desktop", NULL};
	const char *const status_args[] = {cli, "--json", "status", NULL};
	const char *const status_all_args[] = {cli, "--json", "status", "--all", NULL};
	guint64 own_keys = 0, own_accepted = 0, all_keys = 0, all_accepted = 0;
	guint64 nobody_accepted = 0;
	gboolean all_users = TRUE;
	JsonObject *object;

	mtest_grant_consent(fixture);
	recorder = mtest_record_some(fixture, "org.gnome.Maps.desktop", 1);

	/* the caller's own, and nothing of the machine */
	own = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(own, "all-users", "b", &all_users));
	g_assert_false(all_users);
	g_assert_true(g_variant_lookup(own, "stored-keys", "t", &own_keys));
	g_assert_true(g_variant_lookup(own, "accepted", "t", &own_accepted));
	g_assert_cmpuint(own_keys, ==, 3);
	g_assert_cmpuint(own_accepted, ==, 3);
	for (guint i = 0; machine_keys[i] != NULL; i++) {
		g_autoptr(GVariant) value = g_variant_lookup_value(own, machine_keys[i], NULL);
		if (value != NULL)
			g_error("GetStatus without all tells %s", machine_keys[i]);
	}

	/* everybody's: denied without read-all, then allowed */
	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	g_assert_null(metrics_client_get_status_full_sync(
		fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS, NULL, &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	mtest_harness_set_allowed(fixture->harness, allow_read_all);
	all = metrics_client_get_status_full_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						  NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(all, "all-users", "b", &all_users));
	g_assert_true(all_users);
	for (guint i = 0; machine_keys[i] != NULL; i++) {
		g_autoptr(GVariant) value = g_variant_lookup_value(all, machine_keys[i], NULL);
		g_assert_nonnull(value);
	}
	/* an option of another type is refused, saying what it takes */
	g_assert_null(mtest_harness_call(fixture->harness, "GetStatus",
					 g_variant_new_parsed("({'all': <'yes'>},)"), "(a{sv})",
					 &error));
	g_assert_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA);
	g_clear_error(&error);

	if (getuid() != 0) {
		g_test_message("NOTE: the other-uid part needs root (setpriv); CI runs as root");
		return;
	}
	g_assert_cmpint(g_chmod(fixture->harness->tmpdir, 0755), ==, 0);
	g_assert_cmpint(run_as_nobody(fixture, record_args, NULL), ==, 0);

	/* the other user sees their own figures only */
	object = status_as_nobody(fixture, status_args, 0, &node);
	g_assert_false(json_object_get_boolean_member(object, "all-users"));
	g_assert_cmpint(json_object_get_int_member(object, "stored-keys"), ==, 3);
	nobody_accepted = (guint64)json_object_get_int_member(object, "accepted");
	g_assert_cmpuint(nobody_accepted, >, 0);
	for (guint i = 0; machine_keys[i] != NULL; i++)
		g_assert_false(json_object_has_member(object, machine_keys[i]));
	g_clear_pointer(&node, json_node_unref);

	/* and so does root, whose figures did not change */
	g_clear_pointer(&own, g_variant_unref);
	own = metrics_client_get_status_sync(fixture->client, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(own, "stored-keys", "t", &own_keys));
	g_assert_true(g_variant_lookup(own, "accepted", "t", &own_accepted));
	g_assert_cmpuint(own_keys, ==, 3);
	g_assert_cmpuint(own_accepted, ==, 3);

	/* with read-all, everybody's */
	g_clear_pointer(&all, g_variant_unref);
	all = metrics_client_get_status_full_sync(fixture->client, METRICS_CLIENT_FLAGS_ALL_USERS,
						  NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(all, "stored-keys", "t", &all_keys));
	g_assert_true(g_variant_lookup(all, "accepted", "t", &all_accepted));
	g_assert_cmpuint(all_keys, ==, 6);
	g_assert_cmpuint(all_accepted, ==, 3 + nobody_accepted);
	object = status_as_nobody(fixture, status_all_args, 0, &node);
	g_assert_true(json_object_get_boolean_member(object, "all-users"));
	g_assert_cmpint(json_object_get_int_member(object, "stored-keys"), ==, 6);
	g_clear_pointer(&node, json_node_unref);

	/* without it, the other user's --all is refused (5: not authorised) */
	mtest_harness_set_allowed(fixture->harness, mtest_allow_nothing);
	status_as_nobody(fixture, status_all_args, 5, &node);
}

int
main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/metrics/access/clear-and-read-all", MtestFixture, NULL, mtest_fixture_set_up,
		   test_clear_and_read_all, mtest_fixture_tear_down);
	g_test_add("/metrics/access/status-scope", MtestFixture, NULL, mtest_fixture_set_up,
		   test_status_scope, mtest_fixture_tear_down);
	g_test_add("/metrics/access/other-user", MtestFixture, NULL, mtest_fixture_set_up,
		   test_other_user, mtest_fixture_tear_down);
	g_test_add("/metrics/access/privileged-calls", MtestFixture, NULL, fixture_set_up_uploads,
		   test_privileged_calls, mtest_fixture_tear_down);
	g_test_add("/metrics/access/privileged-calls-act", MtestFixture, NULL,
		   mtest_fixture_set_up_granted, test_privileged_calls_act,
		   mtest_fixture_tear_down);

	return g_test_run();
}
