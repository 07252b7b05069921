"""Run notebooks through papermill into a report folder.

One *run* executes a list of notebooks, each in a fresh kernel, and writes
``<reports>/<job>/<UTC timestamp>/``::

    00_data_health.ipynb        the executed notebook (secrets scrubbed)
    00_data_health.html         self-contained report: figures embedded, contents, offline
    00_data_health.brief.html   the same without code, for business readers
    summary.json                status, times, parameters (redacted), source fingerprint,
                                package version, git commit, headline numbers per notebook

then rebuilds ``<reports>/index.html`` and, when every notebook is ``ok``, points
``<reports>/<job>/latest`` at the run.

Failure and interruption
------------------------
A failing notebook still gets its HTML (the error and the failing cell shown), the
other notebooks still run (unless ``fail_fast``), the run's status is ``failed`` and the
command exits 1. The run is written in ``<reports>/.tmp/`` and renamed into place only
when complete: Ctrl-C or SIGTERM removes the temporary folder and leaves every earlier
run, ``latest`` and the index as they were (exit 130 / 143). A kernel that dies
fails its notebook like an error does. A runner killed with SIGKILL leaves only a
``.tmp`` folder, which the next run removes.

Jobs
----
``reports.yml`` at the project root names jobs (see that file). A job lists notebooks
(paths, names such as ``00_data_health`` or globs) and parameters. Job notebooks that do
not exist yet are skipped with a note (status ``missing``, not a failure); a notebook
named on the command line must exist. Parameter values may use the date tokens of
:func:`expand_dates` (``{yesterday}``, ``{last_week_start}``, …), resolved in UTC when
the run starts.

Parameters
----------
Precedence: job < job's per-notebook < ``-f params.yml`` < ``-p key=value`` <
``--source``. Each parameter goes to the notebooks that declare it. A name that *no*
notebook of the run declares is refused, with each notebook's own parameter list.
``--source`` only sets ``source`` where a notebook declares it; credentials belong in
``SHOPBOOK_SOURCE``, which notebooks read when ``source`` is empty.

Kernel
------
Notebooks run in the Jupyter kernel named ``shopbook`` (``make setup`` registers it in
the virtual environment). If it is not registered, the runner uses ipykernel's
``python3`` kernel of the current environment and says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from shopbook import __version__, config
from shopbook.report import render

KERNEL_NAME = "shopbook"
JOBS_FILE = "reports.yml"
NOTEBOOKS_DIR = "notebooks"
DEFAULT_JOB = "all"
ADHOC_JOB = "adhoc"


class RunError(Exception):
    """A run cannot start: unknown job, notebook or parameter (exit code 2)."""


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by SIGINT or SIGTERM."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# ----------------------------------------------------------------------- dates


def date_tokens(today: date | None = None) -> dict[str, str]:
    """Date tokens usable in job parameters, as ISO dates (UTC).

    ``today``, ``yesterday``; ``last_week_start`` / ``last_week_end`` (Monday–Sunday of the
    last full week); ``last_month_start`` / ``last_month_end``; ``days_ago_7``,
    ``days_ago_28``.
    """
    today = today or datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return {
        "today": today.isoformat(),
        "yesterday": (today - timedelta(days=1)).isoformat(),
        "last_week_start": (monday - timedelta(days=7)).isoformat(),
        "last_week_end": (monday - timedelta(days=1)).isoformat(),
        "last_month_start": last_month_end.replace(day=1).isoformat(),
        "last_month_end": last_month_end.isoformat(),
        "days_ago_7": (today - timedelta(days=7)).isoformat(),
        "days_ago_28": (today - timedelta(days=28)).isoformat(),
    }


def expand_dates(value: Any, tokens: Mapping[str, str]) -> Any:
    """Replace ``{token}`` in string values (recursively) by :func:`date_tokens`."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: tokens.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [expand_dates(v, tokens) for v in value]
    if isinstance(value, dict):
        return {k: expand_dates(v, tokens) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ parameters


def parse_value(text: str) -> Any:
    """A ``-p`` value: YAML scalars (``5``, ``0.1``, ``true``, ``[a, b]``), dates stay text."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if (
        isinstance(value, (date, datetime))
        or value is None
        and text.strip() not in ("null", "~", "None")
    ):
        return text
    return value


def parse_pairs(pairs: Iterable[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}``.

    Raises
    ------
    RunError
        For an item without ``=``.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise RunError(f"parameter {pair!r} is not key=value")
        key, value = pair.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


def read_params_file(path: str | os.PathLike) -> dict[str, Any]:
    """Parameters from a YAML file holding a mapping."""
    p = Path(path)
    if not p.exists():
        raise RunError(f"parameter file {p} does not exist")
    data = yaml.safe_load(p.read_text()) or {}
    if not isinstance(data, dict):
        raise RunError(f"parameter file {p} must hold a mapping of name: value")
    return data


def notebook_parameters(path: Path) -> dict[str, dict[str, Any]]:
    """The notebook's ``parameters`` cell: ``{name: {inferred_type_name, default, help}}``."""
    import papermill

    return dict(papermill.inspect_notebook(str(path)))


def describe_parameters(params: Mapping[str, Mapping[str, Any]]) -> str:
    """One line per parameter: ``name: type = default  # help``."""
    if not params:
        return "  (none: the notebook has no cell tagged 'parameters')"
    lines = []
    for name, p in params.items():
        typ = p.get("inferred_type_name") or "None"
        line = f"  {name}: {typ} = {p.get('default')}"
        if p.get("help"):
            line += f"  # {p['help']}"
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------------ jobs


@dataclass
class NotebookTask:
    """One notebook of a run and the parameters it gets."""

    name: str
    path: Path | None
    parameters: dict[str, Any] = field(default_factory=dict)
    declared: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: str | None = None  # why the notebook was not found


def project_home() -> Path:
    """The project folder: ``SHOPBOOK_HOME`` or the working directory."""
    return config.home()


def load_jobs(path: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """The jobs of ``reports.yml`` (``{name: {notebooks, parameters, description}}``)."""
    p = Path(path) if path else project_home() / JOBS_FILE
    if not p.exists():
        return {
            DEFAULT_JOB: {"notebooks": [f"{NOTEBOOKS_DIR}/[0-9][0-9]_*.ipynb"], "parameters": {}}
        }
    data = yaml.safe_load(p.read_text()) or {}
    jobs = data.get("jobs", data)
    if not isinstance(jobs, dict):
        raise RunError(f"{p}: 'jobs' must be a mapping of job name to job")
    return jobs


def find_notebook(name: str, base: Path | None = None) -> list[Path]:
    """Notebook files for a path, a name (``00_data_health``), a prefix (``00``) or a glob."""
    base = base or project_home()
    direct = Path(name)
    candidates = [direct, base / direct, base / NOTEBOOKS_DIR / direct]
    for c in candidates:
        for p in (c, c.with_name(c.name + ".ipynb")):
            if p.is_file():
                return [p]
    pattern = name if any(ch in name for ch in "*?[") else None
    if pattern:
        root = base if "/" in pattern else base / NOTEBOOKS_DIR
        return sorted(
            p
            for p in root.glob(pattern)
            if p.suffix == ".ipynb" and ".ipynb_checkpoints" not in p.parts
        )
    matches = sorted((base / NOTEBOOKS_DIR).glob(f"{name}*.ipynb"))
    return matches if len(matches) == 1 else []


def plan(
    notebooks: Sequence[str] = (),
    job: str | None = None,
    params: Mapping[str, Any] | None = None,
    source: str | None = None,
    jobs_file: str | os.PathLike | None = None,
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

    Returns
    -------
    job name, tasks

    Raises
    ------
    RunError
        Unknown job, a named notebook that does not exist, or a parameter no notebook
        of the run declares (the message lists each notebook's parameters).
    """
    params = dict(params or {})
    tokens = date_tokens(today)
    job_spec: dict[str, Any] = {}
    if job is not None or not notebooks:
        jobs = load_jobs(jobs_file)
        job = job or DEFAULT_JOB
        if job in jobs:
            job_spec = jobs[job] or {}
        elif not notebooks:
            raise RunError(
                f"unknown job {job!r}; jobs in {JOBS_FILE}: {', '.join(jobs) or '(none)'}"
            )
        # else: notebooks named on the command line, --job only names the run folder
    job_name = job or ADHOC_JOB
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", job_name):
        raise RunError(f"job name {job_name!r} may hold only letters, digits, '.', '_' and '-'")

    tasks: list[NotebookTask] = []
    seen: set[Path] = set()

    def add(path: Path, nb_params: Mapping[str, Any]) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.add(path)
        tasks.append(NotebookTask(path.stem, path, dict(nb_params)))

    if notebooks:
        for name in notebooks:
            found = find_notebook(name)
            if not found:
                raise RunError(
                    f"no notebook {name!r} (looked for it as a path and in {NOTEBOOKS_DIR}/)"
                )
            for p in found:
                add(p, {})
    else:
        for item in job_spec.get("notebooks") or []:
            nb_params: Mapping[str, Any] = {}
            if isinstance(item, Mapping):
                name = str(item.get("notebook") or item.get("path"))
                nb_params = item.get("parameters") or {}
            else:
                name = str(item)
            found = find_notebook(name)
            if found:
                for p in found:
                    add(p, nb_params)
            elif not any(ch in name for ch in "*?["):
                tasks.append(
                    NotebookTask(Path(name).stem, None, missing=f"notebook {name} not found")
                )

    job_params = expand_dates(dict(job_spec.get("parameters") or {}), tokens)
    user = dict(params)
    if source is not None:
        user["source"] = source
    user = expand_dates(user, tokens)

    for t in tasks:
        if t.path is not None:
            t.declared = notebook_parameters(t.path)
    present = [t for t in tasks if t.path is not None]

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
    for t in present:
        for n in t.parameters:
            if n not in t.declared:
                raise RunError(
                    f"{JOBS_FILE}: job {job_name!r} gives {t.name} parameter {n!r}, "
                    f"which it does not declare:\n{describe_parameters(t.declared)}"
                )
        merged = {k: v for k, v in job_params.items() if k in t.declared}
        merged.update(expand_dates(t.parameters, tokens))
        merged.update({k: v for k, v in user.items() if k in t.declared})
        t.parameters = merged
    return job_name, tasks


# ---------------------------------------------------------------- environment


def kernel_name() -> tuple[str, str | None]:
    """The kernel to use, and a note when it is not ``shopbook``."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if KERNEL_NAME in specs:
        return KERNEL_NAME, None
    return "python3", (
        f"kernel {KERNEL_NAME!r} is not registered; using this environment's python3 "
        "kernel (register it with `make setup`)"
    )


def git_commit(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the project repository, or ``(None, None)`` outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
        return commit or None, bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def source_fingerprint(source: str | None) -> dict[str, Any]:
    """Where the data came from and what it held: redacted URI, tables and row counts.

    Computed in the engine (``count(*)`` per table). Never raises: a source that
    cannot be opened gives ``{"uri": …, "error": …}``.
    """
    from shopbook.data.sources import open_source, redact_uri
    from shopbook.report.notebook import resolve_source

    uri = resolve_source(source)
    shown = render.redact_text(redact_uri(uri))
    try:
        with open_source(uri) as src:
            tables = src.row_counts()
    except Exception as exc:  # noqa: BLE001 - a fingerprint must not stop the run
        return {
            "uri": shown,
            "error": render.redact_text(
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            ),
        }
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()[:12]
    return {"uri": shown, "tables": tables, "digest": digest}


# --------------------------------------------------------------------- running


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


class Progress:
    """Prints which notebook and cell is running and the elapsed time (to stderr)."""

    def __init__(self, stream: Any = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._start = time.monotonic()
        self._label = ""

    def line(self, text: str) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def notebook(self, index: int, total: int, name: str) -> None:
        self._start = time.monotonic()
        self._label = f"[{index}/{total}] {name}"
        self.line(f"{self._label}: starting")

    def cell(self, index: int, total: int) -> None:
        if self.quiet:
            return
        text = f"{self._label}: cell {index + 1}/{total} ({time.monotonic() - self._start:.1f} s)"
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _register_engine() -> str:
    """A papermill engine that reports cell progress (papermill's nbclient engine otherwise)."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            callback: Callable[[int, int], None] | None = kwargs.pop("shopbook_progress", None)
            original = nb_man.cell_start

            def cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                if callback is not None and cell_index is not None:
                    callback(cell_index, len(nb_man.nb.cells))
                return original(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register("shopbook", ProgressEngine)
    return "shopbook"


def _kernel_manager_class() -> type:
    """Kernels talk to the runner over local IPC sockets, not TCP ports."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"
            runtime = (
                Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
                / f"shopbook-kernels-{os.getuid()}"
            )
            runtime.mkdir(mode=0o700, exist_ok=True)
            self.ip = str(runtime / f"kernel-{os.getpid()}-{id(self)}")

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts before every shutdown, which makes an idle
            # ipykernel log "KeyboardInterrupt caught" into every report log. An idle
            # kernel needs no interrupt to shut down (a busy one is killed after
            # shutdown_wait_time).
            if getattr(self, "shutting_down", False):
                return
            await super()._async_interrupt_kernel()

    return IPCKernelManager


def _execute(
    task: NotebookTask, output: Path, kernel: str, timeout: float | None, progress: Progress
) -> str | None:
    """Run one notebook with papermill; return the error line or ``None``."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    engine = _register_engine()
    try:
        papermill.execute_notebook(
            str(task.path),
            str(output),
            parameters=task.parameters,
            kernel_name=kernel,
            engine_name=engine,
            progress_bar=False,
            log_output=False,
            cwd=str(Path.cwd()),
            execution_timeout=timeout,
            start_timeout=120,
            shopbook_progress=progress.cell,
            kernel_manager_class=_kernel_manager_class(),
        )
    except PapermillExecutionError as exc:
        if exc.ename == "KeyboardInterrupt":  # the kernel got the terminal's Ctrl-C too
            raise RunInterrupted(signal.SIGINT) from None
        msg = (exc.evalue or "").strip().splitlines()
        return f"{exc.ename}: {msg[0]}" if msg else exc.ename
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - dead kernel, timeout, bad notebook: the notebook fails
        name = type(exc).__name__
        msg = str(exc).strip().splitlines()
        if "DeadKernel" in name:
            return f"{name}: the kernel died (killed, or out of memory)"
        return f"{name}: {msg[0]}" if msg else name
    return None


@dataclass
class RunResult:
    """What a run produced."""

    status: str  # ok | failed | interrupted
    folder: Path | None
    index: Path | None
    summary: dict[str, Any]

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "ok" else 1


def _unique_run_id(job_dir: Path, tmp_root: Path, started: datetime) -> str:
    base = started.strftime("%Y%m%dT%H%M%SZ")
    run_id, n = base, 1
    while (job_dir / run_id).exists() or any(tmp_root.glob(f"*-{run_id}-*")):
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _clean_stale_tmp(tmp_root: Path) -> None:
    """Remove temporary run folders whose runner process is gone."""
    if not tmp_root.is_dir():
        return
    for folder in tmp_root.iterdir():
        m = re.search(r"-(\d+)$", folder.name)
        if not m:
            continue
        pid = int(m.group(1))
        try:
            os.kill(pid, 0)
            alive = pid != os.getpid()
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            shutil.rmtree(folder, ignore_errors=True)


def _signal_handlers() -> dict[int, Any]:
    def handler(signum: int, frame: Any) -> None:
        raise RunInterrupted(signum)

    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread
            pass
    return old


def _link_latest(job_dir: Path, run_id: str) -> None:
    link = job_dir / "latest"
    tmp = job_dir / f".latest.{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(run_id, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # file systems without symlinks: the index is enough
        pass


def run(
    tasks: Sequence[NotebookTask],
    job: str = ADHOC_JOB,
    out: str | os.PathLike | None = None,
    timeout: float | None = None,
    fail_fast: bool = False,
    progress: Progress | None = None,
    handle_signals: bool = True,
) -> RunResult:
    """Execute ``tasks`` into a new run folder and rebuild the index.

    Parameters
    ----------
    tasks
        From :func:`plan`.
    job
        The job name (the run folder's parent).
    out
        The reports folder (default ``SHOPBOOK_REPORTS`` or ``reports/``).
    timeout
        Seconds a single cell may run (papermill's ``execution_timeout``); ``None``: no limit.
    fail_fast
        Stop at the first failing notebook (the remaining ones are recorded as ``skipped``).
    progress
        Where progress goes (default: stderr).
    handle_signals
        Turn SIGTERM into an interruption that removes the temporary folder.

    Returns
    -------
    RunResult

    Raises
    ------
    RunInterrupted
        On Ctrl-C / SIGTERM, after removing the temporary folder; nothing else changed.
    """
    progress = progress or Progress()
    reports = Path(out) if out is not None else config.reports_dir()
    reports.mkdir(parents=True, exist_ok=True)
    tmp_root = reports / ".tmp"
    tmp_root.mkdir(exist_ok=True)
    _clean_stale_tmp(tmp_root)
    job_dir = reports / job

    started = _now()
    run_id = _unique_run_id(job_dir, tmp_root, started)
    tmp = tmp_root / f"{job}-{run_id}-{os.getpid()}"
    tmp.mkdir()
    old_handlers = _signal_handlers() if handle_signals else {}
    t0 = time.monotonic()
    try:
        kernel, note = kernel_name()
        if note:
            progress.line(f"note: {note}")
        commit, dirty = git_commit(project_home())
        fingerprints: dict[str, dict[str, Any]] = {}
        entries: list[dict[str, Any]] = []
        summary: dict[str, Any] = {
            "job": job,
            "run_id": run_id,
            "status": "running",
            "started": _iso(started),
            "ended": None,
            "duration_s": None,
            "shopbook_version": __version__,
            "git_commit": commit,
            "git_dirty": dirty,
            "kernel": kernel,
            "python": sys.version.split()[0],
            "source": None,
            "notebooks": entries,
        }
        runnable = [t for t in tasks if t.path is not None]
        stop = False
        for task in tasks:
            if task.path is None:
                progress.line(f"skip {task.name}: {task.missing}")
                entries.append(
                    {
                        "notebook": task.name,
                        "path": None,
                        "status": "missing",
                        "error": task.missing,
                        "parameters": {},
                        "headlines": [],
                        "files": {},
                    }
                )
                continue
            if stop:
                entries.append(
                    {
                        "notebook": task.name,
                        "path": _rel(task.path),
                        "status": "skipped",
                        "error": "not run: --fail-fast stopped at an earlier failure",
                        "parameters": {},
                        "headlines": [],
                        "files": {},
                    }
                )
                continue
            number = runnable.index(task) + 1
            task = _with_output_dir(task, tmp)
            redacted, secrets = render.redact_parameters(task.parameters)
            redacted = {
                k: v.replace(str(tmp), str(job_dir / run_id)) if isinstance(v, str) else v
                for k, v in redacted.items()
            }
            uses_source = "source" in task.declared  # notebooks without data get no fingerprint
            src_param = task.parameters.get("source") if uses_source else None
            key = str(src_param or "")
            if uses_source and key not in fingerprints:
                fingerprints[key] = source_fingerprint(src_param or None)
            if src_param:
                secrets |= set(render.secrets_in(str(src_param)))
            for var in ("SHOPBOOK_SOURCE", "SHOPBOOK_MAPPING"):  # credentials live here
                secrets |= set(render.secrets_in(os.environ.get(var, "")))
            progress.notebook(number, len(runnable), task.name)
            nb_start = _now()
            t_nb = time.monotonic()
            executed = tmp / f"{task.name}.ipynb"
            error = _execute(task, executed, kernel, timeout, progress)
            _retarget_paths(executed, tmp, job_dir / run_id)
            duration = time.monotonic() - t_nb
            entry = _finish_notebook(
                task,
                executed,
                error,
                redacted,
                secrets,
                fingerprints.get(key) if uses_source else None,
                nb_start,
                duration,
                summary,
            )
            entries.append(entry)
            progress.line(
                f"{'ok    ' if entry['status'] == 'ok' else 'FAILED'} {task.name} "
                f"({duration:.1f} s){': ' + entry['error'] if entry.get('error') else ''}"
            )
            if entry["status"] == "failed" and fail_fast:
                stop = True
        summary["source"] = next(iter(fingerprints.values()), None)  # the first notebook's data
        failed = any(e["status"] == "failed" for e in entries)
        summary["status"] = "failed" if failed or not runnable else "ok"
        ended = _now()
        summary["ended"] = _iso(ended)
        summary["duration_s"] = round(time.monotonic() - t0, 2)
        (tmp / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        job_dir.mkdir(parents=True, exist_ok=True)
        final = job_dir / run_id
        os.rename(tmp, final)  # the run appears whole, or not at all
        if summary["status"] == "ok":
            _link_latest(job_dir, run_id)
        index = render.build_index(reports)
        return RunResult(summary["status"], final, index, summary)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)


OUTPUT_DIR_PARAM = "output_dir"


def _with_output_dir(task: NotebookTask, run_folder: Path) -> NotebookTask:
    """Give a notebook that declares ``output_dir`` a folder beside its report.

    Files a notebook writes for its readers (CRM customer lists, …) then live inside the
    run folder — ``<notebook>_files/`` — and appear, move and vanish with the run. An
    ``output_dir`` the user passed is kept.
    """
    if OUTPUT_DIR_PARAM not in task.declared or task.parameters.get(OUTPUT_DIR_PARAM):
        return task
    folder = run_folder / f"{task.name}_files"
    return replace(task, parameters={**task.parameters, OUTPUT_DIR_PARAM: str(folder)})


def _retarget_paths(executed: Path, tmp: Path, final: Path) -> None:
    """Replace the temporary run folder's path by the final one in an executed notebook."""
    if executed.exists():
        text = executed.read_text(encoding="utf-8")
        if str(tmp) in text:
            executed.write_text(text.replace(str(tmp), str(final)), encoding="utf-8")


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(project_home().resolve()).as_posix()
    except ValueError:
        return str(path)


def _finish_notebook(
    task: NotebookTask,
    executed: Path,
    error: str | None,
    redacted: dict[str, Any],
    secrets: set[str],
    fingerprint: dict[str, Any] | None,
    started: datetime,
    duration: float,
    run_summary: Mapping[str, Any],
) -> dict[str, Any]:
    """Scrub, write and render one executed notebook; return its summary entry."""
    import nbformat

    if executed.exists():
        nb = nbformat.read(str(executed), as_version=4)
    else:  # papermill failed before writing (e.g. the kernel did not start)
        nb = nbformat.read(str(task.path), as_version=4)
    nb = render.scrub_notebook(nb, secrets, redacted)
    if error is None:
        error = render.first_error(nb)
    error = render.redact_text(error, secrets) if error else None
    nbformat.write(nb, str(executed))
    stem = task.name
    entry: dict[str, Any] = {
        "notebook": stem,
        "title": render.title(nb) or stem,
        "path": _rel(task.path) if task.path else None,
        "status": "failed" if error else "ok",
        "error": error,
        "started": _iso(started),
        "ended": _iso(started + timedelta(seconds=duration)),
        "duration_s": round(duration, 2),
        "parameters": redacted,
        "source": fingerprint,
        "headlines": render.headlines(nb),
        "skipped": render.skipped_sections(nb),
        "files": {"ipynb": f"{stem}.ipynb", "html": f"{stem}.html", "brief": f"{stem}.brief.html"},
    }
    folder = executed.parent
    try:
        render.render_html(nb, folder / f"{stem}.html", entry, run_summary, brief=False)
        render.render_html(nb, folder / f"{stem}.brief.html", entry, run_summary, brief=True)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a report that cannot render is a failed report
        entry["status"] = "failed"
        entry["error"] = (
            entry["error"] or f"rendering failed: {type(exc).__name__}: {exc}".splitlines()[0]
        )
        entry["files"] = {"ipynb": f"{stem}.ipynb"}
    return entry
