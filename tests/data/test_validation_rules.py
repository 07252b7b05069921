"""Rules across the columns of a row (``Table.row_rules``) and totals checked against
their lines (``Table.line_totals``): what they reject, what they only report, and that
nothing is lost (issue 15)."""

import pandas as pd
import pytest

from shopbook.data import contract
from shopbook.data.contract import TABLES
from shopbook.data.validation import rules, validate
from shopbook.errors import ContractError

NOW = "2025-01-01"


def order(i, gross=13.25, discount=1.10, net=12.15, **changes):
    row = {
        "order_id": f"o{i}",
        "customer_id": "c1",
        "order_ts": pd.Timestamp("2024-03-01 10:00") + pd.Timedelta(hours=i),
        "channel": "tmall",
        "status": "paid",
        "gross_amount": gross,
        "discount_amount": discount,
        "net_amount": net,
        "currency": "CNY",
    }
    return row | changes


def item(order_id, sku="A", quantity=1, unit_price=13.25):
    return {
        "order_id": order_id,
        "sku": sku,
        "quantity": quantity,
        "unit_price": unit_price,
        "list_price": 15.0,
        "unit_cost": 5.0,
    }


def check(tables):
    """Validate lists of row dicts; assert read = kept + rejected and one reason per reject."""
    frames = {name: pd.DataFrame(rows) for name, rows in tables.items()}
    report = validate(frames, now=NOW)
    for name, h in report.tables.items():
        assert h.read == len(frames[name]) == h.kept + h.rejected
        rejects = report.rejects(name).execute()
        assert len(rejects) == h.rejected == sum(h.reasons.values())
        assert rejects["reason"].notna().all()
    return report


def reasons(report, name="orders"):
    rejects = report.rejects(name).execute()
    return dict(zip(rejects["order_id"], rejects["reason"], strict=True))


# -- net = gross − discount ------------------------------------------------------------------


def test_net_that_is_not_gross_minus_discount_is_rejected():
    report = check({"orders": [order(1), order(2, net=999999.0), order(3, net=0.0)]})
    assert reasons(report) == {"o2": "net ≠ gross − discount", "o3": "net ≠ gross − discount"}
    assert report.kept("orders").execute()["order_id"].tolist() == ["o1"]


def test_net_may_differ_from_gross_minus_discount_by_one_cent():
    # 13.25 − 1.10 is 12.149999… in floating point: one cent either way is rounding
    rows = [order(1, net=12.16), order(2, net=12.14), order(3, net=12.17), order(4, net=12.13)]
    report = check({"orders": rows})
    assert reasons(report) == {"o3": "net ≠ gross − discount", "o4": "net ≠ gross − discount"}


def test_amounts_as_text_are_compared_as_numbers():
    rows = [order(1, gross=" 13.25 ", discount="1.1", net="12.15"), order(2, net="12.5")]
    report = check({"orders": [{k: str(v) for k, v in r.items()} for r in rows]})
    assert reasons(report) == {"o2": "net ≠ gross − discount"}


def test_a_column_rule_comes_before_the_row_rules():
    rows = [order(1, net=-3.0), order(2, net="abc"), order(3, gross=None)]
    report = check(
        {"orders": [{k: None if v is None else str(v) for k, v in r.items()} for r in rows]}
    )
    assert reasons(report) == {
        "o1": "negative net_amount",
        "o2": "unparseable net_amount",
        "o3": "null gross_amount",
    }


# -- discount > gross ------------------------------------------------------------------------


def test_a_discount_above_the_gross_is_rejected_as_such():
    # net = 0 would also break net = gross − discount (−6.75): the reason says the cause
    rows = [order(1, discount=20.0, net=0.0), order(2, discount=13.25, net=0.0)]
    report = check({"orders": rows})
    assert reasons(report) == {"o1": "discount > gross"}  # a discount of all of it is fine


def test_a_free_order_and_a_full_price_order_are_kept():
    rows = [order(1, gross=0.0, discount=0.0, net=0.0), order(2, gross=99.0, discount=0, net=99.0)]
    assert check({"orders": rows}).tables["orders"].rejected == 0


# -- order of the rules, and the rules listed ---------------------------------------------


def test_a_row_rule_reject_does_not_count_as_the_first_of_a_duplicate_key():
    # the first o1 breaks net = gross − discount: the later, valid o1 is the one kept
    rows = [order(1, net=500.0), order(1, order_ts=pd.Timestamp("2024-06-01"))]
    report = check({"orders": rows})
    assert report.tables["orders"].reasons == {"net ≠ gross − discount": 1}
    assert report.kept("orders").execute()["net_amount"].tolist() == [12.15]


def test_rules_lists_the_row_rules_after_the_column_rules_before_the_key():
    names = [reason for reason, _ in rules("orders")]
    at = names.index("discount > gross")
    row_rules = ["discount > gross", "net ≠ gross − discount", "refund before order"]
    assert names[at : at + 3] == row_rules
    assert names[at - 1] == "refund_ts in the future" and names[at + 3] == "duplicate order_id"
    assert dict(rules("orders"))["net ≠ gross − discount"] == "net_amount"


