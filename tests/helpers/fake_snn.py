#!/usr/bin/env python3
"""A stand-in for the Cerebellar-Norse HTTP exporter (COMPONENTS.md §3) on 127.0.0.1,
for tests/cli/snn.sh. It serves /health, /info, /metrics and /neural/metrics as the
scenario says, prints "listening PORT" once bound, and serves until killed.

Scenarios:
  healthy      the code's shapes: /health {"status":"healthy","timestamp","version"},
               a latency histogram well inside the 10 us budget
  docs         the documented HealthResponse (checks[], uptime_seconds), all passing
  degraded     HealthResponse degraded with a failing and a warning check
  unhealthy    HTTP 503 with HealthResponse unhealthy
  slow         every route answers after 10 s (past any test's timeout)
  malformed    /health and /info answer text that is not JSON
  overbudget   p95 latency 50 us, error rate 5 %, CUDA memory 95 %, a bad metrics line
  huge         /metrics streams 100 MB of valid samples (cut at evodiag's cap)
"""
import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HIST_OK = """# HELP neural_inference_latency_seconds Neural inference latency
# TYPE neural_inference_latency_seconds histogram
neural_inference_latency_seconds_bucket{le="1e-06"} 10
neural_inference_latency_seconds_bucket{le="2e-06"} 600
neural_inference_latency_seconds_bucket{le="5e-06"} 980
neural_inference_latency_seconds_bucket{le="1e-05"} 1000
neural_inference_latency_seconds_bucket{le="+Inf"} 1000
neural_inference_latency_seconds_sum 0.0021
neural_inference_latency_seconds_count 1000
# TYPE neural_errors_total counter
neural_errors_total 0
"""
# p95 rank 950: between 4e-05 (count 900) and 6e-05 (count 1000): 4e-05 + 2e-05*50/100 = 5e-05
HIST_SLOW = """# TYPE processing_duration_seconds histogram
processing_duration_seconds_bucket{le="1e-05"} 100
processing_duration_seconds_bucket{le="4e-05"} 900
processing_duration_seconds_bucket{le="6e-05"} 1000
processing_duration_seconds_bucket{le="+Inf"} 1000
processing_duration_seconds_sum 0.04
processing_duration_seconds_count 1000
# TYPE neural_errors_total counter
neural_errors_total 50
cuda_memory_used_bytes 15300000000
cuda_memory_total_bytes 16106127360
neural_throughput_ops_per_sec{component=neural_network} 12
"""
NEURAL_OK = """neural_inference_latency_ns{component="neural_network"} 1800 1700000000000
neural_memory_usage_mb{component="neural_network"} 512 1700000000000
neural_gpu_utilization_percent{component="neural_network"} 35 1700000000000
neural_error_rate_percent{component="neural_network"} 0.1 1700000000000
"""
NEURAL_BAD = NEURAL_OK.replace(" 0.1 ", " 5 ")
INFO = {"service": "cerebellar-norse-metrics-exporter", "version": "0.3.1", "build_timestamp": "2026-11-02T10:00:00Z",
        "commit_hash": "856a8f66", "rust_version": "1.82.0",
        "endpoints": ["/health", "/info", "/metrics", "/neural/metrics"]}


def docs_health(status, checks):
    return {"status": status, "timestamp": "2026-11-30T09:00:00Z", "uptime_seconds": 3600,
            "checks": [{"name": n, "status": s, "message": m, "duration_ms": 3} for n, s, m in checks]}


class Handler(BaseHTTPRequestHandler):
    scenario = "healthy"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        sc = self.scenario
        p = self.path
        prom = "text/plain; version=0.0.4"
        try:
            if sc == "slow":
                time.sleep(10)
            if p == "/health":
                if sc == "malformed":
                    return self.send(200, '{"status": "healthy", ', "application/json")
                if sc == "docs":
                    return self.send(200, docs_health("healthy", [("neural", "pass", "ok"), ("gpu", "pass", "ok")]))
                if sc == "degraded":
                    return self.send(200, docs_health("degraded", [("neural", "pass", "ok"),
                                                                   ("gpu", "fail", "CUDA_ERROR_OUT_OF_MEMORY"),
                                                                   ("disk", "warn", "85% full")]))
                if sc == "unhealthy":
                    return self.send(503, docs_health("unhealthy", [("neural", "fail", "model not loaded")]))
                return self.send(200, {"status": "healthy", "timestamp": 1764493200000, "version": "0.3.1"})
            if p == "/info":
                if sc == "malformed":
                    return self.send(200, "<html>not json</html>", "text/html")
                if sc in ("docs", "degraded", "unhealthy"):
                    return self.send(404, {"code": 404, "message": "not found", "timestamp": 1})
                return self.send(200, INFO)
            if p == "/metrics":
                if sc == "huge":
                    return self.stream_huge()
                if sc == "overbudget":
                    return self.send(200, HIST_SLOW + "neural_accuracy_percentage{x=\"unterminated} 1\n", prom)
                return self.send(200, HIST_OK, prom)
            if p == "/neural/metrics":
                if sc in ("docs", "degraded", "unhealthy"):
                    return self.send(404, {"code": 404, "message": "not found", "timestamp": 1})
                return self.send(200, NEURAL_BAD if sc == "overbudget" else NEURAL_OK, prom)
            return self.send(404, {"code": 404, "message": "not found", "timestamp": 1})
        except (BrokenPipeError, ConnectionResetError):
            pass

    def stream_huge(self):
        total = 100 * 1000 * 1000
        line = b"neural_throughput_ops_per_sec{component=\"neural_network\"} 12345\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(total // len(line) * len(line)))
        self.end_headers()
        chunk = line * 16384
        sent = 0
        while sent + len(chunk) <= total:
            self.wfile.write(chunk)
            sent += len(chunk)
        rest = (total - sent) // len(line)
        self.wfile.write(line * rest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="healthy")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    Handler.scenario = a.scenario
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print("listening", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
