"""Files with real customer ids (CRM lists) never land in the shared reports folder (issue 13, 5).

``export_segments`` refuses an ``output_dir`` inside ``config.reports_dir()``; the runner
gives a notebook that declares ``output_dir`` a folder in ``config.private_dir()``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from shopbook import config
from shopbook.analysis.rfm.export import SharedFolderError, check_private, export_segments
from tests.builders import write_notebook

REAL_IDS = [f"alice-{i:04d}" for i in range(7)]


def _rfm() -> pd.DataFrame:
    segments = ["Champions"] * 3 + ["Loyal"] * 2 + ["Hibernating"] * 2
    return pd.DataFrame({"customer_id": REAL_IDS, "segment": segments})


def _files_holding(folder, needle: str) -> list[str]:
    return [
        str(p)
        for p in folder.rglob("*")
        if p.is_file() and needle in p.read_bytes().decode("utf-8", errors="replace")
    ]


@pytest.fixture
def folders(tmp_path, monkeypatch):
    reports, private = tmp_path / "reports", tmp_path / "private"
    monkeypatch.setenv("SHOPBOOK_REPORTS", str(reports))
    monkeypatch.setenv("SHOPBOOK_PRIVATE", str(private))
    reports.mkdir()
    return reports, private


@pytest.mark.parametrize(
    "inside",
    [
        "{reports}",
        "{reports}/weekly/20260101T000000Z/04_rfm_segments_files",
        "{reports}/.tmp/weekly-x/04_rfm_segments_files",
        "{private}/../reports/crm",  # .. does not get around the check
    ],
)
def test_crm_lists_are_refused_inside_the_reports_folder(folders, inside):
    reports, private = folders
    out = inside.format(reports=reports, private=private)
    with pytest.raises(SharedFolderError, match="inside the reports folder") as exc:
        export_segments(_rfm(), out, excel=True)
    assert "\n" not in str(exc.value) and "real customer ids" in str(exc.value)
    assert not [p for p in reports.rglob("*") if p.is_file()]  # nothing written


def test_a_symlink_into_the_reports_folder_is_refused(folders, tmp_path):
    reports, _ = folders
    link = tmp_path / "innocent"
    link.symlink_to(reports, target_is_directory=True)
    with pytest.raises(SharedFolderError):
        export_segments(_rfm(), link / "crm")
    assert not _files_holding(reports, "alice-")


def test_crm_lists_go_to_the_private_folder(folders):
    reports, private = folders
    assert config.private_dir() == private
    out = check_private(private / "adhoc" / "run")
    manifest = export_segments(_rfm(), out)
    written = sorted(out.glob("*.csv"))
    ids = pd.concat(pd.read_csv(p, dtype=str)["customer_id"] for p in written)
    assert sorted(ids) == REAL_IDS  # every customer once, counted from the files
    assert int(manifest["customers"].sum()) == len(REAL_IDS)
    assert not _files_holding(reports, "alice-")


def test_the_default_private_folder_is_git_ignored_at_the_project_root(monkeypatch, tmp_path):
    monkeypatch.delenv("SHOPBOOK_PRIVATE", raising=False)
    monkeypatch.delenv("SHOPBOOK_HOME", raising=False)
    root = config.home().resolve()
    while not (root / "pyproject.toml").exists():
        root = root.parent
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # JupyterLab's working directory
    assert config.private_dir() == tmp_path / "private"
    lines = (root / ".gitignore").read_text().splitlines()
    assert "/private/" in lines


def test_a_run_writes_crm_lists_outside_its_reports(folders, tmp_path):
    """A notebook that declares ``output_dir`` and exports: the real ids stay private."""

    from shopbook.report.execute import Progress
    from shopbook.report.plan import plan
    from shopbook.report.runs import run

    reports, private = folders
    source = tmp_path / "customers.csv"  # the ids come from the data, not the code
    _rfm().to_csv(source, index=False)
    path = write_notebook(
        tmp_path / "51_crm.ipynb",
        'output_dir: str = ""  # folder for the CRM files',
        (
            "import pandas as pd\n"
            "from shopbook.analysis.rfm.export import export_segments\n"
            f"rfm = pd.read_csv({str(source)!r}, dtype=str)\n"
            "manifest = export_segments(rfm, output_dir)\n"
            "print(int(manifest['customers'].sum()))"
        ),
    )

    _, tasks = plan([str(path)])
    result = run(tasks, job="crm", out=reports, progress=Progress(quiet=True), handle_signals=False)
    assert result.status == "ok"
    assert not _files_holding(reports, "alice-"), "a real id in the shared reports folder"
    lists = [p for p in private.rglob("*.csv") if "alice-0003" in p.read_text(encoding="utf-8-sig")]
    assert len(lists) == 1

    _, tasks = plan([str(path)], params={"output_dir": str(reports / "crm" / "mine")})
    refused = run(
        tasks, job="crm", out=reports, progress=Progress(quiet=True), handle_signals=False
    )
    assert refused.status == "failed"
    assert "inside the reports folder" in json.dumps(refused.summary)
    assert not _files_holding(reports, "alice-")
