"""Repurchase timing with censoring: Kaplan–Meier curves by segment (lifelines), the day
by which a share of the second purchases have happened, and the hazard peak (is day 7
the right coupon day?).

The input is :func:`shopbook.features.cohorts.second_purchase_times`: distinct
``days`` (first to second purchase day, or to the end for customers without one),
``repeated`` (the event), optionally ``segment``, and ``customers`` (the count). Every
estimate weights rows by ``customers``; the bootstrap intervals resample customers
(multinomially over the rows) with a fixed seed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter, NelsonAalenFitter

from shopbook.analysis.result import Result
from shopbook.i18n import _

#: The segment of the whole population in the curve table.
ALL = "all"


def km_survival(days: np.ndarray, event: np.ndarray, weights: np.ndarray) -> pd.Series:
    """Kaplan–Meier survival S(t) at each distinct time, from weighted rows (NumPy).

    The same product-limit estimate as :class:`lifelines.KaplanMeierFitter` (used by
    the bootstrap, where it is refitted hundreds of times).

    Returns
    -------
    pandas.Series
        S(t) indexed by the distinct times (float), starting at time 0.
    """
    d = np.asarray(days, float)
    e = np.asarray(event, bool)
    w = np.asarray(weights, float)
    times = np.unique(np.concatenate([[0.0], d]))
    deaths = np.bincount(np.searchsorted(times, d[e]), weights=w[e], minlength=len(times))
    leave = np.bincount(np.searchsorted(times, d), weights=w, minlength=len(times))
    at_risk = w.sum() - np.concatenate([[0.0], np.cumsum(leave)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(at_risk > 0, deaths / at_risk, 0.0)
    return pd.Series(np.cumprod(1 - h), index=times)


def _rows(times: pd.DataFrame, segment: str | None) -> pd.DataFrame:
    if segment is None or "segment" not in times.columns:
        return times
    return times[times["segment"] == segment]


@dataclass(kw_only=True)
class Curves(Result):
    """Kaplan–Meier curves of the time to the second purchase.

    Attributes
    ----------
    table
        ``segment, day, survival, ci_low, ci_high, repurchased`` (1 − survival): the
        lifelines estimate and its 95 % (exponential Greenwood) interval, up to the horizon.
    summary
        Per segment: ``customers``, ``repurchased_by_30d``, ``by_90d``, ``by_365d``
        (1 − S at those days; NaN past the longest follow-up).
    """

    summary: pd.DataFrame = field(default_factory=pd.DataFrame)


def repurchase_curves(times: pd.DataFrame, horizon: int = 365, min_customers: int = 50) -> Curves:
    """Kaplan–Meier curves of the days to the second purchase, overall and per segment.

    Parameters
    ----------
    times
        ``days``, ``repeated``, ``customers`` [, ``segment``].
    horizon
        Last day shown.
    min_customers
        Segments with fewer customers are left out (with a note).
    """
    if times.empty or int(times.loc[times["repeated"], "customers"].sum()) == 0:
        return Curves.skipped(_("no customer bought a second time"))
    segs = [ALL]
    res = Curves()
    if "segment" in times.columns:
        size = times.groupby("segment")["customers"].sum()
        small = sorted(size[size < min_customers].index)
        segs += sorted(size[size >= min_customers].index)
        if small:
            res.note(
                _("Left out (fewer than {n} customers): {names}.").format(
                    n=min_customers, names=", ".join(map(str, small))
                )
            )
    frames, summary = [], []
    grid = np.arange(0, horizon + 1)
    for seg in segs:
        r = times if seg == ALL else _rows(times, seg)
        kmf = KaplanMeierFitter().fit(
            r["days"], r["repeated"], weights=r["customers"], label=str(seg)
        )
        sf = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_survival_function_
        s = sf.reindex(grid, method="ffill")
        lo = ci.iloc[:, 0].reindex(grid, method="ffill")
        hi = ci.iloc[:, 1].reindex(grid, method="ffill")
        last = float(r["days"].max())
        keep = grid <= last
        frames.append(
            pd.DataFrame(
                {
                    "segment": str(seg),
                    "day": grid[keep],
                    "survival": s.to_numpy()[keep],
                    "ci_low": lo.to_numpy()[keep],
                    "ci_high": hi.to_numpy()[keep],
                }
            )
        )
        row = {"segment": str(seg), "customers": int(r["customers"].sum())}
        for d in (30, 90, 365):
            row[f"repurchased_by_{d}d"] = (
                float(1 - sf.loc[:d].iloc[-1]) if d <= last else float("nan")
            )
        summary.append(row)
    table = pd.concat(frames, ignore_index=True)
    table["repurchased"] = 1 - table["survival"]
    res.table = table
    res.summary = pd.DataFrame(summary)
    return res


def _share_day(s: pd.Series, share: float, horizon: int) -> float:
    f = 1 - s
    fh = float(f.loc[:horizon].iloc[-1])
    if fh <= 0:
        return float("nan")
    hit = f.index[(f.to_numpy() >= share * fh - 1e-12) & (f.index <= horizon)]
    return float(hit[0]) if len(hit) else float("nan")


def day_by_share(
    times: pd.DataFrame,
    share: float = 0.5,
    horizon: int = 365,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> Result:
    """The day by which ``share`` of the second purchases made within ``horizon`` days
    have happened (on the Kaplan–Meier incidence 1 − S), with a bootstrap interval.

    Returns
    -------
    Result
        ``table``: one row ``share, horizon, day, ci_low, ci_high,
        repurchased_by_horizon``; skipped without repeat buyers or when the longest
        follow-up is shorter than ``horizon``.
    """
    if times.empty or int(times.loc[times["repeated"], "customers"].sum()) == 0:
        return Result.skipped(_("no customer bought a second time"))
    if float(times["days"].max()) < horizon:
        return Result.skipped(
            _("the longest follow-up is {n} days, shorter than the horizon of {h}").format(
                n=int(times["days"].max()), h=horizon
            )
        )
    d, e, w = (times[c].to_numpy() for c in ("days", "repeated", "customers"))
    s = km_survival(d, e, w)
    day = _share_day(s, share, horizon)
    rng = np.random.default_rng(seed)
    n = int(w.sum())
    p = w / w.sum()
    boots = [
        _share_day(km_survival(d, e, rng.multinomial(n, p)), share, horizon) for _ in range(n_boot)
    ]
    a = (1 - level) / 2
    lo, hi = np.nanquantile(boots, [a, 1 - a])
    table = pd.DataFrame(
        [
            {
                "share": share,
                "horizon": horizon,
                "day": day,
                "ci_low": float(lo),
                "ci_high": float(hi),
                "repurchased_by_horizon": float(1 - s.loc[:horizon].iloc[-1]),
            }
        ]
    )
    return Result(table=table)


@dataclass(kw_only=True)
class HazardPeak(Result):
    """The smoothed hazard of the second purchase and its peak.

    Attributes
    ----------
    table
        ``day, hazard, ci_low, ci_high`` (lifelines' smoothed Nelson–Aalen hazard per
        day and its 95 % interval).
    peak_day, peak_low, peak_high
        The day of the highest hazard and the first and last day that cannot be told
        from it.
    coupon_day
        The day asked about, and ``coupon_in_peak`` whether it lies in the interval;
        ``coupon_ratio``: the hazard on that day over the peak hazard.
    """

    peak_day: float = float("nan")
    peak_low: float = float("nan")
    peak_high: float = float("nan")
    coupon_day: int = 7
    coupon_in_peak: bool = False
    coupon_ratio: float = float("nan")


def hazard_peak(
    times: pd.DataFrame,
    coupon_day: int = 7,
    horizon: int = 60,
    bandwidth: float = 3.0,
) -> HazardPeak:
    """Where the hazard of the second purchase peaks, with an interval.

    The hazard is lifelines' kernel-smoothed Nelson–Aalen estimate
    (:meth:`lifelines.NelsonAalenFitter.smoothed_hazard_`, Epanechnikov kernel of
    ``bandwidth`` days) on days ``bandwidth`` … ``horizon``; the peak's interval spans
    the days whose 95 % upper bound reaches the peak's lower bound — the days that cannot
    be told from the peak (a bootstrap of the argmax is too narrow on a flat peak).
    """
    if times.empty or int(times.loc[times["repeated"], "customers"].sum()) < 20:
        return HazardPeak.skipped(_("fewer than 20 customers bought a second time"))
    d = times["days"].to_numpy(float)
    e = times["repeated"].to_numpy(bool)
    w = times["customers"].to_numpy(float)
    naf = NelsonAalenFitter().fit(d, e, weights=w)
    with warnings.catch_warnings():  # lifelines divides by a zero hazard in its interval
        warnings.simplefilter("ignore", RuntimeWarning)
        sm = naf.smoothed_hazard_(bandwidth)
        ci = naf.smoothed_hazard_confidence_intervals_(bandwidth)
    grid = np.arange(np.ceil(bandwidth), horizon + 1, dtype=float)
    h = sm.iloc[:, 0]
    hz = h.reindex(grid, method="ffill").to_numpy()
    table = pd.DataFrame(
        {
            "day": grid.astype(int),
            "hazard": hz,
            "ci_low": ci.min(axis=1).reindex(grid, method="ffill").to_numpy(),
            "ci_high": ci.max(axis=1).reindex(grid, method="ffill").to_numpy(),
        }
    )
    k = int(np.nanargmax(hz))
    peak = float(grid[k])
    # the days whose hazard cannot be told from the peak's: the run of days around the
    # peak whose upper bound reaches the peak's lower bound
    close = table["ci_high"].to_numpy() >= table["ci_low"].to_numpy()[k]
    a = b = k
    while a > 0 and close[a - 1]:
        a -= 1
    while b < len(grid) - 1 and close[b + 1]:
        b += 1
    lo, hi = float(grid[a]), float(grid[b])
    at = hz[grid == coupon_day]
    ratio = float(at[0] / hz[k]) if at.size and hz[k] > 0 else float("nan")
    res = HazardPeak(
        table=table,
        peak_day=peak,
        peak_low=lo,
        peak_high=hi,
        coupon_day=int(coupon_day),
        coupon_in_peak=bool(lo <= coupon_day <= hi),
        coupon_ratio=ratio,
    )
    if grid[0] > 1:
        res.note(
            _("The first {n} days are not shown: a kernel of {bw} days cannot smooth them.").format(
                n=int(grid[0]) - 1, bw=bandwidth
            )
        )
    return res
