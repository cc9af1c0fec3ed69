"""The authorization matrix: every route of the OpenAPI document, called as each of eight kinds
of caller, answers the status the design gives it, and private or held content is never in a
body its caller may not read.

One world is built once (two public communities, a private one, a held post, people in every
role) and every cell runs against it in order, collecting every mismatch so one run shows them
all. Cells that change the world work on throwaway objects made for them (a fresh post to
delete, a copy of the caller to delete their own account), so no cell depends on another's luck.
A route added to the API without a row here fails `test_every_documented_route_has_a_row`.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from forum import (
    anonymity,
    clinicians,
    communities,
    db,
    experience,
    guidelines,
    messages,
    site_settings,
    stories,
    threads,
)
from forum.settings import Settings
from forum.tables import User
from moderation import decisions, flags
from moderation.tables import ModerationItem
from tests.conftest import make_user, viewer_of
from tests.people.conftest import verify

VISITOR, MEMBER, OTHER_MEMBER, CLINICIAN = "visitor", "member", "other_member", "clinician"
OTHER_MOD, MODERATOR, ADMIN, SUSPENDED = "other_mod", "moderator", "admin", "suspended"
ROLES = (VISITOR, MEMBER, OTHER_MEMBER, CLINICIAN, OTHER_MOD, MODERATOR, ADMIN, SUSPENDED)

# Unique words in the private community's content and in held content: a body that contains
# one was shown something its caller may not read.
PRIVATE_MARKER = "zebrafinch7private"
HELD_MARKER = "quokka9held"
# Who may read each: the private community's content only its members and the admins (none
# of the roles is a member); held content its author (a third party) and A's moderators.
MAY_READ_PRIVATE = {ADMIN}
MAY_READ_HELD = {MODERATOR, ADMIN}

Expect = dict[str, tuple[int, ...]]


def expect(default: int | tuple[int, ...], **by_role: int | tuple[int, ...]) -> Expect:
    """Statuses per role: `default` for every role not named."""
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    as_tuple = lambda value: value if isinstance(value, tuple) else (value,)  # noqa: E731
    return {role: as_tuple(by_role.get(role, default)) for role in ROLES}


def anyone(status: int = 200, **by_role: int | tuple[int, ...]) -> Expect:
    return expect(status, **by_role)


def signed_in(status: int = 200, **by_role: int | tuple[int, ...]) -> Expect:
    """Any signed-in person, suspended ones too (reading, managing their own account)."""
    return expect(status, **{VISITOR: 401, **by_role})


def active(status: int = 200, **by_role: int | tuple[int, ...]) -> Expect:
    """Any signed-in person who is not suspended."""
    return expect(status, **{VISITOR: 401, SUSPENDED: 403, **by_role})


def admins(status: int = 200, denied: int = 404, **by_role: int | tuple[int, ...]) -> Expect:
    """The admins alone; the /admin routes are not found for anyone else."""
    return expect(denied, **{VISITOR: 401, ADMIN: status, SUSPENDED: (403, denied), **by_role})


def moderators(status: int = 200, **by_role: int | tuple[int, ...]) -> Expect:
    """Any moderator (of any community) and the admins."""
    return expect(
        403, **{VISITOR: 401, MODERATOR: status, OTHER_MOD: status, ADMIN: status, **by_role}
    )


def a_moderators(status: int = 200, **by_role: int | tuple[int, ...]) -> Expect:
    """Community A's moderators and the admins."""
    return expect(403, **{VISITOR: 401, MODERATOR: status, ADMIN: status, **by_role})


def posters_in_a(status: int = 200, **by_role: int | tuple[int, ...]) -> Expect:
    """Who may write in community A: its members and moderators, and the admins."""
    return expect(
        status, **{VISITOR: 401, OTHER_MEMBER: 403, OTHER_MOD: 403, SUSPENDED: 403, **by_role}
    )


def private_read(**by_role: int | tuple[int, ...]) -> Expect:
    """Reading the private community: not found for all but its members and the admins."""
    return expect(404, **{ADMIN: 200, **by_role})


# The world ------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request: path parameters, a JSON body, a query, and optionally someone else (a copy
    of the role's person) to send it as."""

    params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    query: Mapping[str, Any] = field(default_factory=dict)
    as_user: dict[str, Any] | None = None


