"""A/B test evaluation on summary statistics and small per-unit frames.

Every public function takes *summary statistics* (counts, means, variances) or plain
unit-level arrays, so anyone can call it without Shopbook's data layer. The per-unit
frame these are computed from is built in the engine by
:mod:`shopbook.features.experiments`.

The pieces, in the order a readout uses them:

* **Trust the split** — :func:`srm_test` (chi-square against the intended shares).
* **What changed** — :func:`compare_proportions` (two-proportion z-test),
  :func:`compare_means` / :func:`compare_means_units` (Welch), :func:`compare_ratios`
  (ratio metrics such as average order value, delta method with unit-level
  randomisation). Each returns the control and treatment values, the absolute and the
  relative lift (relative by the delta method) with confidence intervals, and a p-value.
* **Variance reduction** — :func:`cuped`.
* **Bayesian view** — :func:`bayes_proportions` (Beta-Binomial).
* **Peeking-safe view** — :func:`msprt_pvalues`, :func:`confidence_sequence` and
  :func:`sequential_view` (always-valid p-values and confidence sequences of the
  normal-mixture sequential probability ratio test).
* **Power** — :func:`sample_size`, :func:`power_proportions`, :func:`mde_proportions`.
* **Many variants and metrics** — :func:`adjust_pvalues` (Holm / Benjamini-Hochberg
  through statsmodels), :func:`metric_table`, :func:`segment_table`.
* **Decision** — :func:`decide`: ship / don't ship / keep running, with reasons.

The comparison functions are vectorised: pass numpy arrays of summary statistics and
every field of the result is an array (this is how the simulated A/A tests run
hundreds of experiments at once). With scalar inputs the fields are plain floats.

Conventions: arm ``a`` is the control, arm ``b`` the treatment; lifts are ``b − a``
(absolute) and ``b / a − 1`` (relative). Variances are sample variances (``ddof=1``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate, optimize, stats

__all__ = [
    "ABTestError",
    "SRMResult",
    "Comparison",
    "CupedResult",
    "BayesResult",
    "SampleSize",
    "Decision",
    "srm_test",
    "compare_proportions",
    "compare_means",
    "compare_means_units",
    "compare_ratios",
    "cuped",
    "bayes_proportions",
    "sample_size",
    "power_proportions",
    "mde_proportions",
    "msprt_pvalues",
    "confidence_sequence",
    "sequential_view",
    "daily_looks",
    "cuped_units",
    "adjust_pvalues",
    "winsorize",
    "check_variants",
    "check_units",
    "metric_table",
    "segment_table",
    "decide",
    "parse_split",
    "Readout",
    "evaluate",
    "power_table",
]


class ABTestError(ValueError):
    """The data cannot answer the question asked (empty arm, no events, bad split…).

    The message says what is missing and what to do; it is raised instead of
    returning NaN as if it were a result.
    """


# ----------------------------------------------------------------------------- helpers


def _out(x: Any) -> Any:
    """Plain float for 0-d results, the array otherwise."""
    arr = np.asarray(x, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ABTestError(f"alpha must be between 0 and 1, got {alpha!r}")


def _check_n(n_a: Any, n_b: Any, what: str = "units") -> tuple[np.ndarray, np.ndarray]:
    n_a = np.asarray(n_a, dtype=float)
    n_b = np.asarray(n_b, dtype=float)
    for name, n in (("control", n_a), ("treatment", n_b)):
        if np.any(~np.isfinite(n)) or np.any(n < 0):
            raise ABTestError(
                f"the {name} arm's count of {what} must be a non-negative number, got {n}"
            )
        if np.any(n == 0):
            raise ABTestError(
                f"the {name} arm has no {what}: there is nothing to compare. "
                "Check the variant names and that the experiment has started."
            )
    return n_a, n_b


def _ratio_delta(
    m_a: np.ndarray,
    v_a: np.ndarray,
    m_b: np.ndarray,
    v_b: np.ndarray,
    cov: np.ndarray | float = 0.0,
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
    diff = m_b - m_a
    z = stats.norm.ppf(1 - alpha / 2)
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
        rel_ci=(_out(rel - z * rel_se), _out(rel + z * rel_se)),
        p_value=_out(p),
        n_control=_out(n_a),
        n_treatment=_out(n_b),
        se=_out(se),
        alpha=alpha,
        note=note,
    )


# ----------------------------------------------------------------------------- SRM


@dataclass(frozen=True)
class SRMResult:
    """Sample-ratio-mismatch check.

    Attributes
    ----------
    statistic, p_value, df
        Pearson chi-square against the intended split.
    observed, expected
        Units per variant, seen and expected under the intended split.
    threshold
        The p-value under which the split is flagged (0.001 by convention: the check
        runs on every experiment, and a false alarm stops a readout).
    """

    statistic: float
    p_value: float
    df: int
    observed: dict[str, int]
    expected: dict[str, float]
    threshold: float = 0.001

    @property
    def flagged(self) -> bool:
        """True when the split does not match the intended shares (p < threshold)."""
        return self.p_value < self.threshold

    @property
    def passed(self) -> bool:
        return not self.flagged

    def table(self) -> pd.DataFrame:
        """Observed vs expected units and shares per variant."""
        total = sum(self.observed.values())
        return pd.DataFrame(
            {
                "variant": list(self.observed),
                "units": list(self.observed.values()),
                "share": [v / total for v in self.observed.values()],
                "expected_units": [self.expected[k] for k in self.observed],
                "expected_share": [self.expected[k] / total for k in self.observed],
            }
        )


def srm_test(
    counts: Mapping[str, int] | Sequence[int],
    expected_shares: Mapping[str, float] | Sequence[float] | None = None,
    threshold: float = 0.001,
) -> SRMResult:
    """Chi-square test of the units per variant against the intended split.

    Parameters
    ----------
    counts
        Units per variant: a mapping ``{variant: units}`` or a sequence.
    expected_shares
        Intended share of each variant (any positive weights; they are normalised).
        A mapping must name the same variants as ``counts``; a sequence must have the
        same length. Default: an equal split.
    threshold
        Flag the split when ``p_value < threshold``.

    Returns
    -------
    SRMResult
        ``statistic``, ``p_value``, ``flagged`` and the observed/expected table.

    Raises
    ------
    ABTestError
        Fewer than two variants, no units, negative counts, or shares that do not match
        the variants.
    """
    if isinstance(counts, Mapping):
        names = [str(k) for k in counts]
        obs = np.array([counts[k] for k in counts], dtype=float)
    else:
        obs = np.asarray(list(counts), dtype=float)
        names = [f"variant_{i}" for i in range(len(obs))]
    if len(obs) < 2:
        raise ABTestError(
            f"a split needs at least two variants; found {len(obs)} ({', '.join(names) or 'none'})"
        )
    if np.any(obs < 0) or not np.all(np.isfinite(obs)):
        raise ABTestError(f"unit counts must be non-negative numbers, got {obs.tolist()}")
    if obs.sum() == 0:
        raise ABTestError("no units in any variant: the experiment has no assignments")
    if expected_shares is None:
        shares = np.full(len(obs), 1.0 / len(obs))
    elif isinstance(expected_shares, Mapping):
        missing = [n for n in names if n not in expected_shares]
        extra = [str(k) for k in expected_shares if str(k) not in names]
        if missing or extra:
            raise ABTestError(
                "the intended split must name the same variants as the data: "
                f"missing shares for {missing or 'none'}, shares for absent variants {extra or 'none'}"
            )
        shares = np.array([expected_shares[n] for n in names], dtype=float)
    else:
        shares = np.asarray(list(expected_shares), dtype=float)
        if len(shares) != len(obs):
            raise ABTestError(f"{len(shares)} intended shares for {len(obs)} variants")
    if np.any(shares <= 0) or not np.all(np.isfinite(shares)):
        raise ABTestError(f"intended shares must be positive, got {shares.tolist()}")
    shares = shares / shares.sum()
    exp = shares * obs.sum()
    res = stats.chisquare(obs, exp)
    return SRMResult(
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=len(obs) - 1,
        observed={n: int(o) for n, o in zip(names, obs, strict=True)},
        expected={n: float(e) for n, e in zip(names, exp, strict=True)},
        threshold=threshold,
    )


def check_variants(
    found: Iterable[str],
    expected: Iterable[str] | None = None,
    control: str | None = None,
    experiment_id: str = "the experiment",
) -> list[str]:
    """Check that the variants named by the reader exist in the data.

    Parameters
    ----------
    found
        Variants present in the data.
    expected
        Variants named in the parameters (``None``/empty: accept what was found).
    control
        The control's name; it must be among the variants.
    experiment_id
        Used in messages.

    Returns
    -------
    list of str
        The variants to analyse, control first.

    Raises
    ------
    ABTestError
        A named variant (or the control) has no units, or fewer than two variants.
    """
    found = [str(v) for v in found]
    wanted = [str(v) for v in expected] if expected else list(found)
    absent = [v for v in wanted if v not in found]
    if absent:
        raise ABTestError(
            f"variant(s) {', '.join(repr(v) for v in absent)} named in the parameters have no units in "
            f"{experiment_id} (variants found: {', '.join(repr(v) for v in found) or 'none'}). "
            "Fix the variant names in the parameters."
        )
    if control is not None and control not in wanted:
        raise ABTestError(
            f"control variant {control!r} has no units in {experiment_id} "
            f"(variants: {', '.join(repr(v) for v in wanted) or 'none'}). Set `control` to one of them."
        )
    if len(wanted) < 2:
        raise ABTestError(
            f"{experiment_id} has {len(wanted)} variant(s) ({', '.join(wanted) or 'none'}): "
            "an A/B test needs a control and at least one treatment"
        )
    if control is not None:
        wanted = [control] + [v for v in wanted if v != control]
    return wanted


def check_units(
    units: pd.DataFrame, unit_col: str = "unit_id", variant_col: str = "variant"
) -> None:
    """Refuse a per-unit frame in which a unit appears more than once.

    A unit in two variants (or twice in one) breaks the independence every test here
    relies on; such units must be removed upstream (the validator rejects them with the
    reason ``unit in two variants``).

    Parameters
    ----------
    units
        Per-unit frame with ``unit_col`` (optional: nothing to check without it) and
        ``variant_col``.

    Raises
    ------
    ABTestError
        Naming how many units repeat and an example.
    """
    if variant_col not in units.columns:
        raise ABTestError(f"the per-unit table has no {variant_col!r} column")
    if unit_col not in units.columns:
        return
    dup = units[unit_col].duplicated(keep=False)
    if dup.any():
        rows = units.loc[dup]
        n_two = int((rows.groupby(unit_col)[variant_col].nunique() > 1).sum())
        n_units = int(rows[unit_col].nunique())
        raise ABTestError(
            f"{n_units:,} unit(s) appear more than once ({n_two:,} in two variants): each unit must be in "
            "exactly one variant. Remove them upstream (validation rejects them as 'unit in two variants')."
        )


# ---------------------------------------------------------------------- comparisons


def compare_proportions(
    x_a, n_a, x_b, n_b, alpha: float = 0.05, metric: str = "conversion"
) -> Comparison:
    """Two-proportion comparison: lift with confidence intervals and a z-test p-value.

    The p-value is the pooled-variance two-proportion z-test (identical to
    ``statsmodels.stats.proportion.proportions_ztest``); the interval of the absolute
    lift is the unpooled Wald interval (``confint_proportions_2indep(method="wald")``);
    the relative lift's interval is the delta method on ``p_b / p_a``.

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
            f"{which} in either arm ({_out(x_a):g} of {_out(n_a):g} vs {_out(x_b):g} of {_out(n_b):g}): "
            "the rates cannot be compared yet. Keep collecting data or check the conversion definition."
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
    method (normal).

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
            f"{metric}: every unit has the same value in both arms, so there is no variation to test. "
            "Check the metric (e.g. no revenue recorded yet)."
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
        note = f"capped at the {cap_quantile:.0%} quantile ({cap:,.2f}; {n_capped:,} units)"
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
    return _with_note(out, note) if note else out


