#!/usr/bin/env bash
# interop.sh - run the canopy CLI against every installed MQTT broker implementation and print a
# matrix of what works (rows = checks, columns = broker/MQTT version).
#
#   scripts/interop.sh [--brokers mosquitto,aedes,...] [--quick] [--setup] [--serial] [--keep]
#
#   CANOPY=/path/to/canopy   the binary under test (default: target/release/canopy of this repo)
#   --brokers LIST           only these (mosquitto, aedes, amqtt, rumqttd, rabbitmq); default: all installed
#   --quick                  skip the slow checks (1 MiB payload, broker restart)
#   --setup                  run `scripts/brokers.sh setup` first (installs the brokers; ~4 min the first time)
#   --serial                 one broker at a time (default: the brokers' columns run in parallel)
#   --keep                   keep the log directory even when everything passed
#
# Brokers are started with scripts/brokers.sh on free 127.0.0.1 ports and stopped on exit. Every
# canopy command runs under `timeout`. Exit status: 0 when no cell is FAIL, 1 otherwise, 2 on bad
# usage or when no broker could be started. Per-check logs: $LOGDIR/<broker>_<version>/<check>.*
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$(pwd)
BROKERS_SH="$REPO/scripts/brokers.sh"
CANOPY=${CANOPY:-$REPO/target/release/canopy}
BROKERS_ROOT=${BROKERS_ROOT:-/tmp/brokers}
export BROKERS_ROOT

ALL_BROKERS="mosquitto aedes amqtt rumqttd rabbitmq"
want="" quick=0 do_setup=0 serial=0 keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --brokers) want=${2:-}; shift ;;
    --brokers=*) want=${1#--brokers=} ;;
    --quick) quick=1 ;;
    --setup) do_setup=1 ;;
    --serial) serial=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "interop.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
want=${want//,/ }
for b in $want; do
  case " $ALL_BROKERS " in *" $b "*) ;; *) echo "interop.sh: unknown broker '$b' ($ALL_BROKERS)" >&2; exit 2 ;; esac
done
[ -n "$want" ] || want=$ALL_BROKERS

if [ "$do_setup" = 1 ]; then
  t0=$SECONDS
  bash "$BROKERS_SH" setup || { echo "interop.sh: brokers.sh setup failed" >&2; exit 2; }
  echo "interop.sh: setup took $((SECONDS - t0)) s"
