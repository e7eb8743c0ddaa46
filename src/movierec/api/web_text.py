"""The web page's words: the model's reasons and the genres in Spanish, and numbers and dates written the Spanish way.

>>> reason_phrase("collection,director")
'De la misma colección y del mismo director'
>>> reason_phrase("")
''
>>> genre_names(["Animation", "Science Fiction", "Anime"])
'Animación, Ciencia ficción, Anime'
>>> spanish_number(5415), spanish_number(21.946943, 2), spanish_number(None)
('5.415', '21,95', 'sin dato')
>>> spanish_date("2026-12-01T02:55:11+00:00")
'1 de diciembre de 2026, 02:55 UTC'
>>> spanish_day("2026-12-01"), content_note(0, "2026-12-01"), content_note(0, None), content_note(12, None)
('1 de diciembre de 2026', 'Película nueva: recomendada por su contenido.', 'Nadie la valoró todavía: recomendada por su contenido.', None)
"""

from __future__ import annotations

from datetime import UTC, datetime

from movierec.vocabulary import GENRES, MONTHS

#: Each signal of the ranking (:data:`movierec.model.ranking.RANKING_SIGNALS`) as a reason, in words; the
#: content signals name what the films share, so that a new film's picks say why they fit it.
REASON_PHRASES: dict[str, str] = {
    "collection": "de la misma colección",
    "adjacent": "de la misma colección",  # the previous or next part: said once beside "collection"
    "director": "del mismo director",
    "keywords": "con temas en común",
    "cast": "con actores en común",
    "genres": "de los mismos géneros",
    "text": "con un argumento parecido",
    "cf": "gustó a las mismas personas",
    "cf_content": "gustó a quienes vieron películas parecidas",
    "language": "en el mismo idioma",
    "era": "de la misma época",
    "popularity": "muy popular",
    "quality": "muy bien valorada",
    "likes": "de las que más gustan",
}
#: A signal without a phrase (one a newer model adds before its words are written here).
OTHER_REASON = "parecida según el modelo"


def genre_names(genres: list[str]) -> str:
    """The genres in Spanish, comma-separated; a genre TMDB adds later keeps its own name."""
    return ", ".join(GENRES.get(genre, genre) for genre in genres)


def reason_phrase(reason: str) -> str:
    """The artifact's reason ("collection,director") as a Spanish phrase; "" when it is empty.
    A signal without a phrase (a newer model's) gets :data:`OTHER_REASON`, once.

    >>> reason_phrase("genres,some_new_signal"), reason_phrase("x,y")
    ('De los mismos géneros y parecida según el modelo', 'Parecida según el modelo')
    """
    parts = list(
        dict.fromkeys(REASON_PHRASES.get(name.strip(), OTHER_REASON) for name in reason.split(",") if name.strip())
    )
    if not parts:
        return ""
    text = " y ".join(parts)
    return text[0].upper() + text[1:]


def spanish_number(value: float | None, decimals: int = 0) -> str:
    """``value`` with '.' grouping thousands and ',' before the decimals, as Spanish writes it."""
    if value is None:
        return "sin dato"
    text = f"{value:,.{decimals}f}"
    return text.translate(str.maketrans(",.", ".,"))  # swap the two marks


def spanish_date(stamp: object) -> str:
    """An ISO timestamp (the manifest's ``created_at``) as "1 de diciembre de 2026, 02:55 UTC";
    anything else is shown as it is ("" when missing)."""
    if not isinstance(stamp, str):
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} de {MONTHS[moment.month - 1]} de {moment.year}, {moment:%H:%M} UTC"


def spanish_day(day: str | None) -> str:
    """A date ``YYYY-MM-DD`` as "1 de diciembre de 2026" (anything else as it is, "" when None)."""
    if not day:
        return ""
    try:
        moment = datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        return day
    return f"{moment.day} de {MONTHS[moment.month - 1]} de {moment.year}"


def content_note(likes: int | None, added: str | None) -> str | None:
    """What a film's card says when no training user liked it (``likes`` 0), so that its list
    comes from its content alone: a film an ingest added (``added``, its date) is a new film.
    None when it has likes, or when they are unknown (a model without ratings)."""
    if likes != 0:
        return None
    if added:
        return "Película nueva: recomendada por su contenido."
    return "Nadie la valoró todavía: recomendada por su contenido."
