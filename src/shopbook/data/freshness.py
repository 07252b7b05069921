"""How fresh the data are: each table's first and last day, and whether a window fits them.

A table's time is its event column as the contract names it: the required
``timestamp``/``date`` column that may not lie in the future (:data:`TIME_COLUMNS`:
``orders.order_ts``, ``sessions.session_ts``, ``assignments.assigned_ts``,
``inventory.date``, ``marketing_spend.date``, ``offers.sent_ts``). Tables without one
(customers, products, order items, promotions — whose dates may be planned ahead) have no
freshness of their own.

:func:`data_spans` finds each table's first and last day in the engine (one aggregate per
table, on the rows as stored); :func:`assess` compares a report's window (its ``start`` /
``end`` parameters) and the data's age with them and says, in a sentence, why a report is
``stale`` (its window lies partly outside the data, or the data are older than allowed)
or ``empty`` (its window lies entirely outside the data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shopbook.data.contract import TABLES

#: Each contract table's time column: its required date/timestamp column that may not lie
#: in the future (the time an event happened or a snapshot was taken).
TIME_COLUMNS: dict[str, str] = {
    t.name: next(
        c.name
        for c in t.columns
        if c.dtype in ("timestamp", "date") and c.required and c.not_future
    )
    for t in TABLES.values()
    if any(c.dtype in ("timestamp", "date") and c.required and c.not_future for c in t.columns)
}

#: Report statuses of :func:`assess`, in the order the run index lists them.
OK, STALE, EMPTY = "ok", "stale", "empty"


@dataclass(frozen=True)
class Span:
    """The first and last day of a table's time column (``None`` when it has no dated rows)."""

    table: str
    column: str
    first: dt.date | None
    last: dt.date | None


def _as_date(value: Any) -> dt.date | None:
    """A date from what an engine returns for min/max (datetime, date, Timestamp, NaT)."""
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _day_expr(column: Any) -> Any:
    """The day of a time column as an ibis date; text (CSV) is read by its first 10 characters.

    Stored text is typed by the validator, which knows the dataset's time zone; the day of
    an ISO text (``2024-12-31T23:30:00+08:00``) is its leading ``YYYY-MM-DD``, which is the
    day a reader of the data sees. Text that does not start with one is left out.
    """
    dtype = column.type()
    if dtype.is_date():
        return column
    if dtype.is_timestamp():
        return column.date()
    return column.cast("string").substr(0, 10).try_cast("date")


def data_spans(source: Any, tables: Iterable[str] | None = None) -> dict[str, Span]:
    """First and last day of each table's time column, computed in the engine.

    Parameters
    ----------
    source
        A :class:`~shopbook.data.sources.Source` (rows as stored) or a
        :class:`~shopbook.data.validation.ValidationReport` (the kept rows).
    tables
        The tables to look at (default: every table of the source that has a time
        column, :data:`TIME_COLUMNS`); absent ones are left out.

    Returns
    -------
    dict
        ``{table: Span}`` in contract order. Days after tomorrow (UTC) are left out:
        validation rejects them as in the future (the one day of slack covers the
        dataset's time zone).
    """
    kept = getattr(source, "kept", None)
    present = list(source.tables) if kept is not None else source.tables()
    wanted = set(TIME_COLUMNS) if tables is None else set(tables)
    horizon = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    out: dict[str, Span] = {}
    for name in TABLES:
        if name not in wanted or name not in TIME_COLUMNS or name not in present:
            continue
        t = kept(name) if kept is not None else source.table(name)
        column = TIME_COLUMNS[name]
        if column not in t.columns:
            continue  # a missing column is validation's error, not freshness's
        days = t.select(day=_day_expr(t[column]))
        days = days.filter(days.day <= horizon)
        row = days.aggregate(first=days.day.min(), last=days.day.max()).execute().iloc[0]
        out[name] = Span(name, column, _as_date(row["first"]), _as_date(row["last"]))
    return out


# ------------------------------------------------------------------ assessment


def parse_day(value: Any) -> dt.date | None:
    """A window bound: an ISO date (``2024-12-16``) or ``None`` for empty / unreadable text."""
    if isinstance(value, dt.date):
        return value if not isinstance(value, dt.datetime) else value.date()
    text = str(value or "").strip()
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None  # the notebook itself says what is wrong with it


def window_text(start: dt.date | None, end: dt.date | None) -> str:
    """``2024-12-16..2024-12-22``, ``up to 2024-12-22`` or ``from 2024-12-16``."""
    if start and end:
        return f"{start.isoformat()}..{end.isoformat()}"
    return f"up to {end.isoformat()}" if end else f"from {start.isoformat() if start else '?'}"


