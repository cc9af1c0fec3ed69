"""Unique pairs Piccolo cannot express on SQLite: one membership per person and community,
one rate-limit counter per key and window. A unique index works on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T16:19:33:462688"
VERSION = "1.38.0"
DESCRIPTION = "unique_pairs"

STATEMENTS = [
    'CREATE UNIQUE INDEX IF NOT EXISTS membership_one_per_person ON "membership" ("user", "community")',
    'CREATE UNIQUE INDEX IF NOT EXISTS rate_limit_one_per_window ON "rate_limit_hit" ("key", "window_start")',
    'CREATE INDEX IF NOT EXISTS thread_community_activity ON "thread" ("community", "last_activity_at")',
    'CREATE INDEX IF NOT EXISTS post_thread_created ON "post" ("thread", "created_at")',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="forum", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        for name in ("membership_one_per_person", "rate_limit_one_per_window",
                     "thread_community_activity", "post_thread_created"):
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
