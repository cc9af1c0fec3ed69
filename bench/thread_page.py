"""How fast Kindred serves a 50-post thread page to a signed-in reader, against our stack's ceiling.

For each engine (SQLite, PostgreSQL) the script seeds a fresh database through the services (a
community, six people, a thread of 50 posts of 300-600 characters of markdown), serves the real
app with `kindred serve` (uvicorn, one worker, asyncio/httptools), signs in through the login form
for a `kindred_session` cookie and serves next to it the same page rendered from memory by a bare
Starlette + Jinja2 route (bench/ceiling_app.py): the ceiling of our stack. It checks that both
answer 200 with the same HTML, then loads each in turn (ceiling, app, ceiling, app, ...) with
`wrk -t2 -c32 --latency` after a 2 s warm-up, sending the cookie to both. Besides wrk's figures
it records the CPU time the server (and PostgreSQL's backends) spent per request, and how much
CPU other processes took meanwhile, so a busy machine shows up as such.

Then, for each of --open-rates, it sends requests at that fixed rate (bench/openloop.py) and
reports latency from when each request was due: what readers see below saturation, where wrk's
32 busy connections only show queueing (latency = 32 / throughput).

`--ceiling kept-list` gives the ceiling the app's kept rendering of the list of posts
(forum.web.post_list), so the ratio shows what the app adds besides rendering; the goals are
measured against the default, naive ceiling, which renders the whole page every time.

Goals: the app reaches 0.6x the ceiling's requests per second on SQLite and 0.8x on PostgreSQL,
with p99 latency under 100 ms.

    .venv/bin/python bench/thread_page.py                    # both engines, 2 rounds of 10 s
    .venv/bin/python bench/thread_page.py --quick            # one round of 3 s
    .venv/bin/python bench/thread_page.py --engine sqlite --duration 20 --rounds 3

Needs wrk and, for PostgreSQL, a server on 127.0.0.1 where --postgres-url's database may be
dropped and created (default kindred_bench, user postgres). Only 127.0.0.1 is used; the servers
are stopped on exit, Ctrl+C included. Results and their reading: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import openloop
import stacks
import wrk
from cpu import CpuMeter, CpuUse
from seeding import PASSWORD, READER, bench_settings, recreate_postgres_database, seed
from serving import (
    CSRF_RE,
    HOST,
    SESSION_COOKIE,
    Server,
    compare_pages,
    fetch,
    free_port,
    sign_in,
    signed_in_page,
)

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
CONNECTIONS = 32
WRK_THREADS = 2
WARMUP_SECONDS = 2
GOALS = {"sqlite": 0.6, "postgres": 0.8}
P99_GOAL_MS = 100.0
TARGETS = ("ceiling", "app")
PY_SPY = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"


@dataclass(frozen=True)
class Run:
    load: wrk.Load
    cpu: CpuUse

    @property
    def server_ms_per_request(self) -> float:
        return self.cpu.server * 1000 / max(self.load.requests, 1)

    @property
    def database_ms_per_request(self) -> float:
        """CPU of the PostgreSQL backends serving the app's pool (SQLite runs in the server)."""
        return self.cpu.database * 1000 / max(self.load.requests, 1)

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_ms_per_request + self.database_ms_per_request

    @property
    def other_cores(self) -> float:
        """Cores kept busy by processes other than the server, its database and wrk."""
        return self.cpu.other / max(self.cpu.wall, 1e-9)


@dataclass
class EngineResult:
    engine: str
    page: dict[str, Any]
    rounds: list[dict[str, Run]]
    # Open-loop runs at fixed rates (bench/openloop.py): {rate: {target: OpenLoad}}.
    open_runs: dict[float, dict[str, openloop.OpenLoad]]

    def summary(self, target: str) -> dict[str, float]:
        """Means over the rounds, except p99: the worst round's."""
        runs = [r[target] for r in self.rounds]
        return {
            "rps": statistics.fmean(run.load.rps for run in runs),
            "p50_ms": statistics.fmean(run.load.p50_ms for run in runs),
            "p99_ms": max(run.load.p99_ms for run in runs),
            "cpu_ms_per_request": statistics.fmean(run.cpu_ms_per_request for run in runs),
            "server_ms_per_request": statistics.fmean(run.server_ms_per_request for run in runs),
            "database_ms_per_request": statistics.fmean(
                run.database_ms_per_request for run in runs
            ),
            "other_cores": statistics.fmean(run.other_cores for run in runs),
            "errors": sum(run.load.errors for run in runs),
        }

    @property
    def ratio(self) -> float:
        return self.summary("app")["rps"] / self.summary("ceiling")["rps"]

    @property
    def cpu_ratio(self) -> float:
        """The ratio if both were CPU-bound on the same free core: ceiling CPU / app CPU."""
        app, ceiling = self.summary("app"), self.summary("ceiling")
        return ceiling["cpu_ms_per_request"] / app["cpu_ms_per_request"]

    @property
    def goals_met(self) -> bool:
        app = self.summary("app")
        return (
            self.ratio >= GOALS[self.engine] and app["p99_ms"] < P99_GOAL_MS and not app["errors"]
        )


