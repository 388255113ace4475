#!/bin/bash
# What people read cannot be hijacked (issue 8, section 7): process names, segment names
# and host names chosen by an attacker go through every output — text with colour forced,
# --root, check --from, summary.txt, evodiag.log, watch (lines, screen, replay), stderr,
# Nagios, JSON (strict UTF-8), Prometheus, ISSUE.md (rendered by cmark-gfm when installed).
# First on a fixture sysroot (any user), then live: a real process renamed with prctl,
# argv[0] set with exec -a, real /dev/shm files (root: in private pid/ipc/net/mount
# namespaces, so the run sees only what this test made).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

command -v python3 >/dev/null || t_skip_all "python3 is needed to check the bytes"

PWN=$'\e[2J\e]0;PWNED\a'                      # clears the screen, sets the title, rings the bell
PWN_SHOWN='\e[2J\e]0;PWNED\a'                 # how evodiag must show it
MDSEG="evo_x\`y | <img src=x> @security-team$$" # leaves a code span, splits the table, injects HTML, mentions
NLSEG=$'evo_nl\nEVODIAG OK - spoofed'"$$"       # a second Nagios status line
BADSEG=$'evo_bad\xff\xfe\x9b'"$$"             # not UTF-8 (0x9b is an 8-bit CSI)
ESCSEG="evo_esc${PWN}$$"
BADCOMM=$'bad\xff\xfe\x9b'                  # a process name that is not UTF-8
HOSTILE_HOST=$'cell\e]0;PWNED\a|<b>@ops'

# inert FILE [allow-colour]: valid UTF-8 with no control character but newlines (and, with
# allow-colour, our own colour codes). Prints where it is not.
inert() {
        python3 - "$@" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
if len(sys.argv) > 2:
    data = re.sub(rb'\x1b\[(?:0|1|2|31|32|33|35|36)m', b'', data)
try:
    text = data.decode('utf-8')
except UnicodeDecodeError as e:
    print('not UTF-8 at byte %d: %r' % (e.start, data[max(0, e.start - 30):e.start + 30]))
    sys.exit(1)
def bad(c):
    o = ord(c)
    return (o < 0x20 and c != '\n') or 0x7f <= o <= 0x9f or o in (0x61c, 0x200e, 0x200f, 0x2028, 0x2029) \
        or 0x202a <= o <= 0x202e or 0x2066 <= o <= 0x2069
for i, c in enumerate(text):
    if bad(c):
        print('control U+%04X at %d: %r' % (ord(c), i, text[max(0, i - 40):i + 40]))
        sys.exit(1)
print('inert')
PY
}
# strict_json FILE [lines]: every byte decodes as UTF-8 and parses as JSON (one document, or one per line).
strict_json() {
        python3 - "$@" <<'PY'
import json, sys
try:
    text = open(sys.argv[1], 'rb').read().decode('utf-8')
    docs = [l for l in text.splitlines() if l] if len(sys.argv) > 2 else [text]
    for d in docs:
        json.loads(d)
    print('valid %d' % len(docs))
except Exception as e:
    print('invalid: %s' % e)
PY
}
# The Markdown text of FILE with code spans and fenced blocks cut out (CommonMark: a span
# runs from a backtick run to the next run of the same length; "\`" opens none).
outside_code() {
        python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding='utf-8', errors='replace').read()
text = re.sub(r'(?ms)^(`{3,}|~{3,}).*?^\1[`~]*$', '', text)
out, i = [], 0
while i < len(text):
    if text[i] == '\\':
        out.append(text[i:i + 2]); i += 2; continue
    if text[i] == '`':
        n = len(re.match(r'`+', text[i:]).group(0))
        m = re.compile(r'(?<!`)`{%d}(?!`)' % n).search(text, i + n)
        if m:
            i = m.end(); continue
        out.append(text[i:i + n]); i += n; continue
    out.append(text[i]); i += 1
