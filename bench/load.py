"""Load and crash test: members read, reply, react, flag and search on a real `kindred serve`.

    .venv/bin/python bench/load.py --engine sqlite --workers 1            # 50 members, 2 minutes
    .venv/bin/python bench/load.py --engine postgres --workers 2 --kill-at 60
    .venv/bin/python bench/load.py --engine sqlite --kill-search-writer-at 40

It seeds a fresh database (two communities, 20 threads, N established members, a few on
immediate e-mail), starts `kindred serve` in its own process group on 127.0.0.1, and runs N
virtual members as a bounded asyncio client (httpx). Each member loops without pause: read a
thread page, read a community page (HTML, signed in), reply through the API, react to someone
else's reply, flag one now and then, and search. Mail goes to an SMTP sink in this process, so
every delivery is counted. `--kill-at` kills the server's whole process group with SIGKILL and
starts it again; `--kill-search-writer-at` runs the search writer as its own process
(KINDRED_SEARCH_WRITER=separate) and kills that alone, leaving it down for `--writer-down`.

Afterwards it checks what must hold, and exits non-zero if anything does not: no 5xx and no
429, every acknowledged reply stored and published, the search outbox drained and every
acknowledged reply findable through the search API, `PRAGMA integrity_check` = ok (SQLite, right
after each kill and at the end), no notification twice for the same person and content, no mail
queued twice and no mail delivered twice (by Message-ID). tests/reliability uses this module.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# This checkout's packages first; the bench's sibling modules (cpu, seeding) wherever they fit.
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))
if str(BENCH_DIR) not in sys.path:
    sys.path.append(str(BENCH_DIR))

from cpu import machine_busy_seconds, postgres_backends, process_seconds  # noqa: E402
from seeding import SENTENCES, bench_settings, recreate_postgres_database  # noqa: E402

HOST = "127.0.0.1"
PASSWORD = "correct horse battery"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/kindred_load"
ACTIONS = ("read_thread", "read_community", "reply", "react", "flag", "search")
COMMUNITIES = (("celiac", "Celiac disease"), ("crohns", "Crohn's disease"))
THREADS_PER_COMMUNITY = 10
HOME_THREADS = 3  # each member replies in a few threads, as people do (and follows them)
IMMEDIATE_MAIL_EVERY = 10  # one member in ten wants every notification by e-mail at once
FLAG_SHARE = 0.1
SEARCH_WORDS = ("gluten", "restaurant", "symptoms", "label", "fatigue", "travelling", "toaster")
GENEROUS_LIMITS = "sign_in_ip=100000/60,sign_in_user=100000/60,register_ip=100000/60," + (
    "post_user=100000/60"
)
# Members post and flag far more here than people do (moderation/rules/trust.toml): a "helpful"
# reaction recomputes a member's level from their record, so every level gets the same room.
TRUST_OVERRIDE = "".join(f"[limits.{level}]\nposts_per_day = 1000000\n\n" for level in range(4)) + (
    "[flags]\nper_hour = 100000\n"
)
START_TIMEOUT = 60.0
# Lines of a server's log that mean something went wrong, even if no request failed.
PROBLEM_LINE = re.compile(
    r"^(ERROR|CRITICAL|unhandled error|[\w.]+(Error|Exception):)|drain failed|round failed"
)
# Drop idle connections before uvicorn does (its keep-alive timeout is 5 s): a request sent on
# a connection the server is closing at that instant fails without an answer. (A reverse proxy
# needs the same care: docs/deploy.md.)
KEEPALIVE = httpx.Limits(max_connections=200, keepalive_expiry=2.0)


@dataclass
class Config:
    engine: str = "sqlite"
    workers: int = 1
    duration: float = 120.0
    members: int = 50
    kill_at: float | None = None
    kill_search_writer_at: float | None = None
    writer_down: float = 10.0
    postgres_url: str = POSTGRES_URL
    workdir: Path | None = None
    port: int = 0
    seed: int = 2026
    search_timeout: float = 180.0
    mail_timeout: float = 60.0
    quiet: bool = False
    threads_per_community: int = THREADS_PER_COMMUNITY
    # An empty, migrated database to use instead of making one (the test suite's): a SQLite
    # file to copy, or a PostgreSQL database to fill.
    migrated_url: str | None = None

    @property
    def separate_writer(self) -> bool:
        return self.kill_search_writer_at is not None


# Mail: an SMTP sink ---------------------------------------------------------------------------


class SmtpSink:
    """Just enough SMTP to take mail from smtplib over loopback; counts Message-IDs."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._session, HOST, 0)
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2.0)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"220 sink ESMTP\r\n")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250-sink\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    message = await reader.readuntil(b"\r\n.\r\n")
                    found = re.search(rb"(?im)^message-id:\s*(\S+)", message)
                    self.received[found.group(1).decode() if found else "(none)"] += 1
                    writer.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:  # MAIL, RCPT, RSET, NOOP
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


