#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Writes an allowlist file for the tests: each shipped metric recorded by
# "session" (regular users), also recorded by root and nobody, the users
# the tests run as. Metrics the tests' own overrides replace are left out.
#
#   gen-session-overrides.py OUTPUT SHIPPED-DIR OVERRIDES-DIR

import json
import pathlib
import sys


def main():
    if len(sys.argv) != 4:
        print("usage: gen-session-overrides.py OUTPUT SHIPPED-DIR OVERRIDES-DIR",
              file=sys.stderr)
        return 2
    overridden = set()
    for path in sorted(pathlib.Path(sys.argv[3]).glob("*.json")):
        overridden |= {m["id"] for m in json.loads(path.read_text())["metrics"]}
    metrics = []
    for path in sorted(pathlib.Path(sys.argv[2]).glob("*.json")):
        for metric in json.loads(path.read_text())["metrics"]:
            if "session" in metric["recorders"] and metric["id"] not in overridden:
                metric["recorders"] = ["session", "user:root", "user:nobody"]
                metrics.append(metric)
    pathlib.Path(sys.argv[1]).write_text(
        json.dumps({"format": 1, "metrics": metrics}, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
