#!/bin/bash
# A stand-in nvidia-smi for tests/cli/gpu.sh, put first on PATH. It prints recorded
# output (tests/fixtures/gpu, sources in its README.md) or misbehaves:
#   FAKE_SMI_DIR   the fixtures directory
#   FAKE_SMI_GPU   capture prefix: h100-load (default), rtx2080s-load, h200-load or h200-idle
#   FAKE_SMI_MODE  ok | hang | garbage | mismatch | failed | exit
#   FAKE_SMI_PIDFILE  where to write its pid (and its child's: a hang leaves a group)
dir=${FAKE_SMI_DIR:?}
gpu=${FAKE_SMI_GPU:-h100-load}
[ -n "$FAKE_SMI_PIDFILE" ] && echo $$ >>"$FAKE_SMI_PIDFILE"
case "${FAKE_SMI_MODE:-ok}" in
hang)
        # ignores SIGTERM and has a child of its own: only killing the group ends both
        trap '' TERM INT HUP
        sleep 1000 &
        [ -n "$FAKE_SMI_PIDFILE" ] && echo $! >>"$FAKE_SMI_PIDFILE"
        while :; do wait; done
        ;;
garbage)
        printf '\x89PNG\r\n\x1a\n\xff\xfe\x01garbage \x1b[31mred\x1b[0m\n'
        printf 'index, name\n%s\n' 'no, comma, here, at, all'
        exit 0
        ;;
mismatch)
        cat "$dir/error-version-mismatch.txt"
        exit 18
        ;;
failed)
        cat "$dir/error-smi-failed.txt"
        exit 9
        ;;
exit)
        echo "Unable to determine the device handle for GPU 0000:0C:00.0: Unknown Error"
        exit 15
        ;;
esac
case "$1" in
--query-gpu=*) cat "$dir/$gpu.query-gpu.csv" ;;
--query-compute-apps=*) cat "$dir/$gpu.compute-apps.csv" ;;
-q) cat "$dir/$gpu.q.txt" ;;
*) echo "fake nvidia-smi: $* not recorded" >&2; exit 2 ;;
esac