@dataclass
class World:
    settings: Settings
    app: Any
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    numbers: Any = field(default_factory=lambda: itertools.count(1))

    def token(self, user: dict[str, Any]) -> str:
        return self.app.state.signer.issue_token(user["id"], user.get("session_epoch", 0))

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self.numbers)}"

    async def viewer(self, who: str) -> Any:
        if who == ADMIN:  # asked for by most setups; an admin's standing doesn't change here
            if ADMIN not in self.ids:
                self.ids[ADMIN] = await viewer_of(self.users[ADMIN])
            return self.ids[ADMIN]
        return await viewer_of(self.users[who])

    async def person(
        self,
        prefix: str,
        role: str = "member",
        *,
        member_of: tuple[str, ...] = (),
        moderates: tuple[str, ...] = (),
        trust: int = 1,
        suspended: bool = False,
    ) -> dict[str, Any]:
        user = await make_user(self.settings, self.name(prefix), role)
        admin = await self.viewer(ADMIN)
        for slug in member_of:
            await communities.add_member(admin, slug, user["username"])
        for slug in moderates:
            await communities.add_member(admin, slug, user["username"], role="moderator")
        changes: dict[Any, Any] = {User.trust_level: trust}
        if suspended:
            changes[User.status] = "suspended"
            changes[User.suspended_until] = datetime.now(UTC) + timedelta(days=7)
        await User.update(changes).where(User.id == user["id"])
        return user

    async def clone(self, role: str) -> dict[str, Any] | None:
        """A new person in the same position as `role`, for cells that end their account."""
        a, b = self.ids["a"], self.ids["b"]
        shapes: dict[str, dict[str, Any]] = {
            MEMBER: {"member_of": (a,)},
            OTHER_MEMBER: {"member_of": (b,)},
            CLINICIAN: {"role": "clinician", "member_of": (a,)},
            OTHER_MOD: {"role": "moderator", "moderates": (b,)},
            MODERATOR: {"role": "moderator", "moderates": (a,)},
            ADMIN: {"role": "admin"},
            SUSPENDED: {"member_of": (a,), "suspended": True},
        }
        if role == VISITOR:
            return None
        return await self.person(f"{role.replace('_', '')}copy", **shapes[role])

    async def community(
        self, *, visibility: str = "public", staffed: bool = True, allow_anonymous: bool = False
    ) -> str:
        """A fresh community; `staffed`: with the roles' usual places in A (members, moderator)."""
        admin = await self.viewer(ADMIN)
        slug = self.name("spare-")
        await communities.create_community(
            admin, slug=slug, name=slug.title(), visibility=visibility, description="Spare."
        )
        if staffed:
            for role in (MEMBER, CLINICIAN, SUSPENDED):
                await communities.add_member(admin, slug, self.users[role]["username"])
            await communities.add_member(
                admin, slug, self.users[MODERATOR]["username"], role="moderator"
            )
        if allow_anonymous:
            await anonymity.set_allow_anonymous(admin, slug, True)
        return slug

    async def thread(
        self, author: str, slug: str | None = None, body: str = "How do you manage?", **kw: Any
    ) -> dict[str, Any]:
        return await threads.start_thread(
            self.settings,
            await self.viewer(author),
            slug or self.ids["a"],
            threads.Draft(title=kw.pop("title", "A question for everyone"), body=body, **kw),
        )

    async def reply(self, author: str, thread_id: int, body: str = "Same here.") -> dict[str, Any]:
        return await threads.post_reply(self.settings, await self.viewer(author), thread_id, body)

    async def story(
        self, author: str, *, slug: str | None = None, publish: bool = True, body: str = ""
    ) -> dict[str, Any]:
        return await stories.create_story(
            self.settings,
            await self.viewer(author),
            stories.StoryDraft(
                title="My first year with it",
                body=body or "It got easier with time and with good people around me.",
                community=self.ids["a"] if slug is None else slug,
            ),
            publish=publish,
            confirm_consent=publish,
        )

    async def comment(self, author: str, story_id: int) -> dict[str, Any]:
        return await stories.post_comment(
            self.settings, await self.viewer(author), story_id, "Thank you for sharing this."
        )

    async def application(self) -> dict[str, Any]:
        applicant = await self.person("applicant")
        return await clinicians.apply(
            await viewer_of(applicant),
            clinicians.Application(
                profession="Dietitian",
                specialty="nutrition",
                license_region="UK, HCPC",
                license_number="DT123456",
            ),
        )

    async def flagged_item(self, flagger: str = "ann") -> int:
        """An open review item on a fresh post of ann's in A, from a flag."""
        thread = await self.thread("ann")
        post = await self.reply("ann", thread["id"], "I read that gluten is fine in small doses.")
        result = await flags.flag_post(await self.viewer(MEMBER), post["id"], "misinformation")
        return result["item_id"]

    async def conversation(self) -> dict[str, Any]:
        """A conversation ann started with the member."""
        return await messages.start_conversation(
            self.settings,
            await self.viewer("ann"),
            [self.users[MEMBER]["username"]],
            "Hello, how did your first year go?",
        )


async def item_for(kind: str, object_id: int) -> int:
    row = (
        await ModerationItem.select(ModerationItem.id)
        .where((ModerationItem.kind == kind) & (ModerationItem.object_id == object_id))
        .first()
    )
    assert row is not None, (kind, object_id)
    return row["id"]


