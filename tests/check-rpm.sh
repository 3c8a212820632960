#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Builds the RPMs of packaging/fedora-metrics.spec from the source tree,
# installs them into a scratch root with `rpm --root`, upgrades them to a
# higher release, removes them, and checks that:
#   - exactly the sub-packages libs, devel, recorder, cli and
#     instrumentation are built and installed,
#   - %pre creates the system user metrics (systemd-sysusers in the root),
#   - the packages hold exactly the files of tests/install-manifest.txt,
#     apart from the exceptions listed at that check,
#   - an upgrade keeps the recorder's state (/var/lib/metrics),
#   - removal purges that state and leaves no file of ours behind.
# Needs rpmbuild (Debian: package rpm); skips (77) without it. rpm's
# scriptlets run chrooted, so this runs as root or in a user namespace.
# The scratch root gets dash, rm and systemd-sysusers (with their
# libraries) for the scriptlets.
#   check-rpm.sh SOURCE_DIR [BUILD_DIR]
set -euo pipefail

top=$(cd "$1" && pwd)
build_dir=${2:-}
spec=$top/packaging/fedora-metrics.spec

# the only skip: everything else this needs is a failure
if ! command -v rpmbuild >/dev/null 2>&1; then
    echo "SKIP: rpmbuild not found; install it (Debian: apt-get install rpm, see tools/install-deps.sh)"
    exit 77
fi
for prog in rpm rpmspec systemd-sysusers dash; do
    if ! command -v "$prog" >/dev/null 2>&1; then
        echo "$prog not found: install it (tools/install-deps.sh)" >&2
        exit 1
    fi
done
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
macros=()
if [ -z "$(rpm --eval '%{?systemd_post:1}%{?meson:1}')" ]; then
    echo "rpm lacks Fedora's macros: loading tests/rpm-fallback.macros"
    macros=(--load "$top/tests/rpm-fallback.macros")
    rpmbuild_args+=("${macros[@]}")