# Seeding --------------------------------------------------------------------------------------


@dataclass
class Site:
    database_url: str
    secret_key: str
    members: list[str]
    threads: list[int]
    seeded_posts: list[tuple[int, int]]  # (post id, author index) of the seeded replies


def reply_text(rng: random.Random, marker: str) -> str:
    """A short reply carrying a word found nowhere else, so search can prove it is indexed."""
    return " ".join([*rng.sample(SENTENCES, 2), f"Reference {marker}."])


async def seed(config: Config, data_dir: Path) -> Site:
    """A fresh database: an admin, two communities, the members and their threads."""
    from forum import accounts, communities, db, mail, threads
    from forum.tables import User

    if config.engine == "sqlite":
        url = f"sqlite:///{data_dir / 'kindred.db'}"
        if config.migrated_url:
            shutil.copyfile(config.migrated_url.removeprefix("sqlite:///"), data_dir / "kindred.db")
    else:
        url = config.migrated_url or config.postgres_url
        if not config.migrated_url:
            await recreate_postgres_database(url)
    settings = bench_settings(data_dir, url).with_changes(
        search_backend="postgres" if config.engine == "postgres" else "whoosh"
    )
    (data_dir / "moderation").mkdir(parents=True, exist_ok=True)
    (data_dir / "moderation" / "trust.toml").write_text(TRUST_OVERRIDE)
    engine = db.create_engine(settings)
    if not config.migrated_url:
        await db.migrate(engine)
    db.bind_engine(engine)
    await db.start(engine, settings)
    rng = random.Random(config.seed)
    try:

        async def viewer_of(user_id: int) -> Any:
            return await accounts.load_viewer(user_id, await accounts.session_epoch(user_id))

        admin = await accounts.register(
            settings, accounts.Registration(username="ada_admin", password=PASSWORD), role="admin"
        )
        for slug, name in COMMUNITIES:
            await communities.create_community(
                await viewer_of(admin["id"]), slug=slug, name=name, description=f"About {name}."
            )
        names = [f"member{number:03d}" for number in range(config.members)]
        ids = []
        for number, username in enumerate(names):
            user = await accounts.register(
                settings,
                accounts.Registration(
                    username=username, password=PASSWORD, email=f"{username}@example.org"
                ),
            )
            ids.append(user["id"])
            if number % IMMEDIATE_MAIL_EVERY == 0:
                await mail.set_mode(user["id"], "immediate")
        await User.update({User.trust_level: 2}).where(User.id.is_in(ids))
        for user_id in ids:
            for slug, _ in COMMUNITIES:
                await communities.join(await viewer_of(user_id), slug)
        thread_ids: list[int] = []
        seeded_posts: list[tuple[int, int]] = []
        for number in range(config.threads_per_community * len(COMMUNITIES)):
            slug = COMMUNITIES[number // config.threads_per_community][0]
            author = number % len(ids)
            draft = threads.Draft(
                title=f"Living with it, week {number + 1}: what helped?",
                body=" ".join(rng.sample(SENTENCES, 3)),
            )
            thread = await threads.start_thread(settings, await viewer_of(ids[author]), slug, draft)
            thread_ids.append(thread["id"])
            for offset in (1, 2):
                replier = (author + offset) % len(ids)
                body = " ".join(rng.sample(SENTENCES, 2))
                post = await threads.post_reply(
                    settings, await viewer_of(ids[replier]), thread["id"], body
                )
                seeded_posts.append((post["id"], replier))
        return Site(url, secrets.token_urlsafe(32), names, thread_ids, seeded_posts)
    finally:
        await db.stop(engine)


# Processes ------------------------------------------------------------------------------------


class Process:
    """A `kindred` command in its own process group (so kill -9 takes its workers too)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        kindred = shutil.which("kindred", path=str(Path(sys.executable).parent)) or "kindred"
        self.starts += 1
        with self.log.open("ab") as handle:
            handle.write(f"\n=== start {self.starts}: kindred {' '.join(self.args)}\n".encode())
            handle.flush()
            self.process = subprocess.Popen(
                [kindred, *self.args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group, as a crash or the OOM killer would."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to the group (a graceful stop), SIGKILL if it is still there after 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def errors(self) -> list[str]:
        """Tracebacks' last lines and logged errors, to show next to a failure."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if re.search(PROBLEM_LINE, line)]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# Measuring ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one action saw: latencies of answered requests, and every status."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def record(self, status: int, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses[str(status)] += 1

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def count(self, prefix: str) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith(prefix))


@dataclass
class Acknowledged:
    post_id: int
    thread_id: int
    marker: str
    member: int
    status: str


