#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Installs what building, the demo and the tests need, on Debian/Ubuntu
# (apt-get) or Fedora (dnf). Run as root, or with sudo available.
set -euo pipefail

debian_packages=(
    meson ninja-build pkg-config gcc gettext
    libglib2.0-dev libglib2.0-bin libsoup-3.0-dev libjson-glib-dev libsqlite3-dev
    libpolkit-gobject-1-dev gobject-introspection libgirepository1.0-dev
    dbus python3 python3-dbusmock python3-gi python3-jsonschema
    valgrind clang-format libxml2-utils shellcheck codespell gcovr git
    gjs gi-docgen go-md2man groff-base man-db
    libdbus-1-dev systemd polkitd rpm dash
    # devscripts: the checkbashisms that rpmlint runs on scriptlets
    rpmlint devscripts
    glib-networking libgnutls28-dev
    e2fsprogs mount util-linux
    libgtk-4-dev libadwaita-1-dev xvfb xauth
)
fedora_packages=(
    meson ninja-build pkgconf-pkg-config gcc gettext
    glib2-devel libsoup3-devel json-glib-devel sqlite-devel
    polkit-devel gobject-introspection-devel
    dbus-daemon python3 python3-dbusmock python3-gobject python3-jsonschema
    valgrind clang-tools-extra libxml2 libasan libubsan ShellCheck codespell gcovr git
    gjs gi-docgen golang-github-cpuguy83-md2man groff-base man-db
    dbus-devel systemd systemd-rpm-macros polkit rpm-build dash
    rpmlint
    glib-networking gnutls-devel
    e2fsprogs util-linux
    gtk4-devel libadwaita-devel xorg-x11-server-Xvfb xauth
)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "install-deps: run as root (or install sudo) to install packages" >&2
        exit 1
    fi
}

if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for p in "${debian_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "install-deps: installing ${#missing[@]} packages and what they need" \
            "(a few minutes on a fresh machine): ${missing[*]}"
        echo "install-deps: apt-get update"
        as_root apt-get update -qq
        # a line for each package downloaded and set up, not apt's whole
        # output (errors go to stderr, unfiltered)
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${missing[@]}" |
            { sed -u -n -E \
                -e 's/^Get:([0-9]+) [^ ]+ [^ ]+ [^ ]+ ([^ ]+) [^ ]+ ([^ ]+) (.*)/  download \1: \2 \3 \4/p' \
                -e 's/^Setting up ([^ ]+) .*/  set up \1/p' \
                -e '/^Need to get /p' -e '/^[0-9]+ upgraded, /p' || true; }
        echo "install-deps: done"
    else
        echo "install-deps: every package is installed already"
    fi
elif command -v dnf >/dev/null 2>&1; then
    echo "install-deps: dnf install (a few minutes on a fresh machine): ${fedora_packages[*]}"
    as_root dnf install -y "${fedora_packages[@]}"
else
    echo "install-deps: neither apt-get nor dnf found; install the packages listed in $0 by hand" >&2
    exit 1
fi
