"""What price variation there is to learn from: per SKU, per group, per period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import CONSTANT_PRICE_TOL, need


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
    need(panel, cols)
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


def variation_by_group(diag: pd.DataFrame, group: str = "category") -> pd.DataFrame:
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
    need(diag, [group, "learnable", "spread"])
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
    need(panel, [time, promo, group])
    keys = [time] + ([group] if group else [])
    share = panel.groupby(keys, observed=True)[promo].mean().astype(float)
    if group:
        return share.unstack(group).sort_index()
    return share.to_frame("all").sort_index()
