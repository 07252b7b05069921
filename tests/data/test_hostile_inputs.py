"""Hostile values: each case the attack on the workbook found, as input and promised result.

Every case counts the rows independently of the validator — the CSV's data lines (read
with :mod:`csv`) or the frame's length — and checks read = kept + rejected against them,
with kept and rejected counted from the report's own tables.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopbook.data import validate
from shopbook.errors import ContractError
from tests.builders import ORDER_COLUMNS

NOW = "2025-01-01"
ITEM_COLUMNS = ["order_id", "sku", "quantity", "unit_price", "list_price", "unit_cost"]


def write_csv(folder: Path, name: str, header: list[str], rows: list[list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def data_lines(path: Path) -> int:
    """Rows of a CSV file, counted without the validator."""
    with path.open(newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def accounted(report, name: str, rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kept and rejected rows of ``name``; read = kept + rejected = ``rows``."""
    kept = report.kept(name).execute()
    rejected = report.rejects(name).execute()
    h = report.tables[name]
    assert h.read == rows == len(kept) + len(rejected)
    assert (h.kept, h.rejected) == (len(kept), len(rejected))
    assert sum(h.reasons.values()) == h.rejected
    return kept, rejected


def order_row(i: int, **changes: str) -> list[str]:
    row = {
        "order_id": f"o{i}",
        "customer_id": f"c{i % 3}",
        "order_ts": "2024-03-01 10:00:00",
        "channel": "site",
        "status": "paid",
        "gross_amount": "10",
        "discount_amount": "0",
        "net_amount": "10",
        "currency": "CNY",
    } | changes
    return [row[c] for c in ORDER_COLUMNS]


def item_row(order_id: str, sku: str, **changes: str) -> list[str]:
    row = {
        "order_id": order_id,
        "sku": sku,
        "quantity": "1",
        "unit_price": "5",
        "list_price": "6",
        "unit_cost": "2",
    } | changes
    return [row[c] for c in ITEM_COLUMNS]


# -- numbers a type cannot hold --------------------------------------------------------------

HUGE_QUANTITIES = {
    "b": "9223372036854775808",  # 2^63
    "c": "1e20",
    "d": "99999999999999999999",
    "e": "18446744073709551616",  # 2^64
}


def test_one_integer_beyond_int64_is_rejected_and_the_rest_validated(tmp_path):
    """Before: a DuckDB conversion error in the generated SQL stopped the whole source."""
    orders = write_csv(tmp_path, "orders", list(ORDER_COLUMNS), [order_row(1)])
    good = [item_row("o1", "a", quantity="2"), item_row("o1", "z", quantity="9223372036854775807")]
    huge = [item_row("o1", sku, quantity=q) for sku, q in HUGE_QUANTITIES.items()]
    fraction = [item_row("o1", "f", quantity="2.5")]
    items = write_csv(tmp_path, "order_items", ITEM_COLUMNS, good + huge + fraction)

    report = validate(tmp_path, now=NOW)

    accounted(report, "orders", data_lines(orders))
    kept, rejected = accounted(report, "order_items", data_lines(items))
    assert dict(zip(kept["sku"], kept["quantity"], strict=True)) == {
        "a": 2,
        "z": 9223372036854775807,
    }
    reasons = dict(zip(rejected["sku"], rejected["reason"], strict=True))
    assert reasons == {
        **dict.fromkeys(HUGE_QUANTITIES, "out of range quantity"),
        "f": "unparseable quantity",
    }
    # the rejected rows show the source text
    assert set(rejected["quantity"]) == {*HUGE_QUANTITIES.values(), "2.5"}


def test_money_that_overflows_a_float_is_rejected_per_row(tmp_path):
    prices = {"b": "inf", "c": "1e400", "d": "-1e400", "e": "-inf"}
    rows = [item_row("o1", "a")] + [item_row("o1", s, unit_price=p) for s, p in prices.items()]
    rows.append(item_row("o1", "n", unit_price="nan"))
    write_csv(tmp_path, "orders", list(ORDER_COLUMNS), [order_row(1)])
    items = write_csv(tmp_path, "order_items", ITEM_COLUMNS, rows)

    report = validate(tmp_path, now=NOW)

    kept, rejected = accounted(report, "order_items", data_lines(items))
    assert list(kept["sku"]) == ["a"]
    assert dict(zip(rejected["sku"], rejected["reason"], strict=True)) == {
        **dict.fromkeys(prices, "out of range unit_price"),
        "n": "unparseable unit_price",
    }