print(''.join(out))
PY
}
# GFM cells of the problems table: split at '|' not escaped by a backslash.
cells() {
        python3 - "$1" <<'PY'
import re, sys
rows = [l for l in open(sys.argv[1], encoding='utf-8', errors='replace').read().split('\n') if l.startswith('| ')]
counts = set()
for l in rows:
    parts = re.split(r'(?<!\\)\|', l)
    counts.add(len(parts) - 2)
print(len(rows), ' '.join(str(c) for c in sorted(counts)))
PY
}
# html_check FILE: what a GFM renderer made of ISSUE.md: <img>/<b> elements, rows and cells of the
# first table, an @mention outside <code>.
html_check() {
        python3 - "$1" <<'PY'
import re, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs = self.tables = self.code = 0
        self.rows = []
        self.mention = False
        self.tags = set()
    def handle_starttag(self, tag, a):
        self.tags.add(tag)
        if tag == 'img': self.imgs += 1
        if tag == 'table': self.tables += 1
        if tag == 'tr' and self.tables == 1: self.rows.append(0)
        if tag in ('td', 'th') and self.tables == 1: self.rows[-1] += 1
        if tag == 'code': self.code += 1
    def handle_endtag(self, tag):
        if tag == 'code': self.code -= 1
    def handle_data(self, d):
        if re.search(r'@[A-Za-z0-9]', d) and not self.code: self.mention = True
p = P()
p.feed(open(sys.argv[1], encoding='utf-8', errors='replace').read())
print('img=%d rows=%d cells=%s mention=%s b=%s' % (p.imgs, len(p.rows), ','.join(sorted(set(map(str, p.rows)))), p.mention, 'b' in p.tags))
PY
}
# run NAME ARGS...: evodiag ARGS with stdout/stderr in $T_TMP/NAME.out/.err, exit in RC.
run() {
        local name=$1
        shift
        timeout -k 5 60 "$EVODIAG" "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
        RC=$?
}
has() { LC_ALL=C grep -qF -- "$2" "$1" && echo yes || echo no; }

# ---- a fixture sysroot: a hostile host name, process and segments ----
root=$(fx_root hostile shm-base fds-exhausted)
fx_file "$root" proc/sys/kernel/hostname "$HOSTILE_HOST"
fx_proc "$root" 4242 "$PWN" fds=1000 nofile_soft=1024
fx_proc "$root" 4243 "$BADCOMM" fds=1000 nofile_soft=1024
for s in "$MDSEG" "$NLSEG" "$BADSEG" "$ESCSEG"; do
        printf 'x' >"$root/dev/shm/$s"
        chmod 666 "$root/dev/shm/$s"
done
ONLY=fds,shm,evo

run text check --root "$root" --only "$ONLY" --color always
t_is "$(inert "$T_TMP/text.out" colour)" inert "--root text (colour forced): no control character but our colours"
t_is "$(has "$T_TMP/text.out" $'\e[31m')" yes "--root text: the colours are there (forced)"
t_is "$(has "$T_TMP/text.out" "pid 4242 $PWN_SHOWN: 1000 of 1024 open files")" yes "--root text: the process name shown escaped"
t_is "$(has "$T_TMP/text.out" 'evo_nl\nEVODIAG OK - spoofed')" yes "--root text: a newline in a name shown as \\n"
t_is "$(has "$T_TMP/text.out" 'evo_bad\xff\xfe\x9b')" yes "--root text: bytes that are not UTF-8 shown as \\xNN"
t_is "$(inert "$T_TMP/text.err")" inert "--root: stderr inert"
run textv check --root "$root" --only "$ONLY" -v --color never
t_is "$(inert "$T_TMP/textv.out")" inert "--root text -v (expected/found/remedy of every check): inert"

run json check --root "$root" --only "$ONLY" --json
t_is "$(strict_json "$T_TMP/json.out")" "valid 1" "--json: strict UTF-8 JSON"
t_is "$(inert "$T_TMP/json.out")" inert "--json: no raw control character in the document"
t_is "$(jq -r '.host' "$T_TMP/json.out")" "$HOSTILE_HOST" "--json: the host name round-trips (escaped as \\u001b in the text)"
t_is "$(jq -r '[.collectors[].findings[] | select(.subject == "pid 4242 '"$PWN"'")] | length' "$T_TMP/json.out")" 1 \
        "--json: the process name round-trips"
