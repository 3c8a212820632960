#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Fails unless `systemd-analyze security --offline=yes` rates UNIT at an
# overall exposure of at most MAX (0.0 is best, 10.0 worst). With --user,
# UNIT is rated as a unit of the user manager (systemd-analyze --user),
# which needs an XDG_RUNTIME_DIR: a private one is made if none is set.
#   check-unit-security.sh UNIT MAX [--user]
set -euo pipefail

unit=$1
max=$2
scope=()
if [ "${3:-}" = --user ]; then
    scope=(--user)
    if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
        XDG_RUNTIME_DIR=$(mktemp -d)
        export XDG_RUNTIME_DIR
        trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
    fi
elif [ -n "${3:-}" ]; then
    echo "unknown option $3: only --user" >&2
    exit 1
fi

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not found: install systemd (tools/install-deps.sh)" >&2
    exit 1
fi
# --offline appeared in systemd 250
if ! out=$(systemd-analyze security --offline=yes ${scope[@]+"${scope[@]}"} --no-pager "$unit" 2>&1); then
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
