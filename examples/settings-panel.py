#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# What a Settings privacy panel or an initial-setup page does, with plain
# GIO D-Bus calls (no libmetrics needed): read the tri-state consent, follow
# its changes live, and change it through the polkit-guarded SetConsent.
# docs/settings-integration.md explains each call.
#
#   settings-panel.py status             print the consent and when it changed
#   settings-panel.py set granted|denied [--interactive]
#   settings-panel.py watch [--count N]  print each change, exit after N

import argparse
import sys

from gi.repository import Gio, GLib

BUS_NAME = "org.fedoraproject.Metrics1"
OBJECT_PATH = "/org/fedoraproject/Metrics1"
INTERFACE = "org.fedoraproject.Metrics1.Recorder"


def make_proxy():
    # DO_NOT_AUTO_START is not set: reading the state may start the daemon,
    # which is bus-activated and exits again when idle
    return Gio.DBusProxy.new_for_bus_sync(
        Gio.BusType.SYSTEM,
        Gio.DBusProxyFlags.NONE,
        None,
        BUS_NAME,
        OBJECT_PATH,
        INTERFACE,
        None,
    )


def read_consent(proxy):
    # the proxy caches properties; a panel reads the cache and is told of
    # changes by PropertiesChanged (g-properties-changed)
    value = proxy.get_cached_property("Consent")
    if value is None:
        # no owner and not activatable: the stack is not installed
        return None
    return value.unpack()


def switch_state(consent):
    # the switch shows "unknown" (never asked) as off; the initial-setup
    # page has no default and must ask
    return consent == "granted"


def cmd_status(proxy, args):
    consent = read_consent(proxy)
    if consent is None:
        print("metrics are not available on this system", file=sys.stderr)
        return 4
    changed = proxy.get_cached_property("ConsentTimestamp").unpack()
    print(f"consent: {consent}")
    print(f"switch: {'on' if switch_state(consent) else 'off'}")
    print(f"changed-usec: {changed}")
    return 0


def cmd_set(proxy, args):
    flags = Gio.DBusCallFlags.NONE
    if args.interactive:
        # lets polkit show an authentication dialog (admin by default)
        flags = Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
    try:
        proxy.call_sync(
            "SetConsent",
            GLib.Variant("(sa{sv})", (args.state, {})),
            flags,
            GLib.MAXINT if args.interactive else -1,
            None,
        )
    except GLib.Error as error:
        remote = Gio.DBusError.get_remote_error(error)
        Gio.DBusError.strip_remote_error(error)
        print(f"cannot change consent ({remote}): {error.message}", file=sys.stderr)
        return 5 if remote == "org.fedoraproject.Metrics1.Error.PermissionDenied" else 1
    print(f"consent: {args.state}")
    return 0


def cmd_watch(proxy, args):
    loop = GLib.MainLoop()
    seen = []

    def on_properties_changed(proxy, changed, invalidated):
        consent = changed.unpack().get("Consent")
        if consent is None:
            return
        print(f"consent: {consent}", flush=True)
        seen.append(consent)
        if len(seen) >= args.count:
            loop.quit()

    def on_timeout():
        print("timed out", file=sys.stderr)
        loop.quit()
        return GLib.SOURCE_REMOVE

    proxy.connect("g-properties-changed", on_properties_changed)
    GLib.timeout_add_seconds(args.timeout, on_timeout)
    print("watching", flush=True)
    loop.run()
    return 0 if len(seen) >= args.count else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status")
    set_parser = sub.add_parser("set")
    set_parser.add_argument("state", choices=["granted", "denied"])
    set_parser.add_argument("--interactive", action="store_true")
    watch_parser = sub.add_parser("watch")
    watch_parser.add_argument("--count", type=int, default=1)
    watch_parser.add_argument("--timeout", type=int, default=30)
    args = parser.parse_args()

    proxy = make_proxy()
    commands = {"status": cmd_status, "set": cmd_set, "watch": cmd_watch}
    return commands[args.command](proxy, args)


if __name__ == "__main__":
    sys.exit(main())
