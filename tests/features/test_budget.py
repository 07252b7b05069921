"""Channel budget features: daily spend, new customers and first-order revenue per channel,
cross-checked with pandas on the synthetic shop, and the monthly economics."""

from __future__ import annotations

import pandas as pd
import pytest

from shopbook.features import budget as fb
from shopbook.features.sales import margin


@pytest.fixture(scope="module")
def shop(synthetic_shop):
    return synthetic_shop(customers=1500, seed=4)


def test_channel_days_match_pandas(shop):
    t = shop.tables
    days = fb.channel_days(t["orders"], t["marketing_spend"], customers=t["customers"])
    assert list(days.columns) == list(fb.DAY_COLUMNS)
    n_days = t["marketing_spend"]["date"].nunique()
    assert len(days) == n_days * days["channel"].nunique()
    # spend
    want = t["marketing_spend"].groupby("channel")["spend"].sum()
    got = days.groupby("channel")["spend"].sum()
    want.index = want.index.astype(str)
    assert (got - want.astype(float).reindex(got.index)).abs().max() < 1e-6
    # new customers and first-order revenue: each customer's earliest paid order
    o = t["orders"]
    paid = o[o["status"] == "paid"].sort_values(["customer_id", "order_ts"])
    first = paid.groupby("customer_id").head(1)
    acq = t["customers"].set_index("customer_id")["acquisition_channel"]
    first = first.assign(ch=first["customer_id"].map(acq).fillna(first["channel"]))
    assert days["new_customers"].sum() == len(first)
    by = first.groupby("ch").agg(n=("order_id", "size"), rev=("net_amount", "sum"))
    by.index = by.index.astype(str)
    by.index = by.index.astype(str)
    g = days.groupby("channel")[["new_customers", "first_revenue"]].sum()
    assert (g["new_customers"] == by["n"].reindex(g.index).fillna(0)).all()
    assert (g["first_revenue"] - by["rev"].reindex(g.index).astype(float)).abs().max() < 1e-6
    # every purchase
    assert days["orders"].sum() == len(paid)
    assert abs(days["gmv"].sum() - float(paid["net_amount"].sum())) < 1e-4


def test_a_window_and_channels_without_spend(shop):
    t = shop.tables
    spend = t["marketing_spend"][t["marketing_spend"]["channel"] != "site"]
    days = fb.channel_days(t["orders"], spend, "2024-03-01", "2024-03-31")
    assert days["date"].min() == pd.Timestamp("2024-03-01")
    assert days["date"].max() == pd.Timestamp("2024-03-31")
    site = days[days["channel"] == "site"]
    assert len(site) == 31 and site["spend"].eq(0).all() and site["orders"].sum() > 0


def test_monthly_economics_adds_up_and_has_gross_profit(shop):
    t = shop.tables
    days = fb.channel_days(t["orders"], t["marketing_spend"])
    m = fb.monthly_economics(days, t["orders"], t["order_items"])
    assert m["spend"].sum() == pytest.approx(days["spend"].sum())
    assert m["gmv"].sum() == pytest.approx(days["gmv"].sum())
    whole = margin(t["orders"], t["order_items"], days["date"].min(), days["date"].max(), "channel")
    got = m.groupby("channel")["gross_profit"].sum().sort_index()
    assert (got - whole.set_index("channel")["gross_profit"].sort_index()).abs().max() < 1e-4
    assert set(m["month"].dt.day) == {1}
    bare = fb.monthly_economics(days)
    assert "gross_profit" not in bare and len(bare) == len(m)
