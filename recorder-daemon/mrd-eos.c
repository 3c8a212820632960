/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MrdEos"

#include "config.h"

#include <glib/gi18n.h>

#include "metrics-error.h"
#include "mrd-authority.h"
#include "mrd-eos.h"
#include "mrd-event.h"

/*
 * The com.endlessm.Metrics.EventRecorderServer object, for clients of the
 * Endless metrics library (docs/eos-compat.md). Each handler checks the
 * shape of its arguments, maps the eos event onto an event of this
 * project's model, and hands it to the engine's one record path
 * (mrd_engine_record_batch_async), which identifies the caller from the
 * bus and applies the gate, the limits, consent, aggregation by week and
 * the store. What the mapping leaves out never goes further: the client's
 * user_id and timestamps, and anything of eos's tracking id or channel.
 *
 *   singular  → one value event (or +1 of a counter metric)
 *   aggregate → a counter increment of count (count ≥ 1)
 *   sequence  → one duration, first to last element, payload of the first
 */

struct _MrdEos {
	MrdEosDBusEventRecorderServerSkeleton parent_instance;

	MrdEngine *engine;	   /* (owned) */
	MrdAdmission *admission;   /* (owned) */
	MrdClock *clock;	   /* (owned) */
	GCancellable *cancellable; /* (owned) */
};

static void
mrd_eos_iface_init(MrdEosDBusEventRecorderServerIface *iface);

G_DEFINE_TYPE_WITH_CODE(MrdEos,
			mrd_eos,
			MRD_EOS_DBUS_TYPE_EVENT_RECORDER_SERVER_SKELETON,
			G_IMPLEMENT_INTERFACE(MRD_EOS_DBUS_TYPE_EVENT_RECORDER_SERVER,
					      mrd_eos_iface_init))

static void
publish_enabled(MrdEos *self)
{
	mrd_eos_dbus_event_recorder_server_set_enabled(MRD_EOS_DBUS_EVENT_RECORDER_SERVER(self),
						       mrd_engine_get_consent(self->engine) ==
							       METRICS_CONSENT_GRANTED);
}

/* a call that cannot be mapped at all: refused and counted as a call, like
 * a malformed RecordEvents batch */
static void
refuse(MrdEos *self, GDBusMethodInvocation *invocation, const GError *error)
{
	mrd_drops_count(mrd_engine_get_drops(self->engine), MRD_DROP_MALFORMED_CALLS, 1);
	mrd_admission_return_error(self->admission, invocation, error);
}

/* an event the model has no place for: dropped and counted, and the call
 * still succeeds, as eos clients expect */
static void
drop_unmapped(MrdEos *self, GDBusMethodInvocation *invocation)
{
	mrd_drops_count(mrd_engine_get_drops(self->engine), MRD_DROP_EOS_UNMAPPED, 1);
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static gboolean
read_event_id(GVariant *event_id, guint8 id[METRICS_UUID_SIZE], GError **error)
{
	gsize n = 0;
	const guint8 *bytes = g_variant_get_fixed_array(event_id, &n, 1);

	if (n != METRICS_UUID_SIZE) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %u is a number of bytes */
			    _("The event id has %u bytes; send the event type’s UUID as exactly "
			      "16 bytes"),
			    (guint)MIN(n, G_MAXUINT));
		return FALSE;
	}
	memcpy(id, bytes, METRICS_UUID_SIZE);
	return TRUE;
}

/* the value inside @payload (a "v"), in normal form, or NULL without
 * @has_payload; FALSE when it is larger than a payload may be */
