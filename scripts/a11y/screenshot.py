"""Screenshot of the real window (run through scripts/a11y/run.sh): connects to the Local
sandbox over AT-SPI, opens the demo plant, selects a topic, and saves the screen to argv[2]."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drive  # noqa: E402

drive.PID = int(sys.argv[1])
OUT = sys.argv[2]
root = drive.wait_for("the window", 40, drive.app)
drive.press(drive.wait_for("sandbox", 20, lambda: drive.find(root, contains="Local sandbox")), "sandbox")
drive.press(drive.wait_for("Connect", 10, lambda: drive.find(root, role="push button", contains="Connect")), "Connect")


def expand_and_select(name):
    """Presses the Expand button just before the row `name`, then the row itself."""
    nodes = list(drive.walk(root))
    for k, node in enumerate(nodes):
        if drive.describe(node) == ("toggle button", name):
            for prev in reversed(nodes[:k]):
                if drive.describe(prev) == ("push button", "Expand"):
                    drive.press(prev, "Expand")
                    break
            drive.press(node, name)
            return True
    return False


for segment in ["plant"]:
    drive.wait_for(segment, 40, lambda: expand_and_select(segment))
    time.sleep(1.5)
time.sleep(4)
subprocess.run(["import", "-window", "root", OUT], check=True)
print(f"screenshot: {OUT}")
