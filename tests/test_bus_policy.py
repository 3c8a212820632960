#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# The shipped bus policies (data/dbus/org.fedoraproject.Metrics1.conf, and
# com.endlessm.Metrics.conf for the Endless client interface the daemon
# serves too) on a bus as restrictive as the real system bus: nobody may own a name or send a
# method call unless a policy allows it. The service user "metrics" is
# replaced by "nobody", under which the real daemon runs; the test itself
# runs as root (as CI does) and as a third, unprivileged uid.
#
# Checks: root and other users cannot own the name; the service user can;
# anybody may call the Recorder interface, Properties, Introspectable and
# Peer at that name; a call to any other interface there is refused by the
# bus; a unicast signal to the daemon is refused too (one GLib cannot decode
# would cost the daemon its connection), broadcasts still reach it. The same
# for the Endless name and its EventRecorderServer interface.
#
# The paths come from the environment (set in tests/meson.build):
#   METRICS_SOURCE_ROOT, METRICS_RECORDER, METRICS_PYTHON

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from gi.repository import Gio, GLib

NAME = "org.fedoraproject.Metrics1"
PATH = "/org/fedoraproject/Metrics1"
IFACE = "org.fedoraproject.Metrics1.Recorder"
EOS_NAME = "com.endlessm.Metrics"
EOS_PATH = "/com/endlessm/Metrics"
EOS_IFACE = "com.endlessm.Metrics.EventRecorderServer"
SERVICE_UID = 65534  # nobody: stands in for the "metrics" service user
# a user that is neither root nor the service user; the bus needs it to
# exist (it looks up its groups), "daemon" does on Debian and Fedora
OTHER_UID = pwd.getpwnam("daemon").pw_uid
TIMEOUT = 30

# the shape of the system bus's own policy (system.conf): default deny for
# owning names and for method calls, the bus driver reachable, replies only
# to calls that asked for them
SYSTEM_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <include>{policy}</include>
  <include>{eos_policy}</include>
</busconfig>
"""

# run as another uid: try to own the name, then call the daemon
OTHER_USER_SCRIPT = """
import sys
from gi.repository import Gio, GLib
bus = Gio.DBusConnection.new_for_address_sync(sys.argv[1],
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
try:
    bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "RequestName", GLib.Variant("(su)", (sys.argv[2], 4)), None, 0, -1, None)
    print("owned")
except GLib.Error as e:
    print(Gio.DBusError.get_remote_error(e))
reply = bus.call_sync(sys.argv[2], "/org/fedoraproject/Metrics1",
                      "org.fedoraproject.Metrics1.Recorder", "GetStatus",
                      GLib.Variant("(a{sv})", ({},)), None, 0, -1, None)
print("consent", reply.unpack()[0]["consent"])
try:
    bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "RequestName", GLib.Variant("(su)", (sys.argv[3], 4)), None, 0, -1, None)
    print("owned")
except GLib.Error as e:
    print(Gio.DBusError.get_remote_error(e))
reply = bus.call_sync(sys.argv[3], "/com/endlessm/Metrics", "org.freedesktop.DBus.Properties",
                      "Get", GLib.Variant("(ss)", ("com.endlessm.Metrics.EventRecorderServer",
                                                   "Enabled")), None, 0, -1, None)
