"""Re-execute the committed notebooks in place, so their outputs match the default data.

``make notebooks`` runs::

    python -m shopbook.report.refresh notebooks            # every NN_*.ipynb
    python -m shopbook.report.refresh notebooks/00_data_health.ipynb

Each notebook runs through papermill in the ``shopbook`` kernel with its own default
parameters (nothing is injected) and with the notebook's folder as the working
directory — as JupyterLab and ``pytest --nbval-lax`` run it — so the committed outputs
are what ``nbval`` reproduces. The default data is ``SHOPBOOK_SOURCE`` or
``data/shop.duckdb``; ``--source`` sets ``SHOPBOOK_SOURCE`` for the run (nbval then needs
the same variable). papermill's timing metadata is removed to keep diffs small. A
notebook that fails is left as it was and the command exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat


def notebooks_in(paths: list[str]) -> list[Path]:
    """``NN_*.ipynb`` files of the given folders, plus the given files."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(x for x in p.glob("[0-9][0-9]_*.ipynb"))
        elif p.is_file():
            out.append(p)
        else:
            raise SystemExit(f"error: no notebook or folder {p}")
    return out


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop papermill's run metadata (timings, status) and execution timestamps."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.get("cell_type") == "code":
            for o in cell.get("outputs", []):
                if o.get("output_type") == "execute_result":
                    o.setdefault("metadata", {})
    return nb


def refresh(path: Path, timeout: float | None = None) -> str | None:
    """Execute ``path`` in place; return the error line, or ``None`` when it ran."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from shopbook.report.execute import kernel_manager_class, kernel_name

    kernel, _ = kernel_name()
    tmp = path.with_name(f".{path.stem}.refresh.ipynb")
    try:
        papermill.execute_notebook(
            str(path),
            str(tmp),
            kernel_name=kernel,
            progress_bar=False,
            cwd=str(path.parent.resolve()),
            execution_timeout=timeout,
            kernel_manager_class=kernel_manager_class(),
        )
        nb = clean(nbformat.read(str(tmp), as_version=4))
        nbformat.write(nb, str(tmp))
        os.replace(tmp, path)
        return None
    except PapermillExecutionError as exc:
        msg = (exc.evalue or "").strip().splitlines()
        return f"{exc.ename}: {msg[0]}" if msg else exc.ename
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shopbook.report.refresh", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "paths", nargs="*", default=["notebooks"], help="notebooks or folders (default: notebooks)"
    )
    parser.add_argument(
        "--source", help="set SHOPBOOK_SOURCE for the run (default: data/shop.duckdb)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds one cell may run (a positive number; default: no limit)",
    )
    args = parser.parse_args(argv)
    from shopbook.report.execute import check_timeout
    from shopbook.report.jobs import RunError

    try:
        check_timeout(args.timeout)
    except RunError as exc:
        parser.error(str(exc))
    if args.source:
        # relative paths are found from the notebook folder too (config.resolve_source)
        os.environ["SHOPBOOK_SOURCE"] = args.source
    failed = 0
    for path in notebooks_in(args.paths):
        t0 = time.monotonic()
        error = refresh(path, args.timeout)
        status = "ok    " if error is None else "FAILED"
        print(
            f"{status} {path} ({time.monotonic() - t0:.1f} s){': ' + error if error else ''}",
            flush=True,
        )
        failed += error is not None
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
