#!/bin/bash
# brokers.sh - start several different MQTT broker implementations on loopback, for client interop tests.
# (Canopy's copy of the team's shared tools/brokers.sh, so that CI has it; scripts/interop.sh drives it.)
#
#   brokers.sh setup                  install everything under $BROKERS_ROOT (default /tmp/brokers);
#                                     idempotent; first run ~4 min (mostly compiling rumqttd from crates.io)
#   brokers.sh start NAME PORT DIR    NAME = mosquitto | aedes | amqtt | rumqttd | rabbitmq
#                                     writes NAME's config + NAME.log into DIR, starts it in the background,
#                                     waits (20 s; rabbitmq 60 s; or $BROKERS_TIMEOUT) until its ports accept
#                                     connections, then prints its PID on stdout (errors: stderr, exit 1)
#   brokers.sh check PORT [VERSION]   smoke test with mosquitto clients (VERSION mqttv311 | mqttv5 | mqttv31)
#
# Ports (all on 127.0.0.1): PORT = MQTT over TCP, PORT+1 = MQTT over WebSocket (path /mqtt; rabbitmq: /ws).
#   rumqttd: PORT speaks only 3.1.1 (v4); its MQTT 5 listener is PORT+2 (one router: v4 and v5 clients see each other).
#   rabbitmq: PORT+2 is its Erlang distribution port; it also starts Erlang's shared epmd daemon (127.0.0.1:4369),
#   which stays after the broker stops (end it by its PID if you must: pgrep -x epmd).
# Stop a broker with: kill PID   (SIGTERM; all stop within ~1 s).
# What each supports (checked with mosquitto 2.0.11 clients and paho-mqtt):
#   mosquitto 2.0.11  3.1/3.1.1/5, retained, QoS 0-2, $SYS, WS
#   aedes 1.2.0       3.1/3.1.1 only (v5 CONNECT: v3 CONNACK rc=1), retained, QoS 0-2, WS; $SYS: only events
#                     ($SYS/aedes/new/clients...); retained msgs on $-topics reach '#' subscribers (so its
#                     retained $SYS stats are off here)
#   amqtt 0.12.1      3.1.1 only (v5: CONNACK rc=1; 3.1: closed), retained, QoS 0-2, $SYS, WS. Bugs: at CONNECT it
#                     pushes every retained msg matching ANY client's subscription (unasked, QoS 0, dupes), and then
#                     a connect-publish(QoS 0)-disconnect client's message can be lost; anonymous clients get no
#                     persistent session (no offline queue)
#   rumqttd 0.20.0    3.1.1 on PORT, 5 on PORT+2, WS is 3.1.1 only; retained, QoS 0-2; no $SYS, no 3.1;
#                     v5 ignores no-local, retain-as-published and retain-handling
#                     v5: to a client that allows topic aliases it sends alias 1 for the first topic, then alias 1
#                     WITHOUT a topic for other topics too (the client cannot tell them apart; none sent if max is 0)
#   rabbitmq 3.10.8   3.1/3.1.1 only (v5 CONNECT: socket closed); QoS 2 unsupported (downgraded to 1, a QoS 2
#                     PUBLISH is answered with PUBACK); retained ok; no $SYS; WS at /ws; ~7-13 s to start
set -u
ROOT=${BROKERS_ROOT:-/tmp/brokers}

