#!/bin/bash
# gpu collector. No GPU here: a fake nvidia-smi first on PATH prints recorded real output
# (tests/fixtures/gpu, sources in its README.md) or misbehaves (hangs ignoring SIGTERM,
# garbage, the version-mismatch error, "NVIDIA-SMI has failed", another non-zero exit); a
# stand-in libnvidia-ml.so.1 built here from tests/helpers/fake_nvml.c (recorded values of
# an RTX 2080 SUPER, or blocking forever in nvmlInit) is loaded through [gpu] nvml_path; a
# fixture sysroot holds /proc/driver/nvidia and PCI devices for the fallback.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

command -v "${CC:-cc}" >/dev/null || t_skip_all "no C compiler to build the stand-in NVML"
command -v jq >/dev/null || t_skip_all "jq missing"

t_field() { printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | join(" | ")'; }
t_subj() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .subject // ""] | join(",")'; }

NVML="$T_TMP/nvml/libnvidia-ml.so.1"
mkdir -p "$T_TMP/nvml" "$T_TMP/bin"
"${CC:-cc}" -shared -fPIC -O1 -I "$TOP_SRCDIR" -o "$NVML" "$TOP_SRCDIR/tests/helpers/fake_nvml.c"
t_is "$?" 0 "the stand-in NVML builds"
cp "$TOP_SRCDIR/tests/helpers/fake_nvidia_smi.sh" "$T_TMP/bin/nvidia-smi"
chmod +x "$T_TMP/bin/nvidia-smi"
export FAKE_SMI_DIR="$FIXTURES/gpu"
# No real NVIDIA software may answer instead of the fakes (a CI host with a GPU).
SAFE_PATH="$T_TMP/bin:/usr/local/bin:/usr/bin:/bin"
conf() { # FILE KEY=VALUE...
        local f=$1
        shift
        printf '[gpu]\n' >"$f"
        for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$f"; done
}
conf "$T_TMP/nvml.conf" "nvml_path=$NVML" "nvidia_smi=none" "deadline=2s"
conf "$T_TMP/smi.conf" "nvml_path=$T_TMP/nvml/absent.so" "nvidia_smi=nvidia-smi" "deadline=2s"
nv() { EVODIAG_CONFIG="$T_TMP/nvml.conf" t_run check --only gpu --json "$@"; }
smi() { PATH="$SAFE_PATH" EVODIAG_CONFIG="$T_TMP/smi.conf" t_run check --only gpu --json "$@"; }
ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# ---- NVML with the recorded values ----
nv
t_is "$RC" 0 "NVML recorded: exit 0"
t_like "$(t_sum gpu.present)" "^1 GPU via NVML: NVIDIA GeForce RTX 2080 SUPER; driver 595.71.05, CUDA 13.2$" "NVML: model, driver and CUDA version"
t_like "$(t_sum gpu.responsive)" "^NVML answered in [0-9]+ ms$" "NVML: responsive ok"
t_is "$(t_sev gpu.driver)" ok "NVML: driver ok"
t_is "$(t_sev gpu.memory)" ok "NVML: memory ok"
t_like "$(t_sum gpu.memory)" "^GPU 0 0000:0c:00.0: 819.0 MiB of 8.0 GiB GPU memory used \(10%\); held by pid 5268 .* 370.0 MiB, pid 5267 .* 230.0 MiB$" "NVML: memory with its holders, largest first"
t_is "$(t_sum gpu.temperature)" "GPU 0 0000:0c:00.0: 45 C, slowdown at 97 C" "NVML: temperature against the slowdown threshold"
t_is "$(t_sev gpu.throttle)" ok "NVML: no throttling"
t_is "$(t_sev gpu.ecc)" skipped "NVML: a GeForce without ECC is skipped, not ok"
# Whether a component runs is judged over the whole host, where another test may run a
# cerebellar-norse: this one asks about a component name only it could use.
conf "$T_TMP/nvml-nocomp.conf" "nvml_path=$NVML" "nvidia_smi=none" "deadline=2s" "components=evo-gpu-none-$$"
OUT_KEEP=$OUT
EVODIAG_CONFIG="$T_TMP/nvml-nocomp.conf" t_run check --only gpu --json
t_like "$(t_sum gpu.persistence)" "persistence mode off \(no GPU component runs here\)" "NVML: persistence off without components is ok"
OUT=$OUT_KEEP
t_is "$(t_subj gpu.memory)" "GPU 0 0000:0c:00.0" "NVML: subject is the GPU"
# A driver before 510 has only nvmlDeviceGetMemoryInfo (v1), whose "used" is total - free:
# the 408 MiB the driver reserves counts as used. v2's used (above) is nvidia-smi's 819 MiB.
FAKE_NVML_MEM_V2=0 nv
t_like "$(t_sum gpu.memory)" "^GPU 0 0000:0c:00.0: 1.2 GiB of 8.0 GiB GPU memory used \(1[45]%\)" "NVML without nvmlDeviceGetMemoryInfo_v2: v1's used, reserved memory included"

# memory high, held by a GPU component (a live process named cerebellar-norse)
cp "$(command -v sleep)" "$T_TMP/cerebellar-norse"
"$T_TMP/cerebellar-norse" 600 &
comp=$!
t_at_exit "kill $comp 2>/dev/null"
FAKE_NVML_MEM_USED_MIB=7700 FAKE_NVML_PIDS="$comp:7000,5267:230" nv
t_is "$RC:$(t_sev gpu.memory)" "1:warn" "memory 94%: warn, exit 1"
t_like "$(t_sum gpu.memory)" "memory high: 7.5 GiB of 8.0 GiB GPU memory used \(94%\); held by pid $comp $T_TMP/cerebellar-norse \(component\) 6.8 GiB, pid 5267 .*230.0 MiB" "memory high: the component is named with what it holds"
t_like "$(t_field gpu.memory remedy)" "query-compute-apps" "memory high: remedy"
t_is "$(t_sev gpu.persistence)" info "persistence off while a GPU component runs: info"
t_like "$(t_sum gpu.persistence)" "cerebellar-norse \(pid $comp\)" "persistence: names the component"
t_like "$(t_field gpu.persistence remedy)" "nvidia-persistenced.*nvidia-smi -pm 1" "persistence: remedy"
FAKE_NVML_PERSISTENCE=1 nv
t_is "$(t_sev gpu.persistence)" ok "persistence on: ok"
printf '[gpu]\nnvml_path = %s\nnvidia_smi = none\nmemory_warn_pct = 5\n' "$NVML" >"$T_TMP/pct.conf"
EVODIAG_CONFIG="$T_TMP/pct.conf" t_run check --only gpu --json
t_is "$(t_sev gpu.memory)" warn "memory_warn_pct from the config: 10% > 5% warns"

FAKE_NVML_TEMP=93 nv
t_is "$(t_sev gpu.temperature)" warn "93 C with slowdown at 97 C (margin 5): warn"
t_like "$(t_sum gpu.temperature)" "93 C, slowdown at 97 C: close to thermal slowdown" "temperature: numbers"
FAKE_NVML_TEMP=91 nv
t_is "$(t_sev gpu.temperature)" ok "91 C: 6 below slowdown: ok"
FAKE_NVML_THROTTLE=0x40 nv
t_is "$(t_sev gpu.throttle)" warn "HW thermal slowdown: warn"
t_like "$(t_sum gpu.throttle)" "throttled: HW Thermal Slowdown" "throttle: reason named"
FAKE_NVML_THROTTLE=0x80 nv
t_like "$(t_sev gpu.throttle):$(t_sum gpu.throttle)" "^warn:.*HW Power Brake Slowdown" "power brake: warn"
FAKE_NVML_THROTTLE=0x4 nv
t_like "$(t_sev gpu.throttle):$(t_sum gpu.throttle)" "^info:.*at its power cap: SW Power Cap" "SW power cap alone: info"
FAKE_NVML_ECC_VOLATILE=3 nv
t_is "$RC:$(t_sev gpu.ecc)" "2:crit" "uncorrected volatile ECC errors: crit"
t_like "$(t_sum gpu.ecc)" "3 uncorrected ECC errors since the driver loaded" "ECC: count"
FAKE_NVML_ECC_VOLATILE=0 nv
t_is "$(t_sev gpu.ecc)" ok "ECC counters at 0: ok"

FAKE_NVML_MODE=mismatch nv
t_is "$RC:$(t_sev gpu.driver)" "2:crit" "NVML version mismatch: crit"
t_like "$(t_sum gpu.driver)" "Driver/library version mismatch" "mismatch: said"
t_like "$(t_field gpu.driver remedy)" "reboot" "mismatch: remedy reboot or reload"
FAKE_NVML_MODE=lost nv
t_is "$(t_sev gpu.driver)" crit "GPU is lost: crit"
t_like "$(t_sum gpu.driver)" "GPU 0 0000:0c:00.0 is lost: it has fallen off the bus" "lost: names the GPU"

# ---- NVML blocking forever in nvmlInit: the run finishes on time ----
t0=$(ms)
FAKE_NVML_MODE=hang nv
t1=$(ms)
t_is "$RC:$(t_sev gpu.responsive)" "2:crit" "NVML hangs: gpu.responsive crit, exit 2"
t_like "$(t_sum gpu.responsive)" "fallen off the bus or the driver is wedged" "hang: the likely causes"
t_like "$(t_field gpu.responsive remedy)" "dmesg \| grep -i -E 'NVRM\|Xid\|fallen off'" "hang: remedy from the guides"
t_like "$(t_field gpu.responsive actual)" "did not answer within 2000 ms; its process was killed" "hang: the child was killed at the deadline"
if [ $((t1 - t0)) -lt 20000 ]; then t_pass "NVML hang: the run took $((t1 - t0)) ms (< 20 s with a 2 s deadline)"; else t_fail "NVML hang: the run took $((t1 - t0)) ms"; fi
left=$(grep -l "$T_TMP/nvml" /proc/[0-9]*/maps 2>/dev/null | wc -l)
t_is "$left" 0 "NVML hang: no process is left with the stand-in library loaded"

# the NVML child crashes (fault hook): unknown, never ok, and the run goes on
if t_have_hooks 2; then
        EVODIAG_FAULT=gpu_nvml:crash nv
        t_is "$RC:$(t_sev gpu.driver)" "3:unknown" "NVML child crashed: gpu.driver unknown"
        t_like "$(t_sum gpu.driver)" "NVML failed: the NVML child killed by signal 11" "NVML child crashed: said"
fi

# ---- nvidia-smi (NVML absent): recorded output ----
smi
t_is "$RC" 0 "nvidia-smi H100 capture: exit 0"
t_like "$(t_sum gpu.present)" "^1 GPU via nvidia-smi: NVIDIA H100 80GB HBM3; driver 590.48.01, CUDA 13.1$" "nvidia-smi: model, driver, CUDA from -q"
t_like "$(t_sum gpu.memory)" "19.4 GiB of 79.6 GiB GPU memory used \(24%\); held by pid 11345 ./gpu_burn 15.3 GiB, pid 11327 /root/tools/memhog 2.5 GiB, pid 11328 /root/tools/memhog 1.5 GiB" "nvidia-smi: memory and processes"
t_is "$(t_sum gpu.temperature)" "GPU 0 0000:00:09.0: 59 C, slowdown at 87 C" "nvidia-smi: slowdown from the T.Limit readings (26 C headroom, slowdown at -2)"
t_is "$(t_sev gpu.ecc)" ok "nvidia-smi: H100 ECC counters 0: ok"
t_is "$(t_sev gpu.persistence)" ok "nvidia-smi: persistence Enabled"
FAKE_SMI_GPU=rtx2080s-load smi
t_is "$(t_sum gpu.temperature)" "GPU 0 0000:0c:00.0: 45 C, slowdown at 97 C" "nvidia-smi RTX 2080 SUPER: absolute slowdown threshold"
t_like "$(t_sum gpu.memory)" "pid 5268 ffmpeg 370.0 MiB, pid 5267 ffmpeg 230.0 MiB, pid 1696 /usr/bin/gnome-shell 176.0 MiB" "nvidia-smi RTX: compute apps, then graphics processes from -q"
t_is "$(t_sev gpu.ecc)" skipped "nvidia-smi RTX: no ECC: skipped"
# A real NVIDIA H200, driver 580.159.04, recorded on this project's GPU machine under load (92%
# of its memory held by one process, at its power cap), with evodiag's live-NVML verdicts
# taken in the same second (tests/fixtures/gpu/README.md). nvidia-smi's capture must give
# the verdicts NVML gave: the same memory figure (v2: reserved memory not counted), the same
# holder, temperature, throttling and ECC (not: the source's name, its answer time, and this
# host's PCI bus). Driver 580 heads the throttle column
# clocks_event_reasons.active though it was asked for clocks_throttle_reasons.active.
verdicts() { jq -r '[.findings // [.collectors[].findings[]] | .[] | select(.id | IN("gpu.present", "gpu.responsive", "gpu.pci_missing") | not)
                     | "\(.id) \(.severity) \(.summary)"] | sort | .[]' "$@"; }
FAKE_SMI_GPU=h200-load smi
t_is "$RC:$(t_sev gpu.memory)" "1:warn" "nvidia-smi H200 capture: memory high: warn, exit 1"
t_is "$(printf '%s' "$OUT" | verdicts)" "$(verdicts "$FAKE_SMI_DIR/h200-load.evodiag-nvml.json")" \
        "H200: nvidia-smi's capture and live NVML agree on every verdict"
t_is "$(t_sum gpu.memory)" "GPU 0 0000:00:06.0 memory high: 129.2 GiB of 140.4 GiB GPU memory used (92%); held by pid 588 python3 129.2 GiB" \
        "H200: memory and its holder"
t_is "$(t_sum gpu.throttle)" "GPU 0 0000:00:06.0: at its power cap: SW Power Cap" "H200: the clocks_event_reasons column is read"
t_like "$(t_sum gpu.present)" "^1 GPU via nvidia-smi: NVIDIA H200; driver 580.159.04, CUDA 13.0$" "H200: model, driver, CUDA"
FAKE_SMI_GPU=h200-idle smi
t_is "$RC" 0 "nvidia-smi H200 idle: exit 0"
t_is "$(t_sum gpu.memory)" "GPU 0 0000:00:06.0: 0 B of 140.4 GiB GPU memory used (0%)" "H200 idle: 616 MiB reserved by the driver is not use"
t_is "$(t_sum gpu.throttle)" "GPU 0 0000:00:06.0: no throttling" "H200 idle: 0x1 (GPU idle) is not throttling"

# hangs ignoring SIGTERM (with a child of its own): the group is killed at the deadline
pidf="$T_TMP/smi.pids"
: >"$pidf"
t0=$(ms)
FAKE_SMI_MODE=hang FAKE_SMI_PIDFILE="$pidf" smi
t1=$(ms)
t_is "$RC:$(t_sev gpu.responsive)" "2:crit" "nvidia-smi hangs: crit, exit 2"
t_like "$(t_field gpu.responsive actual)" "timed out after (19[0-9][0-9]|2000) ms; killed" "nvidia-smi hang: killed at the deadline"
if [ $((t1 - t0)) -lt 20000 ]; then t_pass "nvidia-smi hang: the run took $((t1 - t0)) ms (< 20 s)"; else t_fail "nvidia-smi hang: the run took $((t1 - t0)) ms"; fi
# alive = exists and is not a zombie (an orphan waits a moment for init to reap it)
alive_pids() { for p in $(cat "$pidf"); do [ -r "/proc/$p/stat" ] && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ] && printf ' %s' "$p"; done; }
for _ in $(seq 20); do alive=$(alive_pids); [ -z "$alive" ] && break; sleep 0.1; done
t_is "$alive" "" "nvidia-smi hang: the script and its child are gone (process group killed)"
t_is "$(wc -l <"$pidf")" 2 "nvidia-smi hang: both pids were recorded"

