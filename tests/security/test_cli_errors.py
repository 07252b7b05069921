"""The ``shopbook`` command's errors (issue 13, items 6 and 7): one line, never a password.

Every case runs the real command (through typer's runner, and once as a process) with a
hostile input and checks the promised result: exit status 1, exactly one ``error:`` line,
no traceback unless ``--debug`` (and then still redacted), and no secret anywhere.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopbook.cli import DEBUG_HINT, app

PROJECT = Path(__file__).resolve().parents[2]
SHOP = PROJECT / "data" / "shop.duckdb"
SECRET = "hunter2"


def invoke(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(app, list(args), env=env)
    lines = [line for line in result.output.splitlines() if line.strip()]
    return result, lines


def one_error_line(result, lines) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert SECRET not in result.output
    return lines[0]


def raising(exc: BaseException):
    def boom(*args, **kwargs):
        raise exc

    return boom


def test_a_misspelt_scheme_is_one_line_without_the_password():
    result, lines = invoke("validate", "--source", f"postgress://u:{SECRET}@127.0.0.1:1/db")
    line = one_error_line(result, lines)
    assert "postgress://u:***@127.0.0.1:1/db" in line


def test_a_password_holding_at_and_slash_never_appears():
    result, lines = invoke("validate", "--source", "postgress://u:p@ss/w0rd@127.0.0.1:1/db")
    line = one_error_line(result, lines)
    assert "p@ss" not in result.output and "w0rd" not in result.output
    assert "u:***@127.0.0.1" in line


def test_the_password_of_shopbook_source_never_appears():
    env = {"SHOPBOOK_SOURCE": f"postgress://u:{SECRET}@127.0.0.1:1/db"}
    result, lines = invoke("validate", env=env)
    one_error_line(result, lines)


def test_a_connection_failure_is_one_line_with_a_fix():
    result, lines = invoke("validate", "--source", f"postgres://u:{SECRET}@127.0.0.1:1/db")
    line = one_error_line(result, lines)
    assert "127.0.0.1" in line


def test_a_malformed_mapping_is_one_line(tmp_path):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("orders:\n  columns: {order_id: id\n  bad: [\n")
    result, lines = invoke("validate", "--source", str(SHOP), "--mapping", str(mapping))
    line = one_error_line(result, lines)
    assert "YAML" in line or "mapping" in line


def test_a_malformed_parameter_file_is_one_line(tmp_path):
    params = tmp_path / "params.yml"
    params.write_text("top_n: 5\n  window: [7\n")
    notebook = PROJECT / "notebooks" / "00_data_health.ipynb"
    result = CliRunner().invoke(
        app, ["run", str(notebook), "-f", str(params), "--out", str(tmp_path / "reports")]
    )
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and "YAML" in lines[0]
    assert not (tmp_path / "reports" / "adhoc").exists()


def test_an_unexpected_exception_is_one_line_with_the_debug_hint(monkeypatch):
    import shopbook.data.validation as validation

    monkeypatch.setattr(
        validation, "validate", raising(RuntimeError(f"boom at postgres://u:{SECRET}@h/db\nmore"))
    )
    result, lines = invoke("validate", "--source", str(SHOP))
    line = one_error_line(result, lines)
    assert line == f"error: RuntimeError: boom at postgres://u:***@h/db {DEBUG_HINT}"


def test_debug_shows_the_traceback_still_redacted(monkeypatch):
    import shopbook.data.validation as validation

    monkeypatch.setattr(
        validation, "validate", raising(RuntimeError(f"boom at postgres://u:{SECRET}@h/db"))
    )
    result, lines = invoke("--debug", "validate", "--source", str(SHOP))
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.output
    assert "RuntimeError: boom at postgres://u:***@h/db" in result.output
    assert lines[-1] == "error: RuntimeError: boom at postgres://u:***@h/db"
    assert SECRET not in result.output


def test_a_password_quoted_alone_by_a_library_is_scrubbed(monkeypatch):
    import shopbook.data.validation as validation

    monkeypatch.setattr(
        validation, "validate", raising(RuntimeError(f"authentication with '{SECRET}' failed"))
    )
    result, lines = invoke("validate", "--source", f"postgres://u:{SECRET}@h/db")
    assert one_error_line(result, lines) == (
        f"error: RuntimeError: authentication with '***' failed {DEBUG_HINT}"
    )


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "no space left on device"),
        (errno.EROFS, "read-only file system"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_a_full_or_read_only_disk_is_named(monkeypatch, tmp_path, code, words):
    import shopbook.data.synthetic as synthetic

    target = tmp_path / "x.duckdb"
    monkeypatch.setattr(
        synthetic, "write_shop", raising(OSError(code, os.strerror(code), str(target)))
    )
    result, lines = invoke(
        "sample", "--customers", "50", "--start", "2024-01-01", "--end", "2024-06-30",
        "--out", str(target),
    )  # fmt: skip
    line = one_error_line(result, lines)
    assert line.startswith(f"error: {words}: {target}. Fix: ")


def test_results_and_warnings_are_redacted(monkeypatch):
    import shopbook.data.validation as validation

    class Report:
        warnings = [f"slow source postgres://u:{SECRET}@h/db"]
        tables: dict = {}  # no table: every notebook "cannot run"

        class source:  # noqa: N801 - stands in for the report's Source
            notes = [f"read from postgres://u:{SECRET}@h/db"]

        def to_text(self):
            print(f"a library's own message: pw={SECRET}", file=sys.stderr)
            return f"source: postgres://u:{SECRET}@h/db?token=abcdef123"

    monkeypatch.setattr(validation, "validate", lambda *a, **k: Report())
    result = CliRunner().invoke(app, ["validate", "--source", str(SHOP)])
    assert result.exit_code == 0, result.output
    assert "source: postgres://u:***@h/db?token=***" in result.stdout
    assert "warning: slow source postgres://u:***@h/db" in result.stderr
    assert "a library's own message: pw=***" in result.stderr
    assert "note: read from postgres://u:***@h/db" in result.stdout
    assert SECRET not in result.output and "abcdef123" not in result.output


def test_a_usage_error_is_one_plain_redacted_line():
    result = CliRunner().invoke(app, ["validate", f"postgres://u:{SECRET}@h/db"])
    assert result.exit_code == 2
    assert "Error: Got unexpected extra argument(s) (postgres://u:***@h/db)" in result.output
    assert SECRET not in result.output and "╭" not in result.output


def test_the_installed_command_prints_one_redacted_line():
    env = {**os.environ, "SHOPBOOK_SOURCE": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "shopbook.cli", "validate", "--source",
         f"postgress://u:{SECRET}@127.0.0.1:1/db"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "postgress://u:***@127.0.0.1:1/db" in lines[0] and SECRET not in proc.stderr


def later_app(exc: BaseException):
    """A command group like ``shopbook``'s, with a command added later that raises ``exc``."""
    import typer

    from shopbook.cli import ShopbookGroup

    later = typer.Typer(cls=ShopbookGroup, rich_markup_mode=None)

    @later.command("import")
    def import_() -> None:
        raise exc

    @later.command()
    def other() -> None:  # a second command keeps it a group
        pass

    return later


