/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlChart"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpnl-chart.h"

#define MPNL_CHART_BAR_WIDTH 44
#define MPNL_CHART_GAP 12
#define MPNL_CHART_HEIGHT 140
#define MPNL_CHART_LABEL_SPACE 22

/* a bar chart of a metric's events per week, drawn with GtkSnapshot; for a
 * screen reader it is an image whose label says every figure */
typedef struct {
	char *week; /* (owned) the Monday, YYYY-MM-DD */
	guint64 count;
} MpnlChartWeek;

struct _MpnlChart {
	GtkWidget parent_instance;

	char *title;   /* (owned) */
	GArray *weeks; /* (owned) (element-type MpnlChartWeek) sorted by week */
};

G_DEFINE_TYPE(MpnlChart, mpnl_chart, GTK_TYPE_WIDGET)

static void
mpnl_chart_week_clear(gpointer data)
{
	MpnlChartWeek *week = data;

	g_free(week->week);
}

static void
mpnl_chart_update_accessible(MpnlChart *self)
{
	g_autoptr(GString) text = g_string_new(self->title);

	for (guint i = 0; i < self->weeks->len; i++) {
		MpnlChartWeek *week = &g_array_index(self->weeks, MpnlChartWeek, i);
		g_autofree char *count = g_strdup_printf("%" G_GUINT64_FORMAT, week->count);
		/* TRANSLATORS: read by a screen reader for one bar of a chart:
		 * the week's first day and how many events were stored that week */
		g_string_append_printf(text,
				       g_dngettext(GETTEXT_PACKAGE, "; week of %s: %s event",
						   "; week of %s: %s events",
						   (gulong)MIN(week->count, G_MAXULONG)),
				       week->week, count);
	}
	gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       text->str, -1);
}

static void
mpnl_chart_measure(GtkWidget *widget,
		   GtkOrientation orientation,
		   int for_size,
		   int *minimum,
		   int *natural,
		   int *minimum_baseline,
		   int *natural_baseline)
{
	MpnlChart *self = MPNL_CHART(widget);

	if (orientation == GTK_ORIENTATION_HORIZONTAL) {
		guint n = MAX(self->weeks->len, 1);
		*minimum = n * (MPNL_CHART_BAR_WIDTH + MPNL_CHART_GAP) + MPNL_CHART_GAP;
		*natural = *minimum;
	} else {
		*minimum = MPNL_CHART_HEIGHT;
		*natural = MPNL_CHART_HEIGHT;
	}
}

static void
mpnl_chart_append_text(GtkWidget *widget,
		       GtkSnapshot *snapshot,
		       const char *text,
		       float center_x,
		       float top,
		       const GdkRGBA *color)
{
	g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout(widget, text);
	int width, height;

	pango_layout_get_pixel_size(layout, &width, &height);
	gtk_snapshot_save(snapshot);
	gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(center_x - width / 2.f, top));
	gtk_snapshot_append_layout(snapshot, layout, color);
	gtk_snapshot_restore(snapshot);
}

