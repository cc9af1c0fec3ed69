"""What the forum's post forms need from moderation: the warning about personal details with
"Remove it for me" and "Post anyway", the message after posting, and the crisis panel.

Web-layer helpers (they take the request); the forum's pages call them so every form that
creates content behaves the same way.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum.errors import KindredError
from forum.web.render import page
from moderation import redact_phi
from moderation.posting import ScreeningRejected, rules_for
from moderation.rulebook import Resources

REDACT = "redact"
CRISIS_SESSION_KEY = "crisis"


def confirmed_phi(form: Any) -> bool:
    """The author pressed "Post anyway" after the warning about personal details."""
    return str(form.get("confirm_phi", "")) == "1"


def wants_redaction(form: Any) -> bool:
    return str(form.get("phi_action", "")) == REDACT


def error_context(error: KindredError) -> dict[str, Any]:
    """Template values for a refused draft: the warning and what was found, if it was PHI."""
    if not isinstance(error, ScreeningRejected):
        return {}
    verdict = error.verdict
    return {
        "moderation": verdict.as_json(),
        "phi_warning": verdict.phi_warning,
        "phi_matches": [
            (hit.title, value)
            for hit in verdict.hits
            if hit.family == "phi"
            for value in hit.matches
        ],
    }


async def redacted_form(
    request: Request,
    template: str,
    values: dict[str, Any],
    fields: tuple[str, ...],
    context: dict[str, Any],
) -> Response:
    """The form again with personal details replaced, for the author to read over and post."""
    rules = rules_for(request.app.state.settings.data_dir)
    cleaned = dict(values)
    for name in fields:
        if isinstance(cleaned.get(name), str):
            cleaned[name] = redact_phi(cleaned[name], rules)
    return await page(
        request,
        template,
        {
            **context,
            "values": cleaned,
            "notice": "We replaced the personal details with [removed]. Read it over, then post.",
        },
    )


def after_posting(request: Request, moderation: dict[str, Any], published_message: str) -> str:
    """The message shown after posting; remembers to show crisis resources on the next page."""
    if moderation.get("resources"):
        request.session[CRISIS_SESSION_KEY] = 1
    action = moderation.get("action")
    if action == "hold":
        why = next((r["message"] for r in moderation["reasons"] if r["family"] != "crisis"), "")
        return (
            "Thank you. Your post is waiting for a moderator's review; only you and the "
            f"moderators can see it until then. {why}"
        ).strip()
    if action == "label":
        return (
            f"{published_message} It is shown with a note for readers because it mentions a "
            "health claim a moderator will review."
        )
    if action == "escalate":
        return "Your post is up. We've asked a moderator to check in with you."
    return published_message


def crisis_resources(request: Request) -> Resources | None:
    """The crisis panel for this page, once, if the person's last post called for it."""
    if CRISIS_SESSION_KEY not in request.session:
        return None
    request.session.pop(CRISIS_SESSION_KEY, None)
    return rules_for(request.app.state.settings.data_dir).resources