FAKE_SMI_MODE=garbage smi
t_is "$RC:$(t_sev gpu.driver)" "3:unknown" "garbage output: unknown, exit 3"
t_like "$(t_sum gpu.driver)" "printed no table evodiag can read" "garbage: said"
smi_text() { PATH="$SAFE_PATH" EVODIAG_CONFIG="$T_TMP/smi.conf" t_run check --only gpu "$@"; }
FAKE_SMI_MODE=garbage smi_text
t_unlike "$OUT" $'[\x01\x1b\x89]' "garbage: no raw control bytes reach the terminal"
FAKE_SMI_MODE=mismatch smi
t_is "$RC:$(t_sev gpu.driver)" "2:crit" "nvidia-smi version mismatch: crit"
t_like "$(t_field gpu.driver actual)" "exited with status 18: \"Failed to initialize NVML: Driver/library version mismatch\"" "mismatch: the recorded message"
FAKE_SMI_MODE=failed smi
t_is "$RC:$(t_sev gpu.driver)" "2:crit" "NVIDIA-SMI has failed: crit"
t_like "$(t_field gpu.driver remedy)" "modprobe nvidia" "has failed: remedy"
FAKE_SMI_MODE=exit smi
t_is "$RC:$(t_sev gpu.driver)" "3:unknown" "other non-zero exit: unknown"
t_like "$(t_sum gpu.driver)" "exited with status 15" "non-zero exit: the status"
conf "$T_TMP/none.conf" "nvml_path=none" "nvidia_smi=$T_TMP/bin/absent-smi"
printf 'components = no-such-component\n' >>"$T_TMP/none.conf"
PATH="$SAFE_PATH" EVODIAG_CONFIG="$T_TMP/none.conf" t_run check --only gpu --json
t_like "$OUT" '"not_relevant"|not relevant|"applies": *false' "no GPU, no NVML, no nvidia-smi, no GPU component: not relevant"
conf "$T_TMP/none2.conf" "nvml_path=none" "nvidia_smi=$T_TMP/bin/absent-smi"
PATH="$SAFE_PATH" EVODIAG_CONFIG="$T_TMP/none2.conf" t_run check --only gpu --json
t_is "$RC:$(t_sev gpu.present)" "0:info" "no GPU but a GPU component runs: relevant, one info"
t_like "$(t_sum gpu.present)" "^no NVIDIA GPU on this host; GPU components run here: cerebellar-norse \(pid $comp\)" "no GPU: the component named"
t_is "$(t_ids_with warn)$(t_ids_with crit)$(t_ids_with unknown)" "" "no GPU: nothing worse than info"