def _with_note(c: Comparison, note: str) -> Comparison:
    return replace(c, note="; ".join(n for n in (c.note, note) if n))


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
        raise ABTestError(f"{metric}: no variation in either arm, nothing to test")
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


# ---------------------------------------------------------------------------- CUPED


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


# ------------------------------------------------------------------------- Bayesian


@dataclass(frozen=True)
class BayesResult:
    """Beta-Binomial posterior comparison of two conversion rates.

    Attributes
    ----------
    chance_to_beat_control
        ``P(p_b > p_a | data)``.
    expected_loss_treatment
        Risk of shipping the treatment: ``E[max(p_a − p_b, 0)]`` (conversion points
        lost if the treatment is in fact worse).
    expected_loss_control
        Risk of keeping the control: ``E[max(p_b − p_a, 0)]``.
    abs_ci, rel_ci
        Equal-tailed credible intervals of ``p_b − p_a`` and ``p_b / p_a − 1``.
    posterior_a, posterior_b
        Beta parameters ``(alpha, beta)`` of each arm's posterior.
    lift_draws
        Draws of the relative lift from the posterior (for plotting).
    """

    chance_to_beat_control: float
    expected_loss_treatment: float
    expected_loss_control: float
    abs_ci: tuple[float, float]
    rel_ci: tuple[float, float]
    posterior_a: tuple[float, float]
    posterior_b: tuple[float, float]
    credible: float
    lift_draws: np.ndarray = field(repr=False)

    def row(self) -> dict[str, Any]:
        return {
            "chance_to_beat_control": self.chance_to_beat_control,
            "expected_loss_treatment": self.expected_loss_treatment,
            "expected_loss_control": self.expected_loss_control,
            "abs_lo": self.abs_ci[0],
            "abs_hi": self.abs_ci[1],
            "rel_lo": self.rel_ci[0],
            "rel_hi": self.rel_ci[1],
        }


