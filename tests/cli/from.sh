#!/bin/bash
# check --from is a sandbox. Hostile bundles (links out of the temp dir, devices,
# malformed manifests, decompression and disk exhaustion, a reader that hangs or
# crashes) are refused with a message that names the problem: never a crash, never
# a hang, never a read outside the bundle, and no temp dir left behind, even when
# evodiag is interrupted or killed.
. "$TOP_SRCDIR/tests/lib/tap.sh"
command -v python3 >/dev/null || t_skip_all "python3 not installed"

export TMPDIR="$T_TMP/tmpd" # where evodiag unpacks: watched for leftovers
mkdir -p "$TMPDIR"
# evodiag's temp dirs are gone (a helper removes them after a kill: give it 5 s).
no_tmp_left() {
        for _ in $(seq 50); do
                ls -d "$TMPDIR"/evodiag-from-* >/dev/null 2>&1 || return 0
                sleep 0.1
        done
        return 1
}
t_no_tmp() { t_is "$(no_tmp_left && echo clean || ls -d "$TMPDIR"/evodiag-from-*)" clean "$1"; }
sane() { # exit 3 and no crash report
        t_is "$RC" 3 "$1: exit 3"
        t_unlike "$ERR" "AddressSanitizer|runtime error|Segmentation|Aborted|json_object" "$1: no crash, no json-c assertion"
}

# The marker: a tree outside the temp dir that the escaping links of the review
# reached (the maintainer's real /etc, there). Its host name would show up in the
# report if evodiag read it.
outside="$T_TMP/outside"
mkdir -p "$outside/proc/sys/kernel" "$outside/proc/sys/vm"
marker="MARKER-OUTSIDE-$$"
echo "$marker" >"$outside/proc/sys/kernel/hostname"
cp /proc/meminfo "$outside/proc/meminfo"
echo 0 >"$outside/proc/sys/vm/overcommit_memory"

# Hostile tars. The manifest has no "host": the report's host name would come from
# the (linked) tree. TMPDIR/evodiag-from-X/b/host/../../../.. is $T_TMP.
python3 - "$T_TMP" "$outside" <<'PY'
import gzip, io, json, sys, tarfile
d, outside = sys.argv[1], sys.argv[2]
man = json.dumps({"schema": 1, "artifacts": []}).encode()
fin = json.dumps({"collectors": [{"name": "memory", "status": "ok", "findings": []}]}).encode()
def add(t, name, kind="f", target=None, data=b"x\n"):
    ti = tarfile.TarInfo(name)
    if kind == "link":
        ti.type, ti.linkname = tarfile.SYMTYPE, target
    elif kind == "hard":
        ti.type, ti.linkname = tarfile.LNKTYPE, target
    elif kind == "fifo":
        ti.type = tarfile.FIFOTYPE
    elif kind == "chr":
        ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
    elif kind == "dir":
        ti.type = tarfile.DIRTYPE
    else:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
        return
    t.addfile(ti)
def mk(name, members):
    with tarfile.open(f"{d}/{name}.tar.gz", "w:gz", format=tarfile.GNU_FORMAT) as t:
        add(t, "b/manifest.json", data=man)
        add(t, "b/findings.json", data=fin)
        for m in members:
            add(t, *m)
mk("dots", [("b/host/./././proc", "link", "../../../../outside/proc")])
mk("slashes", [("b//host//proc", "link", "../../../../outside/proc")])
mk("chain", [("b/host/up", "link", ".."), ("b/host/up2", "link", "up/.."), ("b/host/up3", "link", "up2/.."),
             ("b/host/up4", "link", "up3/.."), ("b/host/proc", "link", "up4/outside/proc")])
mk("abs", [("b/host/proc", "link", outside + "/proc")])
mk("stdin", [("b/host/proc/sys/kernel/hostname", "link", "/dev/stdin")])
mk("hardabs", [("b/host/proc/meminfo", "hard", outside + "/proc/meminfo")])
mk("hardup", [("b/host/proc/meminfo", "hard", "../../../../outside/proc/meminfo")])
mk("fifo", [("b/host/proc/meminfo", "fifo")])
mk("chr", [("b/host/proc/meminfo", "chr")])
mk("through", [("b/host/sub", "dir"), ("b/host/proc", "link", "sub"), ("b/host/proc/meminfo", "f")])
mk("good", [("b/host/proc/sys/kernel/hostname", "f", None, b"bundled-host\n"),
            ("b/host/proc/meminfo", "f", None, open("/proc/meminfo", "rb").read()),
            ("b/host/proc/self", "link", "1")])
