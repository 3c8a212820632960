/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <adwaita.h>

#include "mpnl-service.h"

G_BEGIN_DECLS

#define MPNL_TYPE_PAGE_CONSENT (mpnl_page_consent_get_type())
G_DECLARE_FINAL_TYPE(MpnlPageConsent, mpnl_page_consent, MPNL, PAGE_CONSENT, AdwPreferencesPage)

GtkWidget *
mpnl_page_consent_new(MpnlService *service);
GtkSwitch *
mpnl_page_consent_get_switch(MpnlPageConsent *self);
AdwActionRow *
mpnl_page_consent_get_state_row(MpnlPageConsent *self);
AdwActionRow *
mpnl_page_consent_get_error_row(MpnlPageConsent *self);

G_END_DECLS
