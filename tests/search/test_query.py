"""Reading the search box: every operator, and nonsense that never raises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from search.query import MAX_PARTS, ParsedQuery, parse


def test_plain_words_are_lowercased_and_deduplicated():
    assert parse("Gluten  free GLUTEN").terms == ("gluten", "free")


def test_a_quoted_phrase_keeps_its_words_in_order():
    parsed = parse('travel "gluten free restaurants" abroad')
    assert parsed.terms == ("travel", "abroad")
    assert parsed.phrases == (("gluten", "free", "restaurants"),)


def test_an_unclosed_quote_still_reads_as_a_phrase():
    assert parse('"blood pressure').phrases == (("blood", "pressure"),)


def test_a_one_word_phrase_is_a_word():
    assert parse('"insulin"').terms == ("insulin",)


def test_a_minus_excludes_a_word_or_a_phrase():
    parsed = parse('bread -wheat -"soy sauce"')
    assert parsed.terms == ("bread",)
    assert parsed.excluded_terms == ("wheat",)
    assert parsed.excluded_phrases == (("soy", "sauce"),)


def test_a_hyphen_inside_a_word_is_not_an_exclusion():
    assert parse("long-covid").terms == ("long", "covid")
    assert parse("long-covid").excluded_terms == ()


def test_community_author_and_kind_filters():
    parsed = parse("fatigue community:Long-Covid author:@Grace_Mod kind:stories")
    assert parsed.terms == ("fatigue",)
    assert parsed.community == "long-covid"
    assert parsed.author == "grace_mod"
    assert parsed.kind == "story"
    assert parse("kind:thread").kind == "thread"


def test_is_expert_answered_and_tag_filters():
    parsed = parse("dosage is:expert-answered tag:ask_clinician")
    assert parsed.expert_answered and parsed.tag == "ask_clinician"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("after:2026-03-05", datetime(2026, 3, 5, tzinfo=UTC)),
        ("after:2026-03", datetime(2026, 3, 1, tzinfo=UTC)),
        ("after:2026", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_dates_may_be_a_day_a_month_or_a_year(text, expected):
    assert parse(text).after == expected


def test_before_and_after_together():
    parsed = parse("before:2026-06-30 after:2026-01-01 scan")
    assert parsed.after == datetime(2026, 1, 1, tzinfo=UTC)
    assert parsed.before == datetime(2026, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["after:yesterday", "before:2026-13-01", "after:2026-02-30", "before:1066", "kind:video",
     "is:happy", "community:<script>", "author:maria!", "after:"],
)  # fmt: skip
def test_a_filter_it_cannot_use_becomes_a_note_not_an_error(text):
    parsed = parse(text)
    assert parsed.notes
    assert parsed.after is None and parsed.before is None and parsed.kind is None


def test_an_unknown_prefix_is_searched_as_words():
    assert parse("covid:19 vitamin:D").terms == ("covid", "19", "vitamin", "d")


@pytest.mark.parametrize(
    "raw",
    [None, 42, "", "   ", '"', '""', "-", "--", ":", "-:", '-""', "\x00\x01", "a" * 5000,
     '"' * 101, "is:", "((()))", "<img src=x onerror=alert(1)>", "🙂 emoji", "日本語 検索"],
)  # fmt: skip
def test_nothing_typed_makes_the_parser_raise(raw):
    parsed = parse(raw)
    assert isinstance(parsed, ParsedQuery)


def test_only_filters_is_not_empty_but_has_no_text():
    parsed = parse("author:maria")
    assert not parsed.is_empty and not parsed.has_text
    assert parse("  ").is_empty


def test_long_queries_are_cut_to_a_bounded_number_of_parts():
    parsed = parse(" ".join(f"word{n}" for n in range(40)))
    assert len(parsed.terms) == MAX_PARTS and parsed.notes


def test_the_query_reads_back_in_the_same_syntax():
    text = 'travel "gluten free" -wheat community:celiac is:expert-answered after:2026-01-01'
    assert parse(parse(text).text()) == parse(text)
