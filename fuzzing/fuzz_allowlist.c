/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Fuzzes the allowlist parser (recorder-daemon/mrd-allowlist.c) with one
 * document per input, then checks an event against whatever loaded. The
 * allowlist directory (made once, removed at exit) has a value set "a", so
 * that inputs with "values_from": "a" reach the value-set code.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrd-allowlist.h"

/* the values of value-sets/a.txt: "fuzz" is one, so a check can pass */
static const char value_set_a[] = "# a test set\nfuzz\n  spaced  \n\nother\n";
#define VALUE_SET_A_SIZE 3

static char *fuzz_dir;
static char *fuzz_sets_dir;
static char *fuzz_set_file;

static void
remove_fuzz_dir(void)
{
	g_unlink(fuzz_set_file);
	g_rmdir(fuzz_sets_dir);
	g_rmdir(fuzz_dir);
}

/* a directory with value-sets/a.txt, made once */
static const char *
get_fuzz_dir(void)
{
	g_autoptr(GError) error = NULL;

	if (fuzz_dir != NULL)
		return fuzz_dir;
	fuzz_dir = g_dir_make_tmp("fuzz-allowlist-XXXXXX", &error);
	g_assert_no_error(error);
	fuzz_sets_dir = g_build_filename(fuzz_dir, "value-sets", NULL);
	g_assert_cmpint(g_mkdir(fuzz_sets_dir, 0700), ==, 0);
	fuzz_set_file = g_build_filename(fuzz_sets_dir, "a.txt", NULL);
	g_file_set_contents(fuzz_set_file, value_set_a, -1, &error);
	g_assert_no_error(error);
	atexit(remove_fuzz_dir);
	return fuzz_dir;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *dirs[] = {get_fuzz_dir(), NULL};
	g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new(dirs);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) metrics = NULL;

	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
	if (!mrd_allowlist_load_data(allowlist, "fuzz.json", (const char *)data, (gssize)size,
				     &error)) {
		g_assert_nonnull(error);
		return 0;
	}
	metrics = mrd_allowlist_get_metrics(allowlist);
	for (guint i = 0; i < metrics->len; i++) {
		const MrdMetric *metric = g_ptr_array_index(metrics, i);
		MrdEvent event = {0};
		const MrdValueDomain *strings;
		MrdDropReason reason;

		memcpy(event.id, metric->id, METRICS_UUID_SIZE);
		event.kind = metric->kind;
		event.time = 1;
		event.amount = 1;
		event.payload = g_variant_ref_sink(g_variant_new_string("fuzz"));
		reason = mrd_allowlist_check(allowlist, &event, 0, NULL);
		strings = mrd_metric_get_strings(metric);
		if (strings != NULL && g_strcmp0(strings->values_from, "a") == 0) {
			/* the set is the file's, and "fuzz" is in it */
			g_assert_cmpuint(g_hash_table_size(strings->values), ==, VALUE_SET_A_SIZE);
			g_assert_true(g_hash_table_contains(strings->values, "spaced"));
			if (metric->kind == event.kind)
				g_assert_cmpint(reason, ==, MRD_DROP_NONE);
		}
		g_clear_pointer(&event.payload, g_variant_unref);
		/* a value of the metric's own type (its default: zeros, empty
		 * strings): checked, and a number kept as its bucket's label */
		if (metric->payload != NULL) {
			event.payload = g_variant_ref_sink(g_variant_new_from_data(
				metric->payload, NULL, 0, FALSE, NULL, NULL));
			reason = mrd_allowlist_check(allowlist, &event, 0, NULL);
			if (reason == MRD_DROP_NONE && !metric->is_tuple &&
			    metric->domains[0].labels != NULL)
				g_assert_true(
					g_variant_is_of_type(event.payload, G_VARIANT_TYPE_STRING));
			g_clear_pointer(&event.payload, g_variant_unref);
		}
		g_clear_pointer(&event.payload, g_variant_unref);
		g_assert_true(mrd_allowlist_lookup_name(allowlist, metric->name) != NULL);
	}
	return 0;
}
