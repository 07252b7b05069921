"""Errors Shopbook raises on purpose, with messages a user can act on.

:class:`ContractError` (with :class:`Problem`) is the structural error of a source.
:func:`error_message` is the one line the ``shopbook`` command prints for any other error
(a full or read-only disk — :func:`os_error_message` —, malformed YAML — :func:`yaml_problem`
—, a failed connection, an unknown source scheme), each with a fix where one is known.
"""

from __future__ import annotations

import errno
import os
import re
import socket
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One structural problem with a source.

    Attributes
    ----------
    table, column
        Where the problem is (``column`` is ``None`` for table-level problems).
    expected, found
        What the contract asks for and what the source holds.
    fix
        How to fix it, in one sentence.
    """

    table: str
    column: str | None
    expected: str
    found: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: expected {self.expected}, found {self.found}. Fix: {self.fix}"


class ContractError(ValueError):
    """The data breaks the contract in a way rows cannot be rejected for.

    Raised for structural problems — a missing table or column, a type that cannot be
    coerced, mixed currencies, an empty table a caller needs — and, with
    ``strict=True``, for any rejected row. The message names the table, the column,
    what was expected, what was found and how to fix it; one line per problem.

    Construct with keyword arguments for a single problem, or with ``problems=[...]``.
    """

    def __init__(
        self,
        *,
        table: str | None = None,
        column: str | None = None,
        expected: str = "",
        found: str = "",
        fix: str = "",
        problems: list[Problem] | None = None,
    ) -> None:
        if problems is None:
            problems = [Problem(table or "?", column, expected, found, fix)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def table(self) -> str:
        return self.problems[0].table

    @property
    def column(self) -> str | None:
        return self.problems[0].column


# ------------------------------------------------------------ one-line messages

#: ``errno`` → (what happened, how to fix it), for errors of the file system.
_OS_ERRORS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: (
        "no space left on device",
        "free space on that disk or write somewhere else (--out, SHOPBOOK_REPORTS)",
    ),
    errno.EDQUOT: (
        "disk quota exceeded",
        "free space in your quota or write somewhere else (--out, SHOPBOOK_REPORTS)",
    ),
    errno.EROFS: (
        "read-only file system",
        "write to a writable folder (--out, SHOPBOOK_REPORTS) or remount it read-write",
    ),
    errno.EACCES: (
        "permission denied",
        "give your user access to that path or use another one",
    ),
    errno.EPERM: (
        "operation not permitted",
        "give your user access to that path or use another one",
    ),
    errno.ENOENT: ("no such file or directory", "check the path"),
    errno.EISDIR: ("is a directory", "give the path of a file"),
    errno.ENOTDIR: ("not a directory", "check the path"),
    errno.EMFILE: ("too many open files", "raise the limit (ulimit -n) or open fewer files"),
}
_CONNECTION_WORDS = re.compile(
    r"connection (?:to server .*)?(?:refused|failed|timed out|reset)|could not connect"
    r"|could not translate host name|name or service not known|no route to host",
    re.IGNORECASE,
)


def os_error_message(exc: OSError) -> str:
    """One line for an error of the file system: ``no space left on device: PATH. Fix: …``.

    ENOSPC, EDQUOT, EROFS, EACCES/EPERM and a few more are named in plain words with the
    path (when the error carries one) and a fix; other errors keep their own text.
    """
    reason, fix = _OS_ERRORS.get(exc.errno or -1, (exc.strerror or str(exc), ""))
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    line = f"{reason}: {' -> '.join(paths)}" if paths else str(reason)
    return f"{line}. Fix: {fix}" if fix else line


def yaml_problem(exc: Exception) -> str:
    """Where and what a YAML syntax error is: ``line 3, column 7: mapping values are …``."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is None:
        return str(problem)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)

#: Write errors that mean the disk (or the folder) takes no more files.
DISK_ERRNOS = (*_DISK_FULL, errno.EACCES, errno.EPERM)


def disk_error(exc: BaseException, path: Any = None) -> str | None:
    """One line for a write that failed because the disk or folder takes no more files.

    The :class:`OSError` of :data:`DISK_ERRNOS` is looked for in ``exc`` and its causes
    (a library that re-raised it), and described by :func:`os_error_message`.

    Parameters
    ----------
    exc
        The error.
    path
        The path to name instead of the error's own (e.g. the final place of a file
        written to a temporary folder); ``None`` keeps the error's.

    Returns
    -------
    str or None
        ``"no space left on device: PATH. Fix: …"`` and the like; ``None`` for other errors.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in DISK_ERRNOS:
            if path is not None:
                seen = OSError(seen.errno, seen.strerror, str(path))
            return os_error_message(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _disk_error(exc: BaseException) -> str | None:
    """:func:`disk_error`, or a full disk named in an engine's words (DuckDB's ``No space
    left on device``)."""
    found = disk_error(exc)
    if found:
        return found
    text = str(exc).lower()
    for code in _DISK_FULL:
        reason, fix = _OS_ERRORS[code]
        if reason in text or os.strerror(code).lower() in text:
            return f"{reason} ({_first_line(exc)}). Fix: {fix}"
    return None


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, BrokenPipeError):
        return False
    if isinstance(exc, (ConnectionError, socket.gaierror, socket.timeout)):
        return True
    return bool(_CONNECTION_WORDS.search(str(exc)))


def error_message(exc: BaseException) -> str:
    """The one line the ``shopbook`` command prints for an error it did not expect.

    A structural problem (:class:`ContractError`) keeps its message; a full or read-only
    disk, malformed YAML, a connection that failed, an unknown source scheme and
    undecodable bytes get a plain description and a fix; anything else is
    ``ExceptionType: first line of its message``. The text is not redacted here: the
    command prints it through :class:`shopbook.redaction.RedactingStream`.
    """
    import yaml

    if isinstance(exc, ContractError):
        return "; ".join(str(p) for p in exc.problems)
    if isinstance(exc, yaml.YAMLError):
        return (
            f"malformed YAML at {yaml_problem(exc)}. Fix: correct the file's syntax "
            "(a 'key: value' per line, consistent indentation, quotes around values "
            "holding ': ' or ' #')"
        )
    disk = None if isinstance(exc, OSError) else _disk_error(exc)
    if disk:
        return disk
    if _is_connection_error(exc):
        return (
            f"cannot connect to the data source: {_first_line(exc)}. Fix: check the host, "
            "port and credentials of the source (--source or SHOPBOOK_SOURCE) and that the "
            "database server is running"
        )
    if isinstance(exc, OSError):
        return os_error_message(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({exc.reason} at byte {exc.start}). Fix: save it as UTF-8"
    unknown = re.match(r"Don't know how to connect to (?P<uri>.+)", str(exc))
    if unknown:
        return (
            f"cannot open the data source {unknown.group('uri')}: unknown scheme. Fix: use a "
            "path (DuckDB file, folder of Parquet/CSV files) or a URI ibis can open, such "
            "as postgres://, duckdb:// or pyspark://"
        )
    return f"{type(exc).__name__}: {_first_line(exc)}"
