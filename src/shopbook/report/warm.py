"""Warm kernels: notebook kernels forked from a process that has imported the libraries.

Every notebook of a run starts a kernel, and each kernel used to import the same
libraries again — pandas, pyarrow, ibis, DuckDB, SciPy, matplotlib, seaborn, IPython
and ipykernel: about 1.5–2 CPU seconds per notebook, a fifth of ``make report``. A run
of several notebooks now starts one **warm server** (:class:`WarmKernels`) that imports
them once (:data:`PRELOAD`), then forks a child for every kernel. A child is a fresh
kernel in every way a notebook can see — its own process, environment, working folder,
standard streams and connection file; nothing of Shopbook itself is imported before the
fork, and no notebook code ever runs in the server — only the import is shared.

The kernel command jupyter_client starts is a small client (``warm_client.py``, standard
library only, started without ``site``) that hands its standard streams, environment,
folder and the kernel's arguments to the server over a Unix socket, forwards the signals
jupyter_client sends it (interrupt, terminate) to the child, and exits with the child's
status. When jupyter_client kills the client, the server kills the child. When the
server cannot be reached, or the kernel's environment differs in what the imports read
(the thread pools' variables, the matplotlib backend), the client runs the ordinary
kernel command instead — a warm kernel is only ever a faster cold one.

``SHOPBOOK_WARM_KERNELS=0`` turns it off.

The server is single-threaded (forking from a process with threads could copy a lock
held by another thread), and the libraries it imports start no threads at import.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: Imported by the server before it forks kernels: what the notebooks' first cells import
#: (and what those import), heaviest first. A module that is not installed is skipped.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython.display",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy.stats",
    "scipy.optimize",
    "matplotlib.pyplot",
    "seaborn",
    "duckdb",
    "ibis",
    "ibis.backends.duckdb",
    "sqlglot",
    "yaml",
)
#: The thread-pool sizes of the numeric libraries a kernel uses (BLAS, OpenMP, polars).
#: Defined here, not in :mod:`~shopbook.report.execute`: the server runs this file as a
#: script, which imports nothing of Shopbook.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "POLARS_MAX_THREADS",
)
#: Environment variables the interpreter reads at start and the imports read: a kernel
#: whose values differ from the server's is started cold.
IMPORT_VARIABLES = (
    *THREAD_VARIABLES,
    "MPLBACKEND",
    "MPLCONFIGDIR",
    "PYTHONHASHSEED",
    "PYTHONPATH",
    "PYTHONUTF8",
    "PYTHONIOENCODING",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
)
#: ipykernel's default matplotlib backend (set before matplotlib is imported, as it does).
INLINE = "module://matplotlib_inline.backend_inline"
CLIENT = Path(__file__).with_name("warm_client.py")
#: Seconds the runner waits for the server to listen before starting every kernel cold.
READY_SECONDS = 30.0
#: A kernel's request: ``{"args": [...], "env": {...}, "cwd": "..."}`` as JSON.
MAX_REQUEST = 1 << 22


def enabled() -> bool:
    """Whether runs use warm kernels (``SHOPBOOK_WARM_KERNELS`` not ``0``) on this system."""
    return os.environ.get("SHOPBOOK_WARM_KERNELS", "1") != "0" and hasattr(os, "fork")


def launcher_args(argv: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """The interpreter options before ``-m ipykernel_launcher`` and the arguments after it,
    of a kernel command run by this Python; ``None`` for any other command (it is then
    started as it is)."""
    argv = list(argv)
    if not argv or os.path.realpath(argv[0]) != os.path.realpath(sys.executable):
        return None
    for i in range(1, len(argv) - 1):
        if argv[i] == "-m" and argv[i + 1] == "ipykernel_launcher":
            return argv[1:i], argv[i + 2 :]
    return None


def kernel_options(kernel: str) -> list[str]:
    """The interpreter options of the kernel named ``kernel`` (e.g. ``-Xfrozen_modules=off``),
    which the server is started with; ``[]`` when it is not an ipykernel of this Python."""
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        found = launcher_args(KernelSpecManager().get_kernel_spec(kernel).argv)
    except Exception:  # noqa: BLE001 - a kernel that cannot be found starts cold (and fails so)
        return []
    return found[0] if found else []


class WarmKernels:
    """The warm server of a run (a context manager): started on entry, stopped on exit.

    Parameters
    ----------
    env
        The kernels' environment as far as the imports read it (:data:`IMPORT_VARIABLES`;
        e.g. the thread pools' sizes the runner gives every kernel).
    options
        The interpreter options of the kernel command (:func:`kernel_options`): only
        kernel commands with these options are forked.
    """

    def __init__(self, env: Mapping[str, str] | None = None, options: Sequence[str] = ()) -> None:
        self.env = dict(env or {})
        self.options = list(options)
        self.folder = ""
        self.path = ""  # the server's socket
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WarmKernels:
        self.folder = tempfile.mkdtemp(prefix="shopbook-warm-")
        self.path = os.path.join(self.folder, "server")
        env = {**os.environ, **self.env}
        env.setdefault("MPLBACKEND", INLINE)
        ready, told = os.pipe()
        try:
            try:
                self.process = subprocess.Popen(
                    # as a script, so that nothing of Shopbook is imported into the kernels
                    [sys.executable, *self.options, str(Path(__file__)), self.path, str(told)],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    pass_fds=(told,),
                    start_new_session=True,  # the terminal's Ctrl-C is the runner's to handle
                )
            finally:
                os.close(told)
            # until the server listens (a kernel started before would find no socket and
            # start cold); the imports come after
            with selectors.DefaultSelector() as sel:
                sel.register(ready, selectors.EVENT_READ)
                listening = bool(sel.select(READY_SECONDS)) and os.read(ready, 1) == b"1"
        finally:
            os.close(ready)
        if not listening:  # every kernel starts cold
            self.__exit__()
            self.process = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()  # the server kills its kernels, then exits
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def command(self, argv: Sequence[str]) -> list[str]:
        """The kernel command ``argv`` through the server (``argv`` itself if it is not
        an ipykernel of this Python)."""
        found = launcher_args(argv)
        if found is None or found[0] != self.options or self.process is None:
            return list(argv)
        # -S: no site, no venv packages; the client needs the standard library only
        return [sys.executable, "-S", str(CLIENT), self.path, *argv]


# --- the server -----------------------------------------------------------------------


def _recv_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One request: a 4-byte length, the JSON, and the client's three standard streams."""
    head, fds, _flags, _addr = socket.recv_fds(conn, 4, 3)
    if len(head) < 4:
        raise OSError("short request")
    (size,) = struct.unpack("!I", head)
    if size > MAX_REQUEST:
        raise OSError("request too large")
    body = b""
    while len(body) < size:
        part = conn.recv(size - len(body))
        if not part:
            raise OSError("request cut short")
        body += part
    return json.loads(body), list(fds)