async def build_world(settings: Settings, app: Any, fixtures: dict[str, Any]) -> World:
    """Communities A (public, anonymous posting allowed), B (public) and P (private); people in
    every role; content of every kind; a held thread and reply; private content in P."""
    world = World(settings, app)
    world.users[ADMIN] = fixtures["admin"]
    admin = await viewer_of(fixtures["admin"])
    a = fixtures["community"]["slug"]
    p = fixtures["private_community"]["slug"]
    world.ids.update(a=a, p=p)
    await anonymity.set_allow_anonymous(admin, a, True)
    b = await world.community(staffed=False)
    world.ids["b"] = b
    world.users[MEMBER] = fixtures["member"]
    world.users[MODERATOR] = fixtures["moderator"]
    world.users[CLINICIAN] = fixtures["clinician"]
    await User.update({User.trust_level: 1}).where(User.id == fixtures["member"]["id"])
    await verify(fixtures["clinician"], fixtures["admin"])
    world.users[OTHER_MEMBER] = await world.person("bo", member_of=(b,))
    world.users[OTHER_MOD] = await world.person("omar", "moderator", moderates=(b,))
    world.users[SUSPENDED] = await world.person("sam", member_of=(a,), suspended=True)
    world.users["ann"] = await world.person("ann", member_of=(a,))
    world.users["pia"] = await world.person("pia", member_of=(p,))

    ids = world.ids
    # Community A: ann's thread with replies, the member's own posts, a question to clinicians.
    thread_a = await world.thread("ann", title="Eating out safely", body="Any tips for abroad?")
    ids["thread_a"] = thread_a["id"]
    ids["ann_post"] = (await world.reply("ann", thread_a["id"], "Cards in the local language."))[
        "id"
    ]
    ids["member_post"] = (await world.reply(MEMBER, thread_a["id"], "I always call ahead."))["id"]
    question = await world.thread(
        MEMBER, title="Is oats safe for me?", body="My dietitian was unsure.", kind="ask_clinician"
    )
    ids["question"] = question["id"]
    ids["answer"] = (await world.reply(CLINICIAN, question["id"], "Pure oats usually are."))["id"]
    # Held content in A: a thread and a reply with a short link (held for review).
    held = await world.thread(
        "ann", title=f"Held thread {HELD_MARKER}", body=f"See bit.ly/x1 {HELD_MARKER}"
    )
    assert held["status"] == "held", held
    ids["held_thread"] = held["id"]
    ids["held_post"] = held["post_id"]
    ids["held_item"] = await item_for("thread", held["id"])
    held_reply = await world.reply("ann", thread_a["id"], f"Also bit.ly/x2 {HELD_MARKER} here")
    assert held_reply["status"] == "held", held_reply
    ids["held_reply"] = held_reply["id"]
    # Community B: its member's thread.
    ids["thread_b"] = (await world.thread(OTHER_MEMBER, b))["id"]
    # Community P: private content in a thread, a reply and a story.
    private = await world.thread(
        "pia", p, title=f"Private {PRIVATE_MARKER}", body=f"Only for us {PRIVATE_MARKER}"
    )
    ids["private_thread"] = private["id"]
    ids["private_post"] = (await world.reply("pia", private["id"], f"Yes {PRIVATE_MARKER}"))["id"]
    ids["private_story"] = (await world.story("pia", slug=p, body=f"Story {PRIVATE_MARKER}"))["id"]
    # Stories: ann's published story in A with her comment; the member's own story.
    ids["ann_story"] = (await world.story("ann"))["id"]
    ids["ann_comment"] = (await world.comment("ann", ids["ann_story"]))["id"]
    ids["member_story"] = (await world.story(MEMBER))["id"]
    # Experience tags: ann's and the member's, in A.
    ids["ann_tag"] = (await experience.declare(await world.viewer("ann"), a, "patient"))[0]["id"]
    ids["member_tag"] = (await experience.declare(await world.viewer(MEMBER), a, "caregiver"))[0][
        "id"
    ]
    # A clinician's application waiting for a decision.
    ids["application"] = (await world.application())["id"]
    # A conversation between ann and the member, and ann's message in it.
    sent = await world.conversation()
    ids["conversation"], ids["message"] = sent["conversation"], sent["id"]
    # Review items: an anonymous thread of ann's, flagged; a decision against the member.
    anonymous = await world.thread("ann", body="Nobody knows about my diagnosis.", anonymous=True)
    ids["anonymous_item"] = (
        await flags.flag_thread(await world.viewer(MEMBER), anonymous["id"], "other")
    )["item_id"]
    hidden = await world.reply(MEMBER, thread_a["id"], "You are all wrong about this.")
    flagged = await flags.flag_post(await world.viewer("ann"), hidden["id"], "harassment")
    await decisions.decide(await world.viewer(MODERATOR), flagged["item_id"], "hide", "Be kind.")
    ids["decided_item"] = flagged["item_id"]
    # The decision cost the member their trust level; give it back, so they may message.
    await User.update({User.trust_level: 1}).where(User.id == world.users[MEMBER]["id"])
    # A community with guidelines to accept.
    guided = await world.community()
    version = await guidelines.publish(admin, guided, "Be kind. Cite sources.")
    ids["guided"], ids["guided_version"] = guided, version["version"]
    # Search follows the outbox; index everything now.
    await app.state.search_writer.drain_all()
    return world


