"""Festival effects: the uplift of each event window against a counterfactual baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import note, positive_log, step_days
from shopbook.analysis.trend.events import Event, EventsLike, as_events
from shopbook.analysis.trend.series import regularize
from shopbook.calendars import calendar_applies
from shopbook.i18n import _

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
    pooled
        One row per event *name* with two or more occurrences and per window, over all
        its occurrences (``occurrence`` is ``"<name> (all)"``): the effect of a recurring
        day such as a member day. Days it shares with another event are left out of it
        (``start``/``end`` are its first and last day, ``days`` the number it holds).
        Same columns as ``table``.
    left_out
        One row per event occurrence that was not measured: ``occurrence``, ``reason``.
    """

    model: Any = None
    scale: str | None = None
    level: float = 0.95
    pooled: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))
    left_out: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["occurrence", "reason"])
    )

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
    evs: list[Event], index: pd.DatetimeIndex, post_days: int, notes: list[str], lead: int = 0
) -> list[Event]:
    """The events whose windows lie wholly inside ``index`` (those that overlap are stated).

    ``lead``: days at the start an event may not use (the AR(p) errors drop the first p
    days, so an indicator there would be all zero).
    """
    inside = []
    for ev in evs:
        first, last = ev.span(post_days)
        if first >= index[0] + pd.Timedelta(days=lead) and last <= index[-1]:
            inside.append(ev)
        elif first >= index[0] and last <= index[-1]:
            note(
                notes,
                _(
                    "{event}: it starts on the first day(s) of the data, which the "
                    "autoregressive errors need as their start, so it was left out."
                ).format(event=ev.label),
            )
        elif last >= index[0] and first <= index[-1]:
            note(
                notes,
                _(
                    "{event}: its windows are not wholly inside the data "
                    "({first} to {last}), so it was left out."
                ).format(event=ev.label, first=index[0].date(), last=index[-1].date()),
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


def _days(a: pd.Timestamp, b: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(a, b, freq="D")


def _effect_rows(
    s: pd.Series,
    inside: list[Event],
    post_days: int,
    beta: pd.Series,
    cov: pd.DataFrame,
    use_log: bool,
    z: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One row per occurrence and window, and a ``total`` row for multi-window events;
    then the pooled rows: per event name with two or more occurrences and per window."""
    window = _window_log if use_log else _window_level

    def row(name: str, label: str, win: str, days: pd.DatetimeIndex) -> dict[str, Any]:
        names = [f"day_{d:%Y-%m-%d}" for d in days]
        effect = window(
            s.loc[days].to_numpy(), beta[names].to_numpy(), cov.loc[names, names].to_numpy(), z
        )
        head = {"event": name, "occurrence": label, "window": win}
        return {**head, "start": days[0], "end": days[-1], "days": len(days), **effect}

    rows = []
    by_name: dict[str, dict[str, set[pd.Timestamp]]] = {}
    count: dict[str, int] = {}
    for ev in inside:
        wins = {w: _days(a, b) for w, (a, b) in ev.windows(post_days).items()}
        if len(wins) > 1:
            wins["total"] = _days(*ev.span(post_days))
        rows += [row(ev.name, ev.label, w, d) for w, d in wins.items()]
        count[ev.name] = count.get(ev.name, 0) + 1
        for w, d in wins.items():
            by_name.setdefault(ev.name, {}).setdefault(w, set()).update(d)
    # a pooled row leaves out the days it shares with another event (a member day inside
    # Double 11 carries both lifts): what is left is the recurring day's own effect
    owners: dict[pd.Timestamp, set[str]] = {}
    for name, wins in by_name.items():
        for d in set().union(*wins.values()):
            owners.setdefault(d, set()).add(name)
    pooled = []
    for name, wins in by_name.items():
        if count[name] < 2:
            continue
        for w, days in wins.items():
            own = pd.DatetimeIndex(sorted(d for d in days if owners[d] == {name}))
            if len(own):
                pooled.append(row(name, _("{name} (all)").format(name=_(name)), w, own))
    return rows, pooled


def _relevant(
    evs: list[Event], s: pd.Series, post_days: int, currency: str | None, notes: list[str]
) -> tuple[list[Event], list[dict[str, str]]]:
    """The events that apply to this shop; the others with their reason.

    The rule: an event from a calendar (``Event.calendar``) is left out when the shop's
    ``currency`` is not that calendar's country's (:func:`shopbook.calendars.calendar_applies`:
    618 measured on a shop selling in USD), and any event is left out when the series
    has no sales at all on its days (the shop was not trading then).
    """
    keep, left = [], []
    by_calendar: dict[str, list[str]] = {}
    for ev in evs:
        why = calendar_applies(ev.calendar, currency)
        if why is not None:
            by_calendar.setdefault(why, []).append(ev.label)
        else:
            a, b = ev.span(post_days)
            on = s.loc[a:b]
            if len(on) and float(on.fillna(0.0).abs().sum()) == 0.0:
                why = _("no sales on any of its days: the shop was not trading then")
                note(notes, _("{event}: left out, {why}.").format(event=ev.label, why=why))
        if why is None:
            keep.append(ev)
        else:
            left.append({"occurrence": ev.label, "reason": why})
    for why, labels in by_calendar.items():
        note(notes, f"{len(labels)} calendar events left out ({labels[0]} …): {why}.")
    return keep, left


def _confounded(
    inside: list[Event], index: pd.DatetimeIndex, post_days: int, notes: list[str]
) -> tuple[list[Event], list[dict[str, str]]]:
    """Drop recurring days that fall on every day of one weekday (the day of week itself)."""
    days: dict[str, set[pd.Timestamp]] = {}
    for ev in inside:
        for a, b in ev.windows(post_days).values():
            days.setdefault(ev.name, set()).update(_days(a, b))
    drop = {}
    for name, ds in days.items():
        on = pd.DatetimeIndex(sorted(ds))
        weekdays = set(on.dayofweek)
        if len(weekdays) == 1:
            w = weekdays.pop()
            if index[index.dayofweek == w].isin(on).all():
                drop[name] = (
                    f"it falls on every {pd.Timestamp(on[0]).day_name()} of the data, so it "
                    "cannot be told apart from the day of week; give the day it started "
                    "(member_since / new_product_since)"
                )
                note(notes, f"{name}: left out, {drop[name]}.")
    keep = [ev for ev in inside if ev.name not in drop]
    left = [{"occurrence": ev.label, "reason": drop[ev.name]} for ev in inside if ev.name in drop]
    return keep, left


def event_effects(
    series: pd.Series,
    events: EventsLike = None,
    *,
    post_days: int = 7,
    transform: str | None = "auto",
    knot_every: int = 56,
    ar_order: int = 1,
    level: float = 0.95,
    currency: str | None = None,
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
    currency
        The shop's currency (e.g. ``"CNY"``). Relevance guard: events from a calendar
        that is not the currency's country's (the ``cn`` festivals on a shop selling in
        USD) are left out with the reason, and so is any event on whose days the series
        has no sales at all; when none is left the result is skipped with the reason.
        ``None``: the calendar check is not made.

    Returns
    -------
    EventEffects
        ``table`` with one row per occurrence and window (``pre-heat``, ``peak``,
        ``post``, ``total``): ``event``, ``occurrence``, ``window``, ``start``, ``end``,
        ``days``, ``observed`` (sum), ``baseline`` (counterfactual sum), ``uplift``,
        ``uplift_lo``, ``uplift_hi`` (absolute, in the series' unit), ``uplift_pct``,
        ``uplift_pct_lo``, ``uplift_pct_hi`` (fractions of the baseline), ``p_value``;
        ``model`` (the statsmodels results), ``scale`` (``"log"``/``"level"``),
        ``level``, ``pooled`` (per event name over its occurrences: a member day's
        lift), ``left_out`` (occurrences not measured and why), ``notes``. Skipped when no
        event lies wholly inside the data or applies to the shop, or the series is
        constant. A one-day event on every day of one weekday (a member day from the
        first week) is left out: it is the day of week itself.
    """
    import statsmodels.api as sm

    reg = regularize(series)
    s, notes = reg.series, reg.notes
    if step_days(s.index.freq) != 1.0:
        raise ValueError(
            f"event effects need a daily series, found frequency {s.index.freq.freqstr}; "
            "aggregate by day (kpis(..., period='day'))"
        )
    if float(s.std()) == 0.0:
        note(notes, "The series is constant: no effect can be estimated.")
        return EventEffects(table=pd.DataFrame(columns=COLUMNS), notes=notes, level=level).skip(
            "the series is constant: no effect can be estimated"
        )
    evs, left = _relevant(as_events(events, s.index[0], s.index[-1]), s, post_days, currency, notes)
    inside = _events_inside(evs, s.index, post_days, notes, lead=ar_order)
    inside, confounded = _confounded(inside, s.index, post_days, notes)
    left_out = pd.DataFrame(left + confounded, columns=["occurrence", "reason"])
    empty = EventEffects(
        table=pd.DataFrame(columns=COLUMNS), notes=notes, level=level, left_out=left_out
    )
    if not inside:
        if left and not evs:
            reasons = sorted({r["reason"] for r in left})
            return empty.skip("no event applies to this shop: " + "; ".join(reasons))
        note(notes, "No event falls inside the data.")
        return empty.skip("no event lies wholly inside the data")
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
    rows, pooled = _effect_rows(s, inside, post_days, beta, cov, use_log, z)
    return EventEffects(
        table=pd.DataFrame(rows, columns=COLUMNS),
        notes=notes,
        model=res,
        scale="log" if use_log else "level",
        level=level,
        pooled=pd.DataFrame(pooled, columns=COLUMNS),
        left_out=left_out,
    )


__all__ = ["EventEffects", "event_effects"]
