/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlPageData"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpnl-allowlist.h"
#include "mpnl-page-data.h"

/* what is stored for the user, a chart per metric of its events week by
 * week; and, for those polkit lets read everybody's data, exactly what the
 * next uploads hold and what the server accepted */
struct _MpnlPageData {
	AdwPreferencesPage parent_instance;

	MpnlService *service;		   /* (owned) */
	GCancellable *cancellable;	   /* (owned) (nullable) the load under way */
	GCancellable *uploads_cancellable; /* (owned) (nullable) */
	GPtrArray *metrics;		   /* (owned) (nullable) (element-type MpnlMetric) */
	AdwPreferencesGroup *stored;	   /* (unowned) */
	GPtrArray *stored_rows;		   /* (owned) (element-type GtkWidget) in @stored */
	GPtrArray *charts;		   /* (owned) (element-type MpnlChart) */
	GtkButton *reload_button;	   /* (unowned) */
	AdwPreferencesGroup *uploads;	   /* (unowned) */
	AdwActionRow *uploads_row;	   /* (unowned) */
	GtkButton *uploads_button;	   /* (unowned) */
	GPtrArray *upload_rows;		   /* (owned) (element-type GtkWidget) in @uploads */
	gboolean loaded;
	guint n_loads; /* loads completed, for tests to wait on */
	gboolean uploads_shown;
};

G_DEFINE_TYPE(MpnlPageData, mpnl_page_data, ADW_TYPE_PREFERENCES_PAGE)

static void
mpnl_page_data_remove_rows(AdwPreferencesGroup *group, GPtrArray *rows)
{
	for (guint i = 0; i < rows->len; i++)
		adw_preferences_group_remove(group, g_ptr_array_index(rows, i));
	g_ptr_array_set_size(rows, 0);
}

static void
mpnl_page_data_add_text_row(AdwPreferencesGroup *group,
			    GPtrArray *rows,
			    const char *title,
			    const char *subtitle)
{
	AdwActionRow *row = ADW_ACTION_ROW(adw_action_row_new());

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	if (subtitle != NULL)
		adw_action_row_set_subtitle(row, subtitle);
	adw_preferences_group_add(group, GTK_WIDGET(row));
	g_ptr_array_add(rows, row);
}

static char *
mpnl_format_time(gint64 usec)
{
	g_autoptr(GDateTime) when = NULL;

	if (usec <= 0)
		/* TRANSLATORS: instead of a date: there is none */
		return g_strdup(_("None"));
	when = g_date_time_new_from_unix_local(usec / G_USEC_PER_SEC);
	/* TRANSLATORS: an exact date and time in g_date_time_format() syntax */
	return g_date_time_format(when, _("%A %x %X"));
}

static const char *
mpnl_page_data_metric_title(MpnlPageData *self, const char *id)
{
	MpnlMetric *metric = mpnl_allowlist_lookup(self->metrics, id);

	if (metric == NULL)
		return id;
	return metric->description;
}

static const char *
mpnl_page_data_metric_name(MpnlPageData *self, const char *id)
{
	MpnlMetric *metric = mpnl_allowlist_lookup(self->metrics, id);

	if (metric == NULL || *metric->name == '\0')
		return id;
	return metric->name;
}

/* a row holding a metric's chart: the metric's description above it */
static MpnlChart *
mpnl_page_data_add_chart(MpnlPageData *self, const char *id)
{
	GtkWidget *row = gtk_list_box_row_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *title = gtk_label_new(mpnl_page_data_metric_name(self, id));
	GtkWidget *description = gtk_label_new(mpnl_page_data_metric_title(self, id));
	GtkWidget *scroller = gtk_scrolled_window_new();
	g_autofree char *chart_title =
		/* TRANSLATORS: how a screen reader names a chart; %s is the metric's name */
		g_strdup_printf(_("Events per week of %s"), mpnl_page_data_metric_name(self, id));
	GtkWidget *chart = mpnl_chart_new(chart_title);

	gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), FALSE);
	gtk_widget_set_margin_top(box, 8);
	gtk_widget_set_margin_bottom(box, 8);
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_label_set_xalign(GTK_LABEL(title), 0);
	gtk_widget_add_css_class(title, "heading");
	gtk_label_set_xalign(GTK_LABEL(description), 0);
	gtk_label_set_wrap(GTK_LABEL(description), TRUE);
	gtk_widget_add_css_class(description, "dim-label");
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroller), GTK_POLICY_AUTOMATIC,
				       GTK_POLICY_NEVER);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroller), chart);
	gtk_box_append(GTK_BOX(box), title);
	gtk_box_append(GTK_BOX(box), description);
	gtk_box_append(GTK_BOX(box), scroller);
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
	gtk_accessible_update_relation(GTK_ACCESSIBLE(row), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
				       title, NULL, -1);
	adw_preferences_group_add(self->stored, row);
	g_ptr_array_add(self->stored_rows, row);
	g_ptr_array_add(self->charts, chart);
	return MPNL_CHART(chart);
}

