#!/usr/bin/env python3
"""A tiny HTTP server for upload tests: accepts PUT, stores the body and the request
headers under DIR (named after the path), answers 200. Prints `listening <port>`.
Usage: put_recorder.py DIR [--status CODE] [--bind ADDR]"""
import http.server, json, os, signal, sys

root = sys.argv[1]
status = int(sys.argv[sys.argv.index("--status") + 1]) if "--status" in sys.argv else 200
bind = sys.argv[sys.argv.index("--bind") + 1] if "--bind" in sys.argv else "127.0.0.1"


class H(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        name = self.path.strip("/").replace("/", "__")
        with open(os.path.join(root, name), "wb") as f:
            f.write(body)
        with open(os.path.join(root, name + ".headers.json"), "w") as f:
            json.dump({"method": "PUT", "path": self.path, "headers": dict(self.headers)}, f)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer((bind, 0), H)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print("listening", srv.server_address[1], flush=True)
srv.serve_forever()
