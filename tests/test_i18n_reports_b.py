"""Notebooks 03, 05, 06 and 08 in Chinese: every ``_()`` text of their code has a zh entry."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from shopbook import i18n

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
OWN = ("03_cohort_ltv", "05_price_elasticity", "06_ab_test", "08_channel_budget")


def notebook_messages(name: str) -> dict[str, int]:
    """Every literal passed to ``_()`` in the notebook's code cells: ``{message: cell}``."""
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    found: dict[str, int] = {}
    for k, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for message, _line in i18n.wrapped(ast.parse("".join(cell["source"]))):
            found.setdefault(message.strip(), k)
    return found


@pytest.mark.parametrize("name", OWN)
def test_every_notebook_message_has_a_chinese_entry(name: str) -> None:
    zh = i18n.catalogue("zh")
    found = notebook_messages(name)
    assert found, f"{name} wraps no text in _()"
    missing = {m: k for m, k in found.items() if m not in zh}
    assert not missing, f"{name}: {len(missing)} without a zh entry: {list(missing.items())[:15]}"
    for message in found:
        assert i18n.placeholders(zh[message]) == i18n.placeholders(message), message


def test_model_comparison_and_error_labels_are_chinese() -> None:
    from shopbook.analysis.clv.compare import ERROR_ROWS

    zh = i18n.catalogue("zh")
    assert all(label in zh for label in ERROR_ROWS.values())