# ---- the kernel's view: /proc/driver/nvidia and PCI, under --root ----
root=$(fx_root fb gpu-fallback)
t_run check --root "$root" --only gpu --json
t_is "$RC" 0 "fallback: one GPU on PCI, the driver has it: exit 0"
t_like "$(t_sum gpu.present)" "^1 PCI GPU, NVIDIA kernel module loaded 515.76$" "fallback: module version from /proc/driver/nvidia/version"
t_like "$(t_field gpu.present actual)" "/proc/driver/nvidia/gpus: 1 \(Tesla K80\)" "fallback: the model from information"
t_is "$(t_sev gpu.pci_missing)" ok "fallback: pci_missing ok"
t_like "$(t_sum gpu.driver)" "515.76 loaded; no NVML or nvidia-smi to ask" "fallback: driver info"
t_is "$(t_sev gpu.memory)" skipped "fallback: memory not read: skipped, not ok"
# a second GPU on the bus that the driver does not list
for a in vendor:0x10de device:0x102d class:0x030200; do fx_file "$root" "sys/bus/pci/devices/0000:00:05.0/${a%%:*}" "${a#*:}"; done
# and the K80's HDMI-less twin is not a GPU: an audio function of the same vendor
for a in vendor:0x10de device:0x0e0a class:0x040300; do fx_file "$root" "sys/bus/pci/devices/0000:00:04.1/${a%%:*}" "${a#*:}"; done
t_run check --root "$root" --only gpu --json
t_is "$RC:$(t_sev gpu.pci_missing)" "2:crit" "PCI GPU the driver does not report: crit"
t_is "$(t_subj gpu.pci_missing)" "0000:00:05.0" "pci_missing: the missing one only (not the audio function)"
t_like "$(t_sum gpu.pci_missing)" "PCI GPU 0000:00:05.0 \(device 0x102d\) is not reported by /proc/driver/nvidia/gpus" "pci_missing: said"
t_like "$(t_field gpu.pci_missing remedy)" "lspci -k -s 0000:00:05.0" "pci_missing: remedy"
# no driver at all, the GPU held by nouveau
root2=$(fx_root nodrv)
for a in vendor:0x10de device:0x1e81 class:0x030000; do fx_file "$root2" "sys/bus/pci/devices/0000:0c:00.0/${a%%:*}" "${a#*:}"; done
mkdir -p "$root2/sys/bus/pci/drivers/nouveau"
ln -s ../../../bus/pci/drivers/nouveau "$root2/sys/bus/pci/devices/0000:0c:00.0/driver"
t_run check --root "$root2" --only gpu --json
t_is "$(t_sev gpu.pci_missing)" crit "no NVIDIA driver, GPU bound to nouveau: crit"
t_like "$(t_sum gpu.pci_missing)" "bound to nouveau" "nouveau named"
t_like "$(t_field gpu.pci_missing remedy)" "blacklist nouveau" "nouveau: remedy"
rm "$root2/sys/bus/pci/devices/0000:0c:00.0/driver"
mkdir -p "$root2/sys/bus/pci/drivers/vfio-pci"
ln -s ../../../bus/pci/drivers/vfio-pci "$root2/sys/bus/pci/devices/0000:0c:00.0/driver"
t_run check --root "$root2" --only gpu --json
t_is "$(t_sev gpu.pci_missing)" info "bound to vfio-pci (passthrough): info"
t_run check --root "$(fx_root empty)" --only gpu --json
t_like "$OUT" '"not_relevant"|not relevant|"applies": *false' "empty root: gpu not relevant"

