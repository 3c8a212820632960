/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <adwaita.h>

#include "mpnl-service.h"

G_BEGIN_DECLS

#define MPNL_TYPE_PAGE_METRICS (mpnl_page_metrics_get_type())
G_DECLARE_FINAL_TYPE(MpnlPageMetrics, mpnl_page_metrics, MPNL, PAGE_METRICS, AdwPreferencesPage)

GtkWidget *
mpnl_page_metrics_new(MpnlService *service);
void
mpnl_page_metrics_reload(MpnlPageMetrics *self);
guint
mpnl_page_metrics_get_n_metrics(MpnlPageMetrics *self);

G_END_DECLS
