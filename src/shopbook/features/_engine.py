"""Expressions that mean the same on every engine (private to :mod:`shopbook.features`).

DuckDB casts a boolean to any integer; PostgreSQL only to ``int4`` (``CAST(b AS BIGINT)``
fails with *cannot cast type boolean to bigint*), and Spark's ANSI mode is strict about
casts as well. A 0/1 flag and a count of rows meeting a condition are therefore written
as ``CASE WHEN … THEN 1 ELSE 0 END`` here, which every engine reads alike.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

_ONE = ibis.literal(1, "int64")
_ZERO = ibis.literal(0, "int64")


def flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    """``condition`` as an int64 0/1 (a null condition is 0)."""
    return ibis.ifelse(condition, _ONE, _ZERO)


def count_if(condition: ir.BooleanValue) -> ir.IntegerScalar:
    """How many rows meet ``condition`` (an int64 aggregate; nulls do not count)."""
    return flag(condition).sum()
