"""Product roles, ABC/XYZ classes, safety stock and stock warnings.

Works on the small per-SKU frame of :func:`shopbook.features.products.sku_features`
(one row per SKU). Stock-out episodes are found in the engine by
:func:`shopbook.features.stock.stockouts`.

ABC/XYZ (:func:`abc_xyz`)
    **ABC** ranks SKUs by a value (revenue by default) and cuts the cumulative share of
    the total: with ``abc=(0.8, 0.95)`` a SKU is **A** when the SKUs ranked strictly
    above it hold less than 80 % of the value, **B** when they hold less than 95 %, else
    **C** — so the SKU that crosses 80 % is still A and there is always at least one A.
    *Ties*: SKUs with equal value share a rank and get the class of the first of them
    (the share "strictly above" is the same for all of them). SKUs with a value of 0 or
    less are **C** (a negative gross profit does not reduce the positive total the shares
    are taken of); a missing value (no cost known) gets no class (missing).
    **XYZ** uses the coefficient of variation of weekly demand, ``cv = weekly_sd /
    weekly_mean``: **X** when ``cv ≤ 0.5``, **Y** when ``cv ≤ 1.0``, else **Z** (a value
    on a threshold goes to the steadier class). *Zero demand*: a SKU without sales in
    the weeks counted has no CV (missing) and is **Z**; a SKU with fewer than two weeks
    of history is **Z** too (no spread can be measured).

Roles (:func:`product_roles`)
    A small table of thresholds (:data:`ROLE_RULES`, shown by :func:`role_rules`; pass
    ``rules={...}`` to change one): **hot** = among the top ``hot_top_share`` of SKUs by
    units with a margin of at least ``hot_min_margin``; **profit** = the SKUs that,
    largest first, make up ``profit_share`` of gross profit (same crossing rule as ABC);
    **long tail** = the smallest SKUs by revenue that together make up no more than
    ``long_tail_share`` of it. A SKU may meet several; its ``role`` is the first it meets
    in the order hot, profit, long tail, else **core**.

Safety stock and warnings (:func:`safety_stock`, :func:`reorder_point`, :func:`stock_warnings`)
    The textbook formula with demand and lead time both uncertain (independent):
    ``SS = z · sqrt(L · σd² + d² · σL²)`` with ``z = Φ⁻¹(service_level)`` (cycle service
    level), ``d``/``σd`` the daily demand mean/sd, ``L``/``σL`` the lead time mean/sd in
    days; ``ROP = d · L + SS``. Warning levels, the first that applies:

    ========  =============================================================
    red       on hand is 0 (stocked out) or below the safety stock
    amber     inventory position (on hand + on order) below the reorder point
    green     otherwise
    unknown   no stock record, or no lead time and no default given
    ========  =============================================================

    plus ``overstock`` (independent of the level) when days of cover exceed
    ``overstock_days``. Each SKU gets a ``reason`` in words.

The stock date (:func:`stock_dates`)
    Stock is the latest snapshot on or before the report's ``end``. When that snapshot is
    older than the demand window it is divided by, or more than
    :data:`STOCK_MAX_AGE_DAYS` before ``end``, cover and overstock compare old stock
    with recent demand: :func:`stock_dates` says how old, and its ``as_of`` label goes
    next to those figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from shopbook.analysis.result import Result
from shopbook.features.periods import resolve_window
from shopbook.i18n import _

#: Editable thresholds of :func:`product_roles`.
ROLE_RULES: dict[str, float] = {
    "hot_top_share": 0.10,
    "hot_min_margin": 0.40,
    "profit_share": 0.50,
    "long_tail_share": 0.20,
}
_ROLE_TEXT = {
    "hot_top_share": _("hot: SKU is in this top share of SKUs by units sold"),
    "hot_min_margin": _("hot: and its gross margin is at least this"),
    "profit_share": _(
        "profit: the largest SKUs by gross profit that together make this share of it"
    ),
    "long_tail_share": _(
        "long tail: the smallest SKUs by revenue that together make at most this share of it"
    ),
}
ROLES = ("hot", "profit", "long tail", "core")
LEVELS = ("red", "amber", "green", "unknown")

#: Most days a stock snapshot may lie before ``end`` before cover is labelled with its
#: date: a week, the longest count interval of the usual stock feeds (daily snapshots, a
#: weekly stocktake at worst) — an older snapshot has missed at least one count, so the
#: goods sold since are still counted as on hand. The weekly job's ``max_age_days`` is 7
#: for the same reason.
STOCK_MAX_AGE_DAYS = 7


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} needs columns {', '.join(columns)}; missing: {', '.join(missing)} "
            "(build the frame with shopbook.features.products.sku_features)"
        )


def share_above(values: pd.Series) -> pd.Series:
    """Share of the positive total held by the values *strictly* larger than each one.

    Ties get the same share; values ≤ 0 and missing values count 0 towards the total.

    Parameters
    ----------
    values
        One value per row (any index).

    Returns
    -------
    pandas.Series
        Same index, floats in [0, 1]; missing where ``values`` is missing. All 1.0 when
        the positive total is 0.
    """
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    pos = v.clip(lower=0).fillna(0.0)
    total = pos.sum()
    if total <= 0:
        return pd.Series(np.where(v.isna(), np.nan, 1.0), index=values.index)
    order = np.sort(pos.to_numpy())[::-1]
    cum = np.concatenate([[0.0], np.cumsum(order)])
    # number of values strictly greater than each value, via a search in the sorted (desc) array
    n_greater = len(order) - np.searchsorted(order[::-1], pos.to_numpy(), side="right")
    out = cum[n_greater] / total
    return pd.Series(np.where(v.isna(), np.nan, out), index=values.index)


def abc_xyz(
    skus: pd.DataFrame,
    value: str = "revenue",
    abc: tuple[float, float] = (0.8, 0.95),
    xyz: tuple[float, float] = (0.5, 1.0),
) -> pd.DataFrame:
    """ABC class by cumulative share of ``value``; XYZ class by the CV of weekly demand.

    Parameters
    ----------
    skus
        One row per SKU with ``sku``, ``value``, ``weekly_mean``, ``weekly_sd`` and
        ``weeks`` (number of weeks the mean/sd are over; optional, assumed ≥ 2).
    value
        The column ranked for ABC (``"revenue"``, ``"gross_profit"``, ``"units"``).
    abc
        Cut-offs ``(a, b)`` of the cumulative share, ``0 < a < b ≤ 1``.
    xyz
        Cut-offs ``(x, y)`` of the coefficient of variation, ``0 < x < y``.

    Returns
    -------
    pandas.DataFrame
        ``skus`` with ``share`` (of the positive total), ``share_above``, ``abc``,
        ``cv``, ``xyz`` and ``class`` (e.g. ``"AX"``; missing without an ABC class),
        ordered by ``value`` descending then SKU. Rules in the module docstring.

    Raises
    ------
    ValueError
        On missing columns or invalid cut-offs.
    """
    _require(skus, ["sku", value, "weekly_mean", "weekly_sd"], "abc_xyz")
    a, b = abc
    if not 0 < a < b <= 1:
        raise ValueError(f"abc cut-offs must satisfy 0 < a < b <= 1, found {abc}")
    x, y = xyz
    if not 0 < x < y:
        raise ValueError(f"xyz cut-offs must satisfy 0 < x < y, found {xyz}")
    out = skus.copy()
    v = pd.to_numeric(out[value], errors="coerce").astype("float64")
    total = v.clip(lower=0).sum()
    out["share"] = v.clip(lower=0) / total if total > 0 else 0.0
    out["share_above"] = share_above(v)
    cls = np.select([out["share_above"] < a, out["share_above"] < b], ["A", "B"], "C").astype(
        object
    )
    cls[(v <= 0).to_numpy()] = "C"
    cls[v.isna().to_numpy()] = None
    out["abc"] = cls
    mean = out["weekly_mean"].astype("float64")
    sd = out["weekly_sd"].astype("float64")
    weeks = out["weeks"].astype("float64") if "weeks" in out else pd.Series(2.0, index=out.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["cv"] = np.where((mean > 0) & (weeks >= 2), sd / mean, np.nan)
    out["xyz"] = np.select([out["cv"] <= x, out["cv"] <= y], ["X", "Y"], "Z")
    out["class"] = [
        f"{p}{q}" if p is not None else None for p, q in zip(out["abc"], out["xyz"], strict=True)
    ]
    out["_v"] = v
    out = out.sort_values(
        ["_v", "sku"], ascending=[False, True], na_position="last", ignore_index=True
    )
    return out.drop(columns="_v")


def abc_xyz_matrix(
    classes: pd.DataFrame, measure: str = "count", value: str | None = None
) -> pd.DataFrame:
    """The 3 × 3 ABC × XYZ table: SKUs per cell (or the sum of ``value``).

    Parameters
    ----------
    classes
        :func:`abc_xyz` output (``abc``, ``xyz``).
    measure
        ``"count"`` (SKUs) or ``"sum"`` (of ``value``).
    value
        The column summed with ``measure="sum"``.

    Returns
    -------
    pandas.DataFrame
        Index A, B, C; columns X, Y, Z; zeros for empty cells.
    """
    c = classes.dropna(subset=["abc"])
    if measure == "count":
        m = pd.crosstab(c["abc"], c["xyz"])
    elif measure == "sum" and value:
        m = c.pivot_table(index="abc", columns="xyz", values=value, aggfunc="sum", fill_value=0)
    else:
        raise ValueError("measure must be 'count', or 'sum' with a value column")
    return m.reindex(index=list("ABC"), columns=list("XYZ"), fill_value=0).rename_axis(
        index="ABC", columns="XYZ"
    )


def role_rules(rules: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The role thresholds as a table (``rule``, ``threshold``, ``meaning``)."""
    r = {**ROLE_RULES, **(rules or {})}
    return pd.DataFrame(
        {
            "rule": list(r),
            "threshold": list(r.values()),
            "meaning": [_ROLE_TEXT.get(k, "") for k in r],
        }
    )


