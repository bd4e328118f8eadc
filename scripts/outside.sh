#!/usr/bin/env bash
# The tests that look at Canopy from outside its process, as users and other programs meet it:
#   1. the release build packaged as a .deb, unpacked into a scratch root and run;
#   2. the release window driven through the accessibility bus (AT-SPI): every widget named,
#      connect to the sandbox, read topic rows back, copy to the system clipboard (xclip);
#   3. the CLI interop matrix against every broker this machine can start (scripts/interop.sh).
# Installs what it needs (apt, npm, pip, cargo install) when missing. Called by scripts/check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in Xvfb:xvfb xauth:xauth dbus-launch:dbus-x11 gdbus:libglib2.0-bin xdpyinfo:x11-utils \
            xclip:xclip desktop-file-validate:desktop-file-utils appstreamcli:appstream; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
[ -x /usr/libexec/at-spi-bus-launcher ] || need+=(at-spi2-core)
/usr/bin/python3 -c 'import gi; gi.require_version("Atspi", "2.0")' 2>/dev/null || need+=(python3-gi gir1.2-atspi-2.0)
if [ "${#need[@]}" -gt 0 ]; then
    echo "==> installing ${need[*]}"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "==> cargo build --release"
cargo build --release --quiet
echo "==> desktop entry and AppStream metainfo, .deb installed into a scratch root"
scripts/package-deb.sh --check target/release/canopy
echo "==> the release window through the accessibility bus"
scripts/a11y/run.sh target/release/canopy
echo "==> interop matrix against every broker this machine can start"
scripts/brokers.sh setup
CANOPY=target/release/canopy scripts/interop.sh
