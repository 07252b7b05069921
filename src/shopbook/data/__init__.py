"""Data layer: the contract, sources, validation, the synthetic shop and public samples."""

from shopbook.data.contract import TABLES
from shopbook.data.sources import Source, open_source
from shopbook.errors import ContractError

__all__ = ["TABLES", "ContractError", "Source", "open_source", "validate"]


def __getattr__(name: str):
    # ``shopbook.data.validate`` is the function; it lives in ``validation`` and is
    # imported lazily so that opening a source does not pay for it.
    if name == "validate":
        from shopbook.data.validation import validate

        return validate
    raise AttributeError(name)
