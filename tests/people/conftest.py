"""Fixtures for people and expertise: a verified clinician (applied and approved through the
moderation queue), an "ask a clinician" question, and helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from forum import clinicians, communities
from forum.settings import Settings
from forum.tables import ClinicianApplication
from tests.conftest import make_user, viewer_of


async def verify(
    user: dict[str, Any],
    decider: dict[str, Any],
    *,
    profession: str = "Heart failure nurse",
    specialty: str = "cardiology",
    others: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Apply as `user` and approve as `decider`; returns the decision."""
    application = await clinicians.apply(
        await viewer_of(user),
        clinicians.Application(
            profession=profession,
            specialty=specialty,
            license_region="UK, Nursing and Midwifery Council",
            license_number="12A3456B",
            other_specialties=others,
        ),
    )
    return await clinicians.decide(
        await viewer_of(decider), application["id"], "approve", "Checked in the NMC register."
    )


async def expire_verification(user: dict[str, Any]) -> None:
    """Move the person's verification's expiry into the past."""
    await ClinicianApplication.update(
        {ClinicianApplication.expires_at: datetime.now(UTC) - timedelta(minutes=1)}
    ).where(ClinicianApplication.user == user["id"])


@pytest.fixture
async def nurse(
    app: Any, settings: Settings, admin: dict[str, Any], community: dict[str, Any]
) -> dict[str, Any]:
    """A member of the community, verified as a heart failure nurse (cardiology)."""
    user = await make_user(settings, "nurse_priya")
    await communities.join(await viewer_of(user), community["slug"])
    await verify(user, admin)
    return user


@pytest.fixture
def ask(
    thread_factory: Callable[..., Awaitable[dict[str, Any]]], community: dict[str, Any]
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Start an "ask a clinician" question in the public community."""

    async def make(
        author: dict[str, Any], title: str = "Does daily weighing matter?"
    ) -> dict[str, Any]:
        return await thread_factory(
            community=community,
            author=author,
            title=title,
            body="My dad has heart failure. Should he weigh himself every day?",
            kind="ask_clinician",
        )

    return make
