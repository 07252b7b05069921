"""Dated changes in the trend: piecewise-linear segmentation of the deseasonalised series."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import step_days
from shopbook.analysis.trend.decomposition import decompose
from shopbook.analysis.trend.events import EventsLike, as_events, event_regressors

COLUMNS = ["date", "level_before", "level_after", "change", "change_pct"]


@dataclass(kw_only=True)
class Changepoints(Result):
    """The result of :func:`changepoints`.

    Attributes
    ----------
    table
        One row per changepoint: ``date``, ``level_before``, ``level_after``,
        ``change``, ``change_pct`` (empty when the trend has no break).
    penalty
        The segmentation penalty used (``nan`` when skipped).
    segments
        The fitted piecewise-linear trend on every date (for plotting).
    """

    penalty: float = float("nan")
    segments: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))

    @property
    def largest(self) -> pd.Series | None:
        """The changepoint with the largest relative change (``None`` when there is none)."""
        if self.table.empty:
            return None
        return self.table.loc[self.table["change_pct"].abs().idxmax()]


def _robust_sigma(values: np.ndarray) -> float:
    """Noise level from the first differences (MAD), with a fallback for flat stretches."""
    sigma = float(np.median(np.abs(np.diff(values)))) / 0.6745 / math.sqrt(2.0)
    if sigma == 0.0:
        sigma = float(np.std(np.diff(values))) / math.sqrt(2.0) or 1.0
    return sigma


def _fitted_segments(
    t_all: np.ndarray, t: np.ndarray, values: np.ndarray, bkps: list[int]
) -> np.ndarray:
    """The piecewise-linear trend through ``values`` (kept days) on every date."""
    n = len(values)
    fitted = np.empty(len(t_all))
    edges = [0, *[int(np.searchsorted(t_all, t[b])) for b in bkps], len(t_all)]
    kedges = [0, *bkps, n]
    for (a, b), (ka, kb) in zip(
        zip(edges[:-1], edges[1:], strict=True),
        zip(kedges[:-1], kedges[1:], strict=True),
        strict=True,
    ):
        coef = np.polyfit(t[ka:kb], values[ka:kb], 1)
        fitted[a:b] = np.polyval(coef, t_all[a:b])
    return fitted


def changepoints(
    series: pd.Series,
    *,
    events: EventsLike = None,
    seasons: Sequence[float] = (7,),
    min_size: int | None = None,
    penalty: float | None = None,
    post_days: int = 7,
) -> Changepoints:
    """Dated changes in the trend: where the level or the slope of the series shifts.

    The series is deseasonalised (:func:`decompose`), event days are left out so a
    festival is not taken for a change, and a piecewise-linear model
    is segmented by binary segmentation (``ruptures``, cost ``"linear"``) with a
    penalty ``10 σ² log n`` (σ estimated robustly from the first differences) — a
    BIC-type penalty made stricter because daily sales are autocorrelated and curved,
    so only changes a planner would call a break are reported.

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex.
    events
        Windows to mask (``None``: 618 and Double 11 in every year; ``[]``: none). Pass
        a shop calendar (:func:`event_list`, :func:`shopbook.calendars.shop_calendar`) so
        the Spring Festival dip — many days long, and every year — is not taken for a
        break in the trend.
    seasons
        Seasonal lengths in days removed first, as in :func:`decompose`. Default: the
        week only — with two or three years a yearly component cannot be told apart
        from a change in the trend (MSTL's yearly term soaks up level shifts), so the
        yearly swing shows as slope changes.
    min_size
        Shortest segment in steps (default: 28 for daily data, 6 otherwise).
    penalty
        Override the penalty (larger → fewer changepoints).
    post_days
        Post-festival window length when masking events.

    Returns
    -------
    Changepoints
        ``table`` with one row per changepoint: ``date`` (first day of the new segment),
        ``level_before`` and ``level_after`` (mean deseasonalised value of the 28 days —
        or ``min_size`` steps — either side), ``change`` and ``change_pct``; empty when
        the trend has no break. ``penalty``, ``segments``, ``notes``. Skipped when the
        series is too short or flat.
    """
    import ruptures as rpt

    dec = decompose(series, seasons)
    notes = list(dec.notes)
    x = dec.deseasonalised
    s = dec.table["observed"]
    evs = as_events(events, s.index[0], s.index[-1])
    keep = np.ones(len(x), dtype=bool)
    if evs:
        masked = (event_regressors(s.index, evs, post_days, pooled=True).sum(axis=1) > 0).to_numpy()
        if not masked.all():
            keep = ~masked
    if min_size is None:
        min_size = 28 if step_days(s.index.freq) == 1.0 else 6
    values = x.to_numpy(dtype=float)[keep]  # event days are left out, not interpolated
    dates = s.index[keep]
    n = len(values)
    if n < 2 * min_size + 1 or float(np.nanstd(values)) == 0.0:
        why = "the series is too short or flat for changepoints"
        return Changepoints(
            table=pd.DataFrame(columns=COLUMNS), notes=notes, segments=x * np.nan
        ).skip(why)
    pen = float(penalty) if penalty is not None else 10.0 * _robust_sigma(values) ** 2 * math.log(n)
    t_all = np.arange(len(x), dtype=float) / len(x)
    t = t_all[keep]
    signal = np.column_stack([values, np.ones(n), t])
    bkps = rpt.Binseg(model="linear", min_size=min_size, jump=1).fit(signal).predict(pen=pen)
    bkps = [b for b in bkps if b < n]
    rows = []
    w = max(min_size, 7)
    for b in bkps:
        before = float(np.mean(values[max(0, b - w) : b]))
        after = float(np.mean(values[b : b + w]))
        rows.append(
            {
                "date": dates[b],
                "level_before": before,
                "level_after": after,
                "change": after - before,
                "change_pct": (after - before) / before if before else np.nan,
            }
        )
    fitted = _fitted_segments(t_all, t, values, bkps)
    return Changepoints(
        table=pd.DataFrame(rows, columns=COLUMNS),
        notes=notes,
        penalty=pen,
        segments=pd.Series(fitted, index=s.index, name="segments"),
    )


__all__ = ["Changepoints", "changepoints"]
