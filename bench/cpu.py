"""CPU time spent during a load run: by the server, its database, wrk, and everything else.

Requests per second depend on what else the machine is doing; CPU time per request much less.
Reading both, and how busy other processes kept the machine, tells a slow run from a busy box.
Linux only (/proc).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads included (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def postgres_backends(database: str) -> list[int]:
    """Server processes serving connections to this database (they retitle themselves)."""
    marker = f" {database} ".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and marker in title:
            pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def children_seconds() -> float:
    """CPU seconds of this process's finished children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds over one run, and its length in seconds."""

    server: float
    database: float
    wrk: float
    other: float
    wall: float


class CpuMeter:
    """Measures one run: start() before wrk, stop() after it has exited."""

    def __init__(self, server_pid: int, database: str | None = None) -> None:
        self.server_pid = server_pid
        self.database = database

    def _database(self) -> dict[int, float]:
        if self.database is None:
            return {}
        return {pid: process_seconds(pid) for pid in postgres_backends(self.database)}

    def start(self) -> None:
        self._wall = time.monotonic()
        self._machine = machine_busy_seconds()
        self._children = children_seconds()
        self._server = process_seconds(self.server_pid)
        self._db = self._database()

    def stop(self) -> CpuUse:
        db_after = self._database()
        # Backends the pool opened during the run started from zero.
        database = sum(after - self._db.get(pid, 0.0) for pid, after in db_after.items())
        server = process_seconds(self.server_pid) - self._server
        wrk = children_seconds() - self._children
        machine = machine_busy_seconds() - self._machine
        return CpuUse(
            server=server,
            database=database,
            wrk=wrk,
            other=max(0.0, machine - server - database - wrk),
            wall=time.monotonic() - self._wall,
        )
