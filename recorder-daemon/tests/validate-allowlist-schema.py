#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# Validates allowlist files against docs/allowlist.schema.json (the schema
# itself first): validate-allowlist-schema.py SCHEMA FILE-OR-DIR...
import json
import pathlib
import sys

import jsonschema


def main():
    schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    files = []
    for arg in sys.argv[2:]:
        path = pathlib.Path(arg)
        files += sorted(path.glob('*.json')) if path.is_dir() else [path]
    if not files:
        print('no allowlist files given', file=sys.stderr)
        return 1
    problems = 0
    for path in files:
        for error in validator.iter_errors(json.loads(path.read_text())):
            where = '/'.join(str(p) for p in error.absolute_path)
            print(f'{path}: {where}: {error.message}', file=sys.stderr)
            problems += 1
    print(f'{len(files)} files, {problems} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
