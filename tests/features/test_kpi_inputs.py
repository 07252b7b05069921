"""shopbook.features.customers.window_retention and shopbook.features.brief.brief_kpis:
the counts behind churn, UV, PV and paid sessions, by hand and against pandas."""

from __future__ import annotations

import pandas as pd
import pytest

from shopbook.data.synthetic import generate
from shopbook.data.validation import validate
from shopbook.features import brief as B
from shopbook.features.customers import window_retention
from shopbook.features.periods import resolve_window


def _orders() -> pd.DataFrame:
    # window 2024-01-08..14 (7 days); the window before is 2024-01-01..07
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(1, 9)],
            "customer_id": ["a", "a", "b", "b", "c", "d", "e", "e"],
            "order_ts": pd.to_datetime(
                [
                    "2024-01-01 00:00",  # a before ...
                    "2024-01-14 23:59",  # ... and in the window: retained
                    "2024-01-07 23:59",  # b before ...
                    "2024-01-09 10:00",  # ... and again, refunded: not retained
                    "2024-01-03 12:00",  # c before only: churned
                    "2024-01-10 12:00",  # d new in the window: not in either count
                    "2023-12-31 23:59",  # e the day before the window before: not counted
                    "2024-01-05 10:00",  # e again, cancelled: not a buyer
                ]
            ),
            "channel": "jd",
            "status": ["paid", "paid", "paid", "refunded", "paid", "paid", "paid", "cancelled"],
            "net_amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
        }
    )


def test_window_retention_hand_computed():
    r = window_retention(_orders(), "2024-01-08", "2024-01-14")
    assert (r["before_start"], r["before_end"]) == (
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-07"),
    )
    # buyers before: a, b, c; of them only a bought (paid) in the window -> churn 2/3
    assert (r["previous_buyers"], r["retained"]) == (3, 1)
    wide = window_retention(_orders(), "2024-01-08", "2024-01-14", statuses=("paid", "refunded"))
    assert (wide["previous_buyers"], wide["retained"]) == (3, 2)  # b's refund counts now
    day = window_retention(_orders(), "2024-01-01", "2024-01-01")  # before: 2023-12-31
    assert (day["previous_buyers"], day["retained"]) == (1, 0)  # e; e's 01-05 is outside


@pytest.fixture(scope="module")
def shop():
    s = generate(customers=1500, seed=3)
    return s, validate(s.tables, require=("orders",))


def test_brief_kpis_equal_pandas_on_the_synthetic_shop(shop):
    s, report = shop
    w = resolve_window("2024-05-06", "2024-05-19", None)  # two weeks
    got = B.brief_kpis(report.kept("orders"), w, sessions=report.kept("sessions"))
    o, ss = report.kept("orders").to_pandas(), report.kept("sessions").to_pandas()
    paid = o[o["status"] == "paid"]
    for name, (a, b) in {
        "current": (w.start, w.end),
        "previous": (w.prev_start, w.prev_end),
    }.items():
        L = (b - a).days + 1
        e = b + pd.Timedelta(days=1)

        def buyers(x, y):
            return set(paid.loc[(paid["order_ts"] >= x) & (paid["order_ts"] < y), "customer_id"])

        before, now = buyers(a - pd.Timedelta(days=L), a), buyers(a, e)
        in_w = ss[(ss["session_ts"] >= a) & (ss["session_ts"] < e)]
        row = got.loc[name]
        assert row["previous_buyers"] == len(before) > 0
        assert row["retained"] == len(before & now)
        assert row["visitors"] == in_w["visitor_id"].nunique()
        assert row["pageviews"] == in_w["pageviews"].sum()
        assert row["paid"] == in_w["order_id"].isin(paid["order_id"]).sum()
        assert row["paid"] <= row["order"]  # the synthetic shop has no refunds: see test_funnel
    assert set(B.TRAFFIC_COLUMNS) <= set(got.columns)
    bare = B.brief_kpis(report.kept("orders"), w)
    assert not set(B.TRAFFIC_COLUMNS) & set(bare.columns) and "retained" in bare


def test_retention_by_window_is_window_retention_of_each():
    from shopbook.features.customers import retention_by_window

    windows = {
        "a": ("2024-01-08", "2024-01-14"),
        "b": ("2024-01-01", "2024-01-01"),
        "none": ("2030-01-01", "2030-01-31"),  # no orders: zeros
        "c": ("2024-01-05", "2024-01-12"),  # overlapping windows are fine here
    }
    got = retention_by_window(_orders(), windows)
    assert list(got.index) == list(windows) and got.index.name == "window"
    for name, (a, b) in windows.items():
        assert got.loc[name].to_dict() == window_retention(_orders(), a, b)


def test_each_window_part_counts_both_windows_in_one_query_as_each_alone(shop):
    """sales, LTV, margin and funnel by window equal the single-window functions."""
    from shopbook.features import funnel as F
    from shopbook.features import sales as S
    from shopbook.features.orders import window_of

    _, report = shop
    o, it, s = report.kept("orders"), report.kept("order_items"), report.kept("sessions")
    windows = {
        "w": ("2024-03-04", "2024-03-10"),
        "empty": ("2031-01-01", "2031-01-07"),
        "v": ("2024-02-26", "2024-03-03"),
    }
    sales = S.sales_by_window(o, windows)
    ltv = S.ltv_by_window(o, {k: b for k, (_, b) in windows.items()}, ltv_days=30)
    margin = S.margin_by_window(o, it, windows)
    counts = F.funnel_by_window(s, windows, orders=o)
    for name, (a, b) in windows.items():
        assert sales.loc[name].to_dict() == pytest.approx(S.window_sales(o, a, b))
        one = S.ltv(o, b, ltv_days=30)
        assert ltv.loc[name, "customers"] == one["customers"]
        assert ltv.loc[name, "cohort_start"] == one["cohort_start"]
        assert ltv.loc[name, "ltv"] == pytest.approx(one["ltv"], nan_ok=True)
        m = S.margin(o, it, a, b).iloc[0]
        pd.testing.assert_series_equal(margin.loc[name], m, check_names=False, rtol=1e-12)
        f = F.funnel(s, None, None, start=a, end=b, orders=o)
        want = f.iloc[0] if len(f) else pd.Series(0, index=f.columns)
        assert counts.loc[name].to_dict() == want.astype("int64").to_dict()
    assert sales.loc["empty"].eq(0).all() and counts.loc["empty"].eq(0).all()
    assert margin.loc["empty", "revenue"] == 0.0 and pd.isna(margin.loc["empty", "margin"])
    with pytest.raises(ValueError, match="windows 'a' and 'b' overlap"):
        window_of(
            o.order_ts, {"a": ("2024-01-01", "2024-01-07"), "b": ("2024-01-07", "2024-01-09")}
        )
