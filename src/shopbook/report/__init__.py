"""Running notebooks into shareable reports, and the helpers notebooks use.

Notebook-facing helpers (see :mod:`shopbook.report.notebook`)::

    from shopbook.report import headline, md, show, skipped, pseudonymise, setup, resolve_source

The runner (:mod:`shopbook.report.runner`, papermill) and the HTML renderer
(:mod:`shopbook.report.render`) are imported on demand; ``shopbook run`` is their command.
"""

from shopbook.report.notebook import (
    HEADLINE_MIME,
    SKIPPED_MIME,
    Markdown,
    escape,
    format_value,
    headline,
    md,
    pseudonymise,
    resolve_source,
    setup,
    show,
    skipped,
)

__all__ = [
    "HEADLINE_MIME",
    "SKIPPED_MIME",
    "Markdown",
    "escape",
    "format_value",
    "headline",
    "md",
    "pseudonymise",
    "resolve_source",
    "setup",
    "show",
    "skipped",
]
