"""Run folders: execute a plan into ``<reports>/<job>/<UTC timestamp>/``, atomically.

One *run* executes a list of notebooks, each in a fresh kernel, and writes::

    00_data_health.ipynb        the executed notebook (secrets scrubbed)
    00_data_health.html         self-contained report: figures embedded, contents, offline
    00_data_health.brief.html   the same without code, for business readers
    summary.json                the run's summary: status, times, parameters (redacted),
                                source fingerprint, package version, git commit, and one
                                entry per notebook with its headline numbers

then rebuilds ``<reports>/index.html`` and, when no notebook failed (the run is ``ok`` or
``stale``), points ``<reports>/<job>/latest`` at the run. A notebook that declares
``output_dir`` gets a folder for the files it writes (CRM lists with real customer ids)
in the *private* folder, ``<private>/<job>/<run id>/<notebook>_files``
(:func:`shopbook.config.private_dir`), never in the shared reports folder.

Notebooks run side by side, ``workers`` at a time (default one per core, at most 4:
:func:`default_workers`; ``--workers`` on the command line), each in its own kernel whose
numeric thread pools get its share of the cores; the summary keeps the order given. On
an interruption every kernel still running is killed (:func:`~shopbook.report.execute.
kill_kernels`). ``fail_fast`` runs them one at a time.

A source that several notebooks read is validated once, before they start, and each
kernel reads the checked tables instead of checking them again
(:mod:`shopbook.report.checks`).

Shared files name no folder of the machine: paths under the project become relative
(``reports/…``, ``./src/…``), the reports and private folders ``<reports>`` /
``<private>``, the user's home ``~`` and the Python installation ``<python>``.

Freshness
---------
The fingerprint of a run's source holds each table's first and last day
(``data_start`` / ``data_end``, :func:`shopbook.data.freshness.data_spans`, computed once
per source). A notebook whose ``start`` / ``end`` window lies partly outside the data of
the tables it reads, or whose tables end more than the job's ``max_age_days`` before the
run, is ``stale``; one whose window lies entirely outside the data of its required tables
is ``empty`` (:func:`notebook_freshness`). It still runs and renders; its entry's
``freshness`` holds the reasons and each table's last day, which the report header shows.
A run with such a notebook and no failure is ``stale``: exit 0, 3 under ``--strict``.

Failure and interruption
------------------------
A failing notebook still gets its HTML (the error and the failing cell shown), the
other notebooks still run (unless ``fail_fast``), the run's status is ``failed`` and the
command exits 1. A notebook whose parameters do not fit their declared types fails
without starting (:mod:`shopbook.report.plan`). The run is written in ``<reports>/.tmp/``
and published only when complete: the new index is written beside the old one, then
the run folder is renamed into place, the index replaced and ``latest`` moved — the
three renames with SIGINT / SIGTERM / SIGHUP held back. A signal before that removes
the temporary folder and leaves every earlier run, ``latest`` and the index as they
were (exit 130 / 143 / 129, "discarded"); a signal during the renames lets them finish
and the run is kept (:class:`~shopbook.report.execute.RunInterrupted` ``kept``). A
kernel that dies fails its notebook like an error does. A runner killed with SIGKILL
leaves only a ``.tmp`` folder, which the next run removes.

Disk full
---------
A notebook whose files cannot be written (no space left on device, read-only file
system, permission denied) fails with that line and the file's path; its partial files
are removed, the other notebooks still run and the finished reports are kept: the run
is moved into place with the failure recorded (status ``failed``, so ``latest`` stays on
the last good run). If even ``summary.json`` or the index cannot be written, the run
folder is still moved into place, ``latest`` and the index are left alone, and
:class:`~shopbook.report.jobs.RunError` says so.
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
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shopbook import __version__, config
from shopbook.errors import disk_error
from shopbook.redaction import redact_parameters, redact_text, secrets_in
from shopbook.report import render
from shopbook.report.checks import shared_checks
from shopbook.report.execute import (
    Progress,
    RunInterrupted,
    check_timeout,
    execute,
    kernel_name,
    kill_kernels,
    thread_pools,
)
from shopbook.report.jobs import ADHOC_JOB, RunError, project_home
from shopbook.report.plan import NotebookTask
from shopbook.report.warm import WarmKernels, warm_kernels

#: The parameter a notebook declares to get a folder for the files it writes.
OUTPUT_DIR_PARAM = "output_dir"
#: Environment variables that hold credentials; their secret parts never reach a report.
CREDENTIAL_VARIABLES = config.CREDENTIAL_VARIABLES
#: A run whose notebooks all ran but some on data that do not cover their window.
STALE = "stale"
#: The exit status of a stale run under ``--strict``.
STRICT_EXIT = 3
#: Notebook statuses that make a run stale (:mod:`shopbook.data.freshness`).
STALE_STATUSES = ("stale", "empty")


# ---------------------------------------------------------------- environment


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


def source_fingerprint(source: str | None, mapping: str | None = None) -> dict[str, Any]:
    """Where the data came from and what it held: redacted URI, tables and row counts, and
    each table's first and last day (``data_start`` / ``data_end``, ISO dates, for the
    tables with a time column: :func:`shopbook.data.freshness.data_spans`).

    Computed in the engine (``count(*)`` and ``min``/``max`` per table). Never raises: a
    source that cannot be opened gives ``{"uri": …, "error": …}``.
    """
    from shopbook.data.freshness import data_spans
    from shopbook.data.sources import open_source

    uri = config.resolve_source(source)
    shown = redact_text(uri)
    try:
        with open_source(uri, mapping=mapping or None) as src:
            tables = src.row_counts()
            spans = [s for s in data_spans(src).values() if s.first and s.last]
    except Exception as exc:  # noqa: BLE001 - a fingerprint must not stop the run
        return {
            "uri": shown,
            "error": redact_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
        }
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()[:12]
    return {
        "uri": shown,
        "tables": tables,
        "digest": digest,
        "data_start": {s.table: str(s.first) for s in spans},
        "data_end": {s.table: str(s.last) for s in spans},
    }


def notebook_freshness(task: NotebookTask, fingerprint: Mapping[str, Any] | None) -> Any:
    """The task's :class:`~shopbook.data.freshness.Freshness`, or ``None`` without data.

    The window is the notebook's ``start`` / ``end`` parameters (where it declares them);
    the tables are those it reads (:func:`shopbook.notebook.report_tables`, every table
    for the data-health notebook or one it does not list); the age limit is the job's
    ``max_age_days``, counted from the day the run's date tokens were resolved for.
    """
    from shopbook.data.freshness import TIME_COLUMNS, Span, assess
    from shopbook.notebook.loading import report_tables

    if not fingerprint or "data_end" not in fingerprint:
        return None
    spans = {
        t: Span(
            t,
            TIME_COLUMNS[t],
            date.fromisoformat(fingerprint["data_start"][t]),
            date.fromisoformat(last),
        )
        for t, last in fingerprint["data_end"].items()
    }
    try:
        required, tables = report_tables(task.name)
    except ValueError:
        required, tables = (), None
    if tables is not None:
        spans = {t: s for t, s in spans.items() if t in tables}
    window = {k: task.parameters.get(k) for k in ("start", "end") if k in task.declared}
    return assess(
        spans, **window, today=task.today, max_age_days=task.max_age_days, required=required
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(project_home().resolve()).as_posix()
    except ValueError:
        return str(path)


def _notebook_path(path: Path) -> str:
    """A notebook's path as a summary shows it: relative to the project, else its name."""
    rel = _rel(path)
    return path.name if Path(rel).is_absolute() else rel


