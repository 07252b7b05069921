"""What changed: control vs treatment on one metric, with intervals and a p-value.

:func:`compare_proportions` (two-proportion z-test), :func:`compare_means` and
:func:`compare_means_units` (Welch), :func:`compare_ratios` (ratio metrics by the delta
method with unit-level randomisation). Each returns a :class:`Comparison`: the control
and treatment values, the absolute and the relative lift (relative by the delta method)
with confidence intervals, and a p-value. They are vectorised: arrays of summary
statistics give arrays in every field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from shopbook.analysis.abtest._common import _check_alpha, _check_n, _out
from shopbook.analysis.abtest.errors import ABTestError
from shopbook.i18n import _, translate

__all__ = [
    "Comparison",
    "compare_means",
    "compare_means_units",
    "compare_proportions",
    "compare_ratios",
    "winsorize",
]


def _ratio_delta(
    m_a: Any,
    v_a: Any,
    m_b: Any,
    v_b: Any,
    cov: Any = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Relative lift ``m_b / m_a − 1`` and its delta-method variance.

    ``v_a``, ``v_b`` are the variances of the two estimates, ``cov`` their covariance
    (0 for independent arms).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = m_b / m_a - 1.0
        var = v_b / m_a**2 + m_b**2 * v_a / m_a**4 - 2 * m_b * cov / m_a**3
    undefined = np.asarray(m_a) == 0
    return np.where(undefined, np.nan, rel), np.where(undefined, np.nan, var)


@dataclass(frozen=True)
class Comparison:
    """Control vs treatment on one metric.

    Attributes
    ----------
    metric, method
        What was compared and how (``"z-test"``, ``"Welch t-test"``, ``"delta method"``…).
    control, treatment
        The metric's value in each arm.
    abs_lift, abs_ci
        ``treatment − control`` and its ``1 − alpha`` confidence interval.
    rel_lift, rel_ci
        ``treatment / control − 1`` and its delta-method confidence interval; NaN (with
        a ``note``) when the control value is 0.
    p_value
        Two-sided p-value of "no difference".
    n_control, n_treatment
        Units in each arm.
    se
        Standard error of ``abs_lift``.
    alpha
        The error rate of the intervals.
    note
        Anything a reader must know about this row (empty when nothing).
    """

    metric: str
    method: str
    control: Any
    treatment: Any
    abs_lift: Any
    abs_ci: tuple[Any, Any]
    rel_lift: Any
    rel_ci: tuple[Any, Any]
    p_value: Any
    n_control: Any
    n_treatment: Any
    se: Any
    alpha: float = 0.05
    note: str = ""

    @property
    def significant(self) -> bool:
        """Whether ``p_value < alpha`` (scalar results only)."""
        return bool(self.p_value < self.alpha)

    def with_note(self, note: str) -> Comparison:
        """The same comparison with ``note`` added to its note (``"; "``-joined)."""
        if not note:
            return self
        return replace(self, note="; ".join(n for n in (self.note, note) if n))

    def row(self) -> dict[str, Any]:
        """One flat row for a table."""
        return {
            "metric": self.metric,
            "control": self.control,
            "treatment": self.treatment,
            "abs_lift": self.abs_lift,
            "abs_lo": self.abs_ci[0],
            "abs_hi": self.abs_ci[1],
            "rel_lift": self.rel_lift,
            "rel_lo": self.rel_ci[0],
            "rel_hi": self.rel_ci[1],
            "p_value": self.p_value,
            "n_control": self.n_control,
            "n_treatment": self.n_treatment,
            "method": self.method,
            "note": self.note,
        }


def _comparison(
    metric: str,
    method: str,
    m_a,
    m_b,
    se,
    crit,
    p,
    n_a,
    n_b,
    rel,
    rel_var,
    alpha: float,
    note: str = "",
) -> Comparison:
    """Assemble a :class:`Comparison`: both intervals use the critical value ``crit`` (the
    test's own reference distribution: normal for z-tests, Welch t for means)."""
    diff = m_b - m_a
    rel_se = np.sqrt(rel_var)
    zero_control = np.asarray(m_a) == 0
    if np.any(zero_control) and not note:
        note = "relative lift undefined: the control value is 0"
    return Comparison(
        metric=metric,
        method=method,
        control=_out(m_a),
        treatment=_out(m_b),
        abs_lift=_out(diff),
        abs_ci=(_out(diff - crit * se), _out(diff + crit * se)),
        rel_lift=_out(rel),
        rel_ci=(_out(rel - crit * rel_se), _out(rel + crit * rel_se)),
        p_value=_out(p),
        n_control=_out(n_a),
        n_treatment=_out(n_b),
        se=_out(se),
        alpha=alpha,
        note=note,
    )


def compare_proportions(
    x_a, n_a, x_b, n_b, alpha: float = 0.05, metric: str = "conversion"
) -> Comparison:
    """Two-proportion comparison: lift with confidence intervals and a z-test p-value.

    The p-value is the pooled-variance two-proportion z-test (identical to
    ``statsmodels.stats.proportion.proportions_ztest``); the interval of the absolute
    lift is the unpooled Wald interval (``confint_proportions_2indep(method="wald")``);
    the relative lift's interval is the delta method on ``p_b / p_a`` (normal, like the
    absolute one).

    Parameters
    ----------
    x_a, n_a
        Converted units and units in the control (scalars or arrays).
    x_b, n_b
        The same for the treatment.
    alpha
        One minus the confidence level.
    metric
        Name used in tables.

    Returns
    -------
    Comparison

    Raises
    ------
    ABTestError
        An empty arm, counts out of range, or no conversions in either arm (the rates
        cannot be compared yet — collect more data).
    """
    _check_alpha(alpha)
    n_a, n_b = _check_n(n_a, n_b)
    x_a = np.asarray(x_a, dtype=float)
    x_b = np.asarray(x_b, dtype=float)
    if np.any(x_a < 0) or np.any(x_b < 0) or np.any(x_a > n_a) or np.any(x_b > n_b):
        raise ABTestError("conversions must be between 0 and the number of units in each arm")
    pooled = (x_a + x_b) / (n_a + n_b)
    if np.any(pooled == 0) or np.any(pooled == 1):
        which = "no conversions" if np.any(pooled == 0) else "every unit converted"
        raise ABTestError(
            f"{which} in either arm ({_out(x_a):g} of {_out(n_a):g} vs "
            f"{_out(x_b):g} of {_out(n_b):g}): the rates cannot be compared yet. "
            "Keep collecting data or check the conversion definition."
            if np.ndim(pooled) == 0
            else f"{which} in either arm in some of the comparisons: the rates cannot be compared"
        )
    p_a = x_a / n_a
    p_b = x_b / n_b
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z_stat = (p_b - p_a) / se_pooled
    p = 2 * stats.norm.sf(np.abs(z_stat))
    v_a = p_a * (1 - p_a) / n_a
    v_b = p_b * (1 - p_b) / n_b
    se = np.sqrt(v_a + v_b)
    rel, rel_var = _ratio_delta(p_a, v_a, p_b, v_b)
    crit = stats.norm.ppf(1 - alpha / 2)
    return _comparison(
        metric, "two-proportion z-test", p_a, p_b, se, crit, p, n_a, n_b, rel, rel_var, alpha
    )


def compare_means(
    mean_a, var_a, n_a, mean_b, var_b, n_b, alpha: float = 0.05, metric: str = "mean"
) -> Comparison:
    """Welch's unequal-variance t-test from summary statistics.

    Matches ``statsmodels.stats.weightstats.ttest_ind(..., usevar="unequal")``: the
    t statistic, Welch-Satterthwaite degrees of freedom, p-value and the interval of
    the difference use the t distribution. The relative lift's interval is the delta
    method on ``mean_b / mean_a`` with the same Welch t quantile (Welch–Satterthwaite
    degrees of freedom), so both intervals widen alike in small arms.

    Parameters
    ----------
    mean_a, var_a, n_a
        Mean, sample variance (``ddof=1``) and units of the control.
    mean_b, var_b, n_b
        The same for the treatment.
    alpha
        One minus the confidence level.
    metric
        Name used in tables.

    Returns
    -------
    Comparison

    Raises
    ------
    ABTestError
        An arm with fewer than two units, a negative variance, or no variation in
        either arm.
    """
    _check_alpha(alpha)
    n_a, n_b = _check_n(n_a, n_b)
    if np.any(n_a < 2) or np.any(n_b < 2):
        raise ABTestError("each arm needs at least two units to estimate a variance")
    m_a = np.asarray(mean_a, dtype=float)
    m_b = np.asarray(mean_b, dtype=float)
    va = np.asarray(var_a, dtype=float)
    vb = np.asarray(var_b, dtype=float)
    if np.any(va < 0) or np.any(vb < 0):
        raise ABTestError("variances must be non-negative")
    s2a = va / n_a
    s2b = vb / n_b
    se = np.sqrt(s2a + s2b)
    if np.any(se == 0):
        raise ABTestError(
            f"{metric}: every unit has the same value in both arms, so there is no variation "
            "to test. Check the metric (e.g. no revenue recorded yet)."
        )
    df = (s2a + s2b) ** 2 / (s2a**2 / (n_a - 1) + s2b**2 / (n_b - 1))
    t_stat = (m_b - m_a) / se
    p = 2 * stats.t.sf(np.abs(t_stat), df)
    crit = stats.t.ppf(1 - alpha / 2, df)
    rel, rel_var = _ratio_delta(m_a, s2a, m_b, s2b)
    return _comparison(metric, "Welch t-test", m_a, m_b, se, crit, p, n_a, n_b, rel, rel_var, alpha)


def winsorize(values: Any, quantile: float | None = None, cap: float | None = None) -> np.ndarray:
    """Cap values from above (heavy-tailed revenue).

    Parameters
    ----------
    values
        Array of per-unit values.
    quantile
        Cap at this quantile of ``values`` (e.g. 0.99). ``None`` or ≥ 1: no cap.
    cap
        An explicit cap; overrides ``quantile``.

    Returns
    -------
    numpy.ndarray
        ``min(values, cap)``. Pass the pooled values of all arms so every arm gets the
        same cap (a per-arm cap would bias the comparison).
    """
    y = np.asarray(values, dtype=float)
    if cap is None:
        if quantile is None or quantile >= 1:
            return y
        if not 0 < quantile < 1:
            raise ABTestError(f"the cap quantile must be in (0, 1], got {quantile!r}")
        cap = float(np.quantile(y, quantile)) if y.size else 0.0
    return np.minimum(y, cap)


def compare_means_units(
    y_a: Any, y_b: Any, alpha: float = 0.05, cap_quantile: float | None = None, metric: str = "mean"
) -> Comparison:
    """Welch comparison of two unit-level arrays (e.g. revenue per unit).

    Parameters
    ----------
    y_a, y_b
        One value per unit in the control and the treatment (NaN is not allowed:
        a unit without revenue has revenue 0).
    alpha
        One minus the confidence level.
    cap_quantile
        Winsorise both arms at this quantile of the pooled values before comparing
        (e.g. 0.99); ``None`` compares raw values.
    metric
        Name used in tables.

    Returns
    -------
    Comparison
        As :func:`compare_means`; ``note`` says where values were capped.
    """
    y_a = np.asarray(y_a, dtype=float).ravel()
    y_b = np.asarray(y_b, dtype=float).ravel()
    for name, y in (("control", y_a), ("treatment", y_b)):
        if y.size == 0:
            raise ABTestError(f"the {name} arm has no units: there is nothing to compare")
        if np.isnan(y).any():
            raise ABTestError(
                f"{metric}: the {name} arm has missing values; fill them (0 for no revenue) first"
            )
    note = ""
    if cap_quantile is not None and cap_quantile < 1:
        pooled = np.concatenate([y_a, y_b])
        cap = float(np.quantile(pooled, cap_quantile))
        n_capped = int((pooled > cap).sum())
        y_a = np.minimum(y_a, cap)
        y_b = np.minimum(y_b, cap)
        note = _("capped at the {q:.0%} quantile ({cap:,.2f}; {n:,} units)").format(
            q=cap_quantile, cap=cap, n=n_capped
        )
    out = compare_means(
        y_a.mean(),
        y_a.var(ddof=1) if y_a.size > 1 else 0.0,
        y_a.size,
        y_b.mean(),
        y_b.var(ddof=1) if y_b.size > 1 else 0.0,
        y_b.size,
        alpha=alpha,
        metric=metric,
    )
    return out.with_note(note)


def _ratio_arm(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Ratio of sums and its delta-method variance for one arm (unit-level arrays).

    ``R = Σnum / Σden``; ``Var(R) ≈ Var(num − R·den) / (n · mean(den)²)`` with the
    sample variance (``ddof=1``) — the linearisation of Deng, Knoblich & Lu (2018).
    """
    n = num.size
    mean_den = den.mean()
    r = num.sum() / den.sum()
    lin = num - r * den
    var = lin.var(ddof=1) / (n * mean_den**2)
    return float(r), float(var)


def compare_ratios(
    num_a: Any, den_a: Any, num_b: Any, den_b: Any, alpha: float = 0.05, metric: str = "ratio"
) -> Comparison:
    """Compare a ratio metric (e.g. average order value = revenue / orders) between arms.

    The randomisation unit is the user (one row per unit), the analysis unit is the
    denominator (orders), so orders of one user are not independent; the delta method
    on the per-unit numerator and denominator gives the right variance. The result
    equals a cluster-robust (by unit) regression of the per-order values on the arm.

    Parameters
    ----------
    num_a, den_a
        Per-unit numerator (revenue) and denominator (orders) in the control. Units with
        a zero denominator contribute nothing to the ratio but stay in the arrays.
    num_b, den_b
        The same for the treatment.
    alpha
        One minus the confidence level.
    metric
        Name used in tables.

    Returns
    -------
    Comparison
        ``control``/``treatment`` are the ratios of sums; ``n_*`` are units. Normal
        (z) intervals and p-value.

    Raises
    ------
    ABTestError
        Mismatched arrays, an arm with fewer than two units, or a zero denominator sum
        (e.g. no orders in an arm: average order value is undefined).
    """
    _check_alpha(alpha)
    arms = []
    for name, num, den in (("control", num_a, den_a), ("treatment", num_b, den_b)):
        num = np.asarray(num, dtype=float).ravel()
        den = np.asarray(den, dtype=float).ravel()
        if num.shape != den.shape:
            raise ABTestError(
                f"{metric}: numerator and denominator of the {name} arm differ in length"
            )
        if num.size < 2:
            raise ABTestError(
                f"{metric}: the {name} arm has {num.size} unit(s); at least two are needed"
            )
        if np.isnan(num).any() or np.isnan(den).any():
            raise ABTestError(f"{metric}: the {name} arm has missing values")
        if den.sum() == 0:
            raise ABTestError(
                f"{metric}: the {name} arm's denominator is 0 for every unit (e.g. no orders), "
                "so the ratio is undefined"
            )
        arms.append((num, den))
    (r_a, v_a), (r_b, v_b) = _ratio_arm(*arms[0]), _ratio_arm(*arms[1])
    se = math.sqrt(v_a + v_b)
    if se == 0:
        raise ABTestError(
            _("{metric}: no variation in either arm, nothing to test").format(
                metric=translate(metric)
            )
        )
    z = (r_b - r_a) / se
    p = 2 * stats.norm.sf(abs(z))
    rel, rel_var = _ratio_delta(np.float64(r_a), v_a, np.float64(r_b), v_b)
    crit = stats.norm.ppf(1 - alpha / 2)
    return _comparison(
        metric,
        "delta method",
        r_a,
        r_b,
        se,
        crit,
        p,
        arms[0][0].size,
        arms[1][0].size,
        rel,
        rel_var,
        alpha,
    )
