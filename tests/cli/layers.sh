#!/bin/bash
# The layers of DESIGN.md, checked over the #include lines of the tree:
#   lib/ -> engine (collectors/{collector.h,registry,conf,runner,frame,artifact,sink,sampler{,_check,_events,_private}}) -> collectors
#   -> report/ -> cmd/   (arrows point down only)
# No include cycle between files (a .c and its .h count as one module); no collector
# includes another collector (its own <name>_*.h are part of it); lib/ includes
# nothing above it; the engine includes no collector; report/ no cmd/.
. "$TOP_SRCDIR/tests/lib/tap.sh"
cd "$TOP_SRCDIR" || exit 1

engine='^collectors/(collector|registry|conf|runner|frame|artifact|sink|sampler|sampler_check|sampler_events|sampler_private|sample_util)(\.[ch])$'
edges=$(git ls-files --cached --others --exclude-standard 'lib/*.[ch]' 'collectors/*.[ch]' 'report/*.[ch]' 'cmd/*.[ch]' 2>/dev/null)
# Not a checkout of its own (a dist tree inside one lists nothing): the files as they are.
[ -n "$edges" ] || edges=$(ls lib/*.[ch] collectors/*.[ch] collectors/*/*.[ch] report/*.[ch] cmd/*.[ch] 2>/dev/null)
t_is "$([ -n "$edges" ] && echo yes)" yes "the tree's sources are found"
graph=$(for f in $edges; do
        sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
                [ -f "$inc" ] && echo "$f $inc"
        done
done)
# A collector's module is all its files: collectors/<name>.[ch], collectors/<name>_*.[ch]
# (its _format parsers, its private header, its parts) and collectors/<name>/*.
module() { sed -E 's/\.[ch]$//; s#^(collectors/[a-z0-9]+)[_/].*#\1#' <<<"$1"; }

# lib/ includes only lib/
t_is "$(awk '$1 ~ /^lib\// && $2 !~ /^lib\//' <<<"$graph")" "" "lib/ includes nothing above it"
# the engine includes no collector and nothing above
t_is "$(while read -r a b; do [[ $a =~ $engine ]] || continue
        [[ $b =~ ^lib/ || $b =~ $engine ]] || echo "$a -> $b"; done <<<"$graph")" "" "the engine includes only lib/ and the engine"
# a collector includes only lib/, the engine and its own files
t_is "$(while read -r a b; do [[ $a == collectors/* && ! $a =~ $engine && $a != collectors/registry.c ]] || continue
        [[ $b =~ ^lib/ || $b =~ $engine ]] && continue
        [ "$(module "$a")" = "$(module "$b")" ] && continue
        echo "$a -> $b"; done <<<"$graph")" "" "no collector includes another collector (or report/, cmd/)"
t_is "$(awk '$1 ~ /^report\// && $2 ~ /^cmd\//' <<<"$graph")" "" "report/ does not include cmd/"

# No cycle between modules (tsort reports one as "input contains a loop").
mods=$(while read -r a b; do ma=$(module "$a"); mb=$(module "$b"); [ "$ma" != "$mb" ] && echo "$mb $ma"; done <<<"$graph")
loops=$(tsort <<<"$mods" 2>&1 >/dev/null | grep -v 'input contains a loop' | sed 's/^tsort: //' | tr '\n' ' ')
t_is "$loops" "" "no include cycle between modules"
t_done
