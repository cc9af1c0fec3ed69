"""Fixtures for private conversations, blocking, anonymity and names for one community: a
community that allows anonymous posting, members with a record (trust level 1, who may start
conversations), and helpers to send messages and read what was stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from forum import anonymity, communities, messages, threads
from forum.settings import Settings
from forum.tables import Notification, User
from tests.conftest import make_user, sign_in, viewer_of


async def trusted(user: dict[str, Any], level: int = 1) -> dict[str, Any]:
    """Give a member the record that lets them start conversations (moderation.trust)."""
    await User.update({User.trust_level: level}).where(User.id == user["id"])
    return user


async def kinds_for(user: dict[str, Any]) -> list[str]:
    rows = await Notification.select(Notification.kind).where(Notification.user == user["id"])
    return sorted(row["kind"] for row in rows)


async def signed_in(make_client: Callable[[], httpx.AsyncClient], user: dict[str, Any]) -> Any:
    client = make_client()
    await sign_in(client, user)
    return client


@pytest.fixture
async def stigma(app: Any, admin: dict[str, Any]) -> dict[str, Any]:
    """A public community whose moderators allow anonymous posting."""
    community = await communities.create_community(
        await viewer_of(admin),
        slug="living-with-hiv",
        name="Living with HIV",
        description="Support without judgement.",
    )
    await anonymity.set_allow_anonymous(await viewer_of(admin), community["slug"], True)
    return {**community, "allow_anonymous": True}


@pytest.fixture
async def sender(app: Any, settings: Settings, community: dict[str, Any]) -> dict[str, Any]:
    """A member of the public community with a record: may start conversations."""
    user = await make_user(settings, "sender_sam")
    await communities.join(await viewer_of(user), community["slug"])
    return await trusted(user)


@pytest.fixture
def send(app: Any, settings: Settings) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Start a conversation (`to` given) or reply in one (`conversation` given)."""

    async def make(
        author: dict[str, Any],
        body: str = "Hello, can I ask how you told your kids?",
        *,
        to: list[dict[str, Any]] | None = None,
        conversation: int | None = None,
        subject: str = "",
        confirm_phi: bool = False,
    ) -> dict[str, Any]:
        viewer = await viewer_of(author)
        if conversation is not None:
            return await messages.send_message(
                settings, viewer, conversation, body, confirm_phi=confirm_phi
            )
        return await messages.start_conversation(
            settings,
            viewer,
            [person["username"] for person in to or []],
            body,
            subject,
            confirm_phi=confirm_phi,
        )

    return make


@pytest.fixture
def anonymous_thread(app: Any, settings: Settings) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(
        *,
        community: dict[str, Any],
        author: dict[str, Any],
        title: str = "How did you tell your family?",
        body: str = "I was diagnosed last month and haven't told anyone yet.",
        kind: str = "discussion",
    ) -> dict[str, Any]:
        return await threads.start_thread(
            settings,
            await viewer_of(author),
            community["slug"],
            threads.Draft(title=title, body=body, kind=kind, anonymous=True),
        )

    return make


@pytest.fixture
def anonymous_reply(app: Any, settings: Settings) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(
        *, thread: dict[str, Any], author: dict[str, Any], body: str = "You are not alone."
    ) -> dict[str, Any]:
        return await threads.post_reply(
            settings, await viewer_of(author), thread["id"], body, anonymous=True
        )

    return make