static gboolean
read_payload(gboolean has_payload, GVariant *payload, GVariant **value, GError **error)
{
	g_autoptr(GVariant) inner = NULL;

	*value = NULL;
	if (!has_payload)
		return TRUE;
	/* GDBus hands a "v" argument over boxed */
	if (g_variant_is_of_type(payload, G_VARIANT_TYPE_VARIANT))
		inner = g_variant_get_variant(payload);
	else
		inner = g_variant_ref(payload);
	if (g_variant_get_size(inner) > METRICS_MAX_PAYLOAD_SIZE) {
		g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
			    /* TRANSLATORS: %u are numbers of bytes */
			    _("The payload has %u bytes; a payload may have at most %u"),
			    (guint)MIN(g_variant_get_size(inner), G_MAXUINT),
			    (guint)METRICS_MAX_PAYLOAD_SIZE);
		return FALSE;
	}
	*value = g_variant_get_normal_form(inner);
	return TRUE;
}

/* ---- recording ---- */

typedef struct {
	MrdEos *self; /* (owned) */
	GDBusMethodInvocation *invocation;
} RecordData;

static void
record_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	RecordData *data = user_data;
	MrdEos *self = data->self;
	g_autoptr(GError) error = NULL;

	/* what the gate dropped is counted there; only a failure to
	 * identify the caller or to write the store is an error */
	if (mrd_engine_record_batch_finish(self->engine, result, NULL, NULL, &error))
		g_dbus_method_invocation_return_value(data->invocation, NULL);
	else
		mrd_admission_return_error(self->admission, data->invocation, error);
	g_object_unref(data->self);
	g_free(data);
}

/* takes @payload; the event is handed over to the engine's record path */
static void
record_one(MrdEos *self,
	   GDBusMethodInvocation *invocation,
	   const guint8 id[METRICS_UUID_SIZE],
	   MetricsEventKind kind,
	   gint64 time,
	   gint64 amount,
	   GVariant *payload)
{
	GArray *batch = mrd_event_batch_new(1);
	MrdEvent event = {0};
	RecordData *data;

	memcpy(event.id, id, METRICS_UUID_SIZE);
	event.kind = kind;
	event.time = time;
	event.amount = amount;
	event.payload = payload;
	g_array_append_val(batch, event);
	data = g_new0(RecordData, 1);
	data->self = g_object_ref(self);
	data->invocation = invocation;
	mrd_engine_record_batch_async(self->engine, g_dbus_method_invocation_get_sender(invocation),
				      batch, self->cancellable, record_done_cb, data);
}

static gboolean
mrd_eos_handle_record_singular_event(MrdEosDBusEventRecorderServer *object,
				     GDBusMethodInvocation *invocation,
				     guint user_id,
				     GVariant *event_id,
				     gint64 relative_timestamp,
				     gboolean has_payload,
				     GVariant *payload)
{
	MrdEos *self = MRD_EOS(object);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) value = NULL;
	guint8 id[METRICS_UUID_SIZE];
	const MrdMetric *metric;
	MetricsEventKind kind = METRICS_EVENT_KIND_VALUE;

	if (!read_event_id(event_id, id, &error) ||
	    !read_payload(has_payload, payload, &value, &error)) {
		refuse(self, invocation, error);
		return TRUE;
	}
	/* one occurrence: of a value, or one more of a counter; any other
	 * kind the gate drops as wrong-kind */
	metric = mrd_allowlist_lookup(mrd_engine_get_allowlist(self->engine), id);
	if (metric != NULL && metric->kind == METRICS_EVENT_KIND_COUNTER)
		kind = METRICS_EVENT_KIND_COUNTER;
	record_one(self, invocation, id, kind, mrd_clock_get_real_time(self->clock), 1,
		   g_steal_pointer(&value));
	return TRUE;
}

