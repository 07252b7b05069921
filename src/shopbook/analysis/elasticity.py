"""Price elasticity: how demand answers price, with confounding handled.

Everything here works on a small **panel** frame (one row per entity × period, e.g. the
SKU × week panel of :func:`shopbook.features.panels.sku_week_panel`), not only ours: the
column names are parameters.

* :func:`fit_loglog` — log-log regression of quantity on price with absorbed fixed
  effects (entity, time, or any column), standard errors clustered by entity. Pooled,
  or one row per group with ``by=``.
* :func:`fit_dml` — double machine learning (partially linear model, cross-fitted
  residual-on-residual with scikit-learn learners) for when price moves with demand
  shocks the fixed effects do not absorb.
* :func:`sku_elasticities` and :func:`shrink` — one elasticity per SKU, shrunk toward its
  category by empirical Bayes so thin SKUs are not wild.
* :func:`cross_price` — the cross-price elasticity matrix of a few SKUs, with intervals.
* :func:`optimal_price` — revenue and gross-profit curves under constant elasticity and
  the profit-maximising price **inside the observed price support** (never beyond).
* :func:`promo_response` — demand uplift by discount depth and the post-promotion dip.
* :func:`price_variation` and :func:`promo_calendar` — what price variation there is to
  learn from, per SKU.

Bad input is never dropped silently: rows with a quantity or price ≤ 0 (whose log is
undefined) or missing values, entities whose price never moves, single-period panels —
each is counted and described in the result's ``notes`` (and ``counts``).

Implementation notes
--------------------
Fixed effects are absorbed by the within transformation (alternating projections, exact
in one pass for one-way or balanced two-way panels), then the slope is estimated by
statsmodels OLS on the demeaned data with its cluster-robust covariance, rescaled for
the degrees of freedom the absorbed effects use. That gives the same coefficients and
clustered standard errors as OLS with one dummy per level (a test checks it against
statsmodels with dummies) without building the dummies. linearmodels' ``PanelOLS``
does the same but would add a dependency (and formulaic, pyhdfe) for ~40 lines.

DML is written on scikit-learn (``cross_val_predict`` with a seeded, cluster-respecting
split) rather than DoubleML: the partialling-out estimator of the partially linear
model is a residual-on-residual regression, DoubleML would add plotly and its own data
classes, and we want the final stage to share the clustered covariance above.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ElasticityFit",
    "PriceRecommendation",
    "CrossPrice",
    "fit_loglog",
    "fit_dml",
    "sku_elasticities",
    "shrink",
    "cross_price",
    "optimal_price",
    "promo_response",
    "price_variation",
    "promo_calendar",
    "demand_history",
    "variation_summary",
    "recommend_price",
]

#: Relative price spread (max/min − 1) below which an entity counts as constant-price.
CONSTANT_PRICE_TOL = 0.005


# --------------------------------------------------------------------------- results


@dataclass
class ElasticityFit:
    """An own-price elasticity estimate.

    Attributes
    ----------
    elasticity
        The coefficient on log price: % change in quantity per 1 % change in price.
        ``nan`` when price does not vary enough to identify it (see ``notes``).
    se
        Its standard error (clustered when ``cluster`` was given).
    ci
        ``(low, high)`` confidence interval at ``level``.
    n_obs
        Rows used in the fit.
    method
        ``"loglog"`` or ``"dml"``.
    level
        Confidence level of ``ci``.
    n_entities, n_periods, n_clusters
        Panel dimensions of the rows used.
    price_support
        ``(min, max)`` of the price over the rows used: the range the estimate speaks
        for.
    counts
        Row and entity counts behind ``notes`` (``rows_in``, ``rows_missing``,
        ``rows_nonpositive_quantity``, ``rows_nonpositive_price``, ``rows_used``,
        ``constant_price_entities``, ``singleton_entities``, ``periods``).
    notes
        Plain sentences about anything dropped, kept-but-uninformative, or not
        identified.
    params
        All estimated slopes (price first, then controls): ``term``, ``estimate``,
        ``se``, ``ci_low``, ``ci_high``, ``p_value``.
    table
        With ``by=``: one row per group (``group``, ``elasticity``, ``se``, ``ci_low``,
        ``ci_high``, ``n_obs``, ``n_entities``, ``identified``, ``notes``); else ``None``.
        The top-level fields are then the pooled fit over all groups.
    diagnostics
        Method-specific extras (for DML: nuisance R² of the quantity and price models).
    """

    elasticity: float
    se: float
    ci: tuple[float, float]
    n_obs: int
    method: str = "loglog"
    level: float = 0.95
    n_entities: int = 0
    n_periods: int = 0
    n_clusters: int | None = None
    price_support: tuple[float, float] = (math.nan, math.nan)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    params: pd.DataFrame | None = None
    table: pd.DataFrame | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def identified(self) -> bool:
        """Whether the data identified an elasticity (finite estimate)."""
        return bool(np.isfinite(self.elasticity))

    def to_frame(self) -> pd.DataFrame:
        """One row: ``method``, ``elasticity``, ``se``, ``ci_low``, ``ci_high``, ``n_obs``…"""
        return pd.DataFrame(
            [
                {
                    "method": self.method,
                    "elasticity": self.elasticity,
                    "se": self.se,
                    "ci_low": self.ci[0],
                    "ci_high": self.ci[1],
                    "n_obs": self.n_obs,
                    "n_entities": self.n_entities,
                    "n_periods": self.n_periods,
                }
            ]
        )

    def __repr__(self) -> str:
        head = (
            f"ElasticityFit({self.method}: {self.elasticity:.3f} (se {self.se:.3f}), "
            f"{self.level:.0%} CI [{self.ci[0]:.3f}, {self.ci[1]:.3f}], n_obs={self.n_obs}"
        )
        if self.table is not None:
            head += f", {len(self.table)} groups"
        head += ")"
        return head + "".join(f"\n  note: {n}" for n in self.notes)


# ------------------------------------------------------------------------ preparation


def _need(panel: pd.DataFrame, columns: Iterable[str | None]) -> None:
    missing = [c for c in columns if c is not None and c not in panel.columns]
    if missing:
        raise KeyError(
            f"panel has no column(s) {missing}; it has {list(panel.columns)}. "
            "Pass the names of your columns (quantity=, price=, entity=, time=, controls=)."
        )


def _prepare(
    panel: pd.DataFrame,
    quantity: str,
    price: str,
    entity: str,
    time: str,
    extra: Sequence[str] = (),
) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    """Rows usable for a log-log fit, plus counts and notes of what was set aside.

    Adds ``_lq`` (log quantity) and ``_lp`` (log price). Drops rows with missing values
    in the needed columns and rows with quantity or price ≤ 0, counting each reason.
    Keeps constant-price entities (they still inform time effects) but counts them.
    """
    cols = list(dict.fromkeys([quantity, price, entity, time, *extra]))
    _need(panel, cols)
    df = panel.loc[:, cols].reset_index(drop=True)
    counts: dict[str, int] = {"rows_in": len(df)}
    notes: list[str] = []

    missing = df.isna().any(axis=1)
    counts["rows_missing"] = int(missing.sum())
    if counts["rows_missing"]:
        notes.append(
            f"{counts['rows_missing']:,} of {len(df):,} rows have a missing value in "
            f"{', '.join(c for c in cols if df[c].isna().any())}: set aside."
        )
    df = df[~missing]
    q = pd.to_numeric(df[quantity], errors="coerce")
    p = pd.to_numeric(df[price], errors="coerce")
    bad_q = ~(q > 0)
    bad_p = ~(p > 0)
    counts["rows_nonpositive_quantity"] = int(bad_q.sum())
    counts["rows_nonpositive_price"] = int((bad_p & ~bad_q).sum())
    if bad_q.any():
        notes.append(
            f"{int(bad_q.sum()):,} rows with {quantity} ≤ 0 set aside: the log of zero or a "
            "negative number is undefined (zero-sales periods carry no observed price)."
        )
    if (bad_p & ~bad_q).any():
        notes.append(
            f"{counts['rows_nonpositive_price']:,} rows with {price} ≤ 0 set aside: the log "
            "of zero or a negative price is undefined (free items, data errors)."
        )
    df = df[~(bad_q | bad_p)].copy()
    df["_lq"] = np.log(q.loc[df.index].astype(float))
    df["_lp"] = np.log(p.loc[df.index].astype(float))
    counts["rows_used"] = len(df)
    counts["entities"] = int(df[entity].nunique())
    counts["periods"] = int(df[time].nunique())

    spread = df.groupby(entity, observed=True)["_lp"].agg(lambda s: s.max() - s.min())
    const = spread[spread <= math.log1p(CONSTANT_PRICE_TOL)]
    counts["constant_price_entities"] = len(const)
    if len(const):
        shown = ", ".join(map(str, const.index[:5])) + (" …" if len(const) > 5 else "")
        notes.append(
            f"{len(const):,} of {counts['entities']:,} {entity}s never changed price "
            f"(spread < {CONSTANT_PRICE_TOL:.1%}: {shown}); elasticity cannot be learned "
            "from them — they are kept and only inform the time effects."
        )
    sizes = df.groupby(entity, observed=True).size()
    counts["singleton_entities"] = int((sizes == 1).sum())
    if counts["singleton_entities"]:
        notes.append(
            f"{counts['singleton_entities']:,} {entity}s have a single row: with {entity} "
            "fixed effects they are fitted exactly and add nothing."
        )
    if counts["periods"] == 1 and len(df):
        notes.append(f"The panel has a single {time}: there is no change over time to learn from.")
    return df, counts, notes


# ----------------------------------------------------------------- fixed-effects OLS


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values, sort=True)[0].astype(np.int64)


def _absorb(
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


def _absorbed_rank(fes: list[np.ndarray]) -> int:
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
    return rank


def _crit(level: float, df: float | None) -> float:
    from scipy import stats

    q = 0.5 + level / 2
    return (
        float(stats.t.ppf(q, df)) if df and np.isfinite(df) and df > 0 else float(stats.norm.ppf(q))
    )


def _fe_ols(
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
    import statsmodels.api as sm
    from scipy import stats

    notes: list[str] = []
    fes = [_codes(df[f]) for f in fixed_effects]
    data = df.loc[:, [y, *xs]].to_numpy(dtype=float)
    dm = _absorb(data, fes)
    yd, xd = dm[:, 0], dm[:, 1:]
    raw_sd = data[:, 1:].std(axis=0)
    keep = [j for j in range(len(xs)) if xd[:, j].std() > 1e-9 * max(raw_sd[j], 1.0)]
    for j in range(len(xs)):
        if j not in keep:
            notes.append(
                f"`{xs[j]}` does not vary once the fixed effects are absorbed: not identified."
            )
    nobs = len(df)
    absorbed = _absorbed_rank(fes)
    info: dict[str, Any] = {"nobs": nobs, "absorbed": absorbed, "n_clusters": None}
    rows = [
        {
            "term": x,
            "estimate": np.nan,
            "se": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
        }
        for x in xs
    ]
    k = len(keep)
    df_resid = nobs - k - absorbed
    if k == 0 or df_resid <= 0:
        if k and df_resid <= 0:
            notes.append(f"{nobs} rows are too few for {k + absorbed} parameters: not identified.")
        return pd.DataFrame(rows), info, notes
    X = xd[:, keep]
    # drop columns collinear with each other (keep the first of a collinear set)
    rank_keep: list[int] = []
    for j in range(k):
        trial = X[:, [*rank_keep, j]]
        if np.linalg.matrix_rank(trial) == len(rank_keep) + 1:
            rank_keep.append(j)
        else:
            notes.append(f"`{xs[keep[j]]}` is collinear with other regressors: not identified.")
    keep = [keep[j] for j in rank_keep]
    X = X[:, rank_keep]
    k = len(keep)
    df_resid = nobs - k - absorbed
    if hac is not None:
        res = sm.OLS(yd, X).fit(
            cov_type="hac-panel",
            cov_kwds={"groups": _codes(df[hac[0]]), "maxlags": hac[1], "use_correction": "hac"},
        )
        # statsmodels' factor nobs/(nobs − k) counts only the slopes: count all parameters
        cov = res.cov_params() * (nobs - k) / df_resid
        dof = df_resid
    elif cluster is not None:
        groups = _codes(df[cluster])
        n_cl = int(groups.max()) + 1
        info["n_clusters"] = n_cl
        if n_cl < 2:
            notes.append(f"Only one {cluster}: clustered standard errors are undefined.")
            return pd.DataFrame(rows), info, notes
        res = sm.OLS(yd, X).fit(
            cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True}
        )
        # statsmodels' small-sample factor counts only the slopes: use all parameters,
        # as OLS with one dummy per fixed-effect level does
        cov = res.cov_params() * (nobs - k) / df_resid
        dof = n_cl - 1
        if n_cl < 20:
            notes.append(
                f"Only {n_cl} clusters ({cluster}): clustered standard errors are imprecise."
            )
    else:
        res = sm.OLS(yd, X).fit()
        cov = res.cov_params() * (nobs - k) / df_resid
        dof = df_resid
    se = np.sqrt(np.diag(np.asarray(cov)))
    crit = _crit(level, dof)
    for i, j in enumerate(keep):
        b, s = float(res.params[i]), float(se[i])
        t = b / s if s > 0 else np.nan
        rows[j].update(
            estimate=b,
            se=s,
            ci_low=b - crit * s,
            ci_high=b + crit * s,
            p_value=float(2 * stats.t.sf(abs(t), dof)) if np.isfinite(t) else np.nan,
        )
    info.update(df_resid=df_resid, dof=dof, resid=res.resid)
    return pd.DataFrame(rows), info, notes


def _fe_columns(fixed_effects: Sequence[str], entity: str, time: str) -> list[str]:
    alias = {"entity": entity, "time": time}
    out = [alias.get(f, f) for f in fixed_effects]
    return list(dict.fromkeys(out))


def _numeric_controls(df: pd.DataFrame, controls: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Numeric control columns; text/category controls become 0/1 dummies (first level dropped)."""
    names: list[str] = []
    for c in controls:
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            df[c] = s.astype(float)
            names.append(c)
        else:
            d = pd.get_dummies(s.astype(str), prefix=c, drop_first=True, dtype=float)
            for col in d.columns:
                df[col] = d[col]
                names.append(col)
    return df, names


