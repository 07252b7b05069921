"""Fixed-effects OLS: absorbed effects (within transformation) and robust covariances.

Fixed effects are absorbed by the within transformation (alternating projections, exact
in one pass for one-way or balanced two-way panels), then the slope is estimated by
statsmodels OLS on the demeaned data with its cluster-robust covariance, rescaled for
the degrees of freedom the absorbed effects use. That gives the same coefficients and
clustered standard errors as OLS with one dummy per level without building the dummies.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import codes, crit, empty_coefs


def absorb(
    arr: np.ndarray, fes: list[np.ndarray], tol: float = 1e-11, max_iter: int = 10_000
) -> np.ndarray:
    """Demean the columns of ``arr`` by every factor in ``fes`` (alternating projections).

    Exact after one sweep for one factor or a balanced two-way panel; converges to the
    residual of the projection on all dummies otherwise. Without factors, subtracts the
    column means (an intercept). Group means come from sparse indicator products, all
    columns at once.
    """
    from scipy import sparse

    out = np.array(arr, dtype=float, copy=True)
    if out.ndim == 1:
        out = out[:, None]
    if not fes:
        return out - out.mean(axis=0)
    n = out.shape[0]
    mats = []
    for c in fes:
        d = sparse.csr_matrix((np.ones(n), (np.arange(n), c)), shape=(n, int(c.max()) + 1))
        mats.append((d, d.T.tocsr(), np.asarray(d.sum(axis=0)).ravel()))
    scale = np.maximum(np.abs(out).max(axis=0), 1.0)
    for _ in range(max_iter):
        biggest = 0.0
        for d, dt, counts in mats:
            means = (dt @ out) / counts[:, None]
            out -= d @ means
            biggest = max(biggest, float((np.abs(means).max(axis=0) / scale).max()))
        if len(fes) == 1 or biggest < tol:
            break
    else:  # pragma: no cover - pathological designs only
        warnings.warn(
            "fixed-effect absorption did not converge; estimates are approximate", stacklevel=3
        )
    return out


def absorbed_rank(fes: list[np.ndarray]) -> int:
    """Number of parameters the absorbed factors (with an intercept) use."""
    if not fes:
        return 1
    if len(fes) == 1:
        return int(fes[0].max()) + 1
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n1 = int(fes[0].max()) + 1
    n2 = int(fes[1].max()) + 1
    graph = coo_matrix((np.ones(len(fes[0])), (fes[0], fes[1] + n1)), shape=(n1 + n2, n1 + n2))
    n_comp = connected_components(graph, directed=False)[0]
    rank = n1 + n2 - n_comp
    # further factors: assume each is connected to the first (exact for nested or
    # crossed designs; a slight under-count of the lost degrees of freedom otherwise)
    rank += sum(int(c.max()) for c in fes[2:])
    return int(rank)


def fe_ols(
    df: pd.DataFrame,
    y: str,
    xs: Sequence[str],
    fixed_effects: Sequence[str],
    cluster: str | None,
    level: float,
    hac: tuple[str, int] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """OLS of ``y`` on ``xs`` with absorbed ``fixed_effects`` and clustered SEs.

    ``hac=(group column, lags)`` gives Newey–West standard errors within groups
    instead (rows must be sorted by group and time).

    Returns the coefficient table (``term``, ``estimate``, ``se``, ``ci_low``, ``ci_high``,
    ``p_value``; unidentified terms are ``nan``), fit info and notes.
    """
    notes: list[str] = []
    fes = [codes(df[f]) for f in fixed_effects]
    data = df.loc[:, [y, *xs]].to_numpy(dtype=float)
    dm = absorb(data, fes)
    yd, xd = dm[:, 0], dm[:, 1:]
    keep = _varying(xs, data, xd, notes)
    nobs = len(df)
    absorbed = absorbed_rank(fes)
    info: dict[str, Any] = {"nobs": nobs, "absorbed": absorbed, "n_clusters": None}
    rows = empty_coefs(xs)
    k = len(keep)
    df_resid = nobs - k - absorbed
    if k == 0 or df_resid <= 0:
        if k and df_resid <= 0:
            notes.append(f"{nobs} rows are too few for {k + absorbed} parameters: not identified.")
        return pd.DataFrame(rows), info, notes
    keep = _independent(xs, xd, keep, notes)
    X = xd[:, keep]
    df_resid = nobs - len(keep) - absorbed
    fitted = _fit(df, yd, X, df_resid, cluster, hac, info, notes)
    if fitted is None:
        return pd.DataFrame(rows), info, notes
    res, cov, dof = fitted
    _fill(rows, keep, res.params, cov, dof, level)
    info.update(df_resid=df_resid, dof=dof, resid=res.resid)
    return pd.DataFrame(rows), info, notes


def _varying(xs: Sequence[str], data: np.ndarray, xd: np.ndarray, notes: list[str]) -> list[int]:
    """Indices of the regressors that still vary once the fixed effects are absorbed."""
    raw_sd = data[:, 1:].std(axis=0)
    keep = [j for j in range(len(xs)) if xd[:, j].std() > 1e-9 * max(raw_sd[j], 1.0)]
    for j in range(len(xs)):
        if j not in keep:
            notes.append(
                f"`{xs[j]}` does not vary once the fixed effects are absorbed: not identified."
            )
    return keep


def _independent(xs: Sequence[str], xd: np.ndarray, keep: list[int], notes: list[str]) -> list[int]:
    """``keep`` without columns collinear with earlier ones (the first of a set is kept)."""
    X = xd[:, keep]
    rank_keep: list[int] = []
    for j in range(len(keep)):
        trial = X[:, [*rank_keep, j]]
        if np.linalg.matrix_rank(trial) == len(rank_keep) + 1:
            rank_keep.append(j)
        else:
            notes.append(f"`{xs[keep[j]]}` is collinear with other regressors: not identified.")
    return [keep[j] for j in rank_keep]


def _fit(
    df: pd.DataFrame,
    yd: np.ndarray,
    X: np.ndarray,
    df_resid: int,
    cluster: str | None,
    hac: tuple[str, int] | None,
    info: dict[str, Any],
    notes: list[str],
) -> tuple[Any, np.ndarray, float] | None:
    """OLS with the chosen covariance: (results, covariance, degrees of freedom) or ``None``."""
    import statsmodels.api as sm

    nobs, k = X.shape
    if hac is not None:
        res = sm.OLS(yd, X).fit(
            cov_type="hac-panel",
            cov_kwds={"groups": codes(df[hac[0]]), "maxlags": hac[1], "use_correction": "hac"},
        )
        # statsmodels' factor nobs/(nobs − k) counts only the slopes: count all parameters
        return res, res.cov_params() * (nobs - k) / df_resid, df_resid
    if cluster is not None:
        groups = codes(df[cluster])
        n_cl = int(groups.max()) + 1
        info["n_clusters"] = n_cl
        if n_cl < 2:
            notes.append(f"Only one {cluster}: clustered standard errors are undefined.")
            return None
        res = sm.OLS(yd, X).fit(
            cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True}
        )
        if n_cl < 20:
            notes.append(
                f"Only {n_cl} clusters ({cluster}): clustered standard errors are imprecise."
            )
        # statsmodels' small-sample factor counts only the slopes: use all parameters,
        # as OLS with one dummy per fixed-effect level does
        return res, res.cov_params() * (nobs - k) / df_resid, n_cl - 1
    res = sm.OLS(yd, X).fit()
    return res, res.cov_params() * (nobs - k) / df_resid, df_resid


def _fill(
    rows: list[dict[str, Any]],
    keep: list[int],
    params: np.ndarray,
    cov: np.ndarray,
    dof: float,
    level: float,
) -> None:
    """Write the estimates of the kept regressors into their coefficient rows."""
    from scipy import stats

    se = np.sqrt(np.diag(np.asarray(cov)))
    c = crit(level, dof)
    for i, j in enumerate(keep):
        b, s = float(params[i]), float(se[i])
        t = b / s if s > 0 else np.nan
        rows[j].update(
            estimate=b,
            se=s,
            ci_low=b - c * s,
            ci_high=b + c * s,
            p_value=float(2 * stats.t.sf(abs(t), dof)) if np.isfinite(t) else np.nan,
        )


def fe_ols_hc(
    df: pd.DataFrame, y: str, xs: Sequence[str], fixed_effects: Sequence[str], level: float
) -> pd.DataFrame:
    """Like :func:`fe_ols` but with HC1 standard errors (dof of absorbed effects counted).

    Returns the coefficient table only.
    """
    import statsmodels.api as sm
    from scipy import stats

    fes = [codes(df[f]) for f in fixed_effects]
    dm = absorb(df.loc[:, [y, *xs]].to_numpy(float), fes)
    yd, X = dm[:, 0], dm[:, 1:]
    nobs, k = X.shape
    df_resid = nobs - k - absorbed_rank(fes)
    if df_resid <= 0:
        return pd.DataFrame(empty_coefs(xs))
    res = sm.OLS(yd, X).fit(cov_type="HC0")
    cov = np.asarray(res.cov_params()) * nobs / df_resid  # HC1 with all parameters counted
    se = np.sqrt(np.diag(cov))
    c = crit(level, df_resid)
    rows = []
    for i, x in enumerate(xs):
        b, s = float(res.params[i]), float(se[i])
        ok = np.isfinite(s) and s > 0
        rows.append(
            {
                "term": x,
                "estimate": b if ok else np.nan,
                "se": s if ok else np.nan,
                "ci_low": b - c * s if ok else np.nan,
                "ci_high": b + c * s if ok else np.nan,
                "p_value": float(2 * stats.t.sf(abs(b / s), df_resid)) if ok else np.nan,
            }
        )
    return pd.DataFrame(rows)
