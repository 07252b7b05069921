"""Own-price elasticity by double machine learning (partially linear model).

DML is written on scikit-learn (``cross_val_predict`` with a seeded, cluster-respecting
split) rather than DoubleML: the partialling-out estimator of the partially linear
model is a residual-on-residual regression, DoubleML would add plotly and its own data
classes, and we want the final stage to share the clustered covariance of the
fixed-effects fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import (
    alias,
    as_list,
    codes,
    crit,
    fe_columns,
    need,
)
from shopbook.analysis.elasticity._fe import absorb
from shopbook.analysis.elasticity._prepare import prepare
from shopbook.analysis.elasticity.fit import ElasticityFit, empty_fit, group_row, groups, settle


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
    nums = pd.to_numeric(values, errors="coerce")
    if nums.isna().any():
        nums = pd.Series(codes(values), index=values.index)
    return pd.DataFrame({"_t_index": nums.astype(float).to_numpy()}, index=values.index)


def _default_learner(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=60,
        learning_rate=0.15,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=seed,
    )


@dataclass
class _Settings:
    """What one DML fit needs besides the panel (shared by the pooled and group fits)."""

    quantity: str
    price: str
    entity: str
    time: str
    controls: Sequence[str]
    fe_cols: list[str]
    cluster_col: str | None
    extra: list[str]
    learner_y: Any
    learner_d: Any
    n_folds: int
    n_rep: int
    time_features: bool
    seed: int
    level: float


@dataclass
class _CrossFit:
    """The per-repetition results of cross-fitting."""

    thetas: list[float] = field(default_factory=list)
    ses: list[float] = field(default_factory=list)
    r2y: list[float] = field(default_factory=list)
    r2d: list[float] = field(default_factory=list)
    resid_share: list[float] = field(default_factory=list)


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
        nuisance models and the share of price variation left after partialling out;
        ``ok()`` false (with the reason) when nothing was identified.
    """
    cluster_col = alias(cluster, entity, time)
    fe_cols = fe_columns(fixed_effects, entity, time)
    extra = [*controls, *fe_cols, *([cluster_col] if cluster_col else []), *as_list(by)]
    need(panel, [quantity, price, entity, time, *extra])
    if time_features is None:
        time_features = time not in fe_cols
    # threadpoolctl limits only libraries already loaded: load the learners' OpenMP first
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    s = _Settings(
        quantity=quantity,
        price=price,
        entity=entity,
        time=time,
        controls=controls,
        fe_cols=fe_cols,
        cluster_col=cluster_col,
        extra=extra,
        learner_y=learner_y,
        learner_d=learner_d,
        n_folds=n_folds,
        n_rep=n_rep,
        time_features=time_features,
        seed=seed,
        level=level,
    )
    with threadpool_limits(limits=n_threads):
        fit = _dml_one(panel, s)
        if by is not None:
            fit.table = pd.DataFrame(
                [group_row(key, _dml_one(sub, s), by) for key, sub in groups(panel, by)]
            )
    return settle(fit)


def _dml_one(panel: pd.DataFrame, s: _Settings) -> ElasticityFit:
    df, counts, notes = prepare(panel, s.quantity, s.price, s.entity, s.time, s.extra)
    fit = empty_fit(df, counts, notes, "dml", s.level)
    fold_key = df[s.cluster_col] if s.cluster_col else pd.Series(np.arange(len(df)), index=df.index)
    n_groups = int(fold_key.nunique())
    folds = min(s.n_folds, n_groups)
    if len(df) < 10 or folds < 2:
        notes.append(
            f"{len(df)} usable rows in {n_groups} {s.cluster_col or 'row'} groups: too few to "
            "cross-fit, nothing estimated."
        )
        return fit
    feats, numeric = _features(df, s, notes)
    fes = [codes(df[f]) for f in s.fe_cols]
    yd_d = absorb(df[["_lq", "_lp"]].to_numpy(float), fes)
    y, d = yd_d[:, 0], yd_d[:, 1]
    if numeric and fes:
        # within transformation of the numeric controls too (as OLS with the same fixed
        # effects does, Frisch–Waugh–Lovell): the learners then see each SKU's demand
        # history relative to its own level and the week's, like the absorbed outcome
        feats[numeric] = absorb(feats[numeric].to_numpy(float), fes)
    if d.std() < 1e-9:
        notes.append("Price does not vary once the fixed effects are absorbed: not identified.")
        return fit
    groups_ = codes(fold_key)
    cf = _crossfit(feats.to_numpy(float), y, d, groups_, folds, s)
    _finish(fit, cf, n_groups, folds, list(feats.columns), s)
    return fit


