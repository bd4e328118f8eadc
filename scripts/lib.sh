# Shared by the measuring scripts (bench.sh, slow_consumer.sh, qos_throughput.sh, cpu.sh):
# each measures Canopy against a private mosquitto on a free loopback port, so the set-up
# lives here once. Source it after `cd` to the repository root.

# Exits with a hint naming what to install when a tool is missing.
need() { # TOOL...
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            echo "$(basename "$0") needs $tool (apt-get install mosquitto mosquitto-clients python3)" >&2
            exit 2
        }
    done
}

# Sets WORK (a temporary folder removed on exit), PORT, BROKER (its pid) and CONN (the
# mosquitto clients' arguments), starts mosquitto with the given extra configuration lines
# and waits until it accepts connections. The broker is killed on exit.
start_mosquitto() { # [CONFIG_LINE...]
    WORK=$(mktemp -d)
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    {
        printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT"
        printf '%s\n' "$@"
    } > "$WORK/mosquitto.conf"
    mosquitto -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 &
    BROKER=$!
    trap 'kill $BROKER 2>/dev/null; rm -rf "$WORK"' EXIT
    local _
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.05
    done
    CONN=(-h 127.0.0.1 -p "$PORT")
}

# Sets CANOPY to the release binary, building it unless CANOPY is already set (to try a
# script with another binary; say which in a report).
release_canopy() {
    if [ -z "${CANOPY:-}" ]; then
        cargo build --release --quiet
        CANOPY=${CARGO_TARGET_DIR:-target}/release/canopy
    fi
}
