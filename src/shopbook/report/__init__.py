"""Running notebooks into shareable reports (``shopbook run``), one module per job.

* :mod:`~shopbook.report.jobs` — ``reports.yml`` jobs, date tokens, parameters.
* :mod:`~shopbook.report.plan` — what a run executes: notebooks and their parameters.
* :mod:`~shopbook.report.execute` — papermill: kernel, progress, one notebook.
* :mod:`~shopbook.report.runs` — run folders, atomic move, ``summary.json``, source
  fingerprints, signals: :func:`~shopbook.report.runs.run`.
* :mod:`~shopbook.report.render` — HTML pages, the run index, scrubbing secrets from
  executed notebooks (the rules are in :mod:`shopbook.redaction`).
* :mod:`~shopbook.report.cli` — the ``shopbook run`` command;
  :mod:`~shopbook.report.refresh` — ``python -m shopbook.report.refresh`` re-executes the
  committed notebooks in place.

These are imported on demand. The helpers notebooks use live in :mod:`shopbook.notebook`.
"""

import sys as _sys


def _import_jsonschema_without_iri_grammars() -> None:
    """Import jsonschema (nbformat's validator) without compiling rfc3987-syntax's grammars.

    At import, jsonschema registers the ``iri`` string format by importing
    ``rfc3987_syntax``, which compiles 39 lark grammars: 0.8 s of one core when the machine
    is quiet, 2–3 s under load, once per ``shopbook run`` before its first notebook starts.
    No notebook schema uses that format, so it is left out while jsonschema is imported;
    the module stays importable afterwards for any other caller.
    """
    if "jsonschema" in _sys.modules or "rfc3987_syntax" in _sys.modules:
        return
    _sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes its import fail
    try:
        import jsonschema  # noqa: F401
    except ImportError:  # pragma: no cover - nbformat will say what is missing
        pass
    finally:
        del _sys.modules["rfc3987_syntax"]


_import_jsonschema_without_iri_grammars()
