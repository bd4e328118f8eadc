#!/usr/bin/env bash
# Drives the real Canopy window from outside its process, through the OS accessibility bus
# (AT-SPI), the way a screen reader or users' own UI automation would: starts the binary in
# Xvfb inside a private D-Bus session with the accessibility bus enabled, then runs
# scripts/a11y/drive.py against it (connect to the Local sandbox, read topic rows back, copy a
# topic to the system clipboard and read it with xclip).
# Usage: scripts/a11y/run.sh [PATH_TO_CANOPY [DRIVER.py [ARGS...]]]
#   default binary target/release/canopy, default driver scripts/a11y/drive.py;
#   A11Y_PROFILES=FILE starts the window with that profiles file.
# Needs: xvfb xauth dbus-x11 at-spi2-core python3-gi gir1.2-atspi-2.0 libglib2.0-bin xclip
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-target/release/canopy}")
DRIVER=$(realpath "${2:-scripts/a11y/drive.py}")
shift $(( $# < 2 ? $# : 2 ))
[ -x "$BIN" ] || { echo "a11y: no binary at $BIN (cargo build --release)" >&2; exit 2; }
for tool in Xvfb dbus-run-session gdbus xclip /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "a11y: needs $tool" >&2; exit 2; }
done
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
# Services started by the session bus inherit these, so nothing touches the real home.
export HOME="$SCRATCH/home" XDG_CONFIG_HOME="$SCRATCH/config" XDG_DATA_HOME="$SCRATCH/data" \
    XDG_CACHE_HOME="$SCRATCH/cache" XDG_RUNTIME_DIR="$SCRATCH/run" CANOPY_BIN="$BIN" \
    CANOPY_A11Y_DIR="$(pwd)/scripts/a11y" A11Y_DRIVER="$DRIVER"
mkdir -p "$HOME" "$XDG_CONFIG_HOME/canopy" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
if [ -n "${A11Y_PROFILES:-}" ]; then cp "$A11Y_PROFILES" "$XDG_CONFIG_HOME/canopy/profiles.toml"; fi
chmod 700 "$XDG_RUNTIME_DIR"
exec dbus-run-session -- bash "$CANOPY_A11Y_DIR/inner.sh" "$@"
