/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <adwaita.h>

#include "mpnl-service.h"

G_BEGIN_DECLS

#define MPNL_TYPE_PAGE_SETUP (mpnl_page_setup_get_type())
G_DECLARE_FINAL_TYPE(MpnlPageSetup, mpnl_page_setup, MPNL, PAGE_SETUP, AdwPreferencesPage)

GtkWidget *
mpnl_page_setup_new(MpnlService *service);
GtkCheckButton *
mpnl_page_setup_get_yes(MpnlPageSetup *self);
GtkCheckButton *
mpnl_page_setup_get_no(MpnlPageSetup *self);
GtkButton *
mpnl_page_setup_get_confirm(MpnlPageSetup *self);
GtkButton *
mpnl_page_setup_get_list_button(MpnlPageSetup *self);
AdwActionRow *
mpnl_page_setup_get_result_row(MpnlPageSetup *self);

G_END_DECLS
