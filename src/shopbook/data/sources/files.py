"""Folder sources: every file of a table read as one table, and the CSV rows DuckDB
cannot split into fields kept aside with their line numbers.

A table's files are ``<table>.<suffix>`` in the folder (any case: ``orders.csv``,
``Orders.CSV``, ``orders.parquet``, ``orders.csv.gz`` are all ``orders``) and every file
under a sub-folder ``<table>/`` (any mix of Parquet, CSV and gzipped CSV; names starting
with ``.`` or ``_``, such as Spark's ``_SUCCESS``, are skipped). All of them are read, as
one table, their columns matched by name; files whose columns differ are a
:class:`~shopbook.errors.ContractError` naming both. A file named after a table that is
not in a readable format is an error too: no file is silently left out.

CSV is read as text (the validator types the values), in UTF-8 unless the mapping names
another encoding: GBK and GB18030 files are transcoded to a temporary UTF-8 copy in
chunks (:func:`transcode`), ``auto`` detects the encoding by trial decoding
(:func:`detect_encoding`); the delimiter is the mapping's, else the suffix's, else sniffed
from the header. A row DuckDB cannot read — too many
or too few fields, bytes that are not UTF-8, a broken quote — is left out of the table and
returned by ``Source.read_rejects`` with its file, line and a reason, so that validation
counts it as rejected (``read == kept + rejected``). A file where more than half the rows
are unreadable is a wrong file, not a file with a few bad rows: an error.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import shutil
import tempfile
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from shopbook import transcoding
from shopbook.errors import ContractError

_PARQUET = (".parquet", ".pq")
#: CSV-like suffixes and their field delimiter.
_DELIMITERS = {".csv": ",", ".csv.gz": ",", ".tsv": "\t", ".tsv.gz": "\t"}
SUFFIXES = (*_PARQUET, *_DELIMITERS)
#: Share of a CSV file's rows that may be unreadable before the file is the problem.
MALFORMED_SHARE = 0.5
#: Columns of the unreadable rows (:meth:`shopbook.data.sources.Source.read_rejects`).
REJECT_COLUMNS = ["file", "line", "reason", "raw"]
#: The fix named when a text file is not in the encoding it was read as.
ENCODING_FIX = (
    "save it as UTF-8, or name its encoding (`encoding: gb18030` in the mapping, or "
    "--encoding gb18030; `auto` detects it)"
)
_HEAD_BYTES = 1 << 16
#: Bytes transcoded at a time (a file is never read into memory whole).
_CHUNK = transcoding.CHUNK
#: Delimiters a header is sniffed for.
_SNIFFED = (",", "\t", ";", "|")
#: The column numbering a CSV table's rows in file order (``fill_down`` needs it).
ROW = "__row"
_LABEL = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with BOM)", "gbk": "GBK", "gb18030": "GB18030"}


def detect_encoding(head: bytes) -> str | None:
    """The encoding of the first bytes of a file by trial decoding: ``utf-8-sig`` (a BOM),
    ``utf-8``, ``gb18030`` (a superset of GBK and GB2312), or ``None``.

    Hand-written (a few lines) rather than a detector library: the candidates are the
    four the mapping language names, and strict decoding tells them apart.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)("strict").decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _looks_like(head: bytes) -> str:
    found = detect_encoding(head)
    if found in ("gb18030", "gbk"):
        return (
            "looks like GB18030 (GBK): add `encoding: gb18030` to the mapping (or `encoding: auto`)"
        )
    if found is not None:
        return f"looks like {_LABEL[found]}: write `encoding: {found}` (or `encoding: auto`)"
    return ENCODING_FIX


def suffix_of(path: Path) -> str | None:
    """The readable suffix of a file name (lower case), or ``None``."""
    low = path.name.lower()
    for suf in sorted(SUFFIXES, key=len, reverse=True):
        if low.endswith(suf) and len(low) > len(suf):
            return suf
    return None