static void
mpnl_page_data_fill(MpnlPageData *self, GVariant *reply)
{
	g_autoptr(GHashTable) charts = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GVariantIter) iter = NULL;
	const char *id;
	const char *week;
	guint32 uid, kind;
	guint64 count, duration;
	GVariantIter *payload;

	g_variant_get(reply, "(a(ussuavtt))", &iter);
	while (g_variant_iter_next(iter, "(u&s&suavtt)", &uid, &id, &week, &kind, &payload, &count,
				   &duration)) {
		MpnlChart *chart = g_hash_table_lookup(charts, id);
		g_variant_iter_free(payload);
		if (chart == NULL) {
			chart = mpnl_page_data_add_chart(self, id);
			g_hash_table_insert(charts, (gpointer)id, chart);
		}
		mpnl_chart_add_week(chart, week, count);
	}
	if (self->charts->len == 0)
		mpnl_page_data_add_text_row(
			self->stored, self->stored_rows,
			/* TRANSLATORS: instead of the charts of stored data */
			_("Nothing Is Stored"),
			mpnl_service_get_state(self->service) == MPNL_STATE_GRANTED
				/* TRANSLATORS: under "Nothing Is Stored" */
				?
				_("Data appears here as apps record it.")
				/* TRANSLATORS: under "Nothing Is Stored" */
				:
				_("Nothing is collected while usage data is off."));
}

static void
mpnl_page_data_local_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MpnlPageData) self = MPNL_PAGE_DATA(user_data);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;

	reply = mpnl_service_call_finish(MPNL_SERVICE(source), result, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	mpnl_page_data_remove_rows(self->stored, self->stored_rows);
	g_ptr_array_set_size(self->charts, 0);
	if (reply == NULL || !g_variant_is_of_type(reply, G_VARIANT_TYPE("(a(ussuavtt))"))) {
		g_autofree char *message = error != NULL ? mpnl_error_message(error) : NULL;
		mpnl_page_data_add_text_row(
			self->stored, self->stored_rows,
			/* TRANSLATORS: shown when the stored data cannot be read */
			_("The Stored Data Could Not Be Read"), message);
	} else {
		mpnl_page_data_fill(self, reply);
	}
	self->loaded = TRUE;
	self->n_loads++;
}

static void
mpnl_page_data_allowlist_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MpnlPageData) self = MPNL_PAGE_DATA(user_data);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;

	reply = mpnl_service_call_finish(MPNL_SERVICE(source), result, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	/* without the allowlist the charts are named by the metrics' ids */
	g_clear_pointer(&self->metrics, g_ptr_array_unref);
	if (reply != NULL && g_variant_is_of_type(reply, G_VARIANT_TYPE("(aa{sv})")))
		self->metrics = mpnl_allowlist_parse(reply);
	mpnl_service_call_async(
		self->service, "GetLocalData",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		FALSE, self->cancellable, mpnl_page_data_local_cb, g_object_ref(self));
}

/* reads the stored data again; the uploads are hidden until asked for
 * again, since they need authorisation */
