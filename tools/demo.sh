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
# Each step says in plain words what its output means.
#
# METRICS_DEMO_SKIP_DEPS=1 skips installing the dependencies (the `demo` test
# suite runs this against the build tree); BUILD_DIR picks the build tree.
# To keep a stack running for development, see tools/dev-stack.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/_build}
# shellcheck source=tools/private-stack.sh
. "$top/tools/private-stack.sh"

if [ -t 1 ]; then
    step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    step() { printf '\n== %s\n' "$*"; }
fi
# what the output of a step means, in plain words
explain() {
    printf '%s\n' "$@" | sed 's/^/| /'
}

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ "${METRICS_DEMO_SKIP_DEPS:-0}" != 1 ]; then
    step "Installing the dependencies (tools/install-deps.sh)"
    "$top/tools/install-deps.sh"
fi

step "Building in $build"
if [ ! -f "$build/build.ninja" ]; then
    echo "configuring: meson setup $build"
    if ! meson setup "$build" "$top" >"$work/setup.log" 2>&1; then
        cat "$work/setup.log"
        echo "demo: meson setup failed; its output is above" >&2
        exit 1
    fi
fi
echo "compiling: ninja -C $build (a first build takes a few minutes)"
if ! ninja -C "$build"; then
    echo "demo: the build failed; the compiler's errors are above" >&2
    exit 1
fi

cli=$build/cli/metrics-cli
example=$build/examples/record-example

step "Starting a private system bus"
stack_start_bus "$work"
pids+=("$STACK_BUS_PID")
echo "DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS"
explain "A dbus-daemon of this demo's own, configured like the system bus; every" \
    "program below talks to it instead of the real one."

step "Starting a mock polkit that allows changing consent"
stack_start_polkit "$work" org.fedoraproject.Metrics1.set-consent
pids+=("$STACK_POLKIT_PID")
explain "python-dbusmock's polkitd template stands in for polkit: it says yes" \
    "to the actions it is told to allow (here: changing consent), no to others."

daemon_args=()
# the shipped app metrics may be recorded by regular users ("session":
# UID_MIN..UID_MAX of /etc/login.defs) only; a demo run as root or as a
# system account gets an administrator's override that adds this user
if [ "$(id -u)" -lt "$(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs 2>/dev/null || echo 1000)" ]; then
    mkdir -p "$work/allowlist.d"
    /usr/bin/python3 - "$top/data/allowlist/apps.json" "$(id -un)" \
        >"$work/allowlist.d/demo-user.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for metric in doc["metrics"]:
    metric["recorders"] = metric["recorders"] + ["user:" + sys.argv[2]]
json.dump(doc, sys.stdout, indent=2)
PY
    daemon_args+=("--allowlist-dir=$work/allowlist.d")
fi

step "Starting metrics-recorder with state in $work/state"
stack_start_daemon "$build" "$work" "${daemon_args[@]}"
pids+=("$STACK_DAEMON_PID")
"$cli" status
explain "\"Consent: not asked yet\" is the consent state \`unknown\`: nobody has" \
    "answered yet, as after installation. It behaves like \"no\"."
