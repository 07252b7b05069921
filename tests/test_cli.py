from typer.testing import CliRunner

from shopbook import __version__
from shopbook.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"shopbook {__version__}"


def test_sample_cdnow_writes_a_duckdb_file(tmp_path):
    out = tmp_path / "cdnow.duckdb"
    result = runner.invoke(app, ["sample", "--cdnow", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "69,659" in result.stdout
    assert out.exists()


def test_errors_are_one_line_without_traceback(tmp_path):
    result = runner.invoke(app, ["validate", "--source", str(tmp_path / "missing.duckdb")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")


def test_run_checks_preset_and_mapping_before_any_notebook_starts(tmp_path):
    result = CliRunner().invoke(app, ["run", "--preset", "tmal", "00"])
    assert result.exit_code == 2
    assert "did you mean tmall?" in result.output and "Traceback" not in result.output
    bad = tmp_path / "m.yml"
    bad.write_text("orders: {columns: {OrderNo: order_idd}}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--mapping", str(bad), "00"])
    assert result.exit_code == 2 and "did you mean order_id?" in result.output


def test_validate_says_which_notebooks_the_data_can_run(tmp_path):
    out = tmp_path / "cdnow.duckdb"
    assert runner.invoke(app, ["sample", "--cdnow", "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["validate", "--source", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = lines.index("notebooks this data can run:")
    rows = {line.split()[0]: line.split(maxsplit=1)[1] for line in lines[at + 1 :] if line.strip()}
    assert rows["04_rfm_segments"] == "ready"  # orders are all RFM needs
    assert rows["03_cohort_ltv"].startswith("partial  (sections skipped without customers")