latin1=$(printf '%s' "$BADCOMM" | python3 -c 'import sys; print(sys.stdin.buffer.read().decode("latin-1"))')
t_is "$(jq -r --arg n "pid 4243 $latin1" '[.collectors[].findings[] | select(.subject == $n)] | length' "$T_TMP/json.out")" 1 \
        "--json: a name that is not UTF-8 is read as Latin-1 (one character per byte)"
t_is "$(LC_ALL=C grep -c 'pid 4243 badÿþ\\u009b' "$T_TMP/json.out")" "$(LC_ALL=C grep -c 'pid 4243 bad' "$T_TMP/json.out")" \
        "--json: 0x9b written as \\u009b, never raw"
seg1=$(printf '%s' "$BADSEG" | python3 -c 'import sys; print(sys.stdin.buffer.read().decode("latin-1"))')
t_is "$(jq -r --arg n "/dev/shm/$seg1" '[.collectors[].findings[] | select(.subject == $n)] | length > 0' "$T_TMP/json.out")" true \
        "--json: a segment name that is not UTF-8 is read as Latin-1 too"

run nagios check --root "$root" --only shm --format nagios
t_is "$(wc -l <"$T_TMP/nagios.out")" 1 "nagios: one line, whatever the names hold"
t_is "$(tr -cd '|' <"$T_TMP/nagios.out" | wc -c)" 1 "nagios: one '|', the one before the perfdata"
t_like "$(cat "$T_TMP/nagios.out")" '^EVODIAG WARNING - .* \| crit=0;;;0 warn=[0-9]+;;;0 unknown=0;;;0 ok=[0-9]+;;;0 duration=[0-9.]+s$' \
        "nagios: status line and perfdata intact"
t_is "$(has "$T_TMP/nagios.out" 'evo_nl\nEVODIAG OK - spoofed')" yes "nagios: the spoofed status shown inside the line, escaped"
t_is "$(has "$T_TMP/nagios.out" 'evo_x`y ¦ <img')" yes "nagios: '|' in a name became '¦'"
t_is "$(inert "$T_TMP/nagios.out")" inert "nagios: inert"

run prom check --root "$root" --only "$ONLY" --format prometheus
t_is "$(inert "$T_TMP/prom.out")" inert "prometheus: inert"
t_is "$(grep -vcE '^(#.*|[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+)$' "$T_TMP/prom.out")" 0 \
        "prometheus: every line is a comment or a well-formed sample"
t_is "$(has "$T_TMP/prom.out" 'subject="pid 4242 \\e[2J\\e]0;PWNED\\a"')" yes "prometheus: the label value escaped"

# ---- a bundle of it: summary.txt, evodiag.log, JSON documents, ISSUE.md; then check --from ----
run bundle bundle --root "$root" --only "$ONLY" -o "$T_TMP/hostile.tar.zst" -q
t_like "$RC" '^[01]$' "bundle: written"
mkdir -p "$T_TMP/x"
tar -xf "$T_TMP/hostile.tar.zst" -C "$T_TMP/x" 2>/dev/null
top=$(ls "$T_TMP/x" | head -1)
B="$T_TMP/x/$top"
t_is "$(inert "$B/summary.txt")" inert "summary.txt: inert"
t_is "$(has "$B/summary.txt" "$PWN_SHOWN")" yes "summary.txt: the process name shown escaped"
t_is "$(inert "$B/evodiag.log")" inert "evodiag.log: inert"
for j in findings.json manifest.json; do
        t_is "$(strict_json "$B/$j")" "valid 1" "$j: strict UTF-8 JSON"
        t_is "$(inert "$B/$j")" inert "$j: no raw control character"
