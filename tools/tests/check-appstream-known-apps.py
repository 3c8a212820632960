#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
"""The known-app tool reproduces the expected value sets from the
hand-written fixture catalogues in tools/tests/appstream/ (plain and
gzip'd), and the shipped value set is what the tool writes (sorted, with its
header), so regenerating it changes nothing but its entries.

  check-appstream-known-apps.py TOOL FIXTURE-DIR SHIPPED-VALUE-SET
"""

import gzip
import os
import shutil
import subprocess
import sys
import tempfile

failures = 0


def run(tool, args):
    result = subprocess.run(
        [sys.executable, tool] + args, capture_output=True, text=True, check=False
    )
    return result.returncode, result.stdout, result.stderr


def expect(name, tool, args, expected_path, expected_errors=()):
    global failures
    code, out, err = run(tool, args)
    with open(expected_path, encoding="utf-8") as f:
        expected = f.read()
    if code != 0 or out != expected:
        failures += 1
        print("not ok - %s: exit %d, output differs from %s:\n%s%s"
              % (name, code, expected_path, out, err))
        return
    for message in expected_errors:
        if message not in err:
            failures += 1
            print("not ok - %s: no %r on stderr:\n%s" % (name, message, err))
            return
    print("ok - %s" % name)


def main():
    global failures
    tool, fixtures, shipped = sys.argv[1:4]
    fedora = os.path.join(fixtures, "fedora.xml")
    flathub = os.path.join(fixtures, "flathub.xml")

    expect("origin fedora", tool, [fedora, flathub, "--origin", "fedora"],
           os.path.join(fixtures, "expected-fedora.txt"),
           ["'../../etc/passwd.desktop'", "'has space.desktop'", "'org.example.Bad'"])
    expect("any origin", tool, [fedora, flathub], os.path.join(fixtures, "expected-any.txt"))
    expect("from a list", tool, ["--from-list", os.path.join(fixtures, "hand-written.txt")],
           os.path.join(fixtures, "expected-from-list.txt"), ["'not a desktop id'"])

    with tempfile.TemporaryDirectory() as tmp:
        # the same catalogues gzip'd, as distributions ship them, under the
        # same names: the same output
        for path in (fedora, flathub):
            with open(path, "rb") as src, gzip.open(os.path.join(tmp, os.path.basename(path)),
                                                    "wb") as dst:
                shutil.copyfileobj(src, dst)
        expect("gzip'd", tool,
               [os.path.join(tmp, "fedora.xml"), os.path.join(tmp, "flathub.xml"),
                "--origin", "fedora"],
               os.path.join(fixtures, "expected-fedora.txt"))

        # --output writes the same as stdout
        out = os.path.join(tmp, "out.txt")
        code, _, err = run(tool, [fedora, "--origin", "fedora", "-o", out])
        with open(out, encoding="utf-8") as f:
            written = f.read()
        _, printed, _ = run(tool, [fedora, "--origin", "fedora"])
        if code != 0 or written != printed:
            failures += 1
            print("not ok - --output: %s" % err)
        else:
            print("ok - --output")

        # nothing selected: no empty value set is written
        code, _, _ = run(tool, [flathub, "--origin", "nowhere", "-o", out])
        if code == 0:
            failures += 1
            print("not ok - an empty selection is refused")
        else:
            print("ok - an empty selection is refused")

    # the shipped set is the tool's output: regenerating it from itself
    # (the rule that needs no catalogue) gives it back unchanged
    code, out, err = run(tool, ["--from-list", shipped])
    with open(shipped, encoding="utf-8") as f:
        current = f.read()
    ids = lambda text: [l for l in text.splitlines() if l and not l.startswith("#")]
    if code != 0 or ids(out) != ids(current) or not current.startswith(out.split("# Made")[0]):
        failures += 1
        print("not ok - %s is not as the tool writes it:\n%s" % (shipped, err))
    else:
        print("ok - the shipped value set is as the tool writes it")

    print("1..7")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
