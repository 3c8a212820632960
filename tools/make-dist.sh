#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Makes the release tarball NAME-VERSION.tar.xz (the spec's Source0) with
# `meson dist`, which packs the committed files of HEAD (git archive; not
# what is uncommitted) and writes a .sha256sum beside it, and copies both
# into OUTPUT-DIR. Without --test it skips meson dist's own build and test
# of the unpacked tarball, which a release should run (--test).
#   make-dist.sh [--test] [--build-dir DIR] OUTPUT-DIR
# With --build-dir, meson dist runs in that configured build directory;
# otherwise in a temporary one configured with -Dtests=false, removed after.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dist_args=(--no-tests)
build_dir=
while [ $# -gt 0 ]; do
    case $1 in
    --test) dist_args=() ;;
    --build-dir)
        build_dir=${2:?--build-dir needs a directory}
        shift
        ;;
    -*)
        echo "make-dist: unknown option $1 (--test, --build-dir DIR)" >&2
        exit 1
        ;;
    *) break ;;
    esac
    shift
done
if [ $# -ne 1 ]; then
    echo "usage: make-dist.sh [--test] [--build-dir DIR] OUTPUT-DIR" >&2
    exit 1
fi
out=$1
if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    echo "make-dist: $top is not a git checkout: meson dist packs a commit" >&2
    exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -z "$build_dir" ]; then
    build_dir=$(mktemp -d)
    trap 'rm -rf "$build_dir"' EXIT
    meson setup "$build_dir" "$top" -Dtests=false -Dintrospection=disabled \
        -Ddocs=disabled -Dman=disabled >"$build_dir/setup.log" 2>&1 || {
        cat "$build_dir/setup.log" >&2
        echo "make-dist: meson setup failed (see above)" >&2
        exit 1
    }
fi
# meson dist refuses to pack with uncommitted changes unless allowed; they
# are left out either way, and it says so
rm -rf "$build_dir/meson-dist"
meson dist -C "$build_dir" --formats xztar --allow-dirty "${dist_args[@]}"
found=0
for f in "$build_dir"/meson-dist/*.tar.xz; do
    [ -e "$f" ] || continue
    cp "$f" "$f.sha256sum" "$out/"
    echo "make-dist: $out/$(basename "$f")"
    found=1
done
if [ "$found" -ne 1 ]; then
    echo "make-dist: meson dist wrote no tarball" >&2
    exit 1
fi
