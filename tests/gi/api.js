// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The Fedora Metrics authors
//
// Every public call of libmetrics from GJS, against the real daemon on the
// private bus of tests/test_gi.py, which starts it with consent never asked
// and the polkit mock allowing every action; tests/gi/api.py does the same
// from Python. Exits non-zero at the first check that fails.
//
//   gjs -m api.js          the whole API, in order
//   gjs -m api.js no-bus   what the library does without any system bus

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Metrics from 'gi://Metrics?version=1';
import System from 'system';

const APP_OPENED_ID = '8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001';
const CRASH_COUNT_ID = '8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002';
const SESSION_TIME_ID = '8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003';
// a well-formed id that no allowlist has
const UNKNOWN_ID = '00000000-0000-4000-8000-00000000dead';
const DESKTOP_ID = 'org.gnome.TextEditor.desktop';
const TIMEOUT_S = 30;
const NONE = Metrics.ClientFlags.NONE;
const ALL = Metrics.ClientFlags.ALL_USERS;

function check(condition, what) {
    if (!condition)
        throw new Error(`check failed: ${what}`);
}

function checkEqual(actual, expected, what) {
    if (actual !== expected)
        throw new Error(`check failed: ${what}: ${actual} !== ${expected}`);
}

function checkError(call, code, what) {
    try {
        call();
    } catch (error) {
        check(error instanceof GLib.Error && error.matches(Metrics.error_quark(), code),
            `${what}: ${error}`);
        return error;
    }
    throw new Error(`check failed: ${what}: no error`);
}

// consent changes arrive as signals in the default main context
function iterateUntil(predicate, what) {
    const context = GLib.MainContext.default();
    const deadline = GLib.get_monotonic_time() + TIMEOUT_S * 1000000;
    while (!predicate()) {
        check(GLib.get_monotonic_time() < deadline, `timed out waiting for ${what}`);
        const source = GLib.timeout_source_new(100);
        source.set_callback(() => GLib.SOURCE_REMOVE);
        source.attach(context);
        context.iteration(true);
        source.destroy();
    }
}

