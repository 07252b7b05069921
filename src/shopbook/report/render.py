"""Turn executed notebooks into shareable HTML, and runs into an index.

A shared report is a publication, so this is also where an executed notebook is scrubbed:
:func:`scrub_notebook` removes the run's secrets — and any ``user:pass@`` in a URI, query
tokens, API-token shapes (the rules of :mod:`shopbook.redaction`) — from every cell
source, output, traceback and the papermill metadata, *before* it is written or rendered.
HTML, ``summary.json`` and the index are made from the scrubbed notebook and the
redacted parameters only.

HTML: :func:`render_html` uses nbconvert's JupyterLab template without its CDN scripts
(MathJax, require.js, mermaid), so a report opens offline from ``file://``; figures are
embedded as data URIs; a run header (status, parameters, headline numbers) and a table
of contents are added. ``brief=True`` gives the code-free version for business readers.
Data strings are escaped upstream (pandas' ``to_html``, :mod:`shopbook.notebook`); the
header and index escape everything they print (Jinja2 autoescape / markupsafe).
"""

from __future__ import annotations

import io
import json
import os
import re
import tokenize
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
from markupsafe import Markup, escape

from shopbook.i18n import _, use_lang
from shopbook.notebook.outputs import HEADLINE_MIME, SKIPPED_MIME
from shopbook.redaction import redact_text
from shopbook.report import brief as briefing

TEMPLATES = Path(__file__).parent / "templates"

# ------------------------------------------------------------------------ scrubbing


def path_pattern(paths: Mapping[str, str]) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """A regex matching each absolute path of ``paths`` (longest first, whole components).

    Returns
    -------
    (pattern, labels) for :func:`replace_paths`, or ``None`` when there is nothing to match.
    """
    roots = {k.rstrip("/"): v for k, v in paths.items() if len(k.rstrip("/")) > 1}
    if not roots:
        return None
    alternatives = "|".join(re.escape(k) for k in sorted(roots, key=len, reverse=True))
    # not inside a longer path or a URL ("m" may precede: the end of an ANSI colour code)
    before = r"(?<![A-Za-ln-z0-9_./-])"
    after = r"(?![^/\s'\"`),;:\]<>])"
    return re.compile(f"{before}(?:{alternatives}){after}"), roots


def replace_paths(text: str, pattern: tuple[re.Pattern[str], dict[str, str]] | None) -> str:
    """``text`` with the absolute paths of :func:`path_pattern` replaced by their labels."""
    if pattern is None:
        return text
    rx, roots = pattern
    return rx.sub(lambda m: roots[m.group(0)], text)


def _scrub(obj: Any, secrets: set[str], paths: Any = None) -> Any:
    if isinstance(obj, str):
        return replace_paths(redact_text(obj, secrets), paths)
    if isinstance(obj, list):
        return [_scrub(x, secrets, paths) for x in obj]
    if isinstance(obj, dict):
        return {
            k: (v if str(k).startswith("image/") else _scrub(v, secrets, paths))
            for k, v in obj.items()
        }
    return obj


def scrub_notebook(
    nb: nbformat.NotebookNode,
    secrets: Iterable[str] = (),
    parameters: Mapping[str, Any] | None = None,
    paths: Mapping[str, str] | None = None,
) -> nbformat.NotebookNode:
    """A copy of ``nb`` with secrets removed from every source, output and metadata.

    Parameters
    ----------
    nb
        An executed notebook.
    secrets
        Exact strings to remove (from :func:`shopbook.redaction.redact_parameters`); URI
        passwords and token shapes are removed in any case.
    parameters
        Redacted parameters to store as ``metadata.papermill.parameters``.
    paths
        Absolute paths of this machine and what to show instead (``{"/home/ann/shop":
        "."}``): every occurrence — papermill's ``input_path`` / ``output_path``,
        tracebacks, printed paths — is replaced, so a shared notebook names no folder of
        the machine that ran it.
    """
    pattern = path_pattern(paths or {})
    clean = nbformat.from_dict(_scrub(json.loads(json.dumps(nb)), set(secrets), pattern))
    if parameters is not None and "papermill" in clean.metadata:
        clean.metadata.papermill["parameters"] = dict(parameters)
    return clean


#: The folders of an absolute path of the machine (``/srv/data/``, ``/tmp/x/`` in
#: ``/tmp/x/shop.duckdb``): not inside a relative path, a URL or one of the labels
#: :mod:`shopbook.report.runs` puts in place of known folders (``<reports>/…``, ``~/…``).
_MACHINE_FOLDERS = re.compile(
    r"(?<![\w:/.~;-])(?<!<reports>)(?<!<private>)(?<!<python>)"
    r"/(?:[^\s/\"'<>`&]+/)+(?=[^\s/\"'<>`])"
)


