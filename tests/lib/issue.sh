# ISSUE.md says only what is true (report/issue.c): checks of one extracted bundle,
# shared by the CLI tests that make bundles. Source after tap.sh.
#   issue_truth DIR ARCHIVE LABEL
# DIR is the bundle's top directory (extracted), ARCHIVE the file it came from.

# The rows of every GFM table in a Markdown file, as cmark-gfm renders them: one line
# per row, "<th or td count>" (a `|` inside a cell that splits it shows as a longer row).
issue_table_cells() {
        cmark-gfm -e table "$1" | awk '
                /<tr>/ { n = 0; inrow = 1 }
                inrow { n += gsub(/<t[hd][ >]/, "&") }
                /<\/tr>/ { print n; inrow = 0 }'
}

issue_truth() {
        local d=$1 ar=$2 label=$3 issue="$1/ISSUE.md" n tarn manin logn bad
        # The file count: ISSUE.md = evodiag.log = manifest.json (+ itself) = the archive.
        tarn=$(tar -tvf "$ar" | grep -c '^-')
        n=$(sed -n 's/^This bundle holds \([0-9]*\) files.*/\1/p' "$issue")
        manin=$(( $(jq '[.artifacts[] | select(.sha256)] | length' "$d/manifest.json") + 1 ))
        logn=$(sed -n 's/.* \([0-9]*\) files in the archive (manifest.json included).*/\1/p' "$d/evodiag.log")
        t_is "$n $logn $manin" "$tarn $tarn $tarn" "$label: file counts agree (ISSUE.md, evodiag.log, manifest.json, the archive)"
        # Every file ISSUE.md lists as attached is in the archive, stored.
        bad=""
        while IFS= read -r p; do
                [ -f "$d/$p" ] || bad="$bad $p"
                [ -n "$(jq -r --arg p "$p" '.artifacts[] | select(.path == $p) | .sha256 // empty' "$d/manifest.json")" ] || bad="$bad $p(manifest)"
        done < <(awk '/^Attached \([0-9]+ files\):$/ { a = 1; next } a && /^- `/ { sub(/^- `/, ""); sub(/` \(.*$/, ""); print; next } { a = 0 }' "$issue")
        t_is "$bad" "" "$label: every file listed as attached is in the archive and the manifest"
        # Nothing claimed attached that a sentence made up; no crash claim nobody checked.
        t_unlike "$(cat "$issue")" "(is|are) attached|see the attached|No crash (was )?recorded" \
                "$label: no claim the manifest does not back"
        # "Not collected": each line once, each path one the manifest marks not whole.
        t_is "$(sed -n '/^### Not collected$/,/^$/p' "$issue" | grep '^- ' | sort | uniq -d)" "" "$label: no duplicate line under Not collected"
        bad=""
        while IFS= read -r p; do
                [ -n "$(jq -r --arg p "$p" '.artifacts[] | select(.path == $p and .status != "ok") | .path' "$d/manifest.json")" ] || bad="$bad $p"
        done < <(sed -n '/^### Not collected$/,/^$/p' "$issue" | sed -n 's/^- `\([^`]*\)`: .*/\1/p')
        t_is "$bad" "" "$label: each path under Not collected is one the manifest marks not whole"
        # Complete: the top of ISSUE.md says so exactly when the manifest says it is not.
        if [ "$(jq -r .complete "$d/manifest.json")" = true ]; then
                t_unlike "$(head -12 "$issue")" "INCOMPLETE" "$label: complete, and ISSUE.md does not say otherwise"
        else
                t_like "$(head -12 "$issue")" "This bundle is INCOMPLETE" "$label: incomplete, said at the top of ISSUE.md"
        fi
        # GFM tables: every row has the header's number of cells.
        if command -v cmark-gfm >/dev/null; then
                t_is "$(issue_table_cells "$issue" | sort -u | wc -l | tr -d ' ')" "$(issue_table_cells "$issue" | head -1 | grep -c .)" \
                        "$label: every table row has as many cells as its header (cmark-gfm)"
        else
                t_skip "cmark-gfm is not installed"
        fi
}
