"""Fixtures for the run tests: throwaway notebooks, a small hostile source, and two
finished runs in one reports folder (shared by the run and browser tests, so the
kernels start only a few times per session)."""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf
import pytest

from tests.notebooks import small_source

ROOT = Path(__file__).parents[2]
SECRET_PASSWORD = "hunter2-Secret-Pw"
SECRET_URI = "postgres://shop:s3cr3t-uri-pw@db.example.internal/shop"
SECRET_TOKEN = "sk-live-abcdefghijklmnopqrstuvwxyz012345"
HOSTILE = small_source.HOSTILE_NAMES


def _notebook(cells: list, params: str) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "shopbook",
        "display_name": "Shopbook",
        "language": "python",
    }
    p = nbf.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbf.v4.new_markdown_cell("# Throwaway report\n\nFor the runner tests."), p, *cells]
    return nb


def code(src: str) -> nbf.NotebookNode:
    return nbf.v4.new_code_cell(src)


def markdown(src: str) -> nbf.NotebookNode:
    return nbf.v4.new_markdown_cell(src)


OK_PARAMS = (
    'db_password: str = ""  # a secret that must never be shown\n'
    'backup_uri: str = ""  # a connection URI with credentials\n'
    'api_token: str = ""  # another secret\n'
    "rows: int = 2  # rows to show"
)


def write_ok(path: Path) -> Path:
    """A notebook that works: a headline, a figure, hostile text, printed secrets."""
    nb = _notebook(
        [
            markdown("## Numbers & <b>names</b>"),
            code(
                "import pandas as pd\n"
                "from shopbook.notebook import headline, md, setup, show, skipped\n"
                "setup()\n"
                'headline("answer", 42, unit="widgets")\n'
                'headline("share", 0.125, fmt=".1%", label="Share <b>bold</b>")'
            ),
            code("print('password is', db_password, 'uri is', backup_uri, 'token', api_token)"),
            markdown("## Table"),
            code(
                "show(pd.DataFrame({'customer_id': ['alice-001', 'alice-002'], "
                f"'name': {list(HOSTILE)!r}}}).head(rows))"
            ),
            markdown("## Figure"),
            code(
                "from shopbook.viz import theme\nax = theme.new_axes()\n"
                "ax.plot([1, 2, 3], [2, 1, 3])\n"
                "theme.label(ax, 'A line', x='Day', y='Units', y_unit='count');"
            ),
            markdown("## Sentence"),
            code(
                "md('Best seller: **{name}**, then {other}.', "
                f"name={HOSTILE[0]!r}, other={HOSTILE[1]!r})"
            ),
            code('skipped("Funnel", "no sessions table in the source")'),
        ],
        OK_PARAMS,
    )
    nbf.write(nb, path)
    return path


def write_failing(path: Path) -> Path:
    """A notebook whose third cell raises."""
    nb = _notebook(
        [
            markdown("## Before"),
            code('from shopbook.notebook import headline\nheadline("before", 1)'),
            code(
                "raise ValueError("
                "'planted failure: the data is wrong\\nsecond line of the message')"
            ),
            markdown("## After"),
            code("print('never runs')"),
        ],
        'who: str = "nobody"  # a harmless parameter',
    )
    nbf.write(nb, path)
    return path


def write_kernel_killer(path: Path) -> Path:
    """A notebook whose kernel dies (SIGKILL) mid-run."""
    nb = _notebook(
        [
            code("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
            code("print('never runs')"),
        ],
        'who: str = "nobody"  # a harmless parameter',
    )
    nbf.write(nb, path)
    return path


def write_sleeper(path: Path) -> Path:
    """A notebook that takes a minute (to be interrupted)."""
    nb = _notebook(
        [
            code("import time\nprint('sleeping', flush=True)"),
            code("time.sleep(120)"),
        ],
        'who: str = "nobody"  # a harmless parameter',
    )
    nbf.write(nb, path)
    return path


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    return small_source.build(tmp_path_factory.mktemp("source") / "small.duckdb")


@pytest.fixture(scope="session")
def throwaway(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("notebooks")
    return {
        "ok": write_ok(d / "10_ok.ipynb"),
        "fail": write_failing(d / "20_fail.ipynb"),
        "killer": write_kernel_killer(d / "30_killer.ipynb"),
        "sleeper": write_sleeper(d / "40_sleeper.ipynb"),
    }


@pytest.fixture(scope="session")
def runs(tmp_path_factory, small_db, throwaway):
    """Two finished runs in one reports folder.

    ``good``: notebooks/00_data_health on the small hostile source plus the ok notebook
    with secrets (job ``nightly``, all ok). ``bad``: failing, kernel-killing and ok
    notebooks (job ``nightly``, failed).
    """
    from shopbook.report.execute import Progress
    from shopbook.report.plan import plan
    from shopbook.report.runs import run

    reports = tmp_path_factory.mktemp("reports")
    quiet = Progress(quiet=True)
    params = {"db_password": SECRET_PASSWORD, "backup_uri": SECRET_URI, "api_token": SECRET_TOKEN}
    job, tasks = plan(
        [str(ROOT / "notebooks" / "00_data_health.ipynb"), str(throwaway["ok"])],
        job=None,
        params=params,
        source=str(small_db),
    )
    good = run(tasks, job="nightly", out=reports, progress=quiet, handle_signals=False)
    _, tasks = plan([str(throwaway["fail"]), str(throwaway["killer"]), str(throwaway["ok"])])
    bad = run(tasks, job="nightly", out=reports, progress=quiet, handle_signals=False)
    return {"reports": reports, "good": good, "bad": bad}