void
mpnl_page_data_reload(MpnlPageData *self)
{
	MpnlState state;

	g_return_if_fail(MPNL_IS_PAGE_DATA(self));
	state = mpnl_service_get_state(self->service);
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->loaded = FALSE;
	if (state == MPNL_STATE_ABSENT || state == MPNL_STATE_CONNECTING) {
		mpnl_page_data_remove_rows(self->stored, self->stored_rows);
		g_ptr_array_set_size(self->charts, 0);
		mpnl_page_data_add_text_row(
			self->stored, self->stored_rows, _("Nothing Is Stored"),
			/* TRANSLATORS: under "Nothing Is Stored" */
			_("The metrics service is not available on this computer."));
		self->loaded = state == MPNL_STATE_ABSENT;
		self->n_loads++;
		return;
	}
	self->cancellable = g_cancellable_new();
	mpnl_service_call_async(
		self->service, "GetAllowlist",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		FALSE, self->cancellable, mpnl_page_data_allowlist_cb, g_object_ref(self));
}

/* ---- uploads ---- */

static guint
mpnl_count_events(GVariantDict *dict)
{
	g_autoptr(GVariant) events = g_variant_dict_lookup_value(dict, "events", NULL);

	if (events == NULL || !g_variant_is_container(events))
		return 0;
	return g_variant_n_children(events);
}

static void
mpnl_page_data_add_requests(MpnlPageData *self, GVariant *requests, gboolean sent)
{
	GVariantIter iter;
	GVariant *entry;

	g_variant_iter_init(&iter, requests);
	while ((entry = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) owned = entry;
		g_auto(GVariantDict) dict;
		const char *metric = "";
		const char *week = "";
		gint64 when = 0;
		guint64 size = 0;
		const char *checksum = "";
		g_autofree char *title = NULL;
		g_autofree char *subtitle = NULL;
		g_autofree char *when_text = NULL;
		guint n_events;

		g_variant_dict_init(&dict, owned);
		g_variant_dict_lookup(&dict, "metric", "&s", &metric);
		g_variant_dict_lookup(&dict, "week", "&s", &week);
		n_events = mpnl_count_events(&dict);
		/* TRANSLATORS: a request to the server: the metric's name and the
		 * first day of the week it covers */
		title = g_strdup_printf(_("%s, week of %s"),
					mpnl_page_data_metric_name(self, metric), week);
		if (sent) {
			g_autofree char *size_text = NULL;
			g_variant_dict_lookup(&dict, "sent", "x", &when);
			g_variant_dict_lookup(&dict, "size", "t", &size);
			g_variant_dict_lookup(&dict, "checksum", "&s", &checksum);
			size_text = g_strdup_printf("%" G_GUINT64_FORMAT, size);
			when_text = mpnl_format_time(when);
			subtitle = g_strdup_printf(
				/* TRANSLATORS: a request the server accepted: when, how many
				 * values, its size in bytes and the start of its checksum */
				g_dngettext(GETTEXT_PACKAGE,
					    "Sent %s: %u value, %s bytes, SHA-512 %.16s…",
					    "Sent %s: %u values, %s bytes, SHA-512 %.16s…",
					    n_events),
				when_text, n_events, size_text, checksum);
		} else {
			const char *state = "";
			g_variant_dict_lookup(&dict, "due", "x", &when);
			g_variant_dict_lookup(&dict, "state", "&s", &state);
			when_text = mpnl_format_time(when);
			if (g_strcmp0(state, "next") == 0)
				subtitle = g_strdup_printf(
					/* TRANSLATORS: a week not closed yet: when it closes and
					 * how many values it would send now */
					g_dngettext(GETTEXT_PACKAGE,
						    "Week closes %s: %u value so far",
						    "Week closes %s: %u values so far", n_events),
					when_text, n_events);
			else if (g_strcmp0(state, "set-aside") == 0)
				subtitle = g_strdup_printf(
					/* TRANSLATORS: a request the server refused */
					g_dngettext(
						GETTEXT_PACKAGE,
						"Refused by the server, not sent again: %u value",
						"Refused by the server, not sent again: %u values",
						n_events),
					n_events);
			else
				subtitle = g_strdup_printf(
					/* TRANSLATORS: a request waiting to be sent, and when */
					g_dngettext(GETTEXT_PACKAGE, "Due %s: %u value",
						    "Due %s: %u values", n_events),
					when_text, n_events);
		}
		mpnl_page_data_add_text_row(self->uploads, self->upload_rows, title, subtitle);
	}
}

typedef struct {
	GVariant *status;  /* (owned) (nullable) */
	GVariant *pending; /* (owned) (nullable) */
	GVariant *sent;	   /* (owned) (nullable) */
	GError *error;	   /* (owned) (nullable) the first one */
	guint outstanding;
} MpnlUploadsLoad;

