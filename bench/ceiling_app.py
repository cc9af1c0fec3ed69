"""The ceiling for a thread page: bare Starlette + Jinja2 rendering Kindred's template from memory.

The page context is captured once at start-up from the real service (`forum.threads.get_thread`
for the reader's Viewer), built the way `forum.web.render.page` builds it, then served by uvicorn
with the settings `kindred serve` uses (one worker, asyncio/httptools, a TCP_NODELAY socket). No
middleware, no session, no database per request: what our stack can do at best for this page.
`--kept-list` renders the list of posts the way the app does (forum.web.post_list).

Started by bench/thread_page.py; by hand (with the same KINDRED_* variables as the app):

    .venv/bin/python bench/ceiling_app.py --port 8001 --thread 1 --user 2 --csrf TOKEN
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.settings import Settings

TEMPLATE = "threads/thread.html"


async def capture_context(
    settings: Settings, thread_id: int, user_id: int, csrf_token: str
) -> dict[str, Any]:
    """The thread page's template context for this reader, read once from the database."""
    from forum import accounts, db, site_settings, threads

    engine = db.create_engine(settings)
    db.bind_engine(engine)
    await db.start(engine, settings)
    try:
        viewer = await accounts.load_viewer(user_id, await accounts.session_epoch(user_id))
        if viewer is None:
            raise SystemExit(f"user {user_id} has no valid session epoch")
        data = await threads.get_thread(viewer, thread_id)
        site = await site_settings.load()
    finally:
        await db.stop(engine)
    # The same keys, in the same order, as forum.web.render.page.
    return {
        "viewer": viewer,
        "csrf_token": csrf_token,
        "notice": None,
        "crisis_resources": None,
        "settings": settings,
        "site": site,
        "errors": {},
        "values": {},
        **data,
    }


def create_ceiling_app(context: dict[str, Any], *, kept_list: bool = False) -> Starlette:
    """One route, /t/{thread_id}, rendering the captured context with Kindred's templates.

    With `kept_list`, the list of posts comes from forum.web.post_list as the app's does (kept
    rendered, the reader's token joined in): the same rendering work as the app, so the ratio
    shows what the app adds around it. Without, the whole page is rendered every time: the
    issue's ceiling."""
    from forum.web.post_list import posts_html
    from forum.web.render import create_templates

    templates = create_templates()

    async def thread_page(request: Request) -> Response:
        values = {**context}  # TemplateResponse adds the request: a fresh dict, as `page` does
        if kept_list:
            values["posts_html"] = posts_html(templates, context, context["csrf_token"])
        return templates.TemplateResponse(request, TEMPLATE, values)

    return Starlette(routes=[Route("/t/{thread_id:int}", thread_page)])


def serve(app: Starlette, host: str, port: int) -> None:
    """Serve like `kindred serve` with one worker: same uvicorn options, same socket."""
    import uvicorn

    from forum.app import settle_heap
    from forum.cli import listening_socket

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        # asyncio's own loop, not uvloop: under saturation uvloop served some connections
        # ten times later than others (p99 1.2 s at p50 100 ms), asyncio's serves them in turn
        # for about the same throughput (docs/performance.md).
        loop="asyncio",
        server_header=False,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    sock = listening_socket(host, port)
    settle_heap()  # as the app's lifespan does for `kindred serve`
    print(f"ceiling is serving on http://{host}:{port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--thread", type=int, required=True, help="thread id to render")
    parser.add_argument("--user", type=int, required=True, help="id of the signed-in reader")
    parser.add_argument("--csrf", default="x" * 43, help="the reader's session CSRF token")
    parser.add_argument(
        "--kept-list", action="store_true", help="render the posts as the app does (kept)"
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    context = asyncio.run(capture_context(settings, args.thread, args.user, args.csrf))
    serve(create_ceiling_app(context, kept_list=args.kept_list), args.host, args.port)


if __name__ == "__main__":
    main()
