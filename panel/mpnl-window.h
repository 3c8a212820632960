/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <adwaita.h>

#include "mpnl-service.h"

G_BEGIN_DECLS

#define MPNL_TYPE_WINDOW (mpnl_window_get_type())
G_DECLARE_FINAL_TYPE(MpnlWindow, mpnl_window, MPNL, WINDOW, AdwApplicationWindow)

MpnlWindow *
mpnl_window_new(AdwApplication *application, MpnlService *service);
GtkWidget *
mpnl_window_get_page(MpnlWindow *self, const char *name);
void
mpnl_window_show_page(MpnlWindow *self, const char *name);
const char *
mpnl_window_get_visible_page(MpnlWindow *self);
const char *const *
mpnl_window_get_page_names(void);
gboolean
mpnl_window_save_png(MpnlWindow *self, const char *path, GError **error);

G_END_DECLS
