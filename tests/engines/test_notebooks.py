"""The notebooks run end to end on PostgreSQL and Spark, with DuckDB's headline numbers.

Each notebook runs through the report runner's executor (papermill, a fresh kernel, the
``source`` parameter as ``shopbook run --source`` sets it) on the small shop of
:mod:`tests.engines.shop`, once on the DuckDB file and once on the engine; every headline
must be equal — money to the cent, every other number to a relative 1e-9, text exactly.

Budget. A notebook is a fresh kernel (imports, a Spark session of its own: ~15 s of JVM
start) plus its analysis, so the runs go two at a time. Every notebook runs on
PostgreSQL. On Spark local mode a notebook takes 30–60 s on two cores, and all ten
would take about eight minutes: the two that put the most work on the engine run here —
01 (the KPI brief: windows, funnel, margin, stock value, retention, month to date) and 06
(every experiment's per-unit metrics: the widest joins and window functions). Every
feature builder the other notebooks call is compared on Spark by ``test_features.py``,
and every notebook was run on Spark with this module's machinery with equal headlines
(00–07 in the report of issue 18; 08 and 09 later, with ``SPARK_NOTEBOOKS`` set to them).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SPARK_NOTEBOOKS = ("01_kpi_brief", "06_ab_test")
#: Parameters that make a notebook cheaper without touching the engine's part.
CHEAP = {"02_market_trend": {"folds": 1}}

_reference: dict[str, Any] = {}


def _run(notebook: str, source: str, out: Path) -> tuple[str | None, list[dict[str, Any]]]:
    """Run one notebook on ``source``: (the error or ``None``, its headlines)."""
    from shopbook.report.execute import Progress, execute, kernel_name
    from shopbook.report.plan import plan
    from shopbook.report.render import headlines

    _, tasks = plan([str(ROOT / "notebooks" / f"{notebook}.ipynb")], source=source)
    task = tasks[0]
    task.parameters.update(CHEAP.get(notebook, {}))
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{notebook}.ipynb"
    error = execute(task, target, kernel_name()[0], 600, Progress(quiet=True))
    if not target.exists():
        return error or "no output", []
    return error, headlines(nbformat.read(target, as_version=4))


def _runs(
    engine_source: str, notebooks: tuple[str, ...] | list[str], duckdb_file: Path, out: Path
) -> dict[str, tuple[Any, Any]]:
    """``{notebook: (DuckDB run, engine run)}``, two runs at a time."""
    jobs = [("engine", nb, engine_source) for nb in notebooks]
    jobs += [("duckdb", nb, str(duckdb_file)) for nb in notebooks if nb not in _reference]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {(kind, nb): pool.submit(_run, nb, src, out / kind) for kind, nb, src in jobs}
        done = {key: f.result() for key, f in futures.items()}
    for (kind, nb), result in done.items():
        if kind == "duckdb":
            _reference[nb] = result
    return {nb: (_reference[nb], done[("engine", nb)]) for nb in notebooks}


@pytest.fixture(scope="module")
def pg_runs(pg_shop, shop_files, tmp_path_factory):
    return _runs(pg_shop, NOTEBOOKS, shop_files[0], tmp_path_factory.mktemp("nb-pg"))


@pytest.fixture(scope="module")
def spark_runs(spark_shop, shop_files, tmp_path_factory):
    old = os.environ.get("SHOPBOOK_SPARK_MASTER")
    os.environ["SHOPBOOK_SPARK_MASTER"] = "local[2]"  # the kernels' own Spark sessions
    try:
        return _runs(spark_shop, SPARK_NOTEBOOKS, shop_files[0], tmp_path_factory.mktemp("nb-sp"))
    finally:
        if old is None:
            os.environ.pop("SHOPBOOK_SPARK_MASTER", None)
        else:
            os.environ["SHOPBOOK_SPARK_MASTER"] = old


def _same(a: Any, b: Any, unit: Any) -> bool:
    if (
        isinstance(a, bool)
        or isinstance(b, bool)
        or not (isinstance(a, int | float) and isinstance(b, int | float))
    ):
        return a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(unit, str) and unit.isupper() and len(unit) == 3:  # a currency: cents
        return abs(a - b) <= 0.005
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def assert_same_headlines(notebook: str, duckdb: Any, engine: Any) -> None:
    (err_d, heads_d), (err_e, heads_e) = duckdb, engine
    assert err_d is None, f"{notebook} fails on DuckDB: {err_d}"
    assert err_e is None, f"{notebook} fails on the engine: {err_e}"
    assert heads_d, f"{notebook} shows no headline"
    ours = {h["name"]: h for h in heads_d}
    theirs = {h["name"]: h for h in heads_e}
    assert sorted(ours) == sorted(theirs)
    differ = {
        name: (h["value"], theirs[name]["value"])
        for name, h in ours.items()
        if not _same(h["value"], theirs[name]["value"], h.get("unit"))
    }
    assert not differ, f"{notebook}: headlines differ (DuckDB, engine): {differ}"


@pytest.mark.postgres
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_on_postgres_has_duckdbs_headlines(pg_runs, notebook):
    assert_same_headlines(notebook, *pg_runs[notebook])


@pytest.mark.spark
@pytest.mark.parametrize("notebook", SPARK_NOTEBOOKS)
def test_notebook_on_spark_has_duckdbs_headlines(spark_runs, notebook):
    assert_same_headlines(notebook, *spark_runs[notebook])