def product_roles(skus: pd.DataFrame, rules: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Hot, profit, long-tail and core products.

    Parameters
    ----------
    skus
        One row per SKU with ``sku``, ``units``, ``revenue``, ``gross_profit`` and
        ``margin`` (missing when no cost is known: such a SKU cannot be hot or profit).
    rules
        Overrides of :data:`ROLE_RULES` (unknown keys raise).

    Returns
    -------
    pandas.DataFrame
        ``skus`` with boolean ``hot``, ``profit``, ``long_tail`` and the primary
        ``role`` (one of :data:`ROLES`); same order as ``skus``.
    """
    _require(skus, ["sku", "units", "revenue", "gross_profit", "margin"], "product_roles")
    unknown = set(rules or {}) - set(ROLE_RULES)
    if unknown:
        raise ValueError(f"unknown role rules {sorted(unknown)}; known: {', '.join(ROLE_RULES)}")
    r = {**ROLE_RULES, **(rules or {})}
    out = skus.copy()
    n = len(out)
    units = out["units"].astype("float64")
    # top share by units: rank with ties sharing the best rank ("min"), so equal sellers agree
    rank = units.rank(method="min", ascending=False)
    top = (rank <= max(1, int(np.ceil(r["hot_top_share"] * n)))) & (units > 0)
    out["hot"] = top & (out["margin"].astype("float64") >= r["hot_min_margin"]).fillna(False)
    gp = out["gross_profit"].astype("float64")
    out["profit"] = ((share_above(gp) < r["profit_share"]) & (gp > 0)).fillna(False).astype(bool)
    rev = out["revenue"].astype("float64").clip(lower=0)
    tot = rev.sum()
    # share of revenue held by SKUs at or below each SKU's revenue (ties included)
    below = 1.0 - share_above(rev) if tot > 0 else pd.Series(1.0, index=out.index)
    out["long_tail"] = (below <= r["long_tail_share"] + 1e-12) & ~out["hot"] & ~out["profit"]
    out["role"] = np.select(
        [out["hot"], out["profit"], out["long_tail"]], list(ROLES[:3]), ROLES[3]
    )
    return out


def _as_array(x: Any) -> np.ndarray:
    return np.asarray(x, dtype="float64")


def service_z(service_level: float) -> float:
    """``z = Φ⁻¹(service_level)`` (scipy's ``norm.ppf``); the level must be in (0, 1)."""
    if not 0 < service_level < 1:
        raise ValueError(
            f"service_level must be between 0 and 1 (e.g. 0.95), found {service_level}"
        )
    return float(norm.ppf(service_level))


def safety_stock(
    mean_daily: Any,
    sd_daily: Any,
    lead_time_days: Any,
    service_level: float = 0.95,
    lead_time_sd: Any = 0,
) -> Any:
    """Safety stock ``z · sqrt(L · σd² + d² · σL²)``.

    Parameters
    ----------
    mean_daily, sd_daily
        Daily demand mean ``d`` and standard deviation ``σd`` (units per day).
    lead_time_days, lead_time_sd
        Lead time mean ``L`` and standard deviation ``σL`` (days).
    service_level
        Cycle service level, the probability of no stock-out in a replenishment cycle.

    Returns
    -------
    float or numpy.ndarray
        Units (not rounded); missing where an input is missing. A scalar for scalar input.

    Raises
    ------
    ValueError
        When ``service_level`` is not in (0, 1) or an input is negative.
    """
    z = service_z(service_level)
    d, sd, lt, ltsd = map(_as_array, (mean_daily, sd_daily, lead_time_days, lead_time_sd))
    for name, arr in (
        ("mean_daily", d),
        ("sd_daily", sd),
        ("lead_time_days", lt),
        ("lead_time_sd", ltsd),
    ):
        if np.any(arr[~np.isnan(arr)] < 0):
            raise ValueError(f"{name} must not be negative")
    ss = z * np.sqrt(lt * sd**2 + d**2 * ltsd**2)
    return float(ss) if np.ndim(ss) == 0 else ss


def reorder_point(
    mean_daily: Any,
    sd_daily: Any,
    lead_time_days: Any,
    service_level: float = 0.95,
    lead_time_sd: Any = 0,
) -> Any:
    """Reorder point ``d · L + safety_stock(...)``: expected lead-time demand plus safety stock.

    Parameters and returns as :func:`safety_stock`.
    """
    ss = safety_stock(mean_daily, sd_daily, lead_time_days, service_level, lead_time_sd)
    rop = _as_array(mean_daily) * _as_array(lead_time_days) + ss
    return float(rop) if np.ndim(rop) == 0 else rop


def stock_warnings(
    skus: pd.DataFrame,
    service_level: float = 0.95,
    lead_time_days: float | None = None,
    lead_time_sd: float = 0.0,
    overstock_days: float = 120.0,
) -> pd.DataFrame:
    """Red / amber / green stock warnings with the reason, and an overstock flag.

    Parameters
    ----------
    skus
        One row per SKU with ``sku``, ``mean_daily``, ``sd_daily``, ``on_hand``
        (nullable: no stock record) and ``lead_time_days`` (nullable); optional
        ``on_order`` (missing counts 0) and ``days_of_cover``.
    service_level
        Cycle service level of the safety stock.
    lead_time_days
        Lead time used for SKUs without one (``None``: such SKUs are ``unknown``).
    lead_time_sd
        Standard deviation of the lead time (days), the same for every SKU.
    overstock_days
        Days of cover above which a SKU is flagged ``overstock``.

    Returns
    -------
    pandas.DataFrame
        ``skus`` with ``safety_stock``, ``reorder_point``, ``position`` (on hand + on
        order), ``level`` (one of :data:`LEVELS`), ``overstock`` (bool) and ``reason``,
        ordered red, amber, unknown, green, then by days of cover.
    """
    _require(skus, ["sku", "mean_daily", "sd_daily", "on_hand", "lead_time_days"], "stock_warnings")
    out = skus.copy()
    lt = out["lead_time_days"].astype("float64")
    if lead_time_days is not None:
        lt = lt.fillna(float(lead_time_days))
    d = out["mean_daily"].astype("float64").fillna(0.0)
    sd = out["sd_daily"].astype("float64").fillna(0.0)
    out["lead_time_used"] = lt
    out["safety_stock"] = safety_stock(d, sd, lt, service_level, lead_time_sd)
    out["reorder_point"] = reorder_point(d, sd, lt, service_level, lead_time_sd)
    hand = out["on_hand"].astype("Float64").astype("float64")
    order = (
        out["on_order"].astype("Float64").astype("float64").fillna(0.0)
        if "on_order" in out
        else pd.Series(0.0, index=out.index)
    )
    out["position"] = hand + order
    if "days_of_cover" in out:
        cover = out["days_of_cover"].astype("float64")
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            cover = pd.Series(np.where(hand == 0, 0.0, hand / d), index=out.index)
    no_record = hand.isna()
    no_lead = lt.isna()
    out_of_stock = hand == 0
    below_ss = hand < out["safety_stock"]
    below_rop = out["position"] < out["reorder_point"]
    conds = [no_record, out_of_stock, no_lead, below_ss, below_rop]
    level = np.select(conds, ["unknown", "red", "unknown", "red", "amber"], "green")
    out["level"] = level
    out["overstock"] = (cover > overstock_days).fillna(False).to_numpy() & ~no_record.to_numpy()
    reasons = []
    for i in range(len(out)):
        h, s, p, r = (
            hand.iat[i],
            out["safety_stock"].iat[i],
            out["position"].iat[i],
            out["reorder_point"].iat[i],
        )
        if no_record.iat[i]:
            text = _("no stock record for this SKU")
        elif out_of_stock.iat[i]:
            text = _("stocked out: 0 on hand") + (
                _(", {n:,.0f} on order").format(n=order.iat[i]) if order.iat[i] > 0 else ""
            )
        elif no_lead.iat[i]:
            text = _("no lead time known: safety stock cannot be computed")
        elif below_ss.iat[i]:
            text = _("{h:,.0f} on hand is below the safety stock of {s:,.1f}").format(h=h, s=s)
        elif below_rop.iat[i]:
            text = _(
                "on hand + on order {p:,.0f} is below the reorder point of {r:,.1f}: order now"
            ).format(p=p, r=r)
        else:
            text = _("on hand + on order {p:,.0f} covers the reorder point of {r:,.1f}").format(
                p=p, r=r
            )
        if out["overstock"].iat[i]:
            text += _("; overstock: {c:,.0f} days of cover (over {o:,.0f})").format(
                c=cover.iat[i], o=overstock_days
            )
        reasons.append(text)
    out["reason"] = reasons
    order_key = out["level"].map({"red": 0, "amber": 1, "unknown": 2, "green": 3})
    out["_k"], out["_c"] = order_key, cover
    out = out.sort_values(["_k", "_c", "sku"], ignore_index=True).drop(columns=["_k", "_c"])
    out.attrs.update(skus.attrs)
    out.attrs.update(service_level=service_level, overstock_days=overstock_days)
    return out


def warning_counts(warnings: pd.DataFrame) -> pd.DataFrame:
    """SKUs per warning level (all of :data:`LEVELS`) and how many of them are overstocked."""
    g = warnings.groupby("level")
    counts = pd.DataFrame({"skus": g.size(), "overstock": g["overstock"].sum()}).reindex(
        list(LEVELS), fill_value=0
    )
    counts = counts.astype("int64").rename_axis("level").reset_index()
    counts["share"] = counts["skus"] / max(len(warnings), 1)
    return counts


def role_summary(roles: pd.DataFrame) -> pd.DataFrame:
    """SKUs per role and each role's share of units, revenue and gross profit.

    Parameters
    ----------
    roles
        :func:`product_roles` output (``role``, ``units``, ``revenue``, ``gross_profit``).

    Returns
    -------
    pandas.DataFrame
        ``role`` (all of :data:`ROLES`, in that order), ``skus``, ``units_share``,
        ``revenue_share``, ``profit_share`` (of the known gross profit; missing when none
        is known).
    """
    g = roles.groupby("role")
    out = pd.DataFrame(
        {
            "skus": g.size(),
            "units": g["units"].sum(),
            "revenue": g["revenue"].sum(),
            "gross_profit": g["gross_profit"].sum(min_count=1),
        }
    ).reindex(list(ROLES))
    out["skus"] = out["skus"].fillna(0).astype("int64")
    for col, name in (
        ("units", "units_share"),
        ("revenue", "revenue_share"),
        ("gross_profit", "profit_share"),
    ):
        total = roles[col].astype("float64").sum()
        out[name] = out[col].astype("float64").fillna(0.0) / total if total else np.nan
    return out.rename_axis("role").reset_index()[
        ["role", "skus", "units_share", "revenue_share", "profit_share"]
    ]


def key_products(roles: pd.DataFrame) -> pd.DataFrame:
    """The hot and profit products of a :func:`product_roles` frame, in its order."""
    return roles[roles["role"].isin(["hot", "profit"])]


def urgent(warnings: pd.DataFrame) -> pd.DataFrame:
    """The red and amber SKUs of :func:`stock_warnings`, in its order (red first)."""
    return warnings[warnings["level"].isin(["red", "amber"])]


def overstocked(warnings: pd.DataFrame) -> pd.DataFrame:
    """The overstocked SKUs of :func:`stock_warnings`, most days of cover first."""
    return warnings[warnings["overstock"]].sort_values("days_of_cover", ascending=False)


def stockout_summary(episodes: pd.DataFrame) -> dict[str, Any]:
    """Counts of stock-out episodes and the longest one.

    Parameters
    ----------
    episodes
        :func:`shopbook.features.stock.stockouts` output (``sku``, ``start``, ``days``,
        ``ongoing``).

    Returns
    -------
    dict
        ``episodes``, ``skus`` (SKUs with an episode), ``sku_days`` (days out of stock,
        summed), ``ongoing`` (episodes still running) and ``longest`` (the row of the
        longest episode, the earliest of equally long ones; ``None`` without episodes).
    """
    longest = (
        episodes.sort_values(["days", "start"], ascending=[False, True]).iloc[0]
        if len(episodes)
        else None
    )
    return {
        "episodes": len(episodes),
        "skus": episodes["sku"].nunique(),
        "sku_days": int(episodes["days"].sum()),
        "ongoing": int(episodes["ongoing"].sum()),
        "longest": longest,
    }


@dataclass(kw_only=True)
class StockDates(Result):
    """The days the stock figures rest on (:func:`stock_dates`).

    Skipped when there is no stock snapshot on or before ``end``.

    Attributes
    ----------
    end
        The last day counted (sales, demand and stock).
    requested_end, data_end
        The ``end`` asked for (``None``: none) and the data's last order day.
    snapshot
        The latest stock snapshot on or before ``end`` (``None``: none).
    age_days
        Days from ``snapshot`` to ``end``.
    demand_start
        First day of the recent demand window the stock is divided by.
    stale
        Whether the snapshot is older than the demand window or than
        :data:`STOCK_MAX_AGE_DAYS` before ``end``.
    old_skus
        SKUs whose own latest snapshot is older than that.
    """

    end: dt.date | None = None
    requested_end: dt.date | None = None
    data_end: dt.date | None = None
    snapshot: dt.date | None = None
    age_days: int | None = None
    demand_start: dt.date | None = None
    stale: bool = False
    old_skus: int = 0

    @property
    def as_of(self) -> str:
        """``" as of 2024-10-01"`` for figures on a stale snapshot, else ``""``."""
        if self.stale and self.snapshot:
            return _(" as of {day}").format(day=self.snapshot)
        return ""


def stock_dates(skus: pd.DataFrame, max_age_days: int = STOCK_MAX_AGE_DAYS) -> StockDates:
    """How old the stock is against the report's ``end``, in sentences.

    Parameters
    ----------
    skus
        :func:`shopbook.features.products.sku_features` output: ``snapshot_date`` and
        ``attrs`` ``end``, ``requested_end``, ``data_end``, ``end_note``,
        ``recent_days``, ``snapshot_date``, ``inventory_end``, ``has_inventory``.
    max_age_days
        Most days a snapshot may lie before ``end`` before it is called old.

    Returns
    -------
    StockDates
        ``notes``: the end-after-the-data sentence (from the features) and, for an old
        snapshot, how old it is and what the cover figures are as of. Skipped without
        inventory or without a snapshot on or before ``end``.
    """
    a = skus.attrs
    end = a["end"]
    demand = resolve_window(end - dt.timedelta(days=int(a.get("recent_days", 1)) - 1), end, None)
    demand_start = demand.start.date()
    out = StockDates(
        end=end,
        requested_end=a.get("requested_end"),
        data_end=a.get("data_end"),
        demand_start=demand_start,
    )
    out.note(a.get("end_note", ""))
    if not a.get("has_inventory"):
        return out.skip(_("the source has no inventory table, so stock on hand is unknown"))
    snap = a.get("snapshot_date")
    if snap is None:
        return out.skip(
            _(
                "no stock snapshot on or before {end} (the inventory's first records are later)"
            ).format(end=end)
        )
    out.snapshot, out.age_days = snap, (end - snap).days
    oldest_ok = max(end - dt.timedelta(days=max_age_days), demand_start)
    out.stale = snap < oldest_ok
    own = pd.to_datetime(skus["snapshot_date"]).dt.date
    out.old_skus = int((own.notna() & (own < oldest_ok)).sum())
    if out.stale:
        window = (
            _("older than the {days}-day demand window ({window}) it is compared with").format(
                days=demand.days, window=demand.label()
            )
            if snap < demand_start
            else _("more than {days} days before it").format(days=max_age_days)
        )
        out.note(
            _(
                "The latest stock snapshot on or before {end} is from {snap}, {age} "
                "days earlier — {window}: stock on hand, days of cover and overstock below are "
                "as of {snap}, and whatever sold since is still counted as on hand."
            ).format(end=end, snap=snap, age=out.age_days, window=window)
        )
    elif out.old_skus:
        out.note(
            _(
                "{n} SKUs have no stock record since {day}; their stock on "
                "hand and cover are those of their last record."
            ).format(n=out.old_skus, day=oldest_ok)
        )
    return out
