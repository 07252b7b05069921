"""The SKU × week panel is built in the engine and equals a pandas computation."""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pytest

from shopbook.data.sources import open_source
from shopbook.features.panels import PANEL_COLUMNS, sku_week_frame, sku_week_panel


def _tables(seed: int = 0, n_orders: int = 400) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 70, n_orders), unit="D")
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n_orders)],
            "customer_id": [f"c{i % 50}" for i in range(n_orders)],
            "order_ts": ts.astype("datetime64[us]"),
            "channel": "site",
            "status": rng.choice(["paid", "paid", "paid", "refunded", "cancelled"], n_orders),
            "gross_amount": 1.0,
            "discount_amount": 0.0,
            "net_amount": 1.0,
            "currency": "CNY",
        }
    )
    rows = []
    for oid in orders.order_id:
        for sku in rng.choice(["A", "B", "C", "D"], rng.integers(1, 3), replace=False):
            lp = {"A": 10.0, "B": 20.0, "C": 5.0, "D": 8.0}[sku]
            off = rng.choice([0.0, 0.0, 0.1, 0.3])
            rows.append(
                (
                    oid,
                    sku,
                    int(rng.integers(1, 4)),
                    lp * (1 - off),
                    lp,
                    None if sku == "D" or rng.random() < 0.1 else lp * 0.4,
                )
            )
    items = pd.DataFrame(
        rows, columns=["order_id", "sku", "quantity", "unit_price", "list_price", "unit_cost"]
    )
    items["unit_cost"] = items["unit_cost"].astype(float)
    products = pd.DataFrame(
        {"sku": list("ABCD"), "name": list("abcd"), "category": ["x", "x", "y", "<b>z</b>"]}
    )
    return {"orders": orders, "order_items": items, "products": products}


def _expected(t: dict[str, pd.DataFrame], threshold: float = 0.05) -> pd.DataFrame:
    o = t["orders"][t["orders"].status == "paid"].copy()
    o["week"] = o.order_ts.dt.to_period("W-SUN").dt.start_time
    m = t["order_items"].merge(o[["order_id", "week"]], on="order_id")
    m["rev"] = m.quantity * m.unit_price
    m["lrev"] = m.quantity * m.list_price
    m["cost"] = m.quantity * m.unit_cost
    m["cq"] = np.where(m.unit_cost.notna(), m.quantity, 0)
    g = m.groupby(["sku", "week"]).agg(
        units=("quantity", "sum"),
        revenue=("rev", "sum"),
        lrev=("lrev", "sum"),
        cost=("cost", "sum"),
        cq=("cq", "sum"),
        lines=("order_id", "size"),
    )
    g["avg_price"] = g.revenue / g.units
    g["list_price"] = g.lrev / g.units
    g["discount_depth"] = 1 - g.revenue / g.lrev
    g["promo"] = g.discount_depth >= threshold
    g["unit_cost"] = np.where(g.cq > 0, g.cost / g.cq.where(g.cq > 0), np.nan)
    return g.reset_index()


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return _tables()


def test_panel_is_an_ibis_expression_that_matches_pandas(tables):
    src = open_source(tables)
    expr = sku_week_panel(src.table("order_items"), src.table("orders"), src.table("products"))
    assert isinstance(expr, ir.Table)
    got = expr.to_pandas()
    assert tuple(got.columns) == PANEL_COLUMNS
    want = _expected(tables)
    assert len(got) == len(want)
    got = (
        got.assign(week=pd.to_datetime(got.week))
        .sort_values(["sku", "week"])
        .reset_index(drop=True)
    )
    want = want.sort_values(["sku", "week"]).reset_index(drop=True)
    for col in (
        "units",
        "revenue",
        "avg_price",
        "list_price",
        "discount_depth",
        "unit_cost",
        "lines",
    ):
        np.testing.assert_allclose(
            got[col].astype(float), want[col].astype(float), rtol=1e-9, err_msg=col
        )
    assert (got.promo == want.promo).all()
    assert (got.week == want.week).all()
    assert (got.week.dt.dayofweek == 0).all()  # weeks start on Monday
    assert got.units.dtype.kind == "i"
    assert got.loc[got.sku == "D", "unit_cost"].isna().all()  # no cost known → null, not 0
    assert set(got.loc[got.sku == "D", "category"]) == {"<b>z</b>"}


def test_only_paid_orders_count(tables):
    src = open_source(tables)
    got = sku_week_panel(src.table("order_items"), src.table("orders")).to_pandas()
    paid_items = tables["order_items"].merge(tables["orders"][["order_id", "status"]])
    assert got.units.sum() == paid_items.loc[paid_items.status == "paid", "quantity"].sum()
    assert got.units.sum() < tables["order_items"].quantity.sum()
    assert got.category.isna().all()  # without products
    everything = sku_week_panel(
        src.table("order_items"), src.table("orders"), statuses=("paid", "refunded", "cancelled")
    ).to_pandas()
    assert everything.units.sum() == tables["order_items"].quantity.sum()


def test_promo_threshold_and_free_items():
    t = _tables(seed=1, n_orders=40)
    t["order_items"]["unit_price"] = t["order_items"]["list_price"] * 0.92
    t["order_items"].loc[0, ["unit_price", "list_price"]] = [0.0, 0.0]
    src = open_source(t)
    loose = sku_week_panel(
        src.table("order_items"), src.table("orders"), promo_threshold=0.05
    ).to_pandas()
    strict = sku_week_panel(
        src.table("order_items"), src.table("orders"), promo_threshold=0.10
    ).to_pandas()
    assert loose.promo.all()
    assert not strict.promo.any()
    np.testing.assert_allclose(loose.discount_depth.dropna(), 0.08, atol=1e-9)


def test_sku_week_frame_executes_the_panel_of_a_report(tables):
    from shopbook.data.validation import validate

    report = validate(tables, now="2030-01-01")
    got = sku_week_frame(report)
    assert isinstance(got, pd.DataFrame)
    src = open_source(tables)
    want = sku_week_panel(
        src.table("order_items"), src.table("orders"), src.table("products")
    ).to_pandas()
    pd.testing.assert_frame_equal(got, want)
    assert set(got.category) == {"x", "y", "<b>z</b>"}


def test_sku_week_frame_is_none_without_order_lines(tables):
    from shopbook.data.validation import validate

    only_orders = {"orders": tables["orders"]}
    assert sku_week_frame(validate(only_orders, now="2030-01-01")) is None
    no_lines = {**tables, "order_items": tables["order_items"].iloc[:0]}
    assert sku_week_frame(validate(no_lines, now="2030-01-01")) is None
