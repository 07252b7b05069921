"""shopbook.features.funnel: engine counts equal pandas on the synthetic shop; rates near
the planted funnel. shopbook.features.sales / .stock: channel economics, margin and stock
value on a hand-made shop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbook.data.synthetic import generate
from shopbook.data.validation import validate
from shopbook.features import funnel as F
from shopbook.features import sales as S
from shopbook.features import stock


@pytest.fixture(scope="module")
def shop():
    s = generate(customers=2000, seed=11)
    return s, validate(s.tables, require=("orders",))


def _pandas_funnel(sessions: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    s = sessions.assign(
        period=sessions["session_ts"].dt.normalize(),
        product_view=sessions["product_views"] > 0,
        cart=sessions["added_to_cart"],
        checkout=sessions["reached_checkout"],
        order=sessions["order_id"].notna(),
    )
    g = s.groupby(["period", *by])
    out = g.agg(
        sessions=("session_id", "size"),
        product_view=("product_view", "sum"),
        cart=("cart", "sum"),
        checkout=("checkout", "sum"),
        order=("order", "sum"),
    ).reset_index()
    return out.astype({c: "int64" for c in F.COUNTS})


@pytest.mark.parametrize("by", [["channel"], ["channel", "device"]])
def test_daily_funnel_counts_equal_pandas(shop, by):
    s, report = shop
    got = F.funnel(report.kept("sessions"), "day", by).sort_values(
        ["period", *by], ignore_index=True
    )
    want = _pandas_funnel(s.tables["sessions"], by).sort_values(["period", *by], ignore_index=True)
    got[by] = got[by].astype(str)
    want[by] = want[by].astype(str)
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)
    assert got["sessions"].sum() == len(s.tables["sessions"])


def test_funnel_rates_near_the_planted_ones(shop):
    s, report = shop
    counts = F.funnel(report.kept("sessions"), None, ["channel", "device"])
    rates = F.stage_rates(counts)
    truth = s.truth["funnel"]["rates"]
    checked = 0
    both = rates.merge(counts, on=["channel", "device"], suffixes=("", "_n"))
    for _, r in both.iterrows():
        t = truth[r["channel"]][r["device"]]
        for stage, col, den in (
            ("product_view", "product_view", "sessions"),
            ("add_to_cart", "add_to_cart", "product_view_n"),
            ("checkout", "checkout", "cart"),
            ("order", "order", "checkout_n"),
        ):
            n = r[den]
            if n < 200:
                continue
            se = np.sqrt(t[stage] * (1 - t[stage]) / n)
            # pdp_v2's treated arm lifts add_to_cart in its window: allow 4 SE plus 2 points
            assert abs(r[col] - t[stage]) < 4 * se + 0.02, (
                r["channel"],
                r["device"],
                stage,
                r[col],
                t[stage],
            )
            checked += 1
    assert checked >= 30


def test_window_filter_is_inclusive_of_whole_days(shop):
    s, report = shop
    got = F.funnel(report.kept("sessions"), None, None, start="2024-04-01", end="2024-04-07")
    ts = s.tables["sessions"]["session_ts"]
    want = ((ts >= "2024-04-01") & (ts < "2024-04-08")).sum()
    assert int(got["sessions"].iloc[0]) == want
    with pytest.raises(ValueError, match="before start"):
        F.funnel(report.kept("sessions"), None, None, start="2024-04-07", end="2024-04-01")


def _tiny():
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["a", "a", "b", "c", "c"],
            "order_ts": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-09 10:00",
                    "2024-01-10 12:00",
                    "2024-01-11 09:00",
                    "2024-01-12 09:00",
                ]
            ),
            "channel": ["jd", "tmall", "tmall", "jd", "jd"],
            "status": ["paid", "paid", "paid", "paid", "refunded"],
            "gross_amount": [100.0, 50.0, 80.0, 40.0, 30.0],
            "discount_amount": [0.0, 0.0, 0.0, 0.0, 0.0],
            "net_amount": [100.0, 50.0, 80.0, 40.0, 30.0],
            "currency": "CNY",
        }
    )
    items = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o2", "o3", "o4", "o5"],
            "sku": ["s1", "s1", "s2", "s2", "s1", "s1"],
            "quantity": [2, 1, 1, 4, 1, 1],
            "unit_price": [50.0, 30.0, 20.0, 20.0, 40.0, 30.0],
            "list_price": [50.0, 30.0, 20.0, 20.0, 40.0, 30.0],
            "unit_cost": [20.0, 20.0, None, 10.0, 20.0, 20.0],
        }
    )
    spend = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-08", "2024-01-09", "2024-01-14", "2024-01-15"]).date,
            "channel": ["jd", "tmall", "jd", "jd"],
            "spend": [10.0, 30.0, 5.0, 99.0],
            "impressions": [100, 300, 50, 990],
            "clicks": [1, 3, 1, 9],
        }
    )
    return {"orders": orders, "order_items": items, "marketing_spend": spend}


def test_channel_economics_hand_computed():
    t = _tiny()
    econ = S.channel_economics(
        t["orders"],
        "2024-01-08",
        "2024-01-14",
        marketing_spend=t["marketing_spend"],
        order_items=t["order_items"],
    ).set_index("channel")
    # window: o2 (a, tmall, returning), o3 (b, tmall, new), o4 (c, jd, new); o5 refunded
    assert econ.loc["tmall", ["orders", "customers", "new_customers"]].tolist() == [2, 2, 1]
    assert econ.loc["jd", ["orders", "customers", "new_customers"]].tolist() == [1, 1, 1]
    assert econ.loc["tmall", "gmv"] == pytest.approx(130.0)
    assert econ.loc["jd", "spend"] == pytest.approx(15.0)
    assert econ.loc["tmall", "spend"] == pytest.approx(30.0)
    # o2 lines: s1 30 (cost 20) + s2 20 (no cost); o3: 80, cost 40
    assert econ.loc["tmall", "revenue_costed"] == pytest.approx(110.0)
    assert econ.loc["tmall", "cogs"] == pytest.approx(60.0)
    assert econ.loc["tmall", "uncosted_share"] == pytest.approx(20.0 / 130.0)
    assert econ.loc["jd", "gross_profit"] == pytest.approx(20.0)


def test_margin_and_stock_value_hand_computed():
    t = _tiny()
    m = S.margin(t["orders"], t["order_items"], "2024-01-08", "2024-01-14").iloc[0]
    assert m["revenue"] == pytest.approx(170.0)
    assert m["cogs"] == pytest.approx(80.0)
    assert m["margin"] == pytest.approx(70.0 / 150.0)
    inv = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-08", "2024-01-08", "2024-01-09", "2024-01-20"]).date,
            "sku": ["s1", "s2", "s1", "s1"],
            "on_hand": [3, 5, 1, 100],
        }
    )
    sv = stock.stock_value(inv, t["order_items"], "2024-01-08", "2024-01-14")
    # s1 cost 20 (all lines), s2 cost 10 (only the costed line): day 1 = 60 + 50, day 2 = 20
    assert sv["value"] == pytest.approx((110.0 + 20.0) / 2)
    assert sv["days"] == 2
    assert sv["uncosted_units_share"] == 0.0


def test_period_letters_are_read_as_words(shop):
    _, report = shop
    words = F.funnel(report.kept("sessions"), "week", "channel")
    letters = F.funnel(report.kept("sessions"), "W", "channel")
    pd.testing.assert_frame_equal(words, letters)
    assert words.attrs["period"] == "week" and (words["period"].dt.dayofweek == 0).all()
    with pytest.raises(ValueError, match="period"):
        F.funnel(report.kept("sessions"), "hourly", "channel")


def test_channel_kpis_add_the_funnel_to_the_channel_economics():
    from shopbook.features.periods import resolve_window

    t = _tiny()
    sessions = pd.DataFrame(
        {
            "session_ts": pd.to_datetime(
                ["2024-01-09 09:00", "2024-01-10 11:00", "2024-01-12 08:00", "2024-01-12 09:00"]
            ),
            "visitor_id": ["v1", "v2", "v3", "v3"],
            "channel": ["tmall", "app", "jd", "jd"],
            "pageviews": [4, 1, 2, 5],
            "product_views": [1, 0, 1, 1],
            "added_to_cart": [True, False, True, True],
            "reached_checkout": [True, False, True, True],
            "order_id": ["o2", None, None, "o5"],
        }
    )
    w = resolve_window("2024-01-08", "2024-01-14", None)
    ch = S.channel_kpis(t["orders"], w, sessions=sessions).set_index("channel")
    assert ch.loc["tmall", ["orders", "sessions", "order", "paid"]].tolist() == [2, 1, 1, 1]
    # jd: two sessions of one visitor (7 pages); the order o5 was refunded: placed, not paid
    assert ch.loc["jd", ["sessions", "visitors", "pageviews", "order", "paid"]].tolist() == [
        2,
        1,
        7,
        1,
        0,
    ]
    assert ch.loc["app", ["orders", "new_customers", "sessions"]].tolist() == [0, 0, 1]
    assert ch.loc["app", "gmv"] == 0.0 and ch.loc["app", "paid"] == 0
    econ = S.channel_economics(t["orders"], w.start, w.end).set_index("channel")
    pd.testing.assert_frame_equal(ch.loc[econ.index, econ.columns], econ)


def _sessions_with_orders():
    """Five sessions of three visitors; orders paid, refunded, cancelled, and one paid
    order stamped the day after its session."""
    sessions = pd.DataFrame(
        {
            "session_id": ["s1", "s2", "s3", "s4", "s5"],
            "visitor_id": ["v1", "v1", "v2", "v3", "v3"],
            "session_ts": pd.to_datetime(
                [
                    "2024-03-04 10:00",
                    "2024-03-04 18:00",
                    "2024-03-05 09:00",
                    "2024-03-05 23:50",
                    "2024-03-06 12:00",
                ]
            ),
            "channel": ["tmall", "tmall", "jd", "jd", "jd"],
            "pageviews": [3, 1, 6, 2, 4],
            "product_views": [1, 0, 2, 1, 1],
            "added_to_cart": [True, False, True, True, True],
            "reached_checkout": [True, False, True, True, True],
            "order_id": ["p1", None, "r1", "p2", "c1"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["p1", "r1", "p2", "c1"],
            "status": ["paid", "refunded", "paid", "cancelled"],
        }
    )
    return sessions, orders


def test_funnel_counts_paid_sessions_and_traffic_hand_computed():
    sessions, orders = _sessions_with_orders()
    got = F.funnel(sessions, None, "channel", orders=orders).set_index("channel")
    # tmall: s1 (paid p1), s2 (no order); one visitor v1, 3 + 1 pages
    assert got.loc["tmall", ["sessions", "order", "paid", "visitors", "pageviews"]].tolist() == [
        2,
        1,
        1,
        1,
        4,
    ]
    # jd: s3 refunded r1, s4 paid p2, s5 cancelled c1 -> 3 orders placed, 1 paid;
    # visitors v2, v3; 6 + 2 + 4 pages
    assert got.loc["jd", ["sessions", "order", "paid", "visitors", "pageviews"]].tolist() == [
        3,
        3,
        1,
        2,
        12,
    ]
    rates = F.stage_rates(got.reset_index()).set_index("channel")
    assert rates.loc["jd", "conversion"] == pytest.approx(1 / 3)  # not 3/3
    assert rates.loc["tmall", "conversion"] == pytest.approx(1 / 2)
    # the whole shop, 5 March only: s3 and s4 -> 2 sessions, 2 visitors, 1 paid
    day = F.funnel(sessions, None, None, start="2024-03-05", end="2024-03-05", orders=orders)
    assert day[["sessions", "visitors", "pageviews", "paid"]].iloc[0].tolist() == [2, 2, 8, 1]
    # statuses widen what counts: with refunds, r1 counts too
    wide = F.funnel(sessions, None, None, orders=orders, statuses=("paid", "refunded"))
    assert int(wide["paid"].iloc[0]) == 3


def test_funnel_without_orders_has_no_paid_column_and_no_conversion():
    sessions, _ = _sessions_with_orders()
    got = F.funnel(sessions, "day", "channel")
    assert F.PAID not in got and {"visitors", "pageviews"} <= set(got.columns)
    assert "conversion" not in F.stage_rates(got)
