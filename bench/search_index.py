"""How fast Kindred's search is on a 100,000-post forum: Whoosh and PostgreSQL full text.

The script generates a synthetic but word-realistic corpus (function words, everyday words,
~200 health words, common medical phrases such as "blood pressure", and a long tail of rare
words like drug and place names, all Zipf-distributed), loads it straight into a fresh
database (SQLite for Whoosh, the default set-up; PostgreSQL when a server answers), then for
each backend measures:

- the full index build, `search.writer.rebuild` as `kindred reindex` runs it: reading every
  thread and its posts from the database, building documents, writing the index;
- the index's size on disk;
- query latency p50/p95 over a mix of top-10 searches as a visitor (single word, two words, a
  phrase, a word within one community), timing the index's `search` call (ranking, filtering,
  snippets) and, separately, the whole service call (plus the database check of each page);
- the time from posting (threads.start_thread, through screening and the outbox) to being
  findable, with the background writer running as in the server: woken by its own process,
  and (as for a post served by another worker) by polling only.

Goals on a two-core machine: Whoosh p95 <= 40 ms, build <= 90 s, findable within 1 s;
PostgreSQL p95 <= 25 ms. Results and their reading: docs/search.md.

    .venv/bin/python bench/search_index.py                   # 100,000 posts, both backends
    .venv/bin/python bench/search_index.py --quick           # 10,000 posts
    .venv/bin/python bench/search_index.py --posts 50000 --engine sqlite --json out.json

PostgreSQL is used at --postgres-url (default postgresql://postgres@127.0.0.1:5432/
kindred_search_bench), a database this script drops and creates.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forum.settings import RateLimit, Settings  # noqa: E402

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/kindred_search_bench"
QUERIES = 400
WARMUP = 40
FINDABLE_SAMPLES = 15

# The corpus --------------------------------------------------------------------------------

FUNCTION = """i the and to a of it my in that is was for have but with so on be not this
me just we had at it's about what he she they you as been do are if or from when all
would can an by there were our after now also because i'm him her them than then out
up very really still even more some one two any no yes""".split()  # noqa: SIM905
EVERYDAY = """day days week weeks month months year years time morning night evening today
yesterday home work family friend friends people thing things way life help helped try
tried feel felt feeling think thought know knew want wanted need needed get got make made
take took go went come came see saw say said tell told ask asked find found give gave keep
kept start started stop stopped change changed eat ate drink cook buy read question answer
advice tips experience story hope worried scared tired happy glad grateful sorry thanks
first last next new old good bad better best worse hard easy long short little lot
different same sure real right wrong small big whole early late again already ever never
always often sometimes usually maybe probably""".split()  # noqa: SIM905
HEALTH = """gluten celiac diet symptoms fatigue pain headache migraine nausea diagnosis doctor
clinic hospital nurse medication dose insulin glucose diabetes pressure heart failure weight
swelling breath asthma inhaler allergy vitamin iron anemia thyroid hormone cancer
chemotherapy radiation surgery recovery therapy physiotherapy exercise sleep insomnia anxiety
depression stress mood support caregiver daughter son mother father husband wife appointment
specialist gastroenterologist cardiologist endocrinologist neurologist rheumatologist
arthritis joint inflammation rash eczema psoriasis skin itching biopsy scan mri xray
ultrasound test results levels antibody vaccine infection fever cough covid dizziness
palpitations cholesterol statin tablet capsule pharmacy prescription label restaurant travel
food bread wheat barley oats dairy lactose intolerance bloating stomach bowel constipation
diarrhea crohn colitis kidney liver lungs oxygen walking stairs energy pacing flare
remission relapse steroid prednisone immune autoimmune lupus sclerosis tremor parkinson
memory dementia alzheimer stroke rehab wheelchair mobility hearing vision eyes dentist teeth
pregnancy baby breastfeeding menopause period fertility weighing scale diuretic salt fluid
water potassium sodium magnesium calcium bones osteoporosis fracture knee hip spine posture
neuropathy numbness tingling feet wound healing bandage dressing stoma catheter infusion
injection nurse dietitian counselling telehealth referral waiting list blood sugar ketones
pump sensor monitor readings bruising bleeding clots warfarin aspirin ibuprofen paracetamol
antibiotics probiotics fibre protein carbs snacks label cross contamination toaster
medicine leaflet""".split()  # noqa: SIM905
PHRASES = [
    "blood pressure", "side effects", "brain fog", "gluten free", "heart failure",
    "long covid", "blood sugar", "blood test", "support group", "weight gain", "weight loss",
    "joint pain", "chest pain", "short of breath", "quality of life", "mental health",
    "physical therapy", "sleep apnea", "type 1", "type 2", "waiting list", "flare up",
    "cross contamination", "pain relief", "first appointment", "bone density",
]  # fmt: skip
SYLLABLES = """ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko ku la le li lo lu ma me
mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi
vo za ze zi zo dra tri stro pla cle nex vor mab tin zol pril sart vir lix""".split()  # noqa: SIM905
COMMUNITIES = [
    ("celiac", "Celiac disease", "public", 18), ("diabetes", "Diabetes", "public", 16),
    ("heart-failure", "Heart failure", "public", 11), ("long-covid", "Long COVID", "public", 10),
    ("arthritis", "Arthritis", "public", 9), ("asthma", "Asthma", "public", 7),
    ("crohns", "Crohn's and colitis", "public", 7), ("migraine", "Migraine", "public", 6),
    ("cancer-carers", "Caring for someone with cancer", "public", 6),
    ("ms", "Multiple sclerosis", "public", 4), ("hiv-support", "Living with HIV", "private", 3),
    ("eating-recovery", "Eating disorder recovery", "private", 3),
]  # fmt: skip


@dataclass
class Corpus:
    threads: list[tuple[int, int, str, datetime, datetime]]  # id, community, title, created, last
    posts: list[tuple[int, int, str, datetime, bool]]  # thread, author, text, created, opening
    words: list[str]
    word_weights: list[float]
    users: int


def _rare_words(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build_corpus(posts: int, seed: int = 2026) -> Corpus:
    """Deterministic: the same arguments always give the same corpus."""
    rng = random.Random(seed)
    content = EVERYDAY + HEALTH
    rng.shuffle(content)
    content += _rare_words(rng, 6000)
    weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(content))]
    content_cumulative = list(accumulate(weights))
    function_cumulative = list(accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(len(FUNCTION))))
    community_weights = [c[3] for c in COMMUNITIES]
    now = datetime(2026, 11, 1, tzinfo=UTC)

    def sentence() -> str:
        length = rng.randint(6, 18)
        n_function = int(length * 0.45)
        parts = rng.choices(FUNCTION, cum_weights=function_cumulative, k=n_function)
        parts += rng.choices(content, cum_weights=content_cumulative, k=length - n_function)
        rng.shuffle(parts)
        if rng.random() < 0.35:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(PHRASES))
        return " ".join(parts).capitalize() + "."

    threads: list[tuple[int, int, str, datetime, datetime]] = []
    all_posts: list[tuple[int, int, str, datetime, bool]] = []
    users = max(50, posts // 40)
    while len(all_posts) < posts:
        thread_id = len(threads) + 1
        community = rng.choices(range(1, len(COMMUNITIES) + 1), community_weights)[0]
        created = now - timedelta(days=rng.uniform(0, 1500))
        size = min(posts - len(all_posts), 1 + int(rng.expovariate(1 / 7.7)))
        title = sentence().rstrip(".")[:120]
        moment = created
        for n in range(size):
            text = " ".join(sentence() for _ in range(rng.randint(2, 7)))
            all_posts.append((thread_id, rng.randint(2, users + 1), text, moment, n == 0))
            moment += timedelta(hours=rng.expovariate(1 / 20))
        threads.append((thread_id, community, title, created, moment))
    return Corpus(threads, all_posts, content, weights, users)


# Loading -----------------------------------------------------------------------------------


def bench_settings(data_dir: Path, database_url: str, backend: str) -> Settings:
    generous = RateLimit(1_000_000, 60)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(32),
        search_backend=backend,
        password_cost=2**10,
        rate_limits={
            name: generous for name in ("sign_in_ip", "sign_in_user", "register_ip", "post_user")
        },
    )


async def recreate_postgres(url: str) -> None:
    from forum import db

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in (
        "postgres",
        "template0",
        "template1",
    ):
        raise SystemExit(f"refusing to drop a database named {name!r}")
    admin_url = parsed._replace(path="/postgres").geturl()
    admin = db.create_engine(Settings(data_dir=Path("."), database_url=admin_url, secret_key="x"))
    await admin.run_ddl(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.run_ddl(f'CREATE DATABASE "{name}"')


async def _insert(table: Any, rows: list[Any]) -> None:
    """Piccolo inserts in batches (every other column keeps its default)."""
    for start in range(0, len(rows), 400):
        await table.insert(*rows[start : start + 400])


async def load(settings: Settings, corpus: Corpus) -> None:
    """The corpus straight into the tables (posting 100,000 times through the services would
    measure screening, not search). Post HTML is what the sanitizer makes of plain text."""
    from forum import db
    from forum.tables import Community, Post, Thread, User

    engine = db.create_engine(settings)
    await db.migrate(engine)
    db.bind_engine(engine)
    await db.start(engine, settings)
    try:
        now = datetime.now(UTC)
        async with db.transaction():
            await _insert(
                User,
                [
                    User(
                        username=f"member{n}", display_name=f"Member {n}", password_hash="x",
                        trust_level=2, created_at=now,
                    )
                    for n in range(1, corpus.users + 2)
                ],
            )  # fmt: skip
            await _insert(
                Community,
                [
                    Community(slug=slug, name=name, visibility=vis, created_by=1, created_at=now)
                    for slug, name, vis, _ in COMMUNITIES
                ],
            )
            await _insert(
                Thread,
                [
                    Thread(
                        community=c, author=2, title=title, created_at=created,
                        last_activity_at=last,
                    )
                    for _, c, title, created, last in corpus.threads
                ],
            )  # fmt: skip
            await _insert(
                Post,
                [
                    Post(
                        thread=t, author=a, is_opening=opening, body=text,
                        body_html=f"<p>{html.escape(text)}</p>", policy_version=1, created_at=at,
                    )
                    for t, a, text, at, opening in corpus.posts
                ],
            )  # fmt: skip
    finally:
        await db.stop(engine)


# Measuring ---------------------------------------------------------------------------------


@dataclass
class Figures:
    backend: str
    database: str
    posts: int
    threads: int
    build_seconds: float = 0.0
    index_bytes: int = 0
    documents: int = 0
    query_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    cold_query_ms: dict[str, float] = field(default_factory=dict)
    service_ms: dict[str, float] = field(default_factory=dict)
    findable_ms: dict[str, dict[str, float]] = field(default_factory=dict)


def query_mix(corpus: Corpus, count: int, seed: int = 7) -> list[tuple[str, str, str | None]]:
    """(kind, search box text, community) tuples: a quarter of each kind of query."""
    rng = random.Random(seed)
    ordinary = [
        (w, weight)
        for w, weight in zip(corpus.words, corpus.word_weights, strict=True)
        if w in set(HEALTH) | set(EVERYDAY)
    ]
    words, weights = zip(*ordinary, strict=True)
    texts = [text for _, _, text, _, _ in rng.sample(corpus.posts, min(2000, len(corpus.posts)))]
    mix: list[tuple[str, str, str | None]] = []
    for n in range(count):
        kind = ("word", "two words", "phrase", "in a community")[n % 4]
        if kind == "word":
            mix.append((kind, rng.choices(words, weights)[0], None))
        elif kind == "two words":
            first, second = rng.choices(words, weights, k=2)
            mix.append((kind, f"{first} {second}", None))
        elif kind == "phrase":
            if rng.random() < 0.5:
                phrase = rng.choice(PHRASES)
            else:
                tokens = re.findall(r"[a-z']+", rng.choice(texts).lower())
                start = rng.randrange(max(1, len(tokens) - 2))
                phrase = " ".join(tokens[start : start + 2])
            mix.append((kind, f'"{phrase}"', None))
        else:
            community = rng.choices(
                [c[0] for c in COMMUNITIES[:10]], [c[3] for c in COMMUNITIES[:10]]
            )[0]
            mix.append((kind, rng.choices(words, weights)[0], community))
    return mix


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


async def measure(settings: Settings, corpus: Corpus, figures: Figures) -> None:
    from forum import db, threads
    from forum.permissions import VISITOR
    from forum.tables import Membership
    from search import service, writer
    from search.backends import create_index
    from search.documents import community_by_slug
    from search.query import parse

    engine = db.create_engine(settings)
    db.bind_engine(engine)
    await db.start(engine, settings)
    index = create_index(settings.search_backend, settings.index_dir, build_procs=2)
    try:
        await index.open()
        started = time.perf_counter()
        figures.documents = await writer.rebuild(index)
        figures.build_seconds = round(time.perf_counter() - started, 1)
        figures.index_bytes = (await index.stats()).size_bytes
        print(
            f"  built in {figures.build_seconds} s: {figures.documents:,} documents, "
            f"{figures.index_bytes / 1e6:.1f} MB",
            flush=True,
        )

        communities = {c[0]: (await community_by_slug(c[0]))["id"] for c in COMMUNITIES}
        mix = query_mix(corpus, QUERIES)
        requests = []
        for kind, text, community in mix:
            parsed = parse(text)
            request = service._request(
                parsed, VISITOR, communities[community] if community else None
            )
            requests.append((kind, request))
        for _, request in requests[:WARMUP]:
            await index.search(request)
        by_kind: dict[str, list[float]] = {}
        for kind, request in requests:
            started = time.perf_counter()
            await index.search(request)
            elapsed = (time.perf_counter() - started) * 1000
            by_kind.setdefault(kind, []).append(elapsed)
            by_kind.setdefault("all", []).append(elapsed)
        figures.query_ms = {kind: _percentiles(samples) for kind, samples in by_kind.items()}
        if hasattr(index, "forget_cached_postings"):
            # Whoosh keeps decoded postings between queries; also time every query with none.
            cold = []
            for _, request in requests:
                index.forget_cached_postings()
                started = time.perf_counter()
                await index.search(request)
                cold.append((time.perf_counter() - started) * 1000)
            figures.cold_query_ms = _percentiles(cold)
        whole = []
        for _, text, community in mix:
            started = time.perf_counter()
            await service.search(index, VISITOR, text, community=community)
            whole.append((time.perf_counter() - started) * 1000)
        figures.service_ms = _percentiles(whole)
        print(f"  queries: {json.dumps(figures.query_ms['all'])}", flush=True)

        # Posting to findable, with the writer running as in the server.
        from search.tables import SearchMiss

        await SearchMiss.delete(force=True)
        viewer_id = 2
        await Membership.insert(
            Membership(user=viewer_id, community=communities["celiac"], role="member",
                       joined_at=datetime.now(UTC))
        )  # fmt: skip
        from forum import accounts

        viewer = await accounts.load_viewer(viewer_id, 0)
        assert viewer is not None
        search_writer = writer.Writer(index)
        search_writer.start()
        try:
            for mode in ("woken by its own process", "polling only (another worker)"):
                if mode.startswith("polling"):
                    search_writer._unlisten()
                samples = []
                for n in range(FINDABLE_SAMPLES):
                    word = f"benchword{mode[:4]}{n}"
                    request = service._request(parse(word), VISITOR, None)
                    started = time.perf_counter()
                    await threads.start_thread(
                        settings, viewer, "celiac",
                        threads.Draft(title=f"Benchmark question {n}", body=f"About {word} today."),
                    )  # fmt: skip
                    while not (await index.search(request)).hits:
                        if time.perf_counter() - started > 10:
                            raise SystemExit(f"{word} was not findable within 10 s")
                        await asyncio.sleep(0.005)
                    samples.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(random.uniform(0.05, 0.25))
                figures.findable_ms[mode] = _percentiles(samples)
        finally:
            await search_writer.stop()
        print(f"  findable: {json.dumps(figures.findable_ms)}", flush=True)
    finally:
        await index.close()
        await db.stop(engine)


async def postgres_answers(url: str) -> bool:
    from forum import db

    parsed = urlparse(url)
    admin_url = parsed._replace(path="/postgres").geturl()
    try:
        engine = db.create_engine(
            Settings(data_dir=Path("."), database_url=admin_url, secret_key="x")
        )
        await asyncio.wait_for(engine.run_ddl("SELECT 1"), 5)
        return True
    except Exception:
        return False


def report(all_figures: list[Figures]) -> str:
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "",
        "| backend | posts (threads) | build | size | p50 | p95 | service p95 | findable p50 / max |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in all_figures:
        woken = f.findable_ms.get("woken by its own process", {})
        lines.append(
            f"| {f.backend} on {f.database} | {f.posts:,} ({f.threads:,}) | {f.build_seconds} s | "
            f"{f.index_bytes / 1e6:.1f} MB | {f.query_ms['all']['p50']} ms | "
            f"{f.query_ms['all']['p95']} ms | {f.service_ms.get('p95')} ms | "
            f"{woken.get('p50')} / {woken.get('max')} ms |"
        )
    lines.append("")
    for f in all_figures:
        lines.append(f"{f.backend}, query latency by kind (ms):")
        rows = list(f.query_ms.items())
        if f.cold_query_ms:
            rows.append(("all, no cache", f.cold_query_ms))
        rows.append(("service, all", f.service_ms))
        for kind, values in rows:
            lines.append(
                f"  {kind:15} p50 {values['p50']:7.2f}  p95 {values['p95']:7.2f}  max {values['max']:7.2f}"
            )
        for mode, values in f.findable_ms.items():
            lines.append(f"  findable, {mode}: p50 {values['p50']} ms, max {values['max']} ms")
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 posts")
    parser.add_argument("--engine", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    posts = 10_000 if args.quick else args.posts

    print(f"Generating a corpus of {posts:,} posts…", flush=True)
    started = time.perf_counter()
    corpus = build_corpus(posts)
    print(
        f"  {len(corpus.threads):,} threads, {sum(len(p[2]) for p in corpus.posts) / 1e6:.1f} MB "
        f"of text, in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    results: list[Figures] = []
    work = Path(tempfile.mkdtemp(prefix="kindred-search-bench-"))
    try:
        if args.engine in ("both", "sqlite"):
            print("Whoosh on SQLite: loading…", flush=True)
            settings = bench_settings(
                work / "sqlite", f"sqlite:///{work / 'sqlite' / 'kindred.db'}", "whoosh"
            )
            settings.data_dir.mkdir(parents=True)
            await load(settings, corpus)
            figures = Figures("whoosh", "SQLite", posts, len(corpus.threads))
            await measure(settings, corpus, figures)
            results.append(figures)
        if args.engine in ("both", "postgres"):
            if await postgres_answers(args.postgres_url):
                print("PostgreSQL full text: loading…", flush=True)
                await recreate_postgres(args.postgres_url)
                settings = bench_settings(work / "pg", args.postgres_url, "postgres")
                settings.data_dir.mkdir(parents=True)
                await load(settings, corpus)
                figures = Figures("postgres", "PostgreSQL", posts, len(corpus.threads))
                await measure(settings, corpus, figures)
                results.append(figures)
            else:
                print(f"No PostgreSQL answered at {args.postgres_url}: skipped.", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in results], indent=2, default=str))


if __name__ == "__main__":
    asyncio.run(main())
