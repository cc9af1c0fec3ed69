"""The search outbox: index changes written in the same transaction as the content."""

from __future__ import annotations

from piccolo.columns import BigSerial, Integer, Timestamptz, Varchar
from piccolo.table import Table


class SearchOutbox(Table, tablename="search_outbox"):
    """One pending index change. The writer deletes rows once the index holds them."""

    id = BigSerial(primary_key=True)
    kind = Varchar(length=16)
    object_id = Integer()
    op = Varchar(length=16, default="upsert")
    created_at = Timestamptz()
