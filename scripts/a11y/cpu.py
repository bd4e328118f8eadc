"""CPU of Canopy's window (run by scripts/cpu.sh through scripts/a11y/run.sh): idle and
disconnected, then connected to a private mosquitto through the accessibility bus, idle, at 20
msg/s over 50 topics and at 1,000 msg/s. Prints one line per phase: % of one core, and the
repaints per second the window reports (CANOPY_FRAME_LOG, when the binary writes it).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drive  # noqa: E402  (the AT-SPI helpers)

PID = int(sys.argv[1])
PORT = sys.argv[2]
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
TICK = os.sysconf("SC_CLK_TCK")
FRAME_LOG = os.environ.get("CANOPY_FRAME_LOG")


def cpu_ticks():
    with open(f"/proc/{PID}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def frames():
    if not FRAME_LOG or not os.path.exists(FRAME_LOG):
        return None
    with open(FRAME_LOG) as f:
        text = f.read().strip()
    return int(text) if text else None


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(name, rate=None):
    publisher = None
    if rate:
        publisher = subprocess.Popen(
            [os.environ["CANOPY_BIN"], "bench", "publish", "-h", "127.0.0.1", "-p", PORT,
             "-V", "3.1.1", "--rate", str(rate), "--duration", str(SECONDS + 4), "--topics", "50",
             "--prefix", "cpu"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)  # past the first burst of new topics
    t0, c0, f0 = time.time(), cpu_ticks(), frames()
    time.sleep(SECONDS)
    t1, c1, f1 = time.time(), cpu_ticks(), frames()
    if publisher:
        publisher.kill()
        publisher.wait()
    cpu = 100.0 * (c1 - c0) / TICK / (t1 - t0)
    fps = f"{(f1 - f0) / (t1 - t0):5.1f}" if f0 is not None and f1 is not None else "  n/a"
    print(f"cpu: {name:<28} {cpu:5.1f} % of one core   {fps} repaints/s   {rss_mib():6.1f} MiB RSS",
          flush=True)


def main():
    drive.PID = PID
    root = drive.wait_for("the window on the accessibility bus", 40, drive.app)
    drive.wait_for("the first widgets", 20, lambda: drive.find(root, role="push button"))
    time.sleep(3)
    measure("idle, disconnected")
    profile = drive.wait_for("the CPU bench profile", 10, lambda: drive.find(root, contains="CPU bench"))
    drive.press(profile, "the CPU bench profile")
    connect = drive.wait_for("the Connect button", 10,
                             lambda: drive.find(root, role="push button", contains="Connect"))
    drive.press(connect, "Connect")
    drive.wait_for("connected", 20, lambda: drive.find(root, contains="Connected to"))
    time.sleep(2)
    measure("idle, connected")
    measure("20 msg/s over 50 topics", rate=20)
    measure("1,000 msg/s over 50 topics", rate=1000)


main()