def _groups(panel: pd.DataFrame, by: str | Sequence[str] | None):
    if by is None:
        return []
    keys = [by] if isinstance(by, str) else list(by)
    _need(panel, keys)
    return list(panel.groupby(keys, observed=True, sort=True))


def _group_row(key: Any, fit: ElasticityFit, by: str | Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    keys = [by] if isinstance(by, str) else list(by)
    vals = key if isinstance(key, tuple) else (key,)
    for k_, v in zip(keys, vals, strict=False):
        row[k_] = v
    row.update(
        elasticity=fit.elasticity,
        se=fit.se,
        ci_low=fit.ci[0],
        ci_high=fit.ci[1],
        n_obs=fit.n_obs,
        n_entities=fit.n_entities,
        n_periods=fit.n_periods,
        price_min=fit.price_support[0],
        price_max=fit.price_support[1],
        identified=fit.identified,
        notes=" ".join(fit.notes),
    )
    return row


def fit_loglog(
    panel: pd.DataFrame,
    quantity: str,
    price: str,
    entity: str,
    time: str,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = ("entity", "time"),
    cluster: str | None = "entity",
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> ElasticityFit:
    """Own-price elasticity by log-log regression with fixed effects.

    Fits ``log(quantity) = elasticity · log(price) + controls + fixed effects + error`` by
    OLS. Fixed effects are absorbed (within transformation), which gives the same
    estimate and clustered standard errors as one dummy per level.

    Parameters
    ----------
    panel
        One row per entity × period. Must have the ``quantity``, ``price``, ``entity``
        and ``time`` columns, the ``controls``, any extra fixed-effect columns and the
        ``by`` column(s).
    quantity, price
        Units sold and the (average paid) price. Rows where either is ≤ 0 or missing are
        set aside and counted in ``notes``.
    entity, time
        Columns identifying the entity (SKU) and the period (week).
    controls
        Further regressors (numeric or boolean; text columns become dummies).
    fixed_effects
        Absorbed effects: ``"entity"``, ``"time"`` (aliases of those columns) or any
        column name, e.g. a category × week key. ``()`` fits an intercept only.
    cluster
        Column to cluster standard errors by (``"entity"`` is an alias); ``None`` gives
        classical standard errors.
    by
        Column(s) to fit separately by (e.g. ``"category"``); the result's ``table``
        holds one row per group and its top-level fields are the pooled fit.
    level
        Confidence level of the intervals (t distribution with clusters − 1 degrees of
        freedom when clustered).

    Returns
    -------
    ElasticityFit
        ``.elasticity``, ``.se``, ``.ci``, ``.n_obs``, ``.notes``, ``.params`` (all
        slopes), ``.table`` (with ``by=``). Not identified (no within price variation,
        one period with entity effects…) → ``nan`` estimate and a note saying why.

    Examples
    --------
    >>> fit = fit_loglog(panel, "units", "avg_price", "sku", "week", by="category")
    >>> fit.table[["category", "elasticity", "ci_low", "ci_high"]]   # doctest: +SKIP
    """
    cluster_col = {"entity": entity, "time": time}.get(cluster, cluster) if cluster else None
    fe_cols = _fe_columns(fixed_effects, entity, time)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    extra = [*controls, *fe_cols, *([cluster_col] if cluster_col else []), *by_cols]
    _need(panel, [quantity, price, entity, time, *extra])
    fit = _loglog_one(
        panel, quantity, price, entity, time, controls, fe_cols, cluster_col, level, extra
    )
    if by is not None:
        rows = []
        for key, sub in _groups(panel, by):
            g = _loglog_one(
                sub, quantity, price, entity, time, controls, fe_cols, cluster_col, level, extra
            )
            rows.append(_group_row(key, g, by))
        fit.table = pd.DataFrame(rows)
    return fit


def _loglog_one(panel, quantity, price, entity, time, controls, fe_cols, cluster_col, level, extra):
    df, counts, notes = _prepare(panel, quantity, price, entity, time, extra)
    df, ctrl = _numeric_controls(df, controls)
    fit = ElasticityFit(
        elasticity=np.nan,
        se=np.nan,
        ci=(np.nan, np.nan),
        n_obs=len(df),
        method="loglog",
        level=level,
        n_entities=counts["entities"],
        n_periods=counts["periods"],
        counts=counts,
        notes=notes,
        price_support=(float(np.exp(df["_lp"].min())), float(np.exp(df["_lp"].max())))
        if len(df)
        else (np.nan, np.nan),
    )
    if len(df) < 2:
        notes.append("Fewer than two usable rows: nothing to estimate.")
        return fit
    params, info, more = _fe_ols(df, "_lq", ["_lp", *ctrl], fe_cols, cluster_col, level)
    notes.extend(more)
    params["term"] = [price if t == "_lp" else t for t in params["term"]]
    fit.params = params
    fit.n_clusters = info["n_clusters"]
    first = params.iloc[0]
    fit.elasticity, fit.se = float(first["estimate"]), float(first["se"])
    fit.ci = (float(first["ci_low"]), float(first["ci_high"]))
    return fit


# ------------------------------------------------------------------------------ DML


def _time_features(values: pd.Series) -> pd.DataFrame:
    """Calendar features of a period column for the nuisance learners."""
    if (
        pd.api.types.is_datetime64_any_dtype(values)
        or isinstance(values.iloc[0], (pd.Timestamp,))
        or (values.dtype == object and hasattr(values.iloc[0], "isocalendar"))
    ):
        t = pd.to_datetime(values)
        return pd.DataFrame(
            {
                "_t_index": ((t - t.min()).dt.days / 7.0).to_numpy(),
                "_t_week_of_year": t.dt.isocalendar().week.astype(float).to_numpy(),
                "_t_month": t.dt.month.astype(float).to_numpy(),
            },
            index=values.index,
        )
    codes = pd.to_numeric(values, errors="coerce")
    if codes.isna().any():
        codes = pd.Series(_codes(values), index=values.index)
    return pd.DataFrame({"_t_index": codes.astype(float).to_numpy()}, index=values.index)


def _default_learner(seed: int):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=60,
        learning_rate=0.15,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=seed,
    )


def fit_dml(
    panel: pd.DataFrame,
    quantity: str,
    price: str,
    entity: str,
    time: str,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = ("entity", "time"),
    cluster: str | None = "entity",
    by: str | Sequence[str] | None = None,
    learner_y: Any = None,
    learner_d: Any = None,
    n_folds: int = 5,
    n_rep: int = 1,
    time_features: bool | None = None,
    seed: int = 0,
    level: float = 0.95,
    n_threads: int | None = 1,
) -> ElasticityFit:
    """Own-price elasticity by double machine learning (partially linear model).

    Model: ``log q = θ · log p + g(X) + ε`` and ``log p = m(X) + v``, where ``X`` are the
    ``controls`` (and calendar features of ``time`` when time effects are not absorbed).
    After absorbing ``fixed_effects`` (from quantity, price and the numeric controls
    alike), ``g`` and ``m`` are learned with cross-fitting (folds formed by ``cluster``, so no
    entity is predicted by a model that saw it), and θ is the OLS slope of the
    quantity residual on the price residual (Chernozhukov et al. 2018, partialling out),
    with clustered standard errors. Price moves that demand signals in ``X`` predict
    (e.g. promotions timed to demand peaks) are removed before θ is estimated — that is
    why it can differ from :func:`fit_loglog`.

    Parameters
    ----------
    panel
        One row per entity × period with the ``quantity``, ``price``, ``entity``,
        ``time``, ``controls`` and ``by`` columns.
    quantity, price, entity, time, by, level
        As in :func:`fit_loglog`.
    controls
        Confounders the learners may use: numeric, boolean or text (text is coded as
        integers for tree learners) — typically the demand history the shop reacts to
        (:func:`demand_history`). Do not include the price itself or variables it
        causes this period (the discount depth, the promo flag, units).
    fixed_effects
        Absorbed before learning (default each SKU's level and each week's common
        shock, as in :func:`fit_loglog`).
    cluster
        Column whose groups define the folds and the clustered standard errors.
    learner_y, learner_d
        scikit-learn regressors for ``E[log q | X]`` and ``E[log p | X]`` (cloned);
        default a histogram gradient-boosting regressor.
    n_folds, n_rep
        Cross-fitting folds and repetitions (the median over repetitions is reported).
    time_features
        Add calendar features of ``time`` (week index, ISO week, month) to ``X``;
        default: only when ``time`` is not among ``fixed_effects``.
    seed
        Seeds fold assignment and the default learners.
    n_threads
        Threads the learners may use (OpenMP/BLAS, via threadpoolctl). Default 1:
        gradient boosting on a small panel is fastest single-threaded, and many
        threads on a busy machine slow it down by an order of magnitude. ``None``
        leaves the libraries' defaults.

    Returns
    -------
    ElasticityFit
        With ``method="dml"`` and ``diagnostics`` holding the cross-fitted R² of both
        nuisance models and the share of price variation left after partialling out.
    """
    cluster_col = {"entity": entity, "time": time}.get(cluster, cluster) if cluster else None
    fe_cols = _fe_columns(fixed_effects, entity, time)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    extra = [*controls, *fe_cols, *([cluster_col] if cluster_col else []), *by_cols]
    _need(panel, [quantity, price, entity, time, *extra])
    if time_features is None:
        time_features = time not in fe_cols
    # threadpoolctl limits only libraries already loaded: load the learners' OpenMP first
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    kw = dict(
        learner_y=learner_y,
        learner_d=learner_d,
        n_folds=n_folds,
        n_rep=n_rep,
        time_features=time_features,
        seed=seed,
        level=level,
    )
    with threadpool_limits(limits=n_threads):
        fit = _dml_one(
            panel, quantity, price, entity, time, controls, fe_cols, cluster_col, extra, **kw
        )
        if by is not None:
            rows = []
            for key, sub in _groups(panel, by):
                g = _dml_one(
                    sub, quantity, price, entity, time, controls, fe_cols, cluster_col, extra, **kw
                )
                rows.append(_group_row(key, g, by))
            fit.table = pd.DataFrame(rows)
    return fit


def _dml_one(
    panel,
    quantity,
    price,
    entity,
    time,
    controls,
    fe_cols,
    cluster_col,
    extra,
    *,
    learner_y,
    learner_d,
    n_folds,
    n_rep,
    time_features,
    seed,
    level,
):
    import statsmodels.api as sm
    from sklearn.base import clone
    from sklearn.model_selection import PredefinedSplit, cross_val_predict

    df, counts, notes = _prepare(panel, quantity, price, entity, time, extra)
    fit = ElasticityFit(
        elasticity=np.nan,
        se=np.nan,
        ci=(np.nan, np.nan),
        n_obs=len(df),
        method="dml",
        level=level,
        n_entities=counts["entities"],
        n_periods=counts["periods"],
        counts=counts,
        notes=notes,
        price_support=(float(np.exp(df["_lp"].min())), float(np.exp(df["_lp"].max())))
        if len(df)
        else (np.nan, np.nan),
    )
    fold_key = df[cluster_col] if cluster_col else pd.Series(np.arange(len(df)), index=df.index)
    n_groups = int(fold_key.nunique())
    folds = min(n_folds, n_groups)
    if len(df) < 10 or folds < 2:
        notes.append(
            f"{len(df)} usable rows in {n_groups} {cluster_col or 'row'} groups: too few to "
            "cross-fit, nothing estimated."
        )
        return fit

    feats = pd.DataFrame(index=df.index)
    numeric: list[str] = []
    for c in controls:
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            feats[c] = s.astype(float)
            numeric.append(c)
        else:
            feats[c] = _codes(s.astype(str)).astype(float)
    if time_features:
        feats = feats.join(_time_features(df[time]))
    if feats.shape[1] == 0:
        notes.append("No controls: DML reduces to OLS on the data with fixed effects absorbed.")
        feats["_const"] = 0.0

    fes = [_codes(df[f]) for f in fe_cols]
    yd_d = _absorb(df[["_lq", "_lp"]].to_numpy(float), fes)
    y, d = yd_d[:, 0], yd_d[:, 1]
    if numeric and fes:
        # within transformation of the numeric controls too (as OLS with the same fixed
        # effects does, Frisch–Waugh–Lovell): the learners then see each SKU's demand
        # history relative to its own level and the week's, like the absorbed outcome
        feats[numeric] = _absorb(feats[numeric].to_numpy(float), fes)
    if d.std() < 1e-9:
        notes.append("Price does not vary once the fixed effects are absorbed: not identified.")
        return fit
    X = feats.to_numpy(float)
    groups = _codes(fold_key)
    thetas, ses, r2y, r2d, resid_share = [], [], [], [], []
    for rep in range(n_rep):
        rng = np.random.default_rng(seed + rep)
        fold_of_group = rng.permutation(int(groups.max()) + 1) % folds
        cv = PredefinedSplit(fold_of_group[groups])
        ly = clone(learner_y) if learner_y is not None else _default_learner(seed + rep)
        ld = clone(learner_d) if learner_d is not None else _default_learner(seed + rep)
        y_hat = cross_val_predict(ly, X, y, cv=cv)
        d_hat = cross_val_predict(ld, X, d, cv=cv)
        ry, rd = y - y_hat, d - d_hat
        if cluster_col:
            res = sm.OLS(ry, rd).fit(
                cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True}
            )
        else:
            res = sm.OLS(ry, rd).fit(cov_type="HC1")
        thetas.append(float(res.params[0]))
        ses.append(float(res.bse[0]))
        r2y.append(1 - ry.var() / y.var())
        r2d.append(1 - rd.var() / d.var())
        resid_share.append(rd.var() / d.var())
    theta = float(np.median(thetas))
    # median aggregation of repeated cross-fitting (Chernozhukov et al. 2018, §3.4)
    se = float(np.sqrt(np.median(np.asarray(ses) ** 2 + (np.asarray(thetas) - theta) ** 2)))
    dof = (n_groups - 1) if cluster_col else None
    crit = _crit(level, dof)
    fit.elasticity, fit.se, fit.ci = theta, se, (theta - crit * se, theta + crit * se)
    fit.n_clusters = n_groups if cluster_col else None
    fit.diagnostics = {
        "r2_quantity": float(np.median(r2y)),
        "r2_price": float(np.median(r2d)),
        "price_variation_left": float(np.median(resid_share)),
        "features": list(feats.columns),
        "n_folds": folds,
        "n_rep": n_rep,
    }
    if np.median(resid_share) < 0.05:
        notes.append(
            f"The controls predict {1 - np.median(resid_share):.0%} of the price variation: "
            "little independent price movement is left, so the estimate is fragile."
        )
    fit.params = pd.DataFrame(
        [
            {
                "term": price,
                "estimate": theta,
                "se": se,
                "ci_low": fit.ci[0],
                "ci_high": fit.ci[1],
                "p_value": np.nan,
            }
        ]
    )
    return fit


