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
