"""Customer lifetime value: "buy till you die" models fitted by maximum likelihood.

Models
------
* :func:`fit_bgnbd` — BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the
  easy way"): purchases follow a Poisson process with gamma(r, α) heterogeneity in the
  rate; after each purchase a customer drops out with probability p ~ beta(a, b).
* :func:`fit_pareto_nbd` — Pareto/NBD (Schmittlein, Morrison & Colombo 1987), the
  continuous-time dropout comparison: gamma(r, α) purchase rates, exponential lifetimes
  with gamma(s, β) dropout rates.
* :func:`fit_gamma_gamma` — Gamma-Gamma spend model (Fader, Hardie & Berger 2005;
  Colombo & Jiang 1999) for the mean repeat spend, parameters p, q, γ (called ``v``).
* :func:`fit_sbg` — shifted-beta-geometric contractual retention (Fader & Hardie 2007,
  "How to project customer retention").

Input conventions (lifetimes')
------------------------------
A *customer summary* has one row per customer with

* ``frequency`` — number of repeat purchase periods (distinct purchase days after the
  first one) in the calibration period,
* ``recency`` — age of the customer at the last purchase (0 when ``frequency == 0``),
* ``T`` — age of the customer at the end of the calibration period,
* ``monetary_value`` — mean value of the repeat purchases (Gamma-Gamma only),

all durations in one time unit (days or weeks). :func:`shopbook.features.customers.customer_summary`
builds it in the engine.

Why not lifetimes
-----------------
lifetimes (last release 2020) is unmaintained: it fits one row per customer with
autograd, so a fit at a million customers takes minutes; it optimises a penalised mean
log-likelihood; and it returns no warning when a fit ends on a boundary. Here the
likelihood is evaluated on the *distinct* (frequency, recency, T) patterns weighted by
their counts (Fader & Hardie's own device), with analytic gradients for BG/NBD and
Gamma-Gamma, log-parameterised L-BFGS-B, standard errors from the Hessian of the total
log-likelihood, and explicit errors or warnings for degenerate inputs. The test suite
checks the results against lifetimes and against the published numbers.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

__all__ = [
    "FitError",
    "FitWarning",
    "BGNBDFit",
    "ParetoNBDFit",
    "GammaGammaFit",
    "SBGFit",
    "fit_bgnbd",
    "fit_pareto_nbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "patterns",
    "holdout_comparison",
    "prediction_error",
    "tracking",
    "customer_value",
    "value_by_group",
    "simulate_bgnbd",
    "spend_frequency_check",
    "split_dates",
]

#: Bounds of the log-parameters during optimisation (parameters in [1.5e-8, 6.6e7]).
_LOG_BOUND = 18.0
#: Smallest customer base a fit accepts; fewer cannot identify a population distribution.
MIN_CUSTOMERS = 10
#: Above this many distinct patterns, BG/NBD is first fitted on a random subset of
#: ``_WARM_START_CUSTOMERS`` customers and then polished on all of them.
_WARM_START_PATTERNS = 20_000
_WARM_START_CUSTOMERS = 100_000


def _blas_single_thread(fn):
    """Run ``fn`` with one BLAS thread.

    The fits do tiny linear algebra (4 × 4) many times; a multi-threaded BLAS spends more
    time waking threads than computing, and on a busy machine it stalls (measured: the
    1 M-customer BG/NBD fit went from ~3 s to ~0.7 s under load with one thread).
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


class FitError(ValueError):
    """The input cannot be fitted (empty, too small, invalid values, no repeat purchases)."""


class FitWarning(UserWarning):
    """The fit ran but its result needs care (a parameter ran to a bound, singular Hessian)."""


# ---------------------------------------------------------------------------- helpers


def patterns(
    summary: pd.DataFrame,
    columns: Sequence[str] = ("frequency", "recency", "T"),
    weights: str | None = None,
) -> pd.DataFrame:
    """Collapse a customer summary to its distinct rows with a ``count`` column.

    Parameters
    ----------
    summary
        One row per customer (or per pattern, with ``weights``) holding ``columns``.
    columns
        The columns that define a pattern.
    weights
        Optional column holding how many customers each row stands for.

    Returns
    -------
    pandas.DataFrame
        ``columns`` plus ``count`` (float), one row per distinct pattern.
    """
    cols = list(columns)
    w = summary[weights].to_numpy(dtype="float64") if weights else np.ones(len(summary))
    if len(summary) == 0:
        return pd.DataFrame({**{c: summary[c].to_numpy() for c in cols}, "count": w})
    # One integer key per row from the per-column codes, then a weighted bincount: several
    # times faster than a multi-column groupby at a million rows.
    key = np.zeros(len(summary), dtype=np.int64)
    uniques = []
    for c in cols:
        codes, u = pd.factorize(summary[c], sort=True)
        uniques.append(np.asarray(u))
        key = key * len(u) + codes
    ukey, inv = np.unique(key, return_inverse=True)
    counts = np.bincount(inv, weights=w)
    out = {}
    rest = ukey
    for c, u in zip(reversed(cols), reversed(uniques), strict=True):
        out[c] = u[rest % len(u)]
        rest = rest // len(u)
    frame = pd.DataFrame({c: out[c] for c in cols})
    frame["count"] = counts
    return frame[frame["count"] > 0].reset_index(drop=True)