static void
mpnl_uploads_load_free(MpnlUploadsLoad *load)
{
	g_clear_pointer(&load->status, g_variant_unref);
	g_clear_pointer(&load->pending, g_variant_unref);
	g_clear_pointer(&load->sent, g_variant_unref);
	g_clear_error(&load->error);
	g_free(load);
}

static void
mpnl_page_data_show_uploads(MpnlPageData *self, MpnlUploadsLoad *load)
{
	gint64 next_upload = 0, last_upload = 0;
	g_autofree char *next_text = NULL;
	g_autofree char *last_text = NULL;
	g_autoptr(GVariant) status = NULL;
	g_autoptr(GVariant) pending = NULL;
	g_autoptr(GVariant) sent = NULL;

	mpnl_page_data_remove_rows(self->uploads, self->upload_rows);
	if (load->error != NULL) {
		g_autofree char *message = mpnl_error_message(load->error);
		adw_action_row_set_subtitle(
			self->uploads_row,
			mpnl_error_is_permission_denied(load->error)
				/* TRANSLATORS: shown when the user may not see the uploads */
				?
				_("You are not allowed to see them: they merge every user's data.") :
				message);
		self->uploads_shown = FALSE;
		return;
	}
	status = g_variant_get_child_value(load->status, 0);
	pending = g_variant_get_child_value(load->pending, 0);
	sent = g_variant_get_child_value(load->sent, 0);
	g_variant_lookup(status, "next-upload", "x", &next_upload);
	g_variant_lookup(status, "last-upload", "x", &last_upload);
	next_text = mpnl_format_time(next_upload);
	last_text = mpnl_format_time(last_upload);
	/* TRANSLATORS: the exact time of the next upload */
	mpnl_page_data_add_text_row(self->uploads, self->upload_rows, _("Next Upload"), next_text);
	/* TRANSLATORS: when the server last accepted an upload */
	mpnl_page_data_add_text_row(self->uploads, self->upload_rows, _("Last Upload"), last_text);
	mpnl_page_data_add_requests(self, pending, FALSE);
	mpnl_page_data_add_requests(self, sent, TRUE);
	adw_action_row_set_subtitle(
		self->uploads_row,
		/* TRANSLATORS: under "Uploads" once they are shown */
		_("What is waiting to be sent, and what the server accepted in the last 90 days."));
	self->uploads_shown = TRUE;
}

typedef struct {
	MpnlPageData *page;    /* (owned) */
	MpnlUploadsLoad *load; /* (unowned) */
	GVariant **slot;       /* (unowned) in @load */
	const char *type;
} MpnlUploadsCall;

static void
mpnl_page_data_uploads_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	MpnlUploadsCall *call = user_data;
	g_autoptr(MpnlPageData) self = call->page;
	MpnlUploadsLoad *load = call->load;
	g_autoptr(GError) error = NULL;
	GVariant *reply;

	reply = mpnl_service_call_finish(MPNL_SERVICE(source), result, &error);
	if (reply != NULL && !g_variant_is_of_type(reply, G_VARIANT_TYPE(call->type))) {
		g_variant_unref(reply);
		reply = NULL;
		g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    /* TRANSLATORS: the service answered something unexpected */
			    _("The metrics service gave an answer of the wrong type."));
	}
	*call->slot = reply;
	if (error != NULL && load->error == NULL)
		load->error = g_steal_pointer(&error);
	g_free(call);
	if (--load->outstanding > 0)
		return;
	if (!g_error_matches(load->error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		mpnl_page_data_show_uploads(self, load);
		gtk_widget_set_sensitive(GTK_WIDGET(self->uploads_button), TRUE);
	}
	mpnl_uploads_load_free(load);
}

static void
mpnl_page_data_uploads_call(MpnlPageData *self,
			    MpnlUploadsLoad *load,
			    const char *method,
			    GVariant *options,
			    GVariant **slot,
			    const char *type)
{
	MpnlUploadsCall *call = g_new0(MpnlUploadsCall, 1);

	call->page = g_object_ref(self);
	call->load = load;
	call->slot = slot;
	call->type = type;
	load->outstanding++;
	mpnl_service_call_async(self->service, method, g_variant_new("(@a{sv})", options), TRUE,
				self->uploads_cancellable, mpnl_page_data_uploads_cb, call);
}

