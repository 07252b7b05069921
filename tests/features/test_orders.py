"""shopbook.features.orders: the one home of the order concepts (purchases, windows, first
purchases, order span, currency, GMV, line shares)."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from shopbook.features import orders as O


@pytest.fixture
def orders(make_orders):
    return make_orders(
        [
            ("a", "2024-01-01 10:00", 100.0, "paid", "jd"),
            ("a", "2024-01-05 10:00", 50.0, "paid", "tmall"),
            ("b", "2024-01-03 23:59", 80.0, "refunded", "tmall"),
            ("b", "2024-01-07 08:00", 40.0, "paid", "jd"),
            ("c", "2024-01-09 00:00", 10.0, "cancelled", "site"),
        ]
    )


def test_purchases_follow_the_statuses(orders):
    assert O.purchases(orders).count().execute() == 3
    assert O.purchases(orders, ("paid", "refunded")).count().execute() == 4
    assert O.purchases(orders, None).count().execute() == 5
    assert float(O.gmv(O.purchases(orders)).execute()) == 190.0


def test_windows_are_whole_days_with_both_ends_included(orders):
    lo, hi = O.window_bounds("2024-01-03", "2024-01-07")
    assert (lo, hi) == (dt.datetime(2024, 1, 3), dt.datetime(2024, 1, 8))
    t = O.as_table(orders)
    inside = t.filter(O.in_window(t.order_ts, "2024-01-03", "2024-01-07")).order_id.execute()
    assert sorted(inside) == ["o1", "o2", "o3"]
    days = ibis.memtable({"d": [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 8)]})
    assert days.filter(O.in_window(days.d, "2024-01-03", "2024-01-07")).count().execute() == 1
    with pytest.raises(ValueError, match="before start"):
        O.window_bounds("2024-01-07", "2024-01-03")


def test_first_purchases_span_and_currency(orders):
    first = O.first_purchases(orders).execute().sort_values("customer_id", ignore_index=True)
    assert first["customer_id"].tolist() == ["a", "b"]  # c never bought
    assert first["first_channel"].tolist() == ["jd", "jd"]  # b's refunded order does not count
    assert list(pd.to_datetime(first["first_day"])) == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-07"),
    ]
    assert O.order_span(orders) == (dt.date(2024, 1, 1), dt.date(2024, 1, 7))
    assert O.order_span(orders, None) == (dt.date(2024, 1, 1), dt.date(2024, 1, 9))
    assert O.order_span(orders, end="2024-01-04") == (dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert O.order_span(orders, end="2023-12-31") is None
    assert O.currency(orders) == "CNY"
    assert O.currency(orders.drop(columns="currency")) == ""


def test_line_shares_spread_an_order_over_its_lines(make_items):
    items = make_items(
        [("o1", "s1", 2, 10.0), ("o1", "s2", 1, 30.0), ("o2", "s1", 1, 0.0), ("o2", "s3", 3, 0.0)]
    )
    got = O.line_shares(items).execute().sort_values(["order_id", "sku"], ignore_index=True)
    assert list(got.columns) == [*items.columns, "line_share"]
    assert got["line_share"].tolist() == pytest.approx([0.4, 0.6, 0.5, 0.5])
    assert got.groupby("order_id")["line_share"].sum().tolist() == pytest.approx([1.0, 1.0])
    pd.testing.assert_frame_equal(got[list(items.columns)], items, check_dtype=False)


def test_orders_through_an_end_never_passes_the_data(orders):
    # every order counts (a trend counts days with any order): the data run 01-01 to 01-09
    whole = O.orders_through(orders)
    assert (whole.first_day, whole.last_day, whole.data_end) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 1, 9),
        dt.date(2024, 1, 9),
    )
    assert whole.orders.count().execute() == 5 and whole.note == ""
    # an end inside the data keeps the orders of that day (23:59 on 01-03), not later ones
    inside = O.orders_through(orders, "2024-01-03")
    assert inside.last_day == dt.date(2024, 1, 3) and inside.note == ""
    assert inside.orders.count().execute() == 2  # 01-01 10:00 and 01-03 23:59
    # an end after the data is clipped to its last day, with the sentence
    after = O.orders_through(orders, "2024-02-01", what="sales")
    assert after.last_day == dt.date(2024, 1, 9) and after.orders.count().execute() == 5
    assert after.note.startswith("The orders data end on 2024-01-09, 23 days before")
    # paid orders only: the span ends on the last purchase
    assert O.orders_through(orders, statuses=("paid",)).last_day == dt.date(2024, 1, 7)
    # an end before the data: nothing to count
    assert O.orders_through(orders, "2023-12-31") is None
