#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Checks the installed system integration files against each other: the
# D-Bus activation file, metrics-recorder.service, the sysusers.d file and
# the bus policy must name the same bus name, unit and user, and the unit
# must keep the sandbox docs/packaging.md describes. The activation test
# writes its own .service file and the security test only checks a score,
# so neither would notice one of these drifting.
# Each further pair of an activation file and a bus policy, for another bus
# name the same daemon owns (the Endless client interface), must start the
# same unit as the same user, and let only that user own its name.
#   check-unit-consistency.sh ACTIVATION UNIT SYSUSERS POLICY [ACTIVATION POLICY]...
set -euo pipefail

activation=$1
unit=$2
sysusers=$3
policy=$4
shift 4
status=0

fail() {
    echo "FAIL: $*" >&2
    status=1
}

# values of KEY in SECTION of a systemd-style FILE, one per assignment, in
# order (an empty assignment gives an empty line)
values() {
    local file=$1 section=$2 key=$3
    awk -v section="[$section]" -v key="$key" '
        /^[[:space:]]*[#;]/ || /^[[:space:]]*$/ { next }
        /^\[/ { current = $0; next }
        current == section {
            eq = index($0, "=")
            if (eq > 0 && substr($0, 1, eq - 1) == key)
                print substr($0, eq + 1)
        }' "$file"
}

# sets $value to the one value of KEY; none or several fail (not run in a
# subshell, so that fail counts)
single() {
    local file=$1 section=$2 key=$3
    local -a all
    mapfile -t all < <(values "$file" "$section" "$key")
    value=
    if [ ${#all[@]} -eq 0 ]; then
        fail "$(basename "$file"): no $key= in [$section]"
    elif [ ${#all[@]} -gt 1 ]; then
        fail "$(basename "$file"): $key= is set ${#all[@]} times in [$section]"
    else
        value=${all[0]}
    fi
}

expect() {
    local key=$1 want=$2
    single "$unit" Service "$key"
    if [ "$value" != "$want" ]; then
        fail "$(basename "$unit"): $key=$value, expected $key=$want"
    fi
}

# ---- names: activation file, unit, sysusers, policy ----
single "$activation" "D-BUS Service" Name
bus_name=$value
[ -n "$bus_name" ] || fail "$(basename "$activation"): empty Name="
single "$unit" Service BusName
unit_bus_name=$value
if [ "$bus_name" != "$unit_bus_name" ]; then
    fail "activation Name=$bus_name but the unit has BusName=$unit_bus_name"
fi
if [ "$(basename "$activation")" != "$bus_name.service" ]; then
    fail "the activation file must be named $bus_name.service, not $(basename "$activation")"
fi
single "$activation" "D-BUS Service" SystemdService
systemd_service=$value
if [ "$systemd_service" != metrics-recorder.service ] ||
    [ "$systemd_service" != "$(basename "$unit")" ]; then
    fail "activation SystemdService=$systemd_service, expected metrics-recorder.service (the unit $(basename "$unit"))"
fi
# the daemon must only ever run inside the unit's sandbox
single "$activation" "D-BUS Service" Exec
exec_line=$value
if [ "$exec_line" != /bin/false ]; then
    fail "activation Exec=$exec_line: only /bin/false keeps the daemon from starting outside systemd"
fi

single "$activation" "D-BUS Service" User
user=$value
[ -n "$user" ] || fail "$(basename "$activation"): empty User="
single "$unit" Service User
unit_user=$value
single "$unit" Service Group
unit_group=$value
sysusers_users=$(awk '$1 == "u" { print $2 }' "$sysusers")
policy_owners=$(xmllint --nonet --xpath \
    "//policy[allow[@own='$bus_name']]/@user" "$policy" 2>/dev/null |
    grep -o 'user="[^"]*"' | sed 's/^user="\(.*\)"$/\1/' || true)
other_owners=$(xmllint --nonet --xpath \
    "count(//policy[not(@user)][allow[@own='$bus_name' or @own_prefix]])" "$policy")
[ "$unit_user" = "$user" ] || fail "activation User=$user but the unit has User=$unit_user"
[ "$unit_group" = "$user" ] || fail "the unit has Group=$unit_group, expected $user (sysusers u line)"
[ "$sysusers_users" = "$user" ] ||
    fail "$(basename "$sysusers") creates '$(echo "$sysusers_users" | tr '\n' ' ')', expected exactly $user"
[ "$policy_owners" = "$user" ] ||
    fail "in $(basename "$policy") '$(echo "$policy_owners" | tr '\n' ' ')' may own $bus_name, expected exactly $user"
[ "$other_owners" = 0 ] || fail "$(basename "$policy") lets a context policy own $bus_name"

# ---- the other names of the daemon: same unit, same user, same owner ----
while [ $# -ge 2 ]; do
    extra_activation=$1
    extra_policy=$2
    shift 2
    single "$extra_activation" "D-BUS Service" Name
    extra_name=$value
    [ -n "$extra_name" ] || fail "$(basename "$extra_activation"): empty Name="
    if [ "$(basename "$extra_activation")" != "$extra_name.service" ]; then
        fail "the activation file must be named $extra_name.service, not $(basename "$extra_activation")"
    fi
    single "$extra_activation" "D-BUS Service" SystemdService
    [ "$value" = "$systemd_service" ] ||
        fail "$(basename "$extra_activation"): SystemdService=$value, expected $systemd_service"
    single "$extra_activation" "D-BUS Service" Exec
    [ "$value" = /bin/false ] ||
        fail "$(basename "$extra_activation"): Exec=$value: only /bin/false keeps the daemon from starting outside systemd"
    single "$extra_activation" "D-BUS Service" User
    [ "$value" = "$user" ] || fail "$(basename "$extra_activation"): User=$value, expected $user"
    extra_owners=$(xmllint --nonet --xpath \
        "//policy[allow[@own='$extra_name']]/@user" "$extra_policy" 2>/dev/null |
        grep -o 'user="[^"]*"' | sed 's/^user="\(.*\)"$/\1/' || true)
    [ "$extra_owners" = "$user" ] ||
        fail "in $(basename "$extra_policy") '$(echo "$extra_owners" | tr '\n' ' ')' may own $extra_name, expected exactly $user"
    extra_others=$(xmllint --nonet --xpath \
        "count(//policy[not(@user)][allow[@own='$extra_name' or @own_prefix]])" "$extra_policy")
    [ "$extra_others" = 0 ] || fail "$(basename "$extra_policy") lets a context policy own $extra_name"
done
if [ $# -ne 0 ]; then
    fail "an activation file without its bus policy: $1"
fi

# ---- the unit's type, state and sandbox ----
expect Type dbus
expect StateDirectory metrics
expect StateDirectoryMode 0700
expect UMask 0077
# every assignment empty: no capability at all
mapfile -t caps < <(values "$unit" Service CapabilityBoundingSet)
if [ ${#caps[@]} -eq 0 ] || [ -n "$(printf '%s' "${caps[@]}" | tr -d '[:space:]')" ]; then
    fail "$(basename "$unit"): CapabilityBoundingSet= must be set and empty"
fi
expect AmbientCapabilities ""
expect ProtectSystem strict
expect ProtectHome yes
expect PrivateTmp yes
expect PrivateDevices yes
expect PrivateUsers yes
expect NoNewPrivileges yes
expect ProtectKernelTunables yes
expect ProtectKernelModules yes
expect ProtectKernelLogs yes
expect ProtectControlGroups yes
expect ProtectClock yes
expect ProtectHostname yes
expect RestrictNamespaces yes
expect RestrictRealtime yes
expect RestrictSUIDSGID yes
expect LockPersonality yes
expect MemoryDenyWriteExecute yes
expect SystemCallArchitectures native
# an allow-list of families: the bus, the upload, and netlink for GLib's
# network monitor (metered detection); nothing else
single "$unit" Service RestrictAddressFamilies
families=$value
for family in AF_UNIX AF_NETLINK; do
    [[ " $families " == *" $family "* ]] ||
        fail "RestrictAddressFamilies=$families lacks $family"
done
for family in $families; do
    case $family in
    AF_UNIX | AF_INET | AF_INET6 | AF_NETLINK) ;;
    *) fail "RestrictAddressFamilies= allows $family" ;;
    esac
done
# the first SystemCallFilter= is an allow-list (no ~); later ones may only
# take calls away
mapfile -t filters < <(values "$unit" Service SystemCallFilter)
if [ ${#filters[@]} -eq 0 ] || [ -z "${filters[0]}" ] || [[ "${filters[0]}" == "~"* ]]; then
    fail "SystemCallFilter= must start with an allow-list, not '${filters[0]:-}'"
fi
for filter in "${filters[@]:1}"; do
    [[ "$filter" == "~"* ]] || fail "a later SystemCallFilter=$filter adds calls to the allow-list"
done

if [ $status -eq 0 ]; then
    echo "activation file, unit, sysusers and bus policy agree: $bus_name, user $user, sandbox complete"
fi
exit $status
