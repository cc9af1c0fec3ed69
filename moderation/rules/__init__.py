"""Screening rules as data (TOML), read by moderation.rulebook; docs/moderation.md explains them."""
