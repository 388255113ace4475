#!/bin/bash
# The man pages and the shell completions say what the binary does: every option of every
# verb (from its --help), every check ID and config key (from `evodiag list --json`) is in
# the pages, which groff renders without a warning and `make install` puts in man1/5/7;
# bash, zsh and fish complete verbs, options, collectors, IDs, values and files for real.
. "$TOP_SRCDIR/tests/lib/tap.sh"
: "${TOP_BUILDDIR:?}"
MAN="$TOP_BUILDDIR/man"
COMP="$TOP_SRCDIR/completions"
for tool in groff zsh fish; do
        command -v $tool >/dev/null || t_skip_all "$tool is not installed (Debian package $tool, .ci/packages)"
done
[ -r /usr/share/bash-completion/bash_completion ] || t_skip_all "bash-completion is not installed (.ci/packages)"

# ---- the pages render without warnings ----
pages="evodiag.1 evodiag-check.1 evodiag-bundle.1 evodiag-watch.1 evodiag.conf.5 evodiag-checks.7"
for p in $pages; do
        if [ ! -s "$MAN/$p" ]; then
                t_fail "$p was built" "no $MAN/$p"
                continue
        fi
        err=$(groff -ww -man -Tutf8 -z "$MAN/$p" 2>&1 >/dev/null)
        t_is "$err" "" "$p: groff -ww -man -Tutf8 -z warns about nothing"
        err=$(groff -ww -man -Tutf8 "$MAN/$p" 2>&1 >/dev/null)
        t_is "$err" "" "$p: groff -ww -man -Tutf8 warns about nothing"
done

# The page as plain text, one long line per paragraph (no hyphenation, no bold).
render() { groff -man -Tascii -rLL=2000n -P-cbou "$MAN/$1" 2>/dev/null; }
# The text of subsection $2 (a heading at indent 3) of rendered page $1.
section() { render "$1" | awk -v h="$2" '$0 == "   " h { on = 1; next } on && /^(   )?[^ ]/ { exit } on'; }
# The options a verb's --help lists (-x and --name), one per line.
help_opts() {
        "$EVODIAG" "$1" --help | sed -nE 's/^  (-([a-zA-Z]), )?(--[a-z][a-z-]*).*/\3 -\2/p' | tr ' ' '\n' | grep -vx -- '-'
}
# The options of $2 (one per line on stdin) that text $1 does not mention.
missing() {
        local o
        while read -r o; do
                printf '%s\n' "$1" | grep -Eq -- "(^|[^a-z-])$o([^a-z-]|$)" || echo "$o"
        done
}

# ---- every option of every verb is in its page ----
verbs=$("$EVODIAG" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
t_like "$verbs" "bundle" "evodiag --help lists the verbs"
for v in $verbs; do
        case $v in
        check | bundle | watch) text=$(render "evodiag-$v.1") ;;
        *) text=$(section evodiag.1 "evodiag $v") ;;
        esac
        opts=$(help_opts "$v")
        t_like "$opts" "--help" "evodiag $v --help lists options"
        t_is "$(printf '%s\n' "$opts" | missing "$text" | tr '\n' ' ')" "" "every option of evodiag $v is in its man page"
done
t_like "$(render evodiag.1)" "check --from" "evodiag(1) names check --from"
t_like "$(render evodiag-check.1)" "--from BUNDLE\|DIR" "evodiag-check(1) documents --from"
# The comparison catches an option the page lacks: drop --upload from the page's text.
text=$(render evodiag-bundle.1 | grep -v -- '--upload')
t_is "$(help_opts bundle | missing "$text" | tr '\n' ' ')" "--upload " "a page without --upload is caught"

# ---- every check ID with its explain text, every config key ----
T_TIMEOUT=120 t_run list --json
t_is "$RC" 0 "evodiag list --json"
LIST=$OUT
ids=$(printf '%s' "$LIST" | jq -r '.collectors[].checks[].id')
t_like "$ids" '^lavinmq\.impostor$' "list --json names the checks"
checks=$(render evodiag-checks.7)
flat=$(printf '%s\n' "$checks" | tr -s ' \n' '  ')
miss=""
for id in $ids evodiag.nothing_checked evodiag.expected_process collector.timeout collector.crashed collector.findings_cut collector.expected; do
        printf '%s\n' "$checks" | grep -Eq "^       $id( |\$)" || miss="$miss $id"
