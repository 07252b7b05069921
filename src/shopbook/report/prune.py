"""``shopbook prune``: remove old runs, never a job's ``latest``.

Run folders accumulate (``<reports>/<job>/<run id>/``, one per scheduled run).
:func:`prune` keeps the ``keep`` newest runs of each job and the run ``latest`` points
at, removes the rest with their private files (``<private>/<job>/<run id>``: CRM lists
with real ids that only that run wrote) and rebuilds the index. ``dry_run`` lists what
would go and removes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from shopbook import config
from shopbook.report import render
from shopbook.report.jobs import RunError


def _shown(path: Path) -> str:
    """``path`` relative to the project folder when it lies there."""
    try:
        return path.resolve().relative_to(config.home().resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Pruned:
    """A run :func:`prune` removed (or would remove): its folder and private files."""

    job: str
    run_id: str
    folder: Path
    private: Path | None  # <private>/<job>/<run id>, when the run wrote files there


def _runs_of(job_dir: Path) -> list[Path]:
    """A job's run folders (``<run id>/summary.json``), oldest first; ``latest`` excluded."""

    def started(folder: Path) -> str:
        try:
            data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            return str(data.get("started") or "")
        except (OSError, ValueError):
            return ""

    folders = [
        p
        for p in job_dir.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        if (p / "summary.json").is_file()
    ]
    return sorted(folders, key=lambda p: (started(p), p.name))


def prune(
    keep: int,
    out: str | os.PathLike[str] | None = None,
    job: str | None = None,
    dry_run: bool = False,
) -> list[Pruned]:
    """Remove all but the ``keep`` newest runs of each job, never a job's ``latest``.

    Parameters
    ----------
    keep
        Runs kept per job (0 or more), newest first by their ``summary.json`` start time;
        the run ``latest`` points at is kept in any case.
    out
        The reports folder (default ``SHOPBOOK_REPORTS`` or ``reports/``).
    job
        Only this job (default: every job).
    dry_run
        Remove nothing; return what would go.

    Returns
    -------
    list of Pruned
        The runs removed (or that would be), oldest first. A removed run's files with
        real ids in the private folder (``<private>/<job>/<run id>``) go with it; the
        index is rebuilt.

    Raises
    ------
    RunError
        For a negative ``keep`` or a job that has no runs folder.
    """
    if keep < 0:
        raise RunError(f"--keep must be 0 or more runs per job, got {keep}")
    reports = Path(out) if out is not None else config.reports_dir()
    if not reports.is_dir():
        return []
    jobs = sorted(p for p in reports.iterdir() if p.is_dir() and not p.name.startswith("."))
    if job is not None:
        jobs = [p for p in jobs if p.name == job]
        if not jobs:
            raise RunError(f"no runs of job {job!r} in {_shown(reports)}")
    gone: list[Pruned] = []
    for job_dir in jobs:
        link = job_dir / "latest"
        latest = link.resolve() if link.is_symlink() else None
        folders = _runs_of(job_dir)
        old = folders[: max(len(folders) - keep, 0)]
        for folder in old:
            if latest is not None and folder.resolve() == latest:
                continue
            private = config.private_dir() / job_dir.name / folder.name
            gone.append(
                Pruned(job_dir.name, folder.name, folder, private if private.is_dir() else None)
            )
    if not dry_run and gone:
        for p in gone:
            shutil.rmtree(p.folder)
            if p.private is not None:
                shutil.rmtree(p.private, ignore_errors=True)
        render.build_index(reports)
    return gone