# ----------------------------------------------------------- per-SKU and shrinkage


def sku_elasticities(
    panel: pd.DataFrame,
    quantity: str,
    price: str,
    entity: str,
    time: str,
    group: str | None = None,
    controls: Sequence[str] = (),
    min_periods: int = 8,
    level: float = 0.95,
) -> pd.DataFrame:
    """One own-price elasticity per entity, with week effects shared within its group.

    Within each ``group`` (e.g. category) fits ``log q = α_sku + δ_week +
    β_sku · log p + controls`` (one slope per SKU, week effects common to the group),
    with heteroskedasticity-robust (HC1) standard errors — a SKU-specific slope cannot
    be clustered by SKU. Entities with fewer than ``min_periods`` usable rows or without
    price variation get a row with ``nan`` and a ``note`` instead of disappearing.

    Parameters
    ----------
    panel
        Entity × period rows with the ``quantity``, ``price``, ``entity``, ``time``,
        ``group`` and ``controls`` columns.
    group
        Column whose levels share week effects (``None``: all entities together).
    min_periods
        Fewest usable periods for an entity's own slope.

    Returns
    -------
    DataFrame
        ``entity``, ``group`` (when given), ``elasticity``, ``se``, ``ci_low``,
        ``ci_high``, ``n_obs``, ``price_min``, ``price_max``, ``note``.
    """
    extra = [*controls, *([group] if group else [])]
    df, counts, _notes = _prepare(panel, quantity, price, entity, time, extra)
    df, ctrl = _numeric_controls(df, controls)
    out: list[dict[str, Any]] = []
    parts = df.groupby(group, observed=True, sort=True) if group else [(None, df)]
    all_entities = panel[[entity, *([group] if group else [])]].drop_duplicates(subset=[entity])
    for gkey, sub in parts:
        stats_ = sub.groupby(entity, observed=True)["_lp"].agg(["size", "min", "max"])
        ok = stats_[
            (stats_["size"] >= min_periods)
            & (stats_["max"] - stats_["min"] > math.log1p(CONSTANT_PRICE_TOL))
        ]
        for e, r in stats_.iterrows():
            if e not in ok.index:
                note = (
                    f"only {int(r['size'])} usable {time}s (< {min_periods})"
                    if r["size"] < min_periods
                    else "price never changed: elasticity cannot be learned"
                )
                out.append(
                    {
                        entity: e,
                        **({group: gkey} if group else {}),
                        "elasticity": np.nan,
                        "se": np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "n_obs": int(r["size"]),
                        "price_min": float(np.exp(r["min"])),
                        "price_max": float(np.exp(r["max"])),
                        "note": note,
                    }
                )
        if ok.empty:
            continue
        sub = sub.copy()
        slopes = []
        for e in ok.index:
            col = f"_slope_{len(slopes)}"
            sub[col] = np.where(sub[entity] == e, sub["_lp"], 0.0)
            slopes.append((e, col))
        fe = [entity] + ([time] if sub[time].nunique() > 1 else [])
        params, _info, _more = _fe_ols_hc(sub, "_lq", [c for _, c in slopes] + ctrl, fe, level)
        for (e, _col), (_, p) in zip(slopes, params.iloc[: len(slopes)].iterrows(), strict=True):
            r = stats_.loc[e]
            out.append(
                {
                    entity: e,
                    **({group: gkey} if group else {}),
                    "elasticity": p["estimate"],
                    "se": p["se"],
                    "ci_low": p["ci_low"],
                    "ci_high": p["ci_high"],
                    "n_obs": int(r["size"]),
                    "price_min": float(np.exp(r["min"])),
                    "price_max": float(np.exp(r["max"])),
                    "note": "" if np.isfinite(p["estimate"]) else "not identified",
                }
            )
    res = pd.DataFrame(out)
    # entities with no usable row at all (every row ≤ 0 or missing)
    seen = set(res[entity]) if len(res) else set()
    for _, r in all_entities.iterrows():
        if r[entity] not in seen:
            res = pd.concat(
                [
                    res,
                    pd.DataFrame(
                        [
                            {
                                entity: r[entity],
                                **({group: r[group]} if group else {}),
                                "elasticity": np.nan,
                                "se": np.nan,
                                "ci_low": np.nan,
                                "ci_high": np.nan,
                                "n_obs": 0,
                                "price_min": np.nan,
                                "price_max": np.nan,
                                "note": "no usable rows (quantity or price ≤ 0 / missing)",
                            }
                        ]
                    ),
                ],
                ignore_index=True,
            )
    sort = [group, entity] if group else [entity]
    return res.sort_values(sort, kind="stable").reset_index(drop=True)


