/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlPageSetup"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpnl-page-setup.h"

/* the question as initial setup asks it: two answers, neither chosen, and
 * nothing happens until the user picks one and confirms */
struct _MpnlPageSetup {
	AdwPreferencesPage parent_instance;

	MpnlService *service;	   /* (owned) */
	GCancellable *cancellable; /* (owned) */
	GtkCheckButton *yes;	   /* (unowned) */
	GtkCheckButton *no;	   /* (unowned) */
	GtkButton *confirm;	   /* (unowned) */
	GtkButton *list_button;	   /* (unowned) */
	AdwActionRow *result_row;  /* (unowned) */
	gboolean busy;
};

G_DEFINE_TYPE(MpnlPageSetup, mpnl_page_setup, ADW_TYPE_PREFERENCES_PAGE)

static void
mpnl_page_setup_sync(MpnlPageSetup *self)
{
	MpnlState state = mpnl_service_get_state(self->service);
	gboolean chosen =
		gtk_check_button_get_active(self->yes) || gtk_check_button_get_active(self->no);
	gboolean usable = state != MPNL_STATE_ABSENT && state != MPNL_STATE_CONNECTING &&
			  !mpnl_service_get_locked(self->service);

	gtk_widget_set_sensitive(GTK_WIDGET(self->confirm), chosen && usable && !self->busy);
}

static void
mpnl_page_setup_toggled_cb(GtkCheckButton *button, gpointer user_data)
{
	MpnlPageSetup *self = MPNL_PAGE_SETUP(user_data);

	gtk_widget_set_visible(GTK_WIDGET(self->result_row), FALSE);
	mpnl_page_setup_sync(self);
}

static void
mpnl_page_setup_state_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	mpnl_page_setup_sync(MPNL_PAGE_SETUP(user_data));
}

static void
mpnl_page_setup_set_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MpnlPageSetup) self = MPNL_PAGE_SETUP(user_data);
	g_autoptr(GError) error = NULL;

	self->busy = FALSE;
	if (!mpnl_service_set_consent_finish(MPNL_SERVICE(source), result, &error)) {
		g_autofree char *message = NULL;
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		message =
			mpnl_error_is_permission_denied(error)
				/* TRANSLATORS: shown when authentication was cancelled or failed */
				?
				g_strdup(_("You were not allowed to change it: "
					   "the setting is unchanged.")) :
				mpnl_error_message(error);
		/* TRANSLATORS: the answer could not be saved */
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->result_row),
					      _("Your Answer Was Not Saved"));
		adw_action_row_set_subtitle(self->result_row, message);
	} else {
		gboolean yes = gtk_check_button_get_active(self->yes);
		/* TRANSLATORS: the answer was saved */
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->result_row),
					      _("Your Answer Was Saved"));
		adw_action_row_set_subtitle(
			self->result_row,
			yes
				/* TRANSLATORS: after answering yes */
				?
				_("Thank you. You can change your mind at any time in the privacy "
				  "settings.")
				/* TRANSLATORS: after answering no */
				:
				_("Nothing will be collected. You can change your mind at any time in "
				  "the privacy settings."));
	}
	gtk_widget_set_visible(GTK_WIDGET(self->result_row), TRUE);
	mpnl_page_setup_sync(self);
}

static void
mpnl_page_setup_confirm_cb(GtkButton *button, gpointer user_data)
{
	MpnlPageSetup *self = MPNL_PAGE_SETUP(user_data);
	gboolean yes = gtk_check_button_get_active(self->yes);

	if (!yes && !gtk_check_button_get_active(self->no))
		return;
	self->busy = TRUE;
	mpnl_page_setup_sync(self);
	mpnl_service_set_consent_async(self->service, yes, self->cancellable,
				       mpnl_page_setup_set_cb, g_object_ref(self));
}

static void
mpnl_page_setup_list_cb(GtkButton *button, gpointer user_data)
{
	/* the window shows the list; embedded elsewhere, the action is the
	 * host's to provide */
	gtk_widget_activate_action(GTK_WIDGET(button), "win.show-page", "s", "metrics");
}

static void
mpnl_page_setup_dispose(GObject *object)
{
	MpnlPageSetup *self = MPNL_PAGE_SETUP(object);

	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->service);
	G_OBJECT_CLASS(mpnl_page_setup_parent_class)->dispose(object);
}

static void
mpnl_page_setup_class_init(MpnlPageSetupClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mpnl_page_setup_dispose;
}

static GtkCheckButton *
mpnl_page_setup_add_choice(AdwPreferencesGroup *group,
			   GtkCheckButton *group_with,
			   const char *title,
			   const char *subtitle)
{
	AdwActionRow *row = ADW_ACTION_ROW(adw_action_row_new());
	/* one of two exclusive answers: a radio button for a screen reader */
	GtkCheckButton *check = GTK_CHECK_BUTTON(g_object_new(
		GTK_TYPE_CHECK_BUTTON, "accessible-role", GTK_ACCESSIBLE_ROLE_RADIO, NULL));

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_action_row_set_subtitle(row, subtitle);
	gtk_widget_set_valign(GTK_WIDGET(check), GTK_ALIGN_CENTER);
	if (group_with != NULL)
		gtk_check_button_set_group(check, group_with);
	gtk_accessible_update_property(GTK_ACCESSIBLE(check), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
				       GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle, -1);
	adw_action_row_add_prefix(row, GTK_WIDGET(check));
	adw_action_row_set_activatable_widget(row, GTK_WIDGET(check));
	adw_preferences_group_add(group, GTK_WIDGET(row));
	return check;
}

