"""What Piccolo cannot express on SQLite for private conversations, blocks and names for one
community: one membership row per person and conversation, one message setting per person, one
block per pair, one report per person and message, one name per person and community and no
two alike within a community (unique indexes work on both engines), and the indexes unread
counts and message notifications read by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T17:58:49:000001"
VERSION = "1.38.0"
DESCRIPTION = "privacy_constraints"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS conversation_member_one_per_person "
    'ON "conversation_member" ("conversation", "user")',
    'CREATE UNIQUE INDEX IF NOT EXISTS message_setting_one_per_person ON "message_setting" ("user")',
    'CREATE UNIQUE INDEX IF NOT EXISTS member_block_one_per_pair ON "member_block" ("blocker", "blocked")',
    "CREATE UNIQUE INDEX IF NOT EXISTS message_report_one_per_reporter "
    'ON "message_report" ("reporter", "message")',
    "CREATE UNIQUE INDEX IF NOT EXISTS community_name_one_per_member "
    'ON "community_name" ("user", "community")',
    "CREATE UNIQUE INDEX IF NOT EXISTS community_name_unique_in_community "
    'ON "community_name" ("community", LOWER("display_name"))',
    "CREATE INDEX IF NOT EXISTS private_message_conversation_id "
    'ON "private_message" ("conversation", "id")',
    'CREATE INDEX IF NOT EXISTS notification_conversation ON "notification" ("conversation_id")',
    'CREATE INDEX IF NOT EXISTS post_thread_anonymous ON "post" ("thread", "author", "anonymous")',
]
NAMES = (
    "conversation_member_one_per_person",
    "message_setting_one_per_person",
    "member_block_one_per_pair",
    "message_report_one_per_reporter",
    "community_name_one_per_member",
    "community_name_unique_in_community",
    "private_message_conversation_id",
    "notification_conversation",
    "post_thread_anonymous",
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
