"""Community health: the figures a community manager reports each month.

Every metric is a function of (community id or None for the whole site, start, end), over the
half-open period [start, end) in UTC, computed with aggregate SQL that runs on SQLite and
PostgreSQL alike (the few engine-specific expressions come from `seconds_between` and
`days_since`). Medians are taken in Python from one query's column. `dashboard` gathers them all
for /c/{slug}/insights and /admin/insights, with a series per chart.

Definitions (docs/insights.md says them for people):

- questions are the published threads started in the period (discussions and "ask a
  clinician" alike); one got a reply when a published reply by someone other than the asker
  exists (whenever it came); the time to first reply is from the thread to that reply;
- "ask a clinician" threads are answered by a verified clinician when a published reply carries
  an author credential (Post.author_credential);
- active members are the distinct people who published a post, story or comment or reacted in
  the period; new members are accounts created (site-wide) or memberships begun (community);
- moderation figures come from moderation's tables: review items opened in the period, the
  time from an item to its decision, decisions recorded in the audit log, flags resolved
  (upheld or dismissed), and crisis items with the time to the first moderator's action.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from forum import db
from forum.errors import Invalid, NotFound
from forum.permissions import Viewer, ensure_can_view_community, ensure_signed_in, moderates
from forum.tables import PUBLISHED, Thread

MAX_DAYS = 731
DAILY_UP_TO = 92  # longer periods are charted by week
PRESETS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
DECISIONS = ("approve", "hide", "remove", "restore", "edit", "warn", "suspend", "ban")
DECISION_KINDS = ("thread", "post", "story", "comment", "user")
TOP_SEARCHES = 20


# Engine-specific SQL, in one place ---------------------------------------------------------


def engine_type() -> str:
    return Thread._meta.db.engine_type


def seconds_between(later: str, earlier: str) -> str:
    """SQL for the seconds from `earlier` to `later` (two timestamp expressions)."""
    if engine_type() == "sqlite":
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


def days_since(column: str) -> str:
    """SQL for the whole days from the `{}` parameter (a midnight) to a later timestamp."""
    if engine_type() == "sqlite":
        return f"CAST(julianday({column}) - julianday({{}}) AS INTEGER)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({column} - CAST({{}} AS TIMESTAMPTZ))) / 86400) AS INTEGER)"


def median(values: list[float]) -> float | None:
    """The median, or None when there is nothing to take it of."""
    return float(statistics.median(values)) if values else None


def _seconds(value: Any) -> float | None:
    # SQLite's julianday arithmetic is good to about 10 µs: round to the millisecond.
    return None if value is None else round(float(value), 3)


# The period ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `first` to `last` (inclusive); charted by day, or by week when long."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def by_week(self) -> bool:
        return self.days > DAILY_UP_TO

    @property
    def bucket_name(self) -> str:
        return "Week starting" if self.by_week else "Day"

    def labels(self) -> list[str]:
        step = 7 if self.by_week else 1
        return [
            (self.first + timedelta(days=offset)).isoformat()
            for offset in range(0, self.days, step)
        ]

    def bucket(self, day: str) -> str:
        """The label of the bucket a 'YYYY-MM-DD' day falls in."""
        if not self.by_week:
            return day
        offset = (date.fromisoformat(day) - self.first).days
        return (self.first + timedelta(days=offset - offset % 7)).isoformat()

    def query(self) -> str:
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"

    def describe(self) -> str:
        if self.first == self.last:
            return self.first.strftime("%-d %B %Y")
        return f"{self.first.strftime('%-d %B %Y')} to {self.last.strftime('%-d %B %Y')}"


def last_days(days: int, today: date | None = None) -> Period:
    today = today or datetime.now(UTC).date()
    return Period(today - timedelta(days=days - 1), today)


def parse_period(params: Any, today: date | None = None) -> Period:
    """The period a dashboard asks for: `from` and `to` (YYYY-MM-DD, inclusive), or `days`
    (7, 30, 90 or 365, ending today); the last 30 days by default. Invalid input is a 422
    saying what to fix."""
    get = params.get
    first, last = get("from"), get("to")
    if first or last:
        try:
            first_day = date.fromisoformat(str(first))
            last_day = date.fromisoformat(str(last))
        except ValueError:
            raise Invalid(
                {"from": "Give both dates as YYYY-MM-DD, for example 2026-11-01."},
                "Those dates can't be read.",
            ) from None
        if last_day < first_day:
            raise Invalid({"to": "The end date comes before the start date."})
        if (last_day - first_day).days + 1 > MAX_DAYS:
            raise Invalid({"to": f"Choose at most {MAX_DAYS} days."})
        return Period(first_day, last_day)
    days = get("days")
    if days in (None, ""):
        return last_days(DEFAULT_DAYS, today)
    if str(days) not in {str(d) for d in PRESETS}:
        raise Invalid({"days": f"Choose one of {', '.join(map(str, PRESETS))} days."})
    return last_days(int(str(days)), today)


# Results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Daily:
    """A count over the period and its days ({'YYYY-MM-DD': n}, days without any left out)."""

    total: int
    by_day: dict[str, int]


@dataclass(frozen=True)
class Distinct:
    """Distinct people over the period, and in each bucket of days ({'YYYY-MM-DD': n}, keyed
    by the bucket's first day; buckets without anyone left out)."""

    total: int
    by_bucket: dict[str, int]


@dataclass(frozen=True)
class Response:
    """How questions were answered: of `questions`, `answered` were, after a median time."""

    questions: int
    answered: int
    median_seconds: float | None

    @property
    def share(self) -> float | None:
        return self.answered / self.questions if self.questions else None


@dataclass(frozen=True)
class Answers:
    replies: Response
    clinicians: Response


@dataclass(frozen=True)
class Misses:
    total: int
    distinct: int
    top: list[tuple[str, int]]
    by_day: dict[str, int]


@dataclass(frozen=True)
class Items:
    total: int
    by_day: dict[str, int]
    decided: int
    median_decision_seconds: float | None


@dataclass(frozen=True)
class Flags:
    upheld: int
    dismissed: int

    @property
    def upheld_rate(self) -> float | None:
        resolved = self.upheld + self.dismissed
        return self.upheld / resolved if resolved else None


@dataclass(frozen=True)
class Crisis:
    escalations: int
    acted_on: int
    median_first_action_seconds: float | None

    @property
    def awaiting(self) -> int:
        return self.escalations - self.acted_on


# The metrics ---------------------------------------------------------------------------------


def _where(column: str, community_id: int | None) -> tuple[str, list[Any]]:
    if community_id is None:
        return "", []
    return f" AND {column} = {{}}", [community_id]


def _day_label(start: datetime, offset: Any) -> str:
    return (start.date() + timedelta(days=int(offset))).isoformat()


async def _daily(sql: str, start: datetime, args: list[Any]) -> Daily:
    """Counts by day, from SQL whose first parameter is the period's start and that gives
    each day as whole days since it (`days_since`: an integer groups faster than a date)."""
    rows = await db.raw(sql, start, *args)
    by_day = {
        _day_label(start, row["day"]): int(row["n"]) for row in rows if row["day"] is not None
    }
    return Daily(sum(by_day.values()), by_day)


async def threads_started(community_id: int | None, start: datetime, end: datetime) -> Daily:
    """Published threads started in the period."""
    extra, args = _where('t."community"', community_id)
    return await _daily(
        f'SELECT {days_since("t.created_at")} AS "day", COUNT(*) AS "n" FROM "thread" t '
        f'WHERE t."status" = {{}} AND t."created_at" >= {{}} AND t."created_at" < {{}}{extra} '
        "GROUP BY 1",
        start,
        [PUBLISHED, start, end, *args],
    )


async def replies(community_id: int | None, start: datetime, end: datetime) -> Daily:
    """Published replies written in the period, in published threads."""
    extra, args = _where('t."community"', community_id)
    return await _daily(
        f'SELECT {days_since("p.created_at")} AS "day", COUNT(*) AS "n" FROM "post" p '
        'JOIN "thread" t ON t."id" = p."thread" '
        'WHERE p."is_opening" = {} AND p."status" = {} AND t."status" = {} '
        f'AND p."created_at" >= {{}} AND p."created_at" < {{}}{extra} GROUP BY 1',
        start,
        [False, PUBLISHED, PUBLISHED, start, end, *args],
    )


async def answers(community_id: int | None, start: datetime, end: datetime) -> Answers:
    """Of the questions asked in the period: how many got a reply from someone else and how
    soon (median), and of "ask a clinician" questions, how many a verified clinician answered
    and how soon. Replies count whenever they came.

    Each thread's first reply is found through the post (thread, created_at) index, which
    halves the time of grouping every reply of the period (bench/insights.py)."""
    extra, args = _where('t."community"', community_id)
    others = (
        'p."thread" = t."id" AND p."is_opening" = {} AND p."status" = {} '
        'AND (t."author" IS NULL OR p."author" IS NULL OR p."author" <> t."author")'
    )
    first_reply = seconds_between(
        f'(SELECT MIN(p."created_at") FROM "post" p WHERE {others})', 't."created_at"'
    )
    first_clinician = seconds_between(
        f'(SELECT MIN(p."created_at") FROM "post" p WHERE {others} '
        'AND p."author_credential" IS NOT NULL)',
        't."created_at"',
    )
    rows = await db.raw(
        f'SELECT t."kind", {first_reply} AS "reply_seconds", '
        f'CASE WHEN t."kind" = {{}} THEN {first_clinician} END AS "clinician_seconds" '
        'FROM "thread" t '
        f'WHERE t."status" = {{}} AND t."created_at" >= {{}} AND t."created_at" < {{}}{extra}',
        False,
        PUBLISHED,
        "ask_clinician",
        False,
        PUBLISHED,
        PUBLISHED,
        start,
        end,
        *args,
    )
    reply_times = [_seconds(row["reply_seconds"]) for row in rows]
    answered = [value for value in reply_times if value is not None]
    asked = [row for row in rows if row["kind"] == "ask_clinician"]
    clinician_times = [
        value
        for value in (_seconds(row["clinician_seconds"]) for row in asked)
        if value is not None
    ]
    return Answers(
        replies=Response(len(rows), len(answered), median(answered)),
        clinicians=Response(len(asked), len(clinician_times), median(clinician_times)),
    )


# What a new thread's author is told to expect: from the last REPLY_WINDOW of the community's
# questions, once it has TYPICAL_AFTER of them answered; worked out at most once an hour.
REPLY_WINDOW = timedelta(days=90)
TYPICAL_AFTER = 5
_TYPICAL_FOR = timedelta(hours=1)
_typical: dict[int, tuple[datetime, str | None]] = {}


def forget_typical() -> None:
    """Forget the reply times worked out so far (an app starting over another database)."""
    _typical.clear()


def _about(seconds: float) -> str:
    """A wait in plain words: "an hour", "about 5 hours", "about a day", "about 3 days"."""
    hours = seconds / 3600
    if hours <= 1:
        return "an hour"
    if hours < 20:
        return f"about {round(hours)} hours"
    days = round(hours / 24)
    return "about a day" if days <= 1 else f"about {days} days"


async def typical_reply(community_id: int, now: datetime | None = None) -> str | None:
    """How soon questions in this community usually get a first reply from someone else, in
    plain words ("about 3 hours"), or None while too few were answered to say. The message
    after posting tells the truth about a quiet community rather than promising hours."""
    now = now or datetime.now(UTC)
    known = _typical.get(community_id)
    if known is not None and now - known[0] < _TYPICAL_FOR:
        return known[1]
    replies = (await answers(community_id, now - REPLY_WINDOW, now)).replies
    typical = (
        _about(replies.median_seconds)
        if replies.answered >= TYPICAL_AFTER and replies.median_seconds is not None
        else None
    )
    _typical[community_id] = (now, typical)
    return typical


async def stories_published(community_id: int | None, start: datetime, end: datetime) -> Daily:
    """Stories published in the period (and still published)."""
    extra, args = _where('s."community"', community_id)
    return await _daily(
        f'SELECT {days_since("s.published_at")} AS "day", COUNT(*) AS "n" FROM "story" s '
        f'WHERE s."status" = {{}} AND s."published_at" >= {{}} AND s."published_at" < {{}}{extra} '
        "GROUP BY 1",
        start,
        [PUBLISHED, start, end, *args],
    )


async def reactions(community_id: int | None, start: datetime, end: datetime) -> Daily:
    """Reactions (helpful, support, me too) given in the period."""
    if community_id is None:
        return await _daily(
            f'SELECT {days_since("r.created_at")} AS "day", COUNT(*) AS "n" FROM "reaction" r '
            'WHERE r."created_at" >= {} AND r."created_at" < {} GROUP BY 1',
            start,
            [start, end],
        )
    return await _daily(
        f'SELECT {days_since("r.created_at")} AS "day", COUNT(*) AS "n" FROM "reaction" r '
        'JOIN "post" p ON p."id" = r."post" JOIN "thread" t ON t."id" = p."thread" '
        'WHERE r."created_at" >= {} AND r."created_at" < {} AND t."community" = {} GROUP BY 1',
        start,
        [start, end, community_id],
    )


async def active_members(
    community_id: int | None, start: datetime, end: datetime, step_days: int = 1
) -> Distinct:
    """Distinct people who published a post, story or comment, or reacted, in the period:
    in all, and in each bucket of `step_days` days from `start` (keyed by its first day).

    Counted by the database in one pass (a materialized CTE read twice), since the rows
    themselves are many: 138,000 (day, person) pairs over a year of 100,000 posts."""
    post_extra, post_args = _where('t."community"', community_id)
    story_extra, story_args = _where('s."community"', community_id)
    reaction_join = (
        ' JOIN "post" rp ON rp."id" = r."post" JOIN "thread" rt ON rt."id" = rp."thread"'
        if community_id is not None
        else ""
    )
    reaction_extra, reaction_args = _where('rt."community"', community_id)
    step = max(1, int(step_days))
    rows = await db.raw(
        'WITH "people" AS MATERIALIZED ('
        f'SELECT {days_since("p.created_at")} / {step} AS "bucket", p."author" AS "person" '
        'FROM "post" p JOIN "thread" t ON t."id" = p."thread" '
        'WHERE p."status" = {} AND t."status" = {} AND p."author" IS NOT NULL '
        f'AND p."created_at" >= {{}} AND p."created_at" < {{}}{post_extra} '
        f'UNION ALL SELECT {days_since("s.published_at")} / {step}, s."author" FROM "story" s '
        'WHERE s."status" = {} AND s."author" IS NOT NULL '
        f'AND s."published_at" >= {{}} AND s."published_at" < {{}}{story_extra} '
        f'UNION ALL SELECT {days_since("c.created_at")} / {step}, c."author" '
        'FROM "story_comment" c JOIN "story" s ON s."id" = c."story" '
        'WHERE c."status" = {} AND c."author" IS NOT NULL '
        f'AND c."created_at" >= {{}} AND c."created_at" < {{}}{story_extra} '
        f'UNION ALL SELECT {days_since("r.created_at")} / {step}, r."user" '
        f'FROM "reaction" r{reaction_join} '
        f'WHERE r."created_at" >= {{}} AND r."created_at" < {{}}{reaction_extra}) '
        'SELECT "bucket", COUNT(DISTINCT "person") AS "n" FROM "people" GROUP BY "bucket" '
        'UNION ALL SELECT NULL, COUNT(DISTINCT "person") FROM "people"',
        start,
        PUBLISHED,
        PUBLISHED,
        start,
        end,
        *post_args,
        start,
        PUBLISHED,
        start,
        end,
        *story_args,
        start,
        PUBLISHED,
        start,
        end,
        *story_args,
        start,
        start,
        end,
        *reaction_args,
    )
    total = 0
    by_bucket: dict[str, int] = {}
    first = start.date()
    for row in rows:
        if row["bucket"] is None:
            total = int(row["n"])
        else:
            label = (first + timedelta(days=int(row["bucket"]) * step)).isoformat()
            by_bucket[label] = int(row["n"])
    return Distinct(total, by_bucket)


async def new_members(community_id: int | None, start: datetime, end: datetime) -> Daily:
    """Accounts created in the period (site-wide), or people who joined the community then."""
    if community_id is None:
        return await _daily(
            f'SELECT {days_since("u.created_at")} AS "day", COUNT(*) AS "n" FROM "kindred_user" u '
            'WHERE u."created_at" >= {} AND u."created_at" < {} GROUP BY 1',
            start,
            [start, end],
        )
    return await _daily(
        f'SELECT {days_since("m.joined_at")} AS "day", COUNT(*) AS "n" FROM "membership" m '
        'WHERE m."community" = {} AND m."joined_at" >= {} AND m."joined_at" < {} GROUP BY 1',
        start,
        [community_id, start, end],
    )


async def search_misses(community_id: int | None, start: datetime, end: datetime) -> Misses:
    """Searches that found nothing in the period: how many, and the most frequent."""
    extra, args = _where('m."community"', community_id)
    rows = await db.raw(
        f'SELECT m."query", {days_since("m.created_at")} AS "day", COUNT(*) AS "n" '
        'FROM "search_miss" m '
        f'WHERE m."created_at" >= {{}} AND m."created_at" < {{}}{extra} GROUP BY 1, 2',
        start,
        start,
        end,
        *args,
    )
    by_query: Counter[str] = Counter()
    by_day: Counter[str] = Counter()
    for row in rows:
        by_query[row["query"]] += int(row["n"])
        by_day[_day_label(start, row["day"])] += int(row["n"])
    top = sorted(by_query.items(), key=lambda item: (-item[1], item[0]))[:TOP_SEARCHES]
    return Misses(sum(by_query.values()), len(by_query), top, dict(by_day))


async def moderation_items(community_id: int | None, start: datetime, end: datetime) -> Items:
    """Review items opened in the period, and the median time to their decision."""
    extra, args = _where('i."community"', community_id)
    rows = await db.raw(
        f'SELECT {days_since("i.created_at")} AS "day", '
        f'{seconds_between("i.resolved_at", "i.created_at")} AS "decision_seconds" '
        'FROM "moderation_item" i '
        f'WHERE i."created_at" >= {{}} AND i."created_at" < {{}}{extra}',
        start,
        start,
        end,
        *args,
    )
    by_day: Counter[str] = Counter(_day_label(start, row["day"]) for row in rows)
    times = [
        value for value in (_seconds(row["decision_seconds"]) for row in rows) if value is not None
    ]
    return Items(len(rows), dict(by_day), len(times), median(times))


async def decisions(community_id: int | None, start: datetime, end: datetime) -> dict[str, int]:
    """Moderators' decisions in the period, by kind (approve, hide, remove, …), from the log."""
    extra, args = _where('a."community_id"', community_id)
    marks = ", ".join("{}" for _ in DECISIONS)
    kinds = ", ".join("{}" for _ in DECISION_KINDS)
    rows = await db.raw(
        'SELECT a."action", COUNT(*) AS "n" FROM "moderation_audit" a '
        f'WHERE a."actor_id" IS NOT NULL AND a."action" IN ({marks}) AND a."kind" IN ({kinds}) '
        f'AND a."created_at" >= {{}} AND a."created_at" < {{}}{extra} GROUP BY a."action"',
        *DECISIONS,
        *DECISION_KINDS,
        start,
        end,
        *args,
    )
    found = {row["action"]: int(row["n"]) for row in rows}
    return {action: found[action] for action in DECISIONS if found.get(action)}


async def flag_outcomes(community_id: int | None, start: datetime, end: datetime) -> Flags:
    """Members' flags resolved in the period: upheld (the moderator acted) or dismissed."""
    extra, args = _where('i."community"', community_id)
    rows = await db.raw(
        'SELECT f."state", COUNT(*) AS "n" FROM "moderation_flag" f '
        'JOIN "moderation_item" i ON i."id" = f."item" WHERE f."state" IN ({}, {}) '
        f'AND f."resolved_at" >= {{}} AND f."resolved_at" < {{}}{extra} GROUP BY f."state"',
        "upheld",
        "dismissed",
        start,
        end,
        *args,
    )
    counts = {row["state"]: int(row["n"]) for row in rows}
    return Flags(counts.get("upheld", 0), counts.get("dismissed", 0))


async def crisis_escalations(community_id: int | None, start: datetime, end: datetime) -> Crisis:
    """Crisis items opened in the period (screening's escalations and crisis flags), and the
    median time to a moderator's first action on each (any entry of theirs in the log)."""
    extra, args = _where('i."community"', community_id)
    first_action = seconds_between('a."first_at"', 'i."created_at"')
    rows = await db.raw(
        f'SELECT {first_action} AS "first_seconds" FROM "moderation_item" i LEFT JOIN ('
        'SELECT x."item_id", MIN(x."created_at") AS "first_at" FROM "moderation_audit" x '
        'JOIN "moderation_item" y ON y."id" = x."item_id" WHERE x."actor_id" IS NOT NULL '
        'AND y."reasons" LIKE {} AND y."created_at" >= {} AND y."created_at" < {} '
        'GROUP BY x."item_id") a ON a."item_id" = i."id" '
        f'WHERE i."reasons" LIKE {{}} AND i."created_at" >= {{}} AND i."created_at" < {{}}{extra}',
        "%,crisis,%",
        start,
        end,
        "%,crisis,%",
        start,
        end,
        *args,
    )
    times = [
        value for value in (_seconds(row["first_seconds"]) for row in rows) if value is not None
    ]
    return Crisis(len(rows), len(times), median(times))


# The dashboard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One headline number. `kind`: count, share (0 to 1) or seconds; None means no data."""

    key: str
    label: str
    value: float | int | None
    kind: str = "count"
    group: str = ""


@dataclass(frozen=True)
class Series:
    """The data of one chart: labelled values, in order. `time`: labels are days or weeks."""

    key: str
    title: str
    label_heading: str
    value_heading: str
    points: tuple[tuple[str, int], ...]
    time: bool = True
    description: str = ""

    @property
    def total(self) -> int:
        return sum(value for _, value in self.points)


@dataclass(frozen=True)
class Dashboard:
    period: Period
    community: dict[str, Any] | None
    figures: tuple[Figure, ...]
    series: tuple[Series, ...]
    top_searches: tuple[tuple[str, int], ...] = field(default=())

    def figure(self, key: str) -> Figure:
        return next(figure for figure in self.figures if figure.key == key)

    def get_series(self, key: str) -> Series:
        for series in self.series:
            if series.key == key:
                return series
        raise NotFound("There is no such series on this dashboard.")


async def ensure_can_see(viewer: Viewer, slug: Any | None) -> dict[str, Any] | None:
    """A community's dashboard is for its moderators and the admins; the site's for admins.
    Anyone else (members included) is told it doesn't exist."""
    ensure_signed_in(viewer)
    if slug is None:
        if not viewer.is_admin:
            raise NotFound()
        return None
    from forum.communities import find_community

    community = ensure_can_view_community(viewer, await find_community(slug))
    if not moderates(viewer, community["id"]):
        raise NotFound()
    return community


def _counts(period: Period, by_day: dict[str, int]) -> tuple[tuple[str, int], ...]:
    totals = dict.fromkeys(period.labels(), 0)
    for day, count in by_day.items():
        label = period.bucket(day)
        if label in totals:
            totals[label] += count
    return tuple(totals.items())


def _buckets(period: Period, by_bucket: dict[str, int]) -> tuple[tuple[str, int], ...]:
    counts = dict.fromkeys(period.labels(), 0)
    counts.update((label, n) for label, n in by_bucket.items() if label in counts)
    return tuple(counts.items())


async def compute(community_id: int | None, period: Period) -> dict[str, Any]:
    """Every metric for a community (or the site) over a period, unchecked: for the dashboard,
    the API and the benchmark. The queries run side by side on the engine's pool."""
    start, end = period.start, period.end
    names = (
        "active",
        "new",
        "threads",
        "replies",
        "answers",
        "stories",
        "reactions",
        "misses",
        "items",
        "decisions",
        "flags",
        "crisis",
    )
    results = await asyncio.gather(
        active_members(community_id, start, end, 7 if period.by_week else 1),
        new_members(community_id, start, end),
        threads_started(community_id, start, end),
        replies(community_id, start, end),
        answers(community_id, start, end),
        stories_published(community_id, start, end),
        reactions(community_id, start, end),
        search_misses(community_id, start, end),
        moderation_items(community_id, start, end),
        decisions(community_id, start, end),
        flag_outcomes(community_id, start, end),
        crisis_escalations(community_id, start, end),
    )
    return dict(zip(names, results, strict=True))


def build(period: Period, community: dict[str, Any] | None, metrics: dict[str, Any]) -> Dashboard:
    """The figures and chart series of a dashboard, from `compute`'s metrics."""
    active: Distinct = metrics["active"]
    answered: Answers = metrics["answers"]
    misses: Misses = metrics["misses"]
    items: Items = metrics["items"]
    flags: Flags = metrics["flags"]
    crisis: Crisis = metrics["crisis"]
    decided: dict[str, int] = metrics["decisions"]
    new_label = "New members" if community else "New accounts"
    figures = (
        Figure("active_members", "Active members", active.total, group="People"),
        Figure("new_members", new_label, metrics["new"].total, group="People"),
        Figure("threads", "Conversations started", metrics["threads"].total, group="Activity"),
        Figure("replies", "Replies", metrics["replies"].total, group="Activity"),
        Figure("stories", "Stories published", metrics["stories"].total, group="Activity"),
        Figure("reactions", "Reactions", metrics["reactions"].total, group="Activity"),
        Figure(
            "questions_replied_share",
            "Questions that got a reply",
            answered.replies.share,
            "share",
            "Answers",
        ),
        Figure(
            "median_first_reply_seconds",
            "Median time to first reply",
            answered.replies.median_seconds,
            "seconds",
            "Answers",
        ),
        Figure(
            "clinician_questions",
            "Ask-a-clinician questions",
            answered.clinicians.questions,
            group="Answers",
        ),
        Figure(
            "clinician_answered_share",
            "Answered by a verified clinician",
            answered.clinicians.share,
            "share",
            "Answers",
        ),
        Figure(
            "median_clinician_answer_seconds",
            "Median time to a clinician's answer",
            answered.clinicians.median_seconds,
            "seconds",
            "Answers",
        ),
        Figure("search_misses", "Searches that found nothing", misses.total, group="Search"),
        Figure(
            "search_misses_distinct",
            "Different searches that found nothing",
            misses.distinct,
            group="Search",
        ),
        Figure("moderation_items", "Items for review", items.total, group="Moderation"),
        Figure(
            "median_decision_seconds",
            "Median time to a decision",
            items.median_decision_seconds,
            "seconds",
            "Moderation",
        ),
        Figure("decisions", "Decisions", sum(decided.values()), group="Moderation"),
        Figure("upheld_flag_rate", "Flags upheld", flags.upheld_rate, "share", "Moderation"),
        Figure("crisis_escalations", "Crisis escalations", crisis.escalations, group="Moderation"),
        Figure(
            "crisis_awaiting", "Crisis items not yet acted on", crisis.awaiting, group="Moderation"
        ),
        Figure(
            "median_crisis_first_action_seconds",
            "Median time to a moderator's first action on a crisis",
            crisis.median_first_action_seconds,
            "seconds",
            "Moderation",
        ),
    )
    bucket = period.bucket_name
    per = "week" if period.by_week else "day"
    series = (
        Series(
            "active_members",
            f"Active members per {per}",
            bucket,
            "Active members",
            _buckets(period, active.by_bucket),
        ),
        Series(
            "new_members",
            f"{new_label} per {per}",
            bucket,
            new_label,
            _counts(period, metrics["new"].by_day),
        ),
        Series(
            "threads",
            f"Conversations started per {per}",
            bucket,
            "Conversations",
            _counts(period, metrics["threads"].by_day),
        ),
        Series(
            "replies",
            f"Replies per {per}",
            bucket,
            "Replies",
            _counts(period, metrics["replies"].by_day),
        ),
        Series(
            "stories",
            f"Stories published per {per}",
            bucket,
            "Stories",
            _counts(period, metrics["stories"].by_day),
        ),
        Series(
            "reactions",
            f"Reactions per {per}",
            bucket,
            "Reactions",
            _counts(period, metrics["reactions"].by_day),
        ),
        Series(
            "search_misses",
            f"Searches that found nothing per {per}",
            bucket,
            "Searches",
            _counts(period, misses.by_day),
        ),
        Series(
            "top_searches",
            "Most frequent searches that found nothing",
            "Search",
            "Times searched",
            tuple(misses.top),
            time=False,
        ),
        Series(
            "moderation_items",
            f"Items for review per {per}",
            bucket,
            "Items",
            _counts(period, items.by_day),
        ),
        Series(
            "decisions",
            "Moderators' decisions by kind",
            "Decision",
            "Decisions",
            tuple(decided.items()),
            time=False,
        ),
    )
    return Dashboard(period, community, figures, series, tuple(misses.top))


async def dashboard(viewer: Viewer, period: Period, slug: Any | None = None) -> Dashboard:
    """The health dashboard of a community (its moderators, admins) or of the site (admins)."""
    community = await ensure_can_see(viewer, slug)
    metrics = await compute(community["id"] if community else None, period)
    return build(period, community, metrics)


def figure_text(figure: Figure) -> str:
    """A figure as people read it: '12', '75%', '2 h 5 min', or 'no data'."""
    if figure.value is None:
        return "no data"
    if figure.kind == "share":
        return f"{figure.value * 100:.0f}%"
    if figure.kind == "seconds":
        return duration(float(figure.value))
    return f"{int(figure.value):,}"


def duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 5 min', '2 d 4 h'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def figure_csv_value(figure: Figure) -> str:
    """A figure in the CSV: plain numbers (shares as fractions, times in seconds)."""
    if figure.value is None:
        return ""
    if figure.kind == "share":
        return f"{figure.value:.4f}"
    if figure.kind == "seconds":
        return f"{float(figure.value):.0f}"
    return str(int(figure.value))
