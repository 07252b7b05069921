"""Transcoding a large GBK/GB18030 text file to UTF-8 on every core.

Python's codecs decode on one core and hold the interpreter lock, so a file is cut into
byte ranges at line ends and each range after the first is transcoded by a worker
process (``python -m shopbook.transcoding``) while this process does the first; the parts
are then appended in order. A line end is a safe cut in these encodings: the byte
``\\n`` is never part of a multi-byte character (GBK's second bytes are 0x40–0xFE, and
GB18030's four-byte characters have 0x30–0x39 as second and fourth bytes).

This module imports only the standard library, so that a worker starts in milliseconds
(importing :mod:`shopbook.data` would load pandas, DuckDB and ibis in each). Errors are
not explained here: :func:`parallel` says only whether it succeeded, and the caller
(:func:`shopbook.data.sources.files.transcode`) transcodes again on one core to name the
line of bytes that are not in the encoding.
"""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

#: Encodings whose files may be cut at any line end.
SPLITTABLE = ("gbk", "gb18030")
#: Bytes per range at least: smaller files are transcoded on one core (a worker costs
#: the start of a Python process, some 30 ms).
MIN_RANGE = 1 << 25
#: Bytes transcoded at a time.
CHUNK = 1 << 22
#: At most this many ranges (processes), however many cores.
MAX_WORKERS = 4


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ranges(path: Path, workers: int | None = None) -> list[tuple[int, int]]:
    """``[(start, end), …]`` byte ranges of ``path`` that each start at a line start:
    one per worker (:func:`cores`, at most :data:`MAX_WORKERS`), each at least
    :data:`MIN_RANGE` bytes; one range for a small file."""
    size = path.stat().st_size
    n = max(1, min(workers or min(cores(), MAX_WORKERS), size // MIN_RANGE))
    cuts = [0]
    with open(path, "rb") as f:
        for i in range(1, n):
            f.seek(max(size * i // n, cuts[-1]))
            while True:
                block = f.read(1 << 16)
                if not block:
                    break
                end = block.find(b"\n")
                if end >= 0:
                    cuts.append(f.tell() - len(block) + end + 1)
                    break
    cuts = sorted({c for c in cuts if c < size})
    return list(zip(cuts, [*cuts[1:], size], strict=True))


class BadBytes(Exception):
    """Bytes that are not in the encoding: the decoding error, the chunk it is in (its
    positions are the chunk's) and the lines before the chunk."""

    def __init__(self, error: UnicodeDecodeError, chunk: bytes, lines: int) -> None:
        super().__init__(str(error))
        self.error, self.chunk, self.lines = error, chunk, lines


def copy(
    f: BinaryIO, out: BinaryIO, encoding: str, size: int | None = None, chunk: int = CHUNK
) -> None:
    """``size`` bytes of ``f`` (or all that is left) read as ``encoding`` and written to
    ``out`` as UTF-8, ``chunk`` bytes at a time.

    Raises
    ------
    BadBytes
        At the first chunk that does not decode.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 0
    while True:
        data = f.read(chunk if size is None else min(chunk, size))
        if size is not None:
            size -= len(data)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise BadBytes(exc, data, lines) from None
        out.write(text.encode("utf-8"))
        if not data:
            return
        lines += data.count(b"\n")


def transcode_range(src: Path, start: int, end: int, out: Path, encoding: str) -> bool:
    """Bytes ``start:end`` of ``src`` from ``encoding`` to UTF-8 in ``out`` (created);
    ``False`` when they do not decode."""
    with open(src, "rb") as f, open(out, "wb") as dst:
        f.seek(start)
        try:
            copy(f, dst, encoding, end - start)
        except BadBytes:
            return False
    return True


def parallel(src: Path, dst: Path, encoding: str, parts: list[tuple[int, int]]) -> bool:
    """``src`` transcoded to ``dst`` range by range (``parts``, from :func:`ranges`):
    the first here, the others by worker processes at the same time.

    Returns ``False``, with ``dst`` incomplete, when a range does not decode or a worker
    could not be run: the caller then transcodes on one core (and names the bad line).
    """
    folder = Path(tempfile.mkdtemp(prefix="shopbook-ranges-", dir=dst.parent))
    outs = [folder / f"{i}.part" for i in range(len(parts))]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        try:
            for (a, b), o in zip(parts[1:], outs[1:], strict=True):
                workers.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            __name__,
                            str(src),
                            str(a),
                            str(b),
                            str(o),
                            encoding,
                        ],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        except OSError:  # no interpreter to start (an embedded Python)
            return False
        if not transcode_range(src, *parts[0], dst, encoding):
            return False  # the caller starts again on one core: the workers are stopped
        if not all([w.wait() == 0 for w in workers]):
            return False
        with open(dst, "ab") as out:
            for part in outs[1:]:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, CHUNK)
                part.unlink()
        return True
    finally:  # no worker outlives the call (a failure, an interrupt)
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _main(argv: list[str]) -> int:
    src, start, end, out, encoding = argv
    return 0 if transcode_range(Path(src), int(start), int(end), Path(out), encoding) else 3


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
