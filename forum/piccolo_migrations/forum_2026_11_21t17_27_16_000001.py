"""What Piccolo cannot express on SQLite for stories, follows, notifications and e-mail: one
follow per person and target, one notification per person and subject, one e-mail setting per
person, one outbox row per mail key (unique indexes work on both engines), and the indexes the
story lists, the bell and the mail sender read by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T17:27:16:000001"
VERSION = "1.38.0"
DESCRIPTION = "stories_constraints"

STATEMENTS = [
    'CREATE UNIQUE INDEX IF NOT EXISTS follow_one_per_target '
    'ON "follow" ("user", "target_kind", "target_id")',
    'CREATE INDEX IF NOT EXISTS follow_target ON "follow" ("target_kind", "target_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS notification_one_per_subject '
    'ON "notification" ("user", "subject")',
    'CREATE INDEX IF NOT EXISTS notification_unread ON "notification" ("user", "read_at")',
    'CREATE INDEX IF NOT EXISTS notification_user_created ON "notification" ("user", "created_at")',
    'CREATE UNIQUE INDEX IF NOT EXISTS email_setting_one_per_person ON "email_setting" ("user")',
    'CREATE UNIQUE INDEX IF NOT EXISTS mail_outbox_one_per_key ON "mail_outbox" ("key")',
    'CREATE INDEX IF NOT EXISTS mail_outbox_due ON "mail_outbox" ("status", "next_attempt_at")',
    'CREATE INDEX IF NOT EXISTS story_published ON "story" ("status", "published_at")',
    'CREATE INDEX IF NOT EXISTS story_community_published '
    'ON "story" ("community", "status", "published_at")',
    'CREATE INDEX IF NOT EXISTS story_comment_story_created '
    'ON "story_comment" ("story", "created_at")',
]
NAMES = (
    "follow_one_per_target",
    "follow_target",
    "notification_one_per_subject",
    "notification_unread",
    "notification_user_created",
    "email_setting_one_per_person",
    "mail_outbox_one_per_key",
    "mail_outbox_due",
    "story_published",
    "story_community_published",
    "story_comment_story_created",
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