done
t_is "$miss" "" "evodiag-checks(7) has an entry for every check ID"
# Each explain text (its first line, as explain --json prints it) is in the entry.
t_run explain --json $ids
t_is "$RC" 0 "explain --json of every ID"
miss=$(printf '%s' "$OUT" | jq -r '.checks[] | "\(.id)\t\(.explain | split("\n")[0])"' | while IFS=$'\t' read -r id first; do
        printf '%s' "$first" | LC_ALL=C grep -q '[^ -~]' && continue # non-ASCII: rendered differently in ASCII
        case $flat in *"$first"*) ;; *) echo "$id" ;; esac
done | tr '\n' ' ')
t_is "$miss" "" "evodiag-checks(7) has every check's explain text"
t_like "$(printf '%s\n' "$checks" | grep -A2 -x '       lavinmq.impostor')" "." "an entry has a title"

conf=$(render evodiag.conf.5)
miss=$(printf '%s' "$LIST" | jq -r '.collectors[] | .name as $c | .config[] | "\($c)\t\(.key)\t\(.default)\t\(.min // "")\t\(.max // "")"' |
        while IFS=$'\t' read -r c key def min max; do
                [ -z "$min" ] || { min=$(printf '%.0f' "$min"); max=$(printf '%.0f' "$max"); } # jq: 1e+18
                block=$(printf '%s\n' "$conf" | awk -v h="   [$c]" '$0 == h { on = 1; next } on && /^(   )?[^ ]/ { exit } on')
                printf '%s\n' "$block" | grep -Eq "^       $key( |\$)" || { echo "[$c]$key"; continue; }
                [ -z "$def" ] || printf '%s\n' "$block" | grep -qF "Default: $def." || echo "[$c]$key=$def"
                [ -z "$min" ] || printf '%s\n' "$block" | grep -qF "from $min to $max" || echo "[$c]$key:$min..$max"
        done | tr '\n' ' ')
t_is "$miss" "" "evodiag.conf(5) has every collector's keys with default and range"
miss=""
for c in $(printf '%s' "$LIST" | jq -r '.collectors[].name') evodiag watch upload expect ignore; do
        printf '%s\n' "$conf" | grep -qx "   \[$c\]" || miss="$miss [$c]"