static void
mpnl_page_data_uploads_clicked_cb(GtkButton *button, gpointer user_data)
{
	MpnlPageData *self = MPNL_PAGE_DATA(user_data);
	MpnlUploadsLoad *load = g_new0(MpnlUploadsLoad, 1);
	GVariantBuilder all;

	if (self->uploads_cancellable != NULL)
		g_cancellable_cancel(self->uploads_cancellable);
	g_clear_object(&self->uploads_cancellable);
	self->uploads_cancellable = g_cancellable_new();
	gtk_widget_set_sensitive(GTK_WIDGET(button), FALSE);
	g_variant_builder_init(&all, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&all, "{sv}", "all", g_variant_new_boolean(TRUE));
	/* polkit asks once; the others ride on what it remembers */
	mpnl_page_data_uploads_call(self, load, "GetStatus", g_variant_builder_end(&all),
				    &load->status, "(a{sv})");
	mpnl_page_data_uploads_call(self, load, "GetPendingUploads",
				    g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0),
				    &load->pending, "(aa{sv})");
	mpnl_page_data_uploads_call(self, load, "GetSentUploads",
				    g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0),
				    &load->sent, "(aa{sv})");
}

static void
mpnl_page_data_reload_clicked_cb(GtkButton *button, gpointer user_data)
{
	mpnl_page_data_reload(MPNL_PAGE_DATA(user_data));
}

static void
mpnl_page_data_changed_cb(MpnlService *service, gpointer user_data)
{
	MpnlPageData *self = MPNL_PAGE_DATA(user_data);

	/* after "no" nothing is stored, and nothing was sent */
	if (self->uploads_cancellable != NULL)
		g_cancellable_cancel(self->uploads_cancellable);
	g_clear_object(&self->uploads_cancellable);
	mpnl_page_data_remove_rows(self->uploads, self->upload_rows);
	self->uploads_shown = FALSE;
	gtk_widget_set_sensitive(GTK_WIDGET(self->uploads_button), TRUE);
	adw_action_row_set_subtitle(self->uploads_row, NULL);
	mpnl_page_data_reload(self);
}

static void
mpnl_page_data_map(GtkWidget *widget)
{
	GTK_WIDGET_CLASS(mpnl_page_data_parent_class)->map(widget);
	/* what apps recorded since the page was last shown */
	mpnl_page_data_reload(MPNL_PAGE_DATA(widget));
}

static void
mpnl_page_data_dispose(GObject *object)
{
	MpnlPageData *self = MPNL_PAGE_DATA(object);

	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	if (self->uploads_cancellable != NULL)
		g_cancellable_cancel(self->uploads_cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->uploads_cancellable);
	g_clear_object(&self->service);
	g_clear_pointer(&self->metrics, g_ptr_array_unref);
	G_OBJECT_CLASS(mpnl_page_data_parent_class)->dispose(object);
}

static void
mpnl_page_data_finalize(GObject *object)
{
	MpnlPageData *self = MPNL_PAGE_DATA(object);

	g_ptr_array_unref(self->stored_rows);
	g_ptr_array_unref(self->charts);
	g_ptr_array_unref(self->upload_rows);
	G_OBJECT_CLASS(mpnl_page_data_parent_class)->finalize(object);
}

static void
mpnl_page_data_class_init(MpnlPageDataClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mpnl_page_data_dispose;
	G_OBJECT_CLASS(klass)->finalize = mpnl_page_data_finalize;
	GTK_WIDGET_CLASS(klass)->map = mpnl_page_data_map;
}

