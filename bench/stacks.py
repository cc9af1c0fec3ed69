"""Reading py-spy's raw (collapsed) stacks: which layer of the stack the CPU samples fall in.

Each sample is given to the layer of its innermost frame that belongs to a layer we name, so a
Jinja filter defined in forum/web/render.py counts as rendering, and Piccolo code called from
forum/threads.py counts as Piccolo. Samples from threads other than the main one (aiosqlite's
connection threads) are counted apart.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

# Innermost match wins; the order only matters within one frame.
LAYERS = [
    ("template render (Jinja2)", ("jinja2/", "markupsafe/", ".html:", "forum/web/render.py")),
    ("Piccolo (build queries, convert rows)", ("piccolo/",)),
    ("aiosqlite (main thread side)", ("aiosqlite/", "sqlite3/")),
    ("asyncpg", ("asyncpg/",)),
    ("session cookie (itsdangerous, json)", ("itsdangerous/", "middleware/sessions.py", "json/")),
    ("Kindred code (forum/)", ("forum/",)),
    ("Starlette (routing, middleware, responses)", ("starlette/",)),
    ("uvicorn + httptools (HTTP)", ("uvicorn/", "httptools/")),
    ("event loop (uvloop, asyncio)", ("asyncio/", "uvloop/")),
]
WORKER_THREADS = "database threads (aiosqlite connections)"
FRAME_RE = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")


def parse(path: Path) -> list[tuple[list[str], int]]:
    """(frames root first, sample count) for each line of `py-spy record --format raw`."""
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def layer_of(frames: list[str]) -> str:
    if frames and "threading.py" in frames[0]:
        return WORKER_THREADS
    for frame in reversed(frames):
        for layer, markers in LAYERS:
            if any(marker in frame for marker in markers):
                return layer
    return "other"


def summarize(path: Path) -> tuple[Counter[str], Counter[str], int]:
    """Samples per layer, samples per innermost Python frame, and the total."""
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for frames, count in parse(path):
        layers[layer_of(frames)] += count
        leaves[frames[-1]] += count
        total += count
    return layers, leaves, total


def report(path: Path, top: int = 12) -> str:
    """Layers as shares of the samples, then the hottest innermost frames."""
    layers, leaves, total = summarize(path)
    if not total:
        return f"no samples in {path}"
    lines = [f"{'layer':<46}{'share':>7}"]
    for layer, count in layers.most_common():
        lines.append(f"{layer:<46}{count / total:7.1%}")
    lines.append(f"hottest innermost frames ({total} samples):")
    for frame, count in leaves.most_common(top):
        lines.append(f"  {count / total:6.1%}  {frame[:100]}")
    return "\n".join(lines)
