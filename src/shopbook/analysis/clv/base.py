"""What every BTYD fit shares: errors, input checks, the result class, patterns.

The fitted-model classes of the sibling modules inherit :class:`_Fit`; :func:`_finish`
turns an optimum into one (standard errors, warnings, the message); :func:`_finite`
guards the predictions. Private names here are private to :mod:`shopbook.analysis.clv`.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

#: Bounds of the log-parameters during optimisation (parameters in [1.5e-8, 6.6e7]).
_LOG_BOUND = 18.0
#: Smallest customer base a fit accepts; fewer cannot identify a population distribution.
MIN_CUSTOMERS = 10


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

    def estimates(self, level: float = 0.95) -> pd.DataFrame:
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
                note = (
                    "the Hessian is singular (a parameter is not identified): "
                    "standard errors are NaN"
                )
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


def _finite(values, fit, what: str) -> np.ndarray:
    """``values`` as an array, or a FitError naming the fit when any is not finite."""
    v = np.asarray(values, dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        raise FitError(
            f"{getattr(fit, 'model', '') or type(fit).__name__}: {what} is not finite for "
            f"{int(bad.sum())} of "
            f"{v.size} values — the fit is degenerate on this data ({getattr(fit, 'message', '')})."
        )
    return v
