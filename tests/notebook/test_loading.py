"""open_report validates what REPORT_NEEDS says, and that is what each notebook validates."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from shopbook.data import health
from shopbook.data.contract import TABLES
from shopbook.data.validation import validate
from shopbook.notebook import DATA_HEALTH, open_report, report_tables

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Notebooks that load through another loader, and the tables it validates.
OTHER_LOADERS = {"06_ab_test": ("load_each", (), ("assignments", "sessions", "orders"))}


def _loading_call(path: Path) -> ast.Call:
    """The call of the notebook's first code cell that opens its data."""
    nb = nbformat.read(path, as_version=4)
    cell = next(
        c
        for c in nb.cells
        if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])
    )
    names = {"validate", "open_report", "load", "load_each"}
    for node in ast.walk(ast.parse(cell.source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in names:
                return node
    raise AssertionError(f"{path.name}: no validate/open_report/load call in the first cell")


def _keyword(call: ast.Call, name: str, default: object) -> object:
    for kw in call.keywords:
        if kw.arg == name:
            return ast.literal_eval(kw.value)
    return default


@pytest.fixture(scope="module")
def small_shop(tmp_path_factory, synthetic_shop) -> str:
    from shopbook.data.synthetic import write_shop

    shop = synthetic_shop(customers=200, start="2024-01-01", end="2024-06-30", seed=5)
    path = tmp_path_factory.mktemp("shop") / "small.duckdb"
    write_shop(shop, path)
    return str(path)


def test_every_report_notebook_is_in_report_needs():
    names = {p.stem for p in NOTEBOOKS} - {DATA_HEALTH}
    assert names <= set(health.REPORT_NEEDS)
    for required, optional in health.REPORT_NEEDS.values():
        assert set(required) | set(optional) <= set(TABLES)
        assert not set(required) & set(optional)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_report_needs_agrees_with_what_the_notebook_validates(path):
    call = _loading_call(path)
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    require, tables = report_tables(path.stem)
    if name == "open_report":  # the notebook already loads through the one loader
        assert ast.literal_eval(call.args[0]) == path.stem
        return
    if path.stem in OTHER_LOADERS:
        loader, want_require, want_tables = OTHER_LOADERS[path.stem]
        assert name == loader
    else:
        assert name == "validate"
        want_require = tuple(_keyword(call, "require", ()))  # type: ignore[arg-type]
        found = _keyword(call, "tables", None)
        want_tables = None if found is None else tuple(found)  # type: ignore[arg-type]
    assert set(require) == set(want_require)
    assert (tables is None) == (want_tables is None)
    if tables is not None and want_tables is not None:
        # the same tables once those they reference (orders → customers) are added
        assert set(want_tables) <= set(tables) <= _with_references(want_tables)


def _with_references(tables) -> set[str]:
    out = set(tables)
    todo = list(out)
    while todo:
        for fk in TABLES[todo.pop()].foreign_keys:
            if fk.ref_table not in out:
                out.add(fk.ref_table)
                todo.append(fk.ref_table)
    return out


@pytest.mark.slow
def test_open_report_validates_the_same_tables_as_the_notebook(small_shop):
    for name in (DATA_HEALTH, *health.REPORT_NEEDS):
        require, tables = report_tables(name)
        mine = open_report(name, small_shop)
        theirs = validate(small_shop, require=require, tables=tables)
        assert list(mine.tables) == list(theirs.tables), name
        assert mine.health_table().equals(theirs.health_table()), name
    assert set(open_report(DATA_HEALTH, small_shop).tables) == set(validate(small_shop).tables)


def test_open_report_on_an_orders_only_source(tmp_path, make_orders):
    """Every notebook opens an orders-only source (CDNOW's shape); readiness says so."""
    make_orders([("a", "2024-01-02", 10.0), ("b", "2024-01-03", 20.0)]).to_parquet(
        tmp_path / "orders.parquet"
    )
    for name in (DATA_HEALTH, *health.REPORT_NEEDS):
        report = open_report(name, str(tmp_path))
        assert list(report.tables) == ["orders"], name
    ready = health.readiness(open_report(DATA_HEALTH, str(tmp_path))).set_index("report")
    assert ready.loc["04_rfm_segments", "status"] == "ready"
    assert ready.loc["06_ab_test", "status"] == "partial"
    assert "assignments" in ready.loc["06_ab_test", "missing"]


def test_open_report_names_and_errors(tmp_path):
    assert report_tables("notebooks/05_price_elasticity.ipynb") == (
        ("orders",),
        ("orders", "order_items", "products"),
    )
    assert report_tables(DATA_HEALTH) == ((), None)
    with pytest.raises(ValueError, match="REPORT_NEEDS"):
        report_tables("99_nothing")
    from shopbook.errors import ContractError

    with pytest.raises(ContractError):
        open_report("01_kpi_brief", str(tmp_path / "missing.duckdb"))
