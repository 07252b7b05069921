"""Executing one notebook with papermill: the kernel, cell progress, errors as one line.

Kernel
------
Notebooks run in the Jupyter kernel named ``shopbook`` (``make setup`` registers it in
the virtual environment). If it is not registered, the runner uses ipykernel's
``python3`` kernel of the current environment and says so. Kernels talk to the runner
over local IPC sockets, not TCP ports. A kernel that dies fails its notebook like an
error does. In a run of several notebooks the kernels are forked from one process that
imported the libraries (:mod:`shopbook.report.warm`).

Timeout
-------
``timeout`` is the seconds one cell may run, a positive number; ``None`` (the option
left out) is no limit. ``0``, negative and non-finite values are refused
(:func:`check_timeout`) rather than silently meaning "no limit".

Disk full
---------
A notebook whose output cannot be written (``ENOSPC``, ``EDQUOT``, ``EROFS``,
``EACCES``) fails with one line naming the cause and the file, e.g. ``no space left on
device: reports/nightly/…/02_market_trend.ipynb`` (:func:`shopbook.errors.disk_error`).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shopbook.errors import disk_error
from shopbook.report.jobs import RunError
from shopbook.report.plan import NotebookTask
from shopbook.report.warm import THREAD_VARIABLES, WarmKernels

KERNEL_NAME = "shopbook"


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by SIGINT, SIGTERM or SIGHUP.

    ``kept`` is ``None`` when the run was discarded, or the run folder when the signal
    came while the finished run was being moved into place (it was then completed first).
    """

    def __init__(self, signum: int = signal.SIGINT, kept: Path | None = None) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.kept = kept


def check_timeout(timeout: float | None) -> float | None:
    """``timeout`` if it is a positive, finite number of seconds (or ``None``: no limit).

    Raises
    ------
    RunError
        For 0, a negative or a non-finite value.
    """
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise RunError(
            f"--timeout must be a positive number of seconds, got {timeout:g}; "
            "leave it out for no limit"
        )
    return timeout


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


class Progress:
    """Prints which notebook and cell is running and the elapsed time (to stderr).

    Notebooks may run side by side (``run(workers=…)``): each thread keeps its own
    notebook label and clock, and lines are written whole, one at a time.
    """

    def __init__(self, stream: Any = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._current = threading.local()
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text)
            self.stream.flush()

    def line(self, text: str) -> None:
        if self.quiet:
            return
        self._write(("\r\033[K" if self.tty else "") + text + "\n")

    def notebook(self, index: int, total: int, name: str) -> None:
        self._current.start = time.monotonic()
        self._current.label = f"[{index}/{total}] {name}"
        self.line(f"{self._current.label}: starting")

    def cell(self, index: int, total: int) -> None:
        if self.quiet:
            return
        label = getattr(self._current, "label", "")
        elapsed = time.monotonic() - getattr(self._current, "start", time.monotonic())
        text = f"{label}: cell {index + 1}/{total} ({elapsed:.1f} s)"
        self._write("\r\033[K" + text if self.tty else text + "\n")


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
            # papermill writes the whole notebook (its figures too) before and after every
            # cell: 0.02 s a time for notebook 02, about 1 s of the runner's CPU per
            # notebook. It is written once, when the notebook ends — also after an error,
            # a timeout or a dead kernel (papermill's notebook_complete runs in a finally)
            nb_man.save = lambda **kw: None
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            finally:
                del nb_man.save  # the class's save again, for notebook_complete

    papermill_engines.register("shopbook", ProgressEngine)
    return "shopbook"


#: The kernel managers of this process (:func:`kill_kernels` stops their kernels).
_MANAGERS: weakref.WeakSet[Any] = weakref.WeakSet()


def kill_kernels() -> None:
    """Kill every kernel this process started that is still running (SIGKILL).

    For an interrupted run whose notebooks execute in other threads: their kernels die,
    so each of those executions ends at once with a dead-kernel error.
    """
    for manager in list(_MANAGERS):
        pid = getattr(getattr(manager, "provisioner", None), "pid", None)
        if pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def thread_pools(threads: int | None, env: Mapping[str, str]) -> dict[str, str]:
    """The thread-pool variables of a kernel (:data:`THREAD_VARIABLES`): ``threads`` each,
    unless ``env`` sets them; ``{}`` for ``None`` (the libraries' defaults)."""
    if threads is None:
        return {}
    return {var: env.get(var, str(threads)) for var in THREAD_VARIABLES}