fi
case $CANOPY in /*) ;; *) CANOPY="$REPO/$CANOPY" ;; esac
if [ ! -x "$CANOPY" ]; then
  echo "interop.sh: no canopy binary at $CANOPY (build it: cargo build --release, or set CANOPY=)" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "interop.sh: needs python3" >&2; exit 2; }

installed() {
  case $1 in
    mosquitto) command -v mosquitto >/dev/null ;;
    aedes) [ -x "$BROKERS_ROOT/aedes/node_modules/.bin/aedes" ] ;;
    amqtt) [ -x "$BROKERS_ROOT/venv/bin/amqtt" ] ;;
    rumqttd) [ -x "$BROKERS_ROOT/rumqttd/bin/rumqttd" ] ;;
    rabbitmq) [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] ;;
  esac
}

# The MQTT versions each broker speaks (the matrix columns, plus `auto`), from brokers.sh's header.
versions_of() {
  case $1 in
    mosquitto) echo "5 3.1.1 3.1 auto" ;;
    aedes|rabbitmq) echo "3.1.1 3.1 auto" ;;
    amqtt) echo "3.1.1 auto" ;;
    rumqttd) echo "5 3.1.1 auto" ;;   # 3.1.1 (and auto) on PORT, 5 on PORT+2
  esac
}
# What `-V auto` should settle on (on the broker's main port).
auto_expect() { case $1 in mosquitto) echo 5 ;; *) echo 3.1.1 ;; esac; }
# Versions a broker does not speak on its main port: `-V X` must fail cleanly there.
unsupported_of() {
  case $1 in
    mosquitto) echo "" ;;
    aedes|rabbitmq) echo "5" ;;
    amqtt) echo "5 3.1" ;;
    rumqttd) echo "5 3.1" ;;           # on PORT (the v4 listener)
  esac
}

RUN=$(date +%s)-$$
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/canopy-interop.XXXXXX")
RES=$LOGDIR/results
mkdir -p "$RES"
declare -A PORT PID
BROKERS=()
EPMD_BEFORE=$(pgrep -x epmd || true)

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cleanup() {
  local b p
  for b in "${!PID[@]}"; do
    p=$(cat "$LOGDIR/$b.pid" 2>/dev/null || echo "${PID[$b]}")
    [ -n "$p" ] && kill "$p" 2>/dev/null
  done
  # children left behind by a check that was interrupted (only our own: listed in $LOGDIR/bg.pids)
  if [ -f "$LOGDIR/bg.pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null; done < "$LOGDIR/bg.pids"
  fi
  # RabbitMQ starts Erlang's epmd daemon and leaves it; end it if it was not running before us.
  if [ -z "$EPMD_BEFORE" ] && [ -n "${PID[rabbitmq]:-}" ]; then
    sleep 1
    for p in $(pgrep -x epmd); do kill "$p" 2>/dev/null; done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- brokers
pick_port() {  # a base port with BASE..BASE+2 free
  local base tries=0
  while :; do
    base=$((20000 + (RANDOM % 4000) * 10))
    port_open "$base" || port_open $((base + 1)) || port_open $((base + 2)) || { echo "$base"; return; }
    tries=$((tries + 1)); [ $tries -gt 50 ] && return 1
  done
}

start_broker() {  # NAME -> writes PID into $LOGDIR/NAME.pid
  local b=$1
  bash "$BROKERS_SH" start "$b" "${PORT[$b]}" "$LOGDIR/broker-$b" > "$LOGDIR/$b.pid" 2> "$LOGDIR/$b.start.err"
}

t_start=$SECONDS
skipped=""
for b in $want; do
  if ! installed "$b"; then skipped="$skipped $b"; continue; fi
  BROKERS+=("$b")
done
[ ${#BROKERS[@]} -gt 0 ] || { echo "interop.sh: none of [$want] is installed (run with --setup)" >&2; exit 2; }
for b in "${BROKERS[@]}"; do
  PORT[$b]=$(pick_port) || { echo "interop.sh: no free ports" >&2; exit 2; }
  # keep the next pick away from this one (brokers start concurrently)
  while :; do p2=$(pick_port); [ "$p2" != "${PORT[$b]}" ] && break; done
  PID[$b]=starting
done
# make sure picks are distinct
declare -A seen
for b in "${BROKERS[@]}"; do
  while [ -n "${seen[${PORT[$b]}]:-}" ]; do PORT[$b]=$(pick_port); done
  seen[${PORT[$b]}]=1
done
echo "interop.sh: canopy = $CANOPY"
echo "interop.sh: logs in $LOGDIR"
for b in "${BROKERS[@]}"; do start_broker "$b" & done
wait
up=()
for b in "${BROKERS[@]}"; do
  pid=$(cat "$LOGDIR/$b.pid" 2>/dev/null)
  if [ -n "$pid" ]; then
    PID[$b]=$pid; up+=("$b")
    echo "interop.sh: $b on 127.0.0.1:${PORT[$b]} (pid $pid)"
  else
    unset "PID[$b]"
    echo "interop.sh: $b did not start: $(tr '\n' ' ' < "$LOGDIR/$b.start.err")" >&2
    mkdir -p "$RES/${b}_start"; echo "FAIL|broker did not start: $(head -c 300 "$LOGDIR/$b.start.err" | tr '\n|' '  ')|$LOGDIR/$b.start.err" > "$RES/${b}_start/start"
  fi
done
BROKERS=("${up[@]}")
echo "interop.sh: brokers up in $((SECONDS - t_start)) s"

# ---------------------------------------------------------------- helpers
# column id -> connection arguments for canopy
conn_args() {  # BROKER VERSION
  local b=$1 v=$2 port=${PORT[$1]}
  [ "$b" = rumqttd ] && [ "$v" = 5 ] && port=$((port + 2))
  echo "-h 127.0.0.1 -p $port -V $v"
}

# result ROW STATUS REASON [LOG]: one cell, into $CELL (the column's result directory)
result() { printf '%s|%s|%s\n' "$2" "$(printf '%s' "$3" | tr '\n|' '  ' | head -c 600)" "${4:-}" > "$CELL/$1"; }

# wait_for FILE REGEX SECS [COUNT]: until FILE has COUNT lines matching REGEX
wait_for() {
  local f=$1 re=$2 n=$(( $3 * 20 )) c=${4:-1}
  while [ $n -gt 0 ]; do
    [ "$(grep -cE -- "$re" "$f" 2>/dev/null || true)" -ge "$c" ] && return 0
    sleep 0.05; n=$((n - 1))
  done
  return 1
}

spawn() { "$@" & local p=$!; echo "$p" >> "$LOGDIR/bg.pids"; LAST_BG=$p; }

sha() { sha256sum | cut -d' ' -f1; }
# the column's topic segment: no dots (RabbitMQ turns '.' in topics into '/')
tid() { local c=${1##*/}; echo "${c//./}"; }
# sha of a `sub -F text` output holding one message: the payload plus a newline
sha_text1() { head -c -1 "$1" | sha; }

# python helper: a JSON Lines file -> "topic<TAB>sha256<TAB>retain<TAB>qos" per message
cat > "$LOGDIR/jl.py" <<'EOF'
import sys, json, base64, hashlib
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    try:
        m = json.loads(line)
    except Exception as e:
        print("UNPARSABLE\t%s" % e); continue
    p = m.get("payload", "")
    b = base64.b64decode(p) if m.get("encoding") == "base64" else p.encode("utf-8")
    print("%s\t%s\t%s\t%s" % (m.get("topic"), hashlib.sha256(b).hexdigest(), str(m.get("retain")).lower(), m.get("qos")))
EOF
jl() { python3 "$LOGDIR/jl.py" "$1"; }