// start(callback) begins the call; returns what finish(result) returns
function runAsync(start, finish) {
    const loop = new GLib.MainLoop(null, false);
    let outcome = null;
    start((source, result) => {
        try {
            outcome = {value: finish(result)};
        } catch (error) {
            outcome = {error};
        }
        loop.quit();
    });
    const timeout = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, TIMEOUT_S, () => {
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    loop.run();
    GLib.source_remove(timeout);
    check(outcome !== null, 'an asynchronous call never finished');
    if (outcome.error)
        throw outcome.error;
    return outcome.value;
}

function checkCommon() {
    checkEqual(Metrics.Consent.to_string(Metrics.Consent.GRANTED), 'granted', 'to_string');
    const [ok, consent] = Metrics.Consent.from_string('denied');
    check(ok && consent === Metrics.Consent.DENIED, 'from_string denied');
    check(!Metrics.Consent.from_string('maybe')[0], 'from_string accepts maybe');
    checkEqual(Metrics.EventKind.to_string(Metrics.EventKind.DURATION), 'duration', 'kind');
    check(Metrics.event_id_is_valid(APP_OPENED_ID), 'a valid id');
    check(!Metrics.event_id_is_valid('not-a-uuid'), 'an invalid id');
    checkEqual(GLib.quark_to_string(Metrics.error_quark()), 'metrics-error-quark', 'domain');

    const row = new GLib.Variant('(ussuavtt)', [1000, APP_OPENED_ID, '2026-11-30', 0,
        [new GLib.Variant('s', DESKTOP_ID)], 3, 0]);
    const aggregate = Metrics.Aggregate.deserialize(row);
    checkEqual(aggregate.get_uid(), 1000, 'aggregate uid');
    checkEqual(aggregate.get_event_id(), APP_OPENED_ID, 'aggregate id');
    checkEqual(aggregate.get_week(), '2026-11-30', 'aggregate week');
    checkEqual(aggregate.get_kind(), Metrics.EventKind.VALUE, 'aggregate kind');
    checkEqual(aggregate.get_payload().unpack(), DESKTOP_ID, 'aggregate payload');
    checkEqual(aggregate.get_count(), 3, 'aggregate count');
    checkEqual(aggregate.get_duration(), 0, 'aggregate duration');
    // an attacker's row: the wrong shape is an error, not a crash
    const bad = new GLib.Variant('(ussuavtt)', [1, 'not-a-uuid', 'x', 7, [], 0, 0]);
    checkError(() => Metrics.Aggregate.deserialize(bad), Metrics.Error.INVALID_DATA,
        'a malformed aggregate');
}

// every way of recording; returns how many events the daemon must keep
function recordAll(recorder) {
    const timer = recorder.start_timer(SESSION_TIME_ID, null);
    recorder.record(APP_OPENED_ID, new GLib.Variant('s', DESKTOP_ID));
    recorder.add(CRASH_COUNT_ID, null, 1);
    // the count before the payload
    recorder.add_count(CRASH_COUNT_ID, 2, null);
    recorder.add_count(CRASH_COUNT_ID, 3, null);
    recorder.record_duration(SESSION_TIME_ID, null, GLib.get_real_time() - 5000000, 5000000);
    const cancelled = recorder.start_timer(SESSION_TIME_ID, null);
    cancelled.cancel();
    cancelled.stop(); // after cancel: records nothing
    timer.stop();
    timer.stop(); // a second stop records nothing
    return 6;
}

function checkRecorderAndClient() {
    const client = Metrics.Client.new(null);
    checkEqual(client.get_connection(), null, 'no connection before the first call');

    // never asked: the recorder drops in-process, and says so
    const recorder = Metrics.Recorder.get_default();
    check(recorder === Metrics.Recorder.get_default(), 'one default recorder');
    recorder.record(APP_OPENED_ID, new GLib.Variant('s', DESKTOP_ID));
    check(recorder.flush_sync(null), 'flush without consent');
    checkEqual(recorder.get_n_dropped(), 1, 'dropped without consent');
    checkEqual(recorder.get_n_accepted(), 0, 'accepted without consent');
    checkEqual(recorder.get_consent(), Metrics.Consent.UNKNOWN, 'never asked');

    let status = client.query_status_sync(NONE, null);
    check(status instanceof Metrics.Status, 'query_status returns a Metrics.Status');
    check(client.get_connection() instanceof Gio.DBusConnection, 'connected');
    check(client.connection === client.get_connection(), 'the connection property');
    checkEqual(status.consent, Metrics.Consent.UNKNOWN, 'status consent');
    checkEqual(status.consent_timestamp, 0, 'never changed');
    checkEqual(status.all_users, false, 'own figures');
    checkEqual(status.stored_keys, 0, 'nothing stored');

    // consent: polkit (mocked) allows it; the recorder follows the change live
    const notified = [];
    recorder.connect('notify::consent', () => notified.push(recorder.consent));
    check(client.set_consent_sync(Metrics.Consent.GRANTED, NONE, null), 'set_consent');
    iterateUntil(() => recorder.get_consent() === Metrics.Consent.GRANTED, 'consent');
    iterateUntil(() => notified.includes(Metrics.Consent.GRANTED), 'notify::consent');

    const expected = recordAll(recorder);
    // what the daemon refuses: an unknown id, a payload of the wrong type
    recorder.record(UNKNOWN_ID, null);
    recorder.record(APP_OPENED_ID, new GLib.Variant('u', 7));
    // what the library refuses before the bus
    recorder.record('not-a-uuid', null);
    recorder.add_count(CRASH_COUNT_ID, 0, null);
    check(recorder.flush_sync(null), 'flush_sync');
    checkEqual(recorder.get_n_accepted(), expected, 'accepted by the daemon');
    checkEqual(recorder.get_n_rejected(), 2, 'refused by the daemon');
    checkEqual(recorder.get_n_dropped(), 3, 'dropped in-process');

    const other = Metrics.Recorder.new(client.get_connection());
    check(other.connection === client.get_connection(), "the recorder's connection");
    other.record(APP_OPENED_ID, new GLib.Variant('s', DESKTOP_ID));
    check(runAsync(cb => other.flush_async(null, cb), r => other.flush_finish(r)), 'flush_async');
    checkEqual(other.get_n_accepted(), 1, 'accepted through flush_async');
    checkEqual(other.get_consent(), Metrics.Consent.GRANTED, "the second recorder's consent");
    const system = Metrics.Recorder.new(null);
    system.add_count(CRASH_COUNT_ID, 4, null);
    check(system.flush_sync(null), 'flush of Recorder.new(null)');
    checkEqual(system.get_n_accepted(), 1, 'accepted from Recorder.new(null)');

    // what is stored
    const rows = client.get_local_data_sync(NONE, null);
    const byId = {};
    for (const row of rows)
        byId[row.get_event_id()] = row;
    checkEqual(Object.keys(byId).sort().join(),
        [APP_OPENED_ID, CRASH_COUNT_ID, SESSION_TIME_ID].join(), 'stored metrics');
    checkEqual(byId[APP_OPENED_ID].get_count(), 2, 'values stored');
    checkEqual(byId[CRASH_COUNT_ID].get_count(), 10, 'counter stored');
    checkEqual(byId[CRASH_COUNT_ID].get_kind(), Metrics.EventKind.COUNTER, 'counter kind');
    check(byId[SESSION_TIME_ID].get_duration() >= 5000000, 'durations stored');
    const rowsAsync = runAsync(cb => client.get_local_data_async(NONE, null, cb),
        r => client.get_local_data_finish(r));
    checkEqual(rowsAsync.length, rows.length, 'get_local_data_async');
    checkEqual(client.get_local_data_sync(ALL, null).length, rows.length, "everybody's data");

    // status, typed
    status = client.query_status_sync(NONE, null);
    checkEqual(status.consent, Metrics.Consent.GRANTED, 'status consent granted');
    check(status.consent_timestamp > 0, 'consent timestamp');
    checkEqual(status.stored_keys, rows.length, 'stored keys');
    checkEqual(status.stored_events, rows.reduce((n, r) => n + r.get_count(), 0), 'events');
    check(status['stored-weeks'] >= 1, 'stored weeks, by the property name');
    check(status.store_max_bytes > 0, 'store cap');
    checkEqual(status.accepted, expected + 2, 'accepted, own');
    check(status.allowlisted_metrics >= 3, 'allowlisted metrics');
    check(status.server_url.startsWith('http'), 'server url');
    check(status.next_week_close > 0, 'next week close');
    check(status.upload_window_days > 0, 'upload window');
    checkEqual(status.stored_bytes, 0, 'store size is not for unprivileged eyes');
    checkEqual(status.get_drops().length, 0, 'drops are not per user');
    checkEqual(status.get_drops_by_metric().length, 0, 'drops by metric need all');
    checkEqual(status.get_variant().deepUnpack()['stored-keys'].unpack(), rows.length, 'raw');
    const full = runAsync(cb => client.query_status_async(ALL, null, cb),
        r => client.query_status_finish(r));
    check(full.all_users, "everybody's figures");
    check(full.stored_bytes > 0, 'store size');
    check(full.store_used_bytes > 0, 'store used bytes');
    check(full.clients >= 1, 'clients');
    const drops = {};
    for (const drop of full.get_drops()) {
        checkEqual(drop.metric_id, null, 'a drop count of all metrics');
        drops[drop.reason] = drop.count;
    }
    check(drops['not-allowlisted'] >= 1, 'the unknown id dropped');
    check(drops['wrong-type'] >= 1, 'the wrong type dropped');
    check(full.get_drops_by_metric().some(d => d.reason === 'not-allowlisted' &&
        d.metric_id === UNKNOWN_ID && d.count >= 1), 'drops by metric');
    // the untyped forms stay
    checkEqual(client.get_status_sync(null).recursiveUnpack()['stored-keys'], rows.length,
        'get_status_sync');
    check(client.get_status_full_sync(ALL, null).recursiveUnpack()['all-users'],
        'get_status_full_sync');
    checkEqual(runAsync(cb => client.get_status_async(null, cb),
        r => client.get_status_finish(r)).recursiveUnpack().consent, 'granted',
    'get_status_async');
    check(!runAsync(cb => client.get_status_full_async(NONE, null, cb),
        r => client.get_status_full_finish(r)).recursiveUnpack()['all-users'],
    'get_status_full_async');

    // the allowlist, typed
    const metrics = client.list_metrics_sync(null);
    check(metrics.every(m => m instanceof Metrics.AllowlistEntry), 'allowlist entries');
    const entries = {};
    for (const entry of metrics)
        entries[entry.id] = entry;
    const opened = entries[APP_OPENED_ID];
    checkEqual(opened.name, 'app-opened', 'entry name');
    checkEqual(opened.kind, Metrics.EventKind.VALUE, 'entry kind');
    checkEqual(opened.payload, 's', 'entry payload type');
    checkEqual(opened.category, 'usage', 'entry category');
    check(opened.description && opened.purpose && opened.owner, 'entry texts');
    checkEqual(opened.values_from, 'test-values', 'entry value set');
    check(opened.n_values > 0, 'entry n-values');
    check(['drop', 'map'].includes(opened.other), 'entry other');
    check(opened.recorders.includes('user:root'), 'entry recorders');
    checkEqual(opened.added, '2026-11-01', 'entry added');
    checkEqual(opened.expires, '2027-10-31', 'entry expires');
    check(!opened.expired, 'entry not expired');
    checkEqual(opened.sample_rate, 1.0, 'entry sample rate');
    check(opened.sampled, 'entry sampled');
    check(opened.weekly_cap > 0, 'entry weekly cap');
    check(opened.file.endsWith('.json'), 'entry file');
    checkEqual(entries[CRASH_COUNT_ID].kind, Metrics.EventKind.COUNTER, 'counter entry');
    checkEqual(entries[CRASH_COUNT_ID].payload, '', 'no payload type');
    checkEqual(entries[CRASH_COUNT_ID].values_from, null, 'no value set');
    checkEqual(opened.get_variant().recursiveUnpack().name, 'app-opened', 'entry raw dict');
    const names = metrics.map(m => m.name);
    checkEqual(names.join(), [...names].sort().join(), 'sorted by name');
    checkEqual(runAsync(cb => client.list_metrics_async(null, cb),
        r => client.list_metrics_finish(r)).length, metrics.length, 'list_metrics_async');
    checkEqual(client.get_allowlist_sync(null).n_children(), metrics.length, 'get_allowlist');
    checkEqual(runAsync(cb => client.get_allowlist_async(null, cb),
        r => client.get_allowlist_finish(r)).n_children(), metrics.length,
    'get_allowlist_async');

    // the uploads, typed: this week's data is what the open week would send
    const pending = client.list_pending_uploads_sync(NONE, null);
    check(pending.length >= 1, 'pending uploads');
    const upload = pending[0];
    check(upload instanceof Metrics.Upload, 'a Metrics.Upload');
    checkEqual(upload.state, 'next', 'a week not yet closed');
    check(upload.due > 0, 'due');
    checkEqual(upload.week.length, 10, 'week');
    check(upload.metric, 'metric');
    checkEqual(upload.sent, 0, 'a pending request was not sent');
    checkEqual(upload.checksum, null, 'a pending request has no checksum');
    const events = pending.flatMap(u => u.get_events());
    check(events.every(e => e instanceof Metrics.UploadEvent), 'upload events');
    checkEqual(events.reduce((n, e) => n + e.count, 0), status.stored_events,
        'what would be sent sums up the store');
    check(events.some(e => e.payload !== null && e.payload.unpack() === DESKTOP_ID),
        'the payload that would be sent');
    check(upload.get_events().every(e => e.period_start === upload.week), 'period start');
    check(events.every(e => e.os_version !== null), 'os version');
    check(events.every(e => ![APP_OPENED_ID, CRASH_COUNT_ID, SESSION_TIME_ID]
        .includes(e.event_id)), 'the weekly id is not the allowlist id');
    checkEqual(upload.get_variant().recursiveUnpack().state, 'next', 'upload raw dict');
    checkEqual(runAsync(cb => client.list_pending_uploads_async(NONE, null, cb),
        r => client.list_pending_uploads_finish(r)).length, pending.length,
    'list_pending_uploads_async');
    checkEqual(client.get_pending_uploads_sync(NONE, null).n_children(), pending.length,
        'get_pending_uploads_sync');
    checkEqual(runAsync(cb => client.get_pending_uploads_async(NONE, null, cb),
        r => client.get_pending_uploads_finish(r)).n_children(), pending.length,
    'get_pending_uploads_async');
    // nothing was sent: no week is closed
    checkEqual(client.list_sent_uploads_sync(NONE, null).length, 0, 'list_sent_uploads_sync');
    checkEqual(runAsync(cb => client.list_sent_uploads_async(NONE, null, cb),
        r => client.list_sent_uploads_finish(r)).length, 0, 'list_sent_uploads_async');
    checkEqual(client.get_sent_uploads_sync(NONE, null).n_children(), 0, 'get_sent_uploads');
    checkEqual(runAsync(cb => client.get_sent_uploads_async(NONE, null, cb),
        r => client.get_sent_uploads_finish(r)).n_children(), 0, 'get_sent_uploads_async');
    // nothing is due: nothing is sent, nothing fails
    let [ok, sent, failed] = client.upload_now_sync(NONE, null);
    check(ok && sent === 0 && failed === 0, `upload_now_sync: ${sent} sent, ${failed} failed`);
    [ok, sent, failed] = runAsync(cb => client.upload_now_async(NONE, null, cb),
        r => client.upload_now_finish(r));
    check(ok && sent === 0 && failed === 0, 'upload_now_async');

    // deleting one's own data, in both forms
    let removed;
    [ok, removed] = client.clear_sync(NONE, null);
    check(ok && removed === rows.length, `clear_sync removed ${removed}`);
    checkEqual(client.get_local_data_sync(NONE, null).length, 0, 'nothing left');
    recorder.add_count(CRASH_COUNT_ID, 1, null);
    check(recorder.flush_sync(null), 'flush after clear');
    [ok, removed] = runAsync(cb => client.clear_async(ALL, null, cb),
        r => client.clear_finish(r));
    check(ok && removed === 1, "clear_async of everybody's data");

    // saying no, asynchronously; the recorder drops in-process again
    check(runAsync(cb => client.set_consent_async(Metrics.Consent.DENIED, NONE, null, cb),
        r => client.set_consent_finish(r)), 'set_consent_async denied');
    iterateUntil(() => recorder.get_consent() === Metrics.Consent.DENIED, 'the denial');
    const dropped = recorder.get_n_dropped();
    recorder.record(APP_OPENED_ID, new GLib.Variant('s', DESKTOP_ID));
    check(recorder.flush_sync(null), 'flush after no');
    checkEqual(recorder.get_n_dropped(), dropped + 1, 'dropped after no');
    checkEqual(client.query_status_sync(ALL, null).stored_keys, 0, 'nothing stored after no');
    checkError(() => client.set_consent_sync(Metrics.Consent.UNKNOWN, NONE, null),
        Metrics.Error.INVALID_DATA, 'consent unknown is not a choice');
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    try {
        client.query_status_sync(NONE, cancellable);
        throw new Error('check failed: a cancelled call succeeded');
    } catch (error) {
        check(error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), `${error}`);
    }
}

function checkNoBus() {
    // DBUS_SYSTEM_BUS_ADDRESS names a socket nobody listens on
    const client = new Metrics.Client();
    const error = checkError(() => client.query_status_sync(NONE, null),
        Metrics.Error.NOT_RUNNING, 'no system bus');
    check(error.message.includes('system bus'), error.message);
    checkError(() => client.list_metrics_sync(null), Metrics.Error.NOT_RUNNING,
        'no system bus for the allowlist');
    const recorder = Metrics.Recorder.get_default();
    recorder.record(APP_OPENED_ID, new GLib.Variant('s', DESKTOP_ID));
    recorder.add_count(CRASH_COUNT_ID, 2, null);
    // recording never fails: the events are dropped, and counted
    check(recorder.flush_sync(null), 'flush without a bus');
    checkEqual(recorder.get_n_dropped(), 2, 'dropped without a bus');
    checkEqual(recorder.get_n_accepted() + recorder.get_n_rejected(), 0, 'nothing sent');
}

checkCommon();
if (ARGV.length === 1 && ARGV[0] === 'no-bus')
    checkNoBus();
else
    checkRecorderAndClient();
print('api.js: ok');
System.exit(0);
