#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# For development: starts a private system bus, a mock polkit that allows
# every action of the project, and the built metrics-recorder, and leaves
# them running, so that metrics-cli, the examples or an app of your own can
# talk to them. Prints what to export and how to stop them.
#
#   tools/dev-stack.sh [--build DIR] [--dir DIR] [-- DAEMON-ARGS...]
#   tools/dev-stack.sh --stop [--dir DIR]
#
#   --build DIR   the build tree (default: _build, as tools/demo.sh; set up
#                 and built when needed)
#   --dir DIR     where the sockets, the state and the logs go (default:
#                 /tmp/metrics-dev-stack-$UID); DIR/env holds the exports
#   --stop        stops the stack of DIR and removes DIR
#   DAEMON-ARGS   more options for metrics-recorder, such as
#                 --config=FILE or --clock-offset=SECONDS
#
# The daemon runs as you, with --verbose; its output is in DIR/daemon.log.
# Needs what tools/install-deps.sh installs (tools/demo.sh runs it).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/_build}
dir=/tmp/metrics-dev-stack-$(id -u)
stop=0
daemon_args=()
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2 && shift ;;
    --build=*) build=${1#--build=} ;;
    --dir) dir=$2 && shift ;;
    --dir=*) dir=${1#--dir=} ;;
    --stop) stop=1 ;;
    -h | --help)
        sed -n '5,21p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    --)
        shift
        daemon_args=("$@")
        break
        ;;
    *)
        echo "dev-stack: unknown argument $1 (see --help)" >&2
        exit 64
        ;;
    esac
    shift
done
# shellcheck source=tools/private-stack.sh
. "$top/tools/private-stack.sh"

running_pids() {
    local pid
    [ -f "$dir/pids" ] || return 0
    while read -r pid; do
        if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
    done <"$dir/pids"
}

if [ "$stop" = 1 ]; then
    if [ ! -f "$dir/pids" ]; then
        echo "dev-stack: no stack in $dir" >&2
        exit 1
    fi
    # the daemon first (it flushes on SIGTERM), the bus last
    mapfile -t pids < <(running_pids | tac)
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 10))
        while kill -0 "$pid" 2>/dev/null; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
            sleep 0.05
        done
    done
    rm -rf "$dir"
    echo "dev-stack: stopped ${#pids[@]} processes, removed $dir"
    exit 0
fi

if [ -n "$(running_pids)" ]; then
    echo "dev-stack: already running in $dir (stop it with: $top/tools/dev-stack.sh --stop --dir $dir)"
    cat "$dir/env"
    exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
chmod 0700 "$dir"
dir=$(cd "$dir" && pwd)
started=()
abort() {
    for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
    echo "dev-stack: could not start; the logs are in $dir" >&2
    exit 1
}

if [ ! -f "$build/build.ninja" ]; then
    echo "dev-stack: configuring $build (meson setup)"
    meson setup "$build" "$top" >"$dir/setup.log" 2>&1 || {
        cat "$dir/setup.log" >&2
        abort
    }
fi
echo "dev-stack: building (ninja -C $build)"
ninja -C "$build" || abort

# read by the functions of tools/private-stack.sh
# shellcheck disable=SC2034
STACK_DETACH=1
echo "dev-stack: starting the private system bus"
stack_start_bus "$dir" || abort
started+=("$STACK_BUS_PID")
echo "dev-stack: starting the polkit mock (python-dbusmock's polkitd template)"
mapfile -t actions < <(stack_actions)
stack_start_polkit "$dir" "${actions[@]}" || abort
started+=("$STACK_POLKIT_PID")
echo "dev-stack: starting $build/recorder-daemon/metrics-recorder ${daemon_args[*]}"
stack_start_daemon "$build" "$dir" "${daemon_args[@]}" || abort
started+=("$STACK_DAEMON_PID")
printf '%s\n' "${started[@]}" >"$dir/pids"

cat >"$dir/env" <<EOF
export DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS
EOF
cat <<EOF

Running (PIDs: bus $STACK_BUS_PID, polkit mock $STACK_POLKIT_PID, daemon $STACK_DAEMON_PID),
state in $dir/state, logs in $dir/{bus,polkit,daemon}.log.
The polkit mock allows: ${actions[*]}

In your shell:

    export DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS
    # or: . $dir/env

then for example:

    $build/cli/metrics-cli consent grant
    $build/examples/record-example --count 3
    $build/cli/metrics-cli show

Stop everything and remove $dir:

    $top/tools/dev-stack.sh --stop --dir $dir
EOF
