"""Monthly targets files: YAML and CSV read alike, one line per problem, found beside the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopbook.analysis.kpi.definitions import METRICS
from shopbook.data.targets import (
    TARGET_METRICS,
    find_targets,
    load_targets,
    read_targets,
)
from shopbook.errors import ContractError

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "targets.example.yml"

YAML = """
currency: CNY
months:
  2024-12:
    gmv: 2500000
    new_customers: 1800
    cac: 90
    repurchase_rate: 0.25
    margin: 0.27
  2025-01: {gmv: 2000000}
"""


def write(tmp_path: Path, text: str, name: str = "targets.yml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_of(tmp_path: Path, text: str, name: str = "targets.yml") -> str:
    with pytest.raises(ContractError) as exc:
        read_targets(write(tmp_path, text, name))
    return str(exc.value)


def test_target_metrics_are_kpis_of_the_brief() -> None:
    units = {m.name: m.unit for m in METRICS}
    assert {k: units[k] for k in TARGET_METRICS} == TARGET_METRICS


def test_yaml_is_read_with_aliases_and_currency(tmp_path: Path) -> None:
    t = read_targets(write(tmp_path, YAML))
    assert t.currency == "CNY"
    assert t.months == ["2024-12", "2025-01"]
    assert t.for_month("2024-12") == {
        "cac": 90.0,
        "gmv": 2500000.0,
        "gross_margin": 0.27,
        "new_customers": 1800.0,
        "repurchase_rate": 0.25,
    }
    assert t.for_month("2025-01-15") == {"gmv": 2000000.0}
    assert t.for_month("2023-01") == {}


def test_csv_reads_as_the_yaml(tmp_path: Path) -> None:
    csv = (
        "month,metric,target,currency\n2024-12,gmv,2500000,CNY\n2024-12,new_customers,1800,CNY\n"
        "2024-12,cac,90,CNY\n2024-12,repurchase_rate,0.25,CNY\n2024-12,margin,0.27,CNY\n"
        "2025-01,gmv,2000000,CNY\n"
    )
    a = read_targets(write(tmp_path, YAML))
    b = read_targets(write(tmp_path, csv, "targets.csv"))
    assert b.currency == "CNY"
    assert a.table.equals(b.table)


def test_unknown_metric_names_the_nearest_and_the_allowed(tmp_path: Path) -> None:
    msg = error_of(tmp_path, "months:\n  2024-12:\n    gmvv: 10\n")
    assert "\n" not in msg
    assert "targets.yml.months.2024-12.gmvv" in msg
    assert "did you mean gmv?" in msg
    for name in TARGET_METRICS:
        assert name in msg


def test_every_problem_is_one_line(tmp_path: Path) -> None:
    msg = error_of(
        tmp_path,
        "months:\n  2024-13:\n    gmv: 10\n  2024-12:\n    gmv: -5\n    repurchase_rate: 25\n"
        "    new_customers: lots\n  2024-11-01:\n    orders: 3\n",
    )
    lines = msg.splitlines()
    assert len(lines) == 5, msg
    assert "months.2024-13.gmv: expected a month as YYYY-MM" in lines[0]
    assert "expected a target ≥ 0, found -5" in lines[1]
    assert "expected a share between 0 and 1, found 25" in lines[2] and "0.25" in lines[2]
    assert "expected a number, found 'lots'" in lines[3]
    assert "2024-11-01" in lines[4] and "YYYY-MM" in lines[4]


def test_csv_problems_name_the_line(tmp_path: Path) -> None:
    msg = error_of(
        tmp_path,
        "month,metric,target\n2024-12,gmv,1\n2024-12,margin,1.5\n2024-12,gmv,2\n",
        "targets.csv",
    )
    assert "targets.csv.line 3: expected a share between 0 and 1" in msg
    assert len(msg.splitlines()) == 1
    dup = error_of(tmp_path, "month,metric,target\n2024-12,gmv,1\n2024-12,gmv,2\n", "t.csv")
    assert "t.csv.line 3: expected one target per month and metric" in dup
    assert "first at line 2" in dup
    alias = error_of(tmp_path, "months:\n  2024-12: {margin: 0.2, gross_margin: 0.3}\n")
    assert "gross_margin of 2024-12 again" in alias
    cols = error_of(tmp_path, "month,kpi,target\n2024-12,gmv,1\n", "targets.csv")
    assert "expected the columns month, metric, target" in cols


def test_structural_problems(tmp_path: Path) -> None:
    assert "no 'months:' mapping" in error_of(tmp_path, "currency: CNY\n")
    assert "only the keys currency and months" in error_of(tmp_path, "gmv: 10\n")
    assert "did you mean months?" in error_of(tmp_path, "month:\n  2024-12: {gmv: 1}\n")
    assert "valid YAML" in error_of(tmp_path, "months:\n  2024-12: {gmv: 1\n")
    assert "a .yml, .yaml or .csv file" in error_of(tmp_path, "x", "targets.json")
    with pytest.raises(ContractError, match="no file"):
        read_targets(tmp_path / "nope.yml")


def test_found_beside_a_file_or_inside_a_folder(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    db.write_bytes(b"")
    assert find_targets(str(db)) is None
    t = load_targets("", str(db))
    assert t.table.empty
    assert t.missing.startswith(
        "no shop.targets.yml / shop.targets.yaml / shop.targets.csv beside the data"
    )
    write(tmp_path, YAML)
    # a folder source has targets.yml inside; a DuckDB file its own <name>.targets.yml
    assert find_targets(str(tmp_path)) == tmp_path / "targets.yml"
    assert find_targets(str(db)) is None
    write(tmp_path, YAML, "shop.targets.yml")
    assert find_targets(str(db)) == tmp_path / "shop.targets.yml"
    assert find_targets(str(tmp_path / "cdnow.duckdb")) is None
    assert load_targets("", str(tmp_path)).months == ["2024-12", "2025-01"]
    assert find_targets("postgres://u@h/db") is None
    assert "not a folder or file" in load_targets("", "postgres://u@h/db").missing
    # an explicit path wins over the file beside the data
    other = write(tmp_path, "months:\n  2024-10: {orders: 5}\n", "other.yml")
    assert load_targets(str(other), str(db)).months == ["2024-10"]


def test_the_example_file_is_valid() -> None:
    t = read_targets(EXAMPLE)
    assert t.currency == "CNY"
    assert "2024-12" in t.months
    assert set(t.for_month("2024-12")) >= {
        "gmv",
        "new_customers",
        "cac",
        "repurchase_rate",
        "gross_margin",
    }