def _skipped(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def _unreadable(name: str, path: Path, folder: Path) -> ContractError:
    return ContractError(
        table=name,
        expected="Parquet (.parquet), CSV (.csv, .csv.gz) or TSV (.tsv) files for the table",
        found=f"{_rel(path, folder)}, which is none of these",
        fix="convert it to Parquet or CSV, or move it out of the source folder",
    )


def find_tables(folder: Path, known: set[str]) -> dict[str, list[Path]]:
    """``{table name (lower case): its files}`` in a source folder.

    Parameters
    ----------
    folder
        The source folder.
    known
        Lower-case table names a file may be meant for (contract and mapped names): a
        file so named in a format that cannot be read is an error, not ignored.
    """
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.iterdir()):
        if _skipped(path):
            continue
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
            readable = [p for p in files if suffix_of(p)]
            if readable or path.name.lower() in known:
                for p in files:
                    if not suffix_of(p):
                        raise _unreadable(path.name, p, folder)
                if not readable:
                    raise ContractError(
                        table=path.name,
                        expected=f"Parquet or CSV files in the table folder {path.name}/",
                        found="no files",
                        fix=f"put the {path.name} files there, or remove the folder",
                    )
                found[path.name.lower()].extend(readable)
            continue
        suf = suffix_of(path)
        if suf:
            found[path.name[: -len(suf)].lower()].append(path)
        elif path.name.split(".")[0].lower() in known and "." in path.name:
            if path.suffix.lower() not in (".yml", ".yaml", ".md"):  # notes, not data
                raise _unreadable(path.name.split(".")[0], path, folder)
    return dict(found)


def _hidden(path: Path, top: Path) -> bool:
    return any(_skipped(Path(part)) for part in path.relative_to(top).parts)


def _rel(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return path.name


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _files(paths: list[Path]) -> str:
    return "[" + ", ".join(_lit(str(p)) for p in paths) + "]"


def _csv_call(path: Path, delim: str, extra: str = "") -> str:
    """``read_csv`` of one file as text (gzip by its suffix, in any case: ``.CSV.GZ``)."""
    gz = ", compression='gzip'" if path.name.lower().endswith(".gz") else ""
    return (
        f"read_csv({_lit(str(path))}, all_varchar=true, header=true, delim={_lit(delim)}"
        f"{gz}{extra})"
    )


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split())
    return text[:200] + ("…" if len(text) > 200 else "")


def _head(path: Path, name: str, folder: Path) -> bytes:
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head: bytes = f.read(_HEAD_BYTES)
    except (OSError, EOFError) as exc:
        raise ContractError(
            table=name,
            expected="a readable (gzip-compressed) CSV file",
            found=f"{_rel(path, folder)}: {_first_line(exc)}",
            fix="re-export or re-compress the file, or move it out of the source folder",
        ) from None
    if not head.strip():
        raise ContractError(
            table=name,
            expected="a CSV file with a header row naming its columns",
            found=f"{_rel(path, folder)} is empty",
            fix="write the header row (and the rows), or remove the empty file",
        )
    return head