def _check_summary(
    summary: pd.DataFrame,
    columns: Sequence[str],
    model: str,
    weights: str | None,
    min_customers: bool = True,
) -> pd.DataFrame:
    if not isinstance(summary, pd.DataFrame):
        raise FitError(f"{model}: expected a pandas DataFrame, got {type(summary).__name__}")
    need = list(columns) + ([weights] if weights else [])
    missing = [c for c in need if c not in summary.columns]
    if missing:
        raise FitError(
            f"{model}: the summary lacks column(s) {missing}; it has {list(summary.columns)}. "
            "Build it with shopbook.features.customers.customer_summary(...)."
        )
    if len(summary) == 0:
        raise FitError(f"{model}: the summary is empty — no customers to fit.")
    for c in need:
        v = pd.to_numeric(summary[c], errors="coerce").to_numpy(dtype="float64")
        bad = ~np.isfinite(v)
        if bad.any():
            raise FitError(
                f"{model}: column {c!r} has {int(bad.sum())} missing or non-finite value(s)."
            )
        if (v < 0).any():
            raise FitError(f"{model}: column {c!r} has {int((v < 0).sum())} negative value(s).")
    if "frequency" in columns:
        f = summary["frequency"].to_numpy(dtype="float64")
        if (np.abs(f - np.round(f)) > 1e-9).any():
            raise FitError(f"{model}: 'frequency' must count repeat purchases (whole numbers).")
    if "recency" in columns and "T" in columns:
        late = (
            summary["recency"].to_numpy(float) > summary["T"].to_numpy(float) * (1 + 1e-9) + 1e-12
        )
        if late.any():
            raise FitError(
                f"{model}: {int(late.sum())} customer(s) have recency > T (last purchase after the "
                "end of the calibration period). Recompute the summary with one calibration end."
            )
        same = (summary["frequency"].to_numpy(float) > 0) & (
            summary["recency"].to_numpy(float) == 0
        )
        if same.any():
            warnings.warn(
                f"{model}: {int(same.sum())} customer(s) have repeat purchases at recency 0 — were "
                "purchases counted per order instead of per distinct purchase period?",
                FitWarning,
                stacklevel=3,
            )
    n = float(summary[weights].sum()) if weights else float(len(summary))
    if min_customers and n < MIN_CUSTOMERS:
        raise FitError(
            f"{model}: {n:g} customer(s) cannot identify the model's population distribution; "
            f"need at least {MIN_CUSTOMERS} (in practice, hundreds)."
        )
    return summary


def _hessian_from_grad(
    grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, g0: np.ndarray | None = None
) -> np.ndarray:
    """Hessian by differences of an analytic gradient (relative steps).

    Central differences; with ``g0`` (the gradient at ``theta``) forward differences,
    half the evaluations — accurate to ~1e-5 relative, ample for standard errors.
    """
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(abs(theta[j]), 1e-8)
        up = theta.copy()
        up[j] += h
        if g0 is not None:
            H[:, j] = (grad(up) - g0) / h
        else:
            dn = theta.copy()
            dn[j] -= h
            H[:, j] = (grad(up) - grad(dn)) / (2 * h)
    return (H + H.T) / 2


