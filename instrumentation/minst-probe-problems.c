/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstProbeProblems"

#include "config.h"

#include <string.h>

#include "minst-journal.h"
#include "minst-probe.h"

/*
 * Evidence of problems in the previous ISO week, from the system journal:
 *
 * - unclean shutdowns: boots that finished starting up (PID 1's "Startup
 *   finished") but never logged "System shutdown initiated", not counting
 *   the running boot;
 * - crashes: systemd-coredump's "dumped core" entries, all of them as a
 *   bare count, and by app for the apps of the known-app set only (mapped
 *   from the app's systemd unit, see minst_problems_app_from_unit());
 * - OOM kills by the kernel and by systemd-oomd.
 *
 * Counting a finished week makes the result the same however often the
 * probe runs in the current week; the runner records it once per week.
 * Only the fields below are read from the journal: no command lines, no
 * environment, no messages except to match the OOM killers' wording.
 */

/* from systemd's catalog (sd-messages.h) */
#define MESSAGE_STARTUP_FINISHED "b07a249cd024414a82dd00cd181378ff"
#define MESSAGE_SHUTDOWN "98268866d1d54a499c4e98921d93bc40"
#define MESSAGE_COREDUMP "fc2e22bc6ee647b6b90729ab34a250b1"

#define JOURNALCTL_MAX_OUTPUT (64 * 1024 * 1024)

static void
append_unescaped(GString *out, const char *s, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		/* systemd escapes "-" in unit name parts as \x2d */
		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' && g_ascii_isxdigit(s[i + 2]) &&
		    g_ascii_isxdigit(s[i + 3])) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(s[i + 2]) * 16 +
						      g_ascii_xdigit_value(s[i + 3])));
			i += 3;
		} else {
			g_string_append_c(out, s[i]);
		}
	}
}

static char *
known_candidate(const char *s, gsize len, GHashTable *known_apps)
{
	g_autoptr(GString) id = g_string_new(NULL);

	append_unescaped(id, s, len);
	g_string_append(id, ".desktop");
	if (known_apps != NULL && g_hash_table_contains(known_apps, id->str))
		return g_string_free(g_steal_pointer(&id), FALSE);
	return NULL;
}

/* Desktop environments start apps in units named after the app, as the
 * systemd "Desktop Environment Integration" document describes:
 * app[-<launcher>]-<ApplicationID>[@<RANDOM>].service or
 * app[-<launcher>]-<ApplicationID>-<RANDOM>.scope. Returns the desktop id
 * if it is in @known_apps, else NULL. @unit may also be a cgroup path. */
char *
minst_problems_app_from_unit(const char *unit, GHashTable *known_apps)
{
	const char *name = strrchr(unit, '/') != NULL ? strrchr(unit, '/') + 1 : unit;
	const char *body;
	const char *end;
	const char *dash;
	char *found;

	if (!g_str_has_prefix(name, "app-"))
		return NULL;
	body = name + strlen("app-");
	if (g_str_has_suffix(body, ".service")) {
		end = strchr(body, '@');
		if (end == NULL)
			end = body + strlen(body) - strlen(".service");
	} else if (g_str_has_suffix(body, ".scope")) {
		end = strrchr(body, '-');
		if (end == NULL)
			return NULL;
	} else {
		return NULL;
	}
	if (end <= body)
		return NULL;
	/* without a launcher, then without the first part as launcher */
	found = known_candidate(body, (gsize)(end - body), known_apps);
	if (found != NULL)
		return found;
	dash = memchr(body, '-', (gsize)(end - body));
	if (dash != NULL && dash + 1 < end)
		return known_candidate(dash + 1, (gsize)(end - dash - 1), known_apps);
	return NULL;
}

static gboolean
entry_time(GHashTable *entry, gint64 *seconds)
{
	const char *usec = g_hash_table_lookup(entry, "__REALTIME_TIMESTAMP");
	guint64 value;

	if (usec == NULL || !g_ascii_string_to_unsigned(usec, 10, 0, G_MAXINT64, &value, NULL))
		return FALSE;
	*seconds = (gint64)(value / G_USEC_PER_SEC);
	return TRUE;
}

