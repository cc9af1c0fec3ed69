"""Every insight over the hand-built week of tests/community/conftest.py, for the celiac
community and for the whole site, with the expected numbers worked out by hand."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from forum import charts, insights
from forum.errors import Invalid, NotFound
from tests.conftest import make_user, sign_in, viewer_of

WEEK = insights.Period(date(2026, 3, 2), date(2026, 3, 8))
DAYS = [f"2026-03-0{day}" for day in range(2, 9)]


def series(by_day: dict[str, int]) -> list[int]:
    return [by_day.get(day, 0) for day in DAYS]


async def test_active_members_are_distinct_people_who_posted_wrote_or_reacted(week):
    c1 = await insights.active_members(week["celiac"]["id"], week["start"], week["end"])
    # M, D and K; the removed thread T5 and the reply after the week don't count.
    assert c1.total == 3
    assert series(c1.by_bucket) == [2, 3, 2, 1, 1, 0, 2]
    site = await insights.active_members(None, week["start"], week["end"])
    assert site.total == 5  # and S and A in heart, and D's blog story
    assert series(site.by_bucket) == [2, 3, 2, 3, 2, 0, 2]
    weekly = await insights.active_members(None, week["start"], week["end"], step_days=7)
    assert weekly.by_bucket == {"2026-03-02": 5}


async def test_new_members_are_joiners_in_a_community_and_new_accounts_site_wide(week):
    c1 = await insights.new_members(week["celiac"]["id"], week["start"], week["end"])
    assert c1.total == 2 and c1.by_day == {"2026-03-02": 1, "2026-03-03": 1}
    site = await insights.new_members(None, week["start"], week["end"])
    assert site.total == 3
    assert site.by_day == {"2026-03-02": 1, "2026-03-03": 1, "2026-03-05": 1}


async def test_threads_and_replies_count_only_published_ones_in_the_period(week):
    c1_threads = await insights.threads_started(week["celiac"]["id"], week["start"], week["end"])
    assert c1_threads.total == 5  # T1, T2, T3, T4, T7
    assert series(c1_threads.by_day) == [1, 1, 1, 0, 1, 0, 1]
    c1_replies = await insights.replies(week["celiac"]["id"], week["start"], week["end"])
    assert c1_replies.total == 7  # held, removed-thread and next-week replies left out
    assert series(c1_replies.by_day) == [3, 3, 1, 0, 0, 0, 0]
    assert (await insights.threads_started(None, week["start"], week["end"])).total == 6
    assert (await insights.replies(None, week["start"], week["end"])).total == 8


async def test_answers_share_and_median_time_to_first_reply_and_clinician_answer(week):
    c1 = await insights.answers(week["celiac"]["id"], week["start"], week["end"])
    # T1 2 h (M's own reply doesn't count), T2 30 min, T3 1 h, T7 4 h (after the week); T4 none.
    assert (c1.replies.questions, c1.replies.answered) == (5, 4)
    assert c1.replies.share == pytest.approx(0.8)
    assert c1.replies.median_seconds == pytest.approx(5400)
    # Asked of clinicians: T2 (4 h), T3 (1 h) answered with a credential; T7 not.
    assert (c1.clinicians.questions, c1.clinicians.answered) == (3, 2)
    assert c1.clinicians.share == pytest.approx(2 / 3)
    assert c1.clinicians.median_seconds == pytest.approx(9000)
    site = await insights.answers(None, week["start"], week["end"])
    assert (site.replies.questions, site.replies.answered) == (6, 5)
    assert site.replies.median_seconds == pytest.approx(3600)
    assert (site.clinicians.questions, site.clinicians.answered) == (3, 2)


async def test_stories_and_reactions(week):
    start, end = week["start"], week["end"]
    c1_stories = await insights.stories_published(week["celiac"]["id"], start, end)
    assert c1_stories.total == 1 and c1_stories.by_day == {"2026-03-04": 1}
    assert (await insights.stories_published(None, start, end)).total == 2  # drafts don't count
    c1_reactions = await insights.reactions(week["celiac"]["id"], start, end)
    assert c1_reactions.total == 3
    assert series(c1_reactions.by_day) == [1, 1, 0, 0, 0, 0, 1]
    assert (await insights.reactions(None, start, end)).total == 4


async def test_searches_that_found_nothing(week):
    c1 = await insights.search_misses(week["celiac"]["id"], week["start"], week["end"])
    assert (c1.total, c1.distinct) == (3, 2)
    assert c1.top == [("gluten free beer", 2), ("celiac travel card", 1)]
    site = await insights.search_misses(None, week["start"], week["end"])
    assert (site.total, site.distinct) == (5, 3)
    assert site.top == [("gluten free beer", 3), ("celiac travel card", 1), ("heart diet", 1)]


async def test_review_items_and_the_median_time_to_a_decision(week):
    c1 = await insights.moderation_items(week["celiac"]["id"], week["start"], week["end"])
    assert (c1.total, c1.decided) == (4, 3)
    assert c1.median_decision_seconds == pytest.approx(1800)  # 2 h, 30 min, 10 min
    assert series(c1.by_day) == [0, 0, 1, 1, 1, 1, 0]
    site = await insights.moderation_items(None, week["start"], week["end"])
    assert (site.total, site.decided) == (6, 5)
    assert site.median_decision_seconds == pytest.approx(1800)


async def test_decisions_by_kind_come_from_the_log_and_leave_out_automatic_entries(week):
    c1 = await insights.decisions(week["celiac"]["id"], week["start"], week["end"])
    assert c1 == {"approve": 2, "hide": 1, "remove": 1, "warn": 1}
    site = await insights.decisions(None, week["start"], week["end"])
    assert site == {"approve": 2, "hide": 2, "remove": 1, "warn": 1}


async def test_upheld_flag_rate_counts_flags_resolved_in_the_period(week):
    c1 = await insights.flag_outcomes(week["celiac"]["id"], week["start"], week["end"])
    assert (c1.upheld, c1.dismissed) == (3, 1) and c1.upheld_rate == pytest.approx(0.75)
    site = await insights.flag_outcomes(None, week["start"], week["end"])
    assert (site.upheld, site.dismissed) == (4, 1) and site.upheld_rate == pytest.approx(0.8)


async def test_crisis_escalations_and_the_time_to_a_moderators_first_action(week):
    c1 = await insights.crisis_escalations(week["celiac"]["id"], week["start"], week["end"])
    assert (c1.escalations, c1.acted_on, c1.awaiting) == (2, 1, 1)
    assert c1.median_first_action_seconds == pytest.approx(1200)
    site = await insights.crisis_escalations(None, week["start"], week["end"])
    assert (site.escalations, site.acted_on) == (3, 2)
    assert site.median_first_action_seconds == pytest.approx(750)  # 20 min and 5 min


async def test_the_dashboard_gathers_the_figures(week, moderator, admin):
    board = await insights.dashboard(await viewer_of(moderator), WEEK, "celiac")
    values = {figure.key: figure.value for figure in board.figures}
    assert values["active_members"] == 3 and values["new_members"] == 2
    assert values["threads"] == 5 and values["replies"] == 7
    assert values["questions_replied_share"] == pytest.approx(0.8)
    assert values["median_first_reply_seconds"] == pytest.approx(5400)
    assert values["clinician_answered_share"] == pytest.approx(2 / 3)
    assert values["stories"] == 1 and values["reactions"] == 3
    assert values["search_misses"] == 3 and values["moderation_items"] == 4
    assert values["decisions"] == 5 and values["upheld_flag_rate"] == pytest.approx(0.75)
    assert values["crisis_escalations"] == 2 and values["crisis_awaiting"] == 1
    assert insights.figure_text(board.figure("median_first_reply_seconds")) == "1 h 30 min"
    assert insights.figure_text(board.figure("questions_replied_share")) == "80%"
    site = await insights.dashboard(await viewer_of(admin), WEEK)
    assert site.figure("active_members").value == 5
    assert dict(site.get_series("top_searches").points)["gluten free beer"] == 3


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_every_csv_matches_its_chart_and_table(client, week, moderator):
    await sign_in(client, moderator)
    query = "from=2026-03-02&to=2026-03-08"
    page = await client.get(f"/c/celiac/insights?{query}")
    assert page.status_code == 200
    board = await insights.dashboard(await viewer_of(moderator), WEEK, "celiac")
    for item in board.series:
        response = await client.get(f"/c/celiac/insights.csv?series={item.key}&{query}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = _csv(response.text)
        assert rows[0] == [item.label_heading, item.value_heading]
        assert [(label, int(value)) for label, value in rows[1:]] == list(item.points)
        # The table beside the chart shows the same numbers.
        table = re.search(rf'id="chart-{item.key}-table".*?</table>', page.text, re.S)
        assert table, item.key
        cells = re.findall(r'<th scope="row">([^<]*)</th><td>(\d+)</td>', table.group(0))
        assert [(label, int(value)) for label, value in cells] == list(item.points)
        # And the chart has a bar for each value, titled with it.
        layout = charts.bar_chart(item)
        assert [(bar.label, bar.value) for bar in layout.bars] == list(item.points)
    everything = _csv((await client.get(f"/c/celiac/insights.csv?series=all&{query}")).text)
    assert len(everything) - 1 == sum(len(item.points) for item in board.series)
    summary = _csv((await client.get(f"/c/celiac/insights.csv?series=summary&{query}")).text)
    assert ["threads", "Conversations started", "5"] in summary
    assert ["median_first_reply_seconds", "Median time to first reply", "5400"] in summary


async def test_the_charts_are_accessible_inline_svg_without_script_or_style(client, week, admin):
    await sign_in(client, admin)
    page = await client.get("/admin/insights?from=2026-03-02&to=2026-03-08")
    assert page.status_code == 200
    svgs = re.findall(r"<svg.*?</svg>", page.text, re.S)
    assert len(svgs) == 10
    for svg in svgs:
        assert 'role="img"' in svg
        ids = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
        for element_id in ids:
            assert f'id="{element_id}"' in svg
        assert "<title" in svg and "<desc" in svg
    assert "style=" not in page.text and "<script" not in page.text
    assert "1 h" in page.text  # median time to first reply, site-wide


async def test_dashboards_are_for_moderators_and_admins_only(
    client, make_client, week, member, moderator, settings
):
    await sign_in(client, member)
    for path in ("/c/celiac/insights", "/admin/insights", "/c/celiac/insights.csv"):
        assert (await client.get(path)).status_code == 404, path
    with pytest.raises(NotFound):
        await insights.dashboard(await viewer_of(member), WEEK, "celiac")
    # A moderator of celiac sees celiac's, not heart's or the site's.
    other = make_client()
    await sign_in(other, moderator)
    assert (await other.get("/c/celiac/insights")).status_code == 200
    assert (await other.get("/c/heart/insights")).status_code == 404
    assert (await other.get("/admin/insights")).status_code == 404
    assert (await other.get("/api/v1/admin/insights")).status_code == 404
    await other.aclose()
    visitor = make_client()
    response = await visitor.get("/c/celiac/insights")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    await visitor.aclose()


async def test_a_private_communitys_dashboard_is_hidden_from_its_members(
    client, settings, admin, private_community
):
    from forum import communities

    insider = await make_user(settings, "insider")
    await communities.add_member(await viewer_of(admin), private_community["slug"], "insider")
    await sign_in(client, insider)
    assert (await client.get(f"/c/{private_community['slug']}/insights")).status_code == 404
    with pytest.raises(NotFound):
        await insights.dashboard(await viewer_of(insider), WEEK, private_community["slug"])
    board = await insights.dashboard(await viewer_of(admin), WEEK, private_community["slug"])
    assert board.community["slug"] == private_community["slug"]


async def test_the_api_gives_the_same_figures(client, week, moderator):
    from tests.conftest import api_token

    headers = await api_token(client, moderator)
    response = await client.get(
        "/api/v1/communities/celiac/insights?from=2026-03-02&to=2026-03-08", headers=headers
    )
    assert response.status_code == 200
    data = response.json()
    figures = {figure["key"]: figure["value"] for figure in data["figures"]}
    assert figures["threads"] == 5 and figures["questions_replied_share"] == pytest.approx(0.8)
    threads = next(item for item in data["series"] if item["key"] == "threads")
    assert threads["points"][0] == ["2026-03-02", 1]


def test_periods_are_whole_days_and_long_ones_are_charted_by_week():
    assert WEEK.days == 7 and WEEK.labels() == DAYS and not WEEK.by_week
    year = insights.Period(date(2026, 1, 1), date(2026, 12, 31))
    assert year.by_week and year.labels()[:2] == ["2026-01-01", "2026-01-08"]
    assert year.bucket("2026-01-10") == "2026-01-08"
    assert insights.parse_period({"days": "7"}, today=date(2026, 3, 8)) == WEEK
    assert insights.parse_period({}, today=date(2026, 3, 8)).days == 30
    for bad in ({"from": "yesterday", "to": "2026-03-08"}, {"days": "12"},
                {"from": "2026-03-08", "to": "2026-03-01"}):  # fmt: skip
        with pytest.raises(Invalid):
            insights.parse_period(bad)


async def test_a_bad_period_is_explained_not_a_crash(client, admin):
    await sign_in(client, admin)
    page = await client.get("/admin/insights?from=2026-13-01&to=soon")
    assert page.status_code == 422 and "YYYY-MM-DD" in page.text
    assert (await client.get("/admin/insights.csv?days=11")).status_code == 422
    assert (await client.get("/admin/insights.csv?series=nonsense")).status_code == 404


def test_an_empty_chart_says_so():
    empty = insights.Series("threads", "Threads per day", "Day", "Threads", (("2026-03-02", 0),))
    layout = charts.bar_chart(empty)
    assert layout.empty and "none in this period" in layout.description
