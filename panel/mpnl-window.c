/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MpnlWindow"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpnl-page-consent.h"
#include "mpnl-page-data.h"
#include "mpnl-page-metrics.h"
#include "mpnl-page-setup.h"
#include "mpnl-window.h"

/* the pages side by side, as a Settings panel would show them; each page
 * is a self-contained AdwPreferencesPage over an MpnlService, so a host
 * such as a privacy panel can take them one by one */
struct _MpnlWindow {
	AdwApplicationWindow parent_instance;

	MpnlService *service; /* (owned) */
	AdwViewStack *stack;  /* (unowned) */
	GtkWidget *content;   /* (unowned) */
};

G_DEFINE_TYPE(MpnlWindow, mpnl_window, ADW_TYPE_APPLICATION_WINDOW)

static const char *const mpnl_page_names[] = {"consent", "metrics", "data", "setup", NULL};

/* the names of the pages, in order: consent, metrics, data, setup */
const char *const *
mpnl_window_get_page_names(void)
{
	return mpnl_page_names;
}

static void
mpnl_window_show_page_cb(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
	mpnl_window_show_page(MPNL_WINDOW(widget), g_variant_get_string(parameter, NULL));
}

static void
mpnl_window_dispose(GObject *object)
{
	MpnlWindow *self = MPNL_WINDOW(object);

	g_clear_object(&self->service);
	G_OBJECT_CLASS(mpnl_window_parent_class)->dispose(object);
}

static void
mpnl_window_class_init(MpnlWindowClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mpnl_window_dispose;
	gtk_widget_class_install_action(GTK_WIDGET_CLASS(klass), "win.show-page", "s",
					mpnl_window_show_page_cb);
}

static void
mpnl_window_init(MpnlWindow *self)
{
}

static void
mpnl_window_add_page(MpnlWindow *self, const char *name, GtkWidget *page)
{
	AdwViewStackPage *stack_page;

	stack_page = adw_view_stack_add_titled(
		self->stack, page, name,
		adw_preferences_page_get_title(ADW_PREFERENCES_PAGE(page)));
	adw_view_stack_page_set_icon_name(
		stack_page, adw_preferences_page_get_icon_name(ADW_PREFERENCES_PAGE(page)));
}

/* the panel's window for @service */
MpnlWindow *
mpnl_window_new(AdwApplication *application, MpnlService *service)
{
	MpnlWindow *self;
	GtkWidget *box;
	GtkWidget *header;
	GtkWidget *title;
	GtkWidget *bar;

	g_return_val_if_fail(MPNL_IS_SERVICE(service), NULL);
	self = g_object_new(MPNL_TYPE_WINDOW, "application", application,
			    /* TRANSLATORS: the window's title */
			    "title", _("Usage Data and Privacy"), "default-width", 720,
			    "default-height", 640, NULL);
	self->service = g_object_ref(service);

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	header = adw_header_bar_new();
	title = adw_view_switcher_title_new();
	self->stack = ADW_VIEW_STACK(adw_view_stack_new());
	adw_view_switcher_title_set_stack(ADW_VIEW_SWITCHER_TITLE(title), self->stack);
	adw_view_switcher_title_set_title(ADW_VIEW_SWITCHER_TITLE(title),
					  gtk_window_get_title(GTK_WINDOW(self)));
	adw_header_bar_set_title_widget(ADW_HEADER_BAR(header), title);
	gtk_box_append(GTK_BOX(box), header);
	gtk_widget_set_vexpand(GTK_WIDGET(self->stack), TRUE);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->stack));
	/* on a narrow window the switcher moves to the bottom */
	bar = adw_view_switcher_bar_new();
	adw_view_switcher_bar_set_stack(ADW_VIEW_SWITCHER_BAR(bar), self->stack);
	g_object_bind_property(title, "title-visible", bar, "reveal", G_BINDING_SYNC_CREATE);
	gtk_box_append(GTK_BOX(box), bar);
	adw_application_window_set_content(ADW_APPLICATION_WINDOW(self), box);
	self->content = box;

	mpnl_window_add_page(self, "consent", mpnl_page_consent_new(service));
	mpnl_window_add_page(self, "metrics", mpnl_page_metrics_new(service));
	mpnl_window_add_page(self, "data", mpnl_page_data_new(service));
	mpnl_window_add_page(self, "setup", mpnl_page_setup_new(service));
	return self;
}

/* (nullable) (transfer none): the page called @name */
GtkWidget *
mpnl_window_get_page(MpnlWindow *self, const char *name)
{
	g_return_val_if_fail(MPNL_IS_WINDOW(self), NULL);
	return adw_view_stack_get_child_by_name(self->stack, name);
}

void
mpnl_window_show_page(MpnlWindow *self, const char *name)
{
	g_return_if_fail(MPNL_IS_WINDOW(self));
	if (adw_view_stack_get_child_by_name(self->stack, name) == NULL) {
		g_warning("no page called %s", name);
		return;
	}
	adw_view_stack_set_visible_child_name(self->stack, name);
}

const char *
mpnl_window_get_visible_page(MpnlWindow *self)
{
	g_return_val_if_fail(MPNL_IS_WINDOW(self), NULL);
	return adw_view_stack_get_visible_child_name(self->stack);
}

/* renders what the window shows now, its header bar and page, into a PNG
 * at @path; the window must be mapped and laid out */
gboolean
mpnl_window_save_png(MpnlWindow *self, const char *path, GError **error)
{
	g_autoptr(GdkPaintable) paintable = NULL;
	g_autoptr(GtkSnapshot) snapshot = NULL;
	g_autoptr(GskRenderNode) node = NULL;
	g_autoptr(GdkTexture) texture = NULL;
	GskRenderer *renderer;
	int width, height;

	g_return_val_if_fail(MPNL_IS_WINDOW(self), FALSE);
	g_return_val_if_fail(path != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	width = gtk_widget_get_width(self->content);
	height = gtk_widget_get_height(self->content);
	renderer = gtk_native_get_renderer(GTK_NATIVE(self));
	if (width <= 0 || height <= 0 || renderer == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    /* TRANSLATORS: an error of --screenshot */
			    _("The window is not shown yet, so it cannot be saved as an image."));
		return FALSE;
	}
	paintable = gtk_widget_paintable_new(self->content);
	snapshot = gtk_snapshot_new();
	/* the page's background, which the window, not the content, draws */
	gtk_snapshot_append_color(snapshot, &(GdkRGBA){0.98f, 0.98f, 0.98f, 1.f},
				  &GRAPHENE_RECT_INIT(0, 0, width, height));
	gdk_paintable_snapshot(paintable, GDK_SNAPSHOT(snapshot), width, height);
	node = gtk_snapshot_free_to_node(g_steal_pointer(&snapshot));
	if (node == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    _("The window is not shown yet, so it cannot be saved as an image."));
		return FALSE;
	}
	texture = gsk_renderer_render_texture(renderer, node,
					      &GRAPHENE_RECT_INIT(0, 0, width, height));
	if (!gdk_texture_save_to_png(texture, path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    /* TRANSLATORS: an error of --screenshot; %s is a file name */
			    _("Could not write %s: check that its folder exists and is writable."),
			    path);
		return FALSE;
	}
	return TRUE;
}
