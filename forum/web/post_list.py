"""A thread page's list of posts, rendered once for every reader who is shown it the same way.

forum.threads shares one presentation of a kept page among readers of the same standing
(forum.page_cache.PRESENTED); rendering those 50 posts was still most of each request's work.
The list depends on that presentation and, beyond it, on three things only: whether the reader
may accept an answer, their CSRF token, and the clock, through "3 hours ago". So the rendering
is kept under the presentation's key and whether they may accept, with a token-shaped slot
where each reader's own token goes, until the first of its "… ago" texts would change.
Anything else the template came to read would differ between readers, so a test renders the
list both ways for readers of every standing and compares them byte for byte.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Hashable
from typing import Any

from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

from forum.page_cache import RENDERED
from forum.web.render import ago_changes_at

TEMPLATE = "threads/_posts.html"

# Letters and digits only, so escaping leaves it as it is; random, so no post can contain it.
_SLOT = f"csrfslot{secrets.token_hex(16)}"


def posts_html(templates: Jinja2Templates, data: dict[str, Any], csrf_token: str) -> Markup:
    """The rendered list of `data` (a page from forum.threads.get_thread) for this reader."""
    key: Hashable = (data["presentation"], bool(data["can_accept"]))
    now = time.time()
    kept = RENDERED.get(key)
    if kept is None or now >= kept[1]:
        html = templates.env.get_template(TEMPLATE).render(
            posts=data["posts"],
            thread=data["thread"],
            can_accept=data["can_accept"],
            csrf_token=_SLOT,
        )
        until = min(
            (ago_changes_at(post["created_at"], now) for post in data["posts"].items),
            default=float("inf"),
        )
        kept = (html.split(_SLOT), until)
        RENDERED.put(key, kept)
    # Autoescaped template output, joined by the escaped token: as safe as the page around it.
    return Markup(str(escape(csrf_token)).join(kept[0]))  # noqa: S704
