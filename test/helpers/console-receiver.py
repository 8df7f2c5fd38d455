#!/usr/bin/env python3
"""A --console-socket peer, as conmon and containerd are: receives the pty master that
droplet's init sends with SCM_RIGHTS, types the given input into it, and copies what the
container writes to stdout until the container closes the terminal.

usage: console-receiver.py SOCKET_PATH INPUT"""
import os
import socket
import sys

path, text = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True)
conn, _ = server.accept()
msg, fds, _flags, _addr = socket.recv_fds(conn, 1024, 1)
sys.stderr.write(f"name={msg.decode()}\n")
master = fds[0]
os.write(master, text.encode())
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO: the last slave fd closed
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode(errors="replace"))
