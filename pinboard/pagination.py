"""Keyset (cursor) pagination: each page costs the same whatever how deep it is; no OFFSET."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

PAGE_SIZE = 25


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: int | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def parse_cursor(raw: str | None) -> int | None:
    """A cursor is the id of the last item shown; anything else means 'from the start'."""
    if raw and raw.isdigit():
        return int(raw)
    return None


def keyset_page(queryset: QuerySet, *, after: int | None, size: int = PAGE_SIZE) -> KeysetPage:
    """Items of a queryset ordered by descending id, `size` at a time, after the cursor."""
    if after is not None:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[: size + 1])
    items = rows[:size]
    next_cursor = items[-1].pk if len(rows) > size else None
    return KeysetPage(items=items, next_cursor=next_cursor)
