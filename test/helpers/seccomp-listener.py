#!/usr/bin/env python3
"""A seccomp notify agent stand-in: accepts one connection on SOCKET_PATH, receives the
listener fd with the container process state (runtime-spec ContainerProcessState), prints
the state, and closes the fd without answering, so the notified syscalls fail with ENOSYS.

usage: seccomp-listener.py SOCKET_PATH"""
import os
import socket
import sys

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(1)
print("listening", flush=True)
conn, _ = server.accept()
msg, fds, _flags, _addr = socket.recv_fds(conn, 65536, 1)
print(msg.decode(), flush=True)
print(f"fds={len(fds)}", flush=True)
for fd in fds:
    os.close(fd)
