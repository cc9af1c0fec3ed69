"""Fixtures for moderation: a second moderator, another community with its own moderator,
and helpers to post through the service and to read what moderation stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from forum import communities, threads
from forum.settings import Settings
from moderation.tables import ModerationItem
from tests.conftest import make_user, viewer_of

CLAIM = "Stop your insulin, cinnamon cured me."  # held: a dangerous claim
LABELLED_CLAIM = "Statins are poison, everyone should know it."  # published with a label
CRISIS = "I can't go on. Everyone would be better off without me."
PHONE = "Call me on 07700 900123 if you want to talk."


@pytest.fixture
async def second_moderator(
    app: Any, settings: Settings, admin: dict[str, Any], community: dict[str, Any]
) -> dict[str, Any]:
    """Also moderates the public community (appeals go to a moderator who didn't decide)."""
    user = await make_user(settings, "sam_mod", "moderator")
    await communities.add_member(
        await viewer_of(admin), community["slug"], user["username"], role="moderator"
    )
    return user


@pytest.fixture
async def other_community(app: Any, admin: dict[str, Any]) -> dict[str, Any]:
    return await communities.create_community(
        await viewer_of(admin), slug="long-covid", name="Long COVID", description="Together."
    )


@pytest.fixture
async def other_moderator(
    app: Any, settings: Settings, admin: dict[str, Any], other_community: dict[str, Any]
) -> dict[str, Any]:
    """Moderates the long COVID community only."""
    user = await make_user(settings, "olu_mod", "moderator")
    await communities.add_member(
        await viewer_of(admin), other_community["slug"], user["username"], role="moderator"
    )
    return user


@pytest.fixture
def strict_limits(settings: Settings) -> Settings:
    """The built-in new-member limits (the shared settings make posting limits generous)."""
    (settings.data_dir / "moderation" / "trust.toml").unlink()
    return settings


@pytest.fixture
def post_thread(app: Any, settings: Settings) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def post(
        author: dict[str, Any],
        community: dict[str, Any],
        body: str,
        *,
        title: str = "A question for everyone",
        confirm_phi: bool = False,
    ) -> dict[str, Any]:
        return await threads.start_thread(
            settings,
            await viewer_of(author),
            community["slug"],
            threads.Draft(title=title, body=body, confirm_phi=confirm_phi),
        )

    return post


async def open_item_for(kind: str, object_id: int) -> dict[str, Any] | None:
    return (
        await ModerationItem.select()
        .where(
            (ModerationItem.kind == kind)
            & (ModerationItem.object_id == object_id)
            & (ModerationItem.state == "open")
        )
        .first()
    )