def test_any_later_command_gets_the_same_one_line_error():
    result = CliRunner().invoke(later_app(KeyError(f"postgres://u:{SECRET}@h/db")), ["import"])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert one_error_line(result, lines) == (
        f"error: KeyError: 'postgres://u:***@h/db' {DEBUG_HINT}"
    )


def test_a_closed_pipe_is_not_reported_as_a_failed_connection():
    result = CliRunner().invoke(later_app(BrokenPipeError(errno.EPIPE, "Broken pipe")), ["import"])
    assert result.exit_code == 1
    assert "error:" not in result.output and "connect" not in result.output


def test_a_full_disk_reported_by_an_engine_in_words_is_named(monkeypatch):
    import duckdb

    import shopbook.data.validation as validation

    full = duckdb.IOException('IO Error: Could not write "x.duckdb": No space left on device')
    monkeypatch.setattr(validation, "validate", raising(full))
    result, lines = invoke("validate", "--source", str(SHOP))
    assert one_error_line(result, lines).startswith("error: no space left on device (IO Error")


def test_a_full_disk_behind_another_error_is_named(monkeypatch, tmp_path):
    import shopbook.data.validation as validation

    target = tmp_path / "report.html"
    try:
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        except OSError as disk:
            raise ValueError("Notebook does not appear to be JSON") from disk
    except ValueError as exc:
        wrapped = exc
    monkeypatch.setattr(validation, "validate", raising(wrapped))
    result, lines = invoke("validate", "--source", str(SHOP))
    assert one_error_line(result, lines).startswith(f"error: no space left on device: {target}.")
