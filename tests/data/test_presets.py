"""The platform import presets (issue 15) read their platforms' exports end to end.

Each preset has a fixture under ``tests/data/exports/<preset>/``, written by
``make_exports.py`` from the platform's documented layout: the same shop of 24 orders
(``ORDERS`` there) plus four planted bad orders — O13 without a buyer, O14 at an
impossible time (2024-06-31 25:00), O15 with a status the preset does not know, O16 still
waiting for payment — and order O06 with one SKU (C300) on two lines.

The expected figures are computed here by hand from that list:

* kept orders: 24 − 4 planted = 20; statuses 18 paid, 1 refunded (O04), 1 cancelled (O05)
  — except tmall, whose export writes 交易关闭 for O04 too (closed after a full refund),
  so 18 paid and 2 cancelled (see the preset's header).
* GMV (Σ net_amount over paid orders), by order:
  O01 1299 − 100 = 1199.00; O02 2 × 89.90 + 3 × 25 = 254.80; O03 459 − 20 = 439.00;
  O06 3 × 25 = 75.00; O07 1299 + 89.90 − 50 = 1338.90; O08 2 × 459 − 18 = 900.00;
  O09 89.90; O10 4 × 25 − 10 = 90.00; O11 1299.00; O12 3 × 89.90 = 269.70;
  O17–O24 8 × 25 = 200.00 — in all 6155.30.
* order lines: 27 line rows (24 orders, O02, O06 and O07 with two). With
  ``combine_lines: sum`` O06's two C300 lines are one (quantity 3): 26 lines, of which the
  4 of the planted orders are orphans (their order was rejected) → 22 kept. The generic
  preset keeps the default (reject): 27 read, O06's second line a ``duplicate
  order_item``, 4 orphans → 22 kept.
* units on kept lines: O01 1, O02 5, O03 1, O04 1, O05 1, O06 3, O07 2, O08 2, O09 1,
  O10 4, O11 1, O12 3, O17–O24 8 → 33. Generic: 31 — of O06's two C300 lines (quantity
  2, then 1) validation keeps the "first" by the order of the other contract columns
  (data/validation: deterministic on every engine), i.e. the line of quantity 1.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from shopbook.cli import app
from shopbook.data.sources import open_source
from shopbook.data.validation.entry import validate

EXPORTS = Path(__file__).resolve().parent / "exports"
sys.path.insert(0, str(EXPORTS))
import make_exports  # noqa: E402

PRESETS = ("tmall", "jd", "douyin", "shopify", "woocommerce", "generic")
#: The export files of each preset, and which contract tables each one feeds.
FILES: dict[str, dict[str, str]] = {
    "tmall": {
        "orders": "tmall/ExportOrderList202406.csv",
        "order_items": "tmall/ExportOrderDetailList202406.csv",
    },
    "jd": dict.fromkeys(("orders", "order_items"), "jd/jd_orders_202406.csv"),
    "douyin": dict.fromkeys(("orders", "order_items"), "douyin/douyin_orders_202406.csv"),
    "shopify": dict.fromkeys(("orders", "order_items"), "shopify/orders_export_1.csv"),
    "woocommerce": dict.fromkeys(("orders", "order_items"), "woocommerce/wc-orders-export.csv"),
    "generic": {"orders": "generic/orders.csv", "order_items": "generic/order_lines.csv"},
}
#: Presets whose export has one row per order line (the order repeated on each).
PER_LINE = {"jd", "douyin", "shopify", "woocommerce"}

GMV = 1199.00 + 254.80 + 439.00 + 75.00 + 1338.90 + 900.00 + 89.90 + 90.00 + 1299.00
GMV += 269.70 + 8 * 25.00  # = 6155.30
KEPT_ORDERS = 20
KEPT_LINES = 22
PLANTED_ORDERS = {"null customer_id": 1, "unparseable order_ts": 1, "unmapped status value": 2}


def statuses(preset: str) -> dict[str, int]:
    if preset == "tmall":
        return {"cancelled": 2, "paid": 18}
    return {"cancelled": 1, "paid": 18, "refunded": 1}


def order_reasons(preset: str) -> dict[str, int]:
    """Planted reasons; read as a plain folder source (not through `shopbook import`), the
    rows of an order's second line in a per-line export (O02, O06, O07) repeat the order
    and are counted as ``duplicate order_id``."""
    extra = {"duplicate order_id": 3} if preset in PER_LINE else {}
    return {**PLANTED_ORDERS, **extra}


def line_reasons(preset: str) -> dict[str, int]:
    out = {"orphan order_item": 4}
    if preset == "generic":
        out["duplicate order_item"] = 1
    return out


def _short(reasons: dict[str, int]) -> dict[str, int]:
    """Reasons without their hint in parentheses (``duplicate order_item (to add up …)``)."""
    out: dict[str, int] = {}
    for reason, n in reasons.items():
        key = reason.split(" (")[0]
        out[key] = out.get(key, 0) + n
    return out


def test_fixtures_are_the_generators_output(tmp_path):
    """The committed exports are exactly what make_exports.py writes (and it is deterministic)."""
    make_exports.main(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.csv"))
    committed = sorted(p.relative_to(EXPORTS) for p in EXPORTS.rglob("*.csv"))
    assert written == committed
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (EXPORTS / rel).read_bytes(), rel


@pytest.mark.parametrize(
    ("preset", "encoding"),
    [("tmall", "gbk"), ("jd", "gbk"), ("douyin", "utf-8-sig"), ("shopify", "utf-8")],
)
def test_fixtures_have_the_platforms_bytes(preset, encoding):
    """GBK for tmall/jd (not valid UTF-8), a BOM for douyin, plain UTF-8 for shopify."""
    raw = (EXPORTS / FILES[preset]["orders"]).read_bytes()
    raw.decode(encoding)
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")


def _folder(preset: str, tmp_path: Path) -> Path:
    """The export files as a folder source, one file per contract table, ``extends:`` the preset."""
    folder = tmp_path / preset
    folder.mkdir()
    for table, rel in FILES[preset].items():
        shutil.copy(EXPORTS / rel, folder / f"{table}.csv")
    (folder / "mapping.yml").write_text(f"extends: {preset}\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_reads_its_export(preset, tmp_path):
    """Through the mapping layer: every row kept or rejected as planted; counts and GMV by hand."""
    report = validate(open_source(_folder(preset, tmp_path)), now="2025-01-01")
    health = report.tables
    orders, lines = health["orders"], health["order_items"]
    for h in (orders, lines):
        assert h.read == h.kept + h.rejected
        assert sum(h.reasons.values()) == h.rejected
    assert orders.kept == KEPT_ORDERS
    assert _short(orders.reasons) == order_reasons(preset)
    assert lines.kept == KEPT_LINES
    assert _short(lines.reasons) == line_reasons(preset)
    # line rows in the file: 27; combine_lines: sum makes O06's two lines one before reading
    assert lines.read == (27 if preset == "generic" else 26)

    kept = report.kept("orders").execute()
    assert kept.groupby("status").size().to_dict() == statuses(preset)
    assert kept.loc[kept.status == "paid", "net_amount"].sum() == pytest.approx(GMV, abs=1e-6)
    assert set(kept.currency) == {"USD" if preset in ("shopify", "woocommerce") else "CNY"}
    assert set(kept.channel) == {"site" if preset == "generic" else preset}
    assert (kept.discount_amount >= 0).all()
    assert (kept.gross_amount - kept.discount_amount - kept.net_amount).abs().max() < 1e-6 or (
        preset == "tmall"  # tmall: net = 买家实际支付金额, 0 for the unpaid cancelled O05
    )

    items = report.kept("order_items").execute()
    assert int(items.quantity.sum()) == (31 if preset == "generic" else 33)
    assert sorted(items.sku.unique()) == ["A100", "B200", "C300", "D400"]
    list_a = set(items.loc[items.sku == "A100", "list_price"].round(2))
    assert list_a == ({1558.80} if preset == "shopify" else {1299.00})  # compare-at price
    if preset == "generic":
        assert set(items.loc[items.sku == "A100", "unit_cost"]) == {520.0}
    else:
        assert items.unit_cost.isna().all()


def import_preset(preset: str, tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "shop.duckdb"
    files = sorted({str(EXPORTS / rel) for rel in FILES[preset].values()})
    result = CliRunner().invoke(app, ["import", "--preset", preset, *files, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_import_lists_the_presets():
    result = CliRunner().invoke(app, ["import", "--list"])
    assert result.exit_code == 0, result.output
    for preset in PRESETS:
        assert preset in result.output


@pytest.mark.parametrize("preset", PRESETS)
def test_import_preset(preset, tmp_path):
    """``shopbook import --preset NAME FILES --out …``: the kept shop and every planted reject.

    The import makes one order row of each order's lines, so a per-line export gives 24
    orders read (no duplicates): 20 kept + 4 rejected. Lines: 26 read (27 rows, O06's two
    lines added up) = 22 + 4 orphans; generic 27 = 22 + 4 + 1 duplicate.
    """
    out, output = import_preset(preset, tmp_path)
    for reason in [*PLANTED_ORDERS, "orphan order_item"]:
        assert reason in output, output
    con = duckdb.connect(str(out), read_only=True)
    try:
        rejected = con.execute(
            'select "table", reason, count(*) from _rejected group by all'
        ).fetchall()
        source = con.execute("select reason, raw from _rejected_source").fetchall()
        kept = con.execute("select * from orders").fetchdf()
        lines = con.execute("select count(*) from order_items").fetchone()[0]
    finally:
        con.close()
    by_table: dict[str, dict[str, int]] = {"orders": {}, "order_items": {}}
    for table, reason, n in rejected:
        by_table[table][reason.split(" (")[0]] = n
    assert by_table == {"orders": PLANTED_ORDERS, "order_items": line_reasons(preset)}
    assert len(kept) + sum(PLANTED_ORDERS.values()) == 24  # rows read = kept + rejected
    assert lines + sum(line_reasons(preset).values()) == (27 if preset == "generic" else 26)
    words = make_exports.STATUS_WORDS[preset]
    assert sorted(source) == sorted(
        ("unmapped status value", words[w][0]) for w in ("unknown", "waiting")
    )
    assert len(kept) == KEPT_ORDERS and lines == KEPT_LINES
    assert kept.groupby("status").size().to_dict() == statuses(preset)
    assert kept.loc[kept.status == "paid", "net_amount"].sum() == pytest.approx(GMV, abs=1e-6)
