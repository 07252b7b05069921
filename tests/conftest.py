"""Fixtures shared by the whole suite: the synthetic shop, CDNOW, and one set of row builders.

* ``synthetic_shop(customers=…, seed=…, **kwargs)`` — a seeded synthetic shop
  (:func:`shopbook.data.synthetic.generate`), built once per configuration per test
  process, so modules that ask for the same shop share it.
* ``cdnow`` / ``cdnow_sample`` — the real CDNOW orders (23,570 customers) and the published
  2,357-customer sample, as contract ``orders`` frames.
* ``make_orders(rows, …)`` — contract ``orders`` from short tuples
  ``(customer_id, order_ts, net_amount[, status[, channel]])``;
  ``make_items(rows)`` — contract ``order_items`` from
  ``(order_id, sku, quantity, unit_price[, unit_cost])``.

Builders are fixtures that return the function (pytest's factory pattern), so a test asks
for ``make_orders`` by name instead of importing a helper module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import pandas as pd
import pytest

from shopbook.data import samples

ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "order_ts",
    "channel",
    "status",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "currency",
)


def orders_frame(
    rows: Iterable[Sequence[Any]],
    *,
    channel: str = "site",
    currency: str = "CNY",
    id_prefix: str = "o",
) -> pd.DataFrame:
    """Contract ``orders`` from ``(customer_id, order_ts, net_amount[, status[, channel]])``.

    ``order_id`` is ``o0, o1, …`` in row order; ``status`` defaults to ``"paid"``; gross equals
    net (no discount).
    """
    out = []
    for i, row in enumerate(rows):
        cid, ts, amount, *rest = row
        out.append(
            {
                "order_id": f"{id_prefix}{i}",
                "customer_id": cid,
                "order_ts": pd.Timestamp(ts),
                "channel": rest[1] if len(rest) > 1 else channel,
                "status": rest[0] if rest else "paid",
                "gross_amount": amount,
                "discount_amount": 0.0,
                "net_amount": amount,
                "currency": currency,
            }
        )
    return pd.DataFrame(out, columns=list(ORDER_COLUMNS))


def items_frame(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Contract ``order_items`` from ``(order_id, sku, quantity, unit_price[, unit_cost])``.

    ``list_price`` equals ``unit_price``; a missing ``unit_cost`` is null.
    """
    out = []
    for row in rows:
        order_id, sku, quantity, unit_price, *rest = row
        out.append(
            {
                "order_id": order_id,
                "sku": sku,
                "quantity": int(quantity),
                "unit_price": float(unit_price),
                "list_price": float(unit_price),
                "unit_cost": rest[0] if rest else None,
            }
        )
    return pd.DataFrame(out)


@cache
def _shop(customers: int, seed: int, items: tuple[tuple[str, Any], ...]) -> Any:
    from shopbook.data.synthetic import generate

    return generate(customers=customers, seed=seed, **dict(items))


@pytest.fixture(scope="session")
def synthetic_shop() -> Callable[..., Any]:
    """``synthetic_shop(customers=4000, seed=0, **kwargs)``: a generated shop, cached per config.

    The returned object is shared: treat its tables as read-only (copy before changing).
    """

    def build(customers: int = 4000, seed: int = 0, **kwargs: Any) -> Any:
        return _shop(customers, seed, tuple(sorted(kwargs.items())))

    return build


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    """All CDNOW orders (23,570 customers, 1997–98) as contract ``orders``."""
    return samples.cdnow()


@pytest.fixture(scope="session")
def cdnow_sample() -> pd.DataFrame:
    """The published 2,357-customer CDNOW sample as contract ``orders``."""
    return samples.cdnow_sample()


@pytest.fixture(scope="session")
def make_orders() -> Callable[..., pd.DataFrame]:
    """The :func:`orders_frame` builder."""
    return orders_frame


@pytest.fixture(scope="session")
def make_items() -> Callable[..., pd.DataFrame]:
    """The :func:`items_frame` builder."""
    return items_frame
