"""Expert-answered threads: clinicians' answers pinned under the question with their badge, the
accepted answer, the "expert answered" flag and filter, and the unanswered list."""

from __future__ import annotations

import pytest

from forum import answers, clinicians, threads
from forum.errors import Conflict, Forbidden, NotFound
from forum.permissions import VISITOR
from forum.tables import Thread
from moderation import decisions, flags
from search import service
from tests.conftest import api_token, make_user, post_form, sign_in, viewer_of
from tests.people.conftest import verify


async def expert_answered(thread_id: int) -> bool:
    row = await Thread.select(Thread.expert_answered).where(Thread.id == thread_id).first()
    return bool(row["expert_answered"])


async def test_a_clinicians_answer_is_pinned_under_the_question_with_its_badge(
    client, member, other_member, nurse, ask, reply_factory
):
    thread = await ask(member)
    first = await reply_factory(thread=thread, author=other_member, body="We weigh daily too.")
    answer = await reply_factory(thread=thread, author=nurse, body="Yes: fluid shows first.")
    later = await reply_factory(thread=thread, author=member, body="Thank you both.")
    data = await threads.get_thread(VISITOR, thread["id"])
    order = [post["id"] for post in data["posts"].items]
    assert order == [thread["post_id"], answer["id"], first["id"], later["id"]]
    assert data["posts"].items[1]["pinned"]
    page = await client.get(f"/t/{thread['id']}")
    assert page.text.index("fluid shows first") < page.text.index("We weigh daily too")
    assert "Verified clinician · Heart failure nurse · Cardiology" in page.text
    assert "A verified clinician" in page.text