# ---- watch: the GPU source hangs after two good reads; the others keep their cadence ----
conf "$T_TMP/watch.conf" "nvml_path=$NVML" "nvidia_smi=none" "deadline=1s" "watch_interval=600ms"
FAKE_NVML_HANG_AFTER=3 EVODIAG_CONFIG="$T_TMP/watch.conf" timeout -k 5 60 "$EVODIAG" watch --only gpu,memory \
        --interval 200ms --duration 5s --json >"$T_TMP/w.jsonl" 2>"$T_TMP/w.err"
t_is "$?" 0 "watch with a hanging GPU source: exit 0"
W=$(cat "$T_TMP/w.jsonl")
gpuvals=$(printf '%s\n' "$W" | jq -s '[.[] | select(.type == "sample") | .values[]? | select(.key == "gpu.temperature_c")] | length')
if [ "$gpuvals" -ge 1 ]; then t_pass "watch: GPU values before the hang ($gpuvals)"; else t_fail "watch: no GPU value" "$(head -c 2000 "$T_TMP/w.jsonl")"; fi
t_like "$(printf '%s\n' "$W" | jq -r 'select(.type == "event" and .id == "gpu.responsive") | .severity + " " + .summary')" \
        "^crit NVML has not answered for [0-9.]+ s: the GPU may have fallen off the bus" "watch: the hang is an event"
