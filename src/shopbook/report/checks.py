"""One validation per run: each source that several notebooks read is validated once, by
the runner, and its kernels read the checked tables (:mod:`shopbook.data.validation.shared`).

On the shipped shop this takes about 2 CPU s off each notebook's first cell (the rules
compiled and run again in every kernel) for about 3 s once, before the kernels start.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from shopbook import config
from shopbook.report.plan import NotebookTask


def _source_of(task: NotebookTask) -> tuple[str, str] | None:
    """The task's ``source`` and ``mapping`` (given, else the notebook's defaults), ``None``
    if it reads no source."""
    if "source" not in task.declared or task.error or task.path is None:
        return None
    return _parameter(task, "source"), _parameter(task, "mapping")


def _parameter(task: NotebookTask, name: str) -> str:
    if name in task.parameters:
        return str(task.parameters[name] or "")
    try:  # papermill gives a default as its source text, e.g. '""'
        return str(ast.literal_eval(task.declared.get(name, {}).get("default") or '""'))
    except (ValueError, SyntaxError):
        return ""


@contextmanager
def shared_checks(tasks: Sequence[NotebookTask]) -> Iterator[dict[str, str]]:
    """Validate each source two or more of ``tasks`` read, once, for their kernels.

    Yields
    ------
    dict
        The environment variables the kernels get (``{}`` when nothing was saved); the
        saved checks are removed on exit.

    Notes
    -----
    A source that cannot be validated here (a broken table, an engine other than DuckDB)
    is left to each notebook, which validates it and reports what it finds as always.
    """
    from shopbook.data.validation import shared, validate

    sources = Counter(s for s in map(_source_of, tasks) if s is not None)
    folder = Path(tempfile.mkdtemp(prefix="shopbook-checked-"))  # private to the user
    try:
        saved = False
        for (source, mapping), readers in sources.items():
            uri = config.resolve_source(source)
            if readers < 2 or not Path(uri).exists():  # only files and folders DuckDB reads
                continue
            try:
                report = validate(uri, mapping=mapping or None)
            except Exception:  # noqa: BLE001, S112 - each notebook validates and reports it
                continue
            # not closed here: its cached tables drop themselves when the report goes
            saved = shared.save(report, folder) or saved
            del report
        yield {shared.VARIABLE: str(folder)} if saved else {}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
