"""Property (issue 15): over generated platform exports — any supported encoding, one SKU
repeated on several lines of an order, order-level fields blank on an order's later lines
— the import loses nothing (read = kept + rejected; lines in the file = lines read +
lines added up) and counts nothing twice (GMV, line count and units equal the
generator's)."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopbook.data.importing import import_exports

MAPPING = {
    "timezone": "Asia/Shanghai",
    "currency": "CNY",
    "files": [
        {"kind": "lines", "match": ["订单号", "商品编码"], "produces": ["orders", "order_items"]}
    ],
    "orders": {
        "columns": {"订单号": "order_id", "买家": "customer_id", "状态": "status"},
        "values": {"status": {"交易成功": "paid", "退款成功": "refunded", "交易关闭": "cancelled"}},
        "constants": {"channel": "tmall"},
        "derive": {
            "order_ts": 'datetime(col("日期"), col("时间"))',
            "net_amount": 'money(col("实付"))',
            "gross_amount": "net_amount",
            "discount_amount": "gross_amount - net_amount",
        },
        "fill_down": ["order_id", "customer_id", "status", "order_ts", "net_amount"],
    },
    "order_items": {
        "columns": {"订单号": "order_id", "商品编码": "sku", "数量": "quantity"},
        "derive": {"unit_price": 'money(col("单价"))', "list_price": "unit_price"},
        "constants": {"unit_cost": None},
        "fill_down": ["order_id"],
        "combine_lines": "sum",
    },
}
STATUSES = {"交易成功": "paid", "退款成功": "refunded", "交易关闭": "cancelled"}
MONEY = ["¥{:,.2f}", "{:,.2f}元", "{:.2f}", "￥{:,.2f}"]

line = st.tuples(st.sampled_from(["S1", "S2", "S3"]), st.integers(1, 4), st.integers(1, 500))
order = st.tuples(
    st.sampled_from(sorted(STATUSES)),
    st.integers(100, 2_000_000),  # net amount in cents
    st.lists(line, min_size=1, max_size=4),
    st.lists(st.booleans(), min_size=5, max_size=5),  # which order fields repeat on lines 2+
    st.sampled_from(MONEY),
)


def render(orders, encoding: str) -> tuple[bytes, dict]:
    """The export's bytes and the generator's truth."""
    rows = ["订单号,买家,日期,时间,状态,实付,商品编码,数量,单价"]
    gmv, units, lines = 0.0, 0, defaultdict(int)
    for i, (status, cents, items, repeat, fmt) in enumerate(orders):
        oid, net = f"订{i:04d}", cents / 100
        fields = [oid, f"买家{i}", "2024-06-18", f"{i % 24:02d}:15:00", status, fmt.format(net)]
        if STATUSES[status] == "paid":
            gmv += net
        for j, (sku, qty, price) in enumerate(items):
            shown = [
                f if j == 0 or keep else "" for f, keep in zip(fields, [True, *repeat], strict=True)
            ]
            rows.append(",".join([*[f'"{v}"' for v in shown], sku, str(qty), f"¥{price}.00"]))
            units += qty
            lines[(oid, sku)] += qty
    text = "\r\n".join(rows) + "\r\n"
    if encoding == "gbk":  # GBK has the full-width yen sign only
        text = text.replace("¥", "￥")
    return text.encode(encoding), {
        "gmv": gmv,
        "units": units,
        "lines": len(lines),
        "rows": len(rows) - 1,
        "orders": len(orders),
    }


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    orders=st.lists(order, min_size=1, max_size=12),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
)
def test_nothing_lost_and_nothing_counted_twice(orders, encoding):
    data, truth = render(orders, encoding)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(data)
        mapping = {**MAPPING, "encoding": "auto"}
        result = import_exports([path], mapping=mapping, now="2025-01-01")
    report = result.report
    for h in report.tables.values():
        assert h.read == h.kept + h.rejected
    items, orders_h = report.tables["order_items"], report.tables["orders"]
    assert (
        result.lines["order_items"] == truth["rows"] == items.read + result.combined["order_items"]
    )
    assert (orders_h.kept, orders_h.rejected) == (truth["orders"], 0)
    assert (items.kept, items.rejected) == (truth["lines"], 0)
    kept = report.kept("orders").execute()
    assert abs(kept.loc[kept.status == "paid", "net_amount"].sum() - truth["gmv"]) < 1e-6
    assert int(report.kept("order_items").execute().quantity.sum()) == truth["units"]
