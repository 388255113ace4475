#!/bin/bash
# The lavinmq collector against a real peer: Debian's rabbitmq-server with the management
# and Prometheus plugins serves the management API that LavinMQ copies. The broker runs as
# its service user (rabbitmq) with its own Mnesia, log and config in this test's temp dir,
# in a pid and network namespace of its own: its default ports (5672, 15672, 15692, epmd's
# 4369) are private to this test, and nothing it starts outlives the test. Nothing is
# enabled or left running. Asserts that what a real server returns is read right: a fresh
# node, a node with a queue and messages, a user without the monitoring tag, a wrong
# password; and that findings never contradict each other.
RMQ=/usr/lib/rabbitmq/bin/rabbitmq-server
if [ "$(id -u)" = 0 ] && [ -z "${EVODIAG_TEST_NETNS:-}" ] && [ -x "$RMQ" ] &&
        unshare -p -f -n -m --mount-proc --propagation private true 2>/dev/null; then
        EVODIAG_TEST_NETNS=1 exec unshare -p -f -n -m --mount-proc --propagation private bash "$0" "$@"
fi
. "$TOP_SRCDIR/tests/lib/tap.sh"
[ -x "$RMQ" ] || t_skip_all "rabbitmq-server is not installed (.ci/packages installs it)"
[ "${EVODIAG_TEST_NETNS:-}" = 1 ] || t_skip_all "needs root and unshare (a pid and network namespace for the broker)"
command -v curl >/dev/null || t_skip_all "curl is not installed (.ci/packages installs it)"
id rabbitmq >/dev/null 2>&1 || t_skip_all "no rabbitmq user (the package creates it)"
ip link set lo up || t_skip_all "cannot bring up loopback in the test's network namespace"
export EVODIAG_STATE_DIR="$T_TMP/state"

API=http://127.0.0.1:15672
chmod 711 "$T_TMP" # the broker's user reaches its own directory below
B="$T_TMP/rabbit"
mkdir -p "$B/home" "$B/mnesia" "$B/log"
echo '[rabbitmq_management,rabbitmq_prometheus].' >"$B/enabled_plugins"
cat >"$B/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:5672
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = 15692
EOF
chown -R rabbitmq:rabbitmq "$B"
setsid runuser -u rabbitmq -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$B/home" \
        RABBITMQ_NODENAME=evodiag@localhost RABBITMQ_MNESIA_BASE="$B/mnesia" RABBITMQ_LOG_BASE="$B/log" \
        RABBITMQ_CONFIG_FILE="$B/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$B/enabled_plugins" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$B/advanced.config" RABBITMQ_CONF_ENV_FILE=/dev/null \
        "$RMQ" >"$B/server.out" 2>&1 </dev/null &
SERVER=$!
stop_server() { # the whole session: the script, beam.smp, epmd (the namespace ends anyway)
        kill -TERM -- -"$SERVER" 2>/dev/null
        for _ in $(seq 100); do kill -0 -- -"$SERVER" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- -"$SERVER" 2>/dev/null
        # epmd detaches into a session of its own; in this pid namespace every process of
        # the rabbitmq user is one this test started: stop each by its pid.
        local p
        for p in $(pgrep -u rabbitmq); do kill -KILL "$p" 2>/dev/null; done
        for _ in $(seq 50); do [ -z "$(pgrep -u rabbitmq)" ] && break; sleep 0.1; done
}
t_at_exit stop_server

api() { curl -s -m 10 -u "${AUTH:-guest:guest}" "$@"; }
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' -u "${AUTH:-guest:guest}" "$@"; }
up=""
for _ in $(seq 180); do
        [ "$(code "$API/api/overview")" = 200 ] && { up=1; break; }
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.5
done
if [ -z "$up" ]; then
        echo "# rabbitmq-server did not start here:"
        tail -n 15 "$B/server.out" | sed 's/^/#   /'
        t_skip_all "rabbitmq-server did not answer on $API within 90 s (see the log above)"
fi

