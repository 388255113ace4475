#!/usr/bin/python3
"""fake_lavinmq: a stand-in for LavinMQ's management HTTP API, for tests.

Serves the response shapes listed in /work/shared/docs/COMPONENTS.md section 2
("HTTP API"): /api/overview, /api/nodes, /api/nodes/<name>,
/api/aliveness-test/<vhost> and Prometheus /metrics with the lavinmq_ prefix.
Field names and types follow src/lavinmq/http/controller/{main,nodes,
prometheus}.cr: overview uptime is seconds, node uptime is milliseconds,
os_pid is a string.

Transports, like the real server:
  --tcp HOST:PORT      management port: Basic auth on /api/* and /metrics
  --unix PATH          like /tmp/lavinmqctl.sock (mode 0660): no auth
  --metrics HOST:PORT  like the port-15692 metrics server: /metrics only, no auth

Stdlib only; see tests/helpers/README.md.
"""
import argparse
import base64
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "2.4.0"
GiB = 1 << 30

# Numbers each scenario reports.  Only what differs from "healthy" is listed.
HEALTHY = dict(
    connections=3, channels=4, consumers=2, exchanges=8, queues=5, bindings=11,
    messages_ready=12, messages_unacknowledged=3,
    fd_total=1048576, fd_used=57, mfile_count=40,
    mem_limit=8 * GiB, mem_used=180 * (1 << 20),
    disk_total=100 * GiB, disk_free=60 * GiB,
)
SCENARIOS = {
    "healthy": {},
    # fd_used and mfile_count a few percent below their limits.
    "near-limits": dict(fd_total=1024, fd_used=1003),
    "api-slow": {},
    "invalid-json": {},
    "low-disk": dict(disk_free=64 * (1 << 20)),
    "backlog": dict(messages_ready=2_500_000, messages_unacknowledged=150_000,
                    consumers=0),
    # Numbers no broker can have: 1e308 bytes free, negative counts, NaN (json.dumps
    # writes the NaN literal, which json-c reads), and the same in the metrics.
    "impossible": dict(disk_free=1e308, fd_used=-5, queues=-5, mem_used=float("nan")),
}
# Metric sample values written as they are (Prometheus text), per scenario.
METRIC_TEXT = {
    "impossible": {"disk_space_available_bytes": "1e+308", "process_open_fds": "NaN",
                   "mfile_count": "-5"},
}


def read_max_map_count():
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 65530


