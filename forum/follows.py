"""Follows: a member follows a thread, a story, a community, a member's story blog or a member,
and mutes a thread or story. Writing in a thread or under a story follows it automatically.

One row per person and target (unique index). A muted row silences that thread or story
entirely, mentions included; unmuting follows it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum import blocks, db
from forum.errors import Forbidden, Invalid, NotFound
from forum.permissions import (
    Viewer,
    can_view_community,
    can_view_content,
    can_view_story,
    ensure_active,
    ensure_signed_in,
)
from forum.tables import FOLLOW_KINDS, Follow

ACTIONS = ("follow", "unfollow", "mute", "unmute")
MUTABLE = ("thread", "story")
FOLLOWING = "following"
MUTED = "muted"
# A column for a page's own query: the viewer's state for one target ("following", "muted" or
# NULL). Takes three values: the viewer's id (0 for visitors), the target's kind and its id.
STATE_COLUMN = (
    "(SELECT CASE WHEN f.\"muted\" THEN 'muted' ELSE 'following' END FROM \"follow\" f "
    'WHERE f."user" = {} AND f."target_kind" = {} AND f."target_id" = {}) AS "follow_state"'
)


@dataclass(frozen=True)
class Target:
    """Something that can be followed, as the viewer may see it."""

    kind: str
    id: int
    name: str
    url: str
    # What names it in a form or the API: the id, a community's slug or a member's username.
    key: str


def _valid_id(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


async def resolve(viewer: Viewer, kind: Any, target: Any) -> Target:
    """The target a form or the API names: a thread or story by id, a community by its slug,
    a member or their blog by username. NotFound for what the viewer may not see."""
    if kind not in FOLLOW_KINDS:
        raise Invalid({"kind": f"Kind must be one of: {', '.join(FOLLOW_KINDS)}."})
    if kind in ("thread", "story"):
        number = _valid_id(target)
        if number is None:
            raise NotFound("We couldn't find that.")
        return await _one(viewer, kind, number)
    if kind == "community":
        rows = await db.raw(
            'SELECT "id", "slug", "name", "visibility" FROM "community" WHERE "slug" = {}',
            str(target).lower()[:48],
        )
        if not rows or not can_view_community(viewer, rows[0]):
            raise NotFound("We couldn't find that community.")
        row = rows[0]
        return Target("community", row["id"], row["name"], f"/c/{row['slug']}", row["slug"])
    rows = await db.raw(
        'SELECT "id", "username", "display_name" FROM "kindred_user" '
        'WHERE "username" = {} AND "status" <> {}',
        str(target).lower()[:64],
        "deleted",
    )
    if not rows:
        raise NotFound("We couldn't find that person.")
    row = rows[0]
    if kind == "blog":
        return Target(
            "blog",
            row["id"],
            f"{row['display_name']}'s stories",
            f"/u/{row['username']}/stories",
            row["username"],
        )
    return Target(
        "member", row["id"], row["display_name"], f"/u/{row['username']}", row["username"]
    )


async def _one(viewer: Viewer, kind: str, target_id: int) -> Target:
    found = await _targets(viewer, kind, [target_id])
    if not found:
        raise NotFound(
            "We couldn't find that conversation."
            if kind == "thread"
            else "We couldn't find that story."
        )
    return found[0]


async def _upsert(user_id: int, kind: str, target_id: int, *, muted: bool) -> None:
    await db.raw(
        'INSERT INTO "follow" ("user", "target_kind", "target_id", "muted", "auto", "created_at") '
        "VALUES ({}, {}, {}, {}, {}, {}) "
        'ON CONFLICT ("user", "target_kind", "target_id") DO UPDATE SET "muted" = EXCLUDED."muted"',
        user_id,
        kind,
        target_id,
        muted,
        False,
        datetime.now(UTC),
    )


async def change(viewer: Viewer, kind: Any, target: Any, action: Any) -> dict[str, Any]:
    """Follow, unfollow, mute or unmute; returns the target and the viewer's state after.
    Suspended people may still unfollow and mute (hear less), not follow."""
    ensure_signed_in(viewer)
    if action == "follow":
        ensure_active(viewer)
    assert viewer.id is not None
    if action not in ACTIONS:
        raise Invalid({"action": f"Action must be one of: {', '.join(ACTIONS)}."})
    resolved = await resolve(viewer, kind, target)
    if action in ("mute", "unmute") and resolved.kind not in MUTABLE:
        raise Invalid({"action": "Only conversations and stories can be muted."})
    if resolved.kind in ("member", "blog") and resolved.id == viewer.id:
        raise Invalid({"target": "You can't follow yourself."})
    if (
        resolved.kind in ("member", "blog")
        and action == "follow"
        and await blocks.between(viewer.id, resolved.id)
    ):
        raise Forbidden("You can't follow this person.")  # forum.blocks
    if action == "unfollow":
        await Follow.delete().where(
            (Follow.user == viewer.id)
            & (Follow.target_kind == resolved.kind)
            & (Follow.target_id == resolved.id)
        )
        state = None
    else:
        muted = action == "mute"
        await _upsert(viewer.id, resolved.kind, resolved.id, muted=muted)
        state = MUTED if muted else FOLLOWING
    return {
        "kind": resolved.kind,
        "id": resolved.id,
        "name": resolved.name,
        "url": resolved.url,
        "key": resolved.key,
        "state": state,
    }


async def auto_follow(user_id: int | None, kind: str, target_id: int) -> None:
    """Follow what someone writes in (call inside the writing transaction). An existing row,
    a mute included, stays as it is."""
    if user_id is None:
        return
    await db.raw(
        'INSERT INTO "follow" ("user", "target_kind", "target_id", "muted", "auto", "created_at") '
        "VALUES ({}, {}, {}, {}, {}, {}) "
        'ON CONFLICT ("user", "target_kind", "target_id") DO NOTHING',
        user_id,
        kind,
        target_id,
        False,
        True,
        datetime.now(UTC),
    )


async def state(viewer: Viewer, kind: str, target_id: int) -> str | None:
    """ "following", "muted" or None: what the follow buttons show."""
    return (await states(viewer, [(kind, target_id)])).get((kind, target_id))


async def states(viewer: Viewer, targets: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The viewer's state for several targets in one query."""
    if not viewer.signed_in or not targets:
        return {}
    clauses = " OR ".join('("target_kind" = {} AND "target_id" = {})' for _ in targets)
    args = [value for pair in targets for value in pair]
    rows = await db.raw(
        f'SELECT "target_kind", "target_id", "muted" FROM "follow" WHERE "user" = {{}} AND ({clauses})',
        viewer.id,
        *args,
    )
    return {
        (row["target_kind"], row["target_id"]): MUTED if row["muted"] else FOLLOWING for row in rows
    }


