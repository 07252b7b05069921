"""CRM lists: one file of real customer ids per segment, and an optional Excel workbook.

The lists are personal data: they are written only where someone asked for them, and never
into the reports folder, which is shared (``config.reports_dir()``). The runner gives a
notebook a folder in ``config.private_dir()`` (``private/`` or ``SHOPBOOK_PRIVATE``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopbook import config
from shopbook.analysis.rfm._common import names
from shopbook.analysis.rfm.rules import load_rules, rule_table

#: Columns written to CRM files, in order (those present in the RFM table).
EXPORT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "segment",
    "layer",
    "action",
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "fm_score",
    "last_order",
)
#: Excel's row limit per sheet, header included.
EXCEL_MAX_ROWS = 1_048_576


class SharedFolderError(ValueError):
    """A folder for files with real customer ids lies inside the shared reports folder."""


def check_private(out_dir: str | os.PathLike) -> Path:
    """``out_dir`` as a path, refused when it lies inside the reports folder.

    Raises
    ------
    SharedFolderError
        When ``out_dir`` is (inside) ``config.reports_dir()``: everything there is
        published with the reports.
    """
    out = Path(out_dir).expanduser()
    reports = config.reports_dir()
    if out.resolve().is_relative_to(reports.expanduser().resolve()):
        raise SharedFolderError(
            f"output_dir {str(out_dir)!r} lies inside the reports folder {str(reports)!r}, "
            "which is shared: CRM lists hold real customer ids; give a folder outside it, "
            f"e.g. {_private_hint()} (SHOPBOOK_PRIVATE), or leave output_dir empty"
        )
    return out


def _private_hint() -> str:
    private = config.private_dir().absolute()
    return os.path.relpath(private) if private.is_relative_to(Path.cwd()) else str(private)


def slug(name: str) -> str:
    """A file-name-safe lower-case form of a segment name.

    ``Can't Lose Them`` becomes ``cant_lose_them``.
    """
    text = re.sub(r"['’]", "", str(name).lower())
    text = re.sub(r"[^0-9a-z]+", "_", text).strip("_")
    return text or "segment"


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\\/?*\[\]:]", " ", str(name)).strip("' ")[:31] or "segment"
    out, i = base, 2
    while out.lower() in used:
        suffix = f" ({i})"
        out, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(out.lower())
    return out


def _export_frame(rfm: pd.DataFrame, by: str, actions: pd.Series) -> pd.DataFrame:
    """The rows and columns of the CRM files, as text where a CRM expects text."""
    data = rfm.copy()
    data["action"] = data[by].astype(str).map(actions)
    cols = [c for c in EXPORT_COLUMNS if c in data.columns]
    if by not in cols:
        cols.insert(1, by)
    data = data[cols].sort_values(["customer_id"], kind="stable")
    data["customer_id"] = data["customer_id"].astype(str)
    for c in ("segment", "layer"):
        if c in data.columns:
            data[c] = data[c].astype(str)
    if "last_order" in data.columns:
        data["last_order"] = pd.to_datetime(data["last_order"]).dt.strftime("%Y-%m-%d")
    return data


def export_segments(
    rfm: pd.DataFrame,
    out_dir: str | os.PathLike | None,
    *,
    excel: bool = False,
    by: str = "segment",
    rules: pd.DataFrame | None = None,
    prefix: str = "rfm",
) -> pd.DataFrame:
    """Write one customer list per segment for the CRM, with the real customer ids.

    Files are written to ``out_dir`` — never into the reports folder, which is shared:
    ``{prefix}_{segment}.csv`` for every segment of the scheme (an empty segment gets a
    file with the header only, so an automated import sees the same files every run),
    UTF-8 with a byte-order mark so that Excel reads non-ASCII names; with ``excel``
    also ``{prefix}_{by}s.xlsx`` with a summary sheet and one sheet per segment.
    Every id and text cell in the workbook is stored as text (a value starting with
    ``=`` is not turned into a formula). Each file is written to a temporary name and
    moved into place.

    Parameters
    ----------
    rfm
        :func:`~shopbook.analysis.rfm.rfm_table` output (needs ``customer_id`` and
        ``by``; the other columns of :data:`EXPORT_COLUMNS` are written when present).
    out_dir
        The folder to write into (created if missing), outside ``config.reports_dir()``
        (:func:`check_private`); the runner passes one in ``config.private_dir()``.
        ``None`` or ``""`` writes nothing and returns the manifest of what would be
        written: customer lists are personal data and are only written where someone
        asked for them.
    excel
        Also write the Excel workbook (needs ``openpyxl``).
    by
        ``"segment"`` or ``"layer"``.
    rules
        The rules used (for the action column); default the shipped file.
    prefix
        File name prefix.

    Returns
    -------
    pandas.DataFrame
        The manifest: ``{by}, customers, file, written`` (and ``sheet``, ``workbook``
        with ``excel``) — file names only, no customer ids, safe to show in a report.

    Raises
    ------
    SharedFolderError
        When ``out_dir`` lies inside the reports folder; nothing is written.
    """
    rules = load_rules() if rules is None else load_rules(rules)
    scheme = "segment" if by == "segment" else "layer"
    out = check_private(out_dir) if out_dir else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    data = _export_frame(rfm, by, rule_table(rules, scheme).set_index("name")["action"])
    rows, parts = [], {}
    for name in names(rules, scheme):
        part = data[data[by] == name]
        parts[name] = part
        fname = f"{prefix}_{slug(name)}.csv"
        if out is not None:
            tmp = out / (fname + ".tmp")
            part.to_csv(tmp, index=False, encoding="utf-8-sig")
            os.replace(tmp, out / fname)
        rows.append({by: name, "customers": len(part), "file": fname})
    manifest = pd.DataFrame(rows)
    manifest["written"] = out is not None
    if excel and out is not None:
        manifest["sheet"] = _write_excel(parts, manifest, out / f"{prefix}_{by}s.xlsx", by)
        manifest["workbook"] = f"{prefix}_{by}s.xlsx"
    return manifest


def written_files(manifest: pd.DataFrame) -> int:
    """How many files an :func:`export_segments` call wrote (CSV files and the workbook).

    0 when nothing was written (no output folder).
    """
    if manifest.empty or not manifest["written"].any():
        return 0
    return len(manifest) + (1 if "workbook" in manifest.columns else 0)


def _cells(ws: Any, row: tuple[Any, ...]) -> list[Any]:
    """One worksheet row: text as text cells (never a formula), numpy scalars as Python."""
    from openpyxl.cell import WriteOnlyCell

    cells: list[Any] = []
    for v in row:
        if isinstance(v, str):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        elif v is None or (isinstance(v, float) and np.isnan(v)):
            cells.append(None)
        elif isinstance(v, np.generic):
            cells.append(v.item())
        else:
            cells.append(v)
    return cells


def _write_sheet(ws: Any, frame: pd.DataFrame) -> None:
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append(_cells(ws, tuple(row)))


def _write_excel(
    parts: dict[str, pd.DataFrame], manifest: pd.DataFrame, path: Path, by: str
) -> list[str]:
    try:
        from openpyxl import Workbook
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise ImportError("Excel export needs openpyxl: pip install openpyxl") from exc
    too_big = [n for n, p in parts.items() if len(p) >= EXCEL_MAX_ROWS]
    if too_big:
        raise ValueError(
            f"segment {too_big[0]!r} has {len(parts[too_big[0]]):,} customers, more "
            f"than an Excel sheet holds ({EXCEL_MAX_ROWS - 1:,}); use the CSV files"
        )
    wb = Workbook(write_only=True)
    used: set[str] = {"summary"}
    _write_sheet(wb.create_sheet("Summary"), manifest[[by, "customers", "file"]])
    sheets = []
    for name, part in parts.items():
        sheet = _sheet_name(name, used)
        _write_sheet(wb.create_sheet(sheet), part)
        sheets.append(sheet)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    os.replace(tmp, path)
    return sheets


__all__ = [
    "EXCEL_MAX_ROWS",
    "EXPORT_COLUMNS",
    "SharedFolderError",
    "check_private",
    "export_segments",
    "slug",
    "written_files",
]