static char *
crash_app(GHashTable *entry, GHashTable *known_apps)
{
	const char *fields[] = {"COREDUMP_USER_UNIT", "COREDUMP_UNIT", "COREDUMP_CGROUP"};

	for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
		const char *unit = g_hash_table_lookup(entry, fields[i]);
		char *app;

		if (unit == NULL)
			continue;
		app = minst_problems_app_from_unit(unit, known_apps);
		if (app != NULL)
			return app;
	}
	return NULL;
}

static gboolean
is_kernel_oom_kill(GHashTable *entry)
{
	const char *message = g_hash_table_lookup(entry, "MESSAGE");
	g_autofree char *lower = NULL;

	if (g_strcmp0(g_hash_table_lookup(entry, "_TRANSPORT"), "kernel") != 0 || message == NULL)
		return FALSE;
	/* "Out of memory: Killed process …" and "Memory cgroup out of
	 * memory: Killed process …" */
	lower = g_ascii_strdown(message, -1);
	return strstr(lower, "out of memory: killed process") != NULL;
}

static gboolean
is_oomd_kill(GHashTable *entry)
{
	const char *message = g_hash_table_lookup(entry, "MESSAGE");

	if (g_strcmp0(g_hash_table_lookup(entry, "_SYSTEMD_UNIT"), "systemd-oomd.service") != 0 &&
	    g_strcmp0(g_hash_table_lookup(entry, "SYSLOG_IDENTIFIER"), "systemd-oomd") != 0)
		return FALSE;
	return message != NULL && g_str_has_prefix(message, "Killed ");
}

/* @entries: parsed journal entries; counts what happened in
 * [@window_start, @window_end); @current_boot_id is the running boot in the
 * journal's form (32 hex digits), or NULL to skip the unclean shutdowns */
void
minst_problems_count(GPtrArray *entries,
		     gint64 window_start,
		     gint64 window_end,
		     const char *current_boot_id,
		     GHashTable *known_apps,
		     GPtrArray *samples)
{
	g_autoptr(GHashTable) boots = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) shut_down = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) app_crashes =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint crashes = 0, oom_kernel = 0, oom_oomd = 0, unclean = 0;
	GHashTableIter iter;
	gpointer key, value;

	for (guint i = 0; i < entries->len; i++) {
		GHashTable *entry = g_ptr_array_index(entries, i);
		const char *message_id = g_hash_table_lookup(entry, "MESSAGE_ID");
		const char *boot_id = g_hash_table_lookup(entry, "_BOOT_ID");
		gint64 time;
		gboolean in_window;

		if (!entry_time(entry, &time)) {
			g_debug("a journal entry has no valid timestamp: skipping it");
			continue;
		}
		in_window = time >= window_start && time < window_end;

		/* a shutdown counts whenever it happened: a boot of the
		 * window may end after it */
		if (g_strcmp0(message_id, MESSAGE_SHUTDOWN) == 0 && boot_id != NULL) {
			g_hash_table_add(shut_down, (gpointer)boot_id);
			continue;
		}
		if (!in_window)
			continue;
		if (g_strcmp0(message_id, MESSAGE_STARTUP_FINISHED) == 0 &&
		    g_strcmp0(g_hash_table_lookup(entry, "_PID"), "1") == 0 && boot_id != NULL) {
			g_hash_table_add(boots, (gpointer)boot_id);
		} else if (g_strcmp0(message_id, MESSAGE_COREDUMP) == 0) {
			char *app = crash_app(entry, known_apps);

			crashes++;
			if (app != NULL) {
				guint n = GPOINTER_TO_UINT(g_hash_table_lookup(app_crashes, app));
				g_hash_table_replace(app_crashes, app, GUINT_TO_POINTER(n + 1));
			}
		} else if (is_kernel_oom_kill(entry)) {
			oom_kernel++;
		} else if (is_oomd_kill(entry)) {
			oom_oomd++;
		}
	}

	if (current_boot_id != NULL) {
		g_hash_table_iter_init(&iter, boots);
		while (g_hash_table_iter_next(&iter, &key, NULL)) {
			if (g_strcmp0(key, current_boot_id) != 0 &&
			    !g_hash_table_contains(shut_down, key))
				unclean++;
		}
		if (unclean > 0)
			minst_samples_add_count(samples, MINST_METRIC_PROBLEMS_UNCLEAN_SHUTDOWNS,
						NULL, unclean);
	}
	if (crashes > 0)
		minst_samples_add_count(samples, MINST_METRIC_PROBLEMS_CRASHES_TOTAL, NULL,
					crashes);
	g_hash_table_iter_init(&iter, app_crashes);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		minst_samples_add_count(samples, MINST_METRIC_PROBLEMS_APP_CRASHES,
					g_variant_new_string(key), GPOINTER_TO_UINT(value));
	}
	if (oom_kernel > 0)
		minst_samples_add_count(samples, MINST_METRIC_PROBLEMS_OOM_KILLS,
					g_variant_new_string("kernel"), oom_kernel);
	if (oom_oomd > 0)
		minst_samples_add_count(samples, MINST_METRIC_PROBLEMS_OOM_KILLS,
					g_variant_new_string("systemd-oomd"), oom_oomd);
}

