"""A fresh database holding one 50-post thread, built through Kindred's services as people would."""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from forum.settings import RateLimit, Settings

READER = "maria"
PASSWORD = "correct horse battery"
POSTS = 50
ESTABLISHED = 2  # trust level

# Building blocks of the kind of thread patient communities hold every day.
OPENINGS = [
    "Thanks for starting this thread.",
    "I was diagnosed three years ago and this is exactly what I struggled with.",
    "My daughter went through the same thing last spring.",
    "Reading this made me feel a lot less alone.",
    "Good question, and one I asked my dietitian too.",
    "Same here, almost word for word.",
]
SENTENCES = [
    "The first months were the hardest, mostly because of **cross-contamination** at home.",
    "We now keep a separate toaster and a *clearly labelled* shelf for gluten-free food.",
    "Restaurants are hit and miss: I always ask how they prepare fries and sauces.",
    "My symptoms took about six months to settle after going strictly gluten free.",
    "Ask for a copy of your blood test results so you can compare them next year.",
    "Oats were a problem for me even when labelled gluten free, so I cut them out for a while.",
    "A food diary helped me spot the hidden sources, like soy sauce and some medicines.",
    "The fatigue lifted before the stomach problems did, which surprised me.",
    "Travelling got easier once I carried a card explaining celiac disease in the local language.",
    "Our support group meets once a month and the potluck is entirely gluten free.",
    "Check the pharmacy leaflet too: some tablets use wheat starch as a filler.",
    "It's fine to grieve the foods you miss; it does get easier.",
]
LISTS = [
    "\n\nWhat helped us:\n\n- reading every label, every time\n- a shared list of safe brands\n"
    "- calling restaurants ahead",
    "\n\nThings I wish I'd known:\n\n1. it takes time to heal\n2. vitamin levels matter\n"
    "3. other people will not always understand",
]
CLOSINGS = [
    "There's a good overview at https://celiac.org/about-celiac-disease/ if you haven't seen it.",
    "Please talk it through with your own gastroenterologist before changing anything.",
    "Hang in there, it really does get better.",
    "Happy to share our shopping list if it helps anyone.",
]


def post_body(rng: random.Random) -> str:
    """A markdown post of 300 to 600 characters."""
    while True:
        parts = [rng.choice(OPENINGS), *rng.sample(SENTENCES, rng.randint(2, 4))]
        body = " ".join(parts)
        if rng.random() < 0.3:
            body += rng.choice(LISTS)
        body += "\n\n" + rng.choice(CLOSINGS)
        if 300 <= len(body) <= 600:
            return body


def bench_settings(data_dir: Path, database_url: str) -> Settings:
    """Settings for seeding: a fresh secret, cheap password hashes, rate limits out of the way."""
    generous = RateLimit(100_000, 60)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(32),
        password_cost=2**12,
    ).with_changes(
        rate_limits={
            name: generous for name in ("sign_in_ip", "sign_in_user", "register_ip", "post_user")
        }
    )


@dataclass(frozen=True)
class Seeded:
    thread_id: int
    reader_id: int


async def seed(settings: Settings) -> Seeded:
    """Migrate, then add a community, six people and a thread of 1 + 49 posts."""
    from forum import accounts, communities, db, threads
    from forum.permissions import Viewer
    from forum.tables import PUBLISHED, Post, User

    engine = db.create_engine(settings)
    await db.migrate(engine)
    db.bind_engine(engine)
    await db.start(engine, settings)
    try:

        async def person(username: str, role: str = "member") -> dict[str, Any]:
            display_name = username.replace("_", " ").title()
            return await accounts.register(
                settings,
                accounts.Registration(
                    username=username, password=PASSWORD, display_name=display_name
                ),
                role=role,
            )

        async def viewer_of(user: dict[str, Any]) -> Viewer:
            epoch = await accounts.session_epoch(user["id"])
            viewer = await accounts.load_viewer(user["id"], epoch)
            assert viewer is not None
            return viewer

        admin = await person("ada_admin", "admin")
        community = await communities.create_community(
            await viewer_of(admin),
            slug="celiac",
            name="Celiac disease",
            description="For people living with **celiac disease** and those who care for them.",
        )
        authors = [
            await person(READER),
            await person("dev_caregiver"),
            await person("sam_runner"),
            await person("lena_k"),
            await person("dr_okafor", "clinician"),
        ]
        # People who write a 50-post thread together are established members: lift them past
        # a newcomer's daily post limit (trust level 2, "Member"), as their history would.
        await User.update({User.trust_level: ESTABLISHED}).where(
            User.id.is_in([author["id"] for author in authors])
        )
        viewers = []
        for author in authors:
            await communities.join(await viewer_of(author), community["slug"])
            viewers.append(await viewer_of(author))
        rng = random.Random(2026)
        draft = threads.Draft(
            title="Eating out safely when travelling with celiac disease?", body=post_body(rng)
        )
        thread = await threads.start_thread(settings, viewers[0], community["slug"], draft)
        for number in range(POSTS - 1):
            author = viewers[number % len(viewers)]
            await threads.post_reply(settings, author, thread["id"], post_body(rng))
        published = await Post.count().where(
            (Post.thread == thread["id"]) & (Post.status == PUBLISHED)
        )
        if published != POSTS:
            raise RuntimeError(f"only {published} of {POSTS} posts were published (screening?)")
        return Seeded(thread_id=thread["id"], reader_id=authors[0]["id"])
    finally:
        await db.stop(engine)


async def recreate_postgres_database(url: str, *, drop_only: bool = False) -> None:
    """Drop (and create again) the database the URL names, via the server's `postgres` database."""
    from forum import db

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in (
        "postgres",
        "template0",
        "template1",
    ):
        raise SystemExit(f"refusing to create or drop a database named {name!r}")
    admin_url = parsed._replace(path="/postgres").geturl()
    admin = db.create_engine(Settings(data_dir=Path("."), database_url=admin_url, secret_key="x"))
    await admin.run_ddl(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not drop_only:
        await admin.run_ddl(f'CREATE DATABASE "{name}"')
