/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

/* metrics-panel as a person uses it: the real window under a virtual X
 * server, the real daemon on a private system bus and polkit mocked; the
 * test clicks the widgets and reads what they show and what they tell a
 * screen reader */

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <unistd.h>

#include "mpnl-page-consent.h"
#include "mpnl-page-data.h"
#include "mpnl-page-metrics.h"
#include "mpnl-page-setup.h"
#include "mpnl-window.h"
#include "mtest-stack.h"

typedef struct {
	MtestFixture stack;
	MpnlService *service;
	MpnlWindow *window;
} PanelFixture;

static const char *const allow_read_all[] = {
	"org.fedoraproject.Metrics1.set-consent",
	"org.fedoraproject.Metrics1.read-all",
	NULL,
};

static gboolean
window_shown(gpointer user_data)
{
	PanelFixture *fixture = user_data;
	GtkWidget *content =
		adw_application_window_get_content(ADW_APPLICATION_WINDOW(fixture->window));

	return gtk_widget_get_mapped(GTK_WIDGET(fixture->window)) &&
	       gtk_widget_get_width(content) > 0;
}

static void
open_panel(PanelFixture *fixture)
{
	g_autoptr(GDBusConnection) connection = mtest_harness_connect(fixture->stack.harness);

	fixture->service = mpnl_service_new(connection);
	fixture->window = mpnl_window_new(NULL, fixture->service);
	gtk_window_present(GTK_WINDOW(fixture->window));
	mtest_wait_until(window_shown, fixture, "the window to be shown");
}

static void
panel_set_up(PanelFixture *fixture, gconstpointer user_data)
{
	mtest_fixture_set_up(&fixture->stack, user_data);
	open_panel(fixture);
}

static void
panel_set_up_no_daemon(PanelFixture *fixture, gconstpointer user_data)
{
	mtest_fixture_set_up_no_daemon(&fixture->stack, user_data);
	open_panel(fixture);
}

static void
panel_tear_down(PanelFixture *fixture, gconstpointer user_data)
{
	if (fixture->window != NULL)
		gtk_window_destroy(GTK_WINDOW(fixture->window));
	fixture->window = NULL;
	g_clear_object(&fixture->service);
	mtest_fixture_tear_down(&fixture->stack, user_data);
}

/* ---- reading the widgets ---- */

static MpnlPageConsent *
consent_page(PanelFixture *fixture)
{
	return MPNL_PAGE_CONSENT(mpnl_window_get_page(fixture->window, "consent"));
}

static MpnlPageData *
data_page(PanelFixture *fixture)
{
	return MPNL_PAGE_DATA(mpnl_window_get_page(fixture->window, "data"));
}

static MpnlPageSetup *
setup_page(PanelFixture *fixture)
{
	return MPNL_PAGE_SETUP(mpnl_window_get_page(fixture->window, "setup"));
}

static MpnlPageMetrics *
metrics_page(PanelFixture *fixture)
{
	return MPNL_PAGE_METRICS(mpnl_window_get_page(fixture->window, "metrics"));
}

/* every text a label under @widget shows, one a line */
static void
collect_text(GtkWidget *widget, GString *text)
{
	if (GTK_IS_LABEL(widget) && gtk_widget_get_visible(widget)) {
		g_string_append(text, gtk_label_get_text(GTK_LABEL(widget)));
		g_string_append_c(text, '\n');
	}
	for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
	     child = gtk_widget_get_next_sibling(child))
		collect_text(child, text);
}

static char *
page_text(PanelFixture *fixture, const char *name)
{
	GString *text = g_string_new(NULL);

	collect_text(mpnl_window_get_page(fixture->window, name), text);
	return g_string_free(text, FALSE);
}

/* presses @button from the keyboard (GTK shows the press for a moment
 * before it emits "clicked") and waits for the click */
static void
clicked_cb(GtkButton *button, gpointer user_data)
{
	gboolean *clicked = user_data;

	*clicked = TRUE;
}

static gboolean
flag_set(gpointer user_data)
{
	return *(gboolean *)user_data;
}

static void
click(GtkButton *button)
{
	gboolean clicked = FALSE;
	gulong id = g_signal_connect(button, "clicked", G_CALLBACK(clicked_cb), &clicked);

	g_assert_true(gtk_widget_is_sensitive(GTK_WIDGET(button)));
	gtk_widget_activate(GTK_WIDGET(button));
	mtest_wait_until(flag_set, &clicked, "the button to be clicked");
	g_signal_handler_disconnect(button, id);
}

typedef struct {
	PanelFixture *fixture;
	MpnlState state;
} StateWait;

