/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Mcli"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "mcli-common.h"

/* JSON is UTF-8 whatever the locale: written as it is, not through
 * g_print(), which falls back to ASCII (mcli_set_print_handlers()) */
void
mcli_print_json(JsonBuilder *builder)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	g_autofree char *text = NULL;

	json_generator_set_pretty(generator, TRUE);
	json_generator_set_root(generator, root);
	text = json_generator_to_data(generator, NULL);
	fputs(text, stdout);
	fputs("\n", stdout);
	fflush(stdout);
}

/* @text for a terminal whose character set is not UTF-8 (LC_ALL=C, say):
 * ASCII, typographic quotes, dashes, the ellipsis, arrows and the no-break
 * space in sizes turned into their ASCII look-alikes instead of the "?" that
 * g_print() would write for them */
static char *
mcli_to_ascii(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text, -1);
	g_autoptr(GString) spaced = g_string_sized_new(strlen(valid));

	/* every kind of space a space: GLib pads dates with a figure space,
	 * which g_str_to_ascii() does not know */
	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (g_unichar_type(c) == G_UNICODE_SPACE_SEPARATOR)
			g_string_append_c(spaced, ' ');
		else if (c == 0x2260) /* ≠ */
			g_string_append(spaced, "!=");
		else
			g_string_append_len(spaced, p, g_utf8_next_char(p) - p);
	}
	return g_str_to_ascii(spaced->str, NULL);
}

static void
print_for_locale(FILE *stream, const char *text)
{
	if (g_get_charset(NULL)) {
		fputs(text, stream);
	} else {
		g_autofree char *ascii = mcli_to_ascii(text);

		fputs(ascii, stream);
	}
	fflush(stream);
}

static void
print_cb(const char *text)
{
	print_for_locale(stdout, text);
}

static void
printerr_cb(const char *text)
{
	print_for_locale(stderr, text);
}

/* what g_print() and g_printerr() write: UTF-8 as it is, in any other
 * locale ASCII (mcli_to_ascii()) */
void
mcli_set_print_handlers(void)
{
	g_set_print_handler(print_cb);
	g_set_printerr_handler(printerr_cb);
}

/* a payload as the user reads it: the value without GVariant's type
 * annotations ("0", not "<uint64 0>"; strings keep their quotes), "—"
 * without one */
char *
mcli_format_payload(GVariant *payload)
{
	g_autoptr(GVariant) value = NULL;

	if (payload == NULL)
		return g_strdup("—");
	/* a value boxed in a variant ("v"): the value itself */
	value = g_variant_is_of_type(payload, G_VARIANT_TYPE_VARIANT) ?
			g_variant_get_variant(payload) :
			g_variant_ref(payload);
	return g_variant_print(value, FALSE);
}

char *
mcli_format_duration(guint64 usec)
{
	guint64 seconds = usec / G_USEC_PER_SEC;

	if (seconds >= 3600) {
		/* the hours may not fit a guint: formatted here, not in the
		 * translated string (xgettext cuts a msgid at G_GUINT64_FORMAT) */
		g_autofree char *hours = g_strdup_printf("%" G_GUINT64_FORMAT, seconds / 3600);

		/* TRANSLATORS: a duration in hours and minutes; %s is the
		 * hours, %02u the minutes */
		return g_strdup_printf(_("%s h %02u min"), hours, (guint)((seconds % 3600) / 60));
	}
	if (seconds >= 60)
		/* TRANSLATORS: a duration in minutes and seconds */
		return g_strdup_printf(_("%u min %02u s"), (guint)(seconds / 60),
				       (guint)(seconds % 60));
	/* TRANSLATORS: a duration in seconds */
	return g_strdup_printf(_("%.3f s"), (double)usec / G_USEC_PER_SEC);
}

char *
mcli_format_timestamp(gint64 usec)
{
	g_autoptr(GDateTime) dt = NULL;

	if (usec <= 0)
		/* TRANSLATORS: a time that never was */
		return g_strdup(_("never"));
	dt = g_date_time_new_from_unix_local(usec / G_USEC_PER_SEC);
	if (dt == NULL)
		return g_strdup("?");
	return g_date_time_format(dt, "%c");
}

/* @text broken into lines of at most @width columns, each after @indent;
 * a word longer than a line is cut */
