#!/usr/bin/env python3
"""A stand-in for an app using framealloc's SnapshotEmitter (src/api/snapshot.rs), for
tests/cli/framealloc.sh. Run it with the app's working directory as cwd; it polls
target/framealloc/snapshot.request every 50 ms like maybe_emit() each frame and:
  --mode answer   writes snapshot_<frame:08>.json (the emitter's JSON) and deletes the request
  --mode never    never looks (check_request_file off): the request stays
It prints "ready" once running."""
import argparse
import os
import sys
import time

SNAP = """{
  "version": 1,
  "timestamp": "2026-11-30T10:00:00Z",
  "frame": %(frame)d,
  "duration_us": 160,
  "summary": {
    "frame_bytes": 4096,
    "pool_bytes": 8192,
    "heap_bytes": 512,
    "total_bytes": %(total)d,
    "peak_bytes": 65536
  },
  "threads": [
  ],
  "tags": [
  ],
  "promotions": {
    "to_pool": 0,
    "to_heap": 0,
    "failed": 0
  },
  "transfers": {
    "pending": 0,
    "completed_this_frame": 0
  },
  "deferred": {
    "queue_depth": 0,
    "processed_this_frame": 0
  },
  "diagnostics": [
  ]
}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="answer")
    ap.add_argument("--frame", type=int, default=5000)
    a = ap.parse_args()
    d = os.path.join("target", "framealloc")
    os.makedirs(d, exist_ok=True)
    req = os.path.join(d, "snapshot.request")
    frame = a.frame
    print("ready", flush=True)
    while True:
        frame += 1
        if a.mode == "answer" and os.path.exists(req):
            with open(os.path.join(d, "snapshot_%08d.json" % frame), "w") as f:
                f.write(SNAP % {"frame": frame, "total": 12800})
            os.unlink(req)
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
