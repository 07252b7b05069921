"""Growth of the latest complete period, shares of the total, and the growth–share matrix.

Every frame here has a ``period`` column (the start of the period: the day, the Monday of
the week, the first of the month — what :func:`shopbook.features.sales.kpis` returns);
``column=`` names another one. Granularity is a *period* word: ``"day"``, ``"week"`` or
``"month"`` (:mod:`shopbook.features.periods`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import note
from shopbook.features.periods import normalise_period, period_end
from shopbook.i18n import _

_COMPARISONS = {
    "day": (
        ("DoD", pd.DateOffset(days=1)),
        ("WoW", pd.DateOffset(days=7)),
        ("YoY", pd.DateOffset(days=364)),
    ),
    "week": (("WoW", pd.DateOffset(weeks=1)), ("YoY", pd.DateOffset(weeks=52))),
    "month": (("MoM", pd.DateOffset(months=1)), ("YoY", pd.DateOffset(months=12))),
}

GROWTH_COLUMNS = [
    "comparison",
    "metric",
    "period",
    "compared_to",
    "value",
    "previous",
    "change",
    "change_pct",
]

#: What :meth:`Growth.change_text` says when there is nothing to compare with.
NOT_COMPARABLE = _("not comparable (no data a year earlier)")


def period_label(start: Any, period: str) -> str:
    """``2024-12-31`` (day), ``2024-W52 (12-23–12-29)`` (week), ``2024-12`` (month)."""
    p = normalise_period(period)
    start = pd.Timestamp(start)
    if p == "day":
        return start.date().isoformat()
    if p == "week":
        iso = start.isocalendar()
        end = period_end(start, "week")
        return f"{iso.year}-W{iso.week:02d} ({start:%m-%d}–{end:%m-%d})"
    return f"{start:%Y-%m}"


def complete_periods(
    frame: pd.DataFrame, period: str, through: Any, column: str = "period"
) -> pd.DataFrame:
    """The rows of ``frame`` whose period ends on or before ``through`` (the last data day).

    Parameters
    ----------
    frame
        Rows with a ``column`` of period starts.
    period
        ``"day"``, ``"week"`` or ``"month"``.
    through
        The last day with data (``None``: every row is kept).
    """
    if through is None:
        return frame
    last = pd.Timestamp(through).normalize()
    return frame[period_end(pd.to_datetime(frame[column]), period) <= last]


@dataclass(kw_only=True)
class Growth(Result):
    """The result of :func:`growth`.

    Attributes
    ----------
    table
        One row per comparison and metric (see :func:`growth`).
    period
        The period word of the comparisons (``day``, ``week``, ``month``).
    """

    period: str = ""

    def row(self, comparison: str, metric: str = "gmv") -> pd.Series:
        """The row of one comparison (``WoW``, ``MoM``, ``YoY``…) and metric.

        Raises
        ------
        KeyError
            When the table has no such row.
        """
        t = self.table
        hit = t[(t["comparison"] == comparison) & (t["metric"] == metric)]
        if hit.empty:
            raise KeyError(f"no {comparison} row for {metric}")
        return hit.iloc[0]

    def change_text(self, comparison: str, metric: str = "gmv") -> str:
        """The relative change as ``+56.3%``, or :data:`NOT_COMPARABLE` when it is missing."""
        pct = self.row(comparison, metric)["change_pct"]
        return _(NOT_COMPARABLE) if pd.isna(pct) else f"{pct:+.1%}"


def growth(
    frame: pd.DataFrame | pd.Series,
    period: str,
    metrics: Sequence[str] = ("gmv", "orders", "customers", "aov"),
    *,
    through: Any = None,
    column: str = "period",
) -> Growth:
    """Growth of the latest complete period against the one before and a year before.

    Parameters
    ----------
    frame
        One row per period with a ``column`` column (period start: the day, the Monday
        of the week, the first of the month) and the ``metrics`` columns — what
        :func:`shopbook.features.sales.kpis` returns without ``by`` — or a Series
        indexed by period start.
    period
        ``"day"`` (day-on-day, week-on-week, year-on-year = 364 days, same weekday),
        ``"week"`` (WoW, YoY = 52 weeks earlier) or ``"month"`` (MoM, YoY).
    metrics
        Columns to compare (those present are used).
    through
        The last day with data; a period ending after it is incomplete and not
        compared (default: the last period is taken as complete).
    column
        The period-start column of ``frame``.

    Returns
    -------
    Growth
        ``table`` with one row per comparison and metric: ``comparison``
        (WoW/MoM/YoY…), ``metric``, ``period`` and ``compared_to`` (labels), ``value``,
        ``previous``, ``change``, ``change_pct``; ``notes``. Skipped when there is no
        data.
    """
    p = normalise_period(period)
    notes: list[str] = []
    if isinstance(frame, pd.Series):
        frame = frame.rename(frame.name or "value").rename_axis(column).reset_index()
        metrics = [frame.columns[1]]
    f = frame.copy()
    f[column] = pd.to_datetime(f[column])
    f = f.set_index(column).sort_index()
    metrics = [m for m in metrics if m in f.columns]
    if f.empty:
        return Growth(table=pd.DataFrame(columns=GROWTH_COLUMNS), period=p).skip("no data")
    last = f.index[-1]
    if through is not None and period_end(last, p) > pd.Timestamp(through).normalize():
        note(
            notes,
            _(
                "{period} is not complete (data end {end}); the period before it is compared."
            ).format(period=period_label(last, p), end=pd.Timestamp(through).date()),
        )
        last = f.index[-2] if len(f) > 1 else last
    rows = []
    for name, offset in _COMPARISONS[p]:
        prev = last - offset
        have = prev in f.index
        if not have:
            note(
                notes,
                _("{name}: no data for {period}.").format(
                    name=_(name), period=period_label(prev, p)
                ),
            )
        for m in metrics:
            v = float(f.at[last, m])
            pv = float(f.at[prev, m]) if have else np.nan
            rows.append(
                {
                    "comparison": name,
                    "metric": m,
                    "period": period_label(last, p),
                    "compared_to": period_label(prev, p),
                    "value": v,
                    "previous": pv,
                    "change": v - pv,
                    "change_pct": (v - pv) / pv if pv else np.nan,
                }
            )
    return Growth(table=pd.DataFrame(rows, columns=GROWTH_COLUMNS), notes=notes, period=p)


@dataclass(kw_only=True)
class Shares(Result):
    """The result of :func:`shares`.

    Attributes
    ----------
    table
        Index ``period``, one column per group, rows summing to 1.
    """

    @property
    def change(self) -> pd.Series:
        """Each group's share in the last period minus its share in the first, ascending."""
        return (self.table.iloc[-1] - self.table.iloc[0]).sort_values()

    @property
    def gained(self) -> tuple[Any, float]:
        """The group that gained the most share from the first to the last period."""
        c = self.change
        return c.index[-1], float(c.iloc[-1])

    @property
    def lost(self) -> tuple[Any, float]:
        """The group that lost the most share from the first to the last period."""
        c = self.change
        return c.index[0], float(c.iloc[0])


