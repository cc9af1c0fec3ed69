"""The community-health dashboards: /c/{slug}/insights for a community's moderators and the
admins, /admin/insights for the whole site (admins), and a CSV of every series."""

from __future__ import annotations

import csv
import io
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import charts, insights
from forum.errors import Invalid
from forum.web.render import page, redirect
from forum.web.session import get_viewer

SUMMARY = "summary"
ALL = "all"


def _period(request: Request) -> tuple[insights.Period, Invalid | None]:
    try:
        return insights.parse_period(request.query_params), None
    except Invalid as error:
        return insights.last_days(insights.DEFAULT_DAYS), error


def dashboard_context(board: insights.Dashboard, error: Invalid | None = None) -> dict[str, Any]:
    """What templates/insights/dashboard.html needs (bench/insights.py renders it too)."""
    period = board.period
    groups: dict[str, list[Any]] = {}
    for figure in board.figures:
        groups.setdefault(figure.group, []).append(figure)
    return {
        "board": board,
        "community": board.community,
        "groups": groups,
        "charts": [(series, charts.bar_chart(series)) for series in board.series],
        "figure_text": insights.figure_text,
        "base": f"/c/{board.community['slug']}/insights" if board.community else "/admin/insights",
        "presets": insights.PRESETS,
        "active_preset": next(
            (days for days in insights.PRESETS if period == insights.last_days(days)), None
        ),
        "values": {"from": period.first.isoformat(), "to": period.last.isoformat()},
        "errors": error.fields if error else {},
        "error": error.message if error else None,
    }


async def _dashboard(request: Request, slug: str | None) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        target = f"/c/{slug}/insights" if slug else "/admin/insights"
        return redirect(f"/login?next={target}")
    period, error = _period(request)
    board = await insights.dashboard(viewer, period, slug)
    return await page(
        request,
        "insights/dashboard.html",
        dashboard_context(board, error),
        status=422 if error else 200,
    )


async def community_dashboard(request: Request) -> Response:
    return await _dashboard(request, request.path_params["slug"])


async def site_dashboard(request: Request) -> Response:
    return await _dashboard(request, None)


def _cell(value: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with ' first."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def rows_of(board: insights.Dashboard, key: str) -> list[list[str]]:
    """The CSV of one series (its label and value columns), of the summary figures, or of
    every series at once in long form (series, label, value)."""
    if key == SUMMARY:
        return [["metric", "label", "value"]] + [
            [figure.key, figure.label, insights.figure_csv_value(figure)]
            for figure in board.figures
        ]
    if key == ALL:
        return [["series", "label", "value"]] + [
            [series.key, _cell(label), str(value)]
            for series in board.series
            for label, value in series.points
        ]
    series = board.get_series(key)
    return [[series.label_heading, series.value_heading]] + [
        [_cell(label), str(value)] for label, value in series.points
    ]


async def _csv(request: Request, slug: str | None) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login")
    period = insights.parse_period(request.query_params)  # a 422 page when unreadable
    board = await insights.dashboard(viewer, period, slug)
    key = request.query_params.get("series") or ALL
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows_of(board, key))
    scope = board.community["slug"] if board.community else "site"
    name = f"kindred-{scope}-{key}-{period.first.isoformat()}-{period.last.isoformat()}"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


async def community_csv(request: Request) -> Response:
    return await _csv(request, request.path_params["slug"])


async def site_csv(request: Request) -> Response:
    return await _csv(request, None)


routes = [
    Route("/c/{slug}/insights", community_dashboard),
    Route("/c/{slug}/insights.csv", community_csv),
    Route("/admin/insights", site_dashboard),
    Route("/admin/insights.csv", site_csv),
]
