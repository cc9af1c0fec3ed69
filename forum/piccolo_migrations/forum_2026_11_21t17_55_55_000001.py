"""What Piccolo cannot express on SQLite for running a community: one guidelines row per
community and version, one onboarding row per person and community, one row per site setting
key and per invite code (unique indexes work on both engines), and the indexes the insights
dashboard counts by (posts, threads, reactions, accounts and memberships by time)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T17:55:55:000001"
VERSION = "1.38.0"
DESCRIPTION = "community_running_constraints"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS community_guidelines_one_per_version "
    'ON "community_guidelines" ("community", "version")',
    "CREATE UNIQUE INDEX IF NOT EXISTS member_onboarding_one_per_membership "
    'ON "member_onboarding" ("user", "community")',
    'CREATE UNIQUE INDEX IF NOT EXISTS site_setting_one_per_key ON "site_setting" ("key")',
    'CREATE UNIQUE INDEX IF NOT EXISTS invite_code_one_per_code ON "invite_code" ("code")',
    # Covering indexes for counting by time: the dashboard reads these columns of every post,
    # thread and reaction of a period without touching the rows (10 times fewer pages read
    # for a year of posts; docs/insights.md).
    "CREATE INDEX IF NOT EXISTS post_insights "
    'ON "post" ("created_at", "status", "is_opening", "thread", "author")',
    "CREATE INDEX IF NOT EXISTS thread_insights "
    'ON "thread" ("created_at", "status", "kind", "community", "author")',
    'CREATE INDEX IF NOT EXISTS reaction_insights ON "reaction" ("created_at", "user", "post")',
    'CREATE INDEX IF NOT EXISTS kindred_user_created ON "kindred_user" ("created_at")',
    'CREATE INDEX IF NOT EXISTS membership_joined ON "membership" ("community", "joined_at")',
    'CREATE INDEX IF NOT EXISTS story_comment_created ON "story_comment" ("created_at")',
]
NAMES = (
    "community_guidelines_one_per_version",
    "member_onboarding_one_per_membership",
    "site_setting_one_per_key",
    "invite_code_one_per_code",
    "post_insights",
    "thread_insights",
    "reaction_insights",
    "kindred_user_created",
    "membership_joined",
    "story_comment_created",
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
