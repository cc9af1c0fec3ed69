"""The demo site shows people and expertise: verified clinicians, experience tags, reactions
and accepted answers, all put in through the services."""

from __future__ import annotations

from forum.tables import Thread


async def test_the_demo_clinicians_answers_carry_their_badge_and_are_accepted(
    app, settings, client, demo_site
):
    thread = (
        await Thread.select(Thread.id, Thread.expert_answered)
        .where(Thread.title == "Does daily weighing really matter?")
        .first()
    )
    assert thread["expert_answered"]
    page = await client.get(f"/t/{thread['id']}")
    assert "Verified clinician · Heart failure nurse · Cardiology" in page.text
    assert "Accepted answer" in page.text and "Helpful: 3" in page.text
    assert "Caregiver · since" in page.text


async def test_the_demo_shows_a_long_time_patients_tag(app, settings, client, demo_site):
    thread = (
        await Thread.select(Thread.id).where(Thread.title.like("First year after diagnosis%"))
    )[0]
    page = await client.get(f"/t/{thread['id']}")
    assert "Patient · since 2004 · gluten free diet" in page.text
    assert "confirmed by a moderator" in page.text
    profile = await client.get("/u/helen_gf")
    assert "Patient · since 2004" in profile.text and "First post" in profile.text
