/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlPageConsent"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpnl-page-consent.h"

/* the switch of a privacy panel: on is "granted", off is "unknown" or
 * "denied". It does not move by itself when clicked: it asks the recorder
 * (polkit may ask the user to authenticate) and follows the Consent
 * property, so a change made elsewhere shows at once and a refusal puts it
 * back */
struct _MpnlPageConsent {
	AdwPreferencesPage parent_instance;

	MpnlService *service;	   /* (owned) */
	GCancellable *cancellable; /* (owned) */
	AdwActionRow *switch_row;  /* (unowned) */
	GtkSwitch *consent_switch; /* (unowned) */
	AdwActionRow *state_row;   /* (unowned) */
	AdwActionRow *changed_row; /* (unowned) */
	AdwActionRow *error_row;   /* (unowned) */
	gboolean updating;
	gboolean busy;
};

G_DEFINE_TYPE(MpnlPageConsent, mpnl_page_consent, ADW_TYPE_PREFERENCES_PAGE)

static void
mpnl_page_consent_sync(MpnlPageConsent *self)
{
	MpnlState state = mpnl_service_get_state(self->service);
	gboolean locked = mpnl_service_get_locked(self->service);
	gint64 timestamp = mpnl_service_get_consent_timestamp(self->service);
	const char *text = NULL;
	gboolean on = state == MPNL_STATE_GRANTED;

	switch (state) {
	case MPNL_STATE_CONNECTING:
		/* TRANSLATORS: the state of the usage data setting, while it is read */
		text = _("Checking…");
		break;
	case MPNL_STATE_ABSENT:
		/* TRANSLATORS: the state of the usage data setting */
		text = _("The metrics service is not available on this computer. Nothing is "
			 "collected.");
		break;
	case MPNL_STATE_UNKNOWN:
		/* TRANSLATORS: the state of the usage data setting */
		text = _("You have not decided yet. Nothing is collected until you turn it on.");
		break;
	case MPNL_STATE_GRANTED:
		/* TRANSLATORS: the state of the usage data setting */
		text = _("On. Anonymous weekly figures are stored on this computer and sent to "
			 "Fedora.");
		break;
	case MPNL_STATE_DENIED:
		/* TRANSLATORS: the state of the usage data setting */
		text = _("Off. Nothing is collected, and what was stored has been deleted.");
		break;
	default:
		g_assert_not_reached();
	}
	if (locked && state != MPNL_STATE_ABSENT) {
		g_autofree char *joined =
			/* TRANSLATORS: added to the state when the choice cannot be changed */
			g_strdup_printf(_("%s The administrator has fixed this setting."), text);
		adw_action_row_set_subtitle(self->state_row, joined);
	} else {
		adw_action_row_set_subtitle(self->state_row, text);
	}

	self->updating = TRUE;
	gtk_switch_set_active(self->consent_switch, on);
	gtk_switch_set_state(self->consent_switch, on);
	self->updating = FALSE;
	gtk_widget_set_sensitive(GTK_WIDGET(self->switch_row),
				 !self->busy && !locked && state != MPNL_STATE_ABSENT &&
					 state != MPNL_STATE_CONNECTING);
	gtk_accessible_update_state(GTK_ACCESSIBLE(self->consent_switch), GTK_ACCESSIBLE_STATE_BUSY,
				    self->busy, -1);

	if (timestamp > 0 && state != MPNL_STATE_ABSENT) {
		g_autoptr(GDateTime) when =
			g_date_time_new_from_unix_local(timestamp / G_USEC_PER_SEC);
		/* TRANSLATORS: a date and time in g_date_time_format() syntax */
		g_autofree char *text_when = g_date_time_format(when, _("%x %X"));
		adw_action_row_set_subtitle(self->changed_row, text_when);
		gtk_widget_set_visible(GTK_WIDGET(self->changed_row), TRUE);
	} else {
		gtk_widget_set_visible(GTK_WIDGET(self->changed_row), FALSE);
	}
}

static void
mpnl_page_consent_state_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	mpnl_page_consent_sync(MPNL_PAGE_CONSENT(user_data));
}

static void
mpnl_page_consent_set_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MpnlPageConsent) self = MPNL_PAGE_CONSENT(user_data);
	g_autoptr(GError) error = NULL;

	if (!mpnl_service_set_consent_finish(MPNL_SERVICE(source), result, &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		if (mpnl_error_is_permission_denied(error)) {
			/* TRANSLATORS: shown when authentication was cancelled or failed */
			adw_action_row_set_subtitle(self->error_row,
						    _("You were not allowed to change it: "
						      "the setting is unchanged."));
		} else {
			g_autofree char *message = mpnl_error_message(error);
			adw_action_row_set_subtitle(self->error_row, message);
		}
		gtk_widget_set_visible(GTK_WIDGET(self->error_row), TRUE);
	}
	self->busy = FALSE;
	mpnl_page_consent_sync(self);
}

