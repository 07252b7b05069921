"""shopbook.features"""

from shopbook.features.fetching import fetch

__all__ = ["fetch"]