TMO=20  # every canopy command runs under this

# one line summary of a failed command for the cell note
why() {  # RC STDERR_FILE
  local rc=$1 tail
  tail=$(grep -v '^$' "$2" 2>/dev/null | tail -2 | tr '\n' ' ' | head -c 220)
  [ "$rc" = 124 ] && echo "killed by timeout ${TMO}s; stderr: $tail" && return
  echo "exit $rc; stderr: $tail"
}

# ---------------------------------------------------------------- checks
# Each check: BROKER VERSION CELLDIR. Topics live under interop/$RUN/<column>/...

# pub/sub round trip of a binary payload at QoS q (raw text output, compared by sha256)
ck_roundtrip() {  # B V D ROW QOS SIZE
  local b=$1 v=$2 d=$3 row=$4 q=$5 size=$6 a t rc prc
  a=$(conn_args "$b" "$v"); t="interop/$RUN/$(tid "$d")/$row"
  head -c "$size" /dev/urandom > "$d/$row.payload"
  spawn timeout $TMO "$CANOPY" sub $a -d -t "$t" -q "$q" -C 1 -W $((TMO - 2)) -o "$d/$row.out" 2> "$d/$row.sub.err"
  local sp=$LAST_BG
  if ! wait_for "$d/$row.sub.err" 'subscribed to' 15; then
    wait "$sp"; rc=$?
    result "$row" FAIL "sub did not subscribe: $(why $rc "$d/$row.sub.err")" "$d/$row.sub.err"; return
  fi
  timeout $TMO "$CANOPY" pub $a -t "$t" -q "$q" -f "$d/$row.payload" > "$d/$row.pub.out" 2> "$d/$row.pub.err"; prc=$?
  wait "$sp"; rc=$?
  if [ $prc != 0 ]; then
    result "$row" FAIL "pub -q $q: $(why $prc "$d/$row.pub.err")" "$d/$row.pub.err"; return
  fi
  if [ $rc != 0 ]; then
    result "$row" FAIL "sub -q $q -C 1: $(why $rc "$d/$row.sub.err")" "$d/$row.sub.err"; return
  fi
  if [ "$(sha_text1 "$d/$row.out")" != "$(sha < "$d/$row.payload")" ]; then
    result "$row" FAIL "payload differs: sent $size bytes, received $(($(stat -c %s "$d/$row.out") - 1)) bytes (sha256 mismatch)" "$d/$row.out"; return
  fi
  result "$row" PASS ""
}

# retained message reaches a subscriber that comes later
ck_retained() {
  local b=$1 v=$2 d=$3 row=retained a t rc
  a=$(conn_args "$b" "$v"); t="interop/$RUN/$(tid "$d")/retained"
  head -c 300 /dev/urandom > "$d/$row.payload"
  timeout $TMO "$CANOPY" pub $a -t "$t" -q 1 -r -f "$d/$row.payload" 2> "$d/$row.pub.err"; rc=$?
  [ $rc = 0 ] || { result $row FAIL "pub -r: $(why $rc "$d/$row.pub.err")" "$d/$row.pub.err"; return; }
  timeout $TMO "$CANOPY" sub $a -t "$t" -q 1 -C 1 -W 8 -F jsonl -o "$d/$row.out" 2> "$d/$row.sub.err"; rc=$?
  timeout $TMO "$CANOPY" pub $a -t "$t" -q 1 -r -n 2>> "$d/$row.pub.err"  # clean up
  [ $rc = 0 ] || { result $row FAIL "late sub: $(why $rc "$d/$row.sub.err")" "$d/$row.sub.err"; return; }
  local got; got=$(jl "$d/$row.out")
  local want; want="$t	$(sha < "$d/$row.payload")	true"
  case $got in "$want"*) result $row PASS "" ;;
    *) result $row FAIL "late subscriber got [${got:0:120}], wanted the retained payload with retain=true" "$d/$row.out" ;;
  esac
}

