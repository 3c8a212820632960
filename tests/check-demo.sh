#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Runs tools/demo.sh (the README's first command) against the build tree,
# without its install-deps step, and checks what it shows: nothing stored
# before consent, the events after, the upload received by the sink, and
# nothing left after the user says no.
#   check-demo.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail

top=$1
build=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

status=0
METRICS_DEMO_SKIP_DEPS=1 BUILD_DIR=$build "$top/tools/demo.sh" >"$out" 2>&1 || status=$?
cat "$out"
fail() {
    echo "check-demo: $*" >&2
    exit 1
}
[ "$status" -eq 0 ] || fail "demo.sh exited with status $status"

# the lines of one step, from its "== TITLE" heading to the next heading
section() {
    awk -v title="== $1" 'index($0, "== ") == 1 { on = index($0, title) == 1; next } on' "$out"
}
# the entries listed under "files in the state directory:" in a step
state_files() {
    section "$1" | awk '/^files in the state directory:/ { on = 1; next } on && /^  / { print $1; next } { on = 0 }'
}

before=$(section "Recording before consent")
grep -q "consent: unknown, dropped in-process: 11" <<<"$before" || fail "events were not dropped before consent"
grep -q "^Nothing is stored\.$" <<<"$before" || fail "something was stored before consent"
[ -z "$(state_files "Recording before consent")" ] || fail "files were written before consent: $(state_files "Recording before consent")"

recorded=$(section "An app records events")
grep -q "consent: granted, dropped in-process: 0" <<<"$recorded" || fail "events were dropped after the grant"
shown=$(section "metrics-cli show: exactly what is stored")
grep -q "value     5             'org.gnome.TextEditor.desktop'" <<<"$shown" || fail "show lacks the recorded app"
grep -q "value     2             'org.gnome.Nautilus.desktop'" <<<"$shown" || fail "show lacks the second app"
grep -q "^Accepted since start:  16$" <<<"$(section "metrics-cli status")" || fail "status does not count 16 accepted events"

uploaded=$(section "metrics-cli upload")
grep -q "^Uploaded 3 requests\.$" <<<"$uploaded" || fail "the upload did not send 3 requests"
[ "$(grep -c "^  accepted " <<<"$uploaded")" -eq 3 ] || fail "the sink did not accept 3 requests"
grep -q "count 5  payload <'org.gnome.TextEditor.desktop'>" <<<"$uploaded" || fail "the sink did not receive the recorded app"

denied=$(section "The user says no")
grep -q "^denied" <<<"$denied" || fail "consent was not denied"
grep -q "^Nothing is stored\.$" <<<"$denied" || fail "data is still shown after deny"
[ "$(state_files "The user says no")" = consent.conf ] || fail "files left after deny: $(state_files "The user says no")"
echo "check-demo: OK"