def _hessian_fd(f: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """Hessian of a scalar function by second-order central differences."""
    k = len(theta)
    h = 1e-4 * np.maximum(np.abs(theta), 1e-8)
    H = np.empty((k, k))
    f0 = f(theta)
    for i in range(k):
        for j in range(i, k):
            if i == j:
                up, dn = theta.copy(), theta.copy()
                up[i] += h[i]
                dn[i] -= h[i]
                H[i, i] = (f(up) - 2 * f0 + f(dn)) / h[i] ** 2
            else:
                pp, pm, mp, mm = (theta.copy() for _ in range(4))
                pp[i] += h[i]
                pp[j] += h[j]
                pm[i] += h[i]
                pm[j] -= h[j]
                mp[i] -= h[i]
                mp[j] += h[j]
                mm[i] -= h[i]
                mm[j] -= h[j]
                H[i, j] = H[j, i] = (f(pp) - f(pm) - f(mp) + f(mm)) / (4 * h[i] * h[j])
    return H


def _central_grad(f: Callable[[np.ndarray], float], z: np.ndarray) -> np.ndarray:
    g = np.empty_like(z)
    for i in range(len(z)):
        h = 1e-6 * max(1.0, abs(z[i]))
        up, dn = z.copy(), z.copy()
        up[i] += h
        dn[i] -= h
        g[i] = (f(up) - f(dn)) / (2 * h)
    return g


@dataclass
class _Fit:
    """Common result of a maximum-likelihood fit.

    Attributes
    ----------
    params
        Estimates by name.
    standard_errors
        Asymptotic standard errors, from the inverse Hessian of the total log-likelihood
        (NaN when the Hessian is singular, which is warned about).
    covariance
        The inverse negative Hessian, as a labelled frame.
    log_likelihood
        Total (not mean) log-likelihood at the estimates.
    n_customers, n_patterns
        Customers fitted and distinct rows the likelihood was evaluated on.
    converged
        Whether the optimiser reported success and no parameter sits on a bound.
    message
        What needs care about this fit (bound, degenerate solution, singular Hessian,
        no convergence), or ``"converged (…)"``.
    """

    params: dict[str, float]
    standard_errors: dict[str, float]
    covariance: pd.DataFrame
    log_likelihood: float
    n_customers: int
    n_patterns: int
    converged: bool
    message: str = ""
    at_bound: tuple[str, ...] = field(default=())

    model: str = field(default="", init=False)

    @property
    def aic(self) -> float:
        """Akaike information criterion (lower is better)."""
        return 2 * len(self.params) - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        """Bayesian information criterion (lower is better)."""
        return len(self.params) * math.log(max(self.n_customers, 1)) - 2 * self.log_likelihood

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald intervals on the log scale (all parameters are positive).

        ``exp(log θ ± z · se/θ)`` by the delta method: never negative, and closer to
        nominal coverage than ``θ ± z · se`` for skewed, positive estimates.

        Returns
        -------
        pandas.DataFrame
            Index: parameter names; columns ``lower``, ``upper``.
        """
        z = stats.norm.ppf(0.5 + level / 2)
        rows = {}
        for k, v in self.params.items():
            se = self.standard_errors[k]
            half = z * se / v if v > 0 else np.nan
            rows[k] = (
                (v * math.exp(-half), v * math.exp(half)) if np.isfinite(half) else (np.nan, np.nan)
            )
        return pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"])

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Estimates, standard errors and :meth:`conf_int` as one table."""
        ci = self.conf_int(level)
        return pd.DataFrame(
            {
                "estimate": pd.Series(self.params),
                "std_error": pd.Series(self.standard_errors),
                "lower": ci["lower"],
                "upper": ci["upper"],
            }
        )

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return (
            f"<{type(self).__name__} {ps}; log-likelihood {self.log_likelihood:.2f} on "
            f"{self.n_customers} customers{'' if self.converged else '; NOT CONVERGED'}>"
        )


def _optimise(
    model: str,
    names: Sequence[str],
    negll: Callable[[np.ndarray], float],
    negll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None,
    starts: Sequence[np.ndarray],
    scale: float,
    max_iter: int,
    ftol: float = 1e-14,
    gtol: float = 1e-9,
) -> tuple[optimize.OptimizeResult, tuple[str, ...]]:
    """Minimise the mean negative log-likelihood over log-parameters ``z``.

    ``negll_and_grad`` (when the model has an analytic gradient) returns the value and
    the gradient from one pass over the data. Every start in ``starts`` is run (the
    caller's, then the default) and the best optimum kept, so a poor user-supplied start
    cannot trap the fit in a flat region.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)

    if negll_and_grad is not None:

        def objective(z):
            f, g = negll_and_grad(z)
            return f / scale, g / scale

        def fun(z):
            return objective(z)[0]

        def jac(z):
            return objective(z)[1]

        target, use_jac = objective, True
    else:

        def fun(z):
            return negll(z) / scale

        def jac(z):
            return _central_grad(fun, z)

        target, use_jac = fun, jac
    best = None
    for z0 in starts:
        with np.errstate(all="ignore"):
            if not np.isfinite(fun(z0)):
                continue
            res = optimize.minimize(
                target,
                z0,
                jac=use_jac,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": max_iter, "ftol": ftol, "gtol": gtol},
            )
            if not res.success:
                # A second pass restarts the curvature estimate: L-BFGS-B sometimes stops
                # early in the line search on the flat BTYD likelihood surfaces.
                res2 = optimize.minimize(
                    target,
                    res.x,
                    jac=use_jac,
                    method="L-BFGS-B",
                    bounds=bounds,
                    options={"maxiter": max_iter, "ftol": ftol / 10, "gtol": gtol / 10},
                )
                if np.isfinite(res2.fun) and res2.fun <= res.fun:
                    res = res2
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun - 1e-12):
            best = res
    if best is None:
        raise FitError(
            f"{model}: the log-likelihood is not finite at the start values; pass start=."
        )
    res = best
    if not res.success:
        # L-BFGS-B often stops with "ABNORMAL" in the line search when it sits at the
        # optimum and the gradient is numerical; judge convergence by the gradient itself.
        with np.errstate(all="ignore"):
            g = np.asarray(jac(res.x))
        free = np.abs(res.x) < _LOG_BOUND - 1e-3
        if np.all(np.isfinite(g)) and np.max(np.abs(g[free]), initial=0.0) < 1e-5:
            res.success = True
            res.message = f"{res.message} (gradient ≈ 0 at the solution: converged)"
    at_bound = tuple(n for n, z in zip(names, res.x, strict=True) if abs(z) > _LOG_BOUND - 1e-3)
    return res, at_bound


def _newton_polish(
    ll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta: np.ndarray,
    hessian: np.ndarray,
    scale: float,
    max_iter: int = 30,
) -> optimize.OptimizeResult | None:
    """Maximise a log-likelihood by Newton steps with a fixed (approximate) Hessian.

    Used after a fit on a subset: its Hessian, rescaled to the full data, is close to the
    full one, so each step gains digits and only the gradient is evaluated on the full
    data. Returns ``None`` (the caller falls back to L-BFGS-B) when the Hessian is not
    negative definite or the steps stop improving before converging.
    """
    if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(-hessian).min() <= 0:
        return None
    with np.errstate(all="ignore"):
        f, g = ll_and_grad(theta)
    if not np.isfinite(f):
        return None
    for _ in range(max_iter):
        step = -np.linalg.solve(hessian, g)
        t = 1.0
        while True:
            new = theta + t * step
            if np.all(new > 0):
                with np.errstate(all="ignore"):
                    f_new, g_new = ll_and_grad(new)
                if np.isfinite(f_new) and f_new >= f - 1e-12 * abs(f):
                    break
            t /= 2
            if t < 1e-4:
                return None
        done = np.max(np.abs(t * step) / theta) < 1e-8
        theta, f, g = new, f_new, g_new
        if done:
            z = np.log(theta)
            if np.any(np.abs(z) > _LOG_BOUND):
                return None
            return optimize.OptimizeResult(
                x=z,
                fun=-f / scale,
                grad=g,
                success=True,
                message="Newton steps from a fit on a subset",
            )
    return None


def _finish(
    cls: type,
    model: str,
    names: Sequence[str],
    res: optimize.OptimizeResult,
    at_bound: tuple[str, ...],
    hessian: np.ndarray,
    loglik: float,
    n_customers: float,
    n_patterns: int,
    hint: str = "",
    degenerate: str = "",
    **extra,
):
    theta = np.exp(res.x)
    params = {n: float(v) for n, v in zip(names, theta, strict=True)}
    if not np.all(np.isfinite(theta)) or not np.isfinite(loglik):
        raise FitError(
            f"{model}: the fit produced non-finite values {params}; the data cannot be fitted."
        )
    cov = np.full((len(names), len(names)), np.nan)
    note = ""
    try:
        neg_h = -hessian
        if np.all(np.isfinite(neg_h)):
            eig = np.linalg.eigvalsh(neg_h)
            if eig.min() > 1e-12 * max(eig.max(), 1.0):
                cov = np.linalg.inv(neg_h)
            else:
                note = "the Hessian is singular (a parameter is not identified): standard errors are NaN"
    except np.linalg.LinAlgError:  # pragma: no cover - eigvalsh rarely fails
        note = "the Hessian could not be inverted: standard errors are NaN"
    se = {
        n: float(math.sqrt(cov[i, i])) if cov[i, i] > 0 else float("nan")
        for i, n in enumerate(names)
    }
    notes = []
    if at_bound:
        b = ", ".join(f"{n} = {params[n]:.3g}" for n in at_bound)
        notes.append(
            f"parameter(s) ran to the optimisation bound ({b}){': ' + hint if hint else ''}"
        )
        se = {n: float("nan") for n in names}
        cov[:] = np.nan
    if degenerate:
        notes.append(degenerate)
    if not res.success:
        notes.append(f"the optimiser did not converge ({res.message})")
    if note:
        notes.append(note)
    converged = bool(res.success) and not at_bound and not degenerate
    if notes:
        warnings.warn(f"{model}: " + "; ".join(notes), FitWarning, stacklevel=3)
    message = "; ".join(notes) if notes else f"converged ({res.message})"
    fit = cls(
        params=params,
        standard_errors=se,
        covariance=pd.DataFrame(cov, index=list(names), columns=list(names)),
        log_likelihood=float(loglik),
        n_customers=int(round(n_customers)),
        n_patterns=int(n_patterns),
        converged=converged,
        message=message,
        at_bound=at_bound,
        **extra,
    )
    fit.model = model
    return fit


def _start_vector(
    names: Sequence[str], default: dict[str, float], start: dict[str, float] | None
) -> list[np.ndarray]:
    """Log start vectors: the caller's (if any) and the default."""
    out = []
    for spec in ([start] if start else []) + [{}]:
        values = dict(default)
        unknown = set(spec) - set(names)
        if unknown:
            raise FitError(f"unknown start parameter(s) {sorted(unknown)}; expected {list(names)}")
        values.update(spec)
        v = np.array([float(values[n]) for n in names])
        if not np.all(np.isfinite(v)) or (v <= 0).any():
            raise FitError(
                f"start values must be positive and finite, got {dict(zip(names, v, strict=True))}"
            )
        out.append(np.clip(np.log(v), -_LOG_BOUND + 1, _LOG_BOUND - 1))
    return out


def _wsum(w: np.ndarray, v: np.ndarray) -> float:
    """Σ w·v without BLAS: a BLAS dot spawns threads that stall on a busy machine, and
    these vectors are too short to gain from them."""
    return float(np.einsum("i,i->", w, v))


def _as_array(x) -> np.ndarray:
    return np.asarray(x, dtype="float64")


# ----------------------------------------------------------------------------- BG/NBD


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
        """E[X(t)]: expected purchases in ``t`` periods of a customer who just made a first purchase."""
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

    def objective(data: _BGData):
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


# ------------------------------------------------------------------------- Pareto/NBD


def _pnbd_log_A0(r, alpha, s, beta, x, tx, T):
    """log A0 of the Pareto/NBD likelihood (Fader & Hardie 2005 note), in log space."""
    if alpha >= beta:
        mx, third = alpha, s + 1
    else:
        mx, third = beta, r + x
    diff = abs(alpha - beta)
    rsx = r + s + x
    q1 = mx + tx
    q2 = mx + T
    p1 = special.hyp2f1(rsx, third, rsx + 1, diff / q1)
    p2 = special.hyp2f1(rsx, third, rsx + 1, diff / q2)
    # A0 = p1 / q1^rsx − p2 / q2^rsx  (≥ 0 since the integrand is positive)
    l1 = np.log(p1) - rsx * np.log(q1)
    l2 = np.log(p2) - rsx * np.log(q2)
    with np.errstate(all="ignore"):
        return l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))


