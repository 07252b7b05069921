"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Purchases follow a Poisson process with gamma(r, α) heterogeneity in the rate; after each
purchase a customer drops out with probability p ~ beta(a, b). The likelihood has an
analytic gradient and is evaluated on distinct (frequency, recency, T) patterns.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from shopbook.analysis.clv._optimise import _hessian_from_grad, _newton_polish, _optimise
from shopbook.analysis.clv.base import (
    FitError,
    _as_array,
    _blas_single_thread,
    _check_summary,
    _finish,
    _Fit,
    _start_vector,
    _wsum,
    patterns,
)

#: Above this many distinct patterns, BG/NBD is first fitted on a random subset of
#: ``_WARM_START_CUSTOMERS`` customers and then polished on all of them.
_WARM_START_PATTERNS = 20_000
_WARM_START_CUSTOMERS = 100_000


class _Gather:
    """Values of a column by its distinct values: compute f(unique) once, then index.

    Recency and T take few distinct values (whole days or weeks), so a logarithm of
    ``alpha + T`` costs a few hundred evaluations and one gather instead of one per row.
    """

    def __init__(self, v: np.ndarray) -> None:
        self.u, self.i = np.unique(v, return_inverse=True)
        self.dense = len(self.u) > len(v) // 2  # gathering would not save anything

    def map(self, f: Callable[[np.ndarray], np.ndarray], v: np.ndarray) -> np.ndarray:
        return f(v) if self.dense else f(self.u)[self.i]


class _BGData:
    """Distinct (x, t_x, T) patterns with counts, indexed for a fast likelihood."""

    def __init__(self, pat: pd.DataFrame) -> None:
        self.x = pat["frequency"].to_numpy(float)
        self.tx = pat["recency"].to_numpy(float)
        self.T = pat["T"].to_numpy(float)
        self.w = pat["count"].to_numpy(float)
        self.xu, self.inv = np.unique(self.x, return_inverse=True)
        self.wx = np.bincount(self.inv, weights=self.w, minlength=len(self.xu))  # customers per x
        self.gT = _Gather(self.T)
        self.gtx = _Gather(self.tx)
        self.n = self.w.sum()

    def thin(self, fraction: float, seed: int = 0) -> _BGData:
        """A random ~``fraction`` of the customers (binomial thinning of the counts)."""
        keep = np.random.default_rng(seed).binomial(self.w.astype(np.int64), fraction).astype(float)
        ok = keep > 0
        pat = pd.DataFrame(
            {"frequency": self.x[ok], "recency": self.tx[ok], "T": self.T[ok], "count": keep[ok]}
        )
        return _BGData(pat)


def _bgnbd_ll_grad(theta: np.ndarray, d: _BGData, want_grad: bool = True):
    """Total log-likelihood of BG/NBD and its gradient in natural parameters.

    Written for speed on hundreds of thousands of patterns: gamma functions on the
    distinct frequencies only (their weighted sums via the customers per frequency),
    logarithms on the distinct recencies and ages, and ``log(A3 + A4)`` as ``l3 +
    softplus(l4 − l3)`` with one exponential and one log1p per row.
    """
    r, alpha, a, b = theta
    xu, inv, wx = d.xu, d.inv, d.wx
    pos_u = xu > 0
    # per distinct frequency
    lg_u = (
        special.gammaln(r + xu)
        - special.gammaln(r)
        + r * math.log(alpha)
        + special.gammaln(a + b)
        + special.gammaln(b + xu)
        - special.gammaln(b)
        - special.gammaln(a + b + xu)
    )
    bx1_u = np.where(pos_u, b + xu - 1, 1.0)
    c_u = np.where(pos_u, math.log(a) - np.log(bx1_u), -np.inf)
    # per row
    log_aT = d.gT.map(lambda v: np.log(alpha + v), d.T)
    log_atx = d.gtx.map(lambda v: np.log(alpha + v), d.tx)
    rx = r + d.x
    D = log_aT - log_atx  # ≥ 0
    delta = c_u[inv] + rx * D  # l4 − l3 (−inf when x = 0)
    e = np.exp(-np.abs(delta))
    total = (
        _wsum(wx, lg_u) - _wsum(d.w, rx * log_aT) + _wsum(d.w, np.maximum(delta, 0.0) + np.log1p(e))
    )
    if not want_grad:
        return total, None
    w4 = np.where(delta >= 0, 1.0, e) / (1.0 + e)  # share of A4 in A3 + A4
    ww4 = d.w * w4
    dig_ab = special.digamma(a + b)
    dig_abx_u = special.digamma(a + b + xu)
    dr = (
        _wsum(wx, special.digamma(r + xu) - special.digamma(r) + math.log(alpha))
        - _wsum(d.w, log_aT)
        + _wsum(ww4, D)
    )
    inv_aT = d.gT.map(lambda v: 1.0 / (alpha + v), d.T)
    inv_atx = d.gtx.map(lambda v: 1.0 / (alpha + v), d.tx)
    dalpha = r / alpha * d.n - _wsum(d.w * rx, inv_aT + w4 * (inv_atx - inv_aT))
    sw4 = float(ww4.sum())
    da = _wsum(wx, dig_ab - dig_abx_u) + sw4 / a
    inv_bx1 = np.where(pos_u, 1.0 / bx1_u, 0.0)
    db = _wsum(wx, dig_ab + special.digamma(b + xu) - special.digamma(b) - dig_abx_u) - _wsum(
        ww4, inv_bx1[inv]
    )
    return total, np.array([dr, dalpha, da, db])


