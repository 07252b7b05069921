"""``shopbook run`` (execute notebooks into a report folder, rebuild the index),
``shopbook prune`` (remove old runs) and ``shopbook notebooks`` (list the notebooks and
their parameters)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from shopbook.errors import ContractError


def run(
    notebooks: Annotated[
        list[str] | None,
        typer.Argument(
            help="Notebooks to run: paths, names (00_data_health) or prefixes (00). "
            "Default: the job's notebooks."
        ),
    ] = None,
    job: Annotated[
        str | None, typer.Option("--job", "-j", help="A job of reports.yml (default: all).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A notebook parameter, key=value (repeatable)."),
    ] = None,
    params_file: Annotated[
        Path | None,
        typer.Option("--params-file", "-f", help="YAML file of parameters (name: value)."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Data source for every notebook (default: SHOPBOOK_SOURCE or "
            "data/shop.duckdb). Keep credentials in SHOPBOOK_SOURCE, not here.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Reports folder (default: SHOPBOOK_REPORTS or reports/)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds one cell may run before the notebook fails: a positive number "
            "(leave it out for no limit).",
        ),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop at the first failing notebook.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Notebooks run at the same time, each in its own kernel (default: one per "
            "CPU core, at most 4; 1 with --fail-fast).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 3 when a notebook is stale or empty (its window lies outside the "
            "data, or the data are older than the job's max_age_days).",
        ),
    ] = False,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="Mapping YAML for every notebook (as SHOPBOOK_MAPPING)."),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option("--preset", help="A platform preset the mapping builds on (import --list)."),
    ] = None,
) -> None:
    """Execute notebooks through papermill into reports/<job>/<UTC time>/, rebuild the index.

    Each run gets reports/<job>/<UTC timestamp>/ and reports/index.html lists every run.

    Parameter values (-p, -f) follow YAML 1.2 and are checked against each notebook's
    declared types: a value that does not fit fails that notebook before it starts.

    A notebook whose window (start/end) lies partly outside the data, or whose data are
    older than the job's max_age_days, is stale; one whose window lies entirely outside
    the data is empty. It still runs and renders; its header says why.

    Exit status: 0 when no notebook failed (ok or stale), 1 when any failed (or the disk
    filled up), 2 for a usage error, 3 with --strict when a notebook is stale or empty,
    130/143/129 when interrupted by SIGINT/SIGTERM/SIGHUP (nothing of the interrupted run
    is kept, unless the signal came while it was being moved into place: then it is
    complete and kept, and the message says so).
    """
    try:
        mapping_file = _mapping_file(mapping, preset)
    except ContractError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    saved = os.environ.get("SHOPBOOK_MAPPING")
    if mapping_file is not None:  # the notebooks' kernels inherit it
        os.environ["SHOPBOOK_MAPPING"] = str(mapping_file)
    try:
        _run(
            notebooks,
            job,
            param,
            params_file,
            source,
            out,
            timeout,
            fail_fast,
            quiet,
            strict,
            workers,
        )
    finally:
        if mapping_file is not None:
            if saved is None:
                os.environ.pop("SHOPBOOK_MAPPING", None)
            else:
                os.environ["SHOPBOOK_MAPPING"] = saved
            if preset is not None:
                mapping_file.unlink(missing_ok=True)


def _mapping_file(mapping: Path | None, preset: str | None) -> Path | None:
    """The mapping file the notebooks read: ``--mapping``, or with ``--preset`` a temporary
    file extending the preset (and holding ``--mapping``'s entries). Checked now, so a
    mistake is one line before any notebook starts."""
    if mapping is None and preset is None:
        return None
    from shopbook.data.sources import load_mapping

    load_mapping(mapping, preset=preset)  # raises ContractError with the nearest match
    if preset is None:
        return Path(mapping).resolve() if mapping is not None else None
    import yaml

    doc = yaml.safe_load(Path(mapping).read_text(encoding="utf-8")) if mapping else {}
    doc = {**(doc or {}), "extends": preset}
    handle, name = tempfile.mkstemp(prefix="shopbook-mapping-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, allow_unicode=True)
    return Path(name)


def _run(
    notebooks: list[str] | None,
    job: str | None,
    param: list[str] | None,
    params_file: Path | None,
    source: str | None,
    out: Path | None,
    timeout: float | None,
    fail_fast: bool,
    quiet: bool,
    strict: bool,
    workers: int | None = None,
) -> None:
    """The run itself (see :func:`run`)."""
    from shopbook.report.execute import Progress, RunInterrupted, check_timeout
    from shopbook.report.jobs import RunError, parse_pairs, read_params_file
    from shopbook.report.plan import plan
    from shopbook.report.runs import run as run_tasks

    try:
        params = read_params_file(params_file) if params_file else {}
        params.update(parse_pairs(param or []))
        check_timeout(timeout)
        job_name, tasks = plan(notebooks or [], job=job, params=params, source=source)
    except RunError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not tasks:
        typer.echo(f"error: job {job_name!r} has no notebooks", err=True)
        raise typer.Exit(2)
    try:
        result = run_tasks(
            tasks,
            job=job_name,
            out=out,
            timeout=timeout,
            fail_fast=fail_fast,
            progress=Progress(quiet=quiet),
            workers=workers,
        )
    except RunError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except RunInterrupted as exc:
        if exc.kept is not None:
            typer.echo(
                f"\ninterrupted ({exc}) while the finished run was moved into place: it is "
                f"complete and kept in {exc.kept}",
                err=True,
            )
        else:
            typer.echo(
                f"\ninterrupted ({exc}): the run was discarded; earlier reports are unchanged",
                err=True,
            )
        raise typer.Exit(128 + int(exc.signum)) from None
    except KeyboardInterrupt:
        typer.echo("\ninterrupted: the run was discarded; earlier reports are unchanged", err=True)
        raise typer.Exit(130) from None
    entries = result.summary["notebooks"]
    width = max((len(e["notebook"]) for e in entries), default=10)
    for e in entries:
        line = f"  {e['status']:<8} {e['notebook']:<{width}}"
        why = e.get("error") or "; ".join((e.get("freshness") or {}).get("reasons") or ())
        if why and e["status"] != "ok":
            line += f"  {why}"
        typer.echo(line)
    typer.echo(f"run:    {result.folder}")
    typer.echo(f"index:  {result.index.resolve() if result.index else '-'}")
    sys.stdout.flush()
    raise typer.Exit(result.code(strict))


def prune(
    keep: Annotated[
        int, typer.Option("--keep", "-k", help="Runs to keep per job, newest first (0 or more).")
    ],
    job: Annotated[
        str | None, typer.Option("--job", "-j", help="Only this job (default: every job).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Reports folder (default: SHOPBOOK_REPORTS or reports/)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="List what would be removed; remove nothing.")
    ] = False,
) -> None:
    """Remove old runs: keep the --keep newest of each job, and always the job's latest.

    A removed run's private files (CRM lists with real ids) go with it; the index is
    rebuilt. Exit status 0, or 2 for a usage error.
    """
    from shopbook.report.jobs import RunError
    from shopbook.report.prune import prune as prune_runs

    try:
        gone = prune_runs(keep, out=out, job=job, dry_run=dry_run)
    except RunError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    verb = "would remove" if dry_run else "removed"
    for p in gone:
        extra = " and its private files" if p.private is not None else ""
        typer.echo(f"{verb} {p.job}/{p.run_id}{extra}")
    typer.echo(f"{verb} {len(gone)} run{'' if len(gone) == 1 else 's'}")


def notebooks(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Notebooks to describe (names, prefixes, paths; default: all)."),
    ] = None,
) -> None:
    """List the notebooks with their parameters: name, type, default and help."""
    import nbformat

    from shopbook.report.jobs import describe_parameters, find_notebook, notebook_parameters
    from shopbook.report.render import title

    paths = []
    for name in names or ["[0-9][0-9]_*.ipynb"]:
        found = find_notebook(name)
        if not found:
            typer.echo(f"error: no notebook {name!r}", err=True)
            raise typer.Exit(2)
        paths += found
    for i, path in enumerate(paths):
        heading = title(nbformat.read(str(path), as_version=4))
        typer.echo(("\n" if i else "") + f"{path.stem}" + (f" — {heading}:" if heading else ":"))
        typer.echo(describe_parameters(notebook_parameters(path)))


def pdf(
    folder: Annotated[Path, typer.Argument(help="A run folder: the 'run:' line of shopbook run.")],
) -> None:
    """Print every brief of a run to a PDF beside it (A4, for e-mailing).

    Uses the system Chromium through Playwright (no download; SHOPBOOK_CHROMIUM names
    another binary). Exit status 0, or 2 when the folder is not a run or nothing can
    print.
    """
    from shopbook.report.jobs import RunError
    from shopbook.report.pdf import brief_pdfs

    try:
        written = brief_pdfs(folder)
    except RunError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for p in written:
        typer.echo(str(p))
    typer.echo(f"{len(written)} PDF{'' if len(written) == 1 else 's'}")


def register(app: typer.Typer) -> None:
    """Add ``run``, ``prune``, ``notebooks`` and ``pdf`` to the ``shopbook`` command."""
    app.command("pdf")(pdf)
    app.command("run")(run)
    app.command("prune")(prune)
    app.command("notebooks")(notebooks)
