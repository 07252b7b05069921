"""Variance reduction: CUPED with a pre-period covariate (Deng, Xu, Kohavi & Walker 2013)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.abtest._common import _out
from shopbook.analysis.abtest.comparisons import Comparison, compare_means, winsorize
from shopbook.analysis.abtest.errors import ABTestError

__all__ = ["CupedResult", "cuped", "cuped_units"]


@dataclass(frozen=True)
class CupedResult:
    """CUPED-adjusted comparison next to the raw one.

    Attributes
    ----------
    adjusted, raw
        The Welch comparison of the adjusted and of the raw metric.
    theta
        The regression coefficient of the metric on the pre-period covariate (pooled
        over arms).
    variance_reduction
        ``1 − Var(adjusted) / Var(raw)`` of the difference in means: the share of the
        variance removed (≈ the squared correlation of metric and covariate).
    """

    adjusted: Comparison
    raw: Comparison
    theta: float
    variance_reduction: float

    @property
    def estimate(self) -> float:
        """The adjusted absolute lift."""
        return self.adjusted.abs_lift

    def table(self) -> pd.DataFrame:
        """Raw and adjusted estimates side by side."""
        rows = []
        for label, c in (("raw", self.raw), ("CUPED", self.adjusted)):
            rows.append(
                {
                    "estimate": label,
                    **{k: v for k, v in c.row().items() if k not in ("metric", "method", "note")},
                }
            )
        return pd.DataFrame(rows)


def _two_arm_labels(variant: Any, control: Any) -> tuple[np.ndarray, Any, Any]:
    v = np.asarray(variant)
    if v.dtype == bool:
        return ~v, False, True
    labels = list(pd.unique(v.ravel()))
    if control is None:
        control = "control" if "control" in labels else sorted(labels, key=str)[0]
    if control not in labels:
        raise ABTestError(f"control {control!r} not among the variants {labels}")
    others = [lab for lab in labels if lab != control]
    if len(others) != 1:
        raise ABTestError(
            f"CUPED compares two arms; found variants {labels}. Pass one treatment at a time."
        )
    return v == control, control, others[0]


def cuped(
    y: Any, x_pre: Any, variant: Any, alpha: float = 0.05, control: Any = None, metric: str = "mean"
) -> CupedResult:
    """CUPED: reduce the variance of a mean comparison with a pre-period covariate.

    ``y_adj = y − θ (x − mean(x))`` with ``θ = Cov(y, x) / Var(x)`` estimated on all
    units together (Deng, Xu, Kohavi & Walker 2013). Because the covariate is measured
    before assignment it is independent of the arm, so the adjusted difference is
    unbiased for the same lift, with a variance smaller by about ``corr(y, x)²``.

    Parameters
    ----------
    y
        Metric per unit (e.g. revenue in the experiment); shape ``(n,)``, or
        ``(k, n)`` for ``k`` independent datasets of the same units (simulations).
    x_pre
        Pre-period covariate per unit (e.g. revenue in the 28 days before
        assignment), same shape as ``y``.
    variant
        Arm per unit, shape ``(n,)``: two labels, or booleans (``True`` = treatment).
    alpha
        One minus the confidence level.
    control
        The control label; default ``"control"`` when present, else the first label
        in sorted order.
    metric
        Name used in tables.

    Returns
    -------
    CupedResult
        ``adjusted`` and ``raw`` comparisons, ``theta`` and ``variance_reduction``
        (arrays when ``y`` is 2-d).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x_pre, dtype=float)
    if y.shape != x.shape:
        raise ABTestError(f"metric and covariate differ in shape: {y.shape} vs {x.shape}")
    if np.isnan(y).any() or np.isnan(x).any():
        raise ABTestError("CUPED needs a value for every unit (use 0 for no pre-period activity)")
    is_a, _, _ = _two_arm_labels(variant, control)
    if is_a.shape != y.shape[-1:]:
        raise ABTestError("one variant label per unit is needed")
    is_b = ~is_a
    if is_a.sum() < 2 or is_b.sum() < 2:
        raise ABTestError("each arm needs at least two units")
    xc = x - x.mean(axis=-1, keepdims=True)
    var_x = (xc**2).sum(axis=-1) / (x.shape[-1] - 1)
    cov_xy = (xc * (y - y.mean(axis=-1, keepdims=True))).sum(axis=-1) / (x.shape[-1] - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(var_x > 0, cov_xy / np.where(var_x > 0, var_x, 1.0), 0.0)
    y_adj = y - theta[..., None] * xc

    def welch(values: np.ndarray, label: str) -> Comparison:
        a, b = values[..., is_a], values[..., is_b]
        return compare_means(
            a.mean(-1),
            a.var(-1, ddof=1),
            a.shape[-1],
            b.mean(-1),
            b.var(-1, ddof=1),
            b.shape[-1],
            alpha=alpha,
            metric=label,
        )

    raw = welch(y, metric)
    adj = welch(y_adj, f"{metric} (CUPED)")
    reduction = 1 - np.asarray(adj.se) ** 2 / np.asarray(raw.se) ** 2
    return CupedResult(adjusted=adj, raw=raw, theta=_out(theta), variance_reduction=_out(reduction))


def cuped_units(
    units: pd.DataFrame,
    metric: str,
    covariate: str,
    control: str,
    treatment: str,
    alpha: float = 0.05,
    cap_quantile: float | None = None,
    variant_col: str = "variant",
) -> CupedResult:
    """:func:`cuped` on two arms of a per-unit frame.

    Parameters
    ----------
    units
        Per-unit frame with ``variant``, ``metric`` and ``covariate`` columns.
    metric, covariate
        E.g. ``"revenue"`` and ``"pre_revenue"``, or ``"converted"`` and ``"pre_orders"``.
    control, treatment
        Variant names.
    alpha
        One minus the confidence level.
    cap_quantile
        Winsorise the metric and the covariate at this pooled quantile first.

    Returns
    -------
    CupedResult
    """
    for col in (metric, covariate, variant_col):
        if col not in units.columns:
            raise ABTestError(f"CUPED needs a {col!r} column in the per-unit table")
    part = units[units[variant_col].isin([control, treatment])]
    y = part[metric].to_numpy(float)
    x = part[covariate].to_numpy(float)
    if cap_quantile is not None and cap_quantile < 1:
        y = winsorize(y, cap_quantile)
        x = winsorize(x, cap_quantile)
    if np.var(x) == 0:
        raise ABTestError(
            f"the covariate {covariate!r} is the same for every unit (no pre-period activity): "
            "CUPED cannot reduce variance"
        )
    return cuped(y, x, part[variant_col].to_numpy(), alpha=alpha, control=control, metric=metric)
