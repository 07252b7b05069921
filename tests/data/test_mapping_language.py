"""The mapping language (issue 15): every feature on a small file written here, the
nearest-match errors and the one-line errors for encodings, delimiters and files."""

from __future__ import annotations

import pytest

from shopbook.data.sources import language, load_mapping, open_source
from shopbook.data.validation import validate
from shopbook.errors import ContractError

NOW = "2025-01-01"
HEADER = "单号,买家,时间,状态,实付"
ROWS = [
    "A1,u1,2024-06-18 20:15:00,交易成功,¥1299.00",
    'A2,u2,2024-06-19 08:00:00,交易关闭,"¥1,000.50"',
    "A3,u3,2024-06-19 09:00:00,退款成功,100元",
]
ORDERS = {
    "columns": {"单号": "order_id", "买家": "customer_id", "时间": "order_ts", "状态": "status"},
    "values": {"status": {"交易成功": "paid", "交易关闭": "cancelled", "退款成功": "refunded"}},
    "constants": {"channel": "tmall", "currency": "CNY", "discount_amount": "0"},
    "derive": {"net_amount": 'money(col("实付"))', "gross_amount": "net_amount + 0"},
}


def write(folder, name, lines, encoding="utf-8", newline="\n"):
    path = folder / name
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def kept(folder, mapping, table="orders"):
    report = validate(open_source(folder, mapping=mapping), now=NOW)
    return report, report.kept(table).execute().sort_values(report.kept(table).columns[0])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_each_encoding_is_read_when_named(tmp_path, encoding):
    rows = [r.replace("¥", "￥") for r in ROWS]  # GBK has the full-width sign only
    write(tmp_path, "orders.csv", [HEADER, *rows], encoding)
    report, rows = kept(tmp_path, {"encoding": encoding, "orders": ORDERS})
    assert list(rows.order_id) == ["A1", "A2", "A3"]
    assert list(rows.status) == ["paid", "cancelled", "refunded"]
    assert list(rows.net_amount) == [1299.0, 1000.5, 100.0]
    assert report.tables["orders"].rejected == 0


