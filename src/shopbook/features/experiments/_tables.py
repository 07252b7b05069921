"""Reading the tables an experiment needs (shared by the modules of this package)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shopbook.errors import ContractError


def _has(tables: Any, name: str) -> bool:
    if hasattr(tables, "kept") and hasattr(tables, "tables"):  # ValidationReport
        return name in tables.tables
    if isinstance(tables, Mapping):
        return name in tables
    if hasattr(tables, "has"):
        return bool(tables.has(name))
    return False


def _get(tables: Any, name: str) -> ir.Table:
    """Table ``name`` from a ValidationReport (its kept rows) or a mapping of ibis tables."""
    if not _has(tables, name):
        raise ContractError(
            table=name,
            expected=f"table {name!r} (an experiment readout needs it)",
            found="no such table in the source",
            fix=f"add {name} to the source, or pass a per-unit table through from_frame()",
        )
    if hasattr(tables, "kept"):
        return tables.kept(name)
    if isinstance(tables, Mapping):
        t = tables[name]
        return t if isinstance(t, ir.Table) else ibis.memtable(t)
    return tables.table(name)


def _assignments(tables: Any, experiment_id: str) -> ir.Table:
    a = _get(tables, "assignments")
    return a.filter(a.experiment_id == experiment_id).select("unit_id", "variant", "assigned_ts")
