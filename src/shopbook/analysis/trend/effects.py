"""Festival effects: the uplift of each event window against a counterfactual baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import note, positive_log, step_days
from shopbook.analysis.trend.events import Event, EventsLike, as_events
from shopbook.analysis.trend.series import regularize

COLUMNS = [
    "event",
    "occurrence",
    "window",
    "start",
    "end",
    "days",
    "observed",
    "baseline",
    "uplift",
    "uplift_lo",
    "uplift_hi",
    "uplift_pct",
    "uplift_pct_lo",
    "uplift_pct_hi",
    "p_value",
]


@dataclass(kw_only=True)
class EventEffects(Result):
    """The result of :func:`event_effects`.

    Attributes
    ----------
    table
        One row per occurrence and window (see :func:`event_effects`).
    model
        The statsmodels regression results (``None`` when skipped).
    scale
        ``"log"`` or ``"level"`` (``None`` when skipped).
    level
        Confidence level of the intervals.
    """

    model: Any = None
    scale: str | None = None
    level: float = 0.95

    @property
    def strongest(self) -> pd.Series | None:
        """The occurrence with the largest relative uplift over all its days.

        Its ``total`` row (its only window's row when it has no total); ``None`` when
        there are no effects.
        """
        t = self.table
        if t.empty:
            return None
        tot = t[t["window"] == "total"] if (t["window"] == "total").any() else t
        return tot.loc[tot["uplift_pct"].idxmax()]

    @property
    def dips(self) -> list[str]:
        """Occurrences followed by a post-festival dip: the whole post-window CI below zero."""
        t = self.table
        if t.empty:
            return []
        return list(t.loc[(t["window"] == "post") & (t["uplift_pct_hi"] < 0), "occurrence"])


def _trend_basis(n: int, knot_every: int) -> np.ndarray:
    """A smooth trend: cubic B-splines with a knot every ``knot_every`` steps (patsy)."""
    from patsy import bs

    t = np.arange(n, dtype=float)
    df = max(3, int(round(n / knot_every)) + 3)
    return np.asarray(bs(t, df=df, degree=3, include_intercept=False))


def _events_inside(
    evs: list[Event], index: pd.DatetimeIndex, post_days: int, notes: list[str]
) -> list[Event]:
    """The events whose windows lie wholly inside ``index`` (those that overlap are stated)."""
    inside = []
    for ev in evs:
        first, last = ev.span(post_days)
        if first >= index[0] and last <= index[-1]:
            inside.append(ev)
        elif last >= index[0] and first <= index[-1]:
            note(
                notes,
                f"{ev.label}: its windows are not wholly inside the data "
                f"({index[0].date()} to {index[-1].date()}), so it was left out.",
            )
    return inside


def _design(s: pd.Series, inside: list[Event], post_days: int, knot_every: int) -> pd.DataFrame:
    """Constant, trend splines, day-of-week dummies and one indicator per event day."""
    import statsmodels.api as sm

    n = len(s)
    X = pd.DataFrame(_trend_basis(n, knot_every), index=s.index).add_prefix("trend_")
    dow = pd.get_dummies(
        pd.Categorical(s.index.dayofweek, categories=range(7)),
        prefix="dow",
        drop_first=True,
        dtype=float,
    )
    dow.index = s.index
    # one indicator per event day: a festival's shape (a slow pre-heat building to the
    # peak) is then free, and a window's uplift is the ratio of its observed total to its
    # counterfactual total — not a geometric mean of daily ratios
    event_days = sorted(
        {
            d
            for ev in inside
            for a, b in ev.windows(post_days).values()
            for d in pd.date_range(a, b, freq="D")
        }
    )
    pos = s.index.get_indexer(pd.DatetimeIndex(event_days))
    D = np.zeros((n, len(pos)))
    D[pos, np.arange(len(pos))] = 1.0
    day_cols = [f"day_{d:%Y-%m-%d}" for d in event_days]
    return sm.add_constant(
        pd.concat([X, dow, pd.DataFrame(D, index=s.index, columns=day_cols)], axis=1),
        has_constant="add",
    )


def _window_log(obs_d: np.ndarray, bd: np.ndarray, V: np.ndarray, z: float) -> dict[str, float]:
    """A window's effect on the log scale: ratio of totals, delta-method CI."""
    obs = float(obs_d.sum())
    base_d = obs_d * np.exp(-bd)
    base = float(base_d.sum())
    lr = math.log(obs / base)  # log(observed / counterfactual)
    g = base_d / base  # d lr / d β_d
    se = math.sqrt(max(float(g @ V @ g), 0.0))
    lo_lr, hi_lr = lr - z * se, lr + z * se
    return {
        "observed": obs,
        "baseline": base,
        "uplift": obs - base,
        "uplift_lo": obs * (1 - math.exp(-lo_lr)),
        "uplift_hi": obs * (1 - math.exp(-hi_lr)),
        "uplift_pct": math.expm1(lr),
        "uplift_pct_lo": math.expm1(lo_lr),
        "uplift_pct_hi": math.expm1(hi_lr),
        "p_value": float(2 * stats.norm.sf(abs(lr) / se)) if se else np.nan,
    }


def _window_level(obs_d: np.ndarray, bd: np.ndarray, V: np.ndarray, z: float) -> dict[str, float]:
    """A window's effect on the original scale: the sum of the day effects."""
    obs = float(obs_d.sum())
    up = float(bd.sum())
    se = math.sqrt(max(float(np.ones(len(bd)) @ V @ np.ones(len(bd))), 0.0))
    base = obs - up
    lo, hi = up - z * se, up + z * se
    return {
        "observed": obs,
        "baseline": base,
        "uplift": up,
        "uplift_lo": lo,
        "uplift_hi": hi,
        "uplift_pct": up / base if base else np.nan,
        "uplift_pct_lo": lo / base if base else np.nan,
        "uplift_pct_hi": hi / base if base else np.nan,
        "p_value": float(2 * stats.norm.sf(abs(up) / se)) if se else np.nan,
    }


def _effect_rows(
    s: pd.Series,
    inside: list[Event],
    post_days: int,
    beta: pd.Series,
    cov: pd.DataFrame,
    use_log: bool,
    z: float,
) -> list[dict[str, Any]]:
    """One row per occurrence and window, and a ``total`` row for multi-window events."""
    window = _window_log if use_log else _window_level

    def row(ev: Event, name: str, a: pd.Timestamp, b: pd.Timestamp) -> dict[str, Any]:
        names = [f"day_{d:%Y-%m-%d}" for d in pd.date_range(a, b, freq="D")]
        effect = window(
            s.loc[a:b].to_numpy(), beta[names].to_numpy(), cov.loc[names, names].to_numpy(), z
        )
        head = {"event": ev.name, "occurrence": ev.label, "window": name, "start": a, "end": b}
        return {**head, "days": int((b - a).days) + 1, **effect}

    rows = []
    for ev in inside:
        wins = ev.windows(post_days)
        rows += [row(ev, w, a, b) for w, (a, b) in wins.items()]
        if len(wins) > 1:
            rows.append(row(ev, "total", *ev.span(post_days)))
    return rows


def event_effects(
    series: pd.Series,
    events: EventsLike = None,
    *,
    post_days: int = 7,
    transform: str | None = "auto",
    knot_every: int = 56,
    ar_order: int = 1,
    level: float = 0.95,
) -> EventEffects:
    """Uplift of each festival window against a counterfactual baseline, with CIs.

    One regression on the whole daily series: ``log(y)`` (or ``y`` when it has zeros or
    negatives) on a smooth trend (cubic B-splines, a knot every ``knot_every`` days, so the
    baseline follows the local level and the yearly swing), day-of-week effects and one
    indicator per event day, so a festival may have any shape. The counterfactual of a
    day is the model with its indicator off. The errors follow an AR(``ar_order``)
    process (statsmodels ``GLSAR``, iterated feasible GLS), so autocorrelated days do not
    make the intervals too narrow.

    On the log scale a day's counterfactual is ``observed · exp(−β_d)``; a window's
    baseline is the sum over its days, its uplift ``observed − baseline`` and its
    percentage ``observed / baseline − 1`` — the ratio of totals, what a planner means by
    "618 lifted sales by x %". The CI is a delta-method interval for
    ``log(observed / baseline)``, mapped back. On the original scale the uplift is
    ``Σ β_d`` with its variance from the covariance of the ``β_d``, and the percentage
    is relative to ``observed − uplift``. A ``total`` row per occurrence covers all its
    days (pre-heat + peak + post, a dip counting against).

    Parameters
    ----------
    series
        Daily values (e.g. GMV) with a DatetimeIndex.
    events
        List of ``{"name", "start", "end"[, "peak"]}``; ``None``: 618 and Double 11 in
        every year of the series. Occurrences whose windows are not wholly inside the
        series are left out (stated).
    post_days
        Length of the post-festival window.
    transform
        ``"auto"`` (log when all values are positive), ``"log"`` or ``None``.
    knot_every
        Days between trend knots.
    ar_order
        Order of the autoregressive errors.
    level
        Confidence level of the intervals.

    Returns
    -------
    EventEffects
        ``table`` with one row per occurrence and window (``pre-heat``, ``peak``,
        ``post``, ``total``): ``event``, ``occurrence``, ``window``, ``start``, ``end``,
        ``days``, ``observed`` (sum), ``baseline`` (counterfactual sum), ``uplift``,
        ``uplift_lo``, ``uplift_hi`` (absolute, in the series' unit), ``uplift_pct``,
        ``uplift_pct_lo``, ``uplift_pct_hi`` (fractions of the baseline), ``p_value``;
        ``model`` (the statsmodels results), ``scale`` (``"log"``/``"level"``),
        ``level``, ``notes``. Skipped when no event lies wholly inside the data or the
        series is constant.
    """
    import statsmodels.api as sm

    reg = regularize(series)
    s, notes = reg.series, reg.notes
    if step_days(s.index.freq) != 1.0:
        raise ValueError(
            f"event effects need a daily series, found frequency {s.index.freq.freqstr}; "
            "aggregate by day (kpis(..., period='day'))"
        )
    inside = _events_inside(as_events(events, s.index[0], s.index[-1]), s.index, post_days, notes)
    empty = EventEffects(table=pd.DataFrame(columns=COLUMNS), notes=notes, level=level)
    if not inside:
        note(notes, "No event falls inside the data.")
        return empty.skip("no event lies wholly inside the data")
    if float(s.std()) == 0.0:
        note(notes, "The series is constant: no effect can be estimated.")
        return empty.skip("the series is constant: no effect can be estimated")
    use_log = positive_log(s, transform, notes)
    y = np.log(s.to_numpy()) if use_log else s.to_numpy()
    X = _design(s, inside, post_days, knot_every)
    # Regression with AR(ar_order) errors by iterated feasible GLS. Not HAC: a sandwich
    # estimator gives a one-day effect a near-zero standard error, because that day's
    # residual is fitted exactly; GLS keeps the error variance in its SE.
    res = sm.GLSAR(y, X, rho=ar_order).iterative_fit(maxiter=20)
    beta = pd.Series(np.asarray(res.params), index=X.columns)
    cov = pd.DataFrame(np.asarray(res.cov_params()), index=X.columns, columns=X.columns)
    z = float(stats.norm.ppf(0.5 + level / 2))
    rows = _effect_rows(s, inside, post_days, beta, cov, use_log, z)
    return EventEffects(
        table=pd.DataFrame(rows, columns=COLUMNS),
        notes=notes,
        model=res,
        scale="log" if use_log else "level",
        level=level,
    )


__all__ = ["EventEffects", "event_effects"]
