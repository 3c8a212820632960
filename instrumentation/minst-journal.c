/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstJournal"

#include "config.h"

#include <string.h>

#include "metrics-error.h"
#include "minst-journal.h"

/*
 * A parser of the journal export format (systemd's "Journal Export
 * Format" document): entries are runs of fields separated by an empty
 * line; a field is "NAME=value\n", or for values with newlines or binary
 * data "NAME\n" + 64-bit little-endian length + data + "\n".
 *
 * The input comes from journalctl or a test file and is treated as
 * untrusted: any structural error fails the whole parse.
 */

#define MAX_FIELD_NAME 64

static gboolean
field_name_is_valid(const char *name, gsize len)
{
	if (len == 0 || len > MAX_FIELD_NAME || g_ascii_isdigit(name[0]))
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isupper(name[i]) && !g_ascii_isdigit(name[i]) && name[i] != '_')
			return FALSE;
	}
	return TRUE;
}

static GHashTable *
entry_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void
entry_add(GHashTable *entry, const char *name, gsize name_len, const char *value, gsize value_len)
{
	g_autofree char *key = g_strndup(name, name_len);

	/* fields that are not text (binary core dump data and the like) are
	 * never needed here */
	if (!g_utf8_validate_len(value, value_len, NULL)) {
		g_debug("skipping the non-text field %s", key);
		return;
	}
	if (g_hash_table_contains(entry, key))
		return;
	g_hash_table_insert(entry, g_steal_pointer(&key), g_strndup(value, value_len));
}

GPtrArray *
minst_journal_parse_export(const char *data, gsize len, GError **error)
{
	g_autoptr(GPtrArray) entries =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	g_autoptr(GHashTable) entry = NULL;
	gsize pos = 0;

	while (pos < len) {
		const char *line = data + pos;
		const char *nl;
		const char *eq;
		gsize line_len;

		if (data[pos] == '\n') {
			if (entry != NULL && g_hash_table_size(entry) > 0)
				g_ptr_array_add(entries, g_steal_pointer(&entry));
			g_clear_pointer(&entry, g_hash_table_unref);
			pos++;
			continue;
		}
		nl = memchr(line, '\n', len - pos);
		if (nl == NULL) {
			g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
				    "truncated field at offset %" G_GSIZE_FORMAT, pos);
			return NULL;
		}
		line_len = (gsize)(nl - line);
		if (entry == NULL)
			entry = entry_new();
		eq = memchr(line, '=', line_len);
		if (eq != NULL) {
			gsize name_len = (gsize)(eq - line);
			if (!field_name_is_valid(line, name_len)) {
				g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
					    "invalid field name at offset %" G_GSIZE_FORMAT, pos);
				return NULL;
			}
			entry_add(entry, line, name_len, eq + 1, line_len - name_len - 1);
			pos += line_len + 1;
		} else {
			guint64 size = 0;
			gsize start = pos + line_len + 1;

			if (!field_name_is_valid(line, line_len)) {
				g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
					    "invalid field name at offset %" G_GSIZE_FORMAT, pos);
				return NULL;
			}
			if (len - start < 8) {
				g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
					    "truncated binary field at offset %" G_GSIZE_FORMAT,
					    pos);
				return NULL;
			}
			for (guint i = 0; i < 8; i++)
				size |= (guint64)(guint8)data[start + i] << (8 * i);
			start += 8;
			/* the data and its closing newline must fit */
			if (size >= len - start || data[start + size] != '\n') {
				g_set_error(error, METRICS_ERROR, METRICS_ERROR_INVALID_DATA,
					    "invalid binary field size at offset %" G_GSIZE_FORMAT,
					    pos);
				return NULL;
			}
			entry_add(entry, line, line_len, data + start, (gsize)size);
			pos = start + (gsize)size + 1;
		}
	}
	if (entry != NULL && g_hash_table_size(entry) > 0)
		g_ptr_array_add(entries, g_steal_pointer(&entry));
	return g_steal_pointer(&entries);
}
