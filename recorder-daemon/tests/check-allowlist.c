/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Validates allowlist directories as shipped: every *.json file loads with
 * the daemon's own parser, without a single error, and the rules for shipped
 * content hold:
 *
 *   - ids and names are unique across all files;
 *   - every metric expires in the future (relative to today);
 *   - descriptions, purposes and owners are present (the parser checks);
 *   - every value is from a closed set: a string from its values, a number
 *     in buckets (the parser rejects anything else: free text, "any_value",
 *     numbers without buckets), and value sets are not empty;
 *   - the recorders are "system", "session" or "app:…", never one named
 *     user, who exists on one machine only.
 *
 *   check-allowlist DIR...
 *
 * Exits 1 with one line per problem. A broken shipped allowlist fails CI.
 */

#include "config.h"

#include "mrd-allowlist.h"

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

int
main(int argc, char *argv[])
{
	g_autoptr(GHashTable) ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GHashTable) names =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gint64 now = g_get_real_time();
	guint n_problems = 0, n_metrics = 0, n_files = 0;

	if (argc < 2) {
		g_printerr("usage: %s DIR...\n", argv[0]);
		return 2;
	}
	for (int d = 1; d < argc; d++) {
		const char *dirs[] = {argv[d], NULL};
		g_autoptr(GDir) dir = NULL;
		g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) error = NULL;
		const char *name;

		dir = g_dir_open(argv[d], 0, &error);
		if (dir == NULL) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		while ((name = g_dir_read_name(dir)) != NULL) {
			if (g_str_has_suffix(name, ".json"))
				g_ptr_array_add(files, g_build_filename(argv[d], name, NULL));
		}
		g_ptr_array_sort(files, compare_strings);

		for (guint f = 0; f < files->len; f++) {
			const char *path = g_ptr_array_index(files, f);
			/* one allowlist per file: an id used twice must not
			 * silently replace the other */
			g_autoptr(MrdAllowlist) allowlist = mrd_allowlist_new(dirs);
			g_autoptr(GPtrArray) metrics = NULL;
			g_autoptr(GError) error_file = NULL;

			n_files++;
			if (!mrd_allowlist_load_file(allowlist, path, &error_file)) {
				g_printerr("%s\n", error_file->message);
				n_problems++;
				continue;
			}
			metrics = mrd_allowlist_get_metrics(allowlist);
			for (guint i = 0; i < metrics->len; i++) {
				const MrdMetric *metric = g_ptr_array_index(metrics, i);
				const char *other = NULL;

				n_metrics++;
				other = g_hash_table_lookup(ids, metric->id_str);
				if (other != NULL) {
					g_printerr("%s: id %s of “%s” is also used in %s\n", path,
						   metric->id_str, metric->name, other);
					n_problems++;
				}
				other = g_hash_table_lookup(names, metric->name);
				if (other != NULL) {
					g_printerr("%s: name “%s” is also used in %s\n", path,
						   metric->name, other);
					n_problems++;
				}
				g_hash_table_insert(ids, g_strdup(metric->id_str), g_strdup(path));
				g_hash_table_insert(names, g_strdup(metric->name), g_strdup(path));
				if (metric->expires_end <= now) {
					g_printerr("%s: “%s” expired on %s; renew it (at most %u "
						   "months) or remove it\n",
						   path, metric->name, metric->expires,
						   (guint)MRD_ALLOWLIST_MAX_LIFETIME_MONTHS);
					n_problems++;
				}
				for (guint k = 0; k < metric->n_domains; k++) {
					const MrdValueDomain *domain = &metric->domains[k];

					if (domain->values != NULL &&
					    g_hash_table_size(domain->values) == 0) {
						g_printerr("%s: “%s”: the value set %s is empty\n",
							   path, metric->name, domain->values_from);
						n_problems++;
					}
				}
				for (guint k = 0; metric->recorders[k] != NULL; k++) {
					if (g_str_has_prefix(metric->recorders[k], "user:")) {
						g_printerr(
							"%s: “%s”: recorder “%s”: shipped metrics "
							"are recorded by system, session or "
							"app:…\n",
							path, metric->name, metric->recorders[k]);
						n_problems++;
					}
				}
			}
		}
	}
	if (n_files == 0) {
		g_printerr("no allowlist file found\n");
		return 1;
	}
	g_print("%u files, %u metrics, %u problems\n", n_files, n_metrics, n_problems);
	return n_problems > 0 ? 1 : 0;
}