# A header that declares 600 MiB: past the bundle limit (512 MiB), refused before a byte is written.
bio = io.BytesIO()
t = tarfile.open(fileobj=bio, mode="w", format=tarfile.GNU_FORMAT)
add(t, "b/manifest.json", data=man)
big = tarfile.TarInfo("b/host/big")
big.size = 600 << 20
raw = bio.getvalue() + big.tobuf(tarfile.GNU_FORMAT) + b"\0" * 8192
open(f"{d}/declared.tar.gz", "wb").write(gzip.compress(raw))
# 2 MiB of real data: for a full disk and a file size limit.
mk("twomeg", [("b/host/proc/big", "f", None, b"y" * (2 << 20))])
PY

# ---- links and entries that leave the bundle ----
for c in "dots|refusing link 'b/host/\./\./\./proc' -> '\.\./\.\./\.\./\.\./outside/proc'" \
        "slashes|refusing link 'b//host//proc' -> '\.\./\.\./\.\./\.\./outside/proc'" \
        "chain|refusing link 'b/host/up' -> '\.\.'" \
        "abs|refusing link 'b/host/proc' -> '$outside/proc': an absolute target" \
        "stdin|refusing link 'b/host/proc/sys/kernel/hostname' -> '/dev/stdin'" \
        "hardabs|refusing hard link 'b/host/proc/meminfo' -> '$outside/proc/meminfo'" \
        "hardup|refusing hard link 'b/host/proc/meminfo' -> '\.\./\.\./\.\./\.\./outside/proc/meminfo'" \
        "fifo|refusing entry 'b/host/proc/meminfo': a FIFO does not belong in a bundle" \
        "chr|refusing entry 'b/host/proc/meminfo': a character device does not belong in a bundle" \
        "through|refusing entry 'b/host/proc/meminfo': a link or a file is on its way"; do
        k=${c%%|*}
        T_TIMEOUT=20 t_run check --from "$T_TMP/$k.tar.gz" --json
        sane "$k"
        t_like "$ERR" "evodiag: --from .*$k\.tar\.gz: ${c#*|}" "$k: refused, naming the entry"
        t_unlike "$OUT$ERR" "$marker" "$k: nothing outside the bundle was read"
        t_no_tmp "$k: no temp dir left"
done
t_is "$(cat "$outside/proc/sys/kernel/hostname")" "$marker" "the marker is untouched"

# A bundle within the rules still works: relative links that stay inside are fine.
t_run check --from "$T_TMP/good.tar.gz" --json
t_is "$(printf '%s' "$OUT" | jq -r .host)" bundled-host "a manifest without host: the bundle's own hostname file"
t_like "$ERR" "re-checked offline: [0-9]+ collectors agree" "a good bundle is re-checked"
t_no_tmp "good: no temp dir left"

# An unpacked directory (tar -x of a hostile bundle keeps its links): its links are
# resolved inside its host/ tree by the kernel, its FIFOs never opened for reading.
dir="$T_TMP/unpacked"
mkdir -p "$dir/b/host"
tar -xzf "$T_TMP/good.tar.gz" -C "$dir"
rm -rf "$dir/b/host/proc"
ln -s ../../../../outside/proc "$dir/b/host/proc"
t_run check --from "$dir" --json
t_unlike "$OUT$ERR" "$marker" "--from DIR: an escaping link reads nothing outside the bundle"
t_is "$(printf '%s' "$OUT" | jq -r .host)" unknown "--from DIR: the linked hostname is not the outside one"
rm "$dir/b/host/proc"
mkdir -p "$dir/b/host/proc"
mkfifo "$dir/b/host/proc/meminfo"
start=$(date +%s%N)
t_run check --from "$dir" --json
ms=$((($(date +%s%N) - start) / 1000000))
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .status')" ok "--from DIR: a FIFO as a file: the collector answers"
t_is "$([ "$ms" -lt 4000 ] && echo bounded)" bounded "--from DIR: a FIFO is not waited on (${ms} ms)"

# --from a FIFO: refused at once, not opened for reading (that would block).
mkfifo "$T_TMP/bundle.fifo"
T_TIMEOUT=10 t_run check --from "$T_TMP/bundle.fifo"
sane "--from FIFO"
t_like "$ERR" "--from .*bundle.fifo: not a bundle: a FIFO" "--from a FIFO: refused, no hang"
t_no_tmp "FIFO: no temp dir left"

