#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Checks that the introspection data of libmetrics is complete, so that
# Python and JavaScript apps can use all of the library:
#   - nothing is marked introspectable="0";
#   - every callable, class, record, enumeration, property and signal is
#     documented and has a version (`Since:`);
#   - every callback parameter has an explicit scope;
#   - the functions in the GIR and the exported symbols of metrics.map agree.
#
#   check-gir.py Metrics-1.gir metrics.map

import re
import sys
import xml.etree.ElementTree as ET

NS = {
    "core": "http://www.gtk.org/introspection/core/1.0",
    "c": "http://www.gtk.org/introspection/c/1.0",
    "glib": "http://www.gtk.org/introspection/glib/1.0",
}
C_IDENTIFIER = "{%s}identifier" % NS["c"]
GLIB_GET_TYPE = "{%s}get-type" % NS["glib"]
CALLABLES = ("function", "method", "constructor", "virtual-method")
DOCUMENTED = CALLABLES + ("class", "record", "enumeration", "bitfield", "property",
                          "constant", "signal")


def tag(element):
    return element.tag.split("}", 1)[1]


def describe(element, parents):
    names = [p.get("name") for p in parents if p.get("name")] + [element.get("name", "?")]
    return f"{tag(element)} {'.'.join(names)}"


def walk(element, parents=()):
    yield element, parents
    for child in element:
        yield from walk(child, parents + (element,))


def map_symbols(path):
    # one version node per release that added symbols, each with its
    # global: section; the first also has the local: one
    text = open(path).read()
    bodies = re.findall(r"global:(.*?)(?:local:|\})", text, re.S)
    if not bodies:
        raise SystemExit(f"{path}: no global: section")
    return {symbol for body in bodies
            for symbol in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*;", body)}


def main(gir_path, map_path):
    problems = []
    namespace = ET.parse(gir_path).getroot().find("core:namespace", NS)
    gir_symbols = set()

    for element, parents in walk(namespace):
        if element.get("introspectable") == "0":
            problems.append(f"{describe(element, parents)} is not introspectable")
        if tag(element) in CALLABLES and element.get(C_IDENTIFIER):
            gir_symbols.add(element.get(C_IDENTIFIER))
        if element.get(GLIB_GET_TYPE) and element.get(GLIB_GET_TYPE) != "intern":
            gir_symbols.add(element.get(GLIB_GET_TYPE))
        if tag(element) in DOCUMENTED:
            # private fields and the class structs have no docs of their own
            if element.get("{%s}is-gtype-struct-for" % NS["glib"]):
                continue
            if element.find("core:doc", NS) is None:
                problems.append(f"{describe(element, parents)} has no documentation")
            if element.get("version") is None:
                problems.append(f"{describe(element, parents)} has no Since: version")
        if tag(element) == "parameter" and element.find("core:type", NS) is not None:
            type_name = element.find("core:type", NS).get("name", "")
            if type_name.endswith("AsyncReadyCallback") and element.get("scope") is None:
                problems.append(f"parameter {element.get('name')} of "
                                f"{describe(parents[-1], parents[:-1])} has no scope")

    exported = map_symbols(map_path)
    for symbol in sorted(exported - gir_symbols):
        problems.append(f"{symbol} is exported by metrics.map but missing from the GIR")
    for symbol in sorted(gir_symbols - exported):
        problems.append(f"{symbol} is in the GIR but not exported by metrics.map")

    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {gir_path}")
        return 1
    print(f"{gir_path}: {len(gir_symbols)} symbols, all introspectable, documented and exported")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: check-gir.py GIR MAP")
    sys.exit(main(sys.argv[1], sys.argv[2]))
