"""The BTYD customer summary computed in the engine (shopbook.features.customers)."""

import importlib.metadata

import ibis
import numpy as np
import pandas as pd
import pytest

from shopbook.data import open_source
from shopbook.data.samples import write_tables
from shopbook.features.customers import customer_summary, purchase_days, summary_patterns


@pytest.fixture(scope="module")
def sample(cdnow_sample):
    return cdnow_sample


@pytest.fixture(scope="module")
def summary(sample):
    return (
        customer_summary(sample, "1997-09-30", "1998-06-30", period="week")
        .to_pandas()
        .set_index("customer_id")
        .sort_index()
    )


def test_matches_lifetimes_calibration_and_holdout_data(sample, summary):
    from lifetimes.utils import calibration_and_holdout_data

    peer = calibration_and_holdout_data(
        sample,
        "customer_id",
        "order_ts",
        calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30",
        freq="D",
        freq_multiplier=7,
        monetary_value_col="net_amount",
    ).sort_index()
    assert list(summary.index) == list(peer.index)
    for ours, theirs in [
        ("frequency", "frequency_cal"),
        ("recency", "recency_cal"),
        ("T", "T_cal"),
        ("monetary_value", "monetary_value_cal"),
        ("frequency_holdout", "frequency_holdout"),
        ("duration_holdout", "duration_holdout"),
    ]:
        np.testing.assert_allclose(summary[ours], peer[theirs], rtol=1e-12, atol=1e-9, err_msg=ours)
    # lifetimes averages raw holdout rows for monetary_value_holdout (not purchase days as
    # it does for the calibration period); ours is per purchase day in both periods.
    rep = summary[summary["frequency_holdout"] > 0]
    days = purchase_days(sample).to_pandas()
    day = pd.to_datetime(days["day"])
    days = days[(day > "1997-09-30") & (day <= "1998-06-30")]
    np.testing.assert_allclose(
        rep["monetary_value_holdout"], days.groupby("customer_id")["amount"].mean().loc[rep.index]
    )


def test_matches_the_published_cdnow_summary(summary):
    """lifetimes ships Fader & Hardie's own 39-week summary (x, t_x, T rounded to 0.01)."""
    path = importlib.metadata.distribution("lifetimes").locate_file(
        "lifetimes/datasets/cdnow_customers_summary_with_transactions.csv"
    )
    ref = pd.read_csv(path)
    assert len(summary) == len(ref) == 2357
    # The file numbers customers by their position in the sample file, which the contract
    # orders do not keep: compare the rows as a multiset.
    keys = ["x", "t_x", "T", "zbar"]
    ours = summary.rename(columns={"frequency": "x", "recency": "t_x", "monetary_value": "zbar"})[
        keys
    ]
    ours = ours.round(2).sort_values(keys).to_numpy()
    theirs = ref[keys].sort_values(keys).to_numpy()
    np.testing.assert_allclose(ours, theirs, atol=0.0101)
    np.testing.assert_array_equal(ours[:, 0], theirs[:, 0])
    assert summary["frequency"].sum() == 2457 and summary["frequency_holdout"].sum() == 1882


def test_rules_on_a_hand_built_shop(make_orders):
    orders = make_orders(
        [
            ("a", "2024-01-01 09:00", 10.0),
            ("a", "2024-01-01 18:00", 5.0),  # same day: one purchase event of 15
            ("a", "2024-01-08 10:00", 20.0),
            ("a", "2024-01-15 10:00", 40.0),
            ("a", "2024-01-20 10:00", 99.0, "refunded"),  # not a purchase
            ("a", "2024-02-10 10:00", 7.0),  # holdout
            ("b", "2024-01-10 10:00", 8.0),
            ("b", "2024-01-11 10:00", 3.0, "cancelled"),
            ("c", "2024-02-01 10:00", 9.0),  # first purchase after calibration: not in summary
        ]
    )
    s = customer_summary(orders, "2024-01-31", "2024-02-29").to_pandas().set_index("customer_id")
    assert sorted(s.index) == ["a", "b"]
    a, b = s.loc["a"], s.loc["b"]
    assert (a["frequency"], a["recency"], a["T"]) == (2, 14.0, 30.0)
    assert a["monetary_value"] == pytest.approx(30.0)  # mean of 20 and 40; first day (15) excluded
    assert (a["frequency_holdout"], a["monetary_value_holdout"], a["duration_holdout"]) == (
        1,
        7.0,
        29.0,
    )
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 21.0, 0.0)
    assert b["frequency_holdout"] == 0
    weeks = (
        customer_summary(orders, "2024-01-31", period="week").to_pandas().set_index("customer_id")
    )
    assert weeks.loc["a", "recency"] == pytest.approx(2.0) and weeks.loc["a", "T"] == pytest.approx(
        30 / 7
    )
    assert "frequency_holdout" not in weeks.columns
    every = (
        customer_summary(orders, "2024-01-31", statuses=None).to_pandas().set_index("customer_id")
    )
    assert every.loc["a", "frequency"] == 3 and every.loc["b", "frequency"] == 1


def test_default_calibration_end_is_the_last_purchase_day(make_orders):
    orders = make_orders(
        [("a", "2024-01-01", 1.0), ("a", "2024-01-05", 2.0), ("b", "2024-01-09", 3.0)]
    )
    s = customer_summary(orders).to_pandas().set_index("customer_id")
    assert s.loc["a", "T"] == 8 and s.loc["b", "T"] == 0


def test_period_aliases_and_weeks(sample, summary):
    weeks = (
        customer_summary(sample, "1997-09-30", "1998-06-30", period="W")
        .to_pandas()
        .set_index("customer_id")
        .sort_index()
    )
    pd.testing.assert_frame_equal(weeks, summary)
    days = customer_summary(sample, "1997-09-30", period="day").to_pandas()
    assert days["T"].max() == 7 * summary["T"].max()


def test_runs_in_the_engine_of_a_duckdb_source(tmp_path, sample, summary):
    path = write_tables({"orders": sample}, tmp_path / "shop.duckdb")
    with open_source(path) as src:
        expr = customer_summary(src.table("orders"), "1997-09-30", "1998-06-30", period="week")
        assert isinstance(expr, ibis.Table)
        out = expr.to_pandas().set_index("customer_id").sort_index()
        pat = summary_patterns(expr).to_pandas()
    pd.testing.assert_frame_equal(out[summary.columns], summary, check_dtype=False)
    assert pat["customers"].sum() == 2357
    assert not pat.duplicated(["frequency", "recency", "T"]).any()


def test_parameter_errors(sample):
    with pytest.raises(ValueError, match="period"):
        customer_summary(sample, "1997-09-30", period="month")
    with pytest.raises(ValueError, match="after calibration_end"):
        customer_summary(sample, "1997-09-30", "1997-09-30")
