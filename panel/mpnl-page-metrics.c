/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlPageMetrics"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpnl-allowlist.h"
#include "mpnl-page-metrics.h"

/* every metric the recorder accepts, by category: what it measures and
 * why, in the user's language */
struct _MpnlPageMetrics {
	AdwPreferencesPage parent_instance;

	MpnlService *service;	   /* (owned) */
	GCancellable *cancellable; /* (owned) (nullable) the load under way */
	GPtrArray *groups;	   /* (owned) (element-type AdwPreferencesGroup) shown now */
	guint n_metrics;
};

G_DEFINE_TYPE(MpnlPageMetrics, mpnl_page_metrics, ADW_TYPE_PREFERENCES_PAGE)

static void
mpnl_page_metrics_clear(MpnlPageMetrics *self)
{
	for (guint i = 0; i < self->groups->len; i++)
		adw_preferences_page_remove(ADW_PREFERENCES_PAGE(self),
					    g_ptr_array_index(self->groups, i));
	g_ptr_array_set_size(self->groups, 0);
	self->n_metrics = 0;
}

static AdwPreferencesGroup *
mpnl_page_metrics_add_group(MpnlPageMetrics *self, const char *title, const char *description)
{
	AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP(adw_preferences_group_new());

	adw_preferences_group_set_title(group, title);
	if (description != NULL)
		adw_preferences_group_set_description(group, description);
	adw_preferences_page_add(ADW_PREFERENCES_PAGE(self), group);
	g_ptr_array_add(self->groups, group);
	return group;
}

static GtkWidget *
mpnl_page_metrics_text_row(const char *title, const char *text)
{
	AdwActionRow *row = ADW_ACTION_ROW(adw_action_row_new());

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_action_row_set_subtitle(row, text);
	return GTK_WIDGET(row);
}

static GtkWidget *
mpnl_page_metrics_metric_row(MpnlMetric *metric)
{
	AdwExpanderRow *row = ADW_EXPANDER_ROW(adw_expander_row_new());

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), metric->description);
	adw_expander_row_set_subtitle(row, metric->name);
	/* TRANSLATORS: the title of the row that says why a metric is collected */
	adw_expander_row_add_row(row, mpnl_page_metrics_text_row(_("Why"), metric->purpose));
	if (*metric->expires != '\0') {
		adw_expander_row_add_row(row,
					 mpnl_page_metrics_text_row(
						 /* TRANSLATORS: the date after which a metric is no
						    longer collected */
						 metric->expired ? _("No Longer Collected Since") :
								   _("Collected Until"),
						 metric->expires));
	}
	return GTK_WIDGET(row);
}

static void
mpnl_page_metrics_fill(MpnlPageMetrics *self, GPtrArray *metrics)
{
	const char *const *categories = mpnl_categories();

	/* the known categories in order, then whatever else a newer
	 * allowlist has, under "Other" */
	for (guint c = 0; c <= g_strv_length((GStrv)categories); c++) {
		const char *category = categories[c];
		AdwPreferencesGroup *group = NULL;

		for (guint i = 0; i < metrics->len; i++) {
			MpnlMetric *metric = g_ptr_array_index(metrics, i);
			gboolean known = g_strv_contains(categories, metric->category);

			if (category != NULL ? g_strcmp0(metric->category, category) != 0 : known)
				continue;
			if (group == NULL)
				group = mpnl_page_metrics_add_group(
					self, mpnl_category_title(category), NULL);
			adw_preferences_group_add(group, mpnl_page_metrics_metric_row(metric));
			self->n_metrics++;
		}
	}
}

static void
mpnl_page_metrics_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(MpnlPageMetrics) self = MPNL_PAGE_METRICS(user_data);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) metrics = NULL;

	reply = mpnl_service_call_finish(MPNL_SERVICE(source), result, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	mpnl_page_metrics_clear(self);
	if (reply == NULL || !g_variant_is_of_type(reply, G_VARIANT_TYPE("(aa{sv})"))) {
		g_autofree char *message = error != NULL ? mpnl_error_message(error) : NULL;
		AdwPreferencesGroup *group =
			/* TRANSLATORS: shown when the list of metrics cannot be read */
			mpnl_page_metrics_add_group(self, _("The List Could Not Be Read"), message);
		(void)group;
		return;
	}
	metrics = mpnl_allowlist_parse(reply);
	mpnl_page_metrics_fill(self, metrics);
}

/* reads the allowlist again */
void
mpnl_page_metrics_reload(MpnlPageMetrics *self)
{
	g_return_if_fail(MPNL_IS_PAGE_METRICS(self));
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	if (mpnl_service_get_state(self->service) == MPNL_STATE_ABSENT ||
	    mpnl_service_get_state(self->service) == MPNL_STATE_CONNECTING) {
		mpnl_page_metrics_clear(self);
		mpnl_page_metrics_add_group(
			self,
			/* TRANSLATORS: shown instead of the list of metrics */
			_("No Metrics"),
			/* TRANSLATORS: shown instead of the list of metrics */
			_("The metrics service is not available on this computer."));
		return;
	}
	self->cancellable = g_cancellable_new();
	mpnl_service_call_async(
		self->service, "GetAllowlist",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		FALSE, self->cancellable, mpnl_page_metrics_loaded_cb, g_object_ref(self));
}

static void
mpnl_page_metrics_state_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	mpnl_page_metrics_reload(MPNL_PAGE_METRICS(user_data));
}

static void
mpnl_page_metrics_dispose(GObject *object)
{
	MpnlPageMetrics *self = MPNL_PAGE_METRICS(object);

	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->service);
	G_OBJECT_CLASS(mpnl_page_metrics_parent_class)->dispose(object);
}

static void
mpnl_page_metrics_finalize(GObject *object)
{
	MpnlPageMetrics *self = MPNL_PAGE_METRICS(object);

	g_ptr_array_unref(self->groups);
	G_OBJECT_CLASS(mpnl_page_metrics_parent_class)->finalize(object);
}

static void
mpnl_page_metrics_class_init(MpnlPageMetricsClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mpnl_page_metrics_dispose;
	G_OBJECT_CLASS(klass)->finalize = mpnl_page_metrics_finalize;
}

static void
mpnl_page_metrics_init(MpnlPageMetrics *self)
{
	self->groups = g_ptr_array_new();
}

/* the list of metrics of @service */
GtkWidget *
mpnl_page_metrics_new(MpnlService *service)
{
	MpnlPageMetrics *self;

	g_return_val_if_fail(MPNL_IS_SERVICE(service), NULL);
	self = g_object_new(MPNL_TYPE_PAGE_METRICS,
			    /* TRANSLATORS: the name of a page of the panel */
			    "title", _("What Is Collected"), "icon-name", "view-list-symbolic",
			    NULL);
	self->service = g_object_ref(service);
	g_signal_connect_object(service, "notify::state", G_CALLBACK(mpnl_page_metrics_state_cb),
				self, G_CONNECT_DEFAULT);
	mpnl_page_metrics_reload(self);
	return GTK_WIDGET(self);
}

/* how many metrics the page lists */
guint
mpnl_page_metrics_get_n_metrics(MpnlPageMetrics *self)
{
	g_return_val_if_fail(MPNL_IS_PAGE_METRICS(self), 0);
	return self->n_metrics;
}
