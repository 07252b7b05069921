"""Hostile files in a folder source (issue 13, items 3 and 7): every file of a table is
read, rows DuckDB cannot split are rejected per row with their line numbers while the rest
are validated, and broken files are one-line errors naming the file.

Rows are counted independently of Shopbook: lines of the file (minus the header), or
pandas reading the Parquet files.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from shopbook.data import ContractError, open_source, validate
from shopbook.data.sources.files import ENCODING_FIX
from tests.builders import orders_frame

NOW = "2025-01-01"
HEADER = (
    "order_id,customer_id,order_ts,channel,status,gross_amount,discount_amount,net_amount,currency"
)


def orders(n: int, start: int = 0) -> pd.DataFrame:
    frame = orders_frame(
        [(f"c{i % 7}", f"2024-01-{i % 28 + 1:02d} 10:00:00", 10.0 + i) for i in range(n)]
    )
    frame["order_id"] = [f"o{start + i}" for i in range(n)]
    return frame


def csv_lines(n: int, start: int = 0) -> list[str]:
    """Data lines of a valid orders CSV (no header)."""
    return orders(n, start).to_csv(index=False).splitlines()[1:]


def data_lines(path: Path) -> int:
    """Rows of a CSV file as its physical lines minus the header (no quoted newlines)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        return len(f.read().splitlines()) - 1


def one_line(err: pytest.ExceptionInfo[ContractError]) -> str:
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg, msg
    return msg


# -- every file of a table -----------------------------------------------------------------


def test_csv_and_parquet_of_one_table_are_one_table(tmp_path):
    orders(3).to_csv(tmp_path / "orders.csv", index=False)
    orders(4, start=100).to_parquet(tmp_path / "orders.parquet")
    expected = data_lines(tmp_path / "orders.csv") + len(
        pd.read_parquet(tmp_path / "orders.parquet")
    )
    report = validate(tmp_path, now=NOW)
    h = report.tables["orders"]
    assert h.read == expected == 7 and h.kept == 7 and h.rejected == 0
    ids = set(report.kept("orders").execute()["order_id"])
    assert ids == {f"o{i}" for i in range(3)} | {f"o{i}" for i in range(100, 104)}


def test_gzip_and_case_variants_are_all_read(tmp_path):
    (tmp_path / "orders.csv").write_text("\n".join([HEADER, *csv_lines(2)]) + "\n")
    with gzip.open(tmp_path / "orders.csv.gz", "wt") as f:
        f.write("\n".join([HEADER, *csv_lines(3, start=10)]) + "\n")
    (tmp_path / "Orders.CSV").write_text(
        "\n".join([HEADER.upper(), *csv_lines(4, start=20)]) + "\n"
    )
    with gzip.open(tmp_path / "ORDERS.CSV.GZ", "wt") as f:
        f.write("\n".join([HEADER, *csv_lines(5, start=30)]) + "\n")
    files = ["orders.csv", "orders.csv.gz", "Orders.CSV", "ORDERS.CSV.GZ"]
    expected = sum(data_lines(tmp_path / f) for f in files)
    src = open_source(tmp_path)
    assert src.tables() == ["orders"]
    report = validate(src, now=NOW)
    assert report.tables["orders"].read == expected == 14 == report.tables["orders"].kept


def test_a_table_folder_with_any_mix_of_files(tmp_path):
    folder = tmp_path / "orders"
    (folder / "2024").mkdir(parents=True)
    orders(2).to_parquet(folder / "part-0.parquet")
    orders(3, start=10).to_csv(folder / "part-1.csv", index=False)
    orders(4, start=20).to_csv(folder / "2024" / "part-2.csv.gz", index=False, compression="gzip")
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-0.parquet.crc").write_bytes(b"\x00")
    expected = 2 + data_lines(folder / "part-1.csv") + data_lines(folder / "2024" / "part-2.csv.gz")
    report = validate(tmp_path, now=NOW)
    assert report.tables["orders"].read == expected == 9 == report.tables["orders"].kept
    kept = report.kept("orders").execute()
    assert kept["net_amount"].notna().all() and kept["order_ts"].notna().all()


def test_files_whose_columns_differ_are_one_error_naming_both(tmp_path):
    orders(2).to_csv(tmp_path / "orders.csv", index=False)
    orders(2).drop(columns="currency").to_parquet(tmp_path / "orders.parquet")
    with pytest.raises(ContractError) as err:
        open_source(tmp_path)
    msg = one_line(err)
    assert "orders.csv" in msg and "orders.parquet" in msg and "currency" in msg
    assert "Fix:" in msg


