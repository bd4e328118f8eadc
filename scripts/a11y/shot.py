"""A screenshot of the real window after a few steps (run through scripts/a11y/run.sh):

    scripts/a11y/run.sh BIN scripts/a11y/shot.py OUT.png STEP...

Steps, in order:
    sandbox            press the Local sandbox profile, then Connect, and wait for its tree
    connect:NAME       press the profile whose name contains NAME, then Connect
    press:NAME         press the first widget whose name contains NAME
    open:NAME          expand and select the topic tree row named exactly NAME
    type:FIELD=TEXT    click the text field named FIELD and type TEXT with the X keyboard
    key:KEYS           send keys with xdotool (for example ctrl+Return)
    wait:SECONDS       let the window run
The window (1440×900 at the top left: no window manager under Xvfb) is saved to OUT.png."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drive  # noqa: E402

drive.PID = int(sys.argv[1])
OUT = sys.argv[2]
root = drive.wait_for("the window", 40, drive.app)


def press(name, role=None):
    drive.press(drive.wait_for(name, 30, lambda: drive.find(root, role=role, contains=name)), name)


def focus_window():
    """No window manager gives the window the X keyboard focus: take it."""
    out = subprocess.run(["xdotool", "search", "--pid", str(drive.PID)], capture_output=True,
                         text=True).stdout.split()
    for window in out:
        subprocess.run(["xdotool", "windowfocus", window], check=False)


def type_into(field, text):
    node = drive.wait_for(f"the {field} field", 20,
                          lambda: drive.find(root, role="text", name=field)
                          or drive.find(root, role="entry", name=field))
    focus_window()
    box = node.get_component_iface().get_extents(drive.Atspi.CoordType.SCREEN)
    subprocess.run(["xdotool", "mousemove", str(box.x + box.width // 2),
                    str(box.y + box.height // 2), "click", "1"], check=True)
    time.sleep(0.3)
    subprocess.run(["xdotool", "key", "ctrl+a"], check=True)
    subprocess.run(["xdotool", "type", "--delay", "30", text], check=True)


def open_row(name):
    """Presses the Expand button just before the tree row named `name`, then the row."""
    nodes = list(drive.walk(root))
    rows = [k for k, node in enumerate(nodes) if drive.describe(node) == ("toggle button", name)]
    if not rows:
        return False
    k = rows[0]
    # The expand button (named "Expand", or in the window's language) comes just before.
    if k > 0 and drive.describe(nodes[k - 1])[0] == "push button":
        drive.press(nodes[k - 1], "Expand")
    drive.press(nodes[k], name)
    return True


for step in sys.argv[3:]:
    verb, _, arg = step.partition(":")
    if verb == "sandbox":
        press("Local sandbox")
        press("Connect", role="push button")
        drive.wait_for("the sandbox's tree", 40,
                       lambda: drive.find(root, role="toggle button", contains="plant"))
    elif verb == "connect":
        press(arg)
        press("Connect", role="push button")
    elif verb == "press":
        press(arg)
    elif verb == "open":
        drive.wait_for(f"the tree row {arg}", 30, lambda: open_row(arg))
        time.sleep(0.5)
    elif verb == "type":
        field, _, text = arg.partition("=")
        type_into(field, text)
    elif verb == "key":
        focus_window()
        subprocess.run(["xdotool", "key", arg], check=True)
    elif verb == "wait":
        time.sleep(float(arg))
    else:
        drive.fail(f"unknown step {step!r}")
    time.sleep(0.5)
subprocess.run(["import", "-window", "root", "-crop", "1440x900+0+0", "+repage", OUT], check=True)
print(f"screenshot: {OUT}")
