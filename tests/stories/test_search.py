"""Stories are findable: published ones, in communities the searcher may see, comments with
them; a withdrawn story leaves the index."""

from __future__ import annotations

from forum import communities, stories
from tests.conftest import viewer_of


async def find(client, words: str) -> list[tuple[str, str]]:
    body = (await client.get("/api/v1/search", params={"q": words})).json()
    return [(item["kind"], item["url"]) for item in body["items"]]


async def test_published_stories_and_their_comments_are_found(
    app, client, settings, member, other_member, community, story_factory
):
    story = await story_factory(
        author=member, community=community, body="Quinoa porridge saved me."
    )
    await story_factory(
        author=member, community=community, title="A draft about quinoa", publish=False
    )
    await stories.post_comment(
        settings, await viewer_of(other_member), story["id"], "Buckwheat works too."
    )
    await app.state.search_writer.drain_all()
    assert await find(client, "quinoa") == [("story", f"/s/{story['id']}")]
    assert await find(client, "buckwheat") == [("story", f"/s/{story['id']}")]
    await stories.withdraw_story(await viewer_of(member), story["id"])
    await app.state.search_writer.drain_all()
    assert await find(client, "quinoa") == []


async def test_a_private_communitys_story_is_not_found_by_outsiders(
    app, client, settings, admin, member, private_community, story_factory
):
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    await story_factory(author=member, community=private_community, body="Zanzibar holiday notes.")
    await app.state.search_writer.drain_all()
    assert await find(client, "zanzibar") == []
