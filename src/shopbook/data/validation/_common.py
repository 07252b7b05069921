"""Shared by the validation modules: accepted boolean and missing-id text, the uncoercible
share, the working column names of a checked table, value formats, the reasons a value
can be unreadable for, small helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import ibis.expr.types as ir
import pandas as pd

#: Text accepted for booleans (compared case-insensitively, blanks trimmed).
TRUE_TEXT = ("true", "1", "yes")
FALSE_TEXT = ("false", "0", "no")

#: Text that means "no value" in an identifier column (compared in lower case, blanks
#: trimmed): exports write a missing id as ``NULL``, ``N/A``, ``None``, ``-``, ``nan``…
MISSING_ID_TEXT = ("null", "none", "nan", "n/a", "na", "#n/a", "nil", "undefined", "-", "--")

#: Share of a column's present values that may be unreadable before the column, not
#: the rows, is the problem.
UNCOERCIBLE_SHARE = 0.5

# Working columns of the checked table. Contract names never start with "__".
_REASON = "__reason"
_OK = "__ok"
_RAW = "__raw_"  # + column: the source text of a value that could not be read
_WHY = "__why_"  # + column: the reason that value could not be read
_TEXT = "__text_"  # + column: the source text, while the reasons are computed

_FORMATS = {
    "int64": "whole numbers, e.g. 3",
    "float64": "decimal numbers, e.g. 12.50",
    "bool": "true/false, 1/0 or yes/no",
    "timestamp": "ISO timestamps, e.g. 2024-01-02 10:00:00, 2024-01-02T10:00:00+08:00 or "
    "2024-01-02 10:00:00 Asia/Shanghai",
    "date": "ISO dates, e.g. 2024-01-02",
    "string": "text",
}


def fence(t: ir.Table) -> ir.Table:
    """``t`` as a subquery the next step reads by column name (``Table.view()``).

    Without it ibis merges each ``mutate`` into the select below and writes every column
    it uses out in full: a rule that reads ``__reason`` twice (its test and ``__ok``)
    doubles the SQL, so a dozen rules made 200 kB of SQL for a table of 24 rows — most of
    a tiny import's time went to compiling and planning it — and at millions of rows the
    engine evaluated the repeated parts per use. A subquery is plain SQL on every engine.
    """
    return t.view()


def unparseable(column: str) -> str:
    """Reason: a present value that cannot be read as the column's type."""
    return f"unparseable {column}"


def out_of_range(column: str) -> str:
    """Reason: a number the column's type cannot hold (≥ 2^63 in an int64, inf, 1e400)."""
    return f"out of range {column}"


def ambiguous_zone(column: str) -> str:
    """Reason: a timestamp whose zone is an abbreviation (``CST``) naming several zones."""
    return f"ambiguous time zone in {column}"


def null(column: str) -> str:
    """Reason: a missing value in a non-nullable column."""
    return f"null {column}"


def _as_utc_naive(now: dt.datetime | dt.date | str | None) -> dt.datetime:
    """``now`` as a naive UTC datetime (default: the current time)."""
    if now is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def _listing(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return (
        shown + (f", … ({len(names)} in all)" if len(names) > limit else "") if names else "(none)"
    )
