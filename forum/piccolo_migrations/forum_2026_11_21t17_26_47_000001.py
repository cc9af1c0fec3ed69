"""Unique pairs of people and expertise Piccolo cannot express on SQLite (a unique index works
on both engines), and the index of the unanswered ask-a-clinician list."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T17:26:47:000001"
VERSION = "1.38.0"
DESCRIPTION = "people_constraints"

STATEMENTS = [
    'CREATE UNIQUE INDEX IF NOT EXISTS experience_tag_one_per_community '
    'ON "experience_tag" ("user", "community")',
    'CREATE UNIQUE INDEX IF NOT EXISTS experience_vouch_one_per_person '
    'ON "experience_vouch" ("tag", "voucher")',
    'CREATE UNIQUE INDEX IF NOT EXISTS reaction_one_of_each '
    'ON "reaction" ("post", "user", "kind")',
    'CREATE UNIQUE INDEX IF NOT EXISTS badge_award_one_of_each ON "badge_award" ("user", "badge")',
    'CREATE UNIQUE INDEX IF NOT EXISTS profile_privacy_one_per_person ON "profile_privacy" ("user")',
    'CREATE INDEX IF NOT EXISTS thread_unanswered '
    'ON "thread" ("kind", "expert_answered", "created_at")',
]
NAMES = (
    "experience_tag_one_per_community",
    "experience_vouch_one_per_person",
    "reaction_one_of_each",
    "badge_award_one_of_each",
    "profile_privacy_one_per_person",
    "thread_unanswered",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="forum", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        for name in NAMES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
