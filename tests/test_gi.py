#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# libmetrics from Python and JavaScript, against the built daemon on a
# private system bus (the harness of test_examples.py):
#  - tests/gi/api.py and tests/gi/api.js call every public function, with
#    consent never asked at the start and the polkit mock allowing all;
#  - scripts that record and exit without flushing still deliver (the
#    default recorder flushes at exit), exactly once even when they fork,
#    and exit even when the daemon does not answer;
#  - without any system bus, calls fail with NOT_RUNNING and recording
#    drops and counts.
#
# Run one case as meson does:
#   test_gi.py GiTest.test_api_python

import os
import signal
import subprocess
import sys
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_examples import (  # noqa: E402
    APP_OPENED_ID,
    CRASH_COUNT_ID,
    DESKTOP_ID,
    StackTest,
    env_path,
)

# a script that records COUNT events with the default recorder and ends
# without flushing, in each language; FORK makes the Python one fork a
# child that exits normally before its parent does
PYTHON_NO_FLUSH = textwrap.dedent("""
    import os, sys
    import gi
    gi.require_version("Metrics", "1")
    from gi.repository import GLib, Metrics
    count, fork = int(sys.argv[1]), sys.argv[2] == "fork"
    recorder = Metrics.Recorder.get_default()
    for i in range(count):
        recorder.record("{opened}", GLib.Variant("s", "{desktop}"))
    recorder.add_count("{crash}", count)
    if fork:
        child = os.fork()
        if child == 0:
            sys.exit(0)
        os.waitpid(child, 0)
    print("queued", flush=True)
""").format(opened=APP_OPENED_ID, desktop=DESKTOP_ID, crash=CRASH_COUNT_ID)

GJS_NO_FLUSH = textwrap.dedent("""
    import GLib from 'gi://GLib';
    import Metrics from 'gi://Metrics?version=1';
    const count = parseInt(ARGV[0]);
    const recorder = Metrics.Recorder.get_default();
    for (let i = 0; i < count; i++)
        recorder.record('{opened}', new GLib.Variant('s', '{desktop}'));
    recorder.add_count('{crash}', count, null);
    print('queued');
""").format(opened=APP_OPENED_ID, desktop=DESKTOP_ID, crash=CRASH_COUNT_ID)


class GiTest(StackTest):
    initial_consent = None
    with_polkit = True

    def setUp(self):
        super().setUp()
        self.set_polkit_allowed([
            "org.fedoraproject.Metrics1.set-consent",
            "org.fedoraproject.Metrics1.read-all",
            "org.fedoraproject.Metrics1.clear-all",
            "org.fedoraproject.Metrics1.upload-now",
        ])

    def run_script(self, argv, env=None, timeout=120):
        result = subprocess.run(argv, env=env or self.interpreter_env(), capture_output=True,
                                text=True, timeout=timeout)
        self.assertEqual(result.returncode, 0,
                         f"{argv} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def python(self, *args):
        return [env_path("METRICS_PYTHON"), *args]

    def gjs(self, *args):
        return [env_path("METRICS_GJS"), "-m", *args]

    def script(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def grant(self):
        result = subprocess.run([env_path("METRICS_CLI"), "consent", "grant"], env=self.env(),
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_api_python(self):
        with self.logs_on_failure():
            out = self.run_script(self.python(os.path.join(self.source_root, "tests", "gi",
                                                           "api.py"))).stdout
            self.assertIn("api.py: ok", out)

    def test_api_gjs(self):
        with self.logs_on_failure():
            out = self.run_script(self.gjs(os.path.join(self.source_root, "tests", "gi",
                                                        "api.js"))).stdout
            self.assertIn("api.js: ok", out)

    def check_delivered(self, count, copies=1):
        stored = self.stored()
        self.assertEqual(sorted(stored), sorted([APP_OPENED_ID, CRASH_COUNT_ID]), stored)
        self.assertEqual(stored[APP_OPENED_ID]["count"], count * copies)
        self.assertEqual(stored[CRASH_COUNT_ID]["count"], count * copies)

    def test_exit_flush_python(self):
        with self.logs_on_failure():
            self.grant()
            path = self.script("no-flush.py", PYTHON_NO_FLUSH)
            self.run_script(self.python(path, "100", "no"))
            # every one of them, not one more
            self.check_delivered(100)

    def test_exit_flush_gjs(self):
        with self.logs_on_failure():
            self.grant()
            path = self.script("no-flush.js", GJS_NO_FLUSH)
            self.run_script(self.gjs(path, "100"))
            self.check_delivered(100)

    def test_exit_flush_fork(self):
        # the child inherits the queue; only the parent sends it
        with self.logs_on_failure():
            self.grant()
            path = self.script("no-flush.py", PYTHON_NO_FLUSH)
            self.run_script(self.python(path, "50", "fork"))
            self.check_delivered(50)

    def test_exit_flush_daemon_stopped(self):
        # a daemon that does not answer (stopped) keeps nobody from exiting:
        # the script ends, its events are dropped, and once the daemon runs
        # again nothing of them is stored
        with self.logs_on_failure():
            self.grant()
            daemon = self.processes[-1]
            path = self.script("no-flush.py", PYTHON_NO_FLUSH)
            daemon.send_signal(signal.SIGSTOP)
            try:
                # far above the bound of the exit flush, far below the
                # library's own call timeouts summed
                self.run_script(self.python(path, "10", "no"), timeout=60)
            finally:
                daemon.send_signal(signal.SIGCONT)
            self.assertEqual(self.stored(), {})

    def test_no_bus(self):
        with self.logs_on_failure():
            env = self.interpreter_env()
            env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + os.path.join(self.workdir, "nobody")
            api = os.path.join(self.source_root, "tests", "gi", "api.py")
            self.assertIn("api.py: ok", self.run_script(self.python(api, "no-bus"), env).stdout)
            api = os.path.join(self.source_root, "tests", "gi", "api.js")
            self.assertIn("api.js: ok", self.run_script(self.gjs(api, "no-bus"), env).stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
