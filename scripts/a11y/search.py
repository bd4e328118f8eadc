"""Screenshot of payload search (run through scripts/a11y/run.sh): connects to the Local
sandbox, lets the demo run for a few seconds, opens 🔎 Search, types a JSON condition with the
X keyboard (xdotool) and saves the window to argv[2]. argv[3], if given, is the query
(default `$.battery_pct < 40`, which matches some of the demo's vehicles)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drive  # noqa: E402

drive.PID = int(sys.argv[1])
OUT = sys.argv[2]
QUERY = sys.argv[3] if len(sys.argv) > 3 else "$.battery_pct < 40"
root = drive.wait_for("the window", 40, drive.app)
drive.press(drive.wait_for("sandbox", 20, lambda: drive.find(root, contains="Local sandbox")), "sandbox")
drive.press(drive.wait_for("Connect", 10, lambda: drive.find(root, role="push button", contains="Connect")), "Connect")
drive.wait_for("a topic row", 40, lambda: drive.find(root, role="toggle button", contains="plant"))
time.sleep(float(os.environ.get("SEARCH_WAIT", "8")))
drive.press(drive.wait_for("the Search button", 10, lambda: drive.find(root, contains="Search")), "Search")
field = drive.wait_for("the Find field", 10, lambda: drive.find(root, role="text", name="Find")
                       or drive.find(root, role="entry", name="Find"))
drive.press(field, "the Find field")
# No window manager under Xvfb gives the window the X keyboard focus: take it, then click
# the field.
windows = subprocess.run(["xdotool", "search", "--pid", str(drive.PID)], capture_output=True,
                         text=True).stdout.split()
for window in windows:
    subprocess.run(["xdotool", "windowfocus", window], check=False)
box = field.get_component_iface().get_extents(drive.Atspi.CoordType.SCREEN)
subprocess.run(["xdotool", "mousemove", str(box.x + box.width // 2), str(box.y + box.height // 2),
                "click", "1"], check=True)
time.sleep(0.5)
subprocess.run(["xdotool", "type", "--delay", "30", QUERY], check=True)
time.sleep(3)
subprocess.run(["import", "-window", "root", "-crop", "1440x900+0+0", "+repage", OUT], check=True)
print(f"screenshot: {OUT}")
