/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#define __METRICS_H_INSIDE__

#include "metrics-aggregate.h"
#include "metrics-client.h"
#include "metrics-common.h"
#include "metrics-enums.h"
#include "metrics-error.h"
#include "metrics-recorder.h"
#include "metrics-version.h"

#undef __METRICS_H_INSIDE__