# The table --------------------------------------------------------------------------------------

Setup = Callable[[World, str], Awaitable[Call]]


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # as in the OpenAPI document, after /api/v1
    expected: Expect
    setup: Setup
    variant: str = ""
    # A marker that must be in the body for the roles allowed to read it: proof the world
    # holds what the leak checks look for.
    shows: str = ""

    @property
    def route(self) -> tuple[str, str]:
        return (self.method, self.path)


def fixed(body: Any = None, query: Mapping[str, Any] | None = None, **params: str) -> Setup:
    """A call on the shared world: `params` name world ids (`id="thread_a"`) or are literal
    when prefixed with '=' (`username="=ann"` means the username of the person called ann)."""

    async def setup(world: World, role: str) -> Call:
        values = {}
        for key, ref in params.items():
            if ref.startswith("@"):
                values[key] = world.users[ref[1:]]["username"]
            else:
                values[key] = world.ids[ref]
        return Call(values, body, query or {})

    return setup


async def _member_tag_to_delete(world: World, role: str) -> Call:
    slug = await world.community()
    tag, _ = await experience.declare(await world.viewer(MEMBER), slug, "patient")
    return Call({"id": tag["id"]})


async def _application_decision(world: World, role: str) -> Call:
    application = await world.application()
    return Call({"id": application["id"]}, {"action": "reject", "note": "Licence not found."})


async def _clinician_to_revoke(world: World, role: str) -> Call:
    person = await world.person("nurse", "clinician")
    await verify(person, world.users[ADMIN])
    return Call({"username": person["username"]}, {"note": "Licence lapsed."})


async def _clone_call(world: World, role: str, body: Any = None) -> Call:
    return Call({}, body, {}, await world.clone(role))


async def _delete_me(world: World, role: str) -> Call:
    return await _clone_call(world, role, {"password": "correct horse battery"})


async def _register(world: World, role: str) -> Call:
    return Call({}, {"username": world.name("newcomer"), "password": "a long enough passphrase"})


async def _token(world: World, role: str) -> Call:
    who = world.users["ann" if role == VISITOR else role]
    return Call({}, {"username": who["username"], "password": who["password"]})


async def _spare_user(world: World, role: str) -> Call:
    person = await world.person("spare")
    return Call({"username": person["username"]}, {"role": "member", "note": "Tidying up."})


async def _spare_community(world: World, role: str, body: Any = None) -> Call:
    return Call({"slug": await world.community()}, body)


async def _spare_invite(world: World, role: str) -> Call:
    invite = await site_settings.create_invite(await world.viewer(ADMIN))
    return Call({"id": invite["id"]})


async def _new_community(world: World, role: str) -> Call:
    return Call({}, {"slug": world.name("new-"), "name": "A new community"})


async def _join(world: World, role: str, visibility: str = "public") -> Call:
    return Call({"slug": await world.community(visibility=visibility, staffed=False)})


async def _join_private(world: World, role: str) -> Call:
    return await _join(world, role, "private")


async def _leave(world: World, role: str) -> Call:
    slug = await world.community(staffed=False)
    if role != VISITOR:
        await communities.add_member(await world.viewer(ADMIN), slug, world.users[role]["username"])
    return Call({"slug": slug})


async def _guidelines(world: World, role: str) -> Call:
    return Call({"slug": await world.community()}, {"body": "Be kind; no selling."})


async def _conversation(world: World, role: str, body: Any = None) -> Call:
    sent = await world.conversation()
    return Call({"id": sent["conversation"]}, body)


async def _start_conversation(world: World, role: str) -> Call:
    return Call({}, {"to": [world.users["ann"]["username"]], "body": "Hello there, ann."})


async def _block(world: World, role: str) -> Call:
    person = await world.person("spare")
    return Call({}, {"username": person["username"]})


async def _unblock(world: World, role: str) -> Call:
    person = await world.person("spare")
    if role != VISITOR:  # straight into the table: suspended people can't block
        await db.raw(
            'INSERT INTO "member_block" ("blocker", "blocked", "created_at") VALUES ({}, {}, {})',
            world.users[role]["id"],
            person["id"],
            datetime.now(UTC),
        )
    return Call({"username": person["username"]})


async def _story_to_publish(world: World, role: str) -> Call:
    story = await world.story(MEMBER, publish=False)
    return Call({"id": story["id"]}, {"confirm_consent": True})


async def _story_to_withdraw(world: World, role: str) -> Call:
    return Call({"id": (await world.story(MEMBER))["id"]})


async def _comment_to_delete(world: World, role: str) -> Call:
    return Call({"id": (await world.comment(MEMBER, world.ids["ann_story"]))["id"]})


