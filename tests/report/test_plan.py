"""Planning a run: jobs of reports.yml, date tokens, which notebook gets which parameter."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shopbook.report.jobs import RunError, date_tokens
from shopbook.report.plan import plan


def test_unknown_parameter_is_refused_with_the_notebook_parameters(throwaway):
    with pytest.raises(RunError) as info:
        plan([str(throwaway["ok"])], params={"row": 3})
    message = str(info.value)
    assert "unknown parameter 'row'" in message
    assert "rows: int = 2  # rows to show" in message and "db_password" in message


def test_parameters_go_where_declared(throwaway, small_db):
    root = Path(__file__).parents[2]
    _, tasks = plan(
        [str(root / "notebooks" / "00_data_health.ipynb"), str(throwaway["ok"])],
        params={"rows": 5, "sample_rows": 3},
        source=str(small_db),
    )
    nb00, ok = tasks
    assert nb00.parameters == {"sample_rows": 3, "source": str(small_db)}
    assert ok.parameters == {"rows": 5}


def test_jobs_file_missing_notebooks_and_date_tokens(tmp_path, throwaway, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    shutil.copy(throwaway["ok"], tmp_path / "notebooks" / "10_ok.ipynb")
    (tmp_path / "reports.yml").write_text(
        "jobs:\n  weekly:\n    notebooks: [10_ok, 99_not_yet]\n"
        "    parameters: {rows: 7, db_password: '{last_week_start}', start: '{yesterday}'}\n"
        "  all:\n    notebooks: ['notebooks/[0-9][0-9]_*.ipynb']\n"
    )
    monkeypatch.setenv("SHOPBOOK_HOME", str(tmp_path))
    import datetime as dt

    job, tasks = plan(job="weekly", today=dt.date(2024, 5, 15))  # a Wednesday
    assert job == "weekly"
    assert [t.name for t in tasks] == ["10_ok", "99_not_yet"]
    assert tasks[0].parameters == {
        "rows": 7,
        "db_password": "2024-05-06",
    }  # `start` not declared: not passed
    assert tasks[1].path is None and "not found" in tasks[1].missing
    job, tasks = plan()
    assert job == "all" and [t.name for t in tasks] == ["10_ok"]
    with pytest.raises(RunError, match="unknown job"):
        plan(job="nope")


def test_date_tokens():
    import datetime as dt

    t = date_tokens(dt.date(2024, 5, 15))
    assert (t["last_week_start"], t["last_week_end"]) == ("2024-05-06", "2024-05-12")
    assert t["yesterday"] == "2024-05-14"
    assert (t["last_month_start"], t["last_month_end"]) == ("2024-04-01", "2024-04-30")
    assert (t["last_quarter_start"], t["last_quarter_end"]) == ("2024-01-01", "2024-03-31")
    # in January the last quarter is the year before's fourth; on a quarter's first day too
    t = date_tokens(dt.date(2025, 1, 10))
    assert (t["last_quarter_start"], t["last_quarter_end"]) == ("2024-10-01", "2024-12-31")
    t = date_tokens(dt.date(2024, 7, 1))
    assert (t["last_quarter_start"], t["last_quarter_end"]) == ("2024-04-01", "2024-06-30")


def test_a_job_lang_is_every_notebook_lang_parameter(tmp_path, monkeypatch):
    root = Path(__file__).parents[2]
    (tmp_path / "notebooks").mkdir()
    for name in ("00_data_health", "01_kpi_brief"):
        shutil.copy(root / "notebooks" / f"{name}.ipynb", tmp_path / "notebooks")
    (tmp_path / "reports.yml").write_text(
        "jobs:\n  zh:\n    lang: zh\n    notebooks: [00_data_health, 01_kpi_brief]\n"
        "  en:\n    notebooks: [00_data_health]\n"
        "  bad:\n    lang: fr\n    notebooks: [00_data_health]\n"
    )
    monkeypatch.setenv("SHOPBOOK_HOME", str(tmp_path))
    _, tasks = plan(job="zh")
    assert [t.parameters["lang"] for t in tasks] == ["zh", "zh"]
    _, tasks = plan(job="zh", params={"lang": "en"})  # -p lang=en wins
    assert tasks[0].parameters["lang"] == "en"
    _, tasks = plan(job="en")
    assert "lang" not in tasks[0].parameters  # the notebook's default, en
    with pytest.raises(RunError, match="lang 'fr'"):
        plan(job="bad")
    # a top-level lang is every job's default and the index's language
    (tmp_path / "reports.yml").write_text(
        "lang: zh\njobs:\n  en:\n    notebooks: [00_data_health]\n"
    )
    _, tasks = plan(job="en")
    assert tasks[0].parameters["lang"] == "zh"
    from shopbook.report.jobs import index_lang

    assert index_lang() == "zh"


def test_the_shipped_weekly_zh_job_runs_in_chinese(monkeypatch):
    monkeypatch.setenv("SHOPBOOK_HOME", str(Path(__file__).parents[2]))
    _, tasks = plan(job="weekly_zh")
    assert tasks and {t.parameters.get("lang") for t in tasks} == {"zh"}
