"""Every notebook: its template rules, and a papermill run on a small hostile source.

``pytest --nbval-lax --nbval-sanitize-with tests/notebooks/nbval_sanitize.cfg notebooks``
(run by ``make test``) checks the committed outputs of each notebook's headline cell
against a fresh run on the default data; these tests check the rest.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import papermill
import pytest

from tests.notebooks import small_source

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_data_health.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell_is_plain_typed_literals_with_help(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    lines = [
        ln for ln in tagged[0].source.splitlines() if ln.strip() and not ln.strip().startswith("#")
    ]
    declared = papermill.inspect_notebook(str(path))
    unread = [ln for ln in lines if ln.split(":")[0].split("=")[0].strip() not in declared]
    assert not unread, (
        "papermill cannot read these parameter lines "
        f"(one '=' per line, none in comments): {unread}"
    )
    assert len(declared) == len(lines), "one parameter per line"
    for line, (name, p) in zip(lines, declared.items(), strict=True):
        assert p["inferred_type_name"] not in ("None", ""), f"{name}: give a type annotation"
        assert p["help"], f"{name}: give a help comment"
        ast.literal_eval(p["default"])  # a plain literal
        assert line.startswith(name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_headline_cell_is_checked_by_nbval(path):
    nb = nbformat.read(path, as_version=4)
    checked = [c for c in nb.cells if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source]
    assert len(checked) == 1, "one cell marked # NBVAL_CHECK_OUTPUT: the headline cell"
    assert "headline(" in checked[0].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_with_outputs_of_a_clean_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), (
        "commit the notebook executed (make notebooks)"
    )
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    assert "papermill" not in nb.metadata and not any(
        "injected-parameters" in c.metadata.get("tags", []) for c in nb.cells
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "shopbook"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """Every notebook through the runner on the small hostile source, one run."""
    from shopbook.report.execute import Progress
    from shopbook.report.plan import plan
    from shopbook.report.runs import run

    db = small_source.build(tmp_path_factory.mktemp("src") / "small.duckdb")
    _, tasks = plan([str(p) for p in NOTEBOOKS], source=str(db))
    return run(
        tasks,
        job="test",
        out=tmp_path_factory.mktemp("reports"),
        progress=Progress(quiet=True),
        handle_signals=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_on_a_small_source(small_run, path):
    summary = json.loads((small_run.folder / "summary.json").read_text())
    entry = next(e for e in summary["notebooks"] if e["notebook"] == path.stem)
    assert entry["status"] == "ok", entry["error"]
    assert entry["headlines"], "the notebook marks its key figures with headline()"
    for kind in ("html", "brief"):
        html = (small_run.folder / entry["files"][kind]).read_text()
        for name in small_source.HOSTILE_NAMES:
            assert name not in html, f"unescaped {name!r} in {entry['files'][kind]}"
    brief = (small_run.folder / entry["files"]["brief"]).read_text()
    assert small_source.PII_MARKER not in brief, "customer ids must be pseudonymised"