def _fe_ols_hc(df, y, xs, fixed_effects, level):
    """Like :func:`_fe_ols` but with HC1 standard errors (dof of absorbed effects counted)."""
    import statsmodels.api as sm
    from scipy import stats

    fes = [_codes(df[f]) for f in fixed_effects]
    dm = _absorb(df.loc[:, [y, *xs]].to_numpy(float), fes)
    yd, X = dm[:, 0], dm[:, 1:]
    nobs, k = X.shape
    absorbed = _absorbed_rank(fes)
    df_resid = nobs - k - absorbed
    rows = []
    if df_resid <= 0:
        return (
            pd.DataFrame(
                [
                    {
                        "term": x,
                        "estimate": np.nan,
                        "se": np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "p_value": np.nan,
                    }
                    for x in xs
                ]
            ),
            {},
            [],
        )
    res = sm.OLS(yd, X).fit(cov_type="HC0")
    cov = np.asarray(res.cov_params()) * nobs / df_resid  # HC1 with all parameters counted
    se = np.sqrt(np.diag(cov))
    crit = _crit(level, df_resid)
    for i, x in enumerate(xs):
        b, s = float(res.params[i]), float(se[i])
        ok = np.isfinite(s) and s > 0
        rows.append(
            {
                "term": x,
                "estimate": b if ok else np.nan,
                "se": s if ok else np.nan,
                "ci_low": b - crit * s if ok else np.nan,
                "ci_high": b + crit * s if ok else np.nan,
                "p_value": float(2 * stats.t.sf(abs(b / s), df_resid)) if ok else np.nan,
            }
        )
    return pd.DataFrame(rows), {"df_resid": df_resid}, []


