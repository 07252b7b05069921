"""The ``shopbook`` command.

``shopbook sample``     make the shipped data (synthetic shop, or CDNOW with ``--cdnow``)
``shopbook validate``   print the data-health table of a source
``shopbook run``        execute notebooks into shareable reports (see :mod:`shopbook.report`)

Errors are one clear line on stderr and a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from shopbook import __version__
from shopbook.errors import ContractError

app = typer.Typer(
    name="shopbook",
    help="Shopbook: an analytics workbook for e-commerce operations.",
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
    except (OSError, ValueError) as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@app.command()
def validate(
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="Data source URI (default: SHOPBOOK_SOURCE or data/shop.duckdb)."
        ),
    ] = None,
    mapping: Annotated[
        str | None, typer.Option("--mapping", help="Column-mapping YAML file.")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat any rejected row as an error.")
    ] = False,
    require: Annotated[
        list[str] | None,
        typer.Option("--require", help="A table that must be present (repeatable)."),
    ] = None,
) -> None:
    """Print the data-health table: rows read / kept / rejected by reason, per table."""
    from shopbook.data.validation import validate as run_validation

    try:
        report = run_validation(
            source, strict=strict, require=tuple(require or ()), mapping=mapping
        )
    except ContractError as exc:
        if _state["debug"]:
            raise
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1) from None
    typer.echo(report.to_text())
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)


def _register_report_commands() -> None:
    from shopbook.report.cli import register

    register(app)


_register_report_commands()


def entrypoint() -> None:  # pragma: no cover - thin wrapper
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
