#!/bin/sh
# man/mkman.sh EVODIAG VERSION TEMPLATE: a man page on stdout from its template
# (man/*.in): @VERSION@ is the version, and a line "@DOC ARGS@" is replaced by what
# `EVODIAG __doc ARGS` prints (roff made from the tables the binary uses: options,
# config keys, check IDs), so the page cannot drift from the code.
set -eu
evodiag=$1 version=$2 in=$3
sed "s/@VERSION@/$version/g" "$in" | while IFS= read -r line; do
        case $line in
        @DOC\ *@)
                args=${line#@DOC }
                # shellcheck disable=SC2086 # the arguments are words
                "$evodiag" __doc ${args%@} || { echo "mkman.sh: $evodiag __doc ${args%@} failed" >&2; exit 1; } ;;
        *) printf '%s\n' "$line" ;;
        esac
done
