"""The people pages work without JavaScript, and the thread page stays a fixed, small number of
queries with tags, credentials and reactions on it."""

from __future__ import annotations

import pytest

from forum import answers, experience, reactions
from tests.conftest import counting_queries, sign_in, viewer_of


async def test_the_thread_page_costs_the_same_queries_with_tags_badges_and_reactions(
    app, client, settings, member, other_member, nurse, community, ask, reply_factory
):
    """Tags and credentials are joined into the post query; reactions are one batched query."""
    await experience.declare(await viewer_of(member), community["slug"], "patient", since=2004)
    await experience.declare(await viewer_of(other_member), community["slug"], "caregiver")
    short = await ask(member, "A short question")
    long = await ask(member, "A long question")
    for thread, replies in ((short, 4), (long, 39)):
        for number in range(replies):
            author = (other_member, nurse)[number % 2]
            reply = await reply_factory(thread=thread, author=author)
            await reactions.react(settings, await viewer_of(member), reply["id"], "helpful")
        await answers.accept_answer(await viewer_of(member), thread["id"], reply["id"])
    await sign_in(client, member)
    counts = []
    for thread in (short, long):
        with counting_queries(app) as queries:
            response = await client.get(f"/t/{thread['id']}")
        assert response.status_code == 200
        assert "Patient · since 2004" in response.text
        assert "Verified clinician · Heart failure nurse" in response.text
        assert "Helpful 1</button>" in response.text and "Accepted answer" in response.text
        counts.append(queries.count)
    assert counts[0] == counts[1]
    assert counts[0] <= 4


@pytest.mark.parametrize(
    "path",
    [
        "/me/experience",
        "/me/clinician",
        "/settings",
        "/settings/delete",
        "/clinicians/unanswered",
        "/mod/clinicians",
    ],
)
async def test_people_pages_render_without_script(client, moderator, nurse, path):
    await sign_in(client, moderator)
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert "<script" not in response.text


@pytest.mark.parametrize(
    "path", ["/me/experience", "/me/clinician", "/settings/delete", "/clinicians/unanswered"]
)
async def test_people_pages_ask_visitors_to_sign_in(client, path):
    response = await client.get(path)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_forms_without_a_csrf_token_are_refused(client, member, other_member, community):
    tag, _ = await experience.declare(await viewer_of(member), community["slug"], "patient")
    await sign_in(client, other_member)
    response = await client.post(f"/experience/{tag['id']}/vouch", data={})
    assert response.status_code == 403
    response = await client.post("/settings/delete", data={"password": "x"})
    assert response.status_code == 403


async def test_the_people_routes_are_in_the_openapi_document(client):
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    for path, method in (
        ("/api/v1/me/experience", "post"),
        ("/api/v1/me/clinician-application", "post"),
        ("/api/v1/moderation/clinician-applications/{id}/decision", "post"),
        ("/api/v1/posts/{id}/reactions", "post"),
        ("/api/v1/users/{username}", "get"),
        ("/api/v1/clinicians/unanswered", "get"),
        ("/api/v1/me/export", "get"),
        ("/api/v1/me", "delete"),
        ("/api/v1/threads/{id}/accepted-answer", "post"),
    ):
        assert method in paths[path], (path, method)
    profile = paths["/api/v1/users/{username}"]["get"]["responses"]["200"]
    properties = profile["content"]["application/json"]["schema"]["properties"]
    assert "experience" in properties and "badges" in properties
