"""Stock — valued and followed where the data lives.

* :func:`stock_value` — the average daily value of the stock on hand at unit cost over a
  window (the KPI brief's inventory turnover and days of inventory divide by it).
* :func:`stockouts` — stock-out episodes: runs of consecutive calendar days with
  ``on_hand`` 0 per SKU (gaps and islands), found in the engine for an ibis table or in
  pandas for a small DataFrame. A day missing from the snapshots ends an episode.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    SHARE_SCALE,
    as_table,
    in_window,
    line_money,
    money,
    money_sum,
)


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"stockouts needs columns {', '.join(columns)}; missing: {', '.join(missing)} "
            "(pass the contract inventory table)"
        )


def stock_value(inventory: Any, order_items: Any, start: Any, end: Any) -> dict[str, float]:
    """Average daily stock value at unit cost over a window.

    A SKU's unit cost is the quantity-weighted mean ``unit_cost`` of its order lines
    (all history; the inventory table carries no cost).

    Parameters
    ----------
    inventory
        Contract ``inventory`` (``date``, ``sku``, ``on_hand``).
    order_items
        Contract ``order_items`` (``sku``, ``quantity``, ``unit_cost``).
    start, end
        The window (days, inclusive).

    Returns
    -------
    dict
        ``value`` (mean over the window's inventory days of Σ on_hand × unit cost),
        ``days`` (days with a stock record), ``uncosted_units_share`` (share of on-hand
        units whose SKU has no known cost; they are left out of ``value``).
    """
    inv = as_table(inventory)
    it = as_table(order_items)
    it = it.filter(it.unit_cost.notnull())
    cost = it.group_by("sku").aggregate(  # quantity-weighted mean cost, to a millionth
        unit_cost=money(
            money_sum(line_money(it.unit_cost, it.quantity)).cast("float64")
            / it.quantity.sum().cast("float64"),
            SHARE_SCALE,
        )
    )
    inv = inv.filter(in_window(inv.date, start, end))
    j = inv.left_join(cost, inv.sku == cost.sku)
    daily = j.group_by(j.date).aggregate(  # exact sums: the same value on every engine
        value=money_sum(j.unit_cost * j.on_hand.cast("int64"), SHARE_SCALE).cast("float64"),
        units=j.on_hand.sum().cast("float64"),
        uncosted=ibis.ifelse(j.unit_cost.isnull(), j.on_hand, 0).sum().cast("float64"),
    )
    row = (
        daily.aggregate(
            value=daily.value.fill_null(0.0).mean(),
            days=daily.count(),
            units=daily.units.sum(),
            uncosted=daily.uncosted.sum(),
        )
        .execute()
        .iloc[0]
    )
    days = int(row["days"])
    units = float(row["units"] or 0.0)
    return {
        "value": float(row["value"]) if days else float("nan"),
        "days": days,
        "uncosted_units_share": float(row["uncosted"]) / units if units > 0 else float("nan"),
    }


def stockouts(inventory: Any, min_days: int = 1, end: Any = None) -> pd.DataFrame:
    """Stock-out episodes: runs of consecutive days with ``on_hand`` 0, per SKU.

    Parameters
    ----------
    inventory
        Contract ``inventory`` (``date``, ``sku``, ``on_hand``) as an ibis table (the
        episodes are found in the engine) or a pandas DataFrame.
    min_days
        Shortest episode returned.
    end
        Only snapshots on or before this day.

    Returns
    -------
    pandas.DataFrame
        ``sku``, ``start``, ``end`` (first and last day with 0 on hand), ``days`` and
        ``ongoing`` (the episode reaches the SKU's last snapshot), ordered by start then
        SKU. Empty (with these columns) when there is none or the inventory is empty.
    """
    cols = ["sku", "start", "end", "days", "ongoing"]
    if isinstance(inventory, pd.DataFrame):
        _require(inventory, ["date", "sku", "on_hand"])
        inv = inventory[["date", "sku", "on_hand"]].copy()
        inv["date"] = pd.to_datetime(inv["date"].astype("object"))
        if end is not None:
            inv = inv[inv["date"] <= pd.Timestamp(end)]
        last = inv.groupby("sku")["date"].max().rename("last")
        zero = (
            inv[inv["on_hand"] == 0].drop_duplicates(["sku", "date"]).sort_values(["sku", "date"])
        )
        if zero.empty:
            return pd.DataFrame(
                {
                    "sku": pd.Series(dtype=object),
                    "start": pd.Series(dtype="datetime64[ns]"),
                    "end": pd.Series(dtype="datetime64[ns]"),
                    "days": pd.Series(dtype="int64"),
                    "ongoing": pd.Series(dtype=bool),
                }
            )
        day = (zero["date"] - pd.Timestamp("1970-01-01")).dt.days
        grp = day - zero.groupby("sku").cumcount()
        ep = (
            zero.assign(grp=grp)
            .groupby(["sku", "grp"])["date"]
            .agg(start="min", end="max", days="count")
        )
        ep = ep.reset_index().drop(columns="grp")
    else:
        inv = inventory
        if end is not None:
            inv = inv.filter(inv.date <= pd.Timestamp(end).date())
        last = fetch(inv.group_by("sku").aggregate(last=inv.date.max())).set_index("sku")["last"]
        zero = inv.filter(inv.on_hand == 0).select("sku", "date").distinct()
        rn = ibis.row_number().over(group_by=zero.sku, order_by=zero.date)
        zero = zero.mutate(grp=zero.date.epoch_days() - rn)
        ep = fetch(
            zero.group_by(["sku", "grp"])
            .aggregate(start=zero.date.min(), end=zero.date.max(), days=zero.date.count())
            .drop("grp")
        )
    ep["start"] = pd.to_datetime(ep["start"]).astype("datetime64[ns]")
    ep["end"] = pd.to_datetime(ep["end"]).astype("datetime64[ns]")
    ep["days"] = ep["days"].astype("int64")
    last = pd.to_datetime(last).astype("datetime64[ns]")
    ep["ongoing"] = (ep["end"] == ep["sku"].map(last)).to_numpy()
    ep = ep[ep["days"] >= min_days]
    return ep.sort_values(["start", "sku"], ignore_index=True)[cols]


__all__ = ["stock_value", "stockouts"]