def test_strict_names_the_column_a_row_rule_is_about():
    with pytest.raises(ContractError) as err:
        validate({"orders": pd.DataFrame([order(1), order(2, net=1.0)])}, now=NOW, strict=True)
    [problem] = err.value.problems
    assert (problem.table, problem.column) == ("orders", "net_amount")
    assert "net ≠ gross − discount" in problem.found


def test_most_rows_breaking_a_row_rule_warn_about_the_mapping():
    # a paid amount that includes 10.00 shipping, mapped to net_amount
    rows = [order(i, net=22.15) for i in range(4)] + [order(9)]
    report = check({"orders": rows})
    assert report.tables["orders"].reasons == {"net ≠ gross − discount": 4}
    [warning] = report.warnings
    assert warning.startswith("orders: 4 of 5 rows rejected as 'net ≠ gross − discount'")
    assert "shipping" in warning


def test_a_few_rows_breaking_a_row_rule_do_not_warn():
    report = check({"orders": [order(1), order(2), order(3, net=1.0)]})
    assert report.warnings == []


# -- gross vs the order's lines: reported, not rejected ------------------------------------


def test_a_gross_that_is_not_the_sum_of_its_lines_is_reported_not_rejected():
    orders = [order(1), order(2), order(3), order(4)]
    items = [
        item("o1"),  # 13.25: agrees
        item("o2", quantity=2, unit_price=5.0),  # 10.00 ≠ 13.25
        item("o2", "B", quantity=1, unit_price=3.24),  # (within a cent of 13.25 with this)
        item("o3", quantity=3),  # 39.75 ≠ 13.25
        # o4 has no lines: not compared
    ]
    report = check({"orders": orders, "order_items": items})
    assert report.tables["orders"].rejected == 0 and report.tables["order_items"].rejected == 0
    [warning] = report.warnings
    assert warning.startswith("orders: 1 of 3 kept orders with kept order_items break ")
    assert "e.g. order_id o3" in warning and "not rejected" in warning


def test_only_kept_lines_count_towards_the_total():
    # o1's second line is rejected (quantity 0): its gross is compared with the kept line
    items = [item("o1"), item("o1", "B", quantity=0)]
    report = check({"orders": [order(1)], "order_items": items})
    assert report.tables["order_items"].reasons == {"non-positive quantity": 1}
    assert report.warnings == []
    items = [item("o1", quantity=0)]  # no kept line: nothing to compare
    assert check({"orders": [order(1)], "order_items": items}).warnings == []


# -- the contract documents every rule -----------------------------------------------------


def test_every_row_rule_and_line_total_is_declared_on_contract_columns_and_documented():
    docs = contract.to_markdown()
    for t in TABLES.values():
        for rr in t.row_rules:
            assert all(c in t for c in rr.columns), rr
            assert f"— else `{rr.reason}`" in docs
            assert rr.fix
        for lt in t.line_totals:
            lines = TABLES[lt.lines_table]
            assert lt.column in t and all(c in t and c in lines for c in lt.key)
            assert lt.quantity in lines and lt.price in lines
            assert lt.rule in docs and "not rejected" in docs


def test_the_row_rules_hold_on_pandas_too():
    # the same test functions work on a frame (e.g. for a generator that checks its output)
    frame = pd.DataFrame([order(1), order(2, net=20.0), order(3, discount=14.0, net=0.0)])
    got = {
        rr.reason: rr.test(*[frame[c] for c in rr.columns]).tolist()
        for rr in TABLES["orders"].row_rules
        if set(rr.columns) <= set(frame.columns)
    }
    assert got == {
        "discount > gross": [False, False, True],
        "net ≠ gross − discount": [False, True, True],
    }


def test_duplicate_order_item_says_how_to_add_the_lines_up():
    items = [item("o1", quantity=1), item("o1", quantity=1)]  # one SKU on two lines
    report = check({"orders": [order(1, gross=26.5, net=25.4)], "order_items": items})
    [(reason, n)] = report.tables["order_items"].reasons.items()
    assert n == 1 and reason == TABLES["order_items"].key_reason
    assert reason.startswith("duplicate order_item") and "combine_lines: sum" in reason


# -- refunds after the order --------------------------------------------------------------------


def test_a_refund_before_its_order_is_rejected_and_a_missing_refund_time_passes():
    placed = pd.Timestamp("2024-03-01 11:00")  # order(1): 10:00 + 1 hour
    rows = [
        order(1, status="refunded", refund_ts=placed + pd.Timedelta(days=2)),
        order(2, status="refunded", refund_ts=pd.Timestamp("2024-02-28 09:00")),
        order(3, refund_ts=None),
    ]
    report = check({"orders": rows})
    assert reasons(report) == {"o2": "refund before order"}
    kept = report.kept("orders").execute().set_index("order_id")
    assert kept.loc["o1", "refund_ts"] == placed + pd.Timedelta(days=2)
    assert pd.isna(kept.loc["o3", "refund_ts"])


def test_a_source_without_refund_times_is_not_warned_about_them():
    report = check({"orders": [order(1)]})
    assert not [w for w in report.warnings if "refund_ts" in w]
    assert "refund before order" in [r.reason for r in contract.table("orders").row_rules]
