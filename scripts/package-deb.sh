#!/usr/bin/env bash
# Builds a Debian package of Canopy: the binary, the icon in every size (hicolor theme), the
# desktop entry and the AppStream metainfo. Written with dpkg-deb alone (no cargo-deb to
# install: one less tool to build in CI); `--check` then unpacks it into a scratch root and
# checks the files and `canopy --version`.
# Usage: scripts/package-deb.sh [--check] [BINARY]   (default BINARY: target/release/canopy)
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=0
if [ "${1:-}" = "--check" ]; then CHECK=1; shift; fi
BIN=${1:-target/release/canopy}
[ -x "$BIN" ] || { echo "package-deb: no binary at $BIN (cargo build --release)" >&2; exit 2; }
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
ARCH=$(dpkg --print-architecture)
OUT=target/debian
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
install -Dm755 "$BIN" "$STAGE/usr/bin/canopy"
install -Dm644 assets/io.github.canopy.Canopy.desktop "$STAGE/usr/share/applications/io.github.canopy.Canopy.desktop"
install -Dm644 assets/io.github.canopy.Canopy.metainfo.xml "$STAGE/usr/share/metainfo/io.github.canopy.Canopy.metainfo.xml"
install -Dm644 assets/icons/canopy.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/canopy.svg"
for size in 16 24 32 48 64 128 256 512; do
    install -Dm644 "assets/icons/canopy-$size.png" "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/canopy.png"
done
install -Dm644 README.md "$STAGE/usr/share/doc/canopy/README.md"
mkdir -p "$STAGE/DEBIAN"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: canopy
Version: $VERSION
Architecture: $ARCH
Maintainer: The Canopy developers <canopy@example.org>
Section: net
Priority: optional
Depends: libc6, libgl1, libx11-6, libxkbcommon0
Recommends: xdg-desktop-portal | zenity
Installed-Size: $(du -sk "$STAGE/usr" | cut -f1)
Homepage: https://github.com/canopy-mqtt/canopy
Description: fast desktop MQTT explorer with a command-line tool
 Canopy shows what is on an MQTT broker (5.0, 3.1.1 and 3.1): a live topic tree,
 messages with their MQTT 5 properties, decoded payloads, charts, publishing,
 record and replay, and the canopy command (pub, sub, record, replay, bench).
CONTROL
mkdir -p "$OUT"
DEB="$OUT/canopy_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group --build "$STAGE" "$DEB" >/dev/null
echo "package-deb: $DEB ($(du -h "$DEB" | cut -f1))"

if [ "$CHECK" = 1 ]; then
    ROOT=$(mktemp -d)
    trap 'rm -rf "$STAGE" "$ROOT"' EXIT
    dpkg -x "$DEB" "$ROOT"
    for f in usr/bin/canopy usr/share/applications/io.github.canopy.Canopy.desktop \
             usr/share/metainfo/io.github.canopy.Canopy.metainfo.xml \
             usr/share/icons/hicolor/48x48/apps/canopy.png usr/share/icons/hicolor/scalable/apps/canopy.svg; do
        [ -e "$ROOT/$f" ] || { echo "package-deb: FAIL: $f missing from the package" >&2; exit 1; }
    done
    got=$("$ROOT/usr/bin/canopy" --version)
    [ "$got" = "canopy $VERSION" ] || { echo "package-deb: FAIL: --version said '$got'" >&2; exit 1; }
    if command -v desktop-file-validate >/dev/null; then
        desktop-file-validate "$ROOT/usr/share/applications/io.github.canopy.Canopy.desktop"
    fi
    if command -v appstreamcli >/dev/null; then
        appstreamcli validate --no-net --pedantic "$ROOT/usr/share/metainfo/io.github.canopy.Canopy.metainfo.xml" >/dev/null \
            || appstreamcli validate --no-net "$ROOT/usr/share/metainfo/io.github.canopy.Canopy.metainfo.xml"
    fi
    echo "package-deb: installed into a scratch root: files present, '$got'"
fi
