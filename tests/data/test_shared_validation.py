"""One validation per run: a report built from the run's saved checks is the report the
notebook's own validation builds, and saved checks are used only where they apply."""

import time

import pandas as pd
import pytest

from shopbook.data.validation import check, shared, validate
from shopbook.notebook.loading import report_tables

HEADER = "order_id,customer_id,order_ts,channel,status,gross_amount,discount_amount,net_amount,"
ORDERS = (
    HEADER
    + """currency
o1,c1,2024-01-02,site,paid,100,10,90,CNY
o2,c2,2024-01-02 10:00:00,tmall,paid,50.5,0,50.5,CNY
o3,c3,2024-01-03T11:30:00,jd,refunded,20,0,20,CNY
o3,c3,2024-01-04T11:30:00,jd,paid,20,0,20,CNY
o4,,2024-01-05,jd,paid,20,0,20,CNY
o5,c1,2031-01-01,site,paid,20,0,20,CNY
o7,c2,someday,site,paid,20,0,20,CNY
o8,c3,2024-01-08,site,shipped,20,0,20,CNY
o9,c404,2024-01-09,site,PAID,1e2,0,100,CNY
"""
)
ITEMS = """order_id,sku,quantity,unit_price,list_price,unit_cost
o1,A,1,50,60,20
o1,B,2,20,25,
o2,A,0,50.5,60,20
o3,A,abc,10,10,5
o3,C,1,10,10,5,surplus
o99,A,1,10,10,5
"""
FILES = {
    "orders.csv": ORDERS,
    "order_items.csv": ITEMS,  # o1's lines sum to 90, not its gross 100: a warning
    "customers.csv": "customer_id,first_order_ts\nc1,2024-01-01\nc2,2024-01-01\nc3,2024-01-01\n",
    "products.csv": "sku,name,category\nA,Alpha,tea\nB,Beta,tea\nC,Gamma,cups\n",
    "inventory.csv": "date,sku,on_hand\n",  # empty
}


FILES_TABLES = {name.removesuffix(".csv") for name in FILES}


@pytest.fixture
def dirty(tmp_path):
    """A CSV shop with rejects of every kind, a ragged row and warnings."""
    folder = tmp_path / "shop"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def saved(dirty, tmp_path, monkeypatch):
    """The run's checks of ``dirty`` saved, and named for the validations that follow."""
    folder = tmp_path / "checked"
    folder.mkdir()
    report = validate(dirty)
    assert shared.save(report, folder)
    monkeypatch.setenv(shared.VARIABLE, str(folder))
    report.folder = folder
    return report


def frame(table):
    out = table.execute()
    return out.sort_values(list(out.columns)).reset_index(drop=True)


def assert_same(a, b):
    assert b.health_table().equals(a.health_table())
    assert b.warnings == a.warnings
    assert b.table_warnings == a.table_warnings and b.line_warnings == a.line_warnings
    assert list(b.tables) == list(a.tables)
    for name in a.tables:
        for kind in ("kept", "rejects"):
            x, y = frame(getattr(a, kind)(name)), frame(getattr(b, kind)(name))
            assert y.dtypes.equals(x.dtypes), (name, kind)
            pd.testing.assert_frame_equal(y, x)


def no_checks(monkeypatch):
    """Make checking a table fail: what follows must come from the saved checks."""

    def fail(*args, **kwargs):
        raise AssertionError("a table was checked again")

    monkeypatch.setattr(check, "_check_table", fail)
    monkeypatch.setattr("shopbook.data.validation.entry._check_table", fail)


@pytest.mark.parametrize(
    "notebook", ["00_data_health", "01_kpi_brief", "04_rfm_segments", "07_product_inventory"]
)
def test_a_report_from_saved_checks_is_the_report_of_a_validation(
    dirty, saved, monkeypatch, notebook
):
    require, tables = report_tables(notebook)
    require = [t for t in require if t in FILES_TABLES]
    monkeypatch.delenv(shared.VARIABLE)
    direct = validate(dirty, require=require, tables=tables)
    assert direct.warnings and any(h.rejected for h in direct.tables.values())
    monkeypatch.setenv(shared.VARIABLE, str(saved.folder))
    no_checks(monkeypatch)
    from_saved = validate(dirty, require=require, tables=tables)
    assert from_saved.now == saved.now  # the run's present, not the notebook's
    assert_same(direct, from_saved)


def test_the_dirty_shop_has_what_the_comparison_needs(saved):
    # rejects, a row the CSV reader could not read, a line total and an empty table
    assert saved.tables["order_items"].reasons.get(
        "malformed CSV row (line 6): 7 fields, expected 6"
    )
    assert saved.line_warnings[("orders", "order_items", "gross_amount")]
    assert any(w.startswith("inventory is empty") for w in saved.warnings)
    assert saved.table_warnings["products"]  # optional columns absent


def test_an_empty_required_table_is_still_a_problem(dirty, saved):
    from shopbook.errors import ContractError

    with pytest.raises(ContractError, match="inventory"):
        validate(dirty, require=["inventory"])


def test_saved_checks_are_not_used_for_another_present_mapping_or_changed_files(
    dirty, saved, monkeypatch, tmp_path
):
    no_checks(monkeypatch)
    with pytest.raises(AssertionError, match="checked again"):
        validate(dirty, now="2026-01-01")  # an explicit present
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("orders:\n  columns:\n    channel: channel\n")
    with pytest.raises(AssertionError, match="checked again"):
        validate(dirty, mapping=str(mapping))
    time.sleep(0.01)
    (dirty / "products.csv").write_text(FILES["products.csv"] + "D,Delta,cups\n")
    with pytest.raises(AssertionError, match="checked again"):
        validate(dirty)


def test_without_the_variable_every_table_is_checked(dirty, saved, monkeypatch):
    monkeypatch.delenv(shared.VARIABLE)
    no_checks(monkeypatch)
    with pytest.raises(AssertionError, match="checked again"):
        validate(dirty)


def test_sources_other_than_duckdb_files_and_folders_are_not_saved(tmp_path):
    report = validate({"orders": pd.read_csv(pd.io.common.StringIO(ORDERS)).head(2)})
    assert not shared.save(report, tmp_path)
    assert list(tmp_path.iterdir()) == []