def _pnbd_ll(theta, x, tx, T, w) -> float:
    r, alpha, s, beta = theta
    with np.errstate(all="ignore"):
        lA1 = special.gammaln(r + x) - special.gammaln(r) + r * math.log(alpha) + s * math.log(beta)
        l_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        l_dead = math.log(s) - np.log(r + s + x) + _pnbd_log_A0(r, alpha, s, beta, x, tx, T)
        ll = lA1 + np.logaddexp(l_alive, l_dead)
    total = _wsum(w, ll)
    return total if np.isfinite(total) else -np.inf


@dataclass(repr=False)
class ParetoNBDFit(_Fit):
    """A fitted Pareto/NBD model; parameters ``r, alpha, s, beta``."""

    def _p(self):
        p = self.params
        return p["r"], p["alpha"], p["s"], p["beta"]

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive | x, t_x, T)."""
        r, alpha, s, beta = self._p()
        x, tx, T = _as_array(frequency), _as_array(recency), _as_array(T)
        with np.errstate(all="ignore"):
            log_term = (
                math.log(s)
                - np.log(r + s + x)
                + (r + x) * np.log(alpha + T)
                + s * np.log(beta + T)
                + _pnbd_log_A0(r, alpha, s, beta, x, tx, T)
            )
            return special.expit(-log_term)

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer who just made a first purchase."""
        r, alpha, s, beta = self._p()
        t = _as_array(t)
        if abs(s - 1) < 1e-8:
            return r * beta / alpha * np.log1p(t / beta)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T] over the next ``t`` periods."""
        r, alpha, s, beta = self._p()
        x, tx, T = _as_array(frequency), _as_array(recency), _as_array(T)
        t = _as_array(t)
        with np.errstate(all="ignore"):
            if abs(s - 1) < 1e-8:
                body = (r + x) * (beta + T) / (alpha + T) * np.log1p(t / (beta + T))
            else:
                body = (
                    (r + x)
                    * (beta + T)
                    / ((alpha + T) * (s - 1))
                    * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
                )
        return body * self.p_alive(x, tx, T)

    def predict(self, summary: pd.DataFrame, t: float) -> pd.DataFrame:
        """``p_alive`` and ``expected_purchases`` over ``t`` periods for each row of ``summary``."""
        out = summary.copy()
        args = (summary["frequency"], summary["recency"], summary["T"])
        out["p_alive"] = self.p_alive(*args)
        out["expected_purchases"] = self.expected_purchases(t, *args)
        return out


@_blas_single_thread
def fit_pareto_nbd(
    summary: pd.DataFrame,
    weights: str | None = None,
    start: dict[str, float] | None = None,
    max_iter: int = 2000,
) -> ParetoNBDFit:
    """Fit the Pareto/NBD model by maximum likelihood.

    Parameters
    ----------
    summary
        ``frequency``, ``recency``, ``T`` per customer (or per pattern with ``weights``).
    weights
        Optional count column.
    start
        Optional start ``{r, alpha, s, beta}``; default ``r = s = 1`` and ``alpha = beta``
        = the mean of ``T``.
    max_iter
        Iteration cap per L-BFGS-B pass.

    Returns
    -------
    ParetoNBDFit
        ``.params`` (``r, alpha, s, beta``), ``.standard_errors``, ``.log_likelihood``.

    Notes
    -----
    The likelihood involves Gauss' hypergeometric function, whose parameter derivatives
    have no closed form in SciPy; the gradient is by central differences and the Hessian
    by second differences. It is the comparison model, so its speed is secondary.
    """
    model = "Pareto/NBD"
    cols = ("frequency", "recency", "T")
    _check_summary(summary, cols, model, weights)
    pat = patterns(summary, cols, weights)
    if (pat["frequency"] == 0).all():
        raise FitError(
            f"{model}: no customer made a repeat purchase (all frequency == 0); nothing to fit."
        )
    x, tx, T, w = (pat[c].to_numpy(float) for c in ("frequency", "recency", "T", "count"))
    n = w.sum()
    names = ("r", "alpha", "s", "beta")
    mean_T = _wsum(w, T) / n or 1.0
    starts = _start_vector(names, {"r": 1.0, "alpha": mean_T, "s": 1.0, "beta": mean_T}, start)

    def negll(z):
        v = _pnbd_ll(np.exp(z), x, tx, T, w)
        return -v if np.isfinite(v) else 1e300

    # The hypergeometric function makes each evaluation costly and the surface is flat
    # along s/β when dropout rates barely vary: stop at a relative change of 1e-11
    # (far below anything a decision depends on) instead of crawling on.
    res, at_bound = _optimise(model, names, negll, None, starts, n, max_iter, ftol=1e-11, gtol=1e-7)
    theta = np.exp(res.x)
    H = _hessian_fd(lambda th: _pnbd_ll(th, x, tx, T, w), theta)
    r, alpha, s, beta = theta
    share_lost = 1 - (beta / (beta + mean_T)) ** s  # expected share dropping out within mean T
    degenerate = ""
    if share_lost < 1e-3:
        degenerate = (
            f"the data show no sign of churn (expected share lost within {mean_T:.3g} periods ≈ "
            f"{share_lost:.2g}): Pareto/NBD reduces to the NBD model and s, β are not identified"
        )
    return _finish(
        ParetoNBDFit,
        model,
        names,
        res,
        at_bound,
        H,
        -res.fun * n,
        n,
        len(pat),
        degenerate=degenerate,
    )


# ------------------------------------------------------------------------ Gamma-Gamma


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
            f"{model}: every repeat buyer has the same mean spend; spend heterogeneity cannot be estimated."
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


# -------------------------------------------------------------------------------- sBG


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
            f"{model}: nobody churned in {n.size - 1} periods; the churn distribution cannot be estimated."
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


# ------------------------------------------------------------------- does it predict?


def _finite(values, fit, what: str) -> np.ndarray:
    """``values`` as an array, or a FitError naming the fit when any is not finite."""
    v = np.asarray(values, dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        raise FitError(
            f"{getattr(fit, 'model', '') or type(fit).__name__}: {what} is not finite for {int(bad.sum())} of "
            f"{v.size} values — the fit is degenerate on this data ({getattr(fit, 'message', '')})."
        )
    return v


def split_dates(
    first_day, last_day, calibration_end=None, holdout_end=None, holdout_fraction: float = 0.5
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Calibration and holdout end dates from parameters.

    Parameters
    ----------
    first_day, last_day
        First and last purchase day in the data.
    calibration_end
        Last day of the calibration period; empty/None → ``first_day`` + (1 −
        ``holdout_fraction``) of the span.
    holdout_end
        Last day of the holdout period; empty/None → ``last_day``.
    holdout_fraction
        Share of the span held out when ``calibration_end`` is not given.

    Returns
    -------
    (calibration_end, holdout_end) as normalised timestamps.
    """
    first = pd.Timestamp(first_day).normalize()
    last = pd.Timestamp(last_day).normalize()
    hold = pd.Timestamp(holdout_end).normalize() if holdout_end else last
    if calibration_end:
        cal = pd.Timestamp(calibration_end).normalize()
    else:
        if not 0 < holdout_fraction < 1:
            raise ValueError(f"holdout_fraction must be between 0 and 1, got {holdout_fraction}")
        span = (hold - first).days
        cal = first + pd.Timedelta(days=int(round(span * (1 - holdout_fraction))))
    if not first <= cal < hold:
        raise ValueError(
            f"calibration end {cal.date()} must fall between the first purchase day {first.date()} "
            f"and the holdout end {hold.date()}"
        )
    return cal, hold


