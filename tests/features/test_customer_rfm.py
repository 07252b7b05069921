"""The RFM engine step (shopbook.features.rfm): the scoring day and the per-customer aggregate.

Scores and segments of the same customers are tested in tests/analysis/test_rfm.py.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from shopbook.errors import ContractError
from shopbook.features import rfm as F

ASOF = "2024-01-11"


@pytest.fixture
def orders(make_orders) -> pd.DataFrame:
    """Four customers in January 2024; a cancelled and a refunded order, one order on asof."""
    return make_orders(
        [
            ("A", "2024-01-10 15:00", 50.0),
            ("A", "2024-01-08 15:00", 30.0),
            ("A", "2024-01-01 15:00", 20.0),
            ("B", "2024-01-10 15:00", 10.0),
            ("B", "2024-01-10 16:00", 999.0, "cancelled"),
            ("D", "2024-01-02 15:00", 10.0),
            ("D", "2024-01-04 15:00", 70.0, "refunded"),
            ("E", "2024-01-02 15:00", 5.0),
            ("E", "2024-01-11 15:00", 40.0),
        ]
    )


def test_customer_rfm_is_the_typed_engine_aggregate(orders):
    base = F.customer_rfm(orders, ASOF)
    assert list(base.columns) == list(F.CUSTOMER_RFM_COLUMNS)
    assert base["customer_id"].tolist() == ["A", "B", "D", "E"]
    assert base["frequency"].tolist() == [3, 1, 1, 1]  # cancelled, refunded, on-asof: out
    assert base["monetary"].tolist() == [100.0, 10.0, 10.0, 5.0]
    assert base["recency"].tolist() == [1, 1, 9, 9]
    assert base.dtypes[["frequency", "recency"]].eq("int64").all()
    assert base["monetary"].dtype == "float64"
    assert base.attrs == {"asof": pd.Timestamp(ASOF), "window_start": None, "statuses": ("paid",)}


def test_lookback_and_statuses(orders):
    recent = F.customer_rfm(orders, ASOF, lookback_days=5)
    assert recent["customer_id"].tolist() == ["A", "B"]
    assert recent["frequency"].tolist() == [2, 1]
    assert recent.attrs["window_start"] == pd.Timestamp("2024-01-06")
    wide = F.customer_rfm(orders, ASOF, statuses=("paid", "refunded")).set_index("customer_id")
    assert wide.loc["D", ["frequency", "monetary", "recency"]].tolist() == [2, 80.0, 7]
    with pytest.raises(ValueError, match="lookback_days must be a positive"):
        F.customer_rfm(orders, ASOF, lookback_days=0)


def test_rfm_base_is_an_ibis_expression_with_the_same_rows(orders):
    expr = F.rfm_base(orders, ASOF, lookback_days=5)
    assert isinstance(expr, ibis.Table)
    assert expr.count().execute() == len(F.customer_rfm(orders, ASOF, lookback_days=5))


def test_an_empty_window_is_an_empty_frame_that_says_when_the_orders_run(orders):
    base = F.customer_rfm(orders, "2023-06-01")
    assert base.empty and list(base.columns) == list(F.CUSTOMER_RFM_COLUMNS)
    first, last = base.attrs["order_span"]
    assert (str(first), str(last)) == ("2024-01-01", "2024-01-11")


def test_rfm_asof_is_the_day_after_end_or_after_the_last_order(orders):
    assert F.rfm_asof(orders) == pd.Timestamp("2024-01-12")
    assert F.rfm_asof(orders, "") == pd.Timestamp("2024-01-12")
    assert F.rfm_asof(orders, "2024-01-05") == pd.Timestamp("2024-01-06")
    with pytest.raises(ContractError, match="at least one order"):
        F.rfm_asof(orders.iloc[:0])


def test_orders_without_the_columns_rfm_reads(orders):
    with pytest.raises(ContractError, match="net_amount") as e:
        F.check_orders(orders.drop(columns="net_amount"))
    assert e.value.column == "net_amount"
    with pytest.raises(ContractError, match="expected a timestamp"):
        F.customer_rfm(orders.assign(order_ts=orders["order_ts"].astype(str)), ASOF)
    with pytest.raises(TypeError, match="ibis table or a pandas DataFrame"):
        F.customer_rfm([1, 2, 3])
