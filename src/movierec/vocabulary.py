"""The client's Spanish words for the data's calendar and genres, written once: the API accepts
them (``/cantidad_filmaciones_mes/{mes}``, ``/cantidad_filmaciones_dia/{dia}``), the web page and
the report write them. A leaf: it imports nothing.

>>> MONTHS[0], WEEKDAYS[6], GENRES["Science Fiction"]
('enero', 'domingo', 'Ciencia ficción')
"""

MONTHS: tuple[str, ...] = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
"""MONTHS[0] is January (month 1)."""

WEEKDAYS: tuple[str, ...] = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
"""WEEKDAYS[0] is Monday (ISO weekday 1, as polars' ``dt.weekday()`` counts)."""

#: TMDB's genres (the data set's English names) in Spanish, as TMDB shows them in Spanish.
GENRES: dict[str, str] = {
    "Action": "Acción",
    "Adventure": "Aventura",
    "Animation": "Animación",
    "Comedy": "Comedia",
    "Crime": "Crimen",
    "Documentary": "Documental",
    "Drama": "Drama",
    "Family": "Familia",
    "Fantasy": "Fantasía",
    "Foreign": "Extranjera",
    "History": "Historia",
    "Horror": "Terror",
    "Music": "Música",
    "Mystery": "Misterio",
    "Romance": "Romance",
    "Science Fiction": "Ciencia ficción",
    "TV Movie": "Película de TV",
    "Thriller": "Suspense",
    "War": "Bélica",
    "Western": "Western",
}
