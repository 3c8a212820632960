#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Builds the RPMs of packaging/fedora-metrics.spec from the source tree,
# installs them into a scratch root with `rpm --root`, upgrades them to a
# higher release, removes them, and checks that:
#   - the expected files are installed,
#   - an upgrade keeps the recorder's state (/var/lib/metrics),
#   - removal purges that state and leaves no file of ours behind.
# Needs rpmbuild (Debian: package rpm); skips (77) without it. rpm's
# scriptlets run chrooted, so this runs as root or in a user namespace.
#   check-rpm.sh SOURCE_DIR [BUILD_DIR]
set -euo pipefail

top=$(cd "$1" && pwd)
build_dir=${2:-}
spec=$top/packaging/fedora-metrics.spec

if ! command -v rpmbuild >/dev/null 2>&1; then
    echo "SKIP: rpmbuild not found; install it (Debian: apt-get install rpm, see tools/install-deps.sh)"
    exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
    if [ -z "${METRICS_RPM_USERNS:-}" ] && unshare --map-root-user true 2>/dev/null; then
        METRICS_RPM_USERNS=1 exec unshare --map-root-user "$0" "$@"
    fi
    echo "rpm --root runs scriptlets in a chroot: run as root or allow user namespaces" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
name=$(rpmspec -q --srpm --qf '%{name}' "$spec" 2>/dev/null || echo fedora-metrics)
version=$(rpmspec -q --srpm --qf '%{version}' "$spec")
root=$work/root
db=(--root "$root" --dbpath /var/lib/rpm)

