"""Planning a run: which notebooks it executes and the parameters each one gets.

Each parameter goes to the notebooks that declare it. A name that *no* notebook of the
run declares is refused, with each notebook's own parameter list. ``--source`` only sets
``source`` where a notebook declares it; credentials belong in ``SHOPBOOK_SOURCE``, which
notebooks read when ``source`` is empty. Precedence: job < job's per-notebook <
``-f params.yml`` < ``-p key=value`` < ``--source``.

Each value is then checked against the type the notebook's ``parameters`` cell declares
(papermill's ``inferred_type_name``; :func:`shopbook.report.jobs.coerce`): ``-p
show_pii=false`` becomes False, ``-p top_n=abc`` for ``top_n: int`` fails that notebook
before its kernel starts (status ``failed``, one line naming the notebook, the
parameter, the declared type and the value); the other notebooks still run.

A job's ``max_age_days`` (optional) goes to each of its tasks: a notebook whose data end
more days before the run is ``stale`` (:mod:`shopbook.data.freshness`).

A job's ``lang`` (``en`` or ``zh``; default: ``lang`` at the top of ``reports.yml``, else
``en``) is the ``lang`` parameter of each of its notebooks, below the job's per-notebook
parameters and the user's ``-p lang=…``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from shopbook.redaction import redact_parameters
from shopbook.report.jobs import (
    ADHOC_JOB,
    DEFAULT_JOB,
    JOBS_FILE,
    NOTEBOOKS_DIR,
    ParameterTypeError,
    RunError,
    coerce,
    date_tokens,
    describe_parameters,
    expand_dates,
    find_notebook,
    is_glob,
    load_jobs,
    notebook_parameters,
)


@dataclass
class NotebookTask:
    """One notebook of a run and the parameters it gets."""

    name: str
    path: Path | None
    parameters: dict[str, Any] = field(default_factory=dict)
    declared: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: str | None = None  # why the notebook was not found
    error: str | None = None  # why it cannot start: a parameter of the wrong type
    max_age_days: int | None = None  # the job's limit on the data's age (freshness)
    today: date | None = None  # the day the date tokens were resolved for


def _job_spec(
    notebooks: Sequence[str], job: str | None, jobs_file: str | os.PathLike[str] | None
) -> tuple[str, dict[str, Any]]:
    """The run's job name and its ``reports.yml`` entry (empty for an ad-hoc run)."""
    spec: dict[str, Any] = {}
    if job is not None or not notebooks:
        jobs = load_jobs(jobs_file)
        job = job or DEFAULT_JOB
        if job in jobs:
            spec = jobs[job] or {}
        elif not notebooks:
            raise RunError(
                f"unknown job {job!r}; jobs in {JOBS_FILE}: {', '.join(jobs) or '(none)'}"
            )
        # else: notebooks named on the command line, --job only names the run folder
    name = job or ADHOC_JOB
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise RunError(f"job name {name!r} may hold only letters, digits, '.', '_' and '-'")
    return name, spec


class _Tasks(list[NotebookTask]):
    """Tasks in order, each notebook file once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[Path] = set()

    def add(self, path: Path, parameters: Mapping[str, Any]) -> None:
        path = path.resolve()
        if path not in self.seen:
            self.seen.add(path)
            self.append(NotebookTask(path.stem, path, dict(parameters)))


def _named_tasks(notebooks: Sequence[str]) -> list[NotebookTask]:
    """Tasks for notebooks named on the command line; each must exist."""
    tasks = _Tasks()
    for name in notebooks:
        found = find_notebook(name)
        if not found:
            raise RunError(
                f"no notebook {name!r} (looked for it as a path and in {NOTEBOOKS_DIR}/)"
            )
        for p in found:
            tasks.add(p, {})
    return tasks


def _job_tasks(spec: Mapping[str, Any]) -> list[NotebookTask]:
    """Tasks for a job's notebooks; one that does not exist (yet) is a ``missing`` task."""
    tasks = _Tasks()
    for item in spec.get("notebooks") or []:
        nb_params: Mapping[str, Any] = {}
        if isinstance(item, Mapping):
            name = str(item.get("notebook") or item.get("path"))
            nb_params = item.get("parameters") or {}
        else:
            name = str(item)
        found = find_notebook(name)
        for p in found:
            tasks.add(p, nb_params)
        if not found and not is_glob(name):
            tasks.append(NotebookTask(Path(name).stem, None, missing=f"notebook {name} not found"))
    return tasks


def _max_age(spec: Mapping[str, Any], job_name: str) -> int | None:
    """The job's ``max_age_days``: a whole number of days ≥ 0, or ``None`` when not given."""
    value = spec.get("max_age_days")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RunError(
            f"{JOBS_FILE}: job {job_name!r} has max_age_days {value!r}; give a whole number "
            "of days (0 or more) the data may be old, e.g. max_age_days: 7"
        )
    return value


