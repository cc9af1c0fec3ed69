"""Stored HTML brought up to the current content policy (forum.content.POLICY_VERSION).

Every text people write is kept as its markdown source and as the HTML the policy of the day
made from it, with that policy's number. When the policy gets stricter (version 2 turned images
from other sites into links), `kindred rerender` renders the older rows again from their
source. It is safe to run while the site serves, and to run again: a row is only rewritten if
its policy is still older, in batches of one transaction each.
"""

from __future__ import annotations

from collections.abc import Callable

from forum import content, db

# Every table holding a written text and the HTML made from it.
TABLES = (
    "post",
    "post_revision",
    "story",
    "story_revision",
    "story_comment",
    "community_guidelines",
    "private_message",
)
BATCH = 200


async def pending() -> int:
    """Rows whose HTML an older policy made."""
    total = 0
    for table in TABLES:
        rows = await db.raw(
            f'SELECT COUNT(*) AS n FROM "{table}" WHERE "policy_version" < {{}}',
            content.POLICY_VERSION,
        )
        total += rows[0]["n"]
    return total


async def rerender_all(progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Render every row made by an older policy again; returns the rows done per table."""
    done: dict[str, int] = {}
    count = 0
    for table in TABLES:
        done[table] = 0
        last_id = 0
        while True:
            rows = await db.raw(
                f'SELECT "id", "body" FROM "{table}" WHERE "policy_version" < {{}} AND "id" > {{}} '
                'ORDER BY "id" LIMIT {}',
                content.POLICY_VERSION,
                last_id,
                BATCH,
            )
            if not rows:
                break
            async with db.transaction():
                for row in rows:
                    rendered = content.render(row["body"])
                    await db.raw(
                        f'UPDATE "{table}" SET "body_html" = {{}}, "policy_version" = {{}} '
                        'WHERE "id" = {} AND "policy_version" < {}',
                        rendered.html,
                        rendered.policy_version,
                        row["id"],
                        rendered.policy_version,
                    )
            last_id = rows[-1]["id"]
            done[table] += len(rows)
            count += len(rows)
            if progress is not None:
                progress(count)
    return done