def _upper_partial_mean(y: np.ndarray, a: float, b: float) -> np.ndarray:
    """``E[max(P − y, 0)]`` for ``P ~ Beta(a, b)``."""
    mean = a / (a + b)
    return mean * stats.beta.sf(y, a + 1, b) - y * stats.beta.sf(y, a, b)


def bayes_proportions(
    x_a: int,
    n_a: int,
    x_b: int,
    n_b: int,
    prior: tuple[float, float] = (1, 1),
    credible: float = 0.95,
    draws: int = 200_000,
    seed: int = 0,
) -> BayesResult:
    """Bayesian comparison of two conversion rates with Beta priors.

    Posteriors are ``Beta(prior_a + x, prior_b + n − x)``. The chance to beat control
    and both expected losses are computed by one-dimensional numerical integration
    (exact to ~1e-9, no sampling noise):
    ``P(p_b > p_a) = ∫ f_b(t) F_a(t) dt`` and ``E[max(p_a − p_b, 0)] = ∫ f_b(t)
    E[max(p_a − t, 0)] dt`` with the inner expectation in closed form. The credible
    intervals of the lift have no closed form and come from ``draws`` seeded draws.

    Parameters
    ----------
    x_a, n_a, x_b, n_b
        Conversions and units in the control and the treatment.
    prior
        Beta prior ``(alpha, beta)`` shared by both arms; ``(1, 1)`` is uniform.
    credible
        Probability mass of the credible intervals.
    draws, seed
        Posterior draws for the credible intervals, and their seed.

    Returns
    -------
    BayesResult

    Raises
    ------
    ABTestError
        An empty arm, counts out of range or a non-positive prior.
    """
    _check_n(n_a, n_b)
    if not (0 <= x_a <= n_a and 0 <= x_b <= n_b):
        raise ABTestError("conversions must be between 0 and the number of units in each arm")
    a0, b0 = (float(p) for p in prior)
    if a0 <= 0 or b0 <= 0:
        raise ABTestError(f"Beta prior parameters must be positive, got {prior!r}")
    aa, ba = a0 + x_a, b0 + n_a - x_a
    ab, bb = a0 + x_b, b0 + n_b - x_b
    lo = min(stats.beta.ppf(1e-12, aa, ba), stats.beta.ppf(1e-12, ab, bb))
    hi = max(stats.beta.isf(1e-12, aa, ba), stats.beta.isf(1e-12, ab, bb))
    pts = sorted({aa / (aa + ba), ab / (ab + bb)})

    def quad(fun) -> float:
        val, _ = integrate.quad(fun, lo, hi, points=pts, limit=500, epsabs=1e-12, epsrel=1e-10)
        return float(val)

    fb = stats.beta(ab, bb).pdf
    fa = stats.beta(aa, ba).pdf
    p_win = quad(lambda t: fb(t) * stats.beta.cdf(t, aa, ba))
    loss_b = quad(lambda t: fb(t) * _upper_partial_mean(np.asarray(t), aa, ba))  # E[(p_a − p_b)+]
    loss_a = quad(lambda t: fa(t) * _upper_partial_mean(np.asarray(t), ab, bb))  # E[(p_b − p_a)+]
    rng = np.random.default_rng(seed)
    pa = rng.beta(aa, ba, draws)
    pb = rng.beta(ab, bb, draws)
    q = [(1 - credible) / 2, (1 + credible) / 2]
    d_abs = np.quantile(pb - pa, q)
    rel = pb / pa - 1
    d_rel = np.quantile(rel, q)
    return BayesResult(
        chance_to_beat_control=min(max(p_win, 0.0), 1.0),
        expected_loss_treatment=max(loss_b, 0.0),
        expected_loss_control=max(loss_a, 0.0),
        abs_ci=(float(d_abs[0]), float(d_abs[1])),
        rel_ci=(float(d_rel[0]), float(d_rel[1])),
        posterior_a=(aa, ba),
        posterior_b=(ab, bb),
        credible=credible,
        lift_draws=rel[:20_000],
    )


# ---------------------------------------------------------------------------- power


def _cohen_h(p1: float, p2: float) -> float:
    return 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))


def _power_z(effect: float, n_eff: float, alpha: float) -> float:
    """Two-sided power of a z-test with standardised effect ``effect`` and ``n_eff``."""
    crit = stats.norm.isf(alpha / 2)
    shift = abs(effect) * math.sqrt(n_eff)
    return float(stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift))


def _check_rate(baseline: float, mde_rel: float | None = None) -> None:
    if not 0 < baseline < 1:
        raise ABTestError(f"the baseline conversion rate must be between 0 and 1, got {baseline!r}")
    if mde_rel is not None:
        if mde_rel == 0 or not math.isfinite(mde_rel):
            raise ABTestError(f"the minimum detectable effect must be non-zero, got {mde_rel!r}")
        if not 0 < baseline * (1 + mde_rel) < 1:
            raise ABTestError(
                f"a {mde_rel:+.0%} lift on {baseline:.2%} is not a rate between 0 and 1"
            )