@dataclass(frozen=True)
class Freshness:
    """Whether a report's window and its data's age fit the data (:func:`assess`).

    ``status`` is ``ok``, ``stale`` or ``empty``; ``reasons`` are sentences saying why
    (empty when ``ok``); ``data_end`` is the last day of each table the report reads.
    """

    status: str = OK
    reasons: tuple[str, ...] = ()
    data_end: dict[str, str] = field(default_factory=dict)
    window: str | None = None

    @property
    def sentence(self) -> str:
        """The reasons as one sentence (empty when ``ok``)."""
        return "; ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        """What ``summary.json`` stores."""
        return {
            "status": self.status,
            "reasons": list(self.reasons),
            "data_end": dict(self.data_end),
            "window": self.window,
        }


def _who(tables: list[str], all_tables: list[str], verb: str) -> str:
    """``data end`` (every table of several), ``orders data end``, ``orders and sessions
    data end``."""
    if tables == all_tables and len(tables) > 1:
        return f"data {verb}"
    named = tables[0] if len(tables) == 1 else f"{', '.join(tables[:-1])} and {tables[-1]}"
    return f"{named} data {verb}"


@dataclass(frozen=True)
class _Days:
    """A table with dated rows: its first and last day."""

    table: str
    first: dt.date
    last: dt.date


#: How a window lies against one table, in the order the reasons are given:
#: ``(kind, which end of the data, wording)``.
_PLACES = (
    ("after", "end", "lies after it"),
    ("before", "start", "lies before it"),
    ("past", "end", "runs {n} past it"),
    ("early", "start", "starts before it"),
)


def _places(d: _Days, start: dt.date | None, end: dt.date | None) -> list[tuple[str, dt.date]]:
    """Where a window lies outside one table's days: ``[(kind, the day)]`` (none: inside)."""
    if start is not None and start > d.last:
        return [("after", d.last)]
    if end is not None and end < d.first:
        return [("before", d.first)]
    out = []
    if end is not None and end > d.last:
        out.append(("past", d.last))
    if start is not None and start < d.first:
        out.append(("early", d.first))
    return out


def _window_reasons(
    days: list[_Days], start: dt.date | None, end: dt.date | None
) -> tuple[list[str], set[str]]:
    """Sentences for a window outside the data, and the tables it misses entirely."""
    text = window_text(start, end)
    names = [d.table for d in days]
    found: dict[tuple[str, dt.date], list[str]] = {}
    for d in days:
        for place in _places(d, start, end):
            found.setdefault(place, []).append(d.table)
    reasons = []
    for kind, bound, wording in _PLACES:
        for (k, day), tables in sorted(found.items(), key=lambda kv: kv[0][1]):
            if k == kind:
                n = (end - day).days if end else 0
                how = wording.format(n=f"{n} day{'s' if n != 1 else ''}")
                reasons.append(f"{_who(tables, names, bound)} on {day}; the window {text} {how}")
    missed = {t for (k, _), tables in found.items() if k in ("after", "before") for t in tables}
    return reasons, missed


def _age_reasons(days: list[_Days], today: dt.date, max_age_days: int) -> list[str]:
    """Sentences for tables that end more than ``max_age_days`` before ``today``."""
    names = [d.table for d in days]
    old: dict[dt.date, list[str]] = {}
    for d in days:
        if (today - d.last).days > max_age_days:
            old.setdefault(d.last, []).append(d.table)
    return [
        f"{_who(tables, names, 'end')} on {day}, {(today - day).days} days before this run "
        f"(the job allows {max_age_days}: max_age_days)"
        for day, tables in sorted(old.items())
    ]


def assess(
    spans: Mapping[str, Span],
    start: Any = None,
    end: Any = None,
    today: dt.date | None = None,
    max_age_days: int | None = None,
    required: Iterable[str] = (),
) -> Freshness:
    """Compare a report's window and its data's age with the data's first and last days.

    Parameters
    ----------
    spans
        :func:`data_spans` of the tables the report reads.
    start, end
        The report's window (its ``start`` / ``end`` parameters, ISO dates); empty or
        ``None`` for a bound the report takes from the data, which always fits.
    today
        The day the run started (default: today, UTC), for the age.
    max_age_days
        Most days between a table's last day and ``today`` (the job's ``max_age_days``);
        ``None``: any age.
    required
        The tables the report cannot do without; the window is ``empty`` when it misses
        all of them that have a time column (all the tables when none has).

    Returns
    -------
    Freshness
        ``empty`` when the window lies entirely outside the data of the required tables,
        ``stale`` when it lies partly outside any table, misses an optional one, or a
        table is older than ``max_age_days``; else ``ok``.
    """
    days = [_Days(s.table, s.first, s.last) for s in spans.values() if s.first and s.last]
    data_end = {d.table: d.last.isoformat() for d in days}
    lo, hi = parse_day(start), parse_day(end)
    window = window_text(lo, hi) if (lo or hi) else None
    reasons, missed = _window_reasons(days, lo, hi) if window else ([], set())
    if max_age_days is not None:
        reasons += _age_reasons(days, today or dt.datetime.now(dt.UTC).date(), max_age_days)
    needed = set(required) & {d.table for d in days} or {d.table for d in days}
    status = OK
    if reasons:
        status = EMPTY if needed and missed >= needed else STALE
    return Freshness(status, tuple(reasons), data_end, window)