def holdout_comparison(fit, summary: pd.DataFrame, max_frequency: int = 7) -> pd.DataFrame:
    """Mean predicted vs actual holdout purchases per customer, by calibration frequency.

    Parameters
    ----------
    fit
        A :class:`BGNBDFit` or :class:`ParetoNBDFit`.
    summary
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, ``duration_holdout``.
    max_frequency
        Frequencies above it are pooled into one ``"{max}+"`` group.

    Returns
    -------
    pandas.DataFrame
        Index ``calibration_frequency`` (strings ``"0"``, …, ``"7+"``), columns
        ``customers``, ``actual``, ``predicted`` (means per customer) plus a ``total`` row
        with customer-weighted means.

    Raises
    ------
    FitError
        When the fit's predictions are not finite (a degenerate fit).
    """
    pred = _finite(
        fit.expected_purchases(
            summary["duration_holdout"], summary["frequency"], summary["recency"], summary["T"]
        ),
        fit,
        "the expected holdout purchases",
    )
    f = summary["frequency"].astype(int).clip(upper=max_frequency)
    labels = f.astype(str).where(f < max_frequency, f"{max_frequency}+")
    df = pd.DataFrame(
        {
            "group": labels,
            "f": f,
            "actual": summary["frequency_holdout"].to_numpy(float),
            "predicted": pred,
        }
    )
    out = df.groupby(["f", "group"]).agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    out = out.reset_index(level="f", drop=True)
    out.index.name = "calibration_frequency"
    out.loc["total"] = [len(df), df["actual"].mean(), df["predicted"].mean()]
    out["customers"] = out["customers"].astype(int)
    return out