@dataclass
class State:
    config: Config
    site: Site
    base: str
    figures: dict[str, Figures] = field(default_factory=lambda: {a: Figures() for a in ACTIONS})
    acknowledged: list[Acknowledged] = field(default_factory=list)
    unanswered_markers: list[str] = field(default_factory=list)  # posts sent, no answer
    unexpected: Counter[str] = field(default_factory=Counter)  # "action status: message"
    flaggable: list[tuple[int, int]] = field(default_factory=list)
    reactable: list[tuple[int, int]] = field(default_factory=list)
    markers: int = 0


class Member:
    """One virtual member: a signed-in browser session for pages and a token for the API."""

    def __init__(self, state: State, number: int, api: httpx.AsyncClient) -> None:
        self.state = state
        self.number = number
        self.username = state.site.members[number]
        self.api = api
        self.pages = httpx.AsyncClient(base_url=state.base, timeout=120.0, limits=KEEPALIVE)
        self.token = ""
        self.rng = random.Random(state.config.seed * 1000 + number)
        threads = state.site.threads
        self.home = self.rng.sample(threads, min(HOME_THREADS, len(threads)))
        self.mine: list[str] = []

    async def sign_in(self) -> None:
        login = await self.pages.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        if login.status_code != 200 or csrf is None:
            raise RuntimeError(f"GET /login gave {login.status_code} without a CSRF token")
        form = {"username": self.username, "password": PASSWORD, "csrf_token": csrf.group(1)}
        posted = await self.pages.post("/login", data=form)
        if posted.status_code != 303:
            raise RuntimeError(f"{self.username}: POST /login gave {posted.status_code}")
        answer = await self.api.post(
            "/api/v1/auth/token", json={"username": self.username, "password": PASSWORD}
        )
        answer.raise_for_status()
        self.token = answer.json()["token"]

    async def close(self) -> None:
        await self.pages.aclose()

    async def request(
        self, action: str, method: str, path: str, *, page: bool = False, **kwargs: Any
    ) -> httpx.Response | None:
        """One timed request; None when the server was not there to answer (a kill)."""
        client = self.pages if page else self.api
        if not page:
            kwargs["headers"] = {"Authorization": f"Bearer {self.token}"}
        started = time.monotonic()
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            self.state.unexpected[f"{action} no answer: {type(error).__name__}"] += 1
            await asyncio.sleep(0.1)
            return None
        self.state.figures[action].record(response.status_code, time.monotonic() - started)
        expected = 200 if method == "GET" else (201 if action in ("reply", "flag") else 200)
        if response.status_code != expected:
            message = response.text[:160].replace("\n", " ")
            self.state.unexpected[f"{action} {response.status_code}: {message}"] += 1
        return response

    async def run(self, deadline: float) -> None:
        state, rng = self.state, self.rng
        while time.monotonic() < deadline:
            thread_id = rng.choice(state.site.threads)
            response = await self.request(
                "read_thread", "GET", f"/t/{thread_id}", page=True, follow_redirects=False
            )
            if response is not None and 'action="/logout"' not in response.text:
                state.unexpected["read_thread: not signed in"] += 1
            slug = COMMUNITIES[rng.randrange(len(COMMUNITIES))][0]
            await self.request("read_community", "GET", f"/c/{slug}", page=True)
            await self.reply(rng.choice(self.home))
            await self.react()
            if rng.random() < FLAG_SHARE:
                await self.flag()
            await self.search()

    async def reply(self, thread_id: int) -> None:
        state = self.state
        state.markers += 1
        marker = f"zq{state.config.seed}m{self.number}n{state.markers}"
        body = reply_text(self.rng, marker)
        response = await self.request(
            "reply", "POST", f"/api/v1/threads/{thread_id}/posts", json={"body": body}
        )
        if response is None:
            state.unanswered_markers.append(marker)
        elif response.status_code == 201:
            data = response.json()
            state.acknowledged.append(
                Acknowledged(data["id"], thread_id, marker, self.number, data["status"])
            )
            state.reactable.append((data["id"], self.number))
            state.flaggable.append((data["id"], self.number))
            self.mine.append(marker)

    def _pick(self, pool: list[tuple[int, int]], *, take: bool) -> int | None:
        """A post by someone else from the pool (taken out of it when `take`)."""
        for _ in range(8):
            if not pool:
                return None
            index = self.rng.randrange(len(pool))
            post_id, author = pool[index]
            if author != self.number:
                if take:
                    pool[index] = pool[-1]
                    pool.pop()
                return post_id
        return None

    async def react(self) -> None:
        post_id = self._pick(self.state.reactable or self.state.site.seeded_posts, take=False)
        if post_id is not None:
            kind = self.rng.choice(("helpful", "support", "me_too"))
            await self.request(
                "react", "POST", f"/api/v1/posts/{post_id}/reactions", json={"kind": kind}
            )

    async def flag(self) -> None:
        # Each post is flagged once at most: a second flag could hide it (auto_hide_weight),
        # and a hidden reply is rightly not findable.
        post_id = self._pick(self.state.flaggable, take=True)
        if post_id is not None:
            await self.request(
                "flag",
                "POST",
                f"/api/v1/posts/{post_id}/flags",
                json={"reason": "other", "note": "Load test: please ignore."},
            )

    async def search(self) -> None:
        recent = self.mine[-5:]
        query = self.rng.choice(recent) if recent and self.rng.random() < 0.5 else None
        query = query or self.rng.choice(SEARCH_WORDS)
        await self.request("search", "GET", "/api/v1/search", params={"q": query})