static gboolean
state_is(gpointer user_data)
{
	StateWait *wait = user_data;

	return mpnl_service_get_state(wait->fixture->service) == wait->state;
}

static void
wait_for_state(PanelFixture *fixture, MpnlState state)
{
	StateWait wait = {fixture, state};
	g_autofree char *what = g_strdup_printf("the panel's state to be %d", state);

	mtest_wait_until(state_is, &wait, what);
}

/* what the daemon holds, asked by another client */
static char *
daemon_consent(PanelFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) status = NULL;
	const char *consent = NULL;

	reply = mtest_harness_call(
		fixture->stack.harness, "GetStatus",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(a{sv})", &error);
	g_assert_no_error(error);
	status = g_variant_get_child_value(reply, 0);
	g_assert_true(g_variant_lookup(status, "consent", "&s", &consent));
	return g_strdup(consent);
}

static gboolean
row_visible(gpointer user_data)
{
	return gtk_widget_get_visible(GTK_WIDGET(user_data));
}

static gboolean
data_loaded(gpointer user_data)
{
	return mpnl_page_data_is_loaded(MPNL_PAGE_DATA(user_data));
}

typedef struct {
	MpnlPageData *page;
	guint n_loads;
} LoadWait;

static gboolean
data_loaded_again(gpointer user_data)
{
	LoadWait *wait = user_data;

	return mpnl_page_data_get_n_loads(wait->page) > wait->n_loads &&
	       mpnl_page_data_is_loaded(wait->page);
}

/* clicks the reload button as a person would and waits for the page */
static void
reload_data(PanelFixture *fixture)
{
	MpnlPageData *page = data_page(fixture);

	LoadWait wait = {page, mpnl_page_data_get_n_loads(page)};

	click(mpnl_page_data_get_reload_button(page));
	mtest_wait_until(data_loaded_again, &wait, "the stored data to be shown");
}

/* ---- the consent switch ---- */

/* no daemon: the switch cannot be used and says why; when the daemon
 * appears the panel follows without being reopened */
static void
test_consent_absent(PanelFixture *fixture, gconstpointer user_data)
{
	MpnlPageConsent *page = consent_page(fixture);
	GtkSwitch *sw = mpnl_page_consent_get_switch(page);
	g_autofree char *text = NULL;

	wait_for_state(fixture, MPNL_STATE_ABSENT);
	g_assert_false(gtk_widget_is_sensitive(GTK_WIDGET(sw)));
	g_assert_false(gtk_switch_get_active(sw));
	text = page_text(fixture, "consent");
	g_assert_nonnull(strstr(text, "not available on this computer"));

	/* a click on an insensitive switch changes nothing */
	gtk_widget_activate(GTK_WIDGET(sw));
	g_assert_false(gtk_switch_get_active(sw));

	mtest_harness_start_daemon(fixture->stack.harness, NULL);
	wait_for_state(fixture, MPNL_STATE_UNKNOWN);
	g_assert_true(gtk_widget_is_sensitive(GTK_WIDGET(sw)));
	g_clear_pointer(&text, g_free);
	text = page_text(fixture, "consent");
	g_assert_nonnull(strstr(text, "You have not decided yet"));

	/* and it goes away again: nothing can start it on this bus */
	mtest_harness_stop_daemon(fixture->stack.harness, FALSE);
	wait_for_state(fixture, MPNL_STATE_ABSENT);
	g_assert_false(gtk_widget_is_sensitive(GTK_WIDGET(sw)));
}

