/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Upload costs: bytes on the wire per aggregate (raw body and gzip), and CPU
 * time to build one request (serialize, gzip, SHA-512), for requests of
 * typical shapes. Prints figures; asserts nothing about speed.
 */

#include "config.h"

#include <sys/resource.h>

#include "mrd-upload-body.h"

static double
cpu_seconds(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
	       (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

static GBytes *
make_events(MetricsEventKind kind, guint n)
{
	g_autoptr(GPtrArray) elements =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	guint8 base[16];

	metrics_uuid_parse("8f3b6a59-2c1e-4c7a-9b0e-51d2f4a7c001", base);
	for (guint i = 0; i < n; i++) {
		g_autofree char *app = g_strdup_printf("org.example.Application%u.desktop", i);
		GVariant *value =
			kind == METRICS_EVENT_KIND_COUNTER ? NULL : g_variant_new_string(app);

		g_ptr_array_add(elements, mrd_upload_element_new(base, "42", "2026-01-05", kind,
								 17 + i, G_TIME_SPAN_HOUR, value));
	}
	return mrd_upload_events_serialize(elements);
}

static void
measure(const char *label, MetricsEventKind kind, guint n_aggregates, guint iterations)
{
	g_autoptr(GBytes) events = make_events(kind, n_aggregates);
	gsize raw = 0, gz = 0;
	double start = cpu_seconds(), elapsed;

	for (guint i = 0; i < iterations; i++) {
		g_autoptr(GBytes) body = mrd_upload_body_build(events, (gint64)i);
		g_autoptr(GBytes) compressed = mrd_upload_gzip(body);
		g_autofree char *sum = mrd_upload_checksum(body);

		raw = g_bytes_get_size(body);
		gz = g_bytes_get_size(compressed);
	}
	elapsed = cpu_seconds() - start;
	g_print("%-34s %5u aggr  raw %7.1f B/aggr  gzip %7.1f B/aggr  (%6zu B gzip)  "
		"%8.1f us CPU/request\n",
		label, n_aggregates, (double)raw / n_aggregates, (double)gz / n_aggregates, gz,
		elapsed * 1e6 / iterations);
}

int
main(int argc, char *argv[])
{
	gboolean quick = argc > 1 && g_strcmp0(argv[1], "--quick") == 0;
	guint iterations = quick ? 3 : 2000;

	g_print("upload request build (body + gzip + SHA-512), %u iterations each\n", iterations);
	measure("counter, no value", METRICS_EVENT_KIND_COUNTER, 1, iterations);
	measure("value (app id)", METRICS_EVENT_KIND_VALUE, 1, iterations);
	measure("duration with value", METRICS_EVENT_KIND_DURATION, 1, iterations);
	measure("value (app id), one metric-week", METRICS_EVENT_KIND_VALUE, 50, iterations);
	measure("value (app id), one metric-week", METRICS_EVENT_KIND_VALUE, 600,
		quick ? 1 : iterations / 10);
	return 0;
}
