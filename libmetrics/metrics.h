/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#define __METRICS_H_INSIDE__

#include "metrics-aggregate.h"
#include "metrics-allowlist-entry.h"
#include "metrics-client.h"
#include "metrics-common.h"
#include "metrics-drop-count.h"
#include "metrics-enums.h"
#include "metrics-error.h"
#include "metrics-recorder.h"
#include "metrics-status.h"
#include "metrics-upload-event.h"
#include "metrics-upload.h"
#include "metrics-version.h"

#undef __METRICS_H_INSIDE__
