/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdAllowlistSource"

#include "config.h"

#include "mrd-allowlist-source.h"

/*
 * Where the allowlist comes from: its directories, in order, loaded at
 * start, on SIGHUP and whenever one of them (or its value-sets/) changes.
 * A broken file is reported and skipped; the others load. Each load makes
 * a new MrdAllowlist and emits ::changed.
 */

#define RELOAD_DELAY_MS 500
#define VALUE_SETS_DIR "value-sets"

struct _MrdAllowlistSource {
	GObject parent_instance;

	GStrv dirs;		 /* (owned) */
	MrdAllowlist *allowlist; /* (owned) the last loaded */
	GPtrArray *monitors;	 /* (owned) (element-type GFileMonitor) */
	gboolean watching;
	guint reload_id; /* debounces directory changes */
};

G_DEFINE_TYPE(MrdAllowlistSource, mrd_allowlist_source, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* @dirs: (nullable): the directories to load from, in order (later files
 * win); %NULL for the shipped and the administrator's */
MrdAllowlistSource *
mrd_allowlist_source_new(const char *const *dirs)
{
	MrdAllowlistSource *self = g_object_new(MRD_TYPE_ALLOWLIST_SOURCE, NULL);

	self->dirs = dirs != NULL ? g_strdupv((GStrv)dirs) :
				    g_strsplit(MRD_DEFAULT_ALLOWLIST_DIRS, ":", -1);
	return self;
}

/**
 * mrd_allowlist_source_load:
 *
 * Loads the allowlist again from its directories and emits ::changed.
 *
 * Returns: (transfer none): the new allowlist
 */
MrdAllowlist *
mrd_allowlist_source_load(MrdAllowlistSource *self)
{
	g_autoptr(MrdAllowlist) allowlist = NULL;
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
	g_autofree char *dirs = NULL;
	guint n;

	g_return_val_if_fail(MRD_IS_ALLOWLIST_SOURCE(self), NULL);

	allowlist = mrd_allowlist_new((const char *const *)self->dirs);
	n = mrd_allowlist_load(allowlist, errors);
	for (guint i = 0; i < errors->len; i++)
		g_warning("rejected an allowlist file: %s",
			  ((GError *)g_ptr_array_index(errors, i))->message);
	dirs = g_strjoinv(", ", self->dirs);
	g_message("allowlist: %u metrics from %s", n, dirs);
	g_set_object(&self->allowlist, allowlist);
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
	return self->allowlist;
}

/* (transfer none): the allowlist as loaded last (empty before the first
 * load) */
MrdAllowlist *
mrd_allowlist_source_get_allowlist(MrdAllowlistSource *self)
{
	g_return_val_if_fail(MRD_IS_ALLOWLIST_SOURCE(self), NULL);
	return self->allowlist;
}

static void
watch_all(MrdAllowlistSource *self);

static gboolean
reload_cb(gpointer user_data)
{
	MrdAllowlistSource *self = user_data;

	self->reload_id = 0;
	/* a directory may have appeared or gone: watch again, then read */
	g_ptr_array_set_size(self->monitors, 0);
	watch_all(self);
	mrd_allowlist_source_load(self);
	return G_SOURCE_REMOVE;
}

static void
dir_changed_cb(GFileMonitor *monitor,
	       GFile *file,
	       GFile *other_file,
	       GFileMonitorEvent event_type,
	       gpointer user_data)
{
	MrdAllowlistSource *self = user_data;

	/* an editor or a package writes several files: reload once */
	if (self->reload_id != 0)
		g_source_remove(self->reload_id);
	self->reload_id = g_timeout_add(RELOAD_DELAY_MS, reload_cb, self);
}

static gboolean
is_at_or_above(GFile *file, GFile *path)
{
	return file != NULL && (g_file_equal(file, path) || g_file_has_prefix(path, file));
}

/* a change in the nearest existing parent of a missing directory: only
 * the creation of that directory (or of a parent on the way) matters */
static void
parent_changed_cb(GFileMonitor *monitor,
		  GFile *file,
		  GFile *other_file,
		  GFileMonitorEvent event_type,
		  gpointer user_data)
{
	GFile *missing = g_object_get_data(G_OBJECT(monitor), "mrd-missing-dir");

	if (is_at_or_above(file, missing) || is_at_or_above(other_file, missing))
		dir_changed_cb(monitor, file, other_file, event_type, user_data);
}

static void
watch_dir(MrdAllowlistSource *self, const char *path)
{
	g_autoptr(GFile) dir = g_file_new_for_path(path);
	g_autoptr(GFile) watched = g_object_ref(dir);
	g_autoptr(GError) error = NULL;
	GFileMonitor *monitor;

	/* GLib looks for a missing directory every few seconds, which would
	 * wake an idle daemon for nothing (bench-idle): watch its nearest
	 * existing parent instead; the watches are set up again on reload */
	while (g_file_query_file_type(watched, G_FILE_QUERY_INFO_NONE, NULL) !=
	       G_FILE_TYPE_DIRECTORY) {
		GFile *parent = g_file_get_parent(watched);

		if (parent == NULL) {
			g_debug("not watching %s: no parent directory exists", path);
			return;
		}
		g_object_unref(watched);
		watched = parent;
	}
	monitor = g_file_monitor_directory(watched, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
	if (monitor == NULL) {
		g_debug("not watching %s: %s", path, error->message);
		return;
	}
	if (g_file_equal(watched, dir)) {
		g_signal_connect(monitor, "changed", G_CALLBACK(dir_changed_cb), self);
	} else {
		g_object_set_data_full(G_OBJECT(monitor), "mrd-missing-dir", g_object_ref(dir),
				       g_object_unref);
		g_signal_connect(monitor, "changed", G_CALLBACK(parent_changed_cb), self);
	}
	g_ptr_array_add(self->monitors, monitor);
}

static void
watch_all(MrdAllowlistSource *self)
{
	for (guint i = 0; self->dirs[i] != NULL; i++) {
		g_autofree char *value_sets = g_build_filename(self->dirs[i], VALUE_SETS_DIR, NULL);

		watch_dir(self, self->dirs[i]);
		watch_dir(self, value_sets);
	}
}

/* from now on, a change in a directory loads the allowlist again */
void
mrd_allowlist_source_watch(MrdAllowlistSource *self)
{
	g_return_if_fail(MRD_IS_ALLOWLIST_SOURCE(self));

	if (self->watching)
		return;
	self->watching = TRUE;
	watch_all(self);
}

static void
mrd_allowlist_source_dispose(GObject *object)
{
	MrdAllowlistSource *self = MRD_ALLOWLIST_SOURCE(object);

	g_clear_handle_id(&self->reload_id, g_source_remove);
	if (self->monitors != NULL)
		g_ptr_array_set_size(self->monitors, 0);
	g_clear_object(&self->allowlist);
	G_OBJECT_CLASS(mrd_allowlist_source_parent_class)->dispose(object);
}

static void
mrd_allowlist_source_finalize(GObject *object)
{
	MrdAllowlistSource *self = MRD_ALLOWLIST_SOURCE(object);

	g_clear_pointer(&self->monitors, g_ptr_array_unref);
	g_strfreev(self->dirs);
	G_OBJECT_CLASS(mrd_allowlist_source_parent_class)->finalize(object);
}

static void
mrd_allowlist_source_class_init(MrdAllowlistSourceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = mrd_allowlist_source_dispose;
	object_class->finalize = mrd_allowlist_source_finalize;

	/**
	 * MrdAllowlistSource::changed:
	 *
	 * A new allowlist was loaded (mrd_allowlist_source_get_allowlist()).
	 */
	signals[SIGNAL_CHANGED] =
		g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			     NULL, G_TYPE_NONE, 0);
}

static void
mrd_allowlist_source_init(MrdAllowlistSource *self)
{
	self->allowlist = mrd_allowlist_new(NULL);
	self->monitors = g_ptr_array_new_with_free_func(g_object_unref);
}