async def _story_to_flag(world: World, role: str) -> Call:
    return Call({"id": (await world.story("ann"))["id"]}, {"reason": "spam"})


async def _comment_to_flag(world: World, role: str) -> Call:
    return Call(
        {"id": (await world.comment("ann", world.ids["ann_story"]))["id"]}, {"reason": "spam"}
    )


async def _post_to_delete(world: World, role: str) -> Call:
    return Call({"id": (await world.reply(MEMBER, world.ids["thread_a"]))["id"]})


async def _post_to_flag(world: World, role: str) -> Call:
    return Call({"id": (await world.reply("ann", world.ids["thread_a"]))["id"]}, {"reason": "spam"})


async def _thread_to_flag(world: World, role: str) -> Call:
    return Call({"id": (await world.thread("ann"))["id"]}, {"reason": "spam"})


async def _item_to_decide(world: World, role: str) -> Call:
    return Call({"id": await world.flagged_item()}, {"action": "approve", "note": "Fine."})


async def _appoint(world: World, role: str) -> Call:
    slug = await world.community(staffed=False)
    person = await world.person("helper")
    return Call({"slug": slug}, {"username": person["username"]})


async def _dismiss(world: World, role: str) -> Call:
    slug = await world.community(staffed=False)
    person = await world.person("helper", "moderator")
    await communities.add_member(
        await world.viewer(ADMIN), slug, person["username"], role="moderator"
    )
    return Call({"slug": slug, "username": person["username"]})


FLAG = {"reason": "spam"}
THREAD_BODY = {"title": "Travelling with coeliac disease", "body": "What do you pack?"}
PRIVACY_BODY = {"bio": "everyone"}
APPLICATION_BODY = {
    "profession": "Dietitian",
    "specialty": "nutrition",
    "license_region": "UK, HCPC",
    "license_number": "DT654321",
}

