"""The import pipeline: recognise export files, map them in the engine, validate, write."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.data.contract import TABLES
from shopbook.data.sources import ColumnMapping, Source, language, load_mapping, transform
from shopbook.data.sources.files import (
    REJECT_COLUMNS,
    TableFiles,
    header,
    suffix_of,
    table_files,
)
from shopbook.data.sources.opening import _quiet
from shopbook.data.validation import ValidationReport, validate
from shopbook.errors import ContractError

#: The kind of a file with one row per order; when it produces order_items too and another
#: file of the preset gives the lines, its rows that name a SKU are lines.
ORDERS_KIND = "orders"
#: Tables written beside the contract tables: every rejected row with its reason, and
#: the rows rejected before validation (unreadable CSV rows, values not in a value map),
#: with their file, line and text.
REJECTED, UNREADABLE = "_rejected", "_rejected_source"
#: DuckDB's memory limit while importing (it spills to a temporary folder beyond it).
MEMORY_LIMIT = "1GB"


@dataclass
class _Group:
    """The files of one kind and the tables they produce."""

    kind: str
    produces: list[str]
    paths: list[Path] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    #: One row per order, and another file of the preset gives the order lines: only the
    #: rows that name a SKU (orders of one product) are lines.
    per_order: bool = False
    #: The columns of the first file's header.
    header: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """What :func:`import_exports` did.

    Attributes
    ----------
    report
        The :class:`~shopbook.data.validation.ValidationReport` of the imported tables.
    out
        The DuckDB file written, or ``None``.
    files
        ``{file name: kind}`` as recognised.
    lines
        ``{table: rows the export files gave it}`` before rows were combined.
    combined
        ``{table: rows merged into another row}``: repeated order fields of a file of
        order lines (one order row each), repeated lines (``combine_lines: sum``).
    notes
        What the import decided (encodings detected, delimiters sniffed, merged rows…).
    seconds
        Wall-clock seconds per stage: ``read`` (checking, transcoding and reading the
        files), ``map`` (the mapping applied), ``validate``, ``write``.
    """

    report: ValidationReport
    out: Path | None
    files: dict[str, str]
    lines: dict[str, int]
    combined: dict[str, int]
    notes: list[str]
    seconds: dict[str, float] = field(default_factory=dict)

    def to_text(self) -> str:
        """The data-health table, then the notes, for a terminal."""
        lines = [self.report.to_text()]
        lines += [f"note: {n}" for n in self.notes]
        if self.out is not None:
            sizes = ", ".join(f"{t} {h.kept:,}" for t, h in self.report.tables.items())
            rejected = sum(h.rejected for h in self.report.tables.values())
            lines.append(f"wrote {self.out}: {sizes}; {REJECTED} {rejected:,} rows")
        return "\n".join(lines)


def presets() -> pd.DataFrame:
    """The shipped presets: ``name``, ``description`` and the files they expect.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``description``, ``files`` (``kind: col, col, …`` per file,
        ``; ``-separated). A preset that cannot be loaded shows its error as description.
    """
    rows = []
    for name in language.preset_names():
        try:
            maps = load_mapping(None, preset=name)
            files = "; ".join(
                f"{f['kind']} → {', '.join(f['produces'])}: {', '.join(f['match'])}"
                for f in maps.files
            )
            rows.append({"name": name, "description": maps.description, "files": files})
        except ContractError as exc:
            rows.append({"name": name, "description": f"(broken: {exc})", "files": ""})
    return pd.DataFrame(rows, columns=["name", "description", "files"])


def _other_preset(columns: set[str], current: str | None) -> str | None:
    """A shipped preset (other than ``current``) one of whose files has these columns."""
    for name in language.preset_names():
        if name == current:
            continue
        try:
            entries = load_mapping(None, preset=name).files
        except ContractError:
            continue
        if any(set(e["match"]) <= columns for e in entries):
            return name
    return None


def _preset_of(maps: ColumnMapping) -> str | None:
    origin = maps.origin
    if "preset " in origin:
        return origin.split("preset ", 1)[1].rstrip(")").split()[0]
    return None


def recognise(
    paths: Sequence[str | os.PathLike], maps: ColumnMapping, encoding: str | None = None
) -> tuple[list[_Group], list[str]]:
    """Which kind each file is: by the ``files:`` entries of the mapping (the entry whose
    ``match`` columns the header holds; the most specific one wins), else by table name or
    file stem. Returns the groups and notes (encodings detected…).

    Raises
    ------
    ContractError
        One line naming the file for a file that is missing, unreadable, or of another
        platform (naming the preset it looks like, if any).
    """
    groups: dict[str, _Group] = {}
    notes: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise ContractError(
                table="(import)",
                expected="an export file (CSV) to import",
                found=f"no file at {path}",
                fix="check the path",
            )
        if suffix_of(path) in (".parquet", ".pq") or suffix_of(path) is None:
            raise ContractError(
                table="(import)",
                expected="a CSV export (.csv, .csv.gz, .tsv)",
                found=f"{path.name}",
                fix="export the orders as CSV (save an .xlsx export as CSV), or open a "
                "folder of Parquet files with --source",
            )
        per_table = any(spec.get("encoding") for spec in maps.tables.values())
        first = encoding or ("auto" if per_table else maps.encoding)
        columns, enc, delim, found = header(path, first, maps.delimiter)
        entry = _entry_for(path, columns, maps)
        spec = maps.tables.get(entry["produces"][0]) or {}
        own = None if encoding else (spec.get("encoding") or (maps.encoding if per_table else None))
        if own or spec.get("delimiter"):  # the table's own encoding / delimiter
            columns, enc, delim, found = header(
                path, own or first, spec.get("delimiter") or maps.delimiter
            )
        notes += found
        elsewhere = any(
            "order_items" in e["produces"] and "orders" not in e["produces"] for e in maps.files
        )
        per_order = (
            entry["kind"] == ORDERS_KIND
            and {"orders", "order_items"} <= set(entry["produces"])
            and elsewhere
        )
        group = groups.setdefault(
            entry["kind"],
            _Group(
                entry["kind"],
                entry["produces"],
                encoding=enc,
                delimiter=delim,
                per_order=per_order,
                header=columns,
            ),
        )
        group.paths.append(path)
    return list(groups.values()), notes


def _entry_for(path: Path, columns: list[str], maps: ColumnMapping) -> dict[str, Any]:
    have = set(columns)
    if maps.files:
        fits = [e for e in maps.files if set(e["match"]) <= have]
        if fits:
            return max(fits, key=lambda e: len(e["match"]))
        closest = max(maps.files, key=lambda e: len(set(e["match"]) & have))
        missing = [c for c in closest["match"] if c not in have]
        other = _other_preset(have, _preset_of(maps))
        raise ContractError(
            table="(import)",
            expected=f"an export {maps.origin} knows: "
            + "; ".join(f"{e['kind']} (columns {', '.join(e['match'])})" for e in maps.files),
            found=f"{path.name} line 1 has columns {', '.join(columns[:8])}"
            + (", …" if len(columns) > 8 else "")
            + f" — no {', '.join(missing)}"
            + language.nearest(missing[0], columns),
            fix=(
                f"it looks like a {other} export: use --preset {other}"
                if other
                else "pass the platform's order export, or extend the mapping's files: "
                "to match this header"
            ),
        )
    stem = path.name[: -len(suffix_of(path) or "")].lower()
    produces = [
        t
        for t in TABLES
        if stem == (maps.tables.get(t, {}).get("table") or t).lower()
        or (t == stem and not maps.tables.get(t, {}).get("table"))
    ]
    if not produces:
        other = _other_preset(have, None)
        raise ContractError(
            table="(import)",
            expected="a file named after a contract table (orders.csv…) or the `table:` of "
            f"an entry in {maps.origin}",
            found=f"{path.name}",
            fix=(f"it looks like a {other} export: use --preset {other}" if other else "")
            or "rename the file, or give --preset / a mapping with `files:` or `table:`",
        )
    return {"kind": stem, "produces": produces, "match": []}


def _text(t: ir.Table, columns: list[str]) -> ir.Table:
    """Contract columns as text (absent ones NULL), so that parts of a table can be unioned."""
    return t.select(
        *[(t[c].cast("string") if c in t.columns else ibis.null("string")).name(c) for c in columns]
    )


def _setting(con: Any, name: str, value: str) -> bool:
    """``SET name = value``: whether it is set (``False`` if this DuckDB lacks it)."""
    try:
        con.raw_sql(f"SET {name} = '{_quote(value)}'")
    except duckdb.Error:
        return False
    return True


def _read_columns(tables: dict[str, dict[str, Any]], group: _Group) -> list[str] | None:
    """The header columns the mappings of a group's tables read (``None``: all of them,
    for a table without a mapping, or a mapping naming a column the file lacks, whose
    error then lists every column)."""
    used: set[str] = set()
    for t, spec in tables.items():
        if language.is_plain(spec):
            return None
        reads = transform.read_columns(
            spec,
            t,
            group.header,
            transform.siblings(tables, t, group.header),
            spec.get("origin", "the column mapping"),
        )
        if reads is None:
            return None
        used |= set(reads[0])
    return [c for c in group.header if c in used]


def _given(frame: pd.DataFrame) -> Callable[[], pd.DataFrame]:
    """A :class:`Source` loader that returns rows already read."""
    return lambda: frame


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})


def import_exports(
    paths: Iterable[str | os.PathLike],
    preset: str | None = None,
    mapping: Any = None,
    out: str | os.PathLike | None = None,
    encoding: str | None = None,
    strict: bool = False,
    now: dt.datetime | str | None = None,
) -> ImportResult:
    """Import a platform's export files into the contract tables.

    Parameters
    ----------
    paths
        The export files (CSV; any of UTF-8, UTF-8 with BOM, GBK, GB18030).
    preset
        A shipped preset (``shopbook import --list``).
    mapping
        A mapping file or dict (may ``extends:`` a preset, and overrides ``preset``).
    out
        The DuckDB file to write (replaced whole), or ``None`` to only validate.
    encoding
        Overrides the mapping's encodings (``auto`` detects).
    strict, now
        As :func:`shopbook.data.validation.validate`.

    Returns
    -------
    ImportResult

    Raises
    ------
    ContractError
        One line per problem: an unknown preset, a mapping error (nearest matches named),
        a file of another platform, bytes not in the encoding (file and line), a wrong
        delimiter, structural problems of the mapped tables.
    """
    if preset is None and mapping is None:
        raise ContractError(
            table="(import)",
            expected="a preset (--preset NAME) or a mapping file (--mapping FILE)",
            found="neither",
            fix="pass --preset (shopbook import --list shows them) or --mapping",
        )
    maps = load_mapping(mapping, preset=preset)
    if encoding is not None:  # --encoding: over the mapping's, per table too
        encoding = maps.encoding = language.encoding("--encoding", "--encoding", encoding)
    groups, notes = recognise(list(paths), maps, encoding)
    work = tempfile.mkdtemp(prefix="shopbook-import-")
    try:
        result = _import(groups, maps, notes, out, strict, now, work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    # the report's tables live there: the folder goes when the result does
    weakref.finalize(result, shutil.rmtree, work, True)
    return result


def _import(
    groups: list[_Group],
    maps: ColumnMapping,
    notes: list[str],
    out: str | os.PathLike | None,
    strict: bool,
    now: dt.datetime | str | None,
    work: str,
) -> ImportResult:
    # A database in a temporary folder, with a memory limit: the rows read and the mapped
    # tables are temporary tables, which DuckDB spills to that folder when they do not
    # fit, so a multi-million-line export imports in bounded memory. Not tables of the
    # database file: each was written to it (uncompressed, the fastest way) even when it
    # fit in memory, twice the time of a temporary table (5 M lines: the export read in
    # 3.0–3.4 s instead of 1.8 s; the import 22.7 s instead of 19.8 s, medians of 3).
    clock = _Clock()
    con = _quiet(ibis.duckdb.connect(str(Path(work) / "import.duckdb")))
    con.raw_sql(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.raw_sql(f"SET temp_directory = '{_quote(str(Path(work) / 'spill'))}'")
    sources: list[tuple[_Group, Source]] = []
    raw_rows: dict[str, int] = {}
    read: list[tuple[TableFiles, str]] = []
    for i, group in enumerate(groups):
        files = table_files(group.kind, group.paths, Path("."), group.encoding, group.delimiter)
        files.check(con.con)
        view = f"export_{i}"
        tables = {
            t: {**(maps.tables.get(t) or {"columns": {}}), "table": None} for t in group.produces
        }
        unread = files.load(con.con, view, columns=_read_columns(tables, group))
        read.append((files, view))
        raw_rows[group.kind] = int(con.table(view).count().execute())
        src = Source(
            con,
            {t: view for t in group.produces},
            tables,
            uri=", ".join(p.name for p in group.paths),
            loaders=dict.fromkeys(group.produces, _given(unread)),
            timezone=maps.timezone,
        )
        sources.append((group, src))
    clock.lap("read")
    # The rows are read in file order (``__row``, which fill_down orders by); from here on
    # no table's row order means anything (de-duplicated and combined rows come out of
    # hash aggregates in any order), so DuckDB need not keep it: without that, its
    # inserts of millions of rows buffer less and run in parallel.
    _setting(con, "preserve_insertion_order", "false")

    staged, rejects, lines, combined = {}, {}, {}, {}
    repeatable: dict[str, ir.Table] = {}
    for t in TABLES:
        parts = [(g, s) for g, s in sources if s.has(t)]
        if not parts:
            continue
        staged[t], rejects[t], lines[t], combined[t] = _stage(con, t, parts, raw_rows, notes)
        # a table that the files of one kind give, whose mapping knows the keys that may
        # repeat (lines it combined, known once mapped): validation looks among those only
        if len(parts) == 1 and t in parts[0][1].repeatable:
            repeatable[t] = parts[0][1].repeatable[t]
    physical = {}
    for t, expr in staged.items():
        physical[t] = f"staged_{t}"
        con.create_view(physical[t], expr)  # over the mapped tables (materialised once)
    for (group, src), (files, view) in zip(sources, read, strict=True):
        if not any(language.is_plain(src.spec(t)) for t in group.produces):
            # every table of these files is mapped, and so materialised: the rows as
            # read are no longer needed, and their memory is validation's
            files.drop(con.con, view)
    clock.lap("map")
    names = ", ".join(p.name for g in groups for p in g.paths)
    final = _Staged(
        con,
        physical,
        {},
        uri=names,
        loaders={t: _given(rejects[t]) for t in physical},
        timezone=maps.timezone,
    )
    final.repeatable = repeatable
    # a table mapped from every file that gives it has trimmed text (the mapping trims
    # every value): validation does not trim it again
    final.trimmed = frozenset(
        t for t in physical if all(not language.is_plain(s.spec(t)) for _, s in sources if s.has(t))
    )
    report = validate(final, strict=strict, now=now)
    clock.lap("validate")
    written = _write(con, report, final, Path(out)) if out is not None else None
    clock.lap("write")
    kinds = {p.name: g.kind for g in groups for p in g.paths}
    for t, n in combined.items():
        if n:
            how = (
                "one row per order from its lines"
                if t == "orders"
                else "repeated lines of one order and SKU added up (combine_lines: sum)"
            )
            notes.append(f"{t}: {lines[t]:,} rows from the files, {n:,} merged ({how})")
    return ImportResult(report, written, kinds, lines, combined, notes, clock.seconds)


class _Staged(Source):
    """The staged contract tables, validated: ``trimmed`` names those whose text is
    trimmed already, blank as null (validation then reads it as it is)."""

    trimmed: frozenset[str] = frozenset()


class _Clock:
    """Seconds per stage, for :attr:`ImportResult.seconds` (the benchmark prints them)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now