/* yes, the data appears; no, it vanishes from the panel and the daemon */
static void
test_consent_toggle(PanelFixture *fixture, gconstpointer user_data)
{
	MpnlPageConsent *page = consent_page(fixture);
	MpnlPageData *data = data_page(fixture);
	GtkSwitch *sw = mpnl_page_consent_get_switch(page);
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GPtrArray) stored = NULL;
	g_autofree char *consent = NULL;
	g_autofree char *text = NULL;
	GPtrArray *charts;
	guint64 total_stored = 0, total_shown = 0;
	LoadWait wait = {data, 0};

	wait_for_state(fixture, MPNL_STATE_UNKNOWN);
	g_assert_false(gtk_switch_get_active(sw));
	mpnl_window_show_page(fixture->window, "data");
	mtest_wait_until(data_loaded, data, "the stored data to be shown");
	g_assert_cmpuint(mpnl_page_data_get_charts(data)->len, ==, 0);

	/* the user turns it on: polkit (mocked) allows it */
	mtest_harness_set_allowed(fixture->stack.harness, mtest_allow_consent);
	mpnl_window_show_page(fixture->window, "consent");
	gtk_widget_activate(GTK_WIDGET(sw));
	/* not flipped on its own: busy until the daemon says so */
	g_assert_false(gtk_switch_get_state(sw));
	wait_for_state(fixture, MPNL_STATE_GRANTED);
	g_assert_true(gtk_switch_get_state(sw));
	g_assert_true(gtk_switch_get_active(sw));
	consent = daemon_consent(fixture);
	g_assert_cmpstr(consent, ==, "granted");

	/* an app records, and the data page shows it */
	recorder = mtest_record_some(&fixture->stack, MARKER, 5);
	mpnl_window_show_page(fixture->window, "data");
	reload_data(fixture);
	charts = mpnl_page_data_get_charts(data);
	g_assert_cmpuint(charts->len, ==, 3);
	stored = mtest_get_local_data(&fixture->stack);
	/* the charts show exactly the daemon's counts: one chart per metric,
	 * one bar per week */
	g_assert_cmpuint(stored->len, ==, 3);
	for (guint i = 0; i < stored->len; i++)
		total_stored += metrics_aggregate_get_count(g_ptr_array_index(stored, i));
	for (guint c = 0; c < charts->len; c++) {
		MpnlChart *chart = g_ptr_array_index(charts, c);
		g_assert_cmpuint(mpnl_chart_get_n_weeks(chart), ==, 1);
		total_shown += mpnl_chart_get_count(
			chart, metrics_aggregate_get_week(g_ptr_array_index(stored, 0)));
	}
	g_assert_cmpuint(total_shown, ==, total_stored);
	g_assert_cmpuint(total_stored, >=, 15);
	text = page_text(fixture, "data");
	g_assert_null(strstr(text, "Nothing Is Stored"));
	g_clear_pointer(&text, g_free);

	/* the user turns it off: the charts go, and the daemon holds nothing */
	mpnl_window_show_page(fixture->window, "consent");
	wait.n_loads = mpnl_page_data_get_n_loads(data);
	gtk_widget_activate(GTK_WIDGET(sw));
	wait_for_state(fixture, MPNL_STATE_DENIED);
	g_assert_false(gtk_switch_get_active(sw));
	mtest_wait_until(data_loaded_again, &wait, "the stored data to be shown again");
	g_assert_cmpuint(mpnl_page_data_get_charts(data)->len, ==, 0);
	text = page_text(fixture, "data");
	g_assert_nonnull(strstr(text, "Nothing Is Stored"));
	g_clear_pointer(&stored, g_ptr_array_unref);
	stored = mtest_get_local_data(&fixture->stack);
	g_assert_cmpuint(stored->len, ==, 0);
	g_clear_pointer(&consent, g_free);
	consent = daemon_consent(fixture);
	g_assert_cmpstr(consent, ==, "denied");
	g_clear_pointer(&text, g_free);
	text = page_text(fixture, "consent");
	g_assert_nonnull(strstr(text, "what was stored has been deleted"));
}

/* polkit refuses: the switch goes back and says so, the daemon is unchanged */
static void
test_consent_refused(PanelFixture *fixture, gconstpointer user_data)
{
	MpnlPageConsent *page = consent_page(fixture);
	GtkSwitch *sw = mpnl_page_consent_get_switch(page);
	AdwActionRow *error_row = mpnl_page_consent_get_error_row(page);
	g_autofree char *consent = NULL;
	g_autofree char *text = NULL;

	wait_for_state(fixture, MPNL_STATE_UNKNOWN);
	mtest_harness_set_allowed(fixture->stack.harness, mtest_allow_nothing);
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(error_row)));
	gtk_widget_activate(GTK_WIDGET(sw));
	mtest_wait_until(row_visible, error_row, "the error to be shown");
	g_assert_false(gtk_switch_get_active(sw));
	g_assert_false(gtk_switch_get_state(sw));
	g_assert_true(gtk_widget_is_sensitive(GTK_WIDGET(sw)));
	g_assert_cmpstr(adw_action_row_get_subtitle(error_row), ==,
			"You were not allowed to change it: the setting is unchanged.");
	g_assert_cmpint(mpnl_service_get_state(fixture->service), ==, MPNL_STATE_UNKNOWN);
	consent = daemon_consent(fixture);
	g_assert_cmpstr(consent, ==, "unknown");
	text = page_text(fixture, "consent");
	g_assert_nonnull(strstr(text, "You have not decided yet"));
}