def _cold_reason(env: Mapping[str, str]) -> str | None:
    """Why a kernel with this environment cannot be forked from the server, or ``None``."""
    for var in IMPORT_VARIABLES:
        mine = os.environ.get(var)
        theirs = env.get(var, INLINE if var == "MPLBACKEND" else None)
        if mine != theirs:
            return f"{var} differs"
    return None


def _child(request: dict[str, Any], fds: list[int], close: list[socket.socket]) -> None:
    """In the forked child: become the kernel the client asked for (never returns)."""
    code = 1
    try:
        for s in close:
            s.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        for sig in (signal.SIGTERM, signal.SIGCHLD):  # the server's handlers, undone
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setpgid(0, 0)  # its own group, as a kernel jupyter_client starts is
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        import importlib.util

        spec = importlib.util.find_spec("ipykernel_launcher")
        sys.argv = [(spec and spec.origin) or "ipykernel_launcher", *request["args"]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - a kernel that fails says so on its stderr
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(path: str, ready: int | None = None) -> None:
    """Listen on the Unix socket ``path`` (and say so on the file descriptor ``ready``),
    import :data:`PRELOAD`, fork kernels on request."""
    runner = os.getppid()  # when the runner is gone (even killed), so is the server
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)  # clients wait in the backlog while the imports run
    if ready is not None:
        os.write(ready, b"1")
        os.close(ready)
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    import gc
    import threading

    gc.collect()
    gc.freeze()  # the children's collections skip what the server imported
    # a thread an import started would be missing in every child, with any lock it held:
    # then no kernel is forked (each starts cold)
    declined = "a thread started at import" if threading.active_count() > 1 else None
    children: dict[int, socket.socket] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    while not stopping and os.getppid() == runner:
        for key, _events in sel.select(timeout=0.05):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock is listener:
                conn, _ = listener.accept()
                _start(conn, listener, children, sel, declined)
            else:  # a client's connection closed: the client is gone, so is its kernel
                pid = next((p for p, c in children.items() if c is sock), None)
                with contextlib.suppress(OSError):
                    if sock.recv(1, socket.MSG_PEEK):
                        continue
                sel.unregister(sock)
                if pid is not None:
                    _kill(pid)
        _reap(children, sel)
    for pid in children:
        _kill(pid)
    while children:
        _reap(children, sel, block=True)


def _start(
    conn: socket.socket,
    listener: socket.socket,
    children: dict[int, socket.socket],
    sel: selectors.BaseSelector,
    declined: str | None = None,
) -> None:
    try:
        request, fds = _recv_request(conn)
    except (OSError, ValueError):
        conn.close()
        return
    why = declined or (_cold_reason(request.get("env", {})) if len(fds) == 3 else "no streams")
    if why:
        with contextlib.suppress(OSError):
            conn.sendall(f"cold {why}\n".encode())
        conn.close()
        for fd in fds:
            os.close(fd)
        return
    pid = os.fork()
    if pid == 0:
        _child(request, fds, [listener, conn, *children.values()])
    for fd in fds:
        os.close(fd)
    children[pid] = conn
    try:
        conn.sendall(f"pid {pid}\n".encode())
    except OSError:
        _kill(pid)
        return
    sel.register(conn, selectors.EVENT_READ)


def _kill(pid: int) -> None:
    """Kill a kernel and what it started (its process group)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _reap(
    children: dict[int, socket.socket], sel: selectors.BaseSelector, block: bool = False
) -> None:
    """Tell the clients of the children that exited their status."""
    while children:
        try:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            conn.sendall(f"exit {code}\n".encode())
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(conn)
        conn.close()
        if block:
            return


@contextlib.contextmanager
def warm_kernels(
    kernel: str, env: Mapping[str, str] | None = None, kernels: int = 2
) -> Iterator[WarmKernels | None]:
    """A :class:`WarmKernels` for a run of ``kernels`` notebooks in the kernel named
    ``kernel``, or ``None`` when warm kernels are turned off or the run has one notebook
    (forking one kernel saves nothing)."""
    if not enabled() or kernels < 2:
        yield None
        return
    with WarmKernels(env, kernel_options(kernel)) as warm:
        yield warm


if __name__ == "__main__":
    del sys.path[0]  # this file's folder: its modules are not top-level modules
    serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
