"""Spanish wording for the report: numbers in the Spanish style (1.234,5), money, percentages,
month and weekday names, and Spanish names for TMDB's genres, common languages and countries.

Pure functions over plain values; nothing here reads data.

>>> number(1234.5, 1)
'1.234,5'
>>> number(-0.25, 2)
'-0,25'
>>> percent(0.1234)
'12,3 %'
>>> money(1_500_000)
'1,5 M US$'
>>> long_date("2026-12-01T02:27:53+00:00")
'1 de diciembre de 2026'
"""

from __future__ import annotations

import math
from datetime import date, datetime

from movierec.vocabulary import GENRES, MONTHS

LANGUAGES: dict[str, str] = {
    "en": "inglés",
    "fr": "francés",
    "de": "alemán",
    "it": "italiano",
    "es": "español",
    "ja": "japonés",
    "zh": "chino",
    "cn": "cantonés",
    "ko": "coreano",
    "ru": "ruso",
    "hi": "hindi",
    "pt": "portugués",
    "sv": "sueco",
    "da": "danés",
    "nl": "neerlandés",
    "fi": "finés",
    "no": "noruego",
    "pl": "polaco",
    "tr": "turco",
    "ta": "tamil",
    "te": "telugu",
    "ml": "malayalam",
    "ar": "árabe",
    "fa": "persa",
    "he": "hebreo",
    "el": "griego",
    "cs": "checo",
    "hu": "húngaro",
    "th": "tailandés",
    "id": "indonesio",
    "tl": "tagalo",
    "ro": "rumano",
    "uk": "ucraniano",
    "sr": "serbio",
    "bn": "bengalí",
    "xx": "sin idioma",
}

COUNTRIES: dict[str, str] = {
    "US": "Estados Unidos",
    "GB": "Reino Unido",
    "FR": "Francia",
    "DE": "Alemania",
    "IT": "Italia",
    "CA": "Canadá",
    "JP": "Japón",
    "ES": "España",
    "IN": "India",
    "AU": "Australia",
    "RU": "Rusia",
    "SU": "Unión Soviética",
    "HK": "Hong Kong",
    "CN": "China",
    "KR": "Corea del Sur",
    "SE": "Suecia",
    "DK": "Dinamarca",
    "BE": "Bélgica",
    "NL": "Países Bajos",
    "MX": "México",
    "AR": "Argentina",
    "BR": "Brasil",
    "IE": "Irlanda",
    "NZ": "Nueva Zelanda",
    "CH": "Suiza",
    "AT": "Austria",
    "NO": "Noruega",
    "FI": "Finlandia",
    "PL": "Polonia",
    "CZ": "República Checa",
    "HU": "Hungría",
    "ZA": "Sudáfrica",
    "LU": "Luxemburgo",
    "TW": "Taiwán",
    "IR": "Irán",
    "IL": "Israel",
    "TR": "Turquía",
    "XG": "Alemania Oriental",
    "CS": "Checoslovaquia",
    "YU": "Yugoslavia",
    "PT": "Portugal",
    "GR": "Grecia",
}


def number(value: float | int | None, decimals: int = 0) -> str:
    """``value`` with a dot between thousands and a decimal comma; "—" for None or NaN."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    # Python writes 1,234.5: swap the two separators through a placeholder.
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def integer(value: float | int | None) -> str:
    return number(value, 0)


def percent(share: float | None, decimals: int = 1) -> str:
    """A share (0.123) as "12,3 %" (the RAE writes a space before %)."""
    return "—" if share is None else f"{number(100 * share, decimals)} %"


def money(amount: float | None, decimals: int = 1) -> str:
    """US dollars in millions: 1.500.000 → "1,5 M US$"."""
    return "—" if amount is None else f"{number(amount / 1e6, decimals)} M US$"


def times(ratio: float | None, decimals: int = 2) -> str:
    """A multiple such as a return: 2,35×."""
    return "—" if ratio is None else f"{number(ratio, decimals)}×"


def signed(value: float | None, decimals: int = 0) -> str:
    """A change with its sign: +12, −3,5 (a true minus sign reads better in running text)."""
    if value is None:
        return "—"
    text = number(abs(value), decimals)
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)


def long_date(stamp: str | date | None) -> str:
    """An ISO date or timestamp as "1 de diciembre de 2026"; "—" when absent or unreadable."""
    if stamp is None:
        return "—"
    try:
        day = stamp if isinstance(stamp, date) else datetime.fromisoformat(stamp).date()
    except ValueError:
        return str(stamp)
    return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"


def genre(name: str) -> str:
    return GENRES.get(name, name)


def language(code: str | None) -> str:
    if not code:
        return "desconocido"
    return LANGUAGES.get(code, code)


def country(code: str | None, name: str | None = None) -> str:
    return COUNTRIES.get(code or "", name or code or "desconocido")


def plural(n: int, one: str, many: str) -> str:
    """ "1 película", "2.345 películas"."""
    return f"{integer(n)} {one if n == 1 else many}"
