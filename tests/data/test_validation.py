"""Validation: every row rule, every structural problem, and the report's API.

Sources are small crafted dicts of DataFrames or CSV folders written to ``tmp_path``.
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from shopbook.data import open_source
from shopbook.data.contract import TABLES
from shopbook.data.validation import TableHealth, ValidationReport, rules, validate
from shopbook.errors import ContractError

NOW = dt.datetime(2025, 1, 1)


# -- clean rows, one dict per row; tests change what they test -----------------------------


def order(i, **changes):
    row = {
        "order_id": f"o{i}",
        "customer_id": "c1",
        "order_ts": pd.Timestamp("2024-03-01 10:00") + pd.Timedelta(hours=i),
        "channel": "site",
        "status": "paid",
        "gross_amount": 100.0,
        "discount_amount": 10.0,
        "net_amount": 90.0,
        "currency": "CNY",
    }
    return row | changes


def paid(amount):
    """Consistent amounts of an order without discount: gross = net = ``amount``."""
    return {"gross_amount": amount, "discount_amount": 0.0, "net_amount": amount}


def item(order_id, sku="A", **changes):
    row = {
        "order_id": order_id,
        "sku": sku,
        "quantity": 1,
        "unit_price": 50.0,
        "list_price": 60.0,
        "unit_cost": 20.0,
    }
    return row | changes


def assignment(unit, variant, **changes):
    row = {
        "experiment_id": "exp1",
        "unit_id": unit,
        "variant": variant,
        "assigned_ts": pd.Timestamp("2024-05-01"),
    }
    return row | changes


def session(i, **changes):
    row = {
        "session_id": f"s{i}",
        "visitor_id": f"v{i}",
        "customer_id": None,
        "session_ts": pd.Timestamp("2024-05-01 12:00"),
        "channel": "search",
        "device": "mobile",
        "pageviews": 3,
        "product_views": 1,
        "added_to_cart": True,
        "reached_checkout": False,
        "order_id": None,
    }
    return row | changes


def frame(rows):
    """A DataFrame of row dicts; columns mixing types (or all null) become text, as in a CSV."""
    df = pd.DataFrame(list(rows))
    for col in df.columns:
        values = df[col].dropna()
        if (
            df[col].dtype == object
            and not values.map(lambda v: isinstance(v, str)).all()
            or values.empty
        ):
            df[col] = (
                df[col]
                .map(lambda v: None if v is None or v is pd.NaT or v != v else str(v))
                .astype("string")
            )
    return df


def check(tables, **kwargs):
    """Validate a dict of row lists / frames and assert the accounting invariant."""
    frames = {k: v if isinstance(v, pd.DataFrame) else frame(v) for k, v in tables.items()}
    report = validate(frames, now=kwargs.pop("now", NOW), **kwargs)
    for name, h in report.tables.items():
        assert h.read == len(frames[name]) == h.kept + h.rejected
        assert sum(h.reasons.values()) == h.rejected
        assert int(report.kept(name).count().execute()) == h.kept
        assert int(report.rejects(name).count().execute()) == h.rejected
    return report


def reasons(report, name):
    """``{primary key or first column value: reason}`` of the rejected rows."""
    rejects = report.rejects(name).execute()
    key = TABLES[name].columns[0].name
    return dict(zip(rejects[key], rejects["reason"], strict=True))


def problems(err):
    return {(p.table, p.column) for p in err.value.problems}


# -- row rules -----------------------------------------------------------------------------


def test_clean_data_keeps_every_row_typed_per_contract():
    lines = [item("o1", quantity=2), item("o2", quantity=2)]  # 2 × 50 = the gross of 100
    report = check({"orders": [order(1), order(2)], "order_items": lines})
    assert report.tables["orders"] == TableHealth("orders", 2, 2, 0, {})
    kept = report.kept("orders")
    assert kept.columns == tuple(TABLES["orders"].column_names)
    assert kept.schema() == TABLES["orders"].ibis_schema()
    assert report.kept("order_items").schema() == TABLES["order_items"].ibis_schema()
    assert report.warnings == []


def test_null_and_blank_required_values_are_rejected():
    report = check({"orders": [order(1), order(2, customer_id=None), order(3, customer_id="  ")]})
    assert reasons(report, "orders") == {"o2": "null customer_id", "o3": "null customer_id"}


def test_nullable_columns_may_be_null():
    report = check({"orders": [order(1)], "order_items": [item("o1", unit_cost=np.nan)]})
    assert report.tables["order_items"].rejected == 0


def test_unparseable_timestamp_is_a_row_reject_with_its_source_text():
    rows = [
        order(1, order_ts="2024-01-02"),
        order(2, order_ts="last tuesday"),
        order(3, order_ts="2024-01-03"),
    ]
    report = check({"orders": rows})
    assert reasons(report, "orders") == {"o2": "unparseable order_ts"}
    rejected = report.rejects("orders").execute()
    assert rejected.loc[0, "order_ts"] == "last tuesday"


def test_iso_timestamp_formats_are_accepted_and_offsets_converted_to_utc():
    texts = [
        "2024-01-02",
        "2024-01-02 10:00:00",
        "2024-01-02T10:00:00",
        " 2024-01-02T10:00:00.5 ",
        "2024-01-02T10:00:00Z",
        "2024-01-02T18:00:00+08:00",
    ]
    report = check({"orders": [order(i, order_ts=t) for i, t in enumerate(texts)]})
    kept = report.kept("orders").order_by("order_id").execute()
    assert list(kept["order_ts"]) == [
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-02 10:00"),
        pd.Timestamp("2024-01-02 10:00"),
        pd.Timestamp("2024-01-02 10:00:00.5"),
        pd.Timestamp("2024-01-02 10:00"),
        pd.Timestamp("2024-01-02 10:00"),
    ]


def test_timestamps_cast_whole_read_as_the_regular_expression_reads_them():
    # split_stamps casts a text that is exactly the engine's text of a timestamp as it
    # is, without its regular expression (the longest local date-time a text starts
    # with, then the rest as its zone). Over valid times with a character or two
    # changed to ones a cast might accept, the parts are those the expression gives.
    import random
    import re

    import ibis

    from shopbook.data.validation.stamps import _LOCAL, split_stamps

    rng = random.Random(15)
    odd = " +-:.TZa９٣"
    texts = [
        "2024-02-30",
        "2024-01-01 24:00:00",
        "0000-01-01",
        "9999-12-31T23:59:59",
        "2044-06-27  9:31:57",
        "2024-01-01 10:00:0 ",
        "2024-01-01T10:00:0Z",
        "2024-01-01 10:00+08",
        "2024-01-02T18:00:00+08:00",
    ]
    start = dt.datetime(1990, 1, 1)
    for _ in range(3000):
        when = start + dt.timedelta(seconds=rng.randrange(60 * 365 * 86400))
        text = list(when.strftime("%Y-%m-%d" if rng.random() < 0.3 else "%Y-%m-%d %H:%M:%S"))
        if len(text) == 19 and rng.random() < 0.3:
            text[10] = "T"
        for _ in range(rng.choice([0, 0, 1, 2])):
            text[rng.randrange(len(text))] = rng.choice(odd + "0123456789")
        texts.append("".join(text))
    prefix = re.compile(_LOCAL, re.ASCII)
    found = [prefix.match(s) for s in texts]
    frame = pd.DataFrame(
        {
            "s": texts,
            "prefix": [m.group(0) if m else None for m in found],
            "zone": [
                (s[m.end() :].strip() or None) if m else None
                for s, m in zip(texts, found, strict=True)
            ],
        }
    )
    t = ibis.memtable(frame)
    parts = split_stamps(t, ["s"], clean=True)
    got = parts.select(
        "s",
        "zone",
        "__zone_s",
        at=parts.__at_s.cast("string"),  # as text: year 0 is beyond Python's datetime
        expected=parts.prefix.try_cast("timestamp").cast("string"),
    ).execute()
    assert got["at"].notna().sum() > 2000  # most are times
    differ = got[
        (got["at"].fillna("-") != got["expected"].fillna("-"))
        | (got["__zone_s"].fillna("-") != got["zone"].fillna("-"))
    ]
    assert differ.empty, differ.head().to_dict("records")


def test_time_zone_aware_timestamps_become_naive_utc():
    ts = pd.Timestamp("2024-01-02 18:00", tz="Asia/Shanghai")
    report = check({"orders": [order(1, order_ts=ts)]})
    assert report.kept("orders").execute()["order_ts"][0] == pd.Timestamp("2024-01-02 10:00")


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [
        ("two", "unparseable quantity"),
        ("2.5", "unparseable quantity"),
        ("0", "non-positive quantity"),
        ("-3", "non-positive quantity"),
        ("", "null quantity"),
    ],
)
def test_quantity_must_be_a_positive_whole_number(quantity, reason):
    items = [
        item("o1", "A", quantity="1"),
        item("o1", "B", quantity=" 3.0 "),
        item("o1", "C", quantity="4"),
        item("o1", "X", quantity=quantity),
    ]
    report = check({"orders": [order(1)], "order_items": items})
    rejected = report.rejects("order_items").execute()
    assert list(zip(rejected["sku"], rejected["reason"], strict=True)) == [("X", reason)]
    assert sorted(report.kept("order_items").execute()["quantity"]) == [1, 3, 4]


def test_fractional_float_quantities_are_unparseable_and_whole_floats_kept():
    items = [
        item("o1", "A", quantity=2.0),
        item("o1", "B", quantity=2.5),
        item("o1", "C", quantity=np.nan),
    ]
    report = check({"orders": [order(1)], "order_items": items})
    rejected = report.rejects("order_items").execute().set_index("sku")["reason"].to_dict()
    assert rejected == {"B": "unparseable quantity", "C": "null quantity"}


def test_negative_money_is_rejected_and_money_may_come_as_text():
    rows = [
        order(1, net_amount="90.5", gross_amount=" 100 ", discount_amount="9.5"),
        order(2, net_amount="-1"),
        order(3, net_amount="1e2", discount_amount="0"),
        order(4, net_amount="ninety"),
    ]
    report = check({"orders": rows})
    assert reasons(report, "orders") == {
        "o2": "negative net_amount",
        "o4": "unparseable net_amount",
    }
    kept = report.kept("orders").order_by("order_id").execute()
    assert list(kept["net_amount"]) == [90.5, 100.0]
    assert kept["gross_amount"].dtype == "float64"


def test_infinite_money_is_out_of_range():
    report = check({"orders": [order(1), order(2), order(3, net_amount=np.inf)]})
    assert reasons(report, "orders") == {"o3": "out of range net_amount"}


def test_unknown_status_is_rejected_and_case_is_forgiven():
    rows = [order(1, status="PAID"), order(2, status=" refunded "), order(3, status="lost")]
    report = check({"orders": rows})
    assert reasons(report, "orders") == {"o3": "unknown status"}
    assert sorted(report.kept("orders").execute()["status"]) == ["paid", "refunded"]


def test_future_timestamps_and_dates_are_rejected_against_now():
    rows = [order(1, order_ts="2024-12-31 23:59:59"), order(2, order_ts="2025-01-01 00:00:01")]
    report = check({"orders": rows})
    assert reasons(report, "orders") == {"o2": "order_ts in the future"}
    # "now" decides: a year later both are in the past
    assert check({"orders": rows}, now="2026-01-01").tables["orders"].rejected == 0
    inventory = pd.DataFrame(
        {"date": ["2024-12-31", "2025-01-02"], "sku": ["A", "A"], "on_hand": [1, 2]}
    )
    report = check({"inventory": inventory})
    assert report.rejects("inventory").execute()["reason"].tolist() == ["date in the future"]
    assert report.kept("inventory").schema()["date"].is_date()
    assert report.kept("inventory").execute()["date"].tolist() == [pd.Timestamp("2024-12-31")]


def test_now_defaults_to_the_current_utc_time():
    report = check(
        {"orders": [order(1, order_ts=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))]}, now=None
    )
    assert report.tables["orders"].reasons == {"order_ts in the future": 1}
    assert abs(report.now - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=5)


def test_duplicate_key_keeps_the_earliest_and_ignores_input_order():
    rows = [
        order(1, order_ts="2024-02-01", **paid(1.0)),
        order(1, order_ts="2024-01-01", **paid(2.0)),
        order(1, order_ts="2024-03-01", **paid(3.0)),
        order(2),
    ]
    for permutation in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        report = check({"orders": [rows[i] for i in permutation]})
        assert report.tables["orders"].reasons == {"duplicate order_id": 2}
        kept = report.kept("orders").filter(lambda t: t.order_id == "o1").execute()
        assert kept["net_amount"].tolist() == [2.0]


def test_a_duplicate_of_an_invalid_row_is_kept():
    report = check({"orders": [order(1, net_amount=-5.0), order(1, order_ts="2024-12-01")]})
    assert report.tables["orders"].reasons == {"negative net_amount": 1}
    assert report.tables["orders"].kept == 1


def test_exact_copies_keep_one_and_the_rows_of_other_keys_pass_untouched():
    """Only the rows of repeated keys are numbered: copies that agree on every column keep
    one row, and no row is lost or doubled on the way (read == kept + rejected)."""
    rows = [order(1), order(2), order(1), order(3, status="lost"), order(1), order(4)]
    report = check({"orders": rows})
    health = report.tables["orders"]
    assert health.reasons == {"duplicate order_id": 2, "unknown status": 1}
    assert (health.read, health.kept, health.rejected) == (6, 3, 3)
    kept = report.kept("orders").order_by("order_id").execute()
    assert kept["order_id"].tolist() == ["o1", "o2", "o4"]
    assert report.rejects("orders").count().execute() == 3


@pytest.mark.parametrize("limit", [3, 100])
def test_repeated_keys_past_the_listing_limit_are_all_found(monkeypatch, limit):
    """Repeated keys with a null part count towards the limit of keys read back: with
    more keys than it, the rule finds them itself instead of using a list cut short (three
    repeated keys among 53 cut at 3 + 2 rows would almost surely miss one)."""
    from shopbook.data.validation import reasons as R

    monkeypatch.setattr(R, "MAX_REPEATED_KEYS", limit)
    orders = [order(i) for i in range(1, 4)]
    items = [item(f"o{i}", "A", quantity=q) for i in range(1, 4) for q in (1, 2)]
    items += [item(None, f"S{k}") for k in range(50) for _ in range(2)]  # null order_id
    report = check({"orders": orders, "order_items": items})
    reason = TABLES["order_items"].key_reason
    assert report.tables["order_items"].reasons == {reason: 3, "null order_id": 100}
    kept = report.kept("order_items").execute()
    assert sorted(kept["order_id"]) == ["o1", "o2", "o3"] and set(kept["quantity"]) == {1}


def test_repeated_keys_are_found_where_the_engine_cannot_hold_them(monkeypatch):
    """A user who may not create temporary tables: the rule finds the keys itself (and
    the checked rows are recomputed by each query, with a warning)."""
    import ibis.expr.types as ir

    from shopbook.data.validation import reasons as R

    monkeypatch.setattr(R, "MAX_REPEATED_KEYS", 1)
    monkeypatch.setattr(ir.Table, "cache", _refuse)
    items = [item(f"o{i}", "A", quantity=q) for i in range(1, 4) for q in (1, 2)]
    report = check({"orders": [order(i) for i in range(1, 4)], "order_items": items})
    assert report.tables["order_items"].reasons == {TABLES["order_items"].key_reason: 3}
    assert any("could not cache" in w for w in report.warnings)


def _refuse(*_args, **_kwargs):
    raise PermissionError("no temporary tables for this user")


def test_duplicate_composite_key_uses_the_declared_reason():
    items = [item("o1", "A"), item("o1", "A", quantity=2), item("o1", "B")]
    report = check({"orders": [order(1)], "order_items": items})
    reason = TABLES["order_items"].key_reason
    assert report.tables["order_items"].reasons == {reason: 1}
    # the reason says how to keep both lines (issue 15)
    assert reason.startswith("duplicate order_item") and "combine_lines: sum" in reason


def test_orphan_items_are_those_without_a_kept_order():
    orders = [order(1), order(2, status="lost")]  # o2 exists but is rejected
    items = [item("o1"), item("o2"), item("o3"), item(None)]
    report = check({"orders": orders, "order_items": items})
    assert report.tables["order_items"].reasons == {"orphan order_item": 2, "null order_id": 1}
    assert report.kept("order_items").execute()["order_id"].tolist() == ["o1"]


def test_items_without_an_orders_table_are_not_orphans():
    report = check({"order_items": [item("o1"), item("o2")]})
    assert report.tables["order_items"].rejected == 0


def test_unknown_customer_only_when_a_customers_table_exists():
    orders = [order(1, customer_id="c1"), order(2, customer_id="c404")]
    assert check({"orders": orders}).tables["orders"].rejected == 0
    report = check({"orders": orders, "customers": pd.DataFrame({"customer_id": ["c1", "c2"]})})
    assert reasons(report, "orders") == {"o2": "unknown customer_id"}


def test_a_present_but_empty_referenced_table_rejects_with_a_warning():
    customers = pd.DataFrame({"customer_id": pd.Series([], dtype="string")})
    report = check({"orders": [order(1)], "customers": customers})
    assert report.tables["orders"].reasons == {"unknown customer_id": 1}
    assert report.warnings[-2:] == [
        "customers is empty: sections that need it will be skipped",
        "no customers row was kept: orders rows referring to customers are rejected as "
        "'unknown customer_id'",
    ]


def test_unit_in_two_variants_rejects_all_its_rows_and_duplicates_keep_one():
    rows = [
        assignment("u1", "control"),
        assignment("u1", "treatment"),  # u1 in two variants: both rows out
        assignment("u2", "control"),
        assignment("u2", "control", assigned_ts=pd.Timestamp("2024-05-02")),  # plain duplicate
        assignment("u3", "treatment"),
        assignment("u3", "control", experiment_id="exp2"),  # another experiment: fine
    ]
    report = check({"assignments": rows})
    assert report.tables["assignments"].reasons == {
        "unit in two variants": 2,
        "duplicate assignment": 1,
    }
    kept = report.kept("assignments").execute()
    assert sorted(zip(kept["experiment_id"], kept["unit_id"], kept["variant"], strict=True)) == [
        ("exp1", "u2", "control"),
        ("exp1", "u3", "treatment"),
        ("exp2", "u3", "control"),
    ]
    assert kept["assigned_ts"].tolist() == [pd.Timestamp("2024-05-01")] * 3


def test_session_rules_bounds_and_booleans():
    rows = [
        session(1, added_to_cart="yes", reached_checkout="NO"),
        session(2, added_to_cart="1", reached_checkout="0"),
        session(3, added_to_cart="FALSE", reached_checkout="true"),
        session(4, pageviews=0),
        session(5, product_views=-1),
        session(6, added_to_cart="maybe"),
    ]
    report = check(
        {"sessions": frame(rows).astype({"added_to_cart": str, "reached_checkout": str})}
    )
    assert reasons(report, "sessions") == {
        "s4": "pageviews below 1",
        "s5": "negative product_views",
        "s6": "unparseable added_to_cart",
    }
    kept = report.kept("sessions").order_by("session_id").execute()
    assert kept["added_to_cart"].tolist() == [True, True, False]
    assert kept["reached_checkout"].tolist() == [False, False, True]


def test_the_first_failing_rule_in_documented_order_wins():
    # Columns are checked in contract order: null customer_id (column 2) beats the
    # unparseable order_ts (column 3), which beats negative money (column 8); status
    # (column 5) beats it too. Any row rule beats being a duplicate.
    rows = [
        order(1),
        order(1, customer_id=None, order_ts="garbage", net_amount=-1.0),
        order(1, order_ts="garbage", net_amount=-1.0),
        order(1, net_amount=-1.0, status="lost"),
        order(2),
    ]
    report = check({"orders": rows})
    got = report.rejects("orders").execute()["reason"].tolist()
    assert sorted(got) == ["null customer_id", "unknown status", "unparseable order_ts"]
    assert sorted(report.kept("orders").execute()["order_id"]) == ["o1", "o2"]


def test_rules_lists_reasons_in_the_order_they_apply():
    assert rules("orders") == [
        ("null order_id", "order_id"),
        ("null customer_id", "customer_id"),
        ("unparseable order_ts", "order_ts"),
        ("ambiguous time zone in order_ts", "order_ts"),
        ("null order_ts", "order_ts"),
        ("order_ts in the future", "order_ts"),
        ("null channel", "channel"),
        ("null status", "status"),
        ("unknown status", "status"),
        ("unparseable gross_amount", "gross_amount"),
        ("out of range gross_amount", "gross_amount"),
        ("null gross_amount", "gross_amount"),
        ("negative gross_amount", "gross_amount"),
        ("unparseable discount_amount", "discount_amount"),
        ("out of range discount_amount", "discount_amount"),
        ("null discount_amount", "discount_amount"),
        ("negative discount_amount", "discount_amount"),
        ("unparseable net_amount", "net_amount"),
        ("out of range net_amount", "net_amount"),
        ("null net_amount", "net_amount"),
        ("negative net_amount", "net_amount"),
        ("null currency", "currency"),
        ("unparseable refund_ts", "refund_ts"),
        ("ambiguous time zone in refund_ts", "refund_ts"),
        ("refund_ts in the future", "refund_ts"),
        ("discount > gross", "discount_amount"),
        ("net ≠ gross − discount", "net_amount"),
        ("refund before order", "refund_ts"),
        ("duplicate order_id", None),
        ("unknown customer_id", "customer_id"),
    ]
    assert [r for r, _ in rules("assignments")][-2:] == [
        "unit in two variants",
        "duplicate assignment",
    ]
    assert rules("order_items")[-1] == ("orphan order_item", "order_id")


def test_referenced_tables_come_first_in_contract_order():
    order_of = {name: i for i, name in enumerate(TABLES)}
    for t in TABLES.values():
        for fk in t.foreign_keys:
            assert order_of[fk.ref_table] < order_of[t.name]


# -- structural problems -------------------------------------------------------------------


def test_a_required_table_that_is_missing_is_a_contract_error():
    with pytest.raises(ContractError) as err:
        check({"orders": [order(1)]}, require=("orders", "sessions"))
    (p,) = err.value.problems
    assert (p.table, p.column) == ("sessions", None)
    assert "orders" in p.found and p.fix


def test_an_unknown_required_table_name_is_a_contract_error():
    with pytest.raises(ContractError) as err:
        check({"orders": [order(1)]}, require="ordres")
    assert "ordres" in str(err.value)


def test_a_missing_required_column_names_table_column_and_the_mapping_fix():
    orders = frame([order(1)]).drop(columns=["order_ts"])
    with pytest.raises(ContractError) as err:
        check({"orders": orders})
    (p,) = err.value.problems
    assert (p.table, p.column) == ("orders", "order_ts")
    assert "timestamp" in p.expected and "no such column" in p.found and "mapping" in p.fix


def test_a_column_of_an_unconvertible_type_is_structural():
    orders = frame([order(1), order(2)])
    orders["order_ts"] = [1_700_000_000, 1_700_000_100]
    with pytest.raises(ContractError) as err:
        check({"orders": orders})
    (p,) = err.value.problems
    assert (p.table, p.column) == ("orders", "order_ts")
    assert "int64" in p.found


def test_a_column_mostly_unreadable_is_uncoercible_a_few_bad_values_are_rejects():
    # 2 of 3 unreadable: the column is in the wrong format
    rows = [
        order(1, order_ts="01/02/2024"),
        order(2, order_ts="13/02/2024"),
        order(3, order_ts="2024-02-01"),
    ]
    with pytest.raises(ContractError) as err:
        check({"orders": rows})
    (p,) = err.value.problems
    assert (p.table, p.column) == ("orders", "order_ts")
    assert "2 of 3 values unreadable" in p.found and "'01/02/2024'" in p.found
    # exactly half unreadable: still row rejects
    rows = [order(1, order_ts="01/02/2024"), order(2, order_ts="2024-02-01")]
    assert check({"orders": rows}).tables["orders"].reasons == {"unparseable order_ts": 1}


def test_mixed_currencies_are_structural():
    rows = [order(1, currency="CNY"), order(2, currency="USD"), order(3, currency="EUR")]
    with pytest.raises(ContractError) as err:
        check({"orders": rows})
    (p,) = err.value.problems
    assert (p.table, p.column) == ("orders", "currency")
    assert "3 values: CNY, EUR, USD" in p.found


def test_an_empty_table_is_a_warning_unless_required():
    empty = frame([order(1)]).iloc[0:0]
    empty = empty.astype({c: "string" for c in empty.select_dtypes(object).columns})
    report = check({"orders": empty, "customers": pd.DataFrame({"customer_id": ["c1"]})})
    assert report.tables["orders"] == TableHealth("orders", 0, 0, 0, {})
    assert any(w.startswith("orders is empty") for w in report.warnings)
    with pytest.raises(ContractError) as err:
        check({"orders": empty}, require=["orders"])
    (p,) = err.value.problems
    assert (p.table, p.found) == ("orders", "an empty table")


def test_every_structural_problem_is_reported_at_once():
    orders = frame([order(1, currency="CNY"), order(2, currency="USD")]).drop(columns=["channel"])
    items = frame([item("o1", quantity="lots"), item("o2", quantity="many")])
    products = pd.DataFrame({"sku": ["A"], "name": ["a"]})
    with pytest.raises(ContractError) as err:
        check({"orders": orders, "order_items": items, "products": products}, require=["sessions"])
    assert problems(err) == {
        ("sessions", None),
        ("orders", "channel"),
        ("order_items", "quantity"),
        ("products", "category"),
    }
    # mixed currency of a table that also misses a column is found once the column is there
    orders["channel"] = "site"
    with pytest.raises(ContractError) as err:
        check({"orders": orders, "order_items": items})
    assert problems(err) == {("orders", "currency"), ("order_items", "quantity")}
    assert len(str(err.value).splitlines()) == 2


def test_strict_turns_each_reject_reason_into_a_problem():
    rows = [order(1), order(1), order(1), order(2, net_amount=-1.0)]
    with pytest.raises(ContractError) as err:
        check({"orders": rows}, strict=True)
    found = {(p.table, p.column, p.found) for p in err.value.problems}
    assert found == {
        ("orders", None, "2 rows rejected for 'duplicate order_id'"),
        ("orders", "net_amount", "1 row rejected for 'negative net_amount'"),
    }
    assert err.value.report.tables["orders"].rejected == 3
    assert check({"orders": [order(1)]}, strict=True).tables["orders"].kept == 1


# -- the report ----------------------------------------------------------------------------


def test_absent_optional_columns_are_typed_nulls_and_noted():
    products = pd.DataFrame(
        {"sku": ["A", "B"], "name": ["a", "b"], "category": ["x", "y"], "lead_time_days": [3, 4]}
    )
    report = check({"products": products})
    kept = report.kept("products")
    assert kept.schema() == TABLES["products"].ibis_schema()
    assert kept.execute()["brand"].isna().all()
    assert report.warnings == [
        "products: optional columns brand, launch_date not in the source (left empty)"
    ]
    assert report.rejects("products").columns == (
        "sku",
        "name",
        "category",
        "lead_time_days",
        "reason",
    )


def test_health_table_is_tidy_sorted_and_adds_up():
    rows = [order(i) for i in range(1, 1201)] + [order(1)] * 3 + [order(1500, status="x")]
    report = check({"orders": rows, "order_items": [item("o1"), item("zz")]})
    health = report.health_table()
    assert list(health.columns) == ["table", "read", "kept", "rejected", "reason", "rows"]
    assert health.to_dict("records") == [
        {"table": "orders", "read": 1204, "kept": 1200, "rejected": 4, "reason": "", "rows": 1204},
        {
            "table": "orders",
            "read": 1204,
            "kept": 1200,
            "rejected": 4,
            "reason": "duplicate order_id",
            "rows": 3,
        },
        {
            "table": "orders",
            "read": 1204,
            "kept": 1200,
            "rejected": 4,
            "reason": "unknown status",
            "rows": 1,
        },
        {"table": "order_items", "read": 2, "kept": 1, "rejected": 1, "reason": "", "rows": 2},
        {
            "table": "order_items",
            "read": 2,
            "kept": 1,
            "rejected": 1,
            "reason": "orphan order_item",
            "rows": 1,
        },
    ]
    reasons_only = health[health["reason"] != ""]
    assert (
        reasons_only.groupby("table")["rows"].sum() == health.groupby("table")["rejected"].first()
    ).all()
    assert report.fingerprint() == {"orders": 1204, "order_items": 2}

    text = report.to_text()
    lines = text.splitlines()
    assert lines[0] == "data health: (DataFrames)"
    assert lines[1].split() == ["table", "read", "kept", "rejected"]
    assert lines[2].split() == ["orders", "1,204", "1,200", "4"]
    assert lines[3].split() == ["duplicate", "order_id", "3"]
    assert lines[3].startswith("  ") and len(lines[3]) == len(lines[2])  # count under "rejected"
    assert repr(report).startswith("ValidationReport(")


def test_kept_and_rejects_of_an_absent_table_are_clear_errors():
    report = check({"orders": [order(1)]})
    with pytest.raises(ContractError, match="sessions"):
        report.kept("sessions")
    with pytest.raises(ContractError, match="sessions"):
        report.rejects("sessions")


def test_checked_rows_are_materialised_once():
    report = check({"orders": [order(1), order(1), order(2)]})
    assert isinstance(report, ValidationReport)
    # the source table can go away: kept/rejects read the engine's cached copy
    report.source.con.drop_table("src_orders")
    assert int(report.kept("orders").count().execute()) == 2
    assert report.rejects("orders").execute()["reason"].tolist() == ["duplicate order_id"]


def test_an_open_source_a_mapping_and_a_subset_of_tables():
    orders = frame([order(1), order(2)]).rename(
        columns={"order_id": "OrderNo", "net_amount": "Paid"}
    )
    items = frame([item("o1"), item("o3")])
    sessions = frame([session(1)]).drop(columns=["device"])  # broken, but not asked for
    mapping = {"orders": {"columns": {"OrderNo": "order_id", "Paid": "net_amount"}}}
    source = {"orders": orders, "order_items": items, "sessions": sessions}
    report = validate(source, mapping=mapping, now=NOW, tables=["order_items"])
    assert list(report.tables) == ["orders", "order_items"]  # orders added: items reference it
    assert report.tables["order_items"].reasons == {"orphan order_item": 1}
    opened = open_source(source, mapping=mapping)
    assert validate(opened, now=NOW, tables="orders").source is opened
    with pytest.raises(ValueError, match="mapping"):
        validate(opened, mapping=mapping)
    with pytest.raises(ContractError, match="device"):
        validate(opened, now=NOW)
    with pytest.raises(ContractError, match="device"):  # a required table is always checked
        validate(opened, now=NOW, tables=["orders"], require=["sessions"])


# -- CSV folders ---------------------------------------------------------------------------


def test_a_csv_folder_is_typed_from_text(tmp_path):
    frame([order(1), order(2, order_ts="2024-01-02T08:00:00", net_amount="x")]).to_csv(
        tmp_path / "orders.csv", index=False
    )
    frame([item("o1", quantity=2), item("o1", "B", unit_cost=None)]).to_csv(
        tmp_path / "order_items.csv", index=False
    )
    pd.DataFrame(
        {
            "session_id": ["s1", "s2"],
            "visitor_id": ["v", "v"],
            "customer_id": ["", "c1"],
            "session_ts": ["2024-01-01", "2024-01-01 10:00"],
            "channel": ["a", "b"],
            "device": ["m", "d"],
            "pageviews": ["1", "2"],
            "product_views": ["0", "1"],
            "added_to_cart": ["yes", "0"],
            "reached_checkout": ["False", "TRUE"],
            "order_id": ["", "o1"],
        }
    ).to_csv(tmp_path / "sessions.csv", index=False)
    report = validate(tmp_path, now=NOW)
    assert report.fingerprint() == {"orders": 2, "order_items": 2, "sessions": 2}
    assert report.tables["orders"].reasons == {"unparseable net_amount": 1}
    assert report.tables["order_items"].rejected == 0
    for name in ("orders", "order_items", "sessions"):
        assert report.kept(name).schema() == TABLES[name].ibis_schema()
    sessions = report.kept("sessions").order_by("session_id").execute()
    assert sessions["added_to_cart"].tolist() == [True, False]
    assert sessions["reached_checkout"].tolist() == [False, True]
    assert sessions["customer_id"].isna().tolist() == [True, False]
    items = report.kept("order_items").order_by("sku").execute()
    assert items["quantity"].tolist() == [2, 1] and items["unit_cost"].isna().tolist() == [
        False,
        True,
    ]


# -- the subpackage ------------------------------------------------------------------------


def test_each_source_type_is_read_as_exactly_the_contract_types_it_can_be():
    """Which (source type → contract type) conversions exist; the others are structural."""
    import ibis

    from shopbook.data.contract import Column
    from shopbook.data.validation.coerce import _coerce, _Incompatible

    frame = pd.DataFrame(
        {
            "i": [1],
            "f": [1.0],
            "b": [True],
            "ts": [pd.Timestamp("2024-01-01")],
            "d": pd.Series([dt.date(2024, 1, 1)], dtype="date32[pyarrow]"),
            "s": ["1"],
        }
    )
    t = ibis.memtable(frame).mutate(n=ibis.null())
    every = ["int64", "float64", "bool", "timestamp", "date", "string"]
    readable = {
        "i": ["int64", "float64", "bool", "string"],
        "f": ["int64", "float64", "bool", "string"],
        "b": ["bool", "string"],
        "ts": ["timestamp", "date", "string"],
        "d": ["timestamp", "date", "string"],
        "s": every,
        "n": every,
    }
    for col, wanted in readable.items():
        for dtype in every:
            if dtype in wanted:
                _coerce(t[col], Column(col, dtype, "x"))
            else:
                with pytest.raises(_Incompatible):
                    _coerce(t[col], Column(col, dtype, "x"))


def test_the_subpackage_keeps_the_public_names():
    import shopbook.data
    import shopbook.data.validation as v

    for name in v.__all__:
        assert hasattr(v, name), name
    assert v.validate is shopbook.data.validate and callable(v.rules)
    assert v.UNCOERCIBLE_SHARE == 0.5 and v.TRUE_TEXT == ("true", "1", "yes")
