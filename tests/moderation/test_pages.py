"""Moderation pages: Grace's queue, an item and its decision form, the log, testing a rule,
and the member's side: notices and the appeal form."""

from __future__ import annotations

from moderation.tables import Appeal, Notice
from tests.conftest import post_form, shows, sign_in
from tests.moderation.conftest import CLAIM, CRISIS, open_item_for


async def test_graces_queue_shows_the_crisis_first_then_the_held_claim(
    client, settings, member, moderator, community, post_thread
):
    held = await post_thread(member, community, CLAIM, title="Supplement that cured me")
    crisis = await post_thread(member, community, CRISIS, title="I need to say something")
    await sign_in(client, moderator)
    page = await client.get("/mod")
    assert page.status_code == 200
    assert page.text.index("I need to say something") < page.text.index("Supplement that cured me")
    assert "Crisis: reach out first" in page.text
    del crisis, held


async def test_the_item_page_shows_the_rule_its_explanation_and_source(
    client, settings, member, moderator, community, post_thread
):
    held = await post_thread(member, community, CLAIM, title="What worked")
    item = await open_item_for("thread", held["id"])
    await sign_in(client, moderator)
    page = await client.get(f"/mod/items/{item['id']}")
    assert page.status_code == 200
    assert "Stop insulin for a natural cure" in page.text
    assert "diabetic ketoacidosis" in page.text
    assert 'href="https://www.nhs.uk/conditions/type-1-diabetes/"' in page.text
    assert "About the author" in page.text and "trust level 0" in page.text
    assert f'action="/mod/items/{item["id"]}/decide"' in page.text


async def test_deciding_from_the_page_removes_and_tells_the_author(
    client, make_client, settings, member, moderator, community, post_thread
):
    held = await post_thread(member, community, CLAIM, title="What worked")
    item = await open_item_for("thread", held["id"])
    await sign_in(client, moderator)
    response = await post_form(
        client,
        f"/mod/items/{item['id']}/decide",
        {"action": "remove", "note": "Stopping insulin is dangerous; please see the source."},
        f"/mod/items/{item['id']}",
    )
    assert response.status_code == 303 and response.headers["location"] == "/mod"
    author = make_client()
    async with author:
        await sign_in(author, member)
        home = await author.get("/")
        assert "1 message from the moderators" in home.text
        notices = await author.get("/notices")
        assert shows(notices, "Stopping insulin is dangerous; please see the source.")
        assert "Appeal this decision" in notices.text
        again = await author.get("/")
        assert "message from the moderators" not in again.text
        appeal = await post_form(
            author,
            f"/notices/{item['id']}/appeal",
            {"reason": "It was a quote from my aunt, which I disagree with."},
            "/notices",
        )
        assert appeal.status_code == 303
        assert await Appeal.count() == 1
        after = await author.get("/notices")
        assert "You appealed this decision" in after.text


async def test_a_decision_without_a_note_shows_the_form_again(
    client, settings, member, moderator, community, post_thread
):
    held = await post_thread(member, community, CLAIM)
    item = await open_item_for("thread", held["id"])
    await sign_in(client, moderator)
    response = await post_form(
        client, f"/mod/items/{item['id']}/decide", {"action": "remove", "note": ""}, "/mod"
    )
    assert response.status_code == 422
    assert 'id="f-note-error"' in response.text


async def test_suspending_from_the_page_with_the_member_action(
    client, settings, member, moderator, community, post_thread
):
    from forum.tables import User

    held = await post_thread(member, community, CLAIM)
    item = await open_item_for("thread", held["id"])
    await sign_in(client, moderator)
    response = await post_form(
        client,
        f"/mod/items/{item['id']}/decide",
        {"action": "member", "member_action": "suspend", "days": "2", "note": "A short break."},
        "/mod",
    )
    assert response.status_code == 303
    user = await User.select(User.status).where(User.id == member["id"]).first()
    assert user["status"] == "suspended"
    notice = await Notice.select().where(Notice.user == member["id"]).first()
    assert "suspended your account" in notice["message"]


