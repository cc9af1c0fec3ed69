"""A thread page's posts and reactions are kept in memory (forum.page_cache) and never shown
stale: every change a page shows moves a version in the same transaction, whoever makes it.

Each test reads the page first, so the next read would be served from memory if nothing had
moved, then changes one thing and reads again."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from forum import (
    accounts,
    aliases,
    answers,
    blocks,
    communities,
    db,
    experience,
    profiles,
    reactions,
    threads,
)
from forum.page_cache import PAGES
from tests.conftest import counting_queries, shows, sign_in, viewer_of

PHONE = "Call me on 07700 900123 if you want to talk."


@pytest.fixture
async def reader(make_client, other_member) -> Any:
    """Another member reading the thread in their own browser."""
    client = make_client()
    await sign_in(client, other_member)
    yield client
    await client.aclose()


@pytest.fixture
async def conversation(thread_factory, reply_factory, member, other_member, community):
    thread = await thread_factory(community=community, author=member, body="Opening words")
    reply = await reply_factory(thread=thread, author=other_member, body="First reply")
    return {"thread": thread, "reply": reply, "path": f"/t/{thread['id']}"}


async def page(client, conversation) -> Any:
    response = await client.get(conversation["path"])
    assert response.status_code == 200
    return response


async def test_a_second_read_of_an_unchanged_page_asks_one_query(app, reader, conversation):
    await page(reader, conversation)
    with counting_queries(app) as queries:
        response = await page(reader, conversation)
    assert shows(response, "First reply")
    assert queries.count == 1  # who is reading, and the thread with its versions, together
    assert len(PAGES) >= 1


async def test_a_new_reply_shows_at_once(reader, conversation, reply_factory, member):
    await page(reader, conversation)
    await reply_factory(thread=conversation["thread"], author=member, body="A later reply")
    assert shows(await page(reader, conversation), "A later reply")


async def test_an_edit_shows_at_once(reader, conversation, other_member, settings):
    await page(reader, conversation)
    await threads.edit_post(
        await viewer_of(other_member),
        conversation["reply"]["id"],
        "Edited words",
        settings=settings,
    )
    response = await page(reader, conversation)
    assert shows(response, "Edited words") and not shows(response, "First reply")


async def test_a_deleted_post_becomes_its_placeholder_at_once(reader, conversation, other_member):
    await page(reader, conversation)
    await threads.delete_post(await viewer_of(other_member), conversation["reply"]["id"])
    response = await page(reader, conversation)
    assert not shows(response, "First reply")
    assert shows(response, threads.PLACEHOLDERS["deleted"])


async def test_a_change_made_straight_in_the_database_shows_at_once(reader, conversation):
    """Triggers, not the app's own writes, move the version: scripts and moderators' tools
    that write SQL are covered too."""
    await page(reader, conversation)
    await db.raw(
        'UPDATE "post" SET "status" = {} WHERE "id" = {}', "removed", conversation["reply"]["id"]
    )
    response = await page(reader, conversation)
    assert not shows(response, "First reply")
    assert shows(response, threads.PLACEHOLDERS["removed"])


async def test_reactions_given_and_taken_back_show_at_once(reader, conversation, member, settings):
    reply_id = conversation["reply"]["id"]
    await page(reader, conversation)
    viewer = await viewer_of(member)
    await reactions.react(settings, viewer, reply_id, "helpful")
    assert "Helpful: 1" in (await page(reader, conversation)).text  # the reply is theirs
    await reactions.unreact(settings, viewer, reply_id, "helpful")
    assert "Helpful: 1" not in (await page(reader, conversation)).text


async def test_a_held_post_is_its_authors_alone_though_the_page_is_kept(
    client, reader, conversation, member, moderator, settings, make_client
):
    await page(reader, conversation)
    await threads.post_reply(
        settings, await viewer_of(member), conversation["thread"]["id"], PHONE, confirm_phi=True
    )
    await sign_in(client, member)
    assert shows(await page(client, conversation), PHONE)
    assert not shows(await page(reader, conversation), PHONE)
    async with make_client() as moderating:
        await sign_in(moderating, moderator)
        assert shows(await page(moderating, conversation), PHONE)
    assert not shows(await page(reader, conversation), PHONE)


async def test_a_new_display_name_shows_on_old_posts_at_once(reader, conversation, member):
    await page(reader, conversation)
    await accounts.update_profile(await viewer_of(member), display_name="Maria Lopez")
    assert shows(await page(reader, conversation), "Maria Lopez")


async def test_a_new_role_shows_on_old_posts_at_once(reader, conversation, member, admin):
    await page(reader, conversation)
    assert '<span class="tag">Moderator</span>' not in (await page(reader, conversation)).text
    await accounts.set_role(await viewer_of(admin), member["username"], "moderator")
    assert '<span class="tag">Moderator</span>' in (await page(reader, conversation)).text


async def test_an_experience_tag_shows_and_hides_at_once(reader, conversation, member, community):
    await page(reader, conversation)
    viewer = await viewer_of(member)
    tag, _ = await experience.declare(viewer, community["slug"], "parent")
    assert 'class="tag experience' in (await page(reader, conversation)).text
    await experience.set_hidden(viewer, tag["id"], True)
    assert 'class="tag experience' not in (await page(reader, conversation)).text


async def test_a_name_for_the_community_replaces_the_account_name_at_once(
    reader, conversation, member, community
):
    await page(reader, conversation)
    await aliases.set_name(await viewer_of(member), community["slug"], "Quiet Fern")
    response = await page(reader, conversation)
    assert shows(response, "Quiet Fern")
    assert f'href="/u/{member["username"]}"' not in response.text


async def test_a_deleted_account_is_a_former_member_at_once(reader, conversation, member, settings):
    await page(reader, conversation)
    await profiles.delete_account(settings, await viewer_of(member), member["password"])
    response = await page(reader, conversation)
    assert f'href="/u/{member["username"]}"' not in response.text


async def test_an_accepted_answer_moves_up_at_once(
    client, thread_factory, reply_factory, member, other_member, clinician, community
):
    question = await thread_factory(
        community=community, author=member, body="Which test first?", kind="ask_clinician"
    )
    early = await reply_factory(thread=question, author=other_member, body="Early reply")
    late = await reply_factory(thread=question, author=other_member, body="Late reply")
    path = f"/t/{question['id']}"
    await sign_in(client, member)
    before = (await client.get(path)).text
    assert before.index("Early reply") < before.index("Late reply")
    await answers.accept_answer(await viewer_of(member), question["id"], late["id"])
    after = (await client.get(path)).text
    assert after.index("Late reply") < after.index("Early reply")
    assert early["id"] != late["id"]


async def test_the_api_reads_the_same_kept_page(client, conversation, member, reply_factory):
    path = f"/api/v1/threads/{conversation['thread']['id']}"
    first = (await client.get(path)).json()
    await reply_factory(thread=conversation["thread"], author=member, body="Seen by the API")
    second = (await client.get(path)).json()
    assert len(second["posts"]) == len(first["posts"]) + 1


async def test_one_readers_own_reactions_are_not_shown_as_anothers(
    client, conversation, member, outsider, community, settings, make_client
):
    await communities.join(await viewer_of(outsider), community["slug"])
    await reactions.react(settings, await viewer_of(member), conversation["reply"]["id"], "support")
    await sign_in(client, member)
    mine = 'value="-support" class="reaction mine" aria-pressed="true"'  # a press takes it back
    assert mine in (await page(client, conversation)).text
    async with make_client() as other:
        await sign_in(other, outsider)
        response = await page(other, conversation)
    assert "Send a hug 1" in response.text
    assert 'aria-pressed="true"' not in response.text


async def test_a_thread_moved_to_another_community_shows_names_used_there(
    reader, conversation, member, community, admin
):
    """Names for one community stay in it: a page kept from before a move must not show them."""
    await aliases.set_name(await viewer_of(member), community["slug"], "Quiet Fern")
    assert shows(await page(reader, conversation), "Quiet Fern")
    other = await communities.create_community(
        await viewer_of(admin), slug="long-covid", name="Long COVID", description="Elsewhere."
    )
    await db.raw(
        'UPDATE "thread" SET "community" = {} WHERE "id" = {}',
        other["id"],
        conversation["thread"]["id"],
    )
    response = await page(reader, conversation)
    assert not shows(response, "Quiet Fern")
    assert shows(response, member["display_name"])


async def test_a_revoked_session_reads_a_thread_as_a_visitor_and_is_forgotten(
    client, member, private_community, thread_factory, admin
):
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    secret = await thread_factory(community=private_community, author=member, body="Private words")
    path = f"/t/{secret['id']}"
    await sign_in(client, member)
    assert shows(await client.get(path), "Private words")
    await accounts.sign_out_everywhere(await viewer_of(member))
    assert (await client.get(path)).status_code == 404
    home = await client.get("/")
    assert 'action="/logout"' not in home.text  # the cookie no longer names anyone


async def test_a_deleted_accounts_cookie_reads_as_a_visitor(client, conversation, member, settings):
    await sign_in(client, member)
    await page(client, conversation)
    await profiles.delete_account(settings, await viewer_of(member), member["password"])
    response = await page(client, conversation)
    assert 'action="/logout"' not in response.text
    assert "Sign in</a> or" in response.text


async def test_one_round_trip_still_knows_the_readers_blocks_and_memberships(
    client, conversation, other_member, member
):
    await blocks.block(await viewer_of(member), other_member["username"])
    await sign_in(client, member)
    response = await page(client, conversation)
    assert "whom you blocked" in response.text  # the reply by the blocked member is folded
    assert 'action="/t/' in response.text and "/reply" in response.text  # a member may reply


async def test_a_signed_in_reader_gets_404_for_a_thread_that_is_not_there(client, member):
    await sign_in(client, member)
    assert (await client.get("/t/999999")).status_code == 404
    assert (await client.get("/t/0")).status_code == 404


# Presentations shared by readers of the same standing (forum.threads._standing) -------------


def edit_links(response: Any) -> set[str]:
    return set(re.findall(r'href="/p/(\d+)/edit"', response.text))


async def test_each_reader_sees_edit_on_their_own_posts_only_after_others_read_the_page(
    client, reader, conversation, member, outsider, community, make_client
):
    opening = str(conversation["thread"]["post_id"])
    reply = str(conversation["reply"]["id"])
    await sign_in(client, member)
    assert edit_links(await page(client, conversation)) == {opening}
    assert edit_links(await page(reader, conversation)) == {reply}
    async with make_client() as third, make_client() as visitor:
        await sign_in(third, outsider)
        assert '/react"' not in (await page(third, conversation)).text  # joins to react
        await communities.join(await viewer_of(outsider), community["slug"])
        for _ in range(2):  # the second read is the shared presentation
            response = await page(third, conversation)
            assert edit_links(response) == set()
            assert f'href="/p/{reply}/flag"' in response.text and '/react"' in response.text
        response = await page(visitor, conversation)
        assert edit_links(response) == set() and "/flag" not in response.text
    assert edit_links(await page(client, conversation)) == {opening}


async def test_a_moderators_controls_never_reach_the_member_who_reads_next(
    conversation, moderator, outsider, community, make_client
):
    await communities.join(await viewer_of(outsider), community["slug"])
    async with make_client() as moderating, make_client() as member_only:
        await sign_in(moderating, moderator)
        await sign_in(member_only, outsider)
        assert len(edit_links(await page(moderating, conversation))) == 2
        assert edit_links(await page(member_only, conversation)) == set()


async def test_a_readers_reactions_are_theirs_though_they_wrote_nothing_on_the_page(
    conversation, outsider, user_factory, community, settings, make_client
):
    third = await user_factory(username="jonas")
    for person in (outsider, third):
        await communities.join(await viewer_of(person), community["slug"])
    await reactions.react(
        settings, await viewer_of(outsider), conversation["reply"]["id"], "support"
    )
    async with make_client() as reacting, make_client() as not_reacting:
        await sign_in(reacting, outsider)
        await sign_in(not_reacting, third)
        assert 'aria-pressed="true"' not in (await page(not_reacting, conversation)).text
        assert 'aria-pressed="true"' in (await page(reacting, conversation)).text
        assert 'aria-pressed="true"' not in (await page(not_reacting, conversation)).text


async def test_one_readers_blocks_fold_posts_for_them_alone(
    client, reader, conversation, member, other_member
):
    await blocks.block(await viewer_of(member), other_member["username"])
    await sign_in(client, member)
    assert "whom you blocked" in (await page(client, conversation)).text
    await blocks.block(await viewer_of(other_member), member["username"])
    response = await page(reader, conversation)
    assert "whom you blocked" in response.text and 'href="/messages/new' not in response.text
    await blocks.unblock(await viewer_of(member), other_member["username"])
    assert "whom you blocked" not in (await page(client, conversation)).text


async def test_a_suspended_reader_is_not_offered_flags_the_reader_before_them_was(
    conversation, outsider, community, admin, make_client
):
    await communities.join(await viewer_of(outsider), community["slug"])
    async with make_client() as first, make_client() as suspended:
        await sign_in(first, outsider)
        assert "/flag" in (await page(first, conversation)).text
        await sign_in(suspended, outsider)
        await db.raw(
            'UPDATE "kindred_user" SET "status" = {}, "suspended_until" = {} WHERE "id" = {}',
            "suspended",
            datetime.now(UTC) + timedelta(days=1),
            outsider["id"],
        )
        assert "/flag" not in (await page(suspended, conversation)).text
