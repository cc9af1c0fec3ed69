"""How long screen() takes on a typical 1 KB post: median and p99, overall and per rule family.

    .venv/bin/python bench/screen.py [--rounds 2000]

Prints wall-clock median and p99 per kind of post and overall, the same overall in CPU time
(thread time, which leaves out waiting for a core on a busy machine), and per rule family.

The posts are about 1,000 characters of ordinary patient writing, some with a claim, a phone
number or a link in them, so every family's slower path is exercised. Rules are compiled once
before timing (as the app does at its first post).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation import Draft, Standing, default_rules, matchers, screen

BASE = (
    "Two years since my diagnosis today, and I wanted to say thank you to everyone here. "
    "The first months were hard: I was exhausted all the time, my bloods were all over the "
    "place and I cried in the car after most appointments. The nurse showed me how to rotate "
    "injection sites, the dietitian helped me plan small meals, and my GP finally listened "
    "when I said the fatigue was not just stress. Some things that helped me, in case they "
    "help you: keep a notebook of questions for each appointment; ask for copies of your "
    "results; find one person at the clinic you can email; and be kind to yourself on the "
    "bad days. I still have flares, and winter is the worst, but I can work again and I "
    "walked 5 km with my sister last weekend. "
)
VARIANTS = {
    "plain": "",
    "claim": "My aunt swears cinnamon cured her diabetes, but my doctor explained why it doesn't. ",
    "phone": "If anyone local wants to meet, call me on 07700 900123. ",
    "link": "The NHS page https://www.nhs.uk/conditions/coeliac-disease/ explains it well. ",
    "crisis": "Some nights I can't go on, and I don't know who to tell. ",
}
AUTHOR = Standing(role="member", trust_level=1, account_age_days=30, published_posts=12)


def post(variant: str) -> str:
    text = VARIANTS[variant] + BASE
    while len(text) < 1000:
        text += BASE
    return text[:1024]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(function, rounds: int, clock=time.perf_counter) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        start = clock()
        function()
        samples.append((clock() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    rules = default_rules()
    posts = {name: post(name) for name in VARIANTS}
    for text in posts.values():  # warm up
        screen(Draft(text=text, author=AUTHOR), rules)
    print(f"screen() on a {len(posts['plain'])}-character post, {rounds} rounds each (ms)")
    print(f"{'post':<10}{'median':>9}{'p99':>9}")
    everything = []
    for name, text in posts.items():
        samples = timed(lambda text=text: screen(Draft(text=text, author=AUTHOR), rules), rounds)
        everything += samples
        print(f"{name:<10}{statistics.median(samples):>9.3f}{percentile(samples, 0.99):>9.3f}")
    print(f"{'all':<10}{statistics.median(everything):>9.3f}{percentile(everything, 0.99):>9.3f}")
    # CPU time of this thread: the same work without time lost to other processes on a busy
    # machine (wall-clock p99 on a loaded 2-core box is mostly waiting for a core).
    cpu = []
    for text in posts.values():
        cpu += timed(
            lambda text=text: screen(Draft(text=text, author=AUTHOR), rules),
            rounds,
            clock=time.thread_time,
        )
    print(f"{'all (CPU)':<10}{statistics.median(cpu):>9.3f}{percentile(cpu, 0.99):>9.3f}")
    print()
    print("per family, on the 'claim' post (ms)")
    text = posts["claim"]
    lowered = matchers.normalize(text)
    families = {
        "misinformation": lambda: matchers.misinformation(lowered, rules),
        "crisis": lambda: matchers.crisis(lowered, rules),
        "phi": lambda: matchers.phi(text, rules),
        "watched_word": lambda: matchers.watched_words(text, rules),
        "link": lambda: matchers.links(text, rules),
        "trust": lambda: matchers.trust_limits(text, AUTHOR, rules),
    }
    print(f"{'family':<16}{'median':>9}{'p99':>9}")
    for name, function in families.items():
        samples = timed(function, rounds)
        print(f"{name:<16}{statistics.median(samples):>9.3f}{percentile(samples, 0.99):>9.3f}")


if __name__ == "__main__":
    main()
