#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Builds the RPMs of packaging/fedora-metrics.spec from the release
# tarball (tools/make-dist.sh, meson dist: the committed files of HEAD),
# installs them into a scratch root with `rpm --root`, upgrades them to a
# higher release, removes them, and checks that:
#   - rpmbuild prints no warning, and rpmlint with Fedora's configuration
#     reports nothing but what packaging/fedora-metrics.rpmlintrc explains,
#   - exactly the sub-packages libs, devel, doc, recorder, cli,
#     instrumentation and panel are built and installed,
#   - %pre creates the system user metrics (systemd-sysusers in the root)
#     where the spec still needs the scriptlet (a release before Fedora 42),
#     and has no such scriptlet for current Fedora,
#   - the packages hold exactly the files of tests/install-manifest.txt,
#     apart from the exceptions listed at that check,
#   - the distribution's preset lines (packaging/presets/) enable the timer
#     and both instrumentation units, and its default "disable *" alone
#     enables nothing (systemctl --root preset),
#   - an upgrade keeps the recorder's state (/var/lib/metrics),
#   - removed as rpm-ostree does (the files go, no scriptlet runs, /var and
#     the local files of /etc stay), the cleanup that tmpfiles.d installed
#     at boot deletes the state at the next boot, and then itself,
#   - removal purges that state and leaves no file of ours behind.
# Needs rpmbuild (Debian: package rpm); skips (77) without it. rpm's
# scriptlets run chrooted, so this runs as root or in a user namespace.
# The scratch root gets dash, rm and systemd-sysusers (with their
# libraries) for the scriptlets.
#   check-rpm.sh SOURCE_DIR
set -euo pipefail

top=$(cd "$1" && pwd)
spec=$top/packaging/fedora-metrics.spec

# the only skip: everything else this needs is a failure
if ! command -v rpmbuild >/dev/null 2>&1; then
    echo "SKIP: rpmbuild not found; install it (Debian: apt-get install rpm, see tools/install-deps.sh)"
    exit 77
fi
for prog in rpm rpmspec rpmlint systemd-sysusers systemd-tmpfiles systemctl dash git meson; do
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
    # the build host's name goes into every package's header; where the
    # machine's own name does not resolve (a fresh chroot or container)
    # rpmbuild warns while looking it up, so name it, as build farms do
    --define "_buildhost localhost"
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
subpackages="cli devel doc instrumentation libs panel recorder"
expected_packages=$(for sub in $subpackages; do echo "$name-$sub"; done)

step "release tarball $name-$version.tar.xz (tools/make-dist.sh)"
mkdir -p "$work/rpmbuild/SOURCES"
# the spec's Source0 is the URL of the tarball meson dist makes
source0=$(rpmspec "${macros[@]}" -P "$spec" 2>/dev/null | sed -n 's/^Source0:[[:space:]]*//p')
case $source0 in
https://*/"$name-$version.tar.xz") ;;
*) fail "Source0 is '$source0', not the https URL of $name-$version.tar.xz" ;;
esac
if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    fail "$top is not a git checkout: the tarball is made by meson dist from a commit"
fi
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
    echo "NOTE: uncommitted changes are not in the tarball (meson dist packs HEAD); the spec used is the one on disk"
fi
"$top/tools/make-dist.sh" "$work/rpmbuild/SOURCES" >"$work/dist.log" 2>&1 || {
    cat "$work/dist.log"
    fail "tools/make-dist.sh failed"
}
tarball=$work/rpmbuild/SOURCES/$name-$version.tar.xz
[ -f "$tarball" ] || fail "tools/make-dist.sh made no $name-$version.tar.xz"
(cd "$work/rpmbuild/SOURCES" && sha256sum -c "$name-$version.tar.xz.sha256sum") ||
    fail "the tarball does not match its .sha256sum"
tar -tJf "$tarball" "$name-$version/meson.build" >/dev/null ||
    fail "the tarball has no $name-$version/meson.build"
# Source1, the sysusers file, for the releases that still need the scriptlet
cp "$top/data/systemd/metrics.sysusers.conf" "$work/rpmbuild/SOURCES/"

