"""Opening a source: :func:`open_source` for files, folders, frames, URIs and backends,
with a one-line error — its address redacted — when a source cannot be opened."""

from __future__ import annotations

import difflib
import itertools
import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from shopbook import config
from shopbook.data.contract import TABLES
from shopbook.data.sources.files import find_tables, suffix_of, table_files
from shopbook.data.sources.mapping import ColumnMapping, MappingSpec, load_mapping, physical_names
from shopbook.data.sources.source import Source
from shopbook.errors import ContractError
from shopbook.redaction import redact_text, secrets_in


def redact_uri(uri: str) -> str:
    """``scheme://user:secret@host/db`` → ``scheme://user:***@host/db``.

    The rules are :func:`shopbook.redaction.redact_text`, the one redactor; the password
    the URI parser finds is redacted as well.
    """
    return redact_text(uri, _uri_secrets(uri))


def _uri_secrets(uri: str) -> list[str]:
    try:
        password = urlsplit(uri).password
    except ValueError:
        password = None
    return [*([password] if password else []), *secrets_in(uri)]


def _one_line(exc: BaseException, secrets: list[str]) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = redact_text(text[:300] + ("…" if len(text) > 300 else ""), secrets)
    for s in secrets:  # short passwords too: this text names the connection
        text = text.replace(s, "***") if s else text
    return text


def _typed_nulls(frame: pd.DataFrame) -> pd.DataFrame:
    """Give all-missing object columns a text type; engines refuse untyped NULL columns.

    The validator then types them per the contract like any other text column.
    """
    empty = [c for c in frame.columns if frame[c].dtype == object and frame[c].isna().all()]
    return frame.astype({c: "string" for c in empty}) if empty else frame


def _quiet(con: Any) -> Any:
    """Switch off DuckDB's progress bar: it would print into notebooks and terminals."""
    if getattr(con, "name", "") == "duckdb":
        import duckdb

        try:
            con.raw_sql("SET enable_progress_bar = false")
        except duckdb.Error:
            # Inside Jupyter without ipywidgets DuckDB refuses to touch the setting; it
            # draws no progress bar there either, so there is nothing to switch off.
            pass
    return con


def _analysed_caches(con: Any) -> Any:
    """On PostgreSQL, gather statistics of every table ibis materialises (``.cache()``).

    Validation materialises each checked table once as a temporary table, and autovacuum
    never analyses temporary tables: without statistics the planner takes them for a
    row or two and joins them by nested loops, re-running a window over the order lines
    once per order — minutes for a 50,000-order shop (notebooks 02, 03 and 05). One
    ``ANALYZE`` per materialised table (a sample, milliseconds) gives the planner the
    row counts and value spreads it needs to hash-join. There is no ibis call for it:
    this is the one engine-specific statement, and only PostgreSQL needs it (DuckDB and
    Spark know the size of what they materialised).
    """
    if getattr(con, "name", "") != "postgres" or not hasattr(con, "_create_cached_table"):
        return con
    if getattr(con, "_shopbook_analyses", False):
        return con  # opened before
    create = con._create_cached_table

    def create_and_analyse(name: str, expr: Any) -> Any:
        table = create(name, expr)
        with con.begin() as cur:
            cur.execute(f'ANALYZE "{name}"')
        return table

    con._create_cached_table = create_and_analyse
    con._shopbook_analyses = True
    return con


def _once(load: Any) -> Any:
    """``load`` run on the first call only; later calls return its result."""
    done: list[pd.DataFrame] = []

    def run() -> pd.DataFrame:
        if not done:
            done.append(load())
        return done[0]

    return run


