/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "Metrics"

#include "config.h"

#include "metrics-dict-private.h"
#include "metrics-enums.h"

/* property ids are the index in keys + 1 */
void
metrics_dict_install_properties(GObjectClass *klass, const MetricsDictKey *keys, guint n_keys)
{
	const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

	for (guint i = 0; i < n_keys; i++) {
		const MetricsDictKey *key = &keys[i];
		GParamSpec *pspec = NULL;

		if (key->enum_type != NULL)
			pspec = g_param_spec_enum(key->key, key->nick, NULL, key->enum_type(), 0,
						  flags);
		else if (g_str_equal(key->variant_type, "b"))
			pspec = g_param_spec_boolean(key->key, key->nick, NULL, FALSE, flags);
		else if (g_str_equal(key->variant_type, "u"))
			pspec = g_param_spec_uint(key->key, key->nick, NULL, 0, G_MAXUINT32, 0,
						  flags);
		else if (g_str_equal(key->variant_type, "t"))
			pspec = g_param_spec_uint64(key->key, key->nick, NULL, 0, G_MAXUINT64, 0,
						    flags);
		else if (g_str_equal(key->variant_type, "x"))
			pspec = g_param_spec_int64(key->key, key->nick, NULL, G_MININT64,
						   G_MAXINT64, 0, flags);
		else if (g_str_equal(key->variant_type, "d"))
			pspec = g_param_spec_double(key->key, key->nick, NULL, -G_MAXDOUBLE,
						    G_MAXDOUBLE, 0, flags);
		else if (g_str_equal(key->variant_type, "s"))
			pspec = g_param_spec_string(key->key, key->nick, NULL, NULL, flags);
		else if (g_str_equal(key->variant_type, "as"))
			pspec = g_param_spec_boxed(key->key, key->nick, NULL, G_TYPE_STRV, flags);
		g_assert(pspec != NULL);
		g_object_class_install_property(klass, i + 1, pspec);
	}
}

static gint
enum_value_from_nick(GType enum_type, const char *nick)
{
	g_autoptr(GEnumClass) enum_class = g_type_class_ref(enum_type);
	GEnumValue *value = g_enum_get_value_by_nick(enum_class, nick);

	/* an unknown name reads as the first value (unknown, or value) */
	return value != NULL ? value->value : 0;
}

/* a key the dictionary lacks, or has with another type (a daemon of
 * another version), reads as the property's default */
void
metrics_dict_get_property(GVariant *dict,
			  const MetricsDictKey *keys,
			  guint n_keys,
			  guint prop_id,
			  GValue *value)
{
	const MetricsDictKey *key;
	g_autoptr(GVariant) item = NULL;

	g_return_if_fail(prop_id >= 1 && prop_id <= n_keys);
	key = &keys[prop_id - 1];
	if (dict != NULL)
		item = g_variant_lookup_value(dict, key->key, G_VARIANT_TYPE(key->variant_type));
	if (item == NULL)
		return;

	if (key->enum_type != NULL)
		g_value_set_enum(value, enum_value_from_nick(key->enum_type(),
							     g_variant_get_string(item, NULL)));
	else if (g_variant_is_of_type(item, G_VARIANT_TYPE_BOOLEAN))
		g_value_set_boolean(value, g_variant_get_boolean(item));
	else if (g_variant_is_of_type(item, G_VARIANT_TYPE_UINT32))
		g_value_set_uint(value, g_variant_get_uint32(item));
	else if (g_variant_is_of_type(item, G_VARIANT_TYPE_UINT64))
		g_value_set_uint64(value, g_variant_get_uint64(item));
	else if (g_variant_is_of_type(item, G_VARIANT_TYPE_INT64))
		g_value_set_int64(value, g_variant_get_int64(item));
	else if (g_variant_is_of_type(item, G_VARIANT_TYPE_DOUBLE))
		g_value_set_double(value, g_variant_get_double(item));
	else if (g_variant_is_of_type(item, G_VARIANT_TYPE_STRING))
		g_value_set_string(value, g_variant_get_string(item, NULL));
	else if (g_variant_is_of_type(item, G_VARIANT_TYPE_STRING_ARRAY))
		g_value_take_boxed(value, g_variant_dup_strv(item, NULL));
}
