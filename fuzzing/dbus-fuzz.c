/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * A fuzzer for the live daemon, not a libFuzzer target: the real
 * metrics-recorder on a private system bus (tests/mtest-harness.c, polkit
 * mocked and allowing nothing, consent granted), sent bursts of random and
 * mutated calls from several connections, with and without
 * NO_REPLY_EXPECTED: every method of data/dbus/org.fedoraproject.Metrics1.xml
 * (read at start), with right and wrong signatures, random bodies and
 * mutated RecordEvents batches, plus calls of the standard interfaces and
 * of members that do not exist; and the same for every method of the
 * Endless client interface the daemon serves too
 * (data/dbus/com.endlessm.Metrics.xml), with event ids of every length. After each burst the daemon
 * must still answer GetStatus, and what was stored before the first burst must be unchanged
 * (GetLocalData).
 *
 * A message GLib itself cannot decode (the array padding bug of
 * docs/architecture.md) would cost the daemon its connection: such
 * messages are generated, decoded by this program first, and skipped.
 *
 *   dbus-fuzz [--seed N] [--seconds N] [--bursts N] [--burst-size N]
 *
 * Needs the harness's environment (MTEST_DAEMON, MTEST_BUS_CONFIG,
 * MTEST_PYTHON, MTEST_ALLOWLIST_DIRS; fuzzing/meson.build sets it),
 * METRICS_INTERFACE_XML and METRICS_EOS_INTERFACE_XML. Exits 1 with the seed and the burst on
 * failure.
 */

#include "config.h"

#include <stdio.h>

#include "metrics-private.h"
#include "mtest-harness.h"

#define N_CONNECTIONS 3
#define REFERENCE_PAYLOAD "dbus-fuzz-reference"
#define REPLY_TIMEOUT_MS 10000

/* the metric of tests/allowlist.d that takes a string value */
#define ID_VALUE "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"

/* the Endless client interface (data/dbus/com.endlessm.Metrics.xml) */
#define EOS_NAME "com.endlessm.Metrics"
#define EOS_PATH "/com/endlessm/Metrics"
#define EOS_INTERFACE "com.endlessm.Metrics.EventRecorderServer"

typedef struct {
	GRand *rand;		   /* (owned) */
	GDBusInterfaceInfo *iface; /* (owned) */
	GDBusInterfaceInfo *eos;   /* (owned) */
	GDBusConnection *connections[N_CONNECTIONS];
	guint n_pending;
	guint64 n_sent;
	guint64 n_skipped;
	guint64 n_replies;
	guint64 n_errors;
} Fuzzer;

static const char *const basic_types = "ybnqiuxtdsogvh";

/* ---- random values ---- */

static char *
random_type(Fuzzer *f, guint depth)
{
	guint choice = g_rand_int_range(f->rand, 0, depth >= 3 ? 1 : 10);

	if (choice == 0 || choice > 6) {
		char c = basic_types[g_rand_int_range(f->rand, 0, (gint)strlen(basic_types))];
		/* handles need file descriptors in the message */
		if (c == 'h')
			c = 'u';
		return g_strdup_printf("%c", c);
	}
	if (choice == 1 || choice == 2) {
		g_autofree char *element = random_type(f, depth + 1);
		return g_strdup_printf("a%s", element);
	}
	if (choice == 3) {
		char key = basic_types[g_rand_int_range(f->rand, 0, 12)];
		g_autofree char *value = random_type(f, depth + 1);
		return g_strdup_printf("a{%c%s}", key == 'v' ? 's' : key, value);
	}
	if (choice == 4)
		return g_strdup("v");
	{
		GString *tuple = g_string_new("(");
		guint n = g_rand_int_range(f->rand, 1, 4);

		for (guint i = 0; i < n; i++) {
			g_autofree char *member = random_type(f, depth + 1);
			g_string_append(tuple, member);
		}
		g_string_append_c(tuple, ')');
		return g_string_free(tuple, FALSE);
	}
}

