"""Screenshot of presentation mode (run through scripts/a11y/run.sh with A11Y_PROFILES set to
a profiles file whose Local sandbox has pinned tiles): connects to the sandbox, lets the demo
plant run for PRESENT_WAIT seconds (60 by default: sparklines and the rate chart need
history), optionally switches to the light theme (argv[3] == "light"), enters presentation
mode with its button and saves the screen to argv[2]."""
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
drive.press(drive.wait_for("sandbox", 20, lambda: drive.find(root, contains="Local sandbox")), "sandbox")
drive.press(drive.wait_for("Connect", 10, lambda: drive.find(root, role="push button", contains="Connect")), "Connect")
if THEME == "light":
    drive.press(drive.wait_for("the light theme button", 10,
                               lambda: drive.find(root, name="Light theme")), "Light theme")
time.sleep(float(os.environ.get("PRESENT_WAIT", "60")))
drive.press(drive.wait_for("the Present button", 10,
                           lambda: drive.find(root, role="push button", name="Presentation mode")), "Present")
time.sleep(3)
# The window (1440×900 at the top left: no window manager under Xvfb to make it full screen).
subprocess.run(["import", "-window", "root", "-crop", "1440x900+0+0", "+repage", OUT], check=True)
print(f"screenshot: {OUT}")
