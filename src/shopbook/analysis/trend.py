"""Market trend: decomposition, changepoints, festival effects, forecasts, backtests.

Every function takes a regular :class:`pandas.Series` with a
:class:`~pandas.DatetimeIndex` (daily, weekly, monthly, …) — ours from
:mod:`shopbook.features.kpis` or anyone else's — and returns a small frame or a small
result object. The models are statsmodels' (STL/MSTL, OLS with HAC errors, SARIMAX,
ETS) and ruptures' (changepoints); this module only prepares the series, builds the
regressors and reads the results back in business terms.

Input problems are repaired *and stated*, never silently:

* gaps in the dates and missing values are filled by linear interpolation,
* duplicate timestamps are summed,
* seasons the series is too short for (fewer than two full cycles) are dropped,
* a series with zeros or negative values (refunds netted out) is modelled on its own
  scale instead of the log scale,
* an all-constant series (e.g. all zeros) gets a flat forecast with zero-width intervals.

Each frame returned carries those statements in ``frame.attrs["notes"]`` (a list of
sentences) — the notebook shows them under the result.

Festivals
---------
An *event* is ``{"name", "start", "end"}`` (and optionally ``"peak"``, default ``end``).
Its effect is split into three windows, each compared with a counterfactual baseline:

* **pre-heat** — ``start`` to the day before ``peak``,
* **peak** — ``peak`` to ``end`` (one day for 618 and Double 11),
* **post** — the ``post_days`` days after ``end`` (the post-festival dip).

:func:`default_events` gives 618 (June 1–18, peak the 18th) and Double 11
(November 1–11, peak the 11th) for every year of a date range; ``events=None`` means
those.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: Window names, in time order.
WINDOWS = ("pre-heat", "peak", "post")

#: The festivals every notebook knows: (name, month, first day, peak = last day).
FESTIVALS: tuple[tuple[str, int, int, int], ...] = (("618", 6, 1, 18), ("Double 11", 11, 1, 11))

#: Seasonal periods in **days** (converted to steps of the series' frequency).
DEFAULT_PERIODS = (7, 365)


# ----------------------------------------------------------------------------- input


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


def _step_days(freq: pd.DateOffset) -> float:
    """Length of one step of ``freq`` in days (months and years approximately)."""
    try:
        return pd.Timedelta(freq).total_seconds() / 86400.0
    except (ValueError, TypeError):
        base = pd.Timestamp("2001-01-01")
        return float((base + 12 * freq - base).days) / 12.0


def regularize(series: pd.Series, freq: str | None = None) -> tuple[pd.Series, list[str]]:
    """A regular, gap-free float series and the sentences that say what was repaired.

    Parameters
    ----------
    series
        Values indexed by a :class:`~pandas.DatetimeIndex` (any order, with gaps or
        duplicates).
    freq
        The frequency (``"D"``, ``"W-MON"``, ``"MS"``, …); default: inferred from the
        index, else its most common spacing.

    Returns
    -------
    (pandas.Series, list of str)
        The regular series (float, with ``.index.freq`` set) and the notes.

    Raises
    ------
    TypeError
        When the index is not a DatetimeIndex.
    ValueError
        When fewer than three values remain.
    """
    notes: list[str] = []
    if not isinstance(series, pd.Series):
        series = pd.Series(series)
    if not isinstance(series.index, pd.DatetimeIndex):
        raise TypeError(
            f"expected a Series indexed by dates (DatetimeIndex), found {type(series.index).__name__}; "
            "set the index with series.index = pd.to_datetime(...)"
        )
    s = pd.to_numeric(series, errors="coerce").astype("float64")
    if s.index.tz is not None:
        s.index = s.index.tz_localize(None)
    s = s.sort_index()
    if s.index.has_duplicates:
        n_dup = int(s.index.duplicated().sum())
        s = s.groupby(level=0).sum(min_count=1)
        _note(notes, f"{n_dup} duplicate timestamps were summed.")
    if len(s) < 3:
        raise ValueError(f"need at least 3 values, found {len(s)}")
    if freq is None:
        freq = s.index.freq or pd.infer_freq(s.index)
        if freq is None:
            step = pd.Series(s.index[1:] - s.index[:-1]).mode().iloc[0]
            freq = pd.tseries.frequencies.to_offset(step)
    offset = pd.tseries.frequencies.to_offset(freq)
    full = pd.date_range(s.index[0], s.index[-1], freq=offset)
    missing_dates = full.difference(s.index)
    off_grid = s.index.difference(full)
    if len(off_grid):
        raise ValueError(
            f"{len(off_grid)} timestamps are not on the {offset.freqstr} grid starting "
            f"{s.index[0].date()} (first: {off_grid[0]}); resample the series first"
        )
    s = s.reindex(full)
    n_nan = int(s.isna().sum())
    if n_nan:
        first = s.index[s.isna()][0]
        what = (f"{len(missing_dates)} missing dates" if len(missing_dates) else "") + (
            (" and " if len(missing_dates) else "") + f"{n_nan - len(missing_dates)} missing values"
            if n_nan > len(missing_dates)
            else ""
        )
        s = s.interpolate(method="time", limit_direction="both")
        _note(notes, f"{what} (first {first.date()}) filled by linear interpolation.")
    s.index.freq = offset
    s.name = series.name
    return s, notes


def _periods_in_steps(
    s: pd.Series, periods: Iterable[float], notes: list[str], what: str = "seasonal terms"
) -> list[int]:
    """Seasonal periods given in days → whole steps of the series; too-long ones dropped."""
    step = _step_days(s.index.freq)
    out: list[int] = []
    for p in periods:
        steps = int(round(float(p) / step))
        if steps < 2:
            continue  # e.g. a weekly cycle in weekly data: no within-period cycle to fit
        if len(s) < 2 * steps:
            _note(
                notes,
                f"The series has {len(s)} periods, fewer than two full seasons of {p:g} days "
                f"({2 * steps} periods): the {_season_name(p)} {what} were dropped.",
            )
            continue
        if steps not in out:
            out.append(steps)
    return sorted(out)


def _season_name(days: float) -> str:
    return {7: "weekly", 365: "yearly", 30: "monthly", 91: "quarterly"}.get(
        int(round(days)), f"{days:g}-day"
    )


def _with_notes(frame: pd.DataFrame, notes: list[str], **attrs: Any) -> pd.DataFrame:
    frame.attrs["notes"] = list(notes)
    frame.attrs.update(attrs)
    return frame


def _positive_log(s: pd.Series, transform: str | None, notes: list[str]) -> bool:
    """Whether to model on the log scale."""
    if transform in (None, "none"):
        return False
    if transform not in ("auto", "log"):
        raise ValueError(f"transform must be 'auto', 'log' or None, found {transform!r}")
    if (s <= 0).any():
        neg = int((s < 0).sum())
        zero = int((s == 0).sum())
        parts = [f"{neg} negative" if neg else "", f"{zero} zero" if zero else ""]
        _note(
            notes,
            f"The series has {' and '.join(p for p in parts if p)} values "
            "(days without sales, or refunds netted out), so it is modelled on its own scale, not in logs.",
        )
        return False
    return True


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    """One dated occurrence of a festival or promotion.

    Attributes
    ----------
    name
        What it is called, e.g. ``"618"``.
    start, end
        First and last day (inclusive).
    peak
        The main day; ``start``..``peak - 1`` is the pre-heat, ``peak``..``end`` the peak.
    """

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    peak: pd.Timestamp

    @property
    def label(self) -> str:
        """``name`` plus the year, e.g. ``618 2024``, unless the name holds the year."""
        year = str(self.peak.year)
        return self.name if year in self.name else f"{self.name} {year}"

    def windows(self, post_days: int = 7) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
        """The pre-heat, peak and post windows as inclusive (first day, last day)."""
        out: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
        if self.peak > self.start:
            out["pre-heat"] = (self.start, self.peak - pd.Timedelta(days=1))
        out["peak"] = (self.peak, self.end)
        if post_days > 0:
            out["post"] = (self.end + pd.Timedelta(days=1), self.end + pd.Timedelta(days=post_days))
        return out


def default_events(start: Any, end: Any) -> list[dict[str, Any]]:
    """618 and Double 11 for every year from ``start`` to ``end``.

    Parameters
    ----------
    start, end
        Dates (anything :func:`pandas.Timestamp` accepts).

    Returns
    -------
    list of dict
        ``{"name", "start", "end", "peak"}`` per occurrence (dates as ISO strings),
        ordered by date.
    """
    y0, y1 = pd.Timestamp(start).year, pd.Timestamp(end).year
    out = []
    for year in range(y0, y1 + 1):
        for name, month, first, peak in FESTIVALS:
            out.append(
                {
                    "name": name,
                    "start": f"{year}-{month:02d}-{first:02d}",
                    "end": f"{year}-{month:02d}-{peak:02d}",
                    "peak": f"{year}-{month:02d}-{peak:02d}",
                }
            )
    return out


def as_events(
    events: Iterable[Mapping[str, Any] | Event] | None, start: Any = None, end: Any = None
) -> list[Event]:
    """Normalise an ``events`` parameter to :class:`Event` objects.

    Parameters
    ----------
    events
        A list of ``{"name", "start", "end"[, "peak"]}`` dicts (or :class:`Event`);
        ``None`` means :func:`default_events` between ``start`` and ``end``; ``[]`` none.
    start, end
        The date range for the default events.

    Raises
    ------
    ValueError
        When an event lacks a key, has unparseable dates, ends before it starts or has
        its peak outside its dates.
    """
    if events is None:
        if start is None or end is None:
            return []
        events = default_events(start, end)
    out = []
    for i, ev in enumerate(events):
        if isinstance(ev, Event):
            out.append(ev)
            continue
        missing = [k for k in ("name", "start", "end") if k not in ev]
        if missing:
            raise ValueError(
                f"event {i} ({dict(ev)!r}) lacks {', '.join(missing)}: "
                "write events as {name: ..., start: YYYY-MM-DD, end: YYYY-MM-DD}"
            )
        try:
            s0 = pd.Timestamp(ev["start"]).normalize()
            s1 = pd.Timestamp(ev["end"]).normalize()
            pk = pd.Timestamp(ev.get("peak") or ev["end"]).normalize()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"event {ev['name']!r}: dates must be YYYY-MM-DD ({exc})") from None
        if s1 < s0:
            raise ValueError(
                f"event {ev['name']!r} ends ({s1.date()}) before it starts ({s0.date()})"
            )
        if not s0 <= pk <= s1:
            raise ValueError(f"event {ev['name']!r}: peak {pk.date()} is not between start and end")
        out.append(Event(str(ev["name"]), s0, s1, pk))
    return sorted(out, key=lambda e: (e.start, e.name))


def event_windows(events: Iterable[Event], post_days: int = 7) -> pd.DataFrame:
    """One row per event window.

    Returns
    -------
    pandas.DataFrame
        Columns ``event`` (name), ``occurrence`` (label with the year), ``window``
        (pre-heat / peak / post), ``start``, ``end`` (inclusive), ``days``.
    """
    rows = []
    for ev in events:
        for w, (a, b) in ev.windows(post_days).items():
            rows.append(
                {
                    "event": ev.name,
                    "occurrence": ev.label,
                    "window": w,
                    "start": a,
                    "end": b,
                    "days": int((b - a).days) + 1,
                }
            )
    return pd.DataFrame(rows, columns=["event", "occurrence", "window", "start", "end", "days"])


def event_regressors(
    index: pd.DatetimeIndex, events: Iterable[Event], post_days: int = 7, pooled: bool = True
) -> pd.DataFrame:
    """Window indicators on ``index``.

    For a daily index a column is 1 on the window's days and 0 elsewhere; for a coarser
    index (weekly, monthly) it is the share of the period's days inside the window.

    Parameters
    ----------
    index
        A regular DatetimeIndex with a ``freq``.
    events
        :class:`Event` objects.
    post_days
        Length of the post-festival window.
    pooled
        ``True``: one column per event *name* and window (``618: peak``), shared by all
        years — what a forecast needs to carry an effect into next year. ``False``: one
        column per occurrence (``618 2024: peak``).

    Returns
    -------
    pandas.DataFrame
        Float indicators, indexed like ``index``; columns in event/window order.
    """
    freq = index.freq or pd.infer_freq(index)
    if freq is None:
        raise ValueError("the index needs a regular frequency")
    offset = pd.tseries.frequencies.to_offset(freq)
    days = pd.date_range(
        index[0].normalize(), (index[-1] + offset).normalize() - pd.Timedelta(days=1), freq="D"
    )
    if len(days) == 0:
        days = pd.DatetimeIndex([index[0].normalize()])
    cols: dict[str, np.ndarray] = {}
    for ev in events:
        key = ev.name if pooled else ev.label
        for w, (a, b) in ev.windows(post_days).items():
            name = f"{key}: {w}"
            hit = ((days >= a) & (days <= b)).astype(float)
            cols[name] = cols.get(name, 0) + hit
    daily = pd.DataFrame(cols, index=days)
    if (
        _step_days(offset) == 1.0
        and len(daily.index) == len(index)
        and (daily.index == index).all()
    ):
        return daily
    # a coarser series: share of the period's days inside each window
    bins = np.searchsorted(index.values, daily.index.values, side="right") - 1
    out = daily.groupby(bins).mean()
    out = out.reindex(range(len(index)), fill_value=0.0)
    out.index = index
    return out


# ----------------------------------------------------------------------- decompose


def decompose(
    series: pd.Series,
    periods: Sequence[float] = DEFAULT_PERIODS,
    *,
    robust: bool = True,
    **kwargs: Any,
) -> pd.DataFrame:
    """Trend, seasonal components and remainder: MSTL (several seasons) or STL (one).

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex (gaps are filled and stated).
    periods
        Seasonal periods **in days**: ``(7, 365)`` is weekly and yearly. They are
        converted to steps of the series (``365`` → 52 for weekly data, 12 for monthly);
        periods shorter than two steps, or longer than half the series, are dropped
        (stated in ``attrs["notes"]``).
    robust
        Robust LOESS fits, so festival spikes do not bend the seasonal pattern
        (statsmodels' ``robust=True``).
    **kwargs
        Passed to :class:`statsmodels.tsa.seasonal.MSTL` (or ``STL`` for one period).

    Returns
    -------
    pandas.DataFrame
        Columns ``observed``, ``trend``, ``seasonal_<p>`` per kept period (``p`` in
        steps, e.g. ``seasonal_7``, ``seasonal_365``), ``resid``; the sum of all but
        ``observed`` equals ``observed``. ``attrs``: ``notes``, ``periods`` (steps),
        ``method``.
    """
    from statsmodels.tsa.seasonal import MSTL, STL

    s, notes = regularize(series)
    steps = _periods_in_steps(s, periods, notes)
    frame = pd.DataFrame({"observed": s})
    if not steps:
        window = max(3, len(s) // 10) | 1
        trend = s.rolling(window, center=True, min_periods=1).mean()
        _note(
            notes,
            f"No seasonal period fits the series: trend is a centred {window}-period moving average.",
        )
        frame["trend"] = trend
        frame["resid"] = s - trend
        return _with_notes(frame, notes, periods=[], method="moving average")
    if len(steps) == 1:
        res = STL(s, period=steps[0], robust=robust, **kwargs).fit()
        frame["trend"] = res.trend
        frame[f"seasonal_{steps[0]}"] = res.seasonal
        method = f"STL (period {steps[0]})"
    else:
        stl_kwargs = dict(kwargs.pop("stl_kwargs", {}) or {})
        stl_kwargs.setdefault("robust", robust)
        res = MSTL(s, periods=steps, stl_kwargs=stl_kwargs, **kwargs).fit()
        frame["trend"] = res.trend
        seas = res.seasonal
        for p in steps:
            frame[f"seasonal_{p}"] = seas[f"seasonal_{p}"]
        method = "MSTL (periods " + ", ".join(map(str, steps)) + ")"
    frame["resid"] = res.resid
    return _with_notes(frame, notes, periods=steps, method=method)


def seasonal_profile(decomposition: pd.DataFrame, period: int = 7) -> pd.DataFrame:
    """The average seasonal effect per position in the cycle, relative to the level.

    Parameters
    ----------
    decomposition
        A frame from :func:`decompose` with ``trend`` and ``seasonal_<period>``.
    period
        The period in steps (7: day of week on daily data).

    Returns
    -------
    pandas.DataFrame
        One row per position (``weekday`` names for a weekly cycle on daily data, else
        0..period-1), columns ``effect`` (mean seasonal component, in the series' unit)
        and ``effect_pct`` (relative to the mean trend).
    """
    col = f"seasonal_{period}"
    if col not in decomposition:
        raise ValueError(f"no {col} column; decompose with that period first")
    idx = decomposition.index
    if period == 7 and _step_days(idx.freq or pd.tseries.frequencies.to_offset("D")) == 1.0:
        key = pd.Index(idx.dayofweek, name="weekday")
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    else:
        key = pd.Index(np.arange(len(idx)) % period, name="position")
        names = None
    eff = decomposition[col].groupby(key).mean()
    level = float(decomposition["trend"].mean())
    out = pd.DataFrame({"effect": eff, "effect_pct": eff / level if level else np.nan})
    if names:
        out.index = pd.Index([names[i] for i in out.index], name="weekday")
    return out


# --------------------------------------------------------------------- changepoints


def changepoints(
    series: pd.Series,
    *,
    events: Iterable[Mapping[str, Any] | Event] | None = None,
    periods: Sequence[float] = (7,),
    min_size: int | None = None,
    penalty: float | None = None,
    post_days: int = 7,
) -> pd.DataFrame:
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
        Windows to mask (``None``: 618 and Double 11 in every year; ``[]``: none).
    periods
        Seasonal periods in days removed first, as in :func:`decompose`. Default: the
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
    pandas.DataFrame
        One row per changepoint: ``date`` (first day of the new segment), ``level_before``
        and ``level_after`` (mean deseasonalised value of the 28 days — or ``min_size``
        steps — either side), ``change`` and ``change_pct``. Empty when the trend has no
        break. ``attrs``: ``notes``, ``penalty``, ``segments`` (fitted piecewise-linear
        trend as a Series).
    """
    import ruptures as rpt

    dec = decompose(series, periods)
    notes = list(dec.attrs["notes"])
    seasonal = dec.filter(like="seasonal_").sum(axis=1)
    x = dec["observed"] - seasonal
    s = dec["observed"]
    evs = as_events(events, s.index[0], s.index[-1])
    keep = np.ones(len(x), dtype=bool)
    if evs:
        masked = (event_regressors(s.index, evs, post_days, pooled=True).sum(axis=1) > 0).to_numpy()
        if not masked.all():
            keep = ~masked
    daily = _step_days(s.index.freq) == 1.0
    if min_size is None:
        min_size = 28 if daily else 6
    cols = ["date", "level_before", "level_after", "change", "change_pct"]
    values = x.to_numpy(dtype=float)[keep]  # event days are left out, not interpolated
    dates = s.index[keep]
    n = len(values)
    if n < 2 * min_size + 1 or float(np.nanstd(values)) == 0.0:
        _note(notes, "The series is too short or flat for changepoints.")
        return _with_notes(
            pd.DataFrame(columns=cols), notes, penalty=float("nan"), segments=x * np.nan
        )
    sigma = float(np.median(np.abs(np.diff(values)))) / 0.6745 / math.sqrt(2.0)
    if sigma == 0.0:
        sigma = float(np.std(np.diff(values))) / math.sqrt(2.0) or 1.0
    pen = float(penalty) if penalty is not None else 10.0 * sigma**2 * math.log(n)
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
    # the fitted piecewise-linear trend on every date, for plotting
    fitted = np.empty(len(x))
    edges = [0, *[int(np.searchsorted(t_all, t[b])) for b in bkps], len(x)]
    kedges = [0, *bkps, n]
    for (a, b), (ka, kb) in zip(
        zip(edges[:-1], edges[1:], strict=True),
        zip(kedges[:-1], kedges[1:], strict=True),
        strict=True,
    ):
        coef = np.polyfit(t[ka:kb], values[ka:kb], 1)
        fitted[a:b] = np.polyval(coef, t_all[a:b])
    return _with_notes(
        pd.DataFrame(rows, columns=cols),
        notes,
        penalty=pen,
        segments=pd.Series(fitted, index=s.index, name="segments"),
    )


# -------------------------------------------------------------------- event effects


def _trend_basis(n: int, knot_every: int) -> np.ndarray:
    """A smooth trend: cubic B-splines with a knot every ``knot_every`` steps (patsy)."""
    from patsy import bs

    t = np.arange(n, dtype=float)
    df = max(3, int(round(n / knot_every)) + 3)
    return np.asarray(bs(t, df=df, degree=3, include_intercept=False))


def event_effects(
    series: pd.Series,
    events: Iterable[Mapping[str, Any] | Event] | None = None,
    *,
    post_days: int = 7,
    transform: str | None = "auto",
    knot_every: int = 56,
    ar_order: int = 1,
    level: float = 0.95,
) -> pd.DataFrame:
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
    pandas.DataFrame
        One row per occurrence and window (``pre-heat``, ``peak``, ``post``, ``total``):
        ``event``, ``occurrence``, ``window``, ``start``, ``end``, ``days``, ``observed``
        (sum), ``baseline`` (counterfactual sum), ``uplift``, ``uplift_lo``,
        ``uplift_hi`` (absolute, in the series' unit), ``uplift_pct``,
        ``uplift_pct_lo``, ``uplift_pct_hi`` (fractions of the baseline), ``p_value``.
        ``attrs``: ``notes``, ``model`` (the statsmodels results), ``scale``
        (``"log"``/``"level"``), ``level``.
    """
    import statsmodels.api as sm

    s, notes = regularize(series)
    if _step_days(s.index.freq) != 1.0:
        raise ValueError(
            f"event effects need a daily series, found frequency {s.index.freq.freqstr}; "
            "aggregate by day (kpis(..., freq='D'))"
        )
    cols = [
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
    evs = as_events(events, s.index[0], s.index[-1])
    inside = []
    for ev in evs:
        wins = ev.windows(post_days)
        first = min(a for a, _ in wins.values())
        last = max(b for _, b in wins.values())
        if first >= s.index[0] and last <= s.index[-1]:
            inside.append(ev)
        elif last >= s.index[0] and first <= s.index[-1]:
            _note(
                notes,
                f"{ev.label}: its windows are not wholly inside the data "
                f"({s.index[0].date()} to {s.index[-1].date()}), so it was left out.",
            )

    def empty() -> pd.DataFrame:
        return _with_notes(pd.DataFrame(columns=cols), notes, model=None, scale=None, level=level)

    if not inside:
        _note(notes, "No event falls inside the data.")
        return empty()
    if float(s.std()) == 0.0:
        _note(notes, "The series is constant: no effect can be estimated.")
        return empty()
    use_log = _positive_log(s, transform, notes)
    y = np.log(s.to_numpy()) if use_log else s.to_numpy()
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
    X = sm.add_constant(
        pd.concat([X, dow, pd.DataFrame(D, index=s.index, columns=day_cols)], axis=1),
        has_constant="add",
    )
    # Regression with AR(ar_order) errors by iterated feasible GLS. Not HAC: a sandwich
    # estimator gives a one-day effect a near-zero standard error, because that day's
    # residual is fitted exactly; GLS keeps the error variance in its SE.
    res = sm.GLSAR(y, X, rho=ar_order).iterative_fit(maxiter=20)
    beta = pd.Series(np.asarray(res.params), index=X.columns)
    cov = pd.DataFrame(np.asarray(res.cov_params()), index=X.columns, columns=X.columns)
    z = float(stats.norm.ppf(0.5 + level / 2))

    def summarise(a: pd.Timestamp, b: pd.Timestamp) -> dict[str, float]:
        names = [f"day_{d:%Y-%m-%d}" for d in pd.date_range(a, b, freq="D")]
        bd = beta[names].to_numpy()
        V = cov.loc[names, names].to_numpy()
        obs_d = s.loc[a:b].to_numpy()
        obs = float(obs_d.sum())
        if use_log:
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

    rows = []
    for ev in inside:
        wins = ev.windows(post_days)
        for w, (a, b) in wins.items():
            rows.append(
                {
                    "event": ev.name,
                    "occurrence": ev.label,
                    "window": w,
                    "start": a,
                    "end": b,
                    "days": int((b - a).days) + 1,
                    **summarise(a, b),
                }
            )
        if len(wins) > 1:
            a = min(x for x, _ in wins.values())
            b = max(y for _, y in wins.values())
            rows.append(
                {
                    "event": ev.name,
                    "occurrence": ev.label,
                    "window": "total",
                    "start": a,
                    "end": b,
                    "days": int((b - a).days) + 1,
                    **summarise(a, b),
                }
            )
    out = pd.DataFrame(rows, columns=cols)
    return _with_notes(out, notes, model=res, scale="log" if use_log else "level", level=level)


# ------------------------------------------------------------------------- forecast


@dataclass
class ForecastSpec:
    """What :func:`forecast` fits: the statsmodels model and its regressors.

    Built by :func:`forecast_spec`; exposed so a caller (or a test) can fit the very
    same model with statsmodels directly.

    Attributes
    ----------
    series
        The regular series (original scale).
    endog
        What the model sees: ``log(series)`` or ``series``.
    log
        Whether ``endog`` is on the log scale.
    order, seasonal_order
        SARIMAX orders.
    exog, exog_future
        Regressors over the history and the horizon (``None`` when there are none):
        short-season dummies (day of week), Fourier terms for the long seasons,
        event-window indicators.
    fixed
        The regression coefficients, estimated by OLS on first differences and held
        fixed while SARIMAX fits the ARMA part (``fit_constrained``).
    future_index
        The dates of the horizon.
    season
        The short season in steps (7 on daily data; 0 when none): dummies for SARIMAX,
        the seasonal component for ETS.
    notes
        What was repaired or dropped.
    """

    series: pd.Series
    endog: pd.Series
    log: bool
    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    exog: pd.DataFrame | None
    exog_future: pd.DataFrame | None
    future_index: pd.DatetimeIndex
    season: int = 0
    fixed: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def fourier_terms(
    index: pd.DatetimeIndex, period: float, order: int, origin: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Sine/cosine pairs of a seasonal ``period`` (in steps of ``index``'s frequency).

    Parameters
    ----------
    index
        A regular DatetimeIndex.
    period
        Season length in steps (365 for yearly on daily data).
    order
        Number of harmonics.
    origin
        The date of step 0 (default ``index[0]``), so history and horizon line up.
    """
    origin = index[0] if origin is None else origin
    step = _step_days(index.freq or pd.tseries.frequencies.to_offset(pd.infer_freq(index)))
    t = ((index - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float) / step
    cols = {}
    for k in range(1, order + 1):
        cols[f"sin{k}_{period:g}"] = np.sin(2 * np.pi * k * t / period)
        cols[f"cos{k}_{period:g}"] = np.cos(2 * np.pi * k * t / period)
    return pd.DataFrame(cols, index=index)


def forecast_spec(
    series: pd.Series,
    horizon: int,
    events: Iterable[Mapping[str, Any] | Event] | None = None,
    *,
    periods: Sequence[float] = DEFAULT_PERIODS,
    transform: str | None = "auto",
    fourier_order: int = 4,
    post_days: int = 7,
) -> ForecastSpec:
    """Choose the model :func:`forecast` fits (see there for the parameters)."""
    s, notes = regularize(series)
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, found {horizon}")
    future = pd.date_range(s.index[-1], periods=horizon + 1, freq=s.index.freq)[1:]
    future.freq = s.index.freq
    steps = _periods_in_steps(s, periods, notes, what="seasonal terms")
    use_log = _positive_log(s, transform, notes)
    endog = np.log(s) if use_log else s.copy()
    seasonal_order = (0, 0, 0, 0)
    season = 0
    fourier = list(steps)
    parts_h, parts_f = [], []
    if steps and steps[0] <= 24 and len(s) >= 3 * steps[0]:
        # the short season (day of week) as fixed effects: one dummy per position
        m = season = steps[0]
        fourier = steps[1:]
        parts_h.append(_season_dummies(s.index, m, s.index[0]))
        parts_f.append(_season_dummies(future, m, s.index[0]))
    step = _step_days(s.index.freq)
    for p in fourier:
        # the exact season length (365 days → 52.14 weeks), so Fourier terms do not drift
        exact = float(next(d for d in periods if int(round(float(d) / step)) == p)) / step
        k = max(1, min(fourier_order, int(p // 2)))
        parts_h.append(fourier_terms(s.index, exact, k, origin=s.index[0]))
        parts_f.append(fourier_terms(future, exact, k, origin=s.index[0]))
    evs = as_events(events, s.index[0], future[-1])
    if evs:
        full = pd.date_range(s.index[0], future[-1], freq=s.index.freq)
        ind = event_regressors(full, evs, post_days, pooled=True)
        hist = ind.loc[s.index]
        seen = hist.columns[(hist > 0).any()]
        unseen = [c for c in ind.columns if c not in seen and (ind.loc[future, c] > 0).any()]
        if unseen:
            _note(
                notes,
                "No past occurrence to learn from, so no effect is forecast for: "
                + ", ".join(unseen)
                + ".",
            )
        # a window present in the history but constant there cannot be estimated
        keep = [c for c in seen if hist[c].std() > 0]
        if keep:
            parts_h.append(hist[keep])
            parts_f.append(ind.loc[future, keep])
    exog = pd.concat(parts_h, axis=1) if parts_h else None
    exog_f = pd.concat(parts_f, axis=1) if parts_f else None
    fixed: dict[str, float] = {}
    if exog is not None:
        exog_f.index = future
        # Regression coefficients by OLS on first differences (the model's errors are
        # ARIMA(1,1,1), so the differenced regression is the consistent one); SARIMAX then
        # estimates only the ARMA part. Estimating all of them jointly by MLE is ~10× slower
        # on two years of days and gives the same forecasts to within noise.
        import statsmodels.api as sm

        dy = np.diff(endog.to_numpy())
        dx = np.diff(exog.to_numpy(), axis=0)
        keep = np.abs(dx).sum(axis=0) > 0
        exog, exog_f = exog.loc[:, keep], exog_f.loc[:, keep]
        beta = sm.OLS(dy, dx[:, keep]).fit().params
        fixed = dict(zip(exog.columns, map(float, beta), strict=True))
    return ForecastSpec(
        series=s,
        endog=endog,
        log=use_log,
        order=(1, 1, 1),
        seasonal_order=seasonal_order,
        exog=exog,
        exog_future=exog_f,
        future_index=future,
        season=season,
        fixed=fixed,
        notes=notes,
    )


def _season_dummies(index: pd.DatetimeIndex, m: int, origin: pd.Timestamp) -> pd.DataFrame:
    """Indicators of the position in a cycle of ``m`` steps (first position left out)."""
    step = _step_days(index.freq)
    pos = (
        np.rint(((index - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float) / step).astype(int)
        % m
    )
    if m == 7 and step == 1.0:
        names = [f"{d:%a}" for d in pd.date_range(origin, periods=7, freq="D")]
    else:
        names = [f"season_{i}" for i in range(m)]
    return pd.DataFrame({names[i]: (pos == i).astype(float) for i in range(1, m)}, index=index)


def _intervals(mu: np.ndarray, sd: np.ndarray, log: bool, index: pd.DatetimeIndex) -> pd.DataFrame:
    z80, z95 = stats.norm.ppf(0.9), stats.norm.ppf(0.975)
    out = pd.DataFrame(index=index)
    f = np.exp if log else (lambda v: v)
    # on the log scale the mean of the log-normal is exp(mu + sd²/2); bounds map exactly
    out["mean"] = np.exp(mu + sd**2 / 2) if log else mu
    out["lo80"], out["hi80"] = f(mu - z80 * sd), f(mu + z80 * sd)
    out["lo95"], out["hi95"] = f(mu - z95 * sd), f(mu + z95 * sd)
    out.index.name = "date"
    return out


def forecast(
    series: pd.Series,
    horizon: int,
    events: Iterable[Mapping[str, Any] | Event] | None = None,
    *,
    model: str = "sarimax",
    periods: Sequence[float] = DEFAULT_PERIODS,
    transform: str | None = "auto",
    fourier_order: int = 4,
    post_days: int = 7,
) -> pd.DataFrame:
    """Forecast the next ``horizon`` periods with 80% and 95% prediction intervals.

    ``model="sarimax"`` (default): statsmodels SARIMAX — a regression with ARIMA(1,1,1)
    errors — on ``log(y)`` (``y`` when it has zeros or negatives). Regressors: dummies
    for the shortest season when it is at most 24 steps (day of week on daily data),
    Fourier terms for the longer seasons (yearly, when the series covers two years) and
    one indicator per event name and window (pre-heat, peak, post), shared across years
    so last year's 618 informs this year's. The regression coefficients are estimated
    by OLS on the differenced series and held fixed while SARIMAX estimates the ARMA
    part by maximum likelihood (see :class:`ForecastSpec`). ``model="ets"``: statsmodels ETS (additive errors, damped additive
    trend, additive season ``m``) on the same scale, without regressors.

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex (daily, weekly, monthly…).
    horizon
        Number of periods to forecast.
    events
        ``{"name", "start", "end"[, "peak"]}`` dicts; ``None``: 618 and Double 11 in every
        year of history and horizon; ``[]``: no event regressors.
    model
        ``"sarimax"`` or ``"ets"``.
    periods
        Seasonal periods in days, as in :func:`decompose`.
    transform
        ``"auto"``, ``"log"`` or ``None``.
    fourier_order
        Harmonics per long season.
    post_days
        Post-festival window length.

    Returns
    -------
    pandas.DataFrame
        Indexed by the horizon's dates: ``mean``, ``lo80``, ``hi80``, ``lo95``,
        ``hi95``. On the log scale ``mean`` is the log-normal mean and the bounds are
        the transformed quantiles. ``attrs``: ``notes``, ``model`` (a description),
        ``spec`` (:class:`ForecastSpec`), ``results`` (the statsmodels results).
    """
    spec = forecast_spec(
        series,
        horizon,
        events,
        periods=periods,
        transform=transform,
        fourier_order=fourier_order,
        post_days=post_days,
    )
    notes = spec.notes
    s = spec.series
    if float(s.std()) == 0.0:
        _note(notes, "The series is constant: the forecast repeats it, with no uncertainty.")
        v = np.full(horizon, float(s.iloc[-1]))
        out = pd.DataFrame(
            {c: v for c in ("mean", "lo80", "hi80", "lo95", "hi95")}, index=spec.future_index
        )
        out.index.name = "date"
        return _with_notes(out, notes, model="constant", spec=spec, results=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the backtest judges the model
        if model == "sarimax":
            res = _fit_sarimax(spec)
            fc = res.get_forecast(horizon, exog=spec.exog_future)
            mu = np.asarray(fc.predicted_mean, dtype=float)
            sd = np.sqrt(np.asarray(fc.var_pred_mean, dtype=float))
            seas = f"x{spec.seasonal_order}" if any(spec.seasonal_order) else ""
            desc = (
                f"SARIMAX{spec.order}{seas}".replace(" ", "")
                + (f" with {spec.exog.shape[1]} regressors" if spec.exog is not None else "")
                + (" on log values" if spec.log else "")
            )
        elif model == "ets":
            res = _fit_ets(spec)
            pr = res.get_prediction(start=len(spec.endog), end=len(spec.endog) + horizon - 1)
            mu = np.asarray(pr.predicted_mean, dtype=float)
            sd = np.sqrt(np.asarray(pr.var_pred_mean, dtype=float))
            m = spec.season
            desc = f"ETS(A,Ad,{'A' if m else 'N'}{', ' + str(m) if m else ''})" + (
                " on log values" if spec.log else ""
            )
            if spec.exog is not None and spec.exog.shape[1] > max(spec.season - 1, 0):
                _note(notes, "ETS takes no regressors: events and long seasons are not modelled.")
        else:
            raise ValueError(f"model must be 'sarimax' or 'ets', found {model!r}")
    out = _intervals(mu, sd, spec.log, spec.future_index)
    return _with_notes(out, notes, model=desc, spec=spec, results=res)


def _fit_sarimax(spec: ForecastSpec):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    mod = SARIMAX(spec.endog, exog=spec.exog, order=spec.order, seasonal_order=spec.seasonal_order)
    if spec.fixed:
        return mod.fit_constrained(spec.fixed, disp=False)
    return mod.fit(disp=False)


def _fit_ets(spec: ForecastSpec):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    m = spec.season
    mod = ETSModel(
        spec.endog,
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add" if m else None,
        seasonal_periods=m or None,
    )
    return mod.fit(disp=False)


def seasonal_naive(series: pd.Series, horizon: int, season: int | None = None) -> pd.DataFrame:
    """The seasonal naive forecast: each future period repeats the same period one season ago.

    Intervals are normal with the spread of the in-sample seasonal differences, widening
    with the number of whole seasons ahead (Hyndman & Athanasopoulos, *FPP3* §5.5).

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex.
    horizon
        Periods ahead.
    season
        Season length in steps; default 7 for daily, 52 for weekly, 12 for monthly data
        (1 — the plain naive forecast — when the series is shorter than two seasons).

    Returns
    -------
    pandas.DataFrame
        ``mean``, ``lo80``, ``hi80``, ``lo95``, ``hi95`` indexed by the horizon's dates;
        ``attrs["season"]``.
    """
    s, notes = regularize(series)
    m = season or _default_season(s)
    if len(s) <= m:
        m = 1
    future = pd.date_range(s.index[-1], periods=horizon + 1, freq=s.index.freq)[1:]
    v = s.to_numpy()
    h = np.arange(1, horizon + 1)
    k = (h - 1) // m
    mu = v[len(v) - m + (h - 1) % m]
    resid = v[m:] - v[:-m]
    sigma = float(np.std(resid, ddof=1)) if len(resid) > 1 else 0.0
    sd = sigma * np.sqrt(k + 1)
    out = _intervals(mu, sd, False, future)
    return _with_notes(out, notes, season=m, model=f"seasonal naive (season {m})")


def _default_season(s: pd.Series) -> int:
    step = _step_days(s.index.freq)
    for days in (7, 365):
        m = int(round(days / step))
        if m >= 2 and len(s) >= 2 * m:
            return m
    return 1


# ------------------------------------------------------------------------- backtest


@dataclass
class Backtest:
    """The result of :func:`backtest`.

    Attributes
    ----------
    summary
        One row per method (``model``, ``seasonal naive``): ``mase``, ``coverage80``,
        ``coverage95`` (share of actuals inside the intervals).
    folds
        One row per fold and method: ``origin`` (last training date), ``mase``,
        ``coverage80``, ``coverage95``.
    predictions
        Every forecast made: ``origin``, ``date``, ``method``, ``actual``, ``mean``,
        ``lo80``, ``hi80``, ``lo95``, ``hi95``.
    model
        Description of the model.
    season
        The seasonal-naive season (steps), also the MASE scale's lag.
    notes
        Statements about the input.
    """

    summary: pd.DataFrame
    folds: pd.DataFrame
    predictions: pd.DataFrame
    model: str
    season: int
    notes: list[str] = field(default_factory=list)

    @property
    def mase_model(self) -> float:
        return float(self.summary.loc["model", "mase"])

    @property
    def mase_naive(self) -> float:
        return float(self.summary.loc["seasonal naive", "mase"])

    @property
    def beats_naive(self) -> bool:
        """Whether the model's MASE is below the seasonal naive's."""
        return self.mase_model < self.mase_naive


def backtest(
    series: pd.Series,
    horizon: int,
    folds: int = 3,
    *,
    step: int | None = None,
    events: Iterable[Mapping[str, Any] | Event] | None = None,
    **forecast_kwargs: Any,
) -> Backtest:
    """Rolling-origin backtest of :func:`forecast` against the seasonal naive forecast.

    The last ``folds`` origins are ``step`` periods apart (default ``horizon``), the last
    one ``horizon`` periods before the end; at each the model is refitted on the data up
    to the origin and forecasts ``horizon`` periods. Errors are scaled by the in-sample
    mean absolute seasonal difference of each training set (MASE, Hyndman & Koehler
    2006); MASE < 1 beats the in-sample seasonal naive, and the comparison that matters
    is the model's MASE against the seasonal naive's on the same folds.

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex.
    horizon
        Periods ahead per fold.
    folds
        Number of origins.
    step
        Periods between origins (default ``horizon``).
    events
        As in :func:`forecast`.
    **forecast_kwargs
        Passed to :func:`forecast` (``model``, ``transform``, …).

    Returns
    -------
    Backtest
    """
    s, notes = regularize(series)
    step = step or horizon
    m = _default_season(s)
    origins = [len(s) - horizon - i * step for i in range(folds)][::-1]
    if origins[0] < max(2 * m, 10):
        raise ValueError(
            f"{folds} folds of {horizon} periods leave too little history "
            f"({origins[0]} periods) for the first fit; use fewer folds"
        )
    preds, fold_rows = [], []
    desc = ""
    for o in origins:
        train, test = s.iloc[:o], s.iloc[o : o + horizon]
        scale = float(np.mean(np.abs(train.to_numpy()[m:] - train.to_numpy()[:-m])))
        fc = forecast(train, horizon, events, **forecast_kwargs)
        desc = fc.attrs["model"]
        nv = seasonal_naive(train, horizon, season=m)
        for method, f in (("model", fc), ("seasonal naive", nv)):
            f = f.iloc[: len(test)]
            a = test.to_numpy()
            err = np.abs(a - f["mean"].to_numpy())
            fold_rows.append(
                {
                    "origin": train.index[-1],
                    "method": method,
                    "mase": float(err.mean() / scale) if scale else np.nan,
                    "coverage80": float(np.mean((a >= f["lo80"]) & (a <= f["hi80"]))),
                    "coverage95": float(np.mean((a >= f["lo95"]) & (a <= f["hi95"]))),
                }
            )
            p = f.copy()
            p.insert(0, "actual", a)
            p.insert(0, "method", method)
            p.insert(0, "origin", train.index[-1])
            preds.append(p.reset_index())
    fold_df = pd.DataFrame(fold_rows)
    summary = fold_df.groupby("method", sort=False)[["mase", "coverage80", "coverage95"]].mean()
    summary.index.name = "method"
    return Backtest(
        summary=summary,
        folds=fold_df,
        predictions=pd.concat(preds, ignore_index=True),
        model=desc,
        season=m,
        notes=notes,
    )


# -------------------------------------------------------------------------- growth


_COMPARISONS = {
    "D": (
        ("DoD", pd.DateOffset(days=1)),
        ("WoW", pd.DateOffset(days=7)),
        ("YoY", pd.DateOffset(days=364)),
    ),
    "W": (("WoW", pd.DateOffset(weeks=1)), ("YoY", pd.DateOffset(weeks=52))),
    "M": (("MoM", pd.DateOffset(months=1)), ("YoY", pd.DateOffset(months=12))),
}


def _period_end(start: pd.Timestamp, freq: str) -> pd.Timestamp:
    return {"D": start, "W": start + pd.Timedelta(days=6), "M": start + pd.offsets.MonthEnd(0)}[
        freq
    ]


def period_label(start: pd.Timestamp, freq: str) -> str:
    """``2024-12-31`` (day), ``2024-W52 (12-23–12-29)`` (week), ``2024-12`` (month)."""
    start = pd.Timestamp(start)
    if freq == "D":
        return start.date().isoformat()
    if freq == "W":
        iso = start.isocalendar()
        end = _period_end(start, "W")
        return f"{iso.year}-W{iso.week:02d} ({start:%m-%d}–{end:%m-%d})"
    if freq == "M":
        return f"{start:%Y-%m}"
    raise ValueError(f"freq must be 'D', 'W' or 'M', found {freq!r}")


def growth(
    frame: pd.DataFrame | pd.Series,
    freq: str,
    metrics: Sequence[str] = ("gmv", "orders", "customers", "aov"),
    *,
    through: Any = None,
    period: str = "period",
) -> pd.DataFrame:
    """Growth of the latest complete period against the one before and a year before.

    Parameters
    ----------
    frame
        One row per period with a ``period`` column (period start: the day, the Monday
        of the week, the first of the month) and the ``metrics`` columns — what
        :func:`shopbook.features.kpis.kpis` returns without ``by`` — or a Series
        indexed by period start.
    freq
        ``"D"`` (day-on-day, week-on-week, year-on-year = 364 days, same weekday),
        ``"W"`` (WoW, YoY = 52 weeks earlier) or ``"M"`` (MoM, YoY).
    metrics
        Columns to compare (those present are used).
    through
        The last day with data; a period ending after it is incomplete and not
        compared (default: the last period is taken as complete).

    Returns
    -------
    pandas.DataFrame
        One row per comparison and metric: ``comparison`` (WoW/MoM/YoY…), ``metric``,
        ``period`` and ``compared_to`` (labels), ``value``, ``previous``, ``change``,
        ``change_pct``. ``attrs["notes"]``.
    """
    notes: list[str] = []
    if isinstance(frame, pd.Series):
        frame = frame.rename(frame.name or "value").rename_axis(period).reset_index()
        metrics = [frame.columns[1]]
    f = frame.copy()
    f[period] = pd.to_datetime(f[period])
    f = f.set_index(period).sort_index()
    metrics = [m for m in metrics if m in f.columns]
    cols = [
        "comparison",
        "metric",
        "period",
        "compared_to",
        "value",
        "previous",
        "change",
        "change_pct",
    ]
    if f.empty:
        return _with_notes(pd.DataFrame(columns=cols), ["No data."])
    last = f.index[-1]
    if through is not None and _period_end(last, freq) > pd.Timestamp(through).normalize():
        _note(
            notes,
            f"{period_label(last, freq)} is not complete (data end {pd.Timestamp(through).date()}); "
            "the period before it is compared.",
        )
        last = f.index[-2] if len(f) > 1 else last
    rows = []
    for name, offset in _COMPARISONS[freq]:
        prev = last - offset
        have = prev in f.index
        if not have:
            _note(notes, f"{name}: no data for {period_label(prev, freq)}.")
        for m in metrics:
            v = float(f.at[last, m])
            p = float(f.at[prev, m]) if have else np.nan
            rows.append(
                {
                    "comparison": name,
                    "metric": m,
                    "period": period_label(last, freq),
                    "compared_to": period_label(prev, freq),
                    "value": v,
                    "previous": p,
                    "change": v - p,
                    "change_pct": (v - p) / p if p else np.nan,
                }
            )
    return _with_notes(pd.DataFrame(rows, columns=cols), notes)


def shares(
    frame: pd.DataFrame, by: str, metric: str = "gmv", period: str = "period"
) -> pd.DataFrame:
    """Each group's share of the total per period.

    Parameters
    ----------
    frame
        Long frame with ``period``, ``by`` and ``metric`` columns.

    Returns
    -------
    pandas.DataFrame
        Index ``period``, one column per group, rows summing to 1 (periods with a zero
        total are left out).
    """
    wide = frame.pivot_table(index=period, columns=by, values=metric, aggfunc="sum", fill_value=0.0)
    total = wide.sum(axis=1)
    wide = wide.loc[total != 0].div(total[total != 0], axis=0)
    wide.columns.name = by
    return wide


def growth_share(
    frame: pd.DataFrame,
    by: str = "category",
    metric: str = "gmv",
    *,
    months: int = 12,
    through: Any = None,
    period: str = "period",
) -> pd.DataFrame:
    """Growth–share matrix data: each group's share of the total and its growth.

    The current window is the last ``months`` complete months, compared with the
    ``months`` before; when the data are shorter than two windows, the two most recent
    equal halves are used (stated).

    Parameters
    ----------
    frame
        Monthly long frame with ``period`` (month start), ``by`` and ``metric`` —
        ``kpis(..., freq="M", by="category")``.
    by
        The group column.
    metric
        The size measure (GMV).
    months
        Window length.
    through
        Last day with data; an incomplete last month is left out.

    Returns
    -------
    pandas.DataFrame
        One row per group, largest first: ``by``, ``value`` (metric in the current
        window), ``share``, ``growth`` (vs the previous window), ``share_previous``,
        ``share_change`` (percentage points as a fraction), ``quadrant`` (``star``,
        ``cash cow``, ``question mark``, ``dog``: share above/below an equal share
        ``1/groups``, growth above/below the total's), ``period``, ``compared_to``.
        ``attrs``: ``notes``, ``market_growth``, ``share_threshold``.
    """
    notes: list[str] = []
    f = frame.copy()
    f[period] = pd.to_datetime(f[period])
    wide = f.pivot_table(
        index=period, columns=by, values=metric, aggfunc="sum", fill_value=0.0
    ).sort_index()
    wide = wide.asfreq("MS", fill_value=0.0)
    if (
        through is not None
        and len(wide)
        and wide.index[-1] + pd.offsets.MonthEnd(0) > pd.Timestamp(through).normalize()
    ):
        _note(notes, f"{wide.index[-1]:%Y-%m} is incomplete and left out.")
        wide = wide.iloc[:-1]
    k = months
    if len(wide) < 2 * k:
        k = len(wide) // 2
        if k < 1:
            raise ValueError("need at least two complete months for growth")
        _note(
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
    hi_share, hi_growth = share_cur >= thr, g >= market
    quadrant = np.select(
        [hi_share & hi_growth, hi_share & ~hi_growth, ~hi_share & hi_growth],
        ["star", "cash cow", "question mark"],
        "dog",
    )
    label = lambda a, b: f"{a:%Y-%m}" if a == b else f"{a:%Y-%m}–{b:%Y-%m}"  # noqa: E731
    out = pd.DataFrame(
        {
            by: cur.index,
            "value": cur.to_numpy(),
            "share": share_cur.to_numpy(),
            "growth": g.to_numpy(),
            "share_previous": share_prev.to_numpy(),
            "share_change": (share_cur - share_prev).to_numpy(),
            "quadrant": quadrant,
            "period": label(wide.index[-k], wide.index[-1]),
            "compared_to": label(wide.index[-2 * k], wide.index[-k - 1]),
        }
    )
    out = out.sort_values("value", ascending=False, ignore_index=True)
    return _with_notes(out, notes, market_growth=market, share_threshold=thr)


__all__ = [
    "DEFAULT_PERIODS",
    "FESTIVALS",
    "WINDOWS",
    "Backtest",
    "Event",
    "ForecastSpec",
    "as_events",
    "backtest",
    "changepoints",
    "decompose",
    "default_events",
    "event_effects",
    "event_regressors",
    "event_windows",
    "forecast",
    "forecast_spec",
    "fourier_terms",
    "growth",
    "growth_share",
    "period_label",
    "regularize",
    "seasonal_naive",
    "seasonal_profile",
    "shares",
]
