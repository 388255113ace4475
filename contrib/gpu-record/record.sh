#!/bin/bash
# Records what tests/fixtures/gpu/h200-* hold, on a machine with an NVIDIA GPU, as root:
# nvidia-smi's -q, CSV queries and compute apps (idle, then under load), NVML through
# NVIDIA's Python binding (nvml_dump.py), and evodiag's own gpu collector on the real
# driver by both paths (NVML, nvidia-smi), watch, two bundles and their re-checks.
# Needs python3 with torch (load.py) and nvidia-ml-py. Usage:
#   EVODIAG=/path/to/evodiag OUT=/tmp/out contrib/gpu-record/record.sh
# Everything lands in $OUT/gpu-record.tgz (and $OUT/run.log).
set -u
D=$(cd "$(dirname "$0")" && pwd); R=$(mktemp -d); mkdir -p "$R/gpu" "$R/all"
: "${OUT:?set OUT to a directory for the results}"
exec > >(tee "$OUT/run.log") 2>&1
E=${EVODIAG:-evodiag}
F="index,name,uuid,pci.bus_id,driver_version,temperature.gpu,utilization.gpu,utilization.memory,memory.used,memory.total,power.draw,enforced.power.limit,clocks_throttle_reasons.active,ecc.errors.uncorrected.volatile.total,ecc.errors.uncorrected.aggregate.total,retired_pages.pending,remapped_rows.pending,remapped_rows.failure,persistence_mode,compute_mode,mig.mode.current"
FMIN="index,name,uuid,pci.bus_id,driver_version,temperature.gpu,utilization.gpu,memory.used,memory.total,persistence_mode"
cap() { local n=$1; shift; local t0=$(date +%s%N); timeout 90 "$@" >"$R/$n" 2>"$R/$n.err"; local rc=$?
        echo "$n rc=$rc $(( ($(date +%s%N) - t0) / 1000000 ))ms: $*" | tee -a "$R/commands.txt"; }
printf '[gpu]\nnvml_path = none\n' >"$R/smi.conf"; printf '[gpu]\nnvidia_smi = none\n' >"$R/nvml.conf"
round() { local s=$1
  cap $s.q.txt nvidia-smi -q
  cap $s.query-gpu.csv nvidia-smi --query-gpu=$F --format=csv
  cap $s.query-gpu-min.csv nvidia-smi --query-gpu=$FMIN --format=csv
  cap $s.compute-apps.csv nvidia-smi --query-compute-apps=gpu_uuid,gpu_bus_id,pid,process_name,used_memory --format=csv
  cap $s.event-reasons.csv nvidia-smi --query-gpu=clocks_event_reasons.active --format=csv
  cap $s.table.txt nvidia-smi
  cap $s.pynvml.json python3 "$D/nvml_dump.py"
  cap $s.evodiag-check.txt "$E" check --only gpu -v --color never
  cap $s.evodiag-check.json "$E" check --only gpu --format json
  cap $s.evodiag-check-smi.json "$E" check --only gpu --format json --config "$R/smi.conf"
  cap $s.evodiag-check-nvml.json "$E" check --only gpu --format json --config "$R/nvml.conf"
}
cap env.txt sh -c 'uname -a; cat /etc/os-release; id; echo PATH=$PATH; echo LD_LIBRARY_PATH=$LD_LIBRARY_PATH; command -v nvidia-smi; nvidia-smi --version; ldconfig -p | grep -i nvidia; ls -la /dev/nvidia*; nproc; free -m'
cap proc-driver-nvidia-version.txt cat /proc/driver/nvidia/version
cap proc-gpu-information.txt sh -c 'for f in /proc/driver/nvidia/gpus/*/information; do echo "== $f"; cat "$f"; done'
cap sysfs-pci.txt sh -c 'for d in /sys/bus/pci/devices/*; do v=$(cat $d/vendor); [ "$v" = 0x10de ] && echo "$d vendor=$v device=$(cat $d/device) class=$(cat $d/class) driver=$(basename $(readlink $d/driver 2>/dev/null) 2>/dev/null)"; done'
cap nvidia-smi-L.txt nvidia-smi -L
round idle
python3 "$D/load.py" "$R/load.ready" 150 >"$R/load.log" 2>&1 & LP=$!
for i in $(seq 90); do [ -s "$R/load.ready" ] && break; kill -0 $LP 2>/dev/null || break; sleep 1; done; cat "$R/load.ready"; sleep 5
echo "load pid $LP"
round load
cap load.evodiag-watch.jsonl "$E" watch --only gpu --duration 12s --json
cap load.evodiag-bundle.txt "$E" bundle --only gpu --batch -o "$R/gpu/"
cap load.evodiag-from.txt "$E" check --from "$(ls "$R"/gpu/*.tar.zst)" -v --color never
cap load.evodiag-bundle-all.txt "$E" bundle --batch -o "$R/all/"
cap load.evodiag-from-all.txt "$E" check --from "$(ls "$R"/all/*.tar.zst)" -v --color never
cap load.evodiag-check-all.txt "$E" check -v --color never --timeout 60s
kill $LP; wait $LP 2>/dev/null
tar -C "$R" -czf "$OUT/gpu-record.tgz" . && rm -rf "$R" && ls -la "$OUT"