def power_proportions(
    baseline: float, mde_rel: float, n_a: float, n_b: float | None = None, alpha: float = 0.05
) -> float:
    """Power of the two-sided two-proportion test to detect a relative lift.

    Uses Cohen's arcsine effect size ``h`` and the normal approximation, as
    ``statsmodels.stats.power.NormalIndPower`` does: with ``n_eff = 1 / (1/n_a + 1/n_b)``,
    ``power = Φ(h√n_eff − z) + Φ(−h√n_eff − z)``.

    Parameters
    ----------
    baseline
        Control conversion rate.
    mde_rel
        Relative lift to detect (0.05 = +5 %).
    n_a, n_b
        Units in control and treatment (``n_b`` defaults to ``n_a``).
    alpha
        Two-sided significance level.

    Returns
    -------
    float
    """
    _check_alpha(alpha)
    _check_rate(baseline, mde_rel)
    n_b = n_a if n_b is None else n_b
    _check_n(n_a, n_b)
    h = _cohen_h(baseline, baseline * (1 + mde_rel))
    return _power_z(h, 1.0 / (1.0 / n_a + 1.0 / n_b), alpha)


@dataclass(frozen=True)
class SampleSize:
    """Units needed per arm.

    Attributes
    ----------
    n_control, n_treatment
        Units per arm, rounded up.
    n_control_exact
        The unrounded solution for the control arm.
    effect_size
        Cohen's ``h``.
    """

    n_control: int
    n_treatment: int
    n_control_exact: float
    effect_size: float
    baseline: float
    mde_rel: float
    alpha: float
    power: float

    @property
    def total(self) -> int:
        return self.n_control + self.n_treatment


def sample_size(
    baseline: float, mde_rel: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> SampleSize:
    """Units per arm to detect a relative lift in a conversion rate.

    Solves :func:`power_proportions` ``= power`` for the control's units (treatment
    units ``= ratio ×`` control units), the same equation as
    ``NormalIndPower().solve_power(effect_size=h, ratio=ratio)``.

    Parameters
    ----------
    baseline
        Control conversion rate, e.g. 0.04.
    mde_rel
        Smallest relative lift worth detecting, e.g. 0.05 for +5 %.
    alpha
        Two-sided significance level.
    power
        Chance to detect the lift when it is real.
    ratio
        Treatment units per control unit.

    Returns
    -------
    SampleSize
    """
    _check_alpha(alpha)
    _check_rate(baseline, mde_rel)
    if not 0 < power < 1:
        raise ABTestError(f"power must be between 0 and 1, got {power!r}")
    if not ratio > 0:
        raise ABTestError(f"ratio must be positive, got {ratio!r}")
    h = _cohen_h(baseline, baseline * (1 + mde_rel))
    k = (1.0 + ratio) / ratio  # n_eff = n_a / k

    def gap(n: float) -> float:
        return _power_z(h, n / k, alpha) - power

    # one-sided approximation as the starting bracket, then the exact two-sided equation
    guess = k * ((stats.norm.isf(alpha / 2) + stats.norm.isf(1 - power)) / h) ** 2
    lo, hi = max(guess * 0.5, 1e-9), guess * 2
    while gap(lo) > 0:
        lo /= 2
    n = optimize.brentq(gap, lo, hi, xtol=1e-12, rtol=1e-15, maxiter=500) if gap(hi) > 0 else guess
    return SampleSize(
        n_control=math.ceil(n - 1e-9),
        n_treatment=math.ceil(n * ratio - 1e-9),
        n_control_exact=float(n),
        effect_size=h,
        baseline=baseline,
        mde_rel=mde_rel,
        alpha=alpha,
        power=power,
    )


def mde_proportions(
    baseline: float, n_a: float, n_b: float | None = None, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest relative lift detectable with the given traffic (upward direction).

    Parameters
    ----------
    baseline
        Control conversion rate.
    n_a, n_b
        Units per arm (``n_b`` defaults to ``n_a``).
    alpha, power
        As in :func:`sample_size`.

    Returns
    -------
    float
        The relative lift (0.05 = +5 %) at which the test has ``power``.
    """
    _check_alpha(alpha)
    _check_rate(baseline)
    n_b = n_a if n_b is None else n_b
    _check_n(n_a, n_b)
    n_eff = 1.0 / (1.0 / n_a + 1.0 / n_b)
    h_max = math.pi - 2 * math.asin(math.sqrt(baseline))  # h at p2 = 1
    if _power_z(h_max, n_eff, alpha) < power:
        return float("inf")
    h = optimize.brentq(lambda e: _power_z(e, n_eff, alpha) - power, 1e-12, h_max, xtol=1e-14)
    p2 = math.sin(h / 2 + math.asin(math.sqrt(baseline))) ** 2
    return p2 / baseline - 1


# ----------------------------------------------------------------------- sequential
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


# --------------------------------------------------------------- multiple testing


def adjust_pvalues(pvalues: Any, method: str = "holm", alpha: float = 0.05) -> np.ndarray:
    """Adjust p-values for many comparisons (``statsmodels.stats.multitest``).

    Parameters
    ----------
    pvalues
        P-values of the family (NaN entries are left out and stay NaN).
    method
        ``"holm"`` (family-wise error, the default) or ``"fdr_bh"``
        (Benjamini-Hochberg false discovery rate), or any ``multipletests`` method.
    alpha
        Passed to ``multipletests``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same order.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=alpha, method=method)[1]
    return out


# --------------------------------------------------------------- per-unit tables

#: Metrics :func:`metric_table` knows: name → (kind, columns, label).
METRICS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "conversion": ("proportion", ("converted",), "conversion rate"),
    "revenue_per_unit": ("mean", ("revenue",), "revenue per unit"),
    "orders_per_unit": ("mean", ("orders",), "orders per unit"),
    "aov": ("ratio", ("revenue", "orders"), "average order value"),
    "refund_rate": ("ratio", ("refunded_orders", "orders"), "refund rate (of orders)"),
}

METHOD_NAMES = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}

#: Columns of :meth:`Comparison.row`, the body of every comparison table.
ROW_COLUMNS = (
    "metric",
    "control",
    "treatment",
    "abs_lift",
    "abs_lo",
    "abs_hi",
    "rel_lift",
    "rel_lo",
    "rel_hi",
    "p_value",
    "n_control",
    "n_treatment",
    "method",
    "note",
)


