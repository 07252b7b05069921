"""Every text of a notebook a reader sees has a Chinese entry (issue 17).

Markdown cells are translated whole when a ``lang=zh`` run is rendered
(:func:`shopbook.i18n.markdown`), so each cell's source is a key of the zh catalogue. The
literals a notebook passes to the decision helpers — :func:`shopbook.notebook.cards.say`
templates, :class:`~shopbook.notebook.cards.Card` labels and units — are translated in
the kernel, so they are keys too, and so is every literal a code cell wraps in ``_()``
(``md`` templates, captions, headline labels, skipped sections; no code cell may rebind
``_``: ``for _, row in …`` would shadow the lookup). Every entry keeps the English text's
placeholders. The report pages' own labels (the index template's ``_("…")``, the
statuses) are checked here as well.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from shopbook.i18n import catalogue, placeholders, wrapped
from shopbook.report import render

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _tree(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except SyntaxError:  # IPython magics: not ours to read
        return None


def _literals(source: str) -> list[str]:
    """The English texts a code cell wraps in ``_()`` or hands to ``say`` and ``Card``."""
    tree = _tree(source)
    if tree is None:
        return []
    found = [message for message, _line in wrapped(tree)]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in ("say", "Card"):
            continue
        args = node.args[:1] + [k.value for k in node.keywords if k.arg in ("label", "unit")]
        for arg in args:
            options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            found += [
                o.value for o in options if isinstance(o, ast.Constant) and isinstance(o.value, str)
            ]
    return found


def _texts(path: Path) -> list[tuple[str, str]]:
    nb = nbformat.read(path, as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.strip():
            out.append((f"markdown cell {i}", cell.source))
        elif cell.cell_type == "code":
            out += [(f"code cell {i}", text) for text in _literals(cell.source)]
    return out


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 8


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_notebook_text_has_a_chinese_entry(path):
    zh = catalogue("zh")
    missing, wrong = [], []
    for where, text in _texts(path):
        entry = zh.get(text.strip())
        if entry is None:
            missing.append(f"{where}: {text[:70]!r}")
        elif placeholders(entry) != placeholders(text):
            wrong.append(f"{where}: {sorted(placeholders(text))} vs {sorted(placeholders(entry))}")
        # an entry may keep codes (ABC / XYZ, ROAS) but not English words
        elif not CJK.search(entry) and re.search(r"[a-z]{3,}", re.sub(r"\{[^}]*\}", "", text)):
            wrong.append(f"{where}: the entry is not Chinese: {entry[:60]!r}")
    assert not missing, f"{path.name}: no zh entry for\n" + "\n".join(missing)
    assert not wrong, f"{path.name}: placeholders differ\n" + "\n".join(wrong)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_code_cell_rebinds_the_lookup(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        tree = _tree(cell.source) if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                pytest.fail(f"{path.name} cell {i} assigns to _, which shadows shopbook.i18n._")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_markdown_headings_stay_headings(path):
    """A translated cell keeps the heading levels, so the contents and anchors still work."""
    zh = catalogue("zh")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown" or cell.source.strip() not in zh:
            continue
        levels = re.findall(r"^(#+) ", cell.source, re.M)
        assert re.findall(r"^(#+) ", zh[cell.source.strip()], re.M) == levels, cell.source[:60]


def test_report_page_labels_have_chinese_entries():
    zh = catalogue("zh")
    template = (render.TEMPLATES / "index" / "runs.html.j2").read_text(encoding="utf-8")
    labels = re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', template)
    labels += list(render._FRESHNESS_LABEL.values()) + list(render._STATUS_TEXT.values())
    assert len(labels) > 15
    missing = [t for t in labels if t not in zh]
    assert not missing, f"no zh entry for report labels: {missing}"
    assert {placeholders(t) == placeholders(zh[t]) for t in labels} == {True}
