"""A hand-built week of activity (Monday 2 to Sunday 8 March 2026, UTC) in two communities,
written straight into the tables with exact times, so every insight has a number worked out
by hand (tests/community/test_insights.py says which rows make each one).

People: maria (M) and dev (D) joined celiac this week; dr_okafor (K, clinician) and grace_mod
(G, its moderator) were there before; sam (S) joined heart this week; ada_admin (A).

Threads in celiac (C1):
  T1 discussion by M, Mon 12:00: replies M 12:30 (own), D 14:00, K Tue 08:00
  T2 ask_clinician by D, Tue 09:00: replies M 09:30, K 13:00 with a credential
  T3 ask_clinician by M, Wed 10:00: reply K 11:00 with a credential
  T4 discussion by D, Fri 15:00: one held reply by M 16:00 (no answer)
  T5 discussion by M, Sat 20:00, removed: reply D 21:00
  T6 discussion by D, Sun 1 March 23:00 (before the week): reply M Mon 01:00
  T7 ask_clinician by M, Sun 22:00: reply D Mon 9 March 02:00 (after the week)
In heart (C2): T8 discussion by S, Thu 14:00: reply A 14:30.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from forum import communities
from forum.settings import Settings
from forum.tables import (
    Membership,
    Post,
    Reaction,
    Story,
    StoryComment,
    Thread,
    User,
)
from moderation.tables import AuditEntry, Flag, ModerationItem
from search.tables import SearchMiss
from tests.conftest import make_user, viewer_of

CREDENTIAL = "Nurse · Cardiology"


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def _thread(community_id: int, author: int, kind: str, when: datetime, status: str) -> int:
    rows = await Thread.insert(
        Thread(
            community=community_id,
            author=author,
            title="A question for the week",
            kind=kind,
            status=status,
            created_at=when,
            last_activity_at=when,
        )
    ).returning(Thread.id)
    thread_id = rows[0]["id"]
    await _post(thread_id, author, when, status, opening=True)
    return thread_id


async def _post(
    thread_id: int,
    author: int,
    when: datetime,
    status: str = "published",
    *,
    opening: bool = False,
    credential: str | None = None,
) -> int:
    rows = await Post.insert(
        Post(
            thread=thread_id,
            author=author,
            is_opening=opening,
            body="text",
            body_html="<p>text</p>",
            policy_version=1,
            status=status,
            created_at=when,
            author_credential=credential,
        )
    ).returning(Post.id)
    return rows[0]["id"]


async def _opening(thread_id: int) -> int:
    row = (
        await Post.select(Post.id)
        .where((Post.thread == thread_id) & Post.is_opening.eq(True))
        .first()
    )
    return row["id"]


async def _item(
    community_id: int | None,
    object_id: int,
    reasons: str,
    created: datetime,
    resolved: datetime | None,
    kind: str = "post",
) -> int:
    rows = await ModerationItem.insert(
        ModerationItem(
            kind=kind,
            object_id=object_id,
            community=community_id,
            state="resolved" if resolved else "open",
            reason=reasons.strip(",").split(",")[0],
            reasons=reasons,
            severity=100 if "crisis" in reasons else 50,
            resolved_at=resolved,
            created_at=created,
            updated_at=resolved or created,
        )
    ).returning(ModerationItem.id)
    return rows[0]["id"]


async def _audit(
    actor: dict[str, Any] | None,
    action: str,
    kind: str,
    item_id: int | None,
    community_id: int | None,
    when: datetime,
) -> None:
    await AuditEntry.insert(
        AuditEntry(
            actor_id=actor["id"] if actor else None,
            actor_name=actor["username"] if actor else "",
            action=action,
            kind=kind,
            item_id=item_id,
            community_id=community_id,
            created_at=when,
        )
    )


async def _flag(item_id: int, flagger: int, state: str, resolved: datetime | None) -> None:
    await Flag.insert(
        Flag(
            item=item_id,
            kind="post",
            object_id=0,
            flagger=flagger,
            reason="spam",
            state=state,
            created_at=at(1, 0),
            resolved_at=resolved,
        )
    )


@pytest.fixture
async def week(
    app: Any,
    settings: Settings,
    admin: dict[str, Any],
    community: dict[str, Any],
    moderator: dict[str, Any],
    member: dict[str, Any],
    other_member: dict[str, Any],
    clinician: dict[str, Any],
) -> dict[str, Any]:
    """The week above, with everything the tests need to look it up."""
    admin_viewer = await viewer_of(admin)
    heart = await communities.create_community(admin_viewer, slug="heart", name="Heart failure")
    sam = await make_user(settings, "sam_heart")
    await communities.join(await viewer_of(sam), "heart")
    m, d, k, s, a, g = (
        member["id"],
        other_member["id"],
        clinician["id"],
        sam["id"],
        admin["id"],
        moderator["id"],
    )
    c1, c2 = community["id"], heart["id"]
    for user_id, when in (
        (m, at(2, 10)),
        (d, at(3, 9)),
        (s, at(5, 12)),
        (g, at(1, 0, month=2)),
        (k, at(1, 0, month=1)),
        (a, at(1, 0, month=1)),
    ):
        await User.update({User.created_at: when}).where(User.id == user_id)
    for user_id, community_id, when in (
        (m, c1, at(2, 11)),
        (d, c1, at(3, 10)),
        (k, c1, at(15, 0, month=2)),
        (g, c1, at(1, 0, month=2)),
        (s, c2, at(5, 13)),
    ):
        await Membership.update({Membership.joined_at: when}).where(
            (Membership.user == user_id) & (Membership.community == community_id)
        )

    t1 = await _thread(c1, m, "discussion", at(2, 12), "published")
    await _post(t1, m, at(2, 12, 30))
    await _post(t1, d, at(2, 14))
    await _post(t1, k, at(3, 8))
    t2 = await _thread(c1, d, "ask_clinician", at(3, 9), "published")
    await _post(t2, m, at(3, 9, 30))
    k_answer = await _post(t2, k, at(3, 13), credential=CREDENTIAL)
    t3 = await _thread(c1, m, "ask_clinician", at(4, 10), "published")
    await _post(t3, k, at(4, 11), credential=CREDENTIAL)
    t4 = await _thread(c1, d, "discussion", at(6, 15), "published")
    held = await _post(t4, m, at(6, 16), "held")
    t5 = await _thread(c1, m, "discussion", at(7, 20), "removed")
    await _post(t5, d, at(7, 21))
    t6 = await _thread(c1, d, "discussion", at(1, 23), "published")
    await _post(t6, m, at(2, 1))
    t7 = await _thread(c1, m, "ask_clinician", at(8, 22), "published")
    await _post(t7, d, at(9, 2))
    t8 = await _thread(c2, s, "discussion", at(5, 14), "published")
    await _post(t8, a, at(5, 14, 30))

    story_rows = []
    for author, community_id, status, published in (
        (m, c1, "published", at(4, 18)),
        (d, None, "published", at(6, 9)),
        (m, c1, "draft", None),
        (s, c2, "published", at(1, 8)),
    ):
        rows = await Story.insert(
            Story(
                author=author,
                community=community_id,
                title="My first year",
                body="story",
                body_html="<p>story</p>",
                policy_version=1,
                status=status,
                created_at=published or at(4, 0),
                updated_at=published or at(4, 0),
                published_at=published,
            )
        ).returning(Story.id)
        story_rows.append(rows[0]["id"])
    for story_id, author, when in ((story_rows[0], d, at(5, 10)), (story_rows[1], s, at(6, 11))):
        await StoryComment.insert(
            StoryComment(
                story=story_id,
                author=author,
                body="comment",
                body_html="<p>comment</p>",
                policy_version=1,
                status="published",
                created_at=when,
            )
        )

    for post_id, user_id, kind, when in (
        (await _opening(t1), d, "helpful", at(2, 13)),
        (k_answer, m, "helpful", at(3, 14)),
        (await _opening(t8), a, "support", at(5, 15)),
        (await _opening(t3), k, "support", at(8, 9)),
    ):
        await Reaction.insert(Reaction(post=post_id, user=user_id, kind=kind, created_at=when))

    for query, community_id, when in (
        ("gluten free beer", c1, at(2, 9)),
        ("gluten free beer", c1, at(3, 9)),
        ("celiac travel card", c1, at(4, 9)),
        ("gluten free beer", None, at(5, 9)),
        ("heart diet", c2, at(6, 9)),
        ("anything", c1, at(10, 9)),
    ):
        await SearchMiss.insert(SearchMiss(query=query, community=community_id, created_at=when))

    i1 = await _item(c1, held, ",misinformation,", at(6, 16), at(6, 18))
    i2 = await _item(c1, t3, ",crisis,", at(4, 10), at(4, 10, 30), kind="thread")
    i3 = await _item(c1, t7, ",crisis,privacy,", at(7, 8), None, kind="thread")
    i4 = await _item(c1, k_answer, ",spam,", at(5, 9), at(5, 9, 10))
    i5 = await _item(c2, t8, ",crisis,", at(5, 15), at(5, 15, 5), kind="thread")
    i6 = await _item(c1, 999, ",spam,", at(28, 9, month=2), at(2, 8))
    i7 = await _item(None, 1, ",clinician,", at(3, 12), at(3, 13), kind="clinician_application")
    mod, adm = moderator, admin
    for actor, action, kind, item_id, community_id, when in (
        (None, "hold", "post", i1, c1, at(6, 16)),
        (mod, "remove", "post", i1, c1, at(6, 18)),
        (mod, "warn", "user", i1, c1, at(6, 18)),
        (None, "escalate", "thread", i2, c1, at(4, 10)),
        (mod, "approve", "thread", i2, c1, at(4, 10, 20)),
        (None, "escalate", "thread", i3, c1, at(7, 8)),
        (mod, "approve", "post", i4, c1, at(5, 9, 10)),
        (mod, "hide", "post", i6, c1, at(2, 8)),
        (adm, "hide", "thread", i5, c2, at(5, 15, 5)),
        (adm, "approve", "clinician_application", i7, None, at(3, 13)),
        (adm, "appoint", "user", None, c1, at(2, 7)),
    ):
        await _audit(actor, action, kind, item_id, community_id, when)
    for item_id, flagger, state, resolved in (
        (i1, d, "upheld", at(6, 18)),
        (i1, k, "upheld", at(6, 18)),
        (i4, d, "dismissed", at(5, 9, 10)),
        (i5, s, "upheld", at(5, 15, 5)),
        (i3, d, "open", None),
        (i6, m, "upheld", at(2, 8)),
    ):
        await _flag(item_id, flagger, state, resolved)
    return {
        "celiac": community,
        "heart": heart,
        "sam": sam,
        "threads": [t1, t2, t3, t4, t5, t6, t7, t8],
        "start": at(2, 0),
        "end": at(9, 0),
    }
