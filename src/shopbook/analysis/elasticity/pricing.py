"""From an elasticity to a price: optimal and recommended prices, and the SKU to price."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import need
from shopbook.analysis.elasticity.fit import ElasticityFit
from shopbook.analysis.result import Result
from shopbook.i18n import _, translate

#: Where the recommendation sits in the observed range, in plain words (translated when read).
POSITION = {
    None: _("inside the observed range"),
    "upper": _("at the highest price it ever sold at"),
    "lower": _("at the lowest price it ever sold at"),
}
#: Why the best price in range is today's, by where it sits (``PriceRecommendation.why_keep``).
KEEP_WHY = {
    None: _("today's price is already the most profitable one in the range it has sold at"),
    "upper": _(
        "the model would raise it, but it has never sold above today's price, so the data cannot "
        "vouch for a higher one: test a small rise before making it"
    ),
    "lower": _(
        "the model would cut it, but it has never sold below today's price, so the data cannot "
        "vouch for a lower one: test a small cut before making it"
    ),
}


@dataclass
class PriceRecommendation(Result):
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
    sku
        The entity priced (set by :func:`recommend_price`).
    table
        The curves (also :attr:`curve`): ``price``, ``quantity_index`` (1 at the current
        price), ``revenue_index``, ``profit_index`` (revenue and gross profit relative
        to current revenue) and their ``_low``/``_high`` bands from the elasticity
        interval.
    notes
        Plain sentences about bounds and assumptions.
    problems
        Why no price could be recommended (:func:`recommend_price`).
    """

    price: float = math.nan
    unconstrained_price: float = math.nan
    at_bound: str | None = None
    bounds: tuple[float, float] = (math.nan, math.nan)
    price_range: tuple[float, float] = (math.nan, math.nan)
    current_price: float = math.nan
    elasticity: float = math.nan
    elasticity_ci: tuple[float, float] | None = None
    unit_cost: float = math.nan
    profit_change: float = math.nan
    revenue_change: float = math.nan
    sku: Any = None

    @property
    def curve(self) -> pd.DataFrame:
        """The revenue and profit curves (the result's :attr:`table`)."""
        return self.table

    @property
    def position(self) -> str:
        """Where the price sits in the observed range, in plain words (:data:`POSITION`)."""
        return translate(POSITION[self.at_bound])

    @property
    def keep(self) -> bool:
        """Whether the recommendation is today's price (to the cent): "keep the price", not a move.

        It happens when today's price is the highest (or lowest) the SKU has sold at and
        the model would go beyond it: the recommendation stops at the edge of the data,
        which is today's price. A move of less than half a cent reads as no move.
        """
        return bool(np.isfinite(self.price)) and abs(self.price - self.current_price) < 0.005

    @property
    def why_keep(self) -> str:
        """Why today's price stays (:data:`KEEP_WHY`), in the current language."""
        return translate(KEEP_WHY[self.at_bound])


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
    lo, hi = (float(price_bounds[0]), float(price_bounds[1]))
    p0, c = float(current_price), float(unit_cost)
    _check(e, lo, hi, p0, c, price_bounds, current_price, unit_cost)
    best, unc, where = _best_price(e, c, lo, hi)
    notes = _notes(e, c, lo, hi, p0, where)
    grid = np.linspace(lo, hi, n_grid)
    if lo <= p0 <= hi and p0 not in grid:
        grid = np.sort(np.append(grid, p0))
    curve, prange = _curves(grid, e, c, p0, elasticity_ci, (lo, hi), best)
    q_best = (best / p0) ** e
    profit0 = p0 - c
    profit_change = ((best - c) * q_best - profit0) / abs(profit0) if profit0 != 0 else math.nan
    revenue_change = best * q_best / p0 - 1
    # float noise off (at today's price the changes are 0, not -1e-16, which shows as "-0%")
    profit_change, revenue_change = (round(x, 12) + 0.0 for x in (profit_change, revenue_change))
    return PriceRecommendation(
        price=best,
        unconstrained_price=unc,
        at_bound=where,
        bounds=(lo, hi),
        price_range=prange,
        current_price=p0,
        elasticity=e,
        elasticity_ci=(float(elasticity_ci[0]), float(elasticity_ci[1])) if elasticity_ci else None,
        unit_cost=c,
        profit_change=profit_change,
        revenue_change=revenue_change,
        table=curve,
        notes=notes,
    )


def _check(
    e: float,
    lo: float,
    hi: float,
    p0: float,
    c: float,
    price_bounds: Any,
    current_price: Any,
    unit_cost: Any,
) -> None:
    """Raise ``ValueError`` for inputs no price can be recommended from."""
    if not np.isfinite(e):
        raise ValueError(
            "elasticity is not finite: it was not identified, so no price can be recommended"
        )
    if not (lo > 0 and hi >= lo):
        raise ValueError(f"price_bounds must satisfy 0 < low ≤ high, got {price_bounds}")
    if p0 <= 0:
        raise ValueError(f"current_price must be > 0, got {current_price}")
    if not np.isfinite(c) or c < 0:
        raise ValueError(f"unit_cost must be a number ≥ 0, got {unit_cost}")