char *
mcli_wrap(const char *text, guint width, const char *indent)
{
	g_auto(GStrv) words = g_strsplit_set(text, " \n\t", -1);
	GString *out = g_string_new(indent);
	guint column = 0;

	width = MAX(width, 8);
	for (guint i = 0; words[i] != NULL; i++) {
		const char *word = words[i];
		guint len = mcli_display_width(word);

		if (len == 0)
			continue;
		if (column > 0 && column + 1 + len > width) {
			g_string_append_printf(out, "\n%s", indent);
			column = 0;
		}
		if (column > 0) {
			g_string_append_c(out, ' ');
			column++;
		}
		/* too long for any line: as much as fits, then the rest */
		while (column + len > width) {
			const char *p = word;
			guint used = column;

			while (*p != '\0') {
				gunichar c = g_utf8_get_char(p);
				guint w = g_unichar_iszerowidth(c) ? 0 :
					  g_unichar_iswide(c)	   ? 2 :
								     1;

				if (used + w > width)
					break;
				used += w;
				p = g_utf8_next_char(p);
			}
			if (p == word && column == 0)
				break;
			g_string_append_len(out, word, p - word);
			g_string_append_printf(out, "\n%s", indent);
			column = 0;
			word = p;
			len = mcli_display_width(word);
		}
		g_string_append(out, word);
		column += len;
	}
	return g_string_free(out, FALSE);
}

gboolean
mcli_usage_error(GError **error, const char *usage)
{
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
		    /* TRANSLATORS: %s is how to use the command */
		    _("Usage: %s"), usage);
	return FALSE;
}

const char *
mcli_consent_label(MetricsConsent consent)
{
	switch (consent) {
	case METRICS_CONSENT_GRANTED:
		/* TRANSLATORS: consent state */
		return _("granted (metrics are recorded and uploaded)");
	case METRICS_CONSENT_DENIED:
		/* TRANSLATORS: consent state */
		return _("denied (nothing is recorded)");
	case METRICS_CONSENT_UNKNOWN:
	default:
		/* TRANSLATORS: consent state */
		return _("not asked yet (nothing is recorded)");
	}
}

const char *
mcli_user_choice_label(MetricsUserChoice choice)
{
	switch (choice) {
	case METRICS_USER_CHOICE_IN:
		/* TRANSLATORS: a user's own choice about metrics */
		return _("in (your data is recorded when the machine's consent is granted)");
	case METRICS_USER_CHOICE_OUT:
		/* TRANSLATORS: a user's own choice about metrics */
		return _("out (nothing of yours is recorded or uploaded)");
	case METRICS_USER_CHOICE_DEFAULT:
	default:
		/* TRANSLATORS: a user's own choice about metrics, when they never
		 * chose */
		return _("default (follows the machine's consent)");
	}
}

/* the machine's state of a category, as the daemon names it */
const char *
mcli_category_state_label(const char *state)
{
	if (g_strcmp0(state, "on") == 0)
		/* TRANSLATORS: the state of a category of metrics */
		return _("on");
	if (g_strcmp0(state, "off") == 0)
		/* TRANSLATORS: the state of a category of metrics */
		return _("off");
	/* TRANSLATORS: the state of a category of metrics added after the
	 * user agreed: it is not recorded until they are asked */
	return _("not asked yet (not recorded)");
}

char *
mcli_format_size(guint64 bytes)
{
	return g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
}

/* the columns @text takes on a terminal: wide (East Asian) characters take
 * two, combining marks none */
guint
mcli_display_width(const char *text)
{
	guint width = 0;

	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (g_unichar_iszerowidth(c))
			continue;
		width += g_unichar_iswide(c) ? 2 : 1;
	}
	return width;
}

/* appends @text and spaces up to @width display columns */
void
mcli_append_padded(GString *out, const char *text, guint width)
{
	guint used = mcli_display_width(text);

	g_string_append(out, text);
	for (; used < width; used++)
		g_string_append_c(out, ' ');
}

/* prints @line, wrapped to MCLI_LINE_WIDTH when it is too long: continued
 * lines are indented four more columns */