/* a change made elsewhere (metrics-cli) shows at once, both ways */
static void
test_consent_follows(PanelFixture *fixture, gconstpointer user_data)
{
	GtkSwitch *sw = mpnl_page_consent_get_switch(consent_page(fixture));
	const char *grant[] = {"consent", "grant", NULL};
	const char *deny[] = {"consent", "deny", NULL};
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	wait_for_state(fixture, MPNL_STATE_UNKNOWN);
	mtest_harness_set_allowed(fixture->stack.harness, mtest_allow_consent);
	g_assert_cmpint(mtest_harness_run_cli(fixture->stack.harness, grant, &out, &err), ==, 0);
	wait_for_state(fixture, MPNL_STATE_GRANTED);
	g_assert_true(gtk_switch_get_active(sw));
	g_assert_cmpint(mpnl_service_get_consent_timestamp(fixture->service), >, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(mtest_harness_run_cli(fixture->stack.harness, deny, &out, &err), ==, 0);
	wait_for_state(fixture, MPNL_STATE_DENIED);
	g_assert_false(gtk_switch_get_active(sw));
}

/* ---- the initial-setup page ---- */

static gboolean
confirm_done(gpointer user_data)
{
	MpnlPageSetup *page = user_data;

	return gtk_widget_get_visible(GTK_WIDGET(mpnl_page_setup_get_result_row(page)));
}

static void
test_setup_choice(PanelFixture *fixture, gconstpointer user_data)
{
	MpnlPageSetup *page = setup_page(fixture);
	GtkCheckButton *yes = mpnl_page_setup_get_yes(page);
	GtkCheckButton *no = mpnl_page_setup_get_no(page);
	GtkButton *confirm = mpnl_page_setup_get_confirm(page);
	g_autofree char *consent = NULL;

	wait_for_state(fixture, MPNL_STATE_UNKNOWN);
	mpnl_window_show_page(fixture->window, "setup");
	/* nothing chosen for the user, and nothing to confirm */
	g_assert_false(gtk_check_button_get_active(yes));
	g_assert_false(gtk_check_button_get_active(no));
	g_assert_false(gtk_widget_is_sensitive(GTK_WIDGET(confirm)));

	/* the link to the full list opens it */
	click(mpnl_page_setup_get_list_button(page));
	g_assert_cmpstr(mpnl_window_get_visible_page(fixture->window), ==, "metrics");
	mpnl_window_show_page(fixture->window, "setup");

	/* the two are exclusive */
	gtk_widget_activate(GTK_WIDGET(yes));
	g_assert_true(gtk_check_button_get_active(yes));
	gtk_widget_activate(GTK_WIDGET(no));
	g_assert_true(gtk_check_button_get_active(no));
	g_assert_false(gtk_check_button_get_active(yes));
	g_assert_true(gtk_widget_is_sensitive(GTK_WIDGET(confirm)));
	/* choosing alone changes nothing */
	consent = daemon_consent(fixture);
	g_assert_cmpstr(consent, ==, "unknown");

	mtest_harness_set_allowed(fixture->stack.harness, mtest_allow_consent);
	click(confirm);
	mtest_wait_until(confirm_done, page, "the answer to be saved");
	wait_for_state(fixture, MPNL_STATE_DENIED);
	g_clear_pointer(&consent, g_free);
	consent = daemon_consent(fixture);
	g_assert_cmpstr(consent, ==, "denied");

	gtk_widget_activate(GTK_WIDGET(yes));
	g_assert_false(confirm_done(page));
	click(confirm);
	mtest_wait_until(confirm_done, page, "the answer to be saved");
	wait_for_state(fixture, MPNL_STATE_GRANTED);
	g_clear_pointer(&consent, g_free);
	consent = daemon_consent(fixture);
	g_assert_cmpstr(consent, ==, "granted");
}

/* ---- the list of metrics ---- */

static gboolean
metrics_listed(gpointer user_data)
{
	return mpnl_page_metrics_get_n_metrics(MPNL_PAGE_METRICS(user_data)) > 0;
}

static void
test_metrics_list(PanelFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GVariant) allowlist = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	mtest_wait_until(metrics_listed, metrics_page(fixture), "the metrics to be listed");
	allowlist = mtest_harness_call(
		fixture->stack.harness, "GetAllowlist",
		g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
		"(aa{sv})", &error);
	g_assert_no_error(error);
	/* every metric the daemon approves, no more */
	g_assert_cmpuint(mpnl_page_metrics_get_n_metrics(metrics_page(fixture)), ==,
			 g_variant_n_children(g_variant_get_child_value(allowlist, 0)));
	text = page_text(fixture, "metrics");
	g_assert_nonnull(strstr(text, "Hardware"));
	g_assert_nonnull(strstr(text, "The vendor family of the computer's processor"));
	g_assert_nonnull(strstr(text, "Which processor families Fedora must support"));
}

