"""Who holds a claim, and whether that process is known to be gone.

Rows a process claims (forum.mail's outbox) carry its name. When the process dies, its claims
are released after a timeout, long enough for the slowest living holder. A process on the same
machine can often tell sooner: the name records the machine's boot and PID namespace, the PID
and the process's start time, and Linux's /proc says whether that very process still runs. A
name from another machine, or from a system without /proc, is never taken for gone.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from functools import lru_cache
from pathlib import Path

PROC = Path("/proc")
NAME_MAX = 64  # the claimed_by columns


@lru_cache(maxsize=1)
def _machine() -> str:
    """This boot of this machine and PID namespace, as 12 hex digits; "" without /proc."""
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(PROC / "self/ns/pid")
    except OSError:
        return ""
    return hashlib.blake2b(f"{boot}|{namespace}".encode(), digest_size=6).hexdigest()


def _started(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (/proc/PID/stat's 22nd field), or
    None when no such process runs."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return stat.rsplit(")", 1)[1].split()[19]


def worker_name() -> str:
    """A name for this process's claims: readable (host and PID first), unique (a random
    tail), and at most NAME_MAX characters however long the host name is."""
    pid = os.getpid()
    tail = f"{_machine()}:{pid}:{_started(pid) or 0}:{uuid.uuid4().hex[:8]}"
    host = socket.gethostname()[: NAME_MAX - len(tail) - 1]
    return f"{host}:{tail}"


def is_gone(name: str) -> bool:
    """True only when the named process ran on this machine and no longer does."""
    parts = name.rsplit(":", 4)
    if len(parts) != 5 or not _machine() or parts[1] != _machine():
        return False
    _, _, pid, started, _ = parts
    if not pid.isdigit():
        return False
    return _started(int(pid)) != started
