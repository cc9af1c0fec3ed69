"""create_app(settings): the one place where Kindred is wired together."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forum import db, insights, page_cache
from forum.auth import SessionCookie, Signer
from forum.errors import KindredError, NotFound, TooLarge
from forum.mail import Mailer
from forum.settings import Settings
from forum.site_settings import SiteSettingsCache
from forum.web.session_cookie import SessionCookies
from search.backends import create_index
from search.writer import Writer

log = logging.getLogger("kindred")

SESSION_COOKIE = "kindred_session"
SESSION_MAX_AGE = 14 * 24 * 3600  # a session cookie holds for two weeks from when it was written

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# No inline script anywhere; images only from this site (forum.content links the others).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers to every response (and HSTS when served over HTTPS)."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = list(SECURITY_HEADERS)
        if https:
            self.headers.append(
                (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {name.lower() for name, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    *(header for header in self.headers if header[0] not in existing),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over the limit with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_large = int(value) > self.max_bytes
                except ValueError:
                    too_large = True
                if too_large:
                    await _too_large(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise TooLarge("That request is too large.")
            return message

        await self.app(scope, limited_receive, send)


class RefuseNul:
    """Refuses an address holding a NUL character (%00) with 400. No page or API route has
    one, and PostgreSQL can neither store nor compare text containing it, so a slug or a
    username with NUL in it would otherwise fail its query with a server error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"]
            or b"%00" in scope["query_string"]
            or b"\x00" in scope["query_string"]
        ):
            message = "Addresses can't contain a NUL character (%00)."
            response: Response = (
                JSONResponse(
                    {"error": {"code": "bad_request", "message": message, "fields": {}}},
                    status_code=400,
                )
                if scope["path"].startswith("/api/")
                else PlainTextResponse(message, status_code=400)
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"].startswith("/api/"):
        response: Response = JSONResponse(
            {"error": {"code": "too_large", "message": "That request is too large.", "fields": {}}},
            status_code=413,
        )
    else:
        response = PlainTextResponse("That is too much text to send at once.", status_code=413)
    await response(scope, receive, send)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _render_error(request: Request, error: KindredError) -> Response:
    from forum.api.base import error_response
    from forum.web.render import page, redirect

    if _wants_json(request):
        return error_response(error)
    if error.status == 401:
        return redirect(f"/login?next={request.url.path}")
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    response = await page(request, "error.html", {"error": error}, status=error.status)
    response.headers.update(headers)
    return response


async def kindred_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KindredError)
    return await _render_error(request, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await _render_error(request, NotFound())
    error = KindredError(
        "That isn't something this address accepts." if exc.status_code == 405 else str(exc.detail)
    )
    error.status = exc.status_code
    error.code = "method_not_allowed" if exc.status_code == 405 else "bad_request"
    response = await _render_error(request, error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return JSONResponse(
            {
                "error": {
                    "code": "server_error",
                    "message": "Something went wrong on our side.",
                    "fields": {},
                }
            },
            status_code=500,
        )
    return PlainTextResponse(
        "Something went wrong on our side. Nothing you wrote was lost; please try again.",
        status_code=500,
    )


# Python's default is 700: a thread page creates tens of thousands of short-lived objects, so
# the youngest generation was collected dozens of times a request. Measured in
# docs/performance.md; at most a few MB of cyclic garbage wait for the next collection.
YOUNG_OBJECTS_BEFORE_COLLECTING = 50_000


def settle_heap() -> None:
    """Tell the garbage collector that what start-up built lives as long as the process.

    A server's heap is mostly modules, routes, tables and compiled templates. Python's full
    collections kept scanning all of it, about 1 ms of every thread page under load and pauses
    of tens of ms (docs/performance.md). gc.freeze() moves it out of the collector's sight;
    a larger first generation means fewer collections of a page's short-lived rows."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS_BEFORE_COLLECTING, 10, 10)


def create_app(
    settings: Settings,
    *,
    search_writer: bool = False,
    mail_sender: bool | None = None,
    server: bool = False,
) -> Starlette:
    """Build the app for these settings: engine, search index, templates, routes, middleware.

    `search_writer` runs the search writer in the background of this process (the server
    does; tests drain app.state.search_writer themselves, so outbox rows stay inspectable).
    `mail_sender` (by default, as `search_writer`) runs the mailer the same way; tests call
    app.state.mailer.run_once(). `server` settles the heap once started (settle_heap): a
    long-lived process, not a test's app."""
    from forum.api import accounts as api_accounts
    from forum.api import admin as api_admin
    from forum.api import base as api_base
    from forum.api import communities as api_communities
    from forum.api import guidelines as api_guidelines
    from forum.api import messages as api_messages
    from forum.api import notifications as api_notifications
    from forum.api import openapi as api_openapi
    from forum.api import people as api_people
    from forum.api import privacy as api_privacy
    from forum.api import search as api_search
    from forum.api import stories as api_stories
    from forum.api import threads as api_threads
    from forum.web import accounts as web_accounts
    from forum.web import admin as web_admin
    from forum.web import communities as web_communities
    from forum.web import feeds as web_feeds
    from forum.web import guidelines as web_guidelines
    from forum.web import insights as web_insights
    from forum.web import messages as web_messages
    from forum.web import notifications as web_notifications
    from forum.web import people as web_people
    from forum.web import privacy as web_privacy
    from forum.web import search as web_search
    from forum.web import stories as web_stories
    from forum.web import threads as web_threads
    from forum.web.render import create_templates
    from forum.web.router import IndexedRouter
    from moderation import api as api_moderation
    from moderation import web as web_moderation

    del api_accounts, api_communities, api_threads, api_openapi  # imported to register routes
    del api_moderation, api_search, api_people
    del api_stories, api_notifications
    del api_admin, api_guidelines
    del api_messages, api_privacy
    engine = db.create_engine(settings)
    search_index = create_index(settings.search_backend, settings.index_dir)
    site_settings = SiteSettingsCache(settings.data_dir)
    sends_mail = search_writer if mail_sender is None else mail_sender

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db.bind_engine(engine)
        page_cache.clear()  # kept pages belong to the database this app last served
        insights.forget_typical()  # and so do the reply times it worked out
        await db.start(engine, settings)
        await site_settings.reload()  # forum.site_settings: pages read them from memory
        if search_writer or sends_mail:  # a server, rather than a test's app
            site_settings.start_polling()
        fresh = await search_index.open()
        writer = Writer(search_index, rebuild_first=fresh)
        app.state.search_writer = writer
        if search_writer:
            writer.start()
        mailer = Mailer(settings, app.state.signer)
        app.state.mailer = mailer
        if sends_mail:
            mailer.start()
        if server:
            settle_heap()
        try:
            yield
        finally:
            await mailer.stop()
            await site_settings.stop()
            await writer.stop()
            await search_index.close()
            await db.stop(engine)

    routes = [
        *api_base.routes(),
        *web_communities.routes,
        *web_accounts.routes,
        *web_threads.routes,
        *web_moderation.routes,
        *web_search.routes,
        *web_people.routes,
        *web_stories.routes,
        *web_notifications.routes,
        *web_feeds.routes,
        *web_messages.routes,
        *web_privacy.routes,
        *web_guidelines.routes,
        *web_insights.routes,
        *web_admin.routes,
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders, https=settings.https),
        Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        Middleware(RefuseNul),
        Middleware(
            SessionCookies,
            cookie=SessionCookie(settings.secret_key, max_age=SESSION_MAX_AGE),
            name=SESSION_COOKIE,
            same_site="lax",
            https_only=settings.https,
        ),
    ]
    app = Starlette(
        debug=settings.debug,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            KindredError: kindred_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    # The same routes and lifespan, tried by first path segment (forum.web.router).
    app.router = IndexedRouter(routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.signer = Signer(settings.secret_key)
    app.state.templates = create_templates()
    app.state.search_index = search_index
    app.state.site_settings = site_settings
    return app


def create_app_from_env() -> Starlette:
    """Factory for uvicorn (`--factory`): settings from the environment. With
    KINDRED_SEARCH_WRITER=separate the search writer runs in `kindred search-writer` instead."""
    settings = Settings.from_env()
    return create_app(
        settings,
        search_writer=settings.search_writer == "inline",
        mail_sender=True,
        server=True,
    )