def _features(df: pd.DataFrame, s: _Settings, notes: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The learners' features (controls, calendar) and which of them are numeric."""
    feats = pd.DataFrame(index=df.index)
    numeric: list[str] = []
    for c in s.controls:
        col = df[c]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            feats[c] = col.astype(float)
            numeric.append(c)
        else:
            feats[c] = codes(col.astype(str)).astype(float)
    if s.time_features:
        feats = feats.join(_time_features(df[s.time]))
    if feats.shape[1] == 0:
        notes.append("No controls: DML reduces to OLS on the data with fixed effects absorbed.")
        feats["_const"] = 0.0
    return feats, numeric


def _crossfit(
    X: np.ndarray, y: np.ndarray, d: np.ndarray, groups_: np.ndarray, folds: int, s: _Settings
) -> _CrossFit:
    """Cross-fitted residual-on-residual slopes, once per repetition."""
    import statsmodels.api as sm
    from sklearn.base import clone
    from sklearn.model_selection import PredefinedSplit, cross_val_predict

    cf = _CrossFit()
    for rep in range(s.n_rep):
        rng = np.random.default_rng(s.seed + rep)
        fold_of_group = rng.permutation(int(groups_.max()) + 1) % folds
        cv = PredefinedSplit(fold_of_group[groups_])
        ly = clone(s.learner_y) if s.learner_y is not None else _default_learner(s.seed + rep)
        ld = clone(s.learner_d) if s.learner_d is not None else _default_learner(s.seed + rep)
        y_hat = cross_val_predict(ly, X, y, cv=cv)
        d_hat = cross_val_predict(ld, X, d, cv=cv)
        ry, rd = y - y_hat, d - d_hat
        if s.cluster_col:
            res = sm.OLS(ry, rd).fit(
                cov_type="cluster", cov_kwds={"groups": groups_, "use_correction": True}
            )
        else:
            res = sm.OLS(ry, rd).fit(cov_type="HC1")
        cf.thetas.append(float(res.params[0]))
        cf.ses.append(float(res.bse[0]))
        cf.r2y.append(1 - ry.var() / y.var())
        cf.r2d.append(1 - rd.var() / d.var())
        cf.resid_share.append(rd.var() / d.var())
    return cf


def _finish(
    fit: ElasticityFit,
    cf: _CrossFit,
    n_groups: int,
    folds: int,
    features: list[str],
    s: _Settings,
) -> None:
    """Aggregate the repetitions into ``fit`` (estimate, interval, diagnostics, notes)."""
    theta = float(np.median(cf.thetas))
    # median aggregation of repeated cross-fitting (Chernozhukov et al. 2018, §3.4)
    se = float(np.sqrt(np.median(np.asarray(cf.ses) ** 2 + (np.asarray(cf.thetas) - theta) ** 2)))
    dof = (n_groups - 1) if s.cluster_col else None
    c = crit(s.level, dof)
    fit.elasticity, fit.se, fit.ci = theta, se, (theta - c * se, theta + c * se)
    fit.n_clusters = n_groups if s.cluster_col else None
    fit.diagnostics = {
        "r2_quantity": float(np.median(cf.r2y)),
        "r2_price": float(np.median(cf.r2d)),
        "price_variation_left": float(np.median(cf.resid_share)),
        "features": features,
        "n_folds": folds,
        "n_rep": s.n_rep,
    }
    if np.median(cf.resid_share) < 0.05:
        fit.notes.append(
            f"The controls predict {1 - np.median(cf.resid_share):.0%} of the price variation: "
            "little independent price movement is left, so the estimate is fragile."
        )
    fit.params = pd.DataFrame(
        [
            {
                "term": s.price,
                "estimate": theta,
                "se": se,
                "ci_low": fit.ci[0],
                "ci_high": fit.ci[1],
                "p_value": np.nan,
            }
        ]
    )
