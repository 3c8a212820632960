// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The Fedora Metrics authors
// where gi-docgen links types of other namespaces
baseURLs = [
    [ 'GLib', 'https://docs.gtk.org/glib/' ],
    [ 'GObject', 'https://docs.gtk.org/gobject/' ],
    [ 'Gio', 'https://docs.gtk.org/gio/' ],
]
