"""Runs end to end (shopbook.report.runs): run folders, summary.json, failure, redaction,
escaping, interruption, files beside a report, the index, the `shopbook run` command."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from shopbook.report import render
from shopbook.report.execute import Progress
from shopbook.report.plan import plan
from shopbook.report.runs import _clean_stale_tmp, run
from tests.builders import interrupt_run, write_notebook
from tests.report.conftest import HOSTILE, SECRET_PASSWORD, SECRET_TOKEN, SECRET_URI

pytestmark = pytest.mark.slow


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_good_run_folder_and_summary(runs):
    good = runs["good"]
    assert good.status == "ok" and good.exit_code == 0
    folder = good.folder
    assert folder.parent.name == "nightly" and folder.parent.parent == runs["reports"]
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        [
            "00_data_health.ipynb",
            "00_data_health.html",
            "00_data_health.brief.html",
            "10_ok.ipynb",
            "10_ok.html",
            "10_ok.brief.html",
            "summary.json",
        ]
    )
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["job"] == "nightly"
    assert summary["started"] <= summary["ended"] and summary["duration_s"] > 0
    assert summary["shopbook_version"]
    assert "git_commit" in summary
    nb00, ok = summary["notebooks"]
    assert nb00["status"] == "ok" and nb00["title"] == "Data health"
    assert nb00["source"]["tables"]["orders"] > 0  # the fingerprint: tables and row counts
    heads = {h["name"]: h for h in nb00["headlines"]}
    assert {"tables", "rows_read", "rows_rejected", "rejected_share"} <= set(heads)
    assert heads["rows_read"]["value"] == sum(nb00["source"]["tables"].values())
    assert [h["text"] for h in ok["headlines"]] == ["42", "12.5%"]
    assert ok["source"] is None  # declares no `source`: no fingerprint
    assert summary["source"] == nb00["source"]
    assert ok["skipped"] == [{"section": "Funnel", "reason": "no sessions table in the source"}]
    assert (folder.parent / "latest").resolve() == folder.resolve()
    assert not any((runs["reports"] / ".tmp").iterdir())


def test_failing_notebooks_still_render_and_others_run(runs):
    bad = runs["bad"]
    assert bad.status == "failed" and bad.exit_code == 1
    summary = json.loads((bad.folder / "summary.json").read_text())
    by_name = {e["notebook"]: e for e in summary["notebooks"]}
    assert by_name["20_fail"]["status"] == "failed"
    assert by_name["20_fail"]["error"] == "ValueError: planted failure: the data is wrong"
    assert by_name["20_fail"]["headlines"][0]["name"] == "before"
    assert by_name["30_killer"]["status"] == "failed"
    assert "DeadKernelError" in by_name["30_killer"]["error"]
    assert by_name["10_ok"]["status"] == "ok"  # ran after two failures
    html = (bad.folder / "20_fail.html").read_text()
    assert "planted failure" in html and "This report failed" in html
    assert 'id="papermill-error-cell"' in html and 'href="#papermill-error-cell"' in html
    assert '<span class="k">raise</span>' in html  # the failing cell's code is shown
    brief = (bad.folder / "20_fail.brief.html").read_text()
    assert "planted failure" in brief and '<span class="k">raise</span>' not in brief
    assert "highlight" not in brief.split("<main>", 1)[1]  # no code at all
    assert (bad.folder / "30_killer.html").exists() and (
        bad.folder / "30_killer.brief.html"
    ).exists()
    # a failed run never becomes `latest`
    assert (bad.folder.parent / "latest").resolve() == runs["good"].folder.resolve()


def test_secrets_are_redacted_everywhere(runs):
    folder = runs["good"].folder
    for path in [*_files(folder), runs["reports"] / "index.html"]:
        text = path.read_text(errors="replace")
        for secret in (SECRET_PASSWORD, "s3cr3t-uri-pw", SECRET_TOKEN):
            assert secret not in text, f"{secret} leaked into {path.name}"
    summary = json.loads((folder / "summary.json").read_text())
    params = summary["notebooks"][1]["parameters"]
    assert params["db_password"] == "***" and params["api_token"] == "***"
    assert params["backup_uri"] == "postgres://shop:***@db.example.internal/shop"
    executed = (folder / "10_ok.ipynb").read_text()
    assert "password is ***" in executed and "postgres://shop:***@" in executed
    assert SECRET_URI not in executed


def test_data_strings_are_escaped_and_ids_pseudonymised(runs):
    for path in _files(runs["good"].folder):
        if path.suffix != ".html":
            continue
        html = path.read_text()
        for name in HOSTILE:
            assert name not in html, f"raw {name} in {path.name}"
        if path.name.endswith(".brief.html") or path.name.startswith("00_"):  # outputs only
            assert "alice-" not in html, f"a real customer id in {path.name}"
    ok = (runs["good"].folder / "10_ok.html").read_text()
    assert "&lt;script&gt;alert" in ok and "&lt;img src=x onerror=alert" in ok
    assert (
        "Numbers &amp; &lt;b&gt;names&lt;/b&gt;" not in ok or "<b>names</b>" in ok
    )  # trusted Markdown is Markdown
    health = (runs["good"].folder / "00_data_health.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in health  # a rejected product, as text
    assert "c_" in health


def test_reports_are_self_contained(runs):
    for path in _files(runs["good"].folder):
        if path.suffix == ".html":
            html = path.read_text()
            assert (
                "cdnjs" not in html and "require.js" not in html and "mathjax" not in html.lower()
            )
            assert 'src="http' not in html and "<link" not in html
            # the full report has contents; the brief is one page without
            assert ('<nav class="shopbook-toc"' in html) != path.name.endswith(".brief.html")
    assert "data:image/png;base64," in (runs["good"].folder / "10_ok.html").read_text()


def test_index_lists_runs_newest_first(runs):
    index = (runs["reports"] / "index.html").read_text()
    good, bad = runs["good"].folder, runs["bad"].folder
    assert index.index(bad.name) < index.index(good.name)
    for folder in (good, bad):
        for f in folder.glob("*.html"):
            assert f"nightly/{folder.name}/{f.name}" in index
    assert "ValueError: planted failure: the data is wrong" in index
    assert "Rows read" in index and ">42<" in index
    assert "failed" in index and "ok" in index
    loaded = render.load_runs(runs["reports"])
    assert [r["run_id"] for r in loaded] == [bad.name, good.name]


def test_cli_fail_fast_exit_code(tmp_path, throwaway):
    from typer.testing import CliRunner

    from shopbook.cli import app

    out = tmp_path / "reports"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(throwaway["fail"]),
            str(throwaway["ok"]),
            "--fail-fast",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "failed   20_fail" in result.output and "skipped  10_ok" in result.output
    assert f"index:  {(out / 'index.html').resolve()}" in result.output
    summary = json.loads(next(out.glob("adhoc/*/summary.json")).read_text())
    assert [e["status"] for e in summary["notebooks"]] == ["failed", "skipped"]


def test_cli_usage_errors(tmp_path, throwaway):
    from typer.testing import CliRunner

    from shopbook.cli import app

    result = CliRunner().invoke(
        app, ["run", str(throwaway["ok"]), "-p", "nope=1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "unknown parameter 'nope'" in result.output
    result = CliRunner().invoke(app, ["run", "no_such_notebook", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "no notebook" in result.output
    assert not (tmp_path / "adhoc").exists()


def test_sigterm_leaves_no_half_report_and_keeps_the_last_good_one(runs, throwaway, tmp_path):
    reports = tmp_path / "reports"
    shutil.copytree(runs["reports"], reports, symlinks=True)
    before = {p.relative_to(reports): p.read_bytes() for p in _files(reports)}
    latest = os.readlink(reports / "nightly" / "latest")
    args = ["run", str(throwaway["sleeper"]), "--job", "nightly", "--out", str(reports)]
    # work in progress lives in .tmp
    seen = interrupt_run(args, signal.SIGTERM, before=lambda _: any((reports / ".tmp").iterdir()))
    assert seen.before
    err = seen.err
    assert seen.returncode == 128 + signal.SIGTERM, err
    assert "interrupted" in err
    after = {p.relative_to(reports): p.read_bytes() for p in _files(reports)}
    assert after == before  # nothing added, nothing changed (index included)
    assert os.readlink(reports / "nightly" / "latest") == latest
    assert not any((reports / ".tmp").iterdir())


def test_notebooks_side_by_side_share_the_cores_and_talk_over_ipc(tmp_path, monkeypatch):
    """Two notebooks at a time: each kernel's numeric thread pools get half the cores (a
    pool the environment sets is kept), the kernels use IPC sockets, not TCP, keep no
    IPython history, and the summary lists the notebooks in the order given."""
    monkeypatch.setenv("POLARS_MAX_THREADS", "3")
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    show = (
        "import json, os\nfrom ipykernel import get_connection_info\n"
        "print(json.dumps({'transport': json.loads(get_connection_info())['transport'],"
        " 'omp': os.environ.get('OMP_NUM_THREADS'), 'polars': os.environ['POLARS_MAX_THREADS'],"
        " 'history': get_ipython().history_manager.enabled}))"
    )
    paths = [
        write_notebook(tmp_path / f"{k}_threads.ipynb", "n: int = 1", show, kernel="shopbook")
        for k in ("20", "10")
    ]
    tasks = plan([str(p) for p in paths])[1]
    result = run(tasks, out=tmp_path / "reports", progress=Progress(quiet=True), workers=2)
    assert [e["notebook"] for e in result.summary["notebooks"]] == ["20_threads", "10_threads"]
    for p in paths:
        nb = json.loads((result.folder / p.name).read_text(encoding="utf-8"))
        outs = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("name") == "stdout"]
        seen = json.loads("".join("".join(o["text"]) for o in outs).splitlines()[-1])
        assert seen == {"transport": "ipc", "omp": "2", "polars": "3", "history": False}, seen


def test_an_interrupted_run_stops_every_notebook_running_beside_it(tmp_path):
    """Two notebooks run side by side (``--workers 2``); SIGTERM ends the run at once, both
    kernels die with it and nothing of the run is kept."""
    import psutil

    from tests.report.conftest import write_sleeper

    folder = tmp_path / "nbs"
    folder.mkdir()
    sleepers = [write_sleeper(folder / f"{k}0_sleeper.ipynb") for k in (1, 2)]
    reports = tmp_path / "reports"
    args = ["run", *map(str, sleepers), "--workers", "2", "--out", str(reports)]
    seen = interrupt_run(
        args, signal.SIGTERM, sleeping=2, before=lambda p: psutil.Process(p.pid).children(True)
    )
    kernels = seen.before
    assert len(kernels) >= 2
    assert seen.returncode == 128 + signal.SIGTERM, seen.err
    assert seen.seconds < 30  # the sleeping cells (120 s) did not finish
    gone, alive = psutil.wait_procs(kernels, timeout=10)
    assert not alive, alive
    assert not list(reports.glob("adhoc/*")) and not any((reports / ".tmp").iterdir())


def test_stale_temporary_folders_are_removed(tmp_path):
    tmp_root = tmp_path / ".tmp"
    (tmp_root / "job-20240101T000000Z-999999999").mkdir(parents=True)
    _clean_stale_tmp(tmp_root)
    assert not any(tmp_root.iterdir())


def test_files_a_notebook_writes_go_to_the_private_folder(tmp_path, monkeypatch):

    private = tmp_path / "private"
    monkeypatch.setenv("SHOPBOOK_PRIVATE", str(private))
    path = write_notebook(
        tmp_path / "50_writer.ipynb",
        'output_dir: str = ""  # where files for readers go',
        (
            "from pathlib import Path\n"
            "Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
            "(Path(output_dir) / 'list.csv').write_text('customer_id\\nc1\\n')\n"
            "print(output_dir)"
        ),
    )
    _, tasks = plan([str(path)])
    reports = tmp_path / "reports"
    result = run(
        tasks, job="files", out=reports, progress=Progress(quiet=True), handle_signals=False
    )
    assert result.status == "ok"
    written = private / "files" / result.folder.name / "50_writer_files" / "list.csv"
    assert written.read_text() == "customer_id\nc1\n"
    assert not [p for p in reports.rglob("*.csv")]  # real ids never in the shared folder
    shown = f"<private>/files/{result.folder.name}/50_writer_files"
    for text in (json.dumps(result.summary), (result.folder / "50_writer.ipynb").read_text()):
        assert ".tmp" not in text and shown in text and str(tmp_path) not in text
