"""Second line of defence for query workers: a seccomp filter that forbids network sockets.

The first line is :func:`hkg_rdf.serve.policy.check_operation`, which refuses ``SERVICE`` and
``LOAD`` on the parsed operation before a query reaches Oxigraph. Should a query ever slip past it, a worker process
under this filter still cannot reach any host: ``socket()`` for any family but ``AF_UNIX``
fails with EACCES (the worker talks to the server over an inherited pipe and needs no new
socket), and so does ``io_uring_setup`` (io_uring could open sockets without the syscall).

The filter is plain classic BPF handed to ``prctl(PR_SET_SECCOMP)`` through ctypes, so it needs
no library. System calls of another ABI (a 32-bit ``int 0x80`` from a 64-bit process, which
would reach ``socketcall``) are denied outright. It is applied before the worker opens the store, hence before any thread starts,
and every thread created afterwards inherits it. Linux on x86-64 and aarch64 only; elsewhere
:func:`forbid_network` returns False and the worker relies on the first line alone.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
import sys

# linux/audit.h, asm/unistd.h
_ARCHES = {
    "x86_64": (0xC000003E, (41, 0x40000000 | 41), 425),  # socket (and its x32 number), io_uring_setup
    "aarch64": (0xC00000B7, (198,), 425),
}
_AF_UNIX = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
# BPF opcodes: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
_LD, _JEQ, _RET = 0x20, 0x15, 0x06
# offsets in struct seccomp_data: nr, arch, args[0] (low 32 bits, little endian)
_NR, _ARCH, _ARG0 = 0, 4, 16


class _Filter(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _program(arch: int, socket_nrs: tuple[int, ...], io_uring_nr: int) -> bytes:
    deny = _RET_ERRNO | errno.EACCES
    code: list[tuple[int, int, int, int]] = [(_LD, 0, 0, _ARCH), (_JEQ, 1, 0, arch), (_RET, 0, 0, deny), (_LD, 0, 0, _NR)]
    # io_uring_setup -> deny
    code += [(_JEQ, 0, 1, io_uring_nr), (_RET, 0, 0, deny)]
    # socket(family, ...) -> allow AF_UNIX only
    for nr in socket_nrs:
        code += [(_JEQ, 0, 4, nr), (_LD, 0, 0, _ARG0), (_JEQ, 1, 0, _AF_UNIX), (_RET, 0, 0, deny), (_RET, 0, 0, _RET_ALLOW)]
    code.append((_RET, 0, 0, _RET_ALLOW))
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in code)


def forbid_network() -> bool:
    """Forbid this process (and threads and children it creates later) to open network sockets.

    Returns True when the filter is in place, False where it is not supported.
    """
    spec = _ARCHES.get(platform.machine())
    if not sys.platform.startswith("linux") or spec is None:
        return False
    program = _program(*spec)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _Filter(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None)  # a failure is answered with False, whatever the errno
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        return False
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        return False
    return True