def _check_text(
    path: Path,
    name: str,
    folder: Path,
    delim: str,
    encoding: str | None = None,
    given: bool = False,
) -> tuple[str, str, list[str], list[str]]:
    """A CSV file must hold a header row of text in its encoding naming each column once.

    Returns the encoding to read it with (``auto`` resolved), the delimiter (the given
    one, or the one the header is split by: sniffed among , tab ; |), notes on what
    was detected and the header's columns.
    """
    head = _head(path, name, folder)
    rel, notes = _rel(path, folder), []
    if encoding == "auto":
        found = detect_encoding(head)
        if found is None:
            raise ContractError(
                table=name,
                expected="a CSV file in UTF-8, GBK or GB18030 (encoding: auto)",
                found=f"{rel}: line 1 decodes in none of them",
                fix="re-export the file as UTF-8 or GB18030, or name its encoding in the mapping",
            )
        notes.append(f"{rel}: encoding auto → {found}")
        encoding = found
    header = head.split(b"\n", 1)[0]
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head
    if utf16:
        raise ContractError(
            table=name,
            expected="a CSV file in UTF-8, GBK or GB18030",
            found=f"{rel} is UTF-16 (or binary) text, not UTF-8",
            fix="save it as UTF-8 or GB18030 (then name it: --encoding gb18030), or convert "
            "it to Parquet",
        )
    want = encoding or "utf-8"
    try:
        text = codecs.getincrementaldecoder("utf-8-sig" if want == "utf-8" else want)(
            "strict"
        ).decode(header, final=False)
    except UnicodeDecodeError:
        raise ContractError(
            table=name,
            expected=f"{_LABEL.get(want, want)} text"
            + (" (the mapping's encoding)" if encoding else " (the default encoding)"),
            found=f"{rel} line 1 holds bytes that are not {_LABEL.get(want, want)}",
            fix=_looks_like(head),
        ) from None
    text = text.rstrip("\r")
    delim, note = _delimiter(text, delim, rel, name, given=given)
    notes += note
    _distinct_header(text, delim, rel, name)
    return want, delim, notes, [f.strip() for f in _fields(text, delim)]


def header(
    path: Path, encoding: str | None = None, delimiter: str | None = None
) -> tuple[list[str], str, str, list[str]]:
    """The columns of a CSV file's header, with the encoding and delimiter it is read
    with (``auto`` resolved, the delimiter sniffed unless given) and notes saying so.

    Raises
    ------
    ContractError
        One line naming the file and line when the header cannot be read.
    """
    suf = suffix_of(path) or ".csv"
    delim = delimiter or _DELIMITERS.get(suf, ",")
    name = path.name[: -len(suf)] if suffix_of(path) else path.stem
    encoding, delim, notes, columns = _check_text(
        path, name, path.parent, delim, encoding, delimiter is not None
    )
    return columns, encoding, delim, notes


def _fields(header: str, delim: str) -> list[str]:
    return next(csv.reader([header], delimiter=delim), [])


def _delimiter(header: str, delim: str, rel: str, name: str, given: bool) -> tuple[str, list[str]]:
    """The delimiter: ``delim`` when it splits the header, else the candidate that does.

    ``given`` (the mapping names the delimiter): a header it does not split while
    another candidate does is a wrong delimiter, an error.
    """
    if len(_fields(header, delim)) > 1:
        return delim, []
    better = max(_SNIFFED, key=lambda d: len(_fields(header, d)))
    if len(_fields(header, better)) <= 1:
        return delim, []
    shown = {"\t": "\\t"}.get(better, better)
    if given:
        raise ContractError(
            table=name,
            expected=f"a header split into columns by the delimiter {delim!r}",
            found=f"{rel} line 1 is one column with {delim!r} but "
            f"{len(_fields(header, better))} with {better!r}",
            fix=f'write `delimiter: "{shown}"` in the mapping',
        )
    return better, [f"{rel}: delimiter sniffed → {shown!r}"]


def _distinct_header(header: str, delim: str, rel: str, name: str) -> None:
    """Two columns with one name (any case): DuckDB would rename the second one."""
    fields = next(csv.reader([header], delimiter=delim), [])
    seen: dict[str, int] = {}
    for position, column in enumerate(fields, start=1):
        key = column.strip().lower()
        if key in seen:
            raise ContractError(
                table=name,
                column=column.strip(),
                expected="each column named once in the header",
                found=f"{rel} names {column.strip()!r} in columns {seen[key]} and {position}",
                fix="rename or remove one of the two columns",
            )
        seen[key] = position


def _columns(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in con.execute(f"DESCRIBE {sql}").fetchall()]