# every round has memory's values, at most 2 intervals apart, across the whole run
gaps=$(printf '%s\n' "$W" | jq -s '[.[] | select(.type == "sample") | select(any(.values[]?; .key == "memory.available_bytes")) | .time_ms] | [range(1; length) as $i | .[$i] - .[$i - 1]] | max')
rounds=$(printf '%s\n' "$W" | jq -s '[.[] | select(.type == "sample") | select(any(.values[]?; .key == "memory.available_bytes"))] | length')
# (a round held up by the GPU would show a gap of the sampler's whole deadline, >= 1 s)
if [ "$rounds" -ge 12 ] && [ "$gaps" -lt 900 ]; then t_pass "watch: memory sampled $rounds times, largest gap $gaps ms while the GPU hung"
else t_fail "watch: memory sampled $rounds times, largest gap $gaps ms" "$(tail -c 1500 "$T_TMP/w.err")"; fi
t_unlike "$(printf '%s\n' "$W" | jq -r 'select(.type == "event") | .id')" "^gpu.timeout$" "watch: the sampler itself never timed out (the worker thread hung, not the sampler)"

# the same with nvidia-smi (NVML absent) hanging ignoring SIGTERM: killed at each deadline
conf "$T_TMP/wsmi.conf" "nvml_path=$T_TMP/nvml/absent.so" "nvidia_smi=nvidia-smi" "deadline=1s" "watch_interval=600ms"
FAKE_SMI_MODE=hang FAKE_SMI_PIDFILE="$T_TMP/ws.pids" PATH="$SAFE_PATH" EVODIAG_CONFIG="$T_TMP/wsmi.conf" timeout -k 5 60 "$EVODIAG" watch --only gpu,memory \
        --interval 200ms --duration 3s --json >"$T_TMP/ws.jsonl" 2>"$T_TMP/ws.err"
