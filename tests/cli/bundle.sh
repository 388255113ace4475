#!/bin/bash
# evodiag bundle: layout, manifest, checksums, mode, redaction end to end, interruption,
# SIGKILL, upload to a real WebDAV server, check --from round trip, hostile tars.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
command -v zstd >/dev/null || t_skip_all "zstd not installed"

# A host with problems and secrets: FD exhaustion, a process with a token in its
# command line, a kernel command line with a password.
root=$(fx_root bundle fds-exhausted)
fx_file "$root" proc/meminfo "$(cat "$FIXTURES/hugepages-healthy/proc/meminfo")"
fx_file "$root" proc/buddyinfo "Node 0, zone   Normal   10 10 10 10 10 10 10 10 10 10 10"
fx_file "$root" proc/sys/vm/overcommit_memory 0
fx_file "$root" proc/sys/vm/max_map_count 65530
fx_file "$root" proc/cmdline "BOOT_IMAGE=/vmlinuz root=/dev/sda1 initrd.password=Hunter2Secret quiet"
fx_file "$root" proc/sys/kernel/hostname "evo-cell-7"
fx_proc "$root" 100 lavinmq fds=1000 nofile_soft=1024 maps=30 \
        cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini --default-password=GuestPassw0rd"
fx_proc "$root" 200 snn-server cmdline="snn-server --api-key sk-live-TOPSECRET42 --port 8080"

out="$T_TMP/out"
mkdir -p "$out"
t_run bundle --root "$root" --only fds,maps,memory -o "$out" -q
t_is "$RC" 0 "bundle on a fixture root: exit 0 (complete)"
file=$(ls "$out"/evodiag-*.tar.zst 2>/dev/null | head -1)
t_like "$file" "/evodiag-evo-cell-7-[0-9]{8}T[0-9]{6}Z\.tar\.zst$" "named evodiag-<host>-<UTC time>.tar.zst"
t_is "$OUT" "$file" "prints the path on stdout"
t_is "$(stat -c %a "$file")" 600 "the archive is mode 0600"
t_is "$(ls -A "$out" | sed "s|^$(basename "$file")|ARCHIVE|" | tr '\n' ' ')" "ARCHIVE ARCHIVE.sha256 " "no temporary file left beside it; its .sha256 beside it"
t_is "$(cd "$out" && sha256sum -c "$(basename "$file").sha256" 2>&1)" "$(basename "$file"): OK" "the .sha256 file verifies the archive (sha256sum -c)"

x="$T_TMP/x"
mkdir -p "$x"
tar --zstd -xf "$file" -C "$x"
top=$(ls "$x")
t_is "$(ls "$x" | wc -l)" 1 "one top directory"
for f in ISSUE.md summary.txt findings.json manifest.json evodiag.log; do
        t_is "$([ -s "$x/$top/$f" ] && echo yes)" yes "layout: $f"
done
t_is "$([ -f "$x/$top/host/proc/100/limits" ] && echo yes)" yes "host/ holds the files the checks read at their paths"
m="$x/$top/manifest.json"
t_is "$(jq -r '.schema, .complete, .redacted' "$m" | tr '\n' ' ')" "1 true true " "manifest: schema, complete, redacted"
t_is "$(jq -r '[.collectors[].name] | join(",")' "$m")" "fds,maps,memory" "manifest: the collectors run"
t_is "$(jq -r '[.collectors[] | select(.status != "ok")] | length' "$m")" 0 "manifest: every collector ok"
t_is "$(jq -r '[.artifacts[] | select(.sha256 == null and .kind != "listing" and .kind != "stat" and (.status == "ok")) ] | length' "$m")" 0 \
        "manifest: every stored file has a sha256"
bad=""
while IFS=$'\t' read -r path sha; do
        got=$(sha256sum "$x/$top/$path" | cut -d' ' -f1)
        [ "$got" = "$sha" ] || bad="$bad $path"
done < <(jq -r '.artifacts[] | select(.sha256 != null) | [.path, .sha256] | @tsv' "$m")
t_is "$bad" "" "every entry's sha256 matches the manifest ($(jq '[.artifacts[] | select(.sha256 != null)] | length' "$m") entries)"
t_is "$(jq -r '.artifacts[] | select(.path == "host/proc/100/limits") | [.kind, .origin, .status] | join(" ")' "$m")" \
        "file /proc/100/limits ok" "manifest: kind, origin, status per artifact"
