#!/bin/bash
# Who evodiag trusts (issue 8, §1; DESIGN.md "Trust model"). The attacks, as a local user
# would make them, and what must not happen:
#   - a process named lavinmq started by nobody with -c /etc/shadow: no shadow byte in the
#     bundle, on stdout or on stderr;
#   - the same with -D /root: /root is never listed;
#   - the same with a config whose [mgmt] port is a listener nobody owns that records
#     every byte it receives: it receives nothing (no Authorization header);
#   - a root-owned broker whose config names such a port: the password is withheld;
#   - bundle --upload http://... with credentials to another host: refused unless
#     --insecure-http.
# A broker owned by the service user (or root) is still fully inspected. Fixture roots
# cover the same rules without root; the live part needs root, setpriv and python3.
# Run in a pid namespace of its own (as root): the processes named lavinmq started here
# are the only ones evodiag sees, whatever else runs on this host (another test's broker),
# and none outlives the test.
if [ "$(id -u)" = 0 ] && [ -z "${EVODIAG_TEST_PIDNS:-}" ] && unshare -p -f -m --mount-proc --propagation private true 2>/dev/null; then
        EVODIAG_TEST_PIDNS=1 exec unshare -p -f -m --mount-proc --propagation private bash "$0" "$@"
fi
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
export EVODIAG_CONFIG="$T_TMP/evodiag.conf"
: >"$EVODIAG_CONFIG"

field() { # a field of the first finding ID
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | first // ""'
}
unpack() { # archive -> directory it was unpacked into
        local d="$T_TMP/x-$(basename "$1")"
        rm -rf "$d"
        mkdir -p "$d"
        tar --zstd -xf "$1" -C "$d"
        printf '%s\n' "$d"
}

# ---------------------------------------------------------------- fixture roots
SHADOW_MARK="evodiag-trust-marker:\$6\$ShadowMark$$\$Zm9vYmFy:19000:0:99999:7:::"
ROOT_MARK="RootMark$$"
imp_root() { # name -> a root with a shadow file, a /root with a queue, an impostor pid 666
        local r
        r=$(fx_root "$1" lavinmq-base)
        printf 'root:*:19000:0:99999:7:::\n%s\n' "$SHADOW_MARK" >"$r/etc/shadow"
        chmod 0640 "$r/etc/shadow"
        mkdir -p "$r/root/$ROOT_MARK"
        printf 'x' >"$r/root/$ROOT_MARK/msgs.0000000001"
        printf '[mgmt]\nport = 1\n[main]\ndata_dir = /root\n' >"$r/root/evil.ini"
        fx_proc "$r" 666 lavinmq uid=65534 cmdline="lavinmq -c /etc/shadow -D /root"
        rm -f "$r/var/lib/lavinmq/.lock" # nothing vouches for 666
        printf '%s\n' "$r"
}
no_marks() { # what -> where to look (files/dirs); passes when neither mark appears
        local what=$1 hit
        shift
        hit=$(grep -rlaF -e "ShadowMark$$" -e "$ROOT_MARK" "$@" 2>/dev/null | head -3)
        t_is "$hit" "" "$what"
}

root=$(imp_root fx-impostor)
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.impostor)" warn "fixture impostor: lavinmq.impostor warn"
t_is "$(field lavinmq.impostor summary)" "a process named lavinmq owned by uid 65534 is not the broker (pid 666)" \
        "fixture impostor: the summary names the uid"
t_is "$(field lavinmq.impostor subject)" "pid 666 lavinmq" "fixture impostor: subject"
t_like "$(field lavinmq.impostor remedy)" "^ps -o user,pid,args -p 666 " "fixture impostor: remedy"
t_is "$(field lavinmq.process summary)" "lavinmq is not running, but it is installed (/lib/systemd/system/lavinmq.service and /etc/lavinmq/lavinmq.ini)" \
        "fixture impostor: it is not taken for the broker"
