/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* a text authentication agent (pkttyagent) for this process, so polkit can
 * ask for a password on the terminal */
typedef struct _McliPolkitAgent McliPolkitAgent;

McliPolkitAgent *
mcli_polkit_agent_start(void);
void
mcli_polkit_agent_stop(McliPolkitAgent *agent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(McliPolkitAgent, mcli_polkit_agent_stop)

G_END_DECLS
