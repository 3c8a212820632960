/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <adwaita.h>

#include "mpnl-chart.h"
#include "mpnl-service.h"

G_BEGIN_DECLS

#define MPNL_TYPE_PAGE_DATA (mpnl_page_data_get_type())
G_DECLARE_FINAL_TYPE(MpnlPageData, mpnl_page_data, MPNL, PAGE_DATA, AdwPreferencesPage)

GtkWidget *
mpnl_page_data_new(MpnlService *service);
void
mpnl_page_data_reload(MpnlPageData *self);
gboolean
mpnl_page_data_is_loaded(MpnlPageData *self);
guint
mpnl_page_data_get_n_loads(MpnlPageData *self);
GPtrArray *
mpnl_page_data_get_charts(MpnlPageData *self);
GtkButton *
mpnl_page_data_get_reload_button(MpnlPageData *self);
GtkButton *
mpnl_page_data_get_uploads_button(MpnlPageData *self);
gboolean
mpnl_page_data_get_uploads_shown(MpnlPageData *self);
AdwActionRow *
mpnl_page_data_get_uploads_row(MpnlPageData *self);

G_END_DECLS
