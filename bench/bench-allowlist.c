/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Cost of the allowlist check per event (lookup by id, kind and type check,
 * value-set check) for a large allowlist: 1,000 metrics, a tenth of them
 * with a string payload checked against one set of 100,000 values. Prints
 * figures; the test suite runs it once with --quick, untimed.
 *
 *   bench-allowlist [--quick] [--metrics N] [--values N] [--events N]
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mrd-allowlist.h"

static char *
make_dir(guint n_metrics, guint n_values)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *tmp = g_dir_make_tmp("bench-allowlist-XXXXXX", &error);
	g_autofree char *sets = NULL;
	g_autofree char *set_path = NULL;
	g_autofree char *json_path = NULL;
	g_autoptr(GString) set = g_string_new(NULL);
	g_autoptr(GString) json = g_string_new("{\"format\": 1, \"metrics\": [\n");

	g_assert_no_error(error);
	sets = g_build_filename(tmp, "value-sets", NULL);
	g_assert_cmpint(g_mkdir(sets, 0700), ==, 0);
	for (guint i = 0; i < n_values; i++)
		g_string_append_printf(set, "org.example.Application%u.desktop\n", i);
	set_path = g_build_filename(sets, "apps.txt", NULL);
	g_file_set_contents(set_path, set->str, (gssize)set->len, &error);
	g_assert_no_error(error);

	for (guint i = 0; i < n_metrics; i++) {
		gboolean with_value = i % 10 == 0;

		g_string_append_printf(
			json,
			"%s{\"id\": \"%08x-0000-4000-8000-%012x\", \"name\": \"metric-%u\", "
			"\"description\": \"d\", \"purpose\": \"p\", \"owner\": \"o\", "
			"\"category\": \"usage\", \"kind\": \"%s\", %s"
			"\"recorders\": [\"session\"], \"added\": \"2026-11-01\", \"expires\": \"2027-10-31\", "
			"\"weekly_cap\": 1000}\n",
			i == 0 ? "" : ",", g_random_int(), i, i, with_value ? "value" : "counter",
			with_value ? "\"payload\": \"s\", \"values_from\": \"apps\", " : "");
	}
	g_string_append(json, "]}\n");
	json_path = g_build_filename(tmp, "bench.json", NULL);
	g_file_set_contents(json_path, json->str, (gssize)json->len, &error);
	g_assert_no_error(error);
	return g_steal_pointer(&tmp);
}

static void
remove_dir(const char *tmp)
{
	g_autofree char *set = g_build_filename(tmp, "value-sets", "apps.txt", NULL);
	g_autofree char *sets = g_build_filename(tmp, "value-sets", NULL);
	g_autofree char *json = g_build_filename(tmp, "bench.json", NULL);

	g_unlink(set);
	g_rmdir(sets);
	g_unlink(json);
	g_rmdir(tmp);
}

int
main(int argc, char *argv[])
{
	gboolean quick = FALSE;
	gint n_metrics = 1000, n_values = 100000, n_events = 20000000;
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MrdAllowlist) allowlist = NULL;
	g_autoptr(GPtrArray) metrics = NULL;
	g_autofree char *tmp = NULL;
	const char *dirs[2] = {NULL, NULL};
	const guint n_distinct = 4096; /* events cycled through: more than the caches of the set */
	MrdEvent *events;
	gint64 start, load_time, elapsed;
	guint n_passed = 0;
	const GOptionEntry options[] = {
		{"quick", 0, 0, G_OPTION_ARG_NONE, &quick, "A small run, to check it works", NULL},
		{"metrics", 0, 0, G_OPTION_ARG_INT, &n_metrics, "Metrics on the allowlist", "N"},
		{"values", 0, 0, G_OPTION_ARG_INT, &n_values, "Values in the value set", "N"},
		{"events", 'n', 0, G_OPTION_ARG_INT, &n_events, "Events to check", "N"},
		{NULL},
	};

	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (quick)
		n_events = 100000;
	if (n_metrics < 10 || n_values < 1 || n_events < 1) {
		g_printerr("--metrics must be at least 10, --values and --events positive\n");
		return 2;
	}

	tmp = make_dir((guint)n_metrics, (guint)n_values);
	dirs[0] = tmp;
	allowlist = mrd_allowlist_new(dirs);
	start = g_get_monotonic_time();
	if (mrd_allowlist_load(allowlist, NULL) != (guint)n_metrics)
		g_error("the benchmark's allowlist did not load");
	load_time = g_get_monotonic_time() - start;
	metrics = mrd_allowlist_get_metrics(allowlist);

	/* a mix like real traffic: mostly counters, every tenth event a value,
	 * one value in eight of those outside the set (dropped, not mapped, so
	 * the events stay the same), and one event in 64 of an unknown id */
	events = g_new0(MrdEvent, n_distinct);
	for (guint i = 0; i < n_distinct; i++) {
		const MrdMetric *metric =
			g_ptr_array_index(metrics, g_random_int_range(0, n_metrics));

		memcpy(events[i].id, metric->id, METRICS_UUID_SIZE);
		if (i % 64 == 63)
			events[i].id[0] ^= 0xff;
		events[i].kind = metric->kind;
		events[i].time = g_get_real_time();
		events[i].amount = 1;
		if (metric->payload != NULL) {
			g_autofree char *value =
				g_strdup_printf(i % 8 == 0 ? "org.example.Private%u.desktop" :
							     "org.example.Application%u.desktop",
						g_random_int_range(0, n_values));
			events[i].payload = g_variant_ref_sink(g_variant_new_string(value));
		}
	}

	start = g_get_monotonic_time();
	for (gint i = 0; i < n_events; i++) {
		if (mrd_allowlist_check(allowlist, &events[(guint)i % n_distinct], events[0].time,
					NULL) == MRD_DROP_NONE)
			n_passed++;
	}
	elapsed = g_get_monotonic_time() - start;

	/* the worst case: every event carries a string checked against the set */
	{
		g_autoptr(GArray) valued = g_array_new(FALSE, FALSE, sizeof(guint));
		gint64 valued_time;

		for (guint i = 0; i < n_distinct; i++) {
			if (events[i].payload != NULL)
				g_array_append_val(valued, i);
		}
		start = g_get_monotonic_time();
		for (gint i = 0; i < n_events; i++) {
			guint index = g_array_index(valued, guint, (guint)i % valued->len);
			(void)mrd_allowlist_check(allowlist, &events[index], events[0].time, NULL);
		}
		valued_time = g_get_monotonic_time() - start;
		g_print("# allowlist check: %d metrics, a set of %d values, %d events\n", n_metrics,
			n_values, n_events);
		g_print("%-48s %14s\n", "figure", "value");
		g_print("%-48s %14.1f\n", "check, ns per event, only string values",
			(double)valued_time * 1000.0 / n_events);
	}
	g_print("%-48s %14.1f\n", "check, ns per event, mixed (target <= 200)",
		(double)elapsed * 1000.0 / n_events);
	g_print("%-48s %14.1f\n", "share of events that passed, %", 100.0 * n_passed / n_events);
	g_print("%-48s %14.1f\n", "loading the allowlist, ms", load_time / 1000.0);

	for (guint i = 0; i < n_distinct; i++)
		g_clear_pointer(&events[i].payload, g_variant_unref);
	g_free(events);
	g_clear_object(&allowlist);
	remove_dir(tmp);
	return n_passed > 0 ? 0 : 1;
}
