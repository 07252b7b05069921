"""Defaults come from the data (issue 16): every notebook on a shop that shares no names
with the shipped one (05 and 06 read closely), and 06 on the shipped shop reporting all its
experiments."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from shopbook.data.samples import write_tables
from shopbook.notebook.outputs import HEADLINE_MIME

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "data" / "shop.duckdb"


@pytest.fixture(scope="module")
def hero_shop(synthetic_shop, tmp_path_factory):
    """The synthetic shop with one experiment, ``hero_banner`` (pdp_v2's assignments renamed),
    and categories renamed (``cat_…``) so that no default of the shipped shop fits."""
    shop = synthetic_shop(customers=1500, seed=0)
    tables = {name: frame.copy() for name, frame in shop.tables.items()}
    a = tables["assignments"]
    a = a[a["experiment_id"] == "pdp_v2"].copy()
    a["experiment_id"] = "hero_banner"
    tables["assignments"] = a
    tables["products"]["category"] = "cat_" + tables["products"]["category"].astype(str)
    return tables, write_tables(tables, tmp_path_factory.mktemp("hero") / "shop.duckdb")


@pytest.fixture(scope="module")
def hero_run(hero_shop, tmp_path_factory):
    from shopbook.report.execute import Progress
    from shopbook.report.plan import plan
    from shopbook.report.runs import run

    _, db = hero_shop
    # every notebook, as `--job all` runs them
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    _, tasks = plan(notebooks, source=str(db))
    result = run(
        tasks,
        job="defaults",
        out=tmp_path_factory.mktemp("reports"),
        progress=Progress(quiet=True),
        handle_signals=False,
    )
    summary = json.loads((result.folder / "summary.json").read_text())
    return result.folder, {e["notebook"]: e for e in summary["notebooks"]}


def _markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(
        o["data"]["text/markdown"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/markdown" in o.get("data", {})
    )


def _executed(folder: Path, entry: dict) -> Path:
    return folder / entry["files"]["ipynb"]


@pytest.mark.slow
def test_every_notebook_runs_green_on_a_shop_with_other_names(hero_run):
    _, entries = hero_run
    assert len(entries) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    assert {name: e["status"] for name, e in entries.items()} == dict.fromkeys(entries, "ok")


def test_06_reports_the_only_experiment_whatever_its_name(hero_run):
    folder, entries = hero_run
    entry = entries["06_ab_test"]
    assert entry["status"] == "ok", entry["error"]
    names = {h["name"] for h in entry["headlines"]}
    assert {"experiments", "verdict_hero_banner", "conversion_lift_hero_banner"} <= names
    assert not any(n.endswith("pdp_v2") for n in names)
    text = _markdown(_executed(folder, entry))
    assert "## Experiment hero\\_banner" in text
    assert "### 8. Decision" in text


@pytest.mark.slow
def test_05_picks_the_category_with_most_units(hero_shop, hero_run):
    tables, _ = hero_shop
    folder, entries = hero_run
    entry = entries["05_price_elasticity"]
    assert entry["status"] == "ok", entry["error"]
    paid = tables["orders"].loc[tables["orders"]["status"] == "paid", ["order_id"]]
    lines = tables["order_items"].merge(paid, on="order_id").merge(tables["products"], on="sku")
    top = lines.groupby("category")["quantity"].sum().idxmax()
    text = _markdown(_executed(folder, entry))
    assert f"Category **{top.replace('_', chr(92) + '_')}**" in text


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED.exists(), reason="data/shop.duckdb not generated")
def test_shipped_shop_reports_all_three_experiments_checkout_srm_flagged():
    from shopbook.analysis import abtest as ab
    from shopbook.features import experiments as ex

    readouts = [ab.readout_of(d, strict=False) for d in ex.load_each(str(SHIPPED))]
    board = ab.overview(readouts)
    assert sorted(board.table["experiment_id"]) == ["aa_check", "checkout_srm", "pdp_v2"]
    assert board.srm_flagged == ["checkout_srm"]
    assert set(board.table["status"]) <= {"running", "ended"}


def test_committed_06_shows_every_shipped_experiment():
    """The committed outputs of 06 (a run on the shipped shop with the default parameters)."""
    path = ROOT / "notebooks" / "06_ab_test.ipynb"
    nb = nbformat.read(path, as_version=4)
    headline = next(c for c in nb.cells if "NBVAL_CHECK_OUTPUT" in c.source)
    names = {
        o["data"][HEADLINE_MIME]["name"]
        for o in headline.outputs
        if HEADLINE_MIME in o.get("data", {})
    }
    for exp in ("aa_check", "checkout_srm", "pdp_v2"):
        assert f"verdict_{exp}" in names
    text = _markdown(path)
    assert "Sample ratio mismatch in checkout\\_srm" in text
