#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The Fedora Metrics authors
#
# The translations (TAP): po/LINGUAS names at least one language and
# exactly the po/LL.po files there are; every one passes
# `msgfmt --check --check-format` (header, plural forms, format strings);
# and the polkit policy as built carries each language's description and
# message of the set-consent action, the dialog that asks for consent.
# Untranslated and fuzzy messages are only reported: a new string must not
# wait for every translator.
#   check-translations.sh MSGFMT XMLLINT PO_DIR POLICY
set -uo pipefail

msgfmt=$1
xmllint=$2
po_dir=$3
policy=$4

n=0
failed=0
ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}
not_ok() {
    n=$((n + 1))
    failed=1
    echo "not ok $n - $1"
}

mapfile -t languages < <(sed -e 's/#.*//' "$po_dir/LINGUAS" | tr -s ' \t' '\n' | sed '/^$/d')
if [ ${#languages[@]} -gt 0 ]; then
    ok "po/LINGUAS lists ${languages[*]}"
else
    not_ok "po/LINGUAS lists no language"
fi

# a po file that LINGUAS does not name is neither built nor installed
for po in "$po_dir"/*.po; do
    [ -e "$po" ] || continue
    lang=$(basename "$po" .po)
    if printf '%s\n' "${languages[@]}" | grep -qx -e "$lang"; then
        ok "po/$lang.po is in po/LINGUAS"
    else
        not_ok "po/$lang.po is not in po/LINGUAS"
    fi
done

action=org.fedoraproject.Metrics1.set-consent
for lang in "${languages[@]}"; do
    po=$po_dir/$lang.po
    if [ ! -f "$po" ]; then
        not_ok "po/LINGUAS names $lang but po/$lang.po is missing"
        continue
    fi
    if output=$("$msgfmt" --check --check-format --statistics -o /dev/null "$po" 2>&1); then
        ok "msgfmt --check --check-format po/$lang.po"
    else
        not_ok "msgfmt --check --check-format po/$lang.po"
        printf '%s\n' "$output" | sed 's/^/# /'
    fi
    # "N translated messages, N fuzzy translations, N untranslated messages."
    if printf '%s\n' "$output" | grep -q -E 'fuzzy|untranslated'; then
        echo "# warning: po/$lang.po: $(printf '%s\n' "$output" | tail -n 1)"
    fi
    if ! grep -q -E '^"Plural-Forms: nplurals=[0-9]+; plural=' "$po"; then
        not_ok "po/$lang.po has no Plural-Forms header"
    fi

    for element in description message; do
        xpath="//action[@id='$action']/$element"
        english=$("$xmllint" --nonet --xpath "string(${xpath}[not(@xml:lang)])" "$policy" 2>/dev/null)
        translated=$("$xmllint" --nonet --xpath "string(${xpath}[@xml:lang='$lang'])" "$policy" 2>/dev/null)
        if [ -n "$translated" ] && [ "$translated" != "$english" ]; then
            ok "polkit $action $element in $lang: $translated"
        else
            not_ok "polkit $action has no $element in $lang (po/$lang.po, or a stale $policy)"
        fi
    done
done

echo "1..$n"
exit $failed
