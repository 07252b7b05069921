"""Frames out of the engine: :func:`fetch`, the one way a builder's result becomes pandas.

``expr.execute()`` on DuckDB turns the query's Arrow result into pandas one column at a
time on one core, through Python lists for every column that holds a null, and then
converts every column once more to the dtype ibis promises (dates are Python objects on
the way, decimals are re-made one value at a time). For the 0.7 M customers of 10 M order
lines that is about a second of one core and a second copy of the frame in memory.

:func:`fetch` returns the same frame — same columns, same values, same dtypes — from one
multi-threaded :meth:`pyarrow.Table.to_pandas` that frees each Arrow column as soon as it
is converted, and changes a column afterwards only where ibis's dtype differs from
pyarrow's. The dtypes are those of ``expr.execute()`` (ibis 10–12 on DuckDB):

============================  =========================  ============================
ibis type                     no nulls in the result     some nulls
============================  =========================  ============================
int8 … int64, uint8 … uint64  the same NumPy integer      ``float64`` (nulls are NaN)
float32, float64              the same NumPy float        the same (NaN)
boolean                       ``bool``                    ``object`` (True/False/None)
string                        ``object`` (str)            ``object`` (None)
date                          ``datetime64[s]``           ``datetime64[s]`` (NaT)
timestamp(p), time zone tz    ``datetime64[unit, tz]``,   ``datetime64[ns, tz]`` (NaT)
                              DuckDB's unit (us; ns for
                              timestamp(9), s for (0))
decimal(p, s)                 ``object`` (Decimal, s      ``object`` (None)
                              digits after the point)
============================  =========================  ============================

Where DuckDB's type is not the one ibis names, ibis's dtype wins: a SUM of integers is a
HUGEINT (decimal(38, 0) in Arrow) that ibis calls int64 — int64 here too (``object``
Decimals when it holds a null, as in ibis) — and a float literal is a DECIMAL that ibis
calls float64: float64 here, each value the float nearest the decimal (via text: Arrow's
direct decimal → double cast is one unit in the last place off for some values).

Strings are not de-duplicated (ibis shares one object between equal strings of a column
without nulls; the values are the same). A column of any other type (intervals, times,
arrays, structs, maps, JSON, UUIDs), a column that is entirely null, a timestamp column
with nulls beyond what nanoseconds hold (after 2262) and an empty result are converted
exactly as ibis does it (they are rare and small). On engines other than DuckDB
:func:`fetch` is ``expr.execute()``.

``tests/features/test_fetching.py`` checks every rule above against ``expr.execute()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.formats.pandas import PandasType

__all__ = ["fetch"]


def fetch(
    expr: ir.Table,
    *,
    params: Mapping[ir.Scalar, Any] | None = None,
    limit: int | str | None = "default",
) -> pd.DataFrame:
    """The result of a table expression as a pandas frame: ``expr.execute()``, faster.

    Use it wherever a builder's result leaves the engine (``fetch(rfm_base(orders,
    asof))``): on DuckDB it returns what ``expr.execute()`` returns — the same columns,
    values and dtypes (see the module's table) — from one multi-threaded Arrow → pandas
    conversion that frees the Arrow result column by column, so it takes less time and
    less peak memory. On other engines it is ``expr.execute()``.

    Parameters
    ----------
    expr
        An ibis table expression (a builder's result).
    params, limit
        As for :meth:`ibis.expr.types.Table.execute`.

    Returns
    -------
    pandas.DataFrame
        One column per column of ``expr.schema()``, in that order, with a RangeIndex.
    """
    if not isinstance(expr, ir.Table):
        raise TypeError(f"fetch takes a table expression, not {type(expr).__name__}")
    backend = ibis.get_backend(expr)
    relation = getattr(backend, "_to_duckdb_relation", None)
    if getattr(backend, "name", "") != "duckdb" or relation is None:
        return expr.execute(params=params, limit=limit)
    schema = expr.schema()
    table = relation(expr, params=params, limit=limit).to_arrow_table()
    if table.num_rows == 0:
        return _as_ibis(table, schema)
    nulls = {name: table[name].null_count for name in schema.names}
    slow = {
        name: _ibis_column(table[name], dtype)
        for name, dtype in schema.items()
        if not _fast(table[name].type, dtype, nulls[name] > 0)
        or nulls[name] == table.num_rows
        or (nulls[name] and not _nanoseconds_hold(table[name]))
    }
    if slow:
        # The one reference to the query's result goes: to_pandas can then free each
        # remaining column's buffers as it converts it.
        table = table.drop_columns(list(slow))
    for name, dtype in schema.items():
        if name not in slow and (cast := _precast(table[name], dtype)) is not None:
            table = table.set_column(table.schema.get_field_index(name), name, cast)
    frame = table.to_pandas(
        use_threads=True,
        split_blocks=True,
        self_destruct=True,
        date_as_object=False,
        deduplicate_objects=False,
    )
    del table
    for name, dtype in schema.items():
        if name in slow:
            continue
        target = _target(dtype, frame[name].dtype, nulls[name] > 0)
        if frame[name].dtype != target:
            frame[name] = frame[name].astype(target)
    for position, name in enumerate(schema.names):
        if name in slow:
            frame.insert(position, name, slow[name])
    return frame


def _fast(arrow: pa.DataType, dtype: dt.DataType, has_nulls: bool) -> bool:
    """Whether pyarrow's conversion (after :func:`_precast`, plus :func:`_target`) gives
    ibis's column."""
    if dtype.is_integer():
        # A DuckDB SUM of integers is a HUGEINT (decimal(38, 0) in Arrow) that ibis
        # calls int64: ibis makes int64 of it only when there is no null.
        return pa.types.is_integer(arrow) or (
            pa.types.is_decimal(arrow) and arrow.scale == 0 and not has_nulls
        )
    if dtype.is_floating():
        # A float literal is a DECIMAL in DuckDB; ibis makes float64 of its Decimals.
        return (
            pa.types.is_float32(arrow)
            or pa.types.is_float64(arrow)
            or (pa.types.is_decimal(arrow) and dtype.is_float64())
        )
    if dtype.is_boolean():
        return pa.types.is_boolean(arrow)
    if dtype.is_string():
        return (
            pa.types.is_string(arrow)
            or pa.types.is_large_string(arrow)
            or pa.types.is_string_view(arrow)
        )
    if dtype.is_date():
        return pa.types.is_date(arrow)
    if dtype.is_timestamp():
        return pa.types.is_timestamp(arrow) and (arrow.tz is None) == (dtype.timezone is None)
    if dtype.is_decimal():
        # ibis re-makes each Decimal with ``scale`` digits after the point; pyarrow's
        # already have the column's scale, so they are the same values, same digits.
        return (
            pa.types.is_decimal(arrow)
            and dtype.scale == arrow.scale
            and dtype.precision is not None
            and dtype.precision >= arrow.precision
        )
    return False


def _nanoseconds_hold(column: pa.ChunkedArray) -> bool:
    """Whether a timestamp column's values fit pandas' nanoseconds (1677–2262).

    ibis reads a timestamp column with nulls through Python objects, which pandas makes
    nanoseconds; outside that range it does something else, so such a column is
    converted as ibis does it. Other columns: True.
    """
    kind = column.type
    if not pa.types.is_timestamp(kind) or kind.unit == "ns":
        return True
    bounds = pc.min_max(column)
    low, high = bounds["min"].value, bounds["max"].value
    per_second = {"s": 1, "ms": 10**3, "us": 10**6}[kind.unit]
    limit = (2**63 - 1) // 10**9 * per_second  # the seconds nanoseconds hold, in kind.unit
    return low is None or (-limit < low and high < limit)


def _precast(column: pa.ChunkedArray, dtype: dt.DataType) -> pa.ChunkedArray | None:
    """The Arrow cast a :func:`_fast` column needs before pyarrow's conversion, if any.

    Decimals meant as integers become integers (exact; an overflow raises, as in ibis).
    Decimals meant as float64 become text and then float64: each value is then the float
    nearest to the decimal, as ``float(Decimal)`` gives in ibis (Arrow's direct
    decimal → double cast can be one unit in the last place off).
    """
    if not pa.types.is_decimal(column.type):
        return None
    if dtype.is_integer():
        return column.cast(pa.int64())
    if dtype.is_floating():
        return column.cast(pa.string()).cast(pa.float64())
    return None


def _target(dtype: dt.DataType, got: Any, has_nulls: bool) -> Any:
    """The pandas dtype ibis gives a column of ``dtype`` (pyarrow gave ``got``)."""
    if dtype.is_integer():
        return np.dtype("float64") if has_nulls else PandasType.from_ibis(dtype)
    if dtype.is_boolean():
        return np.dtype("object") if has_nulls else np.dtype("bool")
    if dtype.is_decimal():
        return np.dtype("object")
    if dtype.is_timestamp():
        # ibis reads a column with nulls through Python objects, which pandas makes
        # nanoseconds; without nulls it keeps DuckDB's unit.
        unit = "ns" if has_nulls else np.datetime_data(_naive(got))[0]
        if dtype.timezone is None:
            return np.dtype(f"datetime64[{unit}]")
        return pd.DatetimeTZDtype(unit, dtype.timezone)
    return PandasType.from_ibis(dtype)  # floats, strings, dates (datetime64[s])


def _naive(got: Any) -> np.dtype:
    return np.dtype(f"datetime64[{got.unit}]") if isinstance(got, pd.DatetimeTZDtype) else got


def _raw(column: pa.ChunkedArray) -> Any:
    """A column as ibis's DuckDB backend first reads it (before its dtype conversion)."""
    kind = column.type
    if pa.types.is_nested(kind) or pa.types.is_dictionary(kind) or column.null_count:
        return column.to_pylist()
    return column.to_pandas()


def _ibis_column(column: pa.ChunkedArray, dtype: dt.DataType) -> pd.Series:
    """One column converted as ibis's DuckDB backend converts it."""
    from ibis.backends.duckdb.converter import DuckDBPandasData

    values = pd.DataFrame({"c": _raw(column)})["c"]  # the frame infers lists' dtypes
    return DuckDBPandasData.convert_column(values, dtype)


def _as_ibis(table: pa.Table, schema: Any) -> pd.DataFrame:
    """The whole table converted as ibis's DuckDB backend converts it (an empty result)."""
    from ibis.backends.duckdb.converter import DuckDBPandasData

    raw = pd.DataFrame({name: _raw(table[name]) for name in table.column_names})
    return DuckDBPandasData.convert_table(raw, schema)