# clear-retained under a prefix deletes only there (an observer on the parent keeps a subscription
# open meanwhile: amqtt then pushes the other retained messages to every connecting client)
ck_clear() {
  local b=$1 v=$2 d=$3 row=clear a base rc x
  a=$(conn_args "$b" "$v"); base="interop/$RUN/$(tid "$d")/c"
  for x in mine/a mine/b other/secret; do
    timeout $TMO "$CANOPY" pub $a -t "$base/$x" -q 1 -r -m "kept:$x" 2>> "$d/$row.seed.err" \
      || { result $row FAIL "seeding $base/$x: $(why $? "$d/$row.seed.err")" "$d/$row.seed.err"; return; }
  done
  spawn timeout $TMO "$CANOPY" sub $a -d -v -t "$base/#" -q 1 -W 12 -o "$d/$row.observer.out" 2> "$d/$row.observer.err"
  local op=$LAST_BG
  wait_for "$d/$row.observer.err" 'subscribed to' 15
  timeout $TMO "$CANOPY" clear-retained $a -t "$base/mine/#" -v > "$d/$row.out" 2> "$d/$row.err"; rc=$?
  kill "$op" 2>/dev/null; wait "$op" 2>/dev/null
  # what is retained now, asked topic by topic (exact subscriptions work on every broker)
  timeout $TMO "$CANOPY" sub $a -t "$base/mine/a" -t "$base/mine/b" -t "$base/other/secret" -q 1 -W 3 \
    -F jsonl -o "$d/$row.after.out" 2> "$d/$row.after.err"
  local left; left=$(jl "$d/$row.after.out" | awk -F'\t' '$3=="true"{print $1}' | sed "s|^$base/||" | sort -u | tr '\n' ' ')
  for x in mine/a mine/b other/secret; do timeout $TMO "$CANOPY" pub $a -t "$base/$x" -q 1 -r -n 2>/dev/null; done
  local deleted_other=0 kept_mine=0
  case " $left " in *" other/secret "*) ;; *) deleted_other=1 ;; esac
  case " $left " in *" mine/"*) kept_mine=1 ;; esac
  if [ $deleted_other = 1 ]; then
    result $row FAIL "clear-retained -t '$base/mine/#' (exit $rc) deleted $base/other/secret, outside its filter (it printed: $(tr '\n' ' ' < "$d/$row.out" | head -c 200); still retained: [${left}])" "$d/$row.err"
  elif [ $rc != 0 ]; then
    result $row FAIL "clear-retained: $(why $rc "$d/$row.err")" "$d/$row.err"
  elif [ $kept_mine = 1 ]; then
    result $row FAIL "mine/# not cleared; still retained: [${left}]; clear-retained said: $(tail -1 "$d/$row.err")" "$d/$row.err"
  else
    result $row PASS ""
  fi
}

# sub never prints a topic outside its filters (another client holds a wider subscription while
# unrelated retained messages exist: amqtt pushes those to every connecting client)
ck_filter() {
  local b=$1 v=$2 d=$3 row=filter a base rc
  a=$(conn_args "$b" "$v"); base="interop/$RUN/$(tid "$d")/f"
  timeout $TMO "$CANOPY" pub $a -t "$base/other" -q 1 -r -m leak 2> "$d/$row.seed.err"
  spawn timeout $TMO "$CANOPY" sub $a -d -t "$base/#" -q 1 -W 10 -o /dev/null 2> "$d/$row.wide.err"
  local wp=$LAST_BG
  wait_for "$d/$row.wide.err" 'subscribed to' 15
  spawn timeout $TMO "$CANOPY" sub $a -d -v -t "$base/mine" -q 1 -C 1 -W 10 -F jsonl -o "$d/$row.out" 2> "$d/$row.err"
  local sp=$LAST_BG
  wait_for "$d/$row.err" 'subscribed to|timed out|exit' 15
  timeout $TMO "$CANOPY" pub $a -t "$base/mine" -q 1 -m mine 2>> "$d/$row.seed.err"
  wait "$sp"; rc=$?
  kill "$wp" 2>/dev/null; wait "$wp" 2>/dev/null
  timeout $TMO "$CANOPY" pub $a -t "$base/other" -q 1 -r -n 2>/dev/null
  local topics; topics=$(jl "$d/$row.out" | cut -f1 | sort -u | tr '\n' ' ')
  if [ -n "$topics" ] && [ "$topics" != "$base/mine " ]; then
    result $row FAIL "sub -t '$base/mine' printed a message of [${topics}] (outside its filter)" "$d/$row.out"
  elif [ $rc != 0 ]; then
    result $row FAIL "sub: $(why $rc "$d/$row.err")" "$d/$row.err"
  else
    result $row PASS ""
  fi
}

# topics arrive intact (rumqttd's MQTT 5 listener sends topic aliases and reuses them)
ck_alias() {
  local b=$1 v=$2 d=$3 row=alias a base rc i tp
  a=$(conn_args "$b" "$v"); base="interop/$RUN/$(tid "$d")/al"
  spawn timeout $TMO "$CANOPY" sub $a -d -t "$base/#" -q 1 -C 4 -W 15 -F jsonl -o "$d/$row.out" 2> "$d/$row.err"
  local sp=$LAST_BG
  wait_for "$d/$row.err" 'subscribed to' 15 || { wait "$sp"; result $row FAIL "sub: $(why $? "$d/$row.err")" "$d/$row.err"; return; }
  : > "$d/$row.want"
  for i in 1 2 3 4; do
    tp=$base/x; [ $((i % 2)) = 0 ] && tp=$base/y/z
    timeout $TMO "$CANOPY" pub $a -t "$tp" -q 1 -m "m$i" 2>> "$d/$row.pub.err"
    printf '%s\t%s\n' "$tp" "$(printf 'm%s' $i | sha)" >> "$d/$row.want"
  done
  wait "$sp"; rc=$?
  jl "$d/$row.out" | cut -f1,2 > "$d/$row.got"
  if cmp -s "$d/$row.got" "$d/$row.want"; then result $row PASS ""
  else
    result $row FAIL "4 messages on 2 topics: got topics [$(cut -f1 "$d/$row.got" | sed "s|^$base/||" | tr '\n' ' ')] want [x y/z x y/z]; sub $(why $rc "$d/$row.err")" "$d/$row.out"
  fi
}

