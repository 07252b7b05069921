"""Where the data lives: open a source and get its tables as ibis expressions.

A *source* holds any subset of the contract tables (:mod:`shopbook.data.contract`).
:func:`open_source` accepts

* a DuckDB file (``data/shop.duckdb``, the default),
* a folder of ``<table>.parquet`` / ``<table>.csv`` / ``<table>.csv.gz`` files (any case)
  and ``<table>/`` sub-folders of such files — **every** file of a table is read, as one
  table (see :mod:`shopbook.data.sources.files`),
* one such file (a source with one table, named after the file),
* a dict ``{table name: pandas.DataFrame}``,
* any ibis connection URI (``postgres://…``, ``duckdb://…``, …), credentials taken from
  the environment rather than written in notebooks,
* an open ibis backend, e.g. ``ibis.pyspark.connect(spark_session)`` for Spark.

:meth:`Source.table` returns an **ibis** table with the contract's column names, so the
features layer runs wherever the data lives; nothing is pulled into pandas unless a
caller executes an expression. CSV columns are read as text: typing them is the
validator's job, which can then reject a single unparseable value with a reason instead
of failing the whole file. CSV rows that cannot even be split into fields (ragged rows,
bytes that are not UTF-8) are :meth:`Source.read_rejects`, with their line numbers;
validation counts them as read and rejected.

Column names that differ from the contract are mapped once, by a dict or a YAML file::

    orders:                 # contract table
      table: tbl_order      # the source's table name (optional)
      columns:              # source column: contract column
        OrderNo: order_id
        BuyerId: customer_id

A folder source picks up ``mapping.yml`` inside it automatically. A mapping that names a
table the source does not hold is an error. Beyond renaming, the mapping language
(``data/README.md``; :mod:`~shopbook.data.sources.language` checks it,
:mod:`~shopbook.data.sources.transform` applies it in the engine) names the CSV encoding
(GBK/GB18030 are transcoded to UTF-8 in streamed chunks) and delimiter, maps values,
sets constants, derives columns, reads date formats, fills order-level fields down an
order's lines and adds up repeated lines; a mapping may ``extends:`` a shipped preset.

Every problem opening a source is a one-line :class:`~shopbook.errors.ContractError`
naming the source with its password redacted (:func:`redact_uri`).

Layout: ``opening`` :func:`open_source` · ``source`` :class:`Source` · ``mapping`` column
mappings · ``language`` the mapping language's keys, presets and ``extends:`` ·
``transform`` a mapping applied to a table · ``files`` folder tables, encodings and CSV
rejects.
"""

from shopbook.data.sources import language
from shopbook.data.sources.mapping import ColumnMapping, MappingSpec, load_mapping
from shopbook.data.sources.opening import open_source, redact_uri
from shopbook.data.sources.source import Source

__all__ = [
    "ColumnMapping",
    "MappingSpec",
    "Source",
    "language",
    "load_mapping",
    "open_source",
    "redact_uri",
]