def describe(run: Run) -> str:
    """One line per run: throughput, latency, CPU per request, and how busy the machine was."""
    database = f" + db {run.database_ms_per_request:4.2f}" if run.cpu.database else ""
    errors = f"  ERRORS {run.load.errors}" if run.load.errors else ""
    return (
        f"{run.load.rps:8,.0f} rps  p50 {run.load.p50_ms:6.1f} ms  p99 {run.load.p99_ms:6.1f} ms  "
        f"cpu {run.server_ms_per_request:5.2f}{database} ms/req  "
        f"others used {run.other_cores:.2f} cores{errors}"
    )


def measure(server: Server, path: str, cookie: str, seconds: int, database: str | None) -> Run:
    """A warm-up, then one measured wrk run against this server."""
    url = f"http://{HOST}:{server.port}{path}"
    headers = [f"Cookie: {SESSION_COOKIE}={cookie}"]

    def load(duration: int) -> wrk.Load:
        return wrk.run(
            url, seconds=duration, connections=CONNECTIONS, threads=WRK_THREADS, headers=headers
        )

    load(WARMUP_SECONDS)
    meter = CpuMeter(server.pid, database)
    meter.start()
    measured = load(seconds)
    return Run(load=measured, cpu=meter.stop())


def profile_run(
    server: Server, path: str, cookie: str, seconds: int, database: str | None, out: Path
) -> str:
    """One more run with py-spy sampling the thread holding the GIL: where Python time goes
    (C code running without the GIL, such as SQLite's own work, is not sampled)."""
    spy = subprocess.Popen(
        [
            PY_SPY,
            "record",
            *("--pid", str(server.pid), "--duration", str(seconds), "--rate", "250"),
            *("--gil", "--nonblocking", "--format", "raw", "--output", str(out)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        run = measure(server, path, cookie, seconds, database)
        spy.wait(timeout=seconds + 30)
    finally:
        if spy.poll() is None:
            spy.kill()
    return f"{describe(run)}\n{stacks.report(out)}"


def run_engine(engine: str, args: argparse.Namespace, workdir: Path) -> EngineResult:
    data_dir = workdir / engine
    data_dir.mkdir()
    database = None
    if engine == "sqlite":
        url = f"sqlite:///{data_dir / 'kindred.db'}"
    else:
        url = args.postgres_url
        database = urlparse(url).path.lstrip("/")
        asyncio.run(recreate_postgres_database(url))
    settings = bench_settings(data_dir, url)
    print(f"\n[{engine}] seeding a thread of 50 posts...", flush=True)
    seeded = asyncio.run(seed(settings))
    path = f"/t/{seeded.thread_id}"

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "KINDRED_DATA_DIR": str(data_dir),
        "KINDRED_DATABASE_URL": url,
        "KINDRED_SECRET_KEY": settings.secret_key,
        "PICCOLO_CONF": "forum.piccolo_conf",
    }
    env.pop("KINDRED_DEBUG", None)
    kindred = shutil.which("kindred", path=str(Path(sys.executable).parent)) or "kindred"
    servers: list[Server] = []
    try:
        app_command = [kindred, "serve", "--host", HOST, "--port", str(free_port())]
        app = Server(f"{engine} app", app_command, env, workdir / f"{engine}-app.log")
        servers.append(app)
        app.wait_ready("/login")
        cookie = sign_in(app.port, READER, PASSWORD, seeded.thread_id)
        app_page = signed_in_page(app.port, path, cookie)
        csrf = CSRF_RE.search(app_page.text)
        ceiling_command = [
            sys.executable,
            str(BENCH_DIR / "ceiling_app.py"),
            *("--host", HOST, "--port", str(free_port())),
            *("--thread", str(seeded.thread_id), "--user", str(seeded.reader_id)),
            # "=": a token may start with "-", which argparse would take for an option.
            f"--csrf={csrf.group(1) if csrf else ''}",
            *(["--kept-list"] if args.ceiling == "kept-list" else []),
        ]
        ceiling = Server(
            f"{engine} ceiling", ceiling_command, env, workdir / f"{engine}-ceiling.log"
        )
        servers.append(ceiling)
        ceiling.wait_ready(path)
        ceiling_page = fetch(ceiling.port, path, cookie=cookie)
        if ceiling_page.status != 200:
            raise RuntimeError(f"the ceiling answered {path} with {ceiling_page.status}")
        page = compare_pages(app_page.text, ceiling_page.text)
        same = "identical" if page["identical"] else f"{page['differing_lines']} lines differ"
        print(
            f"[{engine}] {path}: app {page['app_bytes']:,} bytes, "
            f"ceiling {page['ceiling_bytes']:,} bytes ({same})",
            flush=True,
        )
        for line in page["sample"]:
            print(f"    {line[:110]}")
        if page["size_difference"] > 0.03:
            raise RuntimeError("the ceiling's page differs from the app's by more than 3%")

        rounds: list[dict[str, Run]] = []
        for number in range(1, args.rounds + 1):
            runs: dict[str, Run] = {}
            for target, server in zip(TARGETS, (ceiling, app), strict=True):
                db_name = database if target == "app" else None
                runs[target] = run = measure(server, path, cookie, args.duration, db_name)
                print(f"[{engine}] round {number} {target:<8}{describe(run)}", flush=True)
            rounds.append(runs)
        open_runs: dict[float, dict[str, openloop.OpenLoad]] = {}
        for rate in args.open_rates:
            open_runs[rate] = {}
            for target, server in zip(TARGETS, (ceiling, app), strict=True):
                url = f"http://{HOST}:{server.port}{path}"
                headers = [f"Cookie: {SESSION_COOKIE}={cookie}"]
                openloop.run(url, rate=rate, seconds=WARMUP_SECONDS, headers=headers)
                load = openloop.run(url, rate=rate, seconds=args.duration, headers=headers)
                open_runs[rate][target] = load
                print(
                    f"[{engine}] {rate:g}/s open   {target:<8}p50 {load.p50_ms:6.1f} ms  "
                    f"p90 {load.p90_ms:6.1f} ms  p99 {load.p99_ms:6.1f} ms  "
                    f"max {load.max_ms:6.1f} ms  ({load.achieved_rps:.0f}/s answered"
                    f"{f', {load.errors} errors' if load.errors else ''})",
                    flush=True,
                )
        if args.py_spy:
            for target, server in zip(TARGETS, (ceiling, app), strict=True):
                db_name = database if target == "app" else None
                out = args.py_spy / f"{engine}-{target}.txt"
                report = profile_run(server, path, cookie, args.duration, db_name, out)
                print(f"\n[{engine}] {target} under load, py-spy --gil ({out}):\n{report}")
        # wrk counts redirects as successes: check the reader was still signed in at the end.
        signed_in_page(app.port, path, cookie)
        return EngineResult(engine=engine, page=page, rounds=rounds, open_runs=open_runs)
    finally:
        for server in reversed(servers):
            server.stop()


def machine() -> str:
    import starlette
    import uvicorn

    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    wrk_line = (version.stdout or version.stderr).split(" Copyright")[0].strip()
    return (
        f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}, "
        f"uvicorn {uvicorn.__version__}, Starlette {starlette.__version__}, {wrk_line}"
    )


def code_version() -> str:
    """The commit measured, and whether the working tree had changes on top of it."""
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty=+uncommitted changes"],
        cwd=BENCH_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return described.stdout.strip() or "unknown (not a git checkout)"


def table(results: list[EngineResult]) -> str:
    rows = [
        "| engine | target | rps | p50 ms | p99 ms | CPU ms/req (+ db) | app/ceiling rps | "
        "app/ceiling CPU | goal | met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for result in results:
        for target in TARGETS:
            s = result.summary(target)
            cells = [
                result.engine,
                target,
                f"{s['rps']:,.0f}",
                f"{s['p50_ms']:.1f}",
                f"{s['p99_ms']:.1f}",
                f"{s['server_ms_per_request']:.2f}"
                + (
                    f" + {s['database_ms_per_request']:.2f}" if s["database_ms_per_request"] else ""
                ),
            ]
            if target == "app":
                cells += [
                    f"{result.ratio:.2f}",
                    f"{result.cpu_ratio:.2f}",
                    f">= {GOALS[result.engine]:.1f}x, p99 < {P99_GOAL_MS:.0f} ms",
                    "yes" if result.goals_met else "**no**",
                ]
            else:
                cells += ["", "", "", ""]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def open_table(results: list[EngineResult]) -> str:
    """Latency at fixed rates below saturation, as readers arrive (bench/openloop.py)."""
    rows = [
        "| engine | rate /s | target | p50 ms | p90 ms | p99 ms | max ms | errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for rate, loads in result.open_runs.items():
            for target in TARGETS:
                load = loads[target]
                rows.append(
                    f"| {result.engine} | {rate:g} | {target} | {load.p50_ms:.1f} | "
                    f"{load.p90_ms:.1f} | {load.p99_ms:.1f} | {load.max_ms:.1f} | {load.errors} |"
                )
    return "\n".join(rows)


def as_json(results: list[EngineResult], args: argparse.Namespace) -> str:
    return json.dumps(
        {
            "machine": machine(),
            "code": code_version(),
            "duration": args.duration,
            "rounds": args.rounds,
            "ceiling": args.ceiling,
            "results": [
                {
                    "engine": r.engine,
                    "page": {k: v for k, v in r.page.items() if k != "sample"},
                    **{target: r.summary(target) for target in TARGETS},
                    "ratio": r.ratio,
                    "cpu_ratio": r.cpu_ratio,
                    "goals_met": r.goals_met,
                    "open_loop": {
                        str(rate): {t: asdict(load) for t, load in loads.items()}
                        for rate, loads in r.open_runs.items()
                    },
                    "runs": [
                        {t: {**asdict(run.load), "cpu": asdict(run.cpu)} for t, run in runs.items()}
                        for runs in r.rounds
                    ],
                }
                for r in results
            ],
        },
        indent=2,
    )


def use_this_checkout() -> None:
    """Import this checkout's packages first, here and (PYTHONPATH) in the servers: an editable
    install made before a package gained its __init__.py would serve it as a namespace package."""
    if str(ROOT) not in sys.path:
        sys.path.insert(1, str(ROOT))


@contextmanager
def stopped_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so the `finally` blocks stop the servers."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=2, help="ceiling/app alternations per engine")
    parser.add_argument("--quick", action="store_true", help="one round of 3 s runs")
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/kindred_bench",
        help="a database on 127.0.0.1 this script may drop and create",
    )
    parser.add_argument(
        "--open-rates",
        default="100,200",
        help="after the rounds, latency at these fixed request rates (comma-separated, "
        "per second; bench/openloop.py); empty for none",
    )
    parser.add_argument(
        "--ceiling",
        choices=["naive", "kept-list"],
        default="naive",
        help="naive (the goal's): the ceiling renders the whole page every time; kept-list: "
        "it keeps the list of posts rendered as the app does, so the ratio shows what the "
        "app adds besides rendering",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the data and server logs")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is not met")
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="DIR",
        help="after measuring, sample each server under load with py-spy into DIR (not timed)",
    )
    args = parser.parse_args(argv)
    use_this_checkout()
    if args.quick:
        args.duration, args.rounds = 3, 1
    try:
        args.open_rates = [float(rate) for rate in args.open_rates.split(",") if rate.strip()]
    except ValueError:
        parser.error("--open-rates takes numbers, like 100,200")
    if any(rate <= 0 for rate in args.open_rates):
        parser.error("--open-rates must be above 0")
    if args.duration < 1 or args.rounds < 1:
        parser.error("--duration and --rounds must be at least 1")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    if args.py_spy:
        if shutil.which(PY_SPY) is None:
            parser.error("py-spy is not installed (.venv/bin/pip install py-spy)")
        args.py_spy.mkdir(parents=True, exist_ok=True)
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    if "postgres" in engines and urlparse(args.postgres_url).hostname not in (HOST, "localhost"):
        parser.error("this benchmark only talks to servers on 127.0.0.1")

    print(f"machine: {machine()}")
    print(f"code: {code_version()}")
    print(f"ceiling: {args.ceiling}")
    print(
        f"load: wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{args.duration}s --latency, "
        f"{WARMUP_SECONDS} s warm-up before each run, {args.rounds} round(s)"
    )
    workdir = Path(tempfile.mkdtemp(prefix="kindred-bench-"))
    results: list[EngineResult] = []
    try:
        with stopped_on_sigterm():
            for engine in engines:
                results.append(run_engine(engine, args, workdir))
    finally:
        if "postgres" in engines and not args.keep:
            try:
                asyncio.run(recreate_postgres_database(args.postgres_url, drop_only=True))
            except Exception as error:  # a failed clean-up must not hide the run's own error
                print(f"could not drop the benchmark database: {error}", file=sys.stderr)
        if args.keep:
            print(f"data and server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print("\nrps, p50 and CPU: mean over the rounds; p99: the worst round.\n")
    print(table(results))
    if args.open_rates:
        print("\nOpen loop: requests at a fixed rate, latency from when each was due.\n")
        print(open_table(results))
    others = statistics.fmean(
        run.other_cores for r in results for runs in r.rounds for run in runs.values()
    )
    print(f"\nOther processes kept {others:.2f} of {os.cpu_count()} cores busy during the runs.")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(as_json(results, args))
    return 1 if args.check and not all(r.goals_met for r in results) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: the servers were stopped")
