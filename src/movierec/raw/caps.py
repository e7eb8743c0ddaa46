"""How long a text field may be, for every door a film's text comes through (the ETL, tmdb-sync).

Nothing upstream bounds a title or a name: one 10-million-character title from TMDB once
cost the server 400 MB and made single answers 10 MB. Two caps, both settings:
``MOVIEREC_MAX_NAME_CHARS`` for the short fields (titles, names, characters, jobs, keywords,
companies, collections, genres, countries, languages) and ``MOVIEREC_MAX_TEXT_CHARS`` for the
prose (overview, tagline, homepage). A longer value is cut, ending in "…", so that the film is
kept and the cut is visible; the ETL lists the row as repaired.

>>> caps = FieldCaps(name=20, text=100)
>>> caps.limit("title"), caps.limit("overview")
(20, 100)
>>> caps.clip("title", "The Lord of the Rings: The Fellowship of the Ring")
'The Lord of the Rin…'
>>> caps.clip("title", "Heat")
'Heat'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from movierec.config import Settings

TEXT_FIELDS = frozenset({"overview", "tagline", "homepage"})
ELLIPSIS = "…"


@dataclass(frozen=True)
class FieldCaps:
    """The two caps, in characters."""

    name: int = 500
    text: int = 5000

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCaps:
        return cls(name=settings.max_name_chars, text=settings.max_text_chars)

    def limit(self, field: str) -> int:
        """The cap of a field (a column or a nested key): prose or short text."""
        return self.text if field in TEXT_FIELDS else self.name

    def clip(self, field: str, value: str) -> str:
        """``value`` within the field's cap: unchanged, or cut to the cap ending in "…"."""
        return clip(value, self.limit(field))


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters (the last one "…") when longer.

    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    return value if len(value) <= limit else value[: limit - 1] + ELLIPSIS