def shrink(
    estimates: pd.DataFrame,
    estimate: str = "elasticity",
    se: str = "se",
    group: str | None = "category",
    method: str = "iterated",
    level: float = 0.95,
) -> pd.DataFrame:
    """Empirical-Bayes shrinkage of noisy estimates toward their group's mean.

    Within each group the estimates are treated as draws ``b_i ~ N(μ, τ² + se_i²)``;
    μ and the between-entity variance τ² are estimated by random-effects meta-analysis
    (statsmodels ``combine_effects``; Paule–Mandel by default), and each estimate is
    pulled toward μ by ``1 − w_i`` with ``w_i = τ² / (τ² + se_i²)``: noisy estimates move
    most, precise ones barely.

    Parameters
    ----------
    estimates
        One row per entity with the ``estimate`` and ``se`` columns (and ``group``);
        rows whose estimate or se is missing keep ``nan`` and get the group mean as
        ``prior_mean`` only.
    group
        Column of the groups to shrink toward; ``None`` shrinks toward one overall mean.
    method
        τ² estimator of :func:`statsmodels.stats.meta_analysis.combine_effects`
        (``"iterated"``/``"pm"`` or ``"dl"``).

    Returns
    -------
    DataFrame
        ``estimates`` plus ``prior_mean``, ``prior_sd`` (τ), ``weight`` (w), ``shrunk``,
        ``shrunk_se``, ``shrunk_ci_low``, ``shrunk_ci_high``.
    """
    from scipy import stats
    from statsmodels.stats.meta_analysis import combine_effects

    _need(estimates, [estimate, se, group])
    out = estimates.copy()
    for c in ("prior_mean", "prior_sd", "weight", "shrunk", "shrunk_se"):
        out[c] = np.nan
    keys = out[group] if group else pd.Series(0, index=out.index)
    for _, idx in out.groupby(keys, observed=True).groups.items():
        sub = out.loc[idx]
        ok = np.isfinite(sub[estimate]) & np.isfinite(sub[se]) & (sub[se] > 0)
        b, s = sub.loc[ok, estimate].to_numpy(float), sub.loc[ok, se].to_numpy(float)
        if len(b) == 0:
            continue
        if len(b) == 1:
            mu, tau2, mu_se = float(b[0]), np.inf, float(s[0])
        else:
            res = combine_effects(b, s**2, method_re=method)
            mu, tau2, mu_se = float(res.mean_effect_re), float(res.tau2), float(res.sd_eff_w_re)
        out.loc[idx, "prior_mean"] = mu
        out.loc[idx, "prior_sd"] = math.sqrt(tau2) if np.isfinite(tau2) else np.nan
        okidx = sub.index[ok]
        w = np.ones(len(b)) if not np.isfinite(tau2) else tau2 / (tau2 + s**2)
        out.loc[okidx, "weight"] = w
        out.loc[okidx, "shrunk"] = w * b + (1 - w) * mu
        # posterior variance given μ, plus the uncertainty of μ carried by (1 − w)
        out.loc[okidx, "shrunk_se"] = np.sqrt(w * s**2 + ((1 - w) * mu_se) ** 2)
    z = stats.norm.ppf(0.5 + level / 2)
    out["shrunk_ci_low"] = out["shrunk"] - z * out["shrunk_se"]
    out["shrunk_ci_high"] = out["shrunk"] + z * out["shrunk_se"]
    return out


# --------------------------------------------------------------------- cross-price


@dataclass
class CrossPrice:
    """A cross-price elasticity matrix.

    Attributes
    ----------
    matrix, se, ci_low, ci_high
        Square frames: row = the SKU whose demand responds, column = the SKU whose price
        changed. The diagonal holds own-price elasticities; off the diagonal, positive
        means substitutes, negative complements.
    table
        Tidy form: ``demand_of``, ``price_of``, ``elasticity``, ``se``, ``ci_low``,
        ``ci_high``, ``p_value``, ``relation`` (``own``, ``substitute``, ``complement``
        or ``unclear`` when the interval spans zero).
    n_periods
        Periods in which every listed SKU sold (the regression sample).
    notes
        What was set aside and which controls were used.
    """

    matrix: pd.DataFrame
    se: pd.DataFrame
    ci_low: pd.DataFrame
    ci_high: pd.DataFrame
    table: pd.DataFrame
    n_periods: int
    notes: list[str] = field(default_factory=list)


