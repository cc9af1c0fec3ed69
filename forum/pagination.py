"""One shape for every list: items plus where we are in them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def as_json(self, items: list[Any] | None = None) -> dict[str, Any]:
        return {
            "items": self.items if items is None else items,
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
        }


def offset_for(page: int, per_page: int) -> int:
    return (page - 1) * per_page
