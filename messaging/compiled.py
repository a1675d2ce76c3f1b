"""Querysets compiled to SQL once, then run with new values where the ORM can't go.

The event stream reads on an async psycopg pool, without Django's connection (messaging/live.py),
yet it must apply exactly the same access rule as every page. Rather than typing that rule again
as SQL (a copy that drifted once: typing notices crossed blocks), the stream's queries are built
from the querysets themselves, with placeholder values, and compiled when first used; each run
swaps the real values in.
"""

from collections.abc import Callable
from itertools import count

from django.db.models import QuerySet

# Stand-ins for the values a query is built with: large negative numbers no real id or constant
# in our queries ever takes, so each can be found again among the compiled parameters.
_SENTINELS = count(-7_361_000_000_001, -1)


class CompiledQuery:
    """`build(**names)` returns the queryset; `CompiledQuery(build, "user", "after")` compiles it
    once and `.bind(user=3, after=10)` gives (sql, params) for a psycopg cursor."""

    def __init__(self, build: Callable[..., QuerySet], *names: str) -> None:
        self._build = build
        self._names = names
        self._sql: str | None = None
        self._slots: list[str | None] = []
        self._constants: list = []

    def _compile(self) -> None:
        sentinels = {name: next(_SENTINELS) for name in self._names}
        sql, params = self._build(**sentinels).query.sql_with_params()
        by_value = {value: name for name, value in sentinels.items()}
        self._slots = [by_value.get(param) if isinstance(param, int) else None for param in params]
        missing = set(self._names) - set(self._slots)
        if missing:  # a value the query never used: the build function ignores an argument
            raise ValueError(f"{', '.join(sorted(missing))} not in the compiled query")
        self._constants = list(params)
        self._sql = sql

    @property
    def sql(self) -> str:
        if self._sql is None:
            self._compile()
        return self._sql

    def named_sql(self) -> str:
        """The SQL with `%(name)s` placeholders, to embed in a larger statement that binds by
        name (only for queries whose every parameter is one of the names)."""
        parts = self.sql.split("%s")  # compiles on first use, filling the slots
        if None in self._slots:
            raise ValueError("the compiled query has constant parameters; use bind()")
        named = [f"%({slot})s" for slot in self._slots] + [""]
        return "".join(part + name for part, name in zip(parts, named, strict=True))

    def bind(self, **values) -> tuple[str, list]:
        sql = self.sql
        params = [
            values[slot] if slot is not None else constant
            for slot, constant in zip(self._slots, self._constants, strict=True)
        ]
        return sql, params
