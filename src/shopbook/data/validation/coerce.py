"""Reading values: a source column as its contract type, unreadable values marked with
the reason they cannot be kept."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir

from shopbook.data.contract import IBIS_DTYPES, Column
from shopbook.data.sources.transform import blank_null, one_of
from shopbook.data.validation._common import (
    FALSE_TEXT,
    MISSING_ID_TEXT,
    TRUE_TEXT,
    null,
    out_of_range,
    unparseable,
)
from shopbook.data.validation.stamps import Zones, parse_stamps, split_stamps

#: The int64 range, as floats: a number outside it cannot be an int64.
_INT_LOW, _INT_HIGH = -(2.0**63), 2.0**63
_INT_MAX = 2**63 - 1
_FLOAT_MAX = sys.float_info.max


class _Incompatible(Exception):
    """The source column's type cannot be converted to the contract type at all."""


@dataclass
class _Coerced:
    """A source column read as its contract type.

    ``typed`` is null where the value is missing or cannot be kept; ``why`` (``None`` when
    every present value can be kept) is the reject reason of a present value that cannot
    (``unparseable <column>``, ``out of range <column>``…), null elsewhere.
    """

    typed: ir.Value
    why: ir.StringValue | None = None


def _why(typed: ir.Value, present: ir.BooleanValue, *reasons: tuple[ir.BooleanValue, str]) -> Any:
    """The reason of each present value that ``typed`` could not keep: the first of
    ``reasons`` whose condition holds, else the last reason given."""
    *first, (_, last) = reasons
    return ibis.cases(
        (~present | typed.notnull(), ibis.null("string")), *first, else_=ibis.literal(last)
    )


def _text(value: ir.StringValue) -> ir.StringValue:
    """Trimmed text, blank as null."""
    return blank_null(value)


def _no_nan(value: ir.Value) -> ir.Value:
    """NaN (a float's "missing") as null."""
    if value.type().is_floating():
        return ibis.cases((value.isnan(), ibis.null(value.type())), else_=value)
    return value


def _infinite(x: ir.FloatingValue) -> ir.BooleanValue:
    """Whether float ``x`` is ±inf (``isinf`` compiles to ``FALSE`` on Spark)."""
    return ~x.isnan() & (x.abs() > _FLOAT_MAX)


def _fits_int(x: ir.FloatingValue) -> ir.BooleanValue:
    """Whether float ``x`` lies inside the int64 range (false for NaN, ±inf, ±2^63)."""
    return ~x.isnan() & (x > _INT_LOW) & (x < _INT_HIGH)


def _whole(number: ir.NumericValue) -> ir.IntegerValue:
    """An int64 where ``number`` is a whole number in the int64 range, else null."""
    x = number.cast("float64")
    # floor() is compiled with a cast to BIGINT: only reached for numbers that fit.
    whole = ibis.cases((_fits_int(x), x == x.floor()), else_=False)
    return ibis.cases((whole, x.try_cast("int64")), else_=ibis.null("int64"))


def _parse_text(text: ir.StringValue, column: Column) -> _Coerced:
    """Parse trimmed, non-blank text as ``column``'s contract type (not a timestamp)."""
    dtype, name, present = column.dtype, column.name, text.notnull()
    if dtype == "float64":
        x = text.try_cast("float64")
        typed = ibis.cases((x.isnan() | _infinite(x), ibis.null("float64")), else_=x)
        return _Coerced(
            typed,
            _why(typed, present, (_infinite(x), out_of_range(name)), (True, unparseable(name))),
        )
    if dtype == "int64":
        # "2.5" must not round to 3 (the engine's integer cast rounds), "3.0" / "1e3" are
        # whole numbers, and 2^63 - 1 is exact only in the integer parse: the integer
        # parse is taken where it agrees with the float parse, else a whole float.
        x = text.try_cast("float64")
        exact = text.try_cast("int64")
        agrees = ibis.cases((exact.cast("float64") == x, exact), else_=ibis.null("int64"))
        typed = ibis.coalesce(agrees, _whole(x))
        too_big = x.notnull() & ~x.isnan() & ~_fits_int(x)
        return _Coerced(
            typed, _why(typed, present, (too_big, out_of_range(name)), (True, unparseable(name)))
        )
    if dtype == "bool":
        lower = text.lower()
        typed = ibis.cases(
            (one_of(lower, TRUE_TEXT), True),
            (one_of(lower, FALSE_TEXT), False),
            else_=ibis.null("boolean"),
        )
        return _Coerced(typed, _why(typed, present, (True, unparseable(name))))
    raise AssertionError(dtype)  # pragma: no cover - every contract dtype is handled