t_is "$?" 0 "watch with a hanging nvidia-smi: exit 0"
# The nvidia-smi in flight when watch ended (the fake ignores SIGTERM) must not run on:
# it left one spinning orphan per run before.
left=""
for _ in $(seq 50); do
        left=""
        while read -r p; do
                [ -n "$p" ] && grep -q "nvidia-smi" "/proc/$p/cmdline" 2>/dev/null && left="$left $p"
        done <"$T_TMP/ws.pids"
        [ -z "$left" ] && break
        sleep 0.1
done
for p in $left; do kill -9 "$p" 2>/dev/null; done
t_is "$left" "" "watch with a hanging nvidia-smi: no nvidia-smi left running after watch ended"
W=$(cat "$T_TMP/ws.jsonl")
t_like "$(printf '%s\n' "$W" | jq -r 'select(.type == "event" and .id == "gpu.responsive") | .severity + " " + .summary' | head -1)" \
        "^crit nvidia-smi (did not answer|has not answered)" "watch, nvidia-smi hangs: crit event"
rounds=$(printf '%s\n' "$W" | jq -s '[.[] | select(.type == "sample") | select(any(.values[]?; .key == "memory.available_bytes"))] | length')
if [ "$rounds" -ge 8 ]; then t_pass "watch, nvidia-smi hangs: memory sampled $rounds times in 3 s"; else t_fail "watch, nvidia-smi hangs: memory sampled $rounds times"; fi