def strip_paths(text: str) -> str:
    """``text`` with every absolute path shortened to ``…/<last part>`` (``file://`` too).

    The brief is for readers outside the team: it names no folder of the machine, not
    even one :func:`replace_paths` has no label for (a source in ``/srv/data/``).
    """
    return _MACHINE_FOLDERS.sub("…/", re.sub(r"file://(?=/)", "", text))


def _strip_all(obj: Any) -> Any:
    """:func:`strip_paths` on every string of a notebook node (images left alone)."""
    if isinstance(obj, str):
        return strip_paths(obj)
    if isinstance(obj, list):
        return [_strip_all(x) for x in obj]
    if isinstance(obj, dict):
        return {k: (v if str(k).startswith("image/") else _strip_all(v)) for k, v in obj.items()}
    return obj


# ------------------------------------------------------------------ reading outputs


def headlines(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """The headline figures a notebook displayed with :func:`shopbook.notebook.headline`."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data") or {}
            if HEADLINE_MIME in data:
                out.append(dict(data[HEADLINE_MIME]))
    return out


def skipped_sections(nb: nbformat.NotebookNode) -> list[dict[str, str]]:
    """The sections a notebook reported as skipped with :func:`shopbook.notebook.skipped`."""
    return [
        dict(o["data"][SKIPPED_MIME])
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if SKIPPED_MIME in (o.get("data") or {})
    ]


def first_error(nb: nbformat.NotebookNode) -> str | None:
    """``"Name: message"`` (first line) of the first error output, if any."""
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                msg = (o.get("evalue") or "").strip().splitlines()
                return f"{o.get('ename', 'Error')}: {msg[0]}" if msg else o.get("ename", "Error")
    return None


# ----------------------------------------------------------------------------- HTML

#: The report pages' own style (inserted into the page by the ``shopbook`` template).
CSS = "\n" + (TEMPLATES / "shopbook" / "report.css").read_text(encoding="utf-8")


def _status_badge(status: str) -> Markup:
    return Markup('<span class="sb-status {}">{}</span>').format(status, status_text(status))


def _headline_html(items: Iterable[Mapping[str, Any]]) -> Markup:
    parts = [
        Markup(
            '<div class="sb-headline"><div class="sb-label">{}</div>'
            '<div class="sb-value">{}{}</div></div>'
        ).format(
            h.get("label") or h.get("name"),
            h.get("text", h.get("value")),
            (" " + str(h["unit"])) if h.get("unit") else "",
        )
        for h in items
    ]
    return (
        Markup('<div class="sb-headlines">{}</div>').format(Markup("").join(parts))
        if parts
        else Markup("")
    )


#: What the header says of a report whose window or data age does not fit the data.
_FRESHNESS_LABEL = {
    "stale": "Stale data:",
    "empty": "No data in the window:",
}

#: The statuses as a reader reads them (the CSS class stays the English word).
_STATUS_TEXT = {
    "ok": "ok",
    "failed": "failed",
    "stale": "stale",
    "empty": "empty",
    "skipped": "skipped",
    "missing": "missing",
    "running": "running",
}


def status_text(status: str) -> str:
    """A status in the current language (``"failed"`` → ``失败`` in zh)."""
    return _(_STATUS_TEXT[status]) if status in _STATUS_TEXT else status


def freshness_html(entry: Mapping[str, Any]) -> Markup:
    """The data's last day per table and, for a ``stale``/``empty`` report, why (escaped)."""
    fresh = entry.get("freshness") or {}
    ends = fresh.get("data_end") or {}
    out = Markup("")
    if ends:
        out += Markup('<div class="sb-fresh">{} {}</div>').format(
            _("Data end:"),
            Markup(" · ").join(Markup("{} <b>{}</b>").format(t, d) for t, d in ends.items()),
        )
    reasons = fresh.get("reasons") or ()
    if reasons and entry.get("status") in _FRESHNESS_LABEL:
        out += Markup('<div class="sb-stale"><b>{}</b> {}. {}</div>').format(
            _(_FRESHNESS_LABEL[entry["status"]]),
            "; ".join(reasons),
            _("The report ran on the data there are."),
        )
    return out


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def _error_html(entry: Mapping[str, Any], brief: bool, has_error_cell: bool) -> Markup:
    """The failure box: in the brief, the section that failed and a link to the full report."""
    if not entry.get("error"):
        return Markup("")
    full = (entry.get("files") or {}).get("html")
    if brief:
        where = entry.get("failed_section")
        said = (
            Markup(_("The section “{section}” failed: {error}.")).format(
                section=where, error=entry["error"]
            )
            if where
            else Markup(_("This report failed: {error}.")).format(error=entry["error"])
        )
        link = (
            Markup(' <a href="{}#papermill-error-cell">{}</a>').format(
                quote(full), _("The full report shows the failing cell.")
            )
            if full and has_error_cell
            else Markup(' <a href="{}">{}</a>').format(quote(full), _("See the full report."))
            if full
            else Markup("")
        )
        return Markup('<div class="sb-error">{}{}</div>').format(said, link)
    link = (
        Markup(' — <a href="#papermill-error-cell">{}</a>').format(_("go to the failing cell"))
        if has_error_cell
        else Markup("")
    )
    return Markup('<div class="sb-error"><b>{}</b> {}{}</div>').format(
        _("This report failed:"), entry["error"], link
    )


def _parameter_note(line: str) -> tuple[str, str] | None:
    """``(name, comment)`` of a parameter line ``name: type = value  # comment``.

    Read with :mod:`tokenize`, so a ``#`` inside the value (a string) is not taken for
    the comment's start: no part of a default value ends up in the header.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    if len(tokens) < 3 or tokens[0].type != tokenize.NAME or tokens[1].string not in (":", "="):
        return None
    comments = [t.string for t in tokens if t.type == tokenize.COMMENT]
    note = comments[0].lstrip("#").strip() if comments else ""
    return (tokens[0].string, note) if note else None


def parameter_notes(nb: Any) -> dict[str, str]:
    """``{parameter: description}``: the ``# comment`` after each parameter of the
    notebook's ``parameters`` cell (English; the header shows it translated)."""
    notes: dict[str, str] = {}
    for cell in nb.get("cells", ()):
        if cell.get("cell_type") != "code":
            continue
        if "parameters" not in (cell.get("metadata") or {}).get("tags", ()):
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        for line in text.splitlines():
            found = _parameter_note(line)
            if found:
                notes.setdefault(*found)
    return notes


def header_html(
    entry: Mapping[str, Any],
    run: Mapping[str, Any],
    brief: bool,
    has_error_cell: bool,
    cards: bool = False,
) -> Markup:
    """The run header of a report page (everything escaped, labels in the current language).

    ``cards``: the page shows headline cards itself, so the header lists no headlines.
    """
    files = entry.get("files") or {}
    other = files.get("html" if brief else "brief")
    other_label = _("Full report (with code)") if brief else _("Brief (no code)")
    nav = Markup('<a href="../../index.html">{}</a>').format(_("← All reports"))
    if other:
        cls = ' class="sb-full"' if brief else ""
        nav += Markup(' · <a href="{}"{}>{}</a>').format(quote(other), Markup(cls), other_label)
    shown = strip_paths if brief else str
    source = entry.get("source") or {}
    meta = Markup("{} · {} <b>{}</b> · {} {} · {}").format(
        _status_badge(entry.get("status", "?")),
        _("job"),
        run.get("job", ""),
        _("run"),
        run.get("run_id", ""),
        _fmt_duration(entry.get("duration_s")),
    )
    if source.get("uri"):
        meta += Markup(" · {} {}").format(_("source"), shown(source["uri"]))
    skipped = Markup("").join(
        Markup("<li>{}: {}</li>").format(s.get("section"), s.get("reason"))
        for s in entry.get("skipped") or ()
    )
    if skipped:
        skipped = Markup('<div class="sb-skipped"><b>{}</b><ul>{}</ul></div>').format(
            _("Skipped sections"), skipped
        )
    params = entry.get("parameters") or {}
    notes = entry.get("parameter_notes") or {}
    rows = Markup("").join(
        Markup("<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>").format(
            k,
            shown(json.dumps(v, ensure_ascii=False, default=str)),
            _(notes[k]) if notes.get(k) else "",
        )
        for k, v in params.items()
    )
    params_html = (
        Markup(
            '<details class="sb-params"><summary>{}</summary><table>'
            "<tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table></details>"
        ).format(_("Run parameters"), _("Parameter"), _("Value"), _("Description"), rows)
        if rows and not brief
        else Markup("")
    )
    return Markup(
        '<header class="shopbook-header"><div class="sb-nav">{nav}</div>'
        '<div class="sb-title">{title}</div><div class="sb-meta">{meta}</div>'
        "{fresh}{error}{heads}{skipped}{params}"
        "</header>"
    ).format(
        nav=nav,
        title=entry.get("title") or entry.get("notebook", ""),
        meta=meta,
        fresh=freshness_html(entry),
        error=_error_html(entry, brief, has_error_cell),
        heads=Markup("") if cards else _headline_html(entry.get("headlines") or ()),
        skipped=Markup("") if brief else skipped,
        params=params_html,
    )


_HEADING = re.compile(r'<h([1-3])\b[^>]*?\bid="([^"]*)"[^>]*>(.*?)</h\1>', re.DOTALL)
_ANCHOR = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def add_toc(page: str, label: str = "Contents") -> str:
    """Fill the ``<!--SHOPBOOK-TOC-->`` placeholder with links to the page's h1–h3 headings."""
    items = []
    for level, anchor, inner in _HEADING.findall(page):
        text = _TAG.sub("", _ANCHOR.sub("", inner)).strip()  # already-escaped text
        if text:
            items.append(f'<li class="toc-h{level}"><a href="#{anchor}">{text}</a></li>')
    toc = (
        (
            f'<nav class="shopbook-toc" aria-label="{escape(label)}"><b>{escape(label)}</b><ul>'
            + "".join(items)
            + "</ul></nav>"
        )
        if items
        else ""
    )
    return page.replace("<!--SHOPBOOK-TOC-->", toc, 1)


def render_html(
    nb: nbformat.NotebookNode,
    path: Path,
    entry: Mapping[str, Any],
    run: Mapping[str, Any],
    brief: bool = False,
) -> Path:
    """Write a self-contained HTML page of an executed (already scrubbed) notebook.

    Parameters
    ----------
    nb
        The executed notebook, scrubbed by :func:`scrub_notebook`.
    path
        Where to write.
    entry, run
        The notebook's entry of the run summary and the run summary itself (what
        ``summary.json`` holds, see :mod:`shopbook.report.runs`), for the header.
    brief
        Code-free version: no inputs, prompts, parameter cells or stderr.
    """
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.HTMLExporter.template_name = "shopbook"
    c.HTMLExporter.embed_images = True
    lang = briefing.notebook_lang(nb, entry)
    c.HTMLExporter.language_code = lang  # ISO 639-1 (nbconvert refuses "zh-CN")
    has_error_cell = "papermill-error-cell" in json.dumps([cell.source for cell in nb.cells])
    failed = briefing.failed_section(nb)
    entry = {
        **entry,
        "failed_section": failed[0] if failed else None,
        "parameter_notes": parameter_notes(nb),
    }
    nb = briefing.prepare(nb, lang)
    if lang != "en":  # the header's title in the reader's language: the translated heading
        entry = {**entry, "title": heading(nb) or entry.get("title")}
        if nb.metadata.get("title"):  # the page's <title> (nbconvert reads the metadata)
            nb.metadata["title"] = entry["title"]
    if brief:
        c.HTMLExporter.exclude_input = True
        c.HTMLExporter.exclude_input_prompt = True
        c.HTMLExporter.exclude_output_prompt = True
        nb = briefing.brief_cells(nbformat.from_dict(_strip_all(json.loads(json.dumps(nb)))))
    exporter = HTMLExporter(config=c)
    with use_lang(lang):
        header = header_html(entry, run, brief, has_error_cell, cards=briefing.has_cards(nb))
        toc_label = _("Contents")
    resources = {
        "metadata": {"name": entry.get("title") or entry.get("notebook", path.stem)},
        "shopbook": {"css": CSS, "header": header, "lang": lang, "brief": brief},
    }
    body, _unused = exporter.from_notebook_node(nb, resources=resources)
    page = body.replace("<!--SHOPBOOK-TOC-->", "", 1) if brief else add_toc(body, toc_label)
    path.write_text(page, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- index

#: The run index page (Jinja2, autoescaped).
INDEX_TEMPLATE = (TEMPLATES / "index" / "runs.html.j2").read_text(encoding="utf-8")


def load_runs(reports: Path) -> list[dict[str, Any]]:
    """Every finished run under ``reports`` (``<job>/<run id>/summary.json``), newest first.

    Temporary folders (``.tmp``) and ``latest`` links are ignored; unreadable summaries
    are skipped.
    """
    runs = []
    for summary_file in reports.glob("*/*/summary.json"):
        folder = summary_file.parent
        if folder.parent.name.startswith(".") or folder.is_symlink():
            continue
        try:
            run = json.loads(summary_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        run["_folder"] = folder.relative_to(reports).as_posix()
        runs.append(run)
    runs.sort(key=lambda r: (r.get("started") or "", r["_folder"]), reverse=True)
    return runs


def build_index(reports: Path) -> Path:
    """Rebuild ``reports/index.html`` from every run's ``summary.json`` (atomic write).

    Returns
    -------
    Path
        The index file.
    """
    reports = Path(reports)
    reports.mkdir(parents=True, exist_ok=True)
    target = reports / "index.html"
    tmp = reports / f".index.html.{os.getpid()}.tmp"
    try:
        tmp.write_text(index_page(reports), encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


#: Notebook statuses the index lists first within a run, most urgent first.
ATTENTION = {"failed": 0, "empty": 1, "stale": 2}


#: A run's language as the index names it.
_LANG_NAMES = {"en": "English", "zh": "中文"}


def run_lang(run: Mapping[str, Any]) -> str:
    """The language a run's notebooks ran in (their ``lang`` parameter; ``"en"`` if none)."""
    langs = {
        str((nb.get("parameters") or {}).get("lang") or "en") for nb in run.get("notebooks", [])
    }
    return langs.pop() if len(langs) == 1 else "en"


def index_page(
    reports: Path,
    pending: Iterable[tuple[str, Mapping[str, Any]]] = (),
    lang: str | None = None,
) -> str:
    """The run index page: every run under ``reports`` plus ``pending`` ones.

    Parameters
    ----------
    reports
        The reports folder.
    pending
        ``(folder relative to reports, summary)`` of runs not yet moved into place, so
        the runner can write the new index before it publishes the run.
    lang
        The page's language (default: ``lang`` at the top of ``reports.yml``, else
        English; :func:`shopbook.report.jobs.index_lang`). Each run says which language
        its reports are in when it is not the page's.
    """
    from shopbook.report.jobs import index_lang

    lang = lang or index_lang()
    with use_lang(lang):
        return _index_page(reports, pending, lang)


def _index_page(reports: Path, pending: Iterable[tuple[str, Mapping[str, Any]]], lang: str) -> str:
    from datetime import UTC, datetime

    from jinja2 import Environment

    loaded = load_runs(Path(reports)) + [{**s, "_folder": f} for f, s in pending]
    loaded.sort(key=lambda r: (r.get("started") or "", r["_folder"]), reverse=True)
    runs = []
    for run in loaded:
        folder = run["_folder"]
        src = run.get("source") or {}
        tables = src.get("tables") or {}
        nbs = []
        for nb in run.get("notebooks", []):
            files = nb.get("files") or {}

            def href(
                key: str, files: Mapping[str, str] = files, folder: str = folder
            ) -> str | None:
                return quote(f"{folder}/{files[key]}") if files.get(key) else None

            nbs.append(
                {
                    **nb,
                    "html_href": href("html"),
                    "brief_href": href("brief"),
                    "duration_text": _fmt_duration(nb.get("duration_s")),
                    "freshness_text": "; ".join((nb.get("freshness") or {}).get("reasons") or ()),
                }
            )
        nbs.sort(key=lambda nb: ATTENTION.get(nb.get("status", ""), len(ATTENTION)))
        this_lang = run_lang(run)
        runs.append(
            {
                **run,
                "lang_text": _LANG_NAMES.get(this_lang, this_lang) if this_lang != lang else "",
                "notebooks": nbs,
                "started_text": (run.get("started") or "")[:19].replace("T", " "),
                "duration_text": _fmt_duration(run.get("duration_s")),
                "source_text": (src.get("uri") or "")
                + (" · " + ", ".join(f"{k} {v:,}" for k, v in tables.items()) if tables else ""),
                "commit_text": (
                    "shopbook "
                    + str(run.get("shopbook_version", ""))
                    + (f" · {run['git_commit'][:10]}" if run.get("git_commit") else "")
                ),
            }
        )
    env = Environment(autoescape=True)
    return env.from_string(INDEX_TEMPLATE).render(
        runs=runs,
        built=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        _=_,
        status=status_text,
        html_lang="zh-CN" if lang == "zh" else "en",
    )


def title(nb: nbformat.NotebookNode) -> str | None:
    """The notebook's title: ``metadata.title``, else its first level-1 Markdown heading."""
    if nb.metadata.get("title"):
        return str(nb.metadata["title"])
    return heading(nb)


def heading(nb: nbformat.NotebookNode) -> str | None:
    """The notebook's first level-1 Markdown heading, if any."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None
