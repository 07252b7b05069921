"""One validation per run: the checked tables of a source, saved once and read by every
notebook that validates the same source.

A run of several notebooks (``shopbook run --job all``) validates the same source in each
kernel, and on a small shop most of that time is ibis compiling the rules, not the engine
running them (about 2 CPU s per notebook on the shipped shop). The runner instead
validates each source once (:func:`save`) into a folder it names in :data:`VARIABLE` for
its kernels; :func:`~shopbook.data.validation.validate` there reads the checked rows of
each table from that folder (:func:`find`) instead of checking them again.

What is saved is exactly what checking a table gives: its rows with their reason, the
columns present, its health and its warnings; the report a notebook gets is the one its
own validation would have built (``tests/data/test_shared_validation.py``). A saved check
is used only for the same source, opened with the same mapping, whose files have not
changed since (size and modification time), on DuckDB, with ``now`` left to the default
(the run's: the time the runner validated); otherwise the table is checked as always.
The folder lives as long as the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis.expr.types as ir

from shopbook.data.contract import TABLES
from shopbook.data.sources import Source
from shopbook.data.validation.report import TableHealth, ValidationReport, _Checked

#: The folder of saved checks, set by the runner for its kernels only.
VARIABLE = "SHOPBOOK_CHECKED"

_FORMAT = 1  # bumped when what is saved changes


@dataclass(frozen=True)
class SavedTable:
    """One checked table as saved: its rows (in the notebook's engine), columns, health
    and the warnings checking it gave."""

    checked: _Checked
    health: TableHealth
    warnings: list[str]


@dataclass(frozen=True)
class Saved:
    """The saved checks of one source: per table, and the line-total warnings per
    ``(table, lines table, column)``."""

    now: dt.datetime
    tables: dict[str, SavedTable]
    line_warnings: dict[tuple[str, str, str], list[str]]


def _key(src: Source) -> str | None:
    """Which source and mapping, and the state of its files; ``None``: not shareable."""
    if src.backend != "duckdb" or not src.uri or not Path(src.uri).exists():
        return None
    path = Path(src.uri).resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamp = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    text = json.dumps([_FORMAT, str(path), stamp, src.identity()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def save(report: ValidationReport, directory: str | os.PathLike[str]) -> bool:
    """Save the checked tables of ``report`` into ``directory`` for :func:`find`.

    Parameters
    ----------
    report
        A report of :func:`~shopbook.data.validation.validate` with ``now`` left to the
        default, on a DuckDB source (a file or a folder).
    directory
        An existing folder, private to the run.

    Returns
    -------
    bool
        Whether it was saved (``False`` for a source that cannot be shared).
    """
    src = report.source
    key = _key(src)
    if key is None:
        return False
    folder = Path(directory) / key
    folder.mkdir()
    for name, chk in report._checked.items():  # the engine writes them (Parquet)
        target = _quoted(folder / f"{name}.parquet")
        src.con.raw_sql(f"COPY ({src.con.compile(chk.rows)}) TO '{target}' (FORMAT parquet)")
    meta = {
        "now": report.now.isoformat(),
        "tables": {
            name: {
                "present": chk.present,
                "raw_kept": chk.raw_kept,
                "health": _health_json(report.tables[name]),
                "warnings": report.table_warnings.get(name, []),
            }
            for name, chk in report._checked.items()
        },
        "line_warnings": [[*which, w] for which, w in report.line_warnings.items()],
    }
    # written last, under its final name at once: a reader sees all of it or nothing
    partial = folder.with_suffix(".partial")
    partial.write_text(json.dumps(meta), encoding="utf-8")
    partial.replace(folder.with_suffix(".json"))
    return True


def find(src: Source, names: Iterable[str], now: Any = None) -> Saved | None:
    """The saved checks of tables ``names`` of ``src`` in the folder :data:`VARIABLE`
    names, read by its engine (from Parquet files the run wrote);
    ``None`` when there are none (no folder, another source or mapping, changed files, an
    explicit ``now``)."""
    folder = os.environ.get(VARIABLE)
    if not folder or now is not None:
        return None
    key = _key(src)
    if key is None or not (Path(folder) / f"{key}.json").is_file():
        return None
    meta = json.loads((Path(folder) / f"{key}.json").read_text(encoding="utf-8"))
    tables = {}
    for name in names:
        saved = meta["tables"].get(name)
        if saved is None:
            continue
        path = Path(folder) / key / f"{name}.parquet"
        rows: ir.Table = src.con.read_parquet(path)  # a view: each query reads its columns
        chk = _Checked(TABLES[name], saved["present"], saved["raw_kept"], rows)
        tables[name] = SavedTable(chk, _health(name, saved["health"]), saved["warnings"])
    lines = {(t, lt, c): w for t, lt, c, w in meta["line_warnings"]}
    return Saved(dt.datetime.fromisoformat(meta["now"]), tables, lines)


def _quoted(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")


def _health_json(h: TableHealth) -> dict[str, Any]:
    return {"read": h.read, "kept": h.kept, "rejected": h.rejected, "reasons": h.reasons}


def _health(name: str, saved: Mapping[str, Any]) -> TableHealth:
    reasons = {str(r): int(n) for r, n in saved["reasons"].items()}
    return TableHealth(name, saved["read"], saved["kept"], saved["rejected"], reasons)