# ---- malformed manifests and findings: one clear error, exit 3 ----
findings_ok='{"collectors": [{"name": "memory", "status": "ok", "findings": []}]}'
mkb() { # NAME MANIFEST [FINDINGS]
        mkdir -p "$T_TMP/m/$1/host"
        printf '%s' "$2" >"$T_TMP/m/$1/manifest.json"
        printf '%s' "${3:-$findings_ok}" >"$T_TMP/m/$1/findings.json"
}
mkb path_null '{"artifacts": [{"path": "host/a"}, {"path": "host/b"}, {"path": "host/c"}, {"path": null}]}'
mkb host_null '{"host": null, "artifacts": []}'
mkb arts_object '{"artifacts": {"path": "host/proc/meminfo", "errno": 13}}'
mkb id_null '{"artifacts": []}' '{"collectors": [{"name": "memory", "status": "ok", "findings": [{"id": null}]}]}'
mkb errno_string '{"artifacts": [{"path": "host/proc/meminfo", "errno": "13"}]}'
mkb errno_negative '{"artifacts": [{"path": "host/proc/meminfo", "errno": -5}]}'
mkb mode_string '{"artifacts": [{"path": "host/dev/shm/x", "stat": {"mode": "0644"}}]}'
mkb names_number '{"artifacts": [{"path": "host/dev/shm", "names": ["a", 5]}]}'
mkb severity '{"artifacts": []}' '{"collectors": [{"name": "memory", "status": "ok", "findings": [{"id": "memory.overcommit", "severity": "fatal", "summary": "x"}]}]}'
mkb not_json '{"artifacts": [' 
mkb collectors_string '{"artifacts": []}' '{"collectors": "memory"}'
python3 -c 'import sys; sys.stdout.write("{\"artifacts\": [" + ",".join(["0"] * 1000001) + "]}")' >"$T_TMP/m.huge"
mkb huge "$(cat "$T_TMP/m.huge")"
for c in "path_null|bundle manifest: artifacts\[3\]\.path: expected a string, not null" \
        "host_null|bundle manifest: host: expected a string, not null" \
        "arts_object|bundle manifest: artifacts: expected an array, not an object" \
        "id_null|bundle findings: collectors\[0\]\.findings\[0\]\.id: expected a string, not null" \
        "errno_string|bundle manifest: artifacts\[0\]\.errno: expected an integer, not a string" \
        "errno_negative|bundle manifest: artifacts\[0\]\.errno: -5 is out of range \(1\.\.4095\)" \
        "mode_string|bundle manifest: artifacts\[0\]\.stat\.mode: expected an integer, not a string" \
        "names_number|bundle manifest: artifacts\[0\]\.names\[1\]: expected a string, not an integer" \
        "severity|bundle findings: collectors\[0\]\.findings\[0\]\.severity: 'fatal' is not a severity" \
        "not_json|bundle manifest: not valid JSON" \
        "collectors_string|bundle findings: collectors: expected an array, not a string" \
        "huge|bundle manifest: artifacts: more than 1000000 elements"; do
        k=${c%%|*}
        t_run check --from "$T_TMP/m/$k" --json
        sane "$k"
        t_like "$ERR" "evodiag: --from .*/m/$k: ${c#*|}" "$k: the error names the field"
        t_unlike "$OUT" '"collectors"' "$k: no report judged from a bad bundle"
        t_like "$(printf '%s' "$OUT" | jq -r .error)" "${c#*|}" "$k: --json: the error is the document"
done
# The same inside an archive.
tar -czf "$T_TMP/errno.tar.gz" -C "$T_TMP/m" errno_negative
t_run check --from "$T_TMP/errno.tar.gz"
sane "errno -5 in an archive"
t_like "$ERR" "artifacts\[0\]\.errno: -5 is out of range" "errno -5 in an archive: refused"
t_no_tmp "errno -5: no temp dir left"

# ---- budgets and write errors ----
t_run check --from "$T_TMP/declared.tar.gz"
sane "600 MiB declared"
t_like "$ERR" "refusing entry 'b/host/big': its 629145600 bytes exceed what is left of the 512 MiB unpack budget" \
        "the decompression budget is the bundle limit (512 MiB)"
t_no_tmp "600 MiB: no temp dir left"