done
bad_json=$(find "$B" -name '*.json' -exec sh -c 'python3 -c "import json,sys; json.loads(open(sys.argv[1],\"rb\").read().decode(\"utf-8\"))" "$1" 2>/dev/null || echo "$1"' _ {} \;)
t_is "$bad_json" "" "every JSON file in the bundle is strict UTF-8 JSON"
I="$B/ISSUE.md"
t_is "$(inert "$I")" inert "ISSUE.md: inert"
t_is "$(outside_code "$I" | grep -a '^|' | grep -ac '&lt;img src=x&gt;')" 1 "ISSUE.md: the segment's name is in the problems table as text"
t_is "$(outside_code "$I" | grep -ac '<img\|@[a-z]')" 0 "ISSUE.md: no <img and no @mention outside code spans"
nprob=$(jq '[.collectors[].findings[] | select(.severity == "warn" or .severity == "crit" or .severity == "unknown")] | length' "$B/findings.json")
[ "$nprob" -gt 12 ] && nprob=12
t_is "$(cells "$I")" "$((nprob + 1)) 4" "ISSUE.md: the problems table has one row per problem, 4 cells each"
t_like "$(grep -F 'evo_x' "$I" | head -1)" '`@security-team[0-9]+`' "ISSUE.md: the mention is inside a code span"
if command -v cmark-gfm >/dev/null; then
        cmark-gfm --unsafe -e table -e autolink -e strikethrough -e tagfilter "$I" >"$T_TMP/issue.html"
        t_is "$(html_check "$T_TMP/issue.html")" "img=0 rows=$((nprob + 1)) cells=4 mention=False b=False" \
                "ISSUE.md rendered by cmark-gfm: no <img>, no <b>, $((nprob + 1)) rows of 4 cells, no mention outside code"
        t_like "$(cat "$T_TMP/issue.html")" '<code>chmod 664 .*/dev/shm/evo_x`y \| &lt;img src=x&gt; @security-team[0-9]+' \
                "ISSUE.md rendered: the remedy's code span holds the whole name, '|' included"
else
        t_skip "cmark-gfm not installed: ISSUE.md not rendered (it is in .ci/packages)"
        t_skip "cmark-gfm not installed"
fi

run from check --from "$T_TMP/hostile.tar.zst" --color always -v
t_is "$(inert "$T_TMP/from.out" colour)" inert "check --from (colour forced): inert"
t_is "$(has "$T_TMP/from.out" "$PWN_SHOWN")" yes "check --from: the process name shown escaped"
t_is "$(inert "$T_TMP/from.err")" inert "check --from -v: stderr (recorded vs now) inert"
t_like "$(cat "$T_TMP/from.err")" 'collectors agree' "check --from: the comparison ran"
t_unlike "$(cat "$T_TMP/from.err")" 'differ: .*(shm|fds)' "check --from: a name that is not UTF-8 compares equal with the recorded findings"

# ---- watch: lines, JSON lines, recording and replay, Prometheus textfile ----
mkdir -p "$T_TMP/rec" "$T_TMP/prom"
run watch watch --root "$root" --only fds,shm --interval 200ms --duration 1s --record "$T_TMP/rec/w.rec" --textfile "$T_TMP/prom"
t_is "$(inert "$T_TMP/watch.out")" inert "watch lines: inert"
t_is "$(has "$T_TMP/watch.out" "$PWN_SHOWN")" yes "watch lines: the process name shown escaped"
t_is "$(inert "$T_TMP/prom/evodiag_watch.prom")" inert "watch --textfile: inert"
t_is "$(grep -vcE '^(#.*|[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+)$' "$T_TMP/prom/evodiag_watch.prom")" 0 \
        "watch --textfile: every line well-formed"
run wjson watch --root "$root" --only fds,shm --interval 200ms --duration 1s --json
t_like "$(strict_json "$T_TMP/wjson.out" lines)" '^valid [1-9]' "watch --json: every line strict UTF-8 JSON"
t_is "$(inert "$T_TMP/wjson.out")" inert "watch --json: inert"
run replay watch --replay "$T_TMP/rec/w.rec"
t_is "$(inert "$T_TMP/replay.out")" inert "watch --replay: inert"
t_is "$(has "$T_TMP/replay.out" "$PWN_SHOWN")" yes "watch --replay: the process name shown escaped"

