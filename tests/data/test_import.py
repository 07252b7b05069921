"""``shopbook import`` (issue 15): files recognised by their header through a preset's
``files:``, the orders export alone and with the lines export, ``extends:``, the written
DuckDB file (kept rows, ``_rejected``), ``--list`` and the one-line errors. The presets
here are tiny ones written by the tests, not the shipped ones."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from shopbook.cli import app
from shopbook.data.importing import import_exports
from shopbook.data.sources import language
from shopbook.errors import ContractError

NOW = "2025-01-01"
TINY = """\
description: "A tiny shop: 订单 (orders, one row per order) + 明细 (order lines)"
encoding: auto
timezone: Asia/Shanghai
currency: CNY
files:
  - kind: orders
    match: [订单号, 买家, 状态]
    produces: [orders, order_items]
  - kind: order_lines
    match: [订单号, 商品编码, 件数]
    produces: [order_items]
orders:
  columns: {订单号: order_id, 买家: customer_id, 下单时间: order_ts, 状态: status}
  values: {status: {已完成: paid, 已取消: cancelled}}
  constants: {channel: tiny, discount_amount: "0"}
  derive: {gross_amount: money(col("金额")), net_amount: gross_amount}
order_items:
  columns: {订单号: order_id, 商品编码: sku}
  derive:
    quantity: coalesce(col("件数"), col("数量"))
    unit_price: money(col("单价"))
    list_price: unit_price
  constants: {unit_cost: null}
  combine_lines: sum
"""
OTHER = """\
description: another platform
files:
  - kind: orders
    match: [OrderNo, Buyer]
    produces: [orders]
orders:
  columns: {OrderNo: order_id, Buyer: customer_id}
