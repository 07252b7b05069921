"""A folder of deliberately corrupt CSVs: one clear message per problem, no row lost.

The same folder is checked through the API and through ``shopbook validate``.
"""

import csv

import pytest
from typer.testing import CliRunner

from shopbook.cli import app
from shopbook.data.contract import TABLES
from shopbook.data.validation import validate
from shopbook.errors import ContractError

runner = CliRunner()
NOW = "2025-01-01"

ORDER_COLUMNS = (
    "order_id,customer_id,order_ts,channel,status,gross_amount,discount_amount,net_amount,currency"
)


def orders_csv(currency_of_o6="CNY"):
    return f"""{ORDER_COLUMNS}
o1,c1,2024-01-02,site,paid,100,10,90,CNY
o2,c2,2024-01-02 10:00:00,tmall,paid,50.5,0,50.5,CNY
o3,c3,2024-01-03T11:30:00,jd,refunded,20,0,20,CNY
o3,c3,2024-01-04T11:30:00,jd,paid,20,0,20,CNY
o4,,2024-01-05,jd,paid,20,0,20,CNY
o5,c5,2031-01-01,site,paid,20,0,20,CNY
o6,c6,2024-01-06,site,paid,20,0,-20,{currency_of_o6}
o7,c7,someday,site,paid,20,0,20,CNY
o8,c8,2024-01-08,site,shipped,20,0,20,CNY
o9,c9,2024-01-09,site,PAID,1e2,0,100,CNY
"""


ITEMS_CSV = """order_id,sku,quantity,unit_price,list_price,unit_cost
o1,A,1,50,60,20
o1,B,2,25,25,
o2,A,0,50.5,60,20
o2,B,-1,10,10,5
o3,A,abc,10,10,5
o3,A,1,10,10,5
o3,C,1,10,10,5
o3,C,1,10,10,5
o99,A,1,10,10,5
o5,A,1,10,10,5
"""

ASSIGNMENTS_CSV = """experiment_id,unit_id,variant,assigned_ts
exp1,u1,control,2024-05-01
exp1,u1,treatment,2024-05-02
exp1,u2,control,2024-05-01
exp1,u2,control,2024-05-03
exp1,u3,treatment,2024-05-01
"""

SESSIONS_HEADER = (
    "session_id,visitor_id,customer_id,session_ts,channel,device,pageviews,product_views,"
    "added_to_cart,reached_checkout,order_id"
)


def sessions_csv(pageviews):
    rows = [
        f"s{i},v{i},,2024-05-01 12:00,search,mobile,{pv},1,yes,no,"
        for i, pv in enumerate(pageviews)
    ]
    return "\n".join([SESSIONS_HEADER, *rows]) + "\n"


def products_csv(with_category=True):
    if with_category:
        return "sku,name,category,brand\nA,Alpha,tea,\nB,Beta,tea,Acme\nC,Gamma,cups,Acme\n"
    return "sku,name,brand\nA,Alpha,\nB,Beta,Acme\n"


def write_folder(folder, *, structural):
    """Write the corrupt shop; ``structural`` adds the problems no reject can express."""
    folder.mkdir()
    files = {
        "orders.csv": orders_csv("USD" if structural else "CNY"),
        "order_items.csv": ITEMS_CSV,
        "assignments.csv": ASSIGNMENTS_CSV,
        "sessions.csv": sessions_csv(["many", "lots", "3"] if structural else ["2", "0", "3"]),
        "products.csv": products_csv(with_category=not structural),
        "inventory.csv": "date,sku,on_hand\n",  # empty: a warning, not an error
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def data_rows(path):
    with open(path, newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


EXPECTED_REJECTS = {
    "orders": {
        "duplicate order_id": 1,
        "null customer_id": 1,
        "order_ts in the future": 1,
        "negative net_amount": 1,
        "unparseable order_ts": 1,
        "unknown status": 1,
    },
    "order_items": {
        "non-positive quantity": 2,
        "unparseable quantity": 1,
        TABLES["order_items"].key_reason: 1,  # "duplicate order_item (map combine_lines: sum…)"
        "orphan order_item": 2,  # o99 does not exist; o5 was rejected (future date)
    },
    "assignments": {"unit in two variants": 2, "duplicate assignment": 1},
    "sessions": {"pageviews below 1": 1},
    "products": {},
    "inventory": {},
}


@pytest.fixture
def broken(tmp_path):
    return write_folder(tmp_path / "broken", structural=True)


@pytest.fixture
def dirty(tmp_path):
    return write_folder(tmp_path / "dirty", structural=False)


def test_structural_problems_are_all_reported_one_per_problem(broken):
    with pytest.raises(ContractError) as err:
        validate(broken, now=NOW, require=["orders", "customers"])
    got = {(p.table, p.column): p for p in err.value.problems}
    assert set(got) == {
        ("customers", None),
        ("orders", "currency"),
        ("products", "category"),
        ("sessions", "pageviews"),
    }
    assert "CNY, USD" in got[("orders", "currency")].found
    assert "2 of 3 values unreadable" in got[("sessions", "pageviews")].found
    for p in err.value.problems:
        assert p.expected and p.found and p.fix
    assert len(str(err.value).splitlines()) == 4


def test_row_problems_are_rejected_with_one_reason_each_and_nothing_is_lost(dirty):
    report = validate(dirty, now=NOW)
    assert {name: h.reasons for name, h in report.tables.items()} == EXPECTED_REJECTS
    for name, h in report.tables.items():
        assert h.read == data_rows(dirty / f"{name}.csv") == h.kept + h.rejected
        rejects = report.rejects(name).execute()
        assert len(rejects) == h.rejected
        assert rejects["reason"].notna().all() and (rejects["reason"] != "").all()
    assert report.warnings == [
        "products: optional columns launch_date, lead_time_days not in the source (left empty)",
        "inventory: optional column on_order not in the source (left empty)",
        "inventory is empty: sections that need it will be skipped",
    ]
    # the kept orders the analysis layer sees
    kept = report.kept("orders").order_by("order_id").execute()
    assert kept["order_id"].tolist() == ["o1", "o2", "o3", "o9"]
    assert kept.loc[kept.order_id == "o3", "status"].item() == "refunded"  # earliest o3
    assert kept.loc[kept.order_id == "o9", "gross_amount"].item() == 100.0


def test_cli_exits_1_with_one_error_line_per_problem_and_no_traceback(broken):
    result = runner.invoke(app, ["validate", "--source", str(broken), "--require", "customers"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 4 and all(line.startswith("error: ") for line in lines)
    assert [line.split(":")[1].strip() for line in lines] == [
        "customers",
        "orders.currency",
        "products.category",
        "sessions.pageviews",
    ]
    assert result.stdout == ""


def test_cli_prints_the_health_table_and_exits_0(dirty):
    result = runner.invoke(app, ["validate", "--source", str(dirty)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == f"data health: {dirty}"
    for name, reasons in EXPECTED_REJECTS.items():
        assert name in out
        for reason in reasons:
            assert reason in out
    assert "order_ts in the future" in out  # 2031 is in the future for any run of this test
    assert "warning: inventory is empty" in result.stderr


def test_cli_strict_turns_each_reason_into_an_error_line(dirty):
    result = runner.invoke(app, ["validate", "--source", str(dirty), "--strict"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    expected = sum(len(r) for r in EXPECTED_REJECTS.values())
    assert len(lines) == expected and all(line.startswith("error: ") for line in lines)
    assert any(
        "order_items.quantity" in line and "2 rows rejected for 'non-positive quantity'" in line
        for line in lines
    )