# record from this column's broker, replay to another broker, subscribe there and compare
ck_replay() {  # B V D TB TV
  local b=$1 v=$2 d=$3 tb=$4 tv=$5 row=replay a ta base rc
  a=$(conn_args "$b" "$v"); ta=$(conn_args "$tb" "$tv"); base="interop/$RUN/$(tid "$d")/rr"
  head -c 2000 /dev/urandom > "$d/$row.bin"
  spawn timeout $TMO "$CANOPY" record $a -t "$base/#" -q 1 -C 3 -D 15 -o "$d/$row.jsonl" 2> "$d/$row.record.err"
  local rp=$LAST_BG
  wait_for "$d/$row.record.err" 'subscribed to' 15 || { wait "$rp"; result $row FAIL "record: $(why $? "$d/$row.record.err")" "$d/$row.record.err"; return; }
  timeout $TMO "$CANOPY" pub $a -t "$base/text" -q 1 -m "hello interop" 2>> "$d/$row.pub.err"
  timeout $TMO "$CANOPY" pub $a -t "$base/bin" -q 1 -f "$d/$row.bin" 2>> "$d/$row.pub.err"
  timeout $TMO "$CANOPY" pub $a -t "$base/deep/er" -q 1 -m '{"n":1}' 2>> "$d/$row.pub.err"
  wait "$rp"; rc=$?
  local nrec; nrec=$(jl "$d/$row.jsonl" 2>/dev/null | wc -l)
  if [ $rc != 0 ] || [ "$nrec" != 3 ]; then
    result $row FAIL "record -C 3 got $nrec messages; $(why $rc "$d/$row.record.err")" "$d/$row.record.err"; return
  fi
  local pre="replayed/$RUN/$(tid "$d")"
  spawn timeout $TMO "$CANOPY" sub $ta -d -t "$pre/#" -q 1 -C 3 -W 15 -F jsonl -o "$d/$row.out" 2> "$d/$row.sub.err"
  local sp=$LAST_BG
  wait_for "$d/$row.sub.err" 'subscribed to' 15 || { wait "$sp"; result $row FAIL "sub on $tb/$tv: $(why $? "$d/$row.sub.err")" "$d/$row.sub.err"; return; }
  timeout $TMO "$CANOPY" replay $ta -s max --prefix "$pre" "$d/$row.jsonl" > /dev/null 2> "$d/$row.replay.err"; local prc=$?
  wait "$sp"; rc=$?
  jl "$d/$row.jsonl" | awk -F'\t' -v p="$pre/" '{print p $1 "\t" $2}' | sort > "$d/$row.want"
  jl "$d/$row.out" | cut -f1,2 | sort > "$d/$row.got"
  if [ $prc != 0 ]; then result $row FAIL "replay to $tb/$tv: $(why $prc "$d/$row.replay.err")" "$d/$row.replay.err"
  elif cmp -s "$d/$row.got" "$d/$row.want"; then result $row PASS ""
  else result $row FAIL "replayed on $tb/$tv: received [$(cut -f1 "$d/$row.got" | sed "s|^$pre/||" | tr '\n' ' ')], want [$(cut -f1 "$d/$row.want" | sed "s|^$pre/||" | tr '\n' ' ')] (sha256 compared: $(comm -12 "$d/$row.got" "$d/$row.want" | wc -l) of 3 intact); sub $(why $rc "$d/$row.sub.err")" "$d/$row.out"
  fi
}

