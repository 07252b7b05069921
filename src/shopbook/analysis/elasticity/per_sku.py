"""One elasticity per SKU, and empirical-Bayes shrinkage toward its category."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import FLAT_LOG_SPREAD, need, numeric_controls
from shopbook.analysis.elasticity._fe import fe_ols_hc
from shopbook.analysis.elasticity._prepare import prepare


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
    df, _counts, _notes = prepare(panel, quantity, price, entity, time, extra)
    df, ctrl = numeric_controls(df, controls)
    out: list[dict[str, Any]] = []
    parts = df.groupby(group, observed=True, sort=True) if group else [(None, df)]
    for gkey, sub in parts:
        keyed = {group: gkey} if group else {}
        out.extend(
            _group_rows(sub, keyed, entity, time, ctrl, min_periods, level),
        )
    res = _with_unusable(pd.DataFrame(out), panel, entity, group)
    sort = [group, entity] if group else [entity]
    return res.sort_values(sort, kind="stable").reset_index(drop=True)


def _row(
    e: Any, keyed: dict[str, Any], entity: str, r: pd.Series, p: Any, note: str
) -> dict[str, Any]:
    """One output row: the entity, its group, estimate ``p`` (or ``None``) and its support."""
    est = {k: (np.nan if p is None else p[k]) for k in ("estimate", "se", "ci_low", "ci_high")}
    return {
        entity: e,
        **keyed,
        "elasticity": est["estimate"],
        "se": est["se"],
        "ci_low": est["ci_low"],
        "ci_high": est["ci_high"],
        "n_obs": int(r["size"]),
        "price_min": float(np.exp(r["min"])),
        "price_max": float(np.exp(r["max"])),
        "note": note,
    }


def _group_rows(
    sub: pd.DataFrame,
    keyed: dict[str, Any],
    entity: str,
    time: str,
    ctrl: list[str],
    min_periods: int,
    level: float,
) -> list[dict[str, Any]]:
    """The rows of one group: entities that cannot be estimated first, then the slopes."""
    stats_ = sub.groupby(entity, observed=True)["_lp"].agg(["size", "min", "max"])
    ok = stats_[(stats_["size"] >= min_periods) & (stats_["max"] - stats_["min"] > FLAT_LOG_SPREAD)]
    out = []
    for e, r in stats_.iterrows():
        if e not in ok.index:
            note = (
                f"only {int(r['size'])} usable {time}s (< {min_periods})"
                if r["size"] < min_periods
                else "price never changed: elasticity cannot be learned"
            )
            out.append(_row(e, keyed, entity, r, None, note))
    if ok.empty:
        return out
    sub = sub.copy()
    slopes: list[tuple[Any, str]] = []
    for e in ok.index:
        col = f"_slope_{len(slopes)}"
        sub[col] = np.where(sub[entity] == e, sub["_lp"], 0.0)
        slopes.append((e, col))
    fe = [entity] + ([time] if sub[time].nunique() > 1 else [])
    params = fe_ols_hc(sub, "_lq", [c for _, c in slopes] + ctrl, fe, level)
    for (e, _col), (_, p) in zip(slopes, params.iloc[: len(slopes)].iterrows(), strict=True):
        note = "" if np.isfinite(p["estimate"]) else "not identified"
        out.append(_row(e, keyed, entity, stats_.loc[e], p, note))
    return out


def _with_unusable(
    res: pd.DataFrame, panel: pd.DataFrame, entity: str, group: str | None
) -> pd.DataFrame:
    """``res`` plus a row for each entity with no usable row at all (every row ≤ 0 or missing)."""
    all_entities = panel[[entity, *([group] if group else [])]].drop_duplicates(subset=[entity])
    seen = set(res[entity]) if len(res) else set()
    for _, r in all_entities.iterrows():
        if r[entity] not in seen:
            row = {
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
            res = pd.concat([res, pd.DataFrame([row])], ignore_index=True)
    return res


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

    need(estimates, [estimate, se, group])
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