t_is "$(field lavinmq.config summary)" "/etc/lavinmq/lavinmq.ini read: data_dir /var/lib/lavinmq, 8 settings" \
        "fixture impostor: its -c is not the config read"
t_like "$(field lavinmq.data_dir summary)" "^/var/lib/lavinmq: " "fixture impostor: its -D is not the data dir"
no_marks "fixture impostor: neither the shadow line nor /root's names in the report" "$T_TMP/.t_stdout" "$T_TMP/.t_stderr"

out="$T_TMP/bundles"
mkdir -p "$out"
t_run bundle --root "$root" --only lavinmq -o "$out/fx-imp.tar.zst" -q
t_is "$RC" 0 "fixture impostor bundle: exit 0"
x=$(unpack "$out/fx-imp.tar.zst")
no_marks "fixture impostor bundle: no shadow byte, no /root name in the archive, stdout or stderr" "$x" "$T_TMP/.t_stdout" "$T_TMP/.t_stderr"
t_is "$(find "$x" -path '*/host/etc/shadow' -o -path '*/host/root*' | head -1)" "" "fixture impostor bundle: neither /etc/shadow nor /root stored"
t_is "$(jq -r '[.artifacts[] | select((.path | startswith("host/root")) or (.path == "host/etc/shadow") or ((.origin // "") | startswith("/root")))] | length' "$x"/*/manifest.json)" 0 \
        "fixture impostor bundle: the manifest names neither"
t_run check --from "$out/fx-imp.tar.zst" --only lavinmq
t_like "$ERR" "1 collectors agree with the bundle's recorded findings, 0 differ" "fixture impostor: check --from agrees"

# Next to the real broker (uid 998 = lavinmq in the root's /etc/passwd): that one is inspected.
fx_proc "$root" 4242 lavinmq uid=998 rss_kb=184320 fds=57 maps=300 nofile_soft=1048576 nofile_hard=1048576 \
        cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
t_run check --root "$root" --only lavinmq --json
t_like "$(field lavinmq.process summary)" "^lavinmq runs: pid 4242," "broker and impostor: the broker is pid 4242"
t_like "$(field lavinmq.process actual)" "vouched for by its owner" "broker and impostor: vouched for by its owner"
t_is "$(field lavinmq.impostor summary)" "a process named lavinmq owned by uid 65534 is not the broker (pid 666)" "broker and impostor: the impostor still reported"
t_is "$(field lavinmq.fd_usage summary)" "lavinmq holds 57 open files of 1048576 allowed (0.0%, /proc/4242/fd)" "broker and impostor: the broker's numbers"
# Another service user: then 998 is the impostor.
printf '[lavinmq]\nservice_user = nobody\n' >"$EVODIAG_CONFIG"
t_run check --root "$root" --only lavinmq --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "lavinmq.impostor") | .subject] | join(",")')" "pid 4242 lavinmq" \
        "service_user = nobody: the uid-998 process is the impostor, nobody's is the broker"
t_like "$(field lavinmq.process summary)" "^lavinmq runs: pid 666," "service_user = nobody: pid 666 is inspected"
: >"$EVODIAG_CONFIG"

# The data dir's .lock vouches for the pid it names (root's file, in root's directories).
root=$(imp_root fx-lock)
mkdir -p "$root/var/lib/lavinmq"
printf 'PID 666 @ mq-host' >"$root/var/lib/lavinmq/.lock"
fx_proc "$root" 666 lavinmq uid=65534 cmdline="lavinmq -c /etc/lavinmq/lavinmq.ini"
t_run check --root "$root" --only lavinmq --json
t_like "$(field lavinmq.process actual)" "vouched for by the data directory's lock file" "lock file: vouches for a broker of another uid"
t_is "$(t_sev lavinmq.impostor)" "" "lock file: no impostor"
chmod 0666 "$root/var/lib/lavinmq/.lock"
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.impostor)" warn "lock file writable by others: it vouches for nothing"
t_like "$(field lavinmq.data_dir summary)" "\.lock not read: it fails evodiag's ownership rule" "lock file writable by others: said"

