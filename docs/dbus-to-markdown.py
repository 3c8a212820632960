#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Renders the doc comments of a D-Bus interface XML file (gtk-doc style, as
# gdbus-codegen reads them: "Name:", "@arg: text", then the description) to a
# markdown page for gi-docgen, and checks that every interface, method,
# signal, property and argument is documented.
#
#   dbus-to-markdown.py [--check] INPUT.xml [OUTPUT.md]

import argparse
import re
import sys
import textwrap
import xml.etree.ElementTree as ET

MEMBERS = ("method", "signal", "property")


class Doc:
    def __init__(self, name, short="", args=None, body=""):
        self.name = name
        self.short = short
        self.args = args or {}
        self.body = body


def parse_comment(text):
    lines = textwrap.dedent(text.strip("\n")).rstrip().split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or not re.match(r"^\S+:\s*$", lines[0]):
        return None
    doc = Doc(lines[0].strip()[:-1])
    i = 1
    # @name: text, continued by indented or blank lines
    while i < len(lines):
        match = re.match(r"^@([\w-]+):\s*(.*)$", lines[i])
        if match is None:
            if lines[i].strip():
                break
            i += 1
            continue
        name, first = match.groups()
        block = []
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i][0].isspace()):
            block.append(lines[i])
            i += 1
        while block and not block[-1].strip():
            block.pop()
        rest = textwrap.dedent("\n".join(block))
        value = first + ("\n" + rest if rest else "")
        if name == "short_description":
            doc.short = value
        else:
            doc.args[name] = value
    doc.body = "\n".join(lines[i:]).strip()
    return doc


def parse(path):
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser).getroot()
    interfaces = []
    pending = None
    for element in root.iter():
        if element.tag is ET.Comment:
            pending = parse_comment(element.text or "")
            continue
        if element.tag == "interface":
            interfaces.append((element, pending, []))
        elif element.tag in MEMBERS and interfaces:
            interfaces[-1][2].append((element, pending))
        if element.tag in ("interface",) + MEMBERS:
            pending = None
    return interfaces


def check(interfaces, path):
    problems = []
    for interface, doc, members in interfaces:
        name = interface.get("name")
        if doc is None or doc.name != name or not doc.body:
            problems.append(f"interface {name} has no doc comment naming it")
        for element, mdoc in members:
            what = f"{element.tag} {name}.{element.get('name')}"
            if mdoc is None or mdoc.name != element.get("name"):
                problems.append(f"{what} has no doc comment naming it")
                continue
            if not mdoc.body:
                problems.append(f"{what} has no description")
            for arg in element.findall("arg"):
                if arg.get("name") not in mdoc.args:
                    problems.append(f"argument {arg.get('name')} of {what} is not documented")
            for arg in mdoc.args:
                if arg not in [a.get("name") for a in element.findall("arg")]:
                    problems.append(f"{what} documents an unknown argument {arg}")
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return not problems


def inline(text, interface):
    # "#org.example.Iface:Prop" and "#org.example.Iface.Method()" references
    return re.sub(r"#" + re.escape(interface) + r"[:.](\w+)(\(\))?", r"`\1\2`", text)


def indent(text, prefix):
    return "\n".join(prefix + line if line.strip() else "" for line in text.split("\n"))


def render(interfaces, source):
    out = ["Title: D-Bus interface", "Slug: dbus", ""]
    out.append(f"Generated from `{source}`, the contract between libmetrics, "
               "the recorder daemon and any other client. Apps use libmetrics "
               "rather than calling the interface directly.")
    out.append("")
    for interface, doc, members in interfaces:
        name = interface.get("name")
        out += [f"## {name}", ""]
        if doc is not None:
            if doc.short:
                out += [f"*{doc.short}*", ""]
            out += [inline(doc.body, name), ""]
        for kind, title in (("property", "Properties"), ("method", "Methods"),
                            ("signal", "Signals")):
            selected = [(e, d) for e, d in members if e.tag == kind]
            if not selected:
                continue
            out += [f"### {title}", ""]
            for element, mdoc in selected:
                member = element.get("name")
                out += [f"#### {member}", ""]
                if kind == "property":
                    access = {"read": "read-only", "write": "write-only",
                              "readwrite": "read-write"}.get(element.get("access"), "")
                    out += [f"    {member}  {element.get('type')}  ({access})", ""]
                else:
                    args = []
                    for arg in element.findall("arg"):
                        direction = arg.get("direction", "in" if kind == "method" else "")
                        prefix = f"{direction.upper()} " if direction else ""
                        args.append(f"{prefix}{arg.get('type')} {arg.get('name')}")
                    signature = f"{member} ({', '.join(args)})"
                    out += ["    " + signature, ""]
                if mdoc is None:
                    continue
                for arg in element.findall("arg"):
                    text = inline(mdoc.args.get(arg.get("name"), ""), name)
                    # the first paragraph continues the list item, the rest
                    # (nested lists) is indented under it
                    first, _, rest = text.partition("\n\n")
                    out.append(f"- `{arg.get('name')}`: " + first.replace("\n", "\n  "))
                    if rest.strip():
                        out += ["", indent(rest, "    "), ""]
                if element.findall("arg"):
                    out.append("")
                out += [inline(mdoc.body, name), ""]
    return "\n".join(out).rstrip() + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="only check that everything is documented")
    parser.add_argument("input")
    parser.add_argument("output", nargs="?")
    args = parser.parse_args()

    interfaces = parse(args.input)
    if not interfaces:
        print(f"{args.input}: no interface", file=sys.stderr)
        return 1
    if not check(interfaces, args.input):
        return 1
    if args.check:
        print(f"{args.input}: every interface, member and argument is documented")
        return 0
    text = render(interfaces, args.input.rsplit("/", 1)[-1])
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