@pytest.mark.parametrize(
    ("encoding", "chosen"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")]
)
def test_auto_detects_the_encoding_and_says_what_it_chose(tmp_path, encoding, chosen):
    write(tmp_path, "orders.csv", [HEADER, *ROWS], encoding)
    src = open_source(tmp_path, mapping={"encoding": "auto", "orders": ORDERS})
    assert src.notes == [f"orders.csv: encoding auto → {chosen}"]
    rows = validate(src, now=NOW).kept("orders").execute()
    assert set(rows.customer_id) == {"u1", "u2", "u3"}


def test_a_gb18030_file_without_an_encoding_is_one_line_naming_the_fix(tmp_path):
    write(tmp_path, "orders.csv", [HEADER, *ROWS], "gb18030")
    with pytest.raises(ContractError) as err:
        open_source(tmp_path, mapping={"orders": ORDERS})
    msg = one_line(err)
    assert "orders.csv line 1" in msg and "not UTF-8" in msg
    assert "looks like GB18030" in msg and "`encoding: gb18030`" in msg


def test_bytes_not_in_the_named_encoding_name_the_file_and_line(tmp_path):
    path = write(tmp_path, "orders.csv", [HEADER, *ROWS], "gb18030")
    data = path.read_bytes().split(b"\n")
    data[2] = data[2] + b"\x80\xff"  # line 3: not GB18030
    path.write_bytes(b"\n".join(data))
    with pytest.raises(ContractError) as err:
        open_source(tmp_path, mapping={"encoding": "gb18030", "orders": ORDERS})
    msg = one_line(err)
    assert "orders.csv line 3" in msg and "not GB18030" in msg and "Fix:" in msg


def test_a_large_gb18030_file_is_transcoded_in_chunks(tmp_path, monkeypatch):
    from shopbook.data.sources import files

    monkeypatch.setattr(files, "_CHUNK", 7)  # characters split across chunk boundaries
    lines = [HEADER, *[f"B{i},买家{i},2024-06-18 20:15:00,交易成功,¥{i}.00" for i in range(1, 200)]]
    write(tmp_path, "orders.csv", lines, "gb18030")
    _, rows = kept(tmp_path, {"encoding": "gb18030", "orders": ORDERS})
    assert len(rows) == 199 and rows.net_amount.sum() == sum(range(1, 200))
    assert set(rows.customer_id) == {f"买家{i}" for i in range(1, 200)}


def test_delimiter_is_sniffed_or_given(tmp_path):
    write(
        tmp_path,
        "orders.csv",
        [h.replace(",", ";") for h in [HEADER]]
        + [r.replace(",", ";").replace('"¥1;000.50"', "¥1000.50") for r in ROWS],
    )
    src = open_source(tmp_path, mapping={"orders": ORDERS})
    assert src.notes == ["orders.csv: delimiter sniffed → ';'"]
    assert validate(src, now=NOW).tables["orders"].kept == 3
    _, rows = kept(tmp_path, {"delimiter": ";", "orders": ORDERS})
    assert len(rows) == 3


def test_a_wrong_delimiter_is_one_line_with_the_fix(tmp_path):
    write(tmp_path, "orders.csv", [HEADER.replace(",", "|"), *[r.replace(",", "|") for r in ROWS]])
    with pytest.raises(ContractError) as err:
        open_source(tmp_path, mapping={"delimiter": ",", "orders": ORDERS})
    msg = one_line(err)
    assert "orders.csv line 1" in msg and "'|'" in msg and 'delimiter: "|"' in msg


def test_unmapped_values_are_rejected_rows_and_mapped_ones_kept(tmp_path):
    write(tmp_path, "orders.csv", [HEADER, *ROWS, "A4,u4,2024-06-19 09:00:00,等待付款,¥5"])
    report, rows = kept(tmp_path, {"orders": ORDERS})
    assert report.tables["orders"].read == 4
    assert report.tables["orders"].reasons == {"unmapped status value": 1}
    unread = report.source.read_rejects("orders")
    assert list(unread.raw) == ["等待付款"] and list(unread.line) == [5]


def test_constants_fill_blank_or_absent_columns_and_currency_is_a_shorthand(tmp_path):
    write(tmp_path, "orders.csv", [HEADER + ",渠道", *[r + ",jd" for r in ROWS[:2]], ROWS[2] + ","])
    spec = {**ORDERS, "columns": {**ORDERS["columns"], "渠道": "channel"}}
    spec["constants"] = {"channel": "tmall", "discount_amount": "0"}
    _, rows = kept(tmp_path, {"currency": "CNY", "orders": spec})
    assert list(rows.channel) == ["jd", "jd", "tmall"]
    assert set(rows.currency) == {"CNY"}


def test_formats_read_other_date_layouts(tmp_path):
    write(tmp_path, "orders.csv", [HEADER, *[r.replace("2024-06-18", "2024/06/18") for r in ROWS]])
    spec = {**ORDERS, "formats": {"order_ts": "%Y/%m/%d %H:%M:%S"}}
    report, rows = kept(tmp_path, {"orders": spec})
    # A1 in the format; A2/A3 (ISO) are not: kept by the ISO reader after the format fails
    assert str(rows.order_ts.iloc[0]) == "2024-06-18 20:15:00"
    assert report.tables["orders"].kept == 3


def test_derive_dates_times_arithmetic_coalesce_and_number(tmp_path):
    write(
        tmp_path,
        "orders.csv",
        [
            "单号,买家,日期,时刻,状态,总额,优惠,备用买家",
            'A1,u1,2024-06-18,20:15:00,交易成功,"1,299.00元",$100.00,',
            "A2,,2024-06-19,08:00:00,交易关闭,500,0,v2",
        ],
    )
    spec = {
        "columns": {"单号": "order_id", "状态": "status"},
        "values": ORDERS["values"],
        "constants": {"channel": "web", "currency": "CNY"},
        "derive": {
            "customer_id": 'coalesce(col("买家"), col("备用买家"))',
            "order_ts": 'datetime(col("日期"), col("时刻"))',
            "gross_amount": 'number(col("总额"))',
            "discount_amount": 'money(col("优惠"))',
            "net_amount": "gross_amount - discount_amount",
        },
    }
    _, rows = kept(tmp_path, {"orders": spec})
    assert list(rows.customer_id) == ["u1", "v2"]
    assert [str(t) for t in rows.order_ts] == ["2024-06-18 20:15:00", "2024-06-19 08:00:00"]
    assert list(rows.net_amount) == [1199.0, 500.0]


LINES = [
    "单号,买家,时间,状态,SKU,数量,单价",
    "A1,u1,2024-06-18 20:15:00,交易成功,S1,1,¥100",
    ",,,,S2,2,¥50",
    ",,,,S2,1,¥20",
    "A2,u2,2024-06-19 08:00:00,交易成功,S1,2,¥100",
]
LINE_MAPPING = {
    "currency": "CNY",
    "orders": {
        "table": "lines",
        "columns": {
            "单号": "order_id",
            "买家": "customer_id",
            "时间": "order_ts",
            "状态": "status",
        },
        "values": {"status": {"交易成功": "paid"}},
        "constants": {"channel": "web", "discount_amount": "0"},
        "derive": {"gross_amount": "lines(unit_price * quantity)", "net_amount": "gross_amount"},
        "fill_down": ["order_id", "customer_id", "order_ts", "status"],
    },
    "order_items": {
        "table": "lines",
        "columns": {"单号": "order_id", "SKU": "sku", "数量": "quantity"},
        "derive": {"unit_price": 'money(col("单价"))', "list_price": "unit_price"},
        "constants": {"unit_cost": None},
        "fill_down": ["order_id"],
    },
}


def test_fill_down_and_lines_give_one_order_per_order_from_a_line_export(tmp_path):
    write(tmp_path, "lines.csv", LINES)
    report, orders = kept(tmp_path, LINE_MAPPING)
    assert list(orders.order_id) == ["A1", "A2"]
    assert list(orders.customer_id) == ["u1", "u2"]
    assert list(orders.gross_amount) == [100 + 100 + 20, 200]
    # without combine_lines the repeated SKU is rejected (the default)
    assert report.tables["order_items"].reasons == {report_reason(report): 1}


def report_reason(report) -> str:
    (reason,) = report.tables["order_items"].reasons
    assert reason.startswith("duplicate order_item")
    return reason


def test_combine_lines_sum_adds_quantities_and_weights_prices(tmp_path):
    write(tmp_path, "lines.csv", LINES)
    mapping = {
        **LINE_MAPPING,
        "order_items": {**LINE_MAPPING["order_items"], "combine_lines": "sum"},
    }
    report, items = kept(tmp_path, mapping, "order_items")
    assert report.tables["order_items"].rejected == 0
    s2 = items[items.sku == "S2"].iloc[0]
    assert s2.quantity == 3 and s2.unit_price == pytest.approx((2 * 50 + 20) / 3)
    assert (items.quantity * items.unit_price).sum() == pytest.approx(420)


def test_combined_lines_tell_validation_the_only_keys_that_may_repeat(tmp_path):
    # S2 of A1 has an unreadable quantity on one of its three lines: its lines are left as
    # they are (the unreadable one rejected, then one of the other two as a duplicate);
    # S1 of A2 is added up. Validation told of S2 only gives what counting every key does.
    write(
        tmp_path,
        "lines.csv",
        [*LINES[:3], ",,,,S2,x,¥20", ",,,,S2,1,¥20", LINES[4], ",,,,S1,1,¥100"],
    )
    mapping = {
        **LINE_MAPPING,
        "order_items": {**LINE_MAPPING["order_items"], "combine_lines": "sum"},
    }
    told = open_source(tmp_path, mapping=mapping)
    told.table("order_items")
    assert told.repeatable["order_items"].execute().to_dict("records") == [
        {"order_id": "A1", "sku": "S2"}
    ]
    counted = open_source(tmp_path, mapping=mapping)
    counted.table("order_items")
    counted.repeatable.clear()
    reports = [validate(src, now=NOW) for src in (told, counted)]
    health = [r.tables["order_items"] for r in reports]
    assert health[0] == health[1]
    duplicate = next(r for r in health[0].reasons if r.startswith("duplicate order_item"))
    assert health[0].kept == 3
    assert health[0].reasons == {"unparseable quantity": 1, duplicate: 1}
    rows = [r.kept("order_items").execute().sort_values(["order_id", "sku"]) for r in reports]
    assert rows[0].reset_index(drop=True).equals(rows[1].reset_index(drop=True))
    # A1 S1; the S2 line the rule keeps (the first by its other columns); A2 S1 added up
    assert list(rows[0].quantity) == [1, 1, 3]


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"orders": {"columns": {"单号": "order_idd"}}}, ["order_idd", "did you mean order_id?"]),
        ({"orders": {"valuse": {}}}, ["'valuse'", "did you mean values?"]),
        ({"encodng": "gbk"}, ["'encodng'", "did you mean encoding?"]),
        ({"encoding": "gb1803"}, ["'gb1803'", "did you mean gb18030?"]),
        ({"orders": {"values": {"stauts": {}}}}, ["stauts", "did you mean status?"]),
        ({"orders": {"values": {"status": {"x": "payed"}}}}, ["payed", "did you mean paid?"]),
        ({"orders": {"fill_down": ["custmer_id"]}}, ["custmer_id", "did you mean customer_id?"]),
        ({"order_items": {"combine_lines": "summ"}}, ["summ", "did you mean sum?"]),
        ({"oders": {}}, ["oders"]),
    ],
)
def test_unknown_targets_and_keys_name_the_nearest_match(mapping, words):
    with pytest.raises(ContractError) as err:
        load_mapping(mapping)
    msg = one_line(err)
    for w in words:
        assert w in msg