def compare_metric(
    units: pd.DataFrame,
    metric: str,
    control: str,
    treatment: str,
    alpha: float = 0.05,
    cap_quantile: float | None = None,
    variant_col: str = "variant",
) -> Comparison:
    """Compare one named metric (see :data:`METRICS`) between two arms of a per-unit frame.

    Parameters
    ----------
    units
        One row per unit with ``variant`` and the metric's columns: ``converted``
        (0/1), ``revenue``, ``orders``, ``refunded_orders``.
    metric
        A key of :data:`METRICS`.
    control, treatment
        Variant names.
    alpha
        One minus the confidence level.
    cap_quantile
        Winsorising quantile for ``revenue_per_unit``; for ``aov`` the per-unit column
        ``revenue_capped`` (revenue with each order capped, see
        :func:`shopbook.features.experiments.unit_metrics`) is used when present,
        otherwise AOV is left uncapped (said in ``note``).
    variant_col
        Column holding the arm.

    Returns
    -------
    Comparison
    """
    kind, cols, label = METRICS[metric]
    missing = [c for c in (variant_col, *cols) if c not in units.columns]
    if missing:
        raise ABTestError(f"{label}: the per-unit table has no column(s) {', '.join(missing)}")
    a = units[units[variant_col] == control]
    b = units[units[variant_col] == treatment]
    if kind == "proportion":
        col = cols[0]
        return compare_proportions(
            a[col].sum(), len(a), b[col].sum(), len(b), alpha=alpha, metric=label
        )
    if kind == "mean":
        cap = cap_quantile if cols[0] == "revenue" else None
        return compare_means_units(
            a[cols[0]], b[cols[0]], alpha=alpha, cap_quantile=cap, metric=label
        )
    num, den = cols
    note = ""
    if num == "revenue" and cap_quantile is not None and cap_quantile < 1:
        # Order value must be capped order by order. A cap on revenue per unit (or on a
        # unit's mean order value) bites differently on units with more orders, and the
        # treatment may change how many orders units have: that biases the ratio.
        if "revenue_capped" in units.columns:
            num = "revenue_capped"
            note = "order values capped at the order-level quantile"
        else:
            note = "not capped: per-order values are not in the per-unit table"
    na, nb = a[num].to_numpy(float), b[num].to_numpy(float)
    da, db = a[den].to_numpy(float), b[den].to_numpy(float)
    out = compare_ratios(na, da, nb, db, alpha=alpha, metric=label)
    return _with_note(out, note) if note else out


def metric_table(
    units: pd.DataFrame,
    control: str,
    treatments: Sequence[str] | None = None,
    metrics: Sequence[str] = ("conversion", "revenue_per_unit", "orders_per_unit", "aov"),
    alpha: float = 0.05,
    cap_quantile: float | None = None,
    adjust: str = "holm",
    variant_col: str = "variant",
) -> pd.DataFrame:
    """Every metric × treatment against control, with multiplicity-adjusted p-values.

    Parameters
    ----------
    units
        Per-unit frame (see :func:`compare_metric` for the columns).
    control
        The control variant.
    treatments
        Variants compared with the control (default: all others, in sorted order).
    metrics
        Keys of :data:`METRICS`; metrics whose columns are missing are left out.
    alpha
        One minus the confidence level.
    cap_quantile
        Winsorising quantile for revenue.
    adjust
        ``multipletests`` method applied over all rows (``"holm"`` or ``"fdr_bh"``).
    variant_col
        Column holding the arm.

    Returns
    -------
    DataFrame
        One row per (variant, metric): the :meth:`Comparison.row` fields plus
        ``variant``, ``p_adjusted`` and ``adjustment``. A metric that cannot be
        computed (e.g. no orders) gets no numbers and its reason in ``note``.
    """
    check_units(units, variant_col=variant_col)
    if treatments is None:
        treatments = sorted(v for v in units[variant_col].astype(str).unique() if v != control)
    rows = []
    for t in treatments:
        for m in metrics:
            kind, cols, label = METRICS[m]
            if any(c not in units.columns for c in cols):
                continue
            try:
                row = compare_metric(units, m, control, t, alpha, cap_quantile, variant_col).row()
            except ABTestError as err:
                row = {"metric": label, "note": str(err)}
            rows.append({"variant": t, "key": m, **row})
    out = pd.DataFrame(rows, columns=["variant", "key", *ROW_COLUMNS])
    out["p_adjusted"] = adjust_pvalues(out["p_value"].astype(float), adjust) if len(out) else []
    out["adjustment"] = METHOD_NAMES.get(adjust, adjust)
    return out


def segment_table(
    units: pd.DataFrame,
    control: str,
    treatment: str,
    by: Sequence[str],
    metric: str = "conversion",
    alpha: float = 0.05,
    adjust: str = "holm",
    min_units: int = 100,
    variant_col: str = "variant",
) -> pd.DataFrame:
    """Exploratory breakdown of one metric by segment, with adjusted p-values.

    Parameters
    ----------
    units
        Per-unit frame with ``variant``, the metric's columns and the segment columns.
    control, treatment
        Variant names.
    by
        Segment columns, e.g. ``["device", "channel", "new_vs_returning"]``; each is
        broken down separately.
    metric
        A key of :data:`METRICS`.
    alpha
        One minus the confidence level.
    adjust
        ``multipletests`` method over all segment rows.
    min_units
        Segments with fewer units in an arm are listed without a test.
    variant_col
        Column holding the arm.

    Returns
    -------
    DataFrame
        ``dimension``, ``segment``, the comparison fields, ``p_adjusted``.
    """
    rows = []
    for dim in by:
        if dim not in units.columns:
            continue
        for seg, part in units.groupby(units[dim].fillna("(unknown)").astype(str), sort=True):
            n_a = int((part[variant_col] == control).sum())
            n_b = int((part[variant_col] == treatment).sum())
            base = {"dimension": dim, "segment": seg}
            if min(n_a, n_b) < min_units:
                rows.append(
                    {
                        **base,
                        "n_control": n_a,
                        "n_treatment": n_b,
                        "note": f"fewer than {min_units} units in an arm: not tested",
                    }
                )
                continue
            try:
                rows.append(
                    {
                        **base,
                        **compare_metric(
                            part, metric, control, treatment, alpha, variant_col=variant_col
                        ).row(),
                    }
                )
            except ABTestError as err:
                rows.append({**base, "n_control": n_a, "n_treatment": n_b, "note": str(err)})
    out = pd.DataFrame(rows, columns=["dimension", "segment", *ROW_COLUMNS])
    out["p_adjusted"] = adjust_pvalues(out["p_value"].astype(float), adjust) if len(out) else []
    return out


# ------------------------------------------------------------------------- decision