@dataclass(repr=False)
class BGNBDFit(_Fit):
    """A fitted BG/NBD model; parameters ``r, alpha, a, b`` (durations in the summary's unit)."""

    def _p(self):
        p = self.params
        return p["r"], p["alpha"], p["a"], p["b"]

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)]: expected purchases in ``t`` periods of a customer who just made a first
        purchase."""
        r, alpha, a, b = self._p()
        t = _as_array(t)
        with np.errstate(all="ignore"):
            h = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
            return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * h)

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive | x, t_x, T): probability the customer has not dropped out."""
        r, alpha, a, b = self._p()
        x, tx, T = _as_array(frequency), _as_array(recency), _as_array(T)
        with np.errstate(all="ignore"):
            log_term = (
                np.log(a)
                - np.log(np.where(x > 0, b + x - 1, 1.0))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
            )
            return np.where(x > 0, special.expit(-log_term), 1.0)

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` periods of each customer."""
        r, alpha, a, b = self._p()
        x, tx, T = _as_array(frequency), _as_array(recency), _as_array(T)
        t = _as_array(t)
        with np.errstate(all="ignore"):
            h = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
            first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * h)
            return first * self.p_alive(x, tx, T)

    def predict(self, summary: pd.DataFrame, t: float) -> pd.DataFrame:
        """``p_alive`` and ``expected_purchases`` over ``t`` periods for each row of ``summary``.

        ``summary`` needs ``frequency``, ``recency``, ``T``; other columns are kept.
        """
        out = summary.copy()
        args = (summary["frequency"], summary["recency"], summary["T"])
        out["p_alive"] = self.p_alive(*args)
        out["expected_purchases"] = self.expected_purchases(t, *args)
        return out

    def simulate(self, T, seed: int | None = 0) -> pd.DataFrame:
        """Draw (frequency, recency, T) for customers observed ``T`` periods each.

        Used by the tests and benchmarks to plant known parameters.
        """
        return simulate_bgnbd(self.params, T, seed=seed)


@_blas_single_thread
def fit_bgnbd(
    summary: pd.DataFrame,
    weights: str | None = None,
    start: dict[str, float] | None = None,
    max_iter: int = 2000,
) -> BGNBDFit:
    """Fit the BG/NBD model by maximum likelihood.

    Parameters
    ----------
    summary
        One row per customer with ``frequency``, ``recency``, ``T`` (lifetimes'
        conventions, one time unit), or one row per distinct pattern with a count column
        named by ``weights``.
    weights
        Column with the number of customers each row stands for (default: 1 per row).
    start
        Optional starting values ``{r, alpha, a, b}``; default ``r=1, a=1, b=1`` and
        ``alpha`` = the mean of ``T`` (so the start does not depend on the time unit).
    max_iter
        Iteration cap of each L-BFGS-B pass.

    Returns
    -------
    BGNBDFit
        ``.params`` (``r, alpha, a, b``), ``.standard_errors``, ``.log_likelihood``
        (total), prediction methods.

    Raises
    ------
    FitError
        Missing columns, invalid values, fewer than :data:`MIN_CUSTOMERS` customers, or
        no repeat purchases at all (the purchase process is then not identified).

    Warns
    -----
    FitWarning
        A parameter ran to its bound (e.g. no sign of churn: ``a → 0``) or the Hessian is
        singular; standard errors are then NaN.
    """
    model = "BG/NBD"
    cols = ("frequency", "recency", "T")
    _check_summary(summary, cols, model, weights)
    pat = patterns(summary, cols, weights)
    if (pat["frequency"] == 0).all():
        raise FitError(
            f"{model}: no customer made a repeat purchase (all frequency == 0) — the purchase "
            "rate and dropout cannot be estimated. Use a longer calibration period."
        )
    d = _BGData(pat)
    names = ("r", "alpha", "a", "b")
    mean_T = _wsum(d.w, d.T) / d.n or 1.0
    starts = _start_vector(names, {"r": 1.0, "alpha": max(mean_T, 1e-3), "a": 1.0, "b": 1.0}, start)

    def objective(
        data: _BGData,
    ) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], tuple[float, np.ndarray]]]:
        def negll(z):
            return -_bgnbd_ll_grad(np.exp(z), data, want_grad=False)[0]

        def negll_and_grad(z):
            theta = np.exp(z)
            f, g = _bgnbd_ll_grad(theta, data)
            return -f, -g * theta

        return negll, negll_and_grad

    res = None
    if len(pat) > _WARM_START_PATTERNS and d.n > 2 * _WARM_START_CUSTOMERS:
        # Large base: search from every start on a random subset of the customers, then
        # take Newton steps on all of them with the subset's (rescaled) Hessian — a few
        # passes over the data instead of dozens. Falls back to L-BFGS-B if that fails.
        sub = d.thin(_WARM_START_CUSTOMERS / d.n)
        res_sub, sub_bound = _optimise(model, names, *objective(sub), starts, sub.n, max_iter)
        starts = [res_sub.x]
        if not sub_bound and res_sub.success:
            theta_sub = np.exp(res_sub.x)
            with np.errstate(all="ignore"):
                H_sub = _hessian_from_grad(lambda th: _bgnbd_ll_grad(th, sub)[1], theta_sub)
            res = _newton_polish(
                lambda th: _bgnbd_ll_grad(th, d), theta_sub, H_sub * (d.n / sub.n), d.n
            )
    if res is None:
        res, at_bound = _optimise(model, names, *objective(d), starts, d.n, max_iter)
        g0 = None
    else:
        at_bound = ()
        g0 = res.grad
    theta = np.exp(res.x)
    with np.errstate(all="ignore"):
        if g0 is None and len(pat) > _WARM_START_PATTERNS:
            g0 = _bgnbd_ll_grad(theta, d)[1]
        # Forward differences from the gradient at the optimum when the data are large.
        H = _hessian_from_grad(lambda th: _bgnbd_ll_grad(th, d)[1], theta, g0)
    a, b = theta[2], theta[3]
    hint = ""
    if {"r", "alpha"} & set(at_bound):
        hint = (
            f"purchase rates show no heterogeneity across customers (one rate r/α ≈ "
            f"{theta[0] / theta[1]:.3g} per period); the closed-form predictions do not hold there"
        )
    degenerate = ""
    if a / (a + b) < 1e-4:
        degenerate = (
            "the data show no sign of churn (mean dropout probability a/(a+b) ≈ "
            f"{a / (a + b):.2g}): BG/NBD reduces to the NBD model, P(alive) ≈ 1 for everyone, "
            "and a, b are not identified separately"
        )
    return _finish(
        BGNBDFit,
        model,
        names,
        res,
        at_bound,
        H,
        -res.fun * d.n,
        d.n,
        len(pat),
        hint=hint,
        degenerate=degenerate,
    )


def simulate_bgnbd(params: dict[str, float], T, seed: int | None = 0) -> pd.DataFrame:
    """Simulate BG/NBD customers.

    Parameters
    ----------
    params
        ``{r, alpha, a, b}``.
    T
        Observation length per customer (array) — its length is the number of customers.
    seed
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``.
    """
    rng = np.random.default_rng(seed)
    T = _as_array(T)
    n = len(T)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    freq = np.zeros(n)
    rec = np.zeros(n)
    alive = np.ones(n, bool)
    t = np.zeros(n)
    active = np.ones(n, bool)
    while active.any():
        idx = np.flatnonzero(active)
        t_next = t[idx] + rng.exponential(1 / lam[idx])
        ok = t_next <= T[idx]
        stop = idx[~ok]
        active[stop] = False
        go = idx[ok]
        t[go] = t_next[ok]
        freq[go] += 1
        rec[go] = t[go]
        drop = rng.random(len(go)) < p[go]
        alive[go[drop]] = False
        active[go[drop]] = False
    return pd.DataFrame({"frequency": freq, "recency": rec, "T": T})
