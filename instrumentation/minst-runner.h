/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include "minst-probe.h"

G_BEGIN_DECLS

GPtrArray *
minst_runner_collect(MinstContext *ctx, MinstMode mode, GHashTable *skip_categories);
gboolean
minst_runner_run(MinstContext *ctx,
		 MinstMode mode,
		 MetricsRecorder *recorder,
		 MetricsClient *client,
		 guint *n_recorded,
		 GError **error);

G_END_DECLS