@dataclass(frozen=True)
class Decision:
    """The verdict of an experiment and why.

    Attributes
    ----------
    verdict
        ``"ship"``, ``"don't ship"`` or ``"keep running"``.
    reasons
        One row per check: ``check``, ``result`` (pass / fail / warn / info) and
        ``detail``.
    """

    verdict: str
    reasons: pd.DataFrame

    def summary(self) -> str:
        """The verdict and the deciding reasons, in one line."""
        fails = self.reasons[self.reasons["result"].isin(["fail", "warn"])]["detail"].tolist()
        tail = "; ".join(fails) if fails else "all checks passed"
        return f"{self.verdict}: {tail}"

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reasons": self.reasons.to_dict("records")}


def decide(
    primary: Comparison | None,
    guardrails: Mapping[str, tuple[Comparison, str]] | None = None,
    srm: SRMResult | None = None,
    power: float | None = None,
    power_target: float = 0.8,
    sequential_p: float | None = None,
    planned_reached: bool | None = None,
    alpha: float = 0.05,
    p_value: float | None = None,
) -> Decision:
    """Ship / don't ship / keep running, with a reason for each check.

    Rules, in order:

    1. A failed SRM check → **don't ship**: the split is broken, the numbers cannot be
       trusted; fix the assignment and restart.
    2. A guardrail significantly worse → **don't ship**.
    3. Primary metric significantly better (p < α and the interval above 0) → **ship**;
       significantly worse → **don't ship**. Before the planned sample size is
       reached (``planned_reached=False``) only the always-valid ``sequential_p``
       counts as significant, so an early look cannot mislead.
    4. Not significant: if underpowered (``power < power_target``) or the planned
       sample is not reached → **keep running**; otherwise → **don't ship** (no effect
       as large as the minimum detectable effect).

    Parameters
    ----------
    primary
        The primary metric's comparison (higher is better); ``None`` when outcomes
        could not be measured.
    guardrails
        ``{name: (comparison, better)}`` with ``better`` ``"higher"`` or ``"lower"``
        (e.g. ``{"average order value": (aov, "higher"), "refund rate": (rr, "lower")}``).
    srm
        The split check.
    power
        Power of the test to detect the planned minimum detectable effect with the
        traffic seen.
    power_target
        Power below which the test is called underpowered.
    sequential_p
        Always-valid p-value of the primary metric at the last look.
    planned_reached
        Whether the planned sample size has been reached (``None``: not known, judge by
        ``power``).
    alpha
        Significance level.
    p_value
        The primary metric's p-value to judge (e.g. multiplicity-adjusted); default
        ``primary.p_value``.

    Returns
    -------
    Decision
    """
    rows: list[dict[str, str]] = []
    verdict: str | None = None

    def add(check: str, result: str, detail: str) -> None:
        rows.append({"check": check, "result": result, "detail": detail})

    if srm is not None:
        if srm.flagged:
            add(
                "sample ratio",
                "fail",
                f"split does not match the intended shares (p = {srm.p_value:.2g} < {srm.threshold:g}); "
                "results cannot be trusted — fix the assignment and restart",
            )
            verdict = "don't ship"
        else:
            add(
                "sample ratio", "pass", f"split matches the intended shares (p = {srm.p_value:.2g})"
            )

    for name, (comp, better) in (guardrails or {}).items():
        if comp is None:
            add(
                f"guardrail: {name}",
                "info",
                f"{name} cannot be tested (e.g. no events in either arm)",
            )
            continue
        worse = comp.abs_lift < 0 if better == "higher" else comp.abs_lift > 0
        change = f"{comp.rel_lift:+.1%}" if np.isfinite(comp.rel_lift) else f"{comp.abs_lift:+.3g}"
        if comp.p_value < alpha and worse:
            add(
                f"guardrail: {name}",
                "fail",
                f"{name} significantly worse ({change}, p = {comp.p_value:.2g})",
            )
            verdict = verdict or "don't ship"
        else:
            add(
                f"guardrail: {name}",
                "pass",
                f"{name} not significantly worse ({change}, p = {comp.p_value:.2g})",
            )

    early = planned_reached is False
    if primary is None:
        add("primary metric", "warn", "not measured: outcomes are not available")
    else:
        p = primary.p_value if p_value is None else p_value
        if early and sequential_p is not None:
            sig, p_used, how = sequential_p < alpha, sequential_p, "always-valid p"
        elif early:
            sig, p_used, how = False, p, "p (planned sample not reached)"
        else:
            sig, p_used, how = p < alpha, p, "p"
        lift = primary.rel_lift
        lift_txt = f"{lift:+.1%}" if np.isfinite(lift) else f"{primary.abs_lift:+.3g}"
        name = primary.metric
        if sig and primary.abs_lift > 0:
            add(f"primary: {name}", "pass", f"{name} up {lift_txt} ({how} = {p_used:.2g})")
            verdict = verdict or "ship"
        elif sig and primary.abs_lift < 0:
            add(f"primary: {name}", "fail", f"{name} down {lift_txt} ({how} = {p_used:.2g})")
            verdict = verdict or "don't ship"
        else:
            add(
                f"primary: {name}",
                "warn",
                f"no significant change in {name} ({lift_txt}, {how} = {p_used:.2g})",
            )

    underpowered = power is not None and power < power_target
    if power is not None:
        add(
            "power",
            "warn" if underpowered else "pass",
            f"power to detect the planned effect is {power:.0%}"
            + (f" (below {power_target:.0%})" if underpowered else ""),
        )
    if planned_reached is not None:
        add(
            "planned sample",
            "pass" if planned_reached else "warn",
            "planned sample size reached"
            if planned_reached
            else "planned sample size not reached yet",
        )
    if verdict is None:
        verdict = "keep running" if (underpowered or early or primary is None) else "don't ship"
        if verdict == "don't ship":
            add(
                "conclusion",
                "info",
                "enough data and no effect as large as the planned minimum: not worth shipping",
            )
    return Decision(
        verdict=verdict, reasons=pd.DataFrame(rows, columns=["check", "result", "detail"])
    )


# -------------------------------------------------------------------------- readout

#: Sections of a readout, in the order of the notebook.
SECTIONS = ("split", "metrics", "cuped", "bayes", "sequential", "power", "segments", "decision")