# -V auto settles on the broker's best version and says which; -V of a version the broker does not
# speak fails with a connection error (exit 3) within the timeout, not a hang (the time is noted)
ck_auto() {
  local b=$1 v=$2 d=$3 a rc exp
  a=$(conn_args "$b" "$v"); exp=$(auto_expect "$b")
  local t0=$(date +%s%N)
  timeout $TMO "$CANOPY" sub $a -d -t "interop/$RUN/v" -W 0.1 -o /dev/null 2> "$d/negotiate.err"; rc=$?
  AUTO_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [ $rc != 0 ] && [ $rc != 6 ]; then
    result negotiate FAIL "sub -V auto -d: $(why $rc "$d/negotiate.err")" "$d/negotiate.err"
  else
    # the version it names: "MQTT 5", "MQTT 3.1.1", "v5", "mqttv311", "(p5)", ...
    local named
    named=$(grep -oiE 'mqtt[ -]?v?(5(\.0)?|3\.1\.1|3\.1|311|31)\b|\bv(5|3\.1\.1|311|3\.1)\b|protocol (version|level) [0-9.]+' "$d/negotiate.err" | head -1)
    local norm; norm=$(echo "$named" | tr 'A-Z' 'a-z' | grep -oE '5|3\.1\.1|311|3\.1|31|level [345]' | head -1)
    case $norm in 311|"level 4") norm=3.1.1 ;; 31|"level 3") norm=3.1 ;; "level 5"|5.0) norm=5 ;; esac
    if [ -z "$named" ]; then
      result negotiate FAIL "connected, but stderr of -d does not name the MQTT version: $(head -c 160 "$d/negotiate.err" | tr '\n' ' ')" "$d/negotiate.err"
    elif [ "$norm" != "$exp" ]; then
      result negotiate FAIL "settled on '$named', expected $exp" "$d/negotiate.err"
    else
      result negotiate PASS "$(grep -m1 'connected to' "$d/negotiate.err" | sed 's/.*with //') in ${AUTO_MS} ms"
    fi
  fi
  local x port bad="" notes=""
  local unsup; unsup=$(unsupported_of "$b")
  if [ -z "$unsup" ]; then result refuse n/a "speaks every version"; return; fi
  for x in $unsup; do
    local t0=$SECONDS
    timeout $TMO "$CANOPY" sub -h 127.0.0.1 -p "${PORT[$b]}" -V "$x" -t "interop/$RUN/v" -W 1 -o /dev/null 2> "$d/refuse-$x.err"; rc=$?
    local dt=$((SECONDS - t0))
    if [ $rc = 2 ] && grep -qiE "unknown mqtt version|invalid value" "$d/refuse-$x.err"; then
      bad="$bad -V $x: flag not supported by this binary ($(head -1 "$d/refuse-$x.err" | head -c 100));"
    elif [ $rc != 3 ]; then
      bad="$bad -V $x: $(why $rc "$d/refuse-$x.err") after ${dt}s (want exit 3, connection refused);"
    else
      notes="$notes -V $x: exit 3 in ${dt}s: $(grep -v '^$' "$d/refuse-$x.err" | tail -1 | head -c 120);"
    fi
  done
  if [ -n "$bad" ]; then result refuse FAIL "$bad" "$d/refuse-$x.err"
  else result refuse PASS "$notes"; fi
}

# the subscriber survives a broker restart (sub --retry), then receives
ck_restart() {
  local b=$1 v=$2 d=$3 row=restart a t rc pid
  a=$(conn_args "$b" "$v"); t="interop/$RUN/$(tid "$d")/restart"
  spawn timeout 75 "$CANOPY" sub $a --retry -d -t "$t" -q 1 -C 1 -W 70 -o "$d/$row.out" 2> "$d/$row.err"
  local sp=$LAST_BG
  wait_for "$d/$row.err" 'subscribed to' 15 || { wait "$sp"; result $row FAIL "sub: $(why $? "$d/$row.err")" "$d/$row.err"; return; }
  pid=$(cat "$LOGDIR/$b.pid"); kill "$pid"
  local n=150 P=${PORT[$b]}  # until its ports are closed (the process may linger as a zombie)
  while { port_open "$P" || port_open $((P + 1)) || port_open $((P + 2)); } && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  if ! wait_for "$d/$row.err" 'lost|reconnect' 15; then
    kill "$sp"; wait "$sp"; result $row FAIL "sub did not notice the broker stopping; stderr: $(tail -2 "$d/$row.err" | tr '\n' ' ')" "$d/$row.err"
    start_broker "$b"; return
  fi
  start_broker "$b" || { kill "$sp"; result $row FAIL "broker did not restart: $(cat "$LOGDIR/$b.start.err")" "$LOGDIR/$b.start.err"; return; }
  if ! wait_for "$d/$row.err" 'subscribed to' 60 2; then
    kill "$sp"; wait "$sp"
    result $row FAIL "no re-subscription within 60 s of the restart; stderr: $(grep -v '^$' "$d/$row.err" | tail -2 | tr '\n' ' ' | head -c 200)" "$d/$row.err"; return
  fi
  echo restart-payload > "$d/$row.payload"
  timeout $TMO "$CANOPY" pub $a -t "$t" -q 1 -f "$d/$row.payload" 2> "$d/$row.pub.err"
  wait "$sp"; rc=$?
  if [ $rc = 0 ] && [ "$(sha_text1 "$d/$row.out")" = "$(sha < "$d/$row.payload")" ]; then result $row PASS ""
  else result $row FAIL "after the restart: $(why $rc "$d/$row.err")" "$d/$row.err"; fi
}

ROWS_MAIN="qos0 qos1 qos2 1mib retained clear filter alias replay negotiate refuse"
ROWS_ALL="$ROWS_MAIN restart"
declare -A ROW_TITLE=(
  [qos0]="pub/sub QoS 0, binary" [qos1]="pub/sub QoS 1, binary" [qos2]="pub/sub QoS 2, binary"
  [1mib]="pub/sub 1 MiB" [retained]="retained -> late subscriber"
  [clear]="clear-retained: prefix only" [filter]="sub: own filter's topics only"
  [alias]="topics intact (topic aliases)" [replay]="record here -> replay elsewhere"
  [negotiate]="-V auto connects, names version" [refuse]="-V unsupported: clean exit 3"
  [restart]="broker restart, sub --retry"
)