static char *
random_string(Fuzzer *f)
{
	static const char *const samples[] = {"",      "granted", "denied", "unknown", "all",
					      "a{sv}", "s",	  "/",	    "éé",      "x"};
	if (g_rand_boolean(f->rand))
		return g_strdup(samples[g_rand_int_range(f->rand, 0, G_N_ELEMENTS(samples))]);
	{
		guint len = g_rand_int_range(f->rand, 0, 40);
		char *s = g_malloc(len + 1);

		for (guint i = 0; i < len; i++)
			s[i] = (char)g_rand_int_range(f->rand, 'a', 'z' + 1);
		s[len] = '\0';
		return s;
	}
}

static GVariant *
random_value(Fuzzer *f, const GVariantType *type, guint depth);

static GVariant *
random_basic(Fuzzer *f, char c)
{
	switch (c) {
	case 'y':
		return g_variant_new_byte((guchar)g_rand_int(f->rand));
	case 'b':
		return g_variant_new_boolean(g_rand_boolean(f->rand));
	case 'n':
		return g_variant_new_int16((gint16)g_rand_int(f->rand));
	case 'q':
		return g_variant_new_uint16((guint16)g_rand_int(f->rand));
	case 'i':
		return g_variant_new_int32((gint32)g_rand_int(f->rand));
	case 'u':
	case 'h':
		return g_variant_new_uint32(g_rand_int(f->rand));
	case 'x':
		return g_variant_new_int64(
			(gint64)(((guint64)g_rand_int(f->rand) << 32) | g_rand_int(f->rand)));
	case 't':
		return g_variant_new_uint64(((guint64)g_rand_int(f->rand) << 32) |
					    g_rand_int(f->rand));
	case 'd':
		return g_variant_new_double(g_rand_double_range(f->rand, -1e9, 1e9));
	case 'o':
		return g_variant_new_object_path(g_rand_boolean(f->rand) ? "/" : METRICS_DBUS_PATH);
	case 'g':
		return g_variant_new_signature(g_rand_boolean(f->rand) ? "s" : "a{sv}");
	default: {
		g_autofree char *s = random_string(f);
		return g_variant_new_string(s);
	}
	}
}

static GVariant *
random_value(Fuzzer *f, const GVariantType *type, guint depth)
{
	const char *str = g_variant_type_peek_string(type);

	if (g_variant_type_is_basic(type))
		return random_basic(f, str[0]);
	if (g_variant_type_is_variant(type)) {
		g_autofree char *inner = depth > 3 ? g_strdup("s") : random_type(f, depth + 1);
		return g_variant_new_variant(random_value(f, G_VARIANT_TYPE(inner), depth + 1));
	}
	if (g_variant_type_is_array(type)) {
		const GVariantType *element = g_variant_type_element(type);
		GVariantBuilder builder;
		guint n = g_rand_int_range(f->rand, 0, depth > 2 ? 3 : 8);

		if (g_variant_type_equal(element, G_VARIANT_TYPE_BYTE)) {
			guint len = g_rand_int_range(f->rand, 0, 512);
			g_autofree guint8 *bytes = g_malloc(len + 1);

			for (guint i = 0; i < len; i++)
				bytes[i] = (guint8)g_rand_int(f->rand);
			return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes, len, 1);
		}
		g_variant_builder_init(&builder, type);
		for (guint i = 0; i < n; i++)
			g_variant_builder_add_value(&builder, random_value(f, element, depth + 1));
		return g_variant_builder_end(&builder);
	}
	if (g_variant_type_is_dict_entry(type))
		return g_variant_new_dict_entry(
			random_value(f, g_variant_type_key(type), depth + 1),
			random_value(f, g_variant_type_value(type), depth + 1));
	/* a tuple */
	{
		GVariantBuilder builder;

		g_variant_builder_init(&builder, type);
		for (const GVariantType *member = g_variant_type_first(type); member != NULL;
		     member = g_variant_type_next(member))
			g_variant_builder_add_value(&builder, random_value(f, member, depth + 1));
		return g_variant_builder_end(&builder);
	}
}

/* ---- RecordEvents batches, valid and mutated ---- */

