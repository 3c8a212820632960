#!/usr/bin/env -S gjs -m
// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The Fedora Metrics authors
//
// A minimal GJS app (for example a GNOME Shell extension) that records a
// value, a counter and a duration through libmetrics, then flushes before it
// exits.
//
//   gjs -m record-example.js [DESKTOP-ID]

import GLib from 'gi://GLib';
import Metrics from 'gi://Metrics?version=1';
import System from 'system';

// ids from data/allowlist/
const APP_OPENED_ID = '8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001';
const CRASH_COUNT_ID = '8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002';
const SESSION_TIME_ID = '8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003';

function main(args) {
    const appId = args.length > 0 ? args[0] : 'org.gnome.TextEditor.desktop';
    const recorder = Metrics.Recorder.get_default();

    // a duration: start a timer, do the work, stop it
    const timer = recorder.start_timer(SESSION_TIME_ID, null);

    // a value: the payload is a GVariant of the type the allowlist gives
    recorder.record(APP_OPENED_ID, new GLib.Variant('s', appId));

    // a counter without a payload: the count first, then the payload (null)
    recorder.add_count(CRASH_COUNT_ID, 1, null);

    GLib.usleep(10000);
    timer.stop();

    // a short-lived program flushes before it exits. Without it, the default
    // recorder still sends what is queued when gjs exits, but with a short
    // bound and no way to report a failure; flush_sync() waits until the
    // daemon has stored the events. Recording itself never fails, but
    // delivering may.
    try {
        recorder.flush_sync(null);
    } catch (error) {
        printerr(`could not deliver the events: ${error.message}`);
        return 1;
    }

    // a successful flush does not mean the daemon kept everything: it refuses
    // what its allowlist does not approve, and without consent or without a
    // daemon the events are dropped here; the counts tell which
    const consent = Metrics.Consent.to_string(recorder.get_consent());
    print(`recorded 3 events (consent: ${consent}, dropped in-process: ${recorder.get_n_dropped()})`);
    print(`the daemon kept ${recorder.get_n_accepted()} and refused ${recorder.get_n_rejected()}`);
    return 0;
}

System.exit(main(ARGV));