fi
subpackages="cli devel instrumentation libs recorder"
expected_packages=$(for sub in $subpackages; do echo "$name-$sub"; done)

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
    built=$(rpm -qp --qf '%{NAME}\n' "$work/$1"/*.rpm | LC_ALL=C sort)
    [ "$built" = "$expected_packages" ] ||
        fail "built $(echo "$built" | tr '\n' ' ')instead of $(echo "$expected_packages" | tr '\n' ' ')"
}
build rpms "%{nil}"
# the same version with a higher release, to test upgrades
build rpms.1 ".1"

step "scratch root with a shell, rm and systemd-sysusers for the scriptlets"
mkdir -p "$root/usr/bin" "$root/var/lib/rpm" "$root/run" "$root/etc"
ln -s usr/bin "$root/bin"
# getent, groupadd and useradd for Fedora's own %sysusers_create_compat
for prog in dash rm systemd-sysusers getent groupadd useradd; do
    if ! path=$(command -v "$prog"); then
        [[ "$prog" == *add || "$prog" == getent ]] && continue
        fail "$prog not found"
    fi
    cp -L "$path" "$root/usr/bin/"
    ldd "$path" | grep -o '/[^ ]*' | while read -r lib; do
        cp -L --parents "$lib" "$root" 2>/dev/null || true
    done
done
ln -s dash "$root/usr/bin/sh"
# the user database every system has; the metrics user stays in it after
# removal, as Fedora never removes system users
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo 'root:*::0:99999:7:::' >"$root/etc/shadow"
echo 'root:*::' >"$root/etc/gshadow"
chmod 0600 "$root/etc/shadow" "$root/etc/gshadow"
touch "$root/etc/.pwd.lock"
for f in passwd group shadow gshadow; do
    cp -p "$root/etc/$f" "$root/etc/$f-"
done
mkdir -p "$root/dev"
# a plain file will do where mknod is not allowed (user namespace)
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || touch "$root/dev/null"
rpm "${db[@]}" --initdb
snapshot() { (cd "$root" && find . -path ./var/lib/rpm -prune -o -print | LC_ALL=C sort); }
# a systemd that only logs what the scriptlets ask of it, and whether the
# state directory existed then
mkdir -p "$root/run/systemd/system" "$root/var/log"
cat >"$root/usr/bin/systemctl" <<'SH'
#!/bin/sh
if [ -e /var/lib/metrics ]; then state=present; else state=absent; fi
echo "$* [state $state]" >>/var/log/systemctl.log
SH
chmod 0755 "$root/usr/bin/systemctl"
: >"$root/var/log/systemctl.log"
snapshot >"$work/before.txt"

step "install release 1"
rpm "${db[@]}" --nodeps -i "$work"/rpms/*.rpm 2>&1 | tee "$work/install.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "rpm -i failed"
rpm "${db[@]}" -qa | sort
installed=$(rpm "${db[@]}" -qa --qf '%{NAME}\n' | LC_ALL=C sort)
[ "$installed" = "$expected_packages" ] ||
    fail "installed $(echo "$installed" | tr '\n' ' ')instead of $(echo "$expected_packages" | tr '\n' ' ')"

step "%pre created the system user from the sysusers.d file"
grep '^metrics:' "$root/etc/passwd" || fail "no user metrics in the root's /etc/passwd"
grep -q '^metrics:' "$root/etc/group" || fail "no group metrics in the root's /etc/group"
if grep -q 'does not exist' "$work/install.log"; then
    fail "rpm did not know a user or group of the packages when it installed them"
fi

step "the packages hold the files of tests/install-manifest.txt"
eval_macro() { rpm "${macros[@]}" --eval "$1"; }
# the manifest's ${names} as the spec's %meson sets them up
dirs=(
    "prefix=$(eval_macro '%{_prefix}')"
    "bindir=$(eval_macro '%{_bindir}')"
    "libdir=$(eval_macro '%{_libdir}')"
    "libexecdir=$(eval_macro '%{_libexecdir}')"
    "includedir=$(eval_macro '%{_includedir}')"
    "datadir=$(eval_macro '%{_datadir}')"
    "localedir=$(eval_macro '%{_datadir}')/locale"
    "sysconfdir=$(eval_macro '%{_sysconfdir}')"
    "dbus_system_bus_services_dir=$(eval_macro '%{_datadir}')/dbus-1/system-services"
    "dbus_system_policy_dir=$(eval_macro '%{_datadir}')/dbus-1/system.d"
    "polkit_actions_dir=$(eval_macro '%{_datadir}')/polkit-1/actions"
    "systemd_system_unit_dir=$(eval_macro '%{_unitdir}')"
    "systemd_user_unit_dir=$(eval_macro '%{_userunitdir}')"
    "sysusers_dir=$(eval_macro '%{_sysusersdir}')"
    "systemd_system_preset_dir=$(eval_macro '%{_presetdir}')"
    "systemd_user_preset_dir=$(eval_macro '%{_userpresetdir}')"
    "version=$version"
)
languages=$(sed -e 's/#.*//' "$top/po/LINGUAS" | tr -s ' \t' '\n' | sed '/^$/d')
grep -v -e '^#' -e '^$' "$top/tests/install-manifest.txt" | while IFS= read -r line; do
    for entry in "${dirs[@]}"; do
        line=${line//\$\{${entry%%=*}\}/${entry#*=}}
    done
    # shellcheck disable=SC2016 # a literal ${lang}
    if [[ "$line" == *'${lang}'* ]]; then
        for lang in $languages; do
            printf '%s\n' "${line//\$\{lang\}/$lang}"
        done
    else
        printf '%s\n' "$line"
    fi
done | LC_ALL=C sort >"$work/manifest.txt"
if grep -n '[$][{]' "$work/manifest.txt" >&2; then
    fail "check-rpm.sh does not know the directory names above: add them to dirs"
fi
# the packages' files, without directories; the exceptions, which meson
# does not install:
#   %license files (/usr/share/licenses/NAME/, NAME-VERSION/ on Debian's
#   rpm), the build-id links rpm adds for each ELF file (/usr/lib/.build-id/),
#   and the man pages rpm compresses
license_dir=$(eval_macro '%{_defaultlicensedir}')
mandir=$(eval_macro '%{_mandir}')
rpm "${db[@]}" -qa --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' | sed -n 's/^[^d][^ ]* //p' |
    grep -v -E -e "^$license_dir/$name-[a-z]+(-$version)?/COPYING\$" -e '^/usr/lib/\.build-id/' |
    sed "\\,^$mandir/,s/\\.\\(gz\\|bz2\\|xz\\|zst\\)\$//" | LC_ALL=C sort >"$work/packaged.txt"
for sub in libs recorder; do
    # not piped into grep -q: rpm would die of SIGPIPE under pipefail
    rpm "${db[@]}" -ql "$name-$sub" >"$work/files-$sub.txt"
    grep -q -x -E "$license_dir/$name-$sub(-$version)?/COPYING" "$work/files-$sub.txt" ||
        fail "$name-$sub lacks its %license COPYING"
done
# a line DIR/** of the manifest (the API reference) is a tree of any files
grep '/\*\*$' "$work/manifest.txt" | sed 's/\*\*$//' >"$work/trees.txt" || true
while read -r tree; do
    grep -q -F "$tree" "$work/packaged.txt" || fail "no package has a file under $tree"
done <"$work/trees.txt"
if [ -s "$work/trees.txt" ]; then
    grep -v -F -f "$work/trees.txt" "$work/packaged.txt" >"$work/packaged-files.txt" || true
else
    cp "$work/packaged.txt" "$work/packaged-files.txt"
fi
grep -v '/\*\*$' "$work/manifest.txt" >"$work/manifest-files.txt" || true
if ! diff -u "$work/manifest-files.txt" "$work/packaged-files.txt" >"$work/files.diff"; then
    echo "packaged files differ from tests/install-manifest.txt (- only in the manifest, + only in a package):" >&2
    tail -n +3 "$work/files.diff" | grep '^[-+]' >&2
    fail "the spec's %files and the install manifest disagree"
fi
echo "$(wc -l <"$work/packaged-files.txt") packaged files match the manifest"
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
for f in /usr/libexec/metrics-instrumentation \
    /usr/lib/systemd/system/metrics-instrumentation.service \
    /usr/lib/systemd/user/metrics-instrumentation.service \
    /usr/lib/systemd/system-preset/90-fedora-metrics.preset \
    /usr/lib/systemd/user-preset/90-fedora-metrics.preset; do
    [ -e "$root$f" ] || fail "$f is not installed"
done
grep -q '^ExecStart=/usr/libexec/metrics-recorder' "$root/usr/lib/systemd/system/metrics-recorder.service" ||
    fail "the unit does not start /usr/libexec/metrics-recorder"

step "the recorder has state: consent, store, archive"
mkdir -p "$root/var/lib/metrics/archive"
echo "granted" >"$root/var/lib/metrics/consent.conf"
echo "events" >"$root/var/lib/metrics/metrics.db"
echo "sent" >"$root/var/lib/metrics/archive/batch-1"

step "upgrade to release 1.1: the state stays"
: >"$root/var/log/systemctl.log"
rpm "${db[@]}" --nodeps -U "$work"/rpms.1/*.rpm
echo "systemctl calls:"
cat "$root/var/log/systemctl.log"
if grep -E '(^| )(stop|disable)( |$)' "$root/var/log/systemctl.log"; then
    fail "the upgrade stopped or disabled a unit"
fi
rpm "${db[@]}" -q "$name-recorder" | grep -q -- "-1\.1\." || rpm "${db[@]}" -q "$name-recorder" | grep -q -- '-1\.1$' ||
    fail "the upgrade did not install release 1.1: $(rpm "${db[@]}" -q "$name-recorder")"
for f in consent.conf metrics.db archive/batch-1; do
    [ -e "$root/var/lib/metrics/$f" ] || fail "the upgrade deleted /var/lib/metrics/$f"
done

step "remove every package"
mapfile -t packages < <(rpm "${db[@]}" -qa --qf '%{NAME}\n' | grep "^$name-")
: >"$root/var/log/systemctl.log"
rpm "${db[@]}" --nodeps -e "${packages[@]}"
[ -z "$(rpm "${db[@]}" -qa | grep "^$name-" || true)" ] || fail "packages remain installed"
[ ! -e "$root/var/lib/metrics" ] || fail "/var/lib/metrics survived the removal"
echo "systemctl calls:"
cat "$root/var/log/systemctl.log"
# %preun stops and disables the units (Fedora's %systemd_preun calls
# systemd-update-helper, which the root lacks: there, check its arguments)
for unit in metrics-recorder.service metrics-upload.service metrics-upload.timer; do
    if [ ${#macros[@]} -gt 0 ]; then
        grep -E "disable --now .*$unit" "$root/var/log/systemctl.log" >/dev/null ||
            fail "removing the recorder did not stop and disable $unit"
    else
        rpm -qp --scripts "$work"/rpms.1/"$name"-recorder-*.rpm |
            sed -n '/^preuninstall/,/^postuninstall/p' | grep -F "$unit" >/dev/null ||
            fail "%preun of the recorder does not stop and disable $unit"
    fi
done
# %postun stops the services once more before it deletes the state
grep -x 'stop metrics-recorder.service metrics-upload.service \[state present\]' \
    "$root/var/log/systemctl.log" >/dev/null ||
    fail "%postun did not stop the recorder and the upload service before deleting the state"
: >"$root/var/log/systemctl.log"

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
