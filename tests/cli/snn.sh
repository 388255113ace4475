#!/bin/bash
# snn collector (Cerebellar-Norse): real HTTP servers on 127.0.0.1 started here
# (tests/helpers/fake_snn.py): healthy in the code's shape and the docs' shape, degraded
# with failing checks, unhealthy (503), unreachable, slow past the timeout, malformed JSON,
# metrics with a latency histogram over the 10 µs budget, a 100 MB reply cut at the cap;
# detection; a process named cerebellar-norse; its RSS growing steadily (tests/helpers/rss_grower) or
# flat (snn.rss in check, watch and bundle); the granule formula against a GPU's memory (recorded
# nvidia-smi); the bundle's copies of the replies.
# Run in a pid namespace of its own (as root): the processes named cerebellar-norse
# started here are the only ones evodiag sees.
if [ "$(id -u)" = 0 ] && [ -z "${EVODIAG_TEST_PIDNS:-}" ] && unshare -p -f -m --mount-proc --propagation private true 2>/dev/null; then
        EVODIAG_TEST_PIDNS=1 exec unshare -p -f -m --mount-proc --propagation private bash "$0" "$@"
fi
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
FAKE="$TOP_SRCDIR/tests/helpers/fake_snn.py"

field() { # id field [subject]
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" --arg s "${3:-}" \
                '[.collectors[].findings[] | select(.id == $id and ($s == "" or .subject == $s)) | .[$f] // ""] | first // ""'
}
ids_of() {
        printf '%s' "$OUT" | jq -r '[.collectors[] | select(.name == "snn") | .findings[] | "\(.id)=\(.severity)"] | join(" ")'
}
conf() { # key=value ... -> $T_TMP/evodiag.conf, [snn]; the host's journal is not this test's:
        # an absent journal directory unless one is given
        { echo "[snn]"; for kv in "$@"; do echo "$kv"; done
          case "$*" in *journal_dir*) ;; *) echo "journal_dir = $T_TMP/no-journal" ;; esac; } >"$T_TMP/evodiag.conf"
}
export EVODIAG_CONFIG="$T_TMP/evodiag.conf"

# ---- detection: an empty root has no service; the unit file or the config makes it relevant ----
mkdir -p "$T_TMP/root/etc" "$T_TMP/root/proc"
conf
t_run check --root "$T_TMP/root" --only snn --json
t_like "$OUT" '"not_relevant"|not relevant|"applies": *false' "empty root: snn not relevant"
t_like "$OUT" "a listener on the default port 8080 alone does not count: set \\[snn\\] url" "not relevant: says a listener on 8080 is not enough, and what to set"
t_run list --root "$T_TMP/root"
t_like "$(printf '%s\n' "$OUT" | grep -A1 '^snn ' | tail -1)" "^ +not here: .*a listener on the default port 8080 alone does not count: set \\[snn\\] url" \
        "list: why snn does not apply, and that [snn] url makes it"
t_run list --json --root "$T_TMP/root"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "snn") | "\(.applies) \(.absent)"')" "^false .*set \\[snn\\] url" \
        "list --json: absent says why"
mkdir -p "$T_TMP/root/etc/systemd/system"
printf '[Service]\nUser=cerebellar\nExecStart=/opt/cerebellar-norse/target/release/cerebellar-norse\n' \
        >"$T_TMP/root/etc/systemd/system/cerebellar-norse.service"
t_run check --root "$T_TMP/root" --only snn --json
t_is "$(ids_of)" "snn.process=info snn.config=skipped snn.logs=skipped snn.logs=skipped snn.resources=skipped snn.health=skipped snn.info=skipped snn.metrics=skipped snn.latency=skipped snn.errors=skipped snn.cuda_memory=skipped snn.rss=skipped" \
        "unit installed, under --root: relevant, the HTTP checks skipped (not live)"
t_like "$(field snn.process summary)" "the unit cerebellar-norse.service is installed" "unit installed: said"