def cross_price(
    panel: pd.DataFrame,
    quantity: str,
    price: str,
    entity: str,
    time: str,
    entities: Sequence[Any],
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = ("entity", "time"),
    hac_lags: int = 4,
    min_periods: int = 20,
    level: float = 0.95,
) -> CrossPrice:
    """Cross-price elasticities among a few entities (e.g. a category's top SKUs).

    One stacked regression over every entity of ``panel``::

        log q_it = α_i + δ_t + Σ_{j listed} e_ij · [i = listed SKU] · log p_jt
                   + e_rest · [i not listed] · log p_it + controls + error

    Week effects ``δ_t`` are learned from all entities of the panel (pass the whole
    category, not only the listed SKUs: the unlisted ones anchor the common weekly
    shocks), each listed SKU gets its own row of the matrix, and unlisted SKUs share
    one own-price slope. Standard errors are Newey–West within each entity
    (statsmodels ``hac-panel``), since weekly demand shocks persist.

    Parameters
    ----------
    panel
        Entity × period rows with the ``quantity``, ``price``, ``entity``, ``time``
        and ``controls`` columns, including entities beyond ``entities``.
    entities
        The SKUs of the matrix (2 to ~8: the number of slopes grows with its square).
    controls
        Further regressors, e.g. :func:`demand_history`.
    fixed_effects
        Absorbed effects (``"entity"``, ``"time"`` or column names).
    hac_lags
        Newey–West lag length in periods.
    min_periods
        Fewest periods in which every listed SKU sold; below it nothing is estimated
        (the matrix is ``nan`` and a note says why).

    Returns
    -------
    CrossPrice
        Rows of a listed SKU in periods where some listed SKU did not sell (its price is
        unobserved) are set aside and counted in ``notes``.
    """
    entities = list(dict.fromkeys(entities))
    if len(entities) < 2:
        raise ValueError("cross_price needs at least two entities")
    df, counts, notes = _prepare(panel, quantity, price, entity, time, list(controls))
    missing = [e for e in entities if e not in set(df[entity])]
    if missing:
        raise ValueError(f"entities not in the panel (or without a usable row): {missing}")
    listed = df[entity].isin(entities)
    n_other = int(df.loc[~listed, entity].nunique())
    fe_cols = _fe_columns(fixed_effects, entity, time)
    if entity in fe_cols and time in fe_cols and n_other == 0:
        notes.append(
            f"Only the listed {entity}s are in the panel: their common {time} effects cannot be "
            "told apart from the prices. Pass the whole category."
        )
    lp = df[listed].pivot_table(index=time, columns=entity, values="_lp", aggfunc="mean")
    terms: list[str] = []
    for j in entities:
        col = df[time].map(lp[j])
        df[f"_lp_{j}"] = col.to_numpy()
    has_all = df[[f"_lp_{j}" for j in entities]].notna().all(axis=1)
    drop = listed & ~has_all
    if drop.any():
        notes.append(
            f"{int(drop.sum()):,} rows of listed {entity}s set aside: in those {time}s another listed "
            f"{entity} did not sell, so its price is unobserved."
        )
    df = df[~drop].copy()
    listed = df[entity].isin(entities)
    pairs = []
    for i in entities:
        for j in entities:
            name = f"_x_{len(pairs)}"
            df[name] = np.where(df[entity] == i, df[f"_lp_{j}"].fillna(0.0), 0.0)
            terms.append(name)
            pairs.append((i, j))
    if n_other:
        df["_own_rest"] = np.where(listed, 0.0, df["_lp"])
        terms.append("_own_rest")
    df, ctrl = _numeric_controls(df, controls)
    df = df.sort_values([entity, time], kind="stable")
    shape = pd.DataFrame(
        np.nan,
        index=pd.Index(entities, name="demand_of"),
        columns=pd.Index(entities, name="price_of"),
    )
    est, se_, lo, hi = shape.copy(), shape.copy(), shape.copy(), shape.copy()
    rows = []
    n_periods = int(df.loc[df[entity].isin(entities), time].nunique())
    if n_periods < min_periods:
        notes.append(
            f"Only {n_periods} {time}s in which every listed {entity} sold (fewer than "
            f"{min_periods}): cross-price elasticities not estimated."
        )
        cols = [
            "demand_of",
            "price_of",
            "elasticity",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "relation",
        ]
        return CrossPrice(est, se_, lo, hi, pd.DataFrame(columns=cols), n_periods, notes)
    params, info, more = _fe_ols(
        df, "_lq", [*terms, *ctrl], fe_cols, None, level, hac=(entity, hac_lags)
    )
    readable = {
        f"`{t}`": f"the effect of {j}'s price on {i}'s units"
        for t, (i, j) in zip(terms, pairs, strict=False)
    }
    readable["`_own_rest`"] = f"the own-price slope of the unlisted {entity}s"
    for note in more:
        for k_, v in readable.items():
            note = note.replace(k_, v)
        notes.append(note)
    for (i, j), (_, p) in zip(pairs, params.iloc[: len(pairs)].iterrows(), strict=True):
        est.loc[i, j], se_.loc[i, j], lo.loc[i, j], hi.loc[i, j] = (
            p["estimate"],
            p["se"],
            p["ci_low"],
            p["ci_high"],
        )
        if i == j:
            rel = "own"
        elif p["ci_low"] > 0:
            rel = "substitute"
        elif p["ci_high"] < 0:
            rel = "complement"
        else:
            rel = "unclear"
        rows.append(
            {
                "demand_of": i,
                "price_of": j,
                "elasticity": p["estimate"],
                "se": p["se"],
                "ci_low": p["ci_low"],
                "ci_high": p["ci_high"],
                "p_value": p["p_value"],
                "relation": rel,
            }
        )
    return CrossPrice(est, se_, lo, hi, pd.DataFrame(rows), n_periods, notes)


# -------------------------------------------------------------------- optimal price


@dataclass
class PriceRecommendation:
    """The profit-maximising price under constant elasticity, inside the price support.

    Attributes
    ----------
    price
        Recommended price: the profit-maximising price clipped to ``bounds``.
    unconstrained_price
        ``unit_cost · ε / (1 + ε)`` (the Lerner rule) when ε < −1, else ``inf`` (with
        inelastic demand profit rises with price without limit in this model).
    at_bound
        ``"lower"``/``"upper"`` when the recommendation sits on the edge of the observed
        support (the model wants to go further than the data can vouch for), else ``None``.
    bounds
        ``(low, high)`` price range the recommendation is trusted in.
    price_range
        ``(low, high)`` of the profit-maximising price over the elasticity interval.
    current_price
        The price compared against.
    profit_change, revenue_change
        Relative change at ``price`` versus ``current_price`` (per unit of current
        quantity; independent of the demand level).
    curve
        ``price``, ``quantity_index`` (1 at the current price), ``revenue_index``,
        ``profit_index`` (revenue and gross profit relative to current revenue) and
        their ``_low``/``_high`` bands from the elasticity interval.
    notes
        Plain sentences about bounds and assumptions.
    """

    price: float
    unconstrained_price: float
    at_bound: str | None
    bounds: tuple[float, float]
    price_range: tuple[float, float]
    current_price: float
    elasticity: float
    elasticity_ci: tuple[float, float] | None
    unit_cost: float
    profit_change: float
    revenue_change: float
    curve: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _best_price(e: float, c: float, lo: float, hi: float) -> tuple[float, float, str | None]:
    unc = c * e / (1 + e) if e < -1 else math.inf
    best = min(max(unc, lo), hi)
    where = "upper" if unc >= hi else ("lower" if unc <= lo else None)
    return best, unc, where


