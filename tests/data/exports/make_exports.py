"""Write the platform export fixtures of ``tests/data/test_presets.py`` (issue 15).

Run ``python tests/data/exports/make_exports.py``; it rewrites every file under
``tests/data/exports/<preset>/`` byte for byte the same (no randomness, no clock), and the
generated files are committed so a reader can open them.

Every preset's fixture holds the same shop — :data:`ORDERS`, 24 orders of six customers —
written in that platform's export layout (headers, encoding, status words, money as
text), plus four planted bad orders: a missing buyer, an impossible time, a status the
preset does not know, and an order still waiting for payment. Order O06 has one SKU on two
lines. The test computes the expected counts and GMV by hand from the same list.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Where the files are written: this folder, or the one :func:`main` is given.
OUT = HERE


@dataclass(frozen=True)
class Line:
    sku: str
    qty: int
    price: float


@dataclass(frozen=True)
class Order:
    oid: str
    customer: str  # "" = the planted missing buyer
    ts: str  # "2024-06-31 25:00:00" = the planted impossible time
    status: str  # paid | refunded | cancelled | waiting | unknown
    lines: tuple[Line, ...]
    discount: float = 0.0


NAMES = {"A100": "真丝睡衣套装", "B200": "香薰蜡烛", "C300": "棉袜三双装", "D400": "羊绒围巾"}
COST = {"A100": 520.0, "B200": 31.5, "C300": 9.0, "D400": 180.0}


def _a(qty: int = 1) -> Line:
    return Line("A100", qty, 1299.00)


def _b(qty: int = 1) -> Line:
    return Line("B200", qty, 89.90)


def _c(qty: int = 1) -> Line:
    return Line("C300", qty, 25.00)


def _d(qty: int = 1) -> Line:
    return Line("D400", qty, 459.00)


ORDERS: tuple[Order, ...] = (
    Order("O01", "c01", "2024-05-03 10:15:00", "paid", (_a(),), 100.0),
    Order("O02", "c02", "2024-05-04 11:20:00", "paid", (_b(2), _c(3))),
    Order("O03", "c01", "2024-05-10 20:05:00", "paid", (_d(),), 20.0),
    Order("O04", "c03", "2024-05-12 09:00:00", "refunded", (_a(),)),
    Order("O05", "c04", "2024-05-15 14:30:00", "cancelled", (_b(),)),
    Order("O06", "c02", "2024-05-20 16:45:00", "paid", (_c(2), _c(1))),  # one SKU, two lines
    Order("O07", "c05", "2024-05-22 08:10:00", "paid", (_a(), _b()), 50.0),
    Order("O08", "c06", "2024-06-01 12:00:00", "paid", (_d(2),), 18.0),
    Order("O09", "c03", "2024-06-05 19:30:00", "paid", (_b(),)),
    Order("O10", "c04", "2024-06-08 21:00:00", "paid", (_c(4),), 10.0),
    Order("O11", "c05", "2024-06-10 10:00:00", "paid", (_a(),)),
    Order("O12", "c06", "2024-06-12 11:11:00", "paid", (_b(3),)),
    Order("O13", "", "2024-06-13 09:30:00", "paid", (_c(),)),  # planted: no buyer
    Order("O14", "c01", "2024-06-31 25:00:00", "paid", (_b(),)),  # planted: impossible time
    Order("O15", "c02", "2024-06-15 15:00:00", "unknown", (_c(),)),  # planted: unknown status
    Order("O16", "c03", "2024-06-16 16:00:00", "waiting", (_d(),)),  # planted: not paid yet
    *(
        Order(f"O{17 + i}", f"c0{1 + i % 6}", f"2024-06-{17 + i:02d} 12:00:00", "paid", (_c(),))
        for i in range(8)
    ),
)

#: Each preset's words for the shop's statuses (paid orders cycle through the list).
STATUS_WORDS: dict[str, dict[str, list[str]]] = {
    "tmall": {
        "paid": ["交易成功", "买家已付款，等待卖家发货", "卖家已发货，等待买家确认"],
        "refunded": ["交易关闭"],  # closed after a full refund: the export says 交易关闭
        "cancelled": ["交易关闭"],
        "unknown": ["交易异常"],
        "waiting": ["等待买家付款"],
    },
    "jd": {
        "paid": ["完成", "等待出库", "等待确认收货"],
        "refunded": ["退款成功"],
        "cancelled": ["已取消"],
        "unknown": ["锁定"],
        "waiting": ["等待付款"],
    },
    "douyin": {
        "paid": ["已完成", "已发货", "待发货"],
        "refunded": ["已关闭"],
        "cancelled": ["已取消"],
        "unknown": ["交易异常"],
        "waiting": ["待支付"],
    },
    "shopify": {
        "paid": ["paid", "paid", "partially_refunded"],
        "refunded": ["refunded"],
        "cancelled": ["voided"],
        "unknown": ["expired"],
        "waiting": ["pending"],
    },
    "woocommerce": {
        "paid": ["completed", "processing", "completed"],
        "refunded": ["refunded"],
        "cancelled": ["cancelled"],
        "unknown": ["on-hold"],
        "waiting": ["pending"],
    },
    "generic": {
        "paid": ["已完成", "paid", "已发货"],
        "refunded": ["已退款"],
        "cancelled": ["已取消"],
        "unknown": ["异常"],
        "waiting": ["待付款"],
    },
}


def status_word(preset: str, order: Order) -> str:
    words = STATUS_WORDS[preset][order.status]
    return words[int(order.oid[1:]) % len(words)]


def gross(order: Order) -> float:
    return round(sum(li.qty * li.price for li in order.lines), 2)


def net(order: Order) -> float:
    return round(gross(order) - order.discount, 2)


def paid_at(order: Order) -> str:
    """The payment time the export shows: blank for unpaid orders."""
    return "" if order.status in ("cancelled", "waiting") else order.ts


def _yuan(x: float) -> str:
    """Money as the Chinese exports write it, with a thousands separator: 1,299.00."""
    return f"{x:,.2f}"


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _write(path: Path, rows: list[list[str]], encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_csv(rows).encode(encoding))


# ---------------------------------------------------------------- tmall (two GBK files)
TMALL_ORDER_HEADER = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分",
    "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言",
    "收货人姓名", "收货地址", "运送方式", "联系电话", "联系手机", "订单创建时间", "订单付款时间",
    "宝贝标题", "宝贝种类", "物流单号", "物流公司", "订单备注", "宝贝总数量", "店铺Id",
    "店铺名称", "订单关闭原因",
]  # fmt: skip
TMALL_LINE_HEADER = [
    "订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注",
    "订单状态", "商家编码",
]  # fmt: skip


def tmall() -> None:
    orders, lines = [TMALL_ORDER_HEADER], [TMALL_LINE_HEADER]
    for o in ORDERS:
        oid = f"38{int(o.oid[1:]):016d}"
        paid = net(o) if paid_at(o) else 0.0
        closed = {"cancelled": "买家不想买了", "refunded": "退款"}.get(o.status, "订单未关闭")
        total_qty = sum(li.qty for li in o.lines)
        orders.append([
            oid, o.customer and f"tb_{o.customer}", f"{o.customer}@example.com",
            _yuan(gross(o)), "0.00", "0", _yuan(gross(o)), "0",
            # one export in three writes the 元 suffix (older seller-centre versions)
            _yuan(paid) + ("元" if int(o.oid[1:]) % 3 == 0 else ""), "0",
            status_word("tmall", o), "", "张三", "浙江省 杭州市 西湖区 文三路1号(310000)",
            "快递", "", "138****0000", o.ts, paid_at(o), NAMES[o.lines[0].sku],
            str(len({li.sku for li in o.lines})), "", "", "", str(total_qty), "1001",
            "示例旗舰店", closed,
        ])  # fmt: skip
        for li in o.lines:
            lines.append([
                oid, NAMES[li.sku], f"{li.price:.2f}", str(li.qty), "", "颜色分类:默认", "", "",
                status_word("tmall", o), li.sku,
            ])  # fmt: skip
    _write(OUT / "tmall" / "ExportOrderList202406.csv", orders, "gbk")
    _write(OUT / "tmall" / "ExportOrderDetailList202406.csv", lines, "gbk")


# ---------------------------------------------------------------- jd (one GBK file)
JD_HEADER = [
    "订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额",
    "结算金额", "余额支付", "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名",
    "客户地址", "联系电话", "订单备注", "运费金额", "付款确认时间",
]  # fmt: skip


def jd() -> None:
    rows = [JD_HEADER]
    for o in ORDERS:
        oid = f"29{int(o.oid[1:]):09d}"
        for li in o.lines:
            rows.append([
                oid, li.sku, NAMES[li.sku], str(li.qty), "在线支付", o.ts,
                "￥" + _yuan(li.price), "￥" + _yuan(gross(o)), "￥" + _yuan(net(o)), "￥0.00",
                "￥" + _yuan(net(o)), status_word("jd", o), "SOP",
                o.customer and f"jd_{o.customer}",
                "李四", "北京 朝阳区 三环到四环之间", "138****0000", "", "￥0.00", paid_at(o),
            ])  # fmt: skip
    _write(OUT / "jd" / "jd_orders_202406.csv", rows, "gbk")


# ---------------------------------------------------------------- douyin (UTF-8 with BOM)
DOUYIN_HEADER = [
    "主订单编号", "子订单编号", "选购商品", "商品规格", "商品数量", "商品ID", "商家编码",
    "商品单价", "订单应付金额", "运费", "优惠总金额", "订单提交时间", "支付完成时间",
    "订单完成时间", "订单状态", "售后状态", "取消原因", "收件人", "收件人手机号", "省", "市",
    "区", "街道", "商家备注",
]  # fmt: skip


def douyin() -> None:
    rows = [DOUYIN_HEADER]
    for o in ORDERS:
        oid = f"69{int(o.oid[1:]):017d}"
        for k, li in enumerate(o.lines):
            discount = o.discount if k == 0 else 0.0  # the order's discount on its first line
            rows.append([
                oid, f"{oid}{k + 1}", NAMES[li.sku], "默认", str(li.qty), f"3{li.sku[1:]}0001",
                li.sku, "¥" + _yuan(li.price), "¥" + _yuan(li.qty * li.price - discount),
                "¥0.00", "¥" + _yuan(discount), o.ts, paid_at(o),
                o.ts if o.status == "paid" else "", status_word("douyin", o),
                "退款成功" if o.status == "refunded" else "", "",
                "王五", o.customer and f"138****00{o.customer[1:]}", "广东省", "深圳市", "南山区",
                "粤海街道", "",
            ])  # fmt: skip
    _write(OUT / "douyin" / "douyin_orders_202406.csv", rows, "utf-8-sig")


# ---------------------------------------------------------------- shopify (UTF-8)
SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total",
    "Discount Code", "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity",
    "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing City", "Billing Country", "Shipping Name", "Shipping City",
    "Shipping Country", "Notes", "Cancelled at", "Payment Method", "Refunded Amount",
    "Vendor", "Id", "Tags", "Risk Level", "Source",
]  # fmt: skip
ENGLISH = {"A100": "Silk pyjama set", "B200": "Scented candle", "C300": "Cotton socks, 3 pairs",
           "D400": "Cashmere scarf"}  # fmt: skip


def shopify() -> None:
    rows = [SHOPIFY_HEADER]
    for o in ORDERS:
        name = f"#{1000 + int(o.oid[1:])}"
        word = status_word("shopify", o)
        ts = o.ts + " +0800"
        for k, li in enumerate(o.lines):
            line = [
                str(li.qty), ENGLISH[li.sku], f"{li.price:.2f}",
                f"{li.price * 1.2:.2f}" if li.sku == "A100" else "", li.sku, "true", "true",
                "fulfilled" if o.status == "paid" else "pending",
            ]  # fmt: skip
            if k == 0:  # the order's fields, on its first row only
                email = o.customer and f"{o.customer}@example.com"
                order = [
                    name, email, word, paid_at(o) and ts, "fulfilled", "", "no", "USD",
                    f"{net(o):.2f}", "0.00", "0.00", f"{net(o):.2f}",
                    "WELCOME" if o.discount else "", f"{o.discount:.2f}", "Standard", ts,
                ]  # fmt: skip
                tail = [
                    "Ann Example", "Portland", "US", "Ann Example", "Portland", "US", "",
                    ts if word == "voided" else "", "Shopify Payments",
                    f"{net(o):.2f}" if word in ("refunded",) else "0.00", "Example Co",
                    str(5000000 + int(o.oid[1:])), "", "Low", "web",
                ]  # fmt: skip
            else:
                order = [name] + [""] * 15
                tail = [""] * 10 + ["Example Co", "", "", "", ""]
            rows.append(order + line + tail)
    _write(OUT / "shopify" / "orders_export_1.csv", rows, "utf-8")


# ---------------------------------------------------------------- woocommerce (UTF-8)
WOO_HEADER = [
    "order_id", "order_number", "order_date", "paid_date", "status", "shipping_total",
    "shipping_tax_total", "fee_total", "tax_total", "discount_total", "order_total",
    "refunded_total", "order_currency", "payment_method", "shipping_method", "customer_id",
    "billing_first_name", "billing_last_name", "billing_email", "billing_country",
    "item_id", "item_name", "item_sku", "item_quantity", "item_subtotal", "item_total",
]  # fmt: skip


def woocommerce() -> None:
    rows = [WOO_HEADER]
    for o in ORDERS:
        oid = str(4000 + int(o.oid[1:]))
        word = status_word("woocommerce", o)
        for k, li in enumerate(o.lines):
            subtotal = li.qty * li.price
            rows.append([
                oid, oid, o.ts, paid_at(o), word, "0.00", "0.00", "0.00", "0.00",
                f"{o.discount:.2f}", f"{net(o):.2f}",
                f"{net(o):.2f}" if o.status == "refunded" else "0.00", "USD", "stripe",
                "Flat rate", "0", "Ann", "Example", o.customer and f"{o.customer}@example.com",
                "US", str(int(oid) * 10 + k), ENGLISH[li.sku], li.sku, str(li.qty),
                f"{subtotal:.2f}", f"{subtotal - (o.discount if k == 0 else 0):.2f}",
            ])  # fmt: skip
    _write(OUT / "woocommerce" / "wc-orders-export.csv", rows, "utf-8")


# ---------------------------------------------------------------- generic (two UTF-8 files)
def generic() -> None:
    orders = [["订单号", "客户ID", "下单时间", "订单状态", "商品金额", "优惠金额", "实付金额"]]
    lines = [["订单号", "商品编码", "商品名称", "数量", "单价", "原价", "成本价"]]
    for o in ORDERS:
        orders.append([
            o.oid, o.customer, o.ts, status_word("generic", o), "¥" + _yuan(gross(o)),
            "¥" + _yuan(o.discount), "¥" + _yuan(net(o)),
        ])  # fmt: skip
        for li in o.lines:
            lines.append([
                o.oid, li.sku, NAMES[li.sku], str(li.qty), "¥" + _yuan(li.price), "",
                "¥" + _yuan(COST[li.sku]),
            ])  # fmt: skip
    _write(OUT / "generic" / "orders.csv", orders, "utf-8")
    _write(OUT / "generic" / "order_lines.csv", lines, "utf-8")


def main(out: Path = HERE) -> None:
    """Write every fixture under ``out/<preset>/`` (default: next to this script)."""
    global OUT
    OUT = Path(out)
    for make in (tmall, jd, douyin, shopify, woocommerce, generic):
        make()


if __name__ == "__main__":
    main()