# Running --------------------------------------------------------------------------------------


@dataclass
class Recovery:
    what: str
    at: float  # seconds into the load
    integrity: str  # SQLite integrity check right after the kill ("-" for PostgreSQL)
    backlog: int  # outbox rows waiting when it came back
    to_first_answer: float  # from restart to the first 200 (app) or start of writing (writer)
    to_caught_up: float  # from restart until no outbox row older than the restart is left
    mail_left: str = "-"  # mail rows the dead server left "sending" / "delivering"


@dataclass
class Result:
    config: dict[str, Any]
    machine: dict[str, Any]
    seconds: float
    requests: int
    per_action: dict[str, dict[str, Any]]
    acknowledged: int
    held: int
    missing: list[int]
    unanswered: int
    phantoms: int
    not_found: list[str]
    outbox_drain_seconds: float
    outbox_left: int
    integrity: str
    duplicate_notifications: int
    duplicate_mail_rows: int
    mail_delivered: int
    mail_sent_rows: int
    mail_delivered_twice: int
    mail_sent_not_delivered: int
    mail_pending: int
    mail_per_second: float  # delivered while the backlog drained after the load
    mail_stuck_sending: int  # claimed by a killed process before delivery, still not sent
    mail_stuck_delivered: int  # ... yet already delivered: would arrive twice (must be 0)
    mail_interrupted: int  # killed during delivery: never sent again
    mail_interrupted_lost: int  # ... and the sink never got it: lost, in that window only
    notifications: int
    flags: int
    reactions: int
    recoveries: list[Recovery]
    unexpected: dict[str, int]
    server_errors: list[str]
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """Every invariant that failed, in words."""
        found = []
        fives = sum(figures["5xx"] for figures in self.per_action.values())
        limited = sum(figures["429"] for figures in self.per_action.values())
        if fives:
            found.append(f"{fives} responses were 5xx")
        if limited:
            found.append(f"{limited} responses were 429 (rate limited)")
        if self.missing:
            found.append(
                f"{len(self.missing)} acknowledged replies are missing: {self.missing[:10]}"
            )
        if self.held:
            found.append(f"{self.held} acknowledged replies were held, not published")
        if self.outbox_left:
            found.append(f"the search outbox still held {self.outbox_left} rows")
        if self.not_found:
            found.append(f"{len(self.not_found)} replies not findable: {self.not_found[:5]}")
        if self.integrity not in ("ok", "-") or any(
            r.integrity not in ("ok", "-") for r in self.recoveries
        ):
            found.append(f"SQLite integrity check: {self.integrity}")
        if self.duplicate_notifications:
            found.append(f"{self.duplicate_notifications} duplicate notifications")
        if self.duplicate_mail_rows or self.mail_delivered_twice:
            found.append(
                f"duplicate mail: {self.duplicate_mail_rows} rows, "
                f"{self.mail_delivered_twice} delivered twice"
            )
        if self.mail_stuck_delivered:
            found.append(f"{self.mail_stuck_delivered} delivered mails will be sent again")
        if self.mail_sent_not_delivered:
            found.append(f"{self.mail_sent_not_delivered} mails marked sent never arrived")
        if self.requests == 0 or not self.acknowledged:
            found.append("nothing was posted")
        wrong = {what: n for what, n in self.unexpected.items() if " no answer" not in what}
        if wrong:
            found.append(f"unexpected answers: {wrong}")
        if self.server_errors:
            found.append(f"the servers logged errors: {self.server_errors[:3]}")
        if not self.recoveries and len(wrong) != len(self.unexpected):
            found.append("requests went unanswered though nothing was killed")
        return found


def integrity_check(database_url: str) -> str:
    """SQLite's own check of the file ("ok" when intact); "-" for PostgreSQL."""
    if not database_url.startswith("sqlite:"):
        return "-"
    path = database_url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, timeout=30)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()
    return "; ".join(str(row[0]) for row in rows[:5])