def parse_split(text: str | Mapping[str, float] | None) -> dict[str, float] | None:
    """Parse an intended split such as ``"control:50,treatment:50"``.

    Parameters
    ----------
    text
        ``"name:share,name:share"`` (or ``name=share``; any positive weights), a
        mapping, or empty for an equal split.

    Returns
    -------
    dict or None
        ``{variant: weight}``, or ``None`` for an equal split.
    """
    if not text:
        return None
    if isinstance(text, Mapping):
        return {str(k): float(v) for k, v in text.items()}
    out: dict[str, float] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        name, sep, value = part.replace(":", "=").partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ABTestError(
                f"cannot read the intended split {text!r}: write it as 'control:50,treatment:50'"
            ) from None
    return out


@dataclass
class Readout:
    """Everything the A/B notebook shows, computed once from the per-unit frame.

    Dicts are keyed by treatment variant. ``problems`` says, per section in
    :data:`SECTIONS`, why it could not be computed; :meth:`ok` and :meth:`why` are
    what the notebook asks.
    """

    experiment_id: str
    control: str = "control"
    treatments: list[str] = field(default_factory=list)
    alpha: float = 0.05
    units: int = 0
    srm: SRMResult | None = None
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    primary: dict[str, Comparison] = field(default_factory=dict)
    primary_p: dict[str, float] = field(default_factory=dict)
    cuped: dict[str, dict[str, CupedResult]] = field(default_factory=dict)
    bayes: dict[str, BayesResult] = field(default_factory=dict)
    sequential: dict[str, pd.DataFrame] = field(default_factory=dict)
    power: dict[str, dict[str, Any]] = field(default_factory=dict)
    segments: dict[str, pd.DataFrame] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    adjustment: str = "Holm"

    @classmethod
    def empty(cls, experiment_id: str, reason: str) -> Readout:
        """A readout with every section skipped for ``reason`` (nothing to evaluate)."""
        return cls(experiment_id, problems={s: reason for s in SECTIONS})

    def ok(self, section: str) -> bool:
        """Whether ``section`` has results."""
        return section not in self.problems

    def why(self, section: str) -> str:
        """Why ``section`` was skipped."""
        return self.problems.get(section, "")

    @property
    def srm_failed(self) -> bool:
        return self.srm is not None and self.srm.flagged

    @property
    def treatment(self) -> str | None:
        """The first treatment (the one the headline speaks of)."""
        return self.treatments[0] if self.treatments else None

    def decision_table(self) -> pd.DataFrame:
        """One row per treatment: verdict and its reasons."""
        rows = []
        for t, d in self.decisions.items():
            for r in d.reasons.itertuples(index=False):
                rows.append(
                    {
                        "variant": t,
                        "verdict": d.verdict,
                        "check": r.check,
                        "result": r.result,
                        "detail": r.detail,
                    }
                )
        return pd.DataFrame(rows, columns=["variant", "verdict", "check", "result", "detail"])

    def summary(self) -> dict[str, Any]:
        """The headline figures of the first treatment (``None`` where not available)."""
        t = self.treatment
        c = self.primary.get(t) if t else None
        d = self.decisions.get(t) if t else None
        b = self.bayes.get(t) if t else None
        return {
            "experiment_id": self.experiment_id,
            "treatment": t,
            "units": self.units,
            "verdict": d.verdict if d else None,
            "srm_p": self.srm.p_value if self.srm else None,
            "srm_failed": self.srm_failed,
            "control_rate": c.control if c else None,
            "treatment_rate": c.treatment if c else None,
            "rel_lift": c.rel_lift if c else None,
            "rel_lo": c.rel_ci[0] if c else None,
            "rel_hi": c.rel_ci[1] if c else None,
            "p_value": self.primary_p.get(t) if t else None,
            "chance_to_beat_control": b.chance_to_beat_control if b else None,
        }


def _try(readout: Readout, section: str, fn, *args, **kwargs) -> Any:
    try:
        return fn(*args, **kwargs)
    except ABTestError as err:
        readout.problems.setdefault(section, str(err))
        return None


