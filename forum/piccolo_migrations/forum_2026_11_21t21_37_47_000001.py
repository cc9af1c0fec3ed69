"""Triggers that tell a process when a thread page it keeps in memory has moved (forum.threads).

A thread's `page_version` goes up with every change to its posts or to their reactions, in the
same transaction. Who people are on a page (names, roles, experience tags, names for one
community) can change anywhere, rarely: those bump the one `people` row of `cache_version`,
which every cached page depends on. A change that reaches a page without passing through one
of these triggers would leave that page stale, which is why tests/forum/test_page_cache.py
checks each path. `cache_version` is not a Piccolo table: nothing but these triggers writes it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-21T21:37:47:000001"
VERSION = "1.38.0"
DESCRIPTION = "page_cache"

BUMP_THREAD = 'UPDATE "thread" SET "page_version" = "page_version" + 1 WHERE "id" = {}'
THREAD_OF_POST = '(SELECT "thread" FROM "post" WHERE "id" = {}."post")'
BUMP_PEOPLE = 'UPDATE "cache_version" SET "version" = "version" + 1 WHERE "name" = \'people\''
PEOPLE_TABLES = ("experience_tag", "community_name")
# The user columns a thread page shows; other updates (unread counts, sign-in times) don't
# touch cached pages.
USER_CHANGED = (
    'OLD."username" IS DISTINCT FROM NEW."username" '
    'OR OLD."display_name" IS DISTINCT FROM NEW."display_name" '
    'OR OLD."role" IS DISTINCT FROM NEW."role"'
)

COMMON = [
    'CREATE TABLE IF NOT EXISTS "cache_version" '
    '("name" VARCHAR(40) PRIMARY KEY, "version" BIGINT NOT NULL DEFAULT 0)',
    "INSERT INTO \"cache_version\" (\"name\", \"version\") VALUES ('people', 0) "
    "ON CONFLICT DO NOTHING",
]


def _sqlite_statements() -> list[str]:
    statements = []
    for event, threads in (
        ("INSERT", 'NEW."thread"'),
        ("UPDATE", 'OLD."thread" OR "id" = NEW."thread"'),
        ("DELETE", 'OLD."thread"'),
    ):
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS post_page_version_{event.lower()} "
            f'AFTER {event} ON "post" BEGIN {BUMP_THREAD.format(threads)}; END'
        )
    for event, rows in (("INSERT", ["NEW"]), ("UPDATE", ["OLD", "NEW"]), ("DELETE", ["OLD"])):
        bumps = "".join(f"{BUMP_THREAD.format(THREAD_OF_POST.format(row))}; " for row in rows)
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS reaction_page_version_{event.lower()} "
            f'AFTER {event} ON "reaction" BEGIN {bumps}END'
        )
    for table in PEOPLE_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_people_version_{event.lower()} "
                f'AFTER {event} ON "{table}" BEGIN {BUMP_PEOPLE}; END'
            )
    statements += [
        "CREATE TRIGGER IF NOT EXISTS kindred_user_people_version_update "
        'AFTER UPDATE ON "kindred_user" '
        f"WHEN {USER_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
        f"BEGIN {BUMP_PEOPLE}; END",
        "CREATE TRIGGER IF NOT EXISTS kindred_user_people_version_delete "
        f'AFTER DELETE ON "kindred_user" BEGIN {BUMP_PEOPLE}; END',
    ]
    return statements


def _postgres_statements() -> list[str]:
    def function(name: str, body: str) -> str:
        return (
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} RETURN NULL; END $$"
        )

    old_thread, new_thread = BUMP_THREAD.format('OLD."thread"'), BUMP_THREAD.format('NEW."thread"')
    return [
        function(
            "kindred_post_page_version",
            f"IF TG_OP <> 'INSERT' THEN {old_thread}; END IF; "
            "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.\"thread\" <> OLD.\"thread\") "
            f"THEN {new_thread}; END IF;",
        ),
        function(
            "kindred_reaction_page_version",
            f"IF TG_OP <> 'INSERT' THEN {BUMP_THREAD.format(THREAD_OF_POST.format('OLD'))}; "
            "END IF; "
            f"IF TG_OP <> 'DELETE' THEN {BUMP_THREAD.format(THREAD_OF_POST.format('NEW'))}; "
            "END IF;",
        ),
        function("kindred_people_version", f"{BUMP_PEOPLE};"),
        'DROP TRIGGER IF EXISTS post_page_version ON "post"',
        'CREATE TRIGGER post_page_version AFTER INSERT OR UPDATE OR DELETE ON "post" '
        "FOR EACH ROW EXECUTE FUNCTION kindred_post_page_version()",
        'DROP TRIGGER IF EXISTS reaction_page_version ON "reaction"',
        'CREATE TRIGGER reaction_page_version AFTER INSERT OR UPDATE OR DELETE ON "reaction" '
        "FOR EACH ROW EXECUTE FUNCTION kindred_reaction_page_version()",
        *(
            statement
            for table in PEOPLE_TABLES
            for statement in (
                f'DROP TRIGGER IF EXISTS {table}_people_version ON "{table}"',
                f"CREATE TRIGGER {table}_people_version AFTER INSERT OR UPDATE OR DELETE "
                f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION kindred_people_version()',
            )
        ),
        'DROP TRIGGER IF EXISTS kindred_user_people_version_update ON "kindred_user"',
        "CREATE TRIGGER kindred_user_people_version_update AFTER UPDATE ON \"kindred_user\" "
        f"FOR EACH ROW WHEN ({USER_CHANGED}) EXECUTE FUNCTION kindred_people_version()",
        'DROP TRIGGER IF EXISTS kindred_user_people_version_delete ON "kindred_user"',
        'CREATE TRIGGER kindred_user_people_version_delete AFTER DELETE ON "kindred_user" '
        "FOR EACH ROW EXECUTE FUNCTION kindred_people_version()",
    ]


def _backwards_statements(engine_type: str) -> list[str]:
    if engine_type == "sqlite":
        names = [
            *(f"post_page_version_{e}" for e in ("insert", "update", "delete")),
            *(f"reaction_page_version_{e}" for e in ("insert", "update", "delete")),
            *(
                f"{table}_people_version_{e}"
                for table in PEOPLE_TABLES
                for e in ("insert", "update", "delete")
            ),
            "kindred_user_people_version_update",
            "kindred_user_people_version_delete",
        ]
        return [f"DROP TRIGGER IF EXISTS {name}" for name in names] + [
            'DROP TABLE IF EXISTS "cache_version"'
        ]
    return [
        "DROP FUNCTION IF EXISTS kindred_post_page_version() CASCADE",
        "DROP FUNCTION IF EXISTS kindred_reaction_page_version() CASCADE",
        "DROP FUNCTION IF EXISTS kindred_people_version() CASCADE",
        'DROP TABLE IF EXISTS "cache_version"',
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="forum", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        specific = (
            _sqlite_statements() if engine.engine_type == "sqlite" else _postgres_statements()
        )
        for statement in COMMON + specific:
            await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        for statement in _backwards_statements(engine.engine_type):
            await engine.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