t_is "$(jq -r '.collectors[] | select(.name == "fds") | .findings' "$x/$top/findings.json" | jq -r '[.[] | select(.severity == "crit") | .id] | join(",")')" \
        "fds.process" "findings.json holds the findings"
t_like "$(cat "$x/$top/summary.txt")" "CRIT +fds.process" "summary.txt is the check report"
t_like "$(cat "$x/$top/summary.txt")" "== Missing data" "summary.txt ends with what is missing"
t_like "$(cat "$x/$top/ISSUE.md")" "^# .* on evo-cell-7" "ISSUE.md: title from the worst finding"
t_like "$(cat "$x/$top/ISSUE.md")" "\| crit \| \`fds.process\` \|" "ISSUE.md: problem table with the crit finding"
t_like "$(cat "$x/$top/ISSUE.md")" "✍️" "ISSUE.md: the reporter's parts are placeholders"
t_unlike "$(cat "$x/$top/ISSUE.md")" "\{\{" "ISSUE.md: no template tag left"
t_like "$(cat "$x/$top/evodiag.log")" "fds: ok in [0-9]+ ms, [0-9]+ artifacts" "evodiag.log: what ran, with timings"

# Secrets: nowhere in the archive, the manifest, the log or stderr.
secrets="Hunter2Secret GuestPassw0rd sk-live-TOPSECRET42"
leak=""
for s in $secrets; do
        grep -rqa -- "$s" "$x" && leak="$leak $s(archive)"
        printf '%s' "$ERR" | grep -qa -- "$s" && leak="$leak $s(stderr)"
done
t_is "$leak" "" "no secret in any file of the archive or on stderr"
t_like "$(tr '\0' ' ' <"$x/$top/host/proc/200/cmdline")" "--api-key <redacted>" "the process command line is redacted in place"
t_like "$(cat "$x/$top/ISSUE.md")" "initrd.password=<redacted>" "the kernel command line in ISSUE.md is redacted"
t_is "$(jq -r '[.artifacts[] | .redactions // 0] | add > 0' "$m")" true "the manifest counts redactions"

# A secret on evodiag's own command line (an upload URL with credentials) stays out too.
t_run bundle --root "$root" --only memory -o "$out/cred.tar.zst" -q --upload "http://uploader:Sup3rS3cret@127.0.0.1:9/x/"
t_is "$RC" 4 "an upload that cannot connect: exit 4 (bundle still written)"
t_is "$([ -f "$out/cred.tar.zst" ] && echo yes)" yes "the bundle exists despite the failed upload"
t_unlike "$ERR" "Sup3rS3cret" "no credential on stderr"
xc="$T_TMP/xc"
mkdir -p "$xc"
tar --zstd -xf "$out/cred.tar.zst" -C "$xc"
t_is "$(grep -rla Sup3rS3cret "$xc" | wc -l)" 0 "no credential in the manifest's command line or the log"
t_like "$(jq -r .command_line "$xc"/*/manifest.json)" "uploader:<redacted>@127.0.0.1" "the command line is kept, redacted"

# --no-redact keeps them (for bundles that never leave the host).
t_run bundle --root "$root" --only fds --no-redact -o "$out/raw.tar.zst" -q
t_is "$(tar --zstd -xOf "$out/raw.tar.zst" --wildcards '*/host/proc/200/cmdline' | tr '\0' ' ' | grep -c TOPSECRET42)" 1 "--no-redact keeps secrets"

# --obfuscate: host name and addresses replaced, mapping kept outside the archive.
fx_file "$root" proc/cmdline "BOOT_IMAGE=/vmlinuz ip=10.20.30.40::10.20.30.1:255.255.255.0:evo-cell-7:eth0:off"
t_run bundle --root "$root" --only memory -o "$out/obf.tar.zst" -q --obfuscate
xo="$T_TMP/xo"
mkdir -p "$xo"
tar --zstd -xf "$out/obf.tar.zst" -C "$xo"
t_is "$(grep -rlaE '10\.20\.30\.40|evo-cell-7' "$xo" | wc -l)" 0 "--obfuscate: no address or host name left"
t_is "$(stat -c %a "$EVODIAG_STATE_DIR/obfuscate.map")" 600 "--obfuscate: the mapping is kept on the host, 0600"
t_like "$(cat "$EVODIAG_STATE_DIR/obfuscate.map")" "10\.20\.30\.40	198\.1[89]\." "--obfuscate: the mapping says what became what"