def evaluate(
    units: pd.DataFrame,
    experiment_id: str,
    control: str = "control",
    variants: Sequence[str] | str | None = None,
    expected_split: Any = None,
    alpha: float = 0.05,
    srm_threshold: float = 0.001,
    cap_quantile: float | None = 0.99,
    mde_rel: float = 0.05,
    power_target: float = 0.8,
    adjust: str = "holm",
    segments_by: Sequence[str] = ("device", "channel", "new_vs_returning"),
    min_segment_units: int = 100,
    outcome_problem: str = "",
) -> Readout:
    """Compute every section of an A/B readout from a per-unit frame.

    Parameters
    ----------
    units
        One row per unit: ``unit_id``, ``variant`` and, for the outcome sections,
        ``converted``, ``orders``, ``revenue``, ``refunded_orders``, ``first_order_ts``,
        ``assigned_ts``, ``pre_orders``, ``pre_revenue`` and segment columns (see
        :mod:`shopbook.features.experiments`). Missing columns skip the sections that
        need them, with the reason.
    experiment_id
        Used in messages.
    control
        The control variant.
    variants
        Variants to analyse (a list or ``"a,b"``); empty: all in the data. A named
        variant with no units is an error (:class:`ABTestError`).
    expected_split
        Intended shares (see :func:`parse_split`); default equal.
    alpha
        Significance level.
    srm_threshold
        SRM flag level.
    cap_quantile
        Winsorising quantile for revenue (``None``/1: none).
    mde_rel
        Planned minimum detectable relative lift in conversion: sets the planned
        sample size, the power and the scale of the always-valid test.
    power_target
        Power below which the test is underpowered.
    adjust
        Multiplicity adjustment (``"holm"`` or ``"fdr_bh"``).
    segments_by
        Segment columns for the exploratory breakdown.
    min_segment_units
        Segments smaller than this in an arm are not tested.
    outcome_problem
        Why outcomes are missing, if they are (used as the skip reason).

    Returns
    -------
    Readout

    Raises
    ------
    ABTestError
        A variant named in ``variants`` or the ``control`` is not in the data, or a
        unit appears in two variants.
    """
    _check_alpha(alpha)
    if isinstance(variants, str):
        variants = [v.strip() for v in variants.split(",") if v.strip()]
    check_units(units)
    found = sorted(units["variant"].astype(str).unique())
    names = check_variants(found, variants or None, control=control, experiment_id=experiment_id)
    units = units[units["variant"].astype(str).isin(names)]
    treatments = names[1:]
    r = Readout(
        experiment_id,
        control=control,
        treatments=treatments,
        alpha=alpha,
        units=len(units),
        adjustment=METHOD_NAMES.get(adjust, adjust),
    )

    # 1. split
    counts = units["variant"].astype(str).value_counts()
    split = parse_split(expected_split)
    if split is not None:
        extra = [v for v in split if v not in names]
        if extra:
            raise ABTestError(
                f"the intended split names {extra}, which are not analysed (variants: {names})"
            )
        split = {v: split.get(v, 0.0) for v in names}
    r.srm = _try(
        r, "split", srm_test, {v: int(counts.get(v, 0)) for v in names}, split, srm_threshold
    )

    # 2. metrics
    if "converted" not in units.columns:
        reason = (
            outcome_problem
            or "the per-unit table has no outcome columns (converted, orders, revenue)"
        )
        for s in SECTIONS[1:]:
            r.problems[s] = reason
        if r.srm is not None and r.srm.flagged:  # a broken split decides on its own
            r.decisions = {t: decide(None, srm=r.srm) for t in treatments}
            r.problems.pop("decision")
        return r
    metrics = [
        m
        for m in ("conversion", "revenue_per_unit", "orders_per_unit", "aov", "refund_rate")
        if all(c in units.columns for c in METRICS[m][1])
    ]
    r.metrics = metric_table(units, control, treatments, metrics, alpha, cap_quantile, adjust)
    for t in treatments:
        r.primary[t] = _try(r, "metrics", compare_metric, units, "conversion", control, t, alpha)
    r.primary = {t: c for t, c in r.primary.items() if c is not None}
    if r.primary:
        adj = adjust_pvalues([c.p_value for c in r.primary.values()], adjust)
        r.primary_p = dict(zip(r.primary, (float(p) for p in adj), strict=True))

    def arms(t: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        return units[units["variant"] == control], units[units["variant"] == t]

    for t in treatments:
        a, b = arms(t)
        # 3. CUPED
        res: dict[str, CupedResult] = {}
        for label, metric, cov, cap in (
            ("conversion", "converted", "pre_orders", None),
            ("revenue per unit", "revenue", "pre_revenue", cap_quantile),
        ):
            if metric in units.columns and cov in units.columns:
                out = _try(r, "cuped", cuped_units, units, metric, cov, control, t, alpha, cap)
                if out is not None:
                    res[label] = out
        if res:
            r.cuped[t] = res
            r.problems.pop("cuped", None)
        elif "cuped" not in r.problems:
            r.problems["cuped"] = (
                "no pre-period covariate (pre_orders / pre_revenue) in the per-unit table"
            )
        # 4. Bayes
        out = _try(
            r,
            "bayes",
            bayes_proportions,
            int(a["converted"].sum()),
            len(a),
            int(b["converted"].sum()),
            len(b),
        )
        if out is not None:
            r.bayes[t] = out
        # 6. power (before the sequential view: it sets tau)
        base = a["converted"].mean() if len(a) else float("nan")
        pw = _try(r, "power", _power_block, base, mde_rel, len(a), len(b), alpha, power_target)
        if pw is not None:
            r.power[t] = pw
        # 5. sequential
        if {"assigned_ts", "first_order_ts"} <= set(units.columns):
            looks = _try(r, "sequential", daily_looks, units, control, t)
            if looks is not None and len(looks):
                tau = mde_rel * base if base and base > 0 and np.isfinite(base) else None
                r.sequential[t] = sequential_view(looks, tau=abs(tau) if tau else None, alpha=alpha)
        else:
            r.problems.setdefault(
                "sequential", "no assignment or order times in the per-unit table"
            )
        # 7. segments
        by = [c for c in segments_by if c in units.columns and units[c].notna().any()]
        if by:
            seg = segment_table(
                units, control, t, by, "conversion", alpha, adjust, min_segment_units
            )
            if seg["p_value"].notna().any():
                r.segments[t] = seg
            else:
                r.problems.setdefault(
                    "segments", f"no segment has {min_segment_units} units in each arm"
                )
        else:
            r.problems.setdefault(
                "segments", "no segment columns (device, channel, new_vs_returning)"
            )
    # 8. decision
    for t in treatments:
        prim = r.primary.get(t)
        if prim is None:
            r.problems.setdefault("decision", r.why("metrics") or "no primary metric")
            continue
        guard = {}
        for key, better in (("aov", "higher"), ("refund_rate", "lower")):
            if all(c in units.columns for c in METRICS[key][1]):
                guard[METRICS[key][2]] = (
                    _comparison_of(units, key, control, t, alpha, cap_quantile),
                    better,
                )
        pw = r.power.get(t, {})
        seq = r.sequential.get(t)
        r.decisions[t] = decide(
            prim,
            guard,
            srm=r.srm,
            power=pw.get("power"),
            power_target=power_target,
            sequential_p=float(seq["always_valid_p"].iloc[-1]) if seq is not None else None,
            planned_reached=pw.get("planned_reached"),
            alpha=alpha,
            p_value=r.primary_p.get(t),
        )
    return r


def _comparison_of(
    units: pd.DataFrame, key: str, control: str, t: str, alpha: float, cap: float | None
) -> Comparison | None:
    try:
        return compare_metric(units, key, control, t, alpha, cap)
    except ABTestError:
        return None


def _power_block(
    baseline: float, mde_rel: float, n_a: int, n_b: int, alpha: float, power_target: float
) -> dict[str, Any]:
    if not 0 < baseline < 1:
        raise ABTestError(
            f"the control's conversion rate is {baseline:.2%}: power cannot be computed from it"
            if np.isfinite(baseline)
            else "the control arm has no units"
        )
    plan = sample_size(baseline, mde_rel, alpha, power_target, ratio=max(n_b, 1) / max(n_a, 1))
    achieved = power_proportions(baseline, mde_rel, n_a, n_b, alpha)
    mde = mde_proportions(baseline, n_a, n_b, alpha, power_target)
    return {
        "baseline": baseline,
        "mde_rel": mde_rel,
        "n_control": n_a,
        "n_treatment": n_b,
        "planned_control": plan.n_control,
        "planned_treatment": plan.n_treatment,
        "planned_reached": bool(n_a >= plan.n_control and n_b >= plan.n_treatment),
        "power": achieved,
        "mde_at_traffic": mde,
        "underpowered": achieved < power_target,
    }


def power_table(readout: Readout) -> pd.DataFrame:
    """The power section as a table: one row per treatment."""
    rows = [{"variant": t, **p} for t, p in readout.power.items()]
    return pd.DataFrame(rows)
