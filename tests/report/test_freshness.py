"""Freshness (issue 16): each table's last day in summary.json and the report headers, and a
report whose window lies outside the data (or whose data are too old) is stale / empty.

The runner tests execute 00 and 01 only, on the shipped shop (orders, sessions, inventory
and spend run 2023-01-01..2024-12-31, assignments end 2024-09-22)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from shopbook.data.freshness import TIME_COLUMNS, Span, assess, data_spans
from shopbook.report.jobs import RunError, date_tokens
from shopbook.report.plan import plan
from shopbook.report.runs import notebook_freshness, source_fingerprint

ROOT = Path(__file__).parents[2]
SHOP = ROOT / "data" / "shop.duckdb"
END = dt.date(2024, 12, 31)
needs_shop = pytest.mark.skipif(not SHOP.exists(), reason="run `make data` (shopbook sample)")


def _spans(**tables: tuple[str, str]) -> dict[str, Span]:
    return {
        t: Span(t, TIME_COLUMNS[t], dt.date.fromisoformat(a), dt.date.fromisoformat(b))
        for t, (a, b) in tables.items()
    }


SHOP_SPANS = _spans(
    orders=("2023-01-01", "2024-12-31"),
    sessions=("2023-01-01", "2024-12-31"),
    inventory=("2023-01-01", "2024-12-31"),
)

# ------------------------------------------------------------------------ the data layer


def test_time_columns_are_the_contracts_event_times():
    assert TIME_COLUMNS == {
        "orders": "order_ts",
        "sessions": "session_ts",
        "assignments": "assigned_ts",
        "inventory": "date",
        "marketing_spend": "date",
        "offers": "sent_ts",
    }


def test_data_spans_in_the_engine_text_and_typed_columns_future_days_left_out():
    from shopbook.data.sources import open_source

    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    orders = pd.DataFrame(
        {
            "order_id": ["a", "b", "c", "d"],
            "order_ts": ["2024-03-02 10:00:00", "2024-12-31T23:30:00+08:00", "garbage", future],
        }
    )
    inventory = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-05", "2024-06-30"]).date, "sku": ["x", "x"]}
    )
    with open_source(
        {"orders": orders, "inventory": inventory, "products": pd.DataFrame({"sku": ["x"]})}
    ) as src:
        spans = data_spans(src)
    assert spans == {
        "orders": Span("orders", "order_ts", dt.date(2024, 3, 2), dt.date(2024, 12, 31)),
        "inventory": Span("inventory", "date", dt.date(2024, 1, 5), dt.date(2024, 6, 30)),
    }


def test_a_window_after_the_data_is_empty_and_says_where_the_data_end():
    f = assess(SHOP_SPANS, "2026-11-23", "2026-11-29", required=["orders"])
    assert f.status == "empty"
    assert f.reasons == ("data end on 2024-12-31; the window 2026-11-23..2026-11-29 lies after it",)
    assert f.data_end == {
        "orders": "2024-12-31",
        "sessions": "2024-12-31",
        "inventory": "2024-12-31",
    }


def test_a_window_partly_outside_is_stale_inside_is_ok():
    f = assess(SHOP_SPANS, "2024-12-23", "2025-01-05", required=["orders"])
    assert f.status == "stale"
    assert (
        f.sentence
        == "data end on 2024-12-31; the window 2024-12-23..2025-01-05 runs 5 days past it"
    )
    f = assess(SHOP_SPANS, "2022-12-26", "2023-01-01", required=["orders"])
    assert f.status == "stale" and "starts before it" in f.sentence
    assert assess(SHOP_SPANS, "2024-12-16", "2024-12-22", required=["orders"]).status == "ok"
    assert assess(SHOP_SPANS, "", "", required=["orders"]).status == "ok"  # taken from the data


def test_an_optional_table_that_ends_early_makes_the_report_stale_not_empty():
    spans = {**SHOP_SPANS, **_spans(sessions=("2023-01-01", "2024-06-30"))}
    f = assess(spans, "2024-12-16", "2024-12-22", required=["orders"])
    assert f.status == "stale"
    assert f.reasons == (
        "sessions data end on 2024-06-30; the window 2024-12-16..2024-12-22 lies after it",
    )


def test_data_older_than_max_age_days_is_stale_even_without_a_window():
    today = dt.date(2025, 1, 10)
    f = assess(SHOP_SPANS, today=today, max_age_days=7)
    assert f.status == "stale" and f.window is None
    assert f.reasons == (
        "data end on 2024-12-31, 10 days before this run (the job allows 7: max_age_days)",
    )
    assert assess(SHOP_SPANS, today=today, max_age_days=10).status == "ok"
    # only `end` (04, 07): counting up to a day after the data is stale, not empty
    assert assess(SHOP_SPANS, end="2026-11-29", required=["orders"]).status == "stale"


def test_max_age_days_must_be_a_whole_number(tmp_path):
    jobs = tmp_path / "reports.yml"
    jobs.write_text("jobs:\n  w:\n    notebooks: [01_kpi_brief]\n    max_age_days: soon\n")
    with pytest.raises(RunError, match="max_age_days 'soon'"):
        plan(job="w", jobs_file=jobs)
    jobs.write_text("jobs:\n  w:\n    notebooks: [01_kpi_brief]\n    max_age_days: 3\n")
    _, tasks = plan(job="w", jobs_file=jobs, today=dt.date(2026, 12, 2))
    assert [(t.max_age_days, t.today) for t in tasks] == [(3, dt.date(2026, 12, 2))]


@needs_shop
def test_the_weekly_job_of_reports_yml_on_the_shipped_data(monkeypatch):
    """The real `--job weekly` token resolution (today, UTC), judged without a kernel."""
    tokens = date_tokens()
    if dt.date.fromisoformat(tokens["last_week_start"]) <= END + dt.timedelta(days=7):
        pytest.skip("today is too close to the shipped data's end for this check")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SHOPBOOK_HOME", str(ROOT))
    job, tasks = plan(job="weekly", source=str(SHOP))
    assert job == "weekly" and {t.max_age_days for t in tasks} == {7}
    fp = source_fingerprint(str(SHOP))
    assert fp["data_end"]["orders"] == "2024-12-31"
    assert fp["data_end"]["assignments"] == "2024-09-22"
    by_name = {t.name: notebook_freshness(t, fp) for t in tasks if t.path is not None}
    window = f"{tokens['last_week_start']}..{tokens['last_week_end']}"
    kpi = by_name["01_kpi_brief"]
    assert kpi.status == "empty" and kpi.window == window
    assert f"data end on 2024-12-31; the window {window} lies after it" in kpi.reasons
    for name in ("00_data_health", "02_market_trend", "04_rfm_segments", "07_product_inventory"):
        assert by_name[name].status == "stale", name  # no window of their own, or only `end`
        assert any("days before this run (the job allows 7" in r for r in by_name[name].reasons)
    assert by_name["07_product_inventory"].data_end["inventory"] == "2024-12-31"


# ------------------------------------------------------------------------ the runner


def _cli(*args: str):
    from typer.testing import CliRunner

    from shopbook.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def weekly_run(tmp_path_factory):
    """00 and 01 for last week as the issue's cron line asked, the window given explicitly;
    the source is a link outside the project (a folder the reports have no label for)."""
    if not SHOP.exists():
        pytest.skip("run `make data` (shopbook sample)")
    tmp = tmp_path_factory.mktemp("fresh")
    source = tmp / "srv" / "shop.duckdb"
    source.parent.mkdir()
    os.symlink(SHOP, source)
    out = tmp / "reports"
    result = _cli(
        "run", "00", "01", "-p", "start=2026-11-23", "-p", "end=2026-11-29",
        "--source", str(source), "--out", str(out), "--strict", "--quiet",
    )  # fmt: skip
    folder = next(p for p in (out / "adhoc").iterdir() if not p.is_symlink())
    return {"result": result, "out": out, "folder": folder, "tmp": tmp}


@pytest.mark.slow
def test_empty_window_is_reported_and_strict_exits_3(weekly_run):
    result, folder = weekly_run["result"], weekly_run["folder"]
    assert result.exit_code == 3, result.output
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "stale"
    assert summary["source"]["data_end"]["orders"] == "2024-12-31"
    by_name = {e["notebook"]: e for e in summary["notebooks"]}
    kpi = by_name["01_kpi_brief"]
    assert kpi["status"] == "empty", kpi.get("error")
    assert kpi["freshness"]["reasons"] == [
        "data end on 2024-12-31; the window 2026-11-23..2026-11-29 lies after it"
    ]
    assert kpi["freshness"]["data_end"]["orders"] == "2024-12-31"
    assert by_name["00_data_health"]["status"] == "ok"  # no window, no max_age_days
    assert re.search(r"empty +01_kpi_brief +data end on 2024-12-31; the window", result.output)
    for page in ("01_kpi_brief.html", "01_kpi_brief.brief.html"):
        html = (folder / page).read_text()
        assert "Data end: orders <b>2024-12-31</b>" in html
        assert "No data in the window:</b> data end on 2024-12-31; the window " in html
        assert 'sb-status empty">empty' in html
    html = (folder / "00_data_health.html").read_text()
    assert "assignments <b>2024-09-22</b>" in html  # 00 reads every table
    index = (weekly_run["out"] / "index.html").read_text()
    assert index.index("01_kpi_brief") < index.index("00_data_health")  # amber first
    assert 'sb-status stale">stale' in index and "lies after it" in index
    assert (folder.parent / "latest").resolve() == folder.resolve()  # nothing failed


@pytest.mark.slow
def test_the_brief_names_no_folder_of_the_machine(weekly_run):
    tmp = str(weekly_run["tmp"])
    absolute = re.compile(r"(?<![\w:/.~;-])/(?:tmp|work|home|root|srv|var|usr)/")
    for brief in weekly_run["folder"].glob("*.brief.html"):
        text = brief.read_text()
        assert tmp not in text and str(ROOT) not in text and str(Path.home()) not in text
        assert not absolute.search(text), absolute.search(text)
        assert "…/shop.duckdb" in text  # the source is named by its file only


@pytest.mark.slow
@pytest.mark.skipif(not SHOP.exists(), reason="run `make data` (shopbook sample)")
def test_a_window_inside_the_data_is_ok(tmp_path):
    result = _cli(
        "run", "01", "-p", "start=2024-12-16", "-p", "end=2024-12-22",
        "--source", str(SHOP), "--out", str(tmp_path), "--strict", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(next(tmp_path.glob("adhoc/*/summary.json")).read_text())
    (kpi,) = summary["notebooks"]
    assert kpi["status"] == "ok" and kpi["freshness"]["reasons"] == []
    assert kpi["freshness"]["window"] == "2024-12-16..2024-12-22"
    html = (tmp_path / "adhoc" / summary["run_id"] / "01_kpi_brief.html").read_text()
    assert "Data end: orders <b>2024-12-31</b>" in html and '<div class="sb-stale">' not in html


def test_notebooks_lists_every_notebook_with_its_parameters(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SHOPBOOK_HOME", str(ROOT))
    result = _cli("notebooks")
    assert result.exit_code == 0, result.output
    names = re.findall(r"^(\d\d_\w+)", result.output, flags=re.M)
    assert names == sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [n[:2] for n in names[:8]] == [f"{i:02d}" for i in range(8)]
    assert "01_kpi_brief — KPI brief:" in result.output
    assert '  start: str = ""  # first day of the window' in result.output
    assert "  sample_rows: int = 10  # rejected rows shown per table" in result.output
    assert _cli("notebooks", "nope").exit_code == 2
