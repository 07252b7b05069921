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
* ``tier_upgrade_effect(shop)`` — the tier-upgrade regression discontinuity of a synthetic
  shop, computed as notebook 09 does (shipped tier rules, the generator's 30 days).

The builders live in :mod:`tests.builders` (import them where a plain function reads
better); the fixtures hand out the same functions (pytest's factory pattern).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pandas as pd
import pytest

from shopbook.data import samples
from tests.builders import items_frame, orders_frame


@pytest.fixture(scope="session", autouse=True)
def _private_paths(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Keep the suite's pseudonym key and private files (CRM lists) out of the home folder.

    A test that needs another key file or private folder sets the variable itself.
    """
    import os

    base = tmp_path_factory.mktemp("private-paths")
    saved = {v: os.environ.get(v) for v in ("SHOPBOOK_PII_KEY_FILE", "SHOPBOOK_PRIVATE")}
    os.environ.setdefault("SHOPBOOK_PII_KEY_FILE", str(base / "pii.key"))
    os.environ.setdefault("SHOPBOOK_PRIVATE", str(base / "private"))
    yield
    for var, value in saved.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


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


@pytest.fixture(scope="session")
def tier_upgrade_effect() -> Callable[[Any], Any]:
    """``shop → analysis.loyalty.upgrade_effect(...)`` over the shop's orders, as 09 computes it."""
    from shopbook.analysis import loyalty as loy
    from shopbook.data.synthetic.parameters import LOYALTY
    from shopbook.features import loyalty as fl

    def effect(shop: Any) -> Any:
        orders = shop.tables["orders"]
        rules = loy.load_tier_rules()
        paths = loy.tier_paths(fl.monthly_spend(orders), rules)
        days = LOYALTY["tiers"]["days"]
        bought = fl.review_purchases(orders, paths.reviews, days)
        return loy.upgrade_effect(paths, bought, rules, orders["order_ts"].max(), days)

    return effect