static void
mpnl_page_setup_init(MpnlPageSetup *self)
{
	AdwPreferencesGroup *question = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	AdwPreferencesGroup *actions = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);

	self->cancellable = g_cancellable_new();

	/* TRANSLATORS: the question of the initial-setup page */
	adw_preferences_group_set_title(question, _("Help Improve Fedora?"));
	adw_preferences_group_set_description(
		question,
		/* TRANSLATORS: the plain-language summary on the initial-setup page */
		_("If you agree, this computer counts a few things each week: what kind of hardware "
		  "it has, which apps and settings are used and how often programs crash. Only these "
		  "weekly totals are sent, without your name, this computer's name or address, or "
		  "anything you wrote. You can see them before they leave, and turning this off "
		  "deletes them."));
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self), question);

	self->yes = mpnl_page_setup_add_choice(
		question, NULL,
		/* TRANSLATORS: one of the two answers on the initial-setup page */
		_("Yes, Send Anonymous Usage Data"),
		/* TRANSLATORS: under the answer "yes" */
		_("Weekly totals are stored here and sent to Fedora."));
	self->no = mpnl_page_setup_add_choice(
		question, self->yes,
		/* TRANSLATORS: one of the two answers on the initial-setup page */
		_("No, Do Not Send Anything"),
		/* TRANSLATORS: under the answer "no" */
		_("Nothing is collected or sent."));
	/* a radio group starts with its first member active unless told */
	gtk_check_button_set_active(self->yes, FALSE);
	gtk_check_button_set_active(self->no, FALSE);

	/* TRANSLATORS: a link to the full list of what is collected */
	self->list_button =
		GTK_BUTTON(gtk_button_new_with_mnemonic(_("See _Everything That Is Collected")));
	gtk_widget_add_css_class(GTK_WIDGET(self->list_button), "flat");
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->list_button),
				       GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("See Everything That Is Collected"), -1);
	/* TRANSLATORS: the button that saves the answer */
	self->confirm = GTK_BUTTON(gtk_button_new_with_mnemonic(_("_Confirm")));
	gtk_widget_add_css_class(GTK_WIDGET(self->confirm), "suggested-action");
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->confirm), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       /* TRANSLATORS: what a screen reader says for "Confirm" */
				       _("Confirm your answer"), -1);
	gtk_widget_set_hexpand(GTK_WIDGET(self->list_button), TRUE);
	gtk_widget_set_halign(GTK_WIDGET(self->list_button), GTK_ALIGN_START);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->list_button));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->confirm));
	adw_preferences_group_add(actions, box);

	self->result_row = ADW_ACTION_ROW(adw_action_row_new());
	gtk_widget_set_visible(GTK_WIDGET(self->result_row), FALSE);
	adw_preferences_group_add(actions, GTK_WIDGET(self->result_row));
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self), actions);

	g_signal_connect(self->yes, "toggled", G_CALLBACK(mpnl_page_setup_toggled_cb), self);
	g_signal_connect(self->no, "toggled", G_CALLBACK(mpnl_page_setup_toggled_cb), self);
	g_signal_connect(self->confirm, "clicked", G_CALLBACK(mpnl_page_setup_confirm_cb), self);
	g_signal_connect(self->list_button, "clicked", G_CALLBACK(mpnl_page_setup_list_cb), self);
}

/* the initial-setup question for @service */
GtkWidget *
mpnl_page_setup_new(MpnlService *service)
{
	MpnlPageSetup *self;

	g_return_val_if_fail(MPNL_IS_SERVICE(service), NULL);
	self = g_object_new(MPNL_TYPE_PAGE_SETUP,
			    /* TRANSLATORS: the name of a page of the panel */
			    "title", _("First Start"), "icon-name", "dialog-question-symbolic",
			    NULL);
	self->service = g_object_ref(service);
	g_signal_connect_object(service, "notify::state", G_CALLBACK(mpnl_page_setup_state_cb),
				self, G_CONNECT_DEFAULT);
	g_signal_connect_object(service, "notify::locked", G_CALLBACK(mpnl_page_setup_state_cb),
				self, G_CONNECT_DEFAULT);
	mpnl_page_setup_sync(self);
	return GTK_WIDGET(self);
}

GtkCheckButton *
mpnl_page_setup_get_yes(MpnlPageSetup *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_SETUP(self), NULL);
	return self->yes;
}

GtkCheckButton *
mpnl_page_setup_get_no(MpnlPageSetup *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_SETUP(self), NULL);
	return self->no;
}

GtkButton *
mpnl_page_setup_get_confirm(MpnlPageSetup *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_SETUP(self), NULL);
	return self->confirm;
}

GtkButton *
mpnl_page_setup_get_list_button(MpnlPageSetup *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_SETUP(self), NULL);
	return self->list_button;
}

AdwActionRow *
mpnl_page_setup_get_result_row(MpnlPageSetup *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_SETUP(self), NULL);
	return self->result_row;
}
