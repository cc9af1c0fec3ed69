"""Abuse controls with the real rate limits (the shared settings make them generous): bursts of
sign-ins, registrations, posts and flags are refused with 429 and Retry-After on the API and
the forms alike, store nothing over the limit, hold when the burst arrives all at once, and a
brute-force run against one account locks nothing it shouldn't."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from forum import db, ratelimit
from forum.settings import RateLimit, Settings
from forum.tables import Post, Story, Thread, User
from moderation.rulebook import default_rules
from moderation.tables import Flag
from tests.conftest import PASSWORD, csrf_from, sign_in

# The limits a site runs with: the defaults of Settings, not the suite's generous ones.
REAL_LIMITS = dict(
    Settings(data_dir=Path("."), database_url="sqlite:///x", secret_key="x").rate_limits
)
ATTACKER, OWNER = "198.51.100.66", "192.0.2.10"
CHANNELS = ["api", "html"]


@pytest.fixture
def limits(app: Any) -> dict[str, RateLimit]:
    """Put the real limits into force for this test's app; returns them."""
    app.state.settings = app.state.settings.with_changes(rate_limits=dict(REAL_LIMITS))
    return REAL_LIMITS


def use_limit(app: Any, name: str, rule: RateLimit) -> RateLimit:
    """The real limits, with `name` made smaller so a test of its rule runs quickly."""
    app.state.settings = app.state.settings.with_changes(rate_limits={**REAL_LIMITS, name: rule})
    return rule


def client_at(app: Any, address: str) -> httpx.AsyncClient:
    """A browser or program at this network address, with its own cookies."""
    transport = httpx.ASGITransport(app=app, client=(address, 40100))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def assert_rate_limited(response: httpx.Response, window: int) -> None:
    """429, a Retry-After of whole seconds (at most the window and a share of the next, while
    the earlier attempts age out), and words a person can act on."""
    assert response.status_code == 429, response.text[:300]
    retry_after = response.headers.get("retry-after", "")
    assert retry_after.isdigit() and 0 < int(retry_after) <= 2 * window, retry_after
    if response.headers["content-type"].startswith("application/json"):
        assert response.json()["error"]["code"] == "rate_limited"
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "wait" in response.text.lower()


async def bearer(client: httpx.AsyncClient, user: dict[str, Any]) -> dict[str, str]:
    """A token issued without a sign-in, so the sign-in limits stay untouched."""
    from tests.conftest import viewer_of

    viewer = await viewer_of(user)
    app = client._transport.app  # type: ignore[attr-defined]
    epoch = (await User.select(User.session_epoch).where(User.id == viewer.id).first())[
        "session_epoch"
    ]
    return {"Authorization": f"Bearer {app.state.signer.issue_token(viewer.id, epoch)}"}


async def try_sign_in(
    client: httpx.AsyncClient, channel: str, username: str, password: str
) -> httpx.Response:
    if channel == "api":
        return await client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )
    token = await csrf_from(client, "/login")
    return await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def signed_in_ok(response: httpx.Response) -> bool:
    return response.status_code in (200, 303)


# Sign-in ------------------------------------------------------------------------------------


async def test_a_sign_in_burst_from_one_address_is_refused_past_the_limit(app, limits, member):
    rule = limits["sign_in_ip"]
    async with client_at(app, ATTACKER) as attacker:
        statuses = [
            (await try_sign_in(attacker, CHANNELS[n % 2], f"guess{n}", "wrong!")).status_code
            for n in range(rule.limit)
        ]
        assert statuses == [422] * rule.limit
        for channel in CHANNELS:  # past the limit even the right password is refused
            refused = await try_sign_in(attacker, channel, member["username"], PASSWORD)
            assert_rate_limited(refused, rule.window)
            if channel == "api":
                assert "token" not in refused.json()
        assert (await attacker.get("/api/v1/me")).status_code == 401  # and no session began


async def test_guessing_locks_the_account_only_for_the_guessing_address(
    app, limits, member, other_member
):
    rule = limits["sign_in_user"]
    name = member["username"]
    async with client_at(app, ATTACKER) as attacker, client_at(app, OWNER) as owner:
        guesses = [
            (await try_sign_in(attacker, CHANNELS[n % 2], name, f"guess {n}!")).status_code
            for n in range(rule.limit)
        ]
        assert guesses == [422] * rule.limit
        for channel in CHANNELS:
            assert_rate_limited(await try_sign_in(attacker, channel, name, PASSWORD), rule.window)
            # Another account is not locked, even from the guessing address,
            assert signed_in_ok(
                await try_sign_in(attacker, channel, other_member["username"], PASSWORD)
            )
            # and the owner, at their own address, signs in during the attack.
            assert signed_in_ok(await try_sign_in(owner, channel, name, PASSWORD))


