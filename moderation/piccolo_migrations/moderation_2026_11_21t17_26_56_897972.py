"""Site-wide review items: a clinician's application belongs to no community, so
"moderation_item"."community" may be NULL, and kinds (here and in the audit log) may be up to
24 characters ("clinician_application").

Piccolo's ALTER COLUMN does not exist in SQLite, so the change runs as a raw step: on
PostgreSQL two ALTER TABLE statements, on SQLite the table rebuild that SQLite documents
(https://www.sqlite.org/lang_altertable.html#otheralter): with foreign keys off, create the new
table, copy the rows, drop the old one, rename, recreate the indexes, check the foreign keys.
The alter_column calls stay so Piccolo's schema snapshot knows the columns changed."""

import aiosqlite
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey, Varchar
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-21T17:26:56:897972"
VERSION = "1.38.0"
DESCRIPTION = "site_wide_items"

POSTGRES = [
    'ALTER TABLE "moderation_item" ALTER COLUMN "community" DROP NOT NULL',
    'ALTER TABLE "moderation_item" ALTER COLUMN "kind" TYPE VARCHAR(24)',
    'ALTER TABLE "moderation_audit" ALTER COLUMN "kind" TYPE VARCHAR(24)',
]
NOT_NULL = '"community" INTEGER NOT NULL REFERENCES'
NULLABLE = '"community" INTEGER REFERENCES'


class _Manager(MigrationManager):
    async def _run_alter_columns(self, backwards: bool = False) -> None:
        """Done by the raw step below: SQLite has no ALTER COLUMN."""


async def _rebuild_sqlite(path: str) -> None:
    # Its own connection: foreign keys are off by default, so dropping the old table does not
    # cascade to flags and appeals; they point at the new table once it takes the name.
    async with aiosqlite.connect(path, isolation_level=None) as connection:
        await connection.execute("PRAGMA foreign_keys = OFF")
        await connection.execute("BEGIN IMMEDIATE")
        try:
            rows = await connection.execute_fetchall(
                "SELECT type, name, sql FROM sqlite_master "
                "WHERE tbl_name = 'moderation_item' AND sql IS NOT NULL"
            )
            table_sql = next(sql for kind, _, sql in rows if kind == "table")
            if NOT_NULL in table_sql:
                indexes = [sql for kind, _, sql in rows if kind == "index"]
                new_sql = table_sql.replace(NOT_NULL, NULLABLE).replace(
                    'CREATE TABLE "moderation_item"', 'CREATE TABLE "moderation_item_rebuilt"', 1
                )
                await connection.execute(new_sql)
                await connection.execute(
                    'INSERT INTO "moderation_item_rebuilt" SELECT * FROM "moderation_item"'
                )
                await connection.execute('DROP TABLE "moderation_item"')
                await connection.execute(
                    'ALTER TABLE "moderation_item_rebuilt" RENAME TO "moderation_item"'
                )
                for sql in indexes:
                    await connection.execute(sql)
                problems = await connection.execute_fetchall("PRAGMA foreign_key_check")
                if problems:
                    raise RuntimeError(f"foreign keys broken by the rebuild: {problems}")
            await connection.execute("COMMIT")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise


async def forwards():
    manager = _Manager(
        migration_id=ID,
        app_name="moderation",
        description=DESCRIPTION,
        wrap_in_transaction=False,
    )

    manager.alter_column(
        table_class_name="AuditEntry",
        tablename="moderation_audit",
        column_name="kind",
        db_column_name="kind",
        params={"length": 24},
        old_params={"length": 16},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="ModerationItem",
        tablename="moderation_item",
        column_name="kind",
        db_column_name="kind",
        params={"length": 24},
        old_params={"length": 16},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="ModerationItem",
        tablename="moderation_item",
        column_name="community",
        db_column_name="community",
        params={"null": True},
        old_params={"null": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    async def run():
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            for statement in POSTGRES:
                await engine.run_ddl(statement)
        else:
            await _rebuild_sqlite(engine.path)

    manager.add_raw(run)
    return manager
