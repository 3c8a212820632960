#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Runs the example apps of examples/ (C, Python through PyGObject, GJS)
# against the built recorder daemon on a private system bus, with consent
# already granted, and checks with `metrics-cli --json show` that the daemon
# stored exactly the counter, the value and the duration each records.
#
# Run one case as meson does:
#   test_examples.py ExamplesTest.test_python
# The paths come from the environment (set in tests/meson.build):
#   METRICS_SOURCE_ROOT, METRICS_RECORDER, METRICS_CLI, METRICS_TYPELIB_DIR,
#   METRICS_RECORD_EXAMPLE (C), METRICS_PYTHON, METRICS_GJS

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

APP_OPENED_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
CRASH_COUNT_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002"
SESSION_TIME_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003"
DESKTOP_ID = "org.gnome.TextEditor.desktop"
TIMEOUT = 10


def env_path(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set; run this test through meson test")
    return value


def wait_for(predicate, what):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class StackTest(unittest.TestCase):
    """a private system bus, the built daemon on it and, if asked, the
    polkit mock; also used by test_gi.py"""

    # what the daemon starts with: consent already granted, as if the user
    # had agreed earlier (no polkit is needed to record or read one's own
    # data), or nothing (never asked) for the settings tests
    initial_consent = "granted"
    with_polkit = False

    def setUp(self):
        self.source_root = env_path("METRICS_SOURCE_ROOT")
        self.workdir = tempfile.mkdtemp(prefix="metrics-examples-")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.logs = {}
        self.processes = []

        # a private bus of the system bus's type
        socket = os.path.join(self.workdir, "system_bus_socket")
        self.bus_address = f"unix:path={socket}"
        self.spawn(
            "dbus-daemon",
            [
                "dbus-daemon",
                "--config-file=" + os.path.join(self.source_root, "tests", "private-system-bus.conf"),
                "--address=" + self.bus_address,
                "--nofork",
                "--nopidfile",
            ],
        )
        wait_for(lambda: os.path.exists(socket), "the private bus")

        # consent granted before the daemon starts, as if the user had
        # agreed earlier; no polkit is needed to record or read one's own data
        self.state_dir = os.path.join(self.workdir, "state")
        os.mkdir(self.state_dir, 0o700)
        if self.initial_consent:
            with open(os.path.join(self.state_dir, "consent.conf"), "w") as f:
                f.write(f"[Consent]\nState={self.initial_consent}\nChanged=1\n")

        if self.with_polkit:
            self.spawn(
                "polkitd",
                [env_path("METRICS_PYTHON"), "-m", "dbusmock", "--system", "--template", "polkitd"],
            )
            wait_for(self.polkit_is_up, "the mock polkit")

        self.spawn(
            "metrics-recorder",
            [
                env_path("METRICS_RECORDER"),
                "--verbose",
                "--state-dir=" + self.state_dir,
                # the shipped allowlist, from the source tree
                "--allowlist-dir="
                + os.path.join(env_path("METRICS_SOURCE_ROOT"), "data", "allowlist"),
            ]
            # the tests' overrides: the shipped app metrics are recorded by
            # regular users only, the tests run as root too
            + ["--allowlist-dir=" + d
               for d in env_path("METRICS_TEST_ALLOWLIST_DIRS").split(":")],
        )
        wait_for(self.daemon_is_up, "metrics-recorder to own its name")

    def tearDown(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for log in self.logs.values():
            log.close()

    def env(self):
        env = dict(os.environ)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        typelib_dir = env_path("METRICS_TYPELIB_DIR")
        for name in ("GI_TYPELIB_PATH", "LD_LIBRARY_PATH"):
            env[name] = os.pathsep.join(p for p in (typelib_dir, env.get(name)) if p)
        return env

    def spawn(self, name, argv):
        log = open(os.path.join(self.workdir, name + ".log"), "w+")
        self.logs[name] = log
        process = subprocess.Popen(argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def polkit_is_up(self):
        result = subprocess.run(
            ["gdbus", "introspect", "--system", "-d", "org.freedesktop.PolicyKit1",
             "-o", "/org/freedesktop/PolicyKit1/Authority"],
            env=self.env(), capture_output=True,
        )
        return result.returncode == 0

    def set_polkit_allowed(self, actions):
        subprocess.run(
            ["gdbus", "call", "--system", "-d", "org.freedesktop.PolicyKit1",
             "-o", "/org/freedesktop/PolicyKit1/Authority",
             "-m", "org.freedesktop.DBus.Mock.SetAllowed", str(actions)],
            env=self.env(), check=True, capture_output=True,
        )

    def daemon_is_up(self):
        daemon = self.processes[-1]
        if daemon.poll() is not None:
            raise AssertionError(f"metrics-recorder exited with {daemon.returncode}")
        result = subprocess.run(
            [env_path("METRICS_CLI"), "status"], env=self.env(), capture_output=True
        )
        return result.returncode == 0

    @contextlib.contextmanager
    def logs_on_failure(self):
        try:
            yield
        except BaseException:
            for name, log in self.logs.items():
                log.flush()
                log.seek(0)
                sys.stderr.write(f"--- {name} log ---\n{log.read()}--- end of {name} log ---\n")
            raise

    def interpreter_env(self):
        env = self.env()
        # set by tests/meson.build in AddressSanitizer builds
        preload = os.environ.get("METRICS_INTERPRETER_PRELOAD")
        if preload:
            env["LD_PRELOAD"] = preload
            env["ASAN_OPTIONS"] = ":".join(
                o for o in (env.get("ASAN_OPTIONS"), "detect_leaks=0") if o
            )
        return env

    def run_example(self, argv, interpreted=True):
        result = subprocess.run(
            argv,
            env=self.interpreter_env() if interpreted else self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(
            result.returncode, 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
        )
        self.assertEqual(result.stderr, "", "the example wrote to stderr")
        self.assertIn("recorded 3 events (consent: granted, dropped in-process: 0)", result.stdout)
        self.assertIn("the daemon kept 3 and refused 0", result.stdout)

    def stored(self):
        result = subprocess.run(
            [env_path("METRICS_CLI"), "--json", "show"],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        rows = json.loads(result.stdout)["aggregates"]
        # metrics-cli(1): 2 is "nothing to do", here nothing stored
        self.assertEqual(result.returncode, 0 if rows else 2, result.stderr)
        return {row["event-id"]: row for row in rows}

    def check_stored(self):
        stored = self.stored()
        self.assertEqual(
            sorted(stored), sorted([APP_OPENED_ID, CRASH_COUNT_ID, SESSION_TIME_ID]), stored
        )

        value = stored[APP_OPENED_ID]
        self.assertEqual(value["kind"], "value")
        self.assertEqual(value["payload-type"], "s")
        self.assertEqual(value["payload"], DESKTOP_ID)
        self.assertEqual(value["count"], 1)
        self.assertEqual(value["duration-usec"], 0)

        counter = stored[CRASH_COUNT_ID]
        self.assertEqual(counter["kind"], "counter")
        self.assertIsNone(counter["payload"])
        self.assertEqual(counter["count"], 1)

        duration = stored[SESSION_TIME_ID]
        self.assertEqual(duration["kind"], "duration")
        self.assertIsNone(duration["payload"])
        self.assertEqual(duration["count"], 1)
        # the examples sleep 10 ms between starting and stopping the timer
        self.assertGreaterEqual(duration["duration-usec"], 10000)
        self.assertLess(duration["duration-usec"], 60 * 1000000)

        for row in stored.values():
            self.assertEqual(row["uid"], os.getuid())


class ExamplesTest(StackTest):
    """the examples of examples/ record what they say they do"""

    def test_nothing_stored_before_examples(self):
        with self.logs_on_failure():
            self.assertEqual(self.stored(), {})

    def test_c(self):
        with self.logs_on_failure():
            self.run_example([env_path("METRICS_RECORD_EXAMPLE"), "--count", "1"], interpreted=False)
            self.check_stored()

    def test_python(self):
        with self.logs_on_failure():
            self.run_example(
                [
                    env_path("METRICS_PYTHON"),
                    os.path.join(self.source_root, "examples", "record-example.py"),
                    DESKTOP_ID,
                ]
            )
            self.check_stored()

    def test_gjs(self):
        with self.logs_on_failure():
            self.run_example(
                [
                    env_path("METRICS_GJS"),
                    "-m",
                    os.path.join(self.source_root, "examples", "record-example.js"),
                    DESKTOP_ID,
                ]
            )
            self.check_stored()


class SettingsTest(ExamplesTest):
    """examples/settings-panel.py: what a Settings panel and an initial-setup
    page do (docs/settings-integration.md)"""

    initial_consent = None
    with_polkit = True

    def panel(self, *args, check=True):
        result = subprocess.run(
            [env_path("METRICS_PYTHON"), os.path.join(self.source_root, "examples", "settings-panel.py"), *args],
            env=self.env(), capture_output=True, text=True, timeout=60,
        )
        if check:
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result

    def test_settings_panel(self):
        with self.logs_on_failure():
            # never asked: the switch is off, and polkit guards the change
            status = self.panel("status").stdout
            self.assertIn("consent: unknown", status)
            self.assertIn("switch: off", status)
            denied = self.panel("set", "granted", check=False)
            self.assertEqual(denied.returncode, 5, denied.stderr)
            self.assertIn("PermissionDenied", denied.stderr)
            self.assertIn("consent: unknown", self.panel("status").stdout)

            # a panel follows changes live, made here by another client
            self.set_polkit_allowed(["org.fedoraproject.Metrics1.set-consent"])
            watcher = subprocess.Popen(
                [env_path("METRICS_PYTHON"), os.path.join(self.source_root, "examples", "settings-panel.py"),
                 "watch", "--count", "2", "--timeout", "30"],
                env=self.env(), stdout=subprocess.PIPE, text=True,
            )
            self.assertEqual(watcher.stdout.readline().strip(), "watching")
            self.assertIn("consent: granted", self.panel("set", "granted").stdout)
            self.assertIn("switch: on", self.panel("status").stdout)
            cli = subprocess.run([env_path("METRICS_CLI"), "consent", "deny"], env=self.env(),
                                 capture_output=True, text=True)
            self.assertEqual(cli.returncode, 0, cli.stderr)
            out, _ = watcher.communicate(timeout=30)
            self.assertEqual(watcher.returncode, 0)
            self.assertEqual(out.split(), ["consent:", "granted", "consent:", "denied"])
            self.assertIn("switch: off", self.panel("status").stdout)

            # the panel turns the switch off itself: what was stored goes at once
            self.assertIn("consent: granted", self.panel("set", "granted").stdout)
            self.run_example([env_path("METRICS_RECORD_EXAMPLE"), "--count", "1"], interpreted=False)
            self.check_stored()
            self.assertIn("consent: denied", self.panel("set", "denied").stdout)
            self.assertIn("switch: off", self.panel("status").stdout)
            self.assertEqual(sorted(os.listdir(self.state_dir)), ["consent.conf"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
