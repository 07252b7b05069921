"""features.loyalty: engine results against plain pandas on small frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbook.features import loyalty as fl


@pytest.fixture
def orders(make_orders):
    return make_orders(
        [
            ("a", "2024-01-03 10:00", 100.0),
            ("a", "2024-01-20 10:00", 50.0),
            ("a", "2024-03-02 09:00", 80.0, "refunded"),
            ("b", "2024-02-10 12:00", 210.0),
            ("b", "2024-02-12 12:00", 30.0),
            ("c", "2024-02-28 08:00", 190.0),
            ("d", "2024-02-01 08:00", 60.0),
        ]
    )


def test_monthly_spend_sums_purchases_per_customer_month(orders):
    got = fl.monthly_spend(orders)
    paid = orders[orders["status"] == "paid"].copy()
    paid["month"] = paid["order_ts"].dt.to_period("M").dt.to_timestamp()
    want = (
        paid.groupby(["customer_id", "month"], as_index=False)
        .agg(orders=("order_id", "size"), spend=("net_amount", "sum"))
        .sort_values(["customer_id", "month"], ignore_index=True)
    )
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want, check_dtype=False, check_like=True
    )
    assert fl.monthly_spend(orders, end="2024-01-31")["spend"].sum() == 150.0


def test_basket_histogram_counts_gross_values_inside_the_windows(orders):
    o = orders.copy()
    o["gross_amount"] = o["net_amount"] + 10.0
    got = fl.basket_histogram(o, [("2024-02-01", "2024-02-28")], bin_width=50)
    paid = o[(o.status == "paid") & (o.order_ts >= "2024-02-01") & (o.order_ts < "2024-02-29")]
    want = (np.floor(paid["gross_amount"] / 50) * 50).value_counts().sort_index()
    assert list(got["lower"]) == list(want.index) and list(got["orders"]) == list(want)
    assert fl.basket_histogram(o, []).empty


def test_offer_outcomes_arms_covariates_and_the_not_offered_pool(orders):
    offers = pd.DataFrame(
        {
            "customer_id": ["b", "c"],
            "promotion_id": ["p1", "p1"],
            "sent_ts": pd.to_datetime(["2024-02-11 00:00", "2024-02-11 00:00"]),
            "variant": ["treatment", "control"],
        }
    )
    got = fl.offer_outcomes(orders, offers, "p1", days=7, lookback_days=30).set_index("customer_id")
    # a bought on Jan 20 (22 days before the send): in the pool, not offered; d on Feb 1
    assert got["group"].to_dict() == {
        "a": fl.NOT_OFFERED,
        "b": "treatment",
        "c": "control",
        "d": fl.NOT_OFFERED,
    }
    assert got.loc["b", "bought"] and not got.loc["c", "bought"] and not got.loc["a", "bought"]
    assert got.loc["b", "frequency"] == 1 and got.loc["b", "monetary"] == 210.0
    assert got.loc["b", "recency_days"] == pytest.approx(0.5)
    assert np.isnan(got.loc["c", "recency_days"])  # no purchase before the send
    assert got.loc["a", "frequency"] == 2 and got.loc["a", "monetary"] == 150.0
    without_variant = fl.offer_outcomes(orders, offers.drop(columns="variant"), "p1")
    assert set(without_variant["group"]) == {"treatment", fl.NOT_OFFERED}
    camp = fl.campaigns(offers)
    assert camp.loc[0, "offers"] == 2 and camp.loc[0, "held_out"] == 1


def test_first_category_is_the_largest_line_of_the_first_purchase(orders, make_items):
    items = make_items(
        [
            (orders.order_id[0], "s1", 1, 30.0),
            (orders.order_id[0], "s2", 2, 40.0),
            (orders.order_id[1], "s1", 5, 10.0),
            (orders.order_id[3], "s1", 1, 210.0),
        ]
    )
    products = pd.DataFrame({"sku": ["s1", "s2"], "name": ["x", "y"], "category": ["tea", "nuts"]})
    got = fl.first_category_segments(orders, items, products).execute()
    assert dict(zip(got.customer_id, got.segment, strict=True)) == {"a": "nuts", "b": "tea"}


def test_ladder_windows_and_member_day_come_from_the_promotions_table():
    pr = pd.DataFrame(
        {
            "promotion_id": ["l1", "l2", "c", "md"],
            "type": ["ladder", "Ladder", "coupon", "member_day"],
            "threshold": [399.0, 199.0, 99.0, np.nan],
            "discount": [50.0, 20.0, 15.0, np.nan],
            "start": pd.to_datetime(["2024-06-01"] * 3 + ["2024-08-14"]).date,
            "end": pd.to_datetime(["2024-06-18"] * 3 + ["2024-12-31"]).date,
        }
    )
    lw = fl.ladder_windows(pr)
    assert list(lw["threshold"]) == [199.0, 399.0]
    assert fl.member_day_programme(pr) == (2, pd.Timestamp("2024-08-14"))
    assert fl.member_day_programme(pr[pr.type != "member_day"]) is None
