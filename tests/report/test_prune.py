"""Publication hygiene (issue 16): `shopbook prune` removes old runs but never a job's
`latest`; the brief shows no folder of the machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shopbook.report import render
from shopbook.report.jobs import RunError
from shopbook.report.prune import prune


def _run(reports: Path, job: str, run_id: str, status: str = "ok") -> Path:
    """A finished run folder as the runner leaves it (summary.json and one page)."""
    folder = reports / job / run_id
    folder.mkdir(parents=True)
    started = f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}T{run_id[9:11]}:00:00Z"
    summary = {"job": job, "run_id": run_id, "status": status, "started": started, "notebooks": []}
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "00_data_health.html").write_text("<html></html>")
    return folder


@pytest.fixture
def reports(tmp_path, monkeypatch):
    """weekly: four runs, `latest` on the second oldest (the two after it failed);
    daily: one run. The oldest weekly run wrote private files."""
    monkeypatch.setenv("SHOPBOOK_PRIVATE", str(tmp_path / "private"))
    reports = tmp_path / "reports"
    ids = ["20261102T060000Z", "20261109T060000Z", "20261116T060000Z", "20261123T060000Z"]
    for i, run_id in enumerate(ids):
        _run(reports, "weekly", run_id, "ok" if i < 2 else "failed")
    os.symlink(ids[1], reports / "weekly" / "latest", target_is_directory=True)
    _run(reports, "daily", "20261201T060000Z")
    (tmp_path / "private" / "weekly" / ids[0] / "04_rfm_segments_files").mkdir(parents=True)
    (reports / ".tmp").mkdir()
    render.build_index(reports)
    return reports


def _left(reports: Path, job: str) -> list[str]:
    return sorted(p.name for p in (reports / job).iterdir() if not p.is_symlink())


def test_prune_keeps_the_newest_and_latest(reports, tmp_path):
    gone = prune(1, out=reports)
    assert [(p.job, p.run_id) for p in gone] == [
        ("weekly", "20261102T060000Z"),
        ("weekly", "20261116T060000Z"),
    ]
    assert _left(reports, "weekly") == ["20261109T060000Z", "20261123T060000Z"]
    assert (reports / "weekly" / "latest").resolve().name == "20261109T060000Z"
    assert _left(reports, "daily") == ["20261201T060000Z"]
    assert not (tmp_path / "private" / "weekly" / "20261102T060000Z").exists()
    index = (reports / "index.html").read_text()
    assert "20261109T060000Z" in index and "20261102T060000Z" not in index


def test_keep_zero_still_keeps_latest_and_dry_run_removes_nothing(reports):
    before = sorted(str(p) for p in reports.rglob("*"))
    planned = prune(0, out=reports, job="weekly", dry_run=True)
    assert [p.run_id for p in planned] == [
        "20261102T060000Z",
        "20261116T060000Z",
        "20261123T060000Z",
    ]
    assert planned[0].private is not None and planned[1].private is None
    assert sorted(str(p) for p in reports.rglob("*")) == before
    prune(0, out=reports, job="weekly")
    assert _left(reports, "weekly") == ["20261109T060000Z"]
    assert _left(reports, "daily") == ["20261201T060000Z"]  # another job: untouched


def test_prune_refuses_a_negative_keep_and_an_unknown_job(reports):
    with pytest.raises(RunError, match="--keep must be 0 or more"):
        prune(-1, out=reports)
    with pytest.raises(RunError, match="no runs of job 'monthly'"):
        prune(1, out=reports, job="monthly")


def test_prune_command(reports):
    from typer.testing import CliRunner

    from shopbook.cli import app

    result = CliRunner().invoke(app, ["prune", "--keep", "1", "--dry-run", "--out", str(reports)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "would remove weekly/20261102T060000Z and its private files",
        "would remove weekly/20261116T060000Z",
        "would remove 2 runs",
    ]
    assert len(_left(reports, "weekly")) == 4
    result = CliRunner().invoke(app, ["prune", "--keep", "1", "--out", str(reports)])
    assert result.exit_code == 0 and result.output.endswith("removed 2 runs\n")
    assert len(_left(reports, "weekly")) == 2
    result = CliRunner().invoke(app, ["prune", "--keep", "-2", "--out", str(reports)])
    assert result.exit_code == 2 and "--keep must be 0 or more" in result.output


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("source /srv/shop/data.duckdb", "source …/data.duckdb"),
        ('"/tmp/pytest-1/x/shop.duckdb"', '"…/shop.duckdb"'),
        ("file:///home/ann/shop/orders.parquet", "…/orders.parquet"),
        ("<td>/work/main/data/a.csv</td>", "<td>…/a.csv</td>"),
        # kept: labels of known folders, relative paths, URLs, dates, ratios
        ("<reports>/weekly/20261123T060000Z", "<reports>/weekly/20261123T060000Z"),
        ("&lt;private&gt;/weekly/x/list.csv", "&lt;private&gt;/weekly/x/list.csv"),
        ("~/shop/data.duckdb", "~/shop/data.duckdb"),
        ("./data/shop.duckdb and ../data/x", "./data/shop.duckdb and ../data/x"),
        ("https://example.com/a/b postgres://u@h/db", "https://example.com/a/b postgres://u@h/db"),
        ("12/31/2024 · GMV / orders", "12/31/2024 · GMV / orders"),
    ],
)
def test_strip_paths(text, shown):
    assert render.strip_paths(text) == shown


def test_brief_header_and_outputs_name_no_folder_of_the_machine(tmp_path):
    import nbformat.v4 as nbv

    nb = nbv.new_notebook()
    cell = nbv.new_code_cell("print(path)")
    cell.outputs = [nbv.new_output("stream", name="stdout", text="read /srv/data/shop.duckdb\n")]
    nb.cells = [nbv.new_markdown_cell("# Brief\n\nFrom `/srv/data/shop.duckdb`."), cell]
    entry = {
        "notebook": "01_kpi_brief",
        "status": "ok",
        "parameters": {"source": "/srv/data/shop.duckdb"},
        "source": {"uri": "/srv/data/shop.duckdb"},
        "files": {},
    }
    run = {"job": "weekly", "run_id": "r1"}
    render.render_html(nb, tmp_path / "b.html", entry, run, brief=True)
    brief = (tmp_path / "b.html").read_text()
    assert "/srv/" not in brief and brief.count("…/shop.duckdb") >= 3
    render.render_html(nb, tmp_path / "f.html", entry, run, brief=False)
    assert "/srv/data/shop.duckdb" in (tmp_path / "f.html").read_text()  # the analysts' page