static GVariant *
valid_batch(Fuzzer *f)
{
	GVariantBuilder builder;
	guint8 id[METRICS_UUID_SIZE];
	guint n = g_rand_int_range(f->rand, 1, 20);

	metrics_uuid_parse(ID_VALUE, id);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < n; i++) {
		/* never the reference payload, which must not change */
		g_variant_builder_add(
			&builder, "(@ayuxxmv)",
			g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id,
						  g_rand_boolean(f->rand) ? 16 : 15, 1),
			(guint32)g_rand_int_range(f->rand, 0, 4),
			g_get_real_time() + g_rand_int_range(f->rand, -1000, 1000),
			(gint64)g_rand_int_range(f->rand, -2, 3),
			g_rand_boolean(f->rand) ? g_variant_new_string("fuzz") : NULL);
	}
	return metrics_batch_to_wire(g_variant_builder_end(&builder));
}

static GVariant *
mutated_batch(Fuzzer *f)
{
	g_autoptr(GVariant) batch = g_variant_ref_sink(valid_batch(f));
	gsize len = g_variant_get_size(batch);
	g_autofree guint8 *bytes = g_memdup2(g_variant_get_data(batch), len);
	guint n_flips = g_rand_int_range(f->rand, 0, 8);

	for (guint i = 0; i < n_flips && len > 0; i++)
		bytes[g_rand_int_range(f->rand, 0, (gint)len)] ^=
			(guint8)(1u << g_rand_int_range(f->rand, 0, 8));
	if (len > 0 && g_rand_int_range(f->rand, 0, 4) == 0)
		len = g_rand_int_range(f->rand, 0, (gint)len);
	return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes, len, 1);
}

/* ---- messages ---- */

static GVariant *
options_value(Fuzzer *f)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	if (g_rand_int_range(f->rand, 0, 3) == 0) {
		g_autofree char *key = random_string(f);
		g_autofree char *type = random_type(f, 2);

		g_variant_builder_add(&builder, "{sv}", key,
				      random_value(f, G_VARIANT_TYPE(type), 2));
	}
	return g_variant_builder_end(&builder);
}

/* an eos event id: an allowlisted UUID, or random bytes of any length
 * around 16 */
static GVariant *
eos_event_id(Fuzzer *f)
{
	guint8 bytes[40];
	gsize n = g_rand_boolean(f->rand) ? 16 : (gsize)g_rand_int_range(f->rand, 0, 40);

	if (n == 16 && g_rand_boolean(f->rand)) {
		metrics_uuid_parse(ID_VALUE, bytes);
	} else {
		for (gsize i = 0; i < n; i++)
			bytes[i] = (guint8)g_rand_int_range(f->rand, 0, 256);
	}
	return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes, n, 1);
}

/* the arguments of @method (of the eos interface with @eos): right, or
 * mutated, or random */
static GVariant *
method_body(Fuzzer *f, GDBusMethodInfo *method, gboolean eos)
{
	guint mode = g_rand_int_range(f->rand, 0, 4);
	GVariantBuilder builder;

	if (mode == 0) {
		g_autofree char *type = random_type(f, 0);
		GVariant *value = random_value(f, G_VARIANT_TYPE(type), 0);

		if (g_variant_is_of_type(value, G_VARIANT_TYPE_TUPLE))
			return value;
		return g_variant_new_tuple(&value, 1);
	}
	if (mode == 1)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE_TUPLE);
	for (guint i = 0; method->in_args != NULL && method->in_args[i] != NULL; i++) {
		const char *signature = method->in_args[i]->signature;

		/* mode 3: one argument of another type */
		if (mode == 3 && g_rand_int_range(f->rand, 0, 2) == 0) {
			g_autofree char *type = random_type(f, 1);
			g_variant_builder_add_value(&builder,
						    random_value(f, G_VARIANT_TYPE(type), 1));
		} else if (g_strcmp0(signature, "a{sv}") == 0) {
			g_variant_builder_add_value(&builder, options_value(f));
		} else if (eos && g_strcmp0(signature, "ay") == 0) {
			g_variant_builder_add_value(&builder, eos_event_id(f));
		} else if (g_strcmp0(signature, "ay") == 0) {
			g_variant_builder_add_value(&builder, g_rand_boolean(f->rand) ?
								      mutated_batch(f) :
								      valid_batch(f));
		} else if (g_strcmp0(signature, "s") == 0) {
			g_autofree char *s = random_string(f);
			g_variant_builder_add_value(&builder, g_variant_new_string(s));
		} else {
			g_variant_builder_add_value(&builder,
						    random_value(f, G_VARIANT_TYPE(signature), 1));
		}
	}
	if (mode == 3 && g_rand_boolean(f->rand))
		g_variant_builder_add_value(&builder, g_variant_new_uint32(g_rand_int(f->rand)));
	return g_variant_builder_end(&builder);
}