def _stage(
    con: Any,
    t: str,
    parts: list[tuple[_Group, Source]],
    raw_rows: dict[str, int],
    notes: list[str],
) -> tuple[ir.Table, pd.DataFrame, int, int]:
    """One contract table from the files that produce it: the union of their mapped rows,
    their rejects, the rows the files gave and how many were merged."""
    columns = TABLES[t].column_names

    def per_order(g: _Group) -> bool:
        return g.per_order

    parts = sorted(parts, key=lambda p: per_order(p[0]))  # line exports first
    exprs: list[ir.Table] = []
    frames, given, merged = [], 0, 0
    for group, src in parts:
        mapped = src.table(t)
        unread = src.read_rejects(t)
        rows = int(mapped.count().execute())
        given += raw_rows[group.kind] + int((unread["file"] != "").sum())
        lost = raw_rows[group.kind] - rows - len(unread[unread["file"] == ""])
        part = _text(mapped, columns)
        if t == "order_items" and per_order(group):
            # one row per order: the rows that name a SKU are that order's one line
            no_line = part.filter(part.sku.strip().nullif("").isnull())
            n = int(no_line.count().execute())
            if n:
                notes.append(
                    f"order_items: {n:,} rows of {src.uri} name no single SKU (orders of "
                    "several products): their lines come from the order-lines export"
                )
            part = part.filter(part.sku.strip().nullif("").notnull())
            given -= n
            if exprs:
                others = exprs[0] if len(exprs) == 1 else ibis.union(*exprs)
                known = others.select("order_id").distinct()
                before = int(part.count().execute())
                part = part.filter(~part.order_id.isin(known.order_id))
                n = before - int(part.count().execute())
                given -= n
                if n:
                    notes.append(
                        f"order_items: {n:,} lines of {src.uri} also in the "
                        "order-lines export: taken from there"
                    )
        merged += max(lost, 0)
        exprs.append(part)
        frames.append(unread)
    frames = [f for f in frames if len(f)]
    unread_all = pd.concat(frames, ignore_index=True) if frames else _empty_rejects()
    return ibis.union(*exprs) if len(exprs) > 1 else exprs[0], unread_all, given, merged