def test_a_table_file_in_a_format_that_cannot_be_read_is_not_ignored(tmp_path):
    orders(2).to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "orders.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(ContractError) as err:
        open_source(tmp_path)
    assert "orders.xlsx" in one_line(err)
    (tmp_path / "orders.xlsx").unlink()
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "part-1.json").write_text("{}")
    with pytest.raises(ContractError) as err:
        open_source(tmp_path)
    assert "part-1.json" in one_line(err)


def test_a_parquet_table_mixed_with_csv_is_read_as_text_and_typed_by_validation(tmp_path):
    aware = orders(2)
    aware["order_ts"] = pd.to_datetime(aware["order_ts"]).dt.tz_localize("Asia/Shanghai")
    aware.to_parquet(tmp_path / "orders.parquet")
    orders(1, start=10).to_csv(tmp_path / "orders.csv", index=False)
    report = validate(tmp_path, now=NOW)
    kept = report.kept("orders").order_by("order_id").execute()
    assert len(kept) == 3
    # 10:00 in Shanghai is 02:00 UTC: the aware Parquet values become naive UTC
    assert kept.loc[kept["order_id"] == "o0", "order_ts"].iloc[0] == pd.Timestamp(
        "2024-01-01 02:00"
    )
    assert kept.loc[kept["order_id"] == "o10", "order_ts"].iloc[0] == pd.Timestamp(
        "2024-01-01 10:00"
    )


def test_a_single_file_is_a_source_with_one_table(tmp_path):
    orders(3).to_csv(tmp_path / "orders.csv", index=False)
    report = validate(tmp_path / "orders.csv", now=NOW)
    assert report.fingerprint() == {"orders": 3}


# -- rows DuckDB cannot read ---------------------------------------------------------------


def ragged_file(path: Path, lines_in_all: int = 30_000, long_line: int = 29_998) -> None:
    """An orders CSV with a row of too many fields at ``long_line``, one of too few at
    line 10, one with a non-UTF-8 byte at line 158 and one unreadable amount at line 300."""
    lines = [HEADER, *csv_lines(lines_in_all - 1)]  # lines[k] is file line k + 1
    lines[long_line - 1] += ",extra"
    lines[9] = ",".join(lines[9].split(",")[:5])
    lines[299] = lines[299].replace(",CNY", "").rsplit(",", 1)[0] + ",abc,CNY"
    data = ("\n".join(lines) + "\n").encode()
    marker = lines[157].split(",")[1].encode()
    at = data.index(lines[157].encode())
    data = data[:at] + data[at:].replace(marker, marker[:1] + b"\xff" + marker[1:], 1)
    path.write_bytes(data)


def test_ragged_and_undecodable_rows_are_rejected_per_row_and_the_rest_validated(tmp_path):
    ragged_file(tmp_path / "orders.csv")
    read = data_lines(tmp_path / "orders.csv")
    report = validate(tmp_path, now=NOW)
    h = report.tables["orders"]
    assert h.read == read == 29_999
    assert h.read == h.kept + h.rejected and h.rejected == 4 and h.kept == 29_995
    assert h.reasons == {
        "malformed CSV row (line 10): 5 fields, expected 9": 1,
        "malformed CSV row (line 29998): 10 fields, expected 9": 1,
        f"undecodable CSV row (line 158): bytes that are not UTF-8; {ENCODING_FIX}": 1,
        "unparseable net_amount": 1,  # the good rows were validated
    }
    rejects = report.rejects("orders").execute()
    assert len(rejects) == h.rejected
    assert sorted(rejects["reason"]) == sorted(h.reasons)
    kept = report.kept("orders").execute()
    assert len(kept) == h.kept and kept["order_id"].is_unique


def test_which_rows_are_read_does_not_depend_on_the_columns_asked_for(tmp_path):
    ragged_file(tmp_path / "orders.csv", lines_in_all=400, long_line=398)
    t = open_source(tmp_path).table("orders")
    counts = {c: int(t.select(c).count().execute()) for c in ("order_id", "customer_id")}
    assert (
        counts
        == {"order_id": 396, "customer_id": 396}
        == {c: int(t.count().execute()) for c in counts}
    )


def test_unreadable_rows_are_listed_with_file_line_and_raw_text(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "\n".join([HEADER, *csv_lines(3)[:2], "a,b", csv_lines(3)[2]]) + "\n"
    )
    rows = open_source(tmp_path).read_rejects("orders")
    assert rows[["file", "line", "raw"]].to_dict("records") == [
        {"file": "orders.csv", "line": 4, "raw": "a,b"}
    ]
    assert rows["reason"].tolist() == ["malformed CSV row (line 4): 2 fields, expected 9"]