# The screen, in a real terminal: the name is shown, the terminal's title is untouched.
if command -v tmux >/dev/null; then
        sock="evodiag-esc-$$"
        t_at_exit "tmux -L $sock kill-server 2>/dev/null"
        tmux -L "$sock" new-session -d -s v -x 120 -y 30 \
                "env TERM=xterm-256color $EVODIAG watch --root '$root' --only fds,shm --interval 200ms --color always; sleep 60"
        i=0
        while ! tmux -L "$sock" capture-pane -p -t v | grep -q "recent events" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
        s=$(tmux -L "$sock" capture-pane -p -t v)
        t_like "$s" 'pid 4242 \\e\[2J\\e\]0;PWNED\\a' "screen: the process name shown escaped"
        t_like "$s" 'recent events' "screen: the layout is intact"
        t_unlike "$(tmux -L "$sock" display -p -t v '#{pane_title}')" PWNED "screen: the terminal title was not set by a name"
        tmux -L "$sock" kill-server 2>/dev/null
else
        t_skip "tmux not installed: the screen is not tested"
fi

# ---- live: a real process renamed by prctl, argv[0] by exec -a, real /dev/shm files ----
if [ "$(id -u)" != 0 ] || ! unshare --pid --fork --mount-proc --ipc --net true 2>/dev/null; then
        t_skip_rest "live: needs root and unshare (private pid/ipc/net/mount namespaces)"
        t_done
        exit $?
fi
cat >"$T_TMP/hog.py" <<'PY'
# A process that names itself (prctl PR_SET_NAME) and holds most of its open-files limit.
import ctypes, os, resource, sys, time
name, ready = os.fsencode(sys.argv[1]), sys.argv[2]
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(58)]
if ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0) != 0:
    sys.exit(1)
