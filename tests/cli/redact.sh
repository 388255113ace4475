#!/bin/bash
# Secrets never leave: a process of ours whose argv holds every covered secret form,
# seen through check -v, --json, --format nagios, a bundle (every file of the archive)
# and stderr/evodiag.log; secrets in an upload URL; and what a bundle leaves out
# unless --full (passwd/group entries nobody looked up, command lines nobody names).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
command -v zstd >/dev/null || t_skip_all "zstd not installed"
command -v python3 >/dev/null || t_skip_all "python3 not installed"

# Every secret is "Zq<n>…": one grep finds any of them anywhere.
secret_argv=(
        -c /etc/lavinmq/lavinmq.ini
        --db-pass Zq1dbpass DB_PASS=Zq2env MYSQL_PWD=Zq3mysqlpwd -P Zq4bigp
        "https://ghp_Zq5abcdefghijklmnopqrstuvwxyz0123@github.com/o/r.git"
        "https://u:Zq6p@ss@host.example/"
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=Zq7cred&X-Amz-Security-Token=Zq8tok&X-Amz-Signature=Zq9sig"
        "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sig=Zq10sas"
        "https://h.example/o?Signature=Zq11sig&token=Zq12tok&access_token=Zq13at"
        sshpass -p Zq14ssh redis-cli -a Zq15redis mysql -pZq16mysql curl -u admin:Zq17curl
)
# A real process: python3 sleeping, renamed lavinmq (exec -a), that argv.
(exec -a lavinmq python3 -c 'import sys, time; time.sleep(120)' "${secret_argv[@]}") &
sleeper=$!
t_at_exit "kill $sleeper 2>/dev/null"
for _ in $(seq 100); do
        tr '\0' ' ' </proc/$sleeper/cmdline 2>/dev/null | grep -q Zq17curl && break
        sleep 0.05
done

# The inspected host: its /proc/4242 is that process, with its real command line.
root=$(fx_root redact)
fx_file "$root" proc/meminfo "$(cat "$FIXTURES/hugepages-healthy/proc/meminfo")"
fx_file "$root" proc/sys/vm/max_map_count 65530
fx_proc "$root" 4242 lavinmq fds=900 nofile_soft=1024
cp /proc/$sleeper/cmdline "$root/proc/4242/cmdline"
t_is "$(grep -ao 'Zq[0-9]*' "$root/proc/4242/cmdline" | sort -u | wc -l)" 17 "the process's own argv holds the 17 secrets"

t_run check -v --root "$root" --only lavinmq,fds
t_like "$OUT" "lavinmq\.process .*pid 4242" "check -v shows the broker process"
t_like "$OUT" "found: +pid 4242 \(.*--db-pass <redacted> DB_PASS=<redacted>" "check -v shows its command line, redacted"
t_like "$OUT" "curl -u admin:<redacted>" "the text around a secret stays"
t_unlike "$OUT$ERR" "Zq[0-9]" "check -v: no secret on stdout or stderr"
t_run check --json --root "$root" --only lavinmq,fds
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "lavinmq.process") | .actual' | grep -c '<redacted>')" 1 \
        "--json: the command line is there, redacted"
t_unlike "$OUT$ERR" "Zq[0-9]" "--json: no secret"
t_run check --format nagios --root "$root" --only lavinmq,fds
t_unlike "$OUT$ERR" "Zq[0-9]" "nagios: no secret"

t_run bundle --root "$root" --only lavinmq,fds -o "$T_TMP/b.tar.zst"
t_is "$RC" 0 "bundle: written"
x="$T_TMP/x"
mkdir -p "$x"
tar --zstd -xf "$T_TMP/b.tar.zst" -C "$x"
t_is "$(grep -rla 'Zq[0-9]' "$x" | sed "s|$x/[^/]*/||" | sort | tr '\n' ' ')" "" "bundle: no secret in any file (manifest, log, findings, ISSUE.md, host/)"
t_unlike "$ERR" "Zq[0-9]" "bundle: no secret on stderr"
t_like "$(tr '\0' ' ' <"$x"/*/host/proc/4242/cmdline)" "redis-cli -a <redacted> mysql -p<redacted>" \
        "bundle: the named process's cmdline is stored, redacted in place"

# An upload URL of evodiag's own (a pre-signed PUT): stderr, manifest and log.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
url="http://127.0.0.1:$port/b/x.tar.zst?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=Zq20cred&X-Amz-Security-Token=Zq21tok&X-Amz-Signature=Zq22sig&sig=Zq23&token=Zq24"
t_run bundle --root "$root" --only memory -o "$T_TMP/up.tar.zst" --upload "$url"
t_is "$RC" 4 "upload to a closed port: exit 4, bundle kept"
t_like "$ERR" "upload to http://127\.0\.0\.1:$port/b/x\.tar\.zst\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>" \
        "stderr names the upload URL, signatures redacted"
