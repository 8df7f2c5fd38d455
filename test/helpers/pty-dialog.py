#!/usr/bin/env python3
"""Runs a command on a new terminal of ROWSxCOLS and holds a dialog with it, as a person at
the terminal would. The steps are JSON, a list of:
  {"expect": REGEX}                wait until the screen so far matches (case-sensitive)
  {"send": TEXT}                   type TEXT
  {"send": TEXT, "until": REGEX}   type TEXT again every second until what follows it matches
  {"resize": [ROWS, COLS]}         change the terminal's size (the command gets SIGWINCH)
Prints everything the terminal showed, then "EXIT <code>". A step that times out prints
"TIMEOUT <step>" and kills the command.

usage: pty-dialog.py ROWS COLS STEPS_JSON COMMAND ARGS..."""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

rows, cols, steps = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[4], sys.argv[4:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
screen = b""
closed = False


def pump(seconds):
    """Reads what the terminal shows for up to `seconds`; False once it is closed."""
    global screen, closed
    end = time.time() + seconds
    while not closed:
        left = end - time.time()
        if left <= 0:
            return True
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the command and its terminal are gone
            chunk = b""
        if not chunk:
            closed = True
            return False
        screen += chunk
        return True
    return False


def wait_for(pattern, since, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if re.search(pattern.encode(), screen[since:]):
            return True
        if not pump(0.1) and closed:
            return bool(re.search(pattern.encode(), screen[since:]))
    return False


failed = None
for step in steps:
    if "expect" in step:
        if not wait_for(step["expect"], 0, 30):
            failed = step
            break
    elif "resize" in step:
        r, c = step["resize"]
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
    elif "until" in step:
        since = len(screen)
        for _ in range(20):
            os.write(fd, step["send"].encode())
            if wait_for(step["until"], since, 1):
                break
        else:
            failed = step
            break
    else:
        os.write(fd, step["send"].encode())
if failed is not None:
    os.kill(pid, signal.SIGKILL)
# what the command shows as it leaves, until it closes the terminal
deadline = time.time() + 30
while not closed and time.time() < deadline:
    pump(0.5)
_, status = os.waitpid(pid, 0)
sys.stdout.write(screen.decode(errors="replace"))
if failed is not None:
    print(f"\nTIMEOUT {json.dumps(failed)}")
print(f"\nEXIT {os.waitstatus_to_exitcode(status)}")
