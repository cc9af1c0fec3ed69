"""An open-loop load client: requests at a fixed rate, whether or not earlier ones have finished.

wrk keeps N connections busy (a closed loop): when the server slows down, wrk slows down with
it, and at saturation latency is just N / throughput. Readers do not wait for each other like
that. Here request i is due at start + i / rate; it goes out on an idle keep-alive connection
(a new one if none is idle), and its latency runs from when it was due, so a server that falls
behind is charged for the wait (no "coordinated omission", as in wrk2).

    .venv/bin/python bench/openloop.py http://127.0.0.1:8000/t/1 --rate 200 --seconds 10 \
        --header "Cookie: kindred_session=..."
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

MAX_CONNECTIONS = 256


@dataclass(frozen=True)
class OpenLoad:
    """What an open-loop run measured (latencies in ms, from when each request was due)."""

    rate: float
    achieved_rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    connections: int


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class _Client:
    def __init__(self, url: str, headers: Sequence[str]) -> None:
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        path = parsed.path or "/"
        if parsed.query:
            path += f"?{parsed.query}"
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", *headers]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0
        self.latencies: list[float] = []
        self.bad_status = 0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port)

    async def _send(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
        """The request on an idle connection, or a new one if none is idle or the server has
        closed the idle one (uvicorn closes keep-alive connections idle for 5 s)."""
        if self.idle:
            reader, writer = self.idle.pop()
            try:
                writer.write(self.request)
                return reader, writer, await reader.readuntil(b"\r\n\r\n")
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
        reader, writer = await self._open()
        writer.write(self.request)
        return reader, writer, await reader.readuntil(b"\r\n\r\n")

    async def one(self, due: float) -> None:
        try:
            reader, writer, head = await self._send()
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            self.latencies.append(time.perf_counter() - due)
            if status >= 300:
                self.bad_status += 1
            self.idle.append((reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            pass  # counted as not completed


async def measure(url: str, *, rate: float, seconds: float, headers: Sequence[str]) -> OpenLoad:
    """Send `rate` requests a second for `seconds`, then wait for the last ones."""
    client = _Client(url, headers)
    total = int(rate * seconds)
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    for number in range(total):
        due = start + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while len(tasks) >= MAX_CONNECTIONS:  # a server this far behind: stop adding load
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(client.one(due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    elapsed = time.perf_counter() - start
    for _, writer in client.idle:
        writer.close()
    ordered = sorted(latency * 1000 for latency in client.latencies)
    return OpenLoad(
        rate=rate,
        achieved_rps=len(ordered) / elapsed,
        p50_ms=statistics.median(ordered) if ordered else float("nan"),
        p90_ms=_percentile(ordered, 0.90),
        p99_ms=_percentile(ordered, 0.99),
        max_ms=ordered[-1] if ordered else float("nan"),
        requests=len(ordered),
        # Answered with an error, failed, or not answered within 30 s of the last request.
        errors=client.bad_status + total - len(ordered),
        connections=client.opened,
    )


def run(url: str, *, rate: float, seconds: float, headers: Sequence[str]) -> OpenLoad:
    """One open-loop run, on an event loop of its own."""
    return asyncio.run(measure(url, rate=rate, seconds=seconds, headers=headers))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args(argv)
    load = run(args.url, rate=args.rate, seconds=args.seconds, headers=args.header)
    print(
        f"{load.requests} requests at {load.rate:g}/s (achieved {load.achieved_rps:.0f}/s) "
        f"over {load.connections} connections: p50 {load.p50_ms:.1f} ms, "
        f"p90 {load.p90_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, max {load.max_ms:.1f} ms, "
        f"{load.errors} errors"
    )


if __name__ == "__main__":
    main()