def test_typed_columns_out_of_range_are_rejected_per_row():
    """uint64 above 2^63 - 1, a float 1e20 for an integer, ±inf money: rejected, not a crash."""
    items = pd.DataFrame(
        {
            "order_id": ["o1"] * 5,
            "sku": ["a", "b", "c", "d", "e"],
            "quantity": pd.Series([1, 2**63, 2**64 - 1, 3, 4], dtype="uint64"),
            "unit_price": [5.0, 5.0, 5.0, np.inf, 5.0],
            "list_price": [6.0, 6.0, 6.0, 6.0, -np.inf],
            "unit_cost": [2.0] * 5,
        }
    )
    floats = items.assign(quantity=[1.0, 1e20, -1e20, 2.0, 9.3e18], sku=list("fghij"))
    orders = pd.DataFrame([order_row(1)], columns=list(ORDER_COLUMNS))

    for frame in (items, floats):
        report = validate({"orders": orders, "order_items": frame}, now=NOW)
        kept, rejected = accounted(report, "order_items", len(frame))
        reasons = dict(zip(rejected["sku"], rejected["reason"], strict=True))
        if frame is items:
            assert list(kept["sku"]) == ["a"]
            assert reasons == {
                "b": "out of range quantity",
                "c": "out of range quantity",
                "d": "out of range unit_price",
                "e": "out of range list_price",
            }
        else:
            assert list(kept["sku"]) == ["f"]
            assert reasons == {
                "g": "out of range quantity",
                "h": "out of range quantity",
                "i": "out of range unit_price",
                "j": "out of range quantity",
            }


def test_a_parquet_uint64_beyond_int64_is_rejected_per_row(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "order_id": ["o1", "o1"],
                "sku": ["a", "b"],
                "quantity": pa.array([1, 2**63 + 5], type=pa.uint64()),
                "unit_price": [5.0, 5.0],
                "list_price": [6.0, 6.0],
                "unit_cost": [2.0, 2.0],
            }
        ),
        tmp_path / "order_items.parquet",
    )
    write_csv(tmp_path, "orders", list(ORDER_COLUMNS), [order_row(1)])

    report = validate(tmp_path, now=NOW)

    kept, rejected = accounted(
        report, "order_items", pq.read_metadata(tmp_path / "order_items.parquet").num_rows
    )
    assert list(kept["sku"]) == ["a"]
    assert rejected[["sku", "quantity", "reason"]].values.tolist() == [
        ["b", str(2**63 + 5), "out of range quantity"]
    ]


# -- ids that mean "no value" ----------------------------------------------------------------

MISSING_IDS = ["NULL", "N/A", "None", "-", "nan", "", "   ", "null", "n/a", "#N/A", "NA", "--"]


def test_null_like_customer_ids_are_missing_values_not_customers(tmp_path):
    real = [order_row(i, customer_id=c) for i, c in enumerate(["c1", "NAN-7", "none1", "-5"])]
    fake = [order_row(100 + i, customer_id=c) for i, c in enumerate(MISSING_IDS)]
    orders = write_csv(tmp_path, "orders", list(ORDER_COLUMNS), real + fake)

    report = validate(tmp_path, now=NOW)

    kept, rejected = accounted(report, "orders", data_lines(orders))
    assert sorted(kept["customer_id"]) == sorted(["c1", "NAN-7", "none1", "-5"])
    assert set(rejected["reason"]) == {"null customer_id"}
    assert len(rejected) == len(MISSING_IDS)
    # the rejected rows show what the source wrote (blank text is missing as before)
    shown = {t for t in rejected["customer_id"].dropna()}
    assert shown == {t for t in MISSING_IDS if t.strip()}


