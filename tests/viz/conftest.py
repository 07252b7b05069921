"""Fixtures of the viz tests: the Agg backend, closed figures, and one drawing check.

``draw(fn, *args, **kwargs)`` calls a plotting function with ``ax=`` a fresh axes and
checks the contract every :mod:`shopbook.viz` function documents: the same axes come
back, no figure other than the one made for it exists afterwards, and the matplotlib
settings are untouched. It returns the axes for the test's own checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    plt.close("all")
    yield
    plt.close("all")


def _settings() -> dict[str, Any]:
    return {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}


@pytest.fixture
def draw() -> Callable[..., Any]:
    """``draw(fn, *args, **kwargs)``: ``fn(*args, ax=<new axes>, **kwargs)``, contract checked."""

    def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        fig, ax = plt.subplots()
        before, settings = plt.get_fignums(), _settings()
        out = fn(*args, ax=ax, **kwargs)
        assert out is ax, f"{fn.__name__} did not return the axes it was given"
        assert plt.get_fignums() == before, f"{fn.__name__} opened a figure of its own"
        assert ax.figure is fig
        assert _settings() == settings, f"{fn.__name__} changed matplotlib's settings"
        return ax

    return call


@pytest.fixture
def draw_new() -> Callable[..., Any]:
    """``draw_new(fn, *args, **kwargs)``: ``fn`` without ``ax``; exactly one new figure."""

    def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from matplotlib.axes import Axes

        before = set(plt.get_fignums())
        out = fn(*args, **kwargs)
        new = set(plt.get_fignums()) - before
        assert len(new) == 1, f"{fn.__name__} without ax made {len(new)} figures"
        assert isinstance(out, Axes)
        assert out.figure.number in new
        return out

    return call


@pytest.fixture(scope="session")
def shop_report(synthetic_shop):
    """The validated small synthetic shop (1,500 customers, seed 3), for end-to-end figures."""
    from shopbook.data.validation import validate

    return validate(synthetic_shop(customers=1500, seed=3).tables)
