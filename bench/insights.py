"""How long the site-wide insights dashboard takes to render over 100,000 posts.

    .venv/bin/python bench/insights.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/insights.py --engine sqlite --posts 20000 --rounds 5

For each engine: a fresh database (a temporary SQLite file, or the PostgreSQL database
`kindred_bench_insights`, dropped and created again) is migrated, then filled with bulk inserts
(not the services: they would take an hour): a year of activity in 12 communities by 5,000
people, about 12,000 threads and 100,000 posts (a fifth of the threads asking a clinician, 60
verified clinicians answering), 1,000 stories with 3,000 comments, 50,000 reactions, 5,000
searches that found nothing, and 2,000 review items with their flags and log entries.

Then it times, over `--rounds` runs after one warm-up, for the last 30 days and the last 365:

- service + template: `forum.insights.dashboard` for an administrator and the rendering of
  templates/insights/dashboard.html in the page's full context (what the goal is about);
- full request: GET /admin/insights through the whole app in-process (middleware, session,
  viewer), signed in as the administrator.

The goal is under 500 ms for the site-wide dashboard. `--check` exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The checkout first, and not this folder: bench/search_index.py would shadow the search package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

GOAL_MS = 500.0
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/kindred_bench_insights"
PASSWORD = "correct horse battery"
COMMUNITIES = 12
PEOPLE = 5_000
CLINICIANS = 60
DAYS = 365


class Data:
    """Rows for each table, ids given explicitly so foreign keys line up."""

    def __init__(self, posts: int, now: datetime, first_user_id: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        start = now - timedelta(days=DAYS)

        def moment(after: datetime = start, within: float = DAYS * 86400.0) -> datetime:
            value = after + timedelta(seconds=rng.random() * within)
            return min(value, now - timedelta(seconds=1))

        communities = [
            (i, f"community-{i}", f"Community {i}", "public" if i % 4 else "private", False, start)
            for i in range(1, COMMUNITIES + 1)
        ]
        self.add(
            "community", ["id", "slug", "name", "visibility", "archived", "created_at"], communities
        )
        user_ids = list(range(first_user_id, first_user_id + PEOPLE))
        users = [
            (uid, f"person{uid}", f"Person {uid}", "!", "member", moment() - timedelta(days=30))
            for uid in user_ids
        ]
        self.add(
            "kindred_user",
            ["id", "username", "display_name", "password_hash", "role", "created_at"],
            users,
        )
        memberships = []
        joined: dict[int, list[int]] = {}
        for uid in user_ids:
            chosen = rng.sample(range(1, COMMUNITIES + 1), rng.randint(1, 3))
            joined[uid] = chosen
            for community in chosen:
                memberships.append((uid, community, "member", moment()))
        self.add("membership", ["user", "community", "role", "joined_at"], memberships)
        clinicians = user_ids[:CLINICIANS]
        threads, post_rows = [], []
        post_id = thread_id = 0
        while post_id < posts:
            thread_id += 1
            author = rng.choice(user_ids)
            community = rng.choice(joined[author])
            created = moment()
            kind = "ask_clinician" if rng.random() < 0.2 else "discussion"
            status = "published" if rng.random() < 0.97 else "removed"
            threads.append(
                (
                    thread_id,
                    community,
                    author,
                    f"Question {thread_id}",
                    kind,
                    status,
                    created,
                    created,
                )
            )
            post_id += 1
            post_rows.append(
                (post_id, thread_id, author, True, "text", "<p>text</p>", 1, status, created, None)
            )
            for _ in range(min(int(rng.expovariate(1 / 7)), 40)):
                if post_id >= posts:
                    break
                post_id += 1
                writer = rng.choice(user_ids)
                credential = None
                if kind == "ask_clinician" and rng.random() < 0.3:
                    writer = rng.choice(clinicians)
                    credential = "Nurse · Cardiology"
                when = moment(created, rng.expovariate(1 / 20000.0) + 60)
                reply_status = "published" if rng.random() < 0.98 else "held"
                post_rows.append(
                    (post_id, thread_id, writer, False, "text", "<p>text</p>", 1, reply_status, when, credential)
                )  # fmt: skip
        self.add(
            "thread",
            ["id", "community", "author", "title", "kind", "status", "created_at", "last_activity_at"],
            threads,
        )  # fmt: skip
        self.add(
            "post",
            ["id", "thread", "author", "is_opening", "body", "body_html", "policy_version",
             "status", "created_at", "author_credential"],
            post_rows,
        )  # fmt: skip
        stories = []
        for story_id in range(1, 1001):
            published = moment()
            stories.append(
                (story_id, rng.choice(user_ids), rng.choice([None, *range(1, COMMUNITIES + 1)]),
                 "A story", "text", "<p>text</p>", 1, "published", published, published, published)
            )  # fmt: skip
        self.add(
            "story",
            ["id", "author", "community", "title", "body", "body_html", "policy_version",
             "status", "created_at", "updated_at", "published_at"],
            stories,
        )  # fmt: skip
        comments = [
            (rng.randint(1, 1000), rng.choice(user_ids), "text", "<p>text</p>", 1, "published", moment())
            for _ in range(3000)
        ]  # fmt: skip
        self.add(
            "story_comment",
            ["story", "author", "body", "body_html", "policy_version", "status", "created_at"],
            comments,
        )
        seen = set()
        reactions = []
        while len(reactions) < 50_000:
            key = (
                rng.randint(1, post_id),
                rng.choice(user_ids),
                rng.choice(("helpful", "support")),
            )
            if key not in seen:
                seen.add(key)
                reactions.append((*key, moment()))
        self.add("reaction", ["post", "user", "kind", "created_at"], reactions)
        words = ["gluten", "travel", "beer", "insulin", "pump", "fatigue", "diet", "sleep", "pain"]
        misses = [
            (" ".join(rng.sample(words, 2)), rng.choice([None, *range(1, COMMUNITIES + 1)]), moment())
            for _ in range(5000)
        ]  # fmt: skip
        self.add("search_miss", ["query", "community", "created_at"], misses)
        items, audit, flags = [], [], []
        for item_id in range(1, 2001):
            created = moment()
            crisis = rng.random() < 0.1
            resolved = moment(created, 86400.0 * 2) if rng.random() < 0.85 else None
            reasons = (
                ",crisis," if crisis else rng.choice([",spam,", ",misinformation,", ",privacy,"])
            )
            community = rng.randint(1, COMMUNITIES)
            items.append(
                (item_id, "post", item_id, community, "resolved" if resolved else "open",
                 reasons.strip(","), reasons, 100 if crisis else 50, resolved, created, created)
            )  # fmt: skip
            audit.append((None, "", "hold", "post", item_id, community, created))
            if resolved:
                action = rng.choice(("approve", "hide", "remove", "edit", "warn"))
                audit.append(
                    (user_ids[-1], "moderator", action, "post", item_id, community, resolved)
                )
            for flagger in rng.sample(user_ids, rng.randint(0, 2)):
                state = rng.choice(("upheld", "dismissed")) if resolved else "open"
                flags.append((item_id, "post", item_id, flagger, "spam", state, created, resolved))
        self.add(
            "moderation_item",
            ["id", "kind", "object_id", "community", "state", "reason", "reasons", "severity",
             "resolved_at", "created_at", "updated_at"],
            items,
        )  # fmt: skip
        self.add(
            "moderation_audit",
            ["actor_id", "actor_name", "action", "kind", "item_id", "community_id", "created_at"],
            audit,
        )
        self.add(
            "moderation_flag",
            [
                "item",
                "kind",
                "object_id",
                "flagger",
                "reason",
                "state",
                "created_at",
                "resolved_at",
            ],
            flags,
        )
        self.posts = post_id
        self.threads = thread_id

    def add(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.tables[table] = (columns, rows)


def load_sqlite(path: Path, data: Data) -> None:
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        for table, (columns, rows) in data.tables.items():
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            # Piccolo stores times as ISO text with a space; str() of an aware datetime is that.
            cooked = [tuple(str(v) if isinstance(v, datetime) else v for v in row) for row in rows]
            connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', cooked)
        connection.commit()
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def load_postgres(url: str, data: Data) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for table, (columns, rows) in data.tables.items():
            await connection.copy_records_to_table(table, records=rows, columns=columns)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _reset_postgres(url: str) -> None:
    import asyncpg

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _ms(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples) * 1000,
        "min": min(samples) * 1000,
        "max": max(samples) * 1000,
    }


async def run_engine(engine_name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import httpx

    from forum import accounts, db, insights
    from forum.app import create_app
    from forum.settings import Settings
    from forum.web.insights import dashboard_context
    from forum.web.render import create_templates

    if engine_name == "sqlite":
        url = f"sqlite:///{workdir / 'insights.db'}"
    else:
        url = args.postgres_url
        await _reset_postgres(url)
    settings = Settings(
        data_dir=workdir, database_url=url, secret_key="bench-secret", password_cost=2**10
    )
    engine = db.create_engine(settings)
    await db.migrate(engine)
    db.bind_engine(engine)
    await db.start(engine, settings)
    admin = await accounts.register(
        settings, accounts.Registration(username="ada_admin", password=PASSWORD), role="admin"
    )
    await db.stop(engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    data = Data(args.posts, now, first_user_id=admin["id"] + 1)
    if engine_name == "sqlite":
        load_sqlite(settings.sqlite_path, data)
    else:
        await load_postgres(url, data)
    loaded = time.perf_counter() - started
    print(
        f"{engine_name}: {data.posts:,} posts in {data.threads:,} threads loaded in {loaded:.1f} s",
        file=sys.stderr,
    )

    app = create_app(settings)
    templates = create_templates()
    result: dict[str, Any] = {"engine": engine_name, "posts": data.posts, "threads": data.threads}
    async with app.router.lifespan_context(app):
        viewer = await accounts.load_viewer(admin["id"], 0)
        assert viewer is not None
        site = await app.state.site_settings.get()
        template = templates.get_template("insights/dashboard.html")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.get("/login")
            token = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed = await client.post(
                "/login",
                data={"username": "ada_admin", "password": PASSWORD, "csrf_token": token},
            )
            assert signed.status_code == 303, signed.text[:200]
            for days in (30, 365):
                period = insights.last_days(days)

                async def render(period: insights.Period = period) -> str:
                    board = await insights.dashboard(viewer, period)
                    context = {
                        "viewer": viewer,
                        "csrf_token": "x",
                        "notice": None,
                        "crisis_resources": None,
                        "settings": settings,
                        "site": site,
                        **dashboard_context(board),
                    }
                    return template.render(context)

                async def service(period: insights.Period = period) -> None:
                    await insights.dashboard(viewer, period)

                async def request(days: int = days) -> None:
                    response = await client.get(f"/admin/insights?days={days}")
                    assert response.status_code == 200, response.status_code

                timings: dict[str, list[float]] = {"render": [], "service": [], "request": []}
                for name, call in (("render", render), ("service", service), ("request", request)):
                    await call()  # warm-up
                    for _ in range(args.rounds):
                        begin = time.perf_counter()
                        await call()
                        timings[name].append(time.perf_counter() - begin)
                html = await render()
                result[f"{days}d"] = {
                    "service_and_template_ms": _ms(timings["render"]),
                    "service_ms": _ms(timings["service"]),
                    "request_ms": _ms(timings["request"]),
                    "page_bytes": len(html.encode()),
                }
    return result


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| engine | period | service + template, median (min to max) ms | of which service ms "
        "| full request ms | page KB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for result in results:
        for days in ("30d", "365d"):
            row = result[days]
            render = row["service_and_template_ms"]
            lines.append(
                f"| {result['engine']} | last {days[:-1]} days | {render['median']:.0f} "
                f"({render['min']:.0f} to {render['max']:.0f}) | {row['service_ms']['median']:.0f} "
                f"| {row['request_ms']['median']:.0f} | {row['page_bytes'] / 1024:.0f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--check", action="store_true", help="exit 1 if the goal is missed")
    args = parser.parse_args(argv)
    engines = ("sqlite", "postgres") if args.engine == "both" else (args.engine,)
    results = []
    for engine_name in engines:
        with tempfile.TemporaryDirectory(prefix="kindred-insights-") as folder:
            results.append(asyncio.run(run_engine(engine_name, args, Path(folder))))
    print(report(results))
    worst = max(r[d]["service_and_template_ms"]["median"] for r in results for d in ("30d", "365d"))
    print(f"\nslowest median: {worst:.0f} ms (goal: under {GOAL_MS:.0f} ms)")
    return 1 if args.check and worst >= GOAL_MS else 0


if __name__ == "__main__":
    raise SystemExit(main())
