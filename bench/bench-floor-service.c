/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * The floor the benchmarks measure the daemon against: a service that owns
 * the daemon's name on the same bus and answers the same methods through
 * the same generated skeleton, and does nothing with what it receives.
 * What it costs per call and per event is what GDBus and the bus cost
 * before the daemon does anything of its own. It takes the daemon's
 * command line (and ignores it), so the benchmarks start it in the
 * daemon's place (MTEST_DAEMON) with the same harness, and under callgrind
 * the same way.
 *
 * RecordEvents answers (n, 0) for a batch of n events (the count is the
 * array's last offset: nothing is parsed); GetStatus answers "accepted"
 * with the sum of those; the Consent property says "granted".
 */

#include "config.h"

#include <glib-unix.h>
#include <locale.h>

#include "metrics-private.h"
#include "mrd-dbus-generated.h"

typedef struct {
	GMainLoop *loop;
	guint64 n_accepted;
} Floor;

static gboolean
handle_record_events_cb(MrdDBusRecorder *object,
			GDBusMethodInvocation *invocation,
			GVariant *events,
			GVariant *options,
			gpointer user_data)
{
	Floor *floor_ = user_data;
	g_autoptr(GVariant) batch = g_variant_new_from_data(
		G_VARIANT_TYPE("a" METRICS_WIRE_EVENT_TYPE), g_variant_get_data(events),
		g_variant_get_size(events), FALSE, NULL, NULL);
	guint n = (guint)g_variant_n_children(batch);

	g_variant_ref_sink(batch);
	floor_->n_accepted += n;
	mrd_dbus_recorder_complete_record_events(object, invocation, n, 0);
	return TRUE;
}

static gboolean
handle_get_status_cb(MrdDBusRecorder *object,
		     GDBusMethodInvocation *invocation,
		     GVariant *options,
		     gpointer user_data)
{
	Floor *floor_ = user_data;
	GVariantDict dict;

	g_variant_dict_init(&dict, NULL);
	g_variant_dict_insert(&dict, "accepted", "t", floor_->n_accepted);
	g_variant_dict_insert(&dict, "stored-keys", "t", (guint64)0);
	g_variant_dict_insert(&dict, "stored-bytes", "t", (guint64)0);
	mrd_dbus_recorder_complete_get_status(object, invocation, g_variant_dict_end(&dict));
	return TRUE;
}

static gboolean
quit_cb(gpointer user_data)
{
	Floor *floor_ = user_data;

	g_main_loop_quit(floor_->loop);
	return G_SOURCE_CONTINUE;
}

static void
name_lost_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	Floor *floor_ = user_data;

	g_printerr("bench-floor-service: lost or could not own %s\n", name);
	g_main_loop_quit(floor_->loop);
}

int
main(int argc, char *argv[])
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = NULL;
	g_autoptr(MrdDBusRecorderSkeleton) skeleton = NULL;
	Floor floor_ = {0};
	guint owner_id;

	setlocale(LC_ALL, "");
	/* the daemon's arguments are accepted and ignored */
	(void)argc;
	(void)argv;
	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (bus == NULL) {
		g_printerr("bench-floor-service: %s\n", error->message);
		return 1;
	}
	floor_.loop = g_main_loop_new(NULL, FALSE);
	skeleton = MRD_DBUS_RECORDER_SKELETON(mrd_dbus_recorder_skeleton_new());
	mrd_dbus_recorder_set_consent(MRD_DBUS_RECORDER(skeleton), "granted");
	g_signal_connect(skeleton, "handle-record-events", G_CALLBACK(handle_record_events_cb),
			 &floor_);
	g_signal_connect(skeleton, "handle-get-status", G_CALLBACK(handle_get_status_cb), &floor_);
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(skeleton), bus,
					      METRICS_DBUS_PATH, &error)) {
		g_printerr("bench-floor-service: %s\n", error->message);
		return 1;
	}
	owner_id = g_bus_own_name_on_connection(bus, METRICS_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
						NULL, name_lost_cb, &floor_, NULL);
	g_unix_signal_add(SIGTERM, quit_cb, &floor_);
	g_unix_signal_add(SIGINT, quit_cb, &floor_);
	g_main_loop_run(floor_.loop);
	g_bus_unown_name(owner_id);
	g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(skeleton));
	g_dbus_connection_flush_sync(bus, NULL, NULL);
	g_main_loop_unref(floor_.loop);
	return 0;
}