print("enabled", reply.unpack()[0])
"""


def env_path(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set; run this test through meson test")
    return value


def drop_to(uid):
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def copy_readable(src, dest, mode):
    shutil.copyfile(src, dest)
    os.chmod(dest, mode)


def share(src, shared_dir):
    """A copy of the file or directory @src in @shared_dir that every user may
    read: the build and source trees may be closed to other users (a clone
    in /root is, as root's home is 0700). Returns the copy's path."""
    dest = os.path.join(shared_dir, os.path.basename(src))
    if os.path.isdir(src):
        shutil.copytree(src, dest, copy_function=shutil.copyfile, dirs_exist_ok=True)
        for parent, dirs, files in os.walk(dest):
            os.chmod(parent, 0o755)
            for name in files:
                os.chmod(os.path.join(parent, name), 0o644)
    else:
        copy_readable(src, dest, 0o755 if os.access(src, os.X_OK) else 0o644)
    return dest


def shared_env(shared_dir):
    """The environment for a program of the build tree run as another user from
    @shared_dir: the build tree's libraries, the sanitizers' suppression files
    and the coverage data in there too."""
    env = dict(os.environ, GCOV_PREFIX=os.path.join(shared_dir, "gcov"))
    libdir = os.path.join(shared_dir, "lib")
    os.makedirs(libdir, mode=0o755, exist_ok=True)
    os.chmod(libdir, 0o755)
    build_libdir = os.environ.get("METRICS_TYPELIB_DIR", "")
    if os.path.isdir(build_libdir):
        for name in os.listdir(build_libdir):
            path = os.path.join(build_libdir, name)
            if name.startswith("lib") and ".so" in name and os.path.isfile(path):
                copy_readable(path, os.path.join(libdir, name), 0o644)
    env["LD_LIBRARY_PATH"] = libdir
    for var in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"):
        if var not in env:
            continue
        options = env[var].split(":")
        for i, option in enumerate(options):
            if option.startswith("suppressions="):
                options[i] = "suppressions=" + share(option.split("=", 1)[1], shared_dir)
        env[var] = ":".join(options)
    return env


class BusPolicyTest(unittest.TestCase):
    def setUp(self):
        source_root = env_path("METRICS_SOURCE_ROOT")
        self.workdir = tempfile.mkdtemp(prefix="metrics-bus-policy-")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        # the other users must reach the socket and the state directory
        os.chmod(self.workdir, 0o755)
        self.socket = os.path.join(self.workdir, "system_bus_socket")
        self.address = f"unix:path={self.socket}"

        policies = {}
        for name in (NAME, EOS_NAME):
            with open(os.path.join(source_root, "data", "dbus", f"{name}.conf")) as f:
                shipped = f.read()
            self.assertIn('user="metrics"', shipped)
            policies[name] = os.path.join(self.workdir, f"{name}.conf")
            with open(policies[name], "w") as f:
                f.write(shipped.replace('user="metrics"', 'user="nobody"'))
        config = os.path.join(self.workdir, "system.conf")
        with open(config, "w") as f:
            f.write(
                SYSTEM_CONF.format(
                    socket=self.socket, policy=policies[NAME], eos_policy=policies[EOS_NAME]
                )
            )

        self.bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"],
            stderr=subprocess.PIPE,
        )
        self.addCleanup(self.stop, self.bus)
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(self.socket):
            self.assertIsNone(self.bus.poll(), "dbus-daemon exited")
            self.assertLess(time.monotonic(), deadline, "the bus did not start")
            time.sleep(0.05)
        self.conn = Gio.DBusConnection.new_for_address_sync(
            self.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None,
            None,
        )
        self.addCleanup(self.conn.close_sync, None)

        self.state_dir = os.path.join(self.workdir, "state")
        os.mkdir(self.state_dir, 0o700)
        os.chown(self.state_dir, SERVICE_UID, SERVICE_UID)
        self.source_root = source_root
        # what the other users run and read, copied where they may
        self.shared_dir = os.path.join(self.workdir, "shared")
        os.mkdir(self.shared_dir)
        os.chmod(self.shared_dir, 0o755)

    @staticmethod
    def stop(process):
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=TIMEOUT)

    def bus_call(self, method, args, reply_type=None):
        return self.conn.call_sync(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            method,
            args,
            GLib.VariantType(reply_type) if reply_type else None,
            Gio.DBusCallFlags.NONE,
            -1,
            None,
        )

    def call(self, interface, method, args=None, path=PATH, name=NAME):
        return self.conn.call_sync(
            name, path, interface, method, args, None, Gio.DBusCallFlags.NONE, -1, None
        )

    def eos_call(self, interface, method, args=None):
        return self.call(interface, method, args, path=EOS_PATH, name=EOS_NAME)

    def assert_remote_error(self, expected, function, *args):
        with self.assertRaises(GLib.Error) as caught:
            function(*args)
        self.assertEqual(Gio.DBusError.get_remote_error(caught.exception), expected)

    def start_daemon(self):
        env = dict(shared_env(self.shared_dir), DBUS_SYSTEM_BUS_ADDRESS=self.address)
        daemon = subprocess.Popen(
            drop_to(SERVICE_UID)
            + [
                share(env_path("METRICS_RECORDER"), self.shared_dir),
                f"--state-dir={self.state_dir}",
                "--allowlist-dir="
                + share(os.path.join(self.source_root, "data", "allowlist"), self.shared_dir),
            ],
            cwd=self.shared_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.addCleanup(self.stop, daemon)
        deadline = time.monotonic() + TIMEOUT
        while not all(
            self.bus_call("NameHasOwner", GLib.Variant("(s)", (name,)), "(b)")[0]
            for name in (NAME, EOS_NAME)
        ):
            self.assertIsNone(daemon.poll(), "the daemon could not start as the service user")
            self.assertLess(time.monotonic(), deadline, "the daemon did not own its name")
            time.sleep(0.05)

    def test_policy(self):
        # root may not own the names (the bus says so, not the daemon)
        for name in (NAME, EOS_NAME):
            self.assert_remote_error(
                "org.freedesktop.DBus.Error.AccessDenied",
                self.bus_call,
                "RequestName",
                GLib.Variant("(su)", (name, 4)),
                "(u)",
            )

        # the service user may, one daemon owning both
        self.start_daemon()
        owner = self.bus_call("GetNameOwner", GLib.Variant("(s)", (NAME,)), "(s)")[0]
        uid = self.bus_call("GetConnectionUnixUser", GLib.Variant("(s)", (owner,)), "(u)")[0]
        self.assertEqual(uid, SERVICE_UID)
        eos_owner = self.bus_call("GetNameOwner", GLib.Variant("(s)", (EOS_NAME,)), "(s)")[0]
        self.assertEqual(eos_owner, owner)

        # anybody may call the interface and the standard ones
        status = self.call(IFACE, "GetStatus", GLib.Variant("(a{sv})", ({},))).unpack()[0]
        self.assertEqual(status["consent"], "unknown")
        version = self.call(
            "org.freedesktop.DBus.Properties", "Get", GLib.Variant("(ss)", (IFACE, "Version"))
        ).unpack()[0]
        self.assertEqual(version, 1)
        self.call("org.freedesktop.DBus.Properties", "GetAll", GLib.Variant("(s)", (IFACE,)))
        xml = self.call("org.freedesktop.DBus.Introspectable", "Introspect").unpack()[0]
        self.assertIn(IFACE, xml)
        self.call("org.freedesktop.DBus.Peer", "Ping")
        # a call the daemon refuses itself comes back from the daemon
        self.assert_remote_error(
            "org.freedesktop.DBus.Error.UnknownMethod", self.call, IFACE, "NoSuchMethod"
        )

        # nothing else: the bus refuses other interfaces at the name
        for interface, method in [
            ("org.fedoraproject.Metrics1.Other", "Anything"),
            ("org.freedesktop.DBus.ObjectManager", "GetManagedObjects"),
            ("org.freedesktop.DBus.Debug.Stats", "GetStats"),
        ]:
            self.assert_remote_error(
                "org.freedesktop.DBus.Error.AccessDenied", self.call, interface, method
            )

        # no unicast signal reaches the daemon: one whose body GLib cannot
        # decode (tests/integration-flood.c) would make it exit; after it,
        # on the same connection, the daemon still answers
        for destination in [NAME, owner]:
            signal = Gio.DBusMessage.new_signal(PATH, IFACE, "Anything")
            signal.set_destination(destination)
            signal.set_body(GLib.Variant("(a{yg}s)", ({2: "a{sv}", 0: "s"}, "abcdefgh")))
            self.conn.send_message(signal, Gio.DBusSendMessageFlags.NONE)
            self.call("org.freedesktop.DBus.Peer", "Ping")
        # a broadcast is not refused (the daemon subscribes to none of a
        # client's, so it never sees it)
        broadcast = Gio.DBusMessage.new_signal(PATH, IFACE, "Anything")
        broadcast.set_body(GLib.Variant("(s)", ("hello",)))
        self.conn.send_message(broadcast, Gio.DBusSendMessageFlags.NONE)
        self.call("org.freedesktop.DBus.Peer", "Ping")

        # the Endless name: its interface and the standard ones, nothing
        # else, and no unicast signal
        enabled = self.eos_call(
            "org.freedesktop.DBus.Properties", "Get", GLib.Variant("(ss)", (EOS_IFACE, "Enabled"))
        ).unpack()[0]
        self.assertFalse(enabled)
        self.eos_call(EOS_IFACE, "UploadEvents")
        self.eos_call(
            EOS_IFACE,
            "RecordSingularEvent",
            GLib.Variant(
                "(uayxbv)", (0, bytes(range(16)), 0, False, GLib.Variant("i", 0))
            ),
        )
        xml = self.eos_call("org.freedesktop.DBus.Introspectable", "Introspect").unpack()[0]
        self.assertIn(EOS_IFACE, xml)
        self.eos_call("org.freedesktop.DBus.Peer", "Ping")
        self.assert_remote_error(
            "org.freedesktop.DBus.Error.UnknownMethod", self.eos_call, EOS_IFACE, "NoSuchMethod"
        )
        for interface, method in [
            ("com.endlessm.Metrics.Other", "Anything"),
            ("com.endlessm.Metrics.AggregateTimer", "StopTimer"),
            ("org.freedesktop.DBus.Debug.Stats", "GetStats"),
        ]:
            self.assert_remote_error(
                "org.freedesktop.DBus.Error.AccessDenied", self.eos_call, interface, method
            )
        signal = Gio.DBusMessage.new_signal(EOS_PATH, EOS_IFACE, "Anything")
        signal.set_destination(EOS_NAME)
        signal.set_body(GLib.Variant("(a{yg}s)", ({2: "a{sv}", 0: "s"}, "abcdefgh")))
        self.conn.send_message(signal, Gio.DBusSendMessageFlags.NONE)
        self.eos_call("org.freedesktop.DBus.Peer", "Ping")

        # a third user: cannot own the names, may call the daemon at both
        result = subprocess.run(
            drop_to(OTHER_UID)
            + [
                env_path("METRICS_PYTHON"),
                "-c",
                OTHER_USER_SCRIPT,
                self.address,
                NAME,
                EOS_NAME,
            ],
            cwd=self.shared_dir,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(
            result.stdout.split("\n")[:4],
            [
                "org.freedesktop.DBus.Error.AccessDenied",
                "consent unknown",
                "org.freedesktop.DBus.Error.AccessDenied",
                "enabled False",
            ],
        )


if __name__ == "__main__":
    if os.geteuid() != 0:
        # meson reports exit status 77 as a skip, with this reason in the log
        print("SKIP: running the daemon as the service user needs root (CI runs as root)")
        sys.exit(77)
    unittest.main(verbosity=2)