# Does this binary accept -V VERSION? (exit 2 with a parse error = no)
flag_ok() {
  local v=$1 out rc
  out=$(timeout 10 "$CANOPY" sub -h 127.0.0.1 -p 9 -V "$v" -t x -W 0.5 2>&1); rc=$?
  if [ $rc = 2 ] && echo "$out" | grep -qiE "invalid value|unknown|unexpected|error:"; then
    echo "$out" | grep -iE "invalid value|unknown|error" | head -1 | head -c 150; return 1
  fi
  return 0
}
declare -A FLAG_ERR
for v in 5 3.1.1 3.1 auto; do
  if e=$(flag_ok "$v"); then :; else FLAG_ERR[$v]="this canopy does not accept -V $v (${e})"; fi
done

# the column to replay a recording into: the next broker's first column (or the same broker)
replay_target() {
  local b=$1 i n=${#BROKERS[@]}
  for i in "${!BROKERS[@]}"; do
    if [ "${BROKERS[$i]}" = "$b" ]; then
      local tb=${BROKERS[$(( (i + 1) % n ))]}
      local tv; for tv in 3.1.1 $(versions_of "$tb"); do [ -z "${FLAG_ERR[$tv]:-}" ] && break; done
      echo "$tb $tv"; return
    fi
  done
}

run_column() {  # B V
  local b=$1 v=$2 d="$LOGDIR/${1}_${2}" row
  mkdir -p "$d"
  CELL="$RES/${b}_${v}"; mkdir -p "$CELL"
  if [ -n "${FLAG_ERR[$v]:-}" ]; then
    for row in $ROWS_ALL; do
      case $row in
        negotiate|refuse) [ "$v" = auto ] || { result $row n/a ""; continue; } ;;
      esac
      [ "$row" = restart ] && [ $quick = 1 ] && { result $row skip "--quick"; continue; }
      [ "$row" = 1mib ] && [ $quick = 1 ] && { result $row skip "--quick"; continue; }
      result $row FAIL "${FLAG_ERR[$v]}" ""
    done
    return
  fi
  if [ "$v" = auto ]; then
    ck_auto "$b" "$v" "$d"
    if [ "${AUTO_MS:-0}" -gt 5000 ]; then
      # every connection pays the negotiation: one round trip (with more time), not the whole column
      TMO=45 ck_roundtrip "$b" "$v" "$d" qos1 1 4096
      local slow="not run: -V auto needs $((AUTO_MS / 1000)) s per connection here ($(grep -m1 -o '(the broker[^)]*)' "$d/negotiate.err" | tr -d '()')); the pinned-version column covers it"
      for row in qos0 qos2 1mib retained clear filter alias replay; do result $row limit "$slow"; done
      return
    fi
  fi
  ck_roundtrip "$b" "$v" "$d" qos0 0 4096
  ck_roundtrip "$b" "$v" "$d" qos1 1 4096
  ck_roundtrip "$b" "$v" "$d" qos2 2 4096
  if [ $quick = 1 ]; then result 1mib skip "--quick"
  else ck_roundtrip "$b" "$v" "$d" 1mib 1 1048576; fi
  for row in retained clear filter alias; do
    "ck_$row" "$b" "$v" "$d"
  done
  local tgt; tgt=$(replay_target "$b")
  ck_replay "$b" "$v" "$d" $tgt
  [ "$v" = auto ] || { result negotiate n/a ""; result refuse n/a ""; }
}

run_broker() {  # B: every column, one after the other
  local b=$1 v
  for v in $(versions_of "$b"); do run_column "$b" "$v"; done
}

t_checks=$SECONDS
if [ $serial = 1 ]; then
  for b in "${BROKERS[@]}"; do run_broker "$b"; done
else
  for b in "${BROKERS[@]}"; do run_broker "$b" > "$LOGDIR/$b.run.log" 2>&1 & done
  wait
fi
# broker restarts last (they would disturb the cross-broker replays); one column per broker
for b in "${BROKERS[@]}"; do
  for v in $(versions_of "$b"); do
    CELL="$RES/${b}_${v}"
    if [ $quick = 1 ]; then result restart skip "--quick"
    elif [ -n "${FLAG_ERR[$v]:-}" ]; then result restart FAIL "${FLAG_ERR[$v]}"
    fi
  done
done
if [ $quick = 0 ]; then
  for b in "${BROKERS[@]}"; do
    (
      first=""
      for v in $(versions_of "$b"); do
        [ -n "${FLAG_ERR[$v]:-}" ] && continue
        CELL="$RES/${b}_${v}"
        if [ -z "$first" ]; then
          first=$v; ck_restart "$b" "$v" "$LOGDIR/${b}_${v}"
        else
          result restart n/a "run once per broker (column $b/$first)"
        fi
      done
    ) > "$LOGDIR/$b.restart.log" 2>&1 &
  done
  wait
fi

