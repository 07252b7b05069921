"""Cohort retention (shopbook.analysis.retention on features.cohorts) and its figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from shopbook.analysis import retention  # noqa: E402
from shopbook.features import cohorts as fc  # noqa: E402
from shopbook.features.orders import order_span  # noqa: E402
from shopbook.viz import cohort as vz  # noqa: E402
from shopbook.viz.theme import title_of  # noqa: E402


def _table(orders, period="month", end=None, segments=None):
    """The cohort table as a notebook builds it: the activity in the engine, then pandas."""
    activity = fc.cohort_activity(orders, period, segments).to_pandas()
    return retention.cohort_table(
        activity, end if end is not None else order_span(orders)[1], period
    )


def _matrix(orders, period="month", end=None):
    return retention.retention_matrix(_table(orders, period, end), period)


def _times(orders, segments=None):
    return fc.second_purchase_times(orders, segments=segments).to_pandas()


def _second(orders, within=(7, 30), segments=None):
    return retention.time_to_second_purchase(_times(orders, segments), within=within)


@pytest.fixture(scope="module")
def shop(make_orders):
    """Three January customers, two February customers; data end 2024-03-31."""
    return make_orders(
        [
            ("a", "2024-01-03 10:00", 10.0, "paid", "tmall"),
            ("a", "2024-01-03 20:00", 5.0, "paid", "jd"),  # same day: not a second purchase
            ("a", "2024-02-10 10:00", 20.0, "paid", "tmall"),
            ("a", "2024-03-05 10:00", 30.0),
            ("b", "2024-01-15 10:00", 8.0, "paid", "jd"),
            ("b", "2024-01-20 10:00", 4.0, "paid", "jd"),  # second purchase after 5 days
            ("b", "2024-02-01 10:00", 50.0, "refunded", "jd"),  # not a purchase
            ("c", "2024-01-31 23:00", 6.0, "paid", "jd"),
            ("d", "2024-02-02 10:00", 12.0, "paid", "site"),
            ("d", "2024-03-31 10:00", 3.0),
            ("e", "2024-02-28 10:00", 9.0, "paid", "site"),
        ]
    )


@pytest.fixture(scope="module")
def sample(cdnow_sample):
    return cdnow_sample


def test_retention_matrix_by_hand(shop):
    m = _matrix(shop, "month")
    assert list(m.index) == ["2024-01", "2024-02"]
    assert list(m.attrs["sizes"]) == [3, 2]
    np.testing.assert_allclose(m.loc["2024-01"].to_numpy(), [1.0, 1 / 3, 1 / 3])
    np.testing.assert_allclose(m.loc["2024-02"].to_numpy()[:2], [1.0, 0.5])
    assert np.isnan(m.loc["2024-02", 2])  # April has not happened: unknown, not zero


def test_incomplete_periods_are_nan(shop):
    m = _matrix(shop, "month", end="2024-03-30")
    assert np.isnan(m.loc["2024-01", 2]) and np.isnan(m.loc["2024-02", 1])
    assert m.loc["2024-01", 1] == pytest.approx(1 / 3)


def test_weekly_cohorts(shop):
    m = _matrix(shop, "week")
    # ISO weeks start on Monday: 2024-01-01 is a Monday
    assert m.index[0] == "2024-01-01"
    assert m.attrs["sizes"].loc["2024-01-01"] == 1  # a
    assert m.attrs["sizes"].loc["2024-01-15"] == 1  # b
    assert m.loc["2024-01-15", 0] == 1.0
    # b's second purchase (Jan 20, a Saturday) is in the same week as the first
    assert m.loc["2024-01-15", 1] == 0.0


def test_cohort_table_revenue_and_ltv(shop):
    t = _table(shop, "month").set_index(["cohort", "period"])
    jan = t.loc[pd.Timestamp("2024-01-01")]
    assert list(jan["revenue"]) == [10 + 5 + 8 + 4 + 6, 20.0, 30.0]
    assert list(jan["orders"]) == [5, 1, 1] and list(jan["purchases"]) == [4, 1, 1]
    ltv = retention.ltv_curves(_table(shop, "month"), "month")
    np.testing.assert_allclose(ltv.loc["2024-01"].to_numpy(), np.cumsum([33.0, 20.0, 30.0]) / 3)
    assert ltv.loc["2024-02", 0] == pytest.approx(21 / 2)
    rev = retention.revenue_matrix(_table(shop, "month"), "month")
    assert rev.loc["2024-01", 1] == 20.0 and np.isnan(rev.loc["2024-02", 2])
    per = retention.revenue_matrix(_table(shop, "month"), "month", per_customer=True)
    assert per.loc["2024-01", 2] == pytest.approx(10.0)


def test_repurchase_rates(shop):
    r = retention.repurchase_rates(_times(shop, fc.cohort_segments(shop, "month")), "month")
    assert r.loc["2024-01", "customers"] == 3 and r.loc["2024-01", "repeaters"] == 2  # a, b
    assert r.loc["2024-02", "repeaters"] == 1  # d
    assert r.loc["all", "repurchase_rate"] == pytest.approx(3 / 5)


def test_time_to_second_purchase_by_hand(shop):
    res = _second(shop, within=(7, 30, 60))
    s = res.figures
    assert s["customers"] == 5 and s["repeaters"] == 3
    gaps = dict(zip(res.gaps["days"], res.gaps["customers"], strict=True))
    assert gaps == {5: 1, 38: 1, 58: 1}  # b, a (Jan 3 → Feb 10), d (Feb 2 → Mar 31)
    # Kaplan–Meier: at day 5 one of five at risk comes back → 20 %
    assert s["share_within_7d"] == pytest.approx(0.2)
    # c is censored at 60 days, e at 32: at day 38 the risk set is {a, c, d}
    assert s["share_within_60d"] == pytest.approx(1 - (4 / 5) * (2 / 3) * (1 / 2))
    assert s["median_gap_days"] == 38


def test_kaplan_meier_equals_naive_share_without_censoring(sample):
    # Every CDNOW sample customer is observed for more than 15 months.
    res = _second(sample, within=(7, 30))
    times = fc.second_purchase_times(sample).to_pandas()
    n = times["customers"].sum()
    for d in (7, 30):
        naive = times[times["repeated"] & (times["days"] <= d)]["customers"].sum() / n
        assert res.figures[f"share_within_{d}d"] == pytest.approx(naive)
    assert res.figures["repeaters"] == 1139 and res.figures["customers"] == 2357


def test_segments(shop):
    seg = fc.acquisition_segments(shop)
    labels = dict(seg.to_pandas().values)
    assert labels == {"a": "tmall", "b": "jd", "c": "jd", "d": "site", "e": "site"}
    by = retention.retention_by_segment(_table(shop, "month", segments=seg), periods=(1,))
    assert by.loc["jd", "customers"] == 2 and by.loc["jd", "period_1"] == 0.0
    assert by.loc["tmall", "period_1"] == 1.0
    split = _second(shop, segments=seg)
    assert set(split) == {"jd", "site", "tmall"} and split["jd"].figures["repeaters"] == 1
    customers = pd.DataFrame({"customer_id": ["a", "b"], "region": ["north", None]})
    reg = dict(fc.acquisition_segments(shop, customers, by="region").to_pandas().values)
    assert reg["a"] == "north" and reg["b"] == "(unknown)" and reg["e"] == "(unknown)"
    with pytest.raises(ValueError, match="no column"):
        fc.acquisition_segments(shop, customers, by="tier")


def test_cdnow_cohorts_match_a_pandas_computation(sample):
    m = _matrix(sample, "month")
    o = sample.assign(day=sample["order_ts"].dt.normalize())
    first = o.groupby("customer_id")["day"].min()
    coh = first.dt.to_period("M")
    assert list(m.attrs["sizes"]) == list(coh.value_counts().sort_index())
    k = o["day"].dt.to_period("M").astype("int64") - o["customer_id"].map(coh).astype("int64")
    active = o.assign(k=k, c=o["customer_id"].map(coh)).groupby(["c", "k"])["customer_id"].nunique()
    expect = active.unstack().div(coh.value_counts().sort_index(), axis=0)
    np.testing.assert_allclose(m.to_numpy(), expect.to_numpy(), equal_nan=True)
    assert m.shape == (3, 18)


def test_bad_period(shop):
    with pytest.raises(ValueError, match="period"):
        _matrix(shop, "quarter")
    with pytest.raises(ValueError, match="period"):
        retention.retention_matrix(_table(shop, "month"), "quarter")


def test_figures_draw_and_return_axes(shop, sample):
    m = _matrix(sample, "month")
    figs = [
        vz.retention_heatmap(m),
        vz.ltv_curves(retention.ltv_curves(_table(sample)), currency="USD"),
        vz.second_purchase_curve(_second(sample)),
        vz.second_purchase_curve(_second(shop, segments=fc.acquisition_segments(shop))),
    ]
    for ax in figs:
        assert title_of(ax) and ax.get_xlabel()
        plt.close(ax.figure)
    fig, ax = plt.subplots()
    assert vz.retention_heatmap(m, ax=ax) is ax
    plt.close(fig)


def test_available_segments(shop):
    assert list(fc.available_segments(shop)) == ["first-order channel"]
    same = pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "acquisition_channel": ["tmall", "jd", "jd", "site", "site"],
            "region": ["n", "s", "n", "n", None],
        }
    )
    segs = fc.available_segments(shop, same)
    assert list(segs) == [
        "first-order channel",
        "region",
    ]  # acquisition_channel duplicates the first
    one_channel = shop.assign(channel="web")
    assert fc.available_segments(one_channel) == {}


def test_pooled_retention(shop):
    t = _table(shop, "month")
    pooled = retention.pooled_retention(t, periods=(1, 2, 5))
    assert pooled[1] == pytest.approx((1 + 1) / 5)  # a in Feb; d in March
    assert pooled[2] == pytest.approx(1 / 3)  # only January is observed for 2 months
    assert np.isnan(pooled[5])


def test_cohort_table_needs_purchases_and_segments_need_a_segment_column(shop):
    with pytest.raises(ValueError, match="no purchases"):
        retention.cohort_table(fc.cohort_activity(shop.iloc[:0]).to_pandas(), "2024-03-31")
    with pytest.raises(ValueError, match="segment"):
        retention.retention_by_segment(_table(shop, "month"))
    with pytest.raises(ValueError, match="no purchases"):
        retention.time_to_second_purchase(_times(shop.iloc[:0]))


def test_cohort_labels_name_the_period_a_day_falls_in():
    days = pd.Series(pd.to_datetime(["2024-01-31", "2024-01-01", "2024-01-07", "2024-01-08"]))
    assert list(retention.cohort_labels(days, "month")) == ["2024-01"] * 4
    # weeks start on Monday (2024-01-01 is a Monday)
    weeks = retention.cohort_labels(days, "week")
    assert list(weeks) == ["2024-01-29", "2024-01-01", "2024-01-01", "2024-01-08"]
    assert weeks.name == "cohort"
    # the labels of the retention triangle are the same labels
    assert list(retention.cohort_labels(["2024-02-01"], "M")) == ["2024-02"]


def test_cohort_segments_label_each_customer_with_the_cohort_start(shop):
    seg = dict(fc.cohort_segments(shop, "month").to_pandas().values)
    assert seg == {"a": "2024-01-01", "b": "2024-01-01", "c": "2024-01-01"} | {
        "d": "2024-02-01",
        "e": "2024-02-01",
    }
    weeks = dict(fc.cohort_segments(shop, "week").to_pandas().values)
    assert weeks["b"] == "2024-01-15" and weeks["e"] == "2024-02-26"


def test_second_purchase_shares_by_segment(shop):
    split = _second(shop, within=(7, 30), segments=fc.acquisition_segments(shop))
    shares = retention.second_purchase_shares(split, within=(7, 30))
    assert list(shares.columns) == ["share_within_7d", "share_within_30d"]
    assert set(shares.index) == {"jd", "site", "tmall"}
    for seg, res in split.items():
        assert shares.loc[seg, "share_within_7d"] == res.figures["share_within_7d"]
    assert shares.loc["jd", "share_within_7d"] == pytest.approx(0.5)  # b after 5 days; c never
