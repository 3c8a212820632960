#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Installs the build into a temporary DESTDIR and compares the installed
# files with tests/install-manifest.txt, both ways: a missing file and an
# unexpected one both fail. Paths are written with the install directories
# as ${name} (the NAME=DIR arguments), the project version as ${version},
# and a line with ${lang} stands for one line per language of po/LINGUAS.
# A line "[FEATURE] PATH" is expected only when FEATURE is one of the
# comma-separated MANIFEST_FEATURES (the optional parts that were built).
# Also checks that every file has an install tag, so that
# `meson install --tags` (used by packagers) misses nothing.
#   check-install-manifest.sh MESON BUILD_DIR MANIFEST LINGUAS VERSION NAME=DIR...
set -euo pipefail

meson=$1
build_dir=$2
manifest=$3
linguas=$4
version=$5
shift 5

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# all the tags meson knows, plus ours
tags=runtime,devel,typelib,i18n,man,doc,bin,bin-devel,tests
"$meson" install -C "$build_dir" --no-rebuild --quiet --destdir "$work/all"
"$meson" install -C "$build_dir" --no-rebuild --quiet --destdir "$work/tagged" --tags "$tags"

list_files() {
    (cd "$1" && find . -not -type d | sed 's/^\.//' | LC_ALL=C sort)
}
list_files "$work/all" >"$work/all.txt"
list_files "$work/tagged" >"$work/tagged.txt"
if ! diff -u "$work/all.txt" "$work/tagged.txt" >"$work/tags.diff"; then
    echo "files without an install_tag (only in a full install):" >&2
    sed -n 's/^-\//  \//p' "$work/tags.diff" >&2
    exit 1
fi

# longest directory first, so that the most specific name wins
for arg in "$@"; do
    name=${arg%%=*}
    dir=${arg#*=}
    printf '%s\t%s\n' "${#dir}" "$name=$dir"
done | sort -rn | cut -f2 >"$work/dirs.txt"

normalise() {
    local path name dir
    while read -r path; do
        while IFS= read -r entry; do
            name=${entry%%=*}
            dir=${entry#*=}
            if [[ "$path" == "$dir"/* ]]; then
                path="\${$name}${path#"$dir"}"
                break
            fi
        done <"$work/dirs.txt"
        printf '%s\n' "${path//$version/\$\{version\}}"
    done
}
normalise <"$work/all.txt" | LC_ALL=C sort >"$work/installed.txt"

languages=$(sed -e 's/#.*//' "$linguas" | tr -s ' \t' '\n' | sed '/^$/d')
# shellcheck disable=SC2016 # a literal ${lang}
if [ -z "$languages" ] && grep -q -F -e '${lang}' "$manifest"; then
    # the line would stand for nothing and the .mo files go unchecked
    echo "$linguas lists no language, so the \${lang} lines of $manifest expect nothing" >&2
    exit 1
fi
features=",${MANIFEST_FEATURES:-},"
grep -v -e '^#' -e '^$' "$manifest" | while IFS= read -r line; do
    if [[ "$line" =~ ^\[([a-z0-9_-]+)\]\ (.*)$ ]]; then
        [[ "$features" == *",${BASH_REMATCH[1]},"* ]] || continue
        line=${BASH_REMATCH[2]}
    fi
    # shellcheck disable=SC2016 # a literal ${lang}
    if [[ "$line" == *'${lang}'* ]]; then
        for lang in $languages; do
            printf '%s\n' "${line//\$\{lang\}/$lang}"
        done
    else
        printf '%s\n' "$line"
    fi
done | LC_ALL=C sort >"$work/expected.txt"

# a line DIR/** stands for a generated tree (the API reference): it must
# hold at least one file, whatever their names
grep -e '/\*\*$' "$work/expected.txt" | while IFS= read -r tree; do
    prefix=${tree%\*\*}
    if ! grep -q -F -e "$prefix" "$work/installed.txt"; then
        echo "nothing was installed under $prefix" >&2
        echo missing >"$work/tree-missing"
    fi
done
if [ -e "$work/tree-missing" ]; then
    exit 1
fi
grep -e '/\*\*$' "$work/expected.txt" | sed 's/\*\*$//' >"$work/trees.txt" || true
if [ -s "$work/trees.txt" ]; then
    grep -v -F -f "$work/trees.txt" "$work/installed.txt" >"$work/installed-files.txt" || true
    mv "$work/installed-files.txt" "$work/installed.txt"
    grep -v -e '/\*\*$' "$work/expected.txt" >"$work/expected-files.txt" || true
    mv "$work/expected-files.txt" "$work/expected.txt"
fi

if ! diff -u "$work/expected.txt" "$work/installed.txt" >"$work/manifest.diff"; then
    echo "installed files differ from $manifest (- expected, + installed):" >&2
    tail -n +3 "$work/manifest.diff" | grep '^[-+]' >&2
    exit 1
fi
echo "$(wc -l <"$work/installed.txt") installed files match $manifest"
