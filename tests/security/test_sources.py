"""Opening a hostile source (issue 13, items 3, 6, 7): connection failures and misspelt
schemes are one-line errors whose address has its password redacted; mappings that name
a missing table or are not YAML are one-line errors naming the mapping file."""

from __future__ import annotations

import socket

import pandas as pd
import pytest

from shopbook.data import ContractError, open_source, validate

SECRET = "hunter2xyz"


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_line(err: pytest.ExceptionInfo[ContractError]) -> str:
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


def orders() -> pd.DataFrame:
    return pd.DataFrame({"order_id": ["o1"], "customer_id": ["c1"]})


def test_a_connection_failure_is_one_line_without_the_password():
    uri = f"postgres://ana:{SECRET}@127.0.0.1:{closed_port()}/shop"
    with pytest.raises(ContractError) as err:
        open_source(uri)
    msg = one_line(err)
    assert SECRET not in msg
    assert "postgres://ana:***@127.0.0.1" in msg and "refused" in msg and "Fix:" in msg
    # nothing of the driver's exception travels along to a traceback
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_password_with_an_at_sign_is_redacted_too():
    password = "p@ss" + SECRET
    with pytest.raises(ContractError) as err:
        open_source(f"postgres://ana:{password}@127.0.0.1:{closed_port()}/shop")
    msg = one_line(err)
    assert SECRET not in msg and "ss" + SECRET not in msg


def test_a_misspelt_scheme_is_one_line_with_a_suggestion_and_no_password():
    with pytest.raises(ContractError) as err:
        open_source(f"postgress://ana:{SECRET}@127.0.0.1:1/shop")
    msg = one_line(err)
    assert SECRET not in msg
    assert "postgress://ana:***@127.0.0.1:1/shop" in msg and "did you mean postgres://" in msg


def test_the_source_address_is_redacted_in_the_source_itself(tmp_path):
    with pytest.raises(ContractError) as err:  # a path with a secret-looking query
        open_source(str(tmp_path / f"shop.duckdb?password={SECRET}"))
    assert SECRET not in one_line(err)


def test_a_broken_duckdb_file_is_one_line(tmp_path):
    path = tmp_path / "shop.duckdb"
    path.write_bytes(b"")
    with pytest.raises(ContractError) as err:
        open_source(path)
    assert "shop.duckdb" in one_line(err)
    path.write_bytes(b"not a database" * 1000)
    with pytest.raises(ContractError) as err:
        open_source(path)
    assert "shop.duckdb" in one_line(err)


def test_a_mapping_to_a_table_the_source_does_not_hold_is_an_error(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    orders().to_csv(folder / "tbl_order.csv", index=False)
    mapping = folder / "mapping.yml"
    mapping.write_text("orders:\n  table: tbl_ordr\n")
    with pytest.raises(ContractError) as err:
        validate(folder)
    msg = one_line(err)
    assert str(mapping) in msg and "tbl_ordr" in msg and "tbl_order" in msg
    # the same for a dict source and a mapping given as a dict
    with pytest.raises(ContractError) as err:
        open_source({"orders": orders()}, mapping={"sessions": {"sid": "session_id"}})
    msg = one_line(err)
    assert "sessions" in msg and "the source holds tables orders" in msg


def test_malformed_mapping_yaml_is_one_line_naming_the_file(tmp_path):
    mapping = tmp_path / "mapping.yml"
    for text, says in [
        ("orders:\n  columns: {order_id: id\n  bad: [\n", "YAML error at line"),
        ("- orders\n- customers\n", "a YAML list"),
        ("orders: 5\n", "5"),
        ("orders:\n  columns: [a, b]\n", "['a', 'b']"),
        ("timezone: [UTC]\n", "timezone"),
    ]:
        mapping.write_text(text)
        with pytest.raises(ContractError) as err:
            open_source({"orders": orders()}, mapping=mapping)
        msg = one_line(err)
        assert str(mapping) in msg and says in msg, (text, msg)
    mapping.write_bytes(b"orders:\n  columns: {\xff: order_id}\n")
    with pytest.raises(ContractError, match="UTF-8"):
        open_source({"orders": orders()}, mapping=mapping)


def test_the_mapping_timezone_is_handed_to_validation(tmp_path):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("timezone: Asia/Shanghai\norders:\n  columns: {OrderNo: order_id}\n")
    src = open_source({"orders": orders().rename(columns={"order_id": "OrderNo"})}, mapping=mapping)
    assert src.timezone == "Asia/Shanghai" and "order_id" in src.table("orders").columns
    assert open_source({"orders": orders()}).timezone is None


def test_a_mapping_key_written_twice_is_one_line_naming_the_file_and_the_key(tmp_path):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("orders:\n  columns:\n    id: order_id\n    id: customer_id\n")
    with pytest.raises(ContractError) as err:
        open_source({"orders": orders()}, mapping=mapping)
    msg = one_line(err)
    assert str(mapping) in msg and "'id' is written twice" in msg and "line 4" in msg, msg
