"""shopbook.features.products: per-SKU aggregates from the engine agree with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbook.data.validation import validate
from shopbook.errors import ContractError
from shopbook.features import products as P

END = pd.Timestamp("2024-03-31")


def _shop(seed: int = 0, n_orders: int = 500) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        rng.integers(0, 91 * 24 * 60, n_orders), unit="min"
    )
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i:05d}" for i in range(n_orders)],
            "customer_id": [f"c{i:03d}" for i in rng.integers(0, 100, n_orders)],
            "order_ts": ts,
            "channel": "site",
            "status": rng.choice(["paid"] * 8 + ["refunded", "cancelled"], n_orders),
            "gross_amount": 10.0,
            "discount_amount": 0.0,
            "net_amount": 10.0,
            "currency": "CNY",
        }
    )
    lines = []
    for oid in orders["order_id"]:
        for sku in rng.choice(["A", "B", "C", "D"], rng.integers(1, 3), replace=False):
            lines.append(
                {
                    "order_id": oid,
                    "sku": sku,
                    "quantity": int(rng.integers(1, 4)),
                    "unit_price": float(rng.choice([9.9, 20.0])),
                    "list_price": 20.0,
                    "unit_cost": {"A": 5.0, "B": 8.0, "C": None, "D": 4.0}[sku],
                }
            )
    items = pd.DataFrame(lines)
    # D has a cost on some lines only
    items.loc[(items["sku"] == "D") & (items.index % 2 == 0), "unit_cost"] = None
    products = pd.DataFrame(
        {
            "sku": ["A", "B", "C", "D", "E"],
            "name": ["a", "b", "c", "d", "never sold"],
            "category": "tea",
            "brand": pd.Series([None] * 5, dtype="string"),
            "launch_date": [None, pd.Timestamp("2024-02-15").date(), None, None, None],
            "lead_time_days": [7, 14, None, 3, 5],
        }
    )
    days = pd.date_range("2024-03-01", END, freq="D")
    inv = pd.DataFrame(
        [(d.date(), s, int(rng.integers(0, 30)), 0) for d in days for s in ["A", "B", "C", "E"]],
        columns=["date", "sku", "on_hand", "on_order"],
    )
    inv.loc[(inv["sku"] == "A") & (inv["date"] == END.date()), "on_hand"] = 0
    return {"orders": orders, "order_items": items, "products": products, "inventory": inv}


@pytest.fixture(scope="module")
def shop():
    tables = _shop()
    report = validate(tables, require=("orders", "order_items"))
    feats = P.sku_features(
        report.kept("orders"),
        report.kept("order_items"),
        report.kept("products"),
        report.kept("inventory"),
        recent_days=28,
        max_weeks=None,
    )
    return tables, report, feats.set_index("sku")


def _paid_lines(tables):
    o = tables["orders"]
    o = o[o["status"] == "paid"].assign(day=lambda x: x["order_ts"].dt.normalize())
    return tables["order_items"].merge(o[["order_id", "day"]], on="order_id")


def test_sales_and_profit_equal_pandas(shop):
    tables, _, f = shop
    lines = _paid_lines(tables)
    lines["rev"] = lines["quantity"] * lines["unit_price"]
    g = lines.groupby("sku")
    assert (
        f.loc[["A", "B", "C", "D"], "units"].tolist()
        == g["quantity"].sum().loc[list("ABCD")].tolist()
    )
    np.testing.assert_allclose(f.loc[list("ABCD"), "revenue"], g["rev"].sum().loc[list("ABCD")])
    assert (
        f.loc[list("ABCD"), "orders"].tolist() == g["order_id"].nunique().loc[list("ABCD")].tolist()
    )
    a = lines[lines["sku"] == "A"]
    np.testing.assert_allclose(
        f.loc["A", "gross_profit"], (a["quantity"] * (a["unit_price"] - 5.0)).sum()
    )
    assert f.loc["A", "cost_coverage"] == 1.0
    # C has no cost: no profit, coverage 0; D has cost on some lines: profit of those lines only
    assert (
        np.isnan(f.loc["C", "gross_profit"])
        and np.isnan(f.loc["C", "margin"])
        and f.loc["C", "cost_coverage"] == 0
    )
    d = lines[(lines["sku"] == "D") & lines["unit_cost"].notna()]
    np.testing.assert_allclose(
        f.loc["D", "gross_profit"], (d["quantity"] * (d["unit_price"] - 4.0)).sum()
    )
    assert 0 < f.loc["D", "cost_coverage"] < 1
    assert f.attrs["skus_without_cost"] == 1 and f.attrs["skus_partial_cost"] == 1


def _zero_filled(lines, sku, first, last, freq_days):
    s = lines[lines["sku"] == sku].groupby("day")["quantity"].sum()
    s = s.reindex(pd.date_range(first, last, freq="D"), fill_value=0)
    if freq_days == 1:
        return s
    n = len(s) // freq_days  # complete blocks counted back from the last day
    s = s.iloc[len(s) - n * freq_days :]
    return s.groupby(np.arange(len(s)) // freq_days).sum()


def test_weekly_and_daily_demand_equal_pandas_with_zero_periods(shop):
    tables, _, f = shop
    lines = _paid_lines(tables)
    first = lines["day"].min()
    for sku in "ACD":
        w = _zero_filled(lines, sku, first, END, 7)
        assert f.loc[sku, "weeks"] == len(w) == 13
        np.testing.assert_allclose(
            f.loc[sku, ["weekly_mean", "weekly_sd"]].astype(float), [w.mean(), w.std(ddof=1)]
        )
        d = _zero_filled(lines, sku, END - pd.Timedelta(days=27), END, 1)
        np.testing.assert_allclose(
            f.loc[sku, ["mean_daily", "sd_daily"]].astype(float), [d.mean(), d.std(ddof=1)]
        )
    # B launched 2024-02-15: its weeks start there (46 days: 6 full weeks)
    w = _zero_filled(lines, "B", pd.Timestamp("2024-02-15"), END, 7)
    assert f.loc["B", "weeks"] == 6 == len(w)
    np.testing.assert_allclose(f.loc["B", "weekly_mean"], w.mean())


def test_stock_from_latest_snapshot_and_cover(shop):
    tables, _, f = shop
    inv = tables["inventory"]
    last = inv[inv["date"] == END.date()].set_index("sku")
    assert f.loc["B", "on_hand"] == last.loc["B", "on_hand"]
    assert f.loc["A", "on_hand"] == 0 and f.loc["A", "days_of_cover"] == 0
    np.testing.assert_allclose(
        f.loc["B", "days_of_cover"], f.loc["B", "on_hand"] / f.loc["B", "mean_daily"]
    )
    assert pd.isna(f.loc["D", "on_hand"])  # no inventory rows for D
    zero_days = inv[
        (inv["sku"] == "C")
        & (inv["on_hand"] == 0)
        & (pd.to_datetime(inv["date"]) > END - pd.Timedelta(days=28))
    ]["date"].nunique()
    assert f.loc["C", "stockout_days"] == zero_days


def test_sku_with_no_sales_is_kept_with_zeros(shop):
    _, _, f = shop
    e = f.loc["E"]
    assert e["units"] == 0 and e["revenue"] == 0 and e["orders"] == 0
    assert e["weekly_mean"] == 0 and e["mean_daily"] == 0 and e["sd_daily"] == 0
    assert np.isnan(e["gross_profit"]) and np.isnan(e["cost_coverage"])
    assert e["days_of_cover"] == np.inf or e["on_hand"] == 0


def test_end_cuts_sales_and_snapshot(shop):
    _, report, _ = shop
    f = P.sku_features(
        report.kept("orders"),
        report.kept("order_items"),
        report.kept("products"),
        report.kept("inventory"),
        end="2024-03-10",
    ).set_index("sku")
    assert (f["snapshot_date"].dropna() == pd.Timestamp("2024-03-10")).all()
    assert f["last_sale"].max() <= pd.Timestamp("2024-03-10 23:59:59")
    assert f.attrs["end"] == pd.Timestamp("2024-03-10").date()


def test_without_products_and_with_empty_inventory():
    tables = _shop(seed=1, n_orders=150)
    tables["inventory"] = (
        tables["inventory"].iloc[:0].astype({"date": "datetime64[ns]", "sku": "string"})
    )
    del tables["products"]
    report = validate(tables, require=("orders", "order_items"))
    f = P.sku_features(
        report.kept("orders"), report.kept("order_items"), None, report.kept("inventory")
    )
    assert set(f["sku"]) == set("ABCD")
    assert f["on_hand"].isna().all() and f["lead_time_days"].isna().all()
    assert not f.attrs["has_inventory"] and not f.attrs["has_products"]


def test_no_paid_order_is_a_clear_error(shop):
    _, report, _ = shop
    with pytest.raises(ContractError, match="status"):
        P.sku_features(report.kept("orders"), report.kept("order_items"), end="2023-01-01")
    with pytest.raises(ValueError, match="recent_days"):
        P.sku_features(report.kept("orders"), report.kept("order_items"), recent_days=1)