def test_unknown_source_columns_name_the_nearest_match(tmp_path):
    write(tmp_path, "orders.csv", [HEADER, *ROWS])
    for spec, words in [
        ({**ORDERS, "derive": {"net_amount": 'money(col("实付金额"))'}}, ["'实付金额'", "实付"]),
        ({**ORDERS, "columns": {**ORDERS["columns"], "买 家": "customer_id"}}, ["'买 家'", "买家"]),
        ({**ORDERS, "derive": {"net_amount": "moneyy(1)"}}, ["moneyy", "did you mean money?"]),
        ({**ORDERS, "derive": {"net_amount": "money(col('实付')"}}, ["valid expression"]),
        ({**ORDERS, "derive": {"net_amount": "__import__('os')"}}, ["__import__"]),
    ]:
        with pytest.raises(ContractError) as err:
            validate(open_source(tmp_path, mapping={"orders": spec}), now=NOW)
        msg = one_line(err)
        for w in words:
            assert w in msg, (w, msg)


def test_extends_merges_a_preset_table_by_table_and_key_by_key(tmp_path, monkeypatch):
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "tiny.yaml").write_text(
        "description: a tiny preset\nencoding: gb18030\ncurrency: CNY\n"
        "orders:\n  columns: {单号: order_id, 买家: customer_id, 时间: order_ts, 状态: status}\n"
        "  values: {status: {交易成功: paid, 交易关闭: cancelled}}\n"
        "  constants: {channel: tmall, discount_amount: '0'}\n"
        '  derive: {net_amount: money(col("实付")), gross_amount: net_amount}\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(language, "PRESETS", presets)
    mine = tmp_path / "mine.yml"
    mine.write_text(
        "extends: tiny\nencoding: utf-8\norders:\n  values: {status: {退款成功: refunded}}\n"
        "  constants: {channel: shop}\n",
        encoding="utf-8",
    )
    maps = load_mapping(mine)
    assert maps.encoding == "utf-8"
    orders = maps.tables["orders"]
    assert orders["values"]["status"] == {
        "交易成功": "paid",
        "交易关闭": "cancelled",
        "退款成功": "refunded",
    }
    assert orders["constants"] == {"channel": "shop", "discount_amount": "0", "currency": "CNY"}
    assert load_mapping(None, preset="tiny").encoding == "gb18030"
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder, "orders.csv", [HEADER, *ROWS])
    rows = validate(open_source(folder, mapping=mine), now=NOW).kept("orders").execute()
    assert set(rows.status) == {"paid", "cancelled", "refunded"}
    assert set(rows.channel) == {"shop"}
    with pytest.raises(ContractError) as err:
        load_mapping({"extends": "tinyy"})
    assert "did you mean tiny?" in one_line(err)


