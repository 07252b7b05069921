"""Shared by the validation modules: accepted boolean text, the uncoercible share, the
working column names of a checked table, value formats, small helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

#: Text accepted for booleans (compared case-insensitively, blanks trimmed).
TRUE_TEXT = ("true", "1", "yes")
FALSE_TEXT = ("false", "0", "no")

#: Share of a column's present values that may be unreadable before the column, not
#: the rows, is the problem.
UNCOERCIBLE_SHARE = 0.5

# Working columns of the checked table. Contract names never start with "__".
_REASON = "__reason"
_OK = "__ok"
_RAW = "__raw_"  # + column: the source text of a value that could not be read

_FORMATS = {
    "int64": "whole numbers, e.g. 3",
    "float64": "decimal numbers, e.g. 12.50",
    "bool": "true/false, 1/0 or yes/no",
    "timestamp": "ISO timestamps, e.g. 2024-01-02 10:00:00 or 2024-01-02T10:00:00",
    "date": "ISO dates, e.g. 2024-01-02",
    "string": "text",
}


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