# A file size limit (RLIMIT_FSIZE, 512 KiB): the write fails, the check stops and says so.
(ulimit -f 512 && exec timeout -k 5 60 "$EVODIAG" check --from "$T_TMP/twomeg.tar.gz") >"$T_TMP/fsize.out" 2>"$T_TMP/fsize.err"
RC=$?
ERR=$(cat "$T_TMP/fsize.err")
sane "RLIMIT_FSIZE"
t_like "$ERR" "cannot unpack 'b/host/proc/big': File too large \(unpacking into $TMPDIR/evodiag-from-[^)]*\); nothing was checked" \
        "RLIMIT_FSIZE: a clear message, nothing judged"
t_is "$(cat "$T_TMP/fsize.out")" "" "RLIMIT_FSIZE: no report from truncated evidence"
t_no_tmp "RLIMIT_FSIZE: no temp dir left"

# A full disk: a 1 MiB tmpfs as TMPDIR, in a private mount namespace.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
        mkdir -p "$T_TMP/small"
        unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs "$1" || exit 99
                TMPDIR="$1" timeout -k 5 60 "$2" check --from "$3" >"$4.out" 2>"$4.err"
                rc=$?
                ls -A "$1" >"$4.left"
                exit $rc' sh "$T_TMP/small" "$EVODIAG" "$T_TMP/twomeg.tar.gz" "$T_TMP/enospc"
        RC=$?
        ERR=$(cat "$T_TMP/enospc.err")
        sane "ENOSPC"
        t_like "$ERR" "cannot unpack 'b/host/proc/big': No space left on device \(unpacking into $T_TMP/small/evodiag-from-[^)]*\); nothing was checked" \
                "ENOSPC: a clear message, nothing judged"
        t_is "$(cat "$T_TMP/enospc.out")" "" "ENOSPC: no report from truncated evidence"
        t_is "$(cat "$T_TMP/enospc.left")" "" "ENOSPC: the temp dir was removed"
else
        t_skip "ENOSPC: needs root and unshare -m"
fi

# ---- the reader runs in a child under the run's deadline; the temp dir goes on
# every exit path, signals included ----
python3 - "$T_TMP/big.tar.gz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", compresslevel=1) as t:
    for i in range(40000):
        ti = tarfile.TarInfo(f"b/host/d{i // 1000}/f{i}")
        ti.size = 2
        t.addfile(ti, io.BytesIO(b"x\n"))
PY
# 40,000 entries take seconds to unpack: --timeout 300ms stops the reader.
start=$(date +%s%N)
t_run check --from "$T_TMP/big.tar.gz" --timeout 300ms
ms=$((($(date +%s%N) - start) / 1000000))
sane "a slow bundle"
t_like "$ERR" "reading the bundle did not finish within the run's --timeout: stopped, nothing was checked" "a slow bundle: stopped at --timeout"
t_is "$([ "$ms" -lt 5000 ] && echo bounded)" bounded "a slow bundle: the run ended (${ms} ms for --timeout 300ms)"
t_no_tmp "a slow bundle: no temp dir left"

# Killed in the middle of unpacking, however: a helper removes the temp dir.
# (A background job of a script starts with SIGINT ignored; a terminal's does not.)
for sig in TERM INT KILL; do
        env --default-signal=INT "$EVODIAG" check --from "$T_TMP/big.tar.gz" >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 500); do
                [ -n "$(ls "$TMPDIR"/evodiag-from-*/b/host 2>/dev/null)" ] && break
                sleep 0.01
        done
        t_like "$(ls "$TMPDIR"/evodiag-from-*/b/host 2>/dev/null | head -1)" "^d" "SIG$sig: sent in the middle of unpacking"
        kill -"$sig" "$pid"
        wait "$pid"
        rc=$?
        t_is "$rc" "$((128 + $(kill -l "$sig")))" "SIG$sig: evodiag ended by the signal"
        t_no_tmp "SIG$sig during unpacking: no temp dir left"
done

