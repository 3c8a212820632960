#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# The README's second command, and what .ci/run calls: installs the
# dependencies, builds with warnings as errors, runs every test, the unit
# tests, the fuzz corpora and the daemon of the whole-stack integration tests
# (suite "stack") once more under valgrind, then builds
# again with AddressSanitizer + UndefinedBehaviorSanitizer and runs every test
# under them. Needs nothing running: the tests start their own bus, polkit
# mock and daemon.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/install-deps.sh"

build=${BUILD_DIR:-$top/_build-ci}
asan_build=${ASAN_BUILD_DIR:-$top/_build-asan}

echo "== build (warnings are errors) and test"
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$top" --werror -Dintrospection=enabled -Ddocs=enabled -Dman=enabled \
        -Db_coverage=true
fi
ninja -C "$build"
# the live D-Bus fuzzer (suite fuzz-live) runs once, in the sanitizer build below
meson test -C "$build" --print-errorlogs --num-processes 2 --no-suite fuzz-live
echo "== coverage of the product code (floors in tools/check-coverage.sh)"
"$top/tools/check-coverage.sh" "$build"
echo "== static analysis of the product code (gcc -fanalyzer: any finding fails)"
JOBS=2 "$top/tools/check-static.sh" "$build"
summarize() {
    # subtests of the TAP programs, from meson's JSON log
    /usr/bin/python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    ok = t["result"] in ("OK", "EXPECTEDFAIL")
    lines = [l for l in t.get("stdout", "").splitlines() if l.startswith(("ok ", "not ok "))]
    # a skipped program (exit 77), and skipped TAP subtests ("ok N # SKIP")
    if t["result"] == "SKIP":
        skipped += 1
        continue
    n_skip = len([l for l in lines if "# SKIP" in l.upper()])
    skipped += n_skip
    n = (len(lines) - n_skip) or 1
    if ok:
        passed += n
    else:
        failed += n
print(f"{passed} {failed} {skipped}")
PY
}
read -r p1 f1 s1 < <(summarize "$build")

echo "== unit tests and fuzz corpora under valgrind (memcheck: leaks and invalid accesses fail)"
meson test -C "$build" --setup valgrind --suite unit --suite fuzzing --print-errorlogs \
    --num-processes 2
echo "== integration tests with the daemon under valgrind"
# the harness starts the daemon through MTEST_DAEMON_WRAPPER; the daemon
# exits non-zero on a memcheck error, which fails the test; suite "stack" is
# the tests/integration-*.c programs, one per topic (about 2 minutes)
glib_supp=$(pkg-config --variable=prefix glib-2.0)/share/glib-2.0/valgrind/glib.supp
G_SLICE=always-malloc \
MTEST_DAEMON_WRAPPER="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=$glib_supp --suppressions=$top/tests/valgrind.supp" \
    meson test -C "$build" --suite stack --print-errorlogs --timeout-multiplier 5 \
        --num-processes 2
# and the daemon that uploads over TLS, whose leaks the ASan run cannot check
# (tests/upload.c, test_tls_no_resumption)
G_SLICE=always-malloc \
MTEST_DAEMON_WRAPPER="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=$glib_supp --suppressions=$top/tests/valgrind.supp" \
    meson test -C "$build" upload --test-args '-p /metrics/upload/tls-no-resumption' \
        --print-errorlogs --timeout-multiplier 5

echo "== build with ASan+UBSan and test"
if [ ! -f "$asan_build/build.ninja" ]; then
    meson setup "$asan_build" "$top" --werror -Dintrospection=enabled \
        -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
fi
ninja -C "$asan_build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:fast_unwind_on_malloc=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0 \
    meson test -C "$asan_build" --print-errorlogs --num-processes 2 \
        --no-suite style --no-suite packaging --no-suite docs
read -r p2 f2 s2 < <(summarize "$asan_build")
echo
echo "tests: $((p1 + p2)) passed, $((f1 + f2)) failed, $((s1 + s2)) skipped"
# a skipped test fails CI (it checked nothing; CONTRIBUTING.md, Tests)
if [ $((s1 + s2)) -gt 0 ]; then
    echo "skipped tests fail the run: install what they need (tools/install-deps.sh)" >&2
    exit 1
fi