# ---- production.toml under --root: both documented layouts, invalid TOML, wrong types ----
SNNFX="$TOP_SRCDIR/tests/fixtures/snn"
cfroot() { # fixture -> a root with it as /etc/cerebellar-norse/production.toml and 16 GiB of memory
        local r="$T_TMP/cf-$1"
        mkdir -p "$r/etc/cerebellar-norse" "$r/proc"
        cp "$SNNFX/$1.toml" "$r/etc/cerebellar-norse/production.toml"
        printf 'MemTotal:       16777216 kB\nMemFree:         8388608 kB\n' >"$r/proc/meminfo"
        printf '%s\n' "$r"
}
conf
t_run check --root "$(cfroot deployment)" --only snn --json
t_is "$(field snn.config severity)" ok "deployment.md layout: read"
t_is "$(field snn.config summary)" "/etc/cerebellar-norse/production.toml read: 26 values in [logging, monitoring, neural, performance, security]" \
        "deployment.md layout: every value and table (toml++)"
t_is "$(field snn.config actual)" "device cuda, granule_size 4000000, batch_size 64, cuda_streams 4" "deployment.md layout: the values checks use"
t_unlike "$OUT" "SNN-API-KEY-SECRET" "deployment.md layout: the api_key appears nowhere in the report"
t_is "$(field snn.device severity)" skipped "device = cuda under --root: the GPU is asked on the live host only"
t_is "$(field snn.memory_fit summary):$(field snn.memory_fit severity)" \
        "granule_size 4000000 x 4 bytes x 800 connections = 11.9 GiB, below MemTotal 16.0 GiB:ok" "deployment.md layout: the guide's memory formula fits"
t_is "$(field snn.learning_rate severity)" ok "learning_rate 0.001: ok"
t_run check --root "$(cfroot getting-started)" --only snn --json
t_is "$(field snn.config summary)" "/etc/cerebellar-norse/production.toml read: 18 values in [neural, performance, server, training]" \
        "getting-started layout ([server], arrays, inline table, multi-line string): read"
t_is "$(field snn.config actual)" "device cpu, granule_size 10000000, [server] port 8080" "getting-started layout: [server] port"
t_is "$(field snn.device summary)" 'device = "cpu": no GPU needed' "device = cpu: ok"
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "snn.memory_fit") | "\(.subject)=\(.severity)"] | join(" ")')" \
        "granule_size=warn memory_limit=warn" "getting-started layout: granule_size and memory_limit over MemTotal"
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "snn.memory_fit" and .subject == "granule_size") | .summary] | first')" \
        "granule_size 10000000 x 4 bytes x 800 connections = 29.8 GiB, at or above MemTotal 16.0 GiB" "the guide's formula: 10000000 needs > 16 GiB"
t_like "$(field snn.learning_rate summary):$(field snn.learning_rate severity)" "^learning_rate 0\.05: above 0\.01.*:info$" "learning_rate 0.05: info"
# Resources: somaxconn and the service's open-files limit against [server] max_connections
# (10000), and a CPU capped below its maximum frequency.
r=$(cfroot getting-started)
fx_proc "$r" 812 cerebellar-norse nofile_soft=4096 nofile_hard=4096 cmdline=/opt/cerebellar-norse/target/release/cerebellar-norse
fx_file "$r" proc/sys/net/core/somaxconn 4096
fx_file "$r" sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq 2000000
fx_file "$r" sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq 3500000
fx_file "$r" sys/devices/system/cpu/cpu1/cpufreq/scaling_max_freq 3500000
fx_file "$r" sys/devices/system/cpu/cpu1/cpufreq/cpuinfo_max_freq 3500000
t_run check --root "$r" --only snn --json
t_is "$(field snn.process summary)" "cerebellar-norse runs: pid 812, RSS 1.0 MiB" "resources: the service's process (root's)"
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "snn.resources") | "\(.subject)=\(.severity)"] | join(" ")')" \
        "somaxconn=warn pid 812 nofile=warn cpufreq=warn" "resources: somaxconn, nofile and cpufreq all warn"
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "snn.resources") | .summary] | join(" | ")')" \
        "net.core.somaxconn 4096 is below [server] max_connections 10000 | pid 812 may open 4096 files < max_connections 10000 | 1 of 2 CPUs capped below their maximum frequency: cpu0 scaling_max_freq 2000000 kHz < cpuinfo_max_freq 3500000 kHz" \
        "resources: what each says"
