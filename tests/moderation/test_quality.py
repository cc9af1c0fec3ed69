"""The labelled set: at least 150 texts, and each rule family's precision and recall on it stay
where docs/moderation.md says (bench/screen_quality.py prints the full table)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "screen_quality.py"


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("screen_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_labelled_set_has_150_or_more_texts_with_hard_negatives(quality):
    cases = quality.load_cases()
    assert len(cases) >= 150
    assert sum(1 for case in cases if not case["families"]) >= 75
    for family in quality.FAMILIES:
        assert any(family in case["families"] for case in cases), family


@pytest.mark.parametrize("family", ["misinformation", "phi", "crisis", "watched_word", "link"])
def test_each_family_keeps_its_precision_and_recall(quality, family):
    scores = quality.score(quality.load_cases())[family]
    assert scores["precision"] >= 0.9, scores
    assert scores["recall"] >= 0.9, scores
