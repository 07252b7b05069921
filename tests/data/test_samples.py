import pandas as pd
import pytest

from shopbook.data import open_source
from shopbook.data.contract import ORDERS
from shopbook.data.samples import (
    CDNOW_CUSTOMERS,
    CDNOW_ROWS,
    CDNOW_SAMPLE_CUSTOMERS,
    cdnow,
    cdnow_sample,
    write_tables,
)


@pytest.fixture(scope="module")
def orders():
    return cdnow()


def test_cdnow_has_the_published_size_and_span(orders):
    assert len(orders) == CDNOW_ROWS == 69_659
    assert orders["customer_id"].nunique() == CDNOW_CUSTOMERS == 23_570
    assert orders["order_ts"].min() == pd.Timestamp("1997-01-01")
    assert orders["order_ts"].max() == pd.Timestamp("1998-06-30")


def test_cdnow_is_contract_orders(orders):
    usual = ORDERS.usual_column_names
    assert list(orders.columns[: len(usual)]) == usual
    assert orders["order_id"].is_unique
    assert set(orders["status"]) == {"paid"} and set(orders["currency"]) == {"USD"}
    assert set(orders["channel"]) == {"web"}
    assert (orders["net_amount"] >= 0).all()
    assert (orders["gross_amount"] - orders["discount_amount"] == orders["net_amount"]).all()


def test_zero_dollar_rows_are_kept_as_paid_orders(orders):
    assert (orders["net_amount"] == 0).sum() == 80


def test_cdnow_sample_is_the_2357_customer_subset(orders):
    sample = cdnow_sample()
    assert sample["customer_id"].nunique() == CDNOW_SAMPLE_CUSTOMERS
    assert len(sample) == 6_919
    assert set(sample["customer_id"]) <= set(orders["customer_id"])


def test_lifetimes_is_not_imported_to_read_cdnow():
    import subprocess
    import sys

    code = (
        "import sys; from shopbook.data.samples import cdnow; cdnow(); "
        "print('lifetimes' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("target", ["shop.duckdb", "folder"])
def test_written_tables_open_as_a_source(tmp_path, target):
    frame = cdnow_sample()
    path = write_tables({"orders": frame}, tmp_path / target)
    src = open_source(path)
    assert src.tables() == ["orders"]
    assert src.row_counts() == {"orders": len(frame)}
