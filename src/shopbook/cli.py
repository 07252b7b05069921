"""The ``shopbook`` command.

``shopbook sample``     make the shipped data (synthetic shop, or CDNOW with ``--cdnow``)
``shopbook validate``   print the data-health table of a source and which notebooks it can run
``shopbook import``     a platform's order exports → a contract DuckDB file (``--list``: presets)
``shopbook run``        execute notebooks into shareable reports (see :mod:`shopbook.report`)
``shopbook prune``      remove old runs (never a job's latest)
``shopbook notebooks``  list the notebooks and their parameters

Errors are one clear line on stderr and a non-zero exit; ``--debug`` shows the traceback.
An error no command expected is one line too — ``error: <what, with a fix> (run with
--debug for the traceback)``, exit status 1 (:class:`ShopbookGroup`). Everything the command
prints — results, warnings, errors, ``--debug`` tracebacks, usage errors — passes through
:class:`shopbook.redaction.RedactingStream`, so a password or token never appears, whether
it came from ``--source``, ``SHOPBOOK_SOURCE`` or a message of a library.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TextIO, cast

import typer
from typer.core import TyperGroup

from shopbook import __version__
from shopbook.config import CREDENTIAL_VARIABLES
from shopbook.errors import ContractError, error_message, os_error_message
from shopbook.redaction import RedactingStream, secrets_in, secrets_of_arguments

DEBUG_HINT = "(run with --debug for the traceback)"


@contextlib.contextmanager
def redacted_output(args: Sequence[str]) -> Iterator[None]:
    """Route ``sys.stdout`` and ``sys.stderr`` through the redaction rules while inside.

    Parameters
    ----------
    args
        The command line: its secrets (and those of ``SHOPBOOK_SOURCE``,
        :data:`shopbook.config.CREDENTIAL_VARIABLES`) are removed
        literally as well as by the rules of :func:`shopbook.redaction.redact_text`.
    """
    secrets = secrets_of_arguments(args)
    for var in CREDENTIAL_VARIABLES:
        secrets.update(secrets_in(os.environ.get(var, "")))
    saved = sys.stdout, sys.stderr
    out = RedactingStream(sys.stdout, secrets)
    err = RedactingStream(sys.stderr, secrets)
    sys.stdout, sys.stderr = cast(TextIO, out), cast(TextIO, err)
    try:
        yield
    finally:
        for stream in (out, err):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = saved


class ShopbookGroup(TyperGroup):
    """The command group: one line for any unexpected error, redacted output.

    Exit codes a command chose (``typer.Exit``), usage errors and interrupts pass through
    unchanged; any other exception prints ``error: <message> (run with --debug for the
    traceback)`` (:func:`shopbook.errors.error_message`) and exits with status 1. With
    ``--debug`` the traceback is printed first — through the same redaction.
    """

    def main(self, args: Sequence[str] | None = None, *a: Any, **kw: Any) -> Any:
        with redacted_output(sys.argv[1:] if args is None else list(args)):
            return super().main(args, *a, **kw)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, BrokenPipeError):
            raise  # chosen exit codes, usage errors; a closed pipe exits quietly (typer)
        except Exception as exc:
            try:
                message = error_message(exc)
            except Exception:  # an exception whose text cannot be read
                message = type(exc).__name__
            if _state["debug"]:
                traceback.print_exception(exc, file=sys.stderr)
                typer.echo(f"error: {message}", err=True)
            else:
                typer.echo(f"error: {message} {DEBUG_HINT}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="shopbook",
    help="Shopbook: an analytics workbook for e-commerce operations.",
    cls=ShopbookGroup,
    # plain usage errors: one line each, never wrapped in a box (a wrapped URI would hide
    # its password from the redaction rules)
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shopbook {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Shopbook: an analytics workbook for e-commerce operations."""
    _state["debug"] = debug


def fail(message: str, code: int = 1) -> None:
    """Print one error line and exit (raise the current exception with --debug)."""
    if _state["debug"] and sys.exc_info()[0] is not None:
        raise
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def sample(
    cdnow: Annotated[
        bool,
        typer.Option("--cdnow", help="Write the CDNOW data set instead of the synthetic shop."),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="DuckDB file (.duckdb) or folder for Parquet files."),
    ] = None,
    customers: Annotated[
        int, typer.Option("--customers", help="Synthetic shop: number of customers.")
    ] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Synthetic shop: random seed.")] = 0,
    start: Annotated[
        str, typer.Option("--start", help="Synthetic shop: first day.")
    ] = "2023-01-01",
    end: Annotated[str, typer.Option("--end", help="Synthetic shop: last day.")] = "2024-12-31",
    dirty: Annotated[
        bool, typer.Option("--dirty", help="Synthetic shop: plant realistic mess.")
    ] = False,
) -> None:
    """Write the shipped data: the synthetic shop (default) or CDNOW."""
    try:
        if cdnow:
            from shopbook.data.samples import cdnow as load_cdnow
            from shopbook.data.samples import write_tables

            target = out or Path("data/cdnow.duckdb")
            orders = load_cdnow()
            write_tables({"orders": orders}, target)
            typer.echo(f"wrote {target}: orders {len(orders):,} rows")
            return
        from shopbook.data.synthetic import generate, write_shop

        target = out or Path("data/shop.duckdb")
        shop = generate(customers=customers, start=start, end=end, seed=seed, dirty=dirty)
        write_shop(shop, target)
        sizes = ", ".join(f"{k} {len(v):,}" for k, v in shop.tables.items())
        typer.echo(f"wrote {target}: {sizes}")
    except ContractError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(os_error_message(exc))
    except ValueError as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