fx_file "$r" proc/sys/net/core/somaxconn 65535
fx_file "$r" sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq 3500000
fx_proc "$r" 812 cerebellar-norse nofile_soft=1048576 nofile_hard=1048576 cmdline=/opt/cerebellar-norse/target/release/cerebellar-norse
t_run check --root "$r" --only snn --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "snn.resources") | "\(.subject)=\(.severity)"] | join(" ")')" \
        "somaxconn=ok pid 812 nofile=ok cpufreq=ok" "resources: enough: ok"
t_run check --root "$(cfroot invalid)" --only snn --json
t_is "$(field snn.config severity)" warn "invalid TOML: warn"
t_like "$(field snn.config summary)" "^/etc/cerebellar-norse/production\.toml is not valid TOML: line 5, column [0-9]+: " "invalid TOML: toml++'s line and column"
t_like "$(field snn.config remedy)" "fix line 5 of" "invalid TOML: the line to fix"
t_run check --root "$(cfroot wrong-types)" --only snn --json
t_is "$(field snn.config summary)" "/etc/cerebellar-norse/production.toml: [performance] device is not a text" "device = 1: the wrong type named"
r=$(cfroot deployment)
rm "$r/etc/cerebellar-norse/production.toml"
mkfifo "$r/etc/cerebellar-norse/production.toml"
T_TIMEOUT=20 t_run check --root "$r" --only snn --json
t_is "$(field snn.config severity)" unknown "a FIFO as production.toml: unknown, and no hang"

command -v python3 >/dev/null || { t_skip_rest "python3 is missing"; t_done; exit; }
ps -eo comm= | grep -qx cerebellar-norse && { t_skip_rest "a cerebellar-norse process already runs here"; t_done; exit; }

