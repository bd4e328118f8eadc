#!/usr/bin/env bash
# Slow consumer: a publisher sends for DURATION seconds while the subscriber's reader drains its
# standard output 100 times slower than the broker sends. Reports the subscriber's idle and peak
# RSS (VmHWM) for `canopy sub` and, in the same run, for `mosquitto_sub`. Without backpressure
# the subscriber's memory grows with the lag; with it, the engine stops reading the socket once
# its queue budget (32 MiB) is spent and TCP pushes back on the broker.
# Usage: scripts/slow_consumer.sh [--duration SECS] [--rate MSG_PER_S] [--size BYTES] [--qos Q]
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=60
RATE=5000
SIZE=512
QOS=1
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --qos) QOS=$2; shift 2 ;;
        *) echo "usage: $0 [--duration SECS] [--rate MSG_PER_S] [--size BYTES] [--qos Q]" >&2; exit 2 ;;
    esac
done
. scripts/lib.sh
need mosquitto mosquitto_sub python3
release_canopy
# The broker's own queue is unlimited here, so any limit seen is the subscriber's doing.
start_mosquitto "max_queued_messages 0" "max_queued_bytes 0"

# Bytes a second the broker sends the subscriber (payload plus topic and framing, roughly).
SEND=$(( RATE * (SIZE + 40) ))
READ=$(( SEND / 100 ))
# A reader that takes at most READ bytes a second from its standard input.
cat > "$WORK/slow_reader.py" <<'PY'
import sys, time
rate = int(sys.argv[1])
chunk = max(1, rate // 10)
stdin = sys.stdin.buffer
while True:
    data = stdin.read1(chunk) if hasattr(stdin, "read1") else stdin.read(chunk)
    if not data:
        break
    time.sleep(len(data) / rate)
PY

rss_kib() { awk "/^$2:/ {print \$2}" "/proc/$1/status" 2>/dev/null || echo 0; }

run() { # NAME COMMAND...
    local name=$1; shift
    "$@" 2>"$WORK/$name.err" | python3 "$WORK/slow_reader.py" "$READ" &
    local reader=$!
    sleep 1.5
    local pid
    pid=$(pgrep -n -x "$(basename "$1")" || echo "")
    local idle
    idle=$(rss_kib "$pid" VmRSS)
    $CANOPY bench publish -h 127.0.0.1 -p "$PORT" -V 3.1.1 --rate "$RATE" --duration "$DURATION" \
        --size "$SIZE" -q "$QOS" --topics 1000 --prefix slow >/dev/null 2>"$WORK/pub.err"
    local peak
    peak=$(rss_kib "$pid" VmHWM)
    kill "$pid" "$reader" 2>/dev/null || true
    wait "$reader" 2>/dev/null || true
    awk -v n="$name" -v i="$idle" -v p="$peak" \
        'BEGIN {printf "%-14s idle %6.1f MiB   peak %6.1f MiB   growth %6.1f MiB\n", n, i/1024, p/1024, (p-i)/1024}'
}

echo "== $DURATION s at $RATE msg/s of $SIZE bytes (QoS $QOS) = $((SEND / 1024)) KiB/s sent; the reader takes $((READ / 1024)) KiB/s"
run canopy "$CANOPY" sub -h 127.0.0.1 -p "$PORT" -t 'slow/#' -q "$QOS"
run mosquitto_sub mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'slow/#' -q "$QOS"