/* the panel and the allowlist's texts in German and French, from the
 * build's catalogues */
static void
test_metrics_translated(PanelFixture *fixture, gconstpointer user_data)
{
	const char *lang = user_data;
	const char *expected_description;
	const char *expected_switch;
	g_autofree char *text = NULL;
	g_autofree char *localedir = g_build_filename(g_getenv("MPNL_BUILD_ROOT"), "po", NULL);
	MpnlWindow *window;

	if (g_str_equal(lang, "de")) {
		expected_description = "Die Herstellerfamilie des Prozessors des Rechners";
		expected_switch = "Nutzungsdaten senden";
	} else {
		expected_description = "La famille de fabricant du processeur de l’ordinateur";
		expected_switch = "Envoyer les données d'utilisation";
	}
	bindtextdomain(GETTEXT_PACKAGE, localedir);
	g_setenv("LANGUAGE", lang, TRUE);
	setlocale(LC_ALL, "");
	/* a new window, made in that language */
	window = mpnl_window_new(NULL, fixture->service);
	gtk_window_destroy(GTK_WINDOW(fixture->window));
	fixture->window = window;
	gtk_window_present(GTK_WINDOW(window));
	mtest_wait_until(window_shown, fixture, "the window to be shown");
	mtest_wait_until(metrics_listed, metrics_page(fixture), "the metrics to be listed");
	text = page_text(fixture, "metrics");
	g_unsetenv("LANGUAGE");
	setlocale(LC_ALL, "");
	g_assert_nonnull(strstr(text, expected_description));
	g_assert_null(strstr(text, "The vendor family of the computer's processor"));
	gtk_test_accessible_assert_property(mpnl_page_consent_get_switch(consent_page(fixture)),
					    GTK_ACCESSIBLE_PROPERTY_LABEL, expected_switch);
}

/* ---- uploads ---- */

static gboolean
uploads_answered(gpointer user_data)
{
	MpnlPageData *page = user_data;

	return gtk_widget_is_sensitive(GTK_WIDGET(mpnl_page_data_get_uploads_button(page)));
}

static void
test_uploads(PanelFixture *fixture, gconstpointer user_data)
{
	MpnlPageData *page = data_page(fixture);
	GtkButton *button = mpnl_page_data_get_uploads_button(page);
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autofree char *text = NULL;

	mtest_harness_set_allowed(fixture->stack.harness, mtest_allow_consent);
	mtest_grant_consent(&fixture->stack);
	wait_for_state(fixture, MPNL_STATE_GRANTED);
	recorder = mtest_record_some(&fixture->stack, MARKER, 2);
	mpnl_window_show_page(fixture->window, "data");

	/* a user whom polkit does not let read everybody's data */
	click(button);
	g_assert_false(gtk_widget_is_sensitive(GTK_WIDGET(button)));
	mtest_wait_until(uploads_answered, page, "the uploads to be refused");
	g_assert_false(mpnl_page_data_get_uploads_shown(page));
	g_assert_cmpstr(adw_action_row_get_subtitle(mpnl_page_data_get_uploads_row(page)), ==,
			"You are not allowed to see them: they merge every user's data.");
	text = page_text(fixture, "data");
	g_assert_null(strstr(text, "Next Upload"));
	g_clear_pointer(&text, g_free);

	/* an administrator: the exact next requests, the week's values */
	mtest_harness_set_allowed(fixture->stack.harness, allow_read_all);
	click(button);
	mtest_wait_until(uploads_answered, page, "the uploads to be shown");
	g_assert_true(mpnl_page_data_get_uploads_shown(page));
	text = page_text(fixture, "data");
	g_assert_nonnull(strstr(text, "Next Upload"));
	g_assert_nonnull(strstr(text, "Last Upload"));
	/* this week's requests, not sent yet: one per metric recorded */
	g_assert_cmpuint(mtest_count_in(text, "Week closes"), ==, 3);
	g_clear_pointer(&text, g_free);

	/* saying no: nothing is left to show */
	mtest_harness_set_allowed(fixture->stack.harness, mtest_allow_consent);
	gtk_widget_activate(GTK_WIDGET(mpnl_page_consent_get_switch(consent_page(fixture))));
	wait_for_state(fixture, MPNL_STATE_DENIED);
	g_assert_false(mpnl_page_data_get_uploads_shown(page));
	text = page_text(fixture, "data");
	g_assert_null(strstr(text, "Week closes"));
}

/* another user's data is theirs: the panel shows only the data of the
 * user running it, even when polkit would let that user read everybody's */
