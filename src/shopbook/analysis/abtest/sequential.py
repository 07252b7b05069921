"""Peeking-safe view: always-valid p-values and confidence sequences (mSPRT)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from shopbook.analysis.abtest._common import _check_alpha
from shopbook.analysis.abtest.errors import ABTestError

__all__ = [
    "confidence_sequence",
    "daily_looks",
    "first_significant_look",
    "msprt_pvalues",
    "sequential_view",
]

#
# The mixture sequential probability ratio test (mSPRT) of Johari, Pekelis & Walsh
# (2017, "Always valid inference"), written for an asymptotically normal estimate
# θ̂_t with variance s²_t at look t: with a N(θ0, τ²) mixture over the effect,
#   Λ_t = sqrt(s² / (s² + τ²)) · exp(τ² (θ̂ − θ0)² / (2 s² (s² + τ²))).
# The always-valid p-value is min(1, min_{u ≤ t} 1/Λ_u) and {θ: Λ_t(θ) < 1/α} is a
# confidence sequence; both stay valid however often one looks. No maintained Python
# library implements it for two-sample summaries (statsmodels has none), so it is here,
# vectorised so thousands of simulated experiments run at once.


def _log_lambda(est: np.ndarray, var: np.ndarray, tau2: float, theta0: float = 0.0) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.5 * np.log(var / (var + tau2)) + tau2 * (est - theta0) ** 2 / (
            2 * var * (var + tau2)
        )
    return np.where(var > 0, out, 0.0)  # no variance estimate yet: no evidence


def msprt_pvalues(estimate: Any, variance: Any, tau: float, theta0: float = 0.0) -> np.ndarray:
    """Always-valid p-values of "effect = ``theta0``" over a sequence of looks.

    Parameters
    ----------
    estimate, variance
        The effect estimate and its variance at each look, along the last axis
        (earlier looks first). Looks with zero or missing variance carry no evidence.
    tau
        Standard deviation of the normal mixture over effects: roughly the size of
        effect one hopes to detect (in the estimate's units). It tunes power, not
        validity.
    theta0
        The null effect.

    Returns
    -------
    numpy.ndarray
        Non-increasing p-values, same shape as ``estimate``; reject at level α the
        first time one falls below α.
    """
    if not tau > 0:
        raise ABTestError(f"the mixture scale tau must be positive, got {tau!r}")
    est = np.asarray(estimate, dtype=float)
    var = np.nan_to_num(np.asarray(variance, dtype=float), nan=0.0)
    est = np.nan_to_num(est, nan=theta0)
    log_l = _log_lambda(est, var, tau**2, theta0)
    p = np.minimum(1.0, np.exp(-log_l))
    return np.minimum.accumulate(p, axis=-1)


def confidence_sequence(
    estimate: Any, variance: Any, tau: float, alpha: float = 0.05, intersect: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Always-valid confidence sequence for the effect (normal mixture).

    At each look the interval is
    ``θ̂ ± sqrt(s²(s²+τ²)/τ² · (2 log(1/α) + log((s²+τ²)/s²)))``.

    Parameters
    ----------
    estimate, variance
        As in :func:`msprt_pvalues`.
    tau
        Mixture scale, as in :func:`msprt_pvalues`.
    alpha
        The chance that the true effect is ever outside the sequence.
    intersect
        Report the running intersection (each interval inside all earlier ones),
        which is still valid and never widens.

    Returns
    -------
    (lower, upper)
        Arrays like ``estimate``; ``±inf`` where there is no variance estimate yet.
    """
    _check_alpha(alpha)
    if not tau > 0:
        raise ABTestError(f"the mixture scale tau must be positive, got {tau!r}")
    est = np.asarray(estimate, dtype=float)
    var = np.asarray(variance, dtype=float)
    tau2 = tau**2
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.sqrt(
            var * (var + tau2) / tau2 * (2 * np.log(1 / alpha) + np.log((var + tau2) / var))
        )
    ok = (var > 0) & np.isfinite(est)
    lower = np.where(ok, est - half, -np.inf)
    upper = np.where(ok, est + half, np.inf)
    if intersect:
        lower = np.maximum.accumulate(lower, axis=-1)
        upper = np.minimum.accumulate(upper, axis=-1)
    return lower, upper


def sequential_view(
    looks: pd.DataFrame, tau: float | None = None, alpha: float = 0.05, kind: str = "proportion"
) -> pd.DataFrame:
    """Cumulative estimate, fixed-horizon and always-valid inference at each look.

    Parameters
    ----------
    looks
        One row per look (e.g. day), sorted by time, with cumulative columns
        ``n_a``, ``n_b`` (units) and, for ``kind="proportion"``, ``x_a``, ``x_b``
        (converted units); for ``kind="mean"``, ``sum_a``, ``sum_b``, ``sumsq_a``,
        ``sumsq_b`` (sums and sums of squares of the metric). Other columns (e.g.
        ``day``) are kept.
    tau
        Mixture scale in the units of the absolute lift; default: 10 % of the final
        control value for proportions, 10 % of the final control mean for means
        (i.e. tuned for relative effects of about 10 %).
    alpha
        Error rate.
    kind
        ``"proportion"`` or ``"mean"``.

    Returns
    -------
    DataFrame
        ``looks`` plus ``control``, ``treatment``, ``abs_lift``, ``se``, ``naive_lo``,
        ``naive_hi`` and ``naive_p`` (fixed-horizon, misleading when peeking),
        ``cs_lo``, ``cs_hi`` (confidence sequence) and ``always_valid_p``.
    """
    df = looks.reset_index(drop=True).copy()
    n_a = df["n_a"].to_numpy(float)
    n_b = df["n_b"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "proportion":
            m_a = df["x_a"].to_numpy(float) / n_a
            m_b = df["x_b"].to_numpy(float) / n_b
            v_a = m_a * (1 - m_a) / n_a
            v_b = m_b * (1 - m_b) / n_b
        elif kind == "mean":
            m_a = df["sum_a"].to_numpy(float) / n_a
            m_b = df["sum_b"].to_numpy(float) / n_b
            v_a = (df["sumsq_a"].to_numpy(float) - n_a * m_a**2) / (n_a - 1) / n_a
            v_b = (df["sumsq_b"].to_numpy(float) - n_b * m_b**2) / (n_b - 1) / n_b
        else:
            raise ABTestError(f"kind must be 'proportion' or 'mean', got {kind!r}")
    var = np.where((n_a > 1) & (n_b > 1), np.nan_to_num(v_a) + np.nan_to_num(v_b), 0.0)
    var = np.clip(var, 0.0, None)
    est = np.nan_to_num(m_b - m_a)
    if tau is None:
        final = m_a[np.isfinite(m_a)]
        scale = abs(final[-1]) if final.size else 0.0
        tau = 0.1 * scale if scale > 0 else 1.0
    z = stats.norm.isf(alpha / 2)
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        naive_p = np.where(var > 0, 2 * stats.norm.sf(np.abs(est) / se), 1.0)
    cs_lo, cs_hi = confidence_sequence(est, var, tau, alpha)
    df["control"] = m_a
    df["treatment"] = m_b
    df["abs_lift"] = est
    df["se"] = se
    df["naive_lo"] = np.where(var > 0, est - z * se, np.nan)
    df["naive_hi"] = np.where(var > 0, est + z * se, np.nan)
    df["naive_p"] = naive_p
    df["cs_lo"] = np.where(np.isfinite(cs_lo), cs_lo, np.nan)
    df["cs_hi"] = np.where(np.isfinite(cs_hi), cs_hi, np.nan)
    df["always_valid_p"] = msprt_pvalues(est, var, tau)
    df.attrs["tau"] = tau
    return df


def daily_looks(
    units: pd.DataFrame, control: str, treatment: str, variant_col: str = "variant"
) -> pd.DataFrame:
    """Cumulative units and converted units per arm at the end of each day of the test.

    What a reader checking the dashboard daily would have seen: at day ``d`` the units
    assigned by the end of ``d`` and, of them, those whose first order was placed by the
    end of ``d``. The days run from the first assignment to the last first order, so
    the last look holds all the data.

    Parameters
    ----------
    units
        Per-unit frame with ``variant``, ``assigned_ts`` and ``first_order_ts`` (null
        for units that did not convert).
    control, treatment
        Variant names.

    Returns
    -------
    DataFrame
        ``day``, ``n_a``, ``x_a``, ``n_b``, ``x_b`` — the input of
        :func:`sequential_view`.
    """
    for col in ("assigned_ts", "first_order_ts", variant_col):
        if col not in units.columns:
            raise ABTestError(f"the daily view needs a {col!r} column in the per-unit table")
    assigned = pd.to_datetime(units["assigned_ts"])
    if assigned.isna().all():
        raise ABTestError("no assignment times: the daily view cannot be drawn")
    first_orders = pd.to_datetime(units["first_order_ts"])
    last = max(assigned.max(), first_orders.max()) if first_orders.notna().any() else assigned.max()
    days = pd.date_range(assigned.min().normalize(), last.normalize(), freq="D")
    ends = (days + pd.Timedelta(days=1)).to_numpy()
    out = pd.DataFrame({"day": days})
    for arm, suffix in ((control, "a"), (treatment, "b")):
        part = units[units[variant_col] == arm]
        t_assign = np.sort(pd.to_datetime(part["assigned_ts"]).to_numpy())
        t_conv = pd.to_datetime(part["first_order_ts"]).dropna().to_numpy()
        t_conv = np.sort(t_conv)
        out[f"n_{suffix}"] = np.searchsorted(t_assign, ends, side="left")
        out[f"x_{suffix}"] = np.searchsorted(t_conv, ends, side="left")
    return out


def first_significant_look(
    view: pd.DataFrame, alpha: float = 0.05, p_col: str = "naive_p", when_col: str = "day"
) -> Any:
    """When a reader watching ``p_col`` at every look would first have seen ``p < alpha``.

    Parameters
    ----------
    view
        :func:`sequential_view` output (one row per look, in time order) with
        ``p_col`` and ``when_col``.
    alpha
        The significance level the reader compares with.
    p_col
        ``"naive_p"`` (the fixed-horizon p-value: what a peeking reader is misled by)
        or ``"always_valid_p"``.
    when_col
        The column naming the look (``"day"`` for :func:`daily_looks`).

    Returns
    -------
    The ``when_col`` value of the first look with ``p_col < alpha``, or ``None`` when
    no look fell below it.
    """
    hits = view.loc[view[p_col] < alpha, when_col]
    return hits.iloc[0] if len(hits) else None