# A trusted broker's -c and -D in directories anyone can write: not opened.
root=$(fx_root fx-paths lavinmq-base)
mkdir -p "$root/srv/pub/q"
printf '[mgmt]\nport = 1\n; ConfMark%s\n' "$$" >"$root/srv/pub/lavinmq.ini"
printf 'x' >"$root/srv/pub/q/msgs.0000000001"
chmod 0777 "$root/srv/pub"
fx_proc "$root" 4242 lavinmq cmdline="/usr/bin/lavinmq -c /srv/pub/lavinmq.ini -D /srv/pub"
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.config)" warn "-c in a world-writable dir: config warn"
t_is "$(field lavinmq.config summary)" "/srv/pub/lavinmq.ini (the broker's -c) not read: it fails evodiag's ownership rule" "-c refused: summary"
t_is "$(field lavinmq.config actual)" "/srv/pub is writable by others (mode 0777); LavinMQ's built-in defaults are assumed" "-c refused: says which directory"
t_like "$(field lavinmq.config remedy)" "^namei -l /srv/pub/lavinmq\.ini" "-c refused: remedy"
t_is "$(t_sev lavinmq.data_dir)" warn "-D in a world-writable dir: data_dir warn"
t_is "$(field lavinmq.data_dir summary)" "/srv/pub (the broker's -D) not listed: it fails evodiag's ownership rule" "-D refused: summary"
t_run bundle --root "$root" --only lavinmq -o "$out/fx-paths.tar.zst" -q
x=$(unpack "$out/fx-paths.tar.zst")
t_is "$(grep -rlaF "ConfMark$$" "$x" | head -1)" "" "-c refused: the file is not in the bundle"
t_is "$(find "$x" -name data_dir.txt | head -1)" "" "-D refused: no data dir listing in the bundle"
t_run check --from "$out/fx-paths.tar.zst" --only lavinmq
t_like "$ERR" "1 collectors agree with the bundle's recorded findings, 0 differ" "refusals replay: check --from agrees"
# A file others can write, a FIFO as the config: refused at once (no 5 s hang).
chmod 0755 "$root/srv/pub"
chmod 0666 "$root/srv/pub/lavinmq.ini"
t_run check --root "$root" --only lavinmq --json
t_is "$(field lavinmq.config actual)" "/srv/pub/lavinmq.ini is writable by others (mode 0666); LavinMQ's built-in defaults are assumed" "-c writable by others: refused"
rm "$root/srv/pub/lavinmq.ini"
mkfifo "$root/srv/pub/lavinmq.ini"
T_TIMEOUT=4 t_run check --root "$root" --only lavinmq --json --collector-timeout 3s
t_is "$(field lavinmq.config actual)" "/srv/pub/lavinmq.ini is a FIFO, not a regular file; LavinMQ's built-in defaults are assumed" "-c a FIFO: refused, not opened"
# A relative -c is taken from the broker's working directory.
root=$(fx_root fx-rel lavinmq-base)
mkdir -p "$root/srv/mq/conf"
cp "$root/etc/lavinmq/lavinmq.ini" "$root/srv/mq/conf/lavinmq.ini"
fx_proc "$root" 4242 lavinmq cmdline="/usr/bin/lavinmq -c conf/lavinmq.ini"
ln -s /srv/mq "$root/proc/4242/cwd"
t_run check --root "$root" --only lavinmq --json
t_is "$(field lavinmq.config summary)" "/srv/mq/conf/lavinmq.ini read: data_dir /var/lib/lavinmq, 8 settings" "relative -c: from the broker's cwd"

# ---------------------------------------------------------------- upload
root=$(fx_root up)
t_run bundle --root "$root" --only memory -o "$out/up1.tar.zst" -q --upload "http://u:PwInUrl@192.0.2.1/x/"
t_is "$RC" 3 "upload: user:password@ over http:// to another host: exit 3"
t_like "$ERR" "refusing to send the user and password in the URL in clear text over http:// to 192\.0\.2\.1, which is not this host: use https://, or add --insecure-http" \
        "upload: says why and how"