open(ready, 'w').close()
time.sleep(120)
PY
cat >"$T_TMP/inner.sh" <<'SH'
# Runs as pid 1 of a private pid namespace: everything started here dies with it.
set -u
mount -t tmpfs -o size=1m,mode=1777 tmpfs /dev/shm || exit 1
for s in "$MDSEG" "$NLSEG" "$BADSEG" "$ESCSEG"; do printf 'x' >"/dev/shm/$s"; chmod 666 "/dev/shm/$s"; done
python3 "$T_TMP/hog.py" "$PWN" "$T_TMP/ready" &
PY=$(python3 -c 'import sys; print(sys.executable)')
(exec -a "$PWN" sleep 120) &
(exec -a lavinmq "$PY" -c 'import time; time.sleep(120)' -D $'/x\nEVODIAG OK - spoofed') &
i=0
while [ ! -e "$T_TMP/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
E() { local n=$1; shift; timeout -k 5 60 "$EVODIAG" "$@" >"$T_TMP/live-$n.out" 2>"$T_TMP/live-$n.err"; echo $? >"$T_TMP/live-$n.rc"; }
E text check --only fds,shm,evo,lavinmq --color always -v
E json check --only fds,shm,evo,lavinmq --json -v
E nagios check --only shm --format nagios
E nagios2 check --only lavinmq --format nagios
ps -eo args >"$T_TMP/live-ps.out"
E bundle bundle --only fds,shm,evo -o "$T_TMP/live.tar.zst" -q
E watch watch --only fds --interval 200ms --duration 1s
SH
env T_TMP="$T_TMP" EVODIAG="$EVODIAG" PWN="$PWN" MDSEG="$MDSEG" NLSEG="$NLSEG" BADSEG="$BADSEG" ESCSEG="$ESCSEG" \
        timeout -k 5 300 unshare --pid --fork --mount-proc --ipc --net bash "$T_TMP/inner.sh"
t_is "$?" 0 "live: the namespace run finished"
t_is "$(grep -c 'PWNED.* 120$' "$T_TMP/live-ps.out")" 1 "live: a sleep runs with the hostile argv[0] (exec -a)"
t_is "$(inert "$T_TMP/live-text.out" colour)" inert "live text (colour forced, -v): inert"
# libproc2 shows control characters in a live comm as '?' itself; the bundle keeps /proc/PID/stat as is.
t_like "$(cat "$T_TMP/live-text.out")" 'pid [0-9]+ (\\e\[2J\\e\]0;PWNED\\a|\?\[2J\?\]0;PWNED\?): [0-9]+ of 64 open files' \
        "live text: the prctl-named process reported, its name escaped"
t_is "$(has "$T_TMP/live-text.out" 'x\nEVODIAG OK - spoofed')" yes "live text -v: the broker's argv and data dir shown escaped"
t_is "$(inert "$T_TMP/live-text.err")" inert "live: stderr inert"
t_is "$(strict_json "$T_TMP/live-json.out")" "valid 1" "live --json: strict UTF-8 JSON"
t_is "$(inert "$T_TMP/live-json.out")" inert "live --json: inert"
t_is "$(jq -r '[.collectors[].findings[] | select(.id == "fds.process" and (.subject // "" | test("^pid [0-9]+ (\u001b\\[2J\u001b\\]0;PWNED\u0007|\\?\\[2J\\?\\]0;PWNED\\?)$")))] | length' "$T_TMP/live-json.out")" 1 \
        "live --json: the prctl-named process reported"
for n in nagios nagios2; do
        what=$([ $n = nagios ] && echo "a segment" || echo "the broker's data dir")
        t_is "$(wc -l <"$T_TMP/live-$n.out")" 1 "live nagios, $what with a newline: one line"
        t_is "$(grep -c '^EVODIAG' "$T_TMP/live-$n.out")" 1 "live nagios, $what: no forged status line"
        t_is "$(has "$T_TMP/live-$n.out" '\nEVODIAG OK - spoofed')" yes "live nagios, $what: the spoofed text shown escaped inside the line"
done
t_is "$(inert "$T_TMP/live-watch.out")" inert "live watch lines: inert"
t_is "$(has "$T_TMP/live-watch.out" "$PWN_SHOWN")" yes "live watch lines: the prctl name shown escaped"
rm -rf "$T_TMP/lx" && mkdir -p "$T_TMP/lx" && tar -xf "$T_TMP/live.tar.zst" -C "$T_TMP/lx" 2>/dev/null
LB="$T_TMP/lx/$(ls "$T_TMP/lx" | head -1)"
t_is "$(inert "$LB/summary.txt")" inert "live summary.txt: inert"
t_is "$(has "$LB/summary.txt" "$PWN_SHOWN")" yes "live summary.txt: the prctl name shown escaped"
t_is "$(strict_json "$LB/findings.json") $(strict_json "$LB/manifest.json")" "valid 1 valid 1" "live findings.json, manifest.json: strict UTF-8 JSON"
t_is "$(outside_code "$LB/ISSUE.md" | grep -ac '<img\|@[a-z]')" 0 "live ISSUE.md: no <img and no @mention outside code spans"
t_is "$(cells "$LB/ISSUE.md" | cut -d' ' -f2-)" 4 "live ISSUE.md: every table row has 4 cells"
run lfrom check --from "$T_TMP/live.tar.zst" --color always
t_is "$(inert "$T_TMP/lfrom.out" colour)" inert "live check --from (colour forced): inert"
t_is "$(has "$T_TMP/lfrom.out" "$PWN_SHOWN")" yes "live check --from: the prctl name shown escaped"
left=0
for s in "$MDSEG" "$NLSEG" "$BADSEG" "$ESCSEG"; do [ -e "/dev/shm/$s" ] && left=$((left + 1)); done
t_is "$left" 0 "live: no segment of this test on the host's /dev/shm (they lived in the private one)"

t_done