# -o - streams to stdout; --gzip.
"$EVODIAG" bundle --root "$root" --only memory -o - -q >"$T_TMP/stream.tar.zst" 2>/dev/null
t_is "$(tar --zstd -tf "$T_TMP/stream.tar.zst" | grep -c manifest.json)" 1 "-o - writes a valid archive to stdout"
t_run bundle --root "$root" --only memory --gzip -o "$out/g.tar.gz" -q
t_is "$(tar -tzf "$out/g.tar.gz" | grep -c ISSUE.md)" 1 "--gzip writes a gzip tarball"

# Budgets: a tiny --max-size truncates and says so.
t_run bundle --root "$root" --only fds,maps --max-size 2K -o "$out/small.tar.zst" -q
t_is "$RC" 1 "a tiny --max-size still gives a bundle, but an incomplete one: exit 1"
t_is "$(tar --zstd -xOf "$out/small.tar.zst" --wildcards '*/manifest.json' | jq -r .complete)" false "a cut bundle: complete false"
t_like "$(tar --zstd -xOf "$out/small.tar.zst" --wildcards '*/manifest.json' | jq -r '.incomplete[]')" \
        "^[0-9]+ artifacts cut or left out at the total size budget \(--max-size 2\.0 KiB\)$" "a cut bundle: the manifest says why"
t_like "$(tar --zstd -xOf "$out/small.tar.zst" --wildcards '*/ISSUE.md' | head -8 | grep -A1 'INCOMPLETE' | tr '\n' '~')" \
        "^> \*\*This bundle is INCOMPLETE\.\*\* Missing:~> - [0-9]+ artifacts cut or left out at the total size budget" \
        "a cut bundle: ISSUE.md says so at the top, with what is missing"
t_like "$ERR" "INCOMPLETE" "a cut bundle: stderr says so even with -q"
t_like "$(tar --zstd -xOf "$out/small.tar.zst" --wildcards '*/manifest.json' | jq -r '[.artifacts[].status] | unique | join(",")')" \
        "(skipped|truncated)" "budget cuts are recorded per artifact"

# check --from: the offline re-check reaches the recorded findings.
t_run check --from "$file" --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status == "ok") | .name] | join(",")')" "fds,maps,memory" "check --from runs the collectors on the evidence"
t_like "$ERR" "re-checked offline: 3 collectors agree with the bundle's recorded findings, 0 differ" "check --from: findings equal the recorded ones"
t_is "$RC" 2 "check --from: exit code of the findings"
t_run check --from "$x" --json
t_like "$ERR" "3 collectors agree" "check --from an unpacked directory"

# A live bundle of this host round-trips too. It is made in private pid, IPC and mount
# namespaces (its own /proc and /dev/shm) where the host allows them, so that what other
# work on a busy host starts or stops between a collector's look and the stored copy
# cannot make the bundle disagree with itself.
live_bundle='mount --make-rprivate / && mount -t tmpfs -o mode=1777 tmpfs /dev/shm &&
        "$EVODIAG" bundle --only shm,hugepages,memory,maps -o "$1" -q'
export EVODIAG
unshare -m -i -p -f --mount-proc bash -c "$live_bundle" bash "$out/live.tar.zst" >/dev/null 2>&1 ||
        t_run bundle --only shm,hugepages,memory,maps -o "$out/live.tar.zst" -q
t_run check --from "$out/live.tar.zst" -v
t_like "$ERR" "4 collectors agree with the bundle's recorded findings, 0 differ" "live bundle: check --from agrees"

# Hostile archives are refused, naming the entry.
python3 - "$T_TMP" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def mk(name, members):
    with tarfile.open(f"{d}/{name}", "w:gz") as t:
        for n, kind, target in members:
            ti = tarfile.TarInfo(n)
            if kind == "link":
                ti.type, ti.linkname = tarfile.SYMTYPE, target
                t.addfile(ti)
            else:
                data = b"x\n"
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
mk("dotdot.tar.gz", [("b/manifest.json", "f", None), ("b/../../evil", "f", None)])
mk("abs.tar.gz", [("/tmp/evodiag-evil-abs", "f", None)])
mk("link.tar.gz", [("b/manifest.json", "f", None), ("b/host/etc", "link", "../../../../etc")])
PY
for k in dotdot abs link; do
        t_run check --from "$T_TMP/$k.tar.gz"
        t_is "$RC" 3 "a tar with a $k entry is refused (exit 3)"
        t_like "$ERR" "refusing (entry|link)" "and the error names it ($k)"
