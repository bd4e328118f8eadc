"""Drives Canopy's window through AT-SPI (run by scripts/a11y/run.sh, which sets up the bus).

Every step waits for what it needs with a deadline and says what it was waiting for when it
fails, so a red run explains itself. Exit 0 when every check passed.
"""
import os
import subprocess
import sys
import time

import warnings

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)

PID = int(sys.argv[1]) if __name__ == "__main__" else 0
INTERACTIVE = {"push button", "toggle button", "check box", "radio button", "entry", "text",
               "combo box", "menu item", "slider", "spin button", "link"}


def fail(message):
    print(f"a11y: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def wait_for(what, timeout, probe):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    fail(f"timed out after {timeout} s waiting for {what}")


def app():
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        child = desktop.get_child_at_index(i)
        try:
            if child is not None and child.get_process_id() == PID:
                return child
        except gi.repository.GLib.Error:
            continue
    return None


def walk(node, depth=0):
    if node is None or depth > 60:
        return
    yield node
    try:
        count = node.get_child_count()
    except gi.repository.GLib.Error:
        return
    for i in range(count):
        # The window rebuilds its accessibility tree every frame: a child counted a moment ago
        # may be gone ("The application no longer exists"). Skip it; callers poll again.
        try:
            child = node.get_child_at_index(i)
        except gi.repository.GLib.Error:
            continue
        yield from walk(child, depth + 1)


def describe(node):
    try:
        return node.get_role_name(), node.get_name() or ""
    except gi.repository.GLib.Error:
        return "", ""


def find(root, role=None, name=None, contains=None):
    for node in walk(root):
        r, n = describe(node)
        if role and r != role:
            continue
        if name is not None and n != name:
            continue
        if contains is not None and contains not in n:
            continue
        return node
    return None


def check_names(root, screen):
    """Every interactive widget has a name a screen reader can speak (an emoji alone is not)."""
    unnamed = [describe(n) for n in walk(root)
               if describe(n)[0] in INTERACTIVE and not any(c.isalnum() for c in describe(n)[1])]
    if unnamed:
        fail(f"{screen}: {len(unnamed)} interactive widgets without a speakable name: {unnamed}")


def press(node, what):
    action = node.get_action_iface()
    if action is None or action.get_n_actions() == 0:
        fail(f"{what} has no action")
    action.do_action(0)


def main():
    root = wait_for("the window on the accessibility bus", 40, app)
    wait_for("the first widgets", 20, lambda: find(root, role="push button"))
    if os.environ.get("A11Y_DUMP"):
        for node in walk(root):
            r, n = describe(node)
            print(f"{r}: {n!r}")
        return

    check_names(root, "the first screen")

    # Connect to the Local sandbox (the embedded broker with demo traffic).
    sandbox = wait_for("the Local sandbox profile", 10, lambda: find(root, contains="Local sandbox"))
    press(sandbox, "the Local sandbox profile")
    connect = wait_for("the Connect button", 10,
                       lambda: find(root, role="push button", contains="Connect"))
    press(connect, "Connect")
    row = wait_for("a topic row of the demo plant", 40,
                   lambda: find(root, role="toggle button", contains="plant"))
    print(f"a11y: topic row read back: {describe(row)[1]!r}")
    check_names(root, "the connected screen")
    if os.environ.get("A11Y_DUMP_CONNECTED"):
        time.sleep(2)
        for node in walk(root):
            r, n = describe(node)
            print(f"{r}: {n!r}")

    # Copy a topic to the system clipboard and read it from another program.
    press(row, "the topic row")
    copy = wait_for("the Copy topic button", 10,
                    lambda: find(root, role="push button", contains="Copy topic"))
    press(copy, "Copy topic")

    def clipboard():
        out = subprocess.run(["xclip", "-o", "-selection", "clipboard"], capture_output=True,
                             text=True, timeout=5)
        return out.stdout if out.returncode == 0 and "plant" in out.stdout else None

    copied = wait_for("the topic on the X clipboard (xclip -o)", 10, clipboard)
    print(f"a11y: xclip read back from the system clipboard: {copied!r}")
    check_names(root, "a topic selected")

    # Browse… never fails silently: here (no desktop portal, no zenity) it says so.
    if subprocess.run(["sh", "-c", "command -v zenity"], capture_output=True).returncode != 0:
        # The list steps aside once connected: bring it back, open a TCP profile's editor
        # (the sandbox has no TLS section).
        press(wait_for("the connections toggle", 10,
                       lambda: find(root, name="Show the saved connections")), "☰")
        press(wait_for("the Local broker profile", 10,
                       lambda: find(root, contains="Local broker")), "Local broker")
        press(wait_for("Edit", 10, lambda: find(root, role="push button", contains="Edit")),
              "Edit…")
        press(wait_for("the TLS certificates section", 10,
                       lambda: find(root, role="toggle button", name="TLS certificates")),
              "TLS certificates")
        press(wait_for("a Browse… button", 10,
                       lambda: find(root, role="push button", contains="Browse")), "Browse…")
        notice = wait_for("the no-picker notice", 15,
                          lambda: find(root, contains="No file picker could open"))
        print(f"a11y: Browse without a picker says: {describe(notice)[1][:60]!r}…")
    print("a11y: PASS")


if __name__ == "__main__":
    main()
