/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "McliPolkitAgent"

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "mcli-polkit-agent.h"

/* pkttyagent(1) closes the notify fd once it is registered with polkit, or
 * exits (127) when it cannot register; either ends the wait. This bounds a
 * hung agent only */
#define AGENT_READY_TIMEOUT_MS (30 * 1000)

/* the fd number the agent gets for --notify-fd */
#define AGENT_NOTIFY_FD 3

struct _McliPolkitAgent {
	GSubprocess *process; /* (owned) */
};

void
mcli_polkit_agent_stop(McliPolkitAgent *agent)
{
	if (agent == NULL)
		return;
	/* "when its services are no longer needed, the process can be killed" */
	g_subprocess_send_signal(agent->process, SIGTERM);
	g_subprocess_wait(agent->process, NULL, NULL);
	g_object_unref(agent->process);
	g_free(agent);
}

/* waits until the write end of @fd is closed everywhere: the agent is ready
 * (or gone) */
static void
wait_for_close(int fd)
{
	gint64 deadline = g_get_monotonic_time() + AGENT_READY_TIMEOUT_MS * 1000;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		char buf[64];
		ssize_t n;

		if (left <= 0) {
			g_debug("pkttyagent did not get ready; going on without waiting");
			return;
		}
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return;
	}
}

/* starts pkttyagent for this process; NULL (and a debug message) when it is
 * not installed or cannot start: the call then runs without a terminal
 * agent, and polkit uses the session's agent if there is one */
McliPolkitAgent *
mcli_polkit_agent_start(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) process = NULL;
	g_autofree char *path = g_find_program_in_path("pkttyagent");
	g_autofree char *pid = g_strdup_printf("%d", (int)getpid());
	g_autofree char *notify_fd = g_strdup_printf("%d", AGENT_NOTIFY_FD);
	McliPolkitAgent *agent;
	int fds[2];

	if (path == NULL) {
		g_debug("pkttyagent is not installed; no authentication on the terminal");
		return NULL;
	}
	if (!g_unix_open_pipe(fds, FD_CLOEXEC, &error)) {
		g_debug("cannot start pkttyagent: %s", error->message);
		return NULL;
	}
	/* the agent reads the password from the terminal itself: it keeps our
	 * stdin, stdout and stderr */
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
	g_subprocess_launcher_take_fd(launcher, fds[1], AGENT_NOTIFY_FD);
	process = g_subprocess_launcher_spawn(launcher, &error, path, "--process", pid,
					      "--notify-fd", notify_fd, "--fallback", NULL);
	/* the launcher holds our copy of the write end: drop it, or the
	 * read below never sees the end */
	g_clear_object(&launcher);
	if (process == NULL) {
		g_debug("cannot start pkttyagent: %s", error->message);
		close(fds[0]);
		return NULL;
	}
	wait_for_close(fds[0]);
	close(fds[0]);
	if (g_subprocess_get_identifier(process) == NULL) {
		g_debug("pkttyagent exited at once (status %d); no authentication on the "
			"terminal",
			g_subprocess_get_status(process));
		return NULL;
	}
	g_debug("pkttyagent %s is the authentication agent of %s",
		g_subprocess_get_identifier(process), pid);
	agent = g_new0(McliPolkitAgent, 1);
	agent->process = g_steal_pointer(&process);
	return agent;
}
