/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * Without libFuzzer: feeds every file of the given corpus directories (or
 * the given files) to LLVMFuzzerTestOneInput once, so that the corpus runs
 * as a normal test.
 */

#include <glib.h>

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static gboolean
run_file(const char *path)
{
	g_autofree char *contents = NULL;
	g_autoptr(GError) error = NULL;
	gsize length = 0;

	if (!g_file_get_contents(path, &contents, &length, &error)) {
		g_printerr("%s\n", error->message);
		return FALSE;
	}
	LLVMFuzzerTestOneInput((const unsigned char *)contents, length);
	return TRUE;
}

int
main(int argc, char *argv[])
{
	guint n = 0;

	for (int i = 1; i < argc; i++) {
		g_autoptr(GDir) dir = NULL;
		const char *name;

		if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
			if (!run_file(argv[i]))
				return 1;
			n++;
			continue;
		}
		dir = g_dir_open(argv[i], 0, NULL);
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *path = g_build_filename(argv[i], name, NULL);

			if (!run_file(path))
				return 1;
			n++;
		}
	}
	if (n == 0) {
		g_printerr("no corpus files\n");
		return 1;
	}
	g_print("replayed %u inputs\n", n);
	return 0;
}
