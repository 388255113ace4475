#!/bin/bash
# Prometheus: the metric names evodiag writes are the ones README "Monitoring" documents
# (both ways), and contrib/prometheus/evodiag.rules.yml only uses names and check IDs
# that exist; `promtool check rules` and `promtool test rules` pass, every alert has a
# firing and a non-firing case, and the unit tests catch a broken rule.
. "$TOP_SRCDIR/tests/lib/tap.sh"

RULES="$TOP_SRCDIR/contrib/prometheus/evodiag.rules.yml"
RTEST="$TOP_SRCDIR/contrib/prometheus/evodiag.rules.test.yml"
README="$TOP_SRCDIR/README.md"

# ---- what the binary writes: check --format prometheus and watch --textfile ----
t_run check --only shm,fds,memory --format prometheus
check_out=$OUT
t_like "$RC" '^[0-3]$' "check --format prometheus ran (exit $RC)"
mkdir -p "$T_TMP/tf"
t_run watch --only shm,fds,memory --interval 200ms --duration 1s --check-every off --textfile "$T_TMP/tf"
t_is "$RC" 0 "watch --textfile ran"
watch_out=$(cat "$T_TMP/tf/evodiag_watch.prom" 2>/dev/null)
families() { printf '%s\n' "$1" | sed -n 's/^# TYPE \([a-zA-Z_:][a-zA-Z0-9_:]*\) .*/\1/p' | sort -u; }
emitted=$( { families "$check_out"; families "$watch_out"; } | sort -u)
# Every sample belongs to a declared family (so the families are all the names there are).
samples=$(printf '%s\n%s\n' "$check_out" "$watch_out" | grep -v '^#' | sed -n 's/^\([a-zA-Z_:][a-zA-Z0-9_:]*\).*/\1/p' | sort -u)
t_is "$(comm -23 <(echo "$samples") <(echo "$emitted") | tr '\n' ' ')" "" "every sample's name is a declared family"
t_like "$(echo "$emitted" | wc -l)" '^1[0-9]$' "check and watch declare $(echo "$emitted" | wc -l) families"

# ---- README "Monitoring": one table, the same names ----
documented=$(sed -n '/^## Monitoring/,/^## /p' "$README" | sed -n 's/^| `\(evodiag_[a-z0-9_]*\)` |.*/\1/p' | sort -u)
t_is "$(comm -23 <(echo "$emitted") <(echo "$documented") | tr '\n' ' ')" "" "every metric evodiag writes is in README's Monitoring table"
t_is "$(comm -13 <(echo "$emitted") <(echo "$documented") | tr '\n' ' ')" "" "every metric in README's table is one evodiag writes"

# ---- the rules use only what exists ----
exprs=$(python3 -c 'import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]: print(r["expr"])' "$RULES" 2>&1)
used=$(printf '%s\n' "$exprs" | grep -o 'evodiag_[a-z0-9_]*' | sort -u)
t_is "$(comm -23 <(echo "$used") <(echo "$emitted") | tr '\n' ' ')" "" "the rules use only metric names evodiag writes"
ids=$(printf '%s\n' "$exprs" | grep -o 'id=~\?"[^"]*"' | sed 's/^id=~\?"//; s/"$//' | tr '|' '\n' | sort -u)
t_run list --json
known=$(printf '%s' "$OUT" | jq -r '.collectors[].checks[].id' | sort -u)
t_like "$ids" 'evo\.stalled' "the rules name check IDs (evo.stalled, gpu.memory, ...)"
t_is "$(comm -23 <(echo "$ids") <(echo "$known") | tr '\n' ' ')" "" "every check ID in the rules is one 'evodiag list' knows"

# ---- the rules themselves (Debian's prometheus package: promtool) ----
if ! command -v promtool >/dev/null 2>&1; then
        t_skip_rest "promtool not installed (Debian package prometheus)"
        t_done
        exit
fi
out=$(promtool check rules "$RULES" 2>&1); rc=$?
t_like "$rc $(printf "%s" "$out" | tr "\n" " ")" '^0 .*SUCCESS: 16 rules found' "promtool check rules: 16 rules"
# promtool resolves rule_files relative to the test file: run it on copies in one dir.
cp "$RULES" "$RTEST" "$T_TMP/"
out=$(cd "$T_TMP" && timeout 120 promtool test rules evodiag.rules.test.yml 2>&1); rc=$?
t_like "$rc $(printf "%s" "$out" | tr "\n" " ")" '^0 .*SUCCESS' "promtool test rules: every case passes"

# Each alert: at least one case where it fires and one where it must not.
cov=$(python3 - "$RULES" "$RTEST" <<'PY' 2>&1
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
tests = yaml.safe_load(open(sys.argv[2]))
alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
fire, quiet = set(), set()
for t in tests["tests"]:
    for c in t.get("alert_rule_test", []):
        (fire if c.get("exp_alerts") else quiet).add(c["alertname"])
for a in alerts:
    n = a["alert"]
    ann = a.get("annotations", {})
    if n not in fire: print(n, "has no firing case")
    if n not in quiet: print(n, "has no non-firing case")
    if not ann.get("runbook") or not ann.get("summary"): print(n, "has no summary or runbook")
    if "check_status" in a["expr"] and "evodiag explain" not in ann.get("runbook", ""):
        print(n, "judges a check ID but its runbook does not name evodiag explain")
print(len(alerts), "alerts")
PY
)
t_like "$cov" '^[0-9]+ alerts$' "every alert has a firing and a non-firing case, a summary and a runbook"
t_like "$cov" '^1[0-9] alerts$' "the rules have the alerts of issue 19 ($cov)"

# The unit tests bite: a crit threshold changed to 3 (unknown) fails them.
sed 's/(evodiag_check_status) == 2/(evodiag_check_status) == 3/' "$RULES" >"$T_TMP/evodiag.rules.yml"
t_unlike "$(cmp "$RULES" "$T_TMP/evodiag.rules.yml")" '^$' "(the broken copy differs)"
out=$(cd "$T_TMP" && timeout 120 promtool test rules evodiag.rules.test.yml 2>&1); rc=$?
t_like "$rc $(printf "%s" "$out" | tr "\n" " ")" '^[1-9] .*FAILED.*alertname: EvodiagCheckCritical' "promtool test rules fails when EvodiagCheckCritical no longer fires on crit"

t_done