def _coerce(
    raw: ir.Value,
    column: Column,
    zones: Zones | None = None,
    table: ir.Table | None = None,
    clean: bool = False,
) -> _Coerced:
    """Read source column ``raw`` as ``column``'s contract type.

    ``zones`` says how timestamps are read (default: UTC, no per-value zone names).
    ``table`` is the table of ``raw`` with the parts :func:`split_stamps` adds for a text
    timestamp column (default: ``raw`` alone, split). ``clean``: ``raw`` is text already
    trimmed, blank as null (the validator trims each column once, not at every use).

    Raises
    ------
    _Incompatible
        When no conversion from the source type exists.
    """
    zones = zones or Zones()
    src = raw.type()
    want = column.dtype
    target = IBIS_DTYPES[want]
    if src.is_null():
        return _Coerced(ibis.null(target))
    if want == "string":
        return _as_string(raw, column, clean)
    if src.is_string() and want in ("timestamp", "date"):
        if table is None:
            table = split_stamps(raw.name(column.name).as_table(), [column.name], clean)
        ts, why = parse_stamps(table, raw.get_name(), zones, column.name, clean)
        return _Coerced(ts.date() if want == "date" else ts, why)
    if src.is_string():
        return _parse_text(raw if clean else _text(raw), column)
    reader = _READERS.get(want)
    coerced = reader(_no_nan(raw), src, column.name, zones) if reader is not None else None
    if coerced is None:
        raise _Incompatible(str(src))
    return coerced


def _is_numeric(src: dtypes.DataType) -> bool:
    return src.is_integer() or src.is_floating() or src.is_decimal()


# Readers of a typed (non-text) source column as one contract type: ``value`` is the column
# with NaN as null, ``src`` its type, ``name`` the contract column; ``None`` when no
# conversion from ``src`` exists.


def _to_float(value: ir.Value, src: dtypes.DataType, name: str, zones: Zones) -> _Coerced | None:
    if not _is_numeric(src):
        return None
    if src.is_floating():
        typed = ibis.cases((_infinite(value), ibis.null("float64")), else_=value).cast("float64")
        return _Coerced(typed, _why(typed, value.notnull(), (True, out_of_range(name))))
    return _Coerced(value.cast("float64"))


def _to_int(value: ir.Value, src: dtypes.DataType, name: str, zones: Zones) -> _Coerced | None:
    if src.is_unsigned_integer() and src.nbytes >= 8:
        typed = ibis.cases((value <= _INT_MAX, value.try_cast("int64")), else_=ibis.null("int64"))
        return _Coerced(typed, _why(typed, value.notnull(), (True, out_of_range(name))))
    if src.is_integer():
        return _Coerced(value.cast("int64"))
    if not _is_numeric(src):
        return None
    typed = _whole(value)
    x = value.cast("float64")
    return _Coerced(
        typed,
        _why(
            typed, value.notnull(), (~_fits_int(x), out_of_range(name)), (True, unparseable(name))
        ),
    )


def _to_bool(value: ir.Value, src: dtypes.DataType, name: str, zones: Zones) -> _Coerced | None:
    if src.is_boolean():
        return _Coerced(value)
    if not _is_numeric(src):
        return None
    typed = ibis.cases((value == 1, True), (value == 0, False), else_=ibis.null("boolean"))
    return _Coerced(typed, _why(typed, value.notnull(), (True, unparseable(name))))


def _as_timestamp(value: ir.Value, src: dtypes.DataType, zones: Zones) -> ir.TimestampValue:
    """A timestamp or date column as naive times in the dataset's zone."""
    if src.is_timestamp() and src.timezone is not None:
        return zones.from_utc(value.cast("timestamp"))  # the session runs in UTC
    return value.cast("timestamp")


def _to_timestamp(
    value: ir.Value, src: dtypes.DataType, name: str, zones: Zones
) -> _Coerced | None:
    if src.is_timestamp() or src.is_date():
        return _Coerced(_as_timestamp(value, src, zones))
    return None


def _to_date(value: ir.Value, src: dtypes.DataType, name: str, zones: Zones) -> _Coerced | None:
    if src.is_date():
        return _Coerced(value)
    if src.is_timestamp():
        return _Coerced(_as_timestamp(value, src, zones).date())
    return None


_READERS: dict[str, Callable[[ir.Value, dtypes.DataType, str, Zones], _Coerced | None]] = {
    "float64": _to_float,
    "int64": _to_int,
    "bool": _to_bool,
    "timestamp": _to_timestamp,
    "date": _to_date,
}


def _as_string(raw: ir.Value, column: Column, clean: bool = False) -> _Coerced:
    """Any column as trimmed text (blank → null); allowed values matched case-insensitively.

    In an identifier column (``Column.identifier``) text that means "no value"
    (:data:`MISSING_ID_TEXT`: ``NULL``, ``N/A``, ``None``, ``-``, ``nan``…) is missing, not
    an id; in a non-nullable column its row is rejected as ``null <column>`` and the text
    is kept for :meth:`ValidationReport.rejects`. ``clean``: text already trimmed.
    """
    src = raw.type()
    if src.is_string():
        text = raw if clean else _text(raw)
    elif src.is_floating() or src.is_decimal():
        # ids stored as floats (pandas does that to integer columns with gaps): 123.0 → "123"
        whole = _whole(raw)
        text = ibis.coalesce(whole.cast("string"), _no_nan(raw).cast("string"))
    else:
        text = raw.cast("string")
    if column.allowed:
        lower = text.lower()
        text = ibis.cases(*[(lower == a.lower(), a) for a in column.allowed], else_=text)
    if not (column.identifier and src.is_string()):
        return _Coerced(text)
    missing = one_of(text.lower(), MISSING_ID_TEXT)
    typed = ibis.cases((missing, ibis.null("string")), else_=text)
    if column.nullable:
        return _Coerced(typed)
    return _Coerced(typed, ibis.cases((missing, null(column.name)), else_=ibis.null("string")))
