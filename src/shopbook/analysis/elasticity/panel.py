"""The panel an elasticity report starts from, and the picks made on it.

:func:`analysable` says whether there is anything to estimate (the one skip reason every
section shares) and adds the demand history; :func:`pick_category` and :func:`top_skus`
choose what the cross-price and pricing sections look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from shopbook.analysis.elasticity._common import need
from shopbook.analysis.elasticity.history import demand_history, history_columns
from shopbook.analysis.result import Result

#: Why nothing is estimated on a source without order lines (CDNOW, say).
NO_ORDER_LINES = (
    "the source has no order lines (order_items): it holds orders only, so there are no "
    "prices per product and nothing to estimate"
)

#: Why nothing is estimated on a source whose order lines include no purchase.
NO_SALES = "no paid order line"

#: Category label of SKUs without a category.
NO_CATEGORY = "(no category)"


@dataclass
class PanelData(Result):
    """The SKU × week panel, ready for the estimates, or why there is none.

    Attributes
    ----------
    table
        The panel with missing categories labelled :data:`NO_CATEGORY` and the demand
        history columns added (:func:`demand_history`).
    history
        The lagged-units columns (``log_units_lag1`` …): the demand the shop reacted to.
    discounts
        The lagged discount-depth columns (``discount_lag1`` …).
    problems
        Why there is nothing to estimate (:data:`NO_ORDER_LINES`, :data:`NO_SALES`).
    """

    history: list[str] = field(default_factory=list)
    discounts: list[str] = field(default_factory=list)


def analysable(
    panel: pd.DataFrame | None,
    history_weeks: int = 2,
    quantity: str = "units",
    entity: str = "sku",
    time: str = "week",
    depth: str = "discount_depth",
    group: str = "category",
) -> PanelData:
    """The panel with its demand history, or a skipped result saying why there is none.

    Parameters
    ----------
    panel
        The executed SKU × week panel (:func:`shopbook.features.panels.sku_week_frame`)
        with ``quantity``, ``entity``, ``time``, ``depth`` and ``group``; ``None`` when the
        source has no order lines.
    history_weeks
        Periods of demand history to add (``log_units_lag1`` … and ``discount_lag1`` …).

    Returns
    -------
    PanelData
        ``ok()`` when there is at least one SKU-week; else ``why()`` is
        :data:`NO_ORDER_LINES` (no panel) or :data:`NO_SALES` (an empty one).
    """
    if panel is None:
        return PanelData.skipped(NO_ORDER_LINES)
    if not len(panel):
        return PanelData.skipped(NO_SALES, table=panel)
    need(panel, [quantity, entity, time, depth, group])
    table = panel.assign(**{group: panel[group].fillna(NO_CATEGORY)})
    lags = list(range(1, history_weeks + 1))
    table = demand_history(table, quantity, entity, time, lags=lags, depth=depth)
    return PanelData(
        table=table,
        history=history_columns(lags),
        discounts=history_columns(lags, depth=True),
    )


def pick_category(
    panel: pd.DataFrame, category: Any = "", group: str = "category", quantity: str = "units"
) -> Any:
    """``category`` when the panel has it, else the category with the most units.

    Parameters
    ----------
    panel
        Rows with ``group`` and ``quantity``.
    category
        The category asked for (``""``: none).

    Returns
    -------
    The category, or ``None`` for an empty panel.
    """
    need(panel, [group, quantity])
    cats = panel.groupby(group)[quantity].sum().sort_values(ascending=False)
    if not len(cats):
        return None
    return category if category in cats.index else cats.index[0]


def top_skus(
    panel: pd.DataFrame,
    category: Any,
    k: int = 5,
    group: str = "category",
    entity: str = "sku",
    quantity: str = "units",
) -> list[Any]:
    """The ``k`` best-selling SKUs (most units) of ``category``, best first.

    Parameters
    ----------
    panel
        Rows with ``group``, ``entity`` and ``quantity``.
    """
    need(panel, [group, entity, quantity])
    in_cat = panel[panel[group] == category]
    units = in_cat.groupby(entity)[quantity].sum().sort_values(ascending=False)
    return units.index[:k].tolist()