done
t_is "$([ -e /tmp/evodiag-evil-abs ] || [ -e "$T_TMP/../evil" ] && echo leaked)" "" "nothing was written outside"
t_run check --from "$T_TMP/abs.tar.gz.missing"
t_is "$RC" 3 "--from a missing file: exit 3"
printf 'not a tar at all' >"$T_TMP/garbage.tar.zst"
t_run check --from "$T_TMP/garbage.tar.zst"
t_is "$RC" 3 "--from garbage: exit 3 with a message"
t_like "$ERR" "evodiag: --from .*garbage.tar.zst" "the message names the file"

if t_have_hooks 5; then
        # SIGINT mid-run: a blocked collector (test hook); the bundle is still written, marked incomplete.
        fifo=$(fx_root fifo)
        mkdir -p "$fifo/proc/sys/vm"
        echo 0 >"$fifo/proc/sys/vm/overcommit_memory"
        mkfifo "$fifo/proc/meminfo"
        EVODIAG_FAULT=memory:hang "$EVODIAG" bundle --root "$fifo" --only fds,memory --collector-timeout 60s -o "$out/int.tar.zst" -q >"$T_TMP/int.out" 2>"$T_TMP/int.err" &
        pid=$!
        for _ in $(seq 100); do ls "$out"/.int.tar.zst.* >/dev/null 2>&1 && break; sleep 0.05; done
        sleep 0.5
        kill -INT "$pid"
        wait "$pid"
        rc=$?
        t_is "$rc" 1 "SIGINT: exit 1 (written, incomplete)"
        t_is "$(tar --zstd -xOf "$out/int.tar.zst" --wildcards '*/manifest.json' | jq -r .complete)" false "SIGINT: a valid bundle whose manifest says complete: false"
        t_like "$(tar --zstd -xOf "$out/int.tar.zst" --wildcards '*/manifest.json' | jq -r '.collectors[] | select(.name=="memory") | .status')" "interrupted" \
                "SIGINT: the blocked collector is marked interrupted"
        t_like "$(tar --zstd -xOf "$out/int.tar.zst" --wildcards '*/summary.txt')" "INCOMPLETE" "SIGINT: summary.txt says it is incomplete"
        t_like "$(tar --zstd -xOf "$out/int.tar.zst" --wildcards '*/ISSUE.md' | head -8 | tr '\n' '~')" \
                "This bundle is INCOMPLETE\.\*\* Missing:~> - interrupted by Interrupt.*> - collector memory: interrupted" \
                "SIGINT: ISSUE.md says so at the top, with what is missing"
        t_unlike "$(tar --zstd -xOf "$out/int.tar.zst" --wildcards '*/summary.txt')" "\(no findings\)" \
                "SIGINT: no collector shown as having no findings"

        # SIGKILL: never a file under the final name.
        EVODIAG_FAULT=memory:hang "$EVODIAG" bundle --root "$fifo" --only memory --collector-timeout 60s -o "$out/killed.tar.zst" -q >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 100); do ls "$out"/.killed.tar.zst.* >/dev/null 2>&1 && break; sleep 0.05; done
        sleep 0.3
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        t_is "$([ -e "$out/killed.tar.zst" ] && echo exists)" "" "SIGKILL: no file under the final name"
fi

# Upload to a real WebDAV server (nginx) on 127.0.0.1, started and stopped here.
if command -v nginx >/dev/null && nginx -V 2>&1 | grep -q http_dav_module; then
        w="$T_TMP/www"
        mkdir -p "$w/up" "$w/tmp"
        chmod 0777 "$w/up" "$w/tmp" # nginx's workers drop root
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        cat >"$w/nginx.conf" <<EOF
daemon off;
user root root;
pid $w/nginx.pid;
error_log $w/error.log;
events { worker_connections 16; }
http {
        access_log $w/access.log;
        client_body_temp_path $w/tmp;
        client_max_body_size 100m;
        server {
                listen 127.0.0.1:$port;
                root $w;
                location /up/ { dav_methods PUT; create_full_put_path on; }
        }
}
EOF
        nginx -c "$w/nginx.conf" -p "$w" &
        npid=$!
        t_at_exit "kill $npid 2>/dev/null"
        for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
        t_run bundle --root "$root" --only memory -o "$out/up.tar.zst" --upload "http://127.0.0.1:$port/up/"
        t_is "$RC" 0 "upload to WebDAV: exit 0"
        t_like "$ERR" "uploaded to http://127.0.0.1:$port/up/up.tar.zst \(HTTP 201\), sha256 [0-9a-f]{64}" "says where it went and the sha256"
        t_is "$(cmp "$out/up.tar.zst" "$w/up/up.tar.zst" && echo same)" same "the uploaded bytes are identical"
        t_like "$ERR" "sha256 $(sha256sum "$out/up.tar.zst" | cut -d' ' -f1)" "the printed sha256 is the file's"
        t_run bundle --root "$root" --only memory -o "$out/up2.tar.zst" -q --upload "http://127.0.0.1:$port/forbidden/"
        t_is "$RC" 4 "a server that refuses it (405): exit 4"
        kill "$npid" 2>/dev/null
        wait "$npid" 2>/dev/null