def prediction_error(fit, summary: pd.DataFrame) -> pd.Series:
    """Honest holdout error figures of a BTYD fit, next to a naive benchmark.

    The naive benchmark projects each customer's calibration rate ``frequency / T`` over
    the holdout (no dropout) — a model that does not beat it is not worth showing.

    Parameters
    ----------
    fit
        A :class:`BGNBDFit` or :class:`ParetoNBDFit`.
    summary
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, ``duration_holdout``.

    Returns
    -------
    pandas.Series
        ``customers``, ``actual_total``, ``predicted_total``, ``total_error_pct``
        (predicted/actual − 1, in %), ``mae`` and ``rmse`` per customer, ``correlation``,
        and the same ``naive_*`` figures.
    """
    actual = summary["frequency_holdout"].to_numpy(float)
    pred = _finite(
        fit.expected_purchases(
            summary["duration_holdout"], summary["frequency"], summary["recency"], summary["T"]
        ),
        fit,
        "the expected holdout purchases",
    )
    T = summary["T"].to_numpy(float)
    naive = np.where(
        T > 0, summary["frequency"].to_numpy(float) / np.where(T > 0, T, 1.0), 0.0
    ) * summary["duration_holdout"].to_numpy(float)

    def figures(p, prefix=""):
        tot = actual.sum()
        return {
            f"{prefix}predicted_total": float(p.sum()),
            f"{prefix}total_error_pct": float(100 * (p.sum() / tot - 1)) if tot > 0 else np.nan,
            f"{prefix}mae": float(np.mean(np.abs(p - actual))),
            f"{prefix}rmse": float(np.sqrt(np.mean((p - actual) ** 2))),
            f"{prefix}correlation": float(np.corrcoef(p, actual)[0, 1])
            if np.std(p) > 0 and np.std(actual) > 0
            else np.nan,
        }

    out = {"customers": float(len(actual)), "actual_total": float(actual.sum())}
    out.update(figures(pred))
    out.update(figures(naive, "naive_"))
    return pd.Series(out)


