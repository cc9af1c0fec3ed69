"""E-mail: immediate mails and daily digests by preference, one-click unsubscribe links
(tampered ones refused), and an outbox that survives a restart without sending twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from forum import mail
from forum.app import create_app
from forum.auth import Signer
from forum.tables import MailOutbox, Notification
from tests.conftest import post_form, sign_in, viewer_of
from tests.forum.test_liveness import exited_process_name
from tests.stories.conftest import body_of, mails_in, set_email


@pytest.fixture
def queue_mails(member, other_member, community, thread_factory, reply_factory):
    """Replies to a member who wants each by e-mail at once: the ids of the mails queued."""

    async def queue(count: int) -> list[int]:
        await set_email(member, "immediate")
        thread = await thread_factory(community=community, author=member)
        for number in range(count):
            await reply_factory(thread=thread, author=other_member, body=f"Reply {number}")
        rows = await MailOutbox.select(MailOutbox.id).order_by(MailOutbox.id)
        return [row["id"] for row in rows]

    return queue


def tomorrow() -> datetime:
    """Tomorrow morning in UTC, when today's digest is due (mail.DIGEST_HOUR)."""
    return (datetime.now(UTC) + timedelta(days=1)).replace(hour=mail.DIGEST_HOUR + 1)


async def test_immediate_mail_goes_out_once_with_an_unsubscribe_link(
    app, settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "immediate")
    thread = await thread_factory(community=community, author=member, title="Travel snacks?")
    await reply_factory(thread=thread, author=other_member, body="Rice cakes & <cheese>.")
    assert await MailOutbox.count() == 1
    assert await app.state.mailer.run_once() == 1
    assert await app.state.mailer.run_once() == 0
    [message] = mails_in(settings)
    assert message["To"] == "maria@example.org"
    assert message["Subject"] == "Dev_Caregiver replied in “Travel snacks?”"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = body_of(message)
    assert f"http://127.0.0.1:8000/t/{thread['id']}#post-" in body
    assert "/unsubscribe/" in body and message["List-Unsubscribe"].startswith("<http://127.0.0.1")


async def test_people_on_the_digest_or_no_email_get_no_immediate_mail(
    settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "daily")
    await set_email(other_member, "none")
    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=other_member)
    await reply_factory(thread=thread, author=member)
    assert await MailOutbox.count() == 0


async def test_the_daily_digest_batches_a_days_notifications_into_one_mail(
    app, settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "daily")
    thread = await thread_factory(community=community, author=member, title="Oats or no oats?")
    for number in range(3):
        await reply_factory(thread=thread, author=other_member, body=f"Reply {number}")
    assert await mail.enqueue_digests() == 0  # today's are not yesterday's yet
    assert await mail.enqueue_digests(tomorrow()) == 1
    assert await mail.enqueue_digests(tomorrow()) == 0  # once a day, however often it runs
    assert await app.state.mailer.run_once(tomorrow()) == 1
    [message] = mails_in(settings)
    assert message["Subject"] == "Your Kindred digest: 3 new notifications"
    body = body_of(message)
    assert body.count("replied in “Oats or no oats?”") == 3


async def test_the_digest_leaves_out_what_was_read_or_already_mailed(
    app, settings, member, other_member, community, thread_factory, reply_factory
):
    from forum import notifications

    await set_email(member, "immediate")
    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=other_member, body="Mailed at once")
    await mail.set_mode(member["id"], "daily")
    await reply_factory(thread=thread, author=other_member, body="Read on the site")
    await notifications.mark_read(await viewer_of(member))
    assert await mail.enqueue_digests(tomorrow()) == 0


async def test_unsubscribing_by_the_link_works_signed_out(
    app, client, settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "immediate")
    token = mail.unsubscribe_token(app.state.signer, member["id"])
    page = await client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "You're unsubscribed" in page.text
    assert (await mail.email_settings(await viewer_of(member)))["mode"] == "none"
    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=other_member)
    assert await MailOutbox.count() == 0
    # The one-click POST mail programs send (RFC 8058) works too, without a CSRF token.
    assert (await client.post(f"/unsubscribe/{token}")).status_code == 200


