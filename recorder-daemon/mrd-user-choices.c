/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdUserChoices"

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>

#include "metrics-error.h"
#include "mrd-user-choices.h"

/*
 * Each user's own choice (SetUserChoice), kept by the daemon in its state
 * directory, never in the user's home where any of their apps could
 * rewrite it. A small key file, one line per uid that chose:
 *
 *   [Users]
 *   1000=out
 *
 * It is not event data: it says only that a uid chose, so it is kept
 * whatever the machine's consent (an opt-out must survive a "no" and a
 * later "yes"). The state directory is readable by the daemon only; over
 * the bus each uid reads its own line and nobody else's.
 */

#define GROUP "Users"

struct _MrdUserChoices {
	GObject parent_instance;
	char *path;	     /* (owned) */
	GHashTable *by_uid;  /* (owned) (element-type guint MetricsUserChoice) only non-default */
	gboolean unreadable; /* the file exists but cannot be read: everybody is out */
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

/* saves the choice of @uid atomically before it takes effect */
gboolean
mrd_user_choices_set(MrdUserChoices *self, guint32 uid, MetricsUserChoice choice, GError **error)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GArray) uids = NULL;
	g_autofree char *data = NULL;
	GHashTableIter iter;
	gpointer key;
	gsize len = 0;

	g_return_val_if_fail(MRD_IS_USER_CHOICES(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	/* rewriting it would lose the choices that could not be read */
	if (self->unreadable) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("Cannot save your choice: the file of users’ choices %s cannot be "
			      "read; an administrator must repair or remove it"),
			    self->path);
		return FALSE;
	}
	uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_hash_table_iter_init(&iter, self->by_uid);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		guint32 u = GPOINTER_TO_UINT(key);

		if (u != uid)
			g_array_append_val(uids, u);
	}
	if (choice != METRICS_USER_CHOICE_DEFAULT)
		g_array_append_val(uids, uid);
	g_array_sort(uids, compare_uids);
	g_key_file_set_comment(file, NULL, NULL,
			       " each user's own choice about metrics (metrics-cli choice)", NULL);
	for (guint i = 0; i < uids->len; i++) {
		guint32 u = g_array_index(uids, guint32, i);
		char name[16];

		g_snprintf(name, sizeof(name), "%u", u);
		g_key_file_set_string(file, GROUP, name,
				      metrics_user_choice_to_string(
					      u == uid ? choice : mrd_user_choices_get(self, u)));
	}
	data = g_key_file_to_data(file, &len, NULL);
	if (!g_file_set_contents_full(self->path, data, (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
				      0600, &error_local)) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_STORAGE,
			    _("Cannot save your choice: %s"), error_local->message);
		return FALSE;
	}
	if (choice == METRICS_USER_CHOICE_DEFAULT)
		g_hash_table_remove(self->by_uid, GUINT_TO_POINTER(uid));
	else
		g_hash_table_insert(self->by_uid, GUINT_TO_POINTER(uid), GINT_TO_POINTER(choice));
	return TRUE;
}

static void
mrd_user_choices_finalize(GObject *object)
{
	MrdUserChoices *self = MRD_USER_CHOICES(object);

	g_free(self->path);
	g_hash_table_unref(self->by_uid);

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
}