def _file_columns(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, folder: Path, delim: str = ","
) -> list[tuple[str, str]]:
    """The columns of one file (name, DuckDB type), or a one-line error naming it.

    ``path`` is the file DuckDB reads (a CSV file already checked, or transcoded).
    """
    suf = suffix_of(path) or ""
    if suf in _PARQUET:
        sql = f"SELECT * FROM read_parquet({_lit(str(path))})"
        what, fix = "a readable Parquet file", "write the file again (it is empty or cut short)"
    else:
        sql = f"SELECT * FROM {_csv_call(path, delim, ', ignore_errors=true')}"
        what, fix = "a readable CSV file", "check its delimiter and quoting, or " + ENCODING_FIX
    try:
        return _columns(con, sql)
    except duckdb.Error as exc:
        raise ContractError(
            table=name, expected=what, found=f"{_rel(path, folder)}: {_first_line(exc)}", fix=fix
        ) from None


def transcode(src: Path, dst: Path, encoding: str, name: str, rel: str) -> None:
    """Copy the text file ``src`` (``encoding``, maybe gzipped) to ``dst`` as UTF-8.

    Streamed in chunks of :data:`_CHUNK` bytes (DuckDB reads only UTF-8 without
    extensions); bytes that are not ``encoding`` are a one-line error naming the line.
    A large file that is not gzipped is transcoded on every core
    (:func:`shopbook.transcoding.parallel`); if that fails, it is done again here, on one
    core, which finds the line to name.

    DuckDB's own ``encodings`` extension (``read_csv(…, encoding='gb18030')``, from the
    ``duckdb-extension-encodings`` package) is not used: it is 350 MB, must match the
    DuckDB version exactly, and its 1.5.5 release misread a four-byte GB18030 character
    (``¥``) in the 5 M-line benchmark export (line 321,577) and then refused the file.
    """
    gz = src.name.lower().endswith(".gz")
    if not gz and encoding in transcoding.SPLITTABLE:
        parts = transcoding.ranges(src)
        if len(parts) > 1 and transcoding.parallel(src, dst, encoding, parts):
            return
    opener: Any = gzip.open if gz else open
    with opener(src, "rb") as f, open(dst, "wb") as out:
        try:
            transcoding.copy(f, out, encoding, chunk=_CHUNK)
        except transcoding.BadBytes as bad:
            exc, chunk = bad.error, bad.chunk
            line = bad.lines + chunk[: max(exc.start, 0)].count(b"\n") + 1
            label = _LABEL.get(encoding, encoding)
            raise ContractError(
                table=name,
                expected=f"{label} text (the mapping's encoding: {encoding})",
                found=f"{rel} line {line} holds bytes that are not {label} "
                f"({exc.object[exc.start : exc.start + 4]!r})",
                fix=_looks_like(chunk)
                if detect_encoding(chunk) not in (encoding, None)
                else "re-export the file (it is cut or mixes encodings), or set the "
                "encoding it was saved in",
            ) from None


def _same_columns(name: str, columns: dict[Path, list[tuple[str, str]]], folder: Path) -> None:
    """Every file of a table holds the same columns (by name, any case)."""
    first, *others = columns
    want = {c.lower() for c, _ in columns[first]}
    for other in others:
        have = {c.lower() for c, _ in columns[other]}
        if have != want:
            only_first = ", ".join(sorted(want - have)) or "(none)"
            only_other = ", ".join(sorted(have - want)) or "(none)"
            raise ContractError(
                table=name,
                expected=f"the same columns in every file of {name}",
                found=f"{_rel(first, folder)} and {_rel(other, folder)} differ: only in "
                f"{_rel(first, folder)}: {only_first}; only in {_rel(other, folder)}: "
                f"{only_other}",
                fix=f"give every file of {name} the same header, or move the odd file "
                "out of the source folder",
            )


def _as_text(name: str, dtype: str) -> str:
    """A Parquet column as text when a table mixes Parquet and CSV (aware → naive UTC)."""
    col = _ident(name)
    if dtype.upper().startswith("TIMESTAMP WITH TIME ZONE"):
        col = f"timezone('UTC', {col})"
    return f"CAST({col} AS VARCHAR) AS {_ident(name)}"