if t_have_hooks 9; then
        start=$(date +%s%N)
        EVODIAG_FAULT=from:hang t_run check --from "$T_TMP/good.tar.gz" --timeout 2s
        ms=$((($(date +%s%N) - start) / 1000000))
        t_like "$ERR" "reading the bundle did not finish within the run's --timeout" "a hung reader: stopped at --timeout"
        t_is "$([ "$ms" -lt 10000 ] && echo bounded)" bounded "a hung reader: the run ended (${ms} ms for --timeout 2s)"
        t_no_tmp "a hung reader: no temp dir left"
        EVODIAG_FAULT=from:crash t_run check --from "$T_TMP/good.tar.gz"
        t_is "$RC" 3 "a crashing reader: exit 3"
        t_like "$ERR" "the bundle reader failed \(killed by signal 11" "a crashing reader: the parent reports it"
        t_no_tmp "a crashing reader: no temp dir left"
        EVODIAG_FAULT=from:garbage t_run check --from "$T_TMP/good.tar.gz"
        t_is "$RC" 3 "a reader sending garbage: exit 3"
        t_like "$ERR" "the bundle reader sent no usable result" "a reader sending garbage: not trusted"
        t_no_tmp "a reader sending garbage: no temp dir left"
fi

# ---- the import of recorded listings is linear ----
# Judged by how the time grows (20,000 vs 80,000 listings, same host, same load): about
# 4x when linear, 16x when quadratic. No absolute bound: a busy host is slow, not wrong.
listings() { # DIR N
        python3 - "$1" "$2" <<'PY'
import json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{d}/host", exist_ok=True)
arts = [{"path": f"host/proc/{i}/fd", "kind": "listing", "status": "ok", "dir": True, "names": ["0", "1", "2"]} for i in range(n)]
json.dump({"schema": 1, "host": "many", "artifacts": arts}, open(f"{d}/manifest.json", "w"))
json.dump({"collectors": [{"name": "memory", "status": "ok", "findings": []}]}, open(f"{d}/findings.json", "w"))
PY
}
timed_from() { # DIR: sets ms
        local start
        start=$(date +%s%N)
        T_TIMEOUT=320 t_run check --from "$1" --timeout 300s --json
        ms=$((($(date +%s%N) - start) / 1000000))
}
listings "$T_TMP/listings20" 20000
listings "$T_TMP/listings" 80000
timed_from "$T_TMP/listings20"
ms20=$ms
timed_from "$T_TMP/listings"
t_like "$ERR" "re-checked offline" "80,000 recorded listings are imported"
t_is "$([ "$ms" -lt $((ms20 * 10 + 2000)) ] && echo linear)" linear \
        "80,000 listings take ${ms} ms, 20,000 take ${ms20} ms: linear growth (quadratic was 16x)"

# A live host without a journal or systemd-coredump (as the H200 machine of tests/fixtures/gpu
# was): tmpfs over /var/log, /run/log and /var/lib/systemd in a private mount namespace.
# coredump and journal quote where the
# journal was looked for; the bundle's re-check must word it as the live run did, or every
# such bundle's check --from says "differ" (it did: "the local journal" live, "... under
# the root" on re-check).
# Its own pid and IPC namespaces too: what runs beside it (another test's "lavinmq") would
# otherwise change what coredump says between the bundle and its re-check.
if [ "$(id -u)" = 0 ] && unshare -m -i -p -f --mount-proc --propagation private true 2>/dev/null; then
        unshare -m -i -p -f --mount-proc --propagation private sh -c 'for d in /var/log /run/log /var/lib/systemd; do [ ! -d $d ] || mount -t tmpfs tmpfs $d || exit 9; done; exec "$@"' \
                sh "$EVODIAG" bundle --only coredump,journal --collector-timeout 60s --timeout 120s -o "$T_TMP/nojournal.tar.zst" -q \
                >/dev/null 2>"$T_TMP/nojournal.err"
        t_like "$?" "^[01]$" "no journal: the bundle is made" || cat "$T_TMP/nojournal.err" >&2
        T_TIMEOUT=150 t_run check --from "$T_TMP/nojournal.tar.zst" --json --collector-timeout 60s --timeout 120s
        t_like "$(t_sum journal.source)" "no journal files in /var/log/journal and /run/log/journal" "no journal: the re-check says where it looked"
        t_like "$(t_sum coredump.crash)" "no journal records \(no journal files in /var/log/journal and /run/log/journal\), /var/lib/systemd/coredump \(absent\)" \
                "no journal: coredump says where it looked, once"
        t_like "$ERR" "re-checked offline: 2 collectors agree with the bundle's recorded findings, 0 differ" \
                "no journal: coredump and journal re-check the bundle alike"
else
        t_skip "no journal: needs root and unshare"; t_skip "no journal: needs root and unshare"
        t_skip "no journal: needs root and unshare"; t_skip "no journal: needs root and unshare"
fi

t_done