t_unlike "$ERR" "PwInUrl" "upload: the password is not printed"
t_is "$([ -e "$out/up1.tar.zst" ] && echo written)" "" "upload: refused before the bundle is made"
printf '[upload]\nuser = evo\npassword = CfgPw\n' >"$T_TMP/up.conf"
t_run bundle --root "$root" --only memory -o "$out/up2.tar.zst" -q --config "$T_TMP/up.conf" --upload "http://files.example/x/"
t_is "$RC" 3 "upload: [upload] user/password over http:// to a host name: exit 3"
t_like "$ERR" "refusing to send \[upload\] user/password in clear text over http:// to files\.example" "upload: [upload] credentials named"
mkdir -p "$T_TMP/home"
printf 'machine 192.0.2.9\nlogin evo\npassword NetrcPw\n' >"$T_TMP/home/.netrc"
HOME="$T_TMP/home" t_run bundle --root "$root" --only memory -o "$out/up3.tar.zst" -q --upload "http://192.0.2.9/x/"
t_is "$RC" 3 "upload: a ~/.netrc entry for the host: exit 3"
t_like "$ERR" "refusing to send the ~/\.netrc entry for the host" "upload: the .netrc entry named"
printf '[upload]\ns3_endpoint = http://192.0.2.10:9000\ns3_access_key = AK\ns3_secret_key = SK\n' >"$T_TMP/s3.conf"
t_run bundle --root "$root" --only memory -o "$out/up4.tar.zst" -q --config "$T_TMP/s3.conf" --upload "s3://b/p/"
t_is "$RC" 3 "upload: s3:// through a plain http:// endpoint elsewhere: exit 3"
t_like "$ERR" "the S3 access key and request signature" "upload: s3 said"
t_run bundle --help
t_like "$OUT" "--insecure-http +allow credentials over plain http:// to another host" "--help documents --insecure-http"

# --insecure-http, for real: a host address on lo in a private network namespace.
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null && command -v ip >/dev/null; then
        rec="$T_TMP/rec"
        mkdir -p "$rec"
        cat >"$T_TMP/netns.sh" <<'EOS'
#!/bin/bash
# In a private network namespace: 198.51.100.7 on lo (not a loopback address), a PUT
# recorder on it, then evodiag with the arguments given ("PORT" replaced).
ip link set lo up && ip addr add 198.51.100.7/32 dev lo || exit 97
coproc R { exec python3 "$PUT_RECORDER" "$REC" --bind 198.51.100.7; }
read -r _ port <&"${R[0]}"
args=()
for a in "$@"; do args+=("${a//PORT/$port}"); done
"${args[@]}"
rc=$?
kill "$R_PID"
exit $rc
EOS
        chmod +x "$T_TMP/netns.sh"
        export PUT_RECORDER="$TOP_SRCDIR/tests/helpers/put_recorder.py" REC="$rec"
        timeout 60 unshare -n "$T_TMP/netns.sh" "$EVODIAG" bundle --root "$root" --only memory -o "$out/up6.tar.zst" -q \
                --upload "http://evo:InsecurePw@198.51.100.7:PORT/in/" >/dev/null 2>"$T_TMP/ns.err"
        t_is "$?" 3 "upload to 198.51.100.7 (a host address) with credentials: refused"
        t_is "$(ls "$rec")" "" "upload refused: the server received nothing"
        timeout 60 unshare -n "$T_TMP/netns.sh" "$EVODIAG" bundle --root "$root" --only memory -o "$out/up7.tar.zst" -q --insecure-http \
                --upload "http://evo:InsecurePw@198.51.100.7:PORT/in/" >/dev/null 2>"$T_TMP/ns.err"
        t_is "$?" 0 "--insecure-http: uploaded"
        t_is "$(jq -r '.headers.Authorization' "$rec/in__up7.tar.zst.headers.json" 2>/dev/null)" "Basic $(printf 'evo:InsecurePw' | base64)" \
                "--insecure-http: the credentials went, as asked"
        timeout 60 unshare -n "$T_TMP/netns.sh" "$EVODIAG" bundle --root "$root" --only memory -o "$out/up8.tar.zst" -q \
                --upload "http://198.51.100.7:PORT/in/" >/dev/null 2>"$T_TMP/ns.err"
        t_is "$?" 0 "no credentials: plain http:// to another host is fine"
        t_is "$(jq -r '.headers.Authorization // "none"' "$rec/in__up8.tar.zst.headers.json" 2>/dev/null)" "none" "no credentials: none sent"
