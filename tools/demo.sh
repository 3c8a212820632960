#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# The README's first command: installs the dependencies, builds, and shows the
# whole stack working on a private system bus:
#   daemon started → an event before consent is not kept → consent granted
#   (polkit mocked) → events recorded by an example app → metrics-cli show →
#   the closed week uploaded to tools/metrics-sink (a local Azafea stand-in)
#   → consent denied, everything deleted.
#
# METRICS_DEMO_SKIP_DEPS=1 skips installing the dependencies (the `demo` test
# suite runs this against the build tree); BUILD_DIR picks the build tree.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/_build}
if [ "${METRICS_DEMO_SKIP_DEPS:-0}" != 1 ]; then
    "$top/tools/install-deps.sh"
fi
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$top" >/dev/null
fi
ninja -C "$build" >/dev/null

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# a system dbusmock needs the distribution's python with python3-dbusmock
python=/usr/bin/python3
[ -x "$python" ] || python=python3

if [ -t 1 ]; then
    step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    step() { printf '\n== %s\n' "$*"; }
fi

step "Starting a private system bus"
dbus-daemon --config-file="$top/tests/private-system-bus.conf" \
    --address="unix:path=$work/system_bus_socket" --nofork --nopidfile &
pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/system_bus_socket"
for _ in $(seq 50); do [ -S "$work/system_bus_socket" ] && break; sleep 0.1; done
echo "DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS"

step "Starting a mock polkit that allows changing consent"
"$python" -m dbusmock --system --template polkitd >"$work/polkit.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    gdbus introspect --system -d org.freedesktop.PolicyKit1 -o /org/freedesktop/PolicyKit1/Authority >/dev/null 2>&1 && break
    sleep 0.1
done
gdbus call --system -d org.freedesktop.PolicyKit1 -o /org/freedesktop/PolicyKit1/Authority \
    -m org.freedesktop.DBus.Mock.SetAllowed "['org.fedoraproject.Metrics1.set-consent']" >/dev/null

step "Starting metrics-recorder with state in $work/state"
"$build/recorder-daemon/metrics-recorder" --state-dir="$work/state" \
    --allowlist-dir="$top/data/allowlist" >"$work/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    "$build/cli/metrics-cli" status >/dev/null 2>&1 && break
    sleep 0.1
done
"$build/cli/metrics-cli" status

step "Recording before consent: the library drops the events, the daemon writes nothing"
"$build/examples/record-example" --count 5
echo "files in the state directory:"; ls -A "$work/state" | sed 's/^/  /'
"$build/cli/metrics-cli" show || true

step "The user grants consent (metrics-cli consent grant)"
"$build/cli/metrics-cli" consent grant

step "An app records events"
"$build/examples/record-example" --count 5
"$build/examples/record-example" --count 2 --app-id org.gnome.Nautilus.desktop

step "metrics-cli show: exactly what is stored for this user"
"$build/cli/metrics-cli" show

step "metrics-cli status"
"$build/cli/metrics-cli" status

# the upload: a local Azafea stand-in receives the closed week
step "Starting metrics-sink, a local Azafea v3 server that validates and prints uploads"
"$build/tools/metrics-sink" --output="$work/sink.jsonl" >"$work/sink.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/sink.log" ] && break; sleep 0.1; done
sink_url=$(head -n 1 "$work/sink.log")
printf '[Upload]\nServerUrl=%s\n' "$sink_url" >"$work/metrics-recorder.conf"
echo "sink at $sink_url; daemon configuration:"; sed 's/^/  /' "$work/metrics-recorder.conf"
gdbus call --system -d org.freedesktop.PolicyKit1 -o /org/freedesktop/PolicyKit1/Authority \
    -m org.freedesktop.DBus.Mock.SetAllowed \
    "['org.fedoraproject.Metrics1.set-consent', 'org.fedoraproject.Metrics1.upload-now', 'org.fedoraproject.Metrics1.read-all']" >/dev/null

step "metrics-cli show --next: what this week will upload once it closes"
"$build/cli/metrics-cli" show --next

step "A week later (the daemon restarted with its clock shifted by 8 days, for the demo only)"
kill "${pids[2]}"; wait "${pids[2]}" 2>/dev/null || true
"$build/recorder-daemon/metrics-recorder" --state-dir="$work/state" \
    --allowlist-dir="$top/data/allowlist" --config="$work/metrics-recorder.conf" \
    --clock-offset=$((8 * 24 * 3600)) >>"$work/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    "$build/cli/metrics-cli" status >/dev/null 2>&1 && break
    sleep 0.1
done
echo "the closed week waits for its own random moment within 7 days:"
"$build/cli/metrics-cli" show --next

step "metrics-cli upload: send what is due now, without the random delay"
"$build/cli/metrics-cli" upload
sleep 0.5
echo "metrics-sink received and validated:"
sed -n '2,$p' "$work/sink.log" | sed 's/^/  /'

step "metrics-cli show --sent: the archive of what left this machine"
"$build/cli/metrics-cli" show --sent

step "The user says no: everything stored is deleted"
"$build/cli/metrics-cli" consent deny
echo "files in the state directory:"; ls -A "$work/state" | sed 's/^/  /'
"$build/cli/metrics-cli" show || true

step "Done"
