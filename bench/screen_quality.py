"""Precision and recall of screen() per rule family, on the labelled set.

    .venv/bin/python bench/screen_quality.py            # all cases, then each split
    .venv/bin/python bench/screen_quality.py --misses   # also list every miss and false alarm

tests/moderation/labelled_set.jsonl holds one case a line: {"text", "families", "split"}, where
`families` lists the rule families that should fire (an empty list: nothing should) and
`split` is "dev" (rules may be tuned against it) or "test" (every third case, held out:
written before the rules were tuned and never tuned against).
The trust family depends on the author's record, not the text, and is not scored here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation import Draft, Standing, screen  # noqa: E402

LABELLED = ROOT / "tests" / "moderation" / "labelled_set.jsonl"
FAMILIES = ("misinformation", "phi", "crisis", "watched_word", "link")
# An established member, so new-member limits don't add noise to the text families.
AUTHOR = Standing(role="member", trust_level=2, account_age_days=400, published_posts=50)


def load_cases(path: Path = LABELLED) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fired(text: str) -> set[str]:
    verdict = screen(Draft(text=text, author=AUTHOR))
    return {hit.family for hit in verdict.hits} & set(FAMILIES)


def score(cases: list[dict]) -> dict[str, dict[str, float]]:
    """Per family: true and false positives, misses, precision and recall."""
    counts = {family: {"tp": 0, "fp": 0, "fn": 0, "positives": 0} for family in FAMILIES}
    for case in cases:
        expected, got = set(case["families"]), fired(case["text"])
        for family in FAMILIES:
            counts[family]["positives"] += family in expected
            if family in got and family in expected:
                counts[family]["tp"] += 1
            elif family in got:
                counts[family]["fp"] += 1
            elif family in expected:
                counts[family]["fn"] += 1
    for c in counts.values():
        c["precision"] = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        c["recall"] = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    return counts


def table(title: str, cases: list[dict]) -> str:
    lines = [
        f"{title} ({len(cases)} texts)",
        f"{'family':<16}{'positives':>10}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}",
    ]
    for family, c in score(cases).items():
        lines.append(
            f"{family:<16}{c['positives']:>10}{c['tp']:>5}{c['fp']:>5}{c['fn']:>5}"
            f"{c['precision']:>11.2f}{c['recall']:>8.2f}"
        )
    return "\n".join(lines)


def misses(cases: list[dict]) -> list[str]:
    report = []
    for case in cases:
        expected, got = set(case["families"]), fired(case["text"])
        if expected != got:
            report.append(
                f"[{case['split']}] expected {sorted(expected)} got {sorted(got)}: {case['text']!r}"
            )
    return report


def main() -> None:
    cases = load_cases()
    print(table("All", cases))
    for split in ("dev", "test"):
        print()
        print(table(f"Split {split!r}", [c for c in cases if c["split"] == split]))
    if "--misses" in sys.argv:
        print()
        print("\n".join(misses(cases)))


if __name__ == "__main__":
    main()