"""
# O1 one product (its line is in the orders export), O2 two products (lines only in the
# lines export), O3 cancelled, O4 a status the preset does not know
ORDERS = [
    "订单号,买家,下单时间,状态,金额,商品编码,数量,单价",
    "O1,u1,2024-06-18 20:15:00,已完成,¥100.00,S1,1,¥100.00",
    "O2,u2,2024-06-18 21:00:00,已完成,¥250.00,,,",
    "O3,u3,2024-06-19 08:00:00,已取消,¥80.00,S3,2,¥40.00",
    "O4,u4,2024-06-19 09:00:00,待付款,¥10.00,S1,1,¥10.00",
]
LINES = [
    "订单号,商品编码,件数,单价",
    "O1,S1,1,¥100.00",
    "O2,S1,1,¥100.00",
    "O2,S2,1,¥75.00",
    "O2,S2,1,¥75.00",
]


@pytest.fixture
def presets(tmp_path, monkeypatch):
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (folder / "other.yaml").write_text(OTHER, encoding="utf-8")
    monkeypatch.setattr(language, "PRESETS", folder)
    return folder


def write(path, lines, encoding="gb18030"):
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_the_orders_export_alone_gives_orders_and_one_product_lines(tmp_path, presets):
    orders = write(tmp_path / "订单.csv", ORDERS)
    result = import_exports([orders], preset="tiny", out=tmp_path / "shop.duckdb", now=NOW)
    h = result.report.tables
    assert (h["orders"].read, h["orders"].kept) == (4, 3)
    assert h["orders"].reasons == {"unmapped status value": 1}
    assert result.files == {"订单.csv": "orders"}
    assert "订单.csv: encoding auto → gb18030" in result.notes
    assert any("name no single SKU" in n for n in result.notes)  # O2
    # lines: O1 and O3 kept, O4's line an orphan (its order was rejected)
    assert (h["order_items"].kept, h["order_items"].rejected) == (2, 1)
    with duckdb.connect(str(tmp_path / "shop.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM orders").fetchone() == (3,)
        rejected = con.sql('SELECT "table", reason FROM _rejected ORDER BY 1').fetchall()
        assert rejected == [
            ("order_items", "orphan order_item"),
            ("orders", "unmapped status value"),
        ]
        assert con.sql("SELECT raw FROM _rejected_source").fetchall() == [("待付款",)]


def test_the_lines_export_adds_the_lines_and_wins_for_its_orders(tmp_path, presets):
    orders = write(tmp_path / "订单.csv", ORDERS)
    lines = write(tmp_path / "明细.csv", LINES, "utf-8-sig")
    result = import_exports([lines, orders], preset="tiny", now=NOW)
    items = result.report.kept("order_items").execute().sort_values(["order_id", "sku"])
    assert list(zip(items.order_id, items.sku, items.quantity, strict=True)) == [
        ("O1", "S1", 1),
        ("O2", "S1", 1),
        ("O2", "S2", 2),  # two lines of one SKU added up (combine_lines: sum)
        ("O3", "S3", 2),
    ]
    assert result.files == {"明细.csv": "order_lines", "订单.csv": "orders"}
    assert any("also in the order-lines export" in n for n in result.notes)  # O1
    # nothing lost: lines from the files = read + merged; read = kept + rejected
    h = result.report.tables["order_items"]
    assert h.read == h.kept + h.rejected
    assert result.lines["order_items"] == h.read + result.combined["order_items"]


def test_a_user_mapping_extends_the_preset(tmp_path, presets):
    orders = write(tmp_path / "订单.csv", ORDERS)
    mine = tmp_path / "mine.yml"
    mine.write_text("extends: tiny\norders:\n  values: {status: {待付款: cancelled}}\n", "utf-8")
    result = import_exports([orders], mapping=mine, now=NOW)
    assert result.report.tables["orders"].kept == 4


def test_a_file_of_another_platform_is_one_line_naming_it(tmp_path, presets):
    foreign = write(tmp_path / "export.csv", ["OrderNo,Buyer,Total", "1,a,3"], "utf-8")
    with pytest.raises(ContractError) as err:
        import_exports([foreign], preset="tiny")
    msg = str(err.value)
    assert "\n" not in msg and "export.csv line 1 has columns OrderNo, Buyer, Total" in msg
    assert "looks like a other export: use --preset other" in msg


def test_an_unknown_preset_names_the_nearest(tmp_path, presets):
    with pytest.raises(ContractError, match="did you mean tiny"):
        import_exports([tmp_path / "x.csv"], preset="tinny")


def test_cli_import_prints_the_health_table_and_writes_the_file(tmp_path, presets):
    orders = write(tmp_path / "订单.csv", ORDERS)
    out = tmp_path / "shop.duckdb"
    result = CliRunner().invoke(app, ["import", "--preset", "tiny", str(orders), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "unmapped status value" in result.output and f"wrote {out}" in result.output
    assert "encoding auto → gb18030" in result.output
    assert out.exists()


def test_cli_import_errors_are_one_line(tmp_path, presets):
    orders = write(tmp_path / "订单.csv", ORDERS)
    runner = CliRunner()
    bad = runner.invoke(
        app,
        [
            "import",
            "--preset",
            "tiny",
            "--encoding",
            "utf-8",
            str(orders),
            "--out",
            str(tmp_path / "x.duckdb"),
        ],
    )
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "订单.csv line 1" in bad.output and "looks like GB18030" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    missing = runner.invoke(app, ["import", "--preset", "tiny", str(orders)])
    assert missing.exit_code == 2 and "--out" in missing.output


def test_cli_import_list_shows_each_preset_and_its_files(presets):
    result = CliRunner().invoke(app, ["import", "--list"])
    assert result.exit_code == 0
    assert "tiny: A tiny shop" in result.output
    assert "orders → orders, order_items: 订单号, 买家, 状态" in result.output
    assert "other: another platform" in result.output


def test_cli_validate_accepts_a_preset_for_export_files(tmp_path, presets):
    folder = tmp_path / "exports"
    folder.mkdir()
    write(folder / "订单.csv", ORDERS)
    write(folder / "明细.csv", LINES)
    result = CliRunner().invoke(app, ["validate", "--preset", "tiny", "--source", str(folder)])
    assert result.exit_code == 0, result.output
    assert "order_items" in result.output and "unmapped status value" in result.output


def test_a_table_s_own_encoding_wins_over_the_top_level_one(tmp_path, presets):
    orders = write(tmp_path / "订单.csv", ORDERS)  # GB18030
    mapping = {"extends": "tiny", "encoding": "utf-8", "orders": {"encoding": "gb18030"}}
    result = import_exports([orders], mapping=mapping, now=NOW)
    assert result.report.tables["orders"].kept == 3
    with pytest.raises(ContractError, match="looks like GB18030"):
        import_exports([orders], mapping={**mapping, "orders": {"encoding": "utf-8"}}, now=NOW)