static void
test_data_other_user(PanelFixture *fixture, gconstpointer user_data)
{
	MpnlPageData *page = data_page(fixture);
	g_autofree char *example = mtest_harness_build_path("MTEST_EXAMPLE");
	g_autoptr(GPtrArray) argv = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autofree char *text = NULL;
	GPtrArray *charts;
	g_autoptr(GPtrArray) own = NULL;
	guint64 own_total = 0, shown_total = 0;
	const char *const record_args[] = {
		example, "--count", "4", "--app-id", "org.gnome.Nautilus.desktop", NULL};

	g_assert_cmpuint(getuid(), ==, 0);
	mtest_grant_consent(&fixture->stack);
	mtest_harness_set_allowed(fixture->stack.harness, allow_read_all);
	wait_for_state(fixture, MPNL_STATE_GRANTED);
	argv = mtest_harness_argv_as_user(fixture->stack.harness, 65534, record_args);
	g_assert_cmpint(mtest_harness_run(fixture->stack.harness, (const char *const *)argv->pdata,
					  NULL, NULL),
			==, 0);
	mpnl_window_show_page(fixture->window, "data");
	reload_data(fixture);
	g_assert_cmpuint(mpnl_page_data_get_charts(page)->len, ==, 0);
	text = page_text(fixture, "data");
	g_assert_nonnull(strstr(text, "Nothing Is Stored"));

	/* the user's own event, and only it */
	recorder = mtest_record_some(&fixture->stack, MARKER, 1);
	reload_data(fixture);
	charts = mpnl_page_data_get_charts(page);
	g_assert_cmpuint(charts->len, ==, 3);
	own = mtest_get_local_data(&fixture->stack);
	g_assert_cmpuint(own->len, ==, 3);
	for (guint i = 0; i < own->len; i++)
		own_total += metrics_aggregate_get_count(g_ptr_array_index(own, i));
	for (guint c = 0; c < charts->len; c++)
		shown_total +=
			mpnl_chart_get_count(g_ptr_array_index(charts, c),
					     metrics_aggregate_get_week(g_ptr_array_index(own, 0)));
	/* nobody's four apps opened would show here if the panel asked for all */
	g_assert_cmpuint(shown_total, ==, own_total);
}

/* ---- accessibility ---- */

static gboolean
is_control(GtkWidget *widget)
{
	GtkAccessibleRole role = gtk_accessible_get_accessible_role(GTK_ACCESSIBLE(widget));

	switch (role) {
	case GTK_ACCESSIBLE_ROLE_BUTTON:
	case GTK_ACCESSIBLE_ROLE_CHECKBOX:
	case GTK_ACCESSIBLE_ROLE_RADIO:
	case GTK_ACCESSIBLE_ROLE_SWITCH:
	case GTK_ACCESSIBLE_ROLE_LINK:
		return TRUE;
	default:
		return MPNL_IS_CHART(widget);
	}
}

/* the name a screen reader reads: a label property, a labelled-by
 * relation, or a visible label inside (the name from content) */
static gboolean
has_name_from_content(GtkWidget *widget)
{
	for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
	     child = gtk_widget_get_next_sibling(child)) {
		if (GTK_IS_LABEL(child) && *gtk_label_get_text(GTK_LABEL(child)) != '\0')
			return TRUE;
		if (has_name_from_content(child))
			return TRUE;
	}
	return FALSE;
}

static void
check_names(GtkWidget *widget, guint *n_controls, GString *unnamed)
{
	if (!gtk_widget_get_visible(widget))
		return;
	if (is_control(widget)) {
		GtkAccessible *accessible = GTK_ACCESSIBLE(widget);
		(*n_controls)++;
		if (!gtk_test_accessible_has_property(accessible, GTK_ACCESSIBLE_PROPERTY_LABEL) &&
		    !gtk_test_accessible_has_relation(accessible,
						      GTK_ACCESSIBLE_RELATION_LABELLED_BY) &&
		    !has_name_from_content(widget))
			g_string_append_printf(unnamed, "%s ", G_OBJECT_TYPE_NAME(widget));
	}
	for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
	     child = gtk_widget_get_next_sibling(child))
		check_names(child, n_controls, unnamed);
}