static void
mpnl_chart_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
	MpnlChart *self = MPNL_CHART(widget);
	float width = gtk_widget_get_width(widget);
	float height = gtk_widget_get_height(widget);
	float plot = height - 2 * MPNL_CHART_LABEL_SPACE;
	guint64 max = 1;
	GdkRGBA fg;
	GdkRGBA bar = {0.21f, 0.52f, 0.89f, 1.f};
	GdkRGBA axis;

	G_GNUC_BEGIN_IGNORE_DEPRECATIONS
	gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
	G_GNUC_END_IGNORE_DEPRECATIONS
	axis = fg;
	axis.alpha = 0.3f;
	for (guint i = 0; i < self->weeks->len; i++)
		max = MAX(max, g_array_index(self->weeks, MpnlChartWeek, i).count);

	gtk_snapshot_append_color(snapshot, &axis,
				  &GRAPHENE_RECT_INIT(0, MPNL_CHART_LABEL_SPACE + plot, width, 1));
	for (guint i = 0; i < self->weeks->len; i++) {
		MpnlChartWeek *week = &g_array_index(self->weeks, MpnlChartWeek, i);
		float x = MPNL_CHART_GAP + i * (MPNL_CHART_BAR_WIDTH + MPNL_CHART_GAP);
		float h = MAX(plot * week->count / (double)max, 2.f);
		float top = MPNL_CHART_LABEL_SPACE + plot - h;
		g_autofree char *value = g_strdup_printf("%" G_GUINT64_FORMAT, week->count);
		/* the label under the bar: MM-DD of the week's Monday */
		const char *day = strlen(week->week) == 10 ? week->week + 5 : week->week;

		gtk_snapshot_append_color(snapshot, &bar,
					  &GRAPHENE_RECT_INIT(x, top, MPNL_CHART_BAR_WIDTH, h));
		mpnl_chart_append_text(widget, snapshot, value, x + MPNL_CHART_BAR_WIDTH / 2.f,
				       top - MPNL_CHART_LABEL_SPACE + 2, &fg);
		mpnl_chart_append_text(widget, snapshot, day, x + MPNL_CHART_BAR_WIDTH / 2.f,
				       MPNL_CHART_LABEL_SPACE + plot + 3, &fg);
	}
}

static void
mpnl_chart_finalize(GObject *object)
{
	MpnlChart *self = MPNL_CHART(object);

	g_free(self->title);
	g_array_unref(self->weeks);
	G_OBJECT_CLASS(mpnl_chart_parent_class)->finalize(object);
}

static void
mpnl_chart_class_init(MpnlChartClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->finalize = mpnl_chart_finalize;
	widget_class->measure = mpnl_chart_measure;
	widget_class->snapshot = mpnl_chart_snapshot;
	gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
	gtk_widget_class_set_css_name(widget_class, "chart");
}

static void
mpnl_chart_init(MpnlChart *self)
{
	self->weeks = g_array_new(FALSE, TRUE, sizeof(MpnlChartWeek));
	g_array_set_clear_func(self->weeks, mpnl_chart_week_clear);
}

/* an empty chart; @title names it for a screen reader */
GtkWidget *
mpnl_chart_new(const char *title)
{
	MpnlChart *self = g_object_new(MPNL_TYPE_CHART, NULL);

	self->title = g_strdup(title);
	mpnl_chart_update_accessible(self);
	return GTK_WIDGET(self);
}

/* adds @count to the bar of @week (a Monday, YYYY-MM-DD), keeping weeks in
 * order */
void
mpnl_chart_add_week(MpnlChart *self, const char *week, guint64 count)
{
	guint i;
	gboolean found = FALSE;

	g_return_if_fail(MPNL_IS_CHART(self));
	g_return_if_fail(week != NULL);
	for (i = 0; i < self->weeks->len && !found; i++) {
		MpnlChartWeek *existing = &g_array_index(self->weeks, MpnlChartWeek, i);
		int order = strcmp(existing->week, week);
		if (order == 0) {
			existing->count += count;
			found = TRUE;
		} else if (order > 0) {
			break;
		}
	}
	if (!found) {
		MpnlChartWeek entry = {g_strdup(week), count};
		g_array_insert_val(self->weeks, i, entry);
	}
	mpnl_chart_update_accessible(self);
	gtk_widget_queue_resize(GTK_WIDGET(self));
}

guint
mpnl_chart_get_n_weeks(MpnlChart *self)
{
	g_return_val_if_fail(MPNL_IS_CHART(self), 0);
	return self->weeks->len;
}

/* the events of @week, 0 if it has none */
guint64
mpnl_chart_get_count(MpnlChart *self, const char *week)
{
	g_return_val_if_fail(MPNL_IS_CHART(self), 0);
	for (guint i = 0; i < self->weeks->len; i++) {
		MpnlChartWeek *existing = &g_array_index(self->weeks, MpnlChartWeek, i);
		if (g_strcmp0(existing->week, week) == 0)
			return existing->count;
	}
	return 0;
}
