/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 *
 * metrics-sink: a development stand-in for an Azafea metrics server. It
 * accepts v3 uploads on the loopback interface only, validates them like
 * the server does (msink-validate.c) and prints the decoded events; with
 * --output it also appends one JSON line per accepted request to a file.
 * Not installed: for the demo, the tests and developers.
 */

#define G_LOG_DOMAIN "MetricsSink"

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#include "msink-validate.h"

typedef struct {
	FILE *output; /* (nullable) */
	guint n_accepted;
	guint n_rejected;
} Sink;

static void
print_request(const MsinkResult *result)
{
	g_autoptr(GVariant) events = g_variant_get_child_value(result->body, 6);
	GVariantIter iter;
	GVariant *id, *payload;
	const char *os_version, *period;
	guint32 count;

	g_autofree char *short_sum = g_strndup(result->checksum, 16);

	g_print("accepted %s... (%" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
		" gzipped): %" G_GSIZE_FORMAT " aggregates\n",
		short_sum, result->size, result->compressed_size, g_variant_n_children(events));
	g_variant_iter_init(&iter, events);
	while (g_variant_iter_loop(&iter, "(@ay&s&su@mv)", &id, &os_version, &period, &count,
				   &payload)) {
		gsize len = 0;
		const guint8 *b = g_variant_get_fixed_array(id, &len, 1);
		g_autofree char *value = g_variant_print(payload, FALSE);

		g_print("  %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x"
			"  os %s  week of %s  count %u  payload %s\n",
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			b[12], b[13], b[14], b[15], os_version, period, count, value);
	}
}

static void
request_cb(SoupServer *server,
	   SoupServerMessage *message,
	   const char *path,
	   GHashTable *query,
	   gpointer user_data)
{
	Sink *sink = user_data;
	SoupMessageBody *request_body = soup_server_message_get_request_body(message);
	g_autoptr(GBytes) raw = soup_message_body_flatten(request_body);
	const char *encoding = soup_message_headers_get_one(
		soup_server_message_get_request_headers(message), "X-Endless-Content-Encoding");
	g_autoptr(MsinkResult) result =
		msink_validate(soup_server_message_get_method(message), path, encoding, raw);

	soup_server_message_set_status(message, result->status, NULL);
	soup_server_message_set_response(message, "text/plain", SOUP_MEMORY_COPY, result->message,
					 strlen(result->message));
	if (result->status != 200) {
		sink->n_rejected++;
		g_print("rejected %s %s: %u %s\n", soup_server_message_get_method(message), path,
			result->status, result->message);
		return;
	}
	sink->n_accepted++;
	print_request(result);
	if (sink->output != NULL) {
		g_autofree char *json = msink_body_to_json(result);
		fprintf(sink->output, "%s\n", json);
		fflush(sink->output);
	}
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

int
main(int argc, char *argv[])
{
	gint port = 0;
	g_autofree char *output = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(SoupServer) server = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(GInetAddress) loopback = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	Sink sink = {0};
	GSList *uris;
	const GOptionEntry options[] = {
		{"port", 'p', 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (0: pick a free one)",
		 "PORT"},
		{"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
		 "Append one JSON line per accepted request to FILE", "FILE"},
		{NULL},
	};

	context = g_option_context_new("— accept Azafea v3 metrics uploads on loopback");
	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) || port < 0 || port > 65535) {
		g_printerr("%s\n", error != NULL ? error->message : "invalid port");
		return 2;
	}
	if (output != NULL) {
		sink.output = fopen(output, "a");
		if (sink.output == NULL) {
			g_printerr("cannot open %s: %s\n", output, g_strerror(errno));
			return 1;
		}
	}

	server = soup_server_new("server-header", "metrics-sink", NULL);
	soup_server_add_handler(server, NULL, request_cb, &sink, NULL);
	loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	address = g_inet_socket_address_new(loopback, (guint16)port);
	if (!soup_server_listen(server, address, 0, &error)) {
		g_printerr("cannot listen on 127.0.0.1:%d: %s\n", port, error->message);
		return 1;
	}
	uris = soup_server_get_uris(server);
	if (uris != NULL) {
		g_autofree char *uri = g_uri_to_string(uris->data);
		/* the first line is the URL, for scripts */
		g_print("%s\n", uri);
	}
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);

	loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, quit_cb, loop);
	g_unix_signal_add(SIGINT, quit_cb, loop);
	g_main_loop_run(loop);
	g_print("%u requests accepted, %u rejected\n", sink.n_accepted, sink.n_rejected);
	if (sink.output != NULL)
		fclose(sink.output);
	return 0;
}
