#!/usr/bin/env bash
# Retakes the screenshots of issue 15's features from the release window under Xvfb, driven
# over AT-SPI and the X keyboard (scripts/a11y/shot.py): payload search and the protocol
# timeline on the Local sandbox, a protobuf-decoded topic on a private mosquitto with the
# fixture schema, and the Chinese interface. Look at every PNG before committing it.
# Usage: scripts/screenshots.sh [OUT_DIR]   (default screenshots/)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
OUT=$(realpath "${1:-screenshots}")
need mosquitto python3 xdotool import
release_canopy
CANOPY=$(realpath "$CANOPY")
shot() { scripts/a11y/run.sh "$CANOPY" scripts/a11y/shot.py "$@" 2>&1 | grep -E '^screenshot:|FAIL' ; }

shot "$OUT/search.png" sandbox wait:20 "press:Search" "press:Include history" 'type:Find=$.battery_pct < 40' wait:3

# Protobuf: readings published encoded with the fixture schema, shown decoded.
start_mosquitto
PROTO=$(realpath tests/fixtures/proto)
for line in 1 2 3; do
    for cell in 1 2; do
        "$CANOPY" pub "${CONN[@]}" -r -t "plant/line$line/cell$cell/reading" --proto "$PROTO" \
            --proto-type canopy.plant.Reading -m "{\"sensor\":\"temp-$line$cell\",\"quantity\":{\"value\":$((60 + line * 3 + cell)).5,\"unit\":\"CELSIUS\"},\"location\":{\"line\":\"line$line\",\"cell\":$cell},\"samples\":[61.2,62.0,62.4],\"labels\":{\"vendor\":\"acme\"},\"ok\":\"stable\",\"sequence\":$((1000 + line * 10 + cell))}"
    done
done
cat > "$WORK/profiles.toml" <<TOML
version = 1

[[profiles]]
id = "protobuf-demo"
name = "Plant (protobuf)"
host = "127.0.0.1"
port = $PORT
version = "3.1.1"
subscriptions = [{ filter = "plant/#", qos = 0 }]

[profiles.proto]
path = "$PROTO"
bindings = [{ pattern = "plant/+/+/reading", message_type = "canopy.plant.Reading" }]
TOML
A11Y_PROFILES="$WORK/profiles.toml" shot "$OUT/protobuf.png" "connect:Plant (protobuf)" wait:3 \
    open:plant open:line1 open:cell1 open:reading wait:2

# The protocol timeline of the sandbox connection, a few seconds after it is opened, with the
# PUBLISH rows hidden so the control packets (CONNECT, CONNACK, SUBSCRIBE, SUBACK) show.
shot "$OUT/timeline.png" sandbox "press:Timeline" wait:6 "press:PUBLISH" wait:1

# The Chinese interface (the OS locale says Chinese; no CJK font is installed here, so what
# is drawn comes from the bundled subset).
LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 shot "$OUT/chinese.png" "press:Local sandbox" "press:▶ 连接" wait:8 \
    open:plant open:site-berlin open:line1 open:press open:temperature "press:发布" wait:2
