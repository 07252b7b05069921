"""``shopbook import``: a platform's order exports → a contract DuckDB file.

:func:`import_exports` reads one or more export files (CSV in UTF-8, GBK or GB18030, any
delimiter), recognises each by its header through the preset's ``files:`` list (with a
plain mapping: by table name or file stem), applies the mapping language
(:mod:`shopbook.data.sources.language`) in the engine, validates the result with
:func:`shopbook.data.validation.validate` and writes the kept rows of each contract table
and every rejected row, with its reason, to ``_rejected`` — nothing vanishes.

Where a platform exports orders and order lines as two files, the orders export alone
gives the orders and the lines of the rows that name one product (a SKU); the lines export
gives the lines, and the orders export's lines are then used only for orders the lines
export does not hold.

:func:`presets` lists the shipped presets for ``shopbook import --list``.
"""

from shopbook.data.importing.pipeline import ImportResult, import_exports, presets, recognise

__all__ = ["ImportResult", "import_exports", "presets", "recognise"]
