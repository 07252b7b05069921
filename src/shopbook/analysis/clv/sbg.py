"""Shifted-beta-geometric contractual retention (Fader & Hardie 2007, "How to project
customer retention")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from shopbook.analysis.clv._optimise import _hessian_fd, _optimise
from shopbook.analysis.clv.base import (
    FitError,
    _as_array,
    _blas_single_thread,
    _finish,
    _Fit,
    _start_vector,
    _wsum,
)


@dataclass(repr=False)
class SBGFit(_Fit):
    """A fitted shifted-beta-geometric retention model; parameters ``alpha, beta``.

    Period ``t`` runs from 1; ``survival(0) == 1``.
    """

    def churn_probability(self, t) -> np.ndarray:
        """P(T = t): share of the cohort that churns at the end of period ``t`` (t ≥ 1)."""
        a, b = self.params["alpha"], self.params["beta"]
        t = _as_array(t)
        return np.exp(special.betaln(a + 1, b + t - 1) - special.betaln(a, b))

    def survival(self, t) -> np.ndarray:
        """S(t) = B(α, β + t) / B(α, β): share of the cohort still active after ``t`` periods."""
        a, b = self.params["alpha"], self.params["beta"]
        t = _as_array(t)
        return np.exp(special.betaln(a, b + t) - special.betaln(a, b))

    def retention_rate(self, t) -> np.ndarray:
        """r(t) = (β + t − 1) / (α + β + t − 1): share of period t−1's survivors renewing in t."""
        a, b = self.params["alpha"], self.params["beta"]
        t = _as_array(t)
        return (b + t - 1) / (a + b + t - 1)

    def projected_survivors(self, cohort_size: float, periods: int) -> pd.Series:
        """Expected survivors of a cohort for periods 0..``periods``."""
        t = np.arange(periods + 1)
        return pd.Series(
            cohort_size * self.survival(t), index=pd.Index(t, name="period"), name="survivors"
        )

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """DEL: expected discounted number of periods a new customer stays (Fader & Hardie 2010).

        ``Σ_{t≥0} S(t) / (1+d)^t``, i.e. the value of a new customer paying 1 per period
        at the start of each period.
        """
        a, b = self.params["alpha"], self.params["beta"]
        d = discount_rate
        return float(special.hyp2f1(1, b, a + b, 1 / (1 + d)))


@_blas_single_thread
def fit_sbg(
    survivors: Sequence[float] | pd.Series | np.ndarray, start: dict[str, float] | None = None
) -> SBGFit:
    """Fit the shifted-beta-geometric model to a cohort's survivor curve.

    Parameters
    ----------
    survivors
        Customers still active at the start of periods 0, 1, 2, …, starting with the
        cohort size (e.g. ``[1000, 631, 468, 382]``). Non-increasing.
    start
        Optional start ``{alpha, beta}`` (default 1, 1).

    Returns
    -------
    SBGFit
        ``.params`` (``alpha, beta``), ``.standard_errors``, ``.log_likelihood``,
        :meth:`SBGFit.survival`, :meth:`SBGFit.retention_rate`, …

    Raises
    ------
    FitError
        Fewer than three values, a negative or increasing count, an empty cohort, or no
        churn at all.
    """
    model = "sBG"
    n = np.asarray(survivors, dtype="float64").ravel()
    if n.size < 3:
        raise FitError(
            f"{model}: need survivors for at least 3 periods (cohort size + 2), got {n.size}."
        )
    if not np.all(np.isfinite(n)) or (n < 0).any():
        raise FitError(f"{model}: survivors must be finite and non-negative, got {n.tolist()}.")
    if n[0] <= 0:
        raise FitError(f"{model}: the cohort is empty (first value {n[0]:g}).")
    if (np.diff(n) > 0).any():
        raise FitError(
            f"{model}: survivors must not increase from one period to the next, got {n.tolist()}."
        )
    lost = -np.diff(n)
    if lost.sum() == 0:
        raise FitError(
            f"{model}: nobody churned in {n.size - 1} periods; the churn distribution cannot "
            "be estimated."
        )
    t = np.arange(1, n.size)
    last = n[-1]
    names = ("alpha", "beta")

    def ll(theta):
        a, b = theta
        lp = special.betaln(a + 1, b + t - 1) - special.betaln(a, b)
        ls = special.betaln(a, b + t[-1]) - special.betaln(a, b)
        return _wsum(lost, lp) + (last * ls if last > 0 else 0.0)

    def negll(z):
        v = ll(np.exp(z))
        return -v if np.isfinite(v) else 1e300

    starts = _start_vector(names, {"alpha": 1.0, "beta": 1.0}, start)
    res, at_bound = _optimise(model, names, negll, None, starts, n[0], 2000)
    theta = np.exp(res.x)
    H = _hessian_fd(ll, theta)
    return _finish(SBGFit, model, names, res, at_bound, H, -res.fun * n[0], n[0], int(n.size - 1))