@dataclass
class TableFiles:
    """The files of one folder table and how DuckDB reads them."""

    name: str
    folder: Path
    parquet: list[Path]
    csv: dict[str, list[Path]]  # delimiter → files
    encoding: str | None = None  # None: UTF-8 read by DuckDB; auto: detected per file
    delimiter: str | None = None  # None: by suffix, else sniffed
    notes: list[str] = field(default_factory=list)
    _read: dict[Path, tuple[Path, str]] = field(default_factory=dict)  # file → (read, delim)
    _tmp: str | None = None

    @property
    def paths(self) -> list[Path]:
        """Every file of the table, Parquet first."""
        return [*self.parquet, *(p for ps in self.csv.values() for p in ps)]

    def check(self, con: duckdb.DuckDBPyConnection) -> None:
        """Each file is readable and all hold the same columns (errors name the files).

        A CSV file in another encoding than UTF-8 is transcoded to a temporary UTF-8 copy
        here (streamed), which :meth:`load` reads and then deletes.
        """
        columns = {}
        for path in self.paths:
            read, delim = path, ","
            if path not in self.parquet:
                suf = suffix_of(path) or ".csv"
                delim = self.delimiter or _DELIMITERS[suf]
                encoding, delim, notes, _ = _check_text(
                    path, self.name, self.folder, delim, self.encoding, self.delimiter is not None
                )
                self.notes += notes
                if encoding not in ("utf-8", "utf-8-sig"):
                    if self._tmp is None:
                        self._tmp = tempfile.mkdtemp(prefix="shopbook-utf8-")
                        weakref.finalize(self, shutil.rmtree, self._tmp, True)
                    read = Path(self._tmp) / f"{len(self._read)}.csv"
                    transcode(path, read, encoding, self.name, _rel(path, self.folder))
                self._read[path] = (read, delim)
            columns[path] = _file_columns(con, read, self.name, self.folder, delim)
        _same_columns(self.name, columns, self.folder)

    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        view: str,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Create the view ``view`` over every file; return the CSV rows DuckDB could not read.

        CSV rows are read once, every column of every row, into a temporary table (so
        that which rows are dropped cannot depend on which columns a query reads); the
        unreadable ones come from DuckDB's reject tables, with their file and line.

        ``columns``: only these CSV columns are kept (the import's mapping reads no
        others; an export has dozens). Every row is still read whole: a row with too many
        or too few fields is unreadable whichever columns are kept, and bytes that are
        not UTF-8 are found in the columns kept (a transcoded copy has none).
        """
        parts, frames = [], []
        if self.parquet:
            source = f"read_parquet({_files(self.parquet)}, union_by_name=true)"
            if self.csv:
                typed = _columns(con, f"SELECT * FROM {source}")
                parts.append(f"SELECT {', '.join(_as_text(c, t) for c, t in typed)} FROM {source}")
            else:
                parts.append(f"SELECT * FROM {source}")
        if self.csv:
            table = _ident(view + "__csv")
            single = len(self.paths) == 1
            for i, (path, delim) in enumerate((p, d) for d, ps in self.csv.items() for p in ps):
                into = (
                    f"CREATE OR REPLACE TEMP TABLE {table} AS"
                    if i == 0
                    else f"INSERT INTO {table} BY NAME"
                )
                read, delim = self._read.get(path, (path, delim))
                frames.append(_read_csv_into(con, into, path, delim, self, single, read, columns))
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
            # rowid: the order rows were inserted in, i.e. file order (fill_down uses it)
            parts.append(f"SELECT rowid AS {ROW}, * FROM {table}")
        select = " UNION ALL BY NAME ".join(parts)
        try:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {_ident(view)} AS {select}")
        except duckdb.Error as exc:
            raise ContractError(
                table=self.name,
                expected="files DuckDB can read as one table",
                found=", ".join(_rel(p, self.folder) for p in self.paths) + f": {_first_line(exc)}",
                fix="give the files of one table the same columns and types, or move the "
                "odd file out of the source folder",
            ) from None
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        return pd.concat(frames, ignore_index=True)

    def drop(self, con: duckdb.DuckDBPyConnection, view: str) -> None:
        """Drop the view :meth:`load` created and the rows it read (when they are no
        longer needed: every table made from them is materialised)."""
        con.execute(f"DROP VIEW IF EXISTS {_ident(view)}")
        if self.csv:
            con.execute(f"DROP TABLE IF EXISTS {_ident(view + '__csv')}")


def table_files(
    name: str,
    paths: list[Path],
    folder: Path,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> TableFiles:
    """Sort a table's files by format (CSV: read in ``encoding``, split by ``delimiter``)."""
    parquet = [p for p in paths if suffix_of(p) in _PARQUET]
    csv: dict[str, list[Path]] = defaultdict(list)
    for p in paths:
        suf = suffix_of(p)
        if suf in _DELIMITERS:
            csv[_DELIMITERS[suf]].append(p)
    return TableFiles(name, folder, parquet, dict(csv), encoding, delimiter)


