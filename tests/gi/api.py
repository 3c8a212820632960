#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Every public call of libmetrics from Python (PyGObject), against the real
# daemon on the private bus of tests/test_gi.py, which starts it with consent
# never asked and the polkit mock allowing every action. tests/gi/api.js
# does the same from GJS. Exits non-zero at the first check that fails.
#
#   api.py          the whole API, in order
#   api.py no-bus   what the library does without any system bus

import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("Metrics", "1")
from gi.repository import Gio, GLib, Metrics  # noqa: E402

APP_OPENED_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001"
CRASH_COUNT_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c002"
SESSION_TIME_ID = "8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c003"
# a well-formed id that no allowlist has
UNKNOWN_ID = "00000000-0000-4000-8000-00000000dead"
DESKTOP_ID = "org.gnome.TextEditor.desktop"
TIMEOUT_S = 30


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def check_equal(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: {actual!r} != {expected!r}")


def check_error(call, code, what):
    try:
        call()
    except GLib.Error as error:
        check(error.matches(Metrics.error_quark(), code),
              f"{what}: {error.domain} {error.code} {error.message}")
        return error
    raise AssertionError(f"{what}: no error")


def iterate_until(predicate, what):
    # consent changes arrive as signals in the default main context
    context = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + TIMEOUT_S * 1000000
    while not predicate():
        check(GLib.get_monotonic_time() < deadline, f"timed out waiting for {what}")
        source = GLib.timeout_source_new(100)
        source.set_callback(lambda *args: GLib.SOURCE_REMOVE)
        source.attach(context)
        context.iteration(True)
        source.destroy()


def run_async(start, finish):
    # start(callback) begins the call; returns what finish(result) returns
    loop = GLib.MainLoop()
    outcome = {}

    def done(source, result, *user_data):
        try:
            outcome["value"] = finish(result)
        except GLib.Error as error:
            outcome["error"] = error
        loop.quit()

    start(done)
    GLib.timeout_add_seconds(TIMEOUT_S, loop.quit)
    loop.run()
    if "error" in outcome:
        raise outcome["error"]
    check("value" in outcome, "an asynchronous call never finished")
    return outcome["value"]


def check_common():
    check_equal(Metrics.Consent.to_string(Metrics.Consent.GRANTED), "granted", "to_string")
    ok, consent = Metrics.Consent.from_string("denied")
    check(ok and consent == Metrics.Consent.DENIED, "from_string denied")
    ok, _ = Metrics.Consent.from_string("maybe")
    check(not ok, "from_string accepts maybe")
    check_equal(Metrics.EventKind.to_string(Metrics.EventKind.DURATION), "duration",
                "event kind")
    check(Metrics.event_id_is_valid(APP_OPENED_ID), "a valid id")
    check(not Metrics.event_id_is_valid("not-a-uuid"), "an invalid id")
    check_equal(GLib.quark_to_string(Metrics.error_quark()), "metrics-error-quark",
                "the error domain")

    row = GLib.Variant("(ussuavtt)", (1000, APP_OPENED_ID, "2026-11-30", 0,
                                      [GLib.Variant("s", DESKTOP_ID)], 3, 0))
    aggregate = Metrics.Aggregate.deserialize(row)
    check_equal(aggregate.get_uid(), 1000, "aggregate uid")
    check_equal(aggregate.get_event_id(), APP_OPENED_ID, "aggregate id")
    check_equal(aggregate.get_week(), "2026-11-30", "aggregate week")
    check_equal(aggregate.get_kind(), Metrics.EventKind.VALUE, "aggregate kind")
    check_equal(aggregate.get_payload().unpack(), DESKTOP_ID, "aggregate payload")
    check_equal(aggregate.get_count(), 3, "aggregate count")
    check_equal(aggregate.get_duration(), 0, "aggregate duration")
    # an attacker's row: the wrong shape is an error, not a crash
    bad = GLib.Variant("(ussuavtt)", (1, "not-a-uuid", "x", 7, [], 0, 0))
    check_error(lambda: Metrics.Aggregate.deserialize(bad), Metrics.Error.INVALID_DATA,
                "a malformed aggregate")


def record_all(recorder, tag):
    # every way of recording; returns how many events the daemon must keep
    timer = recorder.start_timer(SESSION_TIME_ID, None)
    recorder.record(APP_OPENED_ID, GLib.Variant("s", DESKTOP_ID))
    recorder.add(CRASH_COUNT_ID, None, 1)
    # the count before the payload, which can be left out
    recorder.add_count(CRASH_COUNT_ID, 2)
    recorder.add_count(CRASH_COUNT_ID, 3, None)
    recorder.record_duration(SESSION_TIME_ID, None, GLib.get_real_time() - 5000000, 5000000)
    cancelled = recorder.start_timer(SESSION_TIME_ID, None)
    cancelled.cancel()
    cancelled.stop()  # after cancel: records nothing
    timer.stop()
    timer.stop()  # a second stop records nothing
    return 6


def check_recorder_and_client():
    client = Metrics.Client.new(None)
    check(client.get_connection() is None, "a client made with None has no connection yet")

    # never asked: the recorder drops in-process, and says so
    recorder = Metrics.Recorder.get_default()
    check(recorder is Metrics.Recorder.get_default(), "one default recorder")
    recorder.record(APP_OPENED_ID, GLib.Variant("s", DESKTOP_ID))
    check(recorder.flush_sync(None), "flush without consent succeeds")
    check_equal(recorder.get_n_dropped(), 1, "dropped without consent")
    check_equal(recorder.get_n_accepted(), 0, "accepted without consent")
    check_equal(recorder.get_consent(), Metrics.Consent.UNKNOWN, "consent never asked")

    status = client.query_status_sync(Metrics.ClientFlags.NONE, None)
    check(isinstance(status, Metrics.Status), "query_status returns a Metrics.Status")
    check(client.get_connection() is not None, "the client connected to the system bus")
    check(client.props.connection is client.get_connection(), "the connection property")
    check_equal(status.props.consent, Metrics.Consent.UNKNOWN, "status consent")
    check_equal(status.props.consent_timestamp, 0, "never changed")
    check_equal(status.props.all_users, False, "own figures")
    check_equal(status.props.stored_keys, 0, "nothing stored")

    # consent: polkit (mocked) allows it; the recorder follows the change live
    notified = []
    recorder.connect("notify::consent", lambda *args: notified.append(recorder.props.consent))
    check(client.set_consent_sync(Metrics.Consent.GRANTED, Metrics.ClientFlags.NONE, None),
          "set_consent granted")
    iterate_until(lambda: recorder.get_consent() == Metrics.Consent.GRANTED,
                  "the recorder to see consent")
    iterate_until(lambda: Metrics.Consent.GRANTED in notified, "notify::consent")

    expected = record_all(recorder, "sync")
    # what the daemon refuses: an id it does not know, a payload of the wrong type
    recorder.record(UNKNOWN_ID, None)
    recorder.record(APP_OPENED_ID, GLib.Variant("u", 7))
    # what the library refuses before the bus
    recorder.record("not-a-uuid", None)
    recorder.add_count(CRASH_COUNT_ID, 0)
    check(recorder.flush_sync(None), "flush_sync")
    check_equal(recorder.get_n_accepted(), expected, "accepted by the daemon")
    check_equal(recorder.get_n_rejected(), 2, "refused by the daemon")
    check_equal(recorder.get_n_dropped(), 1 + 2, "dropped in-process")

    # the asynchronous flush, on a recorder of its own on the same bus
    other = Metrics.Recorder.new(client.get_connection())
    check(other.props.connection is client.get_connection(), "the recorder's connection")
    other.record(APP_OPENED_ID, GLib.Variant("s", DESKTOP_ID))
    check(run_async(lambda cb: other.flush_async(None, cb), other.flush_finish), "flush_async")
    check_equal(other.get_n_accepted(), 1, "accepted through flush_async")
    check_equal(other.get_consent(), Metrics.Consent.GRANTED, "the second recorder's consent")
    # Recorder.new(None) means the system bus, like Client.new(None)
    system = Metrics.Recorder.new(None)
    system.add_count(CRASH_COUNT_ID, 4)
    check(system.flush_sync(None), "flush of Recorder.new(None)")
    check_equal(system.get_n_accepted(), 1, "accepted from Recorder.new(None)")

    # what is stored, typed
    rows = client.get_local_data_sync(Metrics.ClientFlags.NONE, None)
    by_id = {row.get_event_id(): row for row in rows}
    check_equal(sorted(by_id), sorted([APP_OPENED_ID, CRASH_COUNT_ID, SESSION_TIME_ID]),
                "stored metrics")
    check_equal(by_id[APP_OPENED_ID].get_count(), 2, "values stored")
    check_equal(by_id[APP_OPENED_ID].get_payload().unpack(), DESKTOP_ID, "value payload")
    check_equal(by_id[CRASH_COUNT_ID].get_count(), 1 + 2 + 3 + 4, "counter stored")
    check_equal(by_id[CRASH_COUNT_ID].get_kind(), Metrics.EventKind.COUNTER, "counter kind")
    check(by_id[SESSION_TIME_ID].get_duration() >= 5000000, "durations stored")
    rows_async = run_async(
        lambda cb: client.get_local_data_async(Metrics.ClientFlags.NONE, None, cb),
        client.get_local_data_finish)
    check_equal(len(rows_async), len(rows), "get_local_data_async")
    all_rows = client.get_local_data_sync(Metrics.ClientFlags.ALL_USERS, None)
    check_equal(len(all_rows), len(rows), "every user's data")

    # status, typed, in both forms
    status = client.query_status_sync(Metrics.ClientFlags.NONE, None)
    check_equal(status.props.consent, Metrics.Consent.GRANTED, "status consent granted")
    check(status.props.consent_timestamp > 0, "consent timestamp")
    check_equal(status.props.stored_keys, len(rows), "stored keys")
    check_equal(status.props.stored_events, sum(r.get_count() for r in rows), "stored events")
    check(status.props.stored_weeks >= 1, "stored weeks")
    check(status.props.store_max_bytes > 0, "store cap")
    check_equal(status.props.accepted, expected + 2, "accepted, own")
    check(status.props.allowlisted_metrics >= 3, "allowlisted metrics")
    check(status.props.server_url.startswith("http"), "server url")
    check(status.props.next_week_close > 0, "next week close")
    check(status.props.upload_window_days > 0, "upload window")
    check_equal(status.props.stored_bytes, 0, "store size is not for unprivileged eyes")
    check_equal(len(status.get_drops()), 0, "drops are not counted per user")
    check_equal(len(status.get_drops_by_metric()), 0, "drops by metric need all")
    check(status.get_variant().lookup_value("stored-keys", None) is not None, "raw dict")
    full = run_async(
        lambda cb: client.query_status_async(Metrics.ClientFlags.ALL_USERS, None, cb),
        client.query_status_finish)
    check(full.props.all_users, "everybody's figures")
    check(full.props.stored_bytes > 0, "store size")
    check(full.props.store_used_bytes > 0, "store used bytes")
    check(full.props.clients >= 1, "clients")
    drops = {d.props.reason: d.props.count for d in full.get_drops()}
    check(all(d.props.metric_id is None for d in full.get_drops()), "drops have no metric")
    check(drops.get("not-allowlisted", 0) >= 1, f"the unknown id dropped: {drops}")
    check(drops.get("wrong-type", 0) >= 1, f"the wrong type dropped: {drops}")
    by_metric = {(d.props.reason, d.props.metric_id): d.props.count
                 for d in full.get_drops_by_metric()}
    check(by_metric.get(("not-allowlisted", UNKNOWN_ID), 0) >= 1,
          f"drops by metric: {by_metric}")
    # the untyped forms stay
    raw = client.get_status_sync(None)
    check_equal(raw.unpack()["stored-keys"], len(rows), "get_status_sync")
    raw = client.get_status_full_sync(Metrics.ClientFlags.ALL_USERS, None)
    check(raw.unpack()["all-users"], "get_status_full_sync")
    raw = run_async(lambda cb: client.get_status_async(None, cb), client.get_status_finish)
    check_equal(raw.unpack()["consent"], "granted", "get_status_async")
    raw = run_async(
        lambda cb: client.get_status_full_async(Metrics.ClientFlags.NONE, None, cb),
        client.get_status_full_finish)
    check(not raw.unpack()["all-users"], "get_status_full_async")

    # the allowlist, typed
    metrics = client.list_metrics_sync(None)
    check(all(isinstance(m, Metrics.AllowlistEntry) for m in metrics), "allowlist entries")
    entries = {m.props.id: m for m in metrics}
    opened = entries[APP_OPENED_ID]
    check_equal(opened.props.name, "app-opened", "entry name")
    check_equal(opened.props.kind, Metrics.EventKind.VALUE, "entry kind")
    check_equal(opened.props.payload, "s", "entry payload type")
    check_equal(opened.props.category, "usage", "entry category")
    check(opened.props.description, "entry description")
    check(opened.props.purpose, "entry purpose")
    check(opened.props.owner, "entry owner")
    check_equal(opened.props.values_from, "test-values", "entry value set")
    check(opened.props.n_values > 0, "entry n-values")
    check(opened.props.other in ("drop", "map"), "entry other")
    check("user:root" in opened.props.recorders, "entry recorders")
    check_equal(opened.props.added, "2026-11-01", "entry added")
    check_equal(opened.props.expires, "2027-10-31", "entry expires")
    check(not opened.props.expired, "entry not expired")
    check_equal(opened.props.sample_rate, 1.0, "entry sample rate")
    check(opened.props.sampled, "entry sampled")
    check(opened.props.weekly_cap > 0, "entry weekly cap")
    check(opened.props.file.endswith(".json"), "entry file")
    check_equal(entries[CRASH_COUNT_ID].props.kind, Metrics.EventKind.COUNTER, "counter entry")
    check_equal(entries[CRASH_COUNT_ID].props.payload, "", "no payload type")
    check(entries[CRASH_COUNT_ID].props.values_from is None, "no value set")
    check_equal(opened.get_variant().unpack()["name"], "app-opened", "entry raw dict")
    names = [m.props.name for m in metrics]
    check_equal(names, sorted(names), "sorted by name")
    metrics_async = run_async(lambda cb: client.list_metrics_async(None, cb),
                              client.list_metrics_finish)
    check_equal(len(metrics_async), len(metrics), "list_metrics_async")
    check_equal(len(client.get_allowlist_sync(None).unpack()), len(metrics), "get_allowlist_sync")
    raw = run_async(lambda cb: client.get_allowlist_async(None, cb), client.get_allowlist_finish)
    check_equal(len(raw.unpack()), len(metrics), "get_allowlist_async")

    # the uploads, typed: this week's data is what the open week would send
    pending = client.list_pending_uploads_sync(Metrics.ClientFlags.NONE, None)
    check(len(pending) >= 1, "pending uploads")
    upload = pending[0]
    check(isinstance(upload, Metrics.Upload), "a Metrics.Upload")
    check_equal(upload.props.state, "next", "a week not yet closed")
    check(upload.props.due > 0, "due")
    check(len(upload.props.week) == 10, "week")
    check(upload.props.metric, "metric")
    check_equal(upload.props.sent, 0, "a pending request was not sent")
    check(upload.props.checksum is None, "a pending request has no checksum")
    events = [e for u in pending for e in u.get_events()]
    check(all(isinstance(e, Metrics.UploadEvent) for e in events), "upload events")
    counts = sorted(e.props.count for e in events)
    check_equal(sum(counts), status.props.stored_events, "what would be sent sums up the store")
    payloads = [e.props.payload for e in events if e.props.payload is not None]
    # the value's payload, and the durations' summed time
    check(DESKTOP_ID in [p.unpack() for p in payloads], f"the payloads to be sent: {payloads}")
    check(all(e.props.period_start == upload.props.week for e in upload.get_events()),
          "period start")
    check(all(e.props.os_version is not None for e in events), "os version")
    check(all(e.props.event_id not in (APP_OPENED_ID, CRASH_COUNT_ID, SESSION_TIME_ID)
              for e in events), "the weekly id is not the allowlist id")
    check_equal(upload.get_variant().unpack()["state"], "next", "upload raw dict")
    pending_async = run_async(
        lambda cb: client.list_pending_uploads_async(Metrics.ClientFlags.NONE, None, cb),
        client.list_pending_uploads_finish)
    check_equal(len(pending_async), len(pending), "list_pending_uploads_async")
    raw = client.get_pending_uploads_sync(Metrics.ClientFlags.NONE, None)
    check_equal(len(raw.unpack()), len(pending), "get_pending_uploads_sync")
    raw = run_async(
        lambda cb: client.get_pending_uploads_async(Metrics.ClientFlags.NONE, None, cb),
        client.get_pending_uploads_finish)
    check_equal(len(raw.unpack()), len(pending), "get_pending_uploads_async")
    # nothing was sent: no week is closed
    check_equal(len(client.list_sent_uploads_sync(Metrics.ClientFlags.NONE, None)), 0,
                "list_sent_uploads_sync")
    sent_async = run_async(
        lambda cb: client.list_sent_uploads_async(Metrics.ClientFlags.NONE, None, cb),
        client.list_sent_uploads_finish)
    check_equal(len(sent_async), 0, "list_sent_uploads_async")
    check_equal(len(client.get_sent_uploads_sync(Metrics.ClientFlags.NONE, None).unpack()), 0,
                "get_sent_uploads_sync")
    raw = run_async(
        lambda cb: client.get_sent_uploads_async(Metrics.ClientFlags.NONE, None, cb),
        client.get_sent_uploads_finish)
    check_equal(len(raw.unpack()), 0, "get_sent_uploads_async")
    # no week is closed, so nothing is due: nothing is sent, nothing fails
    ok, sent, failed = client.upload_now_sync(Metrics.ClientFlags.NONE, None)
    check(ok and sent == 0 and failed == 0, f"upload_now_sync: {sent} sent, {failed} failed")
    ok, sent, failed = run_async(
        lambda cb: client.upload_now_async(Metrics.ClientFlags.NONE, None, cb),
        client.upload_now_finish)
    check(ok and sent == 0 and failed == 0, "upload_now_async")

    # deleting one's own data, in both forms
    ok, removed = client.clear_sync(Metrics.ClientFlags.NONE, None)
    check(ok and removed == len(rows), f"clear_sync removed {removed}")
    check_equal(len(client.get_local_data_sync(Metrics.ClientFlags.NONE, None)), 0,
                "nothing left")
    recorder.add_count(CRASH_COUNT_ID, 1)
    check(recorder.flush_sync(None), "flush after clear")
    ok, removed = run_async(
        lambda cb: client.clear_async(Metrics.ClientFlags.ALL_USERS, None, cb),
        client.clear_finish)
    check(ok and removed == 1, "clear_async of everybody's data")

    # saying no, asynchronously; the recorder drops in-process again
    check(run_async(lambda cb: client.set_consent_async(
        Metrics.Consent.DENIED, Metrics.ClientFlags.NONE, None, cb),
        client.set_consent_finish), "set_consent_async denied")
    iterate_until(lambda: recorder.get_consent() == Metrics.Consent.DENIED,
                  "the recorder to see the denial")
    dropped = recorder.get_n_dropped()
    recorder.record(APP_OPENED_ID, GLib.Variant("s", DESKTOP_ID))
    check(recorder.flush_sync(None), "flush after no")
    check_equal(recorder.get_n_dropped(), dropped + 1, "dropped after no")
    check_equal(client.query_status_sync(Metrics.ClientFlags.ALL_USERS, None).props.stored_keys,
                0, "nothing stored after no")
    # consent is a privileged call: an invalid value is refused, not a crash
    check_error(lambda: client.set_consent_sync(Metrics.Consent.UNKNOWN,
                                                Metrics.ClientFlags.NONE, None),
                Metrics.Error.INVALID_DATA, "consent unknown is not a choice")
    # a cancelled call reports the cancellation
    cancellable = Gio.Cancellable()
    cancellable.cancel()
    try:
        client.query_status_sync(Metrics.ClientFlags.NONE, cancellable)
        raise AssertionError("a cancelled call succeeded")
    except GLib.Error as error:
        check(error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), error.message)


def check_no_bus():
    # DBUS_SYSTEM_BUS_ADDRESS names a socket nobody listens on
    client = Metrics.Client()
    error = check_error(lambda: client.query_status_sync(Metrics.ClientFlags.NONE, None),
                        Metrics.Error.NOT_RUNNING, "no system bus")
    check("system bus" in error.message, error.message)
    check_error(lambda: client.list_metrics_sync(None), Metrics.Error.NOT_RUNNING,
                "no system bus for the allowlist")
    recorder = Metrics.Recorder.get_default()
    recorder.record(APP_OPENED_ID, GLib.Variant("s", DESKTOP_ID))
    recorder.add_count(CRASH_COUNT_ID, 2)
    # recording never fails: the events are dropped, and counted
    check(recorder.flush_sync(None), "flush without a bus")
    check_equal(recorder.get_n_dropped(), 2, "dropped without a bus")
    check_equal(recorder.get_n_accepted() + recorder.get_n_rejected(), 0, "nothing sent")


def main():
    check_common()
    if sys.argv[1:] == ["no-bus"]:
        check_no_bus()
    else:
        check_recorder_and_client()
    print("api.py: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
