"""The demo's stories: published, one behind a content warning with consent confirmed."""

from __future__ import annotations

from typing import Any

from forum import demo, stories
from forum.settings import Settings
from forum.tables import Story, StoryComment


async def test_the_demo_shares_stories_with_comments(
    app: Any, settings: Settings, client, demo_site: None
) -> None:
    rows = await Story.select().order_by(Story.id)
    assert [row["status"] for row in rows] == ["published"] * len(demo.STORIES)
    assert all(row["consent_confirmed_at"] is not None for row in rows)
    dev = next(row for row in rows if row["title"] == "Bringing Dad home from hospital")
    assert stories.warnings_of(dev) == ["a parent seriously ill in hospital"]
    assert await StoryComment.count().where(StoryComment.status == "published") == sum(
        len(item.comments) for item in demo.STORIES
    )
    gate = await client.get(f"/s/{dev['id']}")
    assert "Show the story" in gate.text and "eleven days" not in gate.text
    assert "The first year after my diagnosis" in (await client.get("/c/celiac")).text
