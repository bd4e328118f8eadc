#!/usr/bin/env bash
# Canopy against mosquitto_sub, in one run, on a private mosquitto:
#   1. retained load: N retained topics (default 100,000), `mosquitto_sub -t '#' -C N` and
#      `canopy bench load --expect N` run alternately, medians and the ratio canopy / mosquitto_sub;
#   2. live ingest: a publisher blasting small QoS 0 messages as fast as it can, received by
#      mosquitto_sub and by canopy (same publisher, alternately), medians and the ratio;
#   3. live 50,000 msg/s over 10,000 topics for 60 s into canopy's tree, counted.
# Usage: scripts/bench.sh [--topics N] [--runs R] [--blast M] [--no-live]
set -euo pipefail
cd "$(dirname "$0")/.."

TOPICS=100000
RUNS=5
BLAST=1000000
LIVE=1
while [ $# -gt 0 ]; do
    case "$1" in
        --topics) TOPICS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --blast) BLAST=$2; shift 2 ;;
        --no-live) LIVE=0; shift ;;
        *) echo "usage: $0 [--topics N] [--runs R] [--blast M] [--no-live]" >&2; exit 2 ;;
    esac
done

. scripts/lib.sh
need mosquitto mosquitto_sub python3
release_canopy
start_mosquitto "max_queued_messages 0" "max_inflight_messages 0"

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b-a}'; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(mosquitto -h 2>/dev/null | head -1 || true)"
echo "== filling the broker with $TOPICS retained topics"
$CANOPY bench publish "${CONN[@]}" --topics "$TOPICS" --retain
# Also checks that every retained topic is there.
mosquitto_sub "${CONN[@]}" -t 'bench/#' -C "$TOPICS" -W 900 > /dev/null
echo "== broker RSS with $TOPICS retained topics: $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$BROKER/status)"

echo "== retained load, $RUNS runs each, alternating"
SUB=(); CAN=(); RSS=()
for i in $(seq "$RUNS"); do
    t0=$(now); mosquitto_sub "${CONN[@]}" -t 'bench/#' -C "$TOPICS" -W 900 > /dev/null; t1=$(now)
    SUB+=("$(secs "$t0" "$t1")")
    t0=$(now); out=$($CANOPY bench load "${CONN[@]}" -t 'bench/#' --expect "$TOPICS" --timeout 900 --json); t1=$(now)
    CAN+=("$(secs "$t0" "$t1")")
    RSS+=("$(echo "$out" | field peak_rss_bytes)")
    echo "  run $i: mosquitto_sub ${SUB[-1]} s, canopy ${CAN[-1]} s (peak RSS $(( ${RSS[-1]} / 1048576 )) MiB)"
done
MS=$(median "${SUB[@]}"); MC=$(median "${CAN[@]}"); MR=$(median "${RSS[@]}")
printf 'RESULT retained %d topics: mosquitto_sub %.3f s, canopy %.3f s, ratio %.3f; canopy peak RSS %.0f MiB (%.0f bytes/topic)\n' \
    "$TOPICS" "$MS" "$MC" "$(awk -v a="$MC" -v b="$MS" 'BEGIN {print a/b}')" \
    "$(awk -v r="$MR" 'BEGIN {print r/1048576}')" "$(awk -v r="$MR" -v t="$TOPICS" 'BEGIN {print r/t}')"

echo "== live ingest: $BLAST small QoS 0 messages blasted by one publisher, $RUNS runs each"
SUB=(); CAN=()
blast() {
    $CANOPY bench publish "${CONN[@]}" --prefix blast --topics 1000 --count "$BLAST" --json > "$WORK/pub.json"
}
for i in $(seq "$RUNS"); do
    mosquitto_sub "${CONN[@]}" -t 'blast/#' -C "$BLAST" -W 300 > /dev/null & S=$!
    sleep 0.5
    t0=$(now); blast; wait $S || { echo "mosquitto_sub did not get all $BLAST messages" >&2; exit 1; }; t1=$(now)
    SUB+=("$(awk -v n="$BLAST" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n/(b-a)}')")
    PUBRATE=$(field messages_per_second < "$WORK/pub.json")
    $CANOPY bench load "${CONN[@]}" -t 'blast/#' --expect "$BLAST" --timeout 300 --json > "$WORK/load.json" & S=$!
    sleep 0.5
    t0=$(now); blast; wait $S || { echo "canopy did not get all $BLAST messages" >&2; exit 1; }; t1=$(now)
    CAN+=("$(awk -v n="$BLAST" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n/(b-a)}')")
    echo "  run $i: mosquitto_sub ${SUB[-1]} msg/s, canopy ${CAN[-1]} msg/s, all $BLAST received by both (publisher sent at $(printf '%.0f' "$PUBRATE") msg/s)"
done
MS=$(median "${SUB[@]}"); MC=$(median "${CAN[@]}")
printf 'RESULT live blast: mosquitto_sub %.0f msg/s, canopy %.0f msg/s, ratio %.3f, nothing lost\n' \
    "$MS" "$MC" "$(awk -v a="$MC" -v b="$MS" 'BEGIN {print a/b}')"

if [ "$LIVE" = 1 ]; then
    echo "== live: 50,000 msg/s over 10,000 topics for 60 s into canopy's tree"
    $CANOPY bench load "${CONN[@]}" -t 'live/#' --expect 3000000 --timeout 120 > "$WORK/live.txt" & S=$!
    sleep 0.5
    $CANOPY bench publish "${CONN[@]}" --prefix live --topics 10000 --rate 50000 --count 3000000
    if wait $S; then
        echo "RESULT live 50k msg/s: $(head -1 "$WORK/live.txt"); $(tail -1 "$WORK/live.txt")"
    else
        echo "RESULT live 50k msg/s: NOT ALL MESSAGES ARRIVED: $(cat "$WORK/live.txt")"; exit 1
    fi
fi