# ---------------------------------------------------------------- limits and matrix
# A failing cell becomes "limit" when brokers.sh documents the broker behaviour behind it.
limit_note() {  # B V ROW REASON -> note, or nothing
  local b=$1 v=$2 row=$3 reason=$4
  case $b/$row in
    rabbitmq/qos2) echo "RabbitMQ does not support QoS 2 (downgraded to 1; a QoS 2 PUBLISH is answered with PUBACK)" ;;
    rabbitmq/clear)
      case $reason in *"outside its filter"*) ;; *) echo "RabbitMQ delivers retained messages only to exact-topic subscriptions, so clear-retained's wildcard finds none" ;; esac ;;
    amqtt/qos0) echo "amqtt may lose a QoS 0 message of a connect-publish-disconnect client" ;;
  esac
}

for cell in "$RES"/*/; do
  col=$(basename "$cell"); b=${col%%_*}; v=${col#*_}
  for f in "$cell"*; do
    [ -f "$f" ] || continue
    IFS='|' read -r st reason log < "$f"
    if [ "$st" = FAIL ] && [[ $reason != "this canopy does not accept"* ]]; then
      n=$(limit_note "$b" "$v" "$(basename "$f")" "$reason")
      [ -n "$n" ] && printf 'limit|%s (%s)|%s\n' "$n" "$reason" "$log" > "$f"
    fi
  done
done

cols=()
for b in "${BROKERS[@]}"; do for v in $(versions_of "$b"); do cols+=("${b}_${v}"); done; done
for d in "$RES"/*_start; do [ -d "$d" ] && cols+=("$(basename "$d")"); done
fails=0 limits=0
{
  short() { case $1 in mosquitto) echo mosq ;; rabbitmq) echo rabbit ;; *) echo "$1" ;; esac; }
  printf '%-33s' "check \\ broker"
  for c in "${cols[@]}"; do printf ' %-7s' "$(short "${c%%_*}")"; done; printf '\n%-33s' "        \\ MQTT version"
  for c in "${cols[@]}"; do printf ' %-7s' "${c#*_}"; done; echo
  rows=$ROWS_ALL
  [ -n "$(ls -d "$RES"/*_start 2>/dev/null)" ] && rows="start $rows"
  for row in $rows; do
    printf '%-33s' "${ROW_TITLE[$row]:-$row}"
    for c in "${cols[@]}"; do
      st=n/a; [ -f "$RES/$c/$row" ] && IFS='|' read -r st _ _ < "$RES/$c/$row"
      printf ' %-7s' "$st"
    done
    echo
  done
} | tee "$LOGDIR/matrix.txt"
fails=$(grep -rl '^FAIL|' "$RES" | wc -l)
limits=$(grep -rl '^limit|' "$RES" | wc -l)

echo
echo "Legend: PASS ok | FAIL canopy misbehaved (details below) | limit a documented broker limitation | n/a not applicable | skip --quick"
echo "Columns: the versions each broker speaks (brokers.sh header) plus auto; rumqttd/5 is its MQTT 5 listener (PORT+2),"
echo "  every other column is the broker's main port. Not columns: aedes/RabbitMQ/amqtt without MQTT 5, amqtt/rumqttd without"
echo "  3.1 (checked by '-V unsupported'), no \$SYS on rumqttd/RabbitMQ (not checked), amqtt pushes unasked retained messages"
echo "  (that is what 'only own filter' and 'clear-retained' guard against), rumqttd reuses topic aliases on MQTT 5."
[ -n "$skipped" ] && echo "Not installed (run with --setup):$skipped"
list_cells() {  # STATUS: "broker/version check: reason" (+ the log) per such cell; a column whose
  # cells all fail for one reason (a -V flag this binary lacks) is listed once
  local c f st reason log n first
  for c in "${cols[@]}"; do
    n=$(grep -l "^$1|" "$RES/$c"/* 2>/dev/null | wc -l); [ "$n" = 0 ] && continue
    first=$(grep -h "^$1|" "$RES/$c"/* | head -1 | cut -d'|' -f2)
    if [ "$n" -gt 2 ] && [ "$(grep -h "^$1|" "$RES/$c"/* | cut -d'|' -f2 | sort -u | wc -l)" = 1 ]; then
      echo "  ${c%%_*}/${c#*_} (all $n checks): $first"; continue
    fi
    for f in "$RES/$c"/*; do
      IFS='|' read -r st reason log < "$f"
      [ "$st" = "$1" ] || continue
      echo "  ${c%%_*}/${c#*_} $(basename "$f"): $reason"
      [ "$1" = FAIL ] && echo "      log: ${log:-(none)}"
    done
  done
}
if [ "$limits" -gt 0 ]; then echo; echo "Broker limits hit ($limits):"; list_cells limit; fi
if [ "$fails" -gt 0 ]; then echo; echo "Failures ($fails):"; list_cells FAIL; fi
echo
if [ "$fails" -gt 0 ] || [ $keep = 1 ]; then
  echo "interop.sh: $((SECONDS - t_start)) s (checks $((SECONDS - t_checks)) s); logs in $LOGDIR"
  [ "$fails" -gt 0 ] && exit 1
  exit 0
fi
echo "interop.sh: $((SECONDS - t_start)) s (checks $((SECONDS - t_checks)) s); no failures, logs removed (--keep keeps them)"
rm -rf "$LOGDIR"
exit 0
