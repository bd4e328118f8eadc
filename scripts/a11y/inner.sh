#!/usr/bin/env bash
# Inside the private D-Bus session of run.sh: X server, accessibility bus, the app, the driver.
set -euo pipefail
display=:$(( 90 + RANDOM % 100 ))
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export DISPLAY=$display
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
dbus-update-activation-environment DISPLAY >/dev/null 2>&1 || true
gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus \
    --method org.a11y.Bus.GetAddress >/dev/null
# AccessKit exposes the tree only when assistive technology says it is listening.
gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus \
    --method org.freedesktop.DBus.Properties.Set org.a11y.Status IsEnabled '<true>' >/dev/null
"$CANOPY_BIN" > "$XDG_CACHE_HOME/canopy.out" 2>&1 &
app=$!
status=0
/usr/bin/python3 "$A11Y_DRIVER" "$app" "$@" || status=$?
kill "$app" 2>/dev/null || true
wait "$app" 2>/dev/null || true
kill "$xvfb" 2>/dev/null || true
if [ "$status" -ne 0 ]; then
    echo "a11y: the window's output:" >&2
    tail -20 "$XDG_CACHE_HOME/canopy.out" >&2 || true
fi
exit "$status"
