/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdAuthority"

#include "config.h"

#include <glib/gi18n.h>
#include <polkit/polkit.h>

#include "metrics-error.h"
#include "mrd-authority.h"

/*
 * Asks polkit whether a bus peer may perform an action. Everything that is
 * not a clear "yes" (no polkit, an error, a "no") is PERMISSION_DENIED.
 */

struct _MrdAuthority {
	GObject parent_instance;
	PolkitAuthority *authority; /* (owned) (nullable) until first used */
};

G_DEFINE_TYPE(MrdAuthority, mrd_authority, G_TYPE_OBJECT)

typedef struct {
	char *sender;
	char *action_id;
	MrdAuthorityFlags flags;
} CheckData;

static void
check_data_free(CheckData *data)
{
	g_free(data->sender);
	g_free(data->action_id);
	g_free(data);
}

static void
return_denied(GTask *task, const char *action_id, const char *reason)
{
	g_task_return_new_error(task, METRICS_ERROR, METRICS_ERROR_PERMISSION_DENIED,
				/* TRANSLATORS: %s is a polkit action id, then a reason */
				_("Not authorised for %s: %s"), action_id, reason);
}

static void
check_authorization_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	CheckData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitAuthorizationResult) auth_result = NULL;

	auth_result = polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), result,
								  &error);
	if (auth_result == NULL) {
		g_debug("polkit check of %s failed: %s", data->action_id, error->message);
		/* TRANSLATORS: polkit could not be asked */
		return_denied(task, data->action_id, _("the authorisation service failed"));
		return;
	}
	if (!polkit_authorization_result_get_is_authorized(auth_result)) {
		const char *reason;

		if (polkit_authorization_result_get_is_challenge(auth_result))
			/* TRANSLATORS: the user must authenticate first */
			reason = _("authentication is required");
		else
			/* TRANSLATORS: polkit said no */
			reason = _("the request was denied");
		return_denied(task, data->action_id, reason);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
mrd_authority_check_with(MrdAuthority *self, GTask *task)
{
	CheckData *data = g_task_get_task_data(task);
	g_autoptr(PolkitSubject) subject = polkit_system_bus_name_new(data->sender);

	polkit_authority_check_authorization(
		self->authority, subject, data->action_id, NULL,
		(data->flags & MRD_AUTHORITY_FLAGS_ALLOW_INTERACTION) != 0 ?
			POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION :
			POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
		g_task_get_cancellable(task), check_authorization_cb, task);
}

static void
authority_get_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	MrdAuthority *self = g_task_get_source_object(task);
	CheckData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	PolkitAuthority *authority = polkit_authority_get_finish(result, &error);

	if (authority == NULL) {
		g_debug("no polkit: %s", error->message);
		return_denied(task, data->action_id,
			      /* TRANSLATORS: polkit is not running */
			      _("the authorisation service is not available"));
		g_object_unref(task);
		return;
	}
	if (self->authority == NULL)
		self->authority = authority;
	else
		g_object_unref(authority);
	mrd_authority_check_with(self, task);
}

void
mrd_authority_check_async(MrdAuthority *self,
			  const char *sender,
			  const char *action_id,
			  MrdAuthorityFlags flags,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	GTask *task;
	CheckData *data;

	g_return_if_fail(MRD_IS_AUTHORITY(self));
	g_return_if_fail(sender != NULL);
	g_return_if_fail(action_id != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, mrd_authority_check_async);
	data = g_new0(CheckData, 1);
	data->sender = g_strdup(sender);
	data->action_id = g_strdup(action_id);
	data->flags = flags;
	g_task_set_task_data(task, data, (GDestroyNotify)check_data_free);

	if (self->authority == NULL) {
		polkit_authority_get_async(cancellable, authority_get_cb, task);
		return;
	}
	mrd_authority_check_with(self, task);
}

gboolean
mrd_authority_check_finish(MrdAuthority *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(MRD_IS_AUTHORITY(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	return g_task_propagate_boolean(G_TASK(result), error);
}

MrdAuthority *
mrd_authority_new(void)
{
	return g_object_new(MRD_TYPE_AUTHORITY, NULL);
}

static void
mrd_authority_dispose(GObject *object)
{
	MrdAuthority *self = MRD_AUTHORITY(object);

	g_clear_object(&self->authority);

	G_OBJECT_CLASS(mrd_authority_parent_class)->dispose(object);
}

static void
mrd_authority_class_init(MrdAuthorityClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_authority_dispose;
}

static void
mrd_authority_init(MrdAuthority *self)
{
}