_PRESET_HELP = "A platform preset (shopbook import --list shows them)."
_MAPPING_HELP = "Mapping YAML file (may say `extends: <preset>`)."
_ENCODING_HELP = "Encoding of CSV files: utf-8, utf-8-sig, gbk, gb18030 or auto (detect)."


def _print_problems(exc: ContractError) -> None:
    if _state["debug"]:
        raise exc
    for problem in exc.problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(1) from None


def _csv_files(source: str | None) -> list[Path] | None:
    """The CSV export files a ``--source`` names (a file, or a folder's CSV files)."""
    if not source or "://" in source:
        return None
    from shopbook.data.sources.files import suffix_of

    path = Path(source)
    if path.is_file() and suffix_of(path) not in (None, ".parquet", ".pq"):
        return [path]
    if path.is_dir():
        found = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and suffix_of(p) not in (None, ".parquet", ".pq")
        )
        return found or None
    return None


@app.command()
def validate(
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="Data source URI (default: SHOPBOOK_SOURCE or data/shop.duckdb)."
        ),
    ] = None,
    mapping: Annotated[str | None, typer.Option("--mapping", help=_MAPPING_HELP)] = None,
    preset: Annotated[str | None, typer.Option("--preset", help=_PRESET_HELP)] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help=_ENCODING_HELP)] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat any rejected row as an error.")
    ] = False,
    require: Annotated[
        list[str] | None,
        typer.Option("--require", help="A table that must be present (repeatable)."),
    ] = None,
) -> None:
    """Print the data-health table (rows read / kept / rejected by reason, per table) and
    which notebooks the data can feed (ready / partial, with the sections skipped / cannot run).

    With a preset (or a mapping with `files:`) and a --source that is an export file or a
    folder of them, the files are recognised by their headers, as `shopbook import` does.
    """
    from shopbook.data.sources import language, load_mapping
    from shopbook.data.validation import validate as run_validation

    try:
        maps = load_mapping(mapping, preset=preset)
        if encoding is not None:
            maps.encoding = language.encoding("--encoding", "--encoding", encoding)
        exports = _csv_files(source) if maps.files else None
        if exports:
            from shopbook.data.importing import import_exports

            result = import_exports(exports, mapping=maps, encoding=encoding, strict=strict)
            report = result.report
            notes = result.notes
        else:
            report = run_validation(
                source,
                strict=strict,
                require=tuple(require or ()),
                mapping=maps if (mapping or preset or encoding) else None,
            )
            notes = report.source.notes
    except ContractError as exc:
        _print_problems(exc)
    typer.echo(report.to_text())
    typer.echo("")
    typer.echo(_readiness_text(report))
    for note in notes:
        typer.echo(f"note: {note}")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)


def _readiness_text(report: Any) -> str:
    """Which notebooks the validated data can run, and which sections they will skip."""
    from shopbook.data.health import readiness

    table = readiness(report)
    width = max(len(r) for r in table["report"])
    lines = ["notebooks this data can run:"]
    for row in table.itertuples():
        missing = f"  ({row.missing})" if row.missing else ""
        lines.append(f"  {row.report:<{width}}  {row.status}{missing}")
    return "\n".join(lines)


def _list_presets() -> None:
    from shopbook.data.importing import presets

    table = presets()
    if not len(table):
        typer.echo("no presets shipped (src/shopbook/data/presets/*.yaml)")
        return
    for row in table.itertuples():
        typer.echo(f"{row.name}: {row.description}")
        for entry in str(row.files).split("; "):
            if entry:
                typer.echo(f"    {entry}")


@app.command("import")
def import_command(
    files: Annotated[
        list[Path] | None, typer.Argument(help="The platform's export files (CSV).")
    ] = None,
    preset: Annotated[str | None, typer.Option("--preset", help=_PRESET_HELP)] = None,
    mapping: Annotated[str | None, typer.Option("--mapping", help=_MAPPING_HELP)] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="DuckDB file to write (replaced).")
    ] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help=_ENCODING_HELP)] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat any rejected row as an error.")
    ] = False,
    list_presets: Annotated[
        bool, typer.Option("--list", help="List the presets and the files they expect.")
    ] = False,
) -> None:
    """Import a platform's order exports into a contract DuckDB file.

    Each file is recognised by its header; the mapping (values, derived columns, fill-down,
    combined lines…) is applied in the engine; the rows are validated; the kept rows of
    each table and every rejected row with its reason (`_rejected`, `_rejected_source`)
    are written to --out, and the data-health table is printed.
    """
    if list_presets:
        _list_presets()
        return
    if not files:
        fail("give the export files to import (or --list to see the presets)", 2)
    if out is None:
        fail("give --out FILE.duckdb (the DuckDB file to write)", 2)
    from shopbook.data.importing import import_exports

    try:
        result = import_exports(
            files or [], preset=preset, mapping=mapping, out=out, encoding=encoding, strict=strict
        )
    except ContractError as exc:
        _print_problems(exc)
    except OSError as exc:
        fail(os_error_message(exc))
    typer.echo(result.to_text())
    for warning in result.report.warnings:
        typer.echo(f"warning: {warning}", err=True)


def _register_report_commands() -> None:
    from shopbook.report.cli import register

    register(app)


_register_report_commands()


def entrypoint() -> None:  # pragma: no cover - thin wrapper
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