setup() {
  mkdir -p "$ROOT" || exit 1
  # Debian packages. (On these machines /usr/sbin/policy-rc.d stops apt from auto-starting rabbitmq.)
  local need=""
  command -v mosquitto >/dev/null || need="$need mosquitto"
  command -v mosquitto_pub >/dev/null || need="$need mosquitto-clients"
  command -v npm >/dev/null || need="$need nodejs npm"
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need="$need rabbitmq-server"
  if [ -n "$need" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need || exit 1
  fi
  # aedes (Node.js) via its CLI package
  if [ ! -x "$ROOT/aedes/node_modules/.bin/aedes" ]; then
    mkdir -p "$ROOT/aedes"
    [ -f "$ROOT/aedes/package.json" ] || echo '{"name":"brokers-aedes","private":true}' > "$ROOT/aedes/package.json"
    (cd "$ROOT/aedes" && npm install --no-audit --no-fund --loglevel=error aedes-cli@1.0.2) || exit 1
  fi
  # amqtt (Python) in its own venv
  if [ ! -x "$ROOT/venv/bin/amqtt" ]; then
    python3 -m venv "$ROOT/venv" && "$ROOT/venv/bin/pip" install -q amqtt==0.12.1 || exit 1
  fi
  # rumqttd (Rust, needs cargo). Not --locked: its lockfile pins metrics 0.22.1, which newer rustc rejects (E0521).
  if [ ! -x "$ROOT/rumqttd/bin/rumqttd" ]; then
    cargo install rumqttd --version 0.20.0 --root "$ROOT/rumqttd" || exit 1
  fi
  echo "brokers.sh: setup done in $ROOT" >&2
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local name=$1 port=$2 dir=$3 ws=$(($2 + 1)) p3=$(($2 + 2))
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || exit 1
  local ports="$port $ws" cmd=()
  case $name in
    mosquitto)
      cat > "$dir/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence false
listener $port 127.0.0.1
listener $ws 127.0.0.1
protocol websockets
# without this the websockets listener ignores 127.0.0.1 and binds all interfaces
socket_domain ipv4
EOF
      cmd=(mosquitto -c "$dir/mosquitto.conf") ;;
    aedes)
      cat > "$dir/aedes.config.js" <<EOF
// aedes-cli config; set stats: true for \$SYS/aedes/... statistics
module.exports = { protos: ['tcp', 'ws'], host: '127.0.0.1', port: $port, wsPort: $ws,
  brokerId: 'aedes', stats: false, verbose: true }
EOF
      cmd=("$ROOT/aedes/node_modules/.bin/aedes" --config "$dir/aedes.config.js") ;;
    amqtt)
      cat > "$dir/amqtt.yaml" <<EOF
listeners:
  default:
    type: tcp
    bind: 127.0.0.1:$port
  ws:
    type: ws
    bind: 127.0.0.1:$ws
plugins:
  amqtt.plugins.authentication.AnonymousAuthPlugin:
    allow_anonymous: true   # false: any username accepted, none refused, and persistent sessions work
  amqtt.plugins.sys.broker.BrokerSysPlugin:
    sys_interval: 10
EOF
      cmd=("$ROOT/venv/bin/amqtt" -c "$dir/amqtt.yaml") ;;
    rumqttd)
      ports="$port $ws $p3"
      local conn="connection_timeout_ms = 60000
    max_payload_size = 10485760
    max_inflight_count = 100"
      cat > "$dir/rumqttd.toml" <<EOF
# rumqttd: one listener per protocol. No [console]/[prometheus] sections, so no extra ports.
# (rumqttd's own default max_payload_size is 20480 bytes; raised here to 10 MiB.)
id = 0
[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "v4-1"
listen = "127.0.0.1:$port"
next_connection_delay_ms = 1
    [v4.1.connections]
    $conn
    dynamic_filters = true

[ws.1]
name = "ws-1"
listen = "127.0.0.1:$ws"
next_connection_delay_ms = 1
    [ws.1.connections]
    $conn
    max_client_id_len = 256
    throttle_delay_ms = 0
    max_inflight_size = 1024

[v5.1]
name = "v5-1"
listen = "127.0.0.1:$p3"
next_connection_delay_ms = 1
    [v5.1.connections]
    $conn
EOF
      cmd=("$ROOT/rumqttd/bin/rumqttd" -q -c "$dir/rumqttd.toml") ;;
    rabbitmq)
      cat > "$dir/rabbitmq.conf" <<EOF
