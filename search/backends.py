"""Choosing the index backend from settings' values (the app and the CLI call this)."""

from __future__ import annotations

from pathlib import Path

from search.index import SearchIndex


def create_index(backend: str, directory: Path, build_procs: int = 1) -> SearchIndex:
    """The index for KINDRED_SEARCH: "whoosh" (files in `directory`) or "postgres"."""
    if backend == "postgres":
        from search.postgres_index import PostgresIndex

        return PostgresIndex()
    if backend == "whoosh":
        from search.whoosh_index import WhooshIndex

        return WhooshIndex(directory, build_procs=build_procs)
    raise ValueError(f"unknown search backend {backend!r}")