def optimal_price(
    elasticity: float | ElasticityFit,
    unit_cost: float,
    current_price: float,
    price_bounds: tuple[float, float],
    elasticity_ci: tuple[float, float] | None = None,
    n_grid: int = 101,
) -> PriceRecommendation:
    """Revenue and gross-profit curves against price and the best price inside the data.

    Demand is constant-elasticity around the current point, ``q(p) = q0 · (p/p0)^ε``;
    gross profit ``(p − unit_cost) · q(p)`` is maximised at ``unit_cost · ε/(1+ε)`` when
    ε < −1. The answer is clipped to ``price_bounds`` — the observed price support —
    because the elasticity says nothing about prices never charged: no extrapolation.

    Parameters
    ----------
    elasticity
        A number (< 0 for normal goods) or an :class:`ElasticityFit` (its interval is
        then used for the band unless ``elasticity_ci`` is given).
    unit_cost
        Cost per unit (same currency as the prices).
    current_price
        Today's price; curves are indexed to it.
    price_bounds
        ``(low, high)`` prices observed — typically ``fit.price_support`` or a SKU's
        ``price_min``/``price_max``. Curves are drawn only inside it.
    elasticity_ci
        ``(low, high)`` interval of the elasticity for the uncertainty band.
    n_grid
        Points on the price grid.

    Returns
    -------
    PriceRecommendation

    Raises
    ------
    ValueError
        For a non-positive price, an empty or non-positive price range, or a
        non-finite elasticity.
    """
    if isinstance(elasticity, ElasticityFit):
        if elasticity_ci is None and np.all(np.isfinite(elasticity.ci)):
            elasticity_ci = elasticity.ci
        elasticity = elasticity.elasticity
    e = float(elasticity)
    if not np.isfinite(e):
        raise ValueError(
            "elasticity is not finite: it was not identified, so no price can be recommended"
        )
    lo, hi = (float(price_bounds[0]), float(price_bounds[1]))
    p0, c = float(current_price), float(unit_cost)
    if not (lo > 0 and hi >= lo):
        raise ValueError(f"price_bounds must satisfy 0 < low ≤ high, got {price_bounds}")
    if p0 <= 0:
        raise ValueError(f"current_price must be > 0, got {current_price}")
    if not np.isfinite(c) or c < 0:
        raise ValueError(f"unit_cost must be a number ≥ 0, got {unit_cost}")
    notes: list[str] = []
    if not lo <= p0 <= hi:
        notes.append(
            f"The current price {p0:g} lies outside the observed range [{lo:g}, {hi:g}]; "
            "curves are indexed to it but drawn only inside the range."
        )
    best, unc, where = _best_price(e, c, lo, hi)
    if where == "upper":
        notes.append(
            "The model would raise the price beyond the highest price observed"
            + (
                " (demand is inelastic, ε ≥ −1, so profit keeps rising with price)"
                if e >= -1
                else ""
            )
            + f"; the recommendation stops at {hi:g}, the edge of the data."
        )
    elif where == "lower":
        notes.append(
            f"The model would cut the price below the lowest observed {lo:g}; it stops there."
        )
    if c >= hi:
        notes.append(
            f"Unit cost {c:g} is at or above every observed price: every sale in range loses money."
        )
    grid = np.linspace(lo, hi, n_grid)
    if lo <= p0 <= hi and p0 not in grid:
        grid = np.sort(np.append(grid, p0))
    base_rev = p0  # index: current revenue per current unit = p0

    def curves(el: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        qi = (grid / p0) ** el
        return qi, grid * qi / base_rev, (grid - c) * qi / base_rev

    qi, ri, pi = curves(e)
    curve = pd.DataFrame(
        {"price": grid, "quantity_index": qi, "revenue_index": ri, "profit_index": pi}
    )
    prange = (best, best)
    if elasticity_ci is not None:
        e_lo, e_hi = sorted(map(float, elasticity_ci))
        bands = [curves(x) for x in (e_lo, e_hi)]
        for name, k in (("quantity_index", 0), ("revenue_index", 1), ("profit_index", 2)):
            stack = np.vstack([bands[0][k], bands[1][k]])
            curve[f"{name}_low"] = stack.min(axis=0)
            curve[f"{name}_high"] = stack.max(axis=0)
        ends = [_best_price(x, c, lo, hi)[0] for x in (e_lo, e_hi)]
        prange = (min(ends), max(ends))
    q_best = (best / p0) ** e
    profit0 = p0 - c
    profit_change = ((best - c) * q_best - profit0) / abs(profit0) if profit0 != 0 else math.nan
    revenue_change = best * q_best / p0 - 1
    return PriceRecommendation(
        price=best,
        unconstrained_price=unc,
        at_bound=where,
        bounds=(lo, hi),
        price_range=prange,
        current_price=p0,
        elasticity=e,
        elasticity_ci=tuple(elasticity_ci) if elasticity_ci else None,
        unit_cost=c,
        profit_change=profit_change,
        revenue_change=revenue_change,
        curve=curve,
        notes=notes,
    )


def recommend_price(
    panel: pd.DataFrame,
    estimates: pd.DataFrame,
    sku: Any,
    quantity: str = "units",
    price: str = "avg_price",
    entity: str = "sku",
    time: str = "week",
    cost: str = "unit_cost",
    recent_periods: int = 8,
) -> PriceRecommendation:
    """:func:`optimal_price` for one SKU, with its inputs read from the panel.

    The elasticity is the SKU's shrunk estimate (``shrunk`` with ``shrunk_ci_low`` /
    ``shrunk_ci_high`` from :func:`shrink`; the raw one if not shrunk); the unit cost is
    the unit-weighted cost of its last ``recent_periods`` periods with a cost; the
    current price is its price in its latest period; the bounds are the lowest and
    highest price it sold at.

    Parameters
    ----------
    panel
        Entity × period rows with ``quantity``, ``price``, ``entity``, ``time``, ``cost``.
    estimates
        One row per entity with ``elasticity``, ``ci_low``, ``ci_high`` (and the
        ``shrunk`` columns).
    sku
        The entity to price.

    Raises
    ------
    ValueError
        When the SKU has no estimate, no usable price or no unit cost.
    """
    _need(panel, [quantity, price, entity, time, cost])
    rows = panel[(panel[entity] == sku) & (panel[price] > 0) & (panel[quantity] > 0)].sort_values(
        time
    )
    if rows.empty:
        raise ValueError(f"{entity} {sku!r} has no period with a positive price and quantity")
    est = estimates[estimates[entity] == sku]
    if est.empty:
        raise ValueError(f"no elasticity estimate for {entity} {sku!r}")
    r = est.iloc[0]
    if "shrunk" in est and np.isfinite(r.get("shrunk", np.nan)):
        e, ci = float(r["shrunk"]), (float(r["shrunk_ci_low"]), float(r["shrunk_ci_high"]))
    else:
        e, ci = float(r["elasticity"]), (float(r["ci_low"]), float(r["ci_high"]))
    if not np.isfinite(e):
        raise ValueError(
            f"the elasticity of {entity} {sku!r} was not identified: {r.get('note', '')}".strip()
        )
    costed = rows[rows[cost].notna()].tail(recent_periods)
    if costed.empty:
        raise ValueError(f"{entity} {sku!r} has no unit cost: gross profit cannot be computed")
    unit_cost = float(np.average(costed[cost], weights=costed[quantity]))
    rec = optimal_price(
        e,
        unit_cost=unit_cost,
        current_price=float(rows[price].iloc[-1]),
        price_bounds=(float(rows[price].min()), float(rows[price].max())),
        elasticity_ci=ci if all(np.isfinite(ci)) else None,
    )
    return rec


# -------------------------------------------------------------------- promo depth


def _period_index(values: pd.Series) -> tuple[pd.Series, str]:
    """Integer period numbers (consecutive periods differ by 1) and the step's name."""
    if pd.api.types.is_numeric_dtype(values):
        v = values.astype(int)
        return v - v.min(), "period"
    t = pd.to_datetime(values)
    uniq = np.sort(t.unique())
    steps = (
        np.diff(uniq).astype("timedelta64[s]").astype(np.int64)
        if len(uniq) > 1
        else np.array([7 * 86400])
    )
    step = int(steps[steps > 0].min()) if (steps > 0).any() else 7 * 86400
    idx = ((t - t.min()).dt.total_seconds() // step).astype(int)
    return idx, ("week" if step == 7 * 86400 else f"{step // 86400}-day period")


DEFAULT_DEPTH_BINS = (0.05, 0.15, 0.25, 0.35)


def promo_response(
    panel: pd.DataFrame,
    quantity: str,
    entity: str,
    time: str,
    depth: str = "discount_depth",
    bins: Sequence[float] = DEFAULT_DEPTH_BINS,
    post_periods: int = 2,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = ("entity", "time"),
    cluster: str | None = "entity",
    level: float = 0.95,
) -> tuple[pd.DataFrame, list[str]]:
    """Demand uplift by discount depth, and the dip after a promotion ends.

    Fits ``log q = Σ_b u_b · [depth in band b] + Σ_k d_k · [k periods after a promo]
    + fixed effects`` with clustered SEs. Band edges ``bins`` split depth into "no
    promo" (below the first edge, the baseline) and bands up to the last edge and beyond.
    A row is "k periods after a promo" when it is not itself on promotion and the
    entity's promotion ended k periods earlier (by calendar, not by row).

    Parameters
    ----------
    panel
        Entity × period rows with ``quantity``, ``entity``, ``time`` and ``depth``
        (fraction off the list price, 0–1).
    bins
        Increasing depth edges; the first is the promo threshold.
    post_periods
        How many periods after a promotion get their own dip term.
    controls
        Further regressors (e.g. :func:`demand_history`, so promotions timed to demand
        peaks do not pass for uplift). Rows with a missing control are set aside.

    Returns
    -------
    (DataFrame, list of str)
        Rows ``term``, ``kind`` (``depth`` or ``post``), ``estimate`` (log points),
        ``se``, ``ci_low``, ``ci_high``, ``uplift`` (``exp(estimate) − 1``),
        ``uplift_low``, ``uplift_high``, ``n_rows``; and notes.
    """
    _need(panel, [quantity, entity, time, depth, *controls])
    df = panel.copy()
    notes: list[str] = []
    # lags are read from every row with a promotion, before any row is set aside
    pidx_all, unit = _period_index(df[time])
    on_promo = df[depth].astype(float).fillna(0.0) >= bins[0]
    promo_keys = set(zip(df.loc[on_promo, entity], pidx_all[on_promo], strict=True))
    df["_pidx"] = pidx_all.to_numpy()
    bad = ~(pd.to_numeric(df[quantity], errors="coerce") > 0) | df[depth].isna()
    if bad.any():
        notes.append(
            f"{int(bad.sum()):,} rows with {quantity} ≤ 0 or no {depth} set aside (log undefined)."
        )
    if controls:
        miss = df[list(controls)].isna().any(axis=1) & ~bad
        if miss.any():
            notes.append(f"{int(miss.sum()):,} rows with a missing control set aside.")
        bad |= miss
    df = df[~bad].copy()
    edges = list(bins)
    labels = []
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        labels.append(f"{a:.0%}–{b:.0%} off")
    labels.append(f"≥{edges[-1]:.0%} off")
    d = df[depth].astype(float)
    band = pd.Series(pd.NA, index=df.index, dtype=object)
    for i, lab in enumerate(labels):
        lo_ = edges[i]
        hi_ = edges[i + 1] if i + 1 < len(edges) else np.inf
        band[(d >= lo_) & (d < hi_)] = lab
    terms, kinds, counts = [], [], []
    for lab in labels:
        col = f"depth: {lab}"
        df[col] = (band == lab).astype(float)
        terms.append(col)
        kinds.append("depth")
        counts.append(int(df[col].sum()))
    # post-promo: calendar lag within entity
    for k in range(1, post_periods + 1):
        col = f"{k} {unit}{'s' if k > 1 else ''} after promo"
        after = [
            (e, t - k) in promo_keys and all((e, t - j) not in promo_keys for j in range(0, k))
            for e, t in zip(df[entity], df["_pidx"], strict=True)
        ]
        df[col] = np.asarray(after, dtype=float)
        terms.append(col)
        kinds.append("post")
        counts.append(int(df[col].sum()))
    df["_lq"] = np.log(df[quantity].astype(float))
    df, ctrl = _numeric_controls(df, controls)
    fe_cols = _fe_columns(fixed_effects, entity, time)
    cl = {"entity": entity, "time": time}.get(cluster, cluster) if cluster else None
    params, _info, more = _fe_ols(df, "_lq", [*terms, *ctrl], fe_cols, cl, level)
    notes.extend(more)
    params = params.iloc[: len(terms)].copy()
    params["kind"] = kinds
    params["n_rows"] = counts
    params["term"] = [t.removeprefix("depth: ") for t in terms]
    for a, b in (("uplift", "estimate"), ("uplift_low", "ci_low"), ("uplift_high", "ci_high")):
        params[a] = np.expm1(params[b])
    return params[
        [
            "term",
            "kind",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "uplift",
            "uplift_low",
            "uplift_high",
            "n_rows",
        ]
    ], notes


# ------------------------------------------------------------- demand history


def demand_history(
    panel: pd.DataFrame,
    quantity: str,
    entity: str,
    time: str,
    lags: Sequence[int] = (1, 2),
    depth: str | None = None,
) -> pd.DataFrame:
    """Each entity's recent demand as columns: what a shop reacts to when it times promotions.

    Promotions run "when a product is hot" put price cuts on demand peaks; conditioning
    on the demand the shop saw before deciding (its recent sales) removes that part of
    the confounding, in :func:`fit_loglog` (as controls) or :func:`fit_dml`.

    Parameters
    ----------
    panel
        Entity × period rows with ``quantity``, ``entity``, ``time`` (and ``depth``).
        Periods are matched by calendar, not by row: a period without a row is a period
        without sales.
    lags
        How many periods back.
    depth
        Optional discount-depth column to lag as well.

    Returns
    -------
    DataFrame
        ``panel`` plus ``log_units_lag{k}`` = log(1 + units k periods earlier), 0 when
        nothing sold then (and ``discount_lag{k}``, 0 when nothing sold). Missing
        (``nan``) when the period k back lies before the panel's first period — fits
        then set those rows aside and say so.
    """
    _need(panel, [quantity, entity, time, *([depth] if depth else [])])
    out = panel.copy()
    pidx, _unit = _period_index(out[time])
    keys = pd.DataFrame(
        {
            "e": out[entity].to_numpy(),
            "t": pidx.to_numpy(),
            "q": pd.to_numeric(out[quantity], errors="coerce").clip(lower=0).to_numpy(float),
        }
    )
    if depth:
        keys["d"] = out[depth].astype(float).to_numpy()
    table = keys.groupby(["e", "t"]).agg(q=("q", "sum"), **({"d": ("d", "mean")} if depth else {}))
    for k in lags:
        idx = pd.MultiIndex.from_arrays([keys["e"], keys["t"] - k])
        before = (keys["t"] - k < 0).to_numpy()
        q = table["q"].reindex(idx).to_numpy()
        col = np.log1p(np.nan_to_num(q, nan=0.0))
        col[before] = np.nan
        out[f"log_units_lag{k}"] = col
        if depth:
            d = np.nan_to_num(table["d"].reindex(idx).to_numpy(), nan=0.0)
            d[before] = np.nan
            out[f"discount_lag{k}"] = d
    return out


# ---------------------------------------------------------------- diagnostics


def price_variation(
    panel: pd.DataFrame,
    price: str,
    entity: str,
    time: str,
    quantity: str | None = None,
    group: str | None = None,
    promo: str | None = None,
    min_periods: int = 8,
    min_spread: float = 0.05,
) -> pd.DataFrame:
    """How much each entity's price moved: you cannot learn elasticity from a flat price.

    Parameters
    ----------
    panel
        Entity × period rows with the ``price``, ``entity``, ``time`` columns (and
        ``quantity``, ``group``, ``promo`` when given).
    min_periods, min_spread
        An entity is ``learnable`` when it has at least ``min_periods`` periods with a
        positive price and a price spread (max/min − 1) of at least ``min_spread``.

    Returns
    -------
    DataFrame
        One row per entity: ``group``, ``periods``, ``price_levels`` (distinct prices to
        the cent), ``price_min``, ``price_median``, ``price_max``, ``spread``
        (max/min − 1), ``log_price_sd``, ``promo_share`` (when ``promo``), ``units``
        (when ``quantity``), ``learnable`` and ``verdict`` (a sentence).
    """
    cols = [price, entity, time, *(c for c in (quantity, group, promo) if c)]
    _need(panel, cols)
    df = panel.loc[:, cols].copy()
    df = df[pd.to_numeric(df[price], errors="coerce") > 0]
    g = df.groupby(entity, observed=True, sort=True)
    out = pd.DataFrame(
        {
            "periods": g[time].nunique(),
            "price_levels": g[price].agg(lambda s: s.round(2).nunique()),
            "price_min": g[price].min(),
            "price_median": g[price].median(),
            "price_max": g[price].max(),
            "log_price_sd": g[price].agg(lambda s: float(np.log(s).std(ddof=0))),
        }
    )
    out["spread"] = out["price_max"] / out["price_min"] - 1
    if group:
        out.insert(0, group, g[group].first())
    if promo:
        out["promo_share"] = g[promo].mean().astype(float)
    if quantity:
        out["units"] = g[quantity].sum()
    out["learnable"] = (out["periods"] >= min_periods) & (out["spread"] >= min_spread)

    def verdict(r: pd.Series) -> str:
        if r["periods"] < min_periods:
            return f"too few {time}s with sales ({int(r['periods'])} < {min_periods})"
        if r["spread"] <= CONSTANT_PRICE_TOL:
            return "price never changed: elasticity cannot be learned"
        if r["spread"] < min_spread:
            return f"price moved only {r['spread']:.1%}: too little to learn from"
        return f"price moved {r['spread']:.0%} over {int(r['price_levels'])} levels"

    out["verdict"] = out.apply(verdict, axis=1)
    # entities with no positive price at all
    all_e = pd.Index(panel[entity].unique()).difference(out.index)
    if len(all_e):
        extra = pd.DataFrame(index=all_e)
        extra["periods"] = 0
        extra["learnable"] = False
        extra["verdict"] = "no period with a positive price"
        if group:
            extra[group] = panel.drop_duplicates(entity).set_index(entity).loc[all_e, group]
        out = pd.concat([out, extra])
    out.index.name = entity
    return out.reset_index()


def variation_summary(diag: pd.DataFrame, group: str = "category") -> pd.DataFrame:
    """Per group: SKUs, how many can be learned from, and the typical price spread.

    Parameters
    ----------
    diag
        :func:`price_variation` output with ``group``, ``learnable``, ``spread``,
        ``promo_share`` (optional) and ``units`` (optional).

    Returns
    -------
    DataFrame
        ``group``, ``skus``, ``learnable``, ``not_learnable``, ``median_spread``
        (and ``median_promo_share``, ``units``).
    """
    _need(diag, [group, "learnable", "spread"])
    g = diag.groupby(group, observed=True, sort=True)
    out = pd.DataFrame(
        {
            "skus": g.size(),
            "learnable": g["learnable"].sum().astype(int),
            "median_spread": g["spread"].median(),
        }
    )
    out.insert(2, "not_learnable", out["skus"] - out["learnable"])
    if "promo_share" in diag:
        out["median_promo_share"] = g["promo_share"].median()
    if "units" in diag:
        out["units"] = g["units"].sum()
    return out.reset_index()


def promo_calendar(
    panel: pd.DataFrame,
    time: str,
    promo: str = "promo",
    group: str | None = "category",
    entity: str | None = None,
) -> pd.DataFrame:
    """Share of entities on promotion per period (and group).

    Parameters
    ----------
    panel
        Entity × period rows with ``time`` and a boolean ``promo`` column (and ``group``).

    Returns
    -------
    DataFrame
        Index ``time``; one column per group (or ``all``) holding the share of the rows
        of that period that were on promotion (``nan`` where nothing sold).
    """
    _need(panel, [time, promo, group])
    keys = [time] + ([group] if group else [])
    share = panel.groupby(keys, observed=True)[promo].mean().astype(float)
    if group:
        return share.unstack(group).sort_index()
    return share.to_frame("all").sort_index()