step() { printf '== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

rpmbuild_args=(
    --define "_topdir $work/rpmbuild"
    --define "debug_package %{nil}"
    --without check
    # Debian cannot resolve Fedora's BuildRequires: build with what is here
    --nodeps
)
# Debian's rpm has neither the meson nor the systemd macros
if [ -z "$(rpm --eval '%{?systemd_post:1}%{?meson:1}')" ]; then
    echo "rpm lacks Fedora's macros: loading tests/rpm-fallback.macros"
    rpmbuild_args+=(--load "$top/tests/rpm-fallback.macros")
fi
if ! grep -q "metrics-instrumentation" "$top/instrumentation/meson.build"; then
    echo "instrumentation/ installs nothing yet: building --without instrumentation"
    rpmbuild_args+=(--without instrumentation)
fi

step "source tarball $name-$version.tar.xz"
mkdir -p "$work/rpmbuild/SOURCES"
tarball=$work/rpmbuild/SOURCES/$name-$version.tar.xz
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    # the tracked files as they are now, committed or not
    (cd "$top" && git ls-files -z | tar --null -T - --transform "s,^,$name-$version/," -cJf "$tarball")
else
    tar -C "$(dirname "$top")" --exclude-vcs ${build_dir:+--exclude="$(basename "$build_dir")"} \
        --transform "s,^$(basename "$top"),$name-$version," -cJf "$tarball" "$(basename "$top")"
fi
cp "$top/data/systemd/metrics.sysusers.conf" "$work/rpmbuild/SOURCES/"

# build DIR DIST: Release is 1%{?dist}
build() {
    step "rpmbuild -bb into $1 (dist '$2')"
    if ! rpmbuild -bb "${rpmbuild_args[@]}" --define "dist $2" "$spec" >"$work/rpmbuild.log" 2>&1; then
        cat "$work/rpmbuild.log"
        fail "rpmbuild failed"
    fi
    mkdir -p "$work/$1"
    mv "$work"/rpmbuild/RPMS/*/*.rpm "$work/$1/"
    (cd "$work/$1" && ls)
}
build rpms "%{nil}"
# the same version with a higher release, to test upgrades
build rpms.1 ".1"

step "scratch root with a shell for the scriptlets"
mkdir -p "$root/usr/bin" "$root/var/lib/rpm" "$root/run"
ln -s usr/bin "$root/bin"
for prog in dash rm; do
    path=$(command -v "$prog")
    cp -L "$path" "$root/usr/bin/"
    ldd "$path" | grep -o '/[^ ]*' | while read -r lib; do
        cp -L --parents "$lib" "$root" 2>/dev/null || true
    done
done
ln -s dash "$root/usr/bin/sh"
mkdir -p "$root/dev"
# a plain file will do where mknod is not allowed (user namespace)
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || touch "$root/dev/null"
rpm "${db[@]}" --initdb
snapshot() { (cd "$root" && find . -path ./var/lib/rpm -prune -o -print | LC_ALL=C sort); }
snapshot >"$work/before.txt"

step "install release 1"
rpm "${db[@]}" --nodeps -i "$work"/rpms/*.rpm
rpm "${db[@]}" -qa | sort
for f in \
    /usr/bin/metrics-cli \
    /usr/libexec/metrics-recorder \
    "$(rpm --eval '%{_libdir}')/libmetrics.so.0" \
    "$(rpm --eval '%{_libdir}')/girepository-1.0/Metrics-1.typelib" \
    "$(rpm --eval '%{_libdir}')/pkgconfig/metrics-1.pc" \
    /usr/include/metrics-1/metrics.h \
    /usr/lib/systemd/system/metrics-recorder.service \
    /usr/lib/sysusers.d/metrics.conf \
    /usr/share/dbus-1/system.d/org.fedoraproject.Metrics1.conf \
    /usr/share/dbus-1/system-services/org.fedoraproject.Metrics1.service \
    /usr/share/polkit-1/actions/org.fedoraproject.Metrics1.policy \
    /usr/share/dbus-1/interfaces/org.fedoraproject.Metrics1.xml \
    /etc/metrics; do
    [ -e "$root$f" ] || fail "$f is not installed"
done
if [ -e "$top/instrumentation/meson.build" ] && grep -q metrics-instrumentation "$top/instrumentation/meson.build"; then
    for f in /usr/libexec/metrics-instrumentation \
        /usr/lib/systemd/system/metrics-instrumentation.service \
        /usr/lib/systemd/user/metrics-instrumentation.service; do
        [ -e "$root$f" ] || fail "$f is not installed"
    done
fi
grep -q '^ExecStart=/usr/libexec/metrics-recorder' "$root/usr/lib/systemd/system/metrics-recorder.service" ||
    fail "the unit does not start /usr/libexec/metrics-recorder"

step "the recorder has state: consent, store, archive"
mkdir -p "$root/var/lib/metrics/archive"
echo "granted" >"$root/var/lib/metrics/consent.conf"
echo "events" >"$root/var/lib/metrics/metrics.db"
echo "sent" >"$root/var/lib/metrics/archive/batch-1"

step "upgrade to release 1.1: the state stays"
rpm "${db[@]}" --nodeps -U "$work"/rpms.1/*.rpm
rpm "${db[@]}" -q "$name-recorder" | grep -q -- "-1\.1\." || rpm "${db[@]}" -q "$name-recorder" | grep -q -- '-1\.1$' ||
    fail "the upgrade did not install release 1.1: $(rpm "${db[@]}" -q "$name-recorder")"
for f in consent.conf metrics.db archive/batch-1; do
    [ -e "$root/var/lib/metrics/$f" ] || fail "the upgrade deleted /var/lib/metrics/$f"
done

step "remove every package"
mapfile -t packages < <(rpm "${db[@]}" -qa --qf '%{NAME}\n' | grep "^$name-")
rpm "${db[@]}" --nodeps -e "${packages[@]}"
[ -z "$(rpm "${db[@]}" -qa | grep "^$name-" || true)" ] || fail "packages remain installed"
[ ! -e "$root/var/lib/metrics" ] || fail "/var/lib/metrics survived the removal"

snapshot >"$work/after.txt"
# rpm creates missing parent directories (normally owned by the filesystem
# and other packages) and keeps them: only files, or anything named after
# us, count as left behind
comm -13 "$work/before.txt" "$work/after.txt" >"$work/new.txt"
leftovers=$(while read -r path; do
    if [ ! -d "$root/$path" ] || [[ "$path" == *etrics* ]]; then echo "$path"; fi
done <"$work/new.txt")
if [ -n "$leftovers" ]; then
    echo "$leftovers" >&2
    fail "files of ours remain after removal"
fi
echo "removed cleanly; directories rpm created and kept: $(wc -l <"$work/new.txt")"