static gboolean
mrd_eos_handle_record_aggregate_event(MrdEosDBusEventRecorderServer *object,
				      GDBusMethodInvocation *invocation,
				      guint user_id,
				      GVariant *event_id,
				      gint64 count,
				      gint64 relative_timestamp,
				      gboolean has_payload,
				      GVariant *payload)
{
	MrdEos *self = MRD_EOS(object);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) value = NULL;
	guint8 id[METRICS_UUID_SIZE];

	if (!read_event_id(event_id, id, &error) ||
	    !read_payload(has_payload, payload, &value, &error)) {
		refuse(self, invocation, error);
		return TRUE;
	}
	/* a counter only goes up here: eos's negative counts have no
	 * equivalent */
	if (count <= 0) {
		drop_unmapped(self, invocation);
		return TRUE;
	}
	record_one(self, invocation, id, METRICS_EVENT_KIND_COUNTER,
		   mrd_clock_get_real_time(self->clock), count, g_steal_pointer(&value));
	return TRUE;
}

static gboolean
mrd_eos_handle_record_event_sequence(MrdEosDBusEventRecorderServer *object,
				     GDBusMethodInvocation *invocation,
				     guint user_id,
				     GVariant *event_id,
				     GVariant *events)
{
	MrdEos *self = MRD_EOS(object);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) first_value = NULL;
	guint8 id[METRICS_UUID_SIZE];
	gsize n = g_variant_n_children(events);
	gint64 first = 0, last = 0;
	gboolean in_order = TRUE;
	guint64 usec;

	if (!read_event_id(event_id, id, &error)) {
		refuse(self, invocation, error);
		return TRUE;
	}
	if (n > METRICS_MAX_BATCH) {
		g_set_error(&error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
			    /* TRANSLATORS: %u are numbers of elements */
			    _("The sequence has %u elements; send at most %u"),
			    (guint)MIN(n, G_MAXUINT), (guint)METRICS_MAX_BATCH);
		refuse(self, invocation, error);
		return TRUE;
	}
	/* every element is checked, though only the first payload is kept */
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) element = g_variant_get_child_value(events, i);
		g_autoptr(GVariant) payload = NULL;
		g_autoptr(GVariant) value = NULL;
		gint64 timestamp;
		gboolean has_payload;

		g_variant_get(element, "(xb@v)", &timestamp, &has_payload, &payload);
		if (!read_payload(has_payload, payload, &value, &error)) {
			refuse(self, invocation, error);
			return TRUE;
		}
		if (i == 0) {
			first = timestamp;
			first_value = g_steal_pointer(&value);
		} else if (timestamp < last) {
			in_order = FALSE;
		}
		last = timestamp;
	}
	/* the span in µs, computed without overflow: nanoseconds of one
	 * clock, last minus first */
	usec = in_order && n >= 2 ? ((guint64)last - (guint64)first) / 1000 : 0;
	if (usec < 1 || usec > MRD_MAX_DURATION_USEC) {
		drop_unmapped(self, invocation);
		return TRUE;
	}
	/* it ended now, as far as the daemon knows */
	record_one(self, invocation, id, METRICS_EVENT_KIND_DURATION,
		   mrd_clock_get_real_time(self->clock) - (gint64)usec, (gint64)usec,
		   g_steal_pointer(&first_value));
	return TRUE;
}

/* ---- consent ---- */

typedef struct {
	MrdEos *self; /* (owned) */
	GDBusMethodInvocation *invocation;
	gboolean enabled;
} SetEnabledData;

static void
set_enabled_authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	SetEnabledData *data = user_data;
	MrdEos *self = data->self;
	g_autoptr(GError) error = NULL;
	MetricsConsent consent = data->enabled ? METRICS_CONSENT_GRANTED : METRICS_CONSENT_DENIED;

	/* Enabled follows through the engine's consent-changed */
	if (mrd_admission_authorize_finish(MRD_ADMISSION(source), result, &error) &&
	    mrd_engine_set_consent(self->engine, consent, &error))
		mrd_eos_dbus_event_recorder_server_complete_set_enabled(
			MRD_EOS_DBUS_EVENT_RECORDER_SERVER(self), data->invocation);
	else
		mrd_admission_return_error(self->admission, data->invocation, error);
	g_object_unref(data->self);
	g_free(data);
}

