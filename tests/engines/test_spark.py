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


def test_a_spark_folder_source_reads_parquet_as_duckdb_does(spark_shop, shop_files):
    src = open_source(spark_shop)
    assert src.backend == "pyspark" and src.uri == spark_shop
    assert {"orders", "order_items", "sessions", "inventory"} <= set(src.tables())
    ref = open_source(str(shop_files[0]))
    assert src.row_counts() == ref.row_counts()
    # pandas writes nanosecond timestamps, which Spark cannot read: the source converts them
    ours = ref.table("orders").select("order_id", "order_ts").to_pandas()
    theirs = src.table("orders").select("order_id", "order_ts").to_pandas()
    ours, theirs = ours.sort_values("order_id"), theirs.sort_values("order_id")
    assert (ours["order_ts"].to_numpy() == theirs["order_ts"].to_numpy()).all()


def test_a_spark_metastore_database_is_a_source(spark_backend, shop_files):
    session = spark_backend._session
    session.sql("CREATE DATABASE IF NOT EXISTS shopbook_db_test")
    frame = session.read.parquet(str(shop_files[1] / "products.parquet"))
    frame.write.mode("overwrite").saveAsTable("shopbook_db_test.products")
    src = open_source("spark://db/shopbook_db_test")
    assert src.tables() == ["products"]
    assert src.row_counts() == {"products": frame.count()}


def test_spark_sources_that_cannot_be_read_say_why(spark_backend, tmp_path):
    from shopbook.errors import ContractError

    with pytest.raises(ContractError, match="no folder"):
        open_source(f"spark://{tmp_path / 'missing'}")
    (tmp_path / "orders.csv").write_text("order_id\no1\n")
    with pytest.raises(ContractError, match="Parquet files in a spark:// folder"):
        open_source(f"spark://{tmp_path}")
    with pytest.raises(ContractError, match="metastore database 'nope_db'"):
        open_source("spark://db/nope_db")
