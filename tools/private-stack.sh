# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Sourced by tools/demo.sh and tools/dev-stack.sh: starts the stack on a
# private system bus, each piece waited for (its name on the bus, or the
# file it writes) rather than slept after:
#
#   stack_start_bus DIR            dbus-daemon with tests/private-system-bus.conf;
#                                  exports DBUS_SYSTEM_BUS_ADDRESS; STACK_BUS_PID
#   stack_start_polkit DIR ACTION...
#                                  python-dbusmock's polkitd template, allowing
#                                  ACTION...; STACK_POLKIT_PID
#   stack_set_allowed ACTION...    what the mock allows from now on
#   stack_start_daemon BUILD DIR ARG...
#                                  BUILD's metrics-recorder with its state in
#                                  DIR/state and the allowlist of the tree;
#                                  STACK_DAEMON_PID
#   stack_actions                  every polkit action of the project
#   stack_wait_for_file FILE PATTERN WHAT [PID]
#
# With STACK_DETACH=1 the processes get a session of their own (setsid), so
# that they outlive the script and its terminal. Each one's output goes to
# DIR/bus.log, DIR/polkit.log, DIR/daemon.log.

stack_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# seconds to wait for each piece to come up
STACK_TIMEOUT=${STACK_TIMEOUT:-30}

stack_fail() {
    echo "$*" >&2
    return 1
}

# the distribution's python, which has python3-dbusmock and PyGObject (a
# pyenv or virtualenv python3 earlier in PATH has not)
stack_python() {
    if [ -x /usr/bin/python3 ]; then
        echo /usr/bin/python3
    else
        echo python3
    fi
}

stack_spawn() {
    # stack_spawn LOG COMMAND...: starts COMMAND in the background, its
    # output appended to LOG; the PID is in $!
    local log=$1
    shift
    if [ "${STACK_DETACH:-0}" = 1 ]; then
        setsid "$@" </dev/null >>"$log" 2>&1 &
    else
        "$@" </dev/null >>"$log" 2>&1 &
    fi
}

# waits until FILE has a line matching the extended regular expression
# PATTERN; fails after STACK_TIMEOUT seconds, or at once when PID (the
# process that writes it) exits
stack_wait_for_file() {
    local file=$1 pattern=$2 what=$3 pid=${4:-} deadline=$((SECONDS + STACK_TIMEOUT))
    until [ -f "$file" ] && grep -Eq -- "$pattern" "$file"; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            stack_fail "$what: the process exited"
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            stack_fail "$what: not there after $STACK_TIMEOUT s"
            return 1
        fi
        sleep 0.05
    done
}

# waits until NAME has an owner on the bus; fails when PID exits first
stack_wait_for_name() {
    local name=$1 pid=$2 log=$3 deadline=$((SECONDS + STACK_TIMEOUT))
    until gdbus wait --system --timeout 1 "$name" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            echo "$name did not appear on the bus; the end of $log:" >&2
            tail -n 20 "$log" | sed 's/^/  /' >&2
            return 1
        fi
        sleep 0.1
    done
}

stack_start_bus() {
    local dir=$1
    : >"$dir/bus.address"
    stack_spawn "$dir/bus.log" dbus-daemon --config-file="$stack_top/tests/private-system-bus.conf" \
        --address="unix:path=$dir/system_bus_socket" --nofork --nopidfile \
        --print-address=3 3>"$dir/bus.address"
    STACK_BUS_PID=$!
    # the bus writes its address once it listens
    stack_wait_for_file "$dir/bus.address" '^unix:' "the private bus" "$STACK_BUS_PID" || {
        sed 's/^/  /' "$dir/bus.log" >&2
        return 1
    }
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/system_bus_socket"
    export DBUS_SYSTEM_BUS_ADDRESS
}

stack_actions() {
    grep -o 'action id="[^"]*"' "$stack_top/data/polkit/org.fedoraproject.Metrics1.policy.in" |
        sed 's/^action id="//; s/"$//'
}

stack_set_allowed() {
    local list="" action
    for action in "$@"; do
        list+="${list:+, }'$action'"
    done
    gdbus call --system -d org.freedesktop.PolicyKit1 -o /org/freedesktop/PolicyKit1/Authority \
        -m org.freedesktop.DBus.Mock.SetAllowed "@as [$list]" >/dev/null
}

stack_start_polkit() {
    local dir=$1
    shift
    stack_spawn "$dir/polkit.log" "$(stack_python)" -m dbusmock --system --template polkitd
    STACK_POLKIT_PID=$!
    stack_wait_for_name org.freedesktop.PolicyKit1 "$STACK_POLKIT_PID" "$dir/polkit.log" &&
        stack_set_allowed "$@"
}

stack_start_daemon() {
    local build=$1 dir=$2
    shift 2
    stack_spawn "$dir/daemon.log" "$build/recorder-daemon/metrics-recorder" --verbose \
        --state-dir="$dir/state" --allowlist-dir="$stack_top/data/allowlist" "$@"
    STACK_DAEMON_PID=$!
    stack_wait_for_name org.fedoraproject.Metrics1 "$STACK_DAEMON_PID" "$dir/daemon.log"
}