async def test_a_tampered_or_foreign_unsubscribe_link_is_refused_kindly(
    app, client, settings, member
):
    await set_email(member, "daily")
    token = mail.unsubscribe_token(app.state.signer, member["id"])
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (
        tampered,
        "nonsense",
        Signer("another-key").sign({"u": member["id"]}, "unsubscribe"),
    ):
        page = await client.get(f"/unsubscribe/{bad}")
        assert page.status_code == 400 and "didn't work" in page.text
    # A token signed for another purpose is refused too.
    other = app.state.signer.sign({"u": member["id"]}, "api-token")
    assert (await client.get(f"/unsubscribe/{other}")).status_code == 400
    assert (await mail.email_settings(await viewer_of(member)))["mode"] == "daily"


async def test_email_settings_are_on_the_settings_page(client, member):
    await sign_in(client, member)
    page = await client.get("/settings")
    assert 'name="email_mode"' in page.text
    assert "<option selected>UTC</option>" in page.text and ">America/Chicago<" in page.text
    saved = await post_form(
        client,
        "/settings/email",
        {"email": "maria@example.org", "email_mode": "immediate", "time_zone": "Europe/Berlin"},
        "/settings",
    )
    assert saved.status_code == 303
    assert (await mail.email_settings(await viewer_of(member))) == {
        "email": "maria@example.org",
        "mode": "immediate",
        "time_zone": "Europe/Berlin",
    }
    assert "<option selected>Europe/Berlin</option>" in (await client.get("/settings")).text
    unknown = await post_form(
        client,
        "/settings/email",
        {"email": "maria@example.org", "email_mode": "daily", "time_zone": "Mars/Olympus"},
        "/settings",
    )
    assert unknown.status_code == 303
    assert "Choose a time zone from the list" in (await client.get("/settings")).text
    assert (await mail.email_settings(await viewer_of(member)))["mode"] == "immediate"
    refused = await post_form(
        client, "/settings/email", {"email": "", "email_mode": "daily"}, "/settings"
    )
    assert refused.status_code == 303
    assert "Give an e-mail address" in (await client.get("/settings")).text


async def test_the_outbox_survives_a_restart_without_sending_twice(
    settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "immediate")
    thread = await thread_factory(community=community, author=member)
    for number in range(3):
        await reply_factory(thread=thread, author=other_member, body=f"Reply {number}")
    # The first process sends one mail, then stops (a deploy, a crash).
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        assert await mail.send_due(settings, first.state.signer, limit=1) == 1
    # The next process sends the rest, and never the first one again.
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        assert await second.state.mailer.run_once() == 2
        assert await second.state.mailer.run_once() == 0
    assert len(mails_in(settings)) == 3
    statuses = await MailOutbox.select(MailOutbox.status)
    assert [row["status"] for row in statuses] == ["sent"] * 3


async def test_two_workers_never_send_the_same_mail(
    app, settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "immediate")
    thread = await thread_factory(community=community, author=member)
    for number in range(6):
        await reply_factory(thread=thread, author=other_member, body=f"Reply {number}")
    sent: list[str] = []

    class Recording:
        async def deliver(self, message: EmailMessage, name: str) -> None:
            await asyncio.sleep(0.01)
            sent.append(name)

    results = await asyncio.gather(
        *(
            mail.send_due(settings, app.state.signer, transport=Recording(), worker=f"w{n}")
            for n in range(3)
        )
    )
    assert sum(results) == 6
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 6