def shares(
    frame: pd.DataFrame,
    by: str,
    metric: str = "gmv",
    *,
    period: str | None = None,
    through: Any = None,
    column: str = "period",
) -> Shares:
    """Each group's share of the total per period.

    Parameters
    ----------
    frame
        Long frame with ``column`` (period start), ``by`` and ``metric`` columns.
    by
        The group column.
    metric
        The measure shared out (GMV).
    period, through
        With both, periods ending after ``through`` (the last data day) are left out
        (:func:`complete_periods`).
    column
        The period-start column.

    Returns
    -------
    Shares
        ``table`` indexed by ``column``, one column per group, rows summing to 1
        (periods with a zero total are left out). Skipped when every row has one group
        or fewer than two (complete) periods remain.
    """
    if period is not None and through is not None:
        frame = complete_periods(frame, period, through, column)
    if frame[by].nunique() <= 1:
        return Shares.skipped(f"every order came through one {by}")
    if frame[column].nunique() <= 1:
        return Shares.skipped("fewer than two complete periods")
    wide = frame.pivot_table(index=column, columns=by, values=metric, aggfunc="sum", fill_value=0.0)
    total = wide.sum(axis=1)
    wide = wide.loc[total != 0].div(total[total != 0], axis=0)
    wide.columns.name = by
    return Shares(table=wide)