class State:
    """Everything the handlers need, built once from the options."""

    def __init__(self, opts):
        self.opts = opts
        self.started = time.monotonic()
        self.node = opts.node or socket.gethostname()
        self.v = dict(HEALTHY, **SCENARIOS[opts.scenario])
        if opts.scenario == "near-limits":
            self.v["mfile_count"] = opts.max_map_count * 97 // 100
        self.auth = "Basic " + base64.b64encode(
            f"{opts.user}:{opts.password}".encode()).decode()

    def uptime_s(self):
        return int(time.monotonic() - self.started)

    def overview(self):
        v = self.v
        stats = {}
        # MainController OVERVIEW_STATS: a count plus {rate, log} per name.
        # --rates moving: messages flow at 500/s since the start (counts grow, rates > 0);
        # frozen (default): nothing moves.
        moving = self.opts.rates == "moving"
        flowed = int((time.monotonic() - self.started) * 500) if moving else 0
        for name in ("ack", "deliver", "get", "deliver_get", "publish", "confirm",
                     "redeliver", "reject", "return_unroutable"):
            busy = moving and name in ("ack", "deliver", "deliver_get", "publish")
            stats[name] = flowed if busy else 0
            stats[name + "_details"] = {"rate": 500.0 if busy else 0.0, "log": []}
        return {
            "lavinmq_version": VERSION,
            "product_name": "LavinMQ",
            "node": self.node,
            "uptime": self.uptime_s(),
            "object_totals": {k: v[k] for k in (
                "channels", "connections", "consumers", "exchanges", "queues",
                "bindings")},
            "queue_totals": {
                "messages": v["messages_ready"] + v["messages_unacknowledged"],
                "messages_ready": v["messages_ready"],
                "messages_unacknowledged": v["messages_unacknowledged"],
            },
            "message_stats": stats,
            "listeners": [
                {"ip_address": "127.0.0.1", "protocol": "amqp", "port": 5672},
                {"ip_address": "127.0.0.1", "protocol": "mqtt", "port": 1883},
            ],
        }

    def node_stats(self):
        v = self.v
        n = {
            "uptime": int((time.monotonic() - self.started) * 1000),
            "running": True,
            "name": self.node,
            "applications": [{"name": "lavinmq", "description": "LavinMQ",
                              "version": VERSION}],
        }
        if not self.opts.non_admin:   # NodesController shows these to admins only
            n.update({
                "os_pid": str(os.getpid()),
                "fd_total": v["fd_total"],
                "fd_used": v["fd_used"],
                "mem_limit": v["mem_limit"],
                "mem_used": v["mem_used"],
                "db_dir": "/var/lib/lavinmq",
                "disk_total": v["disk_total"],
                "disk_free": v["disk_free"],
                "followers": [],
            })
        n["messages_ready"] = v["messages_ready"]
        n["messages_unacknowledged"] = v["messages_unacknowledged"]
        return n

    def metrics(self):
        v = self.v
        out = []

        # PrometheusWriter: "# TYPE" before "# HELP", then "name{labels} value".
        def put(name, typ, help_, value, labels=None, prefix="lavinmq"):
            full = f"{prefix}_{name}"
            value = METRIC_TEXT.get(self.opts.scenario, {}).get(name, value)
            out.append(f"# TYPE {full} {typ}\n# HELP {full} {help_}\n")
            lab = ""
            if labels:
                lab = "{" + ", ".join(f'{k}="{x}"' for k, x in labels.items()) + "}"
            out.append(f"{full}{lab} {value}\n")

        put("identity_info", "gauge", "System information", 1,
            {"lavinmq_version": VERSION, "lavinmq_cluster": self.node})
        put("process_open_fds", "gauge", "Open file descriptors", v["fd_used"])
        put("process_resident_memory_bytes", "gauge", "Memory used in bytes",
            v["mem_used"])
        put("disk_space_available_bytes", "gauge", "Disk space available in bytes",
            v["disk_free"])
        put("process_max_fds", "gauge", "Open file descriptors limit", v["fd_total"])
        put("resident_memory_limit_bytes", "gauge", "Memory high watermark in bytes",
            v["mem_limit"])
        put("connections", "gauge", "Connections currently open", v["connections"])
        put("channels", "gauge", "Channels currently open", v["channels"])
        put("consumers", "gauge", "Consumers currently connected", v["consumers"])
        put("queues", "gauge", "Queues available", v["queues"])
        put("queue_messages_ready", "gauge",
            "Messages ready to be delivered to consumers", v["messages_ready"])
        put("queue_messages_unacked", "gauge",
            "Messages delivered to consumers but not yet acknowledged",
            v["messages_unacknowledged"])
        put("queue_messages", "gauge",
            "Sum of ready and unacknowledged messages - total queue depth",
            v["messages_ready"] + v["messages_unacknowledged"])
        put("uptime", "counter", "Server uptime in seconds", self.uptime_s())
        put("total_connected_followers", "gauge", "Amount of follower nodes connected", 0)
        put("mfile_count", "gauge", "Number of memory-mapped files currently open",
            v["mfile_count"])
        put("scrape_duration_seconds", "gauge",
            "Duration for metrics collection in seconds", 0.0001, prefix="telemetry")
        return "".join(out)


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-lavinmq"

    def log_message(self, fmt, *args):
        if self.server.state.opts.verbose:
            sys.stderr.write(f"{self.server.kind}: {fmt % args}\n")

    def address_string(self):
        # AF_UNIX peers have no (host, port) tuple.
        return self.client_address[0] if self.client_address else "unix"

    def send(self, code, body, ctype="application/json", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, val in extra:
            self.send_header(k, val)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, code, obj):
        self.send(code, json.dumps(obj))

    def do_GET(self):
        st = self.server.state
        kind = self.server.kind
        path = urllib.parse.urlsplit(self.path).path
        is_metrics = path == "/metrics" or path.startswith("/metrics/")
        is_api = path == "/api" or path.startswith("/api/")

        if kind == "metrics" and not is_metrics:   # metrics server serves nothing else
            return self.send_json(404, {"error": "not_found", "reason": "Not Found"})
        # Only the management TCP port authenticates; the control socket runs
        # as the internal __direct user and the metrics port is open.
        if kind == "tcp" and (is_api or is_metrics) and \
                self.headers.get("Authorization") != st.auth:
            return self.send(401, json.dumps({"error": "access_refused",
                                              "reason": "Not authorized"}),
                             extra=[("WWW-Authenticate", 'Basic realm="LavinMQ"')])

        if is_metrics:
            return self.send(200, st.metrics(), "text/plain")
        if not is_api:
            return self.send_json(404, {"error": "not_found", "reason": "Not Found"})

        if st.opts.scenario == "api-slow":
            time.sleep(st.opts.delay)
        if st.opts.scenario == "invalid-json":
            return self.send(200, '{"broken": ')

        parts = [urllib.parse.unquote(p) for p in path.split("/")[2:]]
        if parts == ["overview"]:
            return self.send_json(200, st.overview())
        if parts == ["nodes"]:
            return self.send_json(200, [st.node_stats()])
        if len(parts) == 2 and parts[0] == "nodes":
            if parts[1] == st.node:
                return self.send_json(200, st.node_stats())
            return self.send(404, b"")
        if len(parts) == 2 and parts[0] == "aliveness-test":
            if parts[1] != "/":
                return self.send_json(404, {"error": "not_found",
                                            "reason": "Not Found"})
            return self.send_json(200, {"status": "ok"})
        return self.send_json(404, {"error": "not_found", "reason": "Not Found"})

    do_HEAD = do_GET


class TCPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False   # a sleeping api-slow request must not delay exit


class TCP6Server(TCPServer):
    address_family = socket.AF_INET6


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False


def host_port(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {s!r}")
    return host.strip("[]"), int(port)


def make_tcp(addr, kind, state):
    cls = TCP6Server if ":" in addr[0] else TCPServer
    srv = cls(addr, Handler)
    srv.kind, srv.state = kind, state
    return srv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tcp", type=host_port, help="management listener HOST:PORT (0 = any free port)")
    ap.add_argument("--unix", help="control-socket path (no auth)")
    ap.add_argument("--metrics", type=host_port, help="metrics-only listener HOST:PORT (no auth)")
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="healthy")
    ap.add_argument("--delay", type=float, default=30.0, help="api-slow delay, seconds")
    ap.add_argument("--max-map-count", type=int, default=read_max_map_count(),
                    help="near-limits: mfile_count is 97%% of this")
    ap.add_argument("--user", default="guest")
    ap.add_argument("--password", default="guest")
    ap.add_argument("--node", help="node name (default: hostname)")
    ap.add_argument("--non-admin", action="store_true",
                    help="answer /api/nodes as for a user without the administrator tag")
    ap.add_argument("--rates", choices=("frozen", "moving"), default="frozen",
                    help="message_stats: counters and rates still (frozen) or growing at 500/s (moving)")
    ap.add_argument("--pidfile")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    opts = ap.parse_args()
    if not (opts.tcp or opts.unix or opts.metrics):
        ap.error("need at least one of --tcp, --unix, --metrics")

    state = State(opts)
    servers, lines, unix_ino = [], [], None
    if opts.tcp:
        s = make_tcp(opts.tcp, "tcp", state)
        servers.append(s)
        lines.append(f"listening tcp {opts.tcp[0]} {s.server_address[1]}")
    if opts.metrics:
        s = make_tcp(opts.metrics, "metrics", state)
        servers.append(s)
        lines.append(f"listening metrics {opts.metrics[0]} {s.server_address[1]}")
    if opts.unix:
        try:    # LavinMQ also replaces a stale socket file
            os.unlink(opts.unix)
        except FileNotFoundError:
            pass
        s = UnixServer(opts.unix, Handler)
        s.kind, s.state = "unix", state
        os.chmod(opts.unix, 0o660)
        unix_ino = os.stat(opts.unix).st_ino
        servers.append(s)
        lines.append(f"listening unix {opts.unix}")
    if opts.pidfile:
        with open(opts.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    for s in servers:
        # Short poll interval: shutdown() waits up to one interval per server.
        threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True).start()
    print("\n".join(lines), flush=True)

    done.wait()
    for s in servers:
        s.shutdown()
        s.server_close()
    # Remove only what is still ours: a successor started on the same paths
    # may already have replaced them.
    if opts.unix:
        try:
            if os.stat(opts.unix).st_ino == unix_ino:
                os.unlink(opts.unix)
        except OSError:
            pass
    if opts.pidfile:
        try:
            with open(opts.pidfile) as f:
                if f.read().strip() == str(os.getpid()):
                    os.unlink(opts.pidfile)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
