#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# The 'style' test suite: C formatting (clang-format with .clang-format),
# shell scripts (shellcheck), po/POTFILES.in sorted and complete, and
# spelling (codespell with .codespellrc) of the source and the docs.
#
#   check-style.sh [format] [shell] [potfiles] [spelling]   (none: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
selected=${*:-format shell potfiles spelling}
checks=" $selected "
wants() {
    [[ $checks == *" $1 "* ]]
}

# the files matching the patterns (globs like '*.c', or paths): the tracked
# ones in a git checkout, else (a release tarball) the ones on disk, without
# .git and meson build directories, so the checks never pass on no files
list_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files "$@"
        return
    fi
    local match=() p
    for p in "$@"; do
        [ ${#match[@]} -gt 0 ] && match+=(-o)
        case $p in
        *'*'*) match+=(-name "$p") ;;
        *) match+=(-path "./$p") ;;
        esac
    done
    find . -type d \( -name .git -o -exec test -e '{}/meson-info' \; \) -prune -o \
        -type f \( "${match[@]}" \) -print | sed 's|^\./||' | LC_ALL=C sort
}

if wants format; then
    mapfile -t c_files < <(list_files '*.c' '*.h')
    if [ ${#c_files[@]} -eq 0 ]; then
        echo "style: no C files found"
        status=1
    fi
    for f in "${c_files[@]}"; do
        if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
            echo "style: clang-format would change $f (run: clang-format -i $f)"
            status=1
        fi
    done
fi

if wants shell; then
    if command -v shellcheck >/dev/null 2>&1; then
        mapfile -t sh_files < <(list_files '*.sh' .ci/run data/completion/metrics-cli)
        if [ ${#sh_files[@]} -gt 0 ] && ! shellcheck -S warning "${sh_files[@]}"; then
            status=1
        fi
    else
        echo "style: shellcheck is missing (tools/install-deps.sh installs it)"
        status=1
    fi
fi

if wants potfiles && [ -f po/POTFILES.in ]; then
    if ! grep -v '^#' po/POTFILES.in | LC_ALL=C sort -c 2>/dev/null; then
        echo "style: po/POTFILES.in is not sorted (LC_ALL=C sort)"
        status=1
    fi
    # every source file with translatable strings is listed
    while read -r f; do
        if ! grep -qx "$f" po/POTFILES.in; then
            echo "style: $f has translatable strings but is not in po/POTFILES.in"
            status=1
        fi
    done < <(list_files '*.c' | xargs grep -l -E '\b(N_|_|g_dngettext)\(' | grep -v -E '^(tests|.*/tests|examples|bench|fuzzing)/' || true)
fi

# the text files of the tree; not the translations (other languages), the
# fuzzing corpora and test fixtures (data, some of it binary)
if wants spelling; then
    if command -v codespell >/dev/null 2>&1; then
        mapfile -t text_files < <(list_files '*' | grep -v -E '^(po/.*\.po|fuzzing/corpus/.*|.*/tests/fixtures/.*)$')
        if [ ${#text_files[@]} -eq 0 ]; then
            echo "style: no files to spell-check"
            status=1
        elif ! codespell "${text_files[@]}"; then
            echo "style: misspellings above; a word of the project goes into .codespellrc"
            status=1
        fi
    else
        echo "style: codespell is missing (tools/install-deps.sh installs it)"
        status=1
    fi
fi

if [ $status -eq 0 ]; then
    echo "style: ok ($selected)"
fi
exit $status