def _write(con: Any, report: ValidationReport, src: Source, out: Path) -> Path:
    """The kept rows of each table, ``_rejected`` and ``_unreadable`` into ``out``
    (written beside it and moved into place, so a failed import leaves no half file)."""
    out = out.expanduser()
    tmp = out.with_name(f".{out.name}.importing")
    tmp.unlink(missing_ok=True)
    alias = "shopbook_out"
    con.raw_sql(f"ATTACH '{_quote(str(tmp))}' AS {alias}")
    try:
        con.raw_sql(
            f'CREATE TABLE {alias}.main."{REJECTED}" ("table" VARCHAR, reason VARCHAR, '
            "row_json VARCHAR)"
        )
        con.raw_sql(
            f'CREATE TABLE {alias}.main."{UNREADABLE}" ("table" VARCHAR, file VARCHAR, '
            "line BIGINT, reason VARCHAR, raw VARCHAR)"
        )
        for name in report.tables:
            kept = report.kept(name)
            con.raw_sql(f'CREATE TABLE {alias}.main."{name}" AS {ibis.to_sql(kept)}')
            tmp_name = f"__rejects_{name}"
            con.create_table(tmp_name, report.rejects(name), temp=True, overwrite=True)
            con.raw_sql(
                f"INSERT INTO {alias}.main.\"{REJECTED}\" SELECT '{name}', reason, "
                f'CAST(to_json(r) AS VARCHAR) FROM "{tmp_name}" r'
            )
            unread = src.read_rejects(name)
            if len(unread):
                frame = unread.assign(table=name)[["table", *REJECT_COLUMNS]]
                frame["line"] = pd.to_numeric(frame["line"], errors="coerce").astype("Int64")
                con.con.register("__unread", frame)
                con.raw_sql(f'INSERT INTO {alias}.main."{UNREADABLE}" SELECT * FROM __unread')
                con.con.unregister("__unread")
    finally:
        con.raw_sql(f"DETACH {alias}")
    os.replace(tmp, out)
    return out


def _quote(text: str) -> str:
    return text.replace("'", "''")