def test_null_like_ids_in_keys_and_nullable_references(tmp_path):
    """A key of 'NULL' is rejected; a nullable reference of 'N/A' is kept as null."""
    customers = write_csv(
        tmp_path,
        "customers",
        ["customer_id", "region"],
        [["c1", "north"], ["NULL", "south"], ["None", "east"]],
    )
    orders = write_csv(tmp_path, "orders", list(ORDER_COLUMNS), [order_row(1, customer_id="c1")])
    session_header = [
        "session_id",
        "visitor_id",
        "customer_id",
        "session_ts",
        "channel",
        "device",
        "pageviews",
        "product_views",
        "added_to_cart",
        "reached_checkout",
        "order_id",
    ]
    base = ["2024-03-01 09:00:00", "search", "mobile", "3", "1", "true", "false"]
    sessions = write_csv(
        tmp_path,
        "sessions",
        session_header,
        [
            ["s1", "v1", "c1", *base, "o1"],
            ["s2", "v2", "N/A", *base, "None"],
            ["s3", "-", "c1", *base, ""],
            ["NULL", "v4", "c1", *base, ""],
        ],
    )

    report = validate(tmp_path, now=NOW)

    kept_c, rejected_c = accounted(report, "customers", data_lines(customers))
    assert list(kept_c["customer_id"]) == ["c1"]
    assert set(rejected_c["reason"]) == {"null customer_id"}
    accounted(report, "orders", data_lines(orders))
    kept_s, rejected_s = accounted(report, "sessions", data_lines(sessions))
    by_id = kept_s.set_index("session_id")
    assert sorted(by_id.index) == ["s1", "s2"]  # kept rows come back in no promised order
    assert by_id.loc["s2", "customer_id"] is None or pd.isna(by_id.loc["s2", "customer_id"])
    assert pd.isna(by_id.loc["s2", "order_id"])
    assert sorted(rejected_s["reason"]) == ["null session_id", "null visitor_id"]


# -- timestamps ------------------------------------------------------------------------------


def test_a_zone_name_in_one_csv_row_moves_no_other_row(tmp_path):
    """The attack: after one '… Asia/Shanghai', 1,947 of 9,999 naive rows moved 8 hours."""
    start = dt.datetime(2024, 3, 1, 2, 0)
    stamps = [(start + dt.timedelta(minutes=5 * i)) for i in range(9_999)]
    texts = [t.strftime("%Y-%m-%d %H:%M:%S") for t in stamps]
    texts[20] += " Asia/Shanghai"
    texts[4_100] += " CST"
    texts[6_000] += "+08:00"
    orders = write_csv(
        tmp_path,
        "orders",
        list(ORDER_COLUMNS),
        [order_row(i, order_ts=t) for i, t in enumerate(texts)],
    )

    report = validate(tmp_path, now=NOW)

    kept, rejected = accounted(report, "orders", data_lines(orders))
    assert rejected[["order_id", "order_ts", "reason"]].values.tolist() == [
        ["o4100", texts[4_100], "ambiguous time zone in order_ts"]
    ]
    got = dict(zip(kept["order_id"], kept["order_ts"], strict=True))
    eight = dt.timedelta(hours=8)
    want = {
        f"o{i}": stamps[i] - (eight if i in (20, 6_000) else dt.timedelta()) for i in range(9_999)
    }
    del want["o4100"]
    moved = [k for k, v in want.items() if got[k] != pd.Timestamp(v)]
    assert moved == []


def test_naive_times_are_in_the_mapping_timezone_and_offsets_converted_to_it(tmp_path):
    texts = [
        "2024-03-01 10:00:00",  # naive: Shanghai time, as written
        "2024-03-01T02:00:00Z",  # = 10:00 in Shanghai
        "2024-03-01 03:00:00+01:00",  # = 10:00 in Shanghai
        "2024-02-29 21:00:00 America/New_York",  # EST, = 10:00 in Shanghai
        "2024-03-01 10:00:00 CST",  # still ambiguous
    ]
    write_csv(
        tmp_path,
        "orders",
        list(ORDER_COLUMNS),
        [order_row(i, order_ts=t) for i, t in enumerate(texts)],
    )
    (tmp_path / "mapping.yml").write_text("timezone: Asia/Shanghai\n")

    report = validate(tmp_path, now=NOW)

    kept, rejected = accounted(report, "orders", len(texts))
    assert set(kept["order_ts"]) == {pd.Timestamp("2024-03-01 10:00")}
    assert list(rejected["reason"]) == ["ambiguous time zone in order_ts"]