else
        t_skip "nginx with the dav module is not installed"
fi

# s3:// upload: SigV4-signed PUT, path-style, keys from the config file (never argv).
s3="$T_TMP/s3"
mkdir -p "$s3"
coproc REC { exec python3 "$TOP_SRCDIR/tests/helpers/put_recorder.py" "$s3"; }
t_at_exit "kill $REC_PID 2>/dev/null"
read -r _ s3port <&"${REC[0]}"
cfg="$T_TMP/s3.conf"
printf '[upload]\ns3_endpoint = http://127.0.0.1:%s\ns3_region = eu-north-1\ns3_access_key = AKIDEXAMPLE\ns3_secret_key = S3cretKeyValue/ABC\n' "$s3port" >"$cfg"
t_run bundle --root "$root" --only memory -o "$out/s3.tar.zst" --config "$cfg" --upload s3://evo-bugs/host7/
t_is "$RC" 0 "s3:// upload: exit 0"
t_is "$(cmp "$out/s3.tar.zst" "$s3/evo-bugs__host7__s3.tar.zst" && echo same)" same "s3:// upload: bytes identical at bucket/prefix/name"
h="$s3/evo-bugs__host7__s3.tar.zst.headers.json"
t_like "$(jq -r '.headers.Authorization' "$h")" "^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/[0-9]{8}/eu-north-1/s3/aws4_request, SignedHeaders=.*x-amz-content-sha256.*, Signature=[0-9a-f]{64}$" \
        "s3:// upload: SigV4 Authorization header"
t_is "$(jq -r '.headers["x-amz-content-sha256"]' "$h")" "$(sha256sum "$out/s3.tar.zst" | cut -d' ' -f1)" "s3:// upload: payload hash header is the file's sha256"
t_unlike "$ERR" "S3cretKeyValue" "s3:// upload: the secret key is never printed"
t_is "$(tar --zstd -xOf "$out/s3.tar.zst" --wildcards '*/manifest.json' '*/evodiag.log' | grep -c S3cretKeyValue)" 0 "s3:// upload: nor stored in the bundle"

# The output path: checked before anything is collected (nothing written anywhere else).
before=$(ls -a / | grep -c evodiag-tmp)
t_run bundle --root "$root" --only fds -o /nonexistent-$$/ -q
t_is "$RC" 3 "-o /nonexistent/: exit 3"
t_like "$ERR" "no such directory \(nothing was collected\)" "-o /nonexistent/: said before collecting"
t_is "$(ls -a / | grep -c evodiag-tmp)" "$before" "-o /nonexistent/: no temporary file in /"
t_run bundle --root "$root" --only fds -o "/nonexistent-$$/b.tar.zst" -q
t_is "$RC" 3 "-o /nonexistent/FILE: exit 3"
t_like "$ERR" "nonexistent-$$: No such file or directory \(nothing was collected\)" "-o /nonexistent/FILE: its directory is missing"
: >"$T_TMP/afile"
t_run bundle --root "$root" --only fds -o "$T_TMP/afile/b.tar.zst" -q
t_like "$ERR" "is not a directory \(nothing was collected\)" "-o FILE/x: not a directory"
if [ "$(id -u)" = 0 ]; then
        # No -o as root: /var/tmp, like sos; --case-id in the name and ISSUE.md; --batch accepted.
        mkdir -p "$T_TMP/cwd"
        (cd "$T_TMP/cwd" && "$EVODIAG" bundle --root "$root" --only memory --batch --case-id "T$$-case" -q) >"$T_TMP/vt.out" 2>"$T_TMP/vt.err"
        vt=$(cat "$T_TMP/vt.out")
        t_at_exit "rm -f '$vt' '$vt.sha256'"
        t_like "$vt" "^/var/tmp/evodiag-evo-cell-7-[0-9]{8}T[0-9]{6}Z-T$$-case\.tar\.zst$" "no -o as root: /var/tmp, the case ID in the name"
        t_is "$(ls -A "$T_TMP/cwd")" "" "no -o as root: nothing in the current directory"
        t_like "$(tar --zstd -xOf "$vt" --wildcards '*/ISSUE.md')" "Case: \`T$$-case\`" "--case-id: in ISSUE.md"
        t_is "$(cat "$vt.sha256")" "$(cd /var/tmp && sha256sum "$(basename "$vt")")" "no -o as root: the .sha256 beside it"
        rm -f "$vt" "$vt.sha256"
