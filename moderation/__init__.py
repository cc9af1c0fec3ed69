"""Moderation: screening at post time, member flags, the review queue, trust and the audit log.

`screen(draft) -> Verdict` is pure (moderation.screening); the services around it (records,
flags, queue, decisions, trust, audit) keep their state in moderation.tables.
"""

from moderation.rulebook import RuleSet, default_rules, load_rules
from moderation.screening import Draft, Hit, Standing, Verdict, redact_phi, screen

__all__ = [
    "Draft",
    "Hit",
    "RuleSet",
    "Standing",
    "Verdict",
    "default_rules",
    "load_rules",
    "redact_phi",
    "screen",
]