static void
test_accessible(PanelFixture *fixture, gconstpointer user_data)
{
	MpnlPageConsent *consent = consent_page(fixture);
	MpnlPageSetup *setup = setup_page(fixture);
	MpnlPageData *data = data_page(fixture);
	g_autoptr(MetricsRecorder) recorder = NULL;
	g_autoptr(GString) unnamed = g_string_new(NULL);
	GPtrArray *charts;
	guint n_controls = 0;

	mtest_harness_set_allowed(fixture->stack.harness, mtest_allow_consent);
	mtest_grant_consent(&fixture->stack);
	wait_for_state(fixture, MPNL_STATE_GRANTED);
	recorder = mtest_record_some(&fixture->stack, MARKER, 1);
	mtest_wait_until(metrics_listed, metrics_page(fixture), "the metrics to be listed");
	mpnl_window_show_page(fixture->window, "data");
	reload_data(fixture);

	/* each control, with its role and the name a screen reader says */
	gtk_test_accessible_assert_role(mpnl_page_consent_get_switch(consent),
					GTK_ACCESSIBLE_ROLE_SWITCH);
	gtk_test_accessible_assert_property(mpnl_page_consent_get_switch(consent),
					    GTK_ACCESSIBLE_PROPERTY_LABEL, "Send Usage Data");
	gtk_test_accessible_assert_role(mpnl_page_setup_get_yes(setup), GTK_ACCESSIBLE_ROLE_RADIO);
	gtk_test_accessible_assert_property(mpnl_page_setup_get_yes(setup),
					    GTK_ACCESSIBLE_PROPERTY_LABEL,
					    "Yes, Send Anonymous Usage Data");
	gtk_test_accessible_assert_role(mpnl_page_setup_get_no(setup), GTK_ACCESSIBLE_ROLE_RADIO);
	gtk_test_accessible_assert_property(mpnl_page_setup_get_no(setup),
					    GTK_ACCESSIBLE_PROPERTY_LABEL,
					    "No, Do Not Send Anything");
	gtk_test_accessible_assert_property(mpnl_page_data_get_uploads_button(data),
					    GTK_ACCESSIBLE_PROPERTY_LABEL,
					    "Show the next and the sent uploads");
	gtk_test_accessible_assert_property(mpnl_page_data_get_reload_button(data),
					    GTK_ACCESSIBLE_PROPERTY_LABEL, "Reload");

	/* a chart is an image whose name carries its figures */
	charts = mpnl_page_data_get_charts(data);
	g_assert_cmpuint(charts->len, ==, 3);
	for (guint i = 0; i < charts->len; i++) {
		MpnlChart *chart = g_ptr_array_index(charts, i);
		g_assert_cmpuint(mpnl_chart_get_n_weeks(chart), ==, 1);
		gtk_test_accessible_assert_role(chart, GTK_ACCESSIBLE_ROLE_IMG);
		g_assert_true(gtk_test_accessible_has_property(GTK_ACCESSIBLE(chart),
							       GTK_ACCESSIBLE_PROPERTY_LABEL));
	}
	/* what a screen reader says for the chart of the counter: its name,
	 * then each week and its count */
	{
		g_autoptr(GPtrArray) stored = mtest_get_local_data(&fixture->stack);
		for (guint i = 0; i < stored->len; i++) {
			MetricsAggregate *aggregate = g_ptr_array_index(stored, i);
			g_autofree char *expected = NULL;
			if (g_strcmp0(metrics_aggregate_get_event_id(aggregate), ID_COUNTER) != 0)
				continue;
			expected = g_strdup_printf(
				"Events per week of %s; week of %s: %" G_GUINT64_FORMAT " events",
				"app-crash-count", metrics_aggregate_get_week(aggregate),
				metrics_aggregate_get_count(aggregate));
			for (guint c = 0; c < charts->len; c++) {
				g_autofree char *mismatch = gtk_test_accessible_check_property(
					g_ptr_array_index(charts, c), GTK_ACCESSIBLE_PROPERTY_LABEL,
					expected);
				if (mismatch == NULL)
					n_controls++;
			}
		}
		g_assert_cmpuint(n_controls, ==, 1);
		n_controls = 0;
	}

	/* and every control of every page has a name */
	for (const char *const *name = mpnl_window_get_page_names(); *name != NULL; name++) {
		mpnl_window_show_page(fixture->window, *name);
		check_names(mpnl_window_get_page(fixture->window, *name), &n_controls, unnamed);
	}
	check_names(GTK_WIDGET(fixture->window), &n_controls, unnamed);
	g_assert_cmpstr(unnamed->str, ==, "");
	g_assert_cmpuint(n_controls, >, 10);

	/* keyboard: the switch and the answers take the focus */
	g_assert_true(
		gtk_widget_get_focusable(GTK_WIDGET(mpnl_page_consent_get_switch(consent))) ||
		gtk_widget_get_focusable(gtk_widget_get_ancestor(
			GTK_WIDGET(mpnl_page_consent_get_switch(consent)), GTK_TYPE_LIST_BOX_ROW)));
}

/* ---- screenshots ---- */

