"""Trend and seasons: MSTL/STL decomposition and the average effect per season position.

Which method estimates a season depends on how many full cycles of it the series covers:

* **at least three** (:data:`MIN_STL_CYCLES`): STL (one season) or MSTL (several, or one
  beside a Fourier season) —
  Cleveland et al. (1990), Bandara, Hyndman & Bergmeir (2021). Fewer cycles leave STL's
  seasonal smoother one or two values per position: on exactly two years of daily data
  MSTL's yearly term takes nearly everything, the trend comes out a straight line and the
  remainder ~0 (issue 14).
* **one to three**: Fourier terms of the position in the cycle (the day of the year for
  the yearly season), fitted *jointly* with a smooth trend — a cubic regression spline
  whose pieces each span at least one full cycle, so it cannot follow the season — by a
  robust (Huber) regression of the series minus its STL seasons. This is the
  trend-plus-Fourier-season design of Prophet (Taylor & Letham 2018) and of harmonic
  regression (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed.,
  §7.4 and §12.1). The order (harmonics) is chosen by BIC from 1 to :data:`MAX_FOURIER_ORDER`.
* **less than one**: the season is dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import DEFAULT_SEASONS, note, season_name, step_days
from shopbook.analysis.trend.events import EventsLike, as_events, event_regressors
from shopbook.analysis.trend.series import regularize
from shopbook.analysis.trend.spec import fourier_terms

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
#: Full cycles a season needs before STL/MSTL estimates it (else Fourier terms, or dropped).
MIN_STL_CYCLES = 3
#: Highest number of harmonics tried for a Fourier season (chosen by BIC from 1 up).
MAX_FOURIER_ORDER = 4


@dataclass(kw_only=True)
class Decomposition(Result):
    """The result of :func:`decompose`.

    Attributes
    ----------
    table
        Columns ``observed``, ``trend``, ``seasonal_<p>`` per kept season (``p`` in
        steps, e.g. ``seasonal_7``, ``seasonal_365``), ``resid``, indexed by date; the
        sum of all but ``observed`` equals ``observed``.
    seasons
        The kept season lengths in steps.
    method
        A short label for titles: ``MSTL (periods 7, 365)``, ``STL (period 7)``,
        ``MSTL (period 7) + Fourier (period 365) + spline trend``, ``moving average``…
    sources
        Column of ``table`` → the method that produced it (``"STL"``, ``"MSTL"``,
        ``"Fourier terms (order 1)"``, ``"cubic spline"``, ``"moving average"``, ``"rest"``).
    notes
        What was repaired or dropped, and one sentence saying which method produced
        which component.
    """

    seasons: list[int] = field(default_factory=list)
    method: str = ""
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def deseasonalised(self) -> pd.Series:
        """``observed`` minus every seasonal component."""
        t = self.table
        return t["observed"] - t.filter(like="seasonal_").sum(axis=1)

    @property
    def variance_shares(self) -> pd.Series:
        """Variance of each component over the variance of ``observed`` (they need not sum to 1)."""
        t = self.table
        total = float(t["observed"].var())
        return t.drop(columns="observed").var() / total if total else t.var() * np.nan


@dataclass(frozen=True)
class _Season:
    days: float  # the season as asked for, in days
    steps: int  # whole steps (column name, STL period)
    exact: float  # exact length in steps (365 days = 52.14 weeks)
    cycles: float  # full cycles the series covers

    @property
    def name(self) -> str:
        return season_name(self.days)


def _plan(s: pd.Series, seasons: Sequence[float], notes: list[str]) -> list[_Season]:
    """The seasons worth estimating (≥ 2 steps, ≥ 1 full cycle); the others stated and dropped."""
    step = step_days(s.index.freq)
    out: dict[int, _Season] = {}
    for d in seasons:
        exact = float(d) / step
        steps = int(round(exact))
        if steps < 2 or steps in out:
            continue  # e.g. a weekly cycle in weekly data: no within-period cycle to fit
        cycles = len(s) / exact
        if cycles < 1:
            note(
                notes,
                f"The series has {len(s)} periods, less than one full season of {d:g} days "
                f"({steps} periods): the {season_name(d)} season was dropped.",
            )
            continue
        if cycles < MIN_STL_CYCLES and steps < 3:
            note(
                notes,
                f"The series has {len(s)} periods, fewer than {MIN_STL_CYCLES} full seasons "
                f"of {d:g} days ({steps} periods), and a season of two periods has no Fourier "
                f"form: the {season_name(d)} season was dropped.",
            )
            continue
        out[steps] = _Season(float(d), steps, exact, cycles)
    return [out[k] for k in sorted(out)]


def _spline_basis(n: int, pieces: int) -> np.ndarray:
    """Cubic B-spline basis on ``0..n-1`` with ``pieces`` equal pieces (scipy's BSpline)."""
    from scipy.interpolate import BSpline

    x = np.arange(n, dtype=float)
    inner = np.linspace(0.0, n - 1.0, pieces + 1)[1:-1]
    knots = np.r_[[0.0] * 4, inner, [n - 1.0] * 4]
    return BSpline.design_matrix(x, knots, 3).toarray()


def _fit(x: np.ndarray, design: np.ndarray, robust: bool) -> tuple[np.ndarray, float]:
    """Coefficients and the residual scale: Huber M-estimate (statsmodels RLM) or OLS."""
    import statsmodels.api as sm

    if robust and np.ptp(x) > 0:
        res = sm.RLM(x, design, M=sm.robust.norms.HuberT()).fit()
        if np.isfinite(res.params).all() and res.scale > 0:
            return np.asarray(res.params), float(res.scale)
    beta, *_ = np.linalg.lstsq(design, x, rcond=None)
    return beta, float(np.sqrt(np.mean((x - design @ beta) ** 2)))


def _trend_and_fourier(
    x: pd.Series, fourier: list[_Season], robust: bool, keep: np.ndarray
) -> tuple[pd.Series, dict[int, pd.Series], int, int] | None:
    """Spline trend + Fourier seasons fitted jointly on the ``keep`` rows; order by BIC.

    The criterion is the robust BIC of Machado (1993): ``2 Σ ρ(r / σ) + k log n`` with
    Huber's ρ and one scale σ for every candidate (the largest model's), which is the
    usual BIC for Gaussian errors; ``robust=False`` uses ρ(z) = z²/2. ``None``: the series
    is too short for a trend and one harmonic.
    """
    import statsmodels.api as sm

    n = len(x)
    # each spline piece spans at least one full cycle of the longest Fourier season, so the
    # trend cannot follow it (with half-cycle pieces the two were collinear on two years)
    pieces = max(1, int(n // max(f.exact for f in fourier)))
    basis = _spline_basis(n, pieces)
    values = x.to_numpy(dtype=float)
    m = int(keep.sum())
    fits: list[tuple[int, np.ndarray, np.ndarray, list[pd.DataFrame], float]] = []
    widths: list[int] = []
    for order in range(1, MAX_FOURIER_ORDER + 1):
        blocks = [fourier_terms(x.index, f.exact, _order(order, f)) for f in fourier]
        if [b.shape[1] for b in blocks] == widths:
            break  # every season is at its highest order already
        widths = [b.shape[1] for b in blocks]
        design = np.column_stack([basis, *[b.to_numpy() for b in blocks]])
        if design.shape[1] > m // 2:
            break
        beta, scale = _fit(values[keep], design[keep], robust)
        fits.append((order, design, beta, blocks, scale))
    if not fits:
        return None
    norm = sm.robust.norms.HuberT() if robust else sm.robust.norms.LeastSquares()
    sigma = fits[-1][4] or 1.0
    crit = [
        2.0 * float(norm.rho((values[keep] - d[keep] @ b) / sigma).sum()) + d.shape[1] * math.log(m)
        for _, d, b, _, _ in fits
    ]
    order, _, beta, blocks, _ = fits[int(np.argmin(crit))]
    nb = basis.shape[1]
    trend = pd.Series(basis @ beta[:nb], index=x.index)
    seasonal: dict[int, pd.Series] = {}
    at = nb
    for f, b in zip(fourier, blocks, strict=True):
        seasonal[f.steps] = pd.Series(b.to_numpy() @ beta[at : at + b.shape[1]], index=x.index)
        at += b.shape[1]
    return trend, seasonal, order, pieces - 1


def decompose(
    series: pd.Series,
    seasons: Sequence[float] = DEFAULT_SEASONS,
    *,
    robust: bool = True,
    events: EventsLike = None,
    post_days: int = 7,
    **kwargs: Any,
) -> Decomposition:
    """Trend, seasonal components and remainder: STL/MSTL, with Fourier terms for long seasons.

    A season the series covers at least three full cycles of (:data:`MIN_STL_CYCLES`) is
    estimated by STL (one season) or MSTL (several, or one next to a Fourier season: its
    smoother seasonal window keeps festival weeks out). A season with one to three full
    cycles — the yearly season on two years of daily data — is estimated from Fourier
    terms of the position in the cycle (the day of the year), fitted jointly with a cubic
    spline trend by a robust regression of the series minus its STL seasons; the number
    of harmonics (1 to :data:`MAX_FOURIER_ORDER`) is chosen by BIC, and each spline piece
    spans at least one full cycle so the trend cannot take over the season. On daily data
    the festival windows are left out of that fit (as in :func:`changepoints`): on two
    years a festival on the same dates each year would otherwise be taken for the yearly
    season; they stay in the remainder. A season with less than one full cycle is dropped.
    One note says which method produced which component; the module docstring gives the
    references.

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex (gaps are filled and stated).
    seasons
        Seasonal lengths **in days**: ``(7, 365)`` is weekly and yearly. They are
        converted to steps of the series (``365`` → 52 for weekly data, 12 for monthly);
        seasons shorter than two steps are ignored, seasons longer than the series are
        dropped (stated in the notes).
    robust
        Robust fits, so festival spikes do not bend the seasonal pattern (statsmodels'
        STL ``robust=True``; a Huber M-estimate for the Fourier-and-spline regression).
    events
        Windows left out of the Fourier-and-spline fit on daily data (``None``: 618 and
        Double 11 in every year; ``[]``: none). STL and MSTL use every day.
    post_days
        Post-festival window length of those events.
    **kwargs
        Passed to :class:`statsmodels.tsa.seasonal.MSTL` (or ``STL`` for one season).

    Returns
    -------
    Decomposition
        ``table`` (``observed``, ``trend``, ``seasonal_<p>``…, ``resid``), ``seasons``
        (steps), ``method``, ``sources`` (column → method), ``notes``.
    """
    reg = regularize(series)
    s, notes = reg.series, reg.notes
    plan = _plan(s, seasons, notes)
    stl = [p for p in plan if p.cycles >= MIN_STL_CYCLES]
    fourier = [p for p in plan if p.cycles < MIN_STL_CYCLES]
    frame = pd.DataFrame({"observed": s})
    if not plan:
        return _moving_average(s, notes)
    sources: dict[str, str] = {}
    said: list[str] = []
    labels: list[str] = []
    if stl:
        # next to a Fourier season the STL seasons come from MSTL, as they did before the
        # Fourier path existed: its seasonal window (11 for the weekly season) is smoother than
        # STL's default 7, which let festival weeks leak into the weekly season (on the shop the
        # weekday effects were 1.7 points off the planted ones with STL, 0.9 with MSTL)
        kind, trend, seasonal, resid = _stl(
            s, [p.steps for p in stl], robust, kwargs, mstl=bool(fourier)
        )
        frame["trend"] = trend
        for p in stl:
            frame[f"seasonal_{p.steps}"] = seasonal[p.steps]
        frame["resid"] = resid
        name = kind.split(" ")[0]
        sources = {"trend": name, **{f"seasonal_{c}": name for c in seasonal}}
        labels.append(kind)
        steps_text = ", ".join(str(p.steps) for p in stl)
        said.append(
            f"{_names(stl, with_trend=not fourier)} by {name} "
            f"(period{'s' if len(stl) > 1 else ''} {steps_text}; {_cycles(stl)})"
        )
    if fourier:
        x = s - frame.filter(like="seasonal_").sum(axis=1) if stl else s
        keep = np.ones(len(s), dtype=bool)
        evs = as_events(events, s.index[0], s.index[-1]) if step_days(s.index.freq) == 1 else []
        if evs:
            masked = event_regressors(s.index, evs, post_days, pooled=True).sum(axis=1) > 0
            keep = ~masked.to_numpy()
        fit = _trend_and_fourier(x, fourier, robust, keep)
        left_out = int((~keep).sum())
        if fit is None:
            for p in fourier:
                note(
                    notes,
                    f"The series has {len(s)} periods, too few to fit the {p.name} season "
                    "together with a trend: it was dropped.",
                )
            fourier = []
        else:
            trend, fseason, order, knots = fit
            frame["trend"] = trend
            for p in fourier:
                frame[f"seasonal_{p.steps}"] = fseason[p.steps]
                sources[f"seasonal_{p.steps}"] = f"Fourier terms (order {_order(order, p)})"
            sources["trend"] = "cubic spline"
            frame["resid"] = s - frame["trend"] - frame.filter(like="seasonal_").sum(axis=1)
            what = "day of the year" if {p.name for p in fourier} == {"yearly"} else "cycle"
            minus = f" minus the {_names(stl)}" if stl else ""
            said.append(
                f"{_names(fourier)} ({_cycles(fourier, 'only ')}; STL and MSTL need "
                f"{MIN_STL_CYCLES}) by Fourier terms of the {what} (order {order}, chosen by "
                f"BIC), fitted jointly with the trend (a cubic spline with {knots} inner "
                f"knot{'' if knots == 1 else 's'}, every piece at least one full cycle long) "
                f"in a {'robust (Huber) ' if robust else ''}regression of the series{minus}"
                + (f" with the {left_out} festival days left out" if left_out else "")
            )
            if any(p.cycles < 2 for p in fourier):
                said.append(
                    "with fewer than two full cycles the trend and the "
                    f"{_names(fourier)} are hard to tell apart, so read the size of the "
                    "season as rough"
                )
            labels.append(
                "Fourier (period"
                + ("s " if len(fourier) > 1 else " ")
                + ", ".join(str(p.steps) for p in fourier)
                + ") + spline trend"
            )
    sources["resid"] = "rest"
    kept = sorted(p.steps for p in [*stl, *fourier])
    if not kept:  # every Fourier season was too short to fit, and there was no STL season
        return _moving_average(s, notes)
    said.append("remainder: what is left, festival days and other spikes included")
    note(notes, "Decomposition: " + "; ".join(said) + ".")
    cols = ["observed", "trend", *[f"seasonal_{p}" for p in kept], "resid"]
    return Decomposition(
        table=frame[cols], notes=notes, seasons=kept, method=" + ".join(labels), sources=sources
    )


def _moving_average(s: pd.Series, notes: list[str]) -> Decomposition:
    """No season to estimate: the trend is a centred moving average."""
    window = max(3, len(s) // 10) | 1
    note(
        notes,
        f"No seasonal period fits the series: trend is a centred {window}-period moving average.",
    )
    trend = s.rolling(window, center=True, min_periods=1).mean()
    return Decomposition(
        table=pd.DataFrame({"observed": s, "trend": trend, "resid": s - trend}),
        notes=notes,
        method="moving average",
        sources={"trend": "moving average", "resid": "rest"},
    )


def _stl(
    s: pd.Series, steps: list[int], robust: bool, kwargs: dict[str, Any], mstl: bool = False
) -> tuple[str, pd.Series, dict[int, pd.Series], pd.Series]:
    """STL (one season) or MSTL (several, or ``mstl``): label, trend, seasons, remainder."""
    from statsmodels.tsa.seasonal import MSTL, STL

    if len(steps) == 1 and not mstl:
        res = STL(s, period=steps[0], robust=robust, **kwargs).fit()
        return f"STL (period {steps[0]})", res.trend, {steps[0]: res.seasonal}, res.resid
    kw = dict(kwargs)
    stl_kwargs = dict(kw.pop("stl_kwargs", {}) or {})
    stl_kwargs.setdefault("robust", robust)
    mres = MSTL(s, periods=steps, stl_kwargs=stl_kwargs, **kw).fit()
    seas = mres.seasonal  # a Series for one period, a frame for several
    seasonal = {p: seas if seas.ndim == 1 else seas[f"seasonal_{p}"] for p in steps}
    label = f"MSTL (period{'s' if len(steps) > 1 else ''} " + ", ".join(map(str, steps)) + ")"
    return label, mres.trend, seasonal, mres.resid


def _names(ps: list[_Season], with_trend: bool = False) -> str:
    """``weekly season``, ``weekly and yearly seasons``, ``trend, weekly and yearly seasons``."""
    names = [p.name for p in ps]
    text = " and ".join(names) + (" seasons" if len(names) > 1 else " season")
    if with_trend:
        text = ("trend, " if len(names) > 1 else "trend and ") + text
    return text


def _cycles(ps: list[_Season], prefix: str = "") -> str:
    """``104 full cycles`` / ``156 and 3.0 full cycles`` (one count per season)."""
    counts = [f"{p.cycles:.0f}" if p.cycles >= 10 else f"{p.cycles:.1f}" for p in ps]
    return f"{prefix}{' and '.join(counts)} full cycle{'' if counts == ['1.0'] else 's'}"


def _order(order: int, p: _Season) -> int:
    """Harmonics used for season ``p``: at most ``(steps - 1) // 2``."""
    return max(1, min(order, (p.steps - 1) // 2))


@dataclass(kw_only=True)
class SeasonalProfile(Result):
    """The result of :func:`seasonal_profile`.

    Attributes
    ----------
    table
        One row per position in the cycle (``weekday`` names for a weekly cycle on daily
        data, else ``position`` 0..season-1): ``effect`` (mean seasonal component, in the
        series' unit) and ``effect_pct`` (relative to the mean trend).
    """

    @property
    def best(self) -> tuple[Any, float]:
        """The position with the largest effect and its ``effect_pct``."""
        e = self.table["effect_pct"]
        return e.idxmax(), float(e.max())

    @property
    def worst(self) -> tuple[Any, float]:
        """The position with the smallest effect and its ``effect_pct``."""
        e = self.table["effect_pct"]
        return e.idxmin(), float(e.min())


def seasonal_profile(
    decomposition: Decomposition | pd.DataFrame, season: int = 7
) -> SeasonalProfile:
    """The average seasonal effect per position in the cycle, relative to the level.

    Parameters
    ----------
    decomposition
        A :func:`decompose` result (or its table) with ``trend`` and ``seasonal_<season>``.
    season
        The season length in steps (7: day of week on daily data).

    Returns
    -------
    SeasonalProfile
        ``table`` with ``effect`` and ``effect_pct`` per position; skipped when the
        decomposition has no such season (the series was too short for it).
    """
    dec = decomposition.table if isinstance(decomposition, Result) else decomposition
    col = f"seasonal_{season}"
    if col not in dec:
        return SeasonalProfile.skipped(
            f"the decomposition has no season of {season} periods (the series is too short)"
        )
    idx = dec.index
    if season == 7 and step_days(idx.freq or pd.tseries.frequencies.to_offset("D")) == 1.0:
        key = pd.Index(idx.dayofweek, name="weekday")
        names: list[str] | None = WEEKDAYS
    else:
        key = pd.Index(np.arange(len(idx)) % season, name="position")
        names = None
    eff = dec[col].groupby(key).mean()
    level = float(dec["trend"].mean())
    out = pd.DataFrame({"effect": eff, "effect_pct": eff / level if level else np.nan})
    if names:
        out.index = pd.Index([names[i] for i in out.index], name="weekday")
    return SeasonalProfile(table=out)


__all__ = [
    "MAX_FOURIER_ORDER",
    "MIN_STL_CYCLES",
    "Decomposition",
    "SeasonalProfile",
    "decompose",
    "seasonal_profile",
]