async def test_members_are_turned_away_from_moderation_pages(client, member):
    await sign_in(client, member)
    for path in ("/mod", "/mod/audit", "/mod/screen", "/mod/rules"):
        assert (await client.get(path)).status_code == 403, path


async def test_moderators_of_another_community_get_not_found(
    client, settings, member, other_moderator, community, post_thread
):
    held = await post_thread(member, community, CLAIM)
    item = await open_item_for("thread", held["id"])
    await sign_in(client, other_moderator)
    assert (await client.get(f"/mod/items/{item['id']}")).status_code == 404
    response = await post_form(
        client, f"/mod/items/{item['id']}/decide", {"action": "approve"}, "/mod"
    )
    assert response.status_code == 404


async def test_the_audit_page_lists_actions(
    client, settings, member, moderator, community, post_thread
):
    await post_thread(member, community, CLAIM)
    await sign_in(client, moderator)
    page = await client.get("/mod/audit")
    assert page.status_code == 200 and "Kindred (automatic)" in page.text and ">hold<" in page.text


async def test_testing_a_rule_shows_the_verdict_without_storing(client, moderator):
    await sign_in(client, moderator)
    page = await post_form(
        client,
        "/mod/screen",
        {"text": "Colloidal silver cures infections better than antibiotics."},
        "/mod/screen",
    )
    assert page.status_code == 200
    assert "Verdict: label" in page.text and "nccih.nih.gov/health/colloidal-silver" in page.text


async def test_testing_a_rule_through_the_api(client, moderator, member):
    from tests.conftest import api_token

    headers = await api_token(client, moderator)
    response = await client.post(
        "/api/v1/moderation/screen", json={"text": "I can't go on."}, headers=headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["action"] == "escalate" and body["resources"]
    member_headers = await api_token(client, member)
    denied = await client.post(
        "/api/v1/moderation/screen", json={"text": "hello"}, headers=member_headers
    )
    assert denied.status_code == 403


async def test_the_rules_page_lists_every_claim_with_its_source(client, moderator):
    await sign_in(client, moderator)
    page = await client.get("/mod/rules")
    assert page.status_code == 200 and "Health claims (5" in page.text  # 50 or more
    assert "Baking soda cures cancer" in page.text


async def test_admins_appoint_and_dismiss_moderators_and_it_is_logged(
    client, admin, other_member, community
):
    from forum import accounts
    from moderation.tables import AuditEntry

    await sign_in(client, admin)
    response = await post_form(
        client,
        "/mod/moderators",
        {"community": community["slug"], "username": other_member["username"]},
        "/mod",
    )
    assert response.status_code == 303
    viewer = await accounts.load_viewer(other_member["id"], 0)
    assert community["id"] in viewer.moderates
    await post_form(
        client,
        "/mod/moderators",
        {"community": community["slug"], "username": other_member["username"], "dismiss": "1"},
        "/mod",
    )
    viewer = await accounts.load_viewer(other_member["id"], 0)
    assert community["id"] not in viewer.moderates
    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action)]
    assert actions == ["appoint", "dismiss"]


async def test_moderators_cannot_appoint_moderators(client, moderator, other_member, community):
    from tests.conftest import api_token

    headers = await api_token(client, moderator)
    response = await client.post(
        f"/api/v1/communities/{community['slug']}/moderators",
        json={"username": other_member["username"]},
        headers=headers,
    )
    assert response.status_code == 403


async def test_the_moderation_routes_are_in_the_openapi_document(client):
    document = (await client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    for path, method in (
        ("/api/v1/posts/{id}/flags", "post"),
        ("/api/v1/moderation/queue", "get"),
        ("/api/v1/moderation/items/{id}/decision", "post"),
        ("/api/v1/moderation/audit", "get"),
        ("/api/v1/moderation/screen", "post"),
    ):
        assert method in paths[path], path