static void
mpnl_page_data_init(MpnlPageData *self)
{
	self->stored_rows = g_ptr_array_new();
	self->charts = g_ptr_array_new();
	self->upload_rows = g_ptr_array_new();

	self->stored = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	/* TRANSLATORS: the title of the group of charts of the user's stored data */
	adw_preferences_group_set_title(self->stored, _("Your Stored Data"));
	adw_preferences_group_set_description(
		self->stored,
		/* TRANSLATORS: under "Your Stored Data" */
		_("What apps recorded for you, counted per week (weeks start on Monday). "
		  "Single events are never kept."));
	/* TRANSLATORS: a button that reads the stored data again */
	self->reload_button = GTK_BUTTON(gtk_button_new_from_icon_name("view-refresh-symbolic"));
	gtk_widget_set_valign(GTK_WIDGET(self->reload_button), GTK_ALIGN_CENTER);
	gtk_widget_add_css_class(GTK_WIDGET(self->reload_button), "flat");
	/* TRANSLATORS: the name and tooltip of the button that reads the data again */
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->reload_button), _("Reload"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->reload_button),
				       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Reload"), -1);
	adw_preferences_group_set_header_suffix(self->stored, GTK_WIDGET(self->reload_button));
	g_signal_connect(self->reload_button, "clicked",
			 G_CALLBACK(mpnl_page_data_reload_clicked_cb), self);
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self), self->stored);

	self->uploads = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	/* TRANSLATORS: the title of the group about what is sent */
	adw_preferences_group_set_title(self->uploads, _("Uploads"));
	adw_preferences_group_set_description(
		self->uploads,
		/* TRANSLATORS: under "Uploads" */
		_("Uploads merge the data of every user of this computer, so an administrator "
		  "may see them."));
	self->uploads_row = ADW_ACTION_ROW(adw_action_row_new());
	/* TRANSLATORS: a row with a button that shows the next uploads and the sent ones */
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->uploads_row),
				      _("Next and Sent Uploads"));
	/* TRANSLATORS: the button that shows the uploads (may ask for a password) */
	self->uploads_button = GTK_BUTTON(gtk_button_new_with_mnemonic(_("_Show")));
	gtk_widget_set_valign(GTK_WIDGET(self->uploads_button), GTK_ALIGN_CENTER);
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->uploads_button),
				       GTK_ACCESSIBLE_PROPERTY_LABEL,
				       /* TRANSLATORS: what a screen reader says for "Show" */
				       _("Show the next and the sent uploads"), -1);
	adw_action_row_add_suffix(self->uploads_row, GTK_WIDGET(self->uploads_button));
	adw_action_row_set_activatable_widget(self->uploads_row, GTK_WIDGET(self->uploads_button));
	adw_preferences_group_add(self->uploads, GTK_WIDGET(self->uploads_row));
	g_signal_connect(self->uploads_button, "clicked",
			 G_CALLBACK(mpnl_page_data_uploads_clicked_cb), self);
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self), self->uploads);
}

/* the stored data of the user running the panel */
GtkWidget *
mpnl_page_data_new(MpnlService *service)
{
	MpnlPageData *self;

	g_return_val_if_fail(MPNL_IS_SERVICE(service), NULL);
	self = g_object_new(MPNL_TYPE_PAGE_DATA,
			    /* TRANSLATORS: the name of a page of the panel */
			    "title", _("Your Data"), "icon-name", "x-office-spreadsheet-symbolic",
			    NULL);
	self->service = g_object_ref(service);
	g_signal_connect_object(service, "data-changed", G_CALLBACK(mpnl_page_data_changed_cb),
				self, G_CONNECT_DEFAULT);
	mpnl_page_data_reload(self);
	return GTK_WIDGET(self);
}

gboolean
mpnl_page_data_is_loaded(MpnlPageData *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_DATA(self), FALSE);
	return self->loaded;
}

/* how many times the page has shown what is stored */
guint
mpnl_page_data_get_n_loads(MpnlPageData *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_DATA(self), 0);
	return self->n_loads;
}

/* (transfer none) (element-type MpnlChart) */
GPtrArray *
mpnl_page_data_get_charts(MpnlPageData *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_DATA(self), NULL);
	return self->charts;
}

GtkButton *
mpnl_page_data_get_reload_button(MpnlPageData *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_DATA(self), NULL);
	return self->reload_button;
}

GtkButton *
mpnl_page_data_get_uploads_button(MpnlPageData *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_DATA(self), NULL);
	return self->uploads_button;
}

gboolean
mpnl_page_data_get_uploads_shown(MpnlPageData *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_DATA(self), FALSE);
	return self->uploads_shown;
}

AdwActionRow *
mpnl_page_data_get_uploads_row(MpnlPageData *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_DATA(self), NULL);
	return self->uploads_row;
}
