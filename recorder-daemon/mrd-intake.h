/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <gio/gio.h>

#include "mrd-drops.h"

G_BEGIN_DECLS

/* what one client may send before its messages are dropped unread (in
 * GDBus's I/O thread, before they are queued for the main loop): messages
 * per second, at least this many or twice --max-client-calls; bursts of
 * two seconds' worth */
#define MRD_INTAKE_MIN_MESSAGE_RATE 1000
/* bytes charged per second (see below), bursts of two seconds' worth */
#define MRD_INTAKE_BYTE_RATE (4 * 1024 * 1024)
/* what one client may have admitted and not yet answered */
#define MRD_INTAKE_CLIENT_MAX_MESSAGES 512
#define MRD_INTAKE_CLIENT_MAX_BYTES (4 * 1024 * 1024)
/* what all clients together may have admitted and not yet answered (the
 * messages bound the main loop's queue, so the wait of a polite client);
 * a client with nothing in flight may also use a reserve, so that a flood
 * of many clients does not shut a polite one out */
#define MRD_INTAKE_MAX_MESSAGES 512
#define MRD_INTAKE_MAX_BYTES (8 * 1024 * 1024)
#define MRD_INTAKE_RESERVE_MESSAGES 256
#define MRD_INTAKE_RESERVE_BYTES (4 * 1024 * 1024)
/* what a message is charged: its body twice (measured: GDBus's copy, and
 * what the handler makes of it) and this much for the message, its
 * headers, the invocation and the main loop's source */
#define MRD_INTAKE_MESSAGE_OVERHEAD 2048

/* the filter on the daemon's bus connection that keeps what any number of
 * clients send from growing the daemon's memory: per-client rates of
 * messages and bytes, and caps on what is admitted and not yet answered,
 * per client and in all */
#define MRD_TYPE_INTAKE (mrd_intake_get_type())
G_DECLARE_FINAL_TYPE(MrdIntake, mrd_intake, MRD, INTAKE, GObject)

MrdIntake *
mrd_intake_new(GDBusConnection *connection, MrdDrops *drops);
void
mrd_intake_set_call_rate_limit(MrdIntake *self, guint calls_per_second);

G_END_DECLS