@dataclass(kw_only=True)
class GrowthShare(Result):
    """The result of :func:`growth_share`.

    Attributes
    ----------
    table
        One row per group (see :func:`growth_share`).
    market_growth
        The growth of the total.
    share_threshold
        The equal share ``1 / groups`` that splits high from low share.
    """

    market_growth: float = float("nan")
    share_threshold: float = float("nan")

    @property
    def gaining(self) -> pd.Series:
        """The group whose share rose the most."""
        return self.table.sort_values("share_change").iloc[-1]

    @property
    def losing(self) -> pd.Series:
        """The group whose share fell the most."""
        return self.table.sort_values("share_change").iloc[0]


def _quadrants(share: pd.Series, g: pd.Series, thr: float, market: float) -> np.ndarray:
    hi_share, hi_growth = share >= thr, g >= market
    return np.select(
        [hi_share & hi_growth, hi_share & ~hi_growth, ~hi_share & hi_growth],
        ["star", "cash cow", "question mark"],
        "dog",
    )


def _months_label(a: pd.Timestamp, b: pd.Timestamp) -> str:
    return f"{a:%Y-%m}" if a == b else f"{a:%Y-%m}–{b:%Y-%m}"


def growth_share(
    frame: pd.DataFrame,
    by: str = "category",
    metric: str = "gmv",
    *,
    months: int = 12,
    through: Any = None,
    column: str = "period",
) -> GrowthShare:
    """Growth–share matrix data: each group's share of the total and its growth.

    The current window is the last ``months`` complete months, compared with the
    ``months`` before; when the data are shorter than two windows, the two most recent
    equal halves are used (stated).

    Parameters
    ----------
    frame
        Monthly long frame with ``column`` (month start), ``by`` and ``metric`` —
        ``kpis(..., "month", by="category")``.
    by
        The group column.
    metric
        The size measure (GMV).
    months
        Window length.
    through
        Last day with data; an incomplete last month is left out.
    column
        The month-start column.

    Returns
    -------
    GrowthShare
        ``table`` with one row per group, largest first: ``by``, ``value`` (metric in the
        current window), ``share``, ``growth`` (vs the previous window),
        ``share_previous``, ``share_change`` (percentage points as a fraction),
        ``quadrant`` (``star``, ``cash cow``, ``question mark``, ``dog``: share
        above/below an equal share ``1/groups``, growth above/below the total's),
        ``period``, ``compared_to``; ``market_growth``, ``share_threshold``, ``notes``.
        Skipped when fewer than two complete months remain.
    """
    notes: list[str] = []
    f = frame.copy()
    f[column] = pd.to_datetime(f[column])
    wide = f.pivot_table(
        index=column, columns=by, values=metric, aggfunc="sum", fill_value=0.0
    ).sort_index()
    wide = wide.asfreq("MS", fill_value=0.0)
    if (
        through is not None
        and len(wide)
        and period_end(wide.index[-1], "month") > pd.Timestamp(through).normalize()
    ):
        note(notes, f"{wide.index[-1]:%Y-%m} is incomplete and left out.")
        wide = wide.iloc[:-1]
    k = months
    if len(wide) < 2 * k:
        k = len(wide) // 2
        if k < 1:
            return GrowthShare.skipped("need at least two complete months for growth", notes=notes)
        note(
            notes,
            f"Fewer than {2 * months} complete months: the last {k} months are compared "
            f"with the {k} before.",
        )
    cur, prev = wide.iloc[-k:].sum(), wide.iloc[-2 * k : -k].sum()
    share_cur, share_prev = cur / cur.sum(), prev / prev.sum() if prev.sum() else prev * np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (cur - prev) / prev.replace(0, np.nan)
    market = float((cur.sum() - prev.sum()) / prev.sum()) if prev.sum() else np.nan
    thr = 1.0 / len(cur)
    out = pd.DataFrame(
        {
            by: cur.index,
            "value": cur.to_numpy(),
            "share": share_cur.to_numpy(),
            "growth": g.to_numpy(),
            "share_previous": share_prev.to_numpy(),
            "share_change": (share_cur - share_prev).to_numpy(),
            "quadrant": _quadrants(share_cur, g, thr, market),
            "period": _months_label(wide.index[-k], wide.index[-1]),
            "compared_to": _months_label(wide.index[-2 * k], wide.index[-k - 1]),
        }
    )
    out = out.sort_values("value", ascending=False, ignore_index=True)
    return GrowthShare(table=out, notes=notes, market_growth=market, share_threshold=thr)


__all__ = [
    "NOT_COMPARABLE",
    "Growth",
    "GrowthShare",
    "Shares",
    "complete_periods",
    "growth",
    "growth_share",
    "period_label",
    "shares",
]
