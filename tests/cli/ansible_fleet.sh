#!/bin/bash
# contrib/ansible: the fleet playbooks run for real with ansible-playbook against an
# inventory of localhost aliases (ansible_connection=local) and the evodiag under test:
# each alias judges its own fixture root, so the fleet table's rows, their order (worst
# first), an evodiag that is missing, a usage error and an unreachable host are all
# exercised; the bundles are fetched (and uploaded) one per host, named after it.
# Hermetic: HOME, ANSIBLE_HOME and the temp dirs live in the test's temp dir.
. "$TOP_SRCDIR/tests/lib/tap.sh"

command -v ansible-playbook >/dev/null 2>&1 || t_skip_all "ansible-playbook not installed (Debian package ansible-core)"
command -v zstd >/dev/null 2>&1 || t_skip_all "zstd not installed"

PB="$TOP_SRCDIR/contrib/ansible"
A="$T_TMP/ansible"
mkdir -p "$A/home" "$A/remote" "$A/work"
: >"$A/ansible.cfg"
export HOME="$A/home" ANSIBLE_CONFIG="$A/ansible.cfg" ANSIBLE_HOME="$A/home/.ansible" \
        ANSIBLE_LOCAL_TEMP="$A/tmp" ANSIBLE_REMOTE_TEMP="$A/rtmp" ANSIBLE_NOCOLOR=1 \
        ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_FORCE_COLOR=0
# A port nothing listens on: the unreachable host.
down_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

F="$FIXTURES"
cat >"$A/inventory.ini" <<INV
[fleet]
node-ok     evodiag_args='["--root", "$F/hugepages-healthy", "--only", "hugepages"]'
node-crit   evodiag_args='["--root", "$F/hugepages-exhausted", "--only", "hugepages"]'
node-warn   evodiag_args='["--root", "$F/fds-exhausted", "--only", "fds"]'
node-broken evodiag_bin=$T_TMP/no-such-evodiag
node-usage  evodiag_args='["--only", "nosuchcollector"]'
node-down   ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=$down_port ansible_ssh_common_args='-o ConnectTimeout=5 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'

[fleet:vars]
ansible_connection=local
ansible_python_interpreter="{{ ansible_playbook_python }}"
evodiag_bin=$EVODIAG
evodiag_become=false
INV

play() { (cd "$A/work" && timeout -k 10 300 ansible-playbook -i "$A/inventory.ini" "$@" >"$A/play.log" 2>&1); }

# ---- evodiag-check.yml: the fleet table ----
play "$PB/evodiag-check.yml" -e "evodiag_fleet_report=$A/fleet.txt"; rc=$?
t_is "$rc" 4 "check playbook: exit 4 (one host unreachable), the others reported"
table=$(cat "$A/fleet.txt" 2>/dev/null)
t_like "$(head -1 <<<"$table")" '^HOST +WORST +CRIT +WARN +UNKNOWN +PROBLEMS$' "the table has its header"
t_is "$(sed -n '2,7p' <<<"$table" | awk '{print $1 ":" $2}' | tr '\n' ' ')" \
        "node-crit:CRIT node-broken:ERROR node-down:UNREACHABLE node-usage:ERROR node-warn:WARN node-ok:OK " \
        "one row per host, worst first (crit, no report, warn, ok), then by name"
t_like "$(grep '^node-crit ' <<<"$table")" '^node-crit +CRIT +1 +0 +0 +hugepages\.pool_exhausted$' "node-crit: its crit count and the check ID"
t_like "$(grep '^node-warn ' <<<"$table")" '^node-warn +WARN +0 +1 +0 +fds\.system$' "node-warn: its warning"
t_like "$(grep '^node-ok ' <<<"$table")" '^node-ok +OK +0 +0 +0$' "node-ok: no problems"
t_like "$(grep '^node-broken ' <<<"$table")" 'ERROR +- +- +- +.*No such file or directory.*no-such-evodiag' "a host without evodiag: an error row saying why"
t_like "$(grep '^node-usage ' <<<"$table")" "ERROR .*unknown collector 'nosuchcollector'" "evodiag's usage error (a JSON error document): an error row with its message"
t_like "$(grep '^node-down ' <<<"$table")" 'UNREACHABLE +- +- +- +host unreachable' "an unreachable host still has its row"
t_is "$(tail -1 <<<"$table")" "6 hosts: 1 crit, 2 error, 1 unreachable, 1 warn, 1 ok" "the summary line counts the hosts"
t_like "$(cat "$A/play.log")" '"node-crit +CRIT +1 +0 +0 +hugepages\.pool_exhausted"' "the playbook prints the table too"