def _open_files(folder: Path, tables: dict[str, list[Path]], maps: ColumnMapping) -> Source:
    """A DuckDB view per table over every one of its files.

    Every file is checked now (readable, same columns); CSV rows are read when the table
    is first used.
    """
    con = _quiet(ibis.duckdb.connect())
    physical = physical_names(list(tables), maps)
    loaders = {}
    notes: list[str] = []
    views: dict[str, tuple[str, Any]] = {}  # file name → (view, loader): tables of one file share
    for tname, fname in physical.items():
        if fname in views:
            physical[tname], loader = views[fname]
            if loader is not None:
                loaders[tname] = loader
            continue
        spec = maps.tables.get(tname, {})
        files = table_files(
            fname,
            tables[fname],
            folder,
            spec.get("encoding") or maps.encoding,
            spec.get("delimiter") or maps.delimiter,
        )
        files.check(con.con)
        notes += files.notes
        view = physical[tname] = f"src_{tname}"
        loader = None
        if files.csv:
            loader = loaders[tname] = _once(lambda f=files, v=view: f.load(con.con, v))
        else:
            files.load(con.con, view)
        views[fname] = (view, loader)
    source = Source(
        con, physical, maps.tables, uri=str(folder), loaders=loaders, timezone=maps.timezone
    )
    source.notes = notes
    return source


def _open_folder(folder: Path, maps: ColumnMapping) -> Source:
    known = {t.lower() for t in TABLES}
    known |= {str(s["table"]).lower() for s in maps.tables.values() if s.get("table")}
    tables = find_tables(folder, known)
    if not physical_names(list(tables), maps):  # a mapping naming a missing table raises
        shown = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        raise ContractError(
            table="(source)",
            expected=f"files named after contract tables in {folder} (e.g. orders.parquet, "
            "orders.csv, orders.csv.gz or a folder orders/)",
            found=("files " + ", ".join(shown[:12]) + (", …" if len(shown) > 12 else ""))
            if shown
            else "an empty folder",
            fix="name each file after its table (" + ", ".join(TABLES) + "), or map your "
            "names in mapping.yml (`orders: {table: <file name without suffix>}`)",
        )
    return _open_files(folder, tables, maps)


def _backends() -> list[str]:
    return sorted({e.name for e in entry_points(group="ibis.backends")} | {"postgresql"})


#: Numbers the Spark sources of this process (their temporary views' prefix).
_SPARK_SOURCES = itertools.count(1)