async def scalar(sql: str, *args: Any) -> int:
    from forum import db

    rows = await db.raw(sql, *args)
    return int(next(iter(rows[0].values()))) if rows else 0


async def wait_for_answer(base: str, process: Process, since: float) -> float:
    """Seconds from `since` until the server answers 200, polling every 50 ms."""
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=base, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not process.alive():
                raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/login")).status_code == 200:
                    return time.monotonic() - since
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{process.name} did not answer in {START_TIMEOUT:.0f} s:\n{process.tail()}")


async def outbox_older_than(moment: float) -> int:
    """Outbox rows created before this wall-clock moment (time.time())."""
    from datetime import UTC, datetime

    return await scalar(
        'SELECT COUNT(*) AS n FROM "search_outbox" WHERE "created_at" < {}',
        datetime.fromtimestamp(moment, UTC),
    )


async def caught_up(since_wall: float, since: float, limit: float = 180.0) -> float:
    """Seconds from `since` until no outbox row written before `since_wall` is left."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not await outbox_older_than(since_wall):
            return time.monotonic() - since
        await asyncio.sleep(0.1)
    return float("inf")


async def kill_app(state: State, app: Process, at: float, started: float) -> Recovery:
    await asyncio.sleep(max(0.0, started + at - time.monotonic()))
    log(state, f"kill -9 the server's process group at {time.monotonic() - started:.1f} s")
    app.kill()
    integrity = integrity_check(state.site.database_url)
    restart, restart_wall = time.monotonic(), time.time()
    backlog = await scalar('SELECT COUNT(*) AS n FROM "search_outbox"')
    left = "/".join([str(await mail_count("sending")), str(await mail_count("delivering"))])
    app.start()
    first = await wait_for_answer(state.base, app, restart)
    drained = await caught_up(restart_wall, restart)
    log(state, f"server back after {first:.2f} s; outbox caught up after {drained:.2f} s")
    return Recovery("server (kill -9 the group)", at, integrity, backlog, first, drained, left)


async def kill_writer(state: State, writer: Process, at: float, started: float) -> Recovery:
    await asyncio.sleep(max(0.0, started + at - time.monotonic()))
    log(state, f"kill -9 the search writer at {time.monotonic() - started:.1f} s")
    writer.kill()
    integrity = integrity_check(state.site.database_url)
    await asyncio.sleep(state.config.writer_down)
    backlog = await scalar('SELECT COUNT(*) AS n FROM "search_outbox"')
    restart, restart_wall = time.monotonic(), time.time()
    writer.start()
    drained = await caught_up(restart_wall, restart)
    log(state, f"writer restarted with {backlog} rows waiting; caught up after {drained:.2f} s")
    return Recovery("search writer alone", at, integrity, backlog, 0.0, drained)


def log(state: State, message: str) -> None:
    if not state.config.quiet:
        print(f"[load] {message}", flush=True)


class CpuClock:
    """CPU seconds over the load: the whole machine, this client, the server's process group
    and PostgreSQL's backends for its database (those two only when nothing was killed)."""

    def __init__(self, server_group: int, database: str | None) -> None:
        self.server_group = server_group
        self.database = database
        self.start = self._read()

    def _read(self) -> dict[str, float]:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
        group = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.server_group:
                group += process_seconds(pid)
        backends = postgres_backends(self.database) if self.database else []
        return {
            "machine": machine_busy_seconds(),
            "client": own.ru_utime + own.ru_stime,
            "server": group,
            "postgres": sum(process_seconds(pid) for pid in backends),
            "wall": time.monotonic(),
        }

    def cores(self, killed: bool) -> dict[str, float | None]:
        """Cores kept busy on average: machine, client, server, PostgreSQL."""
        end = self._read()
        wall = end["wall"] - self.start["wall"]
        used = {name: (end[name] - self.start[name]) / wall for name in end if name != "wall"}
        return {
            "machine": round(used["machine"], 2),
            "client": round(used["client"], 2),
            "server": None if killed else round(used["server"], 2),
            # Backends come and go with the pool; those of a killed server are gone.
            "postgres": None if killed or not self.database else round(used["postgres"], 2),
        }


def machine() -> dict[str, Any]:
    """The machine's load now: other processes share these cores."""
    load1, load5, _ = os.getloadavg()
    return {"cores": os.cpu_count(), "load1": round(load1, 2), "load5": round(load5, 2)}