# ---- evodiag-bundle.yml: bundles fetched to the controller, one per host ----
got="$A/bundles"
play "$PB/evodiag-bundle.yml" --limit node-ok,node-crit,node-warn,node-broken -e "evodiag_fetch_dir=$got" \
        -e "evodiag_remote_dir=$A/remote"; rc=$?
t_is "$rc" 2 "bundle playbook: exit 2 (the host without evodiag failed), the others fetched"
names=$(cd "$got" 2>/dev/null && ls | sed -E 's/[0-9]{8}T[0-9]{6}Z/STAMP/' | tr '\n' ' ')
t_is "$names" "evodiag-node-crit-STAMP.tar.zst evodiag-node-crit-STAMP.tar.zst.sha256 evodiag-node-ok-STAMP.tar.zst evodiag-node-ok-STAMP.tar.zst.sha256 evodiag-node-warn-STAMP.tar.zst evodiag-node-warn-STAMP.tar.zst.sha256 " \
        "one bundle (and its .sha256) per host, named after the inventory host"
for h in node-ok node-crit node-warn; do
        b=$(ls "$got"/evodiag-$h-*.tar.zst 2>/dev/null | head -1)
        members=$(tar --zstd -tf "$b" 2>&1 | tr '\n' ' ')
        t_like "$(zstd -tq "$b" 2>&1 && echo valid) $members" "^valid .*/ISSUE\.md " "$h: a valid .tar.zst with ISSUE.md"
        t_like "$(cd "$got" && sha256sum -c "$(basename "$b").sha256" 2>&1)" ': OK$' "$h: its fetched .sha256 matches"
done
# The right host's evidence under each name: only node-crit's bundle has the crit finding.
crit_of() {
        tar --zstd -xOf "$(ls "$got"/evodiag-$1-*.tar.zst | head -1)" --wildcards '*/findings.json' 2>/dev/null |
                jq -r '[.. | objects | select(.severity? == "crit") | .id] | unique | join(",")'
}
t_is "$(crit_of node-crit)/$(crit_of node-ok)/$(crit_of node-warn)" "hugepages.pool_exhausted//" "each bundle holds its own host's findings"
t_is "$(ls -A "$A/remote")" "" "the bundles were removed from the hosts after the fetch"
t_like "$(cat "$A/play.log")" 'node-broken: nothing written: .*no-such-evodiag' "the summary says which host wrote nothing and why"

# ---- evodiag-bundle.yml with evodiag_upload: each host uploads, nothing is fetched ----
up="$A/uploaded"
mkdir -p "$up"
coproc REC { exec python3 "$TOP_SRCDIR/tests/helpers/put_recorder.py" "$up"; }
t_at_exit "kill $REC_PID 2>/dev/null"
read -r _ port <&"${REC[0]}"
play "$PB/evodiag-bundle.yml" --limit node-ok,node-crit -e "evodiag_fetch_dir=$A/not-fetched" \
        -e "evodiag_remote_dir=$A/remote" -e "evodiag_upload=http://127.0.0.1:$port/fleet/"; rc=$?
t_is "$rc" 0 "upload playbook: exit 0"
t_is "$(cd "$up" && ls | grep -v headers.json | sed -E 's/[0-9]{8}T[0-9]{6}Z/STAMP/' | tr '\n' ' ')" \
        "fleet__evodiag-node-crit-STAMP.tar.zst fleet__evodiag-node-ok-STAMP.tar.zst " "each host PUT its bundle under its own name"
b=$(ls "$up"/fleet__evodiag-node-crit-*.tar.zst 2>/dev/null | head -1)
t_like "$(tar --zstd -tf "$b" 2>&1 | tr '\n' ' ')" '/ISSUE\.md ' "the uploaded bundle is a valid .tar.zst with ISSUE.md"
t_is "$(ls -A "$A/not-fetched" 2>/dev/null)$(ls -A "$A/remote")" "" "uploaded: nothing fetched, nothing left on the hosts"

t_done
