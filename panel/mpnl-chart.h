/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MPNL_TYPE_CHART (mpnl_chart_get_type())
G_DECLARE_FINAL_TYPE(MpnlChart, mpnl_chart, MPNL, CHART, GtkWidget)

GtkWidget *
mpnl_chart_new(const char *title);
void
mpnl_chart_add_week(MpnlChart *self, const char *week, guint64 count);
guint
mpnl_chart_get_n_weeks(MpnlChart *self);
guint64
mpnl_chart_get_count(MpnlChart *self, const char *week);

G_END_DECLS