# ------------------------------------------------------------------ run folders


@dataclass
class RunResult:
    """What a run produced; ``summary`` is what its ``summary.json`` holds."""

    status: str  # ok | stale | failed
    folder: Path | None
    index: Path | None
    summary: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """0 when no notebook failed (``ok`` or ``stale``), else 1."""
        return self.code()

    def code(self, strict: bool = False) -> int:
        """The exit status: 1 failed; 3 ``stale`` when ``strict`` (``shopbook run --strict``)."""
        if self.status == "failed":
            return 1
        return STRICT_EXIT if strict and self.status == STALE else 0


def _unique_run_id(job_dir: Path, tmp_root: Path, started: datetime) -> str:
    base = started.strftime("%Y%m%dT%H%M%SZ")
    run_id, n = base, 1
    while (job_dir / run_id).exists() or any(tmp_root.glob(f"*-{run_id}-*")):
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _alive(pid: int) -> bool:
    """Whether another process with this id runs."""
    try:
        os.kill(pid, 0)
        return pid != os.getpid()
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _clean_stale_tmp(tmp_root: Path) -> None:
    """Remove temporary run folders and index files whose runner process is gone."""
    if not tmp_root.is_dir():
        return
    for folder in tmp_root.iterdir():
        m = re.search(r"-(\d+)$", folder.name)
        if m and not _alive(int(m.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
    for page in tmp_root.parent.glob(".index.html.*.tmp"):
        m = re.fullmatch(r"\.index\.html\.(\d+)\.tmp", page.name)
        if m and not _alive(int(m.group(1))):
            page.unlink(missing_ok=True)


#: The signals that stop a run (SIGHUP: the terminal or the ssh session went away).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Signals:
    """SIGINT / SIGTERM / SIGHUP raise :class:`RunInterrupted`, except while held back.

    A signal the caller ignores stays ignored (``nohup`` ignores SIGHUP, a background job
    of a non-interactive shell SIGINT).
    """

    def __init__(self, install: bool) -> None:
        self.old: dict[int, Any] = {}
        self.holding = False
        self.pending: int | None = None
        for sig in STOP_SIGNALS if install else ():
            try:
                if signal.getsignal(sig) != signal.SIG_IGN:
                    self.old[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread
                pass

    def _handler(self, signum: int, frame: Any) -> None:
        if self.holding:
            self.pending = self.pending or signum
            return
        raise RunInterrupted(signum)

    @contextmanager
    def held(self, kept: Path) -> Iterator[None]:
        """Finish the block first; a signal that came meanwhile then raises, with ``kept``."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.pending is not None:
            raise RunInterrupted(self.pending, kept=kept)

    def restore(self) -> None:
        for sig, handler in self.old.items():
            signal.signal(sig, handler)


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


def _with_output_dir(task: NotebookTask, private_run: Path) -> NotebookTask:
    """Give a notebook that declares ``output_dir`` a folder in the private folder.

    Files a notebook writes for its readers (CRM customer lists with real ids, …) go to
    ``<private>/<job>/<run id>/<notebook>_files/``, outside the shared reports folder. An
    ``output_dir`` the user passed is kept.
    """
    if OUTPUT_DIR_PARAM not in task.declared or task.parameters.get(OUTPUT_DIR_PARAM):
        return task
    folder = private_run / f"{task.name}_files"
    return replace(task, parameters={**task.parameters, OUTPUT_DIR_PARAM: str(folder)})


def _machine_paths(tmp: Path, final: Path, reports: Path, private: Path) -> dict[str, str]:
    """Absolute paths of this machine and how shared files show them (see module doc)."""

    def label(path: Path, fallback: str) -> str:
        rel = _rel(path)
        return rel if not Path(rel).is_absolute() else fallback

    shown_final = label(final, f"<reports>/{final.parent.name}/{final.name}")
    out: dict[str, str] = {}
    for path, text in (
        (Path(sys.base_prefix), "<python>"),
        (Path(sys.prefix), "<python>"),
        (Path.home(), "~"),
        (project_home(), "."),
        (private, label(private, "<private>")),
        (reports, label(reports, "<reports>")),
        (final, shown_final),
        (tmp, shown_final),
    ):
        for variant in {str(path.absolute()), str(path.resolve())}:
            out[variant] = text
    return out


# ------------------------------------------------------------ one notebook


def _placeholder_entry(
    name: str, path: str | None, status: str, error: str | None
) -> dict[str, Any]:
    """The summary entry of a notebook that did not run (``missing`` / ``skipped``)."""
    return {
        "notebook": name,
        "path": path,
        "status": status,
        "error": error,
        "parameters": {},
        "headlines": [],
        "files": {},
    }


def _read_executed(task: NotebookTask, executed: Path) -> Any:
    """The executed notebook; the input notebook when papermill wrote none or half of one
    (the kernel did not start, the disk filled up)."""
    import nbformat

    try:
        return nbformat.read(str(executed), as_version=4)
    except (OSError, ValueError):  # missing, truncated: NotJSONError is a ValueError
        return nbformat.read(str(task.path), as_version=4)


def _write_reports(
    nb: Any, folder: Path, entry: dict[str, Any], run_summary: Mapping[str, Any], shown: Path
) -> None:
    """Write the notebook and its two pages; a disk error fails the entry, removing the
    files it left half-written. ``shown`` is how messages name ``folder``."""
    import nbformat

    stem = entry["notebook"]
    written: list[Path] = []
    try:
        for key, path in (
            ("ipynb", folder / f"{stem}.ipynb"),
            ("html", folder / f"{stem}.html"),
            ("brief", folder / f"{stem}.brief.html"),
        ):
            written.append(path)
            if key == "ipynb":
                nbformat.write(nb, str(path))
            else:
                render.render_html(nb, path, entry, run_summary, brief=key == "brief")
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a report that cannot render is a failed report
        full = disk_error(exc, shown / written[-1].name)
        entry["status"] = "failed"
        if full:
            entry["error"] = full
            for path in written:
                path.unlink(missing_ok=True)
            entry["files"] = {}
        else:
            entry["error"] = (
                entry["error"] or f"rendering failed: {type(exc).__name__}: {exc}".splitlines()[0]
            )
            entry["files"] = {"ipynb": f"{stem}.ipynb"}


def _finish_notebook(
    task: NotebookTask,
    executed: Path,
    error: str | None,
    published: tuple[dict[str, Any], set[str], Mapping[str, str]],
    fingerprint: dict[str, Any] | None,
    started: datetime,
    duration: float,
    run_summary: Mapping[str, Any],
    freshness: Any = None,
) -> dict[str, Any]:
    """Scrub, write and render one executed notebook; return its entry of the run summary.

    ``published`` is the redacted parameters, the secrets to scrub and the machine paths
    to replace (:meth:`_Run.published_parameters`, :func:`_machine_paths`). ``freshness``
    (:func:`notebook_freshness`) makes a notebook that ran ``stale`` or ``empty``.
    """
    redacted, secrets, paths = published
    nb = _read_executed(task, executed)
    if "papermill" in nb.metadata:  # no absolute paths of the machine
        nb.metadata.papermill["input_path"] = task.path.name if task.path else None
        nb.metadata.papermill["output_path"] = executed.name
    nb = render.scrub_notebook(nb, secrets, redacted, paths)
    if error is None:
        error = render.first_error(nb)
    error = redact_text(error, secrets) if error else None
    stem = task.name
    entry: dict[str, Any] = {
        "notebook": stem,
        "title": render.title(nb) or stem,
        "path": _notebook_path(task.path) if task.path else None,
        "status": "failed" if error else (freshness.status if freshness else "ok"),
        "error": error,
        "freshness": freshness.as_dict() if freshness else None,
        "started": _iso(started),
        "ended": _iso(started + timedelta(seconds=duration)),
        "duration_s": round(duration, 2),
        "parameters": redacted,
        "source": fingerprint,
        "headlines": render.headlines(nb),
        "skipped": render.skipped_sections(nb),
        "files": {"ipynb": f"{stem}.ipynb", "html": f"{stem}.html", "brief": f"{stem}.brief.html"},
    }
    shown = Path(render.replace_paths(str(executed.parent), render.path_pattern(paths)))
    _write_reports(nb, executed.parent, entry, run_summary, shown)
    return entry


@dataclass
class _Run:
    """One run in progress: its folders, kernel, and the summary it builds."""

    tmp: Path
    final: Path
    private: Path  # <private>/<job>/<run id>: files with real ids (output_dir)
    kernel: str
    timeout: float | None
    progress: Progress
    summary: dict[str, Any]
    paths: dict[str, str] = field(default_factory=dict)  # machine path → shown text
    fingerprints: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: int | None = None  # each kernel's numeric thread pools when several run
    variables: dict[str, str] = field(default_factory=dict)  # more for each kernel
    warm: WarmKernels | None = None  # the server forking the kernels of a run

    @property
    def entries(self) -> list[dict[str, Any]]:
        return self.summary["notebooks"]

    def shown(self, text: str) -> str:
        """``text`` with the machine's absolute paths replaced (:func:`_machine_paths`)."""
        return render.replace_paths(text, render.path_pattern(self.paths))

    def published_parameters(self, task: NotebookTask) -> tuple[dict[str, Any], set[str]]:
        """The task's parameters as a report shows them, and every secret to scrub."""
        redacted, secrets = redact_parameters(task.parameters)
        redacted = {k: self.shown(v) if isinstance(v, str) else v for k, v in redacted.items()}
        src_param = task.parameters.get("source") if "source" in task.declared else None
        if src_param:
            secrets |= set(secrets_in(str(src_param)))
        for var in CREDENTIAL_VARIABLES:  # credentials live here
            secrets |= set(secrets_in(os.environ.get(var, "")))
        return redacted, secrets

    def fingerprint(self, task: NotebookTask) -> dict[str, Any] | None:
        """The fingerprint of the task's source, once per source; ``None`` without one."""
        if "source" not in task.declared:  # notebooks without data get no fingerprint
            return None
        src_param = task.parameters.get("source")
        mapping = task.parameters.get("mapping") if "mapping" in task.declared else None
        key = str(src_param or "") + ("\0" + str(mapping) if mapping else "")
        if key not in self.fingerprints:
            self.fingerprints[key] = source_fingerprint(src_param or None, mapping or None)
        return self.fingerprints[key]

    def execute(self, task: NotebookTask, number: int, total: int) -> dict[str, Any]:
        """Execute, scrub and render one notebook; its entry of the run summary."""
        task = _with_output_dir(task, self.private)
        redacted, secrets = self.published_parameters(task)
        fingerprint = self.fingerprint(task)
        freshness = notebook_freshness(task, fingerprint)
        self.progress.notebook(number, total, task.name)
        nb_start = _now()
        t_nb = time.monotonic()
        executed = self.tmp / f"{task.name}.ipynb"
        error = execute(
            task,
            executed,
            self.kernel,
            self.timeout,
            self.progress,
            self.shown(str(executed)),
            self.threads,
            self.variables,
            self.warm,
        )
        duration = time.monotonic() - t_nb
        entry = _finish_notebook(
            task,
            executed,
            error,
            (redacted, secrets, self.paths),
            fingerprint,
            nb_start,
            duration,
            self.summary,
            freshness,
        )
        why = entry.get("error") or (freshness.sentence if freshness else "")
        self.progress.line(
            f"{entry['status'] if entry['status'] != 'failed' else 'FAILED':<6} {task.name} "
            f"({duration:.1f} s){': ' + why if why else ''}"
        )
        return entry

    def execute_all(self, tasks: Sequence[NotebookTask], fail_fast: bool, workers: int = 1) -> None:
        """Run every task, ``workers`` notebooks at a time (each in its own kernel); the
        summary lists them in the order given. With ``fail_fast`` they run one at a time
        and after a failure the rest are skipped."""
        runnable = [t for t in tasks if t.path is not None]
        number = {id(t): k + 1 for k, t in enumerate(runnable)}
        for task in runnable:  # computed once per source, before any thread needs it
            if not task.error:
                self.fingerprint(task)
        slots: list[Any] = []  # an entry, or the future that will give it
        stop = False
        workers = 1 if fail_fast else max(1, min(workers, len(runnable)))
        if workers > 1:  # the cores shared out among the kernels
            self.threads = max(1, (os.cpu_count() or 1) // workers)
        pools = thread_pools(self.threads, os.environ)  # the server imports with the kernels'
        with (
            warm_kernels(self.kernel, pools, len(runnable)) as self.warm,
            shared_checks(runnable) as self.variables,
            ThreadPoolExecutor(workers) as pool,
        ):
            try:
                for task in tasks:
                    if task.path is None:
                        self.progress.line(f"skip {task.name}: {task.missing}")
                        slots.append(_placeholder_entry(task.name, None, "missing", task.missing))
                    elif stop:
                        why = "not run: --fail-fast stopped at an earlier failure"
                        path = _notebook_path(task.path)
                        slots.append(_placeholder_entry(task.name, path, "skipped", why))
                    elif task.error:  # a parameter of the wrong type: the kernel never starts
                        self.progress.line(f"FAILED {task.name}: {task.error}")
                        path = _notebook_path(task.path)
                        slots.append(_placeholder_entry(task.name, path, "failed", task.error))
                    else:
                        future = pool.submit(self.execute, task, number[id(task)], len(runnable))
                        slots.append(future)
                        if fail_fast:  # one at a time: the next waits for this one
                            slots[-1] = future.result()
                    last = slots[-1]
                    stop = stop or (fail_fast and last["status"] == "failed")
                futures = [f for f in slots if isinstance(f, Future)]
                while wait(futures, timeout=0.5).not_done:
                    pass  # short waits, so that a signal is handled in this thread at once
                slots = [f.result() if isinstance(f, Future) else f for f in slots]
            except BaseException:
                # interrupted (or a notebook's runner raised): the notebooks still running
                # in other threads lose their kernels and end at once; none is kept
                pool.shutdown(wait=False, cancel_futures=True)
                kill_kernels()
                raise
        self.entries.extend(slots)
        failed = any(e["status"] == "failed" for e in self.entries)
        stale = any(e["status"] in STALE_STATUSES for e in self.entries)
        self.summary["status"] = "failed" if failed or not runnable else STALE if stale else "ok"


def _summary_header(job: str, run_id: str, started: datetime, kernel: str) -> dict[str, Any]:
    """The run summary before any notebook ran (``status`` ``running``)."""
    commit, dirty = git_commit(project_home())
    return {
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
        "notebooks": [],
    }


def _publish(state: _Run, reports: Path, t0: float, signals: _Signals) -> RunResult:
    """Write ``summary.json`` and the new index, then move the run into place, replace
    the index and link ``latest`` with signals held back (see the module doc)."""
    summary = state.summary
    summary["source"] = next(iter(state.fingerprints.values()), None)  # the first notebook's
    summary["ended"] = _iso(_now())
    summary["duration_s"] = round(time.monotonic() - t0, 2)
    folder = f"{state.final.parent.name}/{state.final.name}"
    index, new_index = reports / "index.html", reports / f".index.html.{os.getpid()}.tmp"
    try:
        try:
            (state.tmp / "summary.json").write_text(
                json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
            )
            new_index.write_text(render.index_page(reports, [(folder, summary)]), encoding="utf-8")
        except OSError as exc:
            full = disk_error(exc)
            if not full:
                raise
            (state.tmp / "summary.json").unlink(missing_ok=True)  # no half-written summary
            with signals.held(state.final):
                state.final.parent.mkdir(parents=True, exist_ok=True)
                os.rename(state.tmp, state.final)  # keep the finished reports
            kept = state.shown(str(state.final))
            raise RunError(
                f"{state.shown(full)}; the run's reports are kept in {kept}, but it is not in "
                "the index and `latest` did not move: free space and run again"
            ) from None
        with signals.held(state.final):
            state.final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(state.tmp, state.final)  # the run appears whole, or not at all
            os.replace(new_index, index)
            if summary["status"] in ("ok", STALE):
                _link_latest(state.final.parent, state.final.name)
    finally:
        new_index.unlink(missing_ok=True)
    return RunResult(summary["status"], state.final, index, summary)


def default_workers() -> int:
    """Notebooks run side by side by default: one per CPU core, at most 4.

    A notebook's kernel mostly keeps one core busy (its engine queries are short), so on
    two cores two notebooks at a time take about half as long; each kernel holds a few
    hundred MB.
    """
    return max(1, min(4, os.cpu_count() or 1))


def run(
    tasks: Sequence[NotebookTask],
    job: str = ADHOC_JOB,
    out: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    fail_fast: bool = False,
    progress: Progress | None = None,
    handle_signals: bool = True,
    workers: int | None = None,
) -> RunResult:
    """Execute ``tasks`` into a new run folder and rebuild the index.

    Parameters
    ----------
    tasks
        From :func:`shopbook.report.plan.plan`.
    job
        The job name (the run folder's parent).
    out
        The reports folder (default ``SHOPBOOK_REPORTS`` or ``reports/``).
    timeout
        Seconds a single cell may run (papermill's ``execution_timeout``), a positive
        number; ``None``: no limit.
    fail_fast
        Stop at the first failing notebook (the remaining ones are recorded as ``skipped``).
    progress
        Where progress goes (default: stderr).
    handle_signals
        Turn SIGINT, SIGTERM and SIGHUP into an interruption that removes the temporary
        folder (held back while the finished run is moved into place).
    workers
        How many notebooks run at the same time, each in its own kernel (default
        :func:`default_workers`); 1 with ``fail_fast``.

    Returns
    -------
    RunResult

    Raises
    ------
    RunInterrupted
        On Ctrl-C / SIGTERM / SIGHUP: after removing the temporary folder, nothing else
        changed (``kept`` is ``None``); or, when the signal came while the run was being
        moved into place, after finishing that (``kept`` is the run folder).
    RunError
        For a timeout that is not a positive number (before anything is written), and
        when ``summary.json`` or the index cannot be written (disk full; the run folder
        is kept).
    """
    timeout = check_timeout(timeout)
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
    private = config.private_dir() / job / run_id
    signals = _Signals(handle_signals)
    t0 = time.monotonic()
    try:
        kernel, note = kernel_name()
        if note:
            progress.line(f"note: {note}")
        header = _summary_header(job, run_id, started, kernel)
        state = _Run(tmp, job_dir / run_id, private, kernel, timeout, progress, header)
        state.paths = _machine_paths(tmp, state.final, reports, config.private_dir())
        state.execute_all(tasks, fail_fast, workers or default_workers())
        return _publish(state, reports, t0, signals)
    except BaseException:
        if not (job_dir / run_id).exists():  # discarded: its private files go too
            shutil.rmtree(private, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        signals.restore()