async def test_a_failed_send_is_retried_later_and_given_up_after_the_limit(
    app, settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "immediate")
    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=other_member)

    class Broken:
        async def deliver(self, message: EmailMessage, name: str) -> None:
            raise ConnectionRefusedError("the SMTP server is down")

    now = datetime.now(UTC)
    assert await mail.send_due(settings, app.state.signer, transport=Broken(), now=now) == 0
    row = await MailOutbox.select().first()
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "SMTP server is down" in row["last_error"]
    # Not due again at once: it backs off.
    assert await mail.send_due(settings, app.state.signer, transport=Broken(), now=now) == 0
    assert (await MailOutbox.select().first())["attempts"] == 1
    later = now
    for _ in range(mail.MAX_ATTEMPTS - 1):
        later += timedelta(hours=7)
        await mail.send_due(settings, app.state.signer, transport=Broken(), now=later)
    row = await MailOutbox.select().first()
    assert row["status"] == "failed" and row["attempts"] == mail.MAX_ATTEMPTS


async def test_a_sender_killed_mid_delivery_never_makes_a_mail_go_twice(app, settings, queue_mails):
    first, second = await queue_mails(2)
    delivered: list[str] = []

    class KilledMidDelivery:
        async def deliver(self, message: EmailMessage, name: str) -> None:
            delivered.append(name)  # the SMTP server took it; then the process died
            raise asyncio.CancelledError

    now = datetime.now(UTC)
    with pytest.raises(asyncio.CancelledError):
        await mail.send_due(settings, app.state.signer, transport=KilledMidDelivery(), now=now)
    assert await mail._claim(second, "a process killed before delivery", now) is not None

    class Recording:
        async def deliver(self, message: EmailMessage, name: str) -> None:
            delivered.append(name)

    later = now + mail.STALE_CLAIM + timedelta(minutes=1)
    assert await mail.send_due(settings, app.state.signer, transport=Recording(), now=later) == 1
    assert delivered == [f"{first:08d}-notification", f"{second:08d}-notification"]
    statuses = {row["id"]: row["status"] for row in await MailOutbox.select()}
    assert statuses == {first: "interrupted", second: "sent"}


async def test_a_backlog_of_mail_goes_out_batch_after_batch_without_waiting_to_poll(
    app, settings, member, other_member, community, thread_factory, reply_factory
):
    await set_email(member, "immediate")
    thread = await thread_factory(community=community, author=member)
    backlog = mail.BATCH + 5
    for number in range(backlog):
        await reply_factory(thread=thread, author=other_member, body=f"Reply {number}")
    mailer = mail.Mailer(settings, app.state.signer, poll_seconds=60.0)
    mailer.start()
    try:
        for _ in range(100):
            if not await mail.pending_count():
                break
            await asyncio.sleep(0.05)
    finally:
        await mailer.stop()
    assert await mail.pending_count() == 0
    assert len(mails_in(settings)) == backlog


async def test_mail_about_content_removed_before_sending_is_never_sent(
    app, settings, member, other_member, community, thread_factory, reply_factory
):
    from forum import threads

    await set_email(member, "immediate")
    thread = await thread_factory(community=community, author=member)
    reply = await reply_factory(thread=thread, author=other_member)
    await threads.delete_post(await viewer_of(other_member), reply["id"])
    assert await app.state.mailer.run_once() == 0
    assert mails_in(settings) == []
    assert await Notification.count() == 0


async def test_moderation_outcomes_are_mailed_to_authors_who_asked(
    app, settings, member, moderator, community
):
    from forum import threads
    from moderation import decisions
    from moderation.tables import ModerationItem
    from tests.moderation.conftest import CLAIM

    await set_email(member, "immediate")
    held = await threads.start_thread(
        settings,
        await viewer_of(member),
        community["slug"],
        threads.Draft(title="What worked for me", body=CLAIM),
    )
    item: dict[str, Any] = (
        await ModerationItem.select().where(ModerationItem.object_id == held["id"]).first()
    )
    await decisions.decide(await viewer_of(moderator), item["id"], "remove", "Dangerous advice.")
    await app.state.mailer.run_once()
    [message] = mails_in(settings)
    body = body_of(message)
    assert "A message from the moderators" in body and "Dangerous advice." in body
    assert "/notices" in body