_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _reason(error_type: str, message: str, where: str) -> str:
    kind = error_type.upper()
    if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        m = _COUNTS.search(message)
        what = f"{m.group(2)} fields, expected {m.group(1)}" if m else kind.lower()
        return f"malformed CSV row ({where}): {what}"
    if "ENCODING" in kind:
        return f"undecodable CSV row ({where}): bytes that are not UTF-8; {ENCODING_FIX}"
    return f"unparseable CSV row ({where}): {_first_line(Exception(message))}"


def _read_csv_into(
    con: duckdb.DuckDBPyConnection,
    into: str,
    path: Path,
    delim: str,
    files: TableFiles,
    single: bool,
    read: Path | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Read one CSV file into the table's rows (``into``: ``CREATE … AS`` / ``INSERT …``;
    ``columns`` only, if given) and return its unreadable rows, one per line.

    The reason names the line (and the file, unless it is the table's only file).
    """
    table, scan = "__shopbook_rejects", "__shopbook_reject_scans"
    for t in (table, scan):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    extra = f", store_rejects=true, rejects_table={_lit(table)}, rejects_scan={_lit(scan)}"
    rel = _rel(path, files.folder)
    try:
        call = _csv_call(read or path, delim, extra)
        kept_columns = ", ".join(_ident(c) for c in columns) if columns else "*"
        counted = con.execute(f"{into} SELECT {kept_columns} FROM {call}")
        kept = int(counted.fetchone()[0])  # type: ignore[index]
        errors = con.execute(
            f"SELECT line, error_type, error_message, csv_line FROM {table} ORDER BY line"
        ).fetchall()
    except duckdb.Error as exc:
        raise ContractError(
            table=files.name,
            expected="a CSV file DuckDB can read",
            found=f"{rel}: {_first_line(exc)}",
            fix="check its delimiter and quoting, or " + ENCODING_FIX,
        ) from None
    finally:
        for t in (table, scan):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    lines: dict[int, tuple[str, str, str]] = {}
    for line, error_type, message, raw in errors:
        lines.setdefault(int(line), (str(error_type), str(message), str(raw or "")))
    if not lines:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
    if len(lines) > MALFORMED_SHARE * (kept + len(lines)):
        line, (error_type, message, _) = next(iter(lines.items()))
        example = _reason(error_type, message, f"line {line}")
        encoding = "ENCODING" in error_type.upper()
        raise ContractError(
            table=files.name,
            expected="a CSV file whose rows DuckDB can read (at most half unreadable)",
            found=f"{rel}: {len(lines):,} of {kept + len(lines):,} rows unreadable, e.g. {example}",
            fix=ENCODING_FIX
            if encoding
            else "check the delimiter, the quoting and that every row has the header's fields",
        )
    prefix = "" if single else f"{rel} "
    return pd.DataFrame(
        [
            {"file": rel, "line": line, "reason": _reason(t, m, f"{prefix}line {line}"), "raw": raw}
            for line, (t, m, raw) in lines.items()
        ],
        columns=REJECT_COLUMNS,
    )
