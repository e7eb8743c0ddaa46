"""`movierec report` (issue 9): the figures in report.json against values computed independently
(pandas and plain Python over the release's parquet tables) on the real sample, the HTML's
structure (charts, table of contents, nothing fetched from outside), determinism, a release
without ratings or evaluation, and the comparison with a previous release."""

from __future__ import annotations

import json
import re
import shutil
import statistics
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from movierec.config import SAMPLE_RAW_DIR
from movierec.report import build_report, write_report
from movierec.vocabulary import GENRES, MONTHS, WEEKDAYS

pytestmark = pytest.mark.slow  # every test reads the report built from a copy of the sample's release

# An evaluation table as `movierec evaluate` records it, with one metric the report does not know.
EVALUATION = {
    "k": 5,
    "films": 2993,
    "users": 134,
    "pairs": 6427,
    "ratings": "ratings_small.csv.gz",
    "table": [
        {"method": "model", "precision_at_k": 0.5312, "coverage": 0.6475, "collection_recall": 1.0, "ndcg": 0.61},
        {"method": "random", "precision_at_k": 0.0353, "coverage": 0.992, "collection_recall": 0.0, "ndcg": 0.04},
    ],
}


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory, sample_data: Path) -> Path:
    """A copy of the sample's release (so the report can be written into it) with evaluation.json."""
    source = (sample_data / "current").resolve()
    folder = tmp_path_factory.mktemp("report") / source.name
    shutil.copytree(source, folder)
    (folder / "evaluation.json").write_text(json.dumps(EVALUATION))
    return folder