def kernel_manager_class(
    threads: int | None = None,
    variables: Mapping[str, str] | None = None,
    warm: WarmKernels | None = None,
) -> type:
    """A kernel manager whose kernels talk to the runner over local IPC sockets, not TCP.

    ``threads``: the numeric libraries' thread pools of each kernel
    (:data:`THREAD_VARIABLES`, unless the environment sets them) — for kernels running
    side by side, whose pools would otherwise each take every core and contend.
    ``variables``: more environment variables of each kernel (the run's saved checks,
    :mod:`shopbook.report.checks`). ``warm``: the run's warm server, which forks the
    kernels with the libraries imported (:mod:`shopbook.report.warm`).
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            _MANAGERS.add(self)
            self.transport = "ipc"
            runtime = (
                Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
                / f"shopbook-kernels-{os.getuid()}"
            )
            runtime.mkdir(mode=0o700, exist_ok=True)
            self.ip = str(runtime / f"kernel-{os.getpid()}-{id(self)}")

        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            if threads is not None or variables:
                env = dict(kw.get("env") or os.environ)
                env.update(thread_pools(threads, env))
                env.update(variables or {})
                kw["env"] = env
            return await super()._async_pre_start_kernel(**kw)

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            cmd = super().format_kernel_cmd(extra_arguments)
            return warm.command(cmd) if warm is not None else cmd

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts before every shutdown, which makes an idle
            # ipykernel log "KeyboardInterrupt caught" into every report log. An idle
            # kernel needs no interrupt to shut down (a busy one is killed after
            # shutdown_wait_time).
            if getattr(self, "shutting_down", False):
                return
            await super()._async_interrupt_kernel()

    return IPCKernelManager


def execute(
    task: NotebookTask,
    output: Path,
    kernel: str,
    timeout: float | None,
    progress: Progress,
    shown: str | None = None,
    threads: int | None = None,
    variables: Mapping[str, str] | None = None,
    warm: WarmKernels | None = None,
) -> str | None:
    """Run one notebook with papermill into ``output``.

    Parameters
    ----------
    task
        The notebook and its parameters (from :func:`shopbook.report.plan.plan`).
    output
        Where the executed notebook is written.
    kernel
        The kernel name (:func:`kernel_name`).
    timeout
        Seconds one cell may run; ``None``: no limit.
    progress
        Where cell progress goes.
    shown
        How an error message names ``output`` (default: the path itself).
    threads
        The kernel's numeric thread pools (:func:`kernel_manager_class`); ``None``: the
        libraries' defaults.
    variables, warm
        More environment variables of the kernel, the run's warm server
        (:func:`kernel_manager_class`).

    Returns
    -------
    str or None
        ``"Name: first line of the message"`` when the notebook failed (an error in a
        cell, a dead kernel, a timeout), ``"no space left on device: PATH"`` when its
        output could not be written, else ``None``.

    Raises
    ------
    RunInterrupted
        When the kernel got the terminal's Ctrl-C.
    """
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
            kernel_manager_class=kernel_manager_class(threads, variables, warm),
            # a run's cells are not the analyst's history (nor worth a write at every exit)
            extra_arguments=["--HistoryManager.enabled=False"],
        )
    except PapermillExecutionError as exc:
        if exc.ename == "KeyboardInterrupt":  # the kernel got the terminal's Ctrl-C too
            raise RunInterrupted(signal.SIGINT) from None
        msg = (exc.evalue or "").strip().splitlines()
        return f"{exc.ename}: {msg[0]}" if msg else exc.ename
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - dead kernel, timeout, bad notebook: it fails
        full = disk_error(exc, shown or output)
        if full:
            return full
        name = type(exc).__name__
        msg = str(exc).strip().splitlines()
        if "DeadKernel" in name:
            return f"{name}: the kernel died (killed, or out of memory)"
        return f"{name}: {msg[0]}" if msg else name
    return None
