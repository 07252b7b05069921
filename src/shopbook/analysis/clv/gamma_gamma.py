"""Gamma-Gamma spend model (Fader, Hardie & Berger 2005; Colombo & Jiang 1999).

The mean repeat spend of each customer, parameters p, q, γ (called ``v``), and the check
of its assumption that spend does not move with purchase frequency.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from shopbook.analysis.clv._optimise import _hessian_from_grad, _optimise
from shopbook.analysis.clv.base import (
    MIN_CUSTOMERS,
    FitError,
    FitWarning,
    _as_array,
    _blas_single_thread,
    _check_summary,
    _finish,
    _Fit,
    _start_vector,
    _wsum,
    patterns,
)
from shopbook.i18n import _

#: Largest |Pearson r| of purchase frequency and mean repeat spend at which Gamma-Gamma's
#: assumption (spend does not move with frequency) is taken as reasonable.
SPEND_CORRELATION_LIMIT = 0.3


def _gg_ll_grad(theta, x, m, w, xu, inv, want_grad=True):
    p, q, v = theta
    px = p * x
    lnx = np.log(x)
    lnm = np.log(m)
    lvmx = np.log(v + m * x)
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * math.log(v)
        + (px - 1) * lnm
        + px * lnx
        - (px + q) * lvmx
    )
    total = _wsum(w, ll)
    if not want_grad:
        return total, None
    dig_pxq = special.digamma(p * xu + q)[inv]
    dig_px = special.digamma(p * xu)[inv]
    dp = x * (dig_pxq - dig_px + lnm + lnx - lvmx)
    dq = dig_pxq - special.digamma(q) + math.log(v) - lvmx
    dv = q / v - (px + q) / (v + m * x)
    return total, np.array([_wsum(w, dp), _wsum(w, dq), _wsum(w, dv)])


@dataclass(repr=False)
class GammaGammaFit(_Fit):
    """A fitted Gamma-Gamma spend model; parameters ``p, q, v`` (v is Fader & Hardie's γ).

    ``n_excluded`` counts repeat buyers left out because their mean repeat spend was 0.
    """

    n_excluded: int = 0

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """E(M | x, m_x): expected mean spend per purchase of each customer.

        A weighted mean of the population mean ``p v / (q − 1)`` and the customer's own
        ``m_x``; customers without repeat purchases get the population mean.
        """
        p, q, v = (self.params[k] for k in ("p", "q", "v"))
        x = _as_array(frequency)
        m = _as_array(monetary_value)
        pop = self.population_mean_spend()
        with np.errstate(all="ignore"):
            own = (q - 1) / (p * x + q - 1) * pop + (p * x) / (p * x + q - 1) * m
        return np.where(x > 0, own, pop)

    def population_mean_spend(self) -> float:
        """E(M) = p v / (q − 1) (infinite when q ≤ 1)."""
        p, q, v = (self.params[k] for k in ("p", "q", "v"))
        return p * v / (q - 1) if q > 1 else float("inf")


@_blas_single_thread
def fit_gamma_gamma(
    summary: pd.DataFrame,
    weights: str | None = None,
    start: dict[str, float] | None = None,
    max_iter: int = 2000,
) -> GammaGammaFit:
    """Fit the Gamma-Gamma spend model on repeat buyers.

    Parameters
    ----------
    summary
        ``frequency`` and ``monetary_value`` (mean value of the repeat purchases) per
        customer. Only customers with ``frequency > 0`` and ``monetary_value > 0`` are
        fitted; repeat buyers with zero mean spend are counted in ``n_excluded``.
    weights
        Optional count column.
    start
        Optional start ``{p, q, v}``; default ``p = q = 1``, ``v`` = the mean spend.
    max_iter
        Iteration cap per L-BFGS-B pass.

    Returns
    -------
    GammaGammaFit
        ``.params`` (``p, q, v``), ``.standard_errors``, ``.log_likelihood`` (total, of
        the spend model alone), :meth:`GammaGammaFit.expected_spend`.

    Notes
    -----
    The model assumes spend is independent of purchase frequency; check it with
    :func:`spend_frequency_check` and show the result next to the fit.
    """
    model = "Gamma-Gamma"
    cols = ("frequency", "monetary_value")
    _check_summary(summary, cols, model, weights, min_customers=False)
    rep = summary[summary["frequency"] > 0]
    zero = int((rep["monetary_value"] <= 0).sum()) if len(rep) else 0
    rep = rep[rep["monetary_value"] > 0]
    if len(rep) == 0:
        raise FitError(
            f"{model}: no repeat buyer with a positive mean repeat spend — the spend model "
            "needs customers with frequency > 0 and monetary_value > 0."
        )
    n_rep = float(rep[weights].sum()) if weights else float(len(rep))
    if n_rep < MIN_CUSTOMERS:
        raise FitError(
            f"{model}: {n_rep:g} repeat buyer(s) with positive spend cannot identify the spend "
            f"distribution; need at least {MIN_CUSTOMERS} (in practice, hundreds)."
        )
    pat = patterns(rep, cols, weights)
    if pat["monetary_value"].nunique() == 1:
        raise FitError(
            f"{model}: every repeat buyer has the same mean spend; spend heterogeneity cannot "
            "be estimated."
        )
    x, m, w = (pat[c].to_numpy(float) for c in ("frequency", "monetary_value", "count"))
    xu, inv = np.unique(x, return_inverse=True)
    n = w.sum()
    names = ("p", "q", "v")
    mean_m = _wsum(w, m) / n
    starts = _start_vector(names, {"p": 1.0, "q": 1.0, "v": mean_m}, start)

    def negll(z):
        return -_gg_ll_grad(np.exp(z), x, m, w, xu, inv, want_grad=False)[0]

    def negll_and_grad(z):
        th = np.exp(z)
        f, g = _gg_ll_grad(th, x, m, w, xu, inv)
        return -f, -g * th

    res, at_bound = _optimise(model, names, negll, negll_and_grad, starts, n, max_iter)
    theta = np.exp(res.x)
    with np.errstate(all="ignore"):
        H = _hessian_from_grad(lambda th: _gg_ll_grad(th, x, m, w, xu, inv)[1], theta)
    fit = _finish(
        GammaGammaFit,
        model,
        names,
        res,
        at_bound,
        H,
        -res.fun * n,
        n,
        len(pat),
        "spend shows (almost) no heterogeneity across customers",
        n_excluded=zero,
    )
    if fit.params["q"] <= 1:
        warnings.warn(
            f"{model}: q = {fit.params['q']:.3g} ≤ 1, so the population mean spend is infinite; "
            "expected spend for new customers is not defined.",
            FitWarning,
            stacklevel=2,
        )
    return fit


def spend_frequency_check(summary: pd.DataFrame) -> pd.Series:
    """How strongly mean repeat spend moves with purchase frequency (Gamma-Gamma's assumption).

    Parameters
    ----------
    summary
        ``frequency`` and ``monetary_value`` per customer; repeat buyers with positive
        spend are used.

    Returns
    -------
    pandas.Series
        ``customers``, ``pearson_r`` and its ``pearson_p``, ``spearman_rho`` and its
        ``spearman_p``. The model is reasonable when the correlations are small (say
        |r| < 0.3) — a significant p-value alone is not disqualifying on large samples.
    """
    rep = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(rep) < 3 or rep["frequency"].nunique() < 2 or rep["monetary_value"].nunique() < 2:
        return pd.Series(
            {
                "customers": len(rep),
                "pearson_r": np.nan,
                "pearson_p": np.nan,
                "spearman_rho": np.nan,
                "spearman_p": np.nan,
            }
        )
    pr = stats.pearsonr(rep["frequency"], rep["monetary_value"])
    sr = stats.spearmanr(rep["frequency"], rep["monetary_value"])
    return pd.Series(
        {
            "customers": len(rep),
            "pearson_r": float(pr.statistic),
            "pearson_p": float(pr.pvalue),
            "spearman_rho": float(sr.statistic),
            "spearman_p": float(sr.pvalue),
        }
    )


def spend_frequency_verdict(check: pd.Series, limit: float = SPEND_CORRELATION_LIMIT) -> str:
    """What :func:`spend_frequency_check` says about the spend model, as a phrase.

    Parameters
    ----------
    check
        :func:`spend_frequency_check` output (needs ``pearson_r``).
    limit
        Largest ``|pearson_r|`` that counts as small enough.

    Returns
    -------
    str
        ``"small enough for the model"`` when ``|pearson_r| < limit``, otherwise (also
        when the correlation could not be computed) ``"too strong: treat the spend model
        with caution"``.
    """
    if abs(check["pearson_r"]) < limit:
        return _("small enough for the model")
    return _("too strong: treat the spend model with caution")