#: Text with white space at either end (each character of ``string.whitespace``), inside,
#: none, only white space, and non-ASCII text (ideographic space is not trimmed).
PADDED = [
    " A",
    "B\t",
    "\nC\r",
    "D\x0b",
    "\x0cE",
    "F G",
    "",
    "   ",
    "价格 ",
    "\u3000全角",
    "x\u3000",
]


def test_the_quick_trim_means_what_a_plain_strip_does():
    import ibis

    from shopbook.data.sources.transform import blank_null, strip

    t = ibis.memtable({"x": [*PADDED, None]})
    got = ibis.duckdb.connect().execute(
        t.select(quick=strip(t.x), plain=t.x.strip(), blank=blank_null(t.x))
    )
    assert got["quick"].tolist() == got["plain"].tolist()
    assert got["plain"].tolist()[:6] == ["A", "B", "C", "D", "E", "F G"]
    assert got["blank"].isna().tolist() == [
        v is None or not v.strip(" \t\n\r\x0b\x0c") for v in [*PADDED, None]
    ]


def test_read_columns_names_what_the_mapping_reads_and_whether_rows_are_mapped_alone():
    from shopbook.data.sources.transform import read_columns

    header = ["订单编号", "买家", "实付金额", "收货地址", "Status"]
    spec = {
        "columns": {"订单编号": "order_id", "买家": "customer_id"},
        "derive": {"net_amount": 'money(col("实付金额"))', "gross_amount": "net_amount"},
    }
    assert read_columns(spec, "orders", header) == (
        ["订单编号", "买家", "实付金额", "Status"],  # Status: a contract name, any case
        True,
    )
    assert read_columns({**spec, "fill_down": ["customer_id"]}, "orders", header)[1] is False
    lines = {**spec, "derive": {"gross_amount": "lines(unit_price)"}}
    assert read_columns(lines, "orders", header, {"unit_price": "实付金额"}) == (
        ["订单编号", "买家", "实付金额", "Status"],
        False,
    )
    # a column the file lacks: no answer (apply() names the nearest of all columns)
    assert read_columns({"columns": {"订单编码": "order_id"}}, "orders", header) is None
    assert read_columns({"derive": {"net_amount": 'money(col("实付"))'}}, "orders", header) is None
