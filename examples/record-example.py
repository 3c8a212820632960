#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# A minimal Python (PyGObject) app that records a value, a counter and a
# duration through libmetrics, then flushes before it exits.
#
#   record-example.py [DESKTOP-ID]

import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Metrics", "1")
from gi.repository import GLib, Metrics  # noqa: E402

# ids from data/allowlist/
APP_OPENED_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
CRASH_COUNT_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002"
SESSION_TIME_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003"


def main():
    app_id = sys.argv[1] if len(sys.argv) > 1 else "org.gnome.TextEditor.desktop"
    recorder = Metrics.Recorder.get_default()

    # a duration: start a timer, do the work, stop it
    timer = recorder.start_timer(SESSION_TIME_ID, None)

    # a value: the payload is a GVariant of the type the allowlist gives
    recorder.record(APP_OPENED_ID, GLib.Variant("s", app_id))

    # a counter without a payload: the count first, the payload may be left out
    recorder.add_count(CRASH_COUNT_ID, 1)

    GLib.usleep(10000)
    timer.stop()

    # a short-lived program flushes before it exits. Without it, the default
    # recorder still sends what is queued when Python exits, but with a
    # short bound and no way to report a failure; flush_sync() waits until
    # the daemon has stored the events. Recording itself never fails, but
    # delivering may.
    try:
        recorder.flush_sync(None)
    except GLib.Error as error:
        print(f"could not deliver the events: {error.message}", file=sys.stderr)
        return 1

    # a successful flush does not mean the daemon kept everything: it refuses
    # what its allowlist does not approve, and without consent or without a
    # daemon the events are dropped here; the counts tell which
    consent = Metrics.Consent.to_string(recorder.get_consent())
    print(f"recorded 3 events (consent: {consent}, dropped in-process: "
          f"{recorder.get_n_dropped()})")
    print(f"the daemon kept {recorder.get_n_accepted()} and refused "
          f"{recorder.get_n_rejected()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