else
        t_skip "--insecure-http upload: needs root, unshare -n and ip"
fi

# ---------------------------------------------------------------- live
live_ok=yes
[ "$(id -u)" = 0 ] || live_ok="needs root (processes of other users)"
command -v setpriv >/dev/null || live_ok="setpriv is missing"
command -v python3 >/dev/null || live_ok="python3 is missing"
unshare -m --propagation private true 2>/dev/null || live_ok="unshare -m does not work here"
ps -eo stat=,comm=,args= | awk '$1 !~ /^Z/ && ($2 == "lavinmq" || $3 ~ /(^|\/)lavinmq$/) { f = 1 } END { exit !f }' &&
        live_ok="a lavinmq process already runs on this host"
if [ "$live_ok" != yes ]; then
        t_skip_rest "live trust tests: $live_ok"
        t_done
        exit
fi
chmod 0755 "$T_TMP" # the other users' processes started here run files from it
L="$T_TMP/live"
mkdir -p "$L/bin" "$L/pub" "$L/sec" "$L/fakeroot/$ROOT_MARK"
chmod 0777 "$L/pub"
chmod 0700 "$L/sec"
# Other users' processes get a PATH they can use (root's may lead into /root).
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups env PATH=/usr/sbin:/usr/bin:/sbin:/bin)
API_PW="TrustApiPw$RANDOM$$"
# evodiag sees its own /etc/shadow (the real lines and a marker line) and a /root holding
# a queue directory named with a marker: private bind mounts, in its own namespace only.
{ cat /etc/shadow; printf '%s\n' "$SHADOW_MARK"; } >"$L/sec/shadow"
chmod 0640 "$L/sec/shadow"
printf 'x' >"$L/fakeroot/$ROOT_MARK/msgs.0000000001"
chmod 0700 "$L/fakeroot"
# The service user: lavinmq if this host has one, else one added to evodiag's /etc/passwd
# (a private copy: the host's stays as it is).
SVC_UID=$(getent passwd lavinmq | cut -d: -f3)
PASSWD_COPY=
if [ -z "$SVC_UID" ]; then
        SVC_UID=64990
        while getent passwd "$SVC_UID" >/dev/null || getent group "$SVC_UID" >/dev/null; do SVC_UID=$((SVC_UID + 1)); done
        PASSWD_COPY="$L/sec/passwd"
        { cat /etc/passwd; printf 'lavinmq:x:%s:%s::/nonexistent:/usr/sbin/nologin\n' "$SVC_UID" "$SVC_UID"; } >"$PASSWD_COPY"
        chmod 0644 "$PASSWD_COPY"
fi
cat >"$L/wrap" <<'EOS'
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount --bind "$TR_SHADOW" /etc/shadow && mount --bind "$TR_ROOT" /root &&
        { [ -z "$TR_PASSWD" ] || mount --bind "$TR_PASSWD" /etc/passwd; } && exec "$TR_EVODIAG" "$@"' sh "$@"