async def list_follows(viewer: Viewer) -> list[dict[str, Any]]:
    """What the viewer follows or muted, with names and addresses, newest first (at most 200).
    Targets they can no longer see (a private community they left) are left out. One query per
    kind of target, whatever their number."""
    ensure_signed_in(viewer)
    rows = await (
        Follow.select(Follow.target_kind, Follow.target_id, Follow.muted, Follow.auto)
        .where(Follow.user == viewer.id)
        .order_by(Follow.created_at, ascending=False)
        .limit(200)
    )
    wanted: dict[str, list[int]] = {}
    for row in rows:
        wanted.setdefault(row["target_kind"], []).append(row["target_id"])
    targets: dict[tuple[str, int], Target] = {}
    for kind, ids in wanted.items():
        for target in await _targets(viewer, kind, ids):
            targets[(kind, target.id)] = target
    result = []
    for row in rows:
        target = targets.get((row["target_kind"], row["target_id"]))
        if target is None:
            continue
        result.append(
            {
                "kind": target.kind,
                "id": target.id,
                "name": target.name,
                "url": target.url,
                "key": target.key,
                "state": MUTED if row["muted"] else FOLLOWING,
                "auto": bool(row["auto"]),
            }
        )
    return result


async def _targets(viewer: Viewer, kind: str, ids: list[int]) -> list[Target]:
    """The targets of one kind among `ids` that the viewer may see."""
    marks = ", ".join("{}" for _ in ids)
    found: list[Target] = []
    if kind == "thread":
        rows = await db.raw(
            'SELECT t."id", t."title", t."status", t."author", c."id" AS "community_id", '
            'c."visibility" FROM "thread" t JOIN "community" c ON c."id" = t."community" '
            f'WHERE t."id" IN ({marks})',
            *ids,
        )
        for row in rows:
            community = {"id": row["community_id"], "visibility": row["visibility"]}
            if can_view_community(viewer, community) and can_view_content(
                viewer, row, row["community_id"]
            ):
                found.append(
                    Target("thread", row["id"], row["title"], f"/t/{row['id']}", str(row["id"]))
                )
    elif kind == "story":
        rows = await db.raw(
            'SELECT s."id", s."title", s."status", s."author", s."community" AS "community_id", '
            'c."visibility" FROM "story" s LEFT JOIN "community" c ON c."id" = s."community" '
            f'WHERE s."id" IN ({marks})',
            *ids,
        )
        for row in rows:
            community = (
                {"id": row["community_id"], "visibility": row["visibility"]}
                if row["community_id"] is not None
                else None
            )
            if can_view_story(viewer, row, community):
                found.append(
                    Target("story", row["id"], row["title"], f"/s/{row['id']}", str(row["id"]))
                )
    elif kind == "community":
        rows = await db.raw(
            f'SELECT "id", "slug", "name", "visibility" FROM "community" WHERE "id" IN ({marks})',
            *ids,
        )
        found = [
            Target("community", row["id"], row["name"], f"/c/{row['slug']}", row["slug"])
            for row in rows
            if can_view_community(viewer, row)
        ]
    elif kind in ("blog", "member"):
        rows = await db.raw(
            'SELECT "id", "username", "display_name" FROM "kindred_user" '
            f'WHERE "id" IN ({marks}) AND "status" <> {{}}',
            *ids,
            "deleted",
        )
        for row in rows:
            if kind == "blog":
                name, url = f"{row['display_name']}'s stories", f"/u/{row['username']}/stories"
            else:
                name, url = row["display_name"], f"/u/{row['username']}"
            found.append(Target(kind, row["id"], name, url, row["username"]))
    return found
