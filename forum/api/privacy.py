"""API routes for privacy within a community: the name a member goes by there (forum.aliases),
anonymous posting (forum.anonymity, for its moderators), and a moderator's audited request to
see who wrote an anonymous post (moderation.reveal)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from forum import aliases, anonymity, communities
from forum.api.base import api_viewer, json_body, obj, ok, operation, string
from moderation import queue, reveal

NAME = obj(
    {
        "community": {"type": "string"},
        "display_name": {
            "type": ["string", "null"],
            "description": "the name you go by there; null: your own display name",
        },
    },
    ["community", "display_name"],
)


@operation(
    "GET",
    "/communities/{slug}/my-name",
    "The name you go by in this community, if any",
    auth=True,
    response=NAME,
)
async def get_name(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    community = await communities.get_community(viewer, request.path_params["slug"])
    return ok(
        {
            "community": community["slug"],
            "display_name": await aliases.name_in(viewer.id, community["id"]),
        }
    )


@operation(
    "PUT",
    "/communities/{slug}/my-name",
    "Go by another name in this community (null or empty: your own display name again)",
    auth=True,
    body=obj({"display_name": {"type": ["string", "null"], "maxLength": aliases.NAME_MAX}}),
    response=NAME,
)
async def put_name(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok(await aliases.set_name(viewer, request.path_params["slug"], body.get("display_name")))


@operation(
    "PUT",
    "/communities/{slug}/anonymous-posting",
    "Allow or stop anonymous posting in a community (its moderators and admins)",
    auth=True,
    body=obj({"allowed": {"type": "boolean"}}, ["allowed"]),
    response=obj(
        {"community": {"type": "string"}, "allow_anonymous": {"type": "boolean"}},
        ["community", "allow_anonymous"],
    ),
)
async def put_anonymous(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    community = await anonymity.set_allow_anonymous(
        viewer, request.path_params["slug"], body.get("allowed") is True
    )
    return ok({"community": community["slug"], "allow_anonymous": community["allow_anonymous"]})


@operation(
    "POST",
    "/moderation/items/{id}/reveal",
    "Who wrote the anonymous post of a review item: needs a reason, which goes in the audit "
    "log (moderators)",
    auth=True,
    body=obj({"reason": string(reveal.REASON_MAX, min_length=reveal.REASON_MIN)}, ["reason"]),
    response=obj(
        {
            "item_id": {"type": "integer"},
            "pseudonym": {"type": "string"},
            "author": obj({"username": {"type": "string"}, "display_name": {"type": "string"}}),
        }
    ),
    tag="moderation",
)
async def reveal_author(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    queue.ensure_moderator(viewer)
    body = await json_body(request)
    result = await reveal.reveal_author(viewer, request.path_params["id"], body.get("reason"))
    author = result["author"]
    return ok(
        {
            "item_id": result["item_id"],
            "pseudonym": result["pseudonym"],
            "author": {"username": author["username"], "display_name": author["display_name"]}
            if author
            else None,
        }
    )