static gboolean
mrd_eos_handle_set_enabled(MrdEosDBusEventRecorderServer *object,
			   GDBusMethodInvocation *invocation,
			   gboolean enabled)
{
	MrdEos *self = MRD_EOS(object);
	SetEnabledData *data = g_new0(SetEnabledData, 1);

	data->self = g_object_ref(self);
	data->invocation = invocation;
	data->enabled = enabled;
	/* the same action as SetConsent: one rule for both interfaces */
	mrd_admission_authorize_async(self->admission, invocation, MRD_ACTION_SET_CONSENT,
				      self->cancellable, set_enabled_authorized_cb, data);
	return TRUE;
}

/* ---- uploads ---- */

static gboolean
mrd_eos_handle_upload_events(MrdEosDBusEventRecorderServer *object,
			     GDBusMethodInvocation *invocation)
{
	/* uploads leave at random times after each week closes, so that they
	 * cannot be linked to when events were recorded: nothing to do */
	mrd_eos_dbus_event_recorder_server_complete_upload_events(object, invocation);
	return TRUE;
}

/* ---- life cycle ---- */

static void
mrd_eos_iface_init(MrdEosDBusEventRecorderServerIface *iface)
{
	iface->handle_set_enabled = mrd_eos_handle_set_enabled;
	iface->handle_record_singular_event = mrd_eos_handle_record_singular_event;
	iface->handle_record_aggregate_event = mrd_eos_handle_record_aggregate_event;
	iface->handle_record_event_sequence = mrd_eos_handle_record_event_sequence;
	iface->handle_upload_events = mrd_eos_handle_upload_events;
}

/**
 * mrd_eos_new:
 * @engine: the engine every event goes to
 * @admission: what admits calls (rates, polkit) and answers refusals
 * @clock: the daemon's clock, which dates mapped events
 *
 * Returns: (transfer full): the eos interface, not yet exported
 */
MrdEos *
mrd_eos_new(MrdEngine *engine, MrdAdmission *admission, MrdClock *clock)
{
	MrdEos *self;

	g_return_val_if_fail(MRD_IS_ENGINE(engine), NULL);
	g_return_val_if_fail(MRD_IS_ADMISSION(admission), NULL);
	g_return_val_if_fail(MRD_IS_CLOCK(clock), NULL);

	self = g_object_new(MRD_TYPE_EOS, NULL);
	self->engine = g_object_ref(engine);
	self->admission = g_object_ref(admission);
	self->clock = g_object_ref(clock);
	mrd_admission_guard_calls(admission, self, MRD_EOS_DBUS_TYPE_EVENT_RECORDER_SERVER);
	g_signal_connect_object(engine, "consent-changed", G_CALLBACK(publish_enabled), self,
				G_CONNECT_SWAPPED);
	return self;
}

/* exports the object at /com/endlessm/Metrics with the current consent;
 * call once the engine is started */
gboolean
mrd_eos_export(MrdEos *self, GDBusConnection *connection, GError **error)
{
	g_return_val_if_fail(MRD_IS_EOS(self), FALSE);
	g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	publish_enabled(self);
	return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self), connection,
						MRD_EOS_DBUS_PATH, error);
}

void
mrd_eos_unexport(MrdEos *self)
{
	g_return_if_fail(MRD_IS_EOS(self));

	g_cancellable_cancel(self->cancellable);
	if (g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self)) != NULL)
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self));
}

static void
mrd_eos_dispose(GObject *object)
{
	MrdEos *self = MRD_EOS(object);

	g_clear_object(&self->engine);
	g_clear_object(&self->admission);
	g_clear_object(&self->clock);
	g_clear_object(&self->cancellable);
	G_OBJECT_CLASS(mrd_eos_parent_class)->dispose(object);
}

static void
mrd_eos_class_init(MrdEosClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = mrd_eos_dispose;
}

static void
mrd_eos_init(MrdEos *self)
{
	self->cancellable = g_cancellable_new();
}
