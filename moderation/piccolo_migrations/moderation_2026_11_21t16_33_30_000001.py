"""What Piccolo cannot express on SQLite: one open review item per piece of content, one open
flag per person per piece of content, one appeal per item (partial unique indexes work on both
engines), the queue's ordering index, and triggers that keep the audit log append-only."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-21T16:33:30:000001"
VERSION = "1.38.0"
DESCRIPTION = "moderation_constraints"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS moderation_item_one_open "
    "ON \"moderation_item\" (\"kind\", \"object_id\") WHERE \"state\" = 'open'",
    "CREATE UNIQUE INDEX IF NOT EXISTS moderation_flag_one_open "
    "ON \"moderation_flag\" (\"flagger\", \"kind\", \"object_id\") WHERE \"state\" = 'open'",
    'CREATE UNIQUE INDEX IF NOT EXISTS moderation_appeal_one_per_item ON "moderation_appeal" ("item")',
    'CREATE INDEX IF NOT EXISTS moderation_item_queue '
    'ON "moderation_item" ("state", "severity", "created_at")',
    'CREATE INDEX IF NOT EXISTS moderation_item_object ON "moderation_item" ("kind", "object_id")',
    'CREATE INDEX IF NOT EXISTS moderation_audit_community ON "moderation_audit" ("community_id", "created_at")',
    'CREATE INDEX IF NOT EXISTS moderation_audit_target ON "moderation_audit" ("target_user_id")',
    'CREATE INDEX IF NOT EXISTS moderation_notice_user_created ON "moderation_notice" ("user", "created_at")',
]

SQLITE_TRIGGERS = [
    'CREATE TRIGGER IF NOT EXISTS moderation_audit_no_update BEFORE UPDATE ON "moderation_audit" '
    "BEGIN SELECT RAISE(ABORT, 'the moderation audit log is append-only'); END",
    'CREATE TRIGGER IF NOT EXISTS moderation_audit_no_delete BEFORE DELETE ON "moderation_audit" '
    "BEGIN SELECT RAISE(ABORT, 'the moderation audit log is append-only'); END",
]

POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION moderation_audit_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'the moderation audit log is append-only'; END $$",
    'DROP TRIGGER IF EXISTS moderation_audit_no_change ON "moderation_audit"',
    'CREATE TRIGGER moderation_audit_no_change BEFORE UPDATE OR DELETE ON "moderation_audit" '
    "FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="moderation", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        postgres = isinstance(engine, PostgresEngine)
        for statement in [*INDEXES, *(POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS)]:
            await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl('DROP TRIGGER IF EXISTS moderation_audit_no_change ON "moderation_audit"')
            await engine.run_ddl("DROP FUNCTION IF EXISTS moderation_audit_append_only()")
        else:
            await engine.run_ddl("DROP TRIGGER IF EXISTS moderation_audit_no_update")
            await engine.run_ddl("DROP TRIGGER IF EXISTS moderation_audit_no_delete")
        for name in ("moderation_item_one_open", "moderation_flag_one_open",
                     "moderation_appeal_one_per_item", "moderation_item_queue",
                     "moderation_item_object", "moderation_audit_community",
                     "moderation_audit_target", "moderation_notice_user_created"):
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
