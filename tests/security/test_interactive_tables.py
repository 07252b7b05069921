"""Interactive tables (itables, offline) escape data strings like the static ones (DESIGN §6)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from shopbook.notebook import tables
from shopbook.notebook.tables import show

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</script><b>x</b>"]


@pytest.fixture
def displayed(monkeypatch):
    shown: list = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    monkeypatch.setitem(tables._STATE, "library_sent", True)  # the table, not the library
    return shown


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_product_name_shows_literally_in_an_interactive_table(displayed, name):
    frame = pd.DataFrame(
        {"sku": [f"S{i}" for i in range(30)], "name": [name] * 30, name: range(30)}
    )
    show(frame, caption=name, interactive=True)
    (out,) = displayed
    page = out["text/html"]
    assert "new ITable" in page
    # the only tags are Shopbook's and itables' own: no data string reaches the page as HTML
    assert name not in page
    assert "&lt;" in page
    scripts = re.findall(r"<script[^>]*>", page)
    assert all(s in ('<script type="module">', "<script>") for s in scripts), scripts
    assert "onerror=alert" not in re.sub(r"&lt;img src=x onerror=alert\(1\)&gt;", "", page)