async def test_a_guesser_who_keeps_going_never_locks_the_owner_out(app, member, monkeypatch):
    """The attack goes on window after window; the owner signs in in each of them. (A small
    limit keeps the test quick; the rule is the same.)"""
    clock = FakeClock()
    monkeypatch.setattr(ratelimit, "time", clock)
    rule = use_limit(app, "sign_in_user", RateLimit(3, 300))
    async with client_at(app, ATTACKER) as attacker, client_at(app, OWNER) as owner:
        for _ in range(3):
            for n in range(rule.limit + 1):
                await try_sign_in(attacker, "api", member["username"], f"guess {n}!")
            assert (
                await try_sign_in(attacker, "api", member["username"], PASSWORD)
            ).status_code == 429
            assert (
                await try_sign_in(owner, "api", member["username"], PASSWORD)
            ).status_code == 200
            clock.now += rule.window


async def test_guessing_from_many_addresses_meets_an_account_wide_ceiling(app, member):
    """Spreading guesses over addresses doesn't buy unlimited tries at one account."""
    rule = use_limit(app, "sign_in_user", RateLimit(2, 300))
    refused_at = None
    for n in range(40):
        async with client_at(app, f"203.0.113.{100 + n}") as guesser:
            statuses = [
                (await try_sign_in(guesser, "api", member["username"], f"guess {k}!")).status_code
                for k in range(rule.limit)
            ]
        if 429 in statuses:
            refused_at = n
            break
    assert refused_at is not None, "40 addresses guessed without meeting any limit"
    async with client_at(app, OWNER) as owner:
        assert_rate_limited(await try_sign_in(owner, "api", member["username"], PASSWORD), 300)


