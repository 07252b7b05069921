"""Transcoding on every core (:mod:`shopbook.transcoding`): the byte ranges cut at line
ends, the parts equal a transcode on one core, and any failure falls back to one core,
which names the line of bytes that are not in the encoding."""

from __future__ import annotations

import sys

import pytest

from shopbook import transcoding
from shopbook.data.sources import files
from shopbook.errors import ContractError

#: Two-byte (GBK) and four-byte (GB18030-only: ¥, 𠀀) characters on every line.
LINES = [f"T{i:06d},买家{i},¥{i},𠀀{'备注' * (i % 7)}" for i in range(3000)]


@pytest.fixture
def export(tmp_path, monkeypatch):
    monkeypatch.setattr(transcoding, "MIN_RANGE", 4096)  # a small file, cut in ranges
    path = tmp_path / "export.csv"
    path.write_bytes(("\n".join(LINES) + "\n").encode("gb18030"))
    return path


def test_ranges_start_at_line_starts_and_cover_the_file(export):
    data = export.read_bytes()
    parts = transcoding.ranges(export, workers=3)
    assert len(parts) == 3
    assert parts[0][0] == 0 and parts[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    assert all(data[start - 1 : start] == b"\n" for start, _ in parts[1:])


def test_a_small_file_is_one_range(tmp_path):
    path = tmp_path / "small.csv"
    path.write_bytes("a,b\n1,2\n".encode("gb18030"))
    assert transcoding.ranges(path, workers=4) == [(0, path.stat().st_size)]


def test_the_parts_of_the_workers_equal_the_file_transcoded_on_one_core(export, tmp_path):
    out = tmp_path / "out.csv"
    assert transcoding.parallel(export, out, "gb18030", transcoding.ranges(export, workers=3))
    assert out.read_text(encoding="utf-8") == "\n".join(LINES) + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv", "out.csv"]  # parts gone


@pytest.mark.parametrize("where", ["first", "last"])
def test_bad_bytes_in_any_range_name_their_line(export, tmp_path, where):
    data = export.read_bytes().split(b"\n")
    bad = 2 if where == "first" else len(LINES) - 2  # 0-based: line bad + 1 of the file
    data[bad] += b"\x80\xff"
    export.write_bytes(b"\n".join(data))
    assert not transcoding.parallel(
        export, tmp_path / "out.csv", "gb18030", transcoding.ranges(export, workers=3)
    )
    with pytest.raises(ContractError) as err:
        files.transcode(export, tmp_path / "out.csv", "gb18030", "orders", "export.csv")
    assert f"export.csv line {bad + 1} holds bytes that are not GB18030" in str(err.value)


def test_without_an_interpreter_to_start_it_is_done_on_one_core(export, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    parts = transcoding.ranges(export, workers=2)
    assert not transcoding.parallel(export, tmp_path / "out.csv", "gb18030", parts)
    files.transcode(export, tmp_path / "out.csv", "gb18030", "orders", "export.csv")
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "\n".join(LINES) + "\n"