/* the running boot's id, as the journal writes it */
static char *
read_boot_id(MinstContext *ctx)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *contents =
		minst_context_read_file(ctx, "/proc/sys/kernel/random/boot_id", &error);
	g_autoptr(GString) id = g_string_new(NULL);

	if (contents == NULL) {
		g_debug("cannot read the boot id, skipping unclean shutdowns: %s", error->message);
		return NULL;
	}
	for (const char *p = contents; *p != '\0' && *p != '\n'; p++) {
		if (*p != '-')
			g_string_append_c(id, g_ascii_tolower(*p));
	}
	if (id->len != 32 || strspn(id->str, "0123456789abcdef") != 32) {
		g_debug("the boot id is malformed: skipping unclean shutdowns");
		return NULL;
	}
	return g_string_free(g_steal_pointer(&id), FALSE);
}

static GBytes *
run_journalctl(gint64 since, GError **error)
{
	g_autofree char *since_arg = g_strdup_printf("--since=@%" G_GINT64_FORMAT, since);
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GBytes) out = NULL;
	const char *argv[] = {
		"journalctl",
		"--system",
		"--output=export",
		"--no-pager",
		"--quiet",
		since_arg,
		/* only what the counting reads */
		"--output-fields=MESSAGE_ID,MESSAGE,_PID,_TRANSPORT,_SYSTEMD_UNIT,"
		"SYSLOG_IDENTIFIER,COREDUMP_UNIT,COREDUMP_USER_UNIT,COREDUMP_CGROUP",
		"MESSAGE_ID=" MESSAGE_STARTUP_FINISHED,
		"_PID=1",
		"+",
		"MESSAGE_ID=" MESSAGE_SHUTDOWN,
		"+",
		"MESSAGE_ID=" MESSAGE_COREDUMP,
		"+",
		"_TRANSPORT=kernel",
		"PRIORITY=3",
		"+",
		"_SYSTEMD_UNIT=systemd-oomd.service",
		NULL,
	};

	process = g_subprocess_newv(
		argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, error);
	if (process == NULL)
		return NULL;
	if (!g_subprocess_communicate(process, NULL, NULL, &out, NULL, error))
		return NULL;
	if (!g_subprocess_get_successful(process)) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_FAILED,
				    "journalctl failed");
		return NULL;
	}
	if (g_bytes_get_size(out) > JOURNALCTL_MAX_OUTPUT) {
		g_set_error_literal(error, METRICS_ERROR, METRICS_ERROR_LIMIT_EXCEEDED,
				    "journalctl returned too much data");
		return NULL;
	}
	return g_steal_pointer(&out);
}

void
minst_probe_problems(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GBytes) data = NULL;
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *boot_id = NULL;
	gint64 start, end;

	minst_previous_week(ctx->now, &start, &end);
	if (ctx->journal_export != NULL) {
		g_autofree char *contents = NULL;
		gsize len = 0;

		if (!g_file_get_contents(ctx->journal_export, &contents, &len, &error)) {
			g_debug("skipping problems: %s", error->message);
			return;
		}
		data = g_bytes_new_take(g_steal_pointer(&contents), len);
	} else {
		data = run_journalctl(start, &error);
		if (data == NULL) {
			g_debug("skipping problems, cannot read the journal: %s", error->message);
			return;
		}
	}
	entries = minst_journal_parse_export(g_bytes_get_data(data, NULL), g_bytes_get_size(data),
					     &error);
	if (entries == NULL) {
		g_debug("skipping problems, the journal export is malformed: %s", error->message);
		return;
	}
	boot_id = read_boot_id(ctx);
	minst_problems_count(entries, start, end, boot_id, ctx->known_apps, samples);
}
