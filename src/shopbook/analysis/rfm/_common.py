"""Helpers shared inside :mod:`shopbook.analysis.rfm` (not part of its public API)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopbook.errors import ContractError
from shopbook.features.orders import PURCHASE_STATUSES

#: Number of score levels (quintiles).
LEVELS = 5


def grid(rules: pd.DataFrame, where: str = "rules") -> np.ndarray:
    """A 5 × 5 array of names: cell [r-1, fm-1] is the rule covering (r_score, fm_score).

    Raises
    ------
    ValueError
        Two rules cover one cell, or no rule covers a cell (the message names it).
    """
    cells = np.full((LEVELS, LEVELS), None, dtype=object)
    for row in rules.itertuples(index=False):
        for r in range(row.r_min, row.r_max + 1):
            for fm in range(row.fm_min, row.fm_max + 1):
                if cells[r - 1, fm - 1] is not None:
                    raise ValueError(
                        f"{where}: cell r_score={r}, fm_score={fm} is covered by both "
                        f"{cells[r - 1, fm - 1]!r} and {row.name!r}; rules must not overlap"
                    )
                cells[r - 1, fm - 1] = row.name
    empty = np.argwhere(cells == None)  # noqa: E711 - elementwise on an object array
    if len(empty):
        r, fm = empty[0] + 1
        raise ValueError(
            f"{where}: no rule covers r_score={r}, fm_score={fm}; "
            "every cell of the 5 × 5 grid needs exactly one rule"
        )
    return cells


def names(rules: pd.DataFrame, scheme: str) -> list[str]:
    """The names of one scheme, best rank first."""
    part = rules[rules["scheme"] == scheme].drop_duplicates("name")
    return part.sort_values("rank", kind="stable")["name"].tolist()


def empty_window_error(customers: pd.DataFrame) -> ContractError:
    """The error for a :func:`~shopbook.features.rfm.customer_rfm` frame with no customer.

    Reads the window from ``customers.attrs`` (``asof``, ``window_start``, ``statuses``,
    ``order_span``).
    """
    attrs = customers.attrs
    asof = attrs.get("asof")
    start = attrs.get("window_start")
    statuses = attrs.get("statuses", PURCHASE_STATUSES)
    if asof is None:
        window = "the window"
    elif start is not None:
        window = f"the window [{pd.Timestamp(start).date()}, {pd.Timestamp(asof).date()})"
    else:
        window = f"the window before {pd.Timestamp(asof).date()}"
    span = attrs.get("order_span")
    found = (
        "no orders at all" if span is None else f"none; the orders run from {span[0]} to {span[1]}"
    )
    return ContractError(
        table="orders",
        column="order_ts",
        expected=f"{'/'.join(statuses)} orders in {window}",
        found=found,
        fix="choose an asof after the first order, a longer lookback, or other statuses",
    )
