"""What a reader sees, in their language: one message catalogue per language.

The catalogue is gettext-style — the English text is the key — and lives in YAML files,
``shopbook/i18n/<lang>/*.yml`` (one file per area: ``kpi.yml``, ``viz.yml``, notebook
narratives in ``notebooks.yml`` …); every file of a language is merged, and the same
English text given two different translations is an error. The vocabulary is that of
生意参谋 (访客数, 支付转化率, 客单价, 支付金额, 复购率 …).

In code, wrap every English string a reader sees in :func:`_` (formatting *after* the
lookup, so the placeholders stay in the key)::

    from shopbook.i18n import _
    note = _("{n:,} orders kept").format(n=kept)

The language is set once per session (:func:`shopbook.notebook.setup` calls
:func:`set_lang` with the notebook's ``lang`` parameter); markdown cells of a notebook
are translated when the report is rendered (:func:`markdown`). ``tests/test_i18n.py``
checks that every wrapped string and every markdown cell has a Chinese entry with the
same placeholders.
"""

from __future__ import annotations

import ast
import functools
import re
import string
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

import yaml

__all__ = [
    "LANGS",
    "_",
    "catalogue",
    "get_lang",
    "markdown",
    "messages_in_source",
    "placeholders",
    "set_lang",
    "translate",
    "use_lang",
]

#: the languages a report can be written in; English is the source language
LANGS = ("en", "zh")
_STATE = {"lang": "en"}


def set_lang(lang: str) -> None:
    """Set the language of every message from now on (``"en"`` or ``"zh"``).

    Raises
    ------
    ValueError
        For a language Shopbook has no catalogue for.
    """
    lang = str(lang).strip().lower()
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    _STATE["lang"] = lang


def get_lang() -> str:
    """The current language (default ``"en"``)."""
    return _STATE["lang"]


class use_lang:  # noqa: N801 - used as a context manager, like a function
    """Context manager: messages in ``lang`` inside the block, the previous language after."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.before = get_lang()

    def __enter__(self) -> str:
        self.before = get_lang()
        set_lang(self.lang)
        return self.lang

    def __exit__(self, *exc: object) -> None:
        _STATE["lang"] = self.before


def _files(lang: str) -> Iterator[tuple[str, str]]:
    folder = resources.files("shopbook.i18n").joinpath(lang)
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yml", ".yaml")):
            yield entry.name, entry.read_text(encoding="utf-8")


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of ``lang``: ``{English text: translation}`` (empty for ``"en"``).

    Raises
    ------
    ValueError
        When a file is not a mapping of text to text, or one English text has two
        different translations.
    """
    if lang == "en":
        return {}
    merged: dict[str, str] = {}
    where: dict[str, str] = {}
    for name, text in _files(lang):
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            raise ValueError(f"i18n/{lang}/{name}: expected a mapping of English text to {lang}")
        for key, value in data.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(
                    f"i18n/{lang}/{name}: entry {key!r} must map text to text, got {value!r}"
                )
            key = _norm(key)
            if key in merged and merged[key] != value:
                raise ValueError(
                    f"i18n/{lang}: {key!r} is translated differently in {where[key]} and {name}"
                )
            merged[key], where[key] = value, name
    return merged


def _norm(text: str) -> str:
    return text.strip()


def translate(message: str, lang: str | None = None) -> str:
    """``message`` in ``lang`` (default: the current language); itself when there is no entry."""
    lang = lang or get_lang()
    if lang == "en":
        return message
    return catalogue(lang).get(_norm(message), message)


def _(message: str) -> str:
    """``message`` in the current language (the gettext convention)."""
    return translate(message)


def markdown(source: str, lang: str | None = None) -> str:
    """A notebook markdown cell in ``lang``: the whole cell's entry, or the source unchanged."""
    return translate(source, lang)


def placeholders(text: str) -> set[str]:
    """The ``str.format`` field names in ``text`` (``"{n:,} of {total}"`` → ``{"n", "total"}``)."""
    names = set()
    try:
        for _lit, field, _spec, _conv in string.Formatter().parse(text):
            if field is not None:
                names.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    except ValueError:
        return set()
    return names


def messages_in_source(paths: Iterable[Path] | None = None) -> dict[str, str]:
    """Every literal passed to :func:`_` in the package: ``{message: "file:line"}``."""
    if paths is None:
        root = Path(__file__).resolve().parents[1]
        paths = sorted(root.rglob("*.py"))
    found: dict[str, str] = {}
    for path in paths:
        for message, line in wrapped(ast.parse(Path(path).read_text(encoding="utf-8"))):
            found.setdefault(_norm(message), f"{Path(path).name}:{line}")
    return found


def wrapped(tree: ast.AST) -> list[tuple[str, int]]:
    """Every string literal passed to :func:`_` in ``tree`` (parsed code), with its line."""
    return [
        (node.args[0].value, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]
