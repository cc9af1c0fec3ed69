"""Schemathesis against the running API as a signed-in member: every answer is a status the
OpenAPI document declares, with a body that matches its schema, and none is a server error.

The server is a `kindred serve` of this module's own (the fuzzer's writes would otherwise show
up in the browser tests), with rate limits raised so writes get past the posting limit, and one
of everything seeded so that id 1, the community `celiac` and the username `fuzz_friend` lead
somewhere. Every operation gets requests three ways, in rounds: valid data at those seeded
addresses, invalid data, then valid data at generated addresses. Generation is derandomized, so
every run sends the same requests; KINDRED_FUZZ_EXAMPLES sets the examples per way (5) and
KINDRED_FUZZ_SECONDS the budget of the whole run (30 s; what is past it is printed as not
reached, not failed, so a slow machine tests less rather than failing).

PostgreSQL pass only: the handlers are the same on both engines, but PostgreSQL is the stricter
one (it refuses NUL in text, and integers too big for their column), and the NUL-byte server
errors the fuzzer found happen only there.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from forum import db
from forum.settings import Settings
from tests.conftest import PASSWORD
from tests.e2e.conftest import ADMIN, serving

pytestmark = pytest.mark.postgres_only

EXAMPLES = int(os.environ.get("KINDRED_FUZZ_EXAMPLES", "5"))
BUDGET_SECONDS = float(os.environ.get("KINDRED_FUZZ_SECONDS", "30"))
MEMBER = "fuzz_member"
FRIEND = "fuzz_friend"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# These end the member's session or membership, so they go last: later operations would
# otherwise see only 401s and 403s.
LAST = (
    "POST /api/v1/communities/{slug}/leave",
    "DELETE /api/v1/me",
    "POST /api/v1/me/sign-out-everywhere",
)


@dataclass
class FuzzSite:
    """The fuzzer's server, the member's bearer header, and seeded names for path values."""

    url: str
    member_headers: dict[str, str]
    known: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tally:
    """What the run did: examples per operation, findings, and what the budget cut off."""

    examples: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    findings: dict[str, str] = field(default_factory=dict)
    not_reached: list[str] = field(default_factory=list)


def _token(url: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{url}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _call(url: str, headers: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def call(method: str, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.request(
            method, f"{url}/api/v1{path}", json=json, headers=headers, timeout=10
        )
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    return call


def _seed(url: str, admin: dict[str, str], member: dict[str, str]) -> None:
    """One of each thing an {id} can name, so id 1 exists for every kind."""
    as_admin, as_member = _call(url, admin), _call(url, member)
    as_admin(
        "POST",
        "/communities",
        {"slug": "celiac", "name": "Celiac disease", "description": "Gluten-free living."},
    )
    as_member("POST", "/communities/celiac/join")
    thread = as_member(
        "POST", "/communities/celiac/threads", {"title": "Oats and celiac", "body": "Are oats ok?"}
    )
    as_admin("POST", "/communities/celiac/join")
    reply = as_admin("POST", f"/threads/{thread['id']}/posts", {"body": "Pure oats, usually."})
    as_member("POST", f"/posts/{reply['id']}/reactions", {"kind": "helpful"})
    as_member("POST", f"/posts/{reply['id']}/flags", {"reason": "misinformation"})
    story = as_member(
        "POST",
        "/stories",
        {
            "title": "My first year gluten free",
            "body": "It got easier.",
            "community": "celiac",
            "publish": True,
            "confirm_consent": True,
        },
    )
    as_admin("POST", f"/stories/{story['id']}/comments", {"body": "Thank you for sharing."})
    as_admin("POST", "/conversations", {"to": [MEMBER], "body": "Welcome to Kindred"})
    as_member("POST", "/me/experience", {"community": "celiac", "relation": "patient"})
    as_member(
        "POST",
        "/me/clinician-application",
        {
            "profession": "Dietitian",
            "specialty": "nutrition",
            "license_region": "Ontario",
            "license_number": "D-12345",
        },
    )
    as_admin("POST", "/admin/invites", {"max_uses": 2, "days": 7})


def _establish(database_url: str, username: str) -> None:
    """Make the member a year old at trust level 2, so the new-member limit of ten posts a day
    does not turn most of the fuzzer's writes into the same refusal."""
    since = (datetime.now(UTC) - timedelta(days=365)).isoformat(sep=" ")
    engine = db.create_engine(
        Settings(data_dir=Path("."), database_url=database_url, secret_key="x")
    )
    asyncio.run(
        engine.run_ddl(
            f"UPDATE kindred_user SET created_at = '{since}', trust_level = 2 "
            f"WHERE username = '{username}'"
        )
    )


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzSite]:
    """A seeded server of the fuzzer's own on this pass's engine, and the member's token."""
    limits = "post_user=100000/60,register_ip=100000/60,sign_in_ip=100000/60"
    with serving(tmp_path_factory, "fuzz", limits) as served:
        url = served.url
        for name in (MEMBER, FRIEND):
            registered = httpx.post(
                f"{url}/api/v1/auth/register",
                json={"username": name, "password": PASSWORD},
                timeout=10,
            )
            assert registered.status_code == 201, registered.text
        _establish(served.database_url, MEMBER)
        admin, member = _token(url, ADMIN), _token(url, MEMBER)
        _seed(url, admin, member)
        yield FuzzSite(
            url=url,
            member_headers=member,
            known={"id": 1, "slug": "celiac", "username": FRIEND},
        )


