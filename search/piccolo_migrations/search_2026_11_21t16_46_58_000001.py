"""Raw steps the auto migrations can't express: one row per word in the vocabulary (a unique
index works on both engines), and, on PostgreSQL only, the full-text table that
KINDRED_SEARCH=postgres searches. On SQLite the second part is a no-op."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-21T16:46:58:000001"
VERSION = "1.38.0"
DESCRIPTION = "search_document"

BOTH = [
    'CREATE UNIQUE INDEX IF NOT EXISTS search_word_one_per_word ON "search_word" ("word")',
    'CREATE INDEX IF NOT EXISTS search_outbox_kind_object ON "search_outbox" ("kind", "object_id")',
]
POSTGRES = [
    """CREATE TABLE IF NOT EXISTS "search_document" (
        "kind" varchar(16) NOT NULL,
        "object_id" integer NOT NULL,
        "community_id" integer,
        "visibility" varchar(16) NOT NULL DEFAULT 'public',
        "author" varchar(32),
        "tags" text[] NOT NULL DEFAULT '{}',
        "expert_answered" boolean NOT NULL DEFAULT false,
        "status" varchar(16) NOT NULL DEFAULT 'published',
        "created_at" timestamptz NOT NULL,
        "activity_at" timestamptz NOT NULL,
        "title" text NOT NULL,
        "body" text NOT NULL,
        "pairs" text[] NOT NULL DEFAULT '{}',
        "tsv" tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', "title"), 'A')
            || setweight(to_tsvector('english', "body"), 'B')
        ) STORED,
        PRIMARY KEY ("kind", "object_id")
    )""",
    'CREATE INDEX IF NOT EXISTS search_document_tsv ON "search_document" USING GIN ("tsv")',
    'CREATE INDEX IF NOT EXISTS search_document_pairs ON "search_document" USING GIN ("pairs")',
    'CREATE INDEX IF NOT EXISTS search_document_community ON "search_document" ("community_id")',
    'CREATE INDEX IF NOT EXISTS search_document_activity ON "search_document" ("activity_at")',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="search", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in BOTH:
            await engine.run_ddl(statement)
        if isinstance(engine, PostgresEngine):
            for statement in POSTGRES:
                await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl('DROP TABLE IF EXISTS "search_document"')
        for name in ("search_word_one_per_word", "search_outbox_kind_object"):
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
