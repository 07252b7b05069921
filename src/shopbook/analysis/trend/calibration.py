"""Measured interval coverage and split-conformal widening of intervals that fall short.

The rule (:func:`calibrate`): a backtest scores ``n`` forecasts; the share inside the
nominal ``L`` interval has a binomial standard error ``se = sqrt(L (1 - L) / n)``. When
the measured coverage is below ``L`` by more than :data:`SHORTFALL_SE` standard errors,
the interval is too narrow beyond what the backtest's own noise explains, and it is
widened by **split-conformal calibration** on the backtest errors (Vovk et al. 2005;
Lei et al. 2018, scaled by the model's own interval as in "normalised" conformal
prediction): each backtest point's score is how many times the interval's half-width on
the actual's side the error is, ``|y - mean| / (hi - mean)`` above the mean and
``|y - mean| / (mean - lo)`` below; the factor is the ``ceil((n + 1) L)``-th smallest
score, and the new bounds are ``mean ± factor × half-width`` on each side. Scaling the
model's own interval keeps its growth with the horizon (a per-step quantile of
``|error|`` would rest on ``folds`` points per step — three by default). Intervals are only
ever widened, never narrowed, and a lower bound is not taken below zero for a series
that has no negative values.

Written here because neither statsmodels nor statsforecast calibrates a given forecast's
intervals from backtest residuals (statsforecast's ``ConformalIntervals`` refits its own
models on its own windows).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from shopbook.analysis.trend.models import Forecast

#: Nominal levels of the intervals, in percent.
LEVELS = (80, 95)

#: Coverage is "short" when below nominal by more than this many binomial standard errors.
SHORTFALL_SE = 2.0


def coverage_table(coverage: dict[int, float], points: int) -> pd.DataFrame:
    """Measured coverage against nominal with the binomial standard error and the rule.

    Parameters
    ----------
    coverage
        Level (80, 95) → share of backtest actuals inside the interval.
    points
        Number of backtest forecasts scored.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``level``: ``nominal``, ``coverage``, ``points``, ``se``, ``limit``
        (nominal − :data:`SHORTFALL_SE` × se) and ``short`` (coverage below the limit).
    """
    rows = []
    for level in LEVELS:
        p = level / 100
        se = math.sqrt(p * (1 - p) / points) if points else float("nan")
        limit = p - SHORTFALL_SE * se
        cov = float(coverage[level])
        rows.append(
            {
                "level": level,
                "nominal": p,
                "coverage": cov,
                "points": points,
                "se": se,
                "limit": limit,
                "short": bool(cov < limit),
            }
        )
    return pd.DataFrame(rows).set_index("level")


def conformity_scores(predictions: pd.DataFrame, level: int) -> np.ndarray:
    """Each backtest error over the interval's half-width on its side (1 = on the bound).

    Parameters
    ----------
    predictions
        ``actual``, ``mean``, ``lo<level>``, ``hi<level>`` per backtest forecast.
    """
    a = predictions["actual"].to_numpy(dtype=float)
    mu = predictions["mean"].to_numpy(dtype=float)
    lo = predictions[f"lo{level}"].to_numpy(dtype=float)
    hi = predictions[f"hi{level}"].to_numpy(dtype=float)
    err = np.abs(a - mu)
    half = np.where(a >= mu, hi - mu, mu - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(err == 0, 0.0, err / np.where(half > 0, half, 0.0))
    return score


def conformal_factor(scores: np.ndarray, level: int) -> float:
    """The split-conformal quantile: the ``ceil((n + 1) L)``-th smallest score.

    When ``n`` is too small for that rank (``(n + 1) L > n``), the largest score.
    """
    s = np.sort(np.asarray(scores, dtype=float))
    k = min(math.ceil((len(s) + 1) * level / 100), len(s))
    return float(s[k - 1])


def widen(fc: Forecast, factors: dict[int, float], floor: float | None = None) -> Forecast:
    """``fc`` with each level's interval scaled about the mean by ``factors[level]``.

    The 95% interval is kept at least as wide as the 80% one; bounds below ``floor``
    (when given) are raised to it.
    """
    t = fc.table.copy()
    mu = t["mean"]
    for level, f in factors.items():
        lo, hi = f"lo{level}", f"hi{level}"
        t[lo] = mu - f * (mu - t[lo])
        t[hi] = mu + f * (t[hi] - mu)
    t["lo95"] = np.minimum(t["lo95"], t["lo80"])
    t["hi95"] = np.maximum(t["hi95"], t["hi80"])
    if floor is not None:
        for c in ("lo80", "lo95"):
            t[c] = t[c].clip(lower=floor)
    return replace(fc, table=t, notes=list(fc.notes))


def calibrate(
    fc: Forecast, predictions: pd.DataFrame, nonnegative: bool = False
) -> tuple[Forecast, pd.DataFrame, list[str]]:
    """Widen ``fc``'s intervals whose backtest coverage fell short (see the module).

    Parameters
    ----------
    fc
        The forecast to calibrate (refitted on the whole series).
    predictions
        The same model's backtest forecasts: ``actual``, ``mean``, ``lo80``, ``hi80``,
        ``lo95``, ``hi95``.
    nonnegative
        Whether the series has no negative values (lower bounds stay ≥ 0).

    Returns
    -------
    tuple
        The (possibly widened) forecast; the :func:`coverage_table` with ``factor``
        (1 when not widened) and ``calibrated``; the notes saying what was done.
    """
    coverage = {
        lv: float(
            np.mean(
                (predictions["actual"] >= predictions[f"lo{lv}"])
                & (predictions["actual"] <= predictions[f"hi{lv}"])
            )
        )
        for lv in LEVELS
    }
    table = coverage_table(coverage, len(predictions))
    factors: dict[int, float] = {}
    for lv in LEVELS:
        f = conformal_factor(conformity_scores(predictions, lv), lv)
        if table.loc[lv, "short"] and np.isfinite(f) and f > 1:
            factors[lv] = f
    table["factor"] = [factors.get(lv, 1.0) for lv in table.index]
    table["calibrated"] = [lv in factors for lv in table.index]
    notes: list[str] = []
    for lv in LEVELS:
        r = table.loc[lv]
        n = int(r["points"])
        if lv in factors:
            notes.append(
                f"The {lv}% intervals held {r['coverage']:.0%} of the backtest's {n} actuals, "
                f"more than {SHORTFALL_SE:g} standard errors ({SHORTFALL_SE * r['se']:.1%}) "
                f"below {lv}%: they were widened ×{r['factor']:.2f} by split-conformal "
                "calibration on the backtest errors."
            )
        elif r["short"]:
            notes.append(
                f"The {lv}% intervals held {r['coverage']:.0%} of the backtest's {n} actuals, "
                f"short of {lv}%, but the backtest's errors give no wider conformal interval "
                "(too few points): they are shown uncalibrated."
            )
    if factors:
        fc = widen(fc, factors, floor=0.0 if nonnegative else None)
    return fc, table, notes


__all__ = [
    "LEVELS",
    "SHORTFALL_SE",
    "calibrate",
    "conformal_factor",
    "conformity_scores",
    "coverage_table",
    "widen",
]