FAKE_PID=
start_fake() { # scenario [key=value of [snn]...]
        local i sc=$1
        shift
        rm -f "$T_TMP/fake.out"
        python3 "$FAKE" --scenario "$sc" >"$T_TMP/fake.out" 2>"$T_TMP/fake.err" &
        FAKE_PID=$!
        t_at_exit "kill $FAKE_PID 2>/dev/null"
        for i in $(seq 100); do grep -q '^listening' "$T_TMP/fake.out" 2>/dev/null && break; sleep 0.1; done
        PORT=$(awk '$1 == "listening" {print $2}' "$T_TMP/fake.out")
        conf "url = http://127.0.0.1:$PORT" "$@"
}
stop_fake() {
        kill "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
        FAKE_PID=
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- healthy, the code's shapes: detected by the listener on the configured port ----
start_fake healthy
t_run check --only snn --json
t_is "$RC" 0 "healthy: exit 0"
t_is "$(ids_of | sed -E 's/ snn\.resources=[a-z]+//')" "snn.process=info snn.config=skipped snn.logs=skipped snn.logs=skipped snn.health=ok snn.info=info snn.metrics=ok snn.latency=ok snn.errors=ok snn.cuda_memory=skipped snn.rss=skipped" \
        "healthy: relevant through the listener on [snn] url's port; every check ok, info or skipped (snn.resources: this host's cpufreq)"
t_like "$(field snn.health summary)" "^http://127\.0\.0\.1:$PORT: healthy in [0-9]+ ms \(the exporter's shape\)$" "healthy: the code's shape"
t_like "$(field snn.health actual)" "version 0\.3\.1; the exporter's /health is always healthy" "healthy: the code's /health proves little, and says so"
t_is "$(field snn.info summary)" "cerebellar-norse-metrics-exporter 0.3.1" "info: service and version"
t_is "$(field snn.info actual)" "version 0.3.1, build 2026-11-02T10:00:00Z, commit 856a8f66, rust 1.82.0" "info: build facts"
t_is "$(field snn.metrics summary)" "/metrics: 8 series; /neural/metrics: 4 series" "metrics: both endpoints parsed"
t_is "$(field snn.latency summary)" "neural_inference_latency_seconds p95 4.8 µs (p50 1.8 µs, p99 7.5 µs) over 1000 observations" \
        "latency: PromQL quantiles from the buckets"
t_is "$(field snn.errors summary)" "error rate 0.10% (neural_error_rate_percent)" "errors: the rate from /neural/metrics"

# ---- the docs' HealthResponse ----
stop_fake; start_fake docs
t_run check --only snn --json
t_is "$(field snn.health severity)" ok "docs shape, all checks pass: ok"
t_like "$(field snn.health summary)" "healthy in [0-9]+ ms \(the documented API's shape\)" "docs shape recognised"
t_is "$(field snn.health actual)" "up 3600 s; 2 checks, 0 not passing" "docs shape: uptime and checks"
t_is "$(field snn.info severity)" skipped "docs: /info 404 is skipped, not a failure"

# ---- degraded: warn naming the failing checks ----
stop_fake; start_fake degraded
t_run check --only snn --json
t_is "$RC:$(field snn.health severity)" "1:warn" "degraded: warn, exit 1"
t_is "$(field snn.health summary)" "http://127.0.0.1:$PORT: degraded, failing checks: gpu: fail (CUDA_ERROR_OUT_OF_MEMORY), disk: warn (85% full) (HTTP 200)" \
        "degraded: the failing checks named"

# ---- unhealthy (503): crit ----
stop_fake; start_fake unhealthy
t_run check --only snn --json
t_is "$RC:$(field snn.health severity)" "2:crit" "unhealthy: crit, exit 2"
t_like "$(field snn.health summary)" "unhealthy, failing checks: neural: fail \(model not loaded\) \(HTTP 503\)" "unhealthy: the check named"

# ---- malformed JSON ----
stop_fake; start_fake malformed
t_run check --only snn --json
t_is "$(field snn.health severity)" warn "malformed /health: warn, not ok"
t_like "$(field snn.health summary)" "^/health answers HTTP 200, but not with the health JSON: /health: not JSON" "malformed: says why"
t_like "$(field snn.info summary)" "^/info: not JSON" "malformed /info: says why"

# ---- slow past the timeout: crit, and evodiag returns in time ----
stop_fake; start_fake slow "timeout_ms = 700"
start=$(date +%s%N)
t_run check --only snn --json
took=$((($(date +%s%N) - start) / 1000000))
t_is "$RC:$(field snn.health severity)" "2:crit" "slow: crit"
t_like "$(field snn.health summary)" "does not answer at http://127\.0\.0\.1:$PORT: no complete answer from 127\.0\.0\.1:$PORT within 700 ms$" "slow: the timeout named"
# (700 ms asked; the bound is what tells "gave up" from "waited for the server", with room for a loaded host)
t_like "$took" '^([0-9]{1,3}|[1-7][0-9]{3})$' "slow: evodiag finished within 8 s, not after the server's 10 s (took ${took} ms)"
t_like "$(field snn.metrics summary)" "^/metrics not asked: /health got no answer" "slow: the other routes are not asked (they would only wait as long)"

# ---- unreachable ----
stop_fake
PORT=$(free_port)
conf "url = http://127.0.0.1:$PORT"
mkdir -p "$T_TMP/etc"
t_run check --only snn --json
t_like "$OUT" '"not_relevant"|not relevant|"applies": *false' "unreachable and nothing else of the service here: not relevant"
# The service is installed (its process runs) but does not answer: crit.
mkdir -p "$T_TMP/bin"
# A binary called cerebellar-norse (comm is cut to 15 characters: argv[0] names it).
cp "$(command -v sleep)" "$T_TMP/bin/cerebellar-norse"
"$T_TMP/bin/cerebellar-norse" 600 &
SVC=$!
t_at_exit "kill $SVC 2>/dev/null"
for _ in $(seq 50); do [ "$(cat /proc/$SVC/comm 2>/dev/null)" = cerebellar-nors ] && break; sleep 0.1; done
t_run check --only snn --json
t_is "$RC:$(field snn.health severity)" "2:crit" "process runs, nothing answers: crit"
t_like "$(field snn.health summary)" "does not answer at http://127\.0\.0\.1:$PORT" "unreachable: said"
if [ "$(id -u)" = 0 ]; then
        t_like "$(field snn.process summary)" "^cerebellar-norse runs: pid $SVC, RSS " "process: root's cerebellar-norse is the service"
else
        t_like "$(field snn.process summary)" "^cerebellar-norse runs: pid $SVC|is named cerebellar-norse but is not the service" "process: found"
fi
t_is "$(field snn.metrics severity)" unknown "unreachable: metrics unknown, not ok"
t_is "$(field snn.latency severity)" unknown "unreachable: latency unknown, not ok"

# ---- snn.rss: the service's RSS across the window; one that grows steadily (leak suspect), one flat ----
kill "$SVC" 2>/dev/null; wait "$SVC" 2>/dev/null
GROWER="$TOP_BUILDDIR/tests/helpers/rss_grower"
mkdir -p "$T_TMP/rss"
cp "$GROWER" "$T_TMP/rss/cerebellar-norse"
start_grower() { # KiB/s -> $GPID, running under the service's name
        rm -f "$T_TMP/rss.out"
        "$T_TMP/rss/cerebellar-norse" "$1" 120 >"$T_TMP/rss.out" &
        GPID=$!
        t_at_exit "kill $GPID 2>/dev/null"
        for _ in $(seq 50); do grep -q ready "$T_TMP/rss.out" 2>/dev/null && break; sleep 0.1; done
}
ME=$(id -un)
start_grower 8192
conf "url = http://127.0.0.1:$PORT" "service_user = $ME" "rss_window = 2s"
t_run check --only snn --json
t_is "$(field snn.rss severity)" crit "rss: 8 MiB/s, steadily: crit (above rss_growth_crit 100M a minute)"
t_like "$(field snn.rss summary)" "^pid $GPID RSS [0-9.]+ [KMG]iB -> [0-9.]+ [KMG]iB in [0-9.]+ s \(\+[0-9.]+ [MG]iB/min\): growing steadily, leak suspect$" \
        "rss: the readings and the slope per minute"
t_like "$(field snn.rss actual)" "^[0-9]+ readings, RSS rose at ([6-9]|[1-9][0-9]) of [0-9]+ steps" "rss: readings across the window"
conf "url = http://127.0.0.1:$PORT" "service_user = $ME" "rss_window = 2s" "rss_growth_crit = 0"
t_run check --only snn --json
t_is "$(field snn.rss severity)" warn "rss: rss_growth_crit 0: warn only"
# a bundle stores the readings taken while it ran
t_run bundle --only snn -o "$T_TMP/rb.tar.zst" -q
mkdir -p "$T_TMP/rb"
tar --zstd -xf "$T_TMP/rb.tar.zst" -C "$T_TMP/rb"
RCSV=$(find "$T_TMP/rb" -path "*collectors/snn/rss.csv" | head -1)
t_is "$(head -1 "$RCSV" 2>/dev/null)" "pid,ms,vmrss_bytes" "bundle: rss.csv"
t_like "$(awk -F, -v p="$GPID" '$1 == p {n++} END {print n + 0}' "$RCSV" 2>/dev/null)" '^([4-9]|[1-9][0-9])$' "bundle: a series of the service's RSS over the bundle's window"
t_like "$(awk -F, -v p="$GPID" '$1 == p {if (!f) f = $3; l = $3} END {print (l > f + 4194304) ? "grew" : "flat " f " " l}' "$RCSV" 2>/dev/null)" '^grew$' \
        "bundle: the series shows the growth"
# watch: the slope over the session
timeout -k 5 60 "$EVODIAG" watch --only snn --interval 250ms --duration 3s --json >"$T_TMP/rw.jsonl" 2>"$T_TMP/rw.err"
t_like "$(jq -r 'select(.type == "sample") | .values[]? | select(.key == "snn.rss_bytes") | .value' "$T_TMP/rw.jsonl" | wc -l)" '^ *([5-9]|[1-9][0-9])$' \
        "watch: snn.rss_bytes in the samples"
t_like "$(jq -r 'select(.type == "event" and .id == "snn.rss") | .severity + " " + .summary' "$T_TMP/rw.jsonl" | tail -1)" \
        "^warn pid $GPID RSS \+[0-9.]+ [MG]iB/min over [0-9]+ s: growing steadily, leak suspect$" "watch: steady growth over the session is a warn event"
kill "$GPID" 2>/dev/null; wait "$GPID" 2>/dev/null
start_grower 0
conf "url = http://127.0.0.1:$PORT" "service_user = $ME" "rss_window = 2s"
t_run check --only snn --json
t_is "$(field snn.rss severity)" ok "rss: a service whose RSS stays flat: ok"
t_like "$(field snn.rss summary)" "^pid $GPID RSS .* in [0-9.]+ s \([+-][0-9.]+ ([KM]i)?B/min\)$" "rss: flat, no leak suspected"
kill "$GPID" 2>/dev/null; wait "$GPID" 2>/dev/null

# ---- over budget: p95 50 µs, error rate 5 %, CUDA memory 95 %, bad metric lines ----
start_fake overbudget
t_run check --only snn --json
t_is "$(field snn.latency severity)" warn "over budget: latency warn"
t_is "$(field snn.latency summary)" "processing_duration_seconds p95 50.0 µs (p50 25.0 µs, p99 58.0 µs) over 1000 observations: over the budget" \
        "over budget: the docs' histogram, PromQL quantiles"
t_is "$(field snn.latency expected)" "p95 below 10.0 µs" "over budget: the guide's 10 µs budget"
t_is "$(field snn.errors summary):$(field snn.errors severity)" "error rate 5.00% (neural_error_rate_percent):warn" "over budget: error rate warn"
t_is "$(field snn.errors actual)" "neural_errors_total 50" "over budget: the error count"
t_is "$(field snn.cuda_memory severity)" warn "over budget: CUDA memory warn"
t_like "$(field snn.cuda_memory summary)" "\(95\.0%\)" "over budget: CUDA memory percentage"
t_like "$(field snn.cuda_memory remedy)" "batch_size" "over budget: the guide's reduce-batch-size remedy"
t_is "$(field snn.cuda_memory actual)" "GPU utilization 35%" "over budget: GPU utilization shown"
t_is "$(field snn.metrics severity)" warn "bad metric lines: warn"
t_like "$(field snn.metrics summary)" "^/metrics: 9 series, 2 bad lines \(line 12: " "bad metric lines: counted, the first named"
conf "url = http://127.0.0.1:$PORT" "latency_warn_us = 20" "latency_crit_us = 40"
t_run check --only snn --json
t_is "$(field snn.latency severity)" crit "over budget, crit threshold 40 µs: crit"

# ---- a 100 MB reply, cut at the cap ----
stop_fake; start_fake huge "body_max = 1M"
start=$(date +%s%N)
t_run check --only snn --json
took=$((($(date +%s%N) - start) / 1000000))
t_is "$(field snn.metrics severity)" warn "huge: warn"
t_like "$(field snn.metrics summary)" "^/metrics: .*1048576.* \(not parsed\)" "huge: cut at the 1 MiB cap, said"
t_like "$(ps -o rss= -p $$)" . "huge: (evodiag's memory is bounded by the cap)"
t_like "$took" '^[0-9]{1,4}$' "huge: finished in ${took} ms (not after reading 100 MB)"

# ---- logs: plain and JSON lines, CUDA errors, bounded tail ----
LOG="$T_TMP/application.log"
{
        for i in $(seq 20000); do echo "2026-11-30T09:00:00Z INFO processed batch $i"; done
        echo '2026-11-30T09:01:00Z ERROR cuda: CUDA_ERROR_OUT_OF_MEMORY while allocating 2147483648 bytes'
        echo '2026-11-30T09:01:01Z ERROR cuda: CUDA_ERROR_OUT_OF_MEMORY again'
        echo '2026-11-30T09:01:02Z ERROR cuda: CUDA_ERROR_LAUNCH_FAILED in kernel spike_prop'
        echo '2026-11-30T09:01:03Z WARN pool: allocation failed, retrying'
        echo '{"timestamp":"2026-11-30T09:01:04Z","level":"WARN","fields":{"message":"inference latency budget exceeded","processing_time_ns":48000}}'
        echo '{"timestamp":"2026-11-30T09:01:05Z","level":"INFO","fields":{"message":"ok ERROR-free","processing_time_ns":3000}}'
        printf '{"level":"ERROR","fields":{"message":"OutOfMemory: \u001b[31m"}}\n'
} >"$LOG"
conf "url = http://127.0.0.1:$PORT" "logs = $LOG, $T_TMP/app.log" "log_tail = 64k"
t_run check --only snn --json
t_is "$(field snn.logs severity)" warn "logs: CUDA errors: warn"
t_is "$(field snn.logs summary)" "$LOG: CUDA_ERROR_OUT_OF_MEMORY x2 (2: out of GPU memory), CUDA_ERROR_LAUNCH_FAILED x1 (719: kernel launch failed), allocation failed x1, latency exceeded x1, OutOfMemory x1" \
        "logs: each kind counted, the CUDA codes' meanings"
t_like "$(field snn.logs actual)" "^last [0-9]+ lines \(3 JSON\), 4 errors, 2 warnings; processing_time_ns max 48000, 1 at or above the 10000 ns budget; first: " \
        "logs: bounded tail, JSON levels and processing times understood"
t_unlike "$(field snn.logs actual)" $'\e' "logs: no escape sequence from the log reaches the report"
# The unit's journal (a real journal file built here): its CUDA error counted too.
if [ -x /lib/systemd/systemd-journal-remote ]; then
        mkdir -p "$T_TMP/journal"
        sh "$TOP_SRCDIR/tests/helpers/mkjournal.sh" "$TOP_SRCDIR/tests/fixtures/journal/host.export" "$T_TMP/journal/system.journal"
        conf "url = http://127.0.0.1:$PORT" "logs = $LOG" "journal_dir = $T_TMP/journal"
        t_run check --only snn --json
        t_is "$(field snn.logs summary journal):$(field snn.logs severity journal)" \
                "journal of cerebellar-norse.service: CUDA_ERROR_OUT_OF_MEMORY x1 (2: out of GPU memory):warn" "journal: the unit's CUDA error counted"
        t_like "$(field snn.logs actual journal)" "^[0-9]+ entries in the last 1h; first: GPU step failed: CUDA_ERROR_OUT_OF_MEMORY" "journal: the entry quoted"
        conf "url = http://127.0.0.1:$PORT" "logs = $LOG" "journal_dir = $T_TMP/journal" "journal_since = 10m"
        t_run check --only snn --json
        t_like "$(field snn.logs summary journal)" "^no journal entries of cerebellar-norse.service in the last 10m$" "journal: the window bounds it"
else
        t_skip "systemd-journal-remote missing"; t_skip "systemd-journal-remote missing"; t_skip "systemd-journal-remote missing"
fi
conf "url = http://127.0.0.1:$PORT" "logs = $LOG" "log_tail = 64k"
printf 'INFO fine\n' >"$LOG"
t_run check --only snn --json
t_is "$(field snn.logs severity)" ok "logs: a quiet log: ok"

# ---- device = "cuda": crit without a GPU (the probe pointed at nothing), ok with one ----
stop_fake; start_fake healthy "config = $SNNFX/deployment.toml" "nvml_path = none" "nvidia_smi = none"
t_run check --only snn --json
t_is "$(field snn.device severity)" crit "device = cuda, no GPU: crit (Device Mismatch)"
t_like "$(field snn.device summary)" '^device = "cuda" but no usable NVIDIA GPU here: ' "device = cuda, no GPU: says why"
t_like "$(field snn.device remedy)" 'device = "cpu"' "device = cuda, no GPU: the guide's remedy"
mkdir -p "$T_TMP/smi"
cp "$TOP_SRCDIR/tests/helpers/fake_nvidia_smi.sh" "$T_TMP/smi/nvidia-smi"
chmod +x "$T_TMP/smi/nvidia-smi"
conf "url = http://127.0.0.1:$PORT" "config = $SNNFX/deployment.toml" "nvml_path = none" "nvidia_smi = $T_TMP/smi/nvidia-smi"
FAKE_SMI_DIR="$FIXTURES/gpu" t_run check --only snn --json
t_is "$(field snn.device severity)" ok "device = cuda, a GPU answers (recorded nvidia-smi): ok"
t_is "$(field snn.memory_fit summary "granule_size gpu"):$(field snn.memory_fit severity "granule_size gpu")" \
        "granule_size 4000000 x 4 bytes x 800 connections = 11.9 GiB, below the GPU's memory 79.6 GiB:ok" "memory fit: the formula against the GPU's memory too"
t_like "$(field snn.memory_fit actual "granule_size gpu")" "^GPU 0: NVIDIA H100 80GB HBM3" "memory fit: the GPU named"
rm -f "$T_TMP/smi.pids"
conf "url = http://127.0.0.1:$PORT" "config = $SNNFX/deployment.toml" "nvml_path = none" "nvidia_smi = $T_TMP/smi/nvidia-smi" "connections_per_neuron = 8000"
FAKE_SMI_DIR="$FIXTURES/gpu" FAKE_SMI_PIDFILE="$T_TMP/smi.pids" t_run check --only snn --json
t_like "$(field snn.memory_fit summary "granule_size gpu"):$(field snn.memory_fit severity "granule_size gpu")" \
        "^granule_size 4000000 x 4 bytes x 8000 connections = 119(\.[0-9])? GiB, at or above the GPU's memory 79\.6 GiB:warn$" "memory fit: too big for the GPU: warn"
t_is "$(wc -l <"$T_TMP/smi.pids")" 3 "the GPU is probed once a run (nvidia-smi --query-gpu, --query-compute-apps, -q), not again for the memory"
conf "url = http://127.0.0.1:$PORT" "config = $SNNFX/deployment.toml" "nvml_path = none" "nvidia_smi = none"
t_run check --only snn --json
t_like "$(field snn.memory_fit summary "granule_size gpu"):$(field snn.memory_fit severity "granule_size gpu")" \
        "^granule_size needs 11\.9 GiB; not compared with the GPU's memory: .*:skipped$" "memory fit: no GPU: the comparison was not possible, said"

# ---- watch: health and p95 at [snn] watch_interval; the service going away is an event ----
stop_fake; start_fake healthy "watch_interval = 400ms" "timeout_ms = 500"
timeout -k 5 60 "$EVODIAG" watch --only snn --interval 200ms --duration 4s --json >"$T_TMP/w.jsonl" 2>"$T_TMP/w.err" &
WATCH=$!
sleep 2
stop_fake
wait "$WATCH"
t_is "$?" 0 "watch: exit 0"
W=$(cat "$T_TMP/w.jsonl")
t_like "$(printf '%s\n' "$W" | jq -r 'select(.type == "sample") | .values[]? | select(.key == "snn.p95_latency_us") | .value' | head -1)" \
        "^4\.7[0-9]*$" "watch: p95 latency in µs as a value"
t_like "$(printf '%s\n' "$W" | jq -r 'select(.type == "event" and .id == "snn.health") | .severity + " " + .summary' | tail -1)" \
        "^crit no answer: " "watch: the service going away is a crit event"
n_http=$(printf '%s\n' "$W" | jq -s '[.[] | select(.type == "sample") | .statuses[]? | select(.id == "snn.health")] | length')
if [ "$n_http" -ge 5 ]; then t_pass "watch: snn.health in every round ($n_http)"; else t_fail "watch: snn.health in $n_http rounds" "$(tail -c 1500 "$T_TMP/w.err")"; fi

# ---- bundle: the replies as artifacts, the config redacted ----
cp "$SNNFX/deployment.toml" "$T_TMP/production.toml"
stop_fake; start_fake healthy "config = $T_TMP/production.toml" "nvml_path = none" "nvidia_smi = none" "logs = $LOG"
t_run bundle --only snn -o "$T_TMP/b.tar.zst" -q
t_is "$RC" 0 "bundle: exit 0"
mkdir -p "$T_TMP/b"
tar --zstd -xf "$T_TMP/b.tar.zst" -C "$T_TMP/b"
art() { find "$T_TMP/b" -path "*collectors/snn/$1" | head -1; }
t_like "$(cat "$(art health.json)")" '"status": ?"healthy"' "bundle: /health reply"
t_like "$(cat "$(art info.json)")" '"commit_hash": ?"856a8f66"' "bundle: /info reply"
t_like "$(cat "$(art metrics.txt)")" "neural_inference_latency_seconds_bucket" "bundle: /metrics reply"
t_like "$(cat "$(art neural-metrics.txt)")" "neural_gpu_utilization_percent" "bundle: /neural/metrics reply"
t_like "$(cat "$(art log-tail-application.log)")" "INFO fine" "bundle: the log tail"
t_is "$(grep -rlaF SNN-API-KEY-SECRET "$T_TMP/b" | head -1)" "" "bundle: the api_key is nowhere in the archive"
t_like "$(cat "$(find "$T_TMP/b" -path "*/host$T_TMP/production.toml" | head -1)" 2>/dev/null)" "granule_size = 4000000" "bundle: the config is stored (redacted)"
stop_fake
t_done