EOS
chmod +x "$L/wrap"
export TR_SHADOW="$L/sec/shadow" TR_ROOT="$L/fakeroot" TR_PASSWD="$PASSWD_COPY" TR_EVODIAG="$EVODIAG"
REAL_EVODIAG=$EVODIAG
EVODIAG="$L/wrap"
t_run check --only lavinmq --json
t_is "$RC" 3 "the wrapper runs evodiag (no lavinmq here yet: not applicable, nothing checked: exit 3)"

# A listener nobody owns that records every byte it receives.
cat >"$L/bin/recorder.py" <<'EOS'
import socket, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
out = open(sys.argv[1], "ab", buffering=0)
def serve(c):
    c.settimeout(5)
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            out.write(d)
            if b"\r\n\r\n" in d:
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{}")
                break
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOS
: >"$L/pub/received"
chmod 0666 "$L/pub/received"
"${AS_NOBODY[@]}" python3 "$L/bin/recorder.py" "$L/pub/received" >"$L/rec.port" &
REC_PID=$!
t_at_exit "kill $REC_PID 2>/dev/null"
for _ in $(seq 50); do [ -s "$L/rec.port" ] && break; sleep 0.1; done
REC_PORT=$(cat "$L/rec.port")
printf '[main]\ncontrol_unix_path = %s/none.sock\ndata_dir = /root\n[mgmt]\nport = %s\n; EvilMark%s\n' "$L" "$REC_PORT" "$$" >"$L/pub/evil.ini"
chmod 0644 "$L/pub/evil.ini"
printf '[lavinmq]\nuser = evo\npassword = %s\n' "$API_PW" >"$EVODIAG_CONFIG"

# The impostor: nobody's python3 with argv[0] lavinmq.
start_impostor() { # args after argv[0]
        "${AS_NOBODY[@]}" bash -c 'exec -a lavinmq python3 -c "import time; time.sleep(600)" "$@"' sh "$@" >/dev/null 2>&1 &
        IMP=$!
        t_at_exit "kill $IMP 2>/dev/null"
        for _ in $(seq 50); do tr '\0' ' ' <"/proc/$IMP/cmdline" 2>/dev/null | grep -q '^lavinmq ' && break; sleep 0.1; done
}
stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

for attack in "-c /etc/shadow" "-D /root" "-c $L/pub/evil.ini"; do
        # shellcheck disable=SC2086
        start_impostor $attack
        t_run check --only lavinmq --json
        t_is "$(field lavinmq.impostor summary)" "a process named lavinmq owned by uid 65534 is not the broker (pid $IMP)" \
                "impostor $attack: reported with its uid"
        no_marks "impostor $attack: no shadow byte, no /root name in stdout or stderr" "$T_TMP/.t_stdout" "$T_TMP/.t_stderr"
        t_run bundle --only lavinmq -o "$out/imp.tar.zst" -q
        t_is "$RC" 0 "impostor $attack: bundle exit 0"
        x=$(unpack "$out/imp.tar.zst")
        no_marks "impostor $attack: no shadow byte, no /root name in the archive, stdout or stderr" "$x" "$T_TMP/.t_stdout" "$T_TMP/.t_stderr"
        t_is "$(grep -c 'root:' "$x"/*/host/etc/shadow 2>/dev/null)" "" "impostor $attack: /etc/shadow is not in the archive"
        t_is "$(jq -r '[.artifacts[] | select((.path | test("^host/root(/|$)|^host/etc/shadow$")) or ((.origin // "") | test("^/root(/|$)")))] | length' "$x"/*/manifest.json)" 0 \
                "impostor $attack: the manifest names neither /etc/shadow nor /root"
        t_is "$(grep -rlaF "EvilMark$$" "$x" | head -1)" "" "impostor $attack: its config is not stored"
        t_is "$(wc -c <"$L/pub/received")" 0 "impostor $attack: the listener its config names received nothing"
        rm -rf "$x" "$out/imp.tar.zst"
        stop_pid "$IMP"
done