if [ ${#daemon_args[@]} -gt 0 ]; then
    explain "Each metric names who may record it; the app metrics, regular users." \
        "This demo runs as $(id -un), so it adds an administrator's override" \
        "($work/allowlist.d/demo-user.json, as /etc/metrics/allowlist.d would hold)" \
        "that lets $(id -un) record them too."
fi

step "Recording before consent: the library drops the events, the daemon writes nothing"
"$example" --count 5
echo "files in the state directory:"
ls -A "$work/state" | sed 's/^/  /'
"$cli" show || true
explain "record-example --count 5 records 11 events (examples/record-example.c):" \
    "5 times app-opened (a value: the app's desktop id) and 5 times +1 on" \
    "app-crash-count (a counter), plus one app-usage-time (a duration: how" \
    "long the program ran). Without consent the library drops all 11 in the" \
    "app itself; nothing reaches the disk."

step "The user grants consent (metrics-cli consent grant)"
"$cli" consent grant

step "An app records events"
"$example" --count 5
"$example" --count 2 --app-id org.gnome.Nautilus.desktop
explain "The same 11 events, then 5 more from a second run (2 openings of" \
    "Nautilus, 2 crash increments, 1 duration): 16 events, now kept."

step "metrics-cli show: exactly what is stored for this user"
"$cli" show
explain "The daemon keeps no single events, only sums per metric, week and" \
    "value: 5 + 2 openings, 5 + 2 = 7 crashes, and the two runs' durations" \
    "added up (each run lasts about 10 ms)."

step "metrics-cli status"
"$cli" status

# the upload: a local Azafea stand-in receives the closed week
step "Starting metrics-sink, a local Azafea v3 server that validates and prints uploads"
stack_spawn "$work/sink.log" "$build/tools/metrics-sink" --output="$work/sink.jsonl"
pids+=($!)
# its first line is its URL
stack_wait_for_file "$work/sink.log" '^https?://' "metrics-sink" "${pids[-1]}"
sink_url=$(head -n 1 "$work/sink.log")
printf '[Upload]\nServerUrl=%s\n' "$sink_url" >"$work/metrics-recorder.conf"
echo "sink at $sink_url; daemon configuration:"
sed 's/^/  /' "$work/metrics-recorder.conf"
stack_set_allowed org.fedoraproject.Metrics1.set-consent org.fedoraproject.Metrics1.upload-now \
    org.fedoraproject.Metrics1.read-all

os_version=$(. /etc/os-release 2>/dev/null && echo "${VERSION_ID:-}")
step "metrics-cli show --next: what this week will upload once it closes"
"$cli" show --next
explain "One request per metric and week, each sent on its own. The columns:" \
    "Event: the id sent to the server, derived from the metric's id in the" \
    "  allowlist (uuid5 of it and \"weekly\"), the same on every computer;" \
    "Week of: the Monday of the week; Count: how many events;" \
    "OS: the version of the system, VERSION_ID in /etc/os-release" \
    "  (${os_version:-empty} here), the only thing sent about this computer;" \
    "Value: the payload, or a dash for none. A duration is sent as its sum" \
    "  in whole seconds (rounded), so the demo's 0.02 s or so becomes 0."

step "A week later (the daemon restarted with its clock shifted by 8 days, for the demo only)"
kill "$STACK_DAEMON_PID"
wait "$STACK_DAEMON_PID" 2>/dev/null || true
stack_start_daemon "$build" "$work" --config="$work/metrics-recorder.conf" \
    --clock-offset=$((8 * 24 * 3600))
pids+=("$STACK_DAEMON_PID")
echo "the closed week waits for its own random moment within 7 days:"
"$cli" show --next
explain "Each request has its own random due time, so the server cannot tell" \
    "that they come from the same computer."

step "metrics-cli upload: send what is due now, without the random delay"
"$cli" upload | tee "$work/upload.out"
n_sent=$(sed -n 's/^Uploaded \([0-9]*\) request.*/\1/p' "$work/upload.out")
# the sink prints a line for each request it accepted
if [ -n "$n_sent" ] && [ "$n_sent" -gt 0 ]; then
    stack_wait_for_file "$work/sink.log" "^accepted " "metrics-sink's output"
    deadline=$((SECONDS + STACK_TIMEOUT))
    while [ "$(grep -c '^accepted ' "$work/sink.log")" -lt "$n_sent" ] &&
        [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.05
    done
fi
echo "metrics-sink received and validated:"
sed -n '2,$p' "$work/sink.log" | sed 's/^/  /'
explain "metrics-sink names each request by the start of its body's checksum;" \
    "it prints the payloads in GVariant's notation (<'...'> is a string," \
    "<uint64 0> the number 0)."

step "metrics-cli show --sent: the archive of what left this machine"
"$cli" show --sent
explain "What was sent, when, and the server's answer (HTTP status and text)," \
    "kept for 90 days."

step "The user says no: everything stored is deleted"
"$cli" consent deny
echo "files in the state directory:"
ls -A "$work/state" | sed 's/^/  /'
"$cli" show || true
explain "Only consent.conf is left: it records the \"no\"."

step "Done"
echo "To keep a bus, polkit mock and daemon running for your own tries:" \
    "tools/dev-stack.sh (HACKING.md, \"The demo\")."
