#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# The README's second command, and what .ci/run calls: installs the
# dependencies and builds twice, with warnings as errors:
#  - a plain (optimised) build: its style, docs, packaging and flood tests, gcc's
#    static analyser, and under valgrind the unit tests, the fuzz corpora and
#    the daemon of the whole-stack integration tests (suite "stack"):
#    memcheck sees what the sanitizers cannot (uninitialised reads, leaks
#    of the optimised code);
#  - an AddressSanitizer + UndefinedBehaviorSanitizer build with coverage:
#    every test but the style, docs, packaging and panel suites, then the
#    coverage floors.
# Apart from the flood test, each test runs once without valgrind, in the
# sanitizer build: the plain build's binaries are tested by the valgrind
# runs. Needs nothing running: the tests start their own bus, polkit mock
# and daemon.
# Every phase runs even when one before it failed; at the end one line sums
# up all of them (the TAP subtests of every meson test run, and a phase that
# failed outside meson test as one failure):
#   tests: N passed, N failed, N skipped
# and the script exits non-zero when anything failed or was skipped.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

# Some tests need root: they run clients as other users (setpriv) and
# install packages into a scratch root (rpm --root). Run by a user who may
# use sudo, the script runs itself again as root, and gives the build
# directories back to that user at the end.
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        echo "run-tests: some tests run programs as other users, which needs root:" \
            "running again through sudo"
        exec sudo --preserve-env=BUILD_DIR,ASAN_BUILD_DIR,CI \
            METRICS_TESTS_OWNER="$(id -u):$(id -g)" "$0" "$@"
    fi
    echo "run-tests: run as root, or install sudo: some tests run programs as" \
        "other users" >&2
    exit 1
fi
build=${BUILD_DIR:-$top/_build-ci}
asan_build=${ASAN_BUILD_DIR:-$top/_build-asan}

passed=0
failed=0
skipped=0
failed_phases=()

# the subtests of the TAP programs of one meson test run, from its JSON log,
# as "PASSED FAILED SKIPPED"; "0 0 0" when the run wrote no log
summarize() {
    /usr/bin/python3 - "$1" <<'PY'
import json, os, sys
passed = failed = skipped = 0
if not os.path.exists(sys.argv[1]):
    print("0 0 0")
    sys.exit(0)
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

# phase TITLE COMMAND...: runs one phase that is not a meson test run; its
# failure is noted (and counted as one failed test), not fatal
phase() {
    local title=$1 status=0 start=$SECONDS
    shift
    echo "== $title"
    "$@" || status=$?
    echo "== $((SECONDS - start)) s: $title"
    if [ "$status" -ne 0 ]; then
        echo "== FAILED (exit status $status): $title"
        failed_phases+=("$title")
        failed=$((failed + 1))
    fi
    return 0
}

# tests TITLE BUILD LOGBASE MESON-TEST-ARGS...: a phase that is one meson test
# run, whose subtests are counted (from BUILD/meson-logs/LOGBASE.json)
tests() {
    local title=$1 dir=$2 logbase=$3 status=0 p f s start=$SECONDS
    shift 3
    echo "== $title"
    rm -f "$dir/meson-logs/$logbase.json"
    meson test -C "$dir" --logbase "$logbase" --print-errorlogs "$@" || status=$?
    echo "== $((SECONDS - start)) s: $title"
    read -r p f s < <(summarize "$dir/meson-logs/$logbase.json")
    # meson failed before or beside its tests (a build error, a timeout
    # outside TAP): at least one failure
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    if [ "$status" -ne 0 ]; then
        echo "== FAILED (exit status $status): $title"
        failed_phases+=("$title")
    fi
    return 0
}

# configure BUILD-DIR with OPTIONS..., or reconfigure it when it exists
configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "$@"
    else
        meson setup "$dir" "$top" "$@"
    fi
}

build_ci() {
    configure "$build" --werror -Dintrospection=enabled -Ddocs=enabled -Dman=enabled \
        -Db_coverage=false || return
    ninja -C "$build"
}

build_asan() {
    configure "$asan_build" --werror -Dintrospection=enabled \
        -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
        -Db_coverage=true || return
    ninja -C "$asan_build"
}

phase "install the dependencies (tools/install-deps.sh)" "$top/tools/install-deps.sh"

phase "build (warnings are errors)" build_ci
# what only the plain build can test: the sources' style, the documentation,
# the packages built from it, and the daemon's memory bound under floods
# (which holds for the optimised daemon, not under a sanitizer), and the
# privacy panel, whose toolkit keeps per-process caches that a leak checker
# would report as lost
tests "style, docs, packaging, flood and panel tests" "$build" testlog \
    --num-processes 2 --suite style --suite docs --suite packaging --suite flood \
    --suite panel
phase "static analysis of the product code (gcc -fanalyzer: any finding fails)" \
    env JOBS=2 "$top/tools/check-static.sh" "$build"

tests "unit tests and fuzz corpora under valgrind (memcheck: leaks and invalid accesses fail)" \
    "$build" testlog-valgrind --setup valgrind --suite unit --suite fuzzing --num-processes 2
# the harness starts the daemon through MTEST_DAEMON_WRAPPER; the daemon
# exits non-zero on a memcheck error, which fails the test; suite "stack" is
# the tests/integration-*.c programs, one per topic (about 2 minutes)
glib_supp=$(pkg-config --variable=prefix glib-2.0)/share/glib-2.0/valgrind/glib.supp
daemon_wrapper="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=$glib_supp --suppressions=$top/tests/valgrind.supp"
G_SLICE=always-malloc MTEST_DAEMON_WRAPPER=$daemon_wrapper \
    tests "integration tests with the daemon under valgrind" \
    "$build" testlog-valgrind-stack --suite stack --timeout-multiplier 5 --num-processes 2
# and the daemon that uploads over TLS, whose leaks the ASan run cannot check
# (tests/upload.c, test_tls_no_resumption)
G_SLICE=always-malloc MTEST_DAEMON_WRAPPER=$daemon_wrapper \
    tests "the TLS upload with the daemon under valgrind" \
    "$build" testlog-valgrind-tls upload --test-args '-p /metrics/upload/tls-no-resumption' \
    --timeout-multiplier 5

phase "build with ASan+UBSan and coverage" build_asan
# the live D-Bus fuzzer (suite fuzz-live) runs here too, 20 s
# (coverage counts this run only)
find "$asan_build" -name '*.gcda' -delete 2>/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:fast_unwind_on_malloc=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0 \
    tests "test with ASan+UBSan" "$asan_build" testlog --num-processes 2 \
    --no-suite style --no-suite packaging --no-suite docs --no-suite panel
phase "coverage of the product code (floors in tools/check-coverage.sh)" \
    "$top/tools/check-coverage.sh" "$asan_build"

echo
if [ ${#failed_phases[@]} -gt 0 ]; then
    echo "failed phases:"
    printf '  %s\n' "${failed_phases[@]}"
fi
if [ -n "${METRICS_TESTS_OWNER:-}" ]; then
    chown -R "$METRICS_TESTS_OWNER" "$build" "$asan_build" 2>/dev/null
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
# a skipped test fails CI (it checked nothing; CONTRIBUTING.md, Tests)
if [ "$skipped" -gt 0 ]; then
    echo "skipped tests fail the run: install what they need (tools/install-deps.sh)" >&2
fi
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ ${#failed_phases[@]} -eq 0 ]
