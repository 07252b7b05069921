"""A small, hostile source for notebook runs: a DuckDB file built in the test.

The synthetic shop (``shopbook.data.synthetic``) at a small size when it is available,
or (``synthetic=False``) a hand-made shop of a few tables. Either way two products are named
``<script>alert(1)</script>`` and ``<img src=x onerror=alert(1)>``, a duplicate of one of
them and a few other bad rows are planted so rejects show up in the reports, and every
customer id is recognisably personal (``alice-…``) so a leak is easy to find.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HOSTILE_NAMES = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
PII_MARKER = "alice-"


def _handmade(seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_cust, n_orders = 40, 240
    customers = pd.DataFrame(
        {
            "customer_id": [f"{PII_MARKER}{i:03d}" for i in range(n_cust)],
            "signup_ts": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 60, n_cust), unit="D"),
            "acquisition_channel": rng.choice(["site", "tmall"], n_cust),
            "region": rng.choice(["north", "south", None], n_cust),
            "member_tier": None,
        }
    )
    ts = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 180 * 24, n_orders), unit="h")
    gross = rng.gamma(2.0, 40.0, n_orders).round(2)
    disc = (gross * rng.choice([0, 0, 0.1], n_orders)).round(2)
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i:05d}" for i in range(n_orders)],
            "customer_id": rng.choice(customers["customer_id"], n_orders),
            "order_ts": ts,
            "channel": rng.choice(["site", "tmall", "jd"], n_orders),
            "status": rng.choice(["paid"] * 8 + ["refunded", "cancelled"], n_orders),
            "gross_amount": gross,
            "discount_amount": disc,
            "net_amount": (gross - disc).round(2),
            "currency": "CNY",
        }
    )
    # planted mess: a duplicate order, a negative amount, an unknown customer
    orders.loc[len(orders)] = orders.iloc[0]
    orders.loc[5, "net_amount"] = -3.0
    orders.loc[6, "customer_id"] = "bob-unknown"
    skus = [f"SKU{i}" for i in range(6)]
    products = pd.DataFrame(
        {
            "sku": skus,
            "name": [
                HOSTILE_NAMES[0],
                HOSTILE_NAMES[1],
                "Green tea",
                "Oolong & co",
                "Mug *large*",
                "Teapot [blue]",
            ],
            "category": ["tea", "tea", "tea", "tea", "ware", "ware"],
            "brand": None,
            "launch_date": pd.Timestamp("2023-06-01").date(),
            "lead_time_days": 14,
        }
    )
    products.loc[len(products)] = ["SKU0", HOSTILE_NAMES[1], "tea", None, None, 3]  # duplicate sku
    items = pd.DataFrame(
        {
            "order_id": np.repeat(orders["order_id"].iloc[:200].to_numpy(), 2),
            "sku": np.tile(["SKU0", "SKU1"], 200),
            "quantity": rng.integers(1, 4, 400),
            "unit_price": rng.uniform(5, 50, 400).round(2),
            "list_price": 50.0,
            "unit_cost": 4.0,
        }
    )
    items = items.drop_duplicates(["order_id", "sku"]).reset_index(drop=True)
    items.loc[len(items)] = ["o99999", "SKU2", 1, 5.0, 5.0, 2.0]  # orphan
    items.loc[3, "quantity"] = -1
    return {"customers": customers, "orders": orders, "order_items": items, "products": products}


def _synthetic() -> dict[str, pd.DataFrame]:
    from shopbook.data.synthetic import generate

    shop = generate(customers=300, start="2024-01-01", end="2024-06-30", seed=3)
    tables = {k: v.copy() for k, v in shop.tables.items()}
    products = tables.get("products")
    if products is not None and len(products) >= 2:
        products.loc[products.index[0], "name"] = HOSTILE_NAMES[0]
        products.loc[products.index[1], "name"] = HOSTILE_NAMES[1]
        dup = products.iloc[[0]].copy()
        dup["name"] = HOSTILE_NAMES[1]
        tables["products"] = pd.concat([products, dup], ignore_index=True)
    orders = tables.get("orders")
    if orders is not None and len(orders):
        tables["orders"] = pd.concat(
            [orders, orders.iloc[[0]]], ignore_index=True
        )  # a duplicate order
    for name, t in tables.items():
        for col in ("customer_id", "visitor_id", "unit_id"):  # units are visitors or customers
            if col in t.columns:
                t[col] = PII_MARKER + t[col].astype(str)
                tables[name] = t
    return tables


def build(path: Path, synthetic: bool = True) -> Path:
    """Write the small hostile source to ``path`` (a ``.duckdb`` file)."""
    import duckdb

    tables = (_synthetic() if synthetic else None) or _handmade()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        for name, frame in tables.items():
            strings = frame.select_dtypes(include=["string"]).columns
            con.register("frame", frame.astype({c: object for c in strings}))
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
    finally:
        con.close()
    return path
