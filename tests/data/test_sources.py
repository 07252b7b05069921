import duckdb
import ibis
import pandas as pd
import pytest

from shopbook.data import ContractError, open_source
from shopbook.data.sources import Source, redact_uri


def _orders(n=3):
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": ["c1"] * n,
            "net_amount": [10.0] * n,
        }
    )


def test_dict_of_frames_gives_ibis_tables_in_contract_order():
    src = open_source({"products": pd.DataFrame({"sku": ["a"]}), "orders": _orders()})
    assert src.tables() == ["orders", "products"]
    t = src.table("orders")
    assert isinstance(t, ibis.Table)
    assert int(t.count().execute()) == 3
    assert src.backend == "duckdb"


def test_unknown_tables_are_ignored_and_missing_ones_are_a_clear_error():
    src = open_source({"orders": _orders(), "notes": pd.DataFrame({"x": [1]})})
    assert src.tables() == ["orders"]
    with pytest.raises(ContractError) as err:
        src.table("sessions")
    msg = str(err.value)
    assert "sessions" in msg and "orders" in msg and "Fix:" in msg


def test_folder_of_csv_and_parquet(tmp_path):
    _orders().to_csv(tmp_path / "orders.csv", index=False)
    pd.DataFrame({"sku": ["a", "b"], "name": ["A", "B"]}).to_parquet(tmp_path / "products.parquet")
    src = open_source(tmp_path)
    assert src.tables() == ["orders", "products"]
    # CSV is read as text: typing is the validator's job
    assert src.table("orders").schema()["net_amount"].is_string()
    assert src.row_counts() == {"orders": 3, "products": 2}


def test_duckdb_file_is_opened_read_only(tmp_path):
    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.register("f", _orders())
    con.execute("create table orders as select * from f")
    con.close()
    src = open_source(path)
    assert src.row_counts() == {"orders": 3}
    with pytest.raises(duckdb.Error, match="read-only"):
        src.con.raw_sql("create table x as select 1")


def test_column_mapping_from_dict_and_yaml(tmp_path):
    frame = _orders().rename(columns={"order_id": "OrderNo", "customer_id": "BuyerId"})
    mapping = {
        "orders": {
            "table": "tbl_order",
            "columns": {"OrderNo": "order_id", "BuyerId": "customer_id"},
        }
    }
    src = open_source({"tbl_order": frame}, mapping=mapping)
    assert {"order_id", "customer_id"} <= set(src.table("orders").columns)

    folder = tmp_path / "src"
    folder.mkdir()
    frame.to_csv(folder / "tbl_order.csv", index=False)
    (folder / "mapping.yml").write_text(
        "orders:\n  table: tbl_order\n  columns:\n    OrderNo: order_id\n    BuyerId: customer_id\n"
    )
    src = open_source(folder)
    assert src.tables() == ["orders"]
    assert {"order_id", "customer_id"} <= set(src.table("orders").columns)


def test_column_names_match_case_insensitively():
    src = open_source({"ORDERS": _orders().rename(columns=str.upper)})
    assert {"order_id", "customer_id", "net_amount"} <= set(src.table("orders").columns)


def test_mapping_to_an_unknown_table_is_refused():
    with pytest.raises(ContractError, match="ordres"):
        open_source({"orders": _orders()}, mapping={"ordres": {"a": "b"}})


def test_missing_path_says_how_to_make_data(tmp_path):
    with pytest.raises(ContractError, match="shopbook sample"):
        open_source(tmp_path / "nope.duckdb")


def test_default_source_comes_from_the_environment(tmp_path, monkeypatch):
    _orders().to_parquet(tmp_path / "orders.parquet")
    monkeypatch.setenv("SHOPBOOK_SOURCE", str(tmp_path))
    assert open_source().tables() == ["orders"]


def test_an_open_source_is_passed_through():
    src = open_source({"orders": _orders()})
    assert open_source(src) is src and isinstance(src, Source)


def test_credentials_are_redacted_from_uris():
    assert redact_uri("postgres://ana:s3cret@db:5432/shop") == "postgres://ana:***@db:5432/shop"
    assert redact_uri("data/shop.duckdb") == "data/shop.duckdb"


def test_an_all_missing_column_in_a_frame_is_read_as_text():
    src = open_source(
        {"customers": pd.DataFrame({"customer_id": ["a", "b"], "region": [None, None]})}
    )
    frame = src.table("customers").execute()
    assert frame["region"].isna().all() and len(frame) == 2


def test_duckdb_prints_no_progress_bar(tmp_path):
    _orders().to_csv(tmp_path / "orders.csv", index=False)
    src = open_source(tmp_path)
    assert src.con.raw_sql("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False


def test_sources_without_unreadable_rows_have_empty_read_rejects(tmp_path):
    src = open_source({"orders": _orders()})
    rows = src.read_rejects("orders")
    assert list(rows.columns) == ["file", "line", "reason", "raw"] and rows.empty
    _orders().to_parquet(tmp_path / "orders.parquet")
    assert open_source(tmp_path).read_rejects("orders").empty
    with pytest.raises(ContractError, match="sessions"):
        src.read_rejects("sessions")


def test_a_table_file_beside_a_table_folder_is_read_with_it(tmp_path):
    _orders(2).to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "orders").mkdir()
    _orders(3).to_parquet(tmp_path / "orders" / "part-0.parquet")
    assert open_source(tmp_path).row_counts() == {"orders": 5}


def test_the_subpackage_keeps_the_public_names():
    import shopbook.data.sources as sources

    for name in sources.__all__:
        assert hasattr(sources, name), name
    assert sources.open_source is open_source and sources.Source is Source
