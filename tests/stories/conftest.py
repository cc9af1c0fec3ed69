"""Fixtures for stories, follows, notifications, e-mail and feeds: a story factory, a member
with an e-mail address, and helpers to read what the mail folder holds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from forum import mail, stories
from forum.settings import Settings
from forum.tables import User
from tests.conftest import viewer_of

STORY_BODY = (
    "## The first weeks\n\nI didn't know what **gluten** hid in.\n\n"
    "> It gets easier, a nurse told me.\n\n![Our kitchen](https://example.org/kitchen.jpg)"
)


@pytest.fixture
def story_factory(app: Any, settings: Settings) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(
        *,
        author: dict[str, Any],
        community: dict[str, Any] | None = None,
        title: str = "The first year after my diagnosis",
        body: str = STORY_BODY,
        summary: str = "What I wish I had known.",
        warnings: tuple[str, ...] = (),
        publish: bool = True,
    ) -> dict[str, Any]:
        return await stories.create_story(
            settings,
            await viewer_of(author),
            stories.StoryDraft(
                title=title,
                body=body,
                summary=summary,
                community=community["slug"] if community else "",
                content_warnings=list(warnings),
            ),
            publish=publish,
            confirm_consent=publish,
        )

    return make


async def set_email(user: dict[str, Any], mode: str, address: str | None = None) -> None:
    """Give a person an e-mail address and a preference, as /settings would."""
    await User.update({User.email: address or f"{user['username']}@example.org"}).where(
        User.id == user["id"]
    )
    await mail.set_mode(user["id"], mode)


def mails_in(settings: Settings) -> list[EmailMessage]:
    """The mails the file transport wrote, oldest first, with headers decoded."""
    folder: Path = settings.mail_dir
    if not folder.exists():
        return []
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


def body_of(message: EmailMessage) -> str:
    return str(message.get_content())
