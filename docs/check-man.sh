#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Checks that a generated man page renders without any groff warning and
# that man(1) shows its NAME section.
#
#   check-man.sh PAGE
set -eu

page=$1
errors=$(LC_ALL=C.UTF-8 groff -t -man -Tutf8 -ww -z "$page" 2>&1 >/dev/null) || {
    echo "groff failed on $page:" >&2
    echo "$errors" >&2
    exit 1
}
if [ -n "$errors" ]; then
    echo "groff warnings for $page:" >&2
    echo "$errors" >&2
    exit 1
fi
rendered=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>&1) || {
    echo "man -l failed on $page:" >&2
    echo "$rendered" >&2
    exit 1
}
case "$rendered" in
*NAME*SYNOPSIS*DESCRIPTION*) ;;
*)
    echo "$page has no NAME, SYNOPSIS and DESCRIPTION sections:" >&2
    echo "$rendered" >&2
    exit 1
    ;;
esac
echo "$page renders cleanly"
