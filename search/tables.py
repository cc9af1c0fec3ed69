"""The search package's tables: the outbox, the vocabulary for "did you mean", and the record
of searches that found nothing. (The PostgreSQL backend's search_document table is created by
a raw migration, on PostgreSQL only, so it has no Table class here.)"""

from __future__ import annotations

from piccolo.columns import BigSerial, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from forum.tables import Community


class SearchOutbox(Table, tablename="search_outbox"):
    """One pending index change. The writer deletes rows once the index holds them."""

    id = BigSerial(primary_key=True)
    kind = Varchar(length=16)
    object_id = Integer()
    op = Varchar(length=16, default="upsert")
    created_at = Timestamptz()


class SearchWord(Table, tablename="search_word"):
    """A word seen in indexed content, for typo suggestions. Unique by a unique index."""

    word = Varchar(length=40)


class SearchMiss(Table, tablename="search_miss"):
    """A search that found nothing: for the community manager's insights page."""

    query = Varchar(length=200)
    community = ForeignKey(Community, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(index=True)
