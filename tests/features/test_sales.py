"""shopbook.features.sales: engine aggregates agree with pandas on the same rows; the KPI
brief's window inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbook.data.validation import validate
from shopbook.errors import ContractError
from shopbook.features import sales as K
from shopbook.features.orders import order_span
from shopbook.features.periods import resolve_window


def _shop(seed: int = 0, n_orders: int = 600) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        rng.integers(0, 120 * 24 * 60, n_orders), unit="min"
    )
    gross = rng.gamma(2.0, 50.0, n_orders).round(2)
    disc = (gross * rng.choice([0.0, 0.0, 0.1], n_orders)).round(2)
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i:05d}" for i in range(n_orders)],
            "customer_id": [f"c{i:03d}" for i in rng.integers(0, 150, n_orders)],
            "order_ts": ts,
            "channel": rng.choice(["tmall", "jd", "site"], n_orders),
            "status": rng.choice(["paid"] * 8 + ["refunded", "cancelled"], n_orders),
            "gross_amount": gross,
            "discount_amount": disc,
            "net_amount": (gross - disc).round(2),
            "currency": "CNY",
        }
    )
    skus = [f"S{i}" for i in range(8)]
    products = pd.DataFrame(
        {
            "sku": skus[:7],
            "name": [f"p{i}" for i in range(7)],
            "category": ["tea", "tea", "coffee", "coffee", "snacks", "gifts", "gifts"],
        }
    )
    lines = []
    for oid in orders["order_id"]:
        for sku in rng.choice(skus, rng.integers(1, 4), replace=False):  # S7 is not in products
            lines.append(
                {
                    "order_id": oid,
                    "sku": sku,
                    "quantity": int(rng.integers(1, 4)),
                    "unit_price": float(rng.choice([0.0, 9.9, 25.0, 40.0])),
                    "list_price": 40.0,
                    "unit_cost": 5.0,
                }
            )
    return {"orders": orders, "order_items": pd.DataFrame(lines), "products": products}


@pytest.fixture(scope="module")
def shop():
    tables = _shop()
    report = validate(tables, require=("orders",))
    return tables, report


def _pandas_kpis(orders: pd.DataFrame, freq: str, by: list[str]) -> pd.DataFrame:
    paid = orders[orders["status"] == "paid"].copy()
    paid["period"] = (
        paid["order_ts"].dt.to_period({"D": "D", "W": "W-SUN", "M": "M"}[freq]).dt.start_time
    )
    g = paid.groupby(["period", *by])
    out = g.agg(
        gmv=("net_amount", "sum"),
        orders=("order_id", "nunique"),
        customers=("customer_id", "nunique"),
    )
    out["aov"] = out["gmv"] / out["orders"]
    return out.reset_index()


@pytest.mark.parametrize("freq", ["D", "W", "M"])
@pytest.mark.parametrize("by", [[], ["channel"]])
def test_order_kpis_equal_pandas(shop, freq, by):
    tables, report = shop
    ours = K.kpis(report.kept("orders"), freq, by=by or None)
    ref = _pandas_kpis(tables["orders"], freq, by)
    key = ["period", *by]
    ours = ours.sort_values(key, ignore_index=True)
    ref = ref.sort_values(key, ignore_index=True)
    assert list(ours.columns) == [*key, "gmv", "orders", "customers", "aov"]
    pd.testing.assert_frame_equal(ours[key], ref[key], check_dtype=False)
    np.testing.assert_allclose(ours[["gmv", "aov"]], ref[["gmv", "aov"]], rtol=1e-9)
    assert (ours["orders"].to_numpy() == ref["orders"].to_numpy()).all()
    assert (ours["customers"].to_numpy() == ref["customers"].to_numpy()).all()
    if freq == "W":
        assert (ours["period"].dt.dayofweek == 0).all()  # ISO weeks start on Monday


def test_weekly_customers_are_distinct_in_the_week_not_summed_over_days(shop):
    _, report = shop
    daily = K.kpis(report.kept("orders"), "D")
    weekly = K.kpis(report.kept("orders"), "W")
    summed = daily.groupby(daily["period"].dt.to_period("W-SUN").dt.start_time.rename("period"))[
        "customers"
    ].sum()
    distinct = weekly.set_index("period")["customers"]
    assert distinct.index.equals(summed.index)
    assert (distinct <= summed).all() and (distinct < summed).any()
    assert weekly["gmv"].sum() == pytest.approx(daily["gmv"].sum())


def test_category_split_adds_up_to_the_orders(shop):
    tables, report = shop
    kw = {"order_items": report.kept("order_items"), "products": report.kept("products")}
    by_cat = K.kpis(report.kept("orders"), "M", by="category", **kw)
    total = K.kpis(report.kept("orders"), "M")
    # every order's amount is spread over its lines: categories add up to the month's GMV
    per_month = by_cat.groupby("period")["gmv"].sum()
    np.testing.assert_allclose(
        per_month.to_numpy(), total.set_index("period")["gmv"].to_numpy(), rtol=1e-9
    )
    assert K.UNKNOWN in set(by_cat["category"])  # S7 is not in products
    assert "units" in by_cat
    # an order with lines in two categories counts once in each: orders by category ≥ orders
    assert (by_cat.groupby("period")["orders"].sum() >= total.set_index("period")["orders"]).all()
    # reference for one month and category, by hand
    o, it, pr = tables["orders"], tables["order_items"], tables["products"]
    paid = o[(o["status"] == "paid") & (o["order_ts"] < "2024-02-01")]
    lines = it.merge(paid[["order_id", "net_amount"]], on="order_id").merge(
        pr[["sku", "category"]], on="sku", how="left"
    )
    lines["category"] = lines["category"].fillna(K.UNKNOWN)
    lines["value"] = lines["quantity"] * lines["unit_price"]
    tot = lines.groupby("order_id")["value"].transform("sum")
    n = lines.groupby("order_id")["value"].transform("size")
    lines["share"] = np.where(tot > 0, lines["value"] / tot.where(tot > 0, 1), 1 / n)
    tea = lines[lines["category"] == "tea"]
    row = by_cat[(by_cat["period"] == "2024-01-01") & (by_cat["category"] == "tea")].iloc[0]
    assert row["gmv"] == pytest.approx((tea["share"] * tea["net_amount"]).sum())
    assert row["orders"] == tea["order_id"].nunique() and row["units"] == tea["quantity"].sum()


def test_statuses_and_amount_are_parameters(shop):
    tables, report = shop
    o = tables["orders"]
    ours = K.kpis(report.kept("orders"), "M", statuses=("paid", "refunded"), amount="gross_amount")
    keep = o[o["status"].isin(["paid", "refunded"])]
    assert ours["gmv"].sum() == pytest.approx(keep["gross_amount"].sum())
    assert ours["orders"].sum() == len(keep)


def test_product_split_without_order_lines_is_a_contract_error(shop):
    _, report = shop
    with pytest.raises(ContractError, match="order_items"):
        K.kpis(report.kept("orders"), "D", by="category")
    with pytest.raises(ContractError, match="colour"):
        K.kpis(
            report.kept("orders"),
            "D",
            by="colour",
            order_items=report.kept("order_items"),
            products=report.kept("products"),
        )
    with pytest.raises(ValueError, match="period"):
        K.kpis(report.kept("orders"), "hourly")


def test_to_series_fills_days_without_sales_with_zero():
    tables = _shop(1, n_orders=30)
    report = validate(tables)
    daily = K.kpis(report.kept("orders"), "D")
    first, last = map(pd.Timestamp, order_span(report.kept("orders"), statuses=("paid",)))
    s = K.to_series(daily, "gmv")
    assert s.index.freq == "D" and s.index[0] == first and s.index[-1] == last
    assert len(s) == (last - first).days + 1 > len(daily)
    assert s.sum() == pytest.approx(daily["gmv"].sum()) and (s == 0).sum() == len(s) - len(daily)
    wk = K.fill_periods(K.kpis(report.kept("orders"), "W", by="channel"))
    assert wk.groupby("channel").size().nunique() == 1  # every channel has every week
    assert K.to_series(K.kpis(report.kept("orders"), "M"), "orders").index.freqstr == "MS"


def test_period_words_and_letters_give_the_same_frame(shop):
    _, report = shop
    words = K.kpis(report.kept("orders"), "week", by="channel")
    letters = K.kpis(report.kept("orders"), "W", by="channel")
    pd.testing.assert_frame_equal(words, letters)
    assert words.attrs["period"] == "week"
    assert K.to_series(K.kpis(report.kept("orders"), "month"), "gmv").index.freqstr == "MS"


def test_daily_sales_covers_the_context_of_a_window(shop):
    _, report = shop
    w = resolve_window("2024-03-04", "2024-03-10", None)
    d = K.daily_sales(report.kept("orders"), w.context_start(), w.end)
    assert d["period"].iloc[0] == w.context_start() == pd.Timestamp("2024-02-08")
    assert d["period"].iloc[-1] == w.end and d["period"].diff().dropna().dt.days.eq(1).all()
    full = K.kpis(report.kept("orders"), "day").set_index("period")["gmv"]
    got = d.set_index("period")["gmv"]
    np.testing.assert_allclose(got, full.reindex(got.index, fill_value=0.0), rtol=1e-12)


def test_window_kpis_hold_both_windows_and_only_the_columns_of_the_given_tables(shop):
    tables, report = shop
    w = resolve_window("2024-03-04", "2024-03-10", None)
    v = K.window_kpis(report.kept("orders"), w, order_items=report.kept("order_items"))
    assert list(v.index) == ["current", "previous"]
    assert v.loc["previous", "start"] == w.prev_start and v.loc["current", "days"] == 7
    assert "cogs" in v and "spend" not in v and "sessions" not in v and "stock_value" not in v
    o = tables["orders"]
    paid = o[(o["status"] == "paid") & o["order_ts"].between("2024-03-04", "2024-03-11")]
    paid = paid[paid["order_ts"] < "2024-03-11"]
    assert v.loc["current", "gmv"] == pytest.approx(paid["net_amount"].sum())
    assert v.loc["current", "orders"] == len(paid)
    assert v.loc["current", "active"] == paid["customer_id"].nunique()
    first = o[o["status"] == "paid"].groupby("customer_id")["order_ts"].min()
    new = ((first >= "2024-03-04") & (first < "2024-03-11")).sum()
    assert v.loc["current", "new"] == new
    assert v.loc["current", "returning"] == paid["customer_id"].nunique() - new