static GDBusMessage *
random_message(Fuzzer *f)
{
	static const char *const other_interfaces[][2] = {
		{"org.freedesktop.DBus.Properties", "Get"},
		{"org.freedesktop.DBus.Properties", "GetAll"},
		{"org.freedesktop.DBus.Properties", "Set"},
		{"org.freedesktop.DBus.Introspectable", "Introspect"},
		{"org.freedesktop.DBus.Peer", "Ping"},
		{METRICS_DBUS_INTERFACE, "NoSuchMethod"},
		{EOS_INTERFACE, "NoSuchMethod"},
		{EOS_INTERFACE, "StartAggregateTimer"},
	};
	g_autoptr(GDBusMessage) message = NULL;
	/* half the time the eos interface, at its name */
	gboolean eos = g_rand_boolean(f->rand);
	GDBusInterfaceInfo *iface = eos ? f->eos : f->iface;
	const char *name = eos ? EOS_NAME : METRICS_DBUS_NAME;
	const char *path = eos ? EOS_PATH : METRICS_DBUS_PATH;
	guint n_methods = 0;
	guint choice;
	GVariant *body;

	while (iface->methods[n_methods] != NULL)
		n_methods++;
	choice = g_rand_int_range(f->rand, 0, n_methods + 2);
	if (choice < n_methods) {
		GDBusMethodInfo *method = iface->methods[choice];

		message = g_dbus_message_new_method_call(name, path, iface->name, method->name);
		body = method_body(f, method, eos);
		/* Clear with the right arguments deletes the caller's data,
		 * which is everything here: its arguments are always wrong */
		if (g_strcmp0(method->name, "Clear") == 0 && body != NULL &&
		    g_variant_is_of_type(body, G_VARIANT_TYPE("(a{sv})"))) {
			g_variant_unref(g_variant_ref_sink(body));
			body = g_variant_new("(s)", "not the options");
		}
	} else {
		guint i = g_rand_int_range(f->rand, 0, G_N_ELEMENTS(other_interfaces));
		g_autofree char *type = random_type(f, 0);

		message = g_dbus_message_new_method_call(
			name, g_rand_int_range(f->rand, 0, 4) == 0 ? "/" : path,
			other_interfaces[i][0], other_interfaces[i][1]);
		body = g_variant_new_tuple((GVariant *[]){random_value(f, G_VARIANT_TYPE(type), 0)},
					   g_rand_boolean(f->rand) ? 1 : 0);
		if (g_strcmp0(other_interfaces[i][1], "Get") == 0 && g_rand_boolean(f->rand))
			body = (g_variant_unref(g_variant_ref_sink(body)),
				g_variant_new("(ss)", iface->name,
					      g_rand_boolean(f->rand) ?
						      (eos ? "Enabled" : "Consent") :
						      "Nothing"));
	}
	if (body != NULL)
		g_dbus_message_set_body(message, body);
	if (g_rand_boolean(f->rand))
		g_dbus_message_set_flags(message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
	return g_steal_pointer(&message);
}

/* whether GLib can read @message back: the daemon's GDBus could not
 * either, and loses its connection (a known GLib bug, not the daemon's) */
static gboolean
glib_decodes(GDBusMessage *message)
{
	g_autoptr(GDBusMessage) copy = g_dbus_message_copy(message, NULL);
	g_autoptr(GDBusMessage) back = NULL;
	g_autofree guchar *blob = NULL;
	gsize len = 0;

	g_dbus_message_set_serial(copy, 1);
	blob = g_dbus_message_to_blob(copy, &len, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
	if (blob == NULL)
		return FALSE;
	back = g_dbus_message_new_from_blob(blob, len, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
	return back != NULL;
}

static void
reply_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Fuzzer *f = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusMessage) reply = g_dbus_connection_send_message_with_reply_finish(
		G_DBUS_CONNECTION(source), result, &error);

	f->n_pending--;
	if (reply == NULL || g_dbus_message_get_message_type(reply) == G_DBUS_MESSAGE_TYPE_ERROR)
		f->n_errors++;
	else
		f->n_replies++;
}

static void
send_burst(Fuzzer *f, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(GDBusMessage) message = random_message(f);
		GDBusConnection *connection =
			f->connections[g_rand_int_range(f->rand, 0, N_CONNECTIONS)];

		if (!glib_decodes(message)) {
			f->n_skipped++;
			continue;
		}
		f->n_sent++;
		if (g_dbus_message_get_flags(message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) {
			g_dbus_connection_send_message(connection, message,
						       G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
		} else {
			f->n_pending++;
			g_dbus_connection_send_message_with_reply(
				connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
				REPLY_TIMEOUT_MS, NULL, NULL, reply_cb, f);
		}
	}
	while (f->n_pending > 0)
		g_main_context_iteration(NULL, TRUE);
}

/* how many events with the reference payload the store holds */
static guint64
reference_count(MtestHarness *harness, GError **error)
{
	g_autoptr(GVariant) reply = mtest_harness_call(
		harness, "GetLocalData", g_variant_new("(a{sv})", NULL), "(a(ussuavtt))", error);
	g_autoptr(GVariantIter) iter = NULL;
	GVariantIter *payload = NULL;
	guint64 total = 0, count = 0;
	GVariant *value;

	if (reply == NULL)
		return 0;
	g_variant_get(reply, "(a(ussuavtt))", &iter);
	while (g_variant_iter_loop(iter, "(u&s&suavtt)", NULL, NULL, NULL, NULL, &payload, &count,
				   NULL)) {
		while ((value = g_variant_iter_next_value(payload)) != NULL) {
			g_autoptr(GVariant) inner = g_variant_get_variant(value);

			if (g_variant_is_of_type(inner, G_VARIANT_TYPE_STRING) &&
			    g_strcmp0(g_variant_get_string(inner, NULL), REFERENCE_PAYLOAD) == 0)
				total += count;
			g_variant_unref(value);
		}
	}
	return total;
}

static void
record_reference(MtestHarness *harness)
{
	GVariantBuilder builder;
	guint8 id[METRICS_UUID_SIZE];
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	metrics_uuid_parse(ID_VALUE, id);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE));
	for (guint i = 0; i < 20; i++)
		g_variant_builder_add(&builder, "(@ayuxxmv)",
				      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id, 16, 1),
				      (guint32)METRICS_EVENT_KIND_VALUE, g_get_real_time(),
				      (gint64)1, g_variant_new_string(REFERENCE_PAYLOAD));
	reply = mtest_harness_call(
		harness, "RecordEvents",
		g_variant_new("(@aya{sv})", metrics_batch_to_wire(g_variant_builder_end(&builder)),
			      NULL),
		"(uu)", &error);
	if (reply == NULL)
		g_error("cannot record the reference events: %s", error->message);
}