async def run(config: Config) -> Result:
    """Seed, serve, load, kill as asked, then verify; never leaves a process behind."""
    from forum import db
    from forum.settings import Settings

    clock = time.monotonic()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        nonlocal clock
        phases[name] = round(time.monotonic() - clock, 2)
        clock = time.monotonic()

    workdir = config.workdir or Path(tempfile.mkdtemp(prefix="kindred-load-"))
    if workdir.exists():
        shutil.rmtree(workdir)
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True)
    site = await seed(config, data_dir)
    phase("seed")
    sink = SmtpSink()
    await sink.start()
    port = config.port or free_port()
    base = f"http://{HOST}:{port}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("KINDRED_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        PICCOLO_CONF="forum.piccolo_conf",
        KINDRED_DATA_DIR=str(data_dir),
        KINDRED_DATABASE_URL=site.database_url,
        KINDRED_SECRET_KEY=site.secret_key,
        KINDRED_BASE_URL=base,
        KINDRED_SEARCH="postgres" if config.engine == "postgres" else "whoosh",
        KINDRED_SEARCH_WRITER="separate" if config.separate_writer else "inline",
        KINDRED_RATE_LIMITS=GENEROUS_LIMITS,
        KINDRED_SMTP_HOST=HOST,
        KINDRED_SMTP_PORT=str(sink.port),
        KINDRED_SMTP_STARTTLS="off",
    )
    serve = ["serve", "--host", HOST, "--port", str(port), "--workers", str(config.workers)]
    app = Process("kindred serve", serve, env, workdir / "server.log")
    writer = Process("kindred search-writer", ["search-writer"], env, workdir / "writer.log")
    settings = Settings(
        data_dir=data_dir, database_url=site.database_url, secret_key=site.secret_key
    )
    engine = db.create_engine(settings)
    db.bind_engine(engine)
    await db.start(engine, settings)
    state = State(config, site, base)
    state.flaggable = list(site.seeded_posts)
    members: list[Member] = []
    api = httpx.AsyncClient(base_url=base, timeout=120.0, limits=KEEPALIVE)
    try:
        app.start()
        if config.separate_writer:
            writer.start()
        await wait_for_answer(base, app, time.monotonic())
        phase("start")
        members = [Member(state, number, api) for number in range(config.members)]
        await asyncio.gather(*(member.sign_in() for member in members))
        phase("sign_in")
        machine_before = machine()
        log(state, f"{config.members} members on {config.engine}, {config.workers} worker(s)")
        database = urlparse(site.database_url).path.lstrip("/")
        cpu = CpuClock(
            app.process.pid if app.process else 0, None if config.engine == "sqlite" else database
        )
        started = time.monotonic()
        deadline = started + config.duration
        tasks = [asyncio.create_task(member.run(deadline)) for member in members]
        chaos = []
        if config.kill_at is not None:
            chaos.append(asyncio.create_task(kill_app(state, app, config.kill_at, started)))
        if config.kill_search_writer_at is not None:
            at = config.kill_search_writer_at
            chaos.append(asyncio.create_task(kill_writer(state, writer, at, started)))
        await asyncio.gather(*tasks)
        recoveries = list(await asyncio.gather(*chaos))
        seconds = time.monotonic() - started
        machine_after = machine()
        cores = cpu.cores(killed=config.kill_at is not None)
        phase("load")
        log(state, f"load done after {seconds:.1f} s; verifying")
        result = await verify(state, sink, app, writer, seconds, recoveries)
        phase("verify")
        result.machine = {"before": machine_before, "after": machine_after, "cores_busy": cores}
        result.phases = phases
        return result
    finally:
        for member in members:
            await member.close()
        await api.aclose()
        writer.stop()
        app.stop()
        await sink.stop()
        await db.stop(engine)


def message_id(row_id: int, key: str, host: str) -> str:
    """The Message-ID forum.mail gives the mail of this outbox row."""
    digest = hashlib.sha256(f"{row_id}:{key}".encode()).hexdigest()[:24]
    return f"<kindred.{digest}@{host}>"


async def outbox_count() -> int:
    return await scalar('SELECT COUNT(*) AS n FROM "search_outbox"')


async def mail_count(status: str) -> int:
    return await scalar('SELECT COUNT(*) AS n FROM "mail_outbox" WHERE "status" = {}', status)


async def mail_pending() -> int:
    return await mail_count("pending")


async def until(check: Callable[[], Awaitable[int]], deadline: float, every: float) -> None:
    """Poll `check` until it gives 0 or the deadline passes."""
    while True:
        if not await check() or time.monotonic() >= deadline:
            return
        await asyncio.sleep(every)


