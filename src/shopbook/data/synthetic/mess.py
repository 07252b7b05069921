"""Mess (``dirty=True``): duplicate, refunded, cancelled and mistimed orders and negative
order lines, with the validation rejects they must produce."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shopbook.data.contract import TABLES
from shopbook.data.synthetic.clock import _Calendar
from shopbook.data.synthetic.tables import _ids


def _plant_mess(
    tables: dict[str, pd.DataFrame], cal: _Calendar, rng: np.random.Generator
) -> dict[str, Any]:
    orders, items = tables["orders"], tables["order_items"]
    n, n_items = len(orders), len(items)
    k = {
        "duplicate_orders": max(3, round(0.003 * n)),
        "refunded_orders": max(3, round(0.02 * n)),
        "cancelled_orders": max(3, round(0.01 * n)),
        "negative_quantity_lines": max(3, round(0.001 * n_items)),
        "null_order_ts": max(2, round(0.0005 * n)),
        "future_order_ts": max(2, round(0.0005 * n)),
    }
    width = len(str(orders["order_id"].iloc[0])) - 1
    next_id = n

    def new_ids(m: int) -> pd.Series:
        nonlocal next_id
        out = _ids("O", np.arange(next_id, next_id + m), width)
        next_id += m
        return out

    end_ts = (cal.end + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)).to_datetime64()
    new_orders, new_items = [], []
    for status in ("refunded", "cancelled"):  # two statuses
        m = k[f"{status}_orders"]
        tmpl = orders.iloc[np.sort(rng.choice(n, m, replace=False))].copy()
        ids = new_ids(m)
        mapping = pd.DataFrame({"order_id": tmpl["order_id"].to_numpy(), "__new": ids.to_numpy()})
        cl = items.merge(mapping, on="order_id", how="inner")
        cl["order_id"] = cl.pop("__new").astype(items["order_id"].dtype)
        new_items.append(cl[items.columns])
        shift = pd.to_timedelta(np.round(rng.uniform(1, 72, m) * 3600), unit="s").to_numpy()
        tmpl["order_ts"] = np.minimum(tmpl["order_ts"].to_numpy() + shift, end_ts)
        tmpl["order_id"] = ids.to_numpy()
        tmpl["status"] = pd.Series([status] * m, dtype=orders["status"].dtype).to_numpy()
        new_orders.append(tmpl)
    for key, value in (
        ("null_order_ts", pd.NaT),
        ("future_order_ts", pd.Timestamp("2099-12-31 23:59:59")),
    ):
        m = k[key]
        tmpl = orders.iloc[np.sort(rng.choice(n, m, replace=False))].copy()
        tmpl["order_id"] = new_ids(m).to_numpy()
        tmpl["order_ts"] = value
        new_orders.append(tmpl)
    dups = orders.iloc[np.sort(rng.choice(n, k["duplicate_orders"], replace=False))].copy()
    new_orders.append(dups)
    # negative quantities: an extra line (another SKU) on single-line orders
    counts = items["order_id"].value_counts()
    single = np.flatnonzero(items["order_id"].map(counts).to_numpy() == 1)
    pick = np.sort(rng.choice(single, k["negative_quantity_lines"], replace=False))
    neg = items.iloc[pick].copy()
    skus = tables["products"]["sku"].to_numpy()
    pos = pd.Index(skus).get_indexer(neg["sku"].to_numpy())
    other = (pos + 1 + rng.integers(0, len(skus) - 1, len(pos))) % len(skus)
    neg["sku"] = pd.Series(skus[other], dtype=items["sku"].dtype).to_numpy()
    neg["quantity"] = -rng.integers(1, 3, len(pos))
    new_items.append(neg)
    all_orders = pd.concat([orders, *new_orders], ignore_index=True)
    o = np.lexsort(
        (
            np.arange(len(all_orders)),
            all_orders["order_ts"].isna().to_numpy(),
            all_orders["order_ts"].fillna(pd.Timestamp("2262-01-01")).to_numpy(),
        )
    )
    tables["orders"] = all_orders.iloc[o].reset_index(drop=True)
    all_items = pd.concat([items, *new_items], ignore_index=True)
    tables["order_items"] = all_items.sort_values("order_id", kind="stable").reset_index(drop=True)
    return {
        "planted": True,
        "counts": k,
        "expected_rejects": {
            "orders": {
                TABLES["orders"].key_reason: k["duplicate_orders"],
                "null order_ts": k["null_order_ts"],
                "order_ts in the future": k["future_order_ts"],
            },
            "order_items": {"non-positive quantity": k["negative_quantity_lines"]},
        },
        "statuses": {"refunded": k["refunded_orders"], "cancelled": k["cancelled_orders"]},
        "meaning": "the dirty shop is the clean shop plus: exact copies of order rows "
        "(duplicate order_id); extra refunded and cancelled orders (new ids, cloned baskets, a "
        "few hours after their template); extra order lines with negative quantity on "
        "single-line orders; extra orders (no lines) with a missing or a 2099 timestamp. Kept "
        "rows with status 'paid' (and their lines) are exactly the clean shop",
    }
