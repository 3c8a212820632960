/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#include "config.h"

#include <string.h>

#include "mrd-week.h"

/*
 * ISO weeks in UTC: the unit of every stored aggregate and every upload.
 * A week is named by its Monday, "YYYY-MM-DD", in the store and on the wire.
 */

/**
 * mrd_week_start:
 * @time_usec: a time, in microseconds since the epoch
 *
 * Returns: Monday 00:00 UTC of the ISO week that contains @time_usec, in microseconds
 */
gint64
mrd_week_start(gint64 time_usec)
{
	gint64 day = time_usec / G_TIME_SPAN_DAY;
	gint64 weekday;

	if (time_usec < 0 && time_usec % G_TIME_SPAN_DAY != 0)
		day--;
	/* 1970-01-01 was a Thursday: weekday 3 when Monday is 0 */
	weekday = ((day + 3) % 7 + 7) % 7;
	return (day - weekday) * G_TIME_SPAN_DAY;
}

/**
 * mrd_week_to_string:
 * @week_start: a week's Monday, as mrd_week_start() gives
 *
 * Returns: (transfer full): the Monday as "YYYY-MM-DD"
 */
char *
mrd_week_to_string(gint64 week_start)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(week_start / G_USEC_PER_SEC);

	if (dt == NULL)
		return g_strdup("invalid");
	return g_date_time_format(dt, "%Y-%m-%d");
}

/**
 * mrd_week_from_string:
 * @str: (nullable): a Monday as "YYYY-MM-DD"
 * @week_start: (out): that Monday 00:00 UTC, in microseconds
 *
 * Returns: whether @str names a Monday
 */
gboolean
mrd_week_from_string(const char *str, gint64 *week_start)
{
	g_autofree char *iso = NULL;
	g_autoptr(GDateTime) dt = NULL;

	if (str == NULL || strlen(str) != 10)
		return FALSE;
	iso = g_strdup_printf("%sT00:00:00Z", str);
	dt = g_date_time_new_from_iso8601(iso, NULL);
	if (dt == NULL || g_date_time_get_day_of_week(dt) != 1)
		return FALSE;
	*week_start = g_date_time_to_unix(dt) * G_USEC_PER_SEC;
	return TRUE;
}
