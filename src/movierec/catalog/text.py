"""Text normalization for lookups, and the Spanish month and weekday names the API accepts.

Every title and person name is compared through :func:`normalize`: case folded, accents removed,
typographic quotes and dashes made plain, runs of white space collapsed to one space.

>>> normalize("  AMÉLIE ")
'amelie'
>>> normalize("Schindler’s   List")
"schindler's list"
>>> parse_month("Setiembre"), parse_month("MARZO"), parse_month("march")
(9, 3, None)
>>> parse_weekday("miercoles"), parse_weekday("Sábado"), parse_weekday("monday")
(3, 6, None)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from movierec.vocabulary import MONTHS, WEEKDAYS

# Typographic punctuation a client's keyboard or a copy-paste may bring in, mapped to ASCII.
_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u00b4": "'",
        "\u0060": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)


def normalize(text: str) -> str:
    """The lookup key of a title or name: casefolded, accent-free, single-spaced, stripped.

    >>> normalize("Léon:\\tThe  Professional")
    'leon: the professional'
    >>> normalize("STRASSE") == normalize("Straße")
    True
    """
    if text.isascii():  # fast path: most titles and names, and most requests
        return " ".join(text.lower().replace("`", "'").split())
    # Folding can expose more to fold (a compatibility letter decomposes to a capital, say), so
    # fold until nothing changes; that keeps normalize(normalize(x)) == normalize(x).
    previous, key = None, text
    for _ in range(4):
        if key == previous:
            break
        previous = key
        folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", key.translate(_PLAIN)).casefold())
        key = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(key.split())


# What str.split() takes for white space in ASCII text, as a regex class.
_ASCII_SPACE = r"[ \t\n\r\x0b\x0c\x1c-\x1f]"


def normalize_many(texts: Sequence[str]) -> list[str]:
    """``[normalize(t) for t in texts]``, vectorized for the ASCII ones (most of a catalogue).

    >>> normalize_many(["  Toy   STORY ", "Amélie", "Schindler`s List"])
    ['toy story', 'amelie', "schindler's list"]
    """
    import polars as pl  # imported here: the API's process only normalizes one text at a time

    series = pl.Series(texts, dtype=pl.String)
    ascii_ = series.str.contains(r"^[\x00-\x7f]*$")
    keys = (
        series.str.to_lowercase()
        .str.replace_all("`", "'", literal=True)
        .str.replace_all(f"{_ASCII_SPACE}+", " ")
        .str.strip_chars(" ")
    ).to_list()
    for i in ascii_.not_().arg_true().to_list():
        keys[i] = normalize(texts[i])
    return keys


_MONTH_KEYS = {normalize(name): n for n, name in enumerate(MONTHS, start=1)} | {"setiembre": 9}
_WEEKDAY_KEYS = {normalize(name): n for n, name in enumerate(WEEKDAYS, start=1)}


def parse_month(text: str) -> int | None:
    """Month number 1–12 of a Spanish month name in any case, with or without accents; else None."""
    return _MONTH_KEYS.get(normalize(text))


def parse_weekday(text: str) -> int | None:
    """ISO weekday 1 (lunes) – 7 (domingo) of a Spanish day name, any case or accents; else None."""
    return _WEEKDAY_KEYS.get(normalize(text))
