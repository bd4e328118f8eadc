"""The report card in the real window (run through scripts/a11y/run.sh with A11Y_PROFILES set
to a profiles file whose first profile is the broker): connects, presses Report card, waits
for the card, and saves the screen to argv[2]; with argv[3] = "light" in the light theme."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drive  # noqa: E402

drive.PID = int(sys.argv[1])
OUT = sys.argv[2]
THEME = sys.argv[3] if len(sys.argv) > 3 else "dark"
root = drive.wait_for("the window", 40, drive.app)
names = {"dark": "Dark theme", "light": "Light theme"}
drive.press(drive.wait_for("theme", 10, lambda: drive.find(root, name=names[THEME])), THEME)
drive.press(drive.wait_for("Connect", 10, lambda: drive.find(root, role="push button", contains="Connect")), "Connect")
time.sleep(2)
drive.press(drive.wait_for("Report card", 30, lambda: drive.find(root, role="push button", contains="Report card")), "Report card")
drive.wait_for("the card", 90, lambda: drive.find(root, name="MQTT 5.0 ✓"))
# The pointer out of the way: no tooltip or hover tint on the picture.
drive.Atspi.generate_mouse_event(2, 998, "abs")
time.sleep(2)
subprocess.run(["import", "-window", "root", OUT], check=True)
print(f"screenshot: {OUT}")