async def test_discussions_keep_their_order(
    member, other_member, nurse, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    first = await reply_factory(thread=thread, author=other_member)
    answer = await reply_factory(thread=thread, author=nurse)
    data = await threads.get_thread(VISITOR, thread["id"])
    assert [p["id"] for p in data["posts"].items][1:] == [first["id"], answer["id"]]


async def test_expert_answered_follows_the_clinicians_published_answers(
    app, settings, member, other_member, nurse, moderator, ask, reply_factory
):
    thread = await ask(member)
    await reply_factory(thread=thread, author=other_member)
    assert not await expert_answered(thread["id"])
    answer = await reply_factory(thread=thread, author=nurse)
    assert await expert_answered(thread["id"])
    # A moderator removes the answer: the thread is no longer expert answered...
    await flags.flag_post(await viewer_of(other_member), answer["id"], "misinformation")
    from moderation.tables import ModerationItem

    item = await ModerationItem.select().where(ModerationItem.post_id == answer["id"]).first()
    await decisions.decide(await viewer_of(moderator), item["id"], "remove", "Not accurate.")
    assert not await expert_answered(thread["id"])
    # ...and it is again once restored.
    await decisions.decide(await viewer_of(moderator), item["id"], "restore", "")
    assert await expert_answered(thread["id"])
    # The author deleting it counts too.
    await threads.delete_post(await viewer_of(nurse), answer["id"])
    assert not await expert_answered(thread["id"])


async def test_threads_with_a_clinicians_answer_can_be_filtered_for(
    client, member, nurse, community, ask, thread_factory, reply_factory
):
    answered = await ask(member, "Is salt the problem?")
    waiting = await ask(member, "How much fluid a day?")
    chat = await thread_factory(community=community, author=member, title="Coffee and heart")
    await reply_factory(thread=answered, author=nurse)
    page = await client.get(f"/c/{community['slug']}?expert=1")
    assert "Is salt the problem?" in page.text
    assert "How much fluid a day?" not in page.text and "Coffee and heart" not in page.text
    assert "Expert answered" in (await client.get(f"/c/{community['slug']}")).text
    listing = await client.get(
        f"/api/v1/communities/{community['slug']}/threads?expert_answered=true"
    )
    assert [t["id"] for t in listing.json()["items"]] == [answered["id"]]
    assert listing.json()["items"][0]["expert_answered"] is True
    every = await client.get(f"/api/v1/communities/{community['slug']}/threads")
    assert {t["id"] for t in every.json()["items"]} == {answered["id"], waiting["id"], chat["id"]}


async def test_search_finds_expert_answered_threads(app, member, nurse, ask, reply_factory):
    answered = await ask(member, "Daily weighing with heart failure")
    await ask(member, "Weighing scales recommendations")
    await reply_factory(thread=answered, author=nurse)
    await app.state.search_writer.drain_all()
    found = await service.search(app.state.search_index, VISITOR, "weighing is:expert-answered")
    assert [item.id for item in found.items] == [answered["id"]]


async def test_the_asker_accepts_an_answer_and_it_comes_first(
    client, member, other_member, nurse, ask, reply_factory
):
    thread = await ask(member)
    answer = await reply_factory(thread=thread, author=nurse, body="Weigh every morning.")
    helpful = await reply_factory(thread=thread, author=other_member, body="A notebook helps.")
    with pytest.raises(Forbidden):
        await answers.accept_answer(await viewer_of(other_member), thread["id"], helpful["id"])
    await answers.accept_answer(await viewer_of(member), thread["id"], helpful["id"])
    data = await threads.get_thread(VISITOR, thread["id"])
    ids = [p["id"] for p in data["posts"].items]
    assert ids[1:] == [helpful["id"], answer["id"]]
    assert data["posts"].items[1]["accepted"]
    await sign_in(client, member)
    page = await client.get(f"/t/{thread['id']}")
    assert "Accepted answer" in page.text and "Unmark as the accepted answer" in page.text
    done = await post_form(
        client, f"/t/{thread['id']}/accept", {"post_id": str(answer["id"])}, f"/t/{thread['id']}"
    )
    assert done.status_code == 303
    row = await Thread.select(Thread.accepted_post).where(Thread.id == thread["id"]).first()
    assert row["accepted_post"] == answer["id"]
    await answers.clear_accepted_answer(await viewer_of(member), thread["id"])
    row = await Thread.select(Thread.accepted_post).where(Thread.id == thread["id"]).first()
    assert row["accepted_post"] is None


async def test_a_moderator_may_accept_but_only_replies_of_questions(
    member, other_member, moderator, nurse, community, ask, thread_factory, reply_factory
):
    thread = await ask(member)
    answer = await reply_factory(thread=thread, author=nurse)
    await answers.accept_answer(await viewer_of(moderator), thread["id"], answer["id"])
    with pytest.raises(NotFound):  # the question itself is not an answer
        await answers.accept_answer(await viewer_of(member), thread["id"], thread["post_id"])
    chat = await thread_factory(community=community, author=member)
    reply = await reply_factory(thread=chat, author=other_member)
    with pytest.raises(Conflict):
        await answers.accept_answer(await viewer_of(member), chat["id"], reply["id"])
    elsewhere = await ask(member, "Another question here")
    with pytest.raises(NotFound):  # a reply from another thread
        await answers.accept_answer(await viewer_of(member), elsewhere["id"], answer["id"])


async def test_accepting_through_the_api(client, member, nurse, ask, reply_factory):
    thread = await ask(member)
    answer = await reply_factory(thread=thread, author=nurse)
    headers = await api_token(client, member)
    accepted = await client.post(
        f"/api/v1/threads/{thread['id']}/accepted-answer",
        json={"post_id": answer["id"]},
        headers=headers,
    )
    assert accepted.status_code == 200 and accepted.json()["accepted_post"] == answer["id"]
    data = (await client.get(f"/api/v1/threads/{thread['id']}")).json()
    assert data["accepted_post"] == answer["id"] and data["expert_answered"] is True
    assert data["posts"][1]["accepted"] is True
    assert data["posts"][1]["author_credential"] == "Heart failure nurse · Cardiology"
    cleared = await client.delete(
        f"/api/v1/threads/{thread['id']}/accepted-answer", headers=headers
    )
    assert cleared.json()["accepted_post"] is None
    bad = await client.post(
        f"/api/v1/threads/{thread['id']}/accepted-answer",
        json={"post_id": "one"},
        headers=headers,
    )
    assert bad.status_code == 404


async def test_unanswered_questions_are_listed_by_specialty_oldest_first(
    client, settings, admin, member, community, nurse, reply_factory
):
    viewer = await viewer_of(member)

    async def question(title: str, specialty: str = "") -> dict:
        return await threads.start_thread(
            settings,
            viewer,
            community["slug"],
            threads.Draft(
                title=title, body="A question.", kind="ask_clinician", specialty=specialty
            ),
        )

    oldest = await question("About my heart rhythm", "cardiology")
    general = await question("Not sure who to ask")
    skin = await question("A rash on my arm", "dermatology")
    answered = await question("Swollen ankles", "cardiology")
    await reply_factory(thread=answered, author=nurse)
    used, listing = await answers.unanswered(await viewer_of(nurse))
    assert used == ["cardiology"]
    assert [t["id"] for t in listing.items] == [oldest["id"], general["id"]]
    _, only_skin = await answers.unanswered(await viewer_of(nurse), specialty="dermatology")
    assert [t["id"] for t in only_skin.items] == [skin["id"]]
    with pytest.raises(Forbidden):
        await answers.unanswered(await viewer_of(member))
    await sign_in(client, nurse)
    page = await client.get("/clinicians/unanswered")
    assert page.status_code == 200
    assert page.text.index("About my heart rhythm") < page.text.index("Not sure who to ask")
    assert "A rash on my arm" not in page.text and "Swollen ankles" not in page.text
    headers = await api_token(client, nurse)
    api = (await client.get("/api/v1/clinicians/unanswered", headers=headers)).json()
    assert [t["id"] for t in api["items"]] == [oldest["id"], general["id"]]
    assert api["specialties"] == ["cardiology"]


async def test_unanswered_questions_from_private_communities_stay_private(
    settings, admin, member, private_community, nurse
):
    from forum import communities

    await communities.add_member(await viewer_of(admin), private_community["slug"], "maria")
    await threads.start_thread(
        settings,
        await viewer_of(member),
        private_community["slug"],
        threads.Draft(title="A private question", body="Quietly.", kind="ask_clinician"),
    )
    _, listing = await answers.unanswered(await viewer_of(nurse))
    assert listing.total == 0


async def test_asking_a_specialty_on_the_new_thread_page(client, member, community):
    await sign_in(client, member)
    form = await client.get(f"/c/{community['slug']}/new?kind=ask_clinician")
    assert "Heart and circulation (cardiology)" in form.text
    response = await post_form(
        client,
        f"/c/{community['slug']}/new",
        {
            "kind": "ask_clinician",
            "specialty": "cardiology",
            "title": "Does daily weighing matter?",
            "body": "Please help.",
        },
        f"/c/{community['slug']}/new",
    )
    assert response.status_code == 303
    row = await Thread.select(Thread.specialty).first()
    assert row["specialty"] == "cardiology"
    bad = await post_form(
        client,
        f"/c/{community['slug']}/new",
        {"kind": "ask_clinician", "specialty": "astrology", "title": "Stars?", "body": "Hm."},
        f"/c/{community['slug']}/new",
    )
    assert bad.status_code == 422


async def test_a_clinician_verified_later_does_not_make_old_answers_expert(
    settings, admin, member, ask, reply_factory
):
    helper = await make_user(settings, "future_nurse")
    from forum import communities

    await communities.join(await viewer_of(helper), "celiac")
    thread = await ask(member)
    await reply_factory(thread=thread, author=helper)
    await verify(helper, admin)
    assert not await expert_answered(thread["id"])
    assert await clinicians.current_verification(helper["id"]) is not None