# build DIR DIST FEDORA: Release is 1%{?dist}, built as for that Fedora
# release (which decides whether %pre creates the user)
build() {
    step "rpmbuild -bb into $1 (dist '$2', Fedora $3)"
    if ! rpmbuild -bb "${rpmbuild_args[@]}" --define "dist $2" --define "fedora $3" \
        "$spec" >"$work/rpmbuild.log" 2>&1; then
        cat "$work/rpmbuild.log"
        fail "rpmbuild failed"
    fi
    # rpmbuild's own complaints are a reviewer's first findings
    if grep -E '^(warning|WARNING|error):' "$work/rpmbuild.log"; then
        fail "rpmbuild printed the warnings above"
    fi
    mkdir -p "$work/$1"
    mv "$work"/rpmbuild/RPMS/*/*.rpm "$work/$1/"
    (cd "$work/$1" && ls)
    built=$(rpm -qp --qf '%{NAME}\n' "$work/$1"/*.rpm | LC_ALL=C sort)
    [ "$built" = "$expected_packages" ] ||
        fail "built $(echo "$built" | tr '\n' ' ')instead of $(echo "$expected_packages" | tr '\n' ' ')"
}
# release 1 as for Fedora 41, whose rpm does not read sysusers.d files:
# %pre creates the user
build rpms "%{nil}" 41
# the same version with a higher release, to test upgrades, as for current
# Fedora, where rpm creates the user from the packaged sysusers.d file
build rpms.1 ".1" 43
step "rpmlint with Fedora's configuration: nothing but the explained findings"
lint_conf=()
lint_rc=$work/lint.rpmlintrc
cp "$top/packaging/fedora-metrics.rpmlintrc" "$lint_rc"
if [ -e /etc/xdg/rpmlint/fedora.toml ]; then
    echo "the host's rpmlint has Fedora's configuration"
else
    echo "the host's rpmlint has no Fedora configuration: packaging/rpmlint/fedora.toml"
    lint_conf=(--config "$top/packaging/rpmlint/fedora.toml")
fi
if [ ${#macros[@]} -gt 0 ]; then
    cat "$top/tests/rpmlint-host.rpmlintrc" >>"$lint_rc"
fi
# the spec and the packages for current Fedora; any W: or E: line fails
# (an unused filter is an error too, so none goes stale)
rpmlint ${lint_conf[@]+"${lint_conf[@]}"} -r "$lint_rc" "$spec" "$work"/rpms.1/*.rpm >"$work/rpmlint.log" 2>&1 || true
grep -E ': [WE]: |checked;' "$work/rpmlint.log" || { cat "$work/rpmlint.log"; fail "rpmlint did not run"; }
if grep -q -E ': [WE]: ' "$work/rpmlint.log"; then
    fail "rpmlint reports findings that docs/packaging.md does not explain (above)"
fi

step "%pre creates the user only where rpm cannot"
rpm -qp --scripts "$work"/rpms/"$name"-recorder-*.rpm >"$work/scripts-41.txt"
sed -n '/^preinstall/,/^[a-z]*install\|^preuninstall/p' "$work/scripts-41.txt" | grep -q 'metrics' ||
    fail "for Fedora 41, %pre of the recorder does not create the user metrics"
rpm -qp --scripts "$work"/rpms.1/"$name"-recorder-*.rpm >"$work/scripts-43.txt"
if grep -q '^preinstall' "$work/scripts-43.txt"; then
    cat "$work/scripts-43.txt" >&2
    fail "for current Fedora the recorder still has a %pre scriptlet (rpm creates the user itself)"
fi

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
    "tmpfiles_dir=$(eval_macro '%{_tmpfilesdir}')"
    "version=$version"
)
languages=$(sed -e 's/#.*//' "$top/po/LINGUAS" | tr -s ' \t' '\n' | sed '/^$/d')
grep -v -e '^#' -e '^$' "$top/tests/install-manifest.txt" | while IFS= read -r line; do
    # the spec builds every optional part ("[FEATURE] PATH" lines)
    line=${line#\[panel\] }
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
#   the man pages rpm compresses, and the %ghost copies of the cleanup unit
#   that tmpfiles.d makes at boot
license_dir=$(eval_macro '%{_defaultlicensedir}')
mandir=$(eval_macro '%{_mandir}')
ghosts=(
    /etc/systemd/system/metrics-state-cleanup.service
    /etc/systemd/system/multi-user.target.wants/metrics-state-cleanup.service
)
rpm "${db[@]}" -qa --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' | sed -n 's/^[^d][^ ]* //p' |
    grep -v -E -e "^$license_dir/$name-[a-z]+(-$version)?/COPYING\$" -e '^/usr/lib/\.build-id/' |
    grep -v -x -F "${ghosts[@]/#/-e}" |
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
    /usr/lib/systemd/user/metrics-instrumentation.service; do
    [ -e "$root$f" ] || fail "$f is not installed"
done
if find "$root/usr/lib/systemd" "$root/etc" -name '*.preset' | grep .; then
    fail "the packages ship presets: enabling units is the distribution's policy"
fi
grep -q '^ExecStart=/usr/libexec/metrics-recorder' "$root/usr/lib/systemd/system/metrics-recorder.service" ||
    fail "the unit does not start /usr/libexec/metrics-recorder"

step "enabled by the distribution's presets (systemctl --root preset)"
# Fedora's own last preset file disables everything not named before it
sysp=$root/usr/lib/systemd/system-preset
userp=$root/usr/lib/systemd/user-preset
mkdir -p "$sysp" "$userp"
echo 'disable *' >"$sysp/99-default-disable.preset"
echo 'disable *' >"$userp/99-default-disable.preset"
system_units=(metrics-recorder.service metrics-upload.service metrics-upload.timer metrics-instrumentation.service)
# enabled PATH...: fails unless each PATH below the root is a link to the
# unit of the same name in a unit directory
enabled() {
    local link target
    for link in "$@"; do
        [ -L "$root$link" ] || fail "$link is not a link: the unit is not enabled"
        target=$(readlink "$root$link")
        [ "$(basename "$target")" = "$(basename "$link")" ] || fail "$link points at $target"
    done
}
wants_links() {
    find "$root/etc/systemd" -path '*.wants/*' -name 'metrics-*' 2>/dev/null | sed "s,^$root,," | LC_ALL=C sort
}
# the policy alone: nothing of ours is enabled
systemctl --root="$root" preset "${system_units[@]}" >/dev/null 2>&1 ||
    fail "systemctl --root preset failed"
systemctl --root="$root" --global preset metrics-instrumentation.service >/dev/null 2>&1 ||
    fail "systemctl --root --global preset failed"
[ -z "$(wants_links)" ] || fail "'disable *' alone enabled $(wants_links)"
# with the lines of packaging/presets/, which fedora-release would carry
cp "$top/packaging/presets/90-default.preset" "$sysp/"
cp "$top/packaging/presets/90-default-user.preset" "$userp/90-default.preset"
systemctl --root="$root" preset "${system_units[@]}" 2>&1 | sed 's/^/  /'
systemctl --root="$root" --global preset metrics-instrumentation.service 2>&1 | sed 's/^/  /'
wants_links | sed 's/^/  enabled: /'
enabled /etc/systemd/system/timers.target.wants/metrics-upload.timer \
    /etc/systemd/system/multi-user.target.wants/metrics-instrumentation.service \
    /etc/systemd/user/graphical-session.target.wants/metrics-instrumentation.service
[ "$(wants_links | wc -l)" -eq 3 ] || fail "the presets enabled more than the timer and the two instrumentation units"
# the recorder is static (started by the bus), the upload service by the timer
for unit in metrics-recorder.service metrics-upload.service; do
    state=$(systemctl --root="$root" is-enabled "$unit" 2>/dev/null || true)
    [ "$state" = static ] || fail "$unit is '$state', not static"
done
# the enablement goes again (as %preun's disable does) and so do our presets
systemctl --root="$root" disable "${system_units[@]}" >/dev/null 2>&1
systemctl --root="$root" --global disable metrics-instrumentation.service >/dev/null 2>&1
[ -z "$(wants_links)" ] || fail "systemctl disable left $(wants_links)"
rm -f "$sysp"/*.preset "$userp"/*.preset
rmdir "$sysp" "$userp"
find "$root/etc/systemd" -depth -type d -empty -delete 2>/dev/null || true

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

mapfile -t packages < <(rpm "${db[@]}" -qa --qf '%{NAME}\n' | grep "^$name-")
cleanup_copy=/etc/systemd/system/metrics-state-cleanup.service
cleanup_link=/etc/systemd/system/multi-user.target.wants/metrics-state-cleanup.service
# boot_unit ROOT LINK: what systemd does at boot with the enabled unit LINK
# below ROOT, for the few directives the cleanup unit may use: its
# ConditionPathExists= decide whether it runs, and its ExecStart= lines run
# chrooted in order; anything else that could stop it from running fails
# the test rather than being ignored
boot_unit() {
    local r=$1 link=$2 unit line key value path run=1
    [ -L "$r$link" ] || { echo "not enabled"; return; }
    unit=$(readlink -f "$r$link")
    unit=${unit#"$r"}
    # the link may be relative to its directory
    [ -f "$r$unit" ] || unit=$(dirname "$link")/$(readlink "$r$link")
    [ -f "$r$unit" ] || fail "$link points at nothing"
    while IFS= read -r line; do
        key=${line%%=*}
        value=${line#*=}
        case $key in
        ConditionPathExists)
            path=${value#!}
            if [ "$path" != "$value" ]; then
                [ ! -e "$r$path" ] || run=0
            else
                [ -e "$r$path" ] || run=0
            fi
            ;;
        Condition* | Assert*) fail "boot_unit does not know $key=" ;;
        esac
    done < <(grep -E '^[A-Za-z]+=' "$r$unit")
    if [ "$run" -eq 0 ]; then
        echo "skipped (condition)"
        return
    fi
    while IFS= read -r line; do
        # shellcheck disable=SC2086 # the command line is split as systemd does for these
        chroot "$r" ${line#ExecStart=} || fail "$unit: '${line#ExecStart=}' failed"
    done < <(grep '^ExecStart=' "$r$unit")
    echo "ran"
}

step "image-based desktop: layered, booted, uninstalled without scriptlets, booted again"
ostree=$work/ostree-root
cp -a "$root" "$ostree"
# an rpm file trigger or scriptlet runs tmpfiles without --boot (on
# rpm-ostree: into the image's default /etc): no copy may come of it
systemd-tmpfiles --root="$ostree" --create >/dev/null 2>&1 || true
[ ! -e "$ostree$cleanup_copy" ] || fail "systemd-tmpfiles without --boot copied the cleanup unit into /etc"
# the first boot: systemd-tmpfiles-setup.service copies and enables it
systemd-tmpfiles --root="$ostree" --create --boot ||
    fail "systemd-tmpfiles --boot failed on the package's tmpfiles.d file"
cmp "$ostree$cleanup_copy" "$ostree/usr/share/metrics/metrics-state-cleanup.service" ||
    fail "$cleanup_copy is not the packaged cleanup unit"
[ "$(boot_unit "$ostree" "$cleanup_link")" = "skipped (condition)" ] ||
    fail "the cleanup unit ran while the recorder is installed"
for f in consent.conf metrics.db archive/batch-1; do
    [ -e "$ostree/var/lib/metrics/$f" ] || fail "a boot with the package installed deleted /var/lib/metrics/$f"
done
# rpm-ostree uninstall: the next deployment has none of the packages'
# files (in /usr, and their unmodified defaults in /etc) and runs no
# scriptlet; /var, and what was added locally to /etc, stay
rpm "${db[@]/$root/$ostree}" -qa --qf '[%{FILEFLAGS:fflags}|%{FILENAMES}\n]' |
    while IFS='|' read -r flags path; do
        [[ "$flags" == *g* ]] && continue
        [[ "$path" == /var/* ]] && continue
        echo "$path"
    done | LC_ALL=C sort -r >"$work/ostree-files.txt"
grep -q -x /usr/libexec/metrics-recorder "$work/ostree-files.txt" || fail "rpm does not list the recorder's files"
while read -r path; do
    if [ -d "$ostree$path" ] && [ ! -L "$ostree$path" ]; then
        rmdir "$ostree$path" 2>/dev/null || true
    else
        rm -f "$ostree$path"
    fi
done <"$work/ostree-files.txt"
rpm "${db[@]/$root/$ostree}" -e --justdb --noscripts --nodeps "${packages[@]}" ||
    fail "rpm -e --justdb failed"
[ -e "$ostree/var/lib/metrics/metrics.db" ] || fail "the simulation lost the state before the boot"
[ -e "$ostree$cleanup_copy" ] || fail "the simulation lost the local copy of the cleanup unit"
# the next boot: tmpfiles has no configuration of ours any more; the
# local copy of the cleanup unit runs
systemd-tmpfiles --root="$ostree" --create --boot >/dev/null 2>&1 || true
result=$(boot_unit "$ostree" "$cleanup_link")
[ "$result" = ran ] || fail "the cleanup unit did not run at the first boot without the package: $result"
[ ! -e "$ostree/var/lib/metrics" ] || fail "/var/lib/metrics survived the boot without the package"
if [ -e "$ostree$cleanup_copy" ] || [ -L "$ostree$cleanup_link" ]; then
    fail "the cleanup unit did not remove its own copy and link"
fi
(cd "$ostree" && find . -path ./var/lib/rpm -prune -o -print | LC_ALL=C sort) >"$work/ostree-after.txt"
ostree_left=$(comm -13 "$work/before.txt" "$work/ostree-after.txt" | while read -r path; do
    if [ ! -d "$ostree/$path" ] || [[ "$path" == *etrics* ]]; then echo "$path"; fi
done)
if [ -n "$ostree_left" ]; then
    echo "$ostree_left" >&2
    fail "files of ours remain after the image-based removal and a boot"
fi
echo "state and cleanup gone at the first boot without the package"
rm -rf "$ostree"

step "a booted dnf system has the cleanup unit's copies, owned by the package"
systemd-tmpfiles --root="$root" --create --boot || fail "systemd-tmpfiles --boot failed"
for f in "$cleanup_copy" "$cleanup_link"; do
    [ -e "$root$f" ] || [ -L "$root$f" ] || fail "no $f after boot"
    rpm "${db[@]}" -qf "$f" >/dev/null || fail "no package owns $f"
done

step "remove every package"
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