def _send(case: Case, fuzz: FuzzSite, session: requests.Session, tally: Tally, way: str) -> None:
    """Send one case as the member; keep the first finding per operation and way."""
    label = case.operation.label
    response = case.call(
        base_url=fuzz.url, session=session, headers=fuzz.member_headers, timeout=10
    )
    tally.examples[label] = tally.examples.get(label, 0) + 1
    tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as failures:
        tally.findings.setdefault(f"{label} ({way})", str(failures.message)[:3000])


def _examples(strategy: Any, deadline: float, send: Callable[[Case], None]) -> None:
    """Send EXAMPLES cases drawn from `strategy`, the same ones every run, until the deadline."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        if time.monotonic() <= deadline:
            send(case)

    run()


# Ways of generating requests, most telling first, since the budget may stop the run early:
# valid data at the seeded addresses, invalid data, and valid data with generated addresses.
WAYS = (
    ("valid, seeded addresses", GenerationMode.POSITIVE, True),
    ("invalid", GenerationMode.NEGATIVE, False),
    ("valid", GenerationMode.POSITIVE, False),
)


def _fuzz_operation(
    operation: Any,
    way: tuple[str, GenerationMode, bool],
    fuzz: FuzzSite,
    session: requests.Session,
    tally: Tally,
    deadline: float,
) -> None:
    """EXAMPLES requests for one operation, generated one way."""
    name, mode, seeded = way
    names = {parameter.name for parameter in operation.path_parameters}
    if not seeded and mode is GenerationMode.POSITIVE and not names:
        return  # no address to generate: the same requests as the seeded way
    known = {key: value for key, value in fuzz.known.items() if key in names and seeded}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=known or None)
    _examples(strategy, deadline, partial(_send, fuzz=fuzz, session=session, tally=tally, way=name))


def test_api_answers_generated_requests_as_documented_and_never_with_a_server_error(
    fuzz_site: FuzzSite,
) -> None:
    started = time.monotonic()
    deadline = started + BUDGET_SECONDS
    schema = schemathesis.openapi.from_url(f"{fuzz_site.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    enders = sorted(
        (operation for operation in operations if operation.label in LAST),
        key=lambda operation: LAST.index(operation.label),
    )
    tally = Tally()
    with requests.Session() as session:
        for way in WAYS:
            for operation in operations:
                if operation.label in LAST:
                    continue
                if time.monotonic() > deadline:
                    tally.not_reached.append(f"{operation.label} ({way[0]})")
                    continue
                _fuzz_operation(operation, way, fuzz_site, session, tally, deadline)
        for operation in enders:  # a handful of requests, whatever the budget
            for way in WAYS:
                _fuzz_operation(operation, way, fuzz_site, session, tally, float("inf"))
    seconds = time.monotonic() - started
    print(
        f"\nschemathesis: {len(tally.examples)} of {len(operations)} operations, "
        f"{sum(tally.examples.values())} requests in {seconds:.1f} s; "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    if tally.not_reached:
        print(
            f"not reached within {BUDGET_SECONDS:.0f} s ({len(tally.not_reached)}): "
            + ", ".join(tally.not_reached)
        )
    assert not tally.findings, "\n\n".join(
        f"== {label}\n{message}" for label, message in tally.findings.items()
    )
