"""Child processes that die with the worker that started them, and checks on processes by pid.

A django-q2 worker killed with SIGKILL cannot clean up after itself: SEGYImport would keep running,
orphaned, writing a volume nobody registers. On Linux the child asks the kernel for a SIGKILL when its
parent dies (``PR_SET_PDEATHSIG``). The kernel sends it when the *thread* that forked the child ends,
not the process, so it is asked for only when the spawning thread is the process's main thread: a
django-q2 worker runs its tasks there, whereas a web server's thread pool may retire a thread while the
child still runs.

The child also leads its own session (process group): a Ctrl-C at the ``qcluster`` terminal, which
the workers ignore so as to finish their tasks, does not kill the import either, and a sweep can kill
the child and anything it started by the recorded pid.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

PR_SET_PDEATHSIG = 1
_prctl: Any = None


def _libc_prctl() -> Any:
    global _prctl
    if _prctl is None:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        prctl.restype = ctypes.c_int
        _prctl = prctl
    return _prctl


def die_with_parent(signum: int = signal.SIGKILL) -> Callable[[], None] | None:
    """What the child runs between fork and exec (``preexec_fn``) so that the kernel sends it ``signum``
    when this thread ends, or None where the kernel cannot tie it to this thread."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    prctl = _libc_prctl()  # looked up before the fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def spawn(command: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen`` for a child that dies with this process and leads its own process group."""
    # preexec_fn with other threads running (the lease's) is safe here: between fork and exec the child makes
    # three system calls (prctl through a function looked up before the fork, getppid, kill) and takes no
    # lock another thread could have held.
    return subprocess.Popen(command, start_new_session=True, preexec_fn=die_with_parent(), **kwargs)  # noqa: PLW1509


def alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine. A zombie (dead, not yet reaped by a parent
    that may never reap it) counts as dead."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel, which cannot tell a zombie
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state = stat.rsplit(b")", 1)[-1].split()[:1]
    return state not in ([b"Z"], [b"X"])


def _command_line(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None


def kill_group(pid: int, *, command_contains: str, wait_s: float = 5.0) -> bool:
    """Kill the process group led by ``pid`` if that process still runs a command line containing
    ``command_contains`` (a pid may have been reused since it was recorded; without /proc nothing is
    killed). Waits up to ``wait_s`` for it to end; True when it was killed."""
    command = _command_line(pid)
    if command is None or command_contains not in command or not alive(pid):
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    deadline = time.monotonic() + wait_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True
