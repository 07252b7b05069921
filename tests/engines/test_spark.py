"""The same source and validation code on Spark (local mode) as on DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

from shopbook.data import open_source, validate

from .test_postgres import _tables

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_source(spark_backend):
    for name, frame in _tables().items():
        spark_backend.create_table(name, frame, overwrite=True)
    return open_source(spark_backend)


def test_spark_source_lists_contract_tables(spark_source):
    assert spark_source.backend == "pyspark"
    assert spark_source.tables() == ["orders", "order_items"]


def test_validation_gives_the_same_health_on_spark_as_on_duckdb(spark_source):
    now = "2025-01-01"
    on_spark = validate(spark_source, now=now).health_table()
    on_duckdb = validate(_tables(), now=now).health_table()
    pd.testing.assert_frame_equal(on_spark.reset_index(drop=True), on_duckdb.reset_index(drop=True))