def _spark_session() -> Any:
    """The running Spark session, or a new one on ``SHOPBOOK_SPARK_MASTER``.

    A session already running in this process (a notebook's, a test's) is used as it is.
    A new one runs on :func:`shopbook.config.spark_master` (local mode on every core by
    default) with the settings a report needs: UTC session time (timestamps are read as
    stored), no web UI, and — in local mode — a few shuffle partitions instead of 200.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ContractError(
            table="(source)",
            expected="PySpark to read a spark:// source",
            found="it is not installed",
            fix="install the spark extra (pip install -e '.[spark]'), or use another source",
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    master = config.spark_master()
    builder = (
        SparkSession.builder.master(master)
        .appName("shopbook")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 1)))
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
        )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _spark_frame(session: Any, files: list[Path]) -> Any:
    """A Spark DataFrame over Parquet ``files``; nanosecond timestamps read as microseconds.

    pandas and pyarrow write nanosecond timestamps, which Spark cannot read; such columns
    are read as their integer nanoseconds (``spark.sql.legacy.parquet.nanosAsLong``) and
    turned back into timestamps here (to the microsecond, Spark's resolution).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = [str(p.resolve()) for p in files]
    schema = pq.read_schema(paths[0])
    nanos = [f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"]
    if not nanos:
        return session.read.parquet(*paths)
    from pyspark.sql import functions as SF

    session.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    frame = session.read.parquet(*paths)
    for name in nanos:
        micros = SF.floor(SF.col(name) / SF.lit(1000)).cast("long")
        frame = frame.withColumn(name, SF.timestamp_micros(micros))
    return frame


def _open_spark(text: str, maps: ColumnMapping) -> Source:
    """``spark://PATH`` (a folder of ``<table>.parquet``) or ``spark://db/NAME`` (a
    metastore database), read by a Spark session (:func:`_spark_session`)."""
    shown = redact_uri(text)
    rest = text.split("://", 1)[1]
    session = _spark_session()
    try:
        con = ibis.pyspark.connect(session)
    except Exception as exc:
        raise ContractError(
            table="(source)",
            expected=f"a Spark session to read {shown}",
            found=_one_line(exc, _uri_secrets(text)),
            fix="check SHOPBOOK_SPARK_MASTER and that the cluster is reachable",
        ) from None
    if rest.startswith("db/"):
        database = rest.removeprefix("db/").strip("/")
        try:
            existing = list(con.list_tables(database=database))
            session.catalog.setCurrentDatabase(database)
        except Exception as exc:
            raise ContractError(
                table="(source)",
                expected=f"a Spark metastore database {database!r}",
                found=_one_line(exc, []),
                fix="name a database the metastore holds (spark://db/NAME), or a folder "
                "of Parquet files (spark://PATH)",
            ) from None
        return Source(
            con, physical_names(existing, maps), maps.tables, uri=shown, timezone=maps.timezone
        )
    folder = Path(config.resolve_source(rest)).expanduser()
    if not folder.is_dir():
        raise ContractError(
            table="(source)",
            expected="a folder of <table>.parquet files (spark://PATH) or a metastore "
            "database (spark://db/NAME)",
            found=f"no folder at {redact_uri(str(folder))}",
            fix="point spark:// at the folder holding orders.parquet, …",
        )
    known = {t.lower() for t in TABLES}
    known |= {str(s["table"]).lower() for s in maps.tables.values() if s.get("table")}
    tables = find_tables(folder, known)
    not_parquet = sorted(
        p.name for files in tables.values() for p in files if suffix_of(p) != ".parquet"
    )
    if not_parquet:
        raise ContractError(
            table="(source)",
            expected="Parquet files in a spark:// folder",
            found="files " + ", ".join(not_parquet[:6]),
            fix="convert them to Parquet (shopbook import writes Parquet), or open the "
            "folder without spark:// (DuckDB reads CSV)",
        )
    physical = physical_names(list(tables), maps)
    if not physical:
        raise ContractError(
            table="(source)",
            expected=f"files named after contract tables in {folder} (e.g. orders.parquet)",
            found="no such file",
            fix="name each file after its table (" + ", ".join(TABLES) + ")",
        )
    tag = next(_SPARK_SOURCES)  # each source its own views: two folders may share a name
    views: dict[str, str] = {}
    for tname, fname in physical.items():
        if fname not in views:
            views[fname] = f"shopbook_{tag}_{fname}"
            _spark_frame(session, tables[fname]).createOrReplaceTempView(views[fname])
        physical[tname] = views[fname]
    return Source(con, physical, maps.tables, uri=shown, timezone=maps.timezone)


def _open_uri(text: str, maps: ColumnMapping) -> Source:
    if text.split("://", 1)[0].lower() == "spark":
        return _open_spark(text, maps)
    shown, secrets = redact_uri(text), _uri_secrets(text)
    scheme = text.split("://", 1)[0].lower()
    known = _backends()
    if scheme not in known:
        close = difflib.get_close_matches(scheme, known, n=1)
        raise ContractError(
            table="(source)",
            expected="a connection URI whose scheme is an ibis backend (postgres://, "
            "duckdb://, sqlite://, …) or spark://",
            found=f"{shown}, whose scheme {scheme!r} is none",
            fix=(f"did you mean {close[0]}://? " if close else "")
            + "correct --source / SHOPBOOK_SOURCE",
        )
    try:
        con = _analysed_caches(_quiet(ibis.connect(text)))
        existing = list(con.list_tables())
    except ImportError:
        raise ContractError(
            table="(source)",
            expected=f"the ibis {scheme} backend to read {shown}",
            found="it is not installed",
            fix=f"install it (pip install 'ibis-framework[{scheme}]'), or use another source",
        ) from None
    except Exception as exc:
        raise ContractError(
            table="(source)",
            expected=f"a {scheme} database reachable at {shown}",
            found=_one_line(exc, secrets),
            fix="check the host, port, database name and credentials in --source / "
            "SHOPBOOK_SOURCE, and that the server is running",
        ) from None
    return Source(
        con, physical_names(existing, maps), maps.tables, uri=shown, timezone=maps.timezone
    )


def _open_duckdb(path: Path, maps: ColumnMapping) -> Source:
    try:
        con = _quiet(ibis.duckdb.connect(str(path), read_only=True))
        existing = list(con.list_tables())
    except Exception as exc:
        raise ContractError(
            table="(source)",
            expected="a DuckDB database file",
            found=f"{path.name} could not be opened ({_one_line(exc, [])})",
            fix="point --source at a .duckdb file, a folder of Parquet/CSV files or a URI",
        ) from None
    return Source(
        con, physical_names(existing, maps), maps.tables, uri=str(path), timezone=maps.timezone
    )


def open_source(
    uri: str | os.PathLike | Mapping[str, pd.DataFrame] | Source | BaseBackend | None = None,
    mapping: MappingSpec | str | os.PathLike | ColumnMapping | None = None,
) -> Source:
    """Open a data source.

    Parameters
    ----------
    uri
        A DuckDB file, a folder of Parquet/CSV files (or one such file), a dict of
        DataFrames, an ibis URI (``postgres://user@host/db``: the password from the
        URI or ``PGPASSWORD``, never shown), ``spark://PATH`` (a folder of
        ``<table>.parquet`` files read by Spark) or ``spark://db/NAME`` (a Spark
        metastore database) — Spark in local mode unless ``SHOPBOOK_SPARK_MASTER``
        names a cluster —, an open ibis backend (e.g. Spark), or an open
        :class:`Source` (returned as is). Default: ``SHOPBOOK_SOURCE`` or
        ``data/shop.duckdb``.
    mapping
        Column mapping: a dict or a YAML file path (see :mod:`shopbook.data.sources`).
        Default: ``SHOPBOOK_MAPPING``, else ``mapping.yml`` inside a folder source.

    Returns
    -------
    Source

    Raises
    ------
    ContractError
        In one line per problem, the address redacted: when the source does not exist,
        cannot be read or reached, holds no contract tables (a folder), has files of one
        table whose columns differ, or when the mapping is broken or names a table the
        source does not hold.
    """
    if isinstance(uri, Source):
        return uri
    if isinstance(uri, BaseBackend):
        maps = load_mapping(mapping if mapping is not None else config.default_mapping())
        _analysed_caches(uri)
        existing = list(uri.list_tables())
        return Source(
            uri,
            physical_names(existing, maps),
            maps.tables,
            uri=f"({uri.name})",
            timezone=maps.timezone,
        )
    if mapping is None:
        mapping = config.default_mapping()
    if isinstance(uri, Mapping):
        maps = load_mapping(mapping)
        con = _quiet(ibis.duckdb.connect())
        physical = physical_names([str(k) for k in uri], maps)
        for tname, src in physical.items():
            view = f"src_{tname}"
            con.create_table(view, _typed_nulls(uri[src]))
            physical[tname] = view
        return Source(con, physical, maps.tables, uri="(DataFrames)", timezone=maps.timezone)

    text = str(uri) if uri is not None else config.default_source()
    if "://" in text and not text.startswith("file://"):
        return _open_uri(text, load_mapping(mapping))

    path = Path(text.removeprefix("file://")).expanduser()
    if not path.exists():
        raise ContractError(
            table="(source)",
            expected="a DuckDB file, a folder of Parquet/CSV files or a connection URI",
            found=f"nothing at {redact_uri(str(path))}",
            fix="create the data with `shopbook sample` (or `shopbook sample --cdnow`), "
            "or pass --source / set SHOPBOOK_SOURCE",
        )
    if path.is_dir():
        if mapping is None and (path / "mapping.yml").exists():
            mapping = path / "mapping.yml"
        return _open_folder(path, load_mapping(mapping))
    suf = suffix_of(path)
    if suf:  # one data file: a source with one table, named by the file
        name = path.name[: -len(suf)].lower()
        return _open_files(path.parent, {name: [path]}, load_mapping(mapping))
    return _open_duckdb(path, load_mapping(mapping))
