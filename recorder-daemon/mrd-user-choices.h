/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "metrics-common.h"

G_BEGIN_DECLS

#define MRD_TYPE_USER_CHOICES (mrd_user_choices_get_type())
G_DECLARE_FINAL_TYPE(MrdUserChoices, mrd_user_choices, MRD, USER_CHOICES, GObject)

MrdUserChoices *
mrd_user_choices_new(const char *path);
MetricsUserChoice
mrd_user_choices_get(MrdUserChoices *self, guint32 uid);
GArray *
mrd_user_choices_list_opted_out(MrdUserChoices *self);
gboolean
mrd_user_choices_set(MrdUserChoices *self, guint32 uid, MetricsUserChoice choice, GError **error);
guint
mrd_user_choices_get_off(MrdUserChoices *self, guint32 uid);
GArray *
mrd_user_choices_list_with_off(MrdUserChoices *self);
gboolean
mrd_user_choices_set_off(MrdUserChoices *self, guint32 uid, guint off, GError **error);

G_END_DECLS