def tracking(
    fit,
    births: pd.DataFrame,
    repeats: pd.DataFrame,
    start,
    calibration_end,
    end,
    unit_days: float = 7.0,
    time_unit_days: float = 1.0,
) -> pd.DataFrame:
    """Cumulative repeat purchases per period: actual vs the model's expectation.

    The expectation for calendar day ``d`` is ``Σ_i E[X(d − first_i)]`` over the
    customers acquired up to the calibration end (Fader, Hardie & Lee 2005, fig. 2).

    Parameters
    ----------
    fit
        A fitted BG/NBD or Pareto/NBD model (durations in ``time_unit_days``-day units).
    births
        ``first_day`` (date) and ``customers`` — acquisitions per day of the tracked
        customers.
    repeats
        ``day`` (date) and ``repeat_purchases`` — repeat purchase periods per day of the
        same customers.
    start, calibration_end, end
        First day of tracking, calibration end, last day.
    unit_days
        Length of a tracking period (7 = weekly).
    time_unit_days
        The model's time unit in days (1 for day, 7 for week).

    Returns
    -------
    pandas.DataFrame
        One row per period: ``period_start`` (timestamp), ``actual``, ``expected`` (per
        period) and ``actual_cum``, ``expected_cum``, ``holdout`` (bool).
    """
    start = pd.Timestamp(start).normalize()
    cal = pd.Timestamp(calibration_end).normalize()
    end = pd.Timestamp(end).normalize()
    n_days = (end - start).days + 1
    edges = np.arange(0, n_days + unit_days, unit_days)
    edges = edges[edges <= n_days]
    if edges[-1] < n_days:
        edges = np.append(edges, n_days)
    b_day = (pd.to_datetime(births["first_day"]) - start).dt.days.to_numpy(float)
    b_n = births["customers"].to_numpy(float)
    # Expected cumulative repeat purchases at each period end (day offset e, inclusive).
    exp_cum = np.array(
        [
            _wsum(
                b_n,
                np.asarray(
                    fit.expected_purchases_new(np.clip(e - 1 - b_day, 0, None) / time_unit_days),
                    float,
                ),
            )
            for e in edges[1:]
        ]
    )
    exp_cum = _finite(exp_cum, fit, "the expected cumulative repeat purchases")
    r_day = (pd.to_datetime(repeats["day"]) - start).dt.days.to_numpy(float)
    r_n = repeats["repeat_purchases"].to_numpy(float)
    act = (
        np.histogram(r_day, bins=edges - 0.5, weights=r_n)[0]
        if len(r_day)
        else np.zeros(len(edges) - 1)
    )
    period_start = start + pd.to_timedelta(edges[:-1], unit="D")
    return pd.DataFrame(
        {
            "period_start": period_start,
            "actual": act,
            "expected": np.diff(np.concatenate([[0.0], exp_cum])),
            "actual_cum": np.cumsum(act),
            "expected_cum": exp_cum,
            "holdout": period_start > cal,
        }
    )


