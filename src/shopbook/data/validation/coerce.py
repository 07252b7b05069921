"""Reading values: a source column as its contract type, unreadable values marked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir

from shopbook.data.contract import IBIS_DTYPES, Column
from shopbook.data.validation._common import FALSE_TEXT, TRUE_TEXT


class _Incompatible(Exception):
    """The source column's type cannot be converted to the contract type at all."""


@dataclass
class _Coerced:
    """A source column read as its contract type.

    ``typed`` is null where the value is missing or unreadable; ``bad`` (``None`` when a
    value can never be unreadable) is true where a value is present but unreadable.
    """

    typed: ir.Value
    bad: ir.BooleanValue | None = None


def _text(value: ir.StringValue) -> ir.StringValue:
    """Trimmed text, blank as null."""
    return value.strip().nullif("")


def _no_nan(value: ir.Value) -> ir.Value:
    """NaN (a float's "missing") as null."""
    if value.type().is_floating():
        return ibis.cases((value.isnan(), ibis.null(value.type())), else_=value)
    return value


def _whole(number: ir.NumericValue) -> ir.IntegerValue:
    """An int64 where ``number`` is a finite whole number in range, else null."""
    x = number.cast("float64")
    whole = x.notnull() & ~x.isinf() & ~x.isnan() & (x == x.floor())
    return ibis.cases((whole, x.try_cast("int64")), else_=ibis.null("int64"))


def _parse_text(text: ir.StringValue, dtype: str) -> ir.Value:
    """Parse trimmed, non-blank text as contract type ``dtype`` (null where unreadable)."""
    if dtype == "float64":
        x = text.try_cast("float64")
        return ibis.cases((x.isnan() | x.isinf(), ibis.null("float64")), else_=x)
    if dtype == "int64":
        # "2.5" must not round to 3, and "3.0" / "1e3" are whole numbers: parse as
        # float to test wholeness, take the integer from the exact integer parse.
        x = text.try_cast("float64")
        exact = text.try_cast("int64")
        whole = ~x.isinf() & ~x.isnan() & (x == x.floor())
        return ibis.cases(
            (whole, ibis.coalesce(exact, x.try_cast("int64"))), else_=ibis.null("int64")
        )
    if dtype == "bool":
        lower = text.lower()
        return ibis.cases(
            (lower.isin(TRUE_TEXT), True),
            (lower.isin(FALSE_TEXT), False),
            else_=ibis.null("boolean"),
        )
    if dtype in ("timestamp", "date"):
        # Through a time-zone aware parse: text with an offset is converted to UTC,
        # text without one is read as UTC (ibis sessions run in UTC).
        ts = text.try_cast("timestamp('UTC')").cast("timestamp")
        return ts.date() if dtype == "date" else ts
    raise AssertionError(dtype)  # pragma: no cover - every contract dtype is handled


def _coerce(raw: ir.Value, column: Column) -> _Coerced:
    """Read source column ``raw`` as ``column``'s contract type.

    Raises
    ------
    _Incompatible
        When no conversion from the source type exists.
    """
    src = raw.type()
    want = column.dtype
    target = IBIS_DTYPES[want]
    if src.is_null():
        return _Coerced(ibis.null(target))
    if want == "string":
        return _Coerced(_as_string(raw, column))
    if src.is_string():
        text = _text(raw)
        typed = _parse_text(text, want)
        return _Coerced(typed, text.notnull() & typed.isnull())
    reader = _READERS.get(want)
    coerced = reader(_no_nan(raw), src) if reader is not None else None
    if coerced is None:
        raise _Incompatible(str(src))
    return coerced


def _is_numeric(src: dtypes.DataType) -> bool:
    return src.is_integer() or src.is_floating() or src.is_decimal()


# Readers of a typed (non-text) source column as one contract type: ``value`` is the column
# with NaN as null, ``src`` its type; ``None`` when no conversion from ``src`` exists.


def _to_float(value: ir.Value, src: dtypes.DataType) -> _Coerced | None:
    if not _is_numeric(src):
        return None
    if src.is_floating():
        return _Coerced(
            ibis.cases((value.isinf(), ibis.null("float64")), else_=value).cast("float64"),
            value.isinf(),
        )
    return _Coerced(value.cast("float64"))


def _to_int(value: ir.Value, src: dtypes.DataType) -> _Coerced | None:
    if src.is_integer():
        return _Coerced(value.cast("int64"))
    if not _is_numeric(src):
        return None
    typed = _whole(value)
    return _Coerced(typed, value.notnull() & typed.isnull())


def _to_bool(value: ir.Value, src: dtypes.DataType) -> _Coerced | None:
    if src.is_boolean():
        return _Coerced(value)
    if not _is_numeric(src):
        return None
    typed = ibis.cases((value == 1, True), (value == 0, False), else_=ibis.null("boolean"))
    return _Coerced(typed, value.notnull() & typed.isnull())


def _to_timestamp(value: ir.Value, src: dtypes.DataType) -> _Coerced | None:
    if src.is_timestamp() or src.is_date():
        return _Coerced(value.cast("timestamp"))
    return None


def _to_date(value: ir.Value, src: dtypes.DataType) -> _Coerced | None:
    if src.is_date():
        return _Coerced(value)
    if src.is_timestamp():
        return _Coerced(value.cast("timestamp").date())
    return None


_READERS: dict[str, Callable[[ir.Value, dtypes.DataType], _Coerced | None]] = {
    "float64": _to_float,
    "int64": _to_int,
    "bool": _to_bool,
    "timestamp": _to_timestamp,
    "date": _to_date,
}


def _as_string(raw: ir.Value, column: Column) -> ir.StringValue:
    """Any column as trimmed text (blank → null); allowed values matched case-insensitively."""
    src = raw.type()
    if src.is_string():
        text = _text(raw)
    elif src.is_floating() or src.is_decimal():
        # ids stored as floats (pandas does that to integer columns with gaps): 123.0 → "123"
        whole = _whole(raw)
        text = ibis.coalesce(whole.cast("string"), _no_nan(raw).cast("string"))
    else:
        text = raw.cast("string")
    if column.allowed:
        lower = text.lower()
        text = ibis.cases(*[(lower == a.lower(), a) for a in column.allowed], else_=text)
    return text