static void
test_screenshots(PanelFixture *fixture, gconstpointer user_data)
{
	const char *dir = g_getenv("MPNL_SCREENSHOT_DIR");
	g_autofree char *tmp = NULL;
	g_autoptr(MetricsRecorder) recorder = NULL;

	if (dir == NULL || *dir == '\0') {
		tmp = g_dir_make_tmp("panel-screenshots-XXXXXX", NULL);
		dir = tmp;
	}
	/* a window tall enough for the uploads under the charts */
	gtk_window_destroy(GTK_WINDOW(fixture->window));
	fixture->window = mpnl_window_new(NULL, fixture->service);
	gtk_window_set_default_size(GTK_WINDOW(fixture->window), 760, 940);
	gtk_window_present(GTK_WINDOW(fixture->window));
	mtest_grant_consent(&fixture->stack);
	mtest_harness_set_allowed(fixture->stack.harness, allow_read_all);
	wait_for_state(fixture, MPNL_STATE_GRANTED);
	recorder = mtest_record_some(&fixture->stack, MARKER, 3);
	mtest_wait_until(metrics_listed, metrics_page(fixture), "the metrics to be listed");
	for (const char *const *name = mpnl_window_get_page_names(); *name != NULL; name++) {
		g_autofree char *file = g_strdup_printf("panel-%s.png", *name);
		g_autofree char *path = g_build_filename(dir, file, NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(GdkTexture) texture = NULL;

		mpnl_window_show_page(fixture->window, *name);
		if (g_str_equal(*name, "data")) {
			reload_data(fixture);
			click(mpnl_page_data_get_uploads_button(data_page(fixture)));
			mtest_wait_until(uploads_answered, data_page(fixture),
					 "the uploads to be shown");
			g_assert_true(mpnl_page_data_get_uploads_shown(data_page(fixture)));
		}
		/* laid out and drawn once */
		mtest_wait_until(window_shown, fixture, "the page to be shown");
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_assert_true(mpnl_window_save_png(fixture->window, path, &error));
		g_assert_no_error(error);
		texture = gdk_texture_new_from_filename(path, &error);
		g_assert_no_error(error);
		g_assert_cmpint(gdk_texture_get_width(texture), >=, 360);
		g_assert_cmpint(gdk_texture_get_height(texture), >=, 360);
		g_test_message("wrote %s", path);
		if (tmp != NULL)
			g_unlink(path);
	}
	if (tmp != NULL)
		g_rmdir(tmp);
}

int
main(int argc, char **argv)
{
	g_setenv("GTK_A11Y", "test", TRUE);
	setlocale(LC_ALL, "");
	/* not G_TEST_OPTION_ISOLATE_DIRS: GTK needs the system's XDG_DATA_DIRS for its
	 * settings schemas; GSETTINGS_BACKEND=memory keeps it from writing any */
	g_test_init(&argc, &argv, NULL);
	gtk_init();
	adw_init();

	g_test_add("/panel/consent/absent", PanelFixture, NULL, panel_set_up_no_daemon,
		   test_consent_absent, panel_tear_down);
	g_test_add("/panel/consent/toggle", PanelFixture, NULL, panel_set_up, test_consent_toggle,
		   panel_tear_down);
	g_test_add("/panel/consent/refused", PanelFixture, NULL, panel_set_up, test_consent_refused,
		   panel_tear_down);
	g_test_add("/panel/consent/follows", PanelFixture, NULL, panel_set_up, test_consent_follows,
		   panel_tear_down);
	g_test_add("/panel/setup/choice", PanelFixture, NULL, panel_set_up, test_setup_choice,
		   panel_tear_down);
	g_test_add("/panel/metrics/list", PanelFixture, NULL, panel_set_up, test_metrics_list,
		   panel_tear_down);
	g_test_add("/panel/metrics/translated/de", PanelFixture, "de", panel_set_up,
		   test_metrics_translated, panel_tear_down);
	g_test_add("/panel/metrics/translated/fr", PanelFixture, "fr", panel_set_up,
		   test_metrics_translated, panel_tear_down);
	g_test_add("/panel/data/uploads", PanelFixture, NULL, panel_set_up, test_uploads,
		   panel_tear_down);
	g_test_add("/panel/data/other-user", PanelFixture, NULL, panel_set_up, test_data_other_user,
		   panel_tear_down);
	g_test_add("/panel/accessible", PanelFixture, NULL, panel_set_up, test_accessible,
		   panel_tear_down);
	g_test_add("/panel/screenshots", PanelFixture, NULL, panel_set_up, test_screenshots,
		   panel_tear_down);
	return g_test_run();
}