def test_a_ragged_row_in_one_of_several_files_names_that_file(tmp_path):
    orders(2).to_parquet(tmp_path / "orders.parquet")
    (tmp_path / "orders.csv").write_text("\n".join([HEADER, *csv_lines(2, start=5), "x"]) + "\n")
    report = validate(tmp_path, now=NOW)
    assert report.tables["orders"].reasons == {
        "malformed CSV row (orders.csv line 4): 1 fields, expected 9": 1
    }
    assert report.tables["orders"].read == 2 + data_lines(tmp_path / "orders.csv") == 5


def test_strict_mode_turns_an_unreadable_row_into_an_error(tmp_path):
    (tmp_path / "orders.csv").write_text("\n".join([HEADER, *csv_lines(3), "1,2"]) + "\n")
    with pytest.raises(ContractError, match=r"malformed CSV row \(line 5\)"):
        validate(tmp_path, now=NOW, strict=True)


def test_a_file_that_is_mostly_unreadable_is_one_error_with_the_encoding_fix(tmp_path):
    lines = [HEADER, *(line.replace("c", "ç") for line in csv_lines(20))]
    (tmp_path / "orders.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    with pytest.raises(ContractError) as err:
        validate(tmp_path, now=NOW)
    msg = one_line(err)
    assert "orders.csv" in msg and "20 of 20 rows unreadable" in msg
    assert ENCODING_FIX in msg and "encoding: gb18030" in msg


def test_a_utf16_file_is_one_error_with_the_encoding_fix(tmp_path):
    (tmp_path / "orders.csv").write_bytes("\n".join([HEADER, *csv_lines(3)]).encode("utf-16"))
    with pytest.raises(ContractError) as err:
        open_source(tmp_path)
    msg = one_line(err)
    assert "orders.csv" in msg and "not UTF-8" in msg and "--encoding" in msg


def test_a_header_naming_a_column_twice_is_an_error_naming_both_positions(tmp_path):
    (tmp_path / "orders.csv").write_text(HEADER + ",Net_Amount\n" + csv_lines(1)[0] + ",3\n")
    with pytest.raises(ContractError) as err:
        open_source(tmp_path)
    msg = one_line(err)
    assert "orders.csv" in msg and "columns 8 and 10" in msg


def test_a_header_only_csv_is_an_empty_table(tmp_path):
    (tmp_path / "orders.csv").write_text(HEADER + "\n")
    (tmp_path / "products.csv").write_text("sku,name,category\nA,a,x\n")
    report = validate(tmp_path, now=NOW)
    assert report.tables["orders"].read == 0
    assert any("orders is empty" in w for w in report.warnings)


# -- broken files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("orders.csv", b"", "is empty"),
        ("orders.csv.gz", b"not gzip at all", "orders.csv.gz"),
        ("orders.parquet", b"", "too small"),
        ("orders.parquet", None, "magic bytes"),  # cut in half
    ],
)
def test_an_empty_or_truncated_file_is_one_error_naming_it(tmp_path, name, content, says):
    if content is None:
        orders(50).to_parquet(tmp_path / "whole.parquet")
        data = (tmp_path / "whole.parquet").read_bytes()
        (tmp_path / "whole.parquet").unlink()
        content = data[: len(data) // 2]
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ContractError) as err:
        open_source(tmp_path)
    msg = one_line(err)
    assert name in msg and says in msg and "Fix:" in msg


def test_a_folder_without_tables_is_one_error_listing_what_it_holds(tmp_path):
    with pytest.raises(ContractError, match="an empty folder") as err:
        open_source(tmp_path)
    one_line(err)
    orders(2).to_csv(tmp_path / "order.csv", index=False)
    with pytest.raises(ContractError) as err:
        open_source(tmp_path)
    msg = one_line(err)
    assert "order.csv" in msg and "orders" in msg and "mapping.yml" in msg


def test_a_missing_file_is_one_error(tmp_path):
    with pytest.raises(ContractError) as err:
        open_source(tmp_path / "orders.csv")
    assert "nothing at" in one_line(err)


def test_writing_a_sample_next_to_another_file_of_the_table_is_refused(tmp_path):
    from shopbook.data.samples import write_tables

    orders(2).to_csv(tmp_path / "Orders.csv", index=False)
    with pytest.raises(ContractError) as err:
        write_tables({"orders": orders(3)}, tmp_path)
    assert "Orders.csv" in one_line(err)
    assert not (tmp_path / "orders.parquet").exists()
    (tmp_path / "Orders.csv").unlink()
    write_tables({"orders": orders(3)}, tmp_path)
    write_tables({"orders": orders(4)}, tmp_path)  # its own file is replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet"]
    assert open_source(tmp_path).row_counts() == {"orders": 4}