static gboolean
mpnl_page_consent_state_set_cb(GtkSwitch *sw, gboolean state, gpointer user_data)
{
	MpnlPageConsent *self = MPNL_PAGE_CONSENT(user_data);

	if (self->updating)
		return FALSE;
	/* the switch keeps its old state until the property says otherwise */
	if (state == (mpnl_service_get_state(self->service) == MPNL_STATE_GRANTED))
		return TRUE;
	/* the knob has moved, the state has not: busy until the daemon answers */
	self->busy = TRUE;
	gtk_widget_set_visible(GTK_WIDGET(self->error_row), FALSE);
	gtk_widget_set_sensitive(GTK_WIDGET(self->switch_row), FALSE);
	gtk_accessible_update_state(GTK_ACCESSIBLE(sw), GTK_ACCESSIBLE_STATE_BUSY, TRUE, -1);
	mpnl_service_set_consent_async(self->service, state, self->cancellable,
				       mpnl_page_consent_set_cb, g_object_ref(self));
	return TRUE;
}

static void
mpnl_page_consent_dispose(GObject *object)
{
	MpnlPageConsent *self = MPNL_PAGE_CONSENT(object);

	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->service);
	G_OBJECT_CLASS(mpnl_page_consent_parent_class)->dispose(object);
}

static void
mpnl_page_consent_class_init(MpnlPageConsentClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mpnl_page_consent_dispose;
}

static void
mpnl_page_consent_init(MpnlPageConsent *self)
{
	AdwPreferencesGroup *group;

	self->cancellable = g_cancellable_new();

	group = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	/* TRANSLATORS: the title of the panel's main group */
	adw_preferences_group_set_title(group, _("Usage Data"));
	adw_preferences_group_set_description(
		group,
		/* TRANSLATORS: under the title of the panel's main group */
		_("Fedora can learn how it is used from anonymous weekly figures: which hardware "
		  "it runs on, which settings and apps are used, and how often things crash. "
		  "Nothing identifies you or this computer."));
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self), group);

	self->switch_row = ADW_ACTION_ROW(adw_action_row_new());
	/* TRANSLATORS: the switch that turns the collection of usage data on or off */
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->switch_row), _("Send Usage Data"));
	self->consent_switch = GTK_SWITCH(gtk_switch_new());
	gtk_widget_set_valign(GTK_WIDGET(self->consent_switch), GTK_ALIGN_CENTER);
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->consent_switch),
				       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Send Usage Data"), -1);
	adw_action_row_add_suffix(self->switch_row, GTK_WIDGET(self->consent_switch));
	adw_action_row_set_activatable_widget(self->switch_row, GTK_WIDGET(self->consent_switch));
	adw_preferences_group_add(group, GTK_WIDGET(self->switch_row));

	self->state_row = ADW_ACTION_ROW(adw_action_row_new());
	/* TRANSLATORS: a row that says what the setting is now */
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->state_row), _("Status"));
	adw_preferences_group_add(group, GTK_WIDGET(self->state_row));

	self->changed_row = ADW_ACTION_ROW(adw_action_row_new());
	/* TRANSLATORS: a row with the date the setting was last changed */
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->changed_row), _("Last Changed"));
	adw_preferences_group_add(group, GTK_WIDGET(self->changed_row));

	self->error_row = ADW_ACTION_ROW(adw_action_row_new());
	/* TRANSLATORS: a row shown when changing the setting failed */
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->error_row),
				      _("The Setting Could Not Be Changed"));
	gtk_widget_add_css_class(GTK_WIDGET(self->error_row), "error");
	gtk_widget_set_visible(GTK_WIDGET(self->error_row), FALSE);
	adw_preferences_group_add(group, GTK_WIDGET(self->error_row));

	g_signal_connect(self->consent_switch, "state-set",
			 G_CALLBACK(mpnl_page_consent_state_set_cb), self);
}

/* the consent page of @service */
GtkWidget *
mpnl_page_consent_new(MpnlService *service)
{
	MpnlPageConsent *self;

	g_return_val_if_fail(MPNL_IS_SERVICE(service), NULL);
	self = g_object_new(MPNL_TYPE_PAGE_CONSENT,
			    /* TRANSLATORS: the name of a page of the panel */
			    "title", _("Consent"), "icon-name", "emblem-ok-symbolic", NULL);
	self->service = g_object_ref(service);
	g_signal_connect_object(service, "notify::state", G_CALLBACK(mpnl_page_consent_state_cb),
				self, G_CONNECT_DEFAULT);
	g_signal_connect_object(service, "notify::locked", G_CALLBACK(mpnl_page_consent_state_cb),
				self, G_CONNECT_DEFAULT);
	g_signal_connect_object(service, "notify::consent-timestamp",
				G_CALLBACK(mpnl_page_consent_state_cb), self, G_CONNECT_DEFAULT);
	mpnl_page_consent_sync(self);
	return GTK_WIDGET(self);
}

GtkSwitch *
mpnl_page_consent_get_switch(MpnlPageConsent *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_CONSENT(self), NULL);
	return self->consent_switch;
}

AdwActionRow *
mpnl_page_consent_get_state_row(MpnlPageConsent *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_CONSENT(self), NULL);
	return self->state_row;
}

AdwActionRow *
mpnl_page_consent_get_error_row(MpnlPageConsent *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_CONSENT(self), NULL);
	return self->error_row;
}
