#!/usr/bin/env python3
"""Runs a command on a new terminal of ROWSxCOLS, as a person at a terminal would: types
INPUT once the command is up, prints everything the terminal shows, then the exit code.

usage: pty-run.py ROWS COLS INPUT COMMAND ARGS..."""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

rows, cols, text = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[4], sys.argv[4:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
out = b""
deadline = time.time() + 30
sent = False
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if not r:
        if not sent:
            os.write(fd, text.encode())
            sent = True
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:  # EIO: the command and its terminal are gone
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print(f"EXIT {os.waitstatus_to_exitcode(status)}")
