"""shopbook.analysis.kpi: the KPI table on a hand-made shop, channel CAC/ROI, and the
drop alerts on the synthetic shop's planted douyin traffic drop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbook.analysis import kpi
from shopbook.data.synthetic import generate
from shopbook.data.validation import validate
from shopbook.features import funnel as F
from shopbook.features import sales as S

T = pd.Timestamp


def _tiny():
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "customer_id": ["a", "a", "b", "c", "c", "b"],
            "order_ts": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-09 10:00",
                    "2024-01-10 12:00",
                    "2024-01-11 09:00",
                    "2024-01-12 09:00",
                    "2024-01-14 23:59",
                ]
            ),
            "channel": ["jd", "tmall", "tmall", "jd", "jd", "tmall"],
            "status": ["paid", "paid", "paid", "paid", "refunded", "paid"],
            "gross_amount": [100.0, 50.0, 80.0, 40.0, 30.0, 10.0],
            "discount_amount": 0.0,
            "net_amount": [100.0, 50.0, 80.0, 40.0, 30.0, 10.0],
            "currency": "CNY",
        }
    )
    items = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o2", "o3", "o4", "o5", "o6"],
            "sku": ["s1", "s1", "s2", "s2", "s1", "s1", "s2"],
            "quantity": [2, 1, 1, 4, 1, 1, 1],
            "unit_price": [50.0, 30.0, 20.0, 20.0, 40.0, 30.0, 10.0],
            "list_price": [50.0, 30.0, 20.0, 20.0, 40.0, 30.0, 10.0],
            "unit_cost": [20.0, 20.0, None, 10.0, 20.0, 20.0, 10.0],
        }
    )
    spend = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-02", "2024-01-08", "2024-01-09", "2024-01-14"]).date,
            "channel": ["jd", "jd", "tmall", "jd"],
            "spend": [20.0, 10.0, 30.0, 5.0],
        }
    )
    sessions = pd.DataFrame(
        {
            "session_ts": pd.to_datetime(
                [
                    "2024-01-01 09:50",
                    "2024-01-03 00:00",
                    "2024-01-09 09:50",
                    "2024-01-10 11:50",
                    "2024-01-11 08:50",
                    "2024-01-13 00:00",
                ]
            ),
            "channel": ["jd", "jd", "tmall", "tmall", "jd", "jd"],
            "product_views": [2, 0, 1, 3, 1, 0],
            "added_to_cart": [True, False, True, True, True, False],
            "reached_checkout": [True, False, True, True, True, False],
            "order_id": ["o1", None, "o2", "o3", "o4", None],
        }
    )
    inventory = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-03", "2024-01-10", "2024-01-10"]).date,
            "sku": ["s1", "s1", "s2"],
            "on_hand": [5, 2, 3],
        }
    )
    return dict(
        orders=orders,
        order_items=items,
        marketing_spend=spend,
        sessions=sessions,
        inventory=inventory,
    )


def test_window_defaults_to_the_last_full_week():
    w = kpi.resolve_window("", "", "2024-12-31")  # a Tuesday
    assert (w.start, w.end, w.prev_start, w.prev_end) == (
        T("2024-12-23"),
        T("2024-12-29"),
        T("2024-12-16"),
        T("2024-12-22"),
    )
    assert kpi.resolve_window("", "", "2024-12-29").end == T("2024-12-29")  # a Sunday
    d = kpi.resolve_window("2024-05-02", "2024-05-02", None)
    assert (d.days, d.prev_start, d.prev_end) == (1, T("2024-05-01"), T("2024-05-01"))
    with pytest.raises(ValueError, match="before start"):
        kpi.resolve_window("2024-05-03", "2024-05-02", None)


def test_kpi_table_equals_hand_computed_numbers():
    t = _tiny()
    w = kpi.resolve_window("2024-01-08", "2024-01-14", None)
    res = kpi.kpi_table(
        S.window_kpis(
            t["orders"],
            w,
            order_items=t["order_items"],
            sessions=t["sessions"],
            marketing_spend=t["marketing_spend"],
            inventory=t["inventory"],
            ltv_days=7,
            cohort_days=7,
        )
    )
    tab = res.table
    v = tab.set_index("metric")
    want = {  # metric: (window, previous)
        "gmv": (180.0, 100.0),
        "orders": (4, 1),
        "aov": (45.0, 100.0),
        # window lines: o2 s1 30 (cost 20) + s2 20 (no cost), o3 80 (cost 40),
        # o4 40 (cost 20), o6 10 (cost 10)
        "gross_margin": (70.0 / 160.0, 60.0 / 100.0),
        "gross_profit": (70.0, 60.0),
        "spend": (45.0, 20.0),
        "cac": (22.5, 20.0),
        "new_customers": (2, 1),
        "active_customers": (3, 1),
        "returning_customers": (1, 0),
        "repurchase_rate": (1 / 3, 0.0),  # b bought twice (o3, o6); c's second order was refunded
        "ltv": (100.0, np.nan),  # a's first 7 days (o1); no customer acquired 2023-12-25..31
        "sessions": (4, 2),
        "product_view": (3, 1),
        "cart": (3, 1),
        "checkout": (3, 1),
        "conversion": (0.75, 0.5),
        # COGS 90 over mean stock value (2*20 + 3*10) = 70; previous 40 over 5*20
        "inventory_turnover": (90.0 / 70.0, 40.0 / 100.0),
        "days_of_inventory": (70.0 / (90.0 / 7), 100.0 / (40.0 / 7)),
    }
    assert set(v.index) == set(want)
    for m, (cur, prev) in want.items():
        assert v.loc[m, "value"] == pytest.approx(cur, nan_ok=True), m
        assert v.loc[m, "previous"] == pytest.approx(prev, nan_ok=True), m
    assert v.loc["gmv", "change_pct"] == pytest.approx(0.8)
    assert v.loc["orders", "change"] == 3
    lo, hi = v.loc["conversion", ["ci_low", "ci_high"]]
    assert lo < 0.75 < hi and (lo, hi) == pytest.approx(kpi.conversion_ci(3, 4))
    assert any("11.1% of the window's revenue has no unit cost" in n for n in res.notes)
    assert res.ok() and res.window == w
    assert list(tab["layer"].unique()) == ["results", "users", "operations"]


def test_kpi_table_without_sessions_spend_or_items_says_so():
    t = _tiny()
    w = kpi.resolve_window("2024-01-08", "2024-01-14", None)
    res = kpi.kpi_table(S.window_kpis(t["orders"], w, ltv_days=7, cohort_days=7))
    tab = res.table
    assert set(tab["metric"]) == {
        "gmv",
        "orders",
        "aov",
        "new_customers",
        "active_customers",
        "returning_customers",
        "repurchase_rate",
        "ltv",
    }
    notes = " ".join(res.notes)
    for phrase in (
        "no sessions table",
        "no marketing_spend table",
        "no order_items table",
        "no inventory table",
    ):
        assert phrase in notes


def test_channel_cac_and_roi():
    t = _tiny()
    w = kpi.resolve_window("2024-01-08", "2024-01-14", None)
    res = kpi.channel_table(
        S.channel_kpis(
            t["orders"],
            w,
            sessions=t["sessions"],
            marketing_spend=t["marketing_spend"],
            order_items=t["order_items"],
        )
    )
    ch = res.table.set_index("channel")
    assert ch.loc["jd", "cac"] == pytest.approx(15.0)  # 15 spend / c
    assert ch.loc["tmall", "cac"] == pytest.approx(30.0)  # 30 spend / b
    assert res.roi_basis == "GMV"  # tmall has revenue without cost
    assert ch.loc["tmall", "roi"] == pytest.approx(140.0 / 30.0)
    assert ch.loc["jd", "conversion"] == pytest.approx(0.5)
    costed = t["order_items"].fillna({"unit_cost": 5.0})
    ch2 = kpi.channel_table(
        S.channel_kpis(t["orders"], w, marketing_spend=t["marketing_spend"], order_items=costed)
    )
    assert ch2.roi_basis == "gross profit"
    assert ch2.table.set_index("channel").loc["jd", "roi"] == pytest.approx(20.0 / 15.0)


@pytest.fixture(scope="module")
def shop_daily():
    s = generate(customers=2000, seed=5)
    report = validate(s.tables, require=("orders",))
    return s.truth, F.funnel(report.kept("sessions"), "day", "channel")


def test_planted_traffic_drop_raises_an_alert_after_and_none_well_before(shop_daily):
    # at 2,000 customers a channel's sessions cluster by customer (φ ≈ 4-8), so a 35 % drop
    # needs four weeks to stand out: a 28-day window against 4 trailing blocks
    truth, daily = shop_daily
    drop = truth["traffic_drop"]
    ch, day = drop["channel"], T(drop["date"])

    def run(first, metric="sessions"):
        w = kpi.resolve_window(first, first + pd.Timedelta(days=27), None)
        return kpi.alerts(daily, w, metric, baseline_days=112).table.set_index("channel")

    after = run(day)
    assert after.loc[ch, "alert"], after.loc[ch, "reason"]
    assert after.loc[ch, "change_pct"] == pytest.approx(-drop["fraction"], abs=0.15)
    assert not after.drop(index=ch)["alert"].any()  # the channels that received the traffic
    before = run(day - pd.Timedelta(days=140))
    assert not before["alert"].any(), before["reason"].to_dict()
    assert not run(day, "conversion").loc[
        ch, "alert"
    ]  # moved visits convert as the lost ones would have


def test_alerts_on_zero_traffic_and_missing_columns(shop_daily):
    _, daily = shop_daily
    w = kpi.resolve_window("2024-06-03", "2024-06-09", None)
    silenced = daily[~((daily["channel"] == "site") & (daily["period"] >= w.start))]
    a = kpi.alerts(silenced, w, "sessions").table.set_index("channel")
    assert a.loc["site", "alert"] and a.loc["site", "value"] == 0
    c = kpi.alerts(silenced, w, "conversion").table.set_index("channel")
    assert not c.loc["site", "alert"] and "no sessions in the window" in c.loc["site", "reason"]
    new = pd.concat(
        [
            daily,
            pd.DataFrame(
                {"period": [w.start], "channel": ["newshop"], "sessions": [5], "order": [1]}
            ),
        ]
    )
    n = kpi.alerts(new, w, "sessions").table.set_index("channel")
    assert (
        not n.loc["newshop", "alert"]
        and "no sessions in the baseline" in n.loc["newshop", "reason"]
    )
    with pytest.raises(ValueError, match="daily needs columns"):
        kpi.alerts(daily.drop(columns="order"), w, "conversion")


def test_channel_table_sections_and_picks():
    t = _tiny()
    w = kpi.resolve_window("2024-01-08", "2024-01-14", None)
    full = kpi.channel_table(
        S.channel_kpis(t["orders"], w, sessions=t["sessions"], marketing_spend=t["marketing_spend"])
    )
    assert full.ok("funnel") and full.ok("conversion") and full.ok("roi") and full.ok("top_roi")
    best, worst = full.best_and_worst()
    assert (best["channel"], worst["channel"]) == ("tmall", "jd")  # 2/2 vs 1/2 sessions
    assert full.top_roi()["channel"] == full.table.loc[full.table["roi"].idxmax(), "channel"]
    bare = kpi.channel_table(S.channel_kpis(t["orders"], w))
    assert not bare.ok("funnel") and bare.why("funnel") == "the source has no sessions table"
    assert bare.why("roi") == "the source has no marketing_spend table"
    assert bare.roi_basis is None and bare.ok()
    later = kpi.resolve_window("2024-03-01", "2024-03-07", None)
    quiet = kpi.channel_table(
        S.channel_kpis(
            t["orders"], later, sessions=t["sessions"], marketing_spend=t["marketing_spend"]
        )
    )
    assert quiet.ok("funnel") and quiet.why("conversion") == "no sessions in the window"
    assert quiet.why("roi") == "no marketing spend in the window"


def test_drop_alerts_concatenates_metrics_and_names_the_subject(shop_daily):
    _, daily = shop_daily
    w = kpi.resolve_window("2024-06-03", "2024-06-09", None)
    both = kpi.drop_alerts(daily, w, baseline_days=56)
    one = [kpi.alerts(daily, w, m, baseline_days=56) for m in ("sessions", "conversion")]
    pd.testing.assert_frame_equal(both.table, pd.concat([a.table for a in one], ignore_index=True))
    assert both.blocks == 8 and both.baseline_days == 56 and both.window == w
    assert both.flagged().equals(both.table[both.table["alert"]])
    assert kpi.alert_subject("sessions") == "traffic"
    assert kpi.alert_subject("conversion") == "conversion"
