#!/usr/bin/env bash
# QoS 0/1/2 throughput of MQTT 3.1.1 and MQTT 5, Canopy against the mosquitto clients, on a
# private mosquitto that drops nothing (`max_queued_messages 0`, QoS 0 queued for offline
# sessions too):
#   receive, drained: N messages wait in a kept session; the time from connecting until the
#       N-th message arrived (`canopy sub -C N` / `mosquitto_sub -C N`). Only the receiver and
#       the broker are measured: no publisher runs meanwhile.
#   receive, live:    the subscriber is connected while `mosquitto_pub -l` sends N messages;
#       the time from the publisher's start until the subscriber has all N (the publisher's own
#       pace bounds this one).
#   publish:          `canopy bench publish --count N` against `mosquitto_pub -l` with N lines,
#       QoS 1 and 2, until every message is acknowledged.
# Every figure is the median of R runs, in messages per second.
# Usage: scripts/qos_throughput.sh [--count N] [--runs R] [--inflight M]
#   --inflight: the broker's max_inflight_messages (default 20, mosquitto's own default; for
#   MQTT 5 it is also the Receive Maximum the broker announces in CONNACK; 0 = unlimited).
# CANOPY=path uses that binary instead of building a release one (say which in a report).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=50000
RUNS=3
INFLIGHT=20
while [ $# -gt 0 ]; do
    case "$1" in
        --count) COUNT=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --inflight) INFLIGHT=$2; shift 2 ;;
        *) echo "usage: $0 [--count N] [--runs R] [--inflight M]" >&2; exit 2 ;;
    esac
done
. scripts/lib.sh
need mosquitto mosquitto_sub mosquitto_pub python3
release_canopy
start_mosquitto "max_queued_messages 0" "queue_qos0_messages true" "max_inflight_messages $INFLIGHT"
seq 1 "$COUNT" | sed 's/^/message /' > "$WORK/lines"

now() { date +%s.%N; }
rate() { awk -v n="$COUNT" -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", n/(b-a)}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# The mosquitto clients' name for a version.
mver() { if [ "$1" = 5 ]; then echo mqttv5; else echo mqttv311; fi; }
# A run that failed is reported in the table as "failed", with the reason on stderr.
note() { echo "  failed: $*" >&2; }

# A kept session subscribed at QoS $2 to qt/$3/# under client id $4, made by mosquitto_sub,
# which leaves at once: what is published next waits in the session.
make_session() { # version qos topic id
    local expiry=()
    [ "$1" = 5 ] && expiry=(-x 600)
    mosquitto_sub "${CONN[@]}" -V "$(mver "$1")" -q "$2" -t "qt/$3/#" -c -i "$4" "${expiry[@]}" -E
}
fill() { # qos topic
    mosquitto_pub "${CONN[@]}" -q "$1" -t "qt/$2/m" -l < "$WORK/lines"
}
# Receives COUNT messages in the kept session `id`; fails after 300 s.
receive() { # client version qos topic id
    if [ "$1" = canopy ]; then
        "$CANOPY" sub "${CONN[@]}" -V "$2" -q "$3" -t "qt/$4/#" -C "$COUNT" -W 300 -c -i "$5" > /dev/null
    else
        local expiry=()
        [ "$2" = 5 ] && expiry=(-x 600)
        mosquitto_sub "${CONN[@]}" -V "$(mver "$2")" -q "$3" -t "qt/$4/#" -C "$COUNT" -W 300 -c -i "$5" "${expiry[@]}" > /dev/null
    fi
}

# Each measurement sets RESULT (msg/s); a fresh topic and client id per run, so no session
# state is shared between runs.
RUN=0
RESULT=0
drained() { # client version qos
    RUN=$((RUN + 1))
    local topic="d$RUN" id="qt-$1-$RUN" t0 t1
    make_session "$2" "$3" "$topic" "$id"
    fill "$3" "$topic"
    t0=$(now)
    receive "$1" "$2" "$3" "$topic" "$id" || { note "$1 -V $2 -q $3 did not drain $COUNT messages"; return 1; }
    t1=$(now)
    RESULT=$(rate "$t0" "$t1")
}
live() { # client version qos
    RUN=$((RUN + 1))
    local topic="l$RUN" id="qt-$1-$RUN" t0 t1 sub
    # A kept session, so a message published before the subscriber is back is queued, not lost.
    make_session "$2" "$3" "$topic" "$id"
    receive "$1" "$2" "$3" "$topic" "$id" &
    sub=$!
    sleep 0.5
    t0=$(now)
    fill "$3" "$topic"
    wait "$sub" || { note "$1 -V $2 -q $3 did not receive $COUNT live messages"; return 1; }
    t1=$(now)
    RESULT=$(rate "$t0" "$t1")
}
publish() { # client version qos
    local t0 t1
    t0=$(now)
    if [ "$1" = canopy ]; then
        "$CANOPY" bench publish "${CONN[@]}" -V "$2" -q "$3" --prefix qt/p --topics 100 --count "$COUNT" --json > "$WORK/pub.json" \
            || { note "canopy bench publish -V $2 -q $3"; return 1; }
        [ "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['delivered'])" "$WORK/pub.json")" = "$COUNT" ] \
            || { note "canopy bench publish -V $2 -q $3 did not settle every message"; return 1; }
    else
        mosquitto_pub "${CONN[@]}" -V "$(mver "$2")" -q "$3" -t qt/p/m -l < "$WORK/lines" || { note "mosquitto_pub -V $2 -q $3"; return 1; }
    fi
    t1=$(now)
    RESULT=$(rate "$t0" "$t1")
}

MEDIAN=0
measure() { # test client version qos
    local out=()
    for _ in $(seq "$RUNS"); do
        if ! "$1" "$2" "$3" "$4"; then
            MEDIAN=failed
            return
        fi
        out+=("$RESULT")
    done
    MEDIAN=$(median "${out[@]}")
}

echo "== $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(mosquitto -h 2>/dev/null | head -1); max_inflight_messages $INFLIGHT"
echo "== canopy: $CANOPY; $COUNT messages; median of $RUNS runs; msg/s"
printf '%-18s %-6s %-4s %12s %14s %8s\n' test version qos canopy mosquitto_x ratio
row() { # test version qos
    local c m
    measure "$1" canopy "$2" "$3"
    c=$MEDIAN
    measure "$1" mosquitto "$2" "$3"
    m=$MEDIAN
    printf '%-18s %-6s %-4s %12s %14s %8s\n' "$1" "$2" "$3" "$c" "$m" "$(awk -v a="$c" -v b="$m" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "-"}')"
}
for v in 3.1.1 5; do
    for q in 0 1 2; do row drained "$v" "$q"; done
done
for v in 3.1.1 5; do
    for q in 0 1 2; do row live "$v" "$q"; done
done
for v in 3.1.1 5; do
    for q in 1 2; do row publish "$v" "$q"; done
done