else
        t_skip "not root"; t_skip "not root"; t_skip "not root"; t_skip "not root"
fi
# No room for even a small bundle (a 256 KiB tmpfs in a private mount namespace): refused first.
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
        mkdir -p "$T_TMP/full"
        unshare -m --propagation private sh -c 'mount -t tmpfs -o size=256k tmpfs "$1" && shift && exec "$@"' sh "$T_TMP/full" \
                "$EVODIAG" bundle --root "$root" --only memory -o "$T_TMP/full/" -q >"$T_TMP/full.out" 2>"$T_TMP/full.err"
        t_is "$?" 3 "a directory without 1 MiB free: exit 3"
        t_like "$(cat "$T_TMP/full.err")" "full/? has [0-9.]+ [KMG]?i?B free, less than a small bundle needs \(nothing was collected\)" \
                "a directory without 1 MiB free: said before collecting"
else
        t_skip "needs root and unshare -m"; t_skip "needs root and unshare -m"
fi
t_run bundle --root "$root" --only memory --case-id "../../x" -o "$out" -q
t_is "$RC" 3 "--case-id with a slash: exit 3"

# One binary is enough: a copy of evodiag outside the build tree, no templates installed
# beside it, still writes ISSUE.md (built in); --templates DIR overrides; a broken one falls back.
mkdir -p "$T_TMP/copy" "$T_TMP/tpl"
cp "$EVODIAG" "$T_TMP/copy/evodiag"
if [ -d /usr/local/share/evodiag/templates ]; then
        t_skip "templates are installed on this host"
else
        (unset EVODIAG_TEMPLATES; "$T_TMP/copy/evodiag" bundle --root "$root" --only memory -o "$out/copy.tar.zst" -q) 2>"$T_TMP/copy.err"
        t_like "$(tar --zstd -xOf "$out/copy.tar.zst" --wildcards '*/ISSUE.md' | head -1)" "^# " "a copied binary writes ISSUE.md (the built-in template)"
fi
printf '# custom {{host}}\n{{{status}}}{{{evidence}}}\n' >"$T_TMP/tpl/general.md"
t_run bundle --root "$root" --only memory --templates "$T_TMP/tpl" -o "$out/tpl.tar.zst" -q
t_is "$(tar --zstd -xOf "$out/tpl.tar.zst" --wildcards '*/ISSUE.md' | head -1)" "# custom evo-cell-7" "--templates DIR overrides the built-in template"
printf '# broken {{#each x}}\n' >"$T_TMP/tpl/general.md"
t_run bundle --root "$root" --only memory --templates "$T_TMP/tpl" -o "$out/broken.tar.zst" -q
t_is "$RC" 0 "a broken override: still complete (the built-in template is used)"
t_like "$(tar --zstd -xOf "$out/broken.tar.zst" --wildcards '*/ISSUE.md' | head -1)" "^# Diagnostics|^# .* on evo-cell-7$" "a broken override: the built-in ISSUE.md"
t_like "$(tar --zstd -xOf "$out/broken.tar.zst" --wildcards '*/evodiag.log')" "ISSUE.md: .*tpl/general.md:1: .*the built-in general.md was used" \
        "a broken override: evodiag.log says so"
t_run bundle --root "$root" --only memory --templates "$T_TMP/nonexistent" -o "$out" -q
t_is "$RC" 3 "--templates without such a directory: exit 3"

t_run bundle --component nosuch -o "$out" -q --root "$root"
t_is "$RC" 3 "--component without a template: exit 3"
t_run bundle --max-size lots
t_is "$RC" 3 "bad --max-size: exit 3"
t_run bundle -o - --upload https://example.invalid/
t_is "$RC" 3 "-o - with --upload: exit 3"
t_done