t_unlike "$ERR" "Zq[0-9]" "upload: no signature on stderr"
xu="$T_TMP/xu"
mkdir -p "$xu"
tar --zstd -xf "$T_TMP/up.tar.zst" -C "$xu"
t_like "$(jq -r .command_line "$xu"/*/manifest.json)" "X-Amz-Signature=<redacted>" "manifest: the command line, redacted"
t_is "$(grep -rla 'Zq[0-9]' "$xu" | wc -l)" 0 "upload: no signature in the manifest or evodiag.log"
t_run bundle --root "$root" --upload "ftp://admin:Zq25ftp@h.example/x"
t_is "$RC" 3 "an upload URL of another scheme: usage error"
t_like "$ERR" "ftp://admin:<redacted>@h\.example/x" "the usage error quotes it redacted"

# What a bundle leaves out unless --full: /etc/passwd and /etc/group entries no check
# looked up, command lines of processes no finding names.
lean=$(fx_root lean)
fx_file "$lean" etc/passwd "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice Private:/home/alice:/bin/bash
bob:x:1001:1001:Bob Private:/home/bob:/bin/bash
carol:x:1002:1002:Carol Private:/home/carol:/bin/bash"
fx_file "$lean" etc/group "root:x:0:
alice:x:1000:
bob:x:1001:
carol:x:1002:carol"
fx_file "$lean" proc/sys/kernel/shmmax 18446744073692774399
fx_file "$lean" proc/sys/kernel/shmall 18446744073692774399
fx_file "$lean" proc/sys/kernel/shmmni 4096
fx_file "$lean" proc/sysvipc/shm "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap"
fx_file "$lean" proc/self/mounts "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0"
head -c 4096 /dev/zero >"$lean/dev/shm/bob_segment"
chown 1001:1001 "$lean/dev/shm/bob_segment"
fx_proc "$lean" 100 lavinmq uid=1000 fds=1000 nofile_soft=1024 cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
for p in 201 202 203 204 205 206 207 208; do
        fx_proc "$lean" $p "job$p" uid=1002 fds=1 cmdline="job$p --private-arg carol-private-$p"
done
t_run bundle --root "$lean" --only fds,shm -o "$T_TMP/lean.tar.zst"
t_is "$RC" 0 "lean bundle: written"
xl="$T_TMP/xl"
mkdir -p "$xl"
tar --zstd -xf "$T_TMP/lean.tar.zst" -C "$xl"
t_is "$(cut -d: -f1 "$xl"/*/host/etc/passwd | sort | tr '\n' ' ')" "alice bob " \
        "passwd: only the users the checks looked up (the fds remedy's, the segment owner)"
t_is "$(cut -d: -f1 "$xl"/*/host/etc/group | tr '\n' ' ')" "bob " "group: only the segment's group"
t_is "$(jq -r '.artifacts[] | select(.path == "host/etc/passwd") | .note' "$xl"/*/manifest.json)" \
        "only the entries the checks looked up (--full keeps the file)" "the manifest says the file is partial"
# fds names the broker and the top few processes by share of their limit, no more.
fj=$(jq -r '.. | strings' "$xl"/*/findings.json)
want="" unnamed=0
for p in 100 201 202 203 204 205 206 207 208; do
        if printf '%s' "$fj" | grep -qE "(pid |/proc/)$p([^0-9]|$)"; then want="$want$p "; else unnamed=$((unnamed + 1)); fi
done
t_is "$(ls "$xl"/*/host/proc/*/cmdline 2>/dev/null | sed 's|.*/proc/||; s|/cmdline||' | sort -n | tr '\n' ' ')" "$want" \
        "cmdlines: exactly those of the processes the findings name ($want)"
t_is "$([ "$unnamed" -ge 3 ] && echo yes)" yes "some processes are named by no finding ($unnamed)"
t_is "$(grep -rla 'Carol Private' "$xl" | wc -l)" 0 "nothing of the users nobody looked up"
t_like "$(cat "$xl"/*/evodiag.log)" "$unnamed process command lines left out" "evodiag.log says what was left out"
t_run check --from "$T_TMP/lean.tar.zst"
t_like "$ERR" "re-checked offline: 2 collectors agree with the bundle's recorded findings, 0 differ" \
        "check --from reaches the same verdicts on the lean bundle"
t_run bundle --root "$lean" --only fds,shm --full -o "$T_TMP/full.tar.zst"
xf="$T_TMP/xf"
mkdir -p "$xf"
tar --zstd -xf "$T_TMP/full.tar.zst" -C "$xf"
t_is "$(cut -d: -f1 "$xf"/*/host/etc/passwd | tr '\n' ' ')" "root daemon alice bob carol " "--full: the whole passwd"
t_is "$(ls "$xf"/*/host/proc/*/cmdline | wc -l)" 9 "--full: every command line"
t_run check --from "$T_TMP/full.tar.zst"
t_like "$ERR" "2 collectors agree with the bundle's recorded findings, 0 differ" "check --from agrees on the full bundle too"

t_done