# Severity, summary, actual of one finding (the lavinmq collector's).
sev() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .severity] | join(",")'; }
fld() { printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | join(",")'; }
all_text() { printf '%s' "$OUT" | jq -r '.collectors[].findings[] | "\(.id): \(.summary) | \(.actual // "")"'; }
# An API that answered is never "did not answer" / "not reachable" anywhere in the report.
no_contradiction() {
        if [ "$(sev lavinmq.api)" = ok ] || [ "$(sev lavinmq.api)" = info ]; then
                t_unlike "$(all_text)" "did not answer|not reachable|does not answer" "$1: the API answered, and no finding says it did not"
        else
                t_fail "$1: lavinmq.api is $(sev lavinmq.api), expected ok or info" "$(all_text)"
        fi
        t_unlike "$(all_text)" "(^|[ (])-1([^0-9]|$)|up -1|lacks the administrator" "$1: nothing missing reads as -1 or as a guessed cause"
}
VERSION=$(api "$API/api/overview" | jq -r .product_version)
conf() { # CONFIG-LINES...: an evodiag config naming the broker
        printf '[lavinmq]\napi_url = %s\n' "$API" >"$T_TMP/evodiag.conf"
        for l in "$@"; do printf '%s\n' "$l" >>"$T_TMP/evodiag.conf"; done
}

# ---- a node that has just started: queue_totals is {}, no queue, no metrics here
conf "metrics_url = http://127.0.0.1:9/metrics"
t_run check --config "$T_TMP/evodiag.conf" --only lavinmq --json
t_like "$VERSION" "^3\." "the broker is RabbitMQ 3.x ($VERSION)"
t_like "$(fld lavinmq.api summary)" "^RabbitMQ $VERSION answers over $API in [0-9]+ ms: 0 connections, 0 consumers, 0 queues$" \
        "fresh node: product, version and the object totals read right"
t_like "$(fld lavinmq.api actual)" "^node evodiag@localhost, uptime not in /api/overview" "fresh node: node read; the uptime it lacks reads as missing"
t_is "$(sev lavinmq.messages)" "skipped" "fresh node: messages not measured (skipped)"
t_is "$(fld lavinmq.messages summary)" \
        "not measured: /api/overview answered without queue_totals messages_ready/messages_unacknowledged" \
        "fresh node: the API answered without the counts: said so, not 'did not answer'"
t_is "$(sev lavinmq.process)" info "no lavinmq process here, the named API answers: info"
t_is "$(fld lavinmq.process summary)" \
        "no lavinmq process on this host: the API [lavinmq] api_url names answers (RabbitMQ $VERSION at $API), so the broker runs elsewhere" \
        "process: says the broker answers elsewhere, not 'has a .lock'"
t_is "$(fld lavinmq.listening summary)" "not checked: no lavinmq process on this host" "listening: no 'lavinmq is not running' beside an answering API"
no_contradiction "fresh node"

# ---- statistics collected, a queue with 3 messages (published through the API)
for _ in $(seq 60); do
        [ "$(api "$API/api/nodes" | jq -r '.[0].fd_used // empty')" != "" ] && break
        sleep 0.5
done
t_is "$(code -X PUT -H 'content-type: application/json' -d '{"durable":false}' "$API/api/queues/%2F/evodiag_q")" 201 "queue created"
for _ in 1 2 3; do
        api -X POST -H 'content-type: application/json' \
                -d '{"properties":{},"routing_key":"evodiag_q","payload":"x","payload_encoding":"string"}' \
                "$API/api/exchanges/%2F/amq.default/publish" >/dev/null
done
for _ in $(seq 60); do
        [ "$(api "$API/api/overview" | jq -r '.queue_totals.messages_ready // empty')" = 3 ] && break
        sleep 0.5
done
NODES=$(api "$API/api/nodes")
FDT=$(jq -r '.[0].fd_total' <<<"$NODES")
conf "metrics_url = http://127.0.0.1:15692/metrics"
t_run check --config "$T_TMP/evodiag.conf" --only lavinmq --json
t_is "$(sev lavinmq.api)" ok "with statistics, as an administrator (guest): lavinmq.api ok"
t_like "$(fld lavinmq.api summary)" "^RabbitMQ $VERSION answers over $API in [0-9]+ ms: 0 connections, 0 consumers, 1 queues$" "the queue counted"
t_like "$(fld lavinmq.api actual)" "; fds [0-9]+/$FDT, memory [0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB, disk free [0-9.]+ [KMG]iB, 0 followers; metrics: read$" \
        "/api/nodes fd_total, memory and disk read right"
t_is "$(fld lavinmq.messages summary)" "3 messages ready, 0 unacknowledged, 0 consumers" "messages: what the queue holds"
t_is "$(fld lavinmq.messages actual)" "3 ready, 0 unacknowledged (/api/overview queue_totals); no consumer is connected" \
        "messages: from queue_totals"
t_like "$(fld lavinmq.fd_limit summary)" "may open (only )?$FDT files" "fd_limit: the broker's limit as it reports it"
t_like "$(fld lavinmq.disk summary)" "free for" "disk: measured from the API or the metrics"
no_contradiction "queue with messages"

# ---- a user without the monitoring tag: /api/nodes is refused, the overview lacks node
t_is "$(code -X PUT -H 'content-type: application/json' -d '{"password":"pw","tags":"management"}' "$API/api/users/evodiag_m")" 201 \
        "management-only user created"
t_is "$(code -X PUT -H 'content-type: application/json' -d '{"configure":".*","write":".*","read":".*"}' "$API/api/permissions/%2F/evodiag_m")" \
        201 "its permissions"
conf "user = evodiag_m" "password = pw" "metrics_url = http://127.0.0.1:15692/metrics"
t_run check --config "$T_TMP/evodiag.conf" --only lavinmq --json
t_is "$(sev lavinmq.api)" info "management user: lavinmq.api info (fields missing), not ok"
t_like "$(fld lavinmq.api actual)" "^node not reported, uptime not in /api/overview; /api/nodes: HTTP 401 \(fd/memory/disk not read\)" \
        "management user: what is missing reads as missing, the 401 as it came"
t_like "$(fld lavinmq.api summary)" "answers over $API in [0-9]+ ms: [0-9]+ connections, \? consumers, 1 queues$" \
        "management user: counts the reply lacks are '?', not -1"
t_like "$(fld lavinmq.api remedy)" "monitoring tag" "management user: the remedy names the tag, as a possibility"
no_contradiction "management user"

# ---- a wrong password: refused, and every finding says refused, not "did not answer"
conf "user = guest" "password = wrong" "metrics_url = http://127.0.0.1:9/metrics"
t_run check --config "$T_TMP/evodiag.conf" --only lavinmq --json
t_is "$(sev lavinmq.api)" warn "wrong password: lavinmq.api warn"
t_like "$(fld lavinmq.api summary)" "HTTP 401: the API refused evodiag's credentials \(\[lavinmq\] user 'guest'\)" "wrong password: said so"
t_is "$(fld lavinmq.messages summary)" "not measured: the API refused evodiag's credentials (see lavinmq.api)" \
        "wrong password: messages say refused, not 'did not answer'"
t_unlike "$(all_text)" "did not answer" "wrong password: nothing says the API did not answer"

stop_server
t_is "$(pgrep -u rabbitmq -c)" 0 "the broker is stopped: no process of the rabbitmq user is left"
t_done
