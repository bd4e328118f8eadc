#!/usr/bin/env bash
# CPU of the release window under Xvfb (Mesa software GL) against a private mosquitto: idle and
# disconnected, connected and idle, 20 msg/s over 50 topics, 1,000 msg/s; % of one core and
# repaints per second. The window is connected through the accessibility bus (scripts/a11y).
# Usage: scripts/cpu.sh [SECONDS_PER_PHASE] [BINARY]   (defaults: 20, target/release/canopy)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_PHASE=${1:-20}
BIN=${2:-target/release/canopy}
if [ "$BIN" = target/release/canopy ]; then cargo build --release --quiet; fi
. scripts/lib.sh
need mosquitto python3
start_mosquitto
cat > "$WORK/profiles.toml" <<TOML
version = 1

[[profiles]]
id = "cpu-bench"
name = "CPU bench"
host = "127.0.0.1"
port = $PORT
version = "3.1.1"
subscriptions = [{ filter = "cpu/#", qos = 0 }]
TOML
echo "== $(nproc) cores; renderer: Mesa software GL under Xvfb; $SECONDS_PER_PHASE s per phase"
A11Y_PROFILES="$WORK/profiles.toml" CANOPY_FRAME_LOG="$WORK/frames" \
    scripts/a11y/run.sh "$BIN" scripts/a11y/cpu.py "$PORT" "$SECONDS_PER_PHASE" 2>&1 | grep '^cpu:\|FAIL'
