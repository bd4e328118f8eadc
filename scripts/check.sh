#!/usr/bin/env bash
# The one check: installs what the tests need (mosquitto) when missing, then runs exactly
# what CI runs: format check, clippy with warnings as errors, the docs with warnings as
# errors, and every test. CHECK_RELEASE=1 adds clippy in release mode (it builds every
# dependency a second time, doubling the time, so it is not run by default). Then the tests
# from outside the process (scripts/outside.sh: the release build packaged, driven over the
# accessibility bus, and the interop matrix); `--quick` stops after cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
command -v mosquitto_passwd >/dev/null 2>&1 || need+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)
# A real Secret Service for the password tests.
command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
if [ "${#need[@]}" -gt 0 ]; then
  echo "==> installing ${need[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
if [ "${CHECK_RELEASE:-0}" = 1 ]; then
  echo "==> cargo clippy --release --all-targets -- -D warnings"
  cargo clippy --release --all-targets --quiet -- -D warnings
fi
echo "==> cargo doc --no-deps (warnings as errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
echo "==> cargo test (inside a D-Bus session with an unlocked gnome-keyring)"
# The keyring lives in a throw-away home; cargo and rustup keep using the real ones.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
HOME="$keyring_home" XDG_DATA_HOME="$keyring_home/data" CANOPY_REQUIRE_KEYRING=1 \
  dbus-run-session -- bash -c '
    echo -n canopy-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec cargo test --all-targets
  '

# The release build seen from outside: package, accessibility bus, interop matrix.
if [ "${1:-}" = "--quick" ]; then
  echo "==> --quick: skipping scripts/outside.sh (package, AT-SPI, interop)"
else
  echo "==> scripts/outside.sh"
  ./scripts/outside.sh
fi
