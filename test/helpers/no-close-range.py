"""Runs a command on what looks like a kernel without close_range(2): a seccomp filter makes
the syscall fail with ENOSYS, as a pre-5.9 kernel would. x86_64 only (syscall 436)."""
import ctypes
import os
import struct
import sys

CLOSE_RANGE = 436
ENOSYS = 38
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000


def insn(code, k, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k)


program = (
    insn(0x20, 0)  # ld [nr]
    + insn(0x15, CLOSE_RANGE, 0, 1)  # jeq close_range
    + insn(0x06, SECCOMP_RET_ERRNO | ENOSYS)
    + insn(0x06, SECCOMP_RET_ALLOW)
)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


buf = ctypes.create_string_buffer(program)
prog = SockFprog(len(program) // 8, ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    raise OSError(ctypes.get_errno(), "no_new_privs")
if libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
    raise OSError(ctypes.get_errno(), "seccomp")
os.execv(sys.argv[1], sys.argv[1:])