CASES: tuple[Case, ...] = (
    # Experience tags
    Case("POST", "/me/experience", posters_in_a((200, 201), admin=201), fixed({"community": "celiac", "relation": "patient"})),
    Case("GET", "/me/experience", signed_in(), fixed()),
    Case("PATCH", "/me/experience/{id}", expect(404, visitor=401, member=200), fixed({"hidden": False}, id="member_tag")),
    Case("DELETE", "/me/experience/{id}", expect(404, visitor=401, member=200), _member_tag_to_delete),
    Case("POST", "/experience/{id}/vouch", posters_in_a(200), fixed(id="ann_tag")),
    Case("DELETE", "/experience/{id}/vouch", active(), fixed(id="ann_tag")),
    Case("POST", "/experience/{id}/confirm", a_moderators(), fixed({"confirmed": True}, id="ann_tag")),
    # Clinicians
    Case("POST", "/me/clinician-application", active(201), fixed(APPLICATION_BODY)),
    Case("GET", "/me/clinician-application", signed_in(), fixed()),
    Case("GET", "/moderation/clinician-applications/{id}", moderators(member=404, other_member=404, clinician=404, suspended=404), fixed(id="application")),
    Case("POST", "/moderation/clinician-applications/{id}/decision", moderators(), _application_decision),
    Case("GET", "/moderation/clinicians", moderators(), fixed()),
    Case("POST", "/moderation/clinicians/{username}/revoke", moderators(), _clinician_to_revoke),
    Case("GET", "/clinicians/unanswered", moderators(clinician=200), fixed()),
    # Reactions and accepted answers
    Case("POST", "/posts/{id}/reactions", posters_in_a(), fixed({"kind": "support"}, id="ann_post")),
    Case("DELETE", "/posts/{id}/reactions/{kind}", signed_in(), lambda w, r: _kind(w, "ann_post")),
    Case("GET", "/posts/{id}/reactions", anyone(), fixed(id="ann_post")),
    Case("GET", "/posts/{id}/reactions", private_read(), fixed(id="private_post"), "private"),
    Case("GET", "/posts/{id}/reactions", expect(404, moderator=200, admin=200), fixed(id="held_reply"), "held"),
    Case("POST", "/threads/{id}/accepted-answer", a_moderators(member=200), lambda w, r: _accept(w)),
    Case("DELETE", "/threads/{id}/accepted-answer", a_moderators(member=200), fixed(id="question")),
    # Privacy, export, deleting the account
    Case("GET", "/me/privacy", signed_in(), fixed()),
    Case("PATCH", "/me/privacy", signed_in(), fixed(PRIVACY_BODY)),
    Case("GET", "/me/export", signed_in(), fixed()),
    Case("DELETE", "/me", signed_in(), _delete_me),
    # Accounts
    Case("POST", "/auth/register", anyone(201), _register),
    Case("POST", "/auth/token", anyone(), _token),
    Case("GET", "/me", signed_in(), fixed()),
    Case("PATCH", "/me", active(), fixed({"display_name": "A new name"})),
    Case("POST", "/me/sign-out-everywhere", signed_in(), lambda w, r: _clone_call(w, r)),
    Case("GET", "/users/{username}", anyone(), fixed(username="@ann")),
    Case("GET", "/users/{username}", anyone(), fixed(username="@pia"), "private member"),
    # Administration
    Case("GET", "/admin/insights", admins(), fixed()),
    Case("GET", "/communities/{slug}/insights", expect(404, visitor=401, moderator=200, admin=200), fixed(slug="a")),
    Case("GET", "/admin/settings", admins(), fixed()),
    Case("PATCH", "/admin/settings", admins(), fixed({"registration": "open"})),
    Case("GET", "/admin/users", admins(), fixed()),
    Case("POST", "/admin/users/{username}/role", admins(), _spare_user),
    Case("PATCH", "/admin/communities/{slug}", admins(), lambda w, r: _spare_community(w, r, {"description": "Edited."})),
    Case("POST", "/admin/communities/{slug}/archive", admins(), lambda w, r: _spare_community(w, r, {"archived": True})),
    Case("GET", "/admin/invites", admins(), fixed()),
    Case("POST", "/admin/invites", admins(201), fixed({})),
    Case("POST", "/admin/invites/{id}/revoke", admins(), _spare_invite),
    # Communities
    Case("GET", "/communities", anyone(), fixed()),
    Case("POST", "/communities", admins(201, denied=403), _new_community),
    Case("GET", "/communities/{slug}", anyone(), fixed(slug="a")),
    Case("GET", "/communities/{slug}", private_read(), fixed(slug="p"), "private"),
    Case("POST", "/communities/{slug}/join", active(), _join),
    Case("POST", "/communities/{slug}/join", expect(404, visitor=401, admin=403, suspended=403), _join_private, "private"),
    Case("POST", "/communities/{slug}/leave", signed_in(), _leave),
    Case("GET", "/communities/{slug}/threads", anyone(), fixed(slug="a")),
    Case("GET", "/communities/{slug}/threads", private_read(), fixed(slug="p"), "private"),
    Case("POST", "/communities/{slug}/threads", posters_in_a(201), fixed(THREAD_BODY, slug="a")),
    Case("POST", "/communities/{slug}/threads", expect(404, visitor=401, admin=201), fixed(THREAD_BODY, slug="p"), "private"),
    Case("GET", "/communities/{slug}/guidelines", anyone(), fixed(slug="guided")),
    Case("GET", "/communities/{slug}/guidelines", private_read(), fixed(slug="p"), "private"),
    Case("POST", "/communities/{slug}/guidelines", a_moderators(201), _guidelines),
    Case("POST", "/communities/{slug}/guidelines/accept", posters_in_a(), lambda w, r: _accept_guidelines(w)),
    # Private conversations and blocks
    Case("GET", "/conversations", signed_in(), fixed()),
    Case("POST", "/conversations", active(201, other_member=422, other_mod=422), _start_conversation),
    Case("GET", "/conversations/{id}", expect(404, visitor=401, member=200), fixed(id="conversation")),
    Case("POST", "/conversations/{id}/messages", expect(404, visitor=401, member=201, suspended=403), fixed({"body": "Thanks, it went well."}, id="conversation")),
    Case("POST", "/conversations/{id}/leave", expect(404, visitor=401, member=200), _conversation),
    Case("POST", "/conversations/{id}/mute", expect(404, visitor=401, member=200), lambda w, r: _conversation(w, r, {"muted": True})),
    Case("POST", "/messages/{id}/report", expect(404, visitor=401, member=201), fixed(FLAG, id="message")),
    # Only its sender may unsend a message, and no role here sent ann's.
    Case("POST", "/messages/{id}/unsend", expect(404, visitor=401), fixed(id="message")),
    Case("GET", "/me/message-settings", signed_in(), fixed()),
    Case("PUT", "/me/message-settings", signed_in(), fixed({"audience": "communities"})),
    Case("GET", "/me/blocks", signed_in(), fixed()),
    Case("POST", "/me/blocks", signed_in(201), _block),
    Case("DELETE", "/me/blocks/{username}", signed_in(), _unblock),
    # Notifications, follows, e-mail
    Case("GET", "/notifications", signed_in(), fixed()),
    Case("POST", "/notifications/read", signed_in(), fixed({})),
    Case("GET", "/me/follows", signed_in(), fixed()),
    Case("POST", "/follows", active(), lambda w, r: _follow(w, "thread_a")),
    Case("POST", "/follows", expect(404, visitor=401, admin=200, suspended=403), lambda w, r: _follow(w, "private_thread"), "private"),
    Case("GET", "/me/email", signed_in(), fixed()),
    Case("PUT", "/me/email", signed_in(), fixed({"mode": "none"})),
    Case("GET", "/openapi.json", anyone(), fixed()),
    # Names and anonymity
    Case("GET", "/communities/{slug}/my-name", signed_in(), fixed(slug="a")),
    Case("GET", "/communities/{slug}/my-name", expect(404, visitor=401, admin=200), fixed(slug="p"), "private"),
    Case("PUT", "/communities/{slug}/my-name", posters_in_a(), fixed({"display_name": None}, slug="a")),
    Case("PUT", "/communities/{slug}/anonymous-posting", a_moderators(), fixed({"allowed": True}, slug="a")),
    Case("POST", "/moderation/items/{id}/reveal", a_moderators(other_mod=404), fixed({"reason": "A threat to another member."}, id="anonymous_item")),
    # Search
    Case("GET", "/search", anyone(), fixed(query={"q": PRIVATE_MARKER}), shows=PRIVATE_MARKER),
    Case("GET", "/search", anyone(), fixed(query={"q": HELD_MARKER}), "held"),
    # Stories
    Case("GET", "/stories", anyone(), fixed()),
    Case("POST", "/stories", active(201), fixed({"title": "What I learned", "body": "Slowly, a lot."})),
    Case("GET", "/stories/{id}", anyone(), fixed(id="ann_story")),
    Case("GET", "/stories/{id}", private_read(), fixed(id="private_story"), "private", PRIVATE_MARKER),
    Case("PATCH", "/stories/{id}", expect(403, visitor=401, member=200), fixed({"summary": "A year on."}, id="member_story")),
    Case("POST", "/stories/{id}/publish", expect(404, visitor=401, member=200, suspended=403), _story_to_publish),
    Case("POST", "/stories/{id}/withdraw", expect(403, visitor=401, member=200), _story_to_withdraw),
    Case("POST", "/stories/{id}/comments", posters_in_a(201), fixed({"body": "Thank you."}, id="ann_story")),
    Case("DELETE", "/comments/{id}", expect(403, visitor=401, member=200), _comment_to_delete),
    Case("POST", "/stories/{id}/flags", active(201), _story_to_flag),
    Case("POST", "/comments/{id}/flags", active(201), _comment_to_flag),
    Case("GET", "/users/{username}/stories", anyone(), fixed(username="@ann")),
    Case("GET", "/users/{username}/stories", anyone(), fixed(username="@pia"), "private member"),
    # Threads and posts
    Case("GET", "/threads/{id}", anyone(), fixed(id="thread_a"), shows=HELD_MARKER),
    Case("GET", "/threads/{id}", private_read(), fixed(id="private_thread"), "private", PRIVATE_MARKER),
    Case("GET", "/threads/{id}", expect(404, moderator=200, admin=200), fixed(id="held_thread"), "held", HELD_MARKER),
    Case("POST", "/threads/{id}/posts", posters_in_a(201), fixed({"body": "Good luck!"}, id="thread_a")),
    Case("POST", "/threads/{id}/posts", expect(404, visitor=401, admin=201), fixed({"body": "Hi"}, id="private_thread"), "private"),
    Case("GET", "/posts/{id}", anyone(), fixed(id="ann_post")),
    Case("GET", "/posts/{id}", private_read(), fixed(id="private_post"), "private"),
    Case("GET", "/posts/{id}", expect(404, moderator=200, admin=200), fixed(id="held_reply"), "held", HELD_MARKER),
    Case("PATCH", "/posts/{id}", a_moderators(member=200), fixed({"body": "I always call ahead, twice."}, id="member_post")),
    Case("DELETE", "/posts/{id}", expect(403, visitor=401, member=200), _post_to_delete),
    # Moderation
    Case("POST", "/posts/{id}/flags", active(201), _post_to_flag),
    Case("POST", "/posts/{id}/flags", expect(404, visitor=401, admin=201, suspended=403), fixed(FLAG, id="private_post"), "private"),
    Case("POST", "/threads/{id}/flags", active(201), _thread_to_flag),
    Case("GET", "/moderation/queue", moderators(), fixed(), shows=HELD_MARKER),
    Case("GET", "/moderation/items/{id}", a_moderators(other_mod=404), fixed(id="held_item")),
    Case("POST", "/moderation/items/{id}/decision", expect(404, visitor=401, moderator=200, admin=200, suspended=403), _item_to_decide),
    Case("POST", "/moderation/items/{id}/appeal", expect(404, visitor=401, member=201), fixed({"reason": "I was quoting someone else."}, id="decided_item")),
    Case("GET", "/moderation/audit", moderators(), fixed()),
    Case("POST", "/moderation/screen", moderators(), fixed({"text": "Stop your insulin, cinnamon cured me."})),
    Case("GET", "/me/notices", signed_in(), fixed()),
    Case("POST", "/communities/{slug}/moderators", admins(201, denied=403), _appoint),
    Case("DELETE", "/communities/{slug}/moderators/{username}", admins(denied=403), _dismiss),
)  # fmt: skip