# A root-owned broker whose own config names nobody's port: the password is withheld.
cat >"$L/bin/lavinmq" <<'EOS'
#!/bin/bash
# A stand-in broker: on USR1 it prints a line, as LavinMQ prints its GC and fiber dump.
trap 'echo "GC dump after USR1"' USR1
while :; do sleep 0.2; done
EOS
chmod 0755 "$L/bin" "$L/bin/lavinmq"
mkdir -p "$L/rootmq/data"
printf '[main]\ncontrol_unix_path = %s/none.sock\ndata_dir = %s/rootmq/data\n[mgmt]\nport = %s\n' "$L" "$L" "$REC_PORT" >"$L/rootmq/lavinmq.ini"
"$L/bin/lavinmq" -c "$L/rootmq/lavinmq.ini" >/dev/null 2>&1 &
BROKER=$!
t_at_exit "kill $BROKER 2>/dev/null"
for _ in $(seq 50); do [ "$(cat "/proc/$BROKER/comm" 2>/dev/null)" = lavinmq ] && break; sleep 0.1; done
t_run check --only lavinmq --json
t_like "$(field lavinmq.process summary)" "^lavinmq runs: pid $BROKER," "root's broker: inspected"
t_is "$(t_sev lavinmq.api)" warn "root's broker, nobody's mgmt port: lavinmq.api warn"
t_is "$(field lavinmq.api summary)" "credentials withheld from http://127.0.0.1:$REC_PORT: nothing sent to 127.0.0.1:$REC_PORT: 127.0.0.1:$REC_PORT is served by uid 65534, not root or lavinmq" \
        "root's broker, nobody's mgmt port: says why the credentials were withheld"
t_is "$(wc -c <"$L/pub/received")" 0 "root's broker, nobody's mgmt port: the listener received nothing"
t_is "$(grep -c Authorization "$L/pub/received")" 0 "root's broker, nobody's mgmt port: no Authorization header"
t_unlike "$OUT$ERR" "$API_PW" "root's broker: the password is nowhere in the output"
# Named in evodiag's own config, the same port gets the request (the operator said so).
printf '[lavinmq]\nuser = evo\npassword = %s\napi_url = http://127.0.0.1:%s\n' "$API_PW" "$REC_PORT" >"$EVODIAG_CONFIG"
t_run check --only lavinmq --json
t_like "$(cat "$L/pub/received")" "Authorization: Basic" "api_url in evodiag's config: the request goes where the operator said"
: >"$L/pub/received"
printf '[lavinmq]\nuser = evo\npassword = %s\n' "$API_PW" >"$EVODIAG_CONFIG"
stop_pid "$BROKER"
stop_pid "$REC_PID"

# The broker as the service user: everything inspected, its API asked with the password.
S="$L/svc"
mkdir -p "$S/data/q1/q2"
printf 'y' >"$S/data/q1/q2/msgs.0000000001"
FAKE_OUT="$L/pub/fake.out"
: >"$FAKE_OUT"
chmod 0666 "$FAKE_OUT"
AS_SVC=(setpriv --reuid="$SVC_UID" --regid="$SVC_UID" --clear-groups env PATH=/usr/sbin:/usr/bin:/sbin:/bin)
"${AS_SVC[@]}" python3 "$TOP_SRCDIR/tests/helpers/fake_lavinmq.py" \
        --tcp 127.0.0.1:0 --user evo --password "$API_PW" >"$FAKE_OUT" 2>/dev/null &
FAKE=$!
t_at_exit "kill $FAKE 2>/dev/null"
for _ in $(seq 100); do grep -q '^listening tcp' "$FAKE_OUT" && break; sleep 0.1; done
MGMT=$(awk '$2 == "tcp" {print $4}' "$FAKE_OUT")
printf '[main]\ncontrol_unix_path = %s/none.sock\ndata_dir = %s/data\nmetrics_http_port = -1\n[mgmt]\nport = %s\n[amqp]\nport = -1\n' "$L" "$S" "$MGMT" \
        >"$S/lavinmq.ini"
