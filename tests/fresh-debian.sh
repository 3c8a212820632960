#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# The README's two commands on a fresh machine: builds a minimal Debian 12
# root with debootstrap, clones this repository (its current commit) into
# /root/main there, and runs ./tools/demo.sh and ./tools/run-tests.sh in it
# through chroot, as root; with --user, both also run as a user who may use
# sudo, from a clone in that user's home. Prints both exit statuses, the
# "tests:" line and how long each took; exits non-zero when either failed.
# Not run by CI (it downloads Debian and takes 20 minutes or more); see
# HACKING.md.
#
#   tests/fresh-debian.sh [--user] [--keep] [DIR]
#
# DIR (default: a new directory under ${TMPDIR:-/tmp}) must not exist yet or
# be empty, and needs about 3 GiB. It is deleted at the end, unless --keep.
# Needs root (debootstrap, chroot, mount) and the network (the Debian mirror
# this machine's apt uses, MIRROR=... to pick another).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# the mirror this machine's apt uses (MIRROR=... to pick another)
host_mirror() {
    local uri
    uri=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -v -- '-security' | head -n 1)
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
    fi
    echo "$uri"
}
mirror=${MIRROR:-$(host_mirror)}
if [ -z "$mirror" ]; then
    echo "fresh-debian: no Debian mirror in this machine's apt sources; set MIRROR=URL" >&2
    exit 64
fi
as_user=0
keep=0
root=
while [ $# -gt 0 ]; do
    case $1 in
    --user) as_user=1 ;;
    --keep) keep=1 ;;
    -h | --help)
        sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "fresh-debian: unknown option $1" >&2
        exit 64
        ;;
    *) root=$1 ;;
    esac
    shift
done

if [ "$(id -u)" -ne 0 ]; then
    echo "fresh-debian: run as root (debootstrap, chroot and mount need it)" >&2
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    echo "fresh-debian: installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

if [ -z "$root" ]; then
    root=$(mktemp -d "${TMPDIR:-/tmp}/fresh-debian-XXXXXX")
elif [ -e "$root" ] && [ -n "$(ls -A "$root")" ]; then
    echo "fresh-debian: $root is not empty" >&2
    exit 1
fi
mkdir -p "$root"
root=$(cd "$root" && pwd)

mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -R "${mounted[i]}" 2>/dev/null || umount -lR "${mounted[i]}" || true
    done
    if [ "$keep" = 1 ]; then
        echo "fresh-debian: the root is kept in $root"
    else
        rm -rf --one-file-system "$root"
    fi
}
trap cleanup EXIT

elapsed() {
    printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

echo "== debootstrap --variant=minbase bookworm $root"
start=$SECONDS
debootstrap --variant=minbase --include=git,sudo,ca-certificates bookworm "$root" "$mirror" \
    >"$root.debootstrap.log" 2>&1 || {
    tail -n 30 "$root.debootstrap.log" >&2
    rm -f "$root.debootstrap.log"
    exit 1
}
rm -f "$root.debootstrap.log"
echo "debootstrap took $(elapsed $((SECONDS - start)))"
# packages installed in a chroot must not start their services on the host's
# kernel (they would keep the root's mounts busy); a real machine starts them
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

# the root a mount point of its own, as / is on a real machine: tests that
# make a private mount namespace change the propagation of /, which fails
# (EINVAL) on a directory that is not a mount point
mount --bind "$root" "$root"
mounted+=("$root")
for fs in proc sys dev; do
    case $fs in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" ;;
    dev) mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" ;;
    esac
    mounted+=("$root/$fs")
done

# the commit being tested, cloned as a newcomer would: into root's home,
# which is 0700 on Debian
commit=$(git -C "$top" rev-parse HEAD)
git clone -q --no-local "$top" "$root/root/main"
git -C "$root/root/main" checkout -q "$commit"
echo "cloned $commit into /root/main"

in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

run_step() {
    # run_step NAME LOG COMMAND...: prints the output as it goes, into LOG too
    local name=$1 log=$2 status=0 t0=$SECONDS
    shift 2
    echo "== $name"
    "$@" 2>&1 | tee "$log" || status=$?
    echo "== $name: exit status $status after $(elapsed $((SECONDS - t0)))"
    return "$status"
}

logs=$(mktemp -d)
demo_status=0
tests_status=0
user_status=
user_tests_status=
run_step "./tools/demo.sh (as root, in /root/main)" "$logs/demo.log" \
    in_root bash -c 'cd /root/main && ./tools/demo.sh' || demo_status=$?
run_step "./tools/run-tests.sh (as root, in /root/main)" "$logs/tests.log" \
    in_root bash -c 'cd /root/main && ./tools/run-tests.sh' || tests_status=$?

if [ "$as_user" = 1 ]; then
    in_root useradd --create-home --shell /bin/bash newcomer
    printf 'newcomer ALL=(ALL) NOPASSWD: ALL\n' >"$root/etc/sudoers.d/newcomer"
    chmod 0440 "$root/etc/sudoers.d/newcomer"
    git clone -q --no-local "$top" "$root/home/newcomer/main"
    git -C "$root/home/newcomer/main" checkout -q "$commit"
    in_root chown -R newcomer: /home/newcomer/main
    user_status=0
    run_step "./tools/demo.sh (as newcomer, a sudo user, in /home/newcomer/main)" \
        "$logs/user-demo.log" \
        chroot --userspec=newcomer:newcomer "$root" /usr/bin/env -i HOME=/home/newcomer \
        USER=newcomer TERM=dumb LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin \
        bash -c 'cd ~/main && ./tools/demo.sh' || user_status=$?
    user_tests_status=0
    run_step "./tools/run-tests.sh (as newcomer, a sudo user, in /home/newcomer/main)" \
        "$logs/user-tests.log" \
        chroot --userspec=newcomer:newcomer "$root" /usr/bin/env -i HOME=/home/newcomer \
        USER=newcomer TERM=dumb LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin \
        bash -c 'cd ~/main && ./tools/run-tests.sh' || user_tests_status=$?
fi

echo
echo "== summary (fresh Debian 12 root, commit $commit)"
echo "demo.sh as root:          exit status $demo_status"
echo "run-tests.sh as root:     exit status $tests_status"
grep -E '^tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$logs/tests.log" ||
    echo "(run-tests.sh printed no tests: line)"
if [ -n "$user_status" ]; then
    echo "demo.sh as a sudo user:   exit status $user_status"
    echo "run-tests.sh as a sudo user: exit status $user_tests_status"
    grep -E '^tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$logs/user-tests.log" ||
        echo "(run-tests.sh as the user printed no tests: line)"
fi
echo "total time: $(elapsed "$SECONDS")"
rm -rf "$logs"
[ "$demo_status" = 0 ] && [ "$tests_status" = 0 ] && [ "${user_status:-0}" = 0 ] &&
    [ "${user_tests_status:-0}" = 0 ]
