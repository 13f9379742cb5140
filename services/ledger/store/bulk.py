"""Whole-batch SQL: one statement per table, its rows passed as one JSON array.

A batch of 500 events costs a dozen round trips, not thousands. Rows travel as a single JSON
text (``[[v1, v2, …], …]``, decimals and times as strings) that Postgres unpacks with
``jsonb_array_elements``: encoding it is one call into the C JSON encoder, where typed
arrays would cost the driver several checks per value (measured: about half the CPU).
Decimals go as their exact text, so nothing goes through a float.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from sqlalchemy import TextClause, text

R = TypeVar("R")
Value = object
JSONB = "jsonb"


def _jsonable(value: object) -> str:
    """Encode what the C JSON encoder does not know: decimals and times, exactly, as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} to Postgres")


def rows_json(rows: Iterable[tuple[Value, ...]]) -> str:
    """Return ``rows`` as one JSON array of arrays."""
    return json.dumps(list(rows), default=_jsonable, separators=(",", ":"))


def _field(index: int, kind: str) -> str:
    """Return the SQL that reads field ``index`` of row ``r`` as ``kind``."""
    if kind == JSONB:
        return f"r->{index}"
    if kind == "text":
        return f"r->>{index}"
    return f"(r->>{index})::{kind}"


@dataclass(frozen=True)
class Table(Generic[R]):
    """How rows of one kind map onto a table's columns (name, Postgres type)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    values: Callable[[R], tuple[Value, ...]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def rows_select(self, param: str = "rows") -> str:
        """Return ``SELECT <typed fields> FROM jsonb_array_elements(:param) r``."""
        fields = ", ".join(_field(i, kind) for i, (_, kind) in enumerate(self.columns))
        source = f"jsonb_array_elements(CAST(:{param} AS jsonb))"
        return f"SELECT {fields} FROM {source} AS r"  # noqa: S608 - identifiers are ours

    def params(self, rows: Iterable[R], param: str = "rows") -> dict[str, str]:
        """Return the statement parameter ``param`` carrying ``rows``."""
        return {param: rows_json(self.values(row) for row in rows)}

    def insert_sql(self, tail: str = "ON CONFLICT DO NOTHING", param: str = "rows") -> str:
        """Return an INSERT of every row; duplicates of a key are skipped by default."""
        names = ", ".join(self.names)
        # Identifiers come from this service's table specs; every value is a bound parameter.
        return f"INSERT INTO {self.name} ({names}) {self.rows_select(param)} {tail}"

    def upsert_sql(self, param: str = "rows") -> str:
        """Return an INSERT that replaces every non-key column of an existing row."""
        updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in self.names if n not in self.key)
        tail = f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}"
        return self.insert_sql(tail, param)

    def insert(self, tail: str = "ON CONFLICT DO NOTHING") -> TextClause:
        """Return `insert_sql` as a statement."""
        return text(self.insert_sql(tail))

    def select_keys(self) -> TextClause:
        """Return a SELECT of the rows whose keys are given (see `key_params`)."""
        kinds = dict(self.columns)
        fields = ", ".join(f"{_field(i, kinds[name])} AS {name}" for i, name in enumerate(self.key))
        keys = ", ".join(self.key)
        columns = ", ".join("t." + name for name in self.names)
        return text(
            f"SELECT {columns} FROM {self.name} t JOIN "  # noqa: S608 - identifiers are ours
            f"(SELECT {fields} FROM jsonb_array_elements(CAST(:keys AS jsonb)) AS r) AS k "
            f"USING ({keys})"
        )

    def key_params(self, keys: Iterable[tuple[str, ...]]) -> dict[str, str]:
        """Return the parameters of `select_keys`."""
        return {"keys": rows_json(keys)}
