/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdUserChoices"

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>

#include "metrics-error.h"
#include "mrd-allowlist.h"
#include "mrd-user-choices.h"

/*
 * Each user's own choice (SetUserChoice), kept by the daemon in its state
 * directory, never in the user's home where any of their apps could
 * rewrite it. A small key file, one line per uid that chose:
 *
 *   [Users]
 *   1000=out
 *
 * and, in a second group, the categories each uid turned off for itself:
 *
 *   [Categories]
 *   1000=usage;problems;
 *
 * It is not event data: it says only that a uid chose, so it is kept
 * whatever the machine's consent (an opt-out must survive a "no" and a
 * later "yes"). The state directory is readable by the daemon only; over
 * the bus each uid reads its own line and nobody else's.
 */

#define GROUP "Users"
#define CATEGORIES_GROUP "Categories"

struct _MrdUserChoices {
	GObject parent_instance;
	char *path;	    /* (owned) */
	GHashTable *by_uid; /* (owned) (element-type guint MetricsUserChoice) only non-default */
	GHashTable *off_by_uid; /* (owned) (element-type guint guint) categories off, not 0 */
	gboolean unreadable;	/* the file exists but cannot be read: everybody is out */
};

G_DEFINE_TYPE(MrdUserChoices, mrd_user_choices, G_TYPE_OBJECT)

static gboolean
parse_uid(const char *str, guint32 *uid)
{
	guint64 value = 0;

	if (!g_ascii_string_to_unsigned(str, 10, 0, G_MAXUINT32 - 1, &value, NULL))
		return FALSE;
	*uid = (guint32)value;
	return TRUE;
}

static void
mrd_user_choices_load(MrdUserChoices *self)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) keys = NULL;

	if (!g_key_file_load_from_file(file, self->path, G_KEY_FILE_NONE, &error)) {
		if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return;
		/* unreadable is not "nobody chose": fail safe */
		g_warning("cannot read the users' choices %s, treating every user as "
			  "opted out until it is fixed: %s",
			  self->path, error->message);
		self->unreadable = TRUE;
		return;
	}
	keys = g_key_file_get_keys(file, GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_autofree char *value = g_key_file_get_string(file, GROUP, keys[i], NULL);
		MetricsUserChoice choice;
		guint32 uid;

		if (!parse_uid(keys[i], &uid) || !metrics_user_choice_from_string(value, &choice)) {
			g_warning("the users' choices %s have an invalid line “%s”; ignoring it",
				  self->path, keys[i]);
			continue;
		}
		if (choice != METRICS_USER_CHOICE_DEFAULT)
			g_hash_table_insert(self->by_uid, GUINT_TO_POINTER(uid),
					    GINT_TO_POINTER(choice));
	}
	g_clear_pointer(&keys, g_strfreev);
	keys = g_key_file_get_keys(file, CATEGORIES_GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_auto(GStrv) names =
			g_key_file_get_string_list(file, CATEGORIES_GROUP, keys[i], NULL, NULL);
		guint off = 0;
		guint32 uid;

		if (!parse_uid(keys[i], &uid)) {
			g_warning("the users' choices %s have an invalid line “%s”; ignoring it",
				  self->path, keys[i]);
			continue;
		}
		for (guint j = 0; names != NULL && names[j] != NULL; j++) {
			MrdMetricCategory category;

			if (mrd_metric_category_from_string(names[j], &category))
				off |= MRD_CATEGORY_BIT(category);
		}
		if (off != 0)
			g_hash_table_insert(self->off_by_uid, GUINT_TO_POINTER(uid),
					    GUINT_TO_POINTER(off));
	}
}

MrdUserChoices *
mrd_user_choices_new(const char *path)
{
	MrdUserChoices *self = g_object_new(MRD_TYPE_USER_CHOICES, NULL);

	self->path = g_strdup(path);
	mrd_user_choices_load(self);
	return self;
}

/* the choice of @uid; "out" for everybody while the file cannot be read */
MetricsUserChoice
mrd_user_choices_get(MrdUserChoices *self, guint32 uid)
{
	gpointer value = NULL;

	g_return_val_if_fail(MRD_IS_USER_CHOICES(self), METRICS_USER_CHOICE_OUT);

	if (self->unreadable)
		return METRICS_USER_CHOICE_OUT;
	if (!g_hash_table_lookup_extended(self->by_uid, GUINT_TO_POINTER(uid), NULL, &value))
		return METRICS_USER_CHOICE_DEFAULT;
	return (MetricsUserChoice)GPOINTER_TO_INT(value);
}

/* the categories @uid turned off for itself (MRD_CATEGORY_BIT()s); all
 * while the file cannot be read */
guint
mrd_user_choices_get_off(MrdUserChoices *self, guint32 uid)
{
	g_return_val_if_fail(MRD_IS_USER_CHOICES(self), MRD_ALL_CATEGORIES);

	if (self->unreadable)
		return MRD_ALL_CATEGORIES;
	return GPOINTER_TO_UINT(g_hash_table_lookup(self->off_by_uid, GUINT_TO_POINTER(uid)));
}

/* (transfer full) (element-type guint32): the uids that turned some
 * category off */
GArray *
mrd_user_choices_list_with_off(MrdUserChoices *self)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	GHashTableIter iter;
	gpointer key;

	g_return_val_if_fail(MRD_IS_USER_CHOICES(self), uids);

	g_hash_table_iter_init(&iter, self->off_by_uid);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		guint32 uid = GPOINTER_TO_UINT(key);

		g_array_append_val(uids, uid);
	}
	return uids;
}

