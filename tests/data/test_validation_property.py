"""Property: whatever the mess, no row is lost and every reject has one reason.

Random orders and order_items are drawn as text (as a CSV would give them) from tokens
whose validity is known, so the test also knows when a column is so broken that
validation must stop with a structural error instead.
"""

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopbook.data.contract import TABLES
from shopbook.data.validation import UNCOERCIBLE_SHARE, rules, validate
from shopbook.errors import ContractError

NOW = "2025-01-01"

IDS = ["o1", "o2", "o3", " o1 ", "", None]
TIMESTAMPS = ["2024-01-02", "2024-01-02 10:00:00", "2024-01-02T10:00:00", "2031-01-01", None]
BAD_TIMESTAMPS = ["yesterday", "2024-13-01"]
MONEY = ["10", " 2.5 ", "0", "-1", "1e3", None]
BAD_MONEY = ["abc", "nan"]
QUANTITIES = ["1", "2", "0", "-1", "3.0", None]
BAD_QUANTITIES = ["2.5", "x"]

# column → (good tokens, unreadable tokens); other columns are text and never unreadable
ORDER_COLUMNS = {
    "order_id": (IDS, []),
    "customer_id": (["c1", "c2", "  ", None], []),
    "order_ts": (TIMESTAMPS, BAD_TIMESTAMPS),
    "channel": (["site", "jd", None], []),
    "status": (["paid", "refunded", "cancelled", "PAID", "lost", None], []),
    "gross_amount": (MONEY, BAD_MONEY),
    "discount_amount": (MONEY, BAD_MONEY),
    "net_amount": (MONEY, BAD_MONEY),
    "currency": (["CNY", None], []),
}
ITEM_COLUMNS = {
    "order_id": (IDS + ["o9"], []),
    "sku": (["A", "B", None], []),
    "quantity": (QUANTITIES, BAD_QUANTITIES),
    "unit_price": (MONEY, BAD_MONEY),
    "list_price": (MONEY, BAD_MONEY),
    "unit_cost": (MONEY, BAD_MONEY),
}


def frames(columns, max_rows):
    row = st.fixed_dictionaries(
        {c: st.sampled_from(good + bad) for c, (good, bad) in columns.items()}
    )
    return st.lists(row, max_size=max_rows).map(
        lambda rows: pd.DataFrame(rows, columns=list(columns)).astype("string")
    )


def uncoercible(df, columns):
    """The columns in which more than half the present values are unreadable."""
    out = set()
    for col, (_, bad) in columns.items():
        values = df[col].dropna().str.strip()
        present = values[values != ""]
        if bad and present.isin(bad).sum() > UNCOERCIBLE_SHARE * len(present):
            out.add(col)
    return out


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(orders=frames(ORDER_COLUMNS, 12), items=frames(ITEM_COLUMNS, 12))
def test_read_equals_kept_plus_rejected_and_one_reason_per_reject(orders, items):
    broken = {("orders", c) for c in uncoercible(orders, ORDER_COLUMNS)}
    broken |= {("order_items", c) for c in uncoercible(items, ITEM_COLUMNS)}
    try:
        report = validate({"orders": orders, "order_items": items}, now=NOW)
    except ContractError as err:
        assert {(p.table, p.column) for p in err.problems} == broken
        assert all("values unreadable" in p.found for p in err.problems)
        return
    assert not broken

    sizes = {"orders": len(orders), "order_items": len(items)}
    for name, h in report.tables.items():
        assert h.read == sizes[name] == h.kept + h.rejected
        assert sum(h.reasons.values()) == h.rejected
        rejects = report.rejects(name).execute()
        assert len(rejects) == h.rejected
        assert rejects["reason"].notna().all() and (rejects["reason"] != "").all()
        assert set(rejects["reason"]) <= {reason for reason, _ in rules(name)}

    kept_orders = report.kept("orders").execute()
    kept_items = report.kept("order_items").execute()
    assert len(kept_orders) == report.tables["orders"].kept
    assert len(kept_items) == report.tables["order_items"].kept
    assert kept_orders["order_id"].is_unique
    assert set(kept_items["order_id"]) <= set(kept_orders["order_id"])
    assert not kept_items.duplicated(["order_id", "sku"]).any()
    assert (kept_items["quantity"] > 0).all() and (kept_orders["net_amount"] >= 0).all()
    for rr in TABLES["orders"].row_rules:  # net = gross − discount…: no kept row breaks one
        assert not rr.test(*[kept_orders[c] for c in rr.columns]).any(), rr.reason