chown -R "$SVC_UID:$SVC_UID" "$S"
chmod 0750 "$S/data"
chmod 0640 "$S/lavinmq.ini"
: >"$L/broker.log"
"${AS_SVC[@]}" "$L/bin/lavinmq" -c "$S/lavinmq.ini" >"$L/broker.log" 2>&1 &
BROKER=$!
t_at_exit "kill $BROKER 2>/dev/null"
for _ in $(seq 50); do [ "$(cat "/proc/$BROKER/comm" 2>/dev/null)" = lavinmq ] && break; sleep 0.1; done
printf 'PID %s @ %s' "$BROKER" "$(cat /proc/sys/kernel/hostname)" >"$S/data/.lock"
chown "$SVC_UID:$SVC_UID" "$S/data/.lock"
t_run check --only lavinmq --json
t_like "$(field lavinmq.process summary)" "^lavinmq runs: pid $BROKER," "service user's broker: it is the broker"
t_like "$(field lavinmq.process actual)" "vouched for by its owner" "service user's broker: vouched for by its owner"
t_is "$(t_sev lavinmq.impostor)" "" "service user's broker: no impostor"
t_is "$(field lavinmq.config summary)" "$S/lavinmq.ini read: data_dir $S/data, 5 settings" "service user's broker: its -c (owned by it) read"
t_is "$(t_sev lavinmq.api)" ok "service user's broker: its API asked with the password (listener owned by the service user)"
t_like "$(field lavinmq.api summary)" "answers over http://127\.0\.0\.1:$MGMT in" "service user's broker: over the management port"
t_is "$(field lavinmq.data_dir summary)" "$S/data: 1 message segments (1 B) in 1 queue directories; .lock: PID $BROKER @ $(cat /proc/sys/kernel/hostname)" \
        "service user's broker: data dir listed, lock read"
t_is "$(t_sev lavinmq.fd_usage)" ok "service user's broker: its fds counted"
t_run bundle --only lavinmq -o "$out/svc.tar.zst" -q
x=$(unpack "$out/svc.tar.zst")
t_is "$(find "$x" -path "*/host$S/lavinmq.ini" | wc -l)" 1 "service user's broker: its config is in the bundle"
t_like "$(cat "$x"/*/collectors/lavinmq/data_dir.txt)" "q1/q2 +1 +1" "service user's broker: the data dir listing is in the bundle"
# USR1 only ever to the vouched-for broker: here it is (root runs evodiag: it may signal).
t_run bundle --only lavinmq --allow-intrusive -o "$out/usr1.tar.zst" -q
x=$(unpack "$out/usr1.tar.zst")
t_like "$(cat "$x"/*/evodiag.log)" "sent SIGUSR1 to pid $BROKER" "service user's broker: --allow-intrusive signals it"
t_is "$(cat "$x"/*/collectors/lavinmq/usr1-dump.txt)" "GC dump after USR1" "service user's broker: its dump stored"
stop_pid "$BROKER"
# The same stand-in as nobody: an impostor, never signalled.
"${AS_NOBODY[@]}" "$L/bin/lavinmq" -c "$S/lavinmq.ini" >"$L/broker.log" 2>&1 &
IMP=$!
t_at_exit "kill $IMP 2>/dev/null"
for _ in $(seq 50); do [ "$(cat "/proc/$IMP/comm" 2>/dev/null)" = lavinmq ] && break; sleep 0.1; done
rm -f "$S/data/.lock"
t_run bundle --only lavinmq --allow-intrusive -o "$out/usr1-imp.tar.zst" -q
x=$(unpack "$out/usr1-imp.tar.zst")
t_unlike "$(cat "$x"/*/evodiag.log)" "sent SIGUSR1" "impostor: never signalled"
t_is "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | .error' "$x"/*/manifest.json)" "lavinmq is not running" \
        "impostor: USR1 skipped, no broker"
stop_pid "$IMP"
stop_pid "$FAKE"
EVODIAG=$REAL_EVODIAG
t_done
