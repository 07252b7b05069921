"""Hostile cases against the runner (issue 13): parameter types and YAML 1.2, timeouts,
signals during publishing, SIGHUP, a full or read-only disk, absolute paths in shared
files, and the README's cron line."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import nbformat
import nbformat.v4 as nbv
import pytest

from shopbook.report import render, runs
from shopbook.report.execute import Progress, RunInterrupted
from shopbook.report.jobs import Given, RunError, parse_pairs, parse_value, read_params_file
from shopbook.report.plan import plan
from tests.builders import interrupt_run

ROOT = Path(__file__).parents[2]
NB03 = str(ROOT / "notebooks" / "03_cohort_ltv.ipynb")
NB00 = str(ROOT / "notebooks" / "00_data_health.ipynb")
QUIET = Progress(quiet=True)


def _notebook(path: Path, *cells: str, params: str = 'who: str = "nobody"  # a name') -> Path:
    nb = nbv.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    p = nbv.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbv.new_markdown_cell(f"# {path.stem}"), p, *map(nbv.new_code_cell, cells)]
    nbformat.write(nb, path)
    return path


def _files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def private(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "private"
    monkeypatch.setenv("SHOPBOOK_PRIVATE", str(folder))
    return folder


@pytest.fixture
def no_kernel(monkeypatch):
    """papermill replaced by a copy of the input notebook (a headline-free 'execution')."""
    calls: list[str] = []

    def fake_execute(task, output, kernel, timeout, progress, shown=None, *_, **__):
        calls.append(task.name)
        nbformat.write(nbformat.read(str(task.path), as_version=4), str(output))
        return None

    monkeypatch.setattr(runs, "execute", fake_execute)
    return calls


# --------------------------------------------------------------- parameter types


def _task(tasks, name):
    return next(t for t in tasks if t.name == name)


def test_a_bad_value_fails_that_notebook_before_it_starts():
    _, tasks = plan([NB03, NB00], params=parse_pairs(["top_n=abc", "show_pii=false"]))
    nb03, nb00 = _task(tasks, "03_cohort_ltv"), _task(tasks, "00_data_health")
    assert nb03.error is not None and "\n" not in nb03.error
    for part in ("03_cohort_ltv", "'top_n'", "int", "'abc'"):
        assert part in nb03.error
    assert nb00.error is None  # the other notebook is fine
    assert nb00.parameters["show_pii"] is False  # "false" for a bool is False, not truthy


def test_cli_reports_the_bad_value_and_starts_no_kernel(tmp_path, private, monkeypatch):
    from typer.testing import CliRunner

    from shopbook.cli import app

    started: list[str] = []
    monkeypatch.setattr(runs, "execute", lambda task, *a, **k: started.append(task.name))
    out = tmp_path / "reports"
    result = CliRunner().invoke(app, ["run", NB03, "-p", "top_n=abc", "--out", str(out), "-q"])
    assert result.exit_code == 1, result.output
    assert started == []
    assert "parameter 'top_n' must be an int" in result.output and "'abc'" in result.output
    (summary,) = [json.loads(p.read_text()) for p in out.glob("adhoc/*/summary.json")]
    (entry,) = summary["notebooks"]
    assert entry["status"] == "failed" and "top_n" in entry["error"]
    assert summary["status"] == "failed"


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        ("0123", "int", 123),  # YAML 1.1 reads octal 83
        ("0123", "str", "0123"),  # a str parameter keeps what was typed
        ("0123", None, 123),  # no declared type: YAML 1.2 core schema
        ("NO", "str", "NO"),  # YAML 1.1: False
        ("yes", "str", "yes"),
        ("on", "str", "on"),
        ("false", "bool", False),
        ("True", "bool", True),
        ("a # not a comment", "str", "a # not a comment"),  # YAML truncates at ' #'
        ("a#b", None, "a#b"),
        ("0x1F", "int", 31),
        ("1e3", "float", 1000.0),
        ("7", "float", 7.0),
        ("[a, 2]", "list", ["a", 2]),
        ("", "str", ""),
        ("2024-05-06", "str", "2024-05-06"),  # dates stay text
    ],
)
def test_command_line_values_follow_yaml_1_2_and_the_declared_type(text, declared, expected):
    from shopbook.report.jobs import coerce

    value = coerce(Given(text), declared)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "declared"), [("NO", "bool"), ("yes", "bool"), ("1", "bool"), ("abc", "int")]
)
def test_values_that_are_not_the_declared_type_are_refused(text, declared):
    from shopbook.report.jobs import ParameterTypeError, coerce

    with pytest.raises(ParameterTypeError, match=declared):
        coerce(Given(text), declared)


def test_plain_parse_value_is_yaml_1_2():
    assert [parse_value(t) for t in ("0123", "NO", "on", "null", "~", "1:30", ".inf")] == [
        123,
        "NO",
        "on",
        None,
        None,
        "1:30",
        float("inf"),
    ]


def test_params_file_is_yaml_1_2_and_checked(tmp_path):
    f = tmp_path / "params.yml"
    f.write_text("top_n: 0123\nsurvivors: NO\nshow_pii: 'false'\nmodel_period: week # a comment\n")
    params = read_params_file(f)
    assert params == {"top_n": 123, "survivors": "NO", "show_pii": "false", "model_period": "week"}
    (task,) = plan([NB03], params=params)[1]
    assert task.error is None
    assert task.parameters["top_n"] == 123 and task.parameters["show_pii"] is False
    f.write_text("show_pii: NO\n")  # YAML 1.1 False; 1.2 the text NO: not a bool
    (task,) = plan([NB03], params=read_params_file(f))[1]
    assert task.error and "'show_pii'" in task.error and "bool" in task.error


def test_reports_yml_is_yaml_1_2_and_checked(tmp_path):
    jobs = tmp_path / "reports.yml"
    jobs.write_text(
        "jobs:\n  nightly:\n    notebooks:\n"
        f"      - notebook: {NB00}\n        parameters: {{lang: no, sample_rows: 010}}\n"
        f"      - notebook: {NB03}\n        parameters: {{show_pii: off}}\n"
    )
    _, (nb00, nb03) = plan(job="nightly", jobs_file=jobs)
    assert nb00.error is None and nb00.parameters == {"lang": "no", "sample_rows": 10}
    assert nb03.error and "'show_pii'" in nb03.error and "'off'" in nb03.error


def test_malformed_params_file_is_one_line(tmp_path):
    f = tmp_path / "params.yml"
    f.write_text("top_n: [1, 2\nshow_pii: true\n")
    with pytest.raises(RunError) as info:
        read_params_file(f)
    message = str(info.value)
    assert "\n" not in message and str(f) in message and "line" in message
    f.write_text("- a\n- b\n")
    with pytest.raises(RunError, match="mapping"):
        read_params_file(f)


def test_unknown_parameters_are_still_refused():
    with pytest.raises(RunError, match="unknown parameter 'top_m'"):
        plan([NB03], params=parse_pairs(["top_m=3"]))


# ---------------------------------------------------------------------- timeouts


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_timeout_must_be_positive(tmp_path, value):
    from typer.testing import CliRunner

    from shopbook.cli import app

    out = tmp_path / "reports"
    result = CliRunner().invoke(app, ["run", NB00, "--timeout", value, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "--timeout must be a positive number of seconds" in result.output
    assert not out.exists()
    with pytest.raises(RunError, match="positive"):
        runs.run([], out=out, timeout=float(value), handle_signals=False)
    assert not out.exists()


def test_refresh_refuses_a_zero_timeout(capsys):
    from shopbook.report.refresh import main

    with pytest.raises(SystemExit) as info:
        main(["--timeout", "0", str(ROOT / "notebooks" / "no_such.ipynb")])
    assert info.value.code == 2 and "positive" in capsys.readouterr().err


# ------------------------------------------------------- signals while publishing


def _good_run(tmp_path, reports) -> runs.RunResult:
    nb = _notebook(tmp_path / "10_first.ipynb", "print('hello')")
    _, tasks = plan([str(nb)])
    result = runs.run(tasks, job="nightly", out=reports, progress=QUIET, handle_signals=False)
    assert result.status == "ok"
    return result


def test_sigterm_during_the_index_rebuild_discards_everything(
    tmp_path, private, no_kernel, monkeypatch
):
    reports = tmp_path / "reports"
    good = _good_run(tmp_path, reports)
    before = _files(reports)
    nb = _notebook(tmp_path / "20_second.ipynb", "print('second')")
    _, tasks = plan([str(nb)])
    original = render.index_page

    def index_page_then_sigterm(*args, **kwargs):
        page = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)  # the handler runs here
        return page

    monkeypatch.setattr(render, "index_page", index_page_then_sigterm)
    with pytest.raises(RunInterrupted) as info:
        runs.run(tasks, job="nightly", out=reports, progress=QUIET, handle_signals=True)
    assert info.value.signum == signal.SIGTERM and info.value.kept is None  # "discarded"
    assert _files(reports) == before  # index included; no new run folder
    assert os.readlink(reports / "nightly" / "latest") == good.folder.name
    assert sorted(p.name for p in (reports / "nightly").iterdir()) == sorted(
        [good.folder.name, "latest"]
    )
    with pytest.raises(RunInterrupted):  # a new job: not even its folder appears
        runs.run(tasks, job="fresh", out=reports, progress=QUIET, handle_signals=True)
    assert not (reports / "fresh").exists() and _files(reports) == before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or callable(
        signal.getsignal(signal.SIGTERM)
    )


def test_sigterm_while_moving_into_place_finishes_and_says_kept(
    tmp_path, private, no_kernel, monkeypatch
):
    reports = tmp_path / "reports"
    _good_run(tmp_path, reports)
    nb = _notebook(tmp_path / "20_second.ipynb", "print('second')")
    _, tasks = plan([str(nb)])
    original = runs._link_latest

    def link_with_sigterm(job_dir, run_id):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)
        original(job_dir, run_id)

    monkeypatch.setattr(runs, "_link_latest", link_with_sigterm)
    with pytest.raises(RunInterrupted) as info:
        runs.run(tasks, job="nightly", out=reports, progress=QUIET, handle_signals=True)
    kept = info.value.kept
    assert kept is not None and (kept / "summary.json").exists()
    assert os.readlink(reports / "nightly" / "latest") == kept.name  # all three renames done
    assert kept.name in (reports / "index.html").read_text()
    assert not any((reports / ".tmp").iterdir())


def test_sighup_is_handled_like_sigterm(tmp_path, private):
    reports = tmp_path / "reports"
    _good_run(tmp_path, reports)
    before = _files(reports)
    sleeper = _notebook(
        tmp_path / "40_sleeper.ipynb",
        "print('sleeping', flush=True)",
        "import time\ntime.sleep(120)",
    )
    args = ["run", str(sleeper), "--job", "nightly", "--out", str(reports)]
    seen = interrupt_run(args, signal.SIGHUP)  # started with SIGHUP at its default
    err = seen.err
    assert seen.returncode == 128 + signal.SIGHUP, err
    assert "interrupted (SIGHUP): the run was discarded" in err
    assert _files(reports) == before
    assert not any((reports / ".tmp").iterdir())


def test_an_ignored_sighup_stays_ignored_under_nohup():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        handlers = runs._Signals(install=True)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == handlers._handler
        handlers.restore()
        assert signal.getsignal(signal.SIGTERM) != handlers._handler
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_a_stale_index_file_of_a_killed_runner_is_removed(tmp_path):
    (tmp_path / ".tmp").mkdir()
    stale, running = (
        tmp_path / ".index.html.999999999.tmp",
        tmp_path / f".index.html.{os.getppid()}.tmp",  # another runner, still alive
    )
    stale.write_text("half")
    running.write_text("another runner")
    runs._clean_stale_tmp(tmp_path / ".tmp")
    assert not stale.exists() and running.exists()


def test_cli_says_kept_when_the_signal_came_while_publishing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from shopbook.cli import app

    folder = tmp_path / "reports" / "adhoc" / "20240101T000000Z"

    def interrupted(*args, **kwargs):
        raise RunInterrupted(signal.SIGTERM, kept=folder)

    monkeypatch.setattr(runs, "run", interrupted)
    result = CliRunner().invoke(app, ["run", NB00, "--out", str(tmp_path / "reports")])
    assert result.exit_code == 128 + signal.SIGTERM
    assert "complete and kept in" in result.output and "discarded" not in result.output


# ------------------------------------------------------------------- disk full


def test_disk_full_fails_that_notebook_and_keeps_the_finished_ones(tmp_path, private, monkeypatch):
    import papermill.iorw

    reports = tmp_path / "reports"
    good = _good_run(tmp_path, reports)
    last_good = _files(good.folder)
    first = _notebook(tmp_path / "10_first.ipynb", "print('first')")
    second = _notebook(tmp_path / "20_second.ipynb", "print('second')")
    third = _notebook(tmp_path / "30_third.ipynb", "print('third')")
    original = papermill.iorw.LocalHandler.write

    def write_until_full(self, buf, path):
        if Path(path).name == "20_second.ipynb":  # the disk fills up half-way through
            Path(path).write_text(buf[: len(buf) // 2], encoding="utf-8")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        return original(self, buf, path)

    monkeypatch.setattr(papermill.iorw.LocalHandler, "write", write_until_full)
    _, tasks = plan([str(first), str(second), str(third)])
    result = runs.run(tasks, job="nightly", out=reports, progress=QUIET, handle_signals=False)

    assert result.status == "failed" and result.folder.is_dir()
    by_name = {e["notebook"]: e for e in result.summary["notebooks"]}
    assert by_name["10_first"]["status"] == "ok" and by_name["30_third"]["status"] == "ok"
    error = by_name["20_second"]["error"]
    assert error.startswith("no space left on device: ") and "20_second.ipynb" in error
    assert "JSON" not in error and "\n" not in error
    names = {p.name for p in result.folder.iterdir()}
    assert {"10_first.ipynb", "10_first.html", "30_third.html", "summary.json"} <= names
    assert nbformat.read(str(result.folder / "10_first.ipynb"), as_version=4)  # whole
    assert os.readlink(reports / "nightly" / "latest") == good.folder.name
    assert _files(good.folder) == last_good  # the last good run is untouched
    assert result.folder.name in (reports / "index.html").read_text()


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "no space left on device"), (errno.EROFS, "read-only file system")],
)
def test_a_report_page_that_cannot_be_written_fails_its_notebook(
    tmp_path, private, no_kernel, monkeypatch, code, words
):
    reports = tmp_path / "reports"
    first = _notebook(tmp_path / "10_first.ipynb", "print('first')")
    second = _notebook(tmp_path / "20_second.ipynb", "print('second')")
    original = render.render_html

    def render_until_full(nb, path, *args, **kwargs):
        if path.name.startswith("20_") and path.name.endswith(".brief.html"):
            path.write_text("<html><body>half", encoding="utf-8")
            raise OSError(code, os.strerror(code), str(path))
        return original(nb, path, *args, **kwargs)

    monkeypatch.setattr(render, "render_html", render_until_full)
    _, tasks = plan([str(first), str(second)])
    result = runs.run(tasks, job="nightly", out=reports, progress=QUIET, handle_signals=False)
    by_name = {e["notebook"]: e for e in result.summary["notebooks"]}
    assert by_name["10_first"]["status"] == "ok"
    error = by_name["20_second"]["error"]
    assert error.startswith(f"{words}: ") and "20_second.brief.html. Fix: " in error
    assert str(tmp_path) not in error  # named as the run folder shows it
    assert not list(result.folder.glob("20_second*"))  # no half-written pages
    assert (result.folder / "10_first.brief.html").exists()


def test_a_summary_that_cannot_be_written_keeps_the_reports(
    tmp_path, private, no_kernel, monkeypatch
):
    reports = tmp_path / "reports"
    good = _good_run(tmp_path, reports)
    index_before = (reports / "index.html").read_bytes()
    nb = _notebook(tmp_path / "20_second.ipynb", "print('second')")
    original = Path.write_text

    def write_text(self, data, *args, **kwargs):
        if self.name == "summary.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    _, tasks = plan([str(nb)])
    with pytest.raises(RunError) as info:
        runs.run(tasks, job="nightly", out=reports, progress=QUIET, handle_signals=False)
    message = str(info.value)
    assert message.startswith("no space left on device: ") and "\n" not in message
    kept = [
        p for p in (reports / "nightly").iterdir() if p.name not in (good.folder.name, "latest")
    ]
    assert len(kept) == 1 and (kept[0] / "20_second.html").exists()
    assert os.readlink(reports / "nightly" / "latest") == good.folder.name
    assert (reports / "index.html").read_bytes() == index_before


# ------------------------------------------------------------- absolute paths


def test_executed_notebooks_name_no_folder_of_the_machine(tmp_path, private):
    nb = _notebook(
        tmp_path / "60_paths.ipynb",
        "import os, sys\nprint(os.getcwd())\nprint(sys.executable)\nprint(os.path.expanduser('~'))",
        "import json\njson.loads('{broken')",
    )
    _, tasks = plan([str(nb)])
    result = runs.run(
        tasks, job="paths", out=tmp_path / "reports", progress=QUIET, handle_signals=False
    )
    executed = nbformat.read(str(result.folder / "60_paths.ipynb"), as_version=4)
    assert executed.metadata.papermill["input_path"] == "60_paths.ipynb"
    assert executed.metadata.papermill["output_path"] == "60_paths.ipynb"
    machine = {str(ROOT), str(Path.home()), sys.prefix, str(tmp_path), str(Path.cwd())}
    for path in result.folder.iterdir():
        text = path.read_text(errors="replace")
        for folder in machine:
            assert not re.search(re.escape(folder) + r"(?![\w.-])", text), (
                f"{folder} in {path.name}"
            )
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "." in printed.splitlines() and "~" in printed.splitlines()  # cwd, home
    assert "json" in (result.summary["notebooks"][0]["error"] or "").lower()


# -------------------------------------------------------------------- cron line


def test_the_readme_cron_line_logs_outside_the_reports_folder():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if "shopbook run" in line and "* *" in line]
    assert lines, "the README shows a crontab line"
    for line in lines:
        target = re.search(r">>\s*(\S+)", line)
        assert target and "2>&1" in line
        assert not target.group(1).startswith(("reports/", "./reports/", "$SHOPBOOK_REPORTS"))
