"""Rendering pages: one Jinja2 environment with autoescape, filters for time and plurals."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
import markupsafe
from markupsafe import _escape_inner  # what markupsafe.escape escapes with (C)
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.templating import Jinja2Templates

from forum.web.session import csrf_token, get_viewer

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# A page shows fifty stored times, each twice (<time datetime> and "3 hours ago"), and the
# same rows again on the next read: parsing and formatting them was a sixth of a thread page's
# render (docs/performance.md). Both depend on the stored value alone, so they are kept.
@lru_cache(maxsize=8192)
def _epoch_seconds(value: str | datetime) -> float:
    moment = _as_datetime(value)
    return moment.timestamp() if moment is not None else 0.0


@lru_cache(maxsize=8192)
def _iso(value: str | datetime) -> str:
    moment = _as_datetime(value)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""


_AGO_UNITS = (
    (31536000, "year"),
    (2592000, "month"),
    (604800, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def ago(value: Any) -> str:
    """'3 hours ago': readable in any time zone, with the exact UTC time in <time>."""
    if value is None:
        return ""
    seconds = int(time.time() - _epoch_seconds(value))
    if seconds < 60:
        return "just now"
    for size, unit in _AGO_UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def ago_changes_at(value: Any, now: float) -> float:
    """The first moment after `now` at which ago(value) reads differently: the next whole unit
    of the one shown ("3 hours" becomes "4 hours"), or the next larger unit ("23 hours" becomes
    "1 day"), whichever comes first. Infinity for no time at all."""
    if value is None:
        return float("inf")
    stored = _epoch_seconds(value)
    seconds = int(now - stored)
    boundaries = [size for size, _ in _AGO_UNITS if size > seconds]
    for size, _ in _AGO_UNITS:
        if seconds >= size:
            boundaries.append((seconds // size + 1) * size)
            break
    return stored + min(boundaries)


def iso(value: Any) -> str:
    """The time as ISO 8601 in UTC to the second ("2026-11-21T23:24:33Z")."""
    return _iso(value) if value is not None else ""


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def _escape(value: Any) -> str:
    """markupsafe.escape's text, as a plain str: what a template's output needs.

    A compiled template escapes each `{{ … }}` it writes with markupsafe.escape, which wraps
    the text in a new Markup object (a Python-level __new__ with a __html__ check) only for
    Jinja to join it into the page as text and drop it: about 1,000 times a thread page, half
    of its render (docs/performance.md). Escaping itself is unchanged: the same C function,
    the same characters, and a value that says it is already safe (__html__) is trusted as
    before. Jinja only ever writes or joins these results, so the page is the same."""
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return _escape_inner(str(value))


class Template(jinja2.Template):
    """A compiled template whose output expressions escape with _escape."""

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        # The template's functions find `escape` among their module's globals, where Jinja's
        # generated code imported markupsafe's (tests/forum/test_render.py checks it).
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = _escape
        return template


_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(jinja2.Environment):
    """Jinja2 with a quicker `row.column` for dict rows, which is most of what pages show,
    and quicker escaping of what templates write (Template).

    Jinja tries getattr first and catches the AttributeError before indexing; for a plain
    dict that exception was a quarter of a thread page's render time (docs/performance.md).
    The answer is the same: a dict method's name still finds the method."""

    template_class = Template

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Undefined(jinja2.Undefined):
    """Jinja's Undefined, which escaping turns into "" without a caught AttributeError.

    markupsafe asks every value for `__html__`; Jinja's Undefined answers that by raising,
    which cost a thread page 234 exceptions when `{{ "x" if c }}` had no else."""

    __slots__ = ()

    def __html__(self) -> str:
        return ""


def create_templates() -> Jinja2Templates:
    env = Environment(
        undefined=Undefined,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        # Templates are read once per process: checking every include's file for changes
        # cost a stat call each, 145 of them per thread page. Restart to reload.
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ago=ago, iso=iso)
    env.globals.update(plural=plural)
    return Jinja2Templates(env=env)


async def page(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page with who is asking, their CSRF token and any one-time notice."""
    from moderation.forms import crisis_resources

    viewer = await get_viewer(request)
    notice = request.session.pop("notice", None) if "notice" in request.session else None
    values = {
        "viewer": viewer,
        "csrf_token": csrf_token(request),
        "notice": notice,
        # Crisis resources, shown at once after a post with crisis language (moderation).
        "crisis_resources": crisis_resources(request),
        "settings": request.app.state.settings,
        # Administrators' site settings (disclaimer, registration…), from memory: no query.
        "site": await request.app.state.site_settings.get(),
        "errors": {},
        "values": {},
        **(context or {}),
    }
    return request.app.state.templates.TemplateResponse(
        request, template, values, status_code=status
    )


def redirect(
    url: str, notice: str | None = None, request: Request | None = None
) -> RedirectResponse:
    """303 after a successful form, with an optional one-time notice shown on the next page."""
    if notice and request is not None:
        request.session["notice"] = notice
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths as redirect targets, so sign-in can't bounce people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


async def form_failed(
    request: Request,
    template: str,
    error: Any,
    context: dict[str, Any],
    message_key: str = "error",
) -> HTMLResponse:
    """Show the form again with what went wrong beside each field and the typed text kept."""
    response = await page(
        request,
        template,
        # Some errors bring what the page needs to help (forum.guidelines: a link to accept).
        {
            **context,
            **getattr(error, "context", {}),
            "errors": error.fields,
            message_key: error.message,
        },
        status=error.status,
    )
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, int(retry_after)))
    return response