@pytest.fixture(scope="module")
def built(release: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(HTML, figures returned, figures read back from report.json) of write_report."""
    out = release / "report" / "report.html"
    figures = write_report(release, out)
    return out.read_text(encoding="utf-8"), figures, json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tables(release: Path) -> dict[str, pd.DataFrame]:
    names = ("movies", "genres", "cast", "keywords", "quarantine")
    return {name: pd.read_parquet(release / "tables" / f"{name}.parquet") for name in names}


@pytest.fixture(scope="module")
def figures(built: tuple[str, dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return built[2]


# --------------------------------------------------------------------------------------------
# Figures against an independent computation
# --------------------------------------------------------------------------------------------


def test_write_report_writes_the_html_and_the_same_figures_as_json(built: tuple, release: Path) -> None:
    html, returned, stored = built
    assert returned == stored
    assert html.startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in (release / "report").iterdir()) == ["report.html", "report.json"]  # no temp files


def test_catalogue_size_and_budget_revenue_correlation(figures: dict, tables: dict) -> None:
    movies = tables["movies"]
    assert figures["peliculas"] == len(movies) == 2993
    both = movies[(movies["budget"] > 0) & (movies["revenue"] > 0)]
    r = both["budget"].astype(float).corr(both["revenue"].astype(float))  # pandas: Pearson
    assert len(both) == figures["dinero"]["presupuesto_ingresos"]["n"] == 1123
    assert figures["correlacion_presupuesto_ingresos"] == pytest.approx(r, rel=1e-9)
    assert round(r, 3) == 0.489
    assert figures["resumen"]["correlacion_presupuesto_ingresos"] == figures["correlacion_presupuesto_ingresos"]


def test_a_release_without_titles_counts_no_spanish_title(figures: dict, tables: dict) -> None:
    names = figures["catalogo"]["titulos"]
    assert names["con_titulo_es"] == 0  # the sample has none: they come from TMDB
    # 276 films (of the raw file's 277) once the ETL keeps original_title, 0 before
    assert names["con_titulo_original_distinto"] == (276 if "original_title" in tables["movies"].columns else 0)


def test_releases_per_month_and_weekday(figures: dict, tables: dict) -> None:
    dates = pd.to_datetime(tables["movies"]["release_date"]).dropna()
    months = dates.dt.month.value_counts()
    weekdays = dates.dt.day_of_week.value_counts()  # Monday = 0
    assert figures["estrenos"]["por_mes"] == {name: int(months.get(i + 1, 0)) for i, name in enumerate(MONTHS)}
    assert figures["estrenos"]["por_dia"] == {name: int(weekdays.get(i, 0)) for i, name in enumerate(WEEKDAYS)}
    assert figures["estrenos"]["por_mes"]["septiembre"] == 370
    assert figures["estrenos"]["por_dia"]["viernes"] == 1419
    assert sum(figures["estrenos"]["por_mes"].values()) == 2993


def test_median_return_by_genre_and_month(figures: dict, tables: dict) -> None:
    movies, genres = tables["movies"], tables["genres"]
    money = movies[(movies["budget"] >= 1_000_000) & (movies["revenue"] > 0)]
    joined = genres.merge(money, left_on="movie_id", right_on="id")
    by_genre = figures["dinero"]["retorno_por_genero"]["generos"]
    for genre in ("Drama", "Action", "War"):
        returns = joined.loc[joined["genre"] == genre, "return"]
        shown = by_genre[GENRES[genre]]
        assert shown["n"] == len(returns)
        assert shown["mediana"] == pytest.approx(returns.median(), rel=1e-9)
        assert shown["q1"] == pytest.approx(returns.quantile(0.25), rel=1e-9)
        assert shown["q3"] == pytest.approx(returns.quantile(0.75), rel=1e-9)
    assert (by_genre["Drama"]["n"], round(by_genre["Drama"]["mediana"], 2)) == (494, 2.40)
    assert next(iter(by_genre)) == "Bélica"  # the highest median return, War: 4,67×
    # Documentary has 2 films with money data: below the minimum of 10, left out and said so.
    assert figures["dinero"]["retorno_por_genero"]["omitidos"] == {"Documental": 2}
    december = money[pd.to_datetime(money["release_date"]).dt.month == 12]["return"]
    assert figures["estrenos"]["retorno_por_mes"]["diciembre"]["mediana"] == pytest.approx(december.median(), rel=1e-9)


def test_row_accounting_matches_the_etl_report_and_the_quarantine(figures: dict, tables: dict, release: Path) -> None:
    etl = json.loads((release / "tables" / "report.json").read_text())
    files = figures["calidad"]["filas"]["archivos"]
    for key, name in (("movies", "movies_metadata.csv"), ("credits", "credits.csv"), ("keywords", "keywords.csv")):
        assert files[name]["leidas"] == etl[key]["rows_read"]
        assert files[name]["conservadas"] == etl[key]["kept"]
        assert files[name]["en_cuarentena"] == etl[key]["quarantined"]
        assert files[name]["cuadra"] is True
    assert files["movies_metadata.csv"] | {"motivos_cuarentena": None} == {
        "leidas": 2996,
        "conservadas": 2993,
        "reparadas": 0,
        "en_cuarentena": 3,
        "descartadas": 0,
        "motivos_cuarentena": None,
        "cuadra": True,
    }
    assert files["movies_metadata.csv"]["motivos_cuarentena"] == {"id duplicado": 1, "sin fecha de estreno": 2}
    assert files["keywords.csv"]["descartadas"] == 43422
    per_source = tables["quarantine"].groupby("source").size()
    assert files["movies_metadata.csv"]["en_cuarentena"] == per_source["movies_metadata.csv.gz"]
    assert files["keywords.csv"]["en_cuarentena"] == per_source["keywords.csv.gz"]
    assert figures["calidad"]["importes_corregidos"] == {"presupuestos": 17, "ingresos": 25}
    unknown = figures["calidad"]["valores_desconocidos"]
    assert unknown["presupuesto"]["n"] == int((tables["movies"]["budget"] <= 0).sum()) == 1617


def test_join_coverage(figures: dict, tables: dict) -> None:
    ids = set(tables["movies"]["id"])
    coverage = figures["calidad"]["cobertura_uniones"]
    assert coverage["reparto"]["n"] == len(ids & set(tables["cast"]["movie_id"])) == 1611
    assert coverage["palabras clave"]["n"] == len(ids & set(tables["keywords"]["movie_id"]))
    links = pd.read_csv(SAMPLE_RAW_DIR / "links.csv.gz")
    assert coverage["enlace a MovieLens"]["n"] == len(ids & set(links["tmdbId"].dropna().astype(int)))


def test_hidden_gems_by_plain_python(figures: dict, tables: dict) -> None:
    films = tables["movies"][["id", "vote_count", "vote_average", "popularity"]].to_dict("records")
    voted = [f for f in films if f["vote_count"] > 0]
    c = statistics.fmean(f["vote_average"] for f in voted)
    m = statistics.median(f["vote_count"] for f in voted)
    for f in films:
        v = f["vote_count"]
        f["wr"] = v / (v + m) * f["vote_average"] + m / (v + m) * c
    threshold = statistics.quantiles([f["wr"] for f in voted], n=10, method="inclusive")[8]
    popularity = statistics.median(f["popularity"] for f in films)
    gems = [f for f in voted if f["wr"] >= threshold and f["popularity"] < popularity]
    found = figures["votos"]["joyas_ocultas"]
    assert found["n"] == len(gems) == 11
    assert found["umbral_valoracion"] == pytest.approx(threshold, rel=1e-9)
    assert figures["votos"]["valoracion_por_genero"]["m"] == m == 67
    assert [g["id"] for g in found["peliculas"]] == [f["id"] for f in sorted(gems, key=lambda f: (-f["wr"], f["id"]))]
    assert found["peliculas"][0]["titulo"] == "The Silence of the Lambs"


def test_supply_and_demand_by_genre(figures: dict, tables: dict) -> None:
    ratings = pd.read_csv(SAMPLE_RAW_DIR / "ratings_small.csv.gz", usecols=["movieId"])
    links = pd.read_csv(SAMPLE_RAW_DIR / "links.csv.gz", usecols=["movieId", "tmdbId"]).dropna()
    per_film = ratings.merge(links, on="movieId").groupby("tmdbId").size()
    per_film = per_film[per_film.index.isin(tables["movies"]["id"])]
    animation = tables["genres"].loc[tables["genres"]["genre"] == "Animation", "movie_id"]
    stats = figures["demanda"]["oferta_demanda"]
    assert stats["valoraciones"] == per_film.sum() == 59403
    shown = stats["generos"]["Animación"]
    assert shown["titulos"] == animation.nunique() == 89
    assert shown["valoraciones"] == per_film[per_film.index.isin(animation)].sum()
    assert shown["razon"] == pytest.approx((shown["valoraciones"] / stats["valoraciones"]) / (89 / 2993), rel=1e-9)


def test_recommendation_coverage_and_evaluation(figures: dict, tables: dict, release: Path) -> None:
    neighbours = pd.read_parquet(release / "model" / "neighbours.parquet")
    top5 = neighbours[(neighbours["rank"] <= 5) & neighbours["neighbour_id"].isin(tables["movies"]["id"])]
    reach = figures["recomendador"]["cobertura_recomendaciones"]
    assert reach["peliculas_recomendadas"] == top5["neighbour_id"].nunique()
    assert reach["cobertura"] == pytest.approx(top5["neighbour_id"].nunique() / 2993)
    assert sum(reach["peliculas_por_apariciones"].values()) == 2993
    table = figures["recomendador"]["evaluacion"]["tabla"]
    assert table == {
        "modelo": {"precision_at_k": 0.5312, "coverage": 0.6475, "collection_recall": 1.0, "ndcg": 0.61},
        "azar": {"precision_at_k": 0.0353, "coverage": 0.992, "collection_recall": 0.0, "ndcg": 0.04},
    }
    assert figures["resumen"]["precision_modelo"] == 0.5312


def test_findings_are_stated_with_spanish_numbers(figures: dict) -> None:
    assert 5 <= len(figures["hallazgos"]) <= 7
    first = figures["hallazgos"][0]
    assert first.startswith("Presupuesto e ingresos se correlacionan con r = 0,49 (Pearson, n = 1.123)")
    assert "El mes con más estrenos es septiembre (370, 12,4 %)" in " ".join(figures["hallazgos"])


# --------------------------------------------------------------------------------------------
# The HTML
# --------------------------------------------------------------------------------------------


def test_html_has_charts_a_table_of_contents_and_a_finding_and_table_per_chart(built: tuple) -> None:
    html = built[0]
    charts = re.findall(r'<figure class="chart" id="([^"]+)">(.*?)</figure>', html, flags=re.S)
    drawn = [(cid, body) for cid, body in charts if "<svg" in body]
    assert len(drawn) == html.count("<svg") == 25
    for cid, body in drawn:
        assert '<p class="finding">' in body, cid
        assert "<table>" in body, cid
    toc = re.search(r'<nav class="toc".*?</nav>', html, flags=re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', toc)
    ids = set(re.findall(r'<(?:section|figure) class="(?:report|chart)" id="([^"]+)"', html))
    assert set(targets) == ids and len(targets) == 10 + len(charts)
    assert "Índice" in toc and 'lang="es"' in html
    assert "2.993 películas" in html and "1.419" in html  # Spanish thousands separator
    assert len(html.encode()) < 5 * 2**20


def test_html_fetches_nothing_from_outside(built: tuple) -> None:
    html = built[0]
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html, flags=re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, flags=re.I)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "http://" not in html and "https://" not in html
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'href="(data:[^"]{0,30})', html))


def test_the_same_release_gives_the_same_bytes(built: tuple, release: Path) -> None:
    html, figures = build_report(release)
    assert html == built[0]
    assert figures == built[2]


# --------------------------------------------------------------------------------------------
# A release without ratings or evaluation, compared with a previous release
# --------------------------------------------------------------------------------------------


def test_release_without_ratings_or_evaluation_builds_and_compares_with_the_previous(
    built: tuple, release: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(release, bare, ignore=shutil.ignore_patterns("evaluation.json", "report"))
    manifest = json.loads((bare / "manifest.json").read_text())
    manifest.pop("evaluation", None)
    (bare / "manifest.json").write_text(json.dumps(manifest))
    previous = tmp_path / "previous"
    (previous / "report").mkdir(parents=True)
    old = dict(built[2], version="20250101T000000000000Z")
    old["resumen"] = dict(old["resumen"], peliculas=2900, joyas_ocultas=12)
    (previous / "report" / "report.json").write_text(json.dumps(old))
    empty_raw = tmp_path / "raw"
    empty_raw.mkdir()

    html, figures = build_report(bare, raw_dir=empty_raw, previous=previous)

    assert figures["demanda"]["oferta_demanda"] is None
    assert figures["recomendador"]["evaluacion"] is None
    assert figures["calidad"]["cobertura_uniones"]["valoraciones de MovieLens"] is None
    assert figures["peliculas"] == 2993 and figures["resumen"]["valoraciones_movielens"] is None
    assert html.count("<svg") == 23  # every chart but the two whose data is absent
    assert html.count('<div class="missing">') == 2
    assert "la carpeta de datos brutos no contiene ratings_small.csv / ratings.csv ni links.csv" in html
    changes = figures["cambios"]
    assert changes["version_anterior"] == "20250101T000000000000Z"
    assert changes["cifras"]["peliculas"] == {"anterior": 2900, "actual": 2993, "cambio": 93}
    assert changes["cifras"]["joyas_ocultas"] == {"anterior": 12, "actual": 11, "cambio": -1}
    assert changes["cifras"]["valoraciones_movielens"] == {"anterior": 59403, "actual": None, "cambio": None}
    assert "Qué cambió desde la versión anterior (20250101T000000000000Z" in html
    assert (
        '<td>películas en el catálogo</td><td class="num">2.900</td><td class="num">2.993</td><td class="num">+93</td>'
        in html
    )


def test_a_previous_release_without_report_is_said_so(release: Path, tmp_path: Path) -> None:
    from movierec.report.load import read_previous

    assert read_previous(tmp_path) == (None, f"la versión anterior ({tmp_path.name}) no tiene report/report.json")
    assert read_previous(None) == (None, "")


def test_the_report_command_refuses_a_data_folder_without_a_release(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from movierec.cli import app

    result = CliRunner().invoke(app, ["report", "--data", str(tmp_path), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert f"no release in {tmp_path}: run `movierec pipeline --data {tmp_path}` first" in result.output
    assert not (tmp_path / "r.html").exists()


def test_the_titles_file_is_accounted_like_the_others() -> None:
    """A release built from a TMDB batch has titles.csv: its dropped rows (films not kept, titles
    not Spanish) are not quarantine reasons, and its rows add up."""
    from movierec.report.quality import accounting

    etl = {
        "titles": {
            "rows_read": 10,
            "kept": 4,
            "repaired": 1,
            "quarantined": 2,
            "dropped": 3,
            "reasons": {"film not kept": 1, "not a Spanish title": 2, "empty title": 1, "invalid id": 1},
        }
    }
    files = accounting(etl)["archivos"]
    assert files == {
        "titles.csv": {
            "leidas": 10,
            "conservadas": 4,
            "reparadas": 1,
            "en_cuarentena": 2,
            "descartadas": 3,
            "motivos_cuarentena": {"empty title": 1, "id no válido": 1},
            "cuadra": True,
        }
    }
    assert accounting({"titles": {**etl["titles"], "kept": 5}})["archivos"]["titles.csv"]["cuadra"] is False