def _job_lang(spec: Mapping[str, Any], job_name: str, jobs_file: Any) -> str | None:
    """The job's ``lang`` (or the file's default); ``None`` for an ad-hoc run with no default."""
    from shopbook.i18n import LANGS
    from shopbook.report.jobs import index_lang

    value = spec.get("lang")
    if value is None:
        default = index_lang(jobs_file)
        return default if default != "en" else None
    lang = str(value).strip().lower()
    if lang not in LANGS:
        raise RunError(
            f"{JOBS_FILE}: job {job_name!r} has lang {value!r}; give one of {', '.join(LANGS)}"
        )
    return lang


def _refuse_unknown(user: Mapping[str, Any], present: list[NotebookTask], source: Any) -> None:
    """Refuse user parameters that no notebook of the run declares."""
    declared_anywhere = {n for t in present for n in t.declared}
    unknown = [
        n for n in user if n not in declared_anywhere and not (n == "source" and source is not None)
    ]
    if unknown and present:
        listing = "\n".join(f"{t.name}:\n{describe_parameters(t.declared)}" for t in present)
        raise RunError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"the notebook parameters are:\n{listing}"
        )


def _merged_parameters(
    task: NotebookTask,
    job_name: str,
    job_params: Mapping[str, Any],
    user: Mapping[str, Any],
    tokens: Mapping[str, str],
) -> dict[str, Any]:
    """The task's parameters: job < the job's per-notebook ones < the user's, if declared."""
    for n in task.parameters:
        if n not in task.declared:
            raise RunError(
                f"{JOBS_FILE}: job {job_name!r} gives {task.name} parameter {n!r}, "
                f"which it does not declare:\n{describe_parameters(task.declared)}"
            )
    merged = {k: v for k, v in job_params.items() if k in task.declared}
    merged.update(expand_dates(task.parameters, tokens))
    merged.update({k: v for k, v in user.items() if k in task.declared})
    return merged


def _typed_parameters(task: NotebookTask) -> None:
    """Coerce the task's parameters to their declared types, or set ``task.error``.

    The first value that does not fit fails the notebook before it starts, with one line
    naming the notebook, the parameter, its declaration and the value (redacted when the
    name says it is a secret).
    """
    typed: dict[str, Any] = {}
    for name, value in task.parameters.items():
        spec = task.declared.get(name) or {}
        type_name = spec.get("inferred_type_name")
        try:
            typed[name] = coerce(value, type_name)
        except ParameterTypeError as exc:
            shown = redact_parameters({name: str(value)})[0][name]
            task.error = (
                f"{task.name}: parameter {name!r} {exc} (declared `{name}: {type_name} = "
                f"{spec.get('default')}`), got {shown!r}; give e.g. -p {name}={spec.get('default')}"
            )
            return
    task.parameters = typed


def plan(
    notebooks: Sequence[str] = (),
    job: str | None = None,
    params: Mapping[str, Any] | None = None,
    source: str | None = None,
    jobs_file: str | os.PathLike[str] | None = None,
    today: date | None = None,
) -> tuple[str, list[NotebookTask]]:
    """Decide what a run executes: the notebooks and each one's parameters.

    Parameters
    ----------
    notebooks
        Notebooks named on the command line (override the job's list).
    job
        A job of ``reports.yml``; default ``all`` when no notebook is named, else ``adhoc``.
    params
        User parameters (``-f`` then ``-p``), applied after the job's.
    source
        ``--source``: sets the ``source`` parameter where declared.
    jobs_file
        The jobs file (default ``reports.yml`` in the project folder).
    today
        The day date tokens are relative to (default: today in UTC).

    Returns
    -------
    job name, tasks

    Raises
    ------
    RunError
        Unknown job, a named notebook that does not exist, or a parameter no notebook
        of the run declares (the message lists each notebook's parameters). A value of
        the wrong type does not raise: it sets that task's ``error``.
    """
    tokens = date_tokens(today)
    job_name, spec = _job_spec(notebooks, job, jobs_file)
    max_age = _max_age(spec, job_name)
    tasks = _named_tasks(notebooks) if notebooks else _job_tasks(spec)

    job_params = expand_dates(dict(spec.get("parameters") or {}), tokens)
    lang = _job_lang(spec, job_name, jobs_file)
    if lang is not None:
        job_params["lang"] = lang
    user = dict(params or {})
    if source is not None:
        user["source"] = source
    user = expand_dates(user, tokens)

    for t in tasks:
        t.max_age_days, t.today = max_age, date.fromisoformat(tokens["today"])
        if t.path is not None:
            t.declared = notebook_parameters(t.path)
    present = [t for t in tasks if t.path is not None]
    _refuse_unknown(user, present, source)
    for t in present:
        t.parameters = _merged_parameters(t, job_name, job_params, user, tokens)
        _typed_parameters(t)
    return job_name, list(tasks)