listeners.tcp = none
mqtt.listeners.tcp.default = 127.0.0.1:$port
mqtt.allow_anonymous = true
web_mqtt.tcp.ip = 127.0.0.1
web_mqtt.tcp.port = $ws
log.console = false
EOF
      echo '[rabbitmq_mqtt,rabbitmq_web_mqtt].' > "$dir/enabled_plugins"
      # Everything (data, logs, Erlang cookie via HOME) stays in DIR; the real script, not the
      # Debian wrapper in /usr/sbin (that one su's to the rabbitmq user and uses /var/lib/rabbitmq).
      cmd=(env HOME="$dir" RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
           RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/rabbit.pid"
           RABBITMQ_NODENAME="rabbit$port@localhost" RABBITMQ_DIST_PORT="$p3" ERL_EPMD_ADDRESS=127.0.0.1
           RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
           /usr/lib/rabbitmq/bin/rabbitmq-server) ;;
    *) echo "brokers.sh: unknown broker '$name' (mosquitto|aedes|amqtt|rumqttd|rabbitmq)" >&2; exit 2 ;;
  esac
  local p
  for p in $ports; do port_open "$p" && { echo "brokers.sh: 127.0.0.1:$p already in use" >&2; exit 1; }; done
  # exec in a subshell: $! is the broker process itself; its output goes to DIR/NAME.log, not to our stdout
  (cd "$dir" && exec "${cmd[@]}") > "$dir/$name.log" 2>&1 < /dev/null &
  local pid=$!
  # wait for every port; 20 s (rabbitmq: 60 s, it needs 8-13 s idle and more on a busy machine)
  local tmo=${BROKERS_TIMEOUT:-20}; [ "$name" = rabbitmq ] && tmo=${BROKERS_TIMEOUT:-60}
  local deadline=$((SECONDS + tmo))
  for p in $ports; do
    until port_open "$p"; do
      if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
        echo "brokers.sh: $name did not open 127.0.0.1:$p; tail of $dir/$name.log:" >&2
        tail -5 "$dir/$name.log" >&2; kill "$pid" 2>/dev/null; exit 1
      fi
      sleep 0.1
    done
  done
  echo "$pid"
}

# check PORT [VERSION]: '#' subscriber gets a publish, retained msg reaches a later subscriber, QoS 1 and 2 round trips
check() {
  local P=$1 V=${2:-mqttv311} T="brokers-check/$$" w fails=0 q
  w=$(mktemp -d)
  res() { if [ "$2" = 0 ]; then echo "PASS $V $1"; else echo "FAIL $V $1"; fails=$((fails + 1)); fi; }
  # -R: skip retained msgs (left by others, or pushed unasked by amqtt); -T: skip $SYS
  timeout 8 mosquitto_sub -V "$V" -h 127.0.0.1 -p "$P" -t '#' -T '$SYS/#' -R -C 1 -W 6 -F '%t %p' > "$w/1" 2>&1 &
  sleep 0.7; mosquitto_pub -V "$V" -h 127.0.0.1 -p "$P" -t "$T/a" -m hi 2>/dev/null; wait $!
  grep -qx "$T/a hi" "$w/1"; res "sub-#" $?
  mosquitto_pub -V "$V" -h 127.0.0.1 -p "$P" -t "$T/r" -m kept -r -q 1 2>/dev/null; sleep 0.3
  timeout 6 mosquitto_sub -V "$V" -h 127.0.0.1 -p "$P" -t "$T/r" -C 1 -W 4 -F '%r %p' > "$w/2" 2>&1
  grep -qx "1 kept" "$w/2"; res "retained" $?
  mosquitto_pub -V "$V" -h 127.0.0.1 -p "$P" -t "$T/r" -r -n -q 1 2>/dev/null  # clear it (QoS 1: amqtt may drop QoS 0)
  for q in 1 2; do
    timeout 8 mosquitto_sub -V "$V" -h 127.0.0.1 -p "$P" -t "$T/q" -q $q -R -C 1 -W 6 -F '%q %p' > "$w/3" 2>&1 &
    sleep 0.7; timeout 6 mosquitto_pub -V "$V" -h 127.0.0.1 -p "$P" -t "$T/q" -q $q -m m 2>/dev/null; local rc=$?; wait $!
    grep -qx "$q m" "$w/3" && [ $rc = 0 ]; res "qos$q" $?
  done
  rm -rf "$w"; echo "$((4 - fails)) passed, $fails failed"; [ $fails = 0 ]
}

main() {
  case ${1:-} in
    setup) setup ;;
    start) [ $# = 4 ] || { echo "usage: $0 start NAME PORT DIR" >&2; exit 2; }; start "$2" "$3" "$4" ;;
    check) [ $# -ge 2 ] || { echo "usage: $0 check PORT [mqttv311|mqttv5|mqttv31]" >&2; exit 2; }; check "$2" "${3:-}" ;;
    *) sed -n '2,12p' "$0" >&2; exit 2 ;;
  esac
}
main "$@"; exit  # on one line, so that editing this file while it runs cannot break a running copy
