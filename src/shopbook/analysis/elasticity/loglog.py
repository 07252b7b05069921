"""Own-price elasticity by log-log regression with absorbed fixed effects."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from shopbook.analysis.elasticity._common import alias, as_list, fe_columns, need, numeric_controls
from shopbook.analysis.elasticity._fe import fe_ols
from shopbook.analysis.elasticity._prepare import prepare
from shopbook.analysis.elasticity.fit import ElasticityFit, empty_fit, group_row, groups, settle


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
        one period with entity effects…) → ``nan`` estimate, a note saying why, and
        ``ok()`` false with that reason as ``why()``.

    Examples
    --------
    >>> fit = fit_loglog(panel, "units", "avg_price", "sku", "week", by="category")
    >>> fit.table[["category", "elasticity", "ci_low", "ci_high"]]   # doctest: +SKIP
    """
    cluster_col = alias(cluster, entity, time)
    fe_cols = fe_columns(fixed_effects, entity, time)
    extra = [*controls, *fe_cols, *([cluster_col] if cluster_col else []), *as_list(by)]
    need(panel, [quantity, price, entity, time, *extra])
    args = (quantity, price, entity, time, controls, fe_cols, cluster_col, level, extra)
    fit = _loglog_one(panel, *args)
    if by is not None:
        fit.table = pd.DataFrame(
            [group_row(key, _loglog_one(sub, *args), by) for key, sub in groups(panel, by)]
        )
    return settle(fit)


def _loglog_one(
    panel: pd.DataFrame,
    quantity: str,
    price: str,
    entity: str,
    time: str,
    controls: Sequence[str],
    fe_cols: list[str],
    cluster_col: str | None,
    level: float,
    extra: list[str],
) -> ElasticityFit:
    df, counts, notes = prepare(panel, quantity, price, entity, time, extra)
    df, ctrl = numeric_controls(df, controls)
    fit = empty_fit(df, counts, notes, "loglog", level)
    if len(df) < 2:
        notes.append("Fewer than two usable rows: nothing to estimate.")
        return fit
    params, info, more = fe_ols(df, "_lq", ["_lp", *ctrl], fe_cols, cluster_col, level)
    notes.extend(more)
    params["term"] = [price if t == "_lp" else t for t in params["term"]]
    fit.params = params
    fit.n_clusters = info["n_clusters"]
    first = params.iloc[0]
    fit.elasticity, fit.se = float(first["estimate"]), float(first["se"])
    fit.ci = (float(first["ci_low"]), float(first["ci_high"]))
    return fit
