"""What a report page shows of an executed notebook: the brief's cells, the reader's language.

**The brief is a decision page** (issue 17). A notebook marks the cells that make it up
with the tag ``brief`` — its *Decision* section (headline cards, what changed, what it
means, what to do, one or two figures) and at most a few key cells further down. The
brief shows the notebook's opening question (the first sentence of its first Markdown
cell; the header shows the title), then
those cells' Markdown and outputs, in notebook order, without code; the header links the
full report for everything else. A notebook with no ``brief`` cell gets the old brief:
every cell but the parameters and the cells tagged ``hide-brief``, code hidden.

**A failed brief says plainly which section failed** — the last heading above the failing
cell — and points to the full report, where papermill's marker shows the failing cell;
the brief drops papermill's ``An Exception was encountered at 'In [3]'`` cells and
tracebacks.

**Markers are not text.** Comment lines that only steer tools (``# NBVAL_CHECK_OUTPUT``,
``# NBVAL_SKIP`` …) are removed from code cells before the full report is rendered.

**Language.** A notebook that ran with the ``lang`` parameter ``zh`` has its Markdown cells
translated when rendered (:func:`shopbook.i18n.markdown`, whole cell source as the key,
entries in ``shopbook/i18n/zh/notebooks.yml``); its outputs were written in Chinese by the
kernel already.

**The ⓘ of a skipped section** is drawn by CSS (``.sb-info``) instead of the U+24D8 glyph,
which many fonts lack (it rendered as a box).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import nbformat

from shopbook.i18n import LANGS, markdown

#: Tag of the cells that make up the brief.
BRIEF_TAG = "brief"
#: Tags of cells a brief never shows.
HIDDEN_TAGS = frozenset({"parameters", "injected-parameters", "hide-brief"})
#: papermill's tag on the cells it inserts around a failing cell.
ERROR_MARKER_TAG = "papermill-error-cell-tag"

#: A comment line that only steers a tool (nbval, papermill, ruff, mypy).
_MARKER_LINE = re.compile(
    r"^[ \t]*#[ \t]*(?:NBVAL_\w+|noqa\b[^\n]*|type:\s*ignore\b[^\n]*)[ \t]*\n?", re.M
)
_HEADING_LINE = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$", re.M)
_INFO = "ⓘ"
_INFO_HTML = '<span class="sb-info" aria-label="note" role="img">i</span>'


def strip_markers(source: str) -> str:
    """``source`` without the comment lines that only steer tools (``# NBVAL_CHECK_OUTPUT``)."""
    return _MARKER_LINE.sub("", source)


def notebook_lang(nb: nbformat.NotebookNode, entry: Mapping[str, Any] | None = None) -> str:
    """The language the notebook ran in: its ``lang`` parameter (``"en"`` when absent)."""
    params = dict((entry or {}).get("parameters") or {})
    if "lang" not in params:
        params = dict(nb.metadata.get("papermill", {}).get("parameters") or {})
    lang = str(params.get("lang") or "en").strip().lower()
    return lang if lang in LANGS else "en"


def _copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _tags(cell: Any) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _info_icon(outputs: list[Any]) -> None:
    """Replace the ⓘ glyph of markdown outputs by a CSS-drawn icon (in place)."""
    for o in outputs:
        data = o.get("data") or {}
        if isinstance(data.get("text/markdown"), str) and _INFO in data["text/markdown"]:
            data["text/markdown"] = data["text/markdown"].replace(_INFO, _INFO_HTML)


def prepare(nb: nbformat.NotebookNode, lang: str = "en") -> nbformat.NotebookNode:
    """A copy of ``nb`` for the full report: markers removed, Markdown in ``lang``, ⓘ drawn."""
    nb = _copy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_markers(cell.source)
            _info_icon(cell.get("outputs", []))
        elif cell.cell_type == "markdown" and lang != "en":
            cell.source = markdown(cell.source, lang)
    return nb


def _section_of(cells: list[Any], index: int) -> str | None:
    """The last Markdown heading at or above ``cells[index]`` (its text), if any."""
    for cell in reversed(cells[: index + 1]):
        if cell.cell_type == "markdown":
            found = _HEADING_LINE.findall(cell.source)
            if found:
                return found[-1][1]
    return None


def failed_section(nb: nbformat.NotebookNode) -> tuple[str | None, str] | None:
    """``(section, "Name: first line")`` of the first failing cell, or ``None``."""
    cells = [c for c in nb.cells if ERROR_MARKER_TAG not in _tags(c)]
    for i, cell in enumerate(cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                msg = (o.get("evalue") or "").strip().splitlines()
                text = f"{o.get('ename', 'Error')}: {msg[0]}" if msg else o.get("ename", "Error")
                return _section_of(cells, i), text
    return None


def _title_cell(cell: Any) -> Any:
    """The first Markdown cell cut to its opening question: the first sentence after the
    heading (the page header shows the title itself)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", cell.source.strip()) if p.strip()]
    if paragraphs and paragraphs[0].lstrip().startswith("#"):
        paragraphs = paragraphs[1:]
    first = " ".join(paragraphs[0].split()) if paragraphs else ""
    sentence = re.split(r"(?<=[.?!])\s+|(?<=[。？！])", first, maxsplit=1)[0]
    out = nbformat.from_dict(json.loads(json.dumps(cell)))
    out.source = f"*{sentence}*" if sentence else ""
    return out


def _code_outputs(cell: Any) -> Any:
    """A code cell's outputs for a reader: no stderr, no error outputs (the header says it)."""
    cell.outputs = [
        o
        for o in cell.outputs
        if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        and o.get("output_type") != "error"
    ]
    return cell


def brief_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The brief's copy of an already :func:`prepare`-d notebook (see the module doc)."""
    nb = _copy(nb)
    cells = [c for c in nb.cells if ERROR_MARKER_TAG not in _tags(c)]
    tagged = any(BRIEF_TAG in _tags(c) for c in cells)
    keep = []
    for i, cell in enumerate(cells):
        tags = _tags(cell)
        if tags & HIDDEN_TAGS:
            continue
        first_markdown = cell.cell_type == "markdown" and not any(
            c.cell_type == "markdown" for c in cells[:i]
        )
        if tagged and BRIEF_TAG not in tags:
            if first_markdown:
                keep.append(_title_cell(cell))
            continue
        keep.append(_code_outputs(cell) if cell.cell_type == "code" else cell)
    nb.cells = keep
    return nb


def has_cards(nb: nbformat.NotebookNode) -> bool:
    """Whether the notebook shows headline cards (:mod:`shopbook.notebook.cards`)."""
    from shopbook.notebook.cards import CARDS_MIME

    return any(CARDS_MIME in (o.get("data") or {}) for c in nb.cells for o in c.get("outputs", []))