# ---- bundle: nvidia-smi -q (bounded), the table as JSON, the environment for ISSUE.md ----
out="$T_TMP/bundle"
mkdir -p "$out"
PATH="$SAFE_PATH" EVODIAG_CONFIG="$T_TMP/smi.conf" t_run bundle --only gpu -o "$out" -q
t_is "$RC" 0 "bundle with nvidia-smi: exit 0"
file=$(ls "$out"/evodiag-*.tar.zst 2>/dev/null | head -1)
x="$T_TMP/x"
mkdir -p "$x"
tar --zstd -xf "$file" -C "$x" 2>/dev/null
b=$(ls -d "$x"/*/ | head -1)
t_like "$(cat "$b/collectors/gpu/nvidia-smi-q.txt" 2>/dev/null)" "Product Name +: NVIDIA H100 80GB HBM3" "bundle: nvidia-smi -q output"
t_is "$(jq -r '.gpus[0].name' "$b/collectors/gpu/gpus.json" 2>/dev/null)" "NVIDIA H100 80GB HBM3" "bundle: the GPU table as JSON"
t_is "$(jq -r '[.driver, .cuda, .gpus[0]] | join(" ")' "$b/collectors/gpu/environment.json" 2>/dev/null)" "590.48.01 13.1 NVIDIA H100 80GB HBM3" "bundle: driver, CUDA, model for ISSUE.md"

t_run explain gpu.responsive
t_like "$OUT" "fallen off the bus or the driver is wedged" "explain gpu.responsive"
t_done