int
main(int argc, char *argv[])
{
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MtestHarness) harness = NULL;
	g_autoptr(GDBusNodeInfo) node = NULL;
	g_autofree char *xml = NULL;
	const char *xml_path = g_getenv("METRICS_INTERFACE_XML");
	const char *eos_xml_path = g_getenv("METRICS_EOS_INTERFACE_XML");
	g_autoptr(GDBusNodeInfo) eos_node = NULL;
	g_autofree char *eos_xml = NULL;
	gint64 seed = -1;
	gint seconds = 20, max_bursts = 0, burst_size = 200;
	const GOptionEntry options[] = {
		{"seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed (default: from the clock)", "N"},
		{"seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Stop after N seconds (20)", "N"},
		{"bursts", 0, 0, G_OPTION_ARG_INT, &max_bursts, "Stop after N bursts (0: none)",
		 "N"},
		{"burst-size", 0, 0, G_OPTION_ARG_INT, &burst_size, "Messages per burst (200)",
		 "N"},
		{NULL},
	};
	Fuzzer f = {0};
	gint64 deadline;
	guint64 reference;
	guint n_bursts = 0;

	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) || xml_path == NULL ||
	    eos_xml_path == NULL) {
		g_printerr("%s\n", error != NULL ?
					   error->message :
					   "METRICS_INTERFACE_XML and METRICS_EOS_INTERFACE_XML "
					   "must be set");
		return 2;
	}
	if (seed < 0)
		seed = g_get_real_time() % G_MAXINT32;
	g_print("seed %" G_GINT64_FORMAT "\n", seed);
	f.rand = g_rand_new_with_seed((guint32)seed);
	if (!g_file_get_contents(xml_path, &xml, NULL, &error) ||
	    (node = g_dbus_node_info_new_for_xml(xml, &error)) == NULL) {
		g_printerr("%s: %s\n", xml_path, error->message);
		return 2;
	}
	f.iface = g_dbus_interface_info_ref(
		g_dbus_node_info_lookup_interface(node, METRICS_DBUS_INTERFACE));
	g_assert_nonnull(f.iface);
	if (!g_file_get_contents(eos_xml_path, &eos_xml, NULL, &error) ||
	    (eos_node = g_dbus_node_info_new_for_xml(eos_xml, &error)) == NULL) {
		g_printerr("%s: %s\n", eos_xml_path, error->message);
		return 2;
	}
	f.eos = g_dbus_interface_info_ref(
		g_dbus_node_info_lookup_interface(eos_node, EOS_INTERFACE));
	g_assert_nonnull(f.eos);

	harness = mtest_harness_new();
	mtest_harness_start_bus(harness);
	mtest_harness_start_polkit(harness);
	mtest_harness_write_consent(harness, "granted");
	mtest_harness_start_daemon(harness, NULL);
	for (guint i = 0; i < N_CONNECTIONS; i++)
		f.connections[i] = mtest_harness_connect(harness);
	record_reference(harness);
	reference = reference_count(harness, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(reference, ==, 20);

	deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline &&
	       (max_bursts == 0 || n_bursts < (guint)max_bursts)) {
		g_autoptr(GVariant) status = NULL;
		guint64 now;

		send_burst(&f, (guint)burst_size);
		n_bursts++;
		status = mtest_harness_call(harness, "GetStatus", g_variant_new("(a{sv})", NULL),
					    NULL, &error);
		if (status == NULL) {
			g_printerr("FAIL: after burst %u (seed %" G_GINT64_FORMAT
				   "), GetStatus: %s\n",
				   n_bursts, seed, error->message);
			return 1;
		}
		now = reference_count(harness, &error);
		if (error != NULL || now != reference) {
			g_printerr("FAIL: after burst %u (seed %" G_GINT64_FORMAT
				   "), the reference data changed: %" G_GUINT64_FORMAT
				   " events, not %" G_GUINT64_FORMAT " (%s)\n",
				   n_bursts, seed, now, reference,
				   error != NULL ? error->message : "no error");
			return 1;
		}
	}
	g_print("%u bursts: %" G_GUINT64_FORMAT " messages sent, %" G_GUINT64_FORMAT
		" replies, %" G_GUINT64_FORMAT " errors, %" G_GUINT64_FORMAT
		" skipped (GLib cannot decode them)\n",
		n_bursts, f.n_sent, f.n_replies, f.n_errors, f.n_skipped);
	for (guint i = 0; i < N_CONNECTIONS; i++)
		g_clear_object(&f.connections[i]);
	g_dbus_interface_info_unref(f.iface);
	g_dbus_interface_info_unref(f.eos);
	g_rand_free(f.rand);
	return 0;
}