def test_the_future_check_uses_now_in_the_dataset_zone():
    """At 2025-01-01 00:30 UTC it is 08:30 in Shanghai: 08:00 local is not in the future."""
    orders = pd.DataFrame(
        [
            order_row(1, order_ts="2025-01-01 08:00:00"),
            order_row(2, order_ts="2025-01-01 09:00:00"),
        ],
        columns=list(ORDER_COLUMNS),
    )
    report = validate(
        {"orders": orders}, now="2025-01-01 00:30", mapping={"timezone": "Asia/Shanghai"}
    )
    kept, rejected = accounted(report, "orders", len(orders))
    assert list(kept["order_id"]) == ["o1"]
    assert list(rejected["reason"]) == ["order_ts in the future"]


def test_a_mapping_timezone_that_is_an_abbreviation_is_a_one_line_error():
    orders = pd.DataFrame([order_row(1)], columns=list(ORDER_COLUMNS))
    with pytest.raises(ContractError) as err:
        validate({"orders": orders}, now=NOW, mapping={"timezone": "CST"})
    message = str(err.value)
    assert "\n" not in message and "timezone" in message and "'CST'" in message


# -- duplicate columns -----------------------------------------------------------------------


def test_a_duplicate_csv_header_is_a_one_line_error_naming_both_positions(tmp_path):
    header = list(ORDER_COLUMNS) + ["customer_id"]
    write_csv(tmp_path, "orders", header, [[*order_row(1), "c9"]])
    with pytest.raises(ContractError) as err:
        validate(tmp_path, now=NOW)
    message = str(err.value)
    assert "\n" not in message
    assert "customer_id" in message and "2" in message and str(len(header)) in message


def _orders_with(**extra: str) -> pd.DataFrame:
    return pd.DataFrame([order_row(1)], columns=list(ORDER_COLUMNS)).assign(**extra)


def test_two_mapping_entries_for_one_column_are_a_one_line_error(tmp_path):
    """Before: the last entry silently won."""
    write_csv(
        tmp_path,
        "orders",
        [*ORDER_COLUMNS[1:], "OrderNo", "OrderID"],
        [[*order_row(1)[1:], "X1", "X2"]],
    )
    (tmp_path / "mapping.yml").write_text(
        "orders:\n  columns:\n    OrderNo: order_id\n    OrderID: order_id\n"
    )
    with pytest.raises(ContractError) as err:
        validate(tmp_path, now=NOW)
    message = str(err.value)
    assert "\n" not in message and "mapping.yml" in message
    assert "'OrderNo' and 'OrderID' both mapped to order_id" in message


def test_a_mapped_column_beside_the_contract_column_is_a_one_line_error():
    """Before: the mapped OrderNo silently replaced the source's own order_id."""
    frame = _orders_with(OrderNo="X1")
    with pytest.raises(ContractError) as err:
        validate({"orders": frame}, now=NOW, mapping={"orders": {"OrderNo": "order_id"}})
    message = str(err.value)
    assert "\n" not in message
    assert "columns 10 ('OrderNo') and 1 ('order_id') both become order_id" in message


def test_two_case_variants_of_a_column_are_a_one_line_error():
    """Before: 'Customer_ID ' beside customer_id was silently ignored."""
    with pytest.raises(ContractError) as err:
        validate({"orders": _orders_with(**{"Customer_ID ": "c2"})}, now=NOW)
    message = str(err.value)
    assert "\n" not in message
    assert "columns 2 ('customer_id') and 10 ('Customer_ID ') both become customer_id" in message
