/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* the typed results of MetricsClient are read-only GObjects over the a{sv}
 * dictionaries of the daemon's replies: each property is named after its
 * key and has the GLib type of the key's D-Bus type, so one table gives
 * both the properties and their reading */
typedef struct {
	const char *key;	  /* the dictionary key, and the property's name */
	const char *variant_type; /* its D-Bus type: b, u, t, x, d, s or as */
	GType (*enum_type)(void); /* (nullable) for an `s` read as this enum */
	const char *nick;	  /* a short label for the property */
} MetricsDictKey;

void
metrics_dict_install_properties(GObjectClass *klass, const MetricsDictKey *keys, guint n_keys);
void
metrics_dict_get_property(GVariant *dict,
			  const MetricsDictKey *keys,
			  guint n_keys,
			  guint prop_id,
			  GValue *value);

G_END_DECLS
