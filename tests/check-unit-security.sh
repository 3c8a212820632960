#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Fails unless `systemd-analyze security --offline=yes` rates UNIT at an
# overall exposure of at most MAX (0.0 is best, 10.0 worst).
#   check-unit-security.sh UNIT MAX
set -euo pipefail

unit=$1
max=$2

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not found: install systemd (tools/install-deps.sh)" >&2
    exit 1
fi
# --offline appeared in systemd 250
if ! out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1); then
    echo "$out"
    echo "systemd-analyze security --offline=yes failed: systemd >= 250 is needed ($(systemd-analyze --version | head -n 1))" >&2
    exit 1
fi
echo "$out"
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' <<<"$out")
if [ -z "$exposure" ]; then
    echo "cannot find the overall exposure level in the output above" >&2
    exit 1
fi
echo "exposure of $(basename "$unit"): $exposure (at most $max allowed)"
if ! awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e + 0 <= m + 0) }'; then
    echo "exposure $exposure is above $max: tighten the sandbox" >&2
    exit 1
fi
