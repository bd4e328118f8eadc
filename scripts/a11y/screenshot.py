"""Screenshot of the real window (run through scripts/a11y/run.sh): connects to the Local
sandbox over AT-SPI, opens the demo plant down to a press, selects its temperature, and saves
the window (1440×900 from the top-left of the screen) to argv[2]. argv[3], if given, is the
theme: `light` or `dark`."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drive  # noqa: E402

drive.PID = int(sys.argv[1])
OUT = sys.argv[2]
THEME = sys.argv[3] if len(sys.argv) > 3 else None
root = drive.wait_for("the window", 40, drive.app)
if THEME:
    name = {"light": "Light theme", "dark": "Dark theme"}[THEME]
    drive.press(drive.wait_for(name, 20, lambda: drive.find(root, name=name)), name)
drive.press(drive.wait_for("sandbox", 20, lambda: drive.find(root, contains="Local sandbox")), "sandbox")
drive.press(drive.wait_for("Connect", 10, lambda: drive.find(root, role="push button", contains="Connect")), "Connect")


def expand_and_select(name, nth=0, expand=True):
    """Presses the Expand button just before the `nth` row named `name` (when `expand`), then
    the row itself."""
    nodes = list(drive.walk(root))
    rows = [k for k, node in enumerate(nodes) if drive.describe(node) == ("toggle button", name)]
    if len(rows) <= nth:
        return False
    k = rows[nth]
    if expand and k > 0 and drive.describe(nodes[k - 1]) == ("push button", "Expand"):
        drive.press(nodes[k - 1], "Expand")
    drive.press(nodes[k], name)
    return True


# The plant's site, its three lines down to their presses.
for segment, nth in [("plant", 0), ("site-berlin", 0), ("line1", 0), ("press", 0), ("line2", 0),
                     ("press", 1), ("line3", 0), ("press", 2)]:
    drive.wait_for(segment, 40, lambda: expand_and_select(segment, nth))
    time.sleep(1.0)
drive.wait_for("temperature", 20, lambda: expand_and_select("temperature", expand=False))
time.sleep(5)
subprocess.run(["import", "-window", "root", "-crop", "1440x900+0+0", "+repage", OUT], check=True)
print(f"screenshot: {OUT}")
