"""`kindred rerender`: HTML stored under an older content policy is made again from its source."""

from forum import content, db, rerender
from tests.conftest import sign_in

OLD_HTML = '<p><img src="https://tracker.example/pixel.gif" alt="our garden"></p>'


async def test_an_image_stored_by_the_old_policy_stops_loading_once_rendered_again(
    client, member, community, thread_factory
):
    thread = await thread_factory(
        community=community, author=member, body="![our garden](https://tracker.example/pixel.gif)"
    )
    await db.raw(
        'UPDATE "post" SET "body_html" = {}, "policy_version" = 1 WHERE "thread" = {}',
        OLD_HTML,
        thread["id"],
    )
    await sign_in(client, member)
    assert OLD_HTML in (await client.get(f"/t/{thread['id']}")).text
    assert await rerender.pending() == 1

    done = await rerender.rerender_all()

    assert done["post"] == 1 and sum(done.values()) == 1
    page = (await client.get(f"/t/{thread['id']}")).text
    assert "tracker.example/pixel.gif" in page and "<img" not in page
    row = (await db.raw('SELECT "policy_version" FROM "post" WHERE "thread" = {}', thread["id"]))[0]
    assert row["policy_version"] == content.POLICY_VERSION
    assert await rerender.pending() == 0
    assert sum((await rerender.rerender_all()).values()) == 0  # a second run changes nothing


async def test_rerender_leaves_the_words_people_wrote_alone(member, community, thread_factory):
    thread = await thread_factory(community=community, author=member, body="Plain *words*")
    await db.raw('UPDATE "post" SET "policy_version" = 1 WHERE "thread" = {}', thread["id"])
    await rerender.rerender_all()
    row = (
        await db.raw('SELECT "body", "body_html" FROM "post" WHERE "thread" = {}', thread["id"])
    )[0]
    assert row["body"] == "Plain *words*"
    assert row["body_html"] == "<p>Plain <em>words</em></p>"
