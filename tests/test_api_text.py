"""Normalization, Spanish month and day names, and fuzzy suggestions: the pure parts of the API."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import movierec.api.shapes
import movierec.catalog.indexes
import movierec.catalog.suggest
import movierec.catalog.text
from movierec.catalog.suggest import Suggester
from movierec.catalog.text import MONTHS, WEEKDAYS, normalize, normalize_many, parse_month, parse_weekday


@pytest.mark.parametrize(
    "module", [movierec.catalog.text, movierec.catalog.suggest, movierec.catalog.keys, movierec.api.shapes]
)
def test_doctests(module: object) -> None:
    failures, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried > 0 and failures == 0


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Toy Story", "toy story"),
        ("TOY STORY", "toy story"),
        ("  toy \t story\n", "toy story"),
        ("Amélie", "amelie"),
        ("AMÉLIE", "amelie"),
        ("Prêt-à-Porter", "pret-a-porter"),
        ("Les Misérables", "les miserables"),
        ("Straße", "strasse"),
        ("Schindler’s List", "schindler's list"),
        ("Schindler`s List", "schindler's list"),
        ("Face/Off", "face/off"),
        ("Shall We Dance?", "shall we dance?"),
        ("Jan Tříska", "jan triska"),
        ("Yûko Daike", "yuko daike"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize(text: str, key: str) -> None:
    assert normalize(text) == key


@given(st.text(max_size=60))
def test_normalize_is_idempotent_and_single_spaced(text: str) -> None:
    key = normalize(text)
    assert normalize(key) == key
    assert key == key.strip() and "  " not in key
    assert normalize(text.upper()) == normalize(text.lower()) or not text.isascii()


@given(st.lists(st.one_of(st.text(max_size=30), st.text(st.characters(max_codepoint=127), max_size=30)), max_size=20))
def test_normalize_many_is_normalize(texts: list[str]) -> None:
    """The vectorized path (ASCII texts through polars) gives exactly what normalize gives."""
    assert normalize_many(texts) == [normalize(t) for t in texts]


def test_normalize_many_on_ascii_white_space() -> None:
    texts = ["a\x1cb", "\x1f x \x0b", "ABC\tdef\n", " `quoted` ", "\x00x"]
    assert normalize_many(texts) == [normalize(t) for t in texts] == ["a b", "x", "abc def", "'quoted'", "\x00x"]


def test_every_month_in_every_spelling() -> None:
    assert MONTHS == (
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
    for number, name in enumerate(MONTHS, start=1):
        for spelling in (name, name.upper(), name.capitalize(), f"  {name} "):
            assert parse_month(spelling) == number
    assert parse_month("setiembre") == parse_month("SETIEMBRE") == 9


@pytest.mark.parametrize("text", ["", "marz", "january", "13", "1", "enero febrero", "ene"])
def test_invalid_months(text: str) -> None:
    assert parse_month(text) is None


def test_every_weekday_with_and_without_accents() -> None:
    assert WEEKDAYS == ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
    for number, name in enumerate(WEEKDAYS, start=1):
        for spelling in (name, name.upper(), name.capitalize()):
            assert parse_weekday(spelling) == number
    assert parse_weekday("miercoles") == parse_weekday("MIERCOLES") == 3
    assert parse_weekday("sabado") == parse_weekday("Sábado") == 6


@pytest.mark.parametrize("text", ["", "lunez", "monday", "1", "fin de semana"])
def test_invalid_weekdays(text: str) -> None:
    assert parse_weekday(text) is None


TITLES = [
    "Toy Story",
    "Toy Story 2",
    "Toy Soldiers",
    "The Mummy",
    "The Mummy Returns",
    "Hamlet",
    "The Godfather",
    "Star Wars",
    "Star Trek",
]


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester([normalize(t) for t in TITLES], TITLES)


def test_typo_suggests_the_title(suggester: Suggester) -> None:
    assert suggester.suggest("toy stori", 5)[0] == "Toy Story"
    assert suggester.suggest("hamlte", 5) == ["Hamlet"]
    assert suggester.suggest("godfather", 5) == ["The Godfather"]  # a missing article


def test_prefix_suggests_every_completion(suggester: Suggester) -> None:
    assert suggester.suggest("star", 5) == ["Star Trek", "Star Wars"]
    assert suggester.suggest("the mum", 5) == ["The Mummy", "The Mummy Returns"]


def test_limit_cutoff_and_empty(suggester: Suggester) -> None:
    assert len(suggester.suggest("t", 2)) == 2
    assert suggester.suggest("toy stori", 0) == []
    assert suggester.suggest("", 5) == []
    assert suggester.suggest("zzzzzzzz", 5) == []
    assert suggester.suggest("x" * 200, 5) == []
    assert Suggester([], []).suggest("toy", 5) == []


def test_suggestions_are_the_closest_by_ratio(suggester: Suggester) -> None:
    from rapidfuzz import fuzz

    query = "the mumy"
    expected = sorted(
        (t for t in TITLES if fuzz.ratio(query, normalize(t)) >= suggester.cutoff),
        key=lambda t: -fuzz.ratio(query, normalize(t)),
    )
    assert suggester.suggest(query, 5) == expected


def test_keys_and_labels_must_pair() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Suggester(["a"], [])
