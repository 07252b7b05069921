"""Power: units needed, power with the traffic seen, smallest detectable lift."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

from shopbook.analysis.abtest._common import _check_alpha, _check_n
from shopbook.analysis.abtest.errors import ABTestError

__all__ = [
    "SampleSize",
    "mde_proportions",
    "power_at_traffic",
    "power_proportions",
    "sample_size",
]


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


def power_at_traffic(
    baseline: float,
    mde_rel: float,
    n_a: int,
    n_b: int,
    alpha: float = 0.05,
    power_target: float = 0.8,
) -> dict[str, Any]:
    """The power section of a readout: the planned sample, the power now, the MDE now.

    Parameters
    ----------
    baseline
        The control's conversion rate.
    mde_rel
        The planned minimum detectable relative lift.
    n_a, n_b
        Units in the control and the treatment so far.
    alpha
        Two-sided significance level.
    power_target
        The planned power; below it the test is ``underpowered``.

    Returns
    -------
    dict
        ``baseline``, ``mde_rel``, ``n_control``, ``n_treatment``, ``planned_control``,
        ``planned_treatment`` (:func:`sample_size` at the traffic's ratio),
        ``planned_reached``, ``power`` (:func:`power_proportions`), ``mde_at_traffic``
        (:func:`mde_proportions`) and ``underpowered``.

    Raises
    ------
    ABTestError
        A baseline rate of 0 or 1 (or undefined: no control units).
    """
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
