#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Static analysis of the product code (libmetrics/, recorder-daemon/, cli/,
# instrumentation/; not their tests, nor generated files): compiles each of
# its C files once more with GCC's -fanalyzer, with the flags of an existing
# build, and fails on any finding.
#
#   tools/check-static.sh [BUILD-DIR]     (default: _build)
#
# BUILD-DIR must be configured with gcc and built (the generated headers
# are read from it); nothing in it is written. JOBS sets the parallel
# compilers (default: the number of processors).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/_build}" && pwd)
jobs=${JOBS:-$(nproc)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -f "$build/compile_commands.json" ]; then
    echo "check-static: $build is not a configured meson build directory" >&2
    exit 2
fi

# one NUL-separated shell command per product source file, from the build's
# compile commands: no object, dependency or coverage files are written
/usr/bin/python3 - "$top" "$build" "$out" >"$out/commands" <<'PY'
import json, os, shlex, sys

top, build, out = sys.argv[1:4]
dirs = ("libmetrics", "recorder-daemon", "cli", "instrumentation")
seen = set()
for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
    source = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    rel = os.path.relpath(source, top)
    if rel.split(os.sep)[0] not in dirs or f"{os.sep}tests{os.sep}" in rel or rel in seen:
        continue
    seen.add(rel)
    args = shlex.split(entry["command"])
    keep = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
        elif arg in ("-MD", "-MMD", "--coverage", "-fprofile-arcs", "-ftest-coverage") or \
                arg.startswith("-fdiagnostics-color"):
            pass
        else:
            keep.append(arg)
    # -O0: at -O2, after inlining, GCC 12's analyzer reports a g_autofree
    # variable that a library call fills in (g_file_get_contents) as
    # uninitialised when it is freed
    keep += ["-O0", "-fanalyzer", "-fdiagnostics-color=never", "-o", "/dev/null"]
    log = os.path.join(out, rel.replace(os.sep, "_") + ".log")
    cmd = "cd %s && %s >%s 2>&1" % (shlex.quote(entry["directory"]), shlex.join(keep),
                                    shlex.quote(log))
    sys.stdout.write(cmd + "\0")
PY

n=$(tr -cd '\0' <"$out/commands" | wc -c)
if [ "$n" -eq 0 ]; then
    echo "check-static: no product sources in $build/compile_commands.json" >&2
    exit 2
fi
start=$SECONDS
status=0
xargs -0 -P "$jobs" -n 1 bash -c <"$out/commands" || status=$?

findings=$(cat "$out"/*.log | grep -c -E 'warning: .*\[-Wanalyzer-' || true)
if [ "$status" -ne 0 ] || [ "$findings" -gt 0 ]; then
    cat "$out"/*.log
    echo "check-static: $findings findings in $n files (gcc -fanalyzer, $((SECONDS - start)) s)" >&2
    exit 1
fi
echo "check-static: no findings in $n files (gcc -fanalyzer, $((SECONDS - start)) s)"