def customer_value(
    transactions_fit,
    spend_fit: GammaGammaFit,
    summary: pd.DataFrame,
    horizon: float,
    margin: float = 1.0,
    annual_discount_rate: float = 0.1,
    periods_per_year: float = 365.0,
    steps: int | None = None,
) -> pd.DataFrame:
    """Expected purchases, P(alive) and discounted CLV per customer.

    CLV = Σ_k (E[Y(t_k)] − E[Y(t_{k−1})]) · E(M) · margin / (1 + d)^{t_k / year}, over
    ``steps`` equal steps up to ``horizon`` (the discrete approximation lifetimes uses,
    with monthly steps by default).

    Parameters
    ----------
    transactions_fit
        :class:`BGNBDFit` or :class:`ParetoNBDFit`.
    spend_fit
        :class:`GammaGammaFit` fitted on the same customers' ``monetary_value``.
    summary
        ``customer_id`` (optional), ``frequency``, ``recency``, ``T``, ``monetary_value``.
    horizon
        How far ahead, in the model's time unit.
    margin
        Share of spend that is profit (0–1].
    annual_discount_rate
        Yearly discount rate, e.g. 0.1.
    periods_per_year
        Model time units per year (365 for days, 365/7 for weeks).
    steps
        Discounting steps; default one per month of the horizon.

    Returns
    -------
    pandas.DataFrame
        ``summary``'s columns plus ``p_alive``, ``expected_purchases``,
        ``expected_spend`` (per purchase) and ``clv``.
    """
    if horizon <= 0:
        raise ValueError(f"horizon must be positive, got {horizon}")
    if not 0 < margin <= 1:
        raise ValueError(f"margin must be in (0, 1], got {margin}")
    if annual_discount_rate < 0:
        raise ValueError(f"annual_discount_rate must be ≥ 0, got {annual_discount_rate}")
    x, tx, T = summary["frequency"], summary["recency"], summary["T"]
    if steps is None:
        steps = max(1, int(round(horizon / (periods_per_year / 12))))
    grid = np.linspace(0, horizon, steps + 1)
    spend = _finite(
        spend_fit.expected_spend(x, summary["monetary_value"]), spend_fit, "the expected spend"
    )
    clv = np.zeros(len(summary))
    prev = np.zeros(len(summary))
    for tk in grid[1:]:
        cur = _finite(
            transactions_fit.expected_purchases(tk, x, tx, T),
            transactions_fit,
            "the expected purchases",
        )
        clv += (cur - prev) * spend * margin / (1 + annual_discount_rate) ** (tk / periods_per_year)
        prev = cur
    out = summary.copy()
    out["p_alive"] = _finite(transactions_fit.p_alive(x, tx, T), transactions_fit, "P(alive)")
    out["expected_purchases"] = prev
    out["expected_spend"] = spend
    out["clv"] = clv
    return out


def value_by_group(values: pd.DataFrame, by: str, value: str = "clv") -> pd.DataFrame:
    """Customers, mean and total value, and mean P(alive) per group.

    Parameters
    ----------
    values
        :func:`customer_value` output joined with a group column ``by``.
    by
        Group column (e.g. ``segment`` or ``cohort``).
    value
        Value column.

    Returns
    -------
    pandas.DataFrame
        Index ``by``; ``customers``, ``mean_clv``, ``total_clv``, ``share_of_value``,
        ``mean_p_alive``; sorted by total value.
    """
    g = values.groupby(by, observed=True)
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "mean_clv": g[value].mean(),
            "total_clv": g[value].sum(),
            "mean_p_alive": g["p_alive"].mean(),
        }
    )
    total = out["total_clv"].sum()
    out.insert(3, "share_of_value", out["total_clv"] / total if total > 0 else np.nan)
    return out.sort_values("total_clv", ascending=False)