void
mcli_print_line(const char *line)
{
	g_autofree char *prefix = NULL;
	g_autofree char *wrapped = NULL;
	g_auto(GStrv) lines = NULL;
	guint indent = 0;

	if (mcli_display_width(line) <= MCLI_LINE_WIDTH) {
		g_print("%s\n", line);
		return;
	}
	while (line[indent] == ' ' && indent < MCLI_LINE_WIDTH / 2)
		indent++;
	prefix = g_strnfill(indent, ' ');
	wrapped = mcli_wrap(line + indent, MCLI_LINE_WIDTH - indent - 4, "");
	lines = g_strsplit(wrapped, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		g_print("%s%s%s\n", prefix, i > 0 ? "    " : "", lines[i]);
}

/* "Label:      value", the label padded to 22 columns, the value wrapped
 * to the rest of the line */
void
mcli_print_field(const char *label, const char *value)
{
	g_autoptr(GString) line = g_string_new(NULL);
	guint column = MAX(mcli_display_width(label) + 1, 23);
	g_autofree char *indent = g_strnfill(column, ' ');
	g_autofree char *wrapped = NULL;

	if (column > MCLI_LINE_WIDTH / 2) {
		/* a long translation: the value on lines of its own */
		g_print("%s\n", label);
		column = 4;
		g_free(indent);
		indent = g_strnfill(column, ' ');
		wrapped = mcli_wrap(value, MCLI_LINE_WIDTH - column, indent);
		g_print("%s\n", wrapped);
		return;
	}
	mcli_append_padded(line, label, column);
	wrapped = mcli_wrap(value, MCLI_LINE_WIDTH - column, indent);
	g_string_append(line, wrapped + column);
	g_print("%s\n", line->str);
}

typedef struct {
	const char *id;
	const char *label;
} McliLabel;

/* drop reasons as the daemon counts them (GetStatus), with what they mean */
static const McliLabel drop_reasons[] = {
	/* TRANSLATORS: why events were dropped */
	{"no-consent", N_("consent not granted")},
	/* TRANSLATORS: why events were dropped: their user said "not for me" */
	{"user-opted-out", N_("the user opted out")},
	/* TRANSLATORS: why events were dropped */
	{"malformed-calls", N_("malformed calls")},
	/* TRANSLATORS: why calls were refused */
	{"rate-limited-calls", N_("calls sent too fast")},
	/* TRANSLATORS: why messages to the daemon were ignored */
	{"flooded-messages", N_("messages ignored unread: too many or too large")},
	/* TRANSLATORS: why events were dropped */
	{"unidentified", N_("sender not identified")},
	/* TRANSLATORS: why events were dropped */
	{"rate-limited", N_("sent too fast")},
	/* TRANSLATORS: why events were dropped */
	{"store-full", N_("store full")},
	/* TRANSLATORS: why events were dropped */
	{"store-failed", N_("store not writable")},
	/* TRANSLATORS: why events were dropped */
	{"retention", N_("kept too long unsent")},
	/* TRANSLATORS: why events were dropped: an event sent through the
	 * Endless OS metrics interface that has no equivalent here */
	{"eos-unmapped", N_("Endless event without an equivalent")},
	/* TRANSLATORS: why events were dropped */
	{"not-allowlisted", N_("not allowlisted")},
	/* TRANSLATORS: why events were dropped */
	{"expired", N_("metric expired")},
	/* TRANSLATORS: why events were dropped */
	{"wrong-kind", N_("wrong kind")},
	/* TRANSLATORS: why events were dropped */
	{"wrong-type", N_("wrong value type")},
	/* TRANSLATORS: why events were dropped */
	{"value-not-allowed", N_("value not allowed")},
	/* TRANSLATORS: why events were dropped: the sending user or app is
	 * not one the metric may be recorded by */
	{"not-a-recorder", N_("sender may not record this metric")},
	/* TRANSLATORS: why events were dropped */
	{"not-sampled", N_("not sampled here")},
	/* TRANSLATORS: why events were dropped */
	{"over-cap", N_("over the weekly cap")},
};

/* the translated label of a drop reason; an unknown id as it is */
const char *
mcli_drop_reason_label(const char *reason)
{
	for (guint i = 0; i < G_N_ELEMENTS(drop_reasons); i++) {
		if (g_strcmp0(drop_reasons[i].id, reason) == 0)
			return _(drop_reasons[i].label);
	}
	return reason;
}

const char *
mcli_kind_label(MetricsEventKind kind)
{
	switch (kind) {
	case METRICS_EVENT_KIND_VALUE:
		/* TRANSLATORS: a kind of metric: one value per event */
		return _("value");
	case METRICS_EVENT_KIND_COUNTER:
		/* TRANSLATORS: a kind of metric: a number added up */
		return _("counter");
	case METRICS_EVENT_KIND_DURATION:
		/* TRANSLATORS: a kind of metric: a time span added up */
		return _("duration");
	default:
		return metrics_event_kind_to_string(kind);
	}
}

/* the flags of a call that may need authorisation: from a terminal,
 * polkit may ask for a password, through a text agent started here */
MetricsClientFlags
mcli_auth_flags(McliContext *ctx)
{
	if (!ctx->interactive)
		return METRICS_CLIENT_FLAGS_NONE;
	if (!ctx->agent_tried) {
		ctx->agent_tried = TRUE;
		ctx->agent = mcli_polkit_agent_start();
	}
	return METRICS_CLIENT_FLAGS_INTERACTIVE;
}