async def test_a_locked_out_guesser_can_still_read_public_pages(
    app, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    rule = use_limit(app, "sign_in_ip", RateLimit(3, 300))
    async with client_at(app, ATTACKER) as attacker:
        for n in range(rule.limit):
            await try_sign_in(attacker, "api", member["username"], f"guess {n}!")
        assert (await try_sign_in(attacker, "api", member["username"], PASSWORD)).status_code == 429
        for path in ("/", "/c/celiac", f"/t/{thread['id']}", "/api/v1/communities", "/login"):
            assert (await attacker.get(path)).status_code == 200, path


class FakeClock:
    """Stands in for the time module in forum.ratelimit, so a test can move to the next window."""

    def __init__(self) -> None:
        import time

        self.now = float(int(time.time()))

    def time(self) -> float:
        return self.now


async def test_a_burst_across_a_window_edge_meets_the_same_limit(app, member, monkeypatch):
    """Counting in fixed windows let twice the limit through when a burst straddled the edge
    between two of them."""
    clock = FakeClock()
    monkeypatch.setattr(ratelimit, "time", clock)
    rule = use_limit(app, "sign_in_user", RateLimit(4, 300))
    clock.now = clock.now - clock.now % rule.window + rule.window - 1  # a second before an edge
    async with client_at(app, ATTACKER) as attacker:
        for n in range(rule.limit):
            guess = await try_sign_in(attacker, "api", member["username"], f"guess {n}!")
            assert guess.status_code == 422
        clock.now += 2  # the next window has begun
        refused = await try_sign_in(attacker, "api", member["username"], PASSWORD)
        assert_rate_limited(refused, rule.window)


@pytest.mark.parametrize("into_window", [0, 1, 150, 299])
async def test_retry_after_is_when_the_next_attempt_is_let_in(
    app, member, monkeypatch, into_window
):
    """Waiting exactly as long as Retry-After says is enough, and a second less is not."""
    clock = FakeClock()
    monkeypatch.setattr(ratelimit, "time", clock)
    rule = use_limit(app, "sign_in_user", RateLimit(3, 300))
    clock.now = clock.now - clock.now % rule.window + into_window
    async with client_at(app, ATTACKER) as attacker:
        for n in range(rule.limit):
            await try_sign_in(attacker, "api", member["username"], f"guess {n}!")
            clock.now += 40  # spread over this window and perhaps the next
        refused = await try_sign_in(attacker, "api", member["username"], "guess again!")
        assert_rate_limited(refused, rule.window)
        wait = int(refused.headers["retry-after"])
        clock.now += wait - 1
        too_soon = await try_sign_in(attacker, "api", member["username"], "guess again!")
        assert too_soon.status_code == 429
        clock.now += 1
        in_time = await try_sign_in(attacker, "api", member["username"], PASSWORD)
        assert in_time.status_code == 200, in_time.text[:200]


# Registration -------------------------------------------------------------------------------


async def try_register(client: httpx.AsyncClient, channel: str, username: str) -> httpx.Response:
    values = {"username": username, "password": "a long enough passphrase"}
    if channel == "api":
        return await client.post("/api/v1/auth/register", json=values)
    token = await csrf_from(client, "/register")
    return await client.post("/register", data={**values, "csrf_token": token})


async def test_a_registration_burst_creates_no_accounts_past_the_limit(app, limits):
    rule = limits["register_ip"]
    before = await User.count()
    async with client_at(app, ATTACKER) as attacker:
        created = [
            (await try_register(attacker, CHANNELS[n % 2], f"newcomer{n}")).status_code
            for n in range(rule.limit)
        ]
        assert created == [201, 303] * (rule.limit // 2) + [201] * (rule.limit % 2)
        for n, channel in enumerate(CHANNELS):
            assert_rate_limited(await try_register(attacker, channel, f"late{n}"), rule.window)
    assert await User.count() == before + rule.limit


# Posting ------------------------------------------------------------------------------------


async def test_threads_replies_and_stories_share_one_posting_limit(
    app, client, limits, member, community, thread_factory
):
    rule = limits["post_user"]
    auth = await bearer(client, member)
    thread = await thread_factory(community=community, author=member)
    await db.raw('DELETE FROM "rate_limit_hit"')  # the factory's post doesn't count here
    kinds = [
        ("/api/v1/communities/celiac/threads", {"title": "Another question", "body": "Hello?"}),
        (f"/api/v1/threads/{thread['id']}/posts", {"body": "And another thing."}),
        (
            "/api/v1/stories",
            {"title": "A story of mine", "body": "It began in 2019.", "confirm_consent": True},
        ),
    ]
    for n in range(rule.limit):
        path, body = kinds[n % 3]
        response = await client.post(path, json=body, headers=auth)
        assert response.status_code == 201, response.text
    counts = (await Thread.count(), await Post.count(), await Story.count())
    for path, body in kinds:
        assert_rate_limited(await client.post(path, json=body, headers=auth), rule.window)
    await sign_in(client, member)
    token = await csrf_from(client, f"/t/{thread['id']}")
    form = await client.post(
        f"/t/{thread['id']}/reply", data={"body": "One more from the form.", "csrf_token": token}
    )
    assert_rate_limited(form, rule.window)
    assert "One more from the form." in form.text  # the text is kept
    assert (await Thread.count(), await Post.count(), await Story.count()) == counts


# Flagging -----------------------------------------------------------------------------------


async def replies(thread: dict[str, Any], author: dict[str, Any], count: int) -> list[int]:
    """Published replies stored directly: targets for flags, made without the posting path."""
    now = datetime.now(UTC)
    rows = await Post.insert(
        *(
            Post(
                thread=thread["id"],
                author=author["id"],
                body=f"Reply {n}",
                body_html=f"<p>Reply {n}</p>",
                policy_version=1,
                created_at=now,
            )
            for n in range(count)
        )
    ).returning(Post.id)
    return [row["id"] for row in rows]


async def test_a_flag_burst_stores_no_flags_past_the_limit(
    app, client, limits, member, other_member, community, thread_factory
):
    per_hour = default_rules().trust.flags.per_hour
    thread = await thread_factory(community=community, author=member)
    posts = await replies(thread, member, per_hour + 2)
    auth = await bearer(client, other_member)
    for post in posts[:per_hour]:
        response = await client.post(
            f"/api/v1/posts/{post}/flags", json={"reason": "spam"}, headers=auth
        )
        assert response.status_code == 201, response.text
    api = await client.post(
        f"/api/v1/posts/{posts[-2]}/flags", json={"reason": "spam"}, headers=auth
    )
    assert_rate_limited(api, 3600)
    await sign_in(client, other_member)
    token = await csrf_from(client, f"/p/{posts[-1]}/flag")
    form = await client.post(
        f"/p/{posts[-1]}/flag", data={"reason": "spam", "note": "Selling", "csrf_token": token}
    )
    assert_rate_limited(form, 3600)
    assert "Selling" in form.text  # the note is kept
    assert await Flag.count() == per_hour


# All at once --------------------------------------------------------------------------------


async def test_limits_hold_when_a_burst_arrives_all_at_once(
    app, client, limits, member, other_member, community, thread_factory, reply_factory
):
    """Requests sent together, not one after another: none of the limits admits more."""
    async with client_at(app, ATTACKER) as attacker:
        sign_ins = await asyncio.gather(
            *(try_sign_in(attacker, "api", f"guess{n}", "wrong password!") for n in range(30))
        )
        assert sum(r.status_code != 429 for r in sign_ins) <= limits["sign_in_ip"].limit
    async with client_at(app, "198.51.100.67") as guesser:
        guesses = await asyncio.gather(
            *(try_sign_in(guesser, "api", member["username"], f"guess {n}!") for n in range(18))
        )
        assert sum(r.status_code == 422 for r in guesses) <= limits["sign_in_user"].limit
    async with client_at(app, "198.51.100.68") as registrar:
        users = await User.count()
        await asyncio.gather(*(try_register(registrar, "api", f"rush{n}") for n in range(12)))
        assert await User.count() - users <= limits["register_ip"].limit
    auth = await bearer(client, member)
    thread = await thread_factory(community=community, author=member)
    posts = await Post.count()
    answered = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/threads/{thread['id']}/posts", json={"body": f"Quick {n}"}, headers=auth
            )
            for n in range(40)
        )
    )
    assert sum(r.status_code == 201 for r in answered) <= limits["post_user"].limit
    assert await Post.count() - posts <= limits["post_user"].limit
    per_hour = default_rules().trust.flags.per_hour
    targets = await replies(thread, member, per_hour + 10)
    flagger = await bearer(client, other_member)
    await asyncio.gather(
        *(
            client.post(f"/api/v1/posts/{post}/flags", json={"reason": "spam"}, headers=flagger)
            for post in targets
        )
    )
    assert await Flag.count() <= per_hour