def test_smtp_is_configured_from_the_environment(tmp_path):
    from forum.settings import Settings

    settings = Settings.from_env(
        {
            "KINDRED_DATA_DIR": str(tmp_path),
            "KINDRED_SMTP_HOST": "smtp.example.org",
            "KINDRED_SMTP_PORT": "2525",
            "KINDRED_SMTP_USER": "kindred",
            "KINDRED_SMTP_PASSWORD": "secret",
            "KINDRED_SMTP_STARTTLS": "off",
            "KINDRED_MAIL_FROM": "Kindred <hello@example.org>",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "smtp.example.org",
        2525,
        False,
    )
    assert isinstance(mail.transport_for(settings), mail.SMTPTransport)
    assert isinstance(mail.transport_for(settings.with_changes(smtp_host="")), mail.FileTransport)
    with pytest.raises(ValueError, match="KINDRED_SMTP_PORT"):
        Settings.from_env({"KINDRED_DATA_DIR": str(tmp_path), "KINDRED_SMTP_PORT": "many"})


async def test_the_smtp_transport_logs_in_and_sends(monkeypatch, settings):
    calls: list[Any] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            calls.append(("connect", host, port))

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            calls.append(("quit",))

        def starttls(self, context: object) -> None:
            calls.append(("starttls",))

        def login(self, user: str, password: str) -> None:
            calls.append(("login", user, password))

        def send_message(self, message: EmailMessage) -> None:
            calls.append(("send", message["To"]))

    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    smtp = settings.with_changes(smtp_host="smtp.example.org", smtp_user="u", smtp_password="p")
    message = EmailMessage()
    message["To"] = "maria@example.org"
    message.set_content("Hello")
    await mail.SMTPTransport(smtp).deliver(message, "1")
    assert calls == [
        ("connect", "smtp.example.org", 587),
        ("starttls",),
        ("login", "u", "p"),
        ("send", "maria@example.org"),
        ("quit",),
    ]


@pytest.mark.skipif(not mail.liveness._machine(), reason="needs Linux's /proc")
async def test_mail_a_crashed_process_claimed_goes_out_at_the_next_round_not_much_later(
    app, settings, queue_mails
):
    first, second = await queue_mails(2)
    crashed, now = exited_process_name(), datetime.now(UTC)
    assert await mail._claim(first, crashed, now) is not None
    assert await mail._claim(second, crashed, now) is not None
    assert await mail._finish(second, crashed, "delivering")  # it may have left: never again

    assert await mail.send_due(settings, app.state.signer, now=now + timedelta(seconds=5)) == 1
    statuses = {row["id"]: row["status"] for row in await MailOutbox.select()}
    assert statuses == {first: "sent", second: "interrupted"}


async def test_a_living_senders_claim_waits_for_it(app, settings, queue_mails):
    [row_id] = await queue_mails(1)
    now = datetime.now(UTC)
    assert await mail._claim(row_id, mail.liveness.worker_name(), now) is not None
    assert await mail.send_due(settings, app.state.signer, now=now + timedelta(minutes=1)) == 0
    assert (await MailOutbox.select().first())["status"] == "sending"


async def test_a_sender_whose_claim_was_released_leaves_the_mail_to_its_new_sender(
    app, settings, queue_mails
):
    [row_id] = await queue_mails(1)
    stuck, now = "a sender stuck for half an hour", datetime.now(UTC)
    assert await mail._claim(row_id, stuck, now - mail.STALE_CLAIM * 2) is not None
    assert await mail.send_due(settings, app.state.signer, now=now) == 1
    assert await mail._finish(row_id, stuck, "delivering") is False  # so it does not deliver again
    assert (await MailOutbox.select().first())["status"] == "sent"