def _notes(e: float, c: float, lo: float, hi: float, p0: float, where: str | None) -> list[str]:
    """Sentences about the current price, the bounds and the cost."""
    notes: list[str] = []
    if not lo <= p0 <= hi:
        notes.append(
            _(
                "The current price {p:g} lies outside the observed range [{lo:g}, {hi:g}]; "
                "curves are indexed to it but drawn only inside the range."
            ).format(p=p0, lo=lo, hi=hi)
        )
    if where == "upper":
        notes.append(
            (
                _(
                    "The model would raise the price beyond the highest price observed (demand "
                    "is inelastic, ε ≥ −1, so profit keeps rising with price); the "
                    "recommendation stops at {hi:g}, the edge of the data."
                )
                if e >= -1
                else _(
                    "The model would raise the price beyond the highest price observed; the "
                    "recommendation stops at {hi:g}, the edge of the data."
                )
            ).format(hi=hi)
        )
    elif where == "lower":
        notes.append(
            _(
                "The model would cut the price below the lowest observed {lo:g}; it stops there."
            ).format(lo=lo)
        )
    if c >= hi:
        notes.append(
            _(
                "Unit cost {c:g} is at or above every observed price: every sale in range "
                "loses money."
            ).format(c=c)
        )
    return notes


def _curves(
    grid: np.ndarray,
    e: float,
    c: float,
    p0: float,
    elasticity_ci: tuple[float, float] | None,
    bounds: tuple[float, float],
    best: float,
) -> tuple[pd.DataFrame, tuple[float, float]]:
    """The indexed curves (with bands from ``elasticity_ci``) and the range of best prices."""
    base_rev = p0  # index: current revenue per current unit = p0

    def curves(el: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        qi = (grid / p0) ** el
        return qi, grid * qi / base_rev, (grid - c) * qi / base_rev

    qi, ri, pi = curves(e)
    curve = pd.DataFrame(
        {"price": grid, "quantity_index": qi, "revenue_index": ri, "profit_index": pi}
    )
    if elasticity_ci is None:
        return curve, (best, best)
    e_lo, e_hi = sorted(map(float, elasticity_ci))
    bands = [curves(x) for x in (e_lo, e_hi)]
    for name, k in (("quantity_index", 0), ("revenue_index", 1), ("profit_index", 2)):
        stack = np.vstack([bands[0][k], bands[1][k]])
        curve[f"{name}_low"] = stack.min(axis=0)
        curve[f"{name}_high"] = stack.max(axis=0)
    ends = [_best_price(x, c, *bounds)[0] for x in (e_lo, e_hi)]
    return curve, (min(ends), max(ends))


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
        The entity to price; ``None`` (what :func:`pick_sku` returns when no SKU has an
        estimate) gives a skipped result.

    Returns
    -------
    PriceRecommendation
        With ``sku`` set. Skipped (``ok()`` false, the reason in ``why()``) when the SKU
        has no estimate, no usable price or no unit cost.
    """
    need(panel, [quantity, price, entity, time, cost])
    if sku is None:
        return PriceRecommendation.skipped("no SKU has its own elasticity")
    rows = panel[(panel[entity] == sku) & (panel[price] > 0) & (panel[quantity] > 0)].sort_values(
        time
    )
    if rows.empty:
        why = f"{entity} {sku!r} has no period with a positive price and quantity"
        return PriceRecommendation.skipped(why, sku=sku)
    est = estimates[estimates[entity] == sku]
    if est.empty:
        return PriceRecommendation.skipped(f"no elasticity estimate for {entity} {sku!r}", sku=sku)
    r = est.iloc[0]
    if "shrunk" in est and np.isfinite(r.get("shrunk", np.nan)):
        e, ci = float(r["shrunk"]), (float(r["shrunk_ci_low"]), float(r["shrunk_ci_high"]))
    else:
        e, ci = float(r["elasticity"]), (float(r["ci_low"]), float(r["ci_high"]))
    if not np.isfinite(e):
        why = f"the elasticity of {entity} {sku!r} was not identified: {r.get('note', '')}"
        return PriceRecommendation.skipped(why.strip(), sku=sku)
    costed = rows[rows[cost].notna()].tail(recent_periods)
    if costed.empty:
        why = f"{entity} {sku!r} has no unit cost: gross profit cannot be computed"
        return PriceRecommendation.skipped(why, sku=sku)
    unit_cost = float(np.average(costed[cost], weights=costed[quantity]))
    rec = optimal_price(
        e,
        unit_cost=unit_cost,
        current_price=float(rows[price].iloc[-1]),
        price_bounds=(float(rows[price].min()), float(rows[price].max())),
        elasticity_ci=ci if all(np.isfinite(ci)) else None,
    )
    rec.sku = sku
    return rec


def pick_sku(
    estimates: pd.DataFrame,
    panel: pd.DataFrame,
    category: Any,
    sku: Any = "",
    estimate: str = "shrunk",
    quantity: str = "units",
    entity: str = "sku",
    group: str = "category",
) -> Any:
    """The SKU to price: ``sku`` when it has an estimate, else the category's best seller.

    Parameters
    ----------
    estimates
        One row per entity with ``entity``, ``group`` and ``estimate`` (e.g. the output
        of :func:`shrink`); rows with a missing estimate cannot be priced.
    panel
        Entity × period rows with ``entity`` and ``quantity`` (units sold, summed per
        entity to find the best seller).
    category
        The group to pick from; when none of its SKUs has an estimate, every SKU with
        an estimate is a candidate.
    sku
        The SKU asked for (``""``: none); used when it has an estimate.

    Returns
    -------
    The chosen SKU, or ``None`` when no SKU has an estimate.
    """
    need(estimates, [entity, group, estimate])
    need(panel, [entity, quantity])
    ok = estimates.dropna(subset=[estimate])
    if not len(ok):
        return None
    pool = ok[ok[group] == category] if (ok[group] == category).any() else ok
    units = panel.groupby(entity)[quantity].sum()
    return sku if sku in set(ok[entity]) else units.reindex(pool[entity]).idxmax()