async def verify(
    state: State,
    sink: SmtpSink,
    app: Process,
    writer: Process,
    seconds: float,
    recoveries: list[Recovery],
) -> Result:
    from forum import db

    config, site = state.config, state.site
    # The search outbox drains (and the mail goes) while the server still runs.
    end = time.monotonic()
    await until(outbox_count, end + config.search_timeout, 0.1)
    drain_seconds = time.monotonic() - end
    outbox_left = await outbox_count()

    acknowledged = {a.post_id: a for a in state.acknowledged}
    stored: dict[int, str] = {}
    ids = sorted(acknowledged)
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ", ".join("{}" for _ in batch)
        for row in await db.raw(
            f'SELECT "id", "status" FROM "post" WHERE "id" IN ({marks})', *batch
        ):
            stored[row["id"]] = row["status"]
    missing = [post_id for post_id in ids if post_id not in stored]
    held = sum(1 for post_id in ids if stored.get(post_id) not in (None, "published"))
    phantoms = 0
    for marker in state.unanswered_markers:
        phantoms += await scalar(
            'SELECT COUNT(*) AS n FROM "post" WHERE "body" LIKE {}', f"%{marker}.%"
        )

    # Every acknowledged reply is findable by its marker (the index holds threads).
    not_found: list[str] = []
    searcher = httpx.AsyncClient(base_url=state.base, timeout=60.0, limits=KEEPALIVE)
    gate = asyncio.Semaphore(8)

    async def find(item: Acknowledged) -> None:
        async with gate:
            response = await searcher.get("/api/v1/search", params={"q": item.marker})
            if response.status_code >= 500:
                state.figures["search"].record(response.status_code, 0.0)
            hits = response.json().get("items", []) if response.status_code == 200 else []
            if not any(hit["kind"] == "thread" and hit["id"] == item.thread_id for hit in hits):
                not_found.append(item.marker)

    try:
        if app.alive():
            await asyncio.gather(*(find(item) for item in state.acknowledged))
        else:
            not_found = ["(the server was not running)"]
    finally:
        await searcher.aclose()

    # How fast the mailer works through the backlog, with nothing else going on.
    backlog_at, delivered_at = time.monotonic(), sum(sink.received.values())
    await until(mail_pending, time.monotonic() + config.mail_timeout, 0.5)
    backlog_seconds = time.monotonic() - backlog_at
    mail_rate = (sum(sink.received.values()) - delivered_at) / max(backlog_seconds, 0.001)
    app.stop()  # a graceful stop; then the file is checked as it rests
    await asyncio.sleep(0.5)  # let the sink take the last QUIT
    integrity = integrity_check(site.database_url)
    sent_rows = await db.raw('SELECT "id", "key" FROM "mail_outbox" WHERE "status" = {}', "sent")
    stuck_rows = await db.raw(
        'SELECT "id", "key" FROM "mail_outbox" WHERE "status" = {}', "sending"
    )
    # Left "delivering" by the killed process; a restarted one sets them "interrupted" at once.
    interrupted_rows = await db.raw(
        'SELECT "id", "key" FROM "mail_outbox" WHERE "status" IN ({}, {})',
        "delivering",
        "interrupted",
    )
    host = urlparse(state.base).hostname or "localhost"
    expected = {message_id(row["id"], row["key"], host) for row in sent_rows}
    per_action: dict[str, dict[str, Any]] = {}
    for action, figures in state.figures.items():
        per_action[action] = {
            "requests": len(figures.latencies),
            "2xx": figures.count("2"),
            "4xx": figures.count("4"),
            "429": figures.statuses.get("429", 0),
            "5xx": figures.count("5"),
            "p50_ms": round(figures.percentile(0.50), 1),
            "p99_ms": round(figures.percentile(0.99), 1),
        }
    duplicates = 'SELECT COUNT(*) AS n FROM (SELECT 1 FROM "{}" GROUP BY {} HAVING COUNT(*) > 1) d'
    return Result(
        config={k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        machine={},
        seconds=round(seconds, 1),
        requests=sum(len(f.latencies) for f in state.figures.values()),
        per_action=per_action,
        acknowledged=len(ids),
        held=held,
        missing=missing,
        unanswered=len(state.unanswered_markers),
        phantoms=phantoms,
        not_found=not_found,
        outbox_drain_seconds=round(drain_seconds, 2),
        outbox_left=outbox_left,
        integrity=integrity,
        duplicate_notifications=await scalar(
            duplicates.format("notification", '"user", "subject"')
        ),
        duplicate_mail_rows=await scalar(duplicates.format("mail_outbox", '"key"'))
        + await scalar(
            'SELECT COUNT(*) AS n FROM (SELECT 1 FROM "mail_outbox" WHERE "notification" IS NOT '
            'NULL GROUP BY "notification" HAVING COUNT(*) > 1) d'
        ),
        mail_delivered=sum(sink.received.values()),
        mail_sent_rows=len(sent_rows),
        mail_delivered_twice=sum(1 for n in sink.received.values() if n > 1),
        mail_sent_not_delivered=len(expected - set(sink.received)),
        mail_pending=await scalar(
            'SELECT COUNT(*) AS n FROM "mail_outbox" WHERE "status" = {}', "pending"
        ),
        mail_per_second=round(mail_rate, 1),
        mail_stuck_sending=len(stuck_rows),
        mail_interrupted=len(interrupted_rows),
        mail_interrupted_lost=sum(
            1
            for row in interrupted_rows
            if message_id(row["id"], row["key"], host) not in sink.received
        ),
        mail_stuck_delivered=sum(
            1 for row in stuck_rows if message_id(row["id"], row["key"], host) in sink.received
        ),
        notifications=await scalar('SELECT COUNT(*) AS n FROM "notification"'),
        flags=await scalar('SELECT COUNT(*) AS n FROM "moderation_flag"'),
        reactions=await scalar('SELECT COUNT(*) AS n FROM "reaction"'),
        recoveries=recoveries,
        unexpected=dict(state.unexpected.most_common(20)),
        server_errors=[*app.errors(), *writer.errors()][:20],
    )


# Reporting ------------------------------------------------------------------------------------


def table(result: Result) -> str:
    """The figures as a Markdown table and a few lines, for docs/reliability.md."""
    config = result.config
    lines = [
        f"{config['members']} members, {config['engine']}, {config['workers']} worker(s), "
        f"{result.seconds:.0f} s; load average before/after: "
        f"{result.machine['before']['load1']}/{result.machine['after']['load1']} "
        f"on {result.machine['before']['cores']} cores; cores busy during the load: "
        + ", ".join(
            f"{name} {value}"
            for name, value in result.machine["cores_busy"].items()
            if value is not None
        ),
        "",
        "| action | requests | per s | 2xx | 4xx | 5xx | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for action, figures in result.per_action.items():
        lines.append(
            f"| {action} | {figures['requests']:,} | {figures['requests'] / result.seconds:.1f} "
            f"| {figures['2xx']:,} | {figures['4xx']} | {figures['5xx']} "
            f"| {figures['p50_ms']:.0f} | {figures['p99_ms']:.0f} |"
        )
    lines += [
        f"| all | {result.requests:,} | {result.requests / result.seconds:.1f} | | | | | |",
        "",
        f"- acknowledged replies {result.acknowledged:,}: missing {len(result.missing)}, "
        f"held {result.held}, not findable by search {len(result.not_found)}; "
        f"unanswered while down {result.unanswered} (of which stored anyway: {result.phantoms})",
        f"- search outbox drained {result.outbox_drain_seconds:.2f} s after the load "
        f"({result.outbox_left} left); SQLite integrity: {result.integrity}",
        f"- notifications {result.notifications:,} (duplicates {result.duplicate_notifications}),"
        f" reactions {result.reactions:,}, flags {result.flags:,}",
        f"- mail: {result.mail_sent_rows:,} rows sent, {result.mail_delivered:,} delivered, "
        f"delivered twice {result.mail_delivered_twice}, duplicate rows "
        f"{result.duplicate_mail_rows}, sent but not delivered {result.mail_sent_not_delivered}, "
        f"still pending {result.mail_pending} (backlog drained at {result.mail_per_second}/s)"
        f"; a killed process left {result.mail_stuck_sending}"
        f" claimed before delivery and still unsent (already delivered: "
        f"{result.mail_stuck_delivered}) and {result.mail_interrupted} mid-delivery (never sent "
        f"again; not received: {result.mail_interrupted_lost})",
    ]
    for recovery in result.recoveries:
        lines.append(
            f"- {recovery.what} killed at {recovery.at:.0f} s: integrity {recovery.integrity}, "
            f"{recovery.backlog} outbox rows waiting, first 200 after "
            f"{recovery.to_first_answer:.2f} s, outbox caught up {recovery.to_caught_up:.2f} s "
            f"after restart; mail left sending/delivering: {recovery.mail_left}"
        )
    if result.unexpected:
        lines.append("- not the expected answer: " + json.dumps(result.unexpected))
    lines.append(f"- seconds spent: {json.dumps(result.phases)}")
    problems = result.problems
    lines.append("- invariants: " + ("all hold" if not problems else "; ".join(problems)))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--kill-at", type=float, help="kill -9 the server after these seconds")
    parser.add_argument(
        "--kill-search-writer-at",
        type=float,
        help="run the search writer as its own process and kill -9 it after these seconds",
    )
    parser.add_argument("--writer-down", type=float, default=10.0, help="seconds it stays dead")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="dropped and created")
    parser.add_argument("--workdir", type=Path, help="data, logs (default /tmp/kindred-load-PID)")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    config = Config(
        engine=args.engine,
        workers=args.workers,
        duration=args.duration,
        members=args.members,
        kill_at=args.kill_at,
        kill_search_writer_at=args.kill_search_writer_at,
        writer_down=args.writer_down,
        postgres_url=args.postgres_url,
        workdir=args.workdir,
        port=args.port,
    )
    result = asyncio.run(run(config))
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2, default=str))
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
