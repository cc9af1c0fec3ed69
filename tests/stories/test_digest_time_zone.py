"""The daily digest comes in each member's morning and covers their own yesterday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forum import mail
from forum.tables import EmailSetting, MailOutbox, Notification
from tests.conftest import api_token
from tests.stories.conftest import body_of, mails_in, set_email


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_period_is_yesterday_in_the_zone_from_seven_in_the_morning() -> None:
    # 04:00 in Chicago (UTC-6 in January): yesterday's digest is not due yet.
    assert mail.digest_period(at("2026-01-15 10:00"), "America/Chicago") == (
        at("2026-01-13 06:00"),
        at("2026-01-14 06:00"),
    )
    # 08:00 in Chicago: Chicago's January 14th.
    assert mail.digest_period(at("2026-01-15 14:00"), "America/Chicago") == (
        at("2026-01-14 06:00"),
        at("2026-01-15 06:00"),
    )
    assert mail.digest_period(at("2026-01-15 08:00")) == (
        at("2026-01-14 00:00"),
        at("2026-01-15 00:00"),
    )


def test_the_day_the_clocks_change_is_the_length_it_was_there() -> None:
    start, end = mail.digest_period(at("2026-03-09 12:00"), "America/New_York")
    assert (start, end) == (at("2026-03-08 05:00"), at("2026-03-09 04:00"))
    assert end - start == timedelta(hours=23)


async def test_each_member_gets_their_own_yesterday_in_their_own_morning(
    app, settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "daily")
    await mail.set_mode(member["id"], "daily", "America/Chicago")
    await set_email(other_member, "daily")  # UTC, the default
    thread = await thread_factory(community=community, author=member, title="Oats?")
    late = await reply_factory(thread=thread, author=other_member, body="Late on the 14th")
    early = await reply_factory(thread=thread, author=other_member, body="Early on the 15th")
    await reply_factory(thread=thread, author=member, body="Thanks!")  # for other_member
    times = {late["id"]: at("2026-01-15 03:00"), early["id"]: at("2026-01-15 12:00")}
    for post_id, moment in times.items():  # 21:00 on the 14th and 06:00 on the 15th in Chicago
        await Notification.update({Notification.created_at: moment}).where(
            Notification.post_id == post_id
        )
    await Notification.update({Notification.created_at: at("2026-01-15 12:00")}).where(
        Notification.user == other_member["id"]
    )

    assert await mail.enqueue_digests(at("2026-01-15 10:00")) == 0  # 04:00 in Chicago
    assert await mail.enqueue_digests(at("2026-01-15 14:00")) == 1  # 08:00 there: Maria's
    assert await mail.enqueue_digests(at("2026-01-15 23:00")) == 0  # once a day
    row = await MailOutbox.select().where(MailOutbox.user == member["id"]).first()
    assert row["key"] == f"digest:{member['id']}:2026-01-14"
    assert await mail.send_due(settings, app.state.signer, now=at("2026-01-15 14:00")) == 1
    [message] = mails_in(settings)
    assert message["Subject"] == "Your Kindred digest: 1 new notification"
    assert "Late on the 14th" not in body_of(message)  # the text stays on the site
    assert await mail.enqueue_digests(at("2026-01-16 08:00")) == 1  # the UTC member's 15th


async def test_a_time_zone_the_machine_no_longer_knows_gets_the_utc_digest(
    member, other_member, community, thread_factory, reply_factory
):
    """A zone dropped from the machine's tzdata must not silently stop a member's digest."""
    await set_email(member, "daily")
    await mail.set_mode(member["id"], "daily", "America/Chicago")
    await EmailSetting.update({EmailSetting.time_zone: "Atlantis/Poseidonia"}).where(
        EmailSetting.user == member["id"]
    )
    thread = await thread_factory(community=community, author=member, title="Oats?")
    await reply_factory(thread=thread, author=other_member, body="Try certified oats.")
    await Notification.update({Notification.created_at: at("2026-01-14 12:00")}).where(
        Notification.user == member["id"]
    )
    assert await mail.enqueue_digests(at("2026-01-15 06:00")) == 0  # before 7 in UTC
    assert await mail.enqueue_digests(at("2026-01-15 08:00")) == 1
    row = await MailOutbox.select().where(MailOutbox.user == member["id"]).first()
    assert row["key"] == f"digest:{member['id']}:2026-01-14"


async def test_the_time_zone_is_set_and_checked_through_the_api(client, member):
    headers = await api_token(client, member)
    saved = await client.put(
        "/api/v1/me/email",
        json={"mode": "daily", "email": "maria@example.org", "time_zone": "Asia/Kolkata"},
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["time_zone"] == "Asia/Kolkata"
    refused = await client.put(
        "/api/v1/me/email", json={"mode": "daily", "time_zone": "Mars/Olympus"}, headers=headers
    )
    assert refused.status_code == 422
    assert "time_zone" in refused.json()["error"]["fields"]
    kept = await client.put("/api/v1/me/email", json={"mode": "none"}, headers=headers)
    assert kept.json() == {
        "email": "maria@example.org",
        "mode": "none",
        "time_zone": "Asia/Kolkata",
    }
