#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# The 'style' test suite: C formatting (clang-format with .clang-format),
# shell scripts (shellcheck), and po/POTFILES.in sorted and complete.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0

mapfile -t c_files < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './_build*')
for f in "${c_files[@]}"; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "style: clang-format would change $f (run: clang-format -i $f)"
        status=1
    fi
done

if command -v shellcheck >/dev/null 2>&1; then
    mapfile -t sh_files < <(git ls-files '*.sh' .ci/run data/completion/metrics-cli 2>/dev/null)
    if [ ${#sh_files[@]} -gt 0 ] && ! shellcheck -S warning "${sh_files[@]}"; then
        status=1
    fi
else
    echo "style: shellcheck is missing (tools/install-deps.sh installs it)"
    status=1
fi

if [ -f po/POTFILES.in ]; then
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
    done < <(git ls-files '*.c' | xargs grep -l -E '\b(N_|_)\("' | grep -v -E '^(tests|.*/tests|examples|bench|fuzzing)/' || true)
fi

if [ $status -eq 0 ]; then
    echo "style: ok (${#c_files[@]} C files)"
fi
exit $status