async def _kind(world: World, post: str) -> Call:
    return Call({"id": world.ids[post], "kind": "support"})


async def _accept(world: World) -> Call:
    return Call({"id": world.ids["question"]}, {"post_id": world.ids["answer"]})


async def _accept_guidelines(world: World) -> Call:
    return Call({"slug": world.ids["guided"]}, {"version": world.ids["guided_version"]})


async def _follow(world: World, thread: str) -> Call:
    return Call({}, {"kind": "thread", "target": world.ids[thread], "action": "follow"})


# The tests --------------------------------------------------------------------------------------


async def documented_routes(client: httpx.AsyncClient) -> set[tuple[str, str]]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in response.json()["paths"].items()
        for method in operations
    }


async def test_every_documented_route_has_a_row(client):
    documented = await documented_routes(client)
    tabled = {case.route for case in CASES}
    assert not documented - tabled, (
        f"routes with no row in the matrix: {sorted(documented - tabled)}"
    )
    assert not tabled - documented, (
        f"rows for routes not in the document: {sorted(tabled - documented)}"
    )
    cells = {(case.route, case.variant) for case in CASES}
    assert len(cells) == len(CASES), "two rows for the same route and variant"


def _leaks(role: str, text: str) -> list[str]:
    found = []
    if role not in MAY_READ_PRIVATE and PRIVATE_MARKER in text:
        found.append("private content")
    if role not in MAY_READ_HELD and HELD_MARKER in text:
        found.append("held content")
    return found