/* (transfer full) (element-type guint32): the uids that opted out */
GArray *
mrd_user_choices_list_opted_out(MrdUserChoices *self)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	GHashTableIter iter;
	gpointer key, value;

	g_return_val_if_fail(MRD_IS_USER_CHOICES(self), uids);

	g_hash_table_iter_init(&iter, self->by_uid);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		guint32 uid = GPOINTER_TO_UINT(key);

		if (GPOINTER_TO_INT(value) == METRICS_USER_CHOICE_OUT)
			g_array_append_val(uids, uid);
	}
	return uids;
}

static gint
compare_uids(gconstpointer a, gconstpointer b)
{
	guint32 ua = *(const guint32 *)a;
	guint32 ub = *(const guint32 *)b;

	return ua < ub ? -1 : ua > ub;
}

/* every uid of @table, sorted */
static GArray *
sorted_uids(GHashTable *table)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		guint32 u = GPOINTER_TO_UINT(key);

		g_array_append_val(uids, u);
	}
	g_array_sort(uids, compare_uids);
	return uids;
}

/* writes @by_uid and @off_by_uid atomically, and takes them on success */
static gboolean
save(MrdUserChoices *self, GHashTable *by_uid, GHashTable *off_by_uid, GError **error)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GArray) uids = sorted_uids(by_uid);
	g_autoptr(GArray) off_uids = sorted_uids(off_by_uid);
	g_autofree char *data = NULL;
	gsize len = 0;

	g_key_file_set_comment(file, NULL, NULL,
			       " each user's own choice about metrics (metrics-cli choice)", NULL);
	for (guint i = 0; i < uids->len; i++) {
		guint32 u = g_array_index(uids, guint32, i);
		char name[16];

		g_snprintf(name, sizeof(name), "%u", u);
		g_key_file_set_string(
			file, GROUP, name,
			metrics_user_choice_to_string((MetricsUserChoice)GPOINTER_TO_INT(
				g_hash_table_lookup(by_uid, GUINT_TO_POINTER(u)))));
	}
	for (guint i = 0; i < off_uids->len; i++) {
		guint32 u = g_array_index(off_uids, guint32, i);
		guint off = GPOINTER_TO_UINT(g_hash_table_lookup(off_by_uid, GUINT_TO_POINTER(u)));
		g_autoptr(GPtrArray) names = g_ptr_array_new();
		char name[16];

		for (guint c = 0; c < MRD_N_METRIC_CATEGORIES; c++) {
			if ((off & MRD_CATEGORY_BIT(c)) != 0)
				g_ptr_array_add(names, (gpointer)mrd_metric_category_to_string(c));
		}
		g_snprintf(name, sizeof(name), "%u", u);
		g_key_file_set_string_list(file, CATEGORIES_GROUP, name,
					   (const char *const *)names->pdata, names->len);
	}
	data = g_key_file_to_data(file, &len, NULL);
	if (!g_file_set_contents_full(self->path, data, (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
				      0600, &error_local)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("Cannot save your choice: %s"), error_local->message);
		return FALSE;
	}
	/* either may be the one held already: referenced before released */
	g_hash_table_ref(by_uid);
	g_hash_table_ref(off_by_uid);
	g_hash_table_unref(self->by_uid);
	g_hash_table_unref(self->off_by_uid);
	self->by_uid = by_uid;
	self->off_by_uid = off_by_uid;
	return TRUE;
}

static gboolean
check_writable(MrdUserChoices *self, GError **error)
{
	/* rewriting it would lose the choices that could not be read */
	if (self->unreadable) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("Cannot save your choice: the file of users’ choices %s cannot be "
			      "read; an administrator must repair or remove it"),
			    self->path);
		return FALSE;
	}
	return TRUE;
}

static GHashTable *
copy_table(GHashTable *table)
{
	GHashTable *copy = g_hash_table_new(NULL, NULL);
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_hash_table_insert(copy, key, value);
	return copy;
}

/* saves the choice of @uid atomically before it takes effect */
gboolean
mrd_user_choices_set(MrdUserChoices *self, guint32 uid, MetricsUserChoice choice, GError **error)
{
	g_autoptr(GHashTable) next = NULL;

	g_return_val_if_fail(MRD_IS_USER_CHOICES(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!check_writable(self, error))
		return FALSE;
	next = copy_table(self->by_uid);
	if (choice == METRICS_USER_CHOICE_DEFAULT)
		g_hash_table_remove(next, GUINT_TO_POINTER(uid));
	else
		g_hash_table_insert(next, GUINT_TO_POINTER(uid), GINT_TO_POINTER(choice));
	return save(self, next, self->off_by_uid, error);
}

/* saves the categories @uid turns off for itself (MRD_CATEGORY_BIT()s) */
gboolean
mrd_user_choices_set_off(MrdUserChoices *self, guint32 uid, guint off, GError **error)
{
	g_autoptr(GHashTable) next = NULL;

	g_return_val_if_fail(MRD_IS_USER_CHOICES(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!check_writable(self, error))
		return FALSE;
	next = copy_table(self->off_by_uid);
	if (off == 0)
		g_hash_table_remove(next, GUINT_TO_POINTER(uid));
	else
		g_hash_table_insert(next, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(off));
	return save(self, self->by_uid, next, error);
}

static void
mrd_user_choices_finalize(GObject *object)
{
	MrdUserChoices *self = MRD_USER_CHOICES(object);

	g_free(self->path);
	g_hash_table_unref(self->by_uid);
	g_hash_table_unref(self->off_by_uid);

	G_OBJECT_CLASS(mrd_user_choices_parent_class)->finalize(object);
}

static void
mrd_user_choices_class_init(MrdUserChoicesClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = mrd_user_choices_finalize;
}

static void
mrd_user_choices_init(MrdUserChoices *self)
{
	self->by_uid = g_hash_table_new(NULL, NULL);
	self->off_by_uid = g_hash_table_new(NULL, NULL);
}