done
t_is "$miss" "" "evodiag.conf(5) has a section for every collector and [evodiag] [watch] [upload] [expect] [ignore]"
# Every key the page lists under a run section is one the binary accepts (set to its default).
bad=""
for s in evodiag watch; do
        for kv in $(printf '%s\n' "$conf" | awk -v h="   [$s]" '$0 == h { on = 1; next } on && /^(   )?[^ ]/ { exit }
                on && /^       [a-z_]+( |$)/ { k = $1 } on && k && /Default: / { sub(/.*Default: /, ""); sub(/\.$/, ""); if ($0 != "none") print k "=" $0; k = "" }'); do
                printf '[%s]\n%s\n' "$s" "$kv" >"$T_TMP/c.conf"
                "$EVODIAG" list --config "$T_TMP/c.conf" >/dev/null 2>&1 || bad="$bad [$s]$kv"
        done
done
t_is "$bad" "" "the binary accepts every [evodiag] and [watch] key of the page with its default"
t_like "$(section evodiag.conf.5 '[evodiag]')" "parallel" "[evodiag] parallel is documented"

# ---- make install puts them in man1, man5, man7 and the completions where the shells look ----
inst="$T_TMP/inst"
(unset MAKEFLAGS MFLAGS MAKELEVEL; ${MAKE:-make} -s -C "$TOP_BUILDDIR" DESTDIR="$inst" install-man \
        install-dist_bashcompletionDATA install-dist_zshcompletionDATA install-dist_fishcompletionDATA) >"$T_TMP/inst.log" 2>&1
t_is "$?" 0 "make install of the pages and completions"
got=$(cd "$inst" && find . -type f | sed -E 's|^\./.*/(share/)?||' | sort | tr '\n' ' ')
for want in man/man1/evodiag.1 man/man1/evodiag-check.1 man/man1/evodiag-bundle.1 man/man1/evodiag-watch.1 \
        man/man5/evodiag.conf.5 man/man7/evodiag-checks.7; do
        t_like "$(cd "$inst" && find . -type f)" "/$want\$" "installed: $want"
done
t_like "$(cd "$inst" && find . -type f)" "/bash-completion/completions/evodiag$" "installed: the bash completion"
t_like "$(cd "$inst" && find . -type f)" "/zsh/(vendor-completions|site-functions)/_evodiag$" "installed: the zsh completion"
t_like "$(cd "$inst" && find . -type f)" "/fish/vendor_completions.d/evodiag.fish$" "installed: the fish completion"
: "$got"

# ---- completions: a directory with a bundle, a recording and other files; evodiag on PATH ----
mkdir -p "$T_TMP/bin" "$T_TMP/w/sub" "$T_TMP/home"
ln -s "$EVODIAG" "$T_TMP/bin/evodiag"
: >"$T_TMP/w/host1.tar.zst"
: >"$T_TMP/w/notes.txt"
: >"$T_TMP/w/watch.rec"
export PATH="$T_TMP/bin:$PATH" HOME="$T_TMP/home" XDG_CONFIG_HOME="$T_TMP/home/.config" XDG_DATA_HOME="$T_TMP/home/.local"
all_opts() { for o in $(help_opts "$1"); do echo "$o"; done | sort -u | tr '\n' ' '; }
# explain takes a collector's IDs and the engine's ones for it (lavinmq.timeout).
lavinmq_ids=$(printf '%s\n' $ids lavinmq.timeout lavinmq.crashed lavinmq.expected lavinmq.findings_cut | grep '^lavinmq\.' | sort | tr '\n' ' ')

# bash: bash-completion loaded, COMP_WORDS/COMP_CWORD set, the function called, COMPREPLY read.
bcomp() {
        (cd "$T_TMP/w" && bash --norc --noprofile -c '
                . /usr/share/bash-completion/bash_completion
                . "$1"; shift
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                _evodiag evodiag "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
                printf "%s\n" "${COMPREPLY[@]}" | sort' bcomp "$COMP/evodiag" "$@" 2>&1)
}
t_is "$(bcomp evodiag bun)" "bundle" "bash: evodiag bun -> bundle"
t_like "$(bcomp evodiag '')" "^watch$" "bash: the verbs"
t_is "$(bcomp evodiag bundle --upl)" "--upload" "bash: bundle --upl -> --upload"
t_is "$(bcomp evodiag check --only jo)" "journal" "bash: check --only jo -> journal"
t_is "$(bcomp evodiag check --only shm,hu)" "shm,hugepages" "bash: check --only shm,hu -> shm,hugepages"
t_is "$(bcomp evodiag explain lavinmq. | tr '\n' ' ')" "$lavinmq_ids" "bash: explain lavinmq. -> every lavinmq ID"
t_is "$(bcomp evodiag check --id fds.sys)" "fds.system" "bash: check --id fds.sys -> fds.system"
t_is "$(bcomp evodiag check --from '' | tr '\n' ' ')" "host1.tar.zst sub " "bash: check --from offers bundles and directories, not notes.txt"
t_is "$(bcomp evodiag watch --replay '' | tr '\n' ' ')" "sub watch.rec " "bash: watch --replay offers recordings"
t_is "$(bcomp evodiag check --format '' | tr '\n' ' ')" "json nagios prometheus text " "bash: --format values"
t_is "$(bcomp evodiag check --format=na)" "nagios" "bash: --format=na -> nagios"
t_is "$(bcomp evodiag bundle --component '' | tr '\n' ' ')" "evo framealloc general lavinmq snn vgpu " "bash: --component values"
t_is "$(bcomp evodiag watch --bundle-on '' | tr '\n' ' ')" "crit warn " "bash: --bundle-on values"
for v in $verbs; do
        t_is "$(bcomp evodiag "$v" - | tr '\n' ' ')" "$(all_opts "$v")" "bash: every option of $v"
done

# zsh: a real interactive zsh -f in a pseudo-terminal (zpty) with compinit and the completion
# on fpath; compadd is wrapped to print what compsys would offer, a TAB is typed.
cat >"$T_TMP/capture.zsh" <<'ZSH'
PROMPT=
fpath=("$ZCOMP" $fpath)
autoload -U compinit && compinit -u -d "$ZDOTDIR/.zcompdump"
bindkey '^I' complete-word
null-line() { echo -E - $'\0' }
compprefuncs=(null-line)
comppostfuncs=(null-line exit)
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
zstyle ':completion:*' list-separator ''
compadd() {
        if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
                builtin compadd "$@"
                return $?
        fi
        typeset -a __hits
        builtin compadd -A __hits "$@" # what matches: printed below
        builtin compadd "$@" # and added, so compsys goes on as it would (no fallback to all files)
        local -A apre hpre
        zparseopts -E P:=apre p:=hpre
        local h
        for h in $__hits; do echo -E - "MATCH:$IPREFIX$apre[-P]$hpre[-p]$h"; done
}
echo ok
ZSH
zcomp() {
        (cd "$T_TMP/w" && ZCOMP="$COMP" ZDOTDIR="$T_TMP/home" timeout -k 5 60 zsh -f -c '
                zmodload zsh/zpty
                zpty z zsh -f -i
                zpty -w z "source ${(q)1}"
                local line
                repeat 100; do zpty -r z line; [[ $line == *ok* ]] && break; done
                zpty -w z "$2"$'"'"'\t'"'"'
                local n=0
                while zpty -r z line; do
                        [[ $line == *$'"'"'\0'"'"'* ]] && (( ++n == 2 )) && break
                        [[ $line == *MATCH:* ]] && print -r -- ${line##*MATCH:}
                done
                zpty -d z' zcomp "$T_TMP/capture.zsh" "$1" 2>&1 | tr -d '\r' | grep . | sort -u)
}
t_is "$(zcomp 'evodiag bun')" "bundle" "zsh: evodiag bun -> bundle"
t_like "$(zcomp 'evodiag ')" "^watch$" "zsh: the verbs"
t_is "$(zcomp 'evodiag bundle --upl')" "--upload" "zsh: bundle --upl -> --upload"
t_is "$(zcomp 'evodiag check --only jo')" "journal" "zsh: check --only jo -> journal"
t_is "$(zcomp 'evodiag check --only shm,hu')" "shm,hugepages" "zsh: check --only shm,hu -> shm,hugepages"
t_is "$(zcomp 'evodiag explain lavinmq.' | tr '\n' ' ')" "$lavinmq_ids" "zsh: explain lavinmq. -> every lavinmq ID"
t_is "$(zcomp 'evodiag check --from ' | tr '\n' ' ')" "host1.tar.zst sub " "zsh: check --from offers bundles and directories, not notes.txt"
t_is "$(zcomp 'evodiag watch --replay ' | tr '\n' ' ')" "sub watch.rec " "zsh: watch --replay offers recordings"
t_is "$(zcomp 'evodiag check --format ' | tr '\n' ' ')" "json nagios prometheus text " "zsh: --format values"
t_is "$(zcomp 'evodiag bundle --component ' | tr '\n' ' ')" "evo framealloc general lavinmq snn vgpu " "zsh: --component values"
for v in $verbs; do
        t_is "$(zcomp "evodiag $v -" | tr '\n' ' ')" "$(all_opts "$v")" "zsh: every option of $v"
done

# fish: `complete -C` with the completion on fish_complete_path.
fcomp() {
        (cd "$T_TMP/w" && timeout -k 5 60 fish --no-config -c "set fish_complete_path '$COMP' \$fish_complete_path; complete -C '$1'" 2>&1 |
                cut -f1 | sort -u)
}
t_is "$(fcomp 'evodiag bun')" "bundle" "fish: evodiag bun -> bundle"
t_like "$(fcomp 'evodiag ')" "^watch$" "fish: the verbs"
t_is "$(fcomp 'evodiag bundle --upl')" "--upload" "fish: bundle --upl -> --upload"
t_is "$(fcomp 'evodiag check --only jo')" "journal" "fish: check --only jo -> journal"
t_is "$(fcomp 'evodiag check --only shm,hu')" "shm,hugepages" "fish: check --only shm,hu -> shm,hugepages"
t_is "$(fcomp 'evodiag explain lavinmq.' | tr '\n' ' ')" "$lavinmq_ids" "fish: explain lavinmq. -> every lavinmq ID"
t_is "$(fcomp 'evodiag check --from ' | tr '\n' ' ')" "host1.tar.zst sub/ " "fish: check --from offers bundles and directories, not notes.txt"
t_is "$(fcomp 'evodiag watch --replay ' | tr '\n' ' ')" "sub/ watch.rec " "fish: watch --replay offers recordings"
t_is "$(fcomp 'evodiag check --format ' | tr '\n' ' ')" "json nagios prometheus text " "fish: --format values"
t_is "$(fcomp 'evodiag bundle --component ' | tr '\n' ' ')" "evo framealloc general lavinmq snn vgpu " "fish: --component values"
for v in $verbs; do
        t_is "$(fcomp "evodiag $v -" | grep -- '^-' | tr '\n' ' ')" "$(all_opts "$v")" "fish: every option of $v"
done
t_done