async def test_every_route_answers_each_role_as_designed_and_never_leaks(
    settings, app, client, admin, community, private_community, member, moderator, clinician
):
    world = await build_world(
        settings,
        app,
        {
            "admin": admin,
            "community": community,
            "private_community": private_community,
            "member": member,
            "moderator": moderator,
            "clinician": clinician,
        },
    )
    mismatches: list[str] = []
    leaks: list[str] = []
    cells = 0
    for case in CASES:
        denied_call: Call | None = None
        for role in ROLES:
            # A fresh object (made by the row's setup) for each role that may act on it; the
            # roles that may not share one, as their calls must change nothing.
            if any(200 <= status < 300 for status in case.expected[role]):
                call = await case.setup(world, role)
            else:
                if denied_call is None:
                    denied_call = await case.setup(world, role)
                call = Call(denied_call.params, denied_call.body, denied_call.query)
            user = call.as_user or (world.users.get(role) if role != VISITOR else None)
            headers = {"Authorization": f"Bearer {world.token(user)}"} if user else {}
            path = "/api/v1" + case.path.format(**call.params)
            response = await client.request(
                case.method,
                path,
                headers=headers,
                params=dict(call.query),
                **({"json": call.body} if call.body is not None else {}),
            )
            cells += 1
            label = (
                f"{case.method} {case.path}{f' ({case.variant})' if case.variant else ''} as {role}"
            )
            if response.status_code not in case.expected[role]:
                mismatches.append(
                    f"{label}: expected {'/'.join(map(str, case.expected[role]))}, got "
                    f"{response.status_code} {response.text[:160]}"
                )
            leaks += [f"{label}: {what} in the body" for what in _leaks(role, response.text)]
            may_read = MAY_READ_PRIVATE if case.shows == PRIVATE_MARKER else MAY_READ_HELD
            if case.shows and role in may_read and case.shows not in response.text:
                mismatches.append(f"{label}: the body lacks content this role may read")
    print(f"authorization matrix: {len({c.route for c in CASES})} routes, {len(CASES)} rows, "
          f"{len(ROLES)} roles, {cells} cells")  # fmt: skip
    assert not mismatches, f"{len(mismatches)} of {cells} cells differ:\n" + "\n".join(mismatches)
    assert not leaks, "\n".join(leaks)


async def test_a_suspended_member_can_still_report_unfollow_and_mute_but_not_follow(
    settings, app, client, community, member, thread_factory
):
    """Being suspended stops what adds to the site, not what protects the member."""
    writer = await make_user(settings, "pushy_pat")
    await communities.join(await viewer_of(writer), community["slug"])
    await User.update({User.trust_level: 1}).where(User.id == writer["id"])
    thread = await thread_factory(community=community, author=writer)
    sent = await messages.start_conversation(
        settings, await viewer_of(writer), [member["username"]], "Answer me, now."
    )
    await User.update(
        {User.status: "suspended", User.suspended_until: datetime.now(UTC) + timedelta(days=3)}
    ).where(User.id == member["id"])
    auth = {"Authorization": f"Bearer {app.state.signer.issue_token(member['id'], 0)}"}
    report = await client.post(
        f"/api/v1/messages/{sent['id']}/report", json={"reason": "harassment"}, headers=auth
    )
    assert report.status_code == 201, report.text
    statuses = {}
    for action in ("follow", "mute", "unfollow"):
        response = await client.post(
            "/api/v1/follows",
            json={"kind": "thread", "target": thread["id"], "action": action},
            headers=auth,
        )
        statuses[action] = response.status_code
    assert statuses == {"follow": 403, "mute": 200, "unfollow": 200}
