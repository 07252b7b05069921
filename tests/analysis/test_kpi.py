"""shopbook.analysis.kpi: the KPI table on a hand-made shop, channel CAC/ROI, and the
drop alerts on the synthetic shop's planted douyin traffic drop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbook.analysis import kpi
from shopbook.data.synthetic import generate
from shopbook.data.validation import validate
from shopbook.features import brief as B
from shopbook.features import funnel as F
from shopbook.features import sales as S

T = pd.Timestamp


def _tiny():
    """A hand-made shop. Window 2024-01-08..14, previous window 2024-01-01..07.

    Paid orders: o1 a jd 01-01 100 · o7 d jd 01-05 20 (no lines) · o2 a tmall 01-09 50 ·
    o3 b tmall 01-10 80 · o4 c jd 01-11 40 · o6 b tmall 01-14 23:59 10; o5 c jd 01-12 30
    was refunded and o8 e tmall 01-13 25 cancelled — neither is a sale, a buyer or a
    conversion.
    """
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8"],
            "customer_id": ["a", "a", "b", "c", "c", "b", "d", "e"],
            "order_ts": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-09 10:00",
                    "2024-01-10 12:00",
                    "2024-01-11 09:00",
                    "2024-01-12 09:00",
                    "2024-01-14 23:59",
                    "2024-01-05 15:00",
                    "2024-01-13 10:30",
                ]
            ),
            "channel": ["jd", "tmall", "tmall", "jd", "jd", "tmall", "jd", "tmall"],
            "status": ["paid", "paid", "paid", "paid", "refunded", "paid", "paid", "cancelled"],
            "gross_amount": [100.0, 50.0, 80.0, 40.0, 30.0, 10.0, 20.0, 25.0],
            "discount_amount": 0.0,
            "net_amount": [100.0, 50.0, 80.0, 40.0, 30.0, 10.0, 20.0, 25.0],
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
            "session_id": [f"s{i}" for i in range(1, 9)],
            "visitor_id": ["v1", "v2", "v1", "v3", "v4", "v4", "v4", "v5"],
            "session_ts": pd.to_datetime(
                [
                    "2024-01-01 09:50",
                    "2024-01-03 00:00",
                    "2024-01-09 09:50",
                    "2024-01-10 11:50",
                    "2024-01-11 08:50",
                    "2024-01-13 00:00",
                    "2024-01-12 08:50",
                    "2024-01-13 10:00",
                ]
            ),
            "channel": ["jd", "jd", "tmall", "tmall", "jd", "jd", "jd", "tmall"],
            "pageviews": [3, 1, 2, 4, 2, 1, 3, 2],
            "product_views": [2, 0, 1, 3, 1, 0, 1, 1],
            "added_to_cart": [True, False, True, True, True, False, True, True],
            "reached_checkout": [True, False, True, True, True, False, True, True],
            "order_id": ["o1", None, "o2", "o3", "o4", None, "o5", "o8"],
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


def _brief(t, **kw):
    w = kpi.resolve_window("2024-01-08", "2024-01-14", None)
    return kpi.kpi_table(B.brief_kpis(t["orders"], w, ltv_days=7, cohort_days=7, **kw))


def test_kpi_table_equals_hand_computed_numbers():
    t = _tiny()
    res = _brief(
        t,
        order_items=t["order_items"],
        sessions=t["sessions"],
        marketing_spend=t["marketing_spend"],
        inventory=t["inventory"],
    )
    tab = res.table
    v = tab.set_index("metric")
    want = {  # metric: (window, previous), by hand from _tiny's docstring
        "gmv": (50 + 80 + 40 + 10, 100 + 20),
        "orders": (4, 2),
        "aov": (180 / 4, 120 / 2),
        "spend_per_buyer": (180 / 3, 120 / 2),  # 客单价: buyers a, b, c / a, d
        # window lines: o2 s1 30 (cost 20) + s2 20 (no cost), o3 80 (cost 40),
        # o4 40 (cost 20), o6 10 (cost 10); previous: o1 100 (cost 40); o7 has no lines
        "gross_profit": (70.0, 60.0),
        "gross_margin": (70.0 / 160.0, 60.0 / 100.0),
        "spend": (10 + 30 + 5, 20.0),
        "roas": (180 / 45, 120 / 20),
        # window: 20 of 180 has no cost -> no ROI; previous: (60 - 20) / 20
        "roi": (np.nan, 2.0),
        "cac": (45 / 2, 20 / 2),
        "new_customers": (2, 2),  # b, c / a, d
        "active_customers": (3, 2),
        "returning_customers": (1, 0),
        "repurchase_rate": (1 / 3, 0.0),  # b bought twice (o3, o6); c's second order was refunded
        # a and d bought 01-01..07, only a again 01-08..14; nobody bought 2023-12-25..31
        "churn_rate": (1 / 2, np.nan),
        "ltv": ((100 + 20) / 2, np.nan),  # a's and d's first 7 days; no cohort 2023-12-25..31
        "uv": (4, 2),  # v1 v3 v4 v5 / v1 v2
        "pv": (2 + 4 + 2 + 1 + 3 + 2, 3 + 1),
        "sessions": (6, 2),
        "product_view": (5, 1),
        "cart": (5, 1),
        "checkout": (5, 1),
        "order": (5, 1),  # placed: o2 o3 o4, refunded o5, cancelled o8
        "paid_sessions": (3, 1),  # o2 o3 o4 / o1
        "payment_conversion": (3 / 4, 2 / 2),
        "session_conversion": (3 / 6, 1 / 2),  # the old definition gave 5 / 6
        # COGS 90 over mean stock value (2*20 + 3*10) = 70; previous 40 over 5*20
        "inventory_turnover": (90.0 / 70.0, 40.0 / 100.0),
        "days_of_inventory": (70.0 / (90.0 / 7), 100.0 / (40.0 / 7)),
    }
    assert list(v.index) == list(want)  # every metric, in the definitions' order
    for m, (cur, prev) in want.items():
        assert v.loc[m, "value"] == pytest.approx(cur, nan_ok=True), m
        assert v.loc[m, "previous"] == pytest.approx(prev, nan_ok=True), m
    assert v.loc["gmv", "change_pct"] == pytest.approx(60 / 120)
    assert v.loc["orders", "change"] == 2
    lo, hi = v.loc["session_conversion", ["ci_low", "ci_high"]]
    assert lo < 0.5 < hi and (lo, hi) == pytest.approx(kpi.conversion_ci(3, 6))
    lo, hi = v.loc["payment_conversion", ["ci_low", "ci_high"]]
    assert (lo, hi) == pytest.approx(kpi.conversion_ci(3, 4))
    assert np.isnan(v.loc["aov", "ci_low"])
    assert v.loc["roi", "note"] == "11.1% of the revenue has no unit cost: gross profit unknown"
    assert (v.drop(index="roi")["note"] == "").all()
    assert any("11.1% of the window's revenue has no unit cost" in n for n in res.notes)
    assert res.ok() and res.window == t_window()
    assert list(tab["layer"].unique()) == ["results", "users", "operations"]
    assert tab["label"].tolist() == [kpi.label(m) for m in want]


def t_window():
    return kpi.resolve_window("2024-01-08", "2024-01-14", None)


def test_roi_is_gross_profit_after_spend_and_never_revenue_over_spend():
    t = _tiny()
    costed = t["order_items"].fillna({"unit_cost": 5.0})
    v = _brief(t, order_items=costed, marketing_spend=t["marketing_spend"]).table
    v = v.set_index("metric")
    # window: o2's s2 line now costs 5 -> COGS 95, gross profit 180 - 95 = 85
    assert v.loc["roi", "value"] == pytest.approx((85 - 45) / 45)
    assert v.loc["roas", "value"] == pytest.approx(180 / 45)
    # spend without order lines: ROAS yes, ROI NaN with the reason
    bare = _brief(t, marketing_spend=t["marketing_spend"]).table.set_index("metric")
    assert bare.loc["roas", "value"] == pytest.approx(4.0)
    assert np.isnan(bare.loc["roi", "value"]) and np.isnan(bare.loc["roi", "previous"])
    assert bare.loc["roi", "note"] == "no order lines with unit costs: gross profit unknown"
    assert kpi.roi(50.0, 100.0, 0.0) == (-0.5, "")  # lost half the spend
    assert np.isnan(kpi.roi(50.0, 0.0, 0.0)[0])


def test_kpi_table_without_sessions_spend_or_items_says_so():
    t = _tiny()
    res = _brief(t)
    tab = res.table
    assert tab["metric"].tolist() == [
        "gmv",
        "orders",
        "aov",
        "spend_per_buyer",
        "new_customers",
        "active_customers",
        "returning_customers",
        "repurchase_rate",
        "churn_rate",
        "ltv",
    ]
    notes = " ".join(res.notes)
    for phrase in (
        "no sessions table: UV, PV, the funnel, payment and session conversion are left out",
        "no marketing_spend table: spend, ROAS, ROI and CAC are left out",
        "no order_items table",
        "no inventory table",
    ):
        assert phrase in notes
    # window_kpis alone (no traffic, no previous buyers): churn is left out and said so
    w = t_window()
    old = kpi.kpi_table(S.window_kpis(t["orders"], w, sessions=t["sessions"], ltv_days=7))
    assert "churn_rate" not in set(old.table["metric"])
    assert "session_conversion" not in set(old.table["metric"])
    assert any("brief_kpis" in n for n in old.notes)


def test_definitions_come_from_one_table():
    d = kpi.definitions()
    assert d["metric"].tolist() == [m.name for m in kpi.METRICS]
    assert list(d.columns) == ["layer", "metric", "label", "unit", "definition", "needs"]
    assert d["definition"].str.len().gt(10).all() and d["metric"].is_unique
    row = d.set_index("metric").loc["payment_conversion"]
    assert row["definition"].startswith("paying buyers / UV") and row["needs"] == "sessions"
    assert kpi.definitions(["roi", "gmv"])["metric"].tolist() == ["gmv", "roi"]
    assert kpi.label("spend_per_buyer").startswith("客单价")
    assert [r[1] for r in kpi.ROWS] == d["metric"].tolist()
    with pytest.raises(KeyError, match="unknown KPI 'conversion'"):
        kpi.definitions(["conversion"])


def test_channel_conversions_cac_roas_and_roi():
    t = _tiny()
    res = kpi.channel_table(
        S.channel_kpis(
            t["orders"],
            t_window(),
            sessions=t["sessions"],
            marketing_spend=t["marketing_spend"],
            order_items=t["order_items"],
        )
    )
    ch = res.table.set_index("channel")
    # jd: s5 (o4 paid), s6, s7 (o5 refunded) of visitor v4; buyer c
    assert ch.loc["jd", ["sessions", "order", "paid_sessions", "uv", "pv"]].tolist() == [
        3,
        2,
        1,
        1,
        2 + 1 + 3,
    ]
    assert ch.loc["jd", "session_conversion"] == pytest.approx(1 / 3)
    assert ch.loc["jd", "payment_conversion"] == pytest.approx(1 / 1)
    # tmall: s3 (o2), s4 (o3), s8 (o8 cancelled) of v1, v3, v5; buyers a, b
    assert ch.loc["tmall", "session_conversion"] == pytest.approx(2 / 3)
    assert ch.loc["tmall", "payment_conversion"] == pytest.approx(2 / 3)
    assert ch.loc["jd", "cac"] == pytest.approx(15.0)  # 15 spend / c
    assert ch.loc["tmall", "cac"] == pytest.approx(30.0)  # 30 spend / b
    assert ch.loc["jd", "roas"] == pytest.approx(40 / 15)
    assert ch.loc["tmall", "roas"] == pytest.approx(140 / 30)
    assert ch.loc["jd", "roi"] == pytest.approx((20 - 15) / 15)  # o4: 40 - 20 cost
    # tmall's o2 line s2 (20 of 140) has no cost: no ROI, and no fallback to 140 / 30
    assert np.isnan(ch.loc["tmall", "roi"])
    assert (
        ch.loc["tmall", "roi_note"] == "14.3% of the revenue has no unit cost: gross profit unknown"
    )
    assert any(n.startswith("ROI is not computable for tmall (14.3%") for n in res.notes)
    costed = t["order_items"].fillna({"unit_cost": 5.0})
    ch2 = kpi.channel_table(
        S.channel_kpis(
            t["orders"], t_window(), marketing_spend=t["marketing_spend"], order_items=costed
        )
    )
    # tmall: o2 50 - (20 + 5), o3 80 - 40, o6 10 - 10 -> 65
    assert ch2.table.set_index("channel").loc["tmall", "roi"] == pytest.approx((65 - 30) / 30)
    assert ch2.top_roi()["channel"] == "tmall" and ch2.notes == []


@pytest.fixture(scope="module")
def shop_daily():
    s = generate(customers=2000, seed=5)
    report = validate(s.tables, require=("orders",))
    daily = F.funnel(report.kept("sessions"), "day", "channel", orders=report.kept("orders"))
    return s.truth, daily


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
                {"period": [w.start], "channel": ["newshop"], "sessions": [5], "paid": [1]}
            ),
        ]
    )
    n = kpi.alerts(new, w, "sessions").table.set_index("channel")
    assert (
        not n.loc["newshop", "alert"]
        and "no sessions in the baseline" in n.loc["newshop", "reason"]
    )
    with pytest.raises(ValueError, match="daily needs columns"):
        kpi.alerts(daily.drop(columns="paid"), w, "conversion")


def test_channel_table_sections_and_picks():
    t = _tiny()
    w = kpi.resolve_window("2024-01-08", "2024-01-14", None)
    full = kpi.channel_table(
        S.channel_kpis(t["orders"], w, sessions=t["sessions"], marketing_spend=t["marketing_spend"])
    )
    assert full.ok("funnel") and full.ok("conversion") and full.ok("roi") and full.ok("top_roas")
    # no order lines: no gross profit, so no channel has an ROI
    assert (
        full.why("top_roi")
        == "no channel has an ROI: no order lines with unit costs: gross profit unknown"
    )
    best, worst = full.best_and_worst()
    assert (best["channel"], worst["channel"]) == ("tmall", "jd")  # 2/3 vs 1/3 paid sessions
    assert full.top_roas()["channel"] == "tmall"  # 140 / 30 against jd's 40 / 15
    bare = kpi.channel_table(S.channel_kpis(t["orders"], w))
    assert not bare.ok("funnel") and bare.why("funnel") == "the source has no sessions table"
    assert bare.why("roi") == "the source has no marketing_spend table"
    assert bare.why("top_roas") == "the source has no marketing_spend table" and bare.ok()
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
