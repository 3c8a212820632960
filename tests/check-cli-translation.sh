#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# metrics-cli speaks each language of po/LINGUAS: its --help and a
# command's --help show the catalogue's translations. The CLI binds its
# domain to the compiled-in LOCALEDIR, so the build's catalogues are put
# there in a private mount namespace (as root, or in a user namespace):
# nothing outside this test sees them. LANG=C.UTF-8 with LANGUAGE=LL
# needs no generated locale (glibc ignores LANGUAGE only in the "C"
# locale).
#   check-cli-translation.sh CLI BUILD_PO_DIR LOCALEDIR DOMAIN LINGUAS
set -euo pipefail

cli=$1
build_po_dir=$2
localedir=$3
domain=$4
linguas=$5

if [ -z "${METRICS_I18N_NS:-}" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        ns=(unshare --mount --propagation private)
    else
        ns=(unshare --map-root-user --mount --propagation private)
    fi
    if ! "${ns[@]}" true 2>/dev/null; then
        echo "SKIP: cannot make a mount namespace (${ns[*]}): run as root or allow user namespaces"
        exit 77
    fi
    METRICS_I18N_NS=1 exec "${ns[@]}" "$0" "$@"
fi

utf8_locale=
for candidate in C.UTF-8 C.utf8; do
    if locale -a 2>/dev/null | grep -qx -e "$candidate"; then
        utf8_locale=$candidate
        break
    fi
done
if [ -z "$utf8_locale" ]; then
    echo "SKIP: no C.UTF-8 locale: glibc would ignore LANGUAGE"
    exit 77
fi

# the nearest existing directory at or above LOCALEDIR, hidden by ours
mount_point=$localedir
while [ ! -d "$mount_point" ]; do
    mount_point=$(dirname "$mount_point")
done
case $mount_point in
/ | /usr | /usr/local | /opt | /home)
    echo "SKIP: would hide $mount_point to provide $localedir"
    exit 77
    ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
locale_tree=$work/tree${localedir#"$mount_point"}
mkdir -p "$locale_tree"

mapfile -t languages < <(sed -e 's/#.*//' "$linguas" | tr -s ' \t' '\n' | sed '/^$/d')
if [ ${#languages[@]} -eq 0 ]; then
    echo "$linguas lists no language" >&2
    exit 1
fi
for lang in "${languages[@]}"; do
    mo=$build_po_dir/$lang/LC_MESSAGES/$domain.mo
    [ -f "$mo" ] || {
        echo "$mo was not built" >&2
        exit 1
    }
    mkdir -p "$locale_tree/$lang/LC_MESSAGES"
    cp "$mo" "$locale_tree/$lang/LC_MESSAGES/"
done
mount --bind "$work/tree" "$mount_point"

unset LC_ALL LC_MESSAGES
run() { LANG=$utf8_locale LANGUAGE=$lang "$@"; }
status=0
for lang in "${languages[@]}"; do
    help=$(run "$cli" --help 2>&1 || true)
    command_help=$(run "$cli" status --help 2>&1 || true)
    for msgid in \
        "See and control the metrics kept on this computer." \
        "Commands:" \
        "Show the consent state and what is stored" \
        "Change or show your own choice, for your account only" \
        "See metrics-cli(1) for the details, the JSON keys and the exit codes."; do
        msgstr=$(run env TEXTDOMAINDIR="$localedir" gettext -d "$domain" "$msgid")
        # the help is wrapped to 80 columns: compare with the line breaks
        # and indents as single spaces
        if [ "$msgstr" = "$msgid" ]; then
            echo "$lang: no translation of '$msgid' in $domain.mo" >&2
            status=1
        elif ! printf '%s\n%s\n' "$help" "$command_help" | tr -s ' \n' '  ' |
            grep -q -F -e "$(printf '%s' "$msgstr" | tr -s ' \n' '  ')"; then
            echo "$lang: metrics-cli does not show '$msgstr' ('$msgid')" >&2
            status=1
        else
            echo "$lang: $msgstr"
        fi
    done
done
if [ $status -ne 0 ]; then
    printf '%s\n' "--- metrics-cli --help:" "$help" "--- metrics-cli status --help:" "$command_help" >&2
fi
exit $status
